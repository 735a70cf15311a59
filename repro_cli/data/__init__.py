"""Data sources, registered in `registries.DATA`.

A data-source factory takes keyword-only recipe parameters and an injected `ctx: DataContext`
(data directory, download permission, device, random stream). It returns a `DataSource`.
"""

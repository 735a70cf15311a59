"""Evaluation metrics, registered in `registries.METRICS`.

A metric factory takes recipe parameters and returns a callable `(trainer, run) -> list[record]`,
each record `{"name": ..., "value": ..., "protocol": {...}}`. The engine adds the iteration, seed
and checkpoint to the protocol; a metric adds everything else that the number depends on.
"""

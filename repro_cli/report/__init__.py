"""`repro report`: measured numbers next to the papers' numbers, and the papers' claims decided from runs.

  references.py  the papers' reported values (recipes/papers/<source>.toml), with citations or `missing`
  claims.py      qualitative claims as rules over measured metrics (recipes/papers/claims.toml) -> verdicts
  measured.py    run directories -> one pandas row per (run, metric), aggregated over seeds
  compare.py     measured vs reported, with protocol mismatches flagged
  render.py      Rich tables, CSV and Markdown files
  plots.py       seaborn/matplotlib figures (PNG)
"""

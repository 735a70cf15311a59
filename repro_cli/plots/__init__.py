"""Figures (matplotlib/seaborn, non-interactive backend: runs work without a display)."""

import matplotlib

matplotlib.use("Agg")

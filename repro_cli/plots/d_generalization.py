"""The discriminator-overfitting figure (the 0-GP authors' `PlotOverfitting.py`): D's mean output
and the fraction of real images it accepts, on training images and on held-out test images, over
training. A growing gap between the two curves is D memorising its training set."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import repro_cli.plots  # noqa: F401  (selects the Agg backend)
from repro_cli.runs.atomic import atomic_write_bytes

PANELS = {"mean": "mean D(x) on real images", "accuracy": "fraction judged real (D > 0.5)"}


def overfitting_frame(records: list[dict]) -> pd.DataFrame:
    """Long table (iteration, split, statistic, value) from d-generalization metric records."""
    rows = []
    for rec in records:
        name = rec.get("name", "")
        for split in ("train", "heldout"):
            for stat in PANELS:
                if name == f"d_{split}_{stat}":
                    rows.append({"iteration": rec["iteration"], "split": "training" if split == "train" else "held-out (test)",
                                 "statistic": stat, "value": rec["value"]})
    return pd.DataFrame(rows, columns=["iteration", "split", "statistic", "value"])


def plot_overfitting(frame: pd.DataFrame, title: str, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (stat, label) in zip(axes, PANELS.items()):
        sns.lineplot(data=frame[frame.statistic == stat], x="iteration", y="value", hue="split", marker="o", ax=ax)
        ax.set_ylabel(label)
        ax.set_ylim(-0.02, 1.02)
    fig.suptitle(title, fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path

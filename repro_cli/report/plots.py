"""The report's figures (seaborn on matplotlib's Agg backend), each written as a PNG in the report folder."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import repro_cli.plots  # noqa: F401  (selects the Agg backend)
from repro_cli.report.references import Reported


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def metric_by_recipe(values: pd.DataFrame, metric: str, references: list[Reported], out: Path) -> Path:
    """Each seed's final value per recipe (dots), the seed mean ± std (bar), and the paper's value (×)."""
    df = values[values["metric"] == metric]
    order = sorted(df["recipe"].unique())
    fig, ax = plt.subplots(figsize=(1.3 * len(order) + 2.5, 3.8))
    sns.stripplot(data=df, x="recipe", y="value", order=order, ax=ax, color="tab:blue", alpha=0.6, jitter=0.15)
    sns.pointplot(data=df, x="recipe", y="value", order=order, ax=ax, errorbar="sd", color="black", linestyle="none",
                  markers="_", capsize=0.2)
    for ref in references:
        if ref.metric == metric and ref.recipe in order and not ref.missing:
            ax.scatter([order.index(ref.recipe)], [ref.value], marker="x", s=80, color="tab:red", zorder=5, label=f"reported ({ref.source.id})")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(dict(zip(labels, handles)).values(), dict(zip(labels, handles)).keys(), fontsize=7)
    n = df.groupby("recipe")["value"].size()
    ax.set_xticks(range(len(order)), [f"{r}\n(n={n[r]})" for r in order], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: final checkpoint, one dot per seed, bar = mean ± std", fontsize=9)
    return _save(fig, out / f"metric-{slug(metric)}.png")


def metric_over_iterations(records: pd.DataFrame, metric: str, references: list[Reported], out: Path) -> Path:
    """The metric at every evaluation, mean ± std over seeds per recipe, with reported values as lines."""
    df = records[(records["kind"] == "metric") & (records["metric"] == metric)]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(data=df, x="iteration", y="value", hue="recipe", errorbar="sd", marker="o", ax=ax)
    for ref in references:
        if ref.metric == metric and not ref.missing and ref.recipe in set(df["recipe"]):
            ax.axhline(ref.value, linestyle="--", linewidth=1, color="tab:red")
            ax.annotate(f"{ref.recipe}: reported {ref.label()}", (0.01, ref.value), xycoords=("axes fraction", "data"), fontsize=7, color="tab:red")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} during training (mean ± std over seeds)", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, out / f"curve-{slug(metric)}.png")


def learning_curves(records: pd.DataFrame, out: Path) -> Path | None:
    """D and G losses over training, per recipe (report Fig. 5), mean ± std over seeds."""
    df = records[(records["kind"] == "train") & records["metric"].isin(["d_loss", "g_loss"])]
    if df.empty:
        return None
    grid = sns.relplot(data=df, x="iteration", y="value", hue="recipe", col="metric", kind="line", errorbar="sd",
                       facet_kws={"sharey": False}, height=3.4, aspect=1.3)
    grid.set_titles("{col_name} (mean ± std over seeds)")
    return _save(grid.figure, out / "learning-curves.png")


def layer_curves(records: pd.DataFrame, metric: str, out: Path) -> Path:
    """A per-layer metric (σ, gradient norm) over training, one panel per layer, mean ± std over seeds:
    where SN vs BSSN gradients explode or vanish."""
    df = records[(records["kind"] == "layer") & (records["metric"] == metric)]
    grid = sns.relplot(data=df, x="iteration", y="value", hue="recipe", col="layer", col_wrap=min(4, df["layer"].nunique()),
                       kind="line", errorbar="sd", height=2.6, aspect=1.2, facet_kws={"sharey": False})
    grid.set_titles("{col_name}")
    grid.figure.suptitle(f"{metric} per layer (mean ± std over seeds)", y=1.02, fontsize=10)
    return _save(grid.figure, out / f"layers-{slug(metric)}.png")


def latest_figure_grid(runs: pd.DataFrame, stem: str, out: Path) -> Path | None:
    """The newest `<stem>-<iteration>.png` of each recipe's lowest-seed run, side by side: the value
    surfaces (stem 'surface', report Fig. 2) or the MNIST/CIFAR sample grids (stem 'samples', Fig. 4)."""
    panels = []
    for recipe, group in runs.sort_values(["recipe", "seed"]).groupby("recipe", sort=True):
        figures = sorted(Path(group.iloc[0]["path"], "figures").glob(f"{stem}-*.png"))
        if figures:
            panels.append((recipe, int(group.iloc[0]["seed"]), figures[-1]))
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (recipe, seed, path) in zip(axes.ravel(), panels):
        ax.imshow(plt.imread(path))
        ax.set_title(f"{recipe} (seed {seed}, iteration {int(path.stem.rsplit('-', 1)[-1])})", fontsize=8)
    return _save(fig, out / f"{stem}-grid.png")

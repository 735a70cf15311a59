"""The value-surface figure: D next to D* (report Fig. 2 style), or D with G's gradient field."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import repro_cli.plots  # noqa: F401  (selects the Agg backend)
from repro_cli.surface import Surface

LEVELS = np.linspace(0, 1, 11)  # the authors' levels 0:0.1:1


def _panel(ax, surface: Surface, values: np.ndarray, title: str, points: bool = True):
    levels = LEVELS if surface.is_probability else 11
    filled = ax.contourf(surface.xs, surface.ys, values, levels=levels, cmap="hot", alpha=0.8)
    if points:
        ax.scatter(surface.real[:, 0], surface.real[:, 1], c="tab:red", marker="+", s=18, label="real")
        ax.scatter(surface.fake[:, 0], surface.fake[:, 1], facecolors="none", edgecolors="tab:blue", marker="o", s=12, label="fake")
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    ax.set_xlim(surface.xs[0], surface.xs[-1])
    ax.set_ylim(surface.ys[0], surface.ys[-1])
    return filled


def plot_surface(surface: Surface, title: str, stem: Path) -> list[Path]:
    """Write <stem>.png and <stem>.pdf; returns both paths."""
    panels = 2 if surface.d_star is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels + 0.6, 4.2), squeeze=False)
    label = "D(x)" if surface.is_probability else "critic D(x)"
    filled = _panel(axes[0, 0], surface, surface.d, f"{title}\n{label}")
    if surface.quiver is not None:
        X, Y, U, V = surface.quiver
        axes[0, 0].quiver(X, Y, U, V, color="tab:green", alpha=0.7, angles="xy")
    if surface.d_star is not None:
        _panel(axes[0, 1], surface, surface.d_star, f"optimal D* = p_r/(p_r+p_g)\nweighted |D−D*| = {surface.distance():.4f}")
    fig.colorbar(filled, ax=axes.ravel().tolist(), shrink=0.85)
    axes[0, 0].legend(loc="lower right", fontsize=7)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    # The tight crop computed once for both files (what bbox_inches="tight" computes per file with
    # an extra draw each; a quarter of the figure's time, and the 2-D sweeps draw hundreds).
    fig.draw_without_rendering()
    crop = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    for path in paths:
        fig.savefig(path, dpi=110, bbox_inches=crop)
    plt.close(fig)
    return paths

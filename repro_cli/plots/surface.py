"""The value-surface figure: D next to D* (report Fig. 2 style), or D with G's gradient field.

A run draws this figure at every evaluation and a 2-D sweep draws hundreds of them
(`repro train -r 'gaussian-*' --seeds 0-4`: 150), so drawing is organised for repetition:

* one `SurfaceFigure` per layout and process is kept: figure, axes, ticks, colorbar and legend
  are made once, and each evaluation only replaces the data (filled contours, points, arrows,
  titles); a panel whose values did not change keeps its contours (D* is the same at every
  evaluation of a run);
* the axes sit at fixed places (inches) instead of a tight crop, which costs an extra draw, and
  the titles and (empty) axis labels at fixed offsets, so no draw measures tick labels to place them;
  the points are a Line2D's markers (a collection is written point by point into the PDF);
* the PNG is blitted: the frame (everything but the data) is rendered once into an Agg buffer,
  restored for each evaluation, and only the data is drawn on top. The PDF is a full vector draw,
  about twice the PNG's cost, so a run writes it for its final evaluation only (the value-surface
  metric's `pdf` setting; `repro surface` always writes both).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from repro_cli.surface import Surface

LEVELS = np.linspace(0, 1, 11)  # the authors' levels 0:0.1:1
DPI = 110
CONTOUR_ZORDER = 0.5  # under the points whatever was added last (contours are replaced, points kept)

# Layout in inches: square panels side by side, then the colorbar. LEFT and GAP hold tick labels
# as wide as "−10.0"; a title may be PANEL + GAP wide (beyond that its font shrinks to fit).
PANEL, LEFT, GAP, BOTTOM, TOP = 2.8, 0.65, 0.65, 0.35, 0.55
CBAR_GAP, CBAR_WIDTH, RIGHT = 0.2, 0.14, 0.5
TITLE_SIZE = 10


@dataclasses.dataclass(frozen=True)
class Layout:
    """What fixes a figure's frame: its panels, axis ranges and whether the colour scale is fixed."""

    panels: int  # 2: D and D*; 1: D alone (with G's gradient field when G is a network)
    arrows: bool
    fixed_levels: bool  # D is a probability: levels 0:0.1:1, so the colorbar never changes
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    @classmethod
    def of(cls, surface: Surface) -> Layout:
        return cls(2 if surface.d_star is not None else 1, surface.quiver is not None, surface.is_probability,
                   (float(surface.xs[0]), float(surface.xs[-1])), (float(surface.ys[0]), float(surface.ys[-1])))


def _fixed_label_positions(ax) -> None:
    # There are no axis labels; placing them anyway makes every draw measure all tick labels.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_label_coords(0.5, 0.5)


class _Panel:
    """One axes: filled contours of a value grid under the real and fake points."""

    def __init__(self, ax):
        self.ax = ax
        self.contours = None
        self.values: np.ndarray | None = None
        # Markers of a Line2D, not a scatter's collection: the look of scatter(s=18 / s=12) (size √s,
        # scatter's edge widths) at half the drawing cost in the PDF, which writes a collection point by point.
        (self.real,) = ax.plot([], [], ls="none", marker="+", ms=18**0.5, mew=1.5, color="tab:red", label="real")
        (self.fake,) = ax.plot([], [], ls="none", marker="o", ms=12**0.5, mew=1.0, mfc="none", mec="tab:blue", label="fake")
        self.title = ax.set_title(" \n ", fontsize=TITLE_SIZE, y=1.0, pad=6)  # y given: no overlap search with tick labels
        _fixed_label_positions(ax)

    def show(self, surface: Surface, values: np.ndarray, title: str, renderer) -> None:
        if self.values is None or not np.array_equal(values, self.values):
            if self.contours is not None:
                self.contours.remove()
            levels = LEVELS if surface.is_probability else 11
            self.contours = self.ax.contourf(surface.xs, surface.ys, values, levels=levels, cmap="hot", alpha=0.8,
                                             zorder=CONTOUR_ZORDER)
            self.values = values.copy()
        self.real.set_data(surface.real[:, 0], surface.real[:, 1])
        self.fake.set_data(surface.fake[:, 0], surface.fake[:, 1])
        self.title.set(text=title, fontsize=TITLE_SIZE)
        for _ in range(3):  # a long recipe name: smaller type rather than a title cut off or over the next one
            width = self.title.get_window_extent(renderer).width / renderer.dpi  # in inches
            if width <= PANEL + GAP:
                break
            self.title.set_fontsize(self.title.get_fontsize() * 0.98 * (PANEL + GAP) / width)

    def data_artists(self) -> list:
        return [self.contours, self.real, self.fake, self.title, *self.ax.spines.values()]  # spines lie on the contours' edge


class SurfaceFigure:
    def __init__(self, layout: Layout):
        self.layout = layout
        n = layout.panels
        width = LEFT + n * PANEL + (n - 1) * GAP + CBAR_GAP + CBAR_WIDTH + RIGHT
        height = BOTTOM + PANEL + TOP
        self.figure = Figure(figsize=(width, height), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.panels = []
        for i in range(n):
            ax = self.figure.add_axes(((LEFT + i * (PANEL + GAP)) / width, BOTTOM / height, PANEL / width, PANEL / height))
            ax.set_xlim(*layout.xlim)
            ax.set_ylim(*layout.ylim)
            ax.set_aspect("equal")
            # Ticks every 2 on the gaussians' [-2.5, 4.5] (the old tight figure's x axis had those too):
            # each tick costs about a millisecond per PDF, which measures its label's text anew.
            ax.locator_params(nbins=5)
            self.panels.append(_Panel(ax))
        bar_height = 0.85 * PANEL
        self.cax = self.figure.add_axes(((width - RIGHT - CBAR_WIDTH) / width, (BOTTOM + (PANEL - bar_height) / 2) / height,
                                         CBAR_WIDTH / width, bar_height / height))
        self.legend = self.panels[0].ax.legend(loc="lower right", fontsize=7)
        self.colorbar = None
        self.arrows = None
        self.frame = None  # the Agg pixels of everything but the data, once rendered

    def draw(self, surface: Surface, title: str) -> None:
        label = "D(x)" if surface.is_probability else "critic D(x)"
        renderer = self.canvas.get_renderer()
        d_panel = self.panels[0]
        d_panel.show(surface, surface.d, f"{title}\n{label}", renderer)
        if surface.d_star is not None:
            self.panels[1].show(surface, surface.d_star, f"optimal D* = p_r/(p_r+p_g)\nweighted |D−D*| = {surface.distance():.4f}", renderer)
        if self.colorbar is None or not self.layout.fixed_levels:
            # Free levels move with D: a new colorbar (Colorbar.update_normal keeps the old ticks).
            # Fixed levels: every D's contours have the same levels, colours and norm, so one colorbar serves all.
            self.cax.clear()
            _fixed_label_positions(self.cax)
            self.colorbar = self.figure.colorbar(d_panel.contours, cax=self.cax)
        if surface.quiver is not None:
            if self.arrows is not None:
                self.arrows.remove()  # a new Quiver, not set_UVC: the arrow scale is chosen per figure, as before
            X, Y, U, V = surface.quiver
            self.arrows = d_panel.ax.quiver(X, Y, U, V, color="tab:green", alpha=0.7, angles="xy")

    def data_artists(self) -> list:
        artists = [a for panel in self.panels for a in panel.data_artists()] + [self.legend]
        if self.arrows is not None:
            artists.append(self.arrows)
        if not self.layout.fixed_levels:
            artists.append(self.cax)  # the colour scale changes with D
        return sorted(artists, key=lambda a: a.get_zorder())  # stable: the order a full draw uses

    def png(self) -> bytes:
        data = self.data_artists()
        if self.frame is None:
            for artist in data:
                artist.set_visible(False)
            self.canvas.draw()
            self.frame = self.canvas.copy_from_bbox(self.figure.bbox)
            for artist in data:
                artist.set_visible(True)
        self.canvas.restore_region(self.frame)
        for ax in self.figure.axes:  # as a full draw does: a PDF draw (72 dpi) leaves positions off by rounding
            ax.apply_aspect()
        renderer = self.canvas.get_renderer()
        for artist in data:
            artist.draw(renderer)
        buffer = io.BytesIO()
        # zlib level 1: a third of the default's encoding time for a file ~13% larger
        matplotlib.image.imsave(buffer, np.asarray(self.canvas.buffer_rgba()), format="png", origin="upper", dpi=DPI,
                                pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

    def pdf(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="pdf", dpi=DPI)
        return buffer.getvalue()


_FIGURES: dict[Layout, SurfaceFigure] = {}  # one per layout in this process, redrawn at each evaluation
KEPT_FIGURES = 4  # a few MB each; a process rarely draws more than one or two layouts


def plot_surface(surface: Surface, title: str, stem: Path, pdf: bool = True) -> list[Path]:
    """Write <stem>.png and (with `pdf`) <stem>.pdf; returns the paths written."""
    layout = Layout.of(surface)
    figure = _FIGURES.get(layout)
    if figure is None:
        if len(_FIGURES) >= KEPT_FIGURES:
            del _FIGURES[next(iter(_FIGURES))]  # the oldest
        figure = _FIGURES[layout] = SurfaceFigure(layout)
    figure.draw(surface, title)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png")]
    paths[0].write_bytes(figure.png())
    if pdf:
        paths.append(stem.with_suffix(".pdf"))
        paths[1].write_bytes(figure.pdf())
    return paths

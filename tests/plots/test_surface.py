"""The value-surface figure: both files written, its content, and that the kept figure and the
blitted PNG draw exactly what a freshly built figure with a full draw would."""

import dataclasses
import io
import re
import zlib

import matplotlib.image
import numpy as np
import pytest

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.trainer import Trainer
from repro_cli.plots import surface as S
from repro_cli.surface import compute_surface

TINY = ["train.iterations=2", "eval.metrics=[]"]


@pytest.fixture(scope="module")
def gaussian():
    return compute_surface(Trainer(load_recipe("gaussian-nogp", TINY), seed=0), -2.5, 4.5, 30)


@pytest.fixture(scope="module")
def critic_with_arrows():  # D is a critic (no probability), G a network: one panel, arrows, free levels
    return compute_surface(Trainer(load_recipe("8gaussians-wgan-gp", TINY), seed=0), -10.0, 10.0, 30)


@pytest.fixture(autouse=True)
def no_kept_figures(monkeypatch):
    monkeypatch.setattr(S, "_FIGURES", {})  # each test starts without the figures other tests kept


def later(surface, seed: int):
    """The same surface at a later evaluation: D has moved, D* and the points have not."""
    rng = np.random.default_rng(seed)
    return dataclasses.replace(surface, d=np.clip(surface.d + rng.normal(0, 0.2, surface.d.shape), 0, 1))


def pixels(png: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(png))


def full_draw(figure: S.SurfaceFigure) -> np.ndarray:
    buffer = io.BytesIO()
    figure.figure.savefig(buffer, format="png", dpi=S.DPI)
    return pixels(buffer.getvalue())


def pdf_text(pdf: bytes) -> list[str]:
    """The strings the PDF's content streams show (each `[ (a) kern (b) ] TJ` joined): vector text."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    content = b"".join(zlib.decompressobj().decompress(s) for s in streams if s[:1] == b"x").decode("latin-1")
    pieces = re.compile(r"\(((?:\\.|[^\\)])*)\)")
    return ["".join(re.sub(r"\\(.)", r"\1", p) for p in pieces.findall(array)) for array in re.findall(r"\[(.*?)\] TJ", content, re.S)]


def test_writes_a_png_and_a_pdf_of_both_panels(gaussian, tmp_path):
    paths = S.plot_surface(gaussian, "gaussian-nogp, iteration 2", tmp_path / "figures" / "surface-000000002")
    assert [p.name for p in paths] == ["surface-000000002.png", "surface-000000002.pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    width = S.LEFT + 2 * S.PANEL + S.GAP + S.CBAR_GAP + S.CBAR_WIDTH + S.RIGHT
    assert pixels(png).shape == (round(S.DPI * (S.BOTTOM + S.PANEL + S.TOP)), int(S.DPI * width), 4)
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-10:]
    shown = pdf_text(pdf)
    text = "".join(shown)
    for title in ("gaussian-nogp, iteration 2", "D(x)", "optimal D* = p_r/(p_r+p_g)", f"| = {gaussian.distance():.4f}"):
        assert title in text
    assert {"real", "fake", "0.2", "0.8"} <= set(shown)  # legend, colorbar ticks


def test_figure_content(gaussian, tmp_path):
    S.plot_surface(gaussian, "gaussian-nogp, iteration 2", tmp_path / "s")
    figure = S._FIGURES[S.Layout.of(gaussian)]
    d_panel, d_star_panel = figure.panels
    assert d_panel.title.get_text() == "gaussian-nogp, iteration 2\nD(x)"
    assert d_star_panel.title.get_text() == f"optimal D* = p_r/(p_r+p_g)\nweighted |D−D*| = {gaussian.distance():.4f}"
    np.testing.assert_array_equal(d_panel.contours.levels, np.linspace(0, 1, 11))  # the authors' levels
    assert figure.colorbar.ax is figure.cax
    np.testing.assert_array_equal(figure.colorbar.mappable.levels, d_panel.contours.levels)
    np.testing.assert_array_equal(d_panel.real.get_xydata(), gaussian.real)
    np.testing.assert_array_equal(d_star_panel.fake.get_xydata(), gaussian.fake)
    assert [t.get_text() for t in figure.legend.get_texts()] == ["real", "fake"]
    assert len(figure.figure.axes) == 3  # D, D*, colorbar


@pytest.mark.parametrize("which", ["gaussian", "critic_with_arrows"])
def test_the_blitted_png_is_the_full_draw_of_a_fresh_figure(which, request):
    surface = request.getfixturevalue(which)
    kept = S.SurfaceFigure(S.Layout.of(surface))
    kept.draw(surface, "run, iteration 1")
    first = pixels(kept.png())
    kept.pdf()  # a PDF draw in between must not leave anything behind
    second = later(surface, seed=1)
    kept.draw(second, "run, iteration 2")
    blitted = pixels(kept.png())
    fresh = S.SurfaceFigure(S.Layout.of(second))
    fresh.draw(second, "run, iteration 2")
    np.testing.assert_array_equal(blitted, full_draw(fresh))
    assert not np.array_equal(blitted, first)  # the new D was drawn, not the first one restored


def test_d_star_contours_are_kept_while_d_star_is_unchanged(gaussian):
    figure = S.SurfaceFigure(S.Layout.of(gaussian))
    figure.draw(gaussian, "a")
    d_contours, d_star_contours = (p.contours for p in figure.panels)
    second = later(gaussian, seed=2)
    figure.draw(second, "b")
    assert figure.panels[1].contours is d_star_contours and figure.panels[0].contours is not d_contours
    fresh = S.SurfaceFigure(S.Layout.of(second))
    fresh.draw(second, "b")
    for kept, new in zip(figure.panels[1].contours.get_paths(), fresh.panels[1].contours.get_paths()):
        np.testing.assert_array_equal(kept.vertices, new.vertices)
    moved = dataclasses.replace(second, d_star=1 - second.d_star)
    figure.draw(moved, "c")
    assert figure.panels[1].contours is not d_star_contours  # a different D* is drawn anew


def test_one_figure_per_layout_is_kept(gaussian, critic_with_arrows, tmp_path):
    S.plot_surface(gaussian, "a", tmp_path / "a")
    S.plot_surface(later(gaussian, seed=3), "b", tmp_path / "b")
    S.plot_surface(critic_with_arrows, "c", tmp_path / "c")
    assert S._FIGURES[S.Layout.of(gaussian)] is not S._FIGURES[S.Layout.of(critic_with_arrows)]
    figure = S._FIGURES[S.Layout.of(critic_with_arrows)]
    assert len(figure.panels) == 1 and figure.arrows is not None
    assert figure.panels[0].title.get_text().endswith("critic D(x)")
    assert figure.cax in figure.data_artists()  # free levels: the colour scale is redrawn each time


def test_at_most_a_few_figures_are_kept(gaussian, tmp_path):
    for i in range(S.KEPT_FIGURES + 2):  # each range of the grid is another layout
        S.plot_surface(dataclasses.replace(gaussian, xs=gaussian.xs + i), f"{i}", tmp_path / f"{i}")
    assert len(S._FIGURES) == S.KEPT_FIGURES
    assert S.Layout.of(dataclasses.replace(gaussian, xs=gaussian.xs + S.KEPT_FIGURES + 1)) in S._FIGURES  # the newest stays


def test_a_long_title_shrinks_to_stay_inside_the_figure(gaussian):
    figure = S.SurfaceFigure(S.Layout.of(gaussian))
    figure.draw(gaussian, "8gaussians-0gp-sample-with-a-much-longer-name (seed 12), iteration 1000000")
    renderer = figure.canvas.get_renderer()
    title = figure.panels[0].title
    assert title.get_fontsize() < S.TITLE_SIZE
    box = title.get_window_extent(renderer)
    assert box.width / renderer.dpi <= S.PANEL + S.GAP + 0.01
    assert box.x0 >= 0 and box.x1 <= figure.figure.bbox.width
    figure.draw(gaussian, "gaussian-nogp, iteration 2")
    assert title.get_fontsize() == S.TITLE_SIZE  # a short title gets the full size back

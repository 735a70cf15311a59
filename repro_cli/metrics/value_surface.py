"""D-vs-D* distance on the 2-D grid (plus the figure) as a metric."""

from __future__ import annotations

from typing import Annotated, Literal

from repro_cli.config.validate import Range
from repro_cli.plots.surface import plot_surface
from repro_cli.registries import METRICS
from repro_cli.surface import compute_surface


class ValueSurface:
    def __init__(self, lo: float, hi: float, resolution: int, figure: bool, pdf: str):
        self.lo, self.hi, self.resolution, self.figure, self.pdf = lo, hi, resolution, figure, pdf

    def protocol(self) -> dict:
        return {"grid": f"{self.resolution}x{self.resolution} over [{self.lo}, {self.hi}]^2", "weight": "p_r + p_g"}

    def __call__(self, trainer, run) -> list[dict]:
        surface = compute_surface(trainer, self.lo, self.hi, self.resolution)
        if run is not None and self.figure:
            final = trainer.iteration >= trainer.total
            plot_surface(surface, f"{trainer.recipe.name}, iteration {trainer.iteration}", run.figure_dir / f"surface-{trainer.iteration:09d}",
                         pdf=self.pdf == "every" or (self.pdf == "final" and final))
        if surface.d_star is None:
            return []
        return [
            {"name": "d_dstar_distance", "value": surface.distance(), "protocol": self.protocol()},
            {"name": "d_dstar_grid_mae", "value": surface.grid_mae(), "protocol": {**self.protocol(), "weight": "uniform"}},
        ]


@METRICS.register("value-surface")
def value_surface(
    *,
    lo: float = -2.5,
    hi: float = 4.5,
    resolution: Annotated[int, Range(ge=2, le=2000)] = 100,
    figure: bool = True,
    pdf: Literal["final", "every", "never"] = "final",
) -> ValueSurface:
    """D on a resolution² grid over [lo, hi]²; with known densities also the weighted |D − D*|.
    `figure` draws it as figures/surface-<iteration>.png at every evaluation; `pdf` adds a vector
    copy at the run's final evaluation only (default: the PDF costs twice the PNG, and a 2-D sweep
    draws 150 of them), at every evaluation, or never."""
    if hi <= lo:
        from repro_cli.errors import ConfigError

        raise ConfigError(f"value-surface: hi ({hi}) must be greater than lo ({lo})")
    return ValueSurface(lo, hi, resolution, figure, pdf)

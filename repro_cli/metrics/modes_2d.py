"""Mode coverage of a 2-D mixture (8 Gaussians): how many modes G covers, and how many of its
samples are 'high quality' (within `threshold_std` standard deviations of the nearest mode), as in
the 2-D evaluations of VEEGAN/PacGAN."""

from __future__ import annotations

from typing import Annotated

import torch

from repro_cli.config.validate import Range
from repro_cli.registries import METRICS


class Modes2D:
    def __init__(self, n_samples: int, threshold_std: float, min_fraction: float):
        self.n_samples, self.threshold_std, self.min_fraction = n_samples, threshold_std, min_fraction

    @torch.no_grad()
    def __call__(self, trainer, run) -> list[dict]:
        source = trainer.real
        if trainer.G is None or not hasattr(source, "mode_centres"):
            return []
        centres, std = source.mode_centres(), source.mode_std()
        z = torch.randn(self.n_samples, trainer.G.z_dim, generator=torch.Generator().manual_seed(0)).to(trainer.device)
        samples = trainer.G(z).float().cpu()
        dist = torch.cdist(samples, centres)
        nearest, which = dist.min(dim=1)
        good = nearest <= self.threshold_std * std
        counts = torch.bincount(which[good], minlength=len(centres))
        covered = int((counts >= self.min_fraction * self.n_samples).sum())
        protocol = {"n_samples": self.n_samples, "threshold": f"{self.threshold_std} std of a mode",
                    "mode_counts_if": f">= {self.min_fraction:g} of samples high-quality at it", "noise_seed": 0}
        return [
            {"name": "modes_covered", "value": covered, "protocol": {**protocol, "n_modes": len(centres)}},
            {"name": "high_quality_fraction", "value": float(good.float().mean()), "protocol": protocol},
        ]


@METRICS.register("modes-2d")
def modes_2d(
    *,
    n_samples: Annotated[int, Range(ge=1, le=10_000_000)] = 2000,
    threshold_std: Annotated[float, Range(gt=0)] = 3.0,
    min_fraction: Annotated[float, Range(ge=0, le=1)] = 0.01,
) -> Modes2D:
    return Modes2D(n_samples, threshold_std, min_fraction)

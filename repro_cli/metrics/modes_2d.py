"""Mode coverage of a 2-D mixture (8 Gaussians), counted as the 0-GP authors count modes.

The authors' rule (Stacked MNIST, `GradientPenaltiesGANImage.py`): classify each of 100,000 generated
samples, and count a mode when more than 10 samples land in it. In 2-D the classifier is the nearest
mode centre, trusted only for 'high-quality' samples near that centre (VEEGAN/PacGAN).

Why the radius is a fraction of the mode spacing, not of the noise std: the VEEGAN '3 std' rule was
made for the standard ring (scale 2: std 0.02/1.414, spacing 1.08 between neighbouring modes, so
3 std = 0.039 x spacing). The authors' ring has scale 10 but keeps std 0.02, so 3 std there is
0.008 x spacing: 5x stricter, and even converged generators cover 0-1 modes. `quality_radius = 0.04`
is the standard rule scaled with the ring. A 1%-of-samples count threshold was also 100x the
authors' 10-per-100,000.
"""

from __future__ import annotations

from typing import Annotated

import torch

from repro_cli.config.validate import Range
from repro_cli.metrics.mode_coverage import kl_from_uniform
from repro_cli.registries import METRICS


def mode_spacing(centres: torch.Tensor) -> float:
    """The smallest distance between two mode centres."""
    dist = torch.cdist(centres, centres)
    return float(dist[~torch.eye(len(centres), dtype=torch.bool)].min())


def assign_modes(samples: torch.Tensor, centres: torch.Tensor, radius: float) -> torch.Tensor:
    """Index of each sample's nearest centre, or -1 when it is farther than `radius` from it."""
    nearest, which = torch.cdist(samples, centres).min(dim=1)
    return torch.where(nearest <= radius, which, torch.full_like(which, -1))


class Modes2D:
    def __init__(self, n_samples: int, quality_radius: float, min_count: int, noise_seed: int = 0, batch: int = 20_000):
        self.n_samples, self.quality_radius, self.min_count = n_samples, quality_radius, min_count
        self.noise_seed, self.batch = noise_seed, batch

    @torch.no_grad()
    def samples(self, trainer) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.noise_seed)
        chunks = []
        for start in range(0, self.n_samples, self.batch):
            z = torch.randn(min(self.batch, self.n_samples - start), trainer.G.z_dim, generator=gen)
            chunks.append(trainer.G(z.to(trainer.device)).float().cpu())
        return torch.cat(chunks)

    def __call__(self, trainer, run) -> list[dict]:
        source = trainer.real
        if trainer.G is None or not hasattr(source, "mode_centres"):
            return []
        centres = source.mode_centres()
        radius = self.quality_radius * mode_spacing(centres)
        modes = assign_modes(self.samples(trainer), centres, radius)
        counts = torch.bincount(modes[modes >= 0], minlength=len(centres))
        protocol = {"n_samples": self.n_samples, "noise_seed": self.noise_seed, "n_modes": len(centres),
                    "high_quality": f"within {self.quality_radius:g} x mode spacing ({radius:.3g}) of the nearest mode",
                    "mode_counts_if": f"> {self.min_count} high-quality samples"}
        return [
            {"name": "modes_covered", "value": int((counts > self.min_count).sum()), "protocol": protocol},
            {"name": "high_quality_fraction", "value": float((modes >= 0).float().mean()), "protocol": protocol},
            {"name": "mode_kl", "value": kl_from_uniform(counts), "protocol": {**protocol, "divergence": "KL(high-quality histogram || uniform), nats"}},
        ]


@METRICS.register("modes-2d")
def modes_2d(
    *,
    n_samples: Annotated[int, Range(ge=1, le=10_000_000)] = 100_000,
    quality_radius: Annotated[float, Range(gt=0, le=1)] = 0.04,
    min_count: Annotated[int, Range(ge=0)] = 10,
    noise_seed: Annotated[int, Range(ge=0)] = 0,
) -> Modes2D:
    """Defaults are the authors' count (100,000 samples, a mode needs > 10) with the VEEGAN quality
    radius scaled to the ring (see the module docstring)."""
    return Modes2D(n_samples, quality_radius, min_count, noise_seed)

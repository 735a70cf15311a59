"""Figures of an image generator at each evaluation: 64 samples from fixed noise (the same z every
time, so grids from successive evaluations show how G evolves) and an 8×8 latent interpolation
(each row walks linearly between two fixed z)."""

from __future__ import annotations

import io
from typing import Annotated

import torch

from repro_cli.config.validate import Range
from repro_cli.registries import METRICS
from repro_cli.runs.atomic import atomic_write_bytes


def interpolation_noise(z_dim: int, rows: int, steps: int, gen: torch.Generator) -> torch.Tensor:
    ends = torch.randn(2, rows, 1, z_dim, generator=gen)
    t = torch.linspace(0, 1, steps).view(1, steps, 1)
    return torch.lerp(ends[0], ends[1], t).reshape(rows * steps, z_dim)


class SampleGrid:
    def __init__(self, side: int, noise_seed: int):
        self.side, self.noise_seed = side, noise_seed

    @torch.no_grad()
    def __call__(self, trainer, run) -> list[dict]:
        if run is None or trainer.G is None or not hasattr(trainer.real, "to_unit"):
            return []
        from torchvision.utils import save_image  # on use: importing torchvision costs seconds (see data/cifar10.py)

        gen = torch.Generator().manual_seed(self.noise_seed)
        fixed = torch.randn(self.side * self.side, trainer.G.z_dim, generator=gen)
        walk = interpolation_noise(trainer.G.z_dim, self.side, self.side, gen)
        for stem, z in (("samples", fixed), ("interpolation", walk)):
            images = trainer.real.to_unit(trainer.G(z.to(trainer.device))).cpu()
            buffer = io.BytesIO()
            save_image(images, buffer, format="png", nrow=self.side, padding=2)
            atomic_write_bytes(run.figure_dir / f"{stem}-{trainer.iteration:09d}.png", buffer.getvalue())
        return []


@METRICS.register("sample-grid")
def sample_grid(*, side: Annotated[int, Range(ge=1, le=64)] = 8, noise_seed: Annotated[int, Range(ge=0)] = 0) -> SampleGrid:
    """side×side fixed-noise samples and a side×side interpolation grid, saved as PNG in the run's figures/."""
    return SampleGrid(side, noise_seed)

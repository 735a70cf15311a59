import math
import types

import pytest
import torch

from repro_cli.data.base import DataContext
from repro_cli.metrics.modes_2d import assign_modes, mode_spacing, modes_2d


def authors_ring():
    from repro_cli.registries import DATA

    return DATA.get("8gaussians")(ctx=DataContext(device=torch.device("cpu"), seed=0), scale=10.0, std=0.02)


class FixedG(torch.nn.Module):
    """A 'generator' that emits a fixed list of points, cycling through it."""

    z_dim = 2

    def __init__(self, points: torch.Tensor):
        super().__init__()
        self.points, self.offset = points, 0

    def forward(self, z):
        idx = (torch.arange(len(z)) + self.offset) % len(self.points)
        self.offset += len(z)
        return self.points[idx]


def evaluate(points: torch.Tensor, **params) -> dict:
    trainer = types.SimpleNamespace(G=FixedG(points), real=authors_ring(), device=torch.device("cpu"))
    return {r["name"]: r["value"] for r in modes_2d(**params)(trainer, None)}


def test_spacing_and_assignment_on_the_authors_ring():
    centres = authors_ring().mode_centres()
    assert mode_spacing(centres) == pytest.approx(2 * 10 / 1.414 * math.sin(math.pi / 8), rel=1e-5)
    samples = torch.stack([centres[3] + torch.tensor([0.1, 0.0]), centres[5] + torch.tensor([0.0, 1.0]), torch.zeros(2)])
    assert assign_modes(samples, centres, radius=0.2).tolist() == [3, -1, -1]


def test_a_generator_near_every_mode_covers_all_eight():
    # 0.1 from each centre: 7x the data std (so the old 3-std rule counted no mode), but a tight
    # cluster on the ring's scale (spacing 5.4). This is what 20k iterations of 0-GP produce.
    centres = authors_ring().mode_centres()
    values = evaluate(centres + torch.tensor([0.1, 0.0]), n_samples=800)
    assert values["modes_covered"] == 8 and values["high_quality_fraction"] == 1.0
    assert values["mode_kl"] == pytest.approx(0.0, abs=1e-12)


def test_collapsed_and_off_mode_samples():
    centres = authors_ring().mode_centres()
    collapsed = evaluate(centres[[2]], n_samples=500)
    assert collapsed["modes_covered"] == 1 and collapsed["mode_kl"] == pytest.approx(math.log(8))
    between = (centres[0] + centres[4]) / 2  # half-way between two neighbouring modes: no mode's sample
    assert evaluate(between[None], n_samples=500)["high_quality_fraction"] == 0.0


def test_a_mode_needs_more_than_min_count_samples():
    centres = authors_ring().mode_centres()
    points = torch.cat([centres[[0]].repeat(89, 1), centres[[1]].repeat(11, 1)])  # of 100 samples: 89 and 11
    assert evaluate(points, n_samples=100, min_count=10)["modes_covered"] == 2
    assert evaluate(points, n_samples=100, min_count=11)["modes_covered"] == 1

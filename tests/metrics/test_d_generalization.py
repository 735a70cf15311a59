import math

import pytest
import torch
from torch import nn

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.trainer import Trainer
from repro_cli.metrics.d_generalization import d_generalization


class Memoriser(nn.Module):
    """A D that has memorised its training set: logit +4 on training images, -4 on anything else."""

    def __init__(self, train_images):
        super().__init__()
        self.train_images = train_images.flatten(1)

    def forward(self, x):
        dist = torch.cdist(x.flatten(1), self.train_images, compute_mode="donot_use_mm_for_euclid_dist")
        seen = dist.min(dim=1).values < 1e-4
        return torch.where(seen, 4.0, -4.0)


@pytest.mark.parametrize("recipe", ["mnist-nogp", "stacked-mnist-nogp"])
def test_memorising_discriminator_has_the_known_gap(mnist_root, recipe):
    trainer = Trainer(load_recipe(recipe, ["train.iterations=1", "data.n_train=1000"]), data=DataContext(root=mnist_root, download=False))
    trainer.D = Memoriser(trainer.real.train_points(10_000))
    values = {r["name"]: r["value"] for r in d_generalization(n_samples=150)(trainer, None)}
    s = 1 / (1 + math.exp(-4))
    assert values["d_train_mean"] == pytest.approx(s) and values["d_heldout_mean"] == pytest.approx(1 - s)
    assert values["d_train_accuracy"] == 1.0 and values["d_heldout_accuracy"] == 0.0
    assert values["d_generalization_gap"] == pytest.approx(2 * s - 1)
    assert values["d_heldout_bce"] == pytest.approx(math.log1p(math.exp(4)), rel=1e-5)


def test_overfitting_curves_are_drawn_from_the_run_log(mnist_root, tmp_path):
    from types import SimpleNamespace

    from PIL import Image

    from repro_cli.plots.d_generalization import overfitting_frame

    trainer = Trainer(load_recipe("mnist-nogp", ["train.iterations=1"]), data=DataContext(root=mnist_root, download=False))
    earlier = [{"type": "metric", "iteration": 1000, "name": "d_train_mean", "value": 0.7},
               {"type": "metric", "iteration": 1000, "name": "d_heldout_mean", "value": 0.6}]
    run = SimpleNamespace(figure_dir=tmp_path, records=lambda: earlier)
    trainer.iteration = 2000
    records = d_generalization(n_samples=20)(trainer, run)
    frame = overfitting_frame(earlier + [{**r, "iteration": 2000} for r in records])
    means = frame[frame.statistic == "mean"].set_index(["iteration", "split"]).value
    assert means[(1000, "training")] == 0.7 and means[(1000, "held-out (test)")] == 0.6
    assert set(frame.iteration) == {1000, 2000} and len(frame) == 6  # 2 + 2 means/accuracies at 2000
    assert Image.open(tmp_path / "d-generalization.png").size[0] > 400

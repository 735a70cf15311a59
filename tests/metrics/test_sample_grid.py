from types import SimpleNamespace

import torch
from PIL import Image

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.trainer import Trainer
from repro_cli.metrics.sample_grid import interpolation_noise, sample_grid


def test_grids_are_written_for_each_evaluation(mnist_root, tmp_path):
    trainer = Trainer(load_recipe("stacked-mnist-0gp", ["train.iterations=1", "data.n_train=1000"]), data=DataContext(root=mnist_root, download=False))
    run = SimpleNamespace(figure_dir=tmp_path)
    metric = sample_grid()
    assert metric(trainer, run) == []
    trainer.iteration = 7
    metric(trainer, run)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["interpolation-000000000.png", "interpolation-000000007.png", "samples-000000000.png", "samples-000000007.png"]
    image = Image.open(tmp_path / "samples-000000007.png")
    assert image.size == (2 + 8 * 30, 2 + 8 * 30) and image.mode == "RGB"
    # fixed noise: the same G gives the same grid
    assert (tmp_path / "samples-000000000.png").read_bytes() == (tmp_path / "samples-000000007.png").read_bytes()


def test_interpolation_rows_walk_between_two_points():
    z = interpolation_noise(5, rows=3, steps=4, gen=torch.Generator().manual_seed(0)).view(3, 4, 5)
    assert torch.allclose(z[:, 1], z[:, 0] + (z[:, 3] - z[:, 0]) / 3, atol=1e-6)
    assert not torch.allclose(z[0, 0], z[1, 0])

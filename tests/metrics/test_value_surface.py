"""The value surface: D* against the density formula, the weighted distance, the metric and figure."""

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.trainer import Trainer
from repro_cli.surface import Surface, compute_surface, optimal_discriminator

TINY = ["train.iterations=2", "eval.metrics=[]"]


class Fixed(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def test_optimal_discriminator_matches_the_density_ratio():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0], [4.0, -2.0]])
    p_r = multivariate_normal([0.4, 0.9], [[1, 0.5], [0.5, 1]]).pdf(points)
    p_g = multivariate_normal([1.3, 1.2], [[1, 0.7], [0.7, 1]]).pdf(points)
    got = optimal_discriminator(torch.tensor(np.log(p_r)), torch.tensor(np.log(p_g)))
    np.testing.assert_allclose(got.numpy(), p_r / (p_r + p_g), rtol=1e-10)
    # stays finite where both densities underflow
    assert optimal_discriminator(torch.tensor([-2000.0]), torch.tensor([-2001.0])).item() == pytest.approx(1 / (1 + np.exp(-1)))


def test_distance_weights_by_where_the_data_is():
    zeros = np.zeros((2, 2))
    d = np.array([[0.5, 0.5], [0.5, 0.9]])
    d_star = np.array([[0.5, 0.5], [0.5, 0.1]])
    weight = np.array([[1.0, 1.0], [1.0, 1.0]])
    surf = Surface(np.arange(2), np.arange(2), d, d_star, weight, zeros, zeros, None, True)
    assert surf.distance() == pytest.approx(0.8 / 4)
    surf.weight = np.array([[1.0, 1.0], [1.0, 0.0]])  # the wrong corner carries no data
    assert surf.distance() == pytest.approx(0.0)
    assert surf.grid_mae() == pytest.approx(0.2)


def test_surface_of_the_optimal_d_is_at_distance_zero():
    trainer = Trainer(load_recipe("gaussian-nogp", TINY), seed=0)
    real, fake = trainer.real, trainer.fake_data

    class OptimalLogit(torch.nn.Module):
        def forward(self, x):  # sigmoid(log p_r - log p_g) is D*
            return (real.log_density(x) - fake.log_density(x)).float()

    trainer.D = OptimalLogit()
    surf = compute_surface(trainer, -2.5, 4.5, 40)
    assert surf.d.shape == surf.d_star.shape == (40, 40)
    assert surf.distance() == pytest.approx(0.0, abs=1e-6)
    # and a D that says 1/2 everywhere is far from it
    trainer.D = Fixed(lambda x: torch.zeros(x.shape[0]))
    assert compute_surface(trainer, -2.5, 4.5, 40).distance() > 0.1


def test_grid_is_indexed_y_then_x():
    trainer = Trainer(load_recipe("gaussian-nogp", TINY), seed=0)
    trainer.D = Fixed(lambda x: x[:, 0] * 10.0)  # D grows along x only
    surf = compute_surface(trainer, -1.0, 1.0, 5)
    assert (np.diff(surf.d, axis=1) > 0).all() and np.allclose(np.diff(surf.d, axis=0), 0)


def test_surface_runs_d_in_eval_mode_and_restores_it():
    trainer = Trainer(load_recipe("gaussian-nogp", TINY + ["normalization.name=sn"]), seed=0)
    modes = []
    original = trainer.D.forward
    trainer.D.forward = lambda x: (modes.append(trainer.D.training), original(x))[1]
    buffers = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    first = compute_surface(trainer, -2.5, 4.5, 10)
    second = compute_surface(trainer, -2.5, 4.5, 10)
    assert modes and not any(modes)
    assert trainer.D.training
    np.testing.assert_array_equal(first.d, second.d)
    for k, v in trainer.D.state_dict().items():
        assert torch.equal(v, buffers[k]), k  # spectral norm's power-iteration vectors untouched


def test_8gaussians_surface_has_the_generator_gradient_field_and_no_d_star():
    trainer = Trainer(load_recipe("8gaussians-0gp", TINY), seed=0)
    surf = compute_surface(trainer, -10.0, 10.0, 30)
    assert surf.d_star is None and surf.distance() is None
    X, Y, U, V = surf.quiver
    assert X.shape == (20, 20)
    # the field is −∇ₓ(−log D(x)) = ∇ₓ log D(x): check one arrow by finite differences
    x0 = torch.tensor([[X[3, 4], Y[3, 4]]], dtype=torch.float32)
    eps = 1e-2
    log_d = lambda p: torch.nn.functional.logsigmoid(trainer.D(p)).item()
    fd = [(log_d(x0 + torch.tensor([[eps, 0.0]])) - log_d(x0 - torch.tensor([[eps, 0.0]]))) / (2 * eps),
          (log_d(x0 + torch.tensor([[0.0, eps]])) - log_d(x0 - torch.tensor([[0.0, eps]]))) / (2 * eps)]
    np.testing.assert_allclose([U[3, 4], V[3, 4]], fd, rtol=0.05, atol=1e-4)


def test_metric_logs_the_distance_with_its_protocol():
    recipe = load_recipe("gaussian-0gp", ["train.iterations=2", "eval.metrics=[{name = \"value-surface\", resolution = 25, figure = false}]"])
    trainer = Trainer(recipe, seed=1)
    trainer.fit()
    records = {r["name"]: r for r in trainer.evaluate()}
    surf = compute_surface(trainer, -2.5, 4.5, 25)
    assert records["d_dstar_distance"]["value"] == pytest.approx(surf.distance())
    assert records["d_dstar_distance"]["protocol"]["grid"] == "25x25 over [-2.5, 4.5]^2"
    assert records["d_dstar_distance"]["protocol"]["weight"] == "p_r + p_g"


@pytest.mark.parametrize("pdf, with_pdf", [(None, [4]), ("every", [2, 4]), ("never", [])])
def test_figures_are_png_at_every_evaluation_and_pdf_as_asked(tmp_path, pdf, with_pdf):
    """By default the PDF is drawn for the run's final evaluation only."""
    from repro_cli.runs.rundir import Run

    metric = '[{name = "value-surface", resolution = 12' + (f', pdf = "{pdf}"' if pdf else "") + "}]"
    recipe = load_recipe("gaussian-0gp", ["train.iterations=4", "eval.every=2", f"eval.metrics={metric}"])
    run = Run.create(tmp_path, recipe, 0, device="cpu", overrides=[])
    Trainer(recipe, seed=0).fit(run)
    figures = sorted(p.name for p in run.figure_dir.iterdir())
    assert figures == sorted([f"surface-{it:09d}.png" for it in (2, 4)] + [f"surface-{it:09d}.pdf" for it in with_pdf])


def test_pdf_setting_is_checked():
    from repro_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="pdf"):
        load_recipe("gaussian-0gp", ['eval.metrics=[{name = "value-surface", pdf = "sometimes"}]'])

"""The ensemble's closed-form D step must give what autograd's double backward gives."""

from __future__ import annotations

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.draw_ahead import side_by_side
from repro_cli.engine.ensemble import EnsembleTrainer

# Links, weights, centres, point sets and losses that one closed-form step must handle at once.
MIXED = [
    ("gaussian-nogp", []), ("gaussian-0gp", []), ("gaussian-0gp-sample", []), ("gaussian-1gp", []),
    ("gaussian-0gp", ["penalty.weight=0.3", "penalty.center=0.5"]), ("gaussian-0gp", ['penalty.gradient_of="logit"']),
]
OTHERS = {  # one recipe, several seeds
    "relu net, SGD, G, points = real": ("8gaussians-0gp-sample", []),
    "WGAN critic on logits, n_dis 5": ("8gaussians-wgan-gp", []),
    "hinge loss, leaky ReLU": ("8gaussians-0gp", ['loss.name="hinge"', 'penalty.gradient_of="logit"', 'discriminator.activation="lrelu"']),
    "real+fake points (twice the rows)": ("gaussian-0gp", ['penalty.points="real+fake"']),
}


def _both_ways(ensemble: EnsembleTrainer):
    """(closed-form, autograd) results on the same draws: stats and every D gradient."""
    draw = ensemble.draws(ensemble.recipe.train.batch_size)
    results = []
    for step in (ensemble.closed_form, ensemble.d_gradients):
        stats = [t.detach().clone() for t in step(draw)]
        results.append((stats, {k: p.grad.clone() for k, p in ensemble.D.params.items()}))
    return results


def _assert_same(ensemble: EnsembleTrainer) -> None:
    (closed_stats, closed_grads), (auto_stats, auto_grads) = _both_ways(ensemble)
    for name, closed, auto in zip(("d_real", "d_fake", "d_loss", "penalty"), closed_stats, auto_stats):
        torch.testing.assert_close(closed, auto, rtol=1e-5, atol=1e-6, msg=lambda m: f"{name}: {m}")
    for name in auto_grads:
        torch.testing.assert_close(closed_grads[name], auto_grads[name], rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")


# Where the members without a penalty sit: the penalty chain runs on the first k members, up to
# the last penalised one (k = all of them when one comes last).
ORDERS = {"unpenalised first": [0, 1, 2, 3, 4, 5], "unpenalised last": [1, 2, 3, 4, 5, 0, 0],
          "unpenalised between": [1, 0, 2, 3, 4, 5]}


@pytest.mark.parametrize("order", list(ORDERS))
def test_mixed_penalties_match_autograd(order):
    picked = [MIXED[i] for i in ORDERS[order]]
    recipes = [load_recipe(name, overrides) for name, overrides in picked]
    ensemble = EnsembleTrainer(recipes, list(range(len(recipes))))
    assert ensemble.closed_form is not None
    assert ensemble.closed_form.k == 1 + max(i for i, (name, _) in enumerate(picked) if name != "gaussian-nogp")
    for _ in range(3):  # at the initial weights and after a few closed-form steps
        _assert_same(ensemble)
        ensemble.step()
    stats, _ = _both_ways(ensemble)[0]
    for (name, _), penalty in zip(picked, stats[3].tolist()):  # the penalty, an exact zero without one
        assert penalty == 0.0 if name == "gaussian-nogp" else penalty > 0


@pytest.mark.parametrize("case", list(OTHERS))
def test_other_losses_activations_and_point_sets_match_autograd(case):
    name, overrides = OTHERS[case]
    ensemble = EnsembleTrainer(load_recipe(name, overrides), [0, 1, 2])
    assert ensemble.closed_form is not None
    for _ in range(2):
        _assert_same(ensemble)
        ensemble.step()


def test_point_sets_of_different_sizes_fall_back_to_autograd():
    recipes = [load_recipe("gaussian-0gp", []), load_recipe("gaussian-0gp", ['penalty.points="real+fake"'])]
    assert EnsembleTrainer(recipes, [0, 1]).closed_form is None


def test_activation_without_derivatives_falls_back_to_autograd():
    ensemble_recipe = load_recipe("gaussian-0gp", [])
    ensemble = EnsembleTrainer(ensemble_recipe, [0, 1])
    ensemble.D.members[0].net[1] = torch.nn.Sigmoid()
    from repro_cli.engine.closed_form import closed_form_d_step

    assert closed_form_d_step(ensemble.D, ensemble.loss, ensemble.members, ensemble.penalty_groups) is None


def test_rows_drawn_ahead_equal_the_rows_made_at_the_step():
    recipes = [load_recipe(name, overrides) for name, overrides in MIXED]
    ensemble = EnsembleTrainer(recipes, list(range(len(recipes))))
    for _ in range(3):
        draw = ensemble.draws(ensemble.recipe.train.batch_size)
        assert draw.rows is not None and draw.rows.shape == (len(recipes), 60, 2)
        made_at_the_step = side_by_side(draw.real, draw.fake, draw.points, ensemble.penalty_groups, dim=1)
        assert torch.equal(draw.rows, made_at_the_step)
        assert not draw.rows[0, 40:].any()  # gaussian-nogp: zero penalty rows

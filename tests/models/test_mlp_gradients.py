"""The closed-form MLP gradients must equal autograd's backward and double backward."""

from __future__ import annotations

import pytest
import torch

from repro_cli import registries as R
from repro_cli.engine.batched import StackedModule, registered_form
from repro_cli.engine.penalties import LINKS
from repro_cli.models.mlp import mlp_discriminator
from repro_cli.models.mlp_gradients import MLPGradients

MEMBERS, BATCH = 3, 5


def _stacked(activation: str, layers: int, in_shape=(2,)) -> StackedModule:
    torch.manual_seed(0)
    nets = [mlp_discriminator(in_shape=in_shape, hidden=7, layers=layers, activation=activation).double() for _ in range(MEMBERS)]
    return StackedModule(nets)


def _autograd(stacked: StackedModule, x: torch.Tensor, rows: slice, link, score_seed, grad_seed):
    """(scores, input gradient of link(f) on `rows`, ∂/∂params of Σ f·score_seed + Σ g·grad_seed)."""
    params = {k: v.detach().clone().requires_grad_(True) for k, v in stacked.params.items()}
    x = x.clone().requires_grad_(True)
    scores = R.BATCHED_FORMS.get("mlp-discriminator")(stacked.skeleton, params, x)
    (g,) = torch.autograd.grad(link(scores[:, rows]).sum(), x, create_graph=True)
    g = g[:, rows]
    objective = (scores * score_seed).sum() + (g.flatten(2) * grad_seed).sum()
    grads = torch.autograd.grad(objective, list(params.values()))
    return scores.detach(), g.detach(), dict(zip(params, grads))


@pytest.mark.parametrize("activation,layers", [("tanh", 2), ("tanh", 3), ("relu", 2), ("lrelu", 3)])
@pytest.mark.parametrize("link_name", ["probability", "logit"])
def test_tape_equals_autograd_double_backward(activation, layers, link_name):
    stacked = _stacked(activation, layers)
    torch.manual_seed(1)
    x = torch.randn(MEMBERS, 3 * BATCH, 2, dtype=torch.float64)  # real, fake, penalty points
    rows = slice(2 * BATCH, None)
    score_seed = torch.randn(MEMBERS, 3 * BATCH, dtype=torch.float64)
    grad_seed = torch.randn(MEMBERS, BATCH, 2, dtype=torch.float64)
    link = torch.sigmoid if link_name == "probability" else (lambda t: t)
    scores, g, expected = _autograd(stacked, x, rows, link, score_seed, grad_seed)

    tape = MLPGradients(stacked.skeleton, stacked.params).forward(x)
    torch.testing.assert_close(tape.scores, scores, rtol=1e-12, atol=1e-12)
    slope, curvature = LINKS[link_name].derivatives(tape.scores[:, rows])
    torch.testing.assert_close(tape.input_gradient(rows, slope), g, rtol=1e-12, atol=1e-12)
    grads = tape.backward(score_seed, grad_seed, curvature)
    assert grads.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(grads[name], expected[name], rtol=1e-10, atol=1e-12, msg=lambda m: f"{name}: {m}")


def test_tape_without_penalty_is_the_plain_backward():
    stacked = _stacked("tanh", 2)
    x = torch.randn(MEMBERS, 2 * BATCH, 2, dtype=torch.float64)
    score_seed = torch.randn(MEMBERS, 2 * BATCH, dtype=torch.float64)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in stacked.params.items()}
    scores = R.BATCHED_FORMS.get("mlp-discriminator")(stacked.skeleton, params, x)
    expected = torch.autograd.grad((scores * score_seed).sum(), list(params.values()))
    grads = MLPGradients(stacked.skeleton, stacked.params).forward(x).backward(score_seed)
    for (name, want) in zip(params, expected):
        torch.testing.assert_close(grads[name], want, rtol=1e-10, atol=1e-12)


def test_images_are_flattened_like_the_model():
    stacked = _stacked("lrelu", 2, in_shape=(1, 3, 3))
    x = torch.randn(MEMBERS, 2 * BATCH, 1, 3, 3, dtype=torch.float64)
    scores = R.BATCHED_FORMS.get("mlp-discriminator")(stacked.skeleton, stacked.params, x)
    torch.testing.assert_close(MLPGradients(stacked.skeleton, stacked.params).forward(x).scores, scores)


def test_registered_for_the_mlp_discriminator_only():
    net = mlp_discriminator(in_shape=(2,), hidden=4, layers=2, activation="tanh")
    assert registered_form(R.D_GRADIENT_FORMS, net) is MLPGradients and MLPGradients.supports(net)
    net.net[1] = torch.nn.Sigmoid()  # an activation without registered derivatives
    assert not MLPGradients.supports(net)

"""The centred gradient penalty against closed forms, for 2-D points and image shapes."""

import math

import pytest
import torch
from torch import nn

from repro_cli import registries as R
from repro_cli.config.schema import PenaltySpec
from repro_cli.engine.penalties import GradientPenalty, input_gradient_norm

SHAPES = [(2,), (1, 28, 28), (3, 32, 32)]


class Linear(nn.Module):
    """D(x) = <w, x> + b, so ∇ₓD = w at every point."""

    def __init__(self, shape, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(torch.randn(shape, generator=gen) * 0.05)
        self.b = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


class Quadratic(nn.Module):
    """D(x) = ½ Σ a ⊙ x², so ∇ₓD = a ⊙ x."""

    def __init__(self, shape):
        super().__init__()
        self.a = nn.Parameter(torch.linspace(0.5, 2.0, math.prod(shape)).view(shape))

    def forward(self, x):
        return 0.5 * (self.a * x * x).flatten(1).sum(1)


def batch(shape, n=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=gen), torch.randn(n, *shape, generator=gen) + 1.0


def penalty(points="interpolates", center=0.0, weight=2.0, gradient_of="logit"):
    return GradientPenalty(PenaltySpec(preset="custom", weight=weight, center=center, points=points, gradient_of=gradient_of))


def apply(pen, D, real, fake, rng=None):
    """As the trainer calls it: real prepared before D's forward so the penalty may reuse it."""
    real = pen.prepare_real(real)
    return pen(D, real, fake, D(real), rng)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("points", ["interpolates", "real", "fake", "real+fake"])
@pytest.mark.parametrize("center", [0.0, 1.0])
def test_linear_d_has_gradient_w_everywhere(shape, points, center):
    D = Linear(shape)
    real, fake = batch(shape)
    value = apply(penalty(points, center), D, real, fake, torch.Generator().manual_seed(0))
    expected = 2.0 * (D.w.detach().norm() - center) ** 2
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_penalty_gradient_reaches_d_parameters_in_closed_form(shape):
    # penalty = λ‖w‖² for a linear logit, so ∂penalty/∂w = 2λw
    D = Linear(shape)
    real, fake = batch(shape)
    apply(penalty("real", 0.0, weight=3.0), D, real, fake).backward()
    torch.testing.assert_close(D.w.grad, 6.0 * D.w.detach())
    assert D.b.grad is None or D.b.grad.abs().item() == 0.0


@pytest.mark.parametrize("shape", SHAPES)
def test_quadratic_d_on_real_points(shape):
    D = Quadratic(shape)
    real, fake = batch(shape)
    value = apply(penalty("real", center=0.5, weight=1.0), D, real, fake)
    norms = (D.a.detach() * real).flatten(1).norm(dim=1)
    assert value.item() == pytest.approx(((norms - 0.5) ** 2).mean().item(), rel=1e-5)


def test_quadratic_d_on_interpolates_uses_per_sample_alpha():
    shape = (2,)
    D = Quadratic(shape)
    real, fake = batch(shape, n=50)
    value = apply(penalty("interpolates", weight=1.0), D, real, fake, torch.Generator().manual_seed(7))
    alpha = torch.rand(50, 1, generator=torch.Generator().manual_seed(7))
    x_hat = alpha * real + (1 - alpha) * fake
    expected = ((D.a.detach() * x_hat).norm(dim=1) ** 2).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_probability_gradient_is_sigmoid_derivative_times_w():
    D = Linear((2,))
    real, fake = batch((2,))
    value = apply(penalty("real", weight=1.0, gradient_of="probability"), D, real, fake)
    s = torch.sigmoid(D(real)).detach()
    expected = ((s * (1 - s)) ** 2 * D.w.detach().norm() ** 2).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_reusing_the_real_forward_gives_the_same_value_as_a_fresh_forward():
    D = Quadratic((3, 32, 32))
    real, fake = batch((3, 32, 32))
    pen = penalty("real", weight=1.0)
    assert pen.reuses_real_forward
    prepared = pen.prepare_real(real)
    reused = pen(D, prepared, fake, D(prepared))
    fresh = GradientPenalty(PenaltySpec(weight=1.0, points="fake", gradient_of="logit"))(D, fake, real, D(fake))
    assert reused.item() == pytest.approx(fresh.item(), rel=1e-6)


def test_zero_weight_computes_nothing():
    D = Linear((2,))
    real, fake = batch((2,))
    pen = GradientPenalty(PenaltySpec())
    assert not pen.active and pen.prepare_real(real) is real
    assert pen(D, real, fake, D(real)).item() == 0.0


def test_point_sets():
    real, fake = batch((1, 28, 28), n=8)
    x_hat = R.PENALTY_POINTS.get("interpolates")(real, fake, torch.Generator().manual_seed(0))
    # every interpolate lies on the segment between its own real and fake sample, one α per sample
    step, offset = (real - fake).flatten(1), (x_hat - fake).flatten(1)
    alpha = (offset * step).sum(1) / (step * step).sum(1)
    torch.testing.assert_close(offset, alpha[:, None] * step, atol=1e-5, rtol=1e-5)
    assert ((alpha >= 0) & (alpha <= 1)).all() and alpha.std() > 0.1
    assert torch.equal(R.PENALTY_POINTS.get("real")(real, fake, None), real)
    assert torch.equal(R.PENALTY_POINTS.get("fake")(real, fake, None), fake)
    assert torch.equal(R.PENALTY_POINTS.get("real+fake")(real, fake, None), torch.cat([real, fake]))


def test_input_gradient_norm_is_per_sample():
    x = torch.tensor([[3.0, 4.0], [1.0, 0.0]], requires_grad=True)
    scores = (x * x).sum(1) / 2  # gradient x
    torch.testing.assert_close(input_gradient_norm(scores, x, create_graph=False), torch.tensor([5.0, 1.0]))

"""Loss values against their closed forms."""

import math

import pytest
import torch

from repro_cli import registries as R


def loss(name):
    return R.LOSSES.get(name)()


def test_ns_gan_is_bce_on_sigmoid_output():
    d_real, d_fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    p_real, p_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    expected = -(torch.log(p_real).mean() + torch.log(1 - p_fake).mean())
    assert loss("ns-gan").discriminator(d_real, d_fake).item() == pytest.approx(expected.item(), rel=1e-6)
    # at D = 1/2 everywhere the D loss is 2 log 2
    assert loss("ns-gan").discriminator(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(2 * math.log(2))
    # non-saturating G loss: -log D(G(z))
    assert loss("ns-gan").generator(d_fake).item() == pytest.approx(-torch.log(p_fake).mean().item(), rel=1e-6)
    assert loss("ns-gan").has_probability


def test_ns_gan_is_stable_for_large_logits():
    value = loss("ns-gan").discriminator(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(value) and value.item() == pytest.approx(0.0, abs=1e-30)


def test_wgan_and_hinge():
    d_real, d_fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.5])
    w = loss("wgan")
    assert w.discriminator(d_real, d_fake).item() == pytest.approx(-1.25 - 1.25)
    assert w.generator(d_fake).item() == pytest.approx(1.25)
    h = loss("hinge")
    # relu(1 - [2, .5]) = [0, .5] -> .25; relu(1 + [-3, .5]) = [0, 1.5] -> .75
    assert h.discriminator(d_real, d_fake).item() == pytest.approx(1.0)
    assert h.generator(d_fake).item() == pytest.approx(1.25)
    assert not w.has_probability and not h.has_probability


@pytest.mark.parametrize("name", ["ns-gan", "wgan", "hinge"])
def test_generator_potential_is_the_per_point_generator_loss(name):
    scores = torch.tensor([-1.0, 0.3, 2.0])
    impl = loss(name)
    assert impl.generator_potential(scores).mean().item() == pytest.approx(impl.generator(scores).item(), rel=1e-6)


@pytest.mark.parametrize("name", ["ns-gan", "wgan", "hinge"])
def test_phi_slope_is_phis_derivative_and_the_loss_is_made_of_phi(name):
    # Scores on both sides of the hinge's kink, and exactly at it (autograd's side: relu'(0) = 0).
    x = torch.tensor([-3.0, -1.0, -0.3, 0.0, 0.2, 1.0, 2.5], dtype=torch.float64, requires_grad=True)
    impl = loss(name)
    (want,) = torch.autograd.grad(impl.phi(x).sum(), x)
    torch.testing.assert_close(impl.phi_slope(x.detach()), want, rtol=1e-12, atol=0)
    d_real, d_fake = x[:4].detach(), x[3:].detach()
    expected = impl.phi(-d_real).mean() + impl.phi(d_fake).mean()
    assert impl.discriminator(d_real, d_fake).item() == pytest.approx(expected.item(), rel=1e-12)


@pytest.mark.parametrize("name", ["ns-gan", "wgan", "hinge"])
def test_discriminator_of_stacked_scores_is_each_members_loss(name):
    # An ensemble's (members, batch) scores give one loss per member, each the loss of its own batch.
    d_real, d_fake = torch.randn(3, 5), torch.randn(3, 5)
    impl = loss(name)
    per_member = impl.discriminator(d_real, d_fake)
    assert per_member.shape == (3,)
    for i in range(3):
        assert per_member[i].item() == pytest.approx(impl.discriminator(d_real[i], d_fake[i]).item(), rel=1e-6)

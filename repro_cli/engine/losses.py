"""GAN losses, registered by name. D always returns raw scores (logits); a loss with a sigmoid
link applies it itself, in the numerically stable `softplus` form.

A loss is a factory returning an object with
  discriminator(d_real, d_fake) -> scalar   (what D minimises)
  generator(d_fake) -> scalar               (what G minimises)
  has_probability                           (whether D's output has a probability reading)
The registered losses are per-sample losses (PerSampleLoss): D minimises mean φ(−D(x)) + mean φ(D(G(z)))
for one function φ whose derivative is given too, so that an ensemble gets every member's loss and
its gradient w.r.t. D's scores without autograd (engine/closed_form.py; tests/engine/test_losses.py
checks φ′ against autograd).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from repro_cli.registries import LOSSES


class PerSampleLoss:
    """D minimises mean φ(−D(x)) + mean φ(D(G(z))): one function φ, applied to minus the score of
    a real sample and to the score of a fake one."""

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def phi_slope(self, x: torch.Tensor) -> torch.Tensor:
        """φ′ as a new tensor (where φ has a kink, the side autograd takes)."""
        raise NotImplementedError

    def discriminator(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """Means over the last dimension: a scalar for a batch of scores, one loss per member for
        an ensemble's (members, batch) scores."""
        return self.phi(-d_real).mean(-1) + self.phi(d_fake).mean(-1)


class NonSaturatingGAN(PerSampleLoss):
    """Goodfellow's GAN with the non-saturating G loss −log D(G(z)), as in the 0-GP authors' code
    (BCE on a sigmoid output for both players): BCE(D(x),1) + BCE(D(G(z)),0) is
    softplus(−l_real) + softplus(l_fake), so φ = softplus and φ′ = sigmoid."""

    has_probability = True

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(x)

    def phi_slope(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(-d_fake).mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        """Per-point G loss −log D(x); its negative gradient is the direction G's samples move."""
        return F.softplus(-d)


class WGAN(PerSampleLoss):
    """Wasserstein critic loss −mean D(x) + mean D(G(z)) (φ the identity); the critic's raw output
    has no probability reading."""

    has_probability = False

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def phi_slope(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(x)

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return -d_fake.mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        return -d


class Hinge(PerSampleLoss):
    """Hinge loss of SNGAN/BSSN: D minimises relu(1−D(x)) + relu(1+D(G(z))) (φ = relu(1 + ·)),
    G minimises −D(G(z))."""

    has_probability = False

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 + x)

    def phi_slope(self, x: torch.Tensor) -> torch.Tensor:
        return (x > -1.0).to(x.dtype)  # relu's derivative is 0 at 0, as autograd takes it

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return -d_fake.mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        return -d


@LOSSES.register("ns-gan")
def ns_gan() -> NonSaturatingGAN:
    return NonSaturatingGAN()


@LOSSES.register("wgan")
def wgan() -> WGAN:
    return WGAN()


@LOSSES.register("hinge")
def hinge() -> Hinge:
    return Hinge()


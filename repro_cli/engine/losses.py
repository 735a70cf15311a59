"""GAN losses, registered by name. D always returns raw scores (logits); a loss with a sigmoid
link applies it itself, in the numerically stable `logsigmoid` form.

A loss is a factory returning an object with
  discriminator(d_real, d_fake) -> scalar   (what D minimises)
  generator(d_fake) -> scalar               (what G minimises)
  has_probability                           (whether D's output has a probability reading)
The registered losses are per-sample losses (PerSampleLoss): D's loss is the mean of a term per real
score plus the mean of a term per fake score, and the terms' derivatives are given too, so that an
ensemble gets every member's loss and its gradient w.r.t. D's scores without autograd
(engine/closed_form.py; tests/engine/test_losses.py checks the derivatives against autograd).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from repro_cli.registries import LOSSES


class PerSampleLoss:
    """D minimises mean(real_term(D(x))) + mean(fake_term(D(G(z))))."""

    def discriminator(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """Means over the last dimension: a scalar for a batch of scores, one loss per member for
        an ensemble's (members, batch) scores."""
        real, fake = self.discriminator_terms(d_real, d_fake)
        return real.mean(-1) + fake.mean(-1)

    def discriminator_terms(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def discriminator_slopes(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each term's derivative w.r.t. its own score (where a term has a kink, the side autograd takes)."""
        raise NotImplementedError


class NonSaturatingGAN(PerSampleLoss):
    """Goodfellow's GAN with the non-saturating G loss −log D(G(z)), as in the 0-GP authors' code
    (BCE on a sigmoid output for both players)."""

    has_probability = True

    def discriminator_terms(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # BCE(D(x),1) + BCE(D(G(z)),0) == softplus(-l_real) + softplus(l_fake)
        return F.softplus(-d_real), F.softplus(d_fake)

    def discriminator_slopes(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return -torch.sigmoid(-d_real), torch.sigmoid(d_fake)

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(-d_fake).mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        """Per-point G loss −log D(x); its negative gradient is the direction G's samples move."""
        return F.softplus(-d)


class WGAN(PerSampleLoss):
    """Wasserstein critic loss; the critic's raw output has no probability reading."""

    has_probability = False

    def discriminator_terms(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return -d_real, d_fake

    def discriminator_slopes(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.full_like(d_real, -1.0), torch.ones_like(d_fake)

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return -d_fake.mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        return -d


class Hinge(PerSampleLoss):
    """Hinge loss of SNGAN/BSSN: D minimises relu(1−D(x)) + relu(1+D(G(z))), G minimises −D(G(z))."""

    has_probability = False

    def discriminator_terms(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.relu(1.0 - d_real), F.relu(1.0 + d_fake)

    def discriminator_slopes(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # relu's derivative is 0 at 0, as autograd takes it
        return -(d_real < 1.0).to(d_real.dtype), (d_fake > -1.0).to(d_fake.dtype)

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


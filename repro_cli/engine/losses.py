"""GAN losses, registered by name. D always returns raw scores (logits); a loss with a sigmoid
link applies it itself, in the numerically stable `logsigmoid` form.

A loss is a factory returning an object with
  discriminator(d_real, d_fake) -> scalar   (what D minimises)
  generator(d_fake) -> scalar               (what G minimises)
  has_probability                           (whether D's output has a probability reading)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from repro_cli.registries import LOSSES


class NonSaturatingGAN:
    """Goodfellow's GAN with the non-saturating G loss −log D(G(z)), as in the 0-GP authors' code
    (BCE on a sigmoid output for both players)."""

    has_probability = True

    def discriminator(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        # BCE(D(x),1) + BCE(D(G(z)),0) == softplus(-l_real) + softplus(l_fake)
        return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(-d_fake).mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        """Per-point G loss −log D(x); its negative gradient is the direction G's samples move."""
        return F.softplus(-d)


class WGAN:
    """Wasserstein critic loss; the critic's raw output has no probability reading."""

    has_probability = False

    def discriminator(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return d_fake.mean() - d_real.mean()

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return -d_fake.mean()

    @staticmethod
    def generator_potential(d: torch.Tensor) -> torch.Tensor:
        return -d


class Hinge:
    """Hinge loss of SNGAN/BSSN: D minimises relu(1−D(x)) + relu(1+D(G(z))), G minimises −D(G(z))."""

    has_probability = False

    def discriminator(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()

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


"""SNGAN's "standard CNN" G and D (Miyato et al. 2018, Table 3), as in the BSSN authors' code
(`no_gamma-CNN/gan/network.py`). The spatial size follows the data: 32 (CIFAR-10), 48 (STL-10), 64.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from repro_cli.config.validate import Range
from repro_cli.errors import ConfigError
from repro_cli.registries import MODELS


def _check_square(shape: tuple[int, ...], what: str) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] % 8:
        raise ConfigError(f"{what}: needs square C×H×W images with H divisible by 8 (32, 48, 64), got {shape}")
    return shape[0], shape[1]


class SNGANCNNGenerator(nn.Module):
    """z -> linear mg·mg·512 -> BN-ReLU -> 3× [deconv 4×4 s2 (256, 128, 64), BN, ReLU] -> deconv 3×3 -> tanh."""

    output_range = (-1.0, 1.0)  # tanh output

    def __init__(self, out_shape: tuple[int, ...], z_dim: int, width: int):
        super().__init__()
        channels, size = _check_square(out_shape, "generator")
        self.z_dim, self.start, self.width = z_dim, size // 8, width
        self.fc = nn.Linear(z_dim, self.start * self.start * width)
        blocks: list[nn.Module] = [nn.BatchNorm2d(width, eps=1e-5, momentum=0.1), nn.ReLU()]
        c = width
        for _ in range(3):
            blocks += [nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        blocks += [nn.ConvTranspose2d(c, channels, 3, stride=1, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*blocks)
        for m in self.modules():  # the authors' N(0, 0.02²) init of every (de)conv and linear layer
            if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(z.shape[0], self.width, self.start, self.start))


class SNGANCNNDiscriminator(nn.Module):
    """conv3×3 64 -> conv4×4 s2 64 -> 3×3 128 -> 4×4 s2 128 -> 3×3 256 -> 4×4 s2 256 -> 3×3 512 -> linear 1,
    LReLU(0.1) after every conv, 'SAME' padding, zero biases."""

    def __init__(self, in_shape: tuple[int, ...], slope: float):
        super().__init__()
        channels, size = _check_square(in_shape, "discriminator")
        self.in_shape = tuple(in_shape)
        layers: list[nn.Module] = []
        c = channels
        for out in (64, 128, 256):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.LeakyReLU(slope), nn.Conv2d(out, out, 4, stride=2, padding=1), nn.LeakyReLU(slope)]
            c = out
        layers += [nn.Conv2d(c, 512, 3, padding=1), nn.LeakyReLU(slope)]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(512 * (size // 8) ** 2, 1)
        for m in self.modules():  # TruncNormal(0.02) convs, N(0, 0.02²) linear, zero biases
            if isinstance(m, nn.Conv2d):
                nn.init.trunc_normal_(m.weight, 0.0, 0.02, -0.04, 0.04)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1)).squeeze(1)


@MODELS.register("sngan-cnn-generator")
def sngan_cnn_generator(
    *,
    out_shape: tuple[int, ...],
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 128,
    width: Annotated[int, Range(ge=8, le=4096)] = 512,
) -> SNGANCNNGenerator:
    return SNGANCNNGenerator(out_shape, z_dim, width)


@MODELS.register("sngan-cnn-discriminator")
def sngan_cnn_discriminator(
    *,
    in_shape: tuple[int, ...],
    slope: Annotated[float, Range(ge=0, lt=1)] = 0.1,
) -> SNGANCNNDiscriminator:
    return SNGANCNNDiscriminator(in_shape, slope)

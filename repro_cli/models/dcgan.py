"""The DCGAN-style nets of the EPFL report's CIFAR-10 runs of the 0-GP paper (report Section IV-D):
G: 4×4 deconvs 512 -> 256 -> 128 -> 3 with ReLU and an output tanh; D: 4×4 convs 128 -> 256 -> 512 -> 1
with ReLU (the report's sigmoid lives in the ns-gan loss). Batch norm, z_dim 100 and the N(0, 0.02²)
init are DCGAN's conventions; the report does not state them, so `batch_norm` can turn BN off."""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from repro_cli.config.validate import Range
from repro_cli.errors import ConfigError
from repro_cli.registries import MODELS


def _dcgan_init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)


def _check_32(shape: tuple[int, ...], what: str) -> None:
    if tuple(shape[1:]) != (32, 32):
        raise ConfigError(f"{what}: the DCGAN nets are built for 32×32 images, the data are {shape}")


class DCGANGenerator(nn.Module):
    output_range = (-1.0, 1.0)  # tanh output

    def __init__(self, out_shape: tuple[int, ...], z_dim: int, batch_norm: bool):
        super().__init__()
        _check_32(out_shape, "generator")
        self.z_dim = z_dim
        norm = nn.BatchNorm2d if batch_norm else (lambda c: nn.Identity())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 512, 4, 1, 0, bias=not batch_norm), norm(512), nn.ReLU(),  # 4×4
            nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=not batch_norm), norm(256), nn.ReLU(),  # 8×8
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=not batch_norm), norm(128), nn.ReLU(),  # 16×16
            nn.ConvTranspose2d(128, out_shape[0], 4, 2, 1), nn.Tanh(),  # 32×32
        )
        _dcgan_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], batch_norm: bool):
        super().__init__()
        _check_32(in_shape, "discriminator")
        self.in_shape = tuple(in_shape)
        norm = nn.BatchNorm2d if batch_norm else (lambda c: nn.Identity())
        self.net = nn.Sequential(
            nn.Conv2d(in_shape[0], 128, 4, 2, 1), nn.ReLU(),  # 16×16 (no BN on the input layer, as DCGAN)
            nn.Conv2d(128, 256, 4, 2, 1), norm(256), nn.ReLU(),  # 8×8
            nn.Conv2d(256, 512, 4, 2, 1), norm(512), nn.ReLU(),  # 4×4
            nn.Conv2d(512, 1, 4, 1, 0),  # 1×1 logit
        )
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


@MODELS.register("dcgan-generator")
def dcgan_generator(*, out_shape: tuple[int, ...], z_dim: Annotated[int, Range(ge=1, le=4096)] = 100,
                    batch_norm: bool = True) -> DCGANGenerator:
    return DCGANGenerator(out_shape, z_dim, batch_norm)


@MODELS.register("dcgan-discriminator")
def dcgan_discriminator(*, in_shape: tuple[int, ...], batch_norm: bool = True) -> DCGANDiscriminator:
    return DCGANDiscriminator(in_shape, batch_norm)

"""SNGAN's unconditional CIFAR-10 ResNet (Miyato et al. 2018, Table 4; `sngan_projection`'s
`resnet_32`): G with three up-blocks of 256 channels, D with an optimised first block, one more
down-block and two plain blocks of 128 channels, ReLU, global sum pooling, linear -> 1."""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from repro_cli.config.validate import Range
from repro_cli.errors import ConfigError
from repro_cli.registries import MODELS


class UpBlock(nn.Module):
    """BN-ReLU-upsample-conv3×3-BN-ReLU-conv3×3, shortcut upsample-conv1×1."""

    def __init__(self, c: int):
        super().__init__()
        self.bn1, self.conv1, self.bn2, self.conv2 = nn.BatchNorm2d(c), nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.Conv2d(c, c, 3, padding=1)
        self.shortcut = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv1(F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest"))
        return self.conv2(F.relu(self.bn2(h))) + self.shortcut(up)


class DownBlock(nn.Module):
    """[ReLU]-conv3×3-ReLU-conv3×3-[avgpool], shortcut conv1×1-[avgpool] (identity when shapes match).
    The optimised first block has no leading ReLU and pools before its shortcut conv."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if (down or c_in != c_out) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.shortcut is None:
            return h + x
        s = self.shortcut(F.avg_pool2d(x, 2)) if self.first else F.avg_pool2d(self.shortcut(x), 2) if self.down else self.shortcut(x)
        return h + s


class SNGANResNetGenerator(nn.Module):
    output_range = (-1.0, 1.0)  # tanh output

    def __init__(self, out_shape: tuple[int, ...], z_dim: int, width: int):
        super().__init__()
        if tuple(out_shape[1:]) != (32, 32):
            raise ConfigError(f"generator: sngan-resnet-generator makes 32×32 images, the data are {out_shape}")
        self.z_dim, self.width = z_dim, width
        self.fc = nn.Linear(z_dim, 4 * 4 * width)
        self.blocks = nn.Sequential(UpBlock(width), UpBlock(width), UpBlock(width))
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, out_shape[0], 3, padding=1), nn.Tanh())
        for m in self.modules():  # Glorot-uniform as in Miyato's code
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.fc(z).view(z.shape[0], self.width, 4, 4)))


class SNGANResNetDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], width: int):
        super().__init__()
        if tuple(in_shape[1:]) != (32, 32):
            raise ConfigError(f"discriminator: sngan-resnet-discriminator takes 32×32 images, the data are {in_shape}")
        self.in_shape = tuple(in_shape)
        self.blocks = nn.Sequential(DownBlock(in_shape[0], width, down=True, first=True), DownBlock(width, width, down=True),
                                    DownBlock(width, width, down=False), DownBlock(width, width, down=False))
        self.fc = nn.Linear(width, 1)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.relu(self.blocks(x)).sum(dim=(2, 3))).squeeze(1)


@MODELS.register("sngan-resnet-generator")
def sngan_resnet_generator(
    *,
    out_shape: tuple[int, ...],
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 128,
    width: Annotated[int, Range(ge=1, le=4096)] = 256,
) -> SNGANResNetGenerator:
    return SNGANResNetGenerator(out_shape, z_dim, width)


@MODELS.register("sngan-resnet-discriminator")
def sngan_resnet_discriminator(
    *,
    in_shape: tuple[int, ...],
    width: Annotated[int, Range(ge=1, le=4096)] = 128,
) -> SNGANResNetDiscriminator:
    return SNGANResNetDiscriminator(in_shape, width)

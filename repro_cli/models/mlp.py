"""Fully connected G and D: the 0-GP authors' 2-D nets, optimal-D net and MNIST MLPs."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from torch import nn

from repro_cli.config.validate import Range
from repro_cli.registries import BATCHED_FORMS, MODELS

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "lrelu": lambda: nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid}
Activation = Literal["relu", "tanh", "lrelu"]
OutputActivation = Literal["none", "tanh", "sigmoid"]
OUTPUT_RANGES = {"none": None, "tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # what G can produce


def mlp(d_in: int, d_out: int, hidden: int, layers: int, activation: str) -> nn.Sequential:
    """`layers` hidden layers of width `hidden`, each followed by `activation`, then a linear map."""
    widths = [d_in] + [hidden] * layers
    blocks: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        blocks += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    blocks.append(nn.Linear(widths[-1], d_out))
    return nn.Sequential(*blocks)


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden: int, layers: int, activation: str, output: str):
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        self.net = mlp(z_dim, math.prod(out_shape), hidden, layers, activation)
        self.output = nn.Identity() if output == "none" else ACTIVATIONS[output]()
        self.output_range = OUTPUT_RANGES[output]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.output(self.net(z)).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], hidden: int, layers: int, activation: str):
        super().__init__()
        self.net = mlp(math.prod(in_shape), 1, hidden, layers, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


@MODELS.register("mlp-generator")
def mlp_generator(
    *,
    out_shape: tuple[int, ...],
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 2,
    hidden: Annotated[int, Range(ge=1, le=65_536)] = 64,
    layers: Annotated[int, Range(ge=1, le=64)] = 3,
    activation: Activation = "relu",
    output: OutputActivation = "none",
) -> MLPGenerator:
    """MLP G: z -> hidden×layers -> data. `output` is the last nonlinearity (the 0-GP authors use
    none; the EPFL report recommends tanh for images)."""
    return MLPGenerator(z_dim, out_shape, hidden, layers, activation, output)


@MODELS.register("mlp-discriminator")
def mlp_discriminator(
    *,
    in_shape: tuple[int, ...],
    hidden: Annotated[int, Range(ge=1, le=65_536)] = 64,
    layers: Annotated[int, Range(ge=1, le=64)] = 3,
    activation: Activation = "relu",
) -> MLPDiscriminator:
    """MLP D: data -> hidden×layers -> one logit (the sigmoid of the authors' code lives in the loss)."""
    return MLPDiscriminator(in_shape, hidden, layers, activation)


# --- batched forms: N members' stacked parameters at once (the vectorised ensemble) -------------
def _batched_sequential(net: nn.Sequential, params: dict[str, torch.Tensor], prefix: str, h: torch.Tensor) -> torch.Tensor:
    """`net` (Linear layers and elementwise activations) on h of shape (members, batch, features),
    each member with its own slice of the stacked weights: one baddbmm per layer for all members,
    several times cheaper on small nets than vmap over functional_call (benchmarks/run.py)."""
    for name, layer in net.named_children():
        if isinstance(layer, nn.Linear):
            weight, bias = params[f"{prefix}{name}.weight"], params[f"{prefix}{name}.bias"]
            h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
        else:
            h = layer(h)  # elementwise: the same module the serial net applies
    return h


@BATCHED_FORMS.register("mlp-discriminator")
def batched_mlp_discriminator(module: MLPDiscriminator, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return _batched_sequential(module.net, params, "net.", x.flatten(2)).squeeze(-1)


@BATCHED_FORMS.register("mlp-generator")
def batched_mlp_generator(module: MLPGenerator, params: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    out = module.output(_batched_sequential(module.net, params, "net.", z))
    return out.view(z.shape[0], z.shape[1], *module.out_shape)


batched_mlp_discriminator.module_type = MLPDiscriminator
batched_mlp_generator.module_type = MLPGenerator

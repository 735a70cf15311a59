"""Optimisers by name: (parameters, lr, betas) -> torch optimiser."""

from __future__ import annotations

import torch

from repro_cli.registries import OPTIMIZERS


@OPTIMIZERS.register("adam")
def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, betas=betas)


@OPTIMIZERS.register("sgd")
def sgd(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Plain SGD without momentum: the 0-GP authors' 2-D default (betas are ignored)."""
    return torch.optim.SGD(params, lr=lr)


@OPTIMIZERS.register("rmsprop")
def rmsprop(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """RMSprop as in GAN_stability's ImageNet config (betas are ignored)."""
    return torch.optim.RMSprop(params, lr=lr)

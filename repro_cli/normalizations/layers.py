"""What every normalisation shares: which layers it touches and how their σ are read back."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize

Normalize = Callable[[nn.Module], nn.Module]
# D's weight layers (SN/BSSN normalise every conv and the final linear layer); G is never normalised.
NORMALIZED_LAYERS = (nn.Linear, nn.Conv2d)


def l2_normalize(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return x / x.norm().clamp_min(eps)


def parametrize_weights(model: nn.Module, make: Callable[[nn.Module], nn.Module]) -> nn.Module:
    """Register `make(layer)` as the parametrization of every normalised layer's weight."""
    for module in list(model.modules()):
        if isinstance(module, NORMALIZED_LAYERS):
            parametrize.register_parametrization(module, "weight", make(module))
    return model


def normalized_layers(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """(layer name, parametrization) of each layer whose weight carries one of our normalisations."""
    for name, module in model.named_modules():
        if parametrize.is_parametrized(module, "weight"):
            for p in module.parametrizations.weight:
                if hasattr(p, "last_sigmas"):
                    yield name, p

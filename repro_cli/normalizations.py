"""Weight normalisations applied to D's layers, registered in `registries.NORMALIZATIONS`.

A normalisation factory takes its recipe parameters and returns a function that modifies a model
in place (and returns it). They are `torch.nn.utils.parametrize` parametrizations, so they compose
with any module and survive `state_dict` round trips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from torch import nn

from repro_cli.config.validate import Range
from repro_cli.registries import NORMALIZATIONS

Normalize = Callable[[nn.Module], nn.Module]
NORMALIZED_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


@NORMALIZATIONS.register("none")
def no_normalization() -> Normalize:
    return lambda model: model


@NORMALIZATIONS.register("sn")
def spectral_norm(*, n_power_iterations: Annotated[int, Range(ge=1, le=100)] = 1) -> Normalize:
    """Miyato's SN as PyTorch implements it: W reshaped to (out, in·k·k), persistent u, one power
    iteration per training forward, u and v treated as constants in the gradient."""

    def apply(model: nn.Module) -> nn.Module:
        for module in list(model.modules()):
            if isinstance(module, NORMALIZED_LAYERS):
                nn.utils.parametrizations.spectral_norm(module, n_power_iterations=n_power_iterations)
        return model

    return apply

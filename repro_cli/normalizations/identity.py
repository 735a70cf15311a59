"""No normalisation (the 0-GP recipes and the unnormalised baseline)."""

from torch import nn

from repro_cli.normalizations.layers import Normalize
from repro_cli.registries import NORMALIZATIONS


@NORMALIZATIONS.register("none")
def no_normalization() -> Normalize:
    def apply(model: nn.Module) -> nn.Module:
        return model

    return apply

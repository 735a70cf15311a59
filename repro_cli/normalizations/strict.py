"""Strict SN (SN_Conv): divide a convolution by its true operator norm as a linear map on feature maps
(Gouk et al. 2018, Farnia et al. 2019), not by σ of its reshaped kernel.

The norm depends on the layer's input size, stride and padding, so it is found by power iteration
with the convolution and its transpose on a persistent input-shaped vector u. Input sizes come from
one trace of D on a zero batch of `model.in_shape`. As in PyTorch's SN, u takes
`n_power_iterations` steps per training forward without gradient, and σ = ‖conv(u)‖ with u constant.
Dense layers have operator norm σ(W): they get matrix SN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro_cli.errors import ConfigError
from repro_cli.normalizations.layers import Normalize, l2_normalize, parametrize_weights
from repro_cli.normalizations.spectral import WARMUP_ITERATIONS, MatrixSpectralNorm, PowerIterations, fan_in_view
from repro_cli.registries import NORMALIZATIONS


class ConvOperatorNorm(nn.Module):
    def __init__(self, conv: nn.Conv2d, input_hw: tuple[int, int], n_power_iterations: int = 1):
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ConfigError("normalization: strict-sn supports convolutions with numeric zero padding only")
        self.geometry = {"stride": conv.stride, "padding": conv.padding, "dilation": conv.dilation, "groups": conv.groups}
        self.n_power_iterations = n_power_iterations
        self.last_sigmas: dict[str, torch.Tensor] = {}
        weight = conv.weight.detach()
        self.register_buffer("u", l2_normalize(weight.new_empty(1, conv.in_channels, *input_hw).normal_()))
        with torch.no_grad():
            self._power_iterations(weight, WARMUP_ITERATIONS)

    def conv(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, weight, None, **self.geometry)

    def conv_transpose(self, y: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """The adjoint of `conv` at the stored input size (output_padding resolved by autograd's helper)."""
        return torch.nn.grad.conv2d_input(self.u.shape, weight, y, **self.geometry)

    def _power_iterations(self, weight: torch.Tensor, n: int) -> None:
        for _ in range(n):
            self.u.copy_(l2_normalize(self.conv_transpose(l2_normalize(self.conv(self.u, weight)), weight)))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                self._power_iterations(weight.detach(), self.n_power_iterations)
        sigma = self.conv(self.u.clone(), weight).norm()
        self.last_sigmas = {"sigma": sigma.detach()}
        return weight / sigma


def conv_input_sizes(model: nn.Module) -> dict[nn.Conv2d, tuple[int, int]]:
    """Spatial input size of every Conv2d, from one forward pass on a zero batch of `model.in_shape`."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        return {}
    if not hasattr(model, "in_shape"):
        raise ConfigError(f"normalization: strict-sn needs the input size of {type(model).__name__}'s convolutions, "
                          "but the model does not declare its in_shape")
    sizes: dict[nn.Conv2d, tuple[int, int]] = {}

    def record(module: nn.Module, args: tuple) -> None:
        sizes.setdefault(module, tuple(args[0].shape[-2:]))

    hooks = [m.register_forward_pre_hook(record) for m in convs]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *model.in_shape, device=convs[0].weight.device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return sizes


@NORMALIZATIONS.register("strict-sn")
def strict_sn(*, n_power_iterations: PowerIterations = 1) -> Normalize:
    def apply(model: nn.Module) -> nn.Module:
        sizes = conv_input_sizes(model)

        def make(layer: nn.Module) -> nn.Module:
            if isinstance(layer, nn.Conv2d):
                return ConvOperatorNorm(layer, sizes[layer], n_power_iterations)
            return MatrixSpectralNorm(layer.weight, [fan_in_view], "pytorch", n_power_iterations)

        return parametrize_weights(model, make)

    return apply

"""The stacked MLP discriminator's weight gradients in closed form, gradient penalty included.

A gradient penalty differentiates D's input gradient, so autograd runs a double backward: on the
2-D recipes that is ~480 tiny operations per ensemble step, and their dispatch, not arithmetic, is
the cost. An MLP's backward and double backward can be written out by hand: one forward pass
that keeps its activations, the input gradient on the penalty rows, then one reverse pass that
carries both the loss seed and the penalty seed (~60 batched operations for all members at once).

Notation, per member (the leading dimension of every tensor), rows r and layers l = 0..L:
    a_l = h_l W_lᵀ + b_l,   h_{l+1} = act(a_l),   f = h_L W_Lᵀ + b_L      (h_0 = x, f the logit)
    input gradient of link(f):  v_L = u W_L with u = link'(f);  δ_l = v_{l+1} ⊙ act'(a_l);
                                v_l = δ_l W_l;  g = v_0 = ∂ link(f) / ∂x
`backward` takes ∂loss/∂f on every row and ∂loss/∂g on the penalty rows and returns ∂loss/∂W_l and
∂loss/∂b_l: the reverse of the input-gradient chain (the double backward), whose result at each
a_l and at f joins the ordinary backward through the forward pass.

tests/models/test_mlp_gradients.py checks every gradient against autograd's double backward.
"""

from __future__ import annotations

import torch
from torch import nn

from repro_cli.models.mlp import MLPDiscriminator
from repro_cli.registries import D_GRADIENT_FORMS


class _Tanh:
    """tanh' = 1 − h², tanh'' = −2h·tanh', both from the output h."""

    def __init__(self, module: nn.Module):
        pass

    @staticmethod
    def forward(a: torch.Tensor) -> torch.Tensor:
        # tanh(a) = 2·sigmoid(2a) − 1: torch's CPU tanh is ~4x slower than its sigmoid on these
        # sizes (scalar libm; benchmarks/closed_form.py), and the two agree to ~2e-7 absolutely.
        return torch.sigmoid(a.mul_(2)).mul_(2).sub_(1)

    def first(self, h: torch.Tensor) -> torch.Tensor:
        return 1 - h * h

    def second(self, h: torch.Tensor, first: torch.Tensor) -> torch.Tensor | None:
        return -2 * h * first


class _PiecewiseLinear:
    """ReLU and leaky ReLU: slope 1 where the output is positive, else the negative slope; no
    curvature (the second derivative is zero wherever it exists, as autograd takes it)."""

    def __init__(self, module: nn.Module):
        self.negative_slope = getattr(module, "negative_slope", 0.0)
        self.forward = module

    def first(self, h: torch.Tensor) -> torch.Tensor:
        positive = (h > 0).to(h.dtype)
        return positive if self.negative_slope == 0 else positive * (1 - self.negative_slope) + self.negative_slope

    def second(self, h: torch.Tensor, first: torch.Tensor) -> None:
        return None


ACTIVATION_DERIVATIVES = {nn.Tanh: _Tanh, nn.ReLU: _PiecewiseLinear, nn.LeakyReLU: _PiecewiseLinear}


@D_GRADIENT_FORMS.register("mlp-discriminator")
class MLPTape:
    """One forward pass of the stacked MLP D on x (members, rows, features), with what the
    closed-form backward needs. `scores` (members, rows) are D's logits."""

    module_type = MLPDiscriminator

    @staticmethod
    def supports(module: MLPDiscriminator) -> bool:
        """Every layer is Linear or an activation with registered derivatives."""
        return all(isinstance(layer, nn.Linear) or type(layer) in ACTIVATION_DERIVATIVES for layer in module.net)

    def __init__(self, module: MLPDiscriminator, params: dict[str, torch.Tensor], x: torch.Tensor):
        layers = list(module.net.named_children())
        self.linears = [(params[f"net.{name}.weight"], params[f"net.{name}.bias"]) for name, layer in layers if isinstance(layer, nn.Linear)]
        self.names = [f"net.{name}" for name, layer in layers if isinstance(layer, nn.Linear)]
        self.acts = [ACTIVATION_DERIVATIVES[type(layer)](layer) for _, layer in layers if not isinstance(layer, nn.Linear)]
        self.h = [x.flatten(2)]  # h_0 .. h_L
        self.slopes = []  # act'(a_l), every row
        for (weight, bias), act in zip(self.linears, self.acts):
            h = act.forward(_mm(self.h[-1], weight.transpose(1, 2)).add_(bias.unsqueeze(1)))
            self.h.append(h)
            self.slopes.append(act.first(h))
        weight, bias = self.linears[-1]
        self.scores = _mm(self.h[-1], weight.transpose(1, 2)).squeeze(-1) + bias

    def input_gradient(self, rows: slice, link_slope: torch.Tensor) -> torch.Tensor:
        """g = ∂ link(f) / ∂x on `rows` (members, len(rows), features), given u = link'(f) there."""
        self.rows, self.u = rows, link_slope.unsqueeze(-1)
        v = self.u * self.linears[-1][0]  # v_L (an outer product)
        self.v, self.deltas = [v], []
        for (weight, _), slope in zip(reversed(self.linears[:-1]), reversed(self.slopes)):
            delta = v * slope[:, rows]
            v = _mm(delta, weight)
            self.deltas.append(delta)
            self.v.append(v)
        self.deltas.reverse()  # δ_0 .. δ_{L-1}
        self.v.reverse()  # v_0 = g .. v_L
        return v

    def backward(self, score_grad: torch.Tensor, input_grad_seed: torch.Tensor | None = None,
                 link_curvature: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """∂loss/∂(each weight and bias), given ∂loss/∂f (members, rows) on every row and, after
        `input_gradient`, ∂loss/∂g on its rows and link''(f) there (None for a linear link).
        The double backward's share of ∂loss/∂f is added into `score_grad` in place."""
        rows, L = getattr(self, "rows", None), len(self.linears) - 1
        grads: dict[str, torch.Tensor] = {}
        extra_a = [None] * L  # the double backward's contribution at each a_l (penalty rows)
        score_grad = score_grad.unsqueeze(-1)
        if input_grad_seed is not None:
            v_bar = input_grad_seed  # ∂loss/∂v_0
            for l, (weight, _) in enumerate(self.linears[:-1]):
                grads[f"{self.names[l]}.weight"] = _mm(self.deltas[l].transpose(1, 2), v_bar)
                delta_bar = _mm(v_bar, weight.transpose(1, 2))
                slope = self.slopes[l][:, rows]
                v_bar = delta_bar * slope  # ∂loss/∂v_{l+1}
                curvature = self.acts[l].second(self.h[l + 1][:, rows], slope)
                if curvature is not None:
                    extra_a[l] = delta_bar.mul_(self.v[l + 1]).mul_(curvature)
            weight_out = self.linears[-1][0]
            grads[f"{self.names[L]}.weight"] = _mm(self.u.transpose(1, 2), v_bar)
            if link_curvature is not None:
                u_bar = _mm(v_bar, weight_out.transpose(1, 2))
                score_grad[:, rows] += u_bar * link_curvature.unsqueeze(-1)
        # The ordinary backward through the forward pass, joined by the extra terms.
        weight_out = self.linears[-1][0]
        _accumulate(grads, f"{self.names[L]}.weight", _mm(score_grad.transpose(1, 2), self.h[L]))
        grads[f"{self.names[L]}.bias"] = score_grad.sum(1)
        h_bar = score_grad * weight_out  # an outer product
        for l in reversed(range(L)):
            a_bar = h_bar.mul_(self.slopes[l])
            if extra_a[l] is not None:
                a_bar[:, rows] += extra_a[l]
            _accumulate(grads, f"{self.names[l]}.weight", _mm(a_bar.transpose(1, 2), self.h[l]))
            grads[f"{self.names[l]}.bias"] = a_bar.sum(1)
            if l:
                h_bar = _mm(a_bar, self.linears[l][0])
        return grads


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched a @ b, contiguous. A narrow product (fewer columns than rows: a 2-D net's input
    layer, the logit layer) runs several times faster as (bᵀ aᵀ)ᵀ in MKL's batched gemm."""
    if b.shape[-1] < a.shape[-2]:
        return torch.bmm(b.transpose(1, 2), a.transpose(1, 2)).transpose(1, 2).contiguous()
    return torch.bmm(a, b)


def _accumulate(grads: dict[str, torch.Tensor], name: str, value: torch.Tensor) -> None:
    grads[name] = grads[name].add_(value) if name in grads else value

"""The stacked MLP discriminator's weight gradients in closed form, gradient penalty included.

A gradient penalty differentiates D's input gradient, so autograd runs a double backward: on the
2-D recipes that is ~480 tiny operations per ensemble step, and their dispatch, not arithmetic, is
the cost. An MLP's backward and double backward can be written out by hand: one forward pass
that keeps its activations, the input gradient on the penalty rows, then one reverse pass that
carries both the loss seed and the penalty seed (~90 batched operations per D step for all members).
At this size every operation's dispatch costs about as much as its arithmetic, so the code is
written for few operations: the layer structure and the weights' transposed views are read once
(the optimiser updates the stacked weights in place, so the views stay current), biases and
scales ride inside baddbmm/addcmul, and gradients accumulate into buffers kept across steps.

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
    """tanh(a) = 2·sigmoid(2a) − 1 (torch's CPU tanh is ~4x slower than its sigmoid at these sizes;
    the two agree to ~2e-7 absolutely). The 2 of 2a is folded into the layer's baddbmm."""

    pre_scale = 2.0
    curvature_scale = -2.0  # tanh'' = −2·h·tanh'

    def __init__(self, module: nn.Module):
        pass

    @staticmethod
    def forward(scaled_a: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid_(scaled_a).mul_(2).sub_(1)

    @staticmethod
    def first(h: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(_ONE, h, h, value=-1)  # 1 − h²

    @staticmethod
    def curvature(h: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
        """act''(a) / curvature_scale."""
        return h * first


class _PiecewiseLinear:
    """ReLU and leaky ReLU: slope 1 where the output is positive, else the negative slope; no
    curvature (the second derivative is zero wherever it exists, as autograd takes it)."""

    pre_scale = 1.0
    curvature = None

    def __init__(self, module: nn.Module):
        self.negative_slope = getattr(module, "negative_slope", 0.0)
        self.forward = module

    def first(self, h: torch.Tensor) -> torch.Tensor:
        # From the output h: sign(h) is 1 where h > 0 and 0 at 0 (ReLU); leaky ReLU's negative
        # outputs give −1, raised to the slope (as is 0: autograd takes the negative side there).
        # Two float passes, several times cheaper than a bool mask converted to floats.
        slope = torch.sign(h)
        return slope if self.negative_slope == 0 else slope.clamp_(min=self.negative_slope)


ACTIVATION_DERIVATIVES = {nn.Tanh: _Tanh, nn.ReLU: _PiecewiseLinear, nn.LeakyReLU: _PiecewiseLinear}
_ONE = torch.ones(())


@D_GRADIENT_FORMS.register("mlp-discriminator")
class MLPGradients:
    """The closed-form gradients of one stacked MLP D, its structure read once."""

    module_type = MLPDiscriminator

    @staticmethod
    def supports(module: MLPDiscriminator) -> bool:
        """Every layer is Linear or an activation with registered derivatives."""
        return all(isinstance(layer, nn.Linear) or type(layer) in ACTIVATION_DERIVATIVES for layer in module.net)

    def __init__(self, module: MLPDiscriminator, params: dict[str, torch.Tensor]):
        layers = list(module.net.named_children())
        names = [f"net.{name}" for name, layer in layers if isinstance(layer, nn.Linear)]
        self.acts = [ACTIVATION_DERIVATIVES[type(layer)](layer) for _, layer in layers if not isinstance(layer, nn.Linear)]
        # Detached views share the parameters' storage: current after every in-place update, and
        # outside autograd (these gradients are the ones autograd would compute).
        self.weights = [params[f"{n}.weight"].detach() for n in names]
        self.weights_t = [w.transpose(1, 2) for w in self.weights]
        self.bias_rows = [params[f"{n}.bias"].detach().unsqueeze(1) for n in names]
        self.grads = {name: torch.empty_like(p) for name, p in params.items()}
        self.grad_w = [self.grads[f"{n}.weight"] for n in names]
        self.grad_b = [self.grads[f"{n}.bias"] for n in names]
        self._first: dict[int, tuple[list, list, list]] = {}

    def first_members(self, k: int) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """The first k members' weights, transposed weights and weight gradients, as views (made
        once per k): the penalty chain runs on the members that have a penalty, placed first."""
        if k not in self._first:
            self._first[k] = ([w[:k] for w in self.weights], [w[:k] for w in self.weights_t], [g[:k] for g in self.grad_w])
        return self._first[k]

    def forward(self, x: torch.Tensor) -> "MLPTape":
        return MLPTape(self, x)


class MLPTape:
    """One forward pass on x (members, rows, features) with what the backward needs; `scores`
    (members, rows) are D's logits."""

    def __init__(self, net: MLPGradients, x: torch.Tensor):
        self.net = net
        self.h = [x.flatten(2)]  # h_0 .. h_L
        self.slopes = []  # act'(a_l), every row
        for weight_t, bias, act in zip(net.weights_t, net.bias_rows, net.acts):
            scale = act.pre_scale
            h = act.forward(torch.baddbmm(bias, self.h[-1], weight_t, beta=scale, alpha=scale))
            self.h.append(h)
            self.slopes.append(act.first(h))
        # f = h_L W_Lᵀ + b_L computed as W_L h_Lᵀ (one output column: MKL is several times
        # faster on the transposed, wide product).
        self.scores = torch.baddbmm(net.bias_rows[-1], net.weights[-1], self.h[-1].transpose(1, 2)).squeeze(1)

    def input_gradient(self, rows: slice, link_slope: torch.Tensor) -> torch.Tensor:
        """g = ∂ link(f) / ∂x on `rows` of the first k members (k, len(rows), features), given
        u = link'(f) there (k, len(rows))."""
        self.rows, self.u, k = rows, link_slope, link_slope.shape[0]
        weights = self.net.first_members(k)[0]
        self.penalty_slopes = [slope[:k, rows] for slope in self.slopes]  # backward reads them again
        v = link_slope.unsqueeze(-1) * weights[-1]  # v_L, an outer product
        self.v, self.deltas = [v], []
        for l in reversed(range(len(self.net.acts))):
            delta = v * self.penalty_slopes[l]
            v = _mm(delta, weights[l])
            self.deltas.append(delta)
            self.v.append(v)
        self.deltas.reverse()  # δ_0 .. δ_{L-1}
        self.v.reverse()  # v_0 = g .. v_L
        return v

    def backward(self, score_grad: torch.Tensor, input_grad_seed: torch.Tensor | None = None,
                 link_curvature: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """∂loss/∂(each weight and bias), given ∂loss/∂f (members, rows) on every row and, after
        `input_gradient`, ∂loss/∂g on its rows of its k members and link''(f) there (None for a
        linear link). The double backward's share of ∂loss/∂f is added into `score_grad` in place.
        The returned tensors are the net's buffers, overwritten by the next backward."""
        net, rows, L = self.net, getattr(self, "rows", None), len(self.net.acts)
        extra_a = [None] * L  # the double backward's contribution at each a_l (penalty rows)
        weight_terms = []  # its products (out, a, b): out += a @ b, the first k members' ∂loss/∂W_l
        if input_grad_seed is not None:
            k = input_grad_seed.shape[0]
            weights, weights_t, grad_w = net.first_members(k)
            v_bar = input_grad_seed  # ∂loss/∂v_0
            for l, act in enumerate(net.acts):
                weight_terms.append((grad_w[l], self.deltas[l].transpose(1, 2), v_bar))
                delta_bar = torch.bmm(v_bar, weights_t[l])
                slope = self.penalty_slopes[l]
                v_bar = delta_bar * slope  # ∂loss/∂v_{l+1}
                if act.curvature is not None:
                    extra_a[l] = delta_bar.mul_(self.v[l + 1]).mul_(act.curvature(self.h[l + 1][:k, rows], slope))
            weight_terms.append((grad_w[L], self.u.unsqueeze(1), v_bar))
            if link_curvature is not None:
                u_bar = torch.bmm(weights[L], v_bar.transpose(1, 2)).squeeze(1)  # as W_L v̄ᵀ, see scores
                score_grad[:k, rows].addcmul_(u_bar, link_curvature)
        # The ordinary backward through the forward pass, joined by the extra terms.
        torch.bmm(score_grad.unsqueeze(1), self.h[L], out=net.grad_w[L])
        torch.sum(score_grad, 1, keepdim=True, out=net.grad_b[L])
        h_bar = score_grad.unsqueeze(-1) * net.weights[L]  # an outer product
        for l in reversed(range(L)):
            a_bar = h_bar.mul_(self.slopes[l])
            if extra_a[l] is not None:
                a_bar[:k, rows].add_(extra_a[l], alpha=net.acts[l].curvature_scale)
            _mm_into(net.grad_w[l], a_bar.transpose(1, 2), self.h[l])
            torch.sum(a_bar, 1, out=net.grad_b[l])
            if l:
                h_bar = torch.bmm(a_bar, net.weights[l])
        for out, a, b in weight_terms:
            _mm_into(out, a, b, accumulate=True)
        return net.grads


def _narrow(a: torch.Tensor, b: torch.Tensor) -> bool:
    return b.shape[-1] < a.shape[-2]


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched a @ b. A narrow product (fewer columns than rows: a 2-D net's input layer) runs
    several times faster as (bᵀ aᵀ)ᵀ in MKL's batched gemm (returned as that transposed view)."""
    if _narrow(a, b):
        return torch.bmm(b.transpose(1, 2), a.transpose(1, 2)).transpose(1, 2)
    return torch.bmm(a, b)


def _mm_into(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, accumulate: bool = False) -> None:
    """out = a @ b (or out += a @ b), batched, with _mm's narrow-product rule."""
    if _narrow(a, b):
        out.add_(_mm(a, b)) if accumulate else out.copy_(_mm(a, b))
    elif accumulate:
        out.baddbmm_(a, b)
    else:
        torch.bmm(a, b, out=out)

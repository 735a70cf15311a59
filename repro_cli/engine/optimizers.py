"""Optimisers by name: (parameters, lr, betas) -> torch optimiser."""

from __future__ import annotations

import torch

from repro_cli.registries import OPTIMIZERS


def _fusable(params: list[torch.Tensor]) -> bool:
    """The fused kernels take floating-point tensors on CPU or CUDA."""
    return all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


@OPTIMIZERS.register("adam")
def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam with torch's fused single-kernel update where the parameters allow it: the same update
    rule as the per-tensor loop, about 2.5x faster on small CPU models (benchmarks/run.py)."""
    params = list(params)
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=_fusable(params) or None)


@OPTIMIZERS.register("sgd")
def sgd(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Plain SGD without momentum: the 0-GP authors' 2-D default (betas are ignored)."""
    return torch.optim.SGD(params, lr=lr)


@OPTIMIZERS.register("rmsprop")
def rmsprop(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """RMSprop as in GAN_stability's ImageNet config (betas are ignored)."""
    return torch.optim.RMSprop(params, lr=lr)


class FusedAdamStep:
    """`opt.step()` of a fused torch Adam, minus its per-call Python bookkeeping (hooks, profiler
    ranges, regrouping by device: ~0.4 ms per call, a tenth of a vectorised ensemble's step on
    the 2-D recipes). The same kernel, `torch._fused_adam_`, updates the same state tensors, so the
    optimiser's state_dict and later `opt.step()` calls see exactly what they would have. Anything
    but plain fused Adam on one device (and a step where a parameter has no gradient) goes
    through `opt.step()` unchanged."""

    def __init__(self, opt: torch.optim.Optimizer):
        self.opt = opt
        group = opt.param_groups[0] if len(opt.param_groups) == 1 else {}
        self.plain = (type(opt) is torch.optim.Adam and group.get("fused") and not group["amsgrad"] and not group["maximize"]
                      and not group["capturable"] and not group["differentiable"] and not group.get("decoupled_weight_decay")
                      and len({p.device for p in group["params"]}) == 1 and not opt._optimizer_step_pre_hooks
                      and not opt._optimizer_step_post_hooks)
        self.params = list(group["params"]) if self.plain else []

    def __call__(self) -> None:
        grads = [p.grad for p in self.params]
        state = self.opt.state
        if not self.plain or any(g is None for g in grads) or any(p not in state for p in self.params):
            self.opt.step()  # also creates the state on the first step
            return
        group = self.opt.param_groups[0]
        steps = [state[p]["step"] for p in self.params]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(self.params, grads, [state[p]["exp_avg"] for p in self.params], [state[p]["exp_avg_sq"] for p in self.params],
                           [], steps, amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                           eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)

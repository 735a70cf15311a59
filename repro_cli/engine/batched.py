"""N copies of one network trained at once: their parameters stacked along a new leading
dimension, and one batched forward on inputs of shape (N, batch, ...): the model's registered
batched form (BATCHED_FORMS, next to the model: e.g. one baddbmm per layer for an MLP) where it
has one, else torch.func.vmap over functional_call. Each member only ever sees its own slice, so gradients of a sum over members are
exactly each member's own gradients, and elementwise optimisers (SGD, Adam, RMSprop) on the stacked
tensors update every member as its own optimiser would.

Only stateless networks qualify: a module with buffers (spectral norm's u, batch norm's running
statistics) updates them in place during the forward, which vmap cannot split per member.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn.utils import parametrize

from repro_cli.registries import BATCHED_FORMS


class NotBatchable(Exception):
    """This recipe cannot be trained as a vectorised ensemble; train its seeds one at a time."""


# On a CPU, vectorising pays off only while per-step Python overhead dominates: the MNIST MLPs
# (~1.2M parameters per network) are already compute-bound and ran no faster as an ensemble
# (benchmarks/run.py), while the 2-D nets (~8.5k) gain several-fold. GPUs have no such limit here.
CPU_MAX_PARAMETERS = 100_000


def check_batchable(model: nn.Module, device: torch.device) -> None:
    """Raise NotBatchable unless copies of `model` can be (and are worth being) vectorised."""
    if any(True for _ in model.buffers()):
        raise NotBatchable(f"{type(model).__name__} has buffers (normalisation state), which vmap cannot split per member")
    size = sum(p.numel() for p in model.parameters())
    if device.type == "cpu" and size > CPU_MAX_PARAMETERS:
        raise NotBatchable(f"{type(model).__name__} has {size:,} parameters; on a CPU vectorising gains nothing above {CPU_MAX_PARAMETERS:,}")


def registered_form(registry, model: nn.Module):
    """The form registered in `registry` (BATCHED_FORMS, D_GRADIENT_FORMS) for exactly this model's
    class (None if it has none). A parametrised (re-normalised) model computes something else than
    its class's forward."""
    if any(parametrize.is_parametrized(m) for m in model.modules()):
        return None
    for name in registry.names():
        form = registry.get(name)
        if form.module_type is type(model):
            return form
    return None


class StackedModule:
    def __init__(self, members: list[nn.Module]):
        first = members[0]
        for m in members:
            if type(m) is not type(first) or [n for n, _ in m.named_parameters()] != [n for n, _ in first.named_parameters()]:
                raise NotBatchable("ensemble members have different architectures")
        self.members = members
        params, _ = stack_module_state(members)  # new leaf tensors, detached from the members
        self.params: dict[str, torch.Tensor] = params
        # A stateless copy whose parameters functional_call swaps for each member's slice.
        self.skeleton = copy.deepcopy(first).to("meta")
        form = registered_form(BATCHED_FORMS, first)
        self._forward = (lambda p, x: form(self.skeleton, p, x)) if form else vmap(lambda p, x: functional_call(self.skeleton, p, (x,)))

    def __call__(self, x: torch.Tensor, members: torch.Tensor | None = None) -> torch.Tensor:
        """x: (members, batch, ...). With `members` (indices), only those members' networks."""
        params = self.params if members is None else {k: v.index_select(0, members) for k, v in self.params.items()}
        return self._forward(params, x)

    def __getattr__(self, name: str):
        # Plain attributes of the architecture (e.g. a generator's z_dim).
        return getattr(self.members[0], name)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def requires_grad_(self, flag: bool) -> "StackedModule":
        for p in self.params.values():
            p.requires_grad_(flag)
        return self

    @torch.no_grad()
    def copy_to_member(self, index: int) -> None:
        """Write member `index`'s slice back into its own module (for evaluation and checkpoints)."""
        for name, p in self.members[index].named_parameters():
            p.copy_(self.params[name][index])


def copy_optimizer_state(stacked: torch.optim.Optimizer, member: torch.optim.Optimizer, index: int) -> None:
    """Give a member's own optimiser the state of its slice of the stacked optimiser, so the
    member's checkpoint is exactly what a serial run would save (and resumes serially)."""
    member_params = [p for group in member.param_groups for p in group["params"]]
    stacked_params = [p for group in stacked.param_groups for p in group["params"]]
    for mp, sp in zip(member_params, stacked_params, strict=True):
        if sp not in stacked.state:
            continue
        member.state[mp] = {
            key: (value[index].clone() if value.shape == sp.shape else value.clone()) if torch.is_tensor(value) else copy.deepcopy(value)
            for key, value in stacked.state[sp].items()
        }

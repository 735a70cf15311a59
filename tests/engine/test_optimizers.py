"""FusedAdamStep is opt.step() of fused Adam, bit for bit, and opt.step() itself for anything else."""

from __future__ import annotations

import torch

from repro_cli import registries as R
from repro_cli.engine.optimizers import FusedAdamStep


def _params(seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 4, 5, generator=g).requires_grad_(), torch.randn(3, 5, generator=g).requires_grad_()]


def _train(opt_name: str, fast: bool, steps: int = 4):
    params = _params(0)
    opt = R.OPTIMIZERS.get(opt_name)(params, lr=1e-2, betas=(0.5, 0.99))
    step = FusedAdamStep(opt) if fast else opt.step
    for t in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = sum(((p - t) ** 2).sum() * (i + 1) for i, p in enumerate(params))
        loss.backward()
        step()
    return params, opt


def test_fast_step_equals_adam_step_bit_for_bit():
    slow_params, slow_opt = _train("adam", fast=False)
    fast_params, fast_opt = _train("adam", fast=True)
    assert FusedAdamStep(fast_opt).plain
    for a, b in zip(slow_params, fast_params):
        assert torch.equal(a, b)
    slow_state, fast_state = slow_opt.state_dict()["state"], fast_opt.state_dict()["state"]
    for key in slow_state:
        assert float(fast_state[key]["step"]) == float(slow_state[key]["step"]) == 4.0
        assert torch.equal(slow_state[key]["exp_avg"], fast_state[key]["exp_avg"])
        assert torch.equal(slow_state[key]["exp_avg_sq"], fast_state[key]["exp_avg_sq"])


def test_other_optimisers_take_their_own_step():
    slow_params, _ = _train("sgd", fast=False)
    fast_params, opt = _train("sgd", fast=True)
    assert not FusedAdamStep(opt).plain
    for a, b in zip(slow_params, fast_params):
        assert torch.equal(a, b)

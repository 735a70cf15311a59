"""The vectorised ensemble must train each seed exactly as a serial Trainer does."""

from __future__ import annotations

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.batched import NotBatchable
from repro_cli.engine.ensemble import EnsembleTrainer
from repro_cli.engine.trainer import Trainer

SEEDS = [0, 3, 7]


def _assert_close_states(a: dict, b: dict) -> None:
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=lambda m: f"{key}: {m}")


# D-only + Adam + interpolates; G + SGD + penalty reusing the real forward; WGAN critic with n_dis=5 on logits.
@pytest.mark.parametrize("name,steps", [("gaussian-0gp", 6), ("8gaussians-0gp-sample", 4), ("8gaussians-wgan-gp", 2)])
def test_each_member_matches_its_serial_run(name, steps):
    recipe = load_recipe(name, [])
    ensemble = EnsembleTrainer(recipe, SEEDS)
    for _ in range(steps):
        stats = ensemble.step()
    for i in range(len(SEEDS)):
        ensemble.pull(i)
    for i, seed in enumerate(SEEDS):
        serial = Trainer(recipe, seed=seed)
        for _ in range(steps):
            serial_stats = serial.step()
        member = ensemble.members[i]
        assert member.iteration == serial.iteration == steps
        for key, value in serial_stats.items():
            torch.testing.assert_close(stats[key][i], value, rtol=1e-5, atol=1e-6)
        _assert_close_states(serial.D.state_dict(), member.D.state_dict())
        if serial.G is not None:
            _assert_close_states(serial.G.state_dict(), member.G.state_dict())
        serial_opt, member_opt = serial.opt_d.state_dict()["state"], member.opt_d.state_dict()["state"]
        assert serial_opt.keys() == member_opt.keys()
        for key in serial_opt:
            _assert_close_states(serial_opt[key], member_opt[key])
    # Members are genuinely different runs, not copies of one.
    assert not torch.allclose(stats["d_loss"][0], stats["d_loss"][1])


def test_stateful_discriminator_is_not_batchable():
    recipe = load_recipe("gaussian-0gp", ['normalization.name="sn"'])
    with pytest.raises(NotBatchable, match="buffers"):
        EnsembleTrainer(recipe, [0, 1])


def test_repeated_seeds_are_not_batchable():
    with pytest.raises(NotBatchable, match="repeated"):
        EnsembleTrainer(load_recipe("gaussian-0gp", []), [1, 1])


def test_large_networks_on_cpu_are_not_batchable():
    # The MNIST-sized MLP is compute-bound on a CPU: the ensemble is declined (and never built).
    recipe = load_recipe("8gaussians-0gp", ["discriminator.hidden=256"])
    with pytest.raises(NotBatchable, match="parameters"):
        EnsembleTrainer(recipe, [0, 1])

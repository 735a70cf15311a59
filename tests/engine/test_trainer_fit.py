"""The training loop's outcomes: divergence stops the run and keeps the last good checkpoint; the
best checkpoint follows train.best_metric / train.best_mode."""

from __future__ import annotations

import math

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.trainer import Trainer
from repro_cli.errors import RunDirError
from repro_cli.runs.checkpoint import list_checkpoints, load_latest
from repro_cli.runs.execute import execute
from repro_cli.runs.resume import resume

TINY = ["train.iterations=10", "train.batch_size=16", "train.log_every=5", "train.checkpoint_every=4",
        "eval.every=2", 'eval.metrics=[{name="modes-2d", n_samples=64}]']


def test_non_finite_loss_marks_run_diverged_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    step = Trainer.step

    def step_with_blowup(self):
        if self.iteration == 6:  # weights turn NaN before step 7, as after an exploding update
            with torch.no_grad():
                next(self.D.parameters()).fill_(math.nan)
        return step(self)

    monkeypatch.setattr(Trainer, "step", step_with_blowup)
    run = execute(load_recipe("8gaussians-0gp", TINY), 0, tmp_path, "cpu", [])
    info = run.info
    assert info["status"] == "diverged" and info["diverged_at"] == 7 and info["iteration"] == 7
    assert "non-finite d_loss" in info["error"] and "ckpt-000000004.pt" in info["error"]
    assert [i for i, _ in list_checkpoints(run)] == [4]  # nothing saved at or after the NaN
    state, _, _ = load_latest(run)
    assert all(torch.isfinite(v).all() for v in state["D"].values())
    assert run.records()[-1]["type"] == "diverged" and run.records()[-1]["iteration"] == 7
    with pytest.raises(RunDirError, match="diverged at iteration 7"):
        resume(run.path)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_best_checkpoint_follows_best_metric_and_mode(tmp_path, mode):
    # D's distance to the optimal D* moves every evaluation, so min and max pick different ones.
    recipe = load_recipe("gaussian-0gp", ["train.iterations=12", "train.log_every=6", "eval.every=2",
                                          'eval.metrics=[{name="value-surface", resolution=8, figure=false}]',
                                          "train.best_metric=d_dstar_distance", f"train.best_mode={mode}"])
    run = execute(recipe, 0, tmp_path, "cpu", [])
    values = [(r["value"], r["iteration"]) for r in run.records() if r.get("name") == "d_dstar_distance"]
    assert len(values) == 6 and len({v for v, _ in values}) == 6
    best_value, best_iteration = (max if mode == "max" else min)(values)
    assert run.info["best"] == {"metric": "d_dstar_distance", "mode": mode, "value": best_value, "iteration": best_iteration}
    state, path, _ = load_latest(run, "best")
    assert path.name == "ckpt-best.pt" and state["iteration"] == best_iteration and state["best"] == best_value

"""Exact resume: a run stopped by a real signal at iteration k and resumed ends bit-identical to an
uninterrupted run; corrupt checkpoints, changed recipes and busy/stale runs are handled."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.errors import RunDirError
from repro_cli.runs.checkpoint import list_checkpoints, load_state
from repro_cli.runs.execute import execute, train_run
from repro_cli.runs.resume import find_unfinished, resume
from repro_cli.runs.rundir import Run
from repro_cli.runs.signals import stop_on_signals

# A real GAN recipe (G, D, both optimisers, noise and penalty streams) cut down to seconds.
TINY = ["train.iterations=10", "train.batch_size=16", "train.log_every=1", "train.checkpoint_every=4",
        "eval.every=5", 'eval.metrics=[{name="modes-2d", n_samples=64}]']


def tiny_recipe(*extra):
    return load_recipe("8gaussians-0gp", TINY + list(extra))


def train(out, recipe=None, interrupt_at=None):
    """A run via the real signal handler: SIGUSR1 sent to ourselves right after iteration k."""
    def on_log(record):
        if record["iteration"] == interrupt_at:
            os.kill(os.getpid(), signal.SIGUSR1)

    with stop_on_signals() as stop:
        return execute(recipe or tiny_recipe(), 0, out, "cpu", [], on_log=on_log, stop=stop)


def finish(run_path, **kwargs):
    resumed = resume(run_path, **kwargs)
    with stop_on_signals() as stop:
        return train_run(resumed.run, resumed.trainer, stop=stop), resumed


def log_without_clock(run):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in run.records()]


def final_weights(run):
    state = load_state(list_checkpoints(run)[-1][1])
    return {f"{net}.{k}": v for net in ("G", "D") for k, v in state[net].items()}


def assert_identical(a, b):
    assert a.info["status"] == b.info["status"] == "completed"
    assert log_without_clock(a) == log_without_clock(b)
    wa, wb = final_weights(a), final_weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return train(tmp_path_factory.mktemp("uninterrupted"))


def test_interrupted_then_resumed_run_is_bit_identical(tmp_path, reference):
    stopped = train(tmp_path, interrupt_at=6)
    assert stopped.info["status"] == "preempted" and stopped.info["stopped_by"] == "SIGUSR1"
    assert stopped.info["iteration"] == 6 and list_checkpoints(stopped)[-1][0] == 6
    run, resumed = finish(stopped.path)
    assert resumed.checkpoint.name == "ckpt-000000006.pt"
    assert run.path == stopped.path and run.info["resumes"][0]["iteration"] == 6
    assert_identical(run, reference)


def test_corrupt_newest_checkpoint_falls_back_to_previous_and_replays(tmp_path, reference):
    stopped = train(tmp_path, interrupt_at=6)
    newest = list_checkpoints(stopped)[-1][1]
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated, e.g. the disk filled up
    run, resumed = finish(stopped.path)
    assert resumed.checkpoint.name == "ckpt-000000004.pt"
    assert "sha256" in resumed.warnings[0] and run.info["resumes"][0]["skipped_checkpoints"]
    # The log lines after iteration 4 were dropped and written again by the replay.
    assert_identical(run, reference)


def test_checkpoint_without_checksum_is_treated_as_unfinished(tmp_path):
    stopped = train(tmp_path, interrupt_at=6)
    newest = list_checkpoints(stopped)[-1][1]
    newest.with_name(newest.name + ".sha256").unlink()
    with pytest.raises(RunDirError, match="not finished"):
        load_state(newest)


def test_changed_recipe_is_refused_unless_forced_and_then_recorded(tmp_path):
    stopped = train(tmp_path, interrupt_at=6)
    with pytest.raises(RunDirError, match="--force"):
        resume(stopped.path, overrides=["optim.lr_d=1e-3"])
    assert stopped.state() == "preempted"  # the refusal left the run as it was, and unlocked
    run, _ = finish(stopped.path, overrides=["train.iterations=8"], force=True)
    change = run.info["resumes"][0]["recipe_change"]
    assert change["overrides"] == ["train.iterations=8"] and change["from"] != change["to"]
    assert run.info["status"] == "completed" and run.info["iteration"] == 8
    assert run.recipe().train.iterations == 8 and run.info["config_hash"] == change["to"]


def test_completed_run_is_not_resumed(reference):
    with pytest.raises(RunDirError, match="already completed"):
        resume(reference.path)


def test_running_run_cannot_be_resumed_twice_and_a_dead_one_is_stale(tmp_path):
    recipe = tiny_recipe()
    run = Run.create(tmp_path, recipe, 0, device="cpu", overrides=[])
    assert run.state() == "running" and Run(run.path).state() == "running"
    with pytest.raises(RunDirError, match="another process"):
        resume(run.path)
    run.release()  # what the kernel does when the training process dies
    assert Run(run.path).state() == "stale"
    assert find_unfinished(tmp_path, recipe, 0).path == run.path
    assert find_unfinished(tmp_path, recipe, 1) is None
    assert find_unfinished(tmp_path, tiny_recipe("optim.lr_d=1e-3"), 0) is None

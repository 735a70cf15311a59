"""`repro train` under pre-emption: SIGTERM -> checkpoint + exit 75; --auto-resume / --resume continue."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from repro_cli.engine.trainer import Trainer
from repro_cli.runs.signals import EXIT_PREEMPTED

ARGS = ["train", "-r", "gaussian-0gp", "--iterations", "8", "--set", "eval.metrics=[]", "--set", "train.log_every=1", "-q", "--out", "res"]


def run_dirs():
    return sorted(p.parent for p in Path("res").rglob("run.json"))


def info(path):
    return json.loads((path / "run.json").read_text())


def test_sigterm_checkpoints_exits_75_and_auto_resume_continues(cli, monkeypatch):
    step, sent = Trainer.step, []

    def step_then_sigterm(self):
        stats = step(self)
        if self.iteration == 3 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # what `scancel` / the scheduler sends
        return stats

    monkeypatch.setattr(Trainer, "step", step_then_sigterm)
    result = cli(*ARGS)
    assert result.exit_code == EXIT_PREEMPTED == 75
    [run] = run_dirs()
    assert info(run)["status"] == "preempted" and info(run)["stopped_by"] == "SIGTERM"
    assert (run / "checkpoints" / "ckpt-000000003.pt").is_file()

    result = cli(*ARGS, "--auto-resume")
    assert result.exit_code == 0, result.output
    assert run_dirs() == [run]  # continued in place, no second run
    assert info(run)["status"] == "completed" and info(run)["iteration"] == 8
    assert info(run)["resumes"][0]["iteration"] == 3
    assert [r["iteration"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())] == list(range(1, 9))

    # Nothing unfinished any more: --auto-resume starts a fresh run.
    assert cli(*ARGS, "--auto-resume").exit_code == 0
    assert len(run_dirs()) == 2


def test_resume_via_cli_and_its_refusals(cli):
    assert cli(*ARGS).exit_code == 0
    [run] = run_dirs()
    result = cli("train", "--resume", str(run), "-q")
    assert result.exit_code == 2 and "already completed" in result.output
    result = cli("train", "--resume", str(run), "--set", "train.iterations=10", "-q")
    assert result.exit_code == 2 and "--force" in result.output
    result = cli("train", "--resume", str(run), "--set", "train.iterations=10", "--force", "-q")
    assert result.exit_code == 0 and info(run)["iteration"] == 10

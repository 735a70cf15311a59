"""GPU speed switches are off by default and ignored on CPU with a note, leaving the run exact."""

from __future__ import annotations

import json
from pathlib import Path

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.accel import Accel, apply
from repro_cli.engine.trainer import Trainer


def test_cpu_ignores_every_switch_with_one_note():
    trainer = Trainer(load_recipe("gaussian-0gp", ["train.iterations=2"]), 0)
    assert apply(trainer, Accel()) == []
    notes = apply(trainer, Accel(bf16=True, tf32=True, channels_last=True, compile=True))
    assert notes == ["bf16, tf32, channels_last, compile: CUDA-only speed switches, ignored on cpu"]
    assert "step" not in vars(trainer)  # the step was not wrapped in autocast


def test_cli_switches_on_cpu_are_recorded_and_change_nothing(cli):
    args = ["train", "-r", "8gaussians-0gp", "--iterations", "4", "--set", "train.batch_size=16", "--set", "eval.metrics=[]",
            "--set", "train.log_every=1", "-q"]
    assert cli(*args, "--out", "plain").exit_code == 0
    result = cli(*args, "--out", "fast", "--bf16", "--compile")
    assert result.exit_code == 0 and "ignored on cpu" in result.output
    [plain], [fast] = (list(Path(d).rglob("run.json")) for d in ("plain", "fast"))
    assert json.loads(fast.read_text())["accel"]["requested"] == ["bf16", "compile"]

    def losses(run_json):
        return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in (run_json.parent / "metrics.jsonl").read_text().splitlines()]

    assert losses(plain) == losses(fast) and len(losses(plain)) == 4

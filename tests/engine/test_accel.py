"""GPU speed switches: recipe settings ([speed]) with CLI shorthands, off by default, recorded in the
run's recipe and config hash, and ignored on CPU with a note, leaving the run exact."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from repro_cli.config.recipes import load_recipe
from repro_cli.engine.accel import apply
from repro_cli.engine.trainer import Trainer
from repro_cli.errors import ConfigError, RunDirError
from repro_cli.runs.resume import resume

ALL_ON = ["speed.bf16=true", "speed.tf32=true", "speed.channels_last=true", "speed.compile=true"]
TINY = ["--iterations", "4", "--set", "train.batch_size=16", "--set", "eval.metrics=[]", "--set", "train.log_every=1",
        "--set", "train.checkpoint_every=2", "-q"]

FAST_RECIPE = """
[recipe]
extends = "8gaussians-0gp"
description = "8gaussians-0gp with CUDA speed switches"

[speed]
bf16 = true
compile = true
"""


def test_cpu_ignores_every_switch_with_one_note():
    assert apply(Trainer(load_recipe("gaussian-0gp", ["train.iterations=2"]), 0)) == []
    trainer = Trainer(load_recipe("gaussian-0gp", ["train.iterations=2", *ALL_ON]), 0)
    assert apply(trainer) == ["bf16, tf32, channels_last, compile: CUDA-only speed switches, ignored on cpu"]
    assert "step" not in vars(trainer)  # the step was not wrapped in autocast


def test_speed_settings_are_part_of_the_resolved_recipe_and_its_hash():
    plain, fast = load_recipe("8gaussians-0gp"), load_recipe("8gaussians-0gp", ["speed.bf16=true"])
    assert "speed" not in plain.to_dict()  # all off adds nothing: recipes without [speed] keep their hashes
    assert fast.to_dict()["speed"] == {"bf16": True, "tf32": False, "channels_last": False, "compile": False}
    assert fast.config_hash() != plain.config_hash()
    with pytest.raises(ConfigError, match="speed.bf16: expected"):
        load_recipe("8gaussians-0gp", ['speed.bf16="yes"'])
    with pytest.raises(ConfigError, match="speed.fp16: unknown key"):
        load_recipe("8gaussians-0gp", ["speed.fp16=true"])


def losses(run_json: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in (run_json.parent / "metrics.jsonl").read_text().splitlines()]


def test_recipe_and_cli_switches_on_cpu_are_recorded_and_change_nothing(cli, tmp_path):
    (tmp_path / "fast.toml").write_text(FAST_RECIPE)
    assert cli("train", "-r", "8gaussians-0gp", *TINY, "--out", "plain").exit_code == 0
    from_recipe = cli("train", "-r", "fast.toml", *TINY, "--out", "recipe")
    from_flags = cli("train", "-r", "8gaussians-0gp", *TINY, "--out", "flags", "--tf32", "--channels-last")
    assert from_recipe.exit_code == 0 and "bf16, compile: CUDA-only speed switches, ignored on cpu" in from_recipe.output
    assert from_flags.exit_code == 0 and "tf32, channels_last: CUDA-only speed switches, ignored on cpu" in from_flags.output
    [plain], [recipe], [flags] = (list((tmp_path / d).rglob("run.json")) for d in ("plain", "recipe", "flags"))
    for run_json, requested in ((recipe, ["bf16", "compile"]), (flags, ["tf32", "channels_last"])):
        info = json.loads(run_json.read_text())
        assert info["accel"] == {"requested": requested, "device": "cpu", "notes": [f"{', '.join(requested)}: CUDA-only speed switches, ignored on cpu"]}
        saved = tomllib.loads((run_json.parent / "recipe.toml").read_text())["speed"]
        assert [name for name, on in saved.items() if on] == requested
        assert info["config_hash"] != json.loads(plain.read_text())["config_hash"]
        assert losses(run_json) == losses(plain) and len(losses(plain)) == 4  # bit-identical on CPU
    assert "speed.tf32=true" in json.loads(flags.read_text())["overrides"]


def test_resuming_with_other_speed_switches_is_a_recipe_change(cli, tmp_path):
    assert cli("train", "-r", "8gaussians-0gp", *TINY, "--out", "runs", "--bf16", "--iterations", "2").exit_code == 0
    [run_json] = list((tmp_path / "runs").rglob("run.json"))
    # Refused: bf16 changes what a GPU computes, so the continuation would not be the same run.
    with pytest.raises(RunDirError, match="the recipe differs"):
        resume(run_json.parent, ["speed.bf16=false", "train.iterations=4"])
    resumed = resume(run_json.parent, ["speed.bf16=false", "train.iterations=4"], force=True)
    assert not resumed.trainer.recipe.speed.requested
    assert resumed.run.info["resumes"][-1]["recipe_change"]["overrides"] == ["speed.bf16=false", "train.iterations=4"]
    resumed.run.release()

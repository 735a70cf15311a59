"""`repro train` through Typer's runner: run directories, seeds, patterns, bad input."""

import json
import tomllib
from pathlib import Path

import pytest

from repro_cli.config.recipes import load_recipe

FAST = ["--set", "train.iterations=4", "--set", "train.log_every=2", "--set", "eval.metrics=[]"]


def runs_in(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("run.json"))


def test_train_writes_one_complete_run_directory_per_seed(cli, tmp_path):
    result = cli("train", "--recipe", "gaussian-0gp", "--seeds", "0,1", *FAST, "--out", "res", "--device", "cpu")
    assert result.exit_code == 0, result.output
    runs = runs_in(tmp_path / "res")
    assert len(runs) == 2
    seeds = set()
    for run in runs:
        info = json.loads((run / "run.json").read_text())
        seeds.add(info["seed"])
        assert info["status"] == "completed" and info["iteration"] == 4 and info["recipe"] == "gaussian-0gp"
        assert info["overrides"] == ["train.iterations=4", "train.log_every=2", "eval.metrics=[]"]
        assert {"python", "torch", "repro"} <= set(info["versions"])
        assert "command" in info and "config_hash" in info
        recipe = load_recipe("gaussian-0gp", info["overrides"])
        assert tomllib.loads((run / "recipe.toml").read_text()) == recipe.to_dict()
        assert info["config_hash"] == recipe.config_hash()
        lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert [r["iteration"] for r in lines if r["type"] == "train"] == [2, 4]
        assert list((run / "checkpoints").glob("ckpt-*.pt"))
    assert seeds == {0, 1}


def test_train_twice_never_overwrites(cli, tmp_path):
    for _ in range(2):
        assert cli("train", "-r", "gaussian-nogp", "--seed", "0", *FAST, "-o", "res", "-q").exit_code == 0
    assert len(runs_in(tmp_path / "res" / "gaussian-nogp")) == 2


def test_glob_pattern_trains_each_matching_recipe(cli, tmp_path):
    result = cli("train", "-r", "gaussian-nogp*", *FAST, "-o", "res", "-q")
    assert result.exit_code == 0, result.output
    assert {p.parent.name for p in runs_in(tmp_path / "res")} == {"gaussian-nogp", "gaussian-nogp-large"}


def test_progress_bar_shows_iterations_rate_and_losses(cli):
    result = cli("train", "-r", "8gaussians-0gp", *FAST, "-o", "res")
    assert result.exit_code == 0, result.output
    assert "4/4" in result.output and "it/s" in result.output and "ETA" in result.output
    assert "D " in result.output and "G " in result.output


@pytest.mark.parametrize("args, message", [
    (["-r", "gausian-0gp"], "unknown recipe 'gausian-0gp' (did you mean: gaussian-0gp"),
    (["-r", "zzz-*"], "no recipe matches 'zzz-*'"),
    (["--set", "optim.lr_d=fast"], "optim.lr_d: expected a number, got 'fast'"),
    (["--set", "optim.lr_d=-1"], "optim.lr_d: must be > 0, got -1.0"),
    (["--set", "optim.lrd=1"], "optim.lrd: unknown key (did you mean: lr_d"),
    (["--set", "optim.betas=[0.5]"], "optim.betas: expected a list of 2 values"),
    (["--set", "nonsense"], "--set 'nonsense': expected key=value"),
    (["-r", "gaussian-0gp", "--set", "train.batch_size=500"], "train.batch_size: 500 exceeds the 100 samples of [data]"),
    (["--seeds", "a,b"], "--seeds 'a,b': expected comma-separated seeds"),
    (["--device", "tpu"], "--device 'tpu': expected cpu, cuda"),
])
def test_bad_input_is_one_clear_line(cli, tmp_path, args, message):
    result = cli("train", *args, "-o", "res")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "res").exists() or not runs_in(tmp_path / "res")


def test_debug_flag_shows_the_exception(cli):
    from repro_cli.errors import ConfigError

    with pytest.raises(ConfigError):
        cli("--debug", "train", "-r", "gausian-0gp")


def test_no_arguments_is_a_quick_gaussian_0gp_run_that_says_so(cli, tmp_path, monkeypatch):
    import repro_cli.cli.commands.train as command

    monkeypatch.setattr(command, "DEFAULT_BUDGET", ["train.epochs=2"])  # the mechanism, at a test's budget
    result = cli("train", "--set", "eval.metrics=[]")
    assert result.exit_code == 0, result.output
    assert "quick run of gaussian-0gp with --set train.epochs=2" in result.output
    (run,) = runs_in(tmp_path / "results")
    info = json.loads((run / "run.json").read_text())
    assert (info["recipe"], info["seed"], info["device"]) == ("gaussian-0gp", 0, "cpu")
    assert info["overrides"] == ["eval.metrics=[]", "train.epochs=2"] and info["iteration"] == 10
    assert command.DEFAULT_RECIPE == "gaussian-0gp"

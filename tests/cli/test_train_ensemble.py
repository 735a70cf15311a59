"""`repro train --seeds` uses the vectorised ensemble when it can, and one-at-a-time runs otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

import repro_cli.cli.commands.train as train_command

FAST = ["--iterations", "2", "--set", 'eval.metrics=[]', "-q"]


def _forbid(monkeypatch, name):
    def fail(*args, **kwargs):
        raise AssertionError(f"{name} must not be used here")

    monkeypatch.setattr(train_command, name, fail)


def _seeds_trained() -> list[int]:
    import json

    return sorted(json.loads(p.read_text())["seed"] for p in Path("results").rglob("run.json"))


def test_several_seeds_train_as_an_ensemble(cli, monkeypatch):
    _forbid(monkeypatch, "execute")
    result = cli("train", "-r", "gaussian-0gp", "--seeds", "0-2", *FAST)
    assert result.exit_code == 0, result.output
    assert _seeds_trained() == [0, 1, 2]


def test_recipes_that_differ_in_data_and_penalty_train_as_one_ensemble(cli, monkeypatch):
    _forbid(monkeypatch, "execute")
    ensembles = []
    real_execute_ensemble = train_command.execute_ensemble_in_processes

    def counting(recipes, seeds, *args, **kwargs):
        ensembles.append(sorted({(r.name, s) for r, s in zip(recipes, seeds)}))
        return real_execute_ensemble(recipes, seeds, *args, **kwargs)

    monkeypatch.setattr(train_command, "execute_ensemble_in_processes", counting)
    result = cli("train", "-r", "gaussian-nogp", "-r", "gaussian-0gp", "-r", "gaussian-nogp-large", "--seeds", "0-1", *FAST)
    assert result.exit_code == 0, result.output
    assert ensembles == [[(name, s) for name in ("gaussian-0gp", "gaussian-nogp", "gaussian-nogp-large") for s in (0, 1)]]
    assert _seeds_trained() == [0, 0, 0, 1, 1, 1]
    assert sorted(p.name for p in Path("results").iterdir()) == ["gaussian-0gp", "gaussian-nogp", "gaussian-nogp-large"]


@pytest.mark.parametrize("args", [["--no-ensemble"], ["--seed", "3"]])
def test_opting_out_or_one_seed_trains_serially(cli, monkeypatch, args):
    _forbid(monkeypatch, "execute_ensemble_in_processes")
    seeds = [] if "--seed" in args else ["--seeds", "0,1"]
    result = cli("train", "-r", "gaussian-0gp", *seeds, *args, *FAST)
    assert result.exit_code == 0, result.output
    assert _seeds_trained() == ([3] if "--seed" in args else [0, 1])


def test_unbatchable_recipe_falls_back_to_serial(cli):
    result = cli("train", "-r", "gaussian-0gp", "--seeds", "0-1", "--set", 'normalization.name="sn"', "--iterations", "2",
                 "--set", "eval.metrics=[]")
    assert result.exit_code == 0, result.output
    assert "one at a time" in result.output
    assert _seeds_trained() == [0, 1]

"""An ensemble split over processes writes the same runs as one process, and stops together."""

from __future__ import annotations

from repro_cli.config.recipes import load_recipe
from repro_cli.runs.checkpoint import load_latest
from repro_cli.runs.ensemble_processes import execute_ensemble_in_processes, split_members
from repro_cli.runs.execute import execute

NAMES = ["gaussian-nogp", "gaussian-0gp", "gaussian-0gp-sample", "gaussian-nogp-large"]


def test_split_balances_penalised_members_and_keeps_order():
    recipes = [load_recipe(name, []) for name in NAMES for _ in range(3)]  # 6 penalised (cost 2), 6 not (cost 1)
    parts = split_members(recipes, 2)
    assert sorted(i for part in parts for i in part) == list(range(12))
    assert all(part == sorted(part) for part in parts)
    loads = [sum(2 if recipes[i].penalty.weight > 0 else 1 for i in part) for part in parts]
    assert loads == [9, 9]


def test_runs_split_over_two_processes_equal_serial_runs(tmp_path):
    overrides = ["train.iterations=6", "train.log_every=3", 'eval.metrics=[{name="value-surface", resolution=8, figure=false}]', "eval.every=3"]
    recipes = [load_recipe(name, overrides) for name in NAMES]
    seeds = [0, 1, 2, 3]
    runs = execute_ensemble_in_processes(recipes, seeds, tmp_path / "split", "cpu", overrides, processes=2)
    for recipe, seed, run in zip(recipes, seeds, runs):
        serial = execute(recipe, seed, tmp_path / "serial", "cpu", overrides)
        assert (run.info["recipe"], run.info["seed"], run.info["status"]) == (recipe.name, seed, "completed")
        assert run.info["config_hash"] == serial.info["config_hash"]
        ours, theirs = run.records(), serial.records()
        assert [(r["type"], r["iteration"], r.get("name")) for r in ours] == [(r["type"], r["iteration"], r.get("name")) for r in theirs]
        for a, b in zip(ours, theirs):
            for key in ("d_loss", "penalty", "value"):
                if key in b and b[key] is not None:
                    assert abs(a[key] - b[key]) <= 1e-5 * max(1.0, abs(b[key])), (recipe.name, key)
        assert load_latest(run)[0]["iteration"] == 6


def test_a_stop_in_this_process_stops_the_other_processes_with_checkpoints(tmp_path):
    overrides = ["train.iterations=200000", "eval.metrics=[]"]
    recipes = [load_recipe(name, overrides) for name in NAMES]
    calls = []

    def stop():  # this process is asked once per step (and while it waits): stop at its 20th step
        calls.append(1)
        return len(calls) >= 20

    runs = execute_ensemble_in_processes(recipes, [0, 1, 2, 3], tmp_path, "cpu", overrides, stop=stop, processes=2)
    for run in runs:
        assert run.info["status"] == "preempted" and run.state() == "preempted"
        assert 0 < run.info["iteration"] < 200000
        assert load_latest(run)[0]["iteration"] == run.info["iteration"]
    assert {run.info["stopped_by"] for run in runs} >= {"SIGTERM"}  # the other process was told by a signal

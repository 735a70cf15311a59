"""Run directories: unique, never overwritten, and recording what is needed to redo the run."""

import json
import subprocess
import sys
import tomllib

import pytest

from repro_cli.config.recipes import load_recipe
from repro_cli.errors import RunDirError
from repro_cli.runs import rundir
from repro_cli.runs.rundir import Run, find_runs, git_commit


def test_runs_created_in_the_same_second_get_their_own_directories(tmp_path):
    recipe = load_recipe("gaussian-0gp")
    runs = [Run.create(tmp_path, recipe, 0, device="cpu", overrides=[]) for _ in range(5)]
    assert len({r.path for r in runs}) == 5
    assert all(r.path.parent == tmp_path / "gaussian-0gp" for r in runs)
    assert [r.path for r in find_runs(tmp_path)] == sorted(r.path for r in runs)


def test_run_records_recipe_seed_versions_command_and_hash(tmp_path):
    recipe = load_recipe("gaussian-0gp", ["optim.lr_d=2e-3"])
    run = Run.create(tmp_path, recipe, 7, device="cpu", overrides=["optim.lr_d=2e-3"])
    info = run.info
    assert (info["seed"], info["recipe"], info["status"], info["overrides"]) == (7, "gaussian-0gp", "running", ["optim.lr_d=2e-3"])
    assert info["config_hash"] == recipe.config_hash()
    assert info["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert info["command"] == sys.argv
    assert tomllib.loads((run.path / "recipe.toml").read_text()) == recipe.to_dict()
    assert run.recipe() == recipe
    run.log({"type": "train", "iteration": 1, "d_loss": 0.5})
    run.log({"type": "train", "iteration": 2, "d_loss": 0.25})
    assert [r["d_loss"] for r in run.records()] == [0.5, 0.25]


def test_git_commit_is_the_repro_checkout_commit():
    info = git_commit()
    src = rundir.__file__.rsplit("/repro_cli/", 1)[0]
    head = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:  # running from a checkout (the test suite does)
        assert info["commit"] == head.stdout.strip()
    else:
        assert info is None


def test_no_git_commit_when_the_package_lives_inside_another_repository(tmp_path, monkeypatch):
    # a wheel installed into a venv that sits inside some unrelated git repository
    repo = tmp_path / "someproject"
    pkg = repo / ".venv" / "lib" / "site-packages" / "repro_cli" / "runs"
    pkg.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    monkeypatch.setattr(rundir, "__file__", str(pkg / "rundir.py"))
    assert git_commit() is None


def test_opening_something_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(RunDirError, match="is not a directory"):
        Run.open(tmp_path / "missing")
    with pytest.raises(RunDirError, match=r"is not a run directory \(no run.json\)"):
        Run.open(tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(RunDirError, match="is corrupt"):
        Run.open(tmp_path)


def test_update_keeps_a_status_history(tmp_path):
    run = Run.create(tmp_path, load_recipe("gaussian-0gp"), 0, device="cpu", overrides=[])
    run.update(status="completed", iteration=5)
    info = json.loads((run.path / "run.json").read_text())
    assert info["status"] == "completed" and [h["status"] for h in info["history"]] == ["running", "completed"]

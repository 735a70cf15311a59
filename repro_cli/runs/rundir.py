"""A run directory holds everything needed to trust and redo a run:

  run.json       id, recipe, seed, config hash, status + timestamps, versions, git commit, command
  recipe.toml    the fully resolved recipe that was trained
  metrics.jsonl  append-only log: {"type": "train"|"metric", "iteration": ..., ...}
  checkpoints/   ckpt-<iteration>.pt (tensors and plain data only; loaded with weights_only=True)
  figures/       PNG/PDF figures

Directories are created with an exclusive mkdir under a unique name, so concurrent `repro train`
processes sharing a results folder never collide, and no run ever overwrites another.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import json
import os
import platform
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from repro_cli import __version__
from repro_cli.config.schema import Recipe, resolve
from repro_cli.errors import ConfigError, RunDirError
from repro_cli.runs.atomic import append_line, atomic_write_json, atomic_write_text, read_jsonl
from repro_cli.runs.lock import RunLock, is_locked

RUN_FILE = "run.json"
RECIPE_FILE = "recipe.toml"
METRICS_FILE = "metrics.jsonl"
STATUSES = ("running", "completed", "diverged", "preempted", "failed")  # `stale`: running, but its process is gone


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    import numpy
    import torch

    out = {"repro": __version__, "python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__, "platform": platform.platform()}
    try:
        # the installed version, read without importing torchvision (which takes seconds: a 2-D run never needs it)
        out["torchvision"] = importlib.metadata.version("torchvision")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - torchvision is a dependency, but a run does not need it
        pass
    return out


def git_commit() -> dict[str, Any] | None:
    """The commit of the repro source tree when the code runs from a repro git checkout (editable
    installs); None otherwise. A wheel installed into a venv that sits inside some other git
    repository must not record that repository's commit, so the checkout's top level must be the
    folder that holds this package."""
    info = _git_commit_of(Path(__file__).resolve().parents[2])
    return dict(info) if info else None  # a copy: the cached answer is shared by every run


@functools.cache
def _git_commit_of(src: Path) -> dict[str, Any] | None:
    # Once per process (three git calls, ~20 ms, and an ensemble creates dozens of runs): the
    # code a process runs is the code it loaded when it started.
    try:
        top = subprocess.run(["git", "-C", str(src), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=5)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != src or not (src / "pyproject.toml").is_file():
            return None
        commit = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return None


class Run:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock: RunLock | None = None  # held while this process trains the run

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def state(self) -> str:
        """The status, except that a `running` run nobody is training is reported as `stale`."""
        status = self.info.get("status", "?")
        return "stale" if status == "running" and self.lock is None and not is_locked(self.path) else status

    # --- creation and opening ------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, recipe: Recipe, seed: int, *, device: str, overrides: list[str], extra: dict | None = None) -> "Run":
        root = Path(root)
        parent = root / recipe.name
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirError(f"cannot create results folder {parent}: {err.strerror}; choose another with --out") from None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for _ in range(100):
            path = parent / f"{stamp}-s{seed}-{secrets.token_hex(3)}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
            except OSError as err:
                raise RunDirError(f"cannot create run folder in {parent}: {err.strerror}; choose another with --out") from None
        else:  # pragma: no cover - 100 random collisions
            raise RunDirError(f"could not find a free run name in {parent}")
        run = cls(path)
        run.lock = RunLock(path)
        run.lock.acquire()  # a fresh directory: nobody else can hold it yet
        (path / "checkpoints").mkdir()
        (path / "figures").mkdir()
        atomic_write_text(path / RECIPE_FILE, tomli_w.dumps(recipe.to_dict()))
        info = {
            "id": path.name,
            "recipe": recipe.name,
            "paper": recipe.meta.paper,
            "seed": seed,
            "config_hash": recipe.config_hash(),
            "overrides": overrides,
            "device": device,
            "status": "running",
            "iteration": 0,
            "created": now(),
            "updated": now(),
            "history": [{"status": "running", "at": now()}],
            "versions": versions(),
            "git": git_commit(),
            "command": sys.argv,
            "cwd": os.getcwd(),
            "pid": os.getpid(),
            "host": platform.node(),
            **(extra or {}),
        }
        atomic_write_json(path / RUN_FILE, info)
        return run

    @classmethod
    def open(cls, path: Path) -> "Run":
        path = Path(path)
        if not path.is_dir():
            raise RunDirError(f"{path} is not a directory; pass a run directory (results/<recipe>/<run-id>), see `repro runs`")
        if not (path / RUN_FILE).is_file():
            raise RunDirError(f"{path} is not a run directory (no {RUN_FILE}); run directories are listed by `repro runs`")
        run = cls(path)
        try:
            run.info
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RunDirError(f"{path / RUN_FILE} is corrupt (not JSON); this run cannot be used") from None
        return run

    # --- metadata --------------------------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        return json.loads((self.path / RUN_FILE).read_text())

    def update(self, **fields: Any) -> None:
        info = self.info
        if "status" in fields and fields["status"] != info.get("status"):
            info.setdefault("history", []).append({"status": fields["status"], "at": now(), **({"iteration": fields["iteration"]} if "iteration" in fields else {})})
        info.update(fields, updated=now())
        atomic_write_json(self.path / RUN_FILE, info)

    def recipe(self) -> Recipe:
        try:
            with (self.path / RECIPE_FILE).open("rb") as fh:
                return resolve(tomllib.load(fh))
        except FileNotFoundError:
            raise RunDirError(f"{self.path} has no {RECIPE_FILE}; it is not a complete run directory") from None
        except (tomllib.TOMLDecodeError, ConfigError) as err:
            raise RunDirError(f"{self.path / RECIPE_FILE} cannot be read as a recipe: {err}") from None

    # --- logs and files --------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def figure_dir(self) -> Path:
        return self.path / "figures"

    def log(self, record: dict[str, Any]) -> None:
        append_line(self.metrics_path, json.dumps(record, sort_keys=True, allow_nan=True))

    def records(self) -> list[dict[str, Any]]:
        return read_jsonl(self.metrics_path)


def find_runs(root: Path) -> list[Run]:
    """Every run directory below `root` (any depth), oldest first."""
    root = Path(root)
    if (root / RUN_FILE).is_file():
        return [Run(root)]
    return [Run(p.parent) for p in sorted(root.rglob(RUN_FILE))]

"""Checkpoints: written atomically, the newest `train.keep_checkpoints` kept, loaded without
unpickling code (`weights_only=True`), and a corrupt one skipped for the previous good one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from repro_cli.errors import RunDirError
from repro_cli.runs.atomic import atomic_write_bytes
from repro_cli.runs.rundir import Run

PATTERN = re.compile(r"ckpt-(\d+)\.pt$")


def checkpoint_path(run: Run, iteration: int) -> Path:
    return run.checkpoint_dir / f"ckpt-{iteration:09d}.pt"


def list_checkpoints(run: Run) -> list[tuple[int, Path]]:
    """(iteration, path) pairs, oldest first."""
    found = [(int(m.group(1)), p) for p in run.checkpoint_dir.glob("ckpt-*.pt") if (m := PATTERN.search(p.name))]
    return sorted(found)


def save_checkpoint(run: Run, trainer) -> Path:
    path = checkpoint_path(run, trainer.iteration)
    atomic_write_bytes(path, trainer.checkpoint_bytes())
    for _, old in list_checkpoints(run)[: -trainer.recipe.train.keep_checkpoints]:
        old.unlink(missing_ok=True)
    run.update(iteration=trainer.iteration, last_checkpoint=path.name)
    return path


def load_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a truncated or foreign file
        raise RunDirError(f"checkpoint {path} cannot be loaded ({type(err).__name__}); it is truncated, corrupt or not a repro checkpoint") from None


def load_latest(run: Run, which: str = "last") -> tuple[dict[str, Any], Path, list[str]]:
    """The newest loadable checkpoint ('last'), or the one at iteration N. Returns the state, its
    path and warnings about newer checkpoints that were skipped as corrupt."""
    checkpoints = list_checkpoints(run)
    if not checkpoints:
        raise RunDirError(f"{run.path} has no checkpoints yet; train it first (repro train) or pick another run")
    if which != "last":
        if not which.isdigit():
            raise RunDirError(f"--checkpoint {which!r}: expected 'last' or an iteration number")
        matches = [c for c in checkpoints if c[0] == int(which)]
        if not matches:
            raise RunDirError(f"--checkpoint {which}: no such checkpoint in {run.path}; have {', '.join(str(i) for i, _ in checkpoints)}")
        return load_state(matches[0][1]), matches[0][1], []
    warnings = []
    for _, path in reversed(checkpoints):
        try:
            return load_state(path), path, warnings
        except RunDirError as err:
            warnings.append(str(err))
    raise RunDirError(f"every checkpoint in {run.checkpoint_dir} is unreadable: {warnings[0]}")


def restore_trainer(run: Run, which: str = "last", device: str = "cpu", data=None):
    """A Trainer rebuilt from a run's saved recipe and seed, with a checkpoint's state loaded.
    Returns (trainer, checkpoint path, warnings)."""
    from repro_cli.engine.trainer import Trainer

    trainer = Trainer(run.recipe(), seed=run.info["seed"], device=device, data=data)
    state, path, warnings = load_latest(run, which)
    trainer.load_state_dict(state)
    return trainer, path, warnings

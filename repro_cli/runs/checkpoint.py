"""Checkpoints: written atomically with a sha256 beside each, the newest `train.keep_checkpoints`
kept (plus `ckpt-best.pt` when the recipe names a `train.best_metric`), loaded without unpickling
code (`weights_only=True`), and a corrupt or unverified one skipped for the previous good one."""

from __future__ import annotations

import hashlib
import io
import math
import re
from pathlib import Path
from typing import Any

import torch

from repro_cli.errors import RunDirError
from repro_cli.runs.atomic import atomic_write_bytes, atomic_write_text
from repro_cli.runs.rundir import Run

PATTERN = re.compile(r"ckpt-(\d+)\.pt$")
BEST = "ckpt-best.pt"


def checkpoint_path(run: Run, iteration: int) -> Path:
    return run.checkpoint_dir / f"ckpt-{iteration:09d}.pt"


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def list_checkpoints(run: Run) -> list[tuple[int, Path]]:
    """(iteration, path) pairs, oldest first."""
    found = [(int(m.group(1)), p) for p in run.checkpoint_dir.glob("ckpt-*.pt") if (m := PATTERN.search(p.name))]
    return sorted(found)


def write_checkpoint(path: Path, data: bytes) -> None:
    """The checkpoint first, then its checksum: a crash between the two leaves a checkpoint with
    no checksum, which loading treats as unfinished and skips."""
    atomic_write_bytes(path, data)
    atomic_write_text(checksum_path(path), hashlib.sha256(data).hexdigest() + "\n")


def remove_checkpoint(path: Path) -> None:
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


def save_checkpoint(run: Run, trainer) -> Path:
    path = checkpoint_path(run, trainer.iteration)
    write_checkpoint(path, trainer.checkpoint_bytes())
    for _, old in list_checkpoints(run)[: -trainer.recipe.train.keep_checkpoints]:
        remove_checkpoint(old)
    run.update(iteration=trainer.iteration, last_checkpoint=path.name)
    return path


def is_better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


def save_best(run: Run, trainer, records: list[dict[str, Any]]) -> bool:
    """Keep `ckpt-best.pt` at the evaluation where `train.best_metric` was best so far. Returns
    whether it was replaced."""
    train = trainer.recipe.train
    values = [r["value"] for r in records if r.get("name") == train.best_metric and isinstance(r.get("value"), (int, float))]
    if not values or not math.isfinite(values[-1]) or not is_better(values[-1], trainer.best, train.best_mode):
        return False
    trainer.best = float(values[-1])
    write_checkpoint(run.checkpoint_dir / BEST, trainer.checkpoint_bytes())
    run.update(best={"metric": train.best_metric, "mode": train.best_mode, "value": trainer.best, "iteration": trainer.iteration})
    return True


def load_state(path: Path) -> dict[str, Any]:
    """A checkpoint's state after checking its sha256; never runs code from the file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RunDirError(f"checkpoint {path} cannot be read: {err.strerror}") from None
    sums = checksum_path(path)
    if not sums.is_file():
        raise RunDirError(f"checkpoint {path} has no {sums.name}; it was not finished (the process died while writing it)")
    if hashlib.sha256(data).hexdigest() != sums.read_text().strip():
        raise RunDirError(f"checkpoint {path} does not match its sha256; it is truncated or corrupt")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a foreign file
        raise RunDirError(f"checkpoint {path} cannot be loaded ({type(err).__name__}); it is not a repro checkpoint") from None


def load_latest(run: Run, which: str = "last") -> tuple[dict[str, Any], Path, list[str]]:
    """The newest good checkpoint ('last'), the best one ('best') or the one at iteration N.
    Returns the state, its path and warnings about newer checkpoints skipped as corrupt."""
    checkpoints = list_checkpoints(run)
    if which == "best":
        path = run.checkpoint_dir / BEST
        if not path.is_file():
            raise RunDirError(f"{run.path} has no {BEST}; the recipe needs train.best_metric (and an evaluation) for one")
        return load_state(path), path, []
    if not checkpoints:
        raise RunDirError(f"{run.path} has no checkpoints yet; train it first (repro train) or pick another run")
    if which != "last":
        if not which.isdigit():
            raise RunDirError(f"--checkpoint {which!r}: expected 'last', 'best' or an iteration number")
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
    raise RunDirError(f"every checkpoint in {run.checkpoint_dir} is unusable: {warnings[0]}")


def restore_trainer(run: Run, which: str = "last", device: str = "cpu", data=None, recipe=None, world=None, checkpoint: Path | None = None):
    """A Trainer rebuilt from a run's saved recipe (or `recipe`) and seed, with a checkpoint's
    state loaded (as one rank of `world` under torchrun): the `which` one found in the run, or the
    file `checkpoint` (the one rank 0 chose). Returns (trainer, checkpoint path, warnings)."""
    from repro_cli.engine.trainer import Trainer
    from repro_cli.engine.world import SINGLE_PROCESS

    trainer = Trainer(recipe or run.recipe(), seed=run.info["seed"], device=device, data=data, world=world or SINGLE_PROCESS)
    state, path, warnings = (load_state(checkpoint), checkpoint, []) if checkpoint is not None else load_latest(run, which)
    trainer.load_state_dict(state)
    return trainer, path, warnings

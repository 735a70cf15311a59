"""Continuing a run: `repro train --resume RUN_DIR` and `--auto-resume`.

A resumed run restarts from its newest good checkpoint (a corrupt newer one is skipped with a
warning), drops log lines written after that checkpoint (they will be written again, identically),
and trains on in the same directory. A changed recipe (different config hash) is refused unless
forced, and then recorded in run.json.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from repro_cli.config.recipes import apply_overrides
from repro_cli.config.schema import Recipe, resolve
from repro_cli.data.base import DataContext
from repro_cli.engine.distributed import decided_by_rank0
from repro_cli.engine.trainer import Trainer
from repro_cli.engine.world import SINGLE_PROCESS, World
from repro_cli.errors import ConfigError, RunDirError
from repro_cli.runs.atomic import atomic_write_text
from repro_cli.runs.checkpoint import restore_trainer
from repro_cli.runs.lock import RunLock
from repro_cli.runs.rundir import RECIPE_FILE, Run, find_runs, now

# What --auto-resume picks up. Diverged runs are outcomes (resuming would diverge again), and
# completed runs are done.
UNFINISHED = ("preempted", "failed", "stale")


@dataclass
class Resumed:
    run: Run | None  # None on torchrun ranks other than 0, which never write
    trainer: Trainer
    checkpoint: Path
    warnings: list[str] = field(default_factory=list)


def resume(run_dir: Path, overrides: list[str] = (), force: bool = False, device: str = "cpu",
           data: DataContext | None = None, world: World = SINGLE_PROCESS) -> Resumed:
    """Reopen a run for training: lock it, check the recipe, restore the newest good checkpoint.

    Under torchrun rank 0 alone reopens the run (lock, checks, log truncation, run.json) and picks
    the checkpoint; every other rank then loads that same checkpoint, read-only. One checkpoint
    serves every rank because the ranks' states are identical: same weights and optimiser state
    (averaged gradients) and the same random streams (each rank only keeps its shard of a draw)."""
    reopened: list[Resumed] = []

    def reopen() -> dict[str, str]:
        reopened.append(_lock_and_reopen(Path(run_dir), list(overrides), force, device, data, world))
        return {"run": str(reopened[0].run.path), "checkpoint": str(reopened[0].checkpoint)}

    chosen = decided_by_rank0(world, reopen)
    return reopened[0] if reopened else _follow(Path(chosen["run"]), Path(chosen["checkpoint"]), device, data, world)


def _lock_and_reopen(run_dir: Path, overrides: list[str], force: bool, device: str, data: DataContext | None, world: World) -> Resumed:
    run = Run.open(run_dir)
    lock = RunLock(run.path)
    try:
        locked = lock.acquire()
    except OSError as err:
        raise RunDirError(f"{run.path} is not writable ({err.strerror}); resume needs write access to the run directory") from None
    if not locked:
        info = run.info
        raise RunDirError(f"{run.path} is being trained by another process (pid {info.get('pid')} on {info.get('host', '?')}); "
                          "wait for it to finish or stop it first")
    try:
        resumed = _reopen(run, overrides, force, device, data, world)
    except BaseException:
        lock.release()
        raise
    run.lock = lock
    return resumed


def _follow(run_path: Path, checkpoint: Path, device: str, data: DataContext | None, world: World) -> Resumed:
    """A torchrun rank other than 0 joins the resume rank 0 prepared: the run's recipe as rank 0
    left it (with any forced change) and rank 0's checkpoint."""
    trainer, _, _ = restore_trainer(Run.open(run_path), device=device, data=data, world=world, checkpoint=checkpoint)
    return Resumed(None, trainer, checkpoint)


def _reopen(run: Run, overrides: list[str], force: bool, device: str, data: DataContext | None, world: World) -> Resumed:
    info = run.info
    status = "stale" if info.get("status") == "running" else info.get("status")
    saved = run.recipe()
    recipe = _with_overrides(saved, overrides) if overrides else saved
    changed = recipe.config_hash() != info.get("config_hash")
    if changed and not force:
        raise RunDirError(f"{run.path}: the recipe differs from the one this run was trained with (config hash "
                          f"{info.get('config_hash')} -> {recipe.config_hash()}); pass --force to resume with the change (it is recorded in run.json)")
    if status == "completed" and not changed:
        raise RunDirError(f"{run.path} already completed {info.get('iteration')} iterations; nothing to resume "
                          "(to train longer: --set train.iterations=N --force)")
    if status == "diverged" and not force:
        raise RunDirError(f"{run.path} diverged at iteration {info.get('diverged_at')}; resuming would diverge the same way. "
                          "Change the recipe with --set (e.g. a lower learning rate) and pass --force")
    trainer, checkpoint, warnings = restore_trainer(run, "last", device, data, recipe, world)
    _truncate_log(run, trainer.iteration)
    if changed:
        atomic_write_text(run.path / RECIPE_FILE, _toml(recipe))
    resumes = info.get("resumes", []) + [{
        "at": now(), "from_status": status, "checkpoint": checkpoint.name, "iteration": trainer.iteration,
        "skipped_checkpoints": warnings, "pid": os.getpid(), "host": platform.node(), "world_size": world.size,
        **({"recipe_change": {"from": info.get("config_hash"), "to": recipe.config_hash(), "overrides": overrides}} if changed else {}),
    }]
    run.update(status="running", iteration=trainer.iteration, total_iterations=trainer.total, config_hash=recipe.config_hash(),
               pid=os.getpid(), host=platform.node(), resumes=resumes, error=None, diverged_at=None)
    return Resumed(run, trainer, checkpoint, warnings)


def _with_overrides(saved: Recipe, overrides: list[str]) -> Recipe:
    raw = saved.to_dict()
    raw["recipe"].pop("extends", None)  # the saved recipe is already fully merged
    try:
        return resolve(apply_overrides(raw, overrides))
    except ConfigError as err:
        raise ConfigError(f"--set on the resumed run's recipe: {err}") from None


def _truncate_log(run: Run, iteration: int) -> None:
    """Keep the log lines up to the checkpoint's iteration; later ones are replayed by the resume."""
    records = run.records()
    kept = [r for r in records if r.get("iteration", 0) <= iteration]
    if len(kept) != len(records) or (run.metrics_path.exists() and not run.metrics_path.read_text().endswith("\n")):
        atomic_write_text(run.metrics_path, "".join(json.dumps(r, sort_keys=True, allow_nan=True) + "\n" for r in kept))


def _toml(recipe: Recipe) -> str:
    import tomli_w

    return tomli_w.dumps(recipe.to_dict())


def find_unfinished(out: Path, recipe: Recipe, seed: int) -> Run | None:
    """The newest run of this recipe, seed and config hash that stopped before the end (pre-empted,
    failed, or `running` with its process gone), for --auto-resume."""
    folder = Path(out) / recipe.name
    if not folder.is_dir():
        return None
    candidates = []
    for run in find_runs(folder):
        try:
            info = run.info
        except (OSError, ValueError):
            continue  # a half-created or corrupt run directory is not a candidate
        if info.get("seed") == seed and info.get("config_hash") == recipe.config_hash() and run.state() in UNFINISHED:
            candidates.append((info.get("created", ""), run))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None

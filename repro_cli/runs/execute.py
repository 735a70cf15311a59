"""Run one (recipe, seed): create its directory (or reopen it to resume), train, record the outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.accel import apply as apply_accel
from repro_cli.engine.trainer import Trainer
from repro_cli.engine.world import SINGLE_PROCESS, World
from repro_cli.runs.rundir import Run

Stop = Callable[[], bool]


def execute(recipe: Recipe, seed: int, out: Path, device: str, overrides: list[str], data: DataContext | None = None,
            on_start: Callable[[Trainer, Run], None] | None = None, on_log: Callable[[dict[str, Any]], None] | None = None,
            stop: Stop = lambda: False, world: World = SINGLE_PROCESS) -> Run | None:
    """Build first (so bad data or settings fail before any directory exists), then create the
    run directory and train. Under torchrun every rank trains and rank 0 alone writes the run
    (other ranks return None); `stop` must then answer the same on every rank (`AnyRank`)."""
    trainer = Trainer(recipe, seed=seed, device=device, data=data, world=world)
    run = None
    if world.is_main:
        ranks = {"world_size": world.size, "batch_per_rank": trainer.batch_size} if world.size > 1 else {}
        run = Run.create(out, recipe, seed, device=str(trainer.device), overrides=overrides, extra={"total_iterations": trainer.total, **ranks})
    return train_on_every_rank(run, trainer, on_start=on_start, on_log=on_log, stop=stop)


def train_on_every_rank(run: Run | None, trainer: Trainer, on_start=None, on_log=None, stop: Stop = lambda: False) -> Run | None:
    """`train_run` in a single process. Under torchrun the trainer first becomes a replica (rank
    0's weights, gradients averaged); rank 0 trains and records `run`, the other ranks (run None)
    train silently, and at the end rank 0 records whether all replicas still agree."""
    if trainer.world.size == 1:
        return train_run(run, trainer, on_start=on_start, on_log=on_log, stop=stop)
    from repro_cli.engine import distributed

    distributed.distribute(trainer)
    if run is None:
        apply_accel(trainer)
        trainer.fit(None, stop=stop)
        distributed.replicas_in_sync(trainer)
        return None
    train_run(run, trainer, on_start=on_start, on_log=on_log, stop=stop)
    in_sync = distributed.replicas_in_sync(trainer)
    run.update(replicas_in_sync=in_sync)
    if not in_sync:
        run.update(status="failed", error="the ranks' weights differ at the end; the run is not a valid data-parallel run")
    return run


def train_run(run: Run, trainer: Trainer, on_start: Callable[[Trainer, Run], None] | None = None,
              on_log: Callable[[dict[str, Any]], None] | None = None, stop: Stop = lambda: False) -> Run:
    """Train a new or resumed run (whose lock this process holds) until it completes, diverges or
    `stop()` asks it to checkpoint and leave; record the status. Any crash marks the run `failed`
    before re-raising."""
    notes = apply_accel(trainer)
    if trainer.recipe.speed.requested:
        run.update(accel={"requested": trainer.recipe.speed.requested, "device": str(trainer.device), "notes": notes})
    if on_start is not None:
        on_start(trainer, run)
    try:
        try:
            status = trainer.fit(run, on_log=on_log, stop=stop)
        except BaseException as err:
            run.update(status="failed", iteration=trainer.iteration, error=f"{type(err).__name__}: {err}")
            raise
        record_outcome(run, trainer, status, stop)
    finally:
        run.release()
    return run


def record_outcome(run: Run, trainer: Trainer, status: str, stop: Stop) -> None:
    """Write how the run ended (and where, for a divergence) into run.json."""
    outcome: dict[str, Any] = {}
    if status == "diverged":
        last = run.info.get("last_checkpoint")
        outcome = {"diverged_at": trainer.divergence["iteration"],
                   "error": f"{trainer.divergence['message']}; last good checkpoint: {last or 'none (no checkpoint was written before it)'}"}
    elif status == "preempted":
        outcome = {"stopped_by": getattr(stop, "signal", None)}
    run.update(status=status, iteration=trainer.iteration, **outcome)


def final_metrics(run: Run) -> dict[str, tuple[float, dict]]:
    """The last value of every metric (and the last training losses) in a run's log, each with the
    protocol it was measured under: a number is never shown without it."""
    last: dict[str, tuple[float, dict]] = {}
    for rec in run.records():
        if rec.get("type") == "metric" and isinstance(rec.get("value"), (int, float)):
            last[rec["name"]] = (rec["value"], rec.get("protocol", {}))
        elif rec.get("type") == "train":
            for key in ("d_loss", "g_loss"):
                if key in rec:
                    last[key] = (rec[key], {"checkpoint": f"training batch at iteration {rec['iteration']}"})
    return last


def describe_final_metrics(run: Run) -> str:
    """One line per metric, `name=value (protocol)`; the seed is left out (the tables show it)."""
    lines = []
    for name, (value, protocol) in final_metrics(run).items():
        details = "; ".join(f"{k} {v}" for k, v in protocol.items() if k != "seed")
        lines.append(f"{name}={value:.4g}" + (f" ({details})" if details else ""))
    return "\n".join(lines)


def set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)

"""Run several seeds of one recipe as one vectorised ensemble, each into its own run directory.

The directories are the ones serial runs produce (same files, same records, same checkpoint
format), so every other command reads them as it reads serial runs, and a member's checkpoint
resumes serially. The loop follows `Trainer.fit`: log every `log_every`, evaluate every
`eval.every`, checkpoint every `checkpoint_every`, a final evaluation and checkpoint; a member that
diverges stops logging at that point and keeps status `diverged`, as its serial run would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.ensemble import EnsembleTrainer
from repro_cli.runs.checkpoint import save_checkpoint
from repro_cli.runs.rundir import Run


def execute_ensemble(recipe: Recipe, seeds: list[int], out: Path, device: str, overrides: list[str],
                     data: DataContext | None = None, on_start: Callable[[EnsembleTrainer], None] | None = None,
                     on_log: Callable[[dict[str, Any]], None] | None = None) -> list[Run]:
    """Raises `NotBatchable` before creating any directory when the recipe cannot be vectorised."""
    ensemble = EnsembleTrainer(recipe, seeds, device=device, data=data)
    runs = [Run.create(out, recipe, s, device=device, overrides=overrides, extra={"total_iterations": ensemble.total}) for s in seeds]
    if on_start is not None:
        on_start(ensemble)
    try:
        statuses = fit_ensemble(ensemble, runs, on_log)
    except BaseException as err:
        for run in runs:
            run.update(status="failed", iteration=ensemble.iteration, error=f"{type(err).__name__}: {err}")
        raise
    for run, (status, iteration) in zip(runs, statuses):
        run.update(status=status, iteration=iteration)
    return runs


def fit_ensemble(ensemble: EnsembleTrainer, runs: list[Run], on_log: Callable[[dict[str, Any]], None] | None = None) -> list[tuple[str, int]]:
    """Train every member to the end; returns each member's (status, last iteration)."""
    train, every, total = ensemble.recipe.train, ensemble.recipe.eval.every, ensemble.total
    live = dict.fromkeys(range(len(runs)))  # members still training, in order
    statuses: list[tuple[str, int]] = [("completed", total)] * len(runs)
    start = time.perf_counter()
    while ensemble.iteration < total and live:
        stats = ensemble.step()
        it = ensemble.iteration
        if it % train.log_every == 0 or it == total:
            seconds = round(time.perf_counter() - start, 3)
            values = {k: v.tolist() for k, v in stats.items()}  # one host transfer for all members
            for i in list(live):
                record = {"type": "train", "iteration": it, "seconds": seconds, **{k: v[i] for k, v in values.items()}}
                runs[i].log(record)
                if on_log is not None:
                    on_log(record)
                if not all(math.isfinite(v[i]) for v in values.values()):
                    statuses[i] = ("diverged", it)
                    del live[i]
        evaluate = every and it % every == 0 and it != total
        checkpoint = train.checkpoint_every and it % train.checkpoint_every == 0
        if evaluate or checkpoint:
            _each_member(ensemble, runs, live, evaluate=evaluate, checkpoint=checkpoint)
    _each_member(ensemble, runs, live, evaluate=True, checkpoint=True)
    return statuses


def _each_member(ensemble: EnsembleTrainer, runs: list[Run], live: dict, *, evaluate: bool, checkpoint: bool) -> None:
    ensemble.sync_members()
    for i in live:
        with ensemble.as_member(i) as member:
            if evaluate:
                for record in member.evaluate(runs[i]):
                    runs[i].log(record)
            if checkpoint:
                save_checkpoint(runs[i], member)


"""Run several seeds (of one recipe, or of recipes sharing an `ensemble_key`) as one vectorised
ensemble, each into its own run directory.

The directories are the ones serial runs produce (same files, same records, same checkpoints),
so every other command reads them as it reads serial runs, and a member's checkpoint resumes
serially. The loop is `Trainer.fit` for all members at once: log every `log_every`, stop a member
at the step its losses turn non-finite, evaluate every `eval.every`, checkpoint every
`checkpoint_every` (and on `stop()`, then status `preempted`), a final evaluation and checkpoint.
Each member's evaluation, best checkpoint and divergence record go through its own Trainer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.ensemble import EnsembleTrainer, ensemble_key
from repro_cli.runs.checkpoint import save_checkpoint
from repro_cli.runs.execute import Stop, record_outcome
from repro_cli.runs.rundir import Run


def ensemble_groups(pairs: Sequence[tuple[Recipe, int]]) -> list[list[int]]:
    """Indices of the (recipe, seed) pairs that can train as one ensemble (same `ensemble_key`),
    in order; groups of one are left out (nothing to vectorise)."""
    groups: dict[str, list[int]] = {}
    for i, (recipe, _) in enumerate(pairs):
        groups.setdefault(ensemble_key(recipe), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def execute_ensemble(recipe: Recipe | Sequence[Recipe], seeds: list[int], out: Path, device: str, overrides: list[str],
                     data: DataContext | None = None, on_start: Callable[[EnsembleTrainer], None] | None = None,
                     on_log: Callable[[dict[str, Any]], None] | None = None, stop: Stop = lambda: False) -> list[Run]:
    """Member i trains `recipe[i]` (or the one `recipe`) with `seeds[i]`; runs come back in that
    order. Raises `NotBatchable` before creating any directory when the members cannot be vectorised
    together."""
    recipes = [recipe] * len(seeds) if isinstance(recipe, Recipe) else list(recipe)
    # Members with a penalty first: the closed-form D step's penalty chain then covers only them.
    order = sorted(range(len(seeds)), key=lambda i: recipes[i].penalty.weight <= 0)
    ensemble = EnsembleTrainer([recipes[i] for i in order], [seeds[i] for i in order], device=device, data=data)
    runs = [Run.create(out, m.recipe, m.seed, device=device, overrides=overrides, extra={"total_iterations": ensemble.total})
            for m in ensemble.members]
    if on_start is not None:
        on_start(ensemble)
    try:
        try:
            statuses = fit_ensemble(ensemble, runs, on_log, stop)
        except BaseException as err:
            for run in runs:
                run.update(status="failed", iteration=ensemble.iteration, error=f"{type(err).__name__}: {err}")
            raise
        for run, member, status in zip(runs, ensemble.members, statuses):
            record_outcome(run, member, status, stop)
    finally:
        for run in runs:
            run.release()
    in_given_order = dict(zip(order, runs))
    return [in_given_order[i] for i in range(len(runs))]


def fit_ensemble(ensemble: EnsembleTrainer, runs: list[Run], on_log: Callable[[dict[str, Any]], None] | None = None,
                 stop: Stop = lambda: False) -> list[str]:
    """Train every member to its end; returns each member's status."""
    train, every, total = ensemble.recipe.train, ensemble.recipe.eval.every, ensemble.total
    statuses = ["completed"] * len(runs)
    live = list(range(len(runs)))
    started = time.perf_counter()
    while ensemble.iteration < total and live:
        stats = ensemble.step()
        it = ensemble.iteration
        logging = it % train.log_every == 0 or it == total
        # One host sync per step for all members (as Trainer.fit, which stops at the first NaN);
        # stack promotes mixed dtypes.
        finite = torch.isfinite(torch.stack(list(stats.values()))).all(0).tolist()
        stopping = stop()
        evaluating = every and it % every == 0 and it != total
        checkpointing = stopping or (train.checkpoint_every and it % train.checkpoint_every == 0)
        if not (logging or evaluating or checkpointing) and all(finite):
            continue  # most steps: nothing to record for any member
        elapsed = time.perf_counter() - started
        values = {k: v.tolist() for k, v in stats.items()} if logging or not all(finite) else {}
        for i in list(live):
            member, run = ensemble.members[i], runs[i]
            member.elapsed = elapsed
            if logging:
                record = {"type": "train", "iteration": it, "seconds": round(elapsed, 3), **{k: v[i] for k, v in values.items()}}
                run.log(record)
                if on_log is not None:
                    on_log(record)
            status = None
            if not finite[i]:
                status = member._diverged(run, {k: v[i] for k, v in values.items()}, "loss")
            else:
                if evaluating:
                    member._log_eval(run)
                if checkpointing:
                    status = _checkpoint(member, run) or ("preempted" if stopping else None)
            if status is not None:
                statuses[i] = status
                live.remove(i)
    elapsed = time.perf_counter() - started
    for i in live:
        ensemble.members[i].elapsed = elapsed
        ensemble.members[i]._log_eval(runs[i])
        statuses[i] = _checkpoint(ensemble.members[i], runs[i]) or "completed"
    return statuses


def _checkpoint(member, run: Run) -> str | None:
    """Save the member's checkpoint; 'diverged' instead when its weights are no longer finite."""
    if not member.weights_finite():
        return member._diverged(run, {}, "weight")
    save_checkpoint(run, member)
    return None

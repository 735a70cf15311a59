"""One ensemble's members split over several processes, one per CPU core.

A vectorised ensemble step on a tiny network costs ~2.5 ms of per-operation overhead whatever the
number of members (benchmarks/run.py), so one process uses one core and half the machine idles.
Here the members are split into balanced parts (a penalised member costs about twice an
unpenalised one); this process trains the first part (with the progress bar) and forked
processes, one thread each, train the others. Every part is an ordinary `execute_ensemble`: each
member still writes its own run directory, atomically, exactly as before.

Pre-emption: Ctrl-C reaches every process of the terminal's group; a SIGTERM/SIGUSR1 sent to this
process alone is forwarded to the children. Each part then checkpoints its members and stops,
and the caller exits with code 75 as for one process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.ensemble import EnsembleTrainer
from repro_cli.errors import ReproError
from repro_cli.runs.ensemble import execute_ensemble
from repro_cli.runs.execute import Stop
from repro_cli.runs.rundir import Run
from repro_cli.runs.signals import stop_on_signals

# Below this many members per process the split is not worth a process (its fixed overhead wins).
MIN_MEMBERS_PER_PROCESS = 4


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def split_members(recipes: Sequence[Recipe], parts: int) -> list[list[int]]:
    """Member indices in `parts` groups of about equal cost (each in the original order)."""
    cost = [2 if r.penalty.weight > 0 else 1 for r in recipes]
    groups: list[list[int]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for i in sorted(range(len(recipes)), key=lambda i: -cost[i]):
        lightest = loads.index(min(loads))
        groups[lightest].append(i)
        loads[lightest] += cost[i]
    return [sorted(g) for g in groups if g]


def execute_ensemble_in_processes(recipes: Sequence[Recipe], seeds: list[int], out: Path, device: str, overrides: list[str],
                                  data: DataContext | None = None, on_start: Callable[[EnsembleTrainer], None] | None = None,
                                  on_log: Callable[[dict[str, Any]], None] | None = None, stop: Stop = lambda: False,
                                  processes: int | None = None) -> list[Run]:
    """`execute_ensemble` with the members split over `processes` processes (default: one per CPU
    core, on a CPU, when each gets MIN_MEMBERS_PER_PROCESS members). Runs come back in member order."""
    if processes is None:
        processes = min(cpu_cores(), len(seeds) // MIN_MEMBERS_PER_PROCESS) if device == "cpu" else 1
    if processes <= 1:
        return execute_ensemble(recipes, seeds, out, device, overrides, data, on_start=on_start, on_log=on_log, stop=stop)
    EnsembleTrainer(recipes, seeds, device=device, data=data)  # NotBatchable here, before any process or directory
    parts = split_members(recipes, processes)
    context = multiprocessing.get_context("fork")  # the children inherit the loaded recipes and data
    children = []
    for part in parts[1:]:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=([recipes[i] for i in part], [seeds[i] for i in part], out, device, overrides, data, send),
                                daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    stop_all = _Forwarding(stop, [child for child, _ in children])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core per process
    try:
        first = execute_ensemble([recipes[i] for i in parts[0]], [seeds[i] for i in parts[0]], out, device, overrides, data,
                                 on_start=on_start, on_log=on_log, stop=stop_all)
        paths: dict[int, Path] = {i: run.path for i, run in zip(parts[0], first)}
        errors = []
        for part, (child, receive) in zip(parts[1:], children):
            while not receive.poll(0.2):  # keep forwarding a stop that arrives while we wait
                stop_all()
                if not child.is_alive() and not receive.poll(0):
                    break
            status, result = receive.recv() if receive.poll(0) else ("error", f"process {child.pid} died (exit code {child.exitcode})")
            child.join()
            if status == "ok":
                paths.update(zip(part, map(Path, result)))
            else:
                errors.append(result)
        if errors:
            raise ReproError(f"an ensemble process failed: {errors[0]}")
    finally:
        torch.set_num_threads(threads)
        for child, _ in children:
            if child.is_alive():
                child.kill()
    return [Run.open(paths[i]) for i in range(len(seeds))]


class _Forwarding:
    """`stop`, which also passes a stop on to the child processes (once) as SIGTERM."""

    def __init__(self, stop: Stop, children: list):
        self.stop, self.children, self.forwarded = stop, children, False

    @property
    def signal(self) -> str | None:  # what record_outcome reports as `stopped_by`
        return getattr(self.stop, "signal", None)

    def __call__(self) -> bool:
        stopping = self.stop()
        if stopping and not self.forwarded:
            self.forwarded = True
            for child in self.children:
                if child.is_alive():
                    os.kill(child.pid, signal.SIGTERM)
        return stopping


def _child(recipes, seeds, out, device, overrides, data, send) -> None:
    torch.set_num_threads(1)
    try:
        with stop_on_signals() as stop:  # this process's own handlers (not the parent's copies)
            runs = execute_ensemble(recipes, seeds, out, device, overrides, data, stop=stop)
        send.send(("ok", [str(run.path) for run in runs]))
    except BaseException as err:  # reported by the parent, which raises it as one line
        send.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        send.close()

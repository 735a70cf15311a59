"""Wall time of the issue's end-to-end scenario against the same runs one at a time.

    python benchmarks/sweep_2d.py [--recipes 'gaussian-*'] [--seeds 0-4] [--serial-iterations 2000]

1. Times the exact command `repro train -r RECIPES --seeds SEEDS -q` (vectorised ensembles, split
   over one process per core; full recipe budgets, evaluations and figures included) in a fresh
   temporary results folder.
2. Estimates the same runs one at a time, without running them all (that takes about an hour):
   for each recipe, `Trainer.step` of one seed is timed over --serial-iterations iterations in
   three blocks (the fastest kept, so a burst of load on a shared machine does not count), and one
   evaluation (the value surface with its figure) is timed; one run is then
   start-up + iterations × time per iteration + evaluations × time per evaluation, where start-up
   is the wall time of `repro train -r RECIPE --iterations 1` (imports, recipe, build, one
   evaluation and checkpoint). The step alone leaves out the loop's per-step logging and checks,
   so the estimate is, if anything, too low (in serial's favour).
Prints both, their ratio, and the 1-minute load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPRO = [str(Path(sys.executable).with_name("repro"))]  # the entry point installed next to this Python


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(REPRO + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def step_seconds(recipe, iterations: int) -> float:
    """Seconds per `Trainer.step` of seed 0: the fastest of three blocks of `iterations`."""
    import torch

    from repro_cli.engine.trainer import Trainer

    torch.set_num_threads(1)  # as the quick serial run; tiny ops lose time to thread hand-offs
    trainer = Trainer(recipe, seed=0)
    for _ in range(20):
        trainer.step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.step()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


def one_evaluation_seconds(recipe: str) -> float:
    """Seconds of one evaluation of the recipe's metrics, figures included, on a fresh D."""
    from repro_cli.config.recipes import load_recipe
    from repro_cli.engine.trainer import Trainer
    from repro_cli.runs.rundir import Run

    with tempfile.TemporaryDirectory() as tmp:
        rec = load_recipe(recipe)
        trainer = Trainer(rec, seed=0)
        run = Run.create(Path(tmp), rec, 0, device="cpu", overrides=[])
        trainer.evaluate(run)  # warm-up: fonts, first figure
        start = time.perf_counter()
        trainer.evaluate(run)
        seconds = time.perf_counter() - start
        run.release()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default="gaussian-*")
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--serial-iterations", type=int, default=2000)
    parser.add_argument("--ensemble-seconds", type=float, help="skip step 1 and use this wall time (from an earlier measurement)")
    opts = parser.parse_args()

    from repro_cli.cli.app import parse_seeds
    from repro_cli.config.recipes import expand_patterns, load_recipe
    from repro_cli.engine.trainer import Trainer

    recipes = expand_patterns([opts.recipes])
    seeds = parse_seeds(None, opts.seeds)
    load_before = os.getloadavg()[0]
    if opts.ensemble_seconds:
        ensemble_seconds, runs = opts.ensemble_seconds, len(recipes) * len(seeds)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ensemble_seconds = timed(["train", "-r", opts.recipes, "--seeds", opts.seeds, "-q", "--out", tmp], Path(tmp))
            runs = len(list(Path(tmp).glob("*/*/run.json")))
    serial = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in recipes:
            rec = load_recipe(name)
            total = Trainer(rec, seed=0).total
            evaluations = len(range(rec.eval.every, total, rec.eval.every)) + 1 if rec.eval.every else 1
            startup = timed(["train", "-r", name, "--seed", "0", "--no-ensemble", "-q", "--out", tmp, "--iterations", "1"], Path(tmp))
            per_iteration = step_seconds(rec, opts.serial_iterations)
            evaluation = one_evaluation_seconds(name)
            per_run = startup + per_iteration * total + evaluations * evaluation
            serial[name] = {"iterations": total, "ms_per_iteration": round(per_iteration * 1e3, 3), "startup_s": round(startup, 2),
                            "evaluations": evaluations, "s_per_evaluation": round(evaluation, 2), "estimated_run_s": round(per_run, 1)}
    serial_seconds = sum(v["estimated_run_s"] for v in serial.values()) * len(seeds)
    print(json.dumps({"command": f"repro train -r '{opts.recipes}' --seeds {opts.seeds}", "runs": runs,
                      "ensemble_wall_s": round(ensemble_seconds, 1), "serial_estimate_s": round(serial_seconds, 1),
                      "speedup": round(serial_seconds / ensemble_seconds, 2), "serial_per_recipe": serial,
                      "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpu_cores": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()

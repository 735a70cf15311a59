"""Measured training speed of the MNIST / Stacked MNIST recipes on this machine.

No MNIST is needed: the recipes run on random images written in the real IDX layout (step time
does not depend on pixel values), and the full-budget estimate assumes the real 60,000-image
training set (Stacked MNIST: the recipe's n_train). Prints seconds per iteration (n_dis D steps +
one G step, the recipe's batch size) and the estimated wall time of each recipe's full budget.

    python benchmarks/mnist_speed.py [--threads 1] [--steps 10] [--recipes 'mnist-*,stacked-mnist-*']
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.data.base import DataContext
from repro_cli.data.idx import write_idx
from repro_cli.engine.trainer import Trainer

MNIST_TRAIN_SIZE = 60_000


def write_random_mnist(root: Path, n_train: int = 2048, n_test: int = 512) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))


def full_budget(recipe) -> int:
    """Iterations of the recipe on the real data set (epochs are counted on 60,000 MNIST images)."""
    if recipe.train.iterations is not None:
        return recipe.train.iterations
    batches = MNIST_TRAIN_SIZE // recipe.train.batch_size
    return math.ceil(recipe.train.epochs * batches / recipe.optim.n_dis)


def seconds_per_iteration(trainer: Trainer, steps: int, chunks: int = 3) -> float:
    for _ in range(2):  # warm-up: allocator, autograd graph caches
        trainer.step()
    times = []
    for _ in range(chunks):
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="iterations per timed chunk (median of 3 chunks)")
    parser.add_argument("--recipes", default="mnist-*,stacked-mnist-*")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_random_mnist(Path(tmp))
        ctx = DataContext(root=Path(tmp), download=False)
        for name in expand_patterns(args.recipes.split(",")):
            recipe = load_recipe(name, ["data.n_train=1000"] if name.startswith("stacked") else [])
            trainer = Trainer(recipe, data=ctx)
            sec = seconds_per_iteration(trainer, args.steps)
            budget = full_budget(load_recipe(name))
            rows.append({"recipe": name, "n_dis": recipe.optim.n_dis, "batch": recipe.train.batch_size,
                         "penalty": f"{recipe.penalty.preset} λ={recipe.penalty.weight:g}", "s/iteration": round(sec, 4),
                         "iterations": budget, "full budget (min)": round(sec * budget / 60, 1)})
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"MNIST recipe speed: torch {torch.__version__}, {args.threads} thread(s) of {os.cpu_count()} CPUs "
          f"({platform.processor() or platform.machine()}, load average {load}), "
          f"median of 3 chunks of {args.steps} iterations after 2 warm-up; training only (evaluation excluded); "
          f"budgets on {MNIST_TRAIN_SIZE} MNIST images")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

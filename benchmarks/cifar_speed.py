"""Measured speed of the CIFAR-10 recipes and the overhead of each D normalisation.

    python benchmarks/cifar_speed.py [--data-dir DIR] [--iterations 3] [--batch-size 64] [--device cpu]

Times `Trainer.step()` (n_dis D updates + one G update; no evaluation, no checkpoint) for every CIFAR
recipe at its own batch size unless --batch-size is given, after warm-up steps, and prints the median
seconds per iteration and iterations per second. Then times `cifar-sn` with each normalisation
swapped in (`--set normalization.name=...`) and prints its cost relative to `none`, plus the cost of one
`sn-diagnostics` evaluation. Without --data-dir, random images are written in the CIFAR pickle format
to a temporary directory (speed does not depend on pixel values). Runs on CPU, and on CUDA when
available unless --device is given. Numbers depend on the machine and its load: rerun on an idle one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.data.cifar10 import write_cifar10_batches
from repro_cli.engine.trainer import Trainer

RECIPES = ["cifar-sn", "cifar-strict-sn", "cifar-bsn", "cifar-ssn", "cifar-bssn", "cifar-resnet-sn", "cifar-resnet-bssn",
           "cifar-nogp", "cifar-0gp-sample", "cifar-0gp"]
NORMALIZATIONS = ["none", "sn", "strict-sn", "bsn", "ssn", "bssn"]


def seconds_per_iteration(trainer: Trainer, warmup: int, iterations: int, device: torch.device) -> float:
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        trainer.step()
    times = []
    for _ in range(iterations):
        sync()
        start = time.perf_counter()
        trainer.step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_trainer(name: str, overrides: list[str], ctx: DataContext, device: torch.device) -> Trainer:
    return Trainer(load_recipe(name, overrides), seed=0, device=device, data=ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per measurement (median reported)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None, help="override every recipe's batch size")
    parser.add_argument("--recipes", nargs="*", default=RECIPES)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cpu, plus cuda when available)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device(args.device)] if args.device else [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])

    with tempfile.TemporaryDirectory() as tmp:
        overrides = ["eval.every=0"]
        if args.data_dir is None:
            rng = np.random.default_rng(0)
            n = max(640, 4 * (args.batch_size or 64))
            write_cifar10_batches(Path(tmp), rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8))
            overrides.append("data.verify_checksums=false")
            source = f"{n} random images in the CIFAR pickle format"
        else:
            source = f"CIFAR-10 from {args.data_dir}"
        if args.batch_size:
            overrides.append(f"train.batch_size={args.batch_size}")
        ctx = DataContext(root=args.data_dir or Path(tmp), download=False)
        print(f"# data: {source}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
              f"median of {args.iterations} timed iterations after {args.warmup} warm-up; Trainer.step only")
        for device in devices:
            print(f"\n## recipes on {device}")
            print(f"{'recipe':<20} {'batch':>5} {'n_dis':>5} {'s/iter':>9} {'iter/s':>8}")
            for name in args.recipes:
                trainer = make_trainer(name, overrides, ctx, device)
                s = seconds_per_iteration(trainer, args.warmup, args.iterations, device)
                print(f"{name:<20} {trainer.recipe.train.batch_size:>5} {trainer.recipe.optim.n_dis:>5} {s:>9.3f} {1 / s:>8.2f}")

            print(f"\n## cifar-sn (SNGAN CNN) with each normalisation on {device}")
            print(f"{'normalization':<14} {'s/iter':>9} {'vs none':>8}")
            base = None
            for norm in NORMALIZATIONS:
                trainer = make_trainer("cifar-sn", overrides + [f"normalization.name={norm}"], ctx, device)
                s = seconds_per_iteration(trainer, args.warmup, args.iterations, device)
                base = base or s
                print(f"{norm:<14} {s:>9.3f} {s / base:>7.2f}x")
            trainer = make_trainer("cifar-sn", overrides, ctx, device)
            start = time.perf_counter()
            trainer.evaluate()
            print(f"\none sn-diagnostics evaluation (64 real + 64 fake) on {device}: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()

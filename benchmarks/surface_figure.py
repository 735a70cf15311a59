"""Time one evaluation's value-surface figure (PNG + PDF) and the start-up of `repro train`.

    python benchmarks/surface_figure.py [--recipe gaussian-0gp] [--figures 12] [--startups 3]

1. Figures: a run of RECIPE draws the figure of its value surface (the recipe's grid) at
   --figures successive evaluations, 20 training iterations apart (so D changes, as in a run; D*
   stays), in one process as `repro train` does. Prints the CPU and wall seconds per figure
   (the first figure, which builds the figure once per process, and the best and median of the
   others), measured around `plot_surface` alone.
2. Start-up: wall seconds of `repro train -r 'gaussian-*' --seeds 0-4 --iterations 1 --set
   eval.metrics=[]` (imports, 25 recipes and trainers, two processes, 25 run directories, one
   step, checkpoints; no evaluation), best of --startups runs.
Run it before and after a change in the same conditions (the machine may be shared: the load
average is printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPRO = [str(Path(sys.executable).with_name("repro"))]


def figure_seconds(recipe_name: str, figures: int, out: Path) -> tuple[list[float], list[float]]:
    import torch

    from repro_cli.config.recipes import load_recipe
    from repro_cli.engine.trainer import Trainer
    from repro_cli.plots.surface import plot_surface
    from repro_cli.surface import compute_surface

    torch.set_num_threads(1)
    recipe = load_recipe(recipe_name, ["eval.metrics=[]"])
    spec = next(m.params for m in load_recipe(recipe_name).eval.metrics if m.name == "value-surface")
    trainer = Trainer(recipe, seed=0)
    cpu, wall = [], []
    for i in range(figures):
        for _ in range(20):
            trainer.step()
        trainer.iteration += 20
        surface = compute_surface(trainer, spec["lo"], spec["hi"], spec["resolution"])
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        plot_surface(surface, f"{recipe_name}, iteration {trainer.iteration}", out / f"surface-{i:03d}")
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return cpu, wall


def startup_seconds(out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(REPRO + ["train", "-r", "gaussian-*", "--seeds", "0-4", "--iterations", "1", "-q", "--out", str(out),
                            "--set", "eval.metrics=[]"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="gaussian-0gp")
    parser.add_argument("--figures", type=int, default=12)
    parser.add_argument("--startups", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = figure_seconds(args.recipe, args.figures, Path(tmp))
        rest = slice(1, None)
        print(f"figure ({args.recipe}, PNG + PDF): first {cpu[0]:.3f} s CPU / {wall[0]:.3f} s wall; "
              f"then best {min(cpu[rest]):.3f} / {min(wall[rest]):.3f} s, median {statistics.median(cpu[rest]):.3f} / "
              f"{statistics.median(wall[rest]):.3f} s over {len(cpu) - 1}")
        if args.startups:
            times = [startup_seconds(Path(tmp) / f"startup-{i}") for i in range(args.startups)]
            print(f"start-up of repro train -r 'gaussian-*' --seeds 0-4 (1 iteration, no evaluation): best {min(times):.2f} s wall, "
                  f"all {', '.join(f'{t:.2f}' for t in times)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

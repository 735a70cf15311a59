"""Benchmark the engine: `python benchmarks/run.py` (options: --help).

For each recipe it measures, on the current device, in fresh processes:

  engine    Trainer.step, iterations/s
  bare      a minimal hand-written PyTorch loop of the same recipe (same models, optimisers, data
            source, loss and penalty math; no registries, no stats), iterations/s
  overhead  engine time / bare time (1.00 = no engine overhead)
  serial    N seeds trained one after another with Trainer.step, seed-iterations/s
  ensemble  the same N seeds as one vectorised EnsembleTrainer, seed-iterations/s
  speedup   serial time / ensemble time
  closed    for an ensemble whose D has closed-form gradients (engine/closed_form.py): the same
            ensemble with autograd's backward and double backward / with the closed form
  gp cost   for a recipe with a gradient penalty: (engine step − the same step with the penalty
            switched off) / (n_dis × one forward+backward of D on a batch), i.e. what the penalty
            adds in units of "one more D forward+backward" (autograd's double backward alone needs
            about two: the input gradient with create_graph, then its backward)
  memory    peak memory that building and running the engine (one seed) or the ensemble (N seeds)
            adds to a fresh process: resident memory on CPU, allocated memory on CUDA

Timed pairs (engine vs bare, serial vs ensemble) run in one process in alternating blocks and
keep each side's fastest block, so load on a shared machine hits both sides of a ratio alike.

Recipes whose data is not available (or that cannot be vectorised) show the reason instead of a
number. Results print as a table and are written as CSV and JSON (with device, torch version, CPU,
threads and date) to benchmarks/results/. Targets (issue #8): overhead <= 1.05 on the MNIST and
CIFAR recipes; ensemble >= 5x serial on the small 2-D recipes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fnmatch
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

DEFAULT_RECIPES = ["gaussian-0gp", "gaussian-0gp-sample", "8gaussians-0gp", "8gaussians-0gp-sample", "8gaussians-wgan-gp",
                   "mnist-nogp", "mnist-0gp", "mnist-0gp-sample", "cifar-nogp", "cifar-0gp", "cifar-sn", "cifar-bssn", "cifar-resnet-sn"]
RESULTS = Path(__file__).resolve().parent / "results"


# --- the bare loop: what the engine's step costs when written by hand ---------------------------------
def bare_loop(parts, recipe):
    """One iteration of the recipe written as a plain PyTorch loop over the same objects."""
    batch, n_dis, spec = recipe.train.batch_size, recipe.optim.n_dis, recipe.penalty
    D, G, loss, opt_d, opt_g = parts.D, parts.G, parts.loss, parts.opt_d, parts.opt_g
    noise = torch.Generator(device=next(D.parameters()).device).manual_seed(0)
    alpha_rng = torch.Generator(device=noise.device).manual_seed(1)
    link = torch.sigmoid if spec.gradient_of == "probability" else (lambda t: t)
    # As the engine (and the authors): batch-norm D sees real and fake in separate passes.
    joint = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in D.modules())

    def fake_batch():
        if G is None:
            return parts.fake_data.batch(batch)
        return G(torch.randn(batch, G.z_dim, generator=noise, device=noise.device))

    def step():
        for _ in range(n_dis):
            real = parts.real.batch(batch)
            if spec.weight > 0 and spec.points == "real":
                real.requires_grad_(True)
            with torch.no_grad():
                fake = fake_batch()
            if joint:
                scores = D(torch.cat([real, fake]))
                d_real, d_fake = scores[:batch], scores[batch:]
            else:
                d_real, d_fake = D(real), D(fake)
            d_loss = loss.discriminator(d_real, d_fake)
            if spec.weight > 0:
                if spec.points == "real":
                    points, p_scores = real, d_real
                else:
                    if spec.points == "interpolates":
                        alpha = torch.rand(batch, *[1] * (real.dim() - 1), generator=alpha_rng, device=real.device)
                        points = torch.lerp(fake, real, alpha)
                    else:
                        points = {"fake": fake, "real+fake": torch.cat([real, fake])}[spec.points]
                    points = points.detach().requires_grad_(True)
                    p_scores = D(points)
                (grad,) = torch.autograd.grad(link(p_scores).sum(), points, create_graph=True)
                d_loss = d_loss + spec.weight * (grad.flatten(1).norm(dim=1) - spec.center).pow(2).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        if G is not None:
            for p in D.parameters():
                p.requires_grad_(False)
            g_loss = loss.generator(D(fake_batch()))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            for p in D.parameters():
                p.requires_grad_(True)
        return d_loss

    return step


def d_forward_backward(parts, recipe):
    """The unit of the gp-cost column: one forward and backward of D on one batch of real samples
    (gradients for D's weights, as a D step computes them)."""
    batch, D = recipe.train.batch_size, parts.D

    def step():
        scores = D(parts.real.batch(batch))
        D.zero_grad(set_to_none=True)
        scores.sum().backward()
        return scores

    return step


# --- measurements, each in a fresh process -------------------------------------------------------------
def _peak_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _warm_up_libraries(device: torch.device) -> None:
    """One-time costs that are not the measurement's: the first optimiser imports torch._dynamo
    (~150 MB resident), the first double backward initialises autograd's engine."""
    x = torch.ones(2, device=device, requires_grad=True)
    torch.optim.Adam([x]).zero_grad()
    (grad,) = torch.autograd.grad((x * x).sum(), x, create_graph=True)
    grad.sum().backward()


def _steps(kind: str, recipe, seeds: int, device: torch.device) -> list:
    """The step functions one iteration of `kind` calls (several for serial seeds)."""
    from repro_cli.engine.build import build
    from repro_cli.engine.ensemble import EnsembleTrainer
    from repro_cli.engine.trainer import Trainer

    if kind == "engine":
        return [Trainer(recipe, seed=0, device=device).step]
    if kind == "bare":
        return [bare_loop(build(recipe, 0, device), recipe)]
    if kind == "serial":
        return [Trainer(recipe, seed=s, device=device).step for s in range(seeds)]
    if kind == "no_penalty":
        return [Trainer(dataclasses.replace(recipe, penalty=dataclasses.replace(recipe.penalty, weight=0.0)), seed=0, device=device).step]
    if kind == "d_forward_backward":
        return [d_forward_backward(build(recipe, 0, device), recipe)]
    ensemble = EnsembleTrainer(recipe, list(range(seeds)), device=device)
    if kind == "ensemble_autograd":
        ensemble.closed_form = None
    return [ensemble.step]


def _run(steps: list, iterations: int, device: torch.device) -> float:
    """Seconds for `iterations` iterations of every step function, waiting for the device."""
    start = time.perf_counter()
    for step in steps:
        for _ in range(iterations):
            out = step()
    last = next(iter(out.values())) if isinstance(out, dict) else out
    float(last.detach().sum())
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def time_pair(kinds: tuple[str, str], recipe_name: str, overrides: list[str], seeds: int, seconds: float, repeats: int,
              device: str, threads: int) -> dict:
    """Both kinds in one process, in alternating blocks of the same number of iterations (about
    `seconds` of the first kind), keeping each kind's fastest block: a burst of load on a shared
    machine then hits both sides of the ratio alike."""
    from repro_cli.config.recipes import load_recipe

    torch.set_num_threads(threads)
    dev = torch.device(device)
    recipe = load_recipe(recipe_name, overrides)
    steps = {kind: _steps(kind, recipe, seeds, dev) for kind in kinds}
    for kind in kinds:
        _run(steps[kind], 3, dev)  # warm-up: allocator, lazy optimiser state, first-call dispatch
    iterations = max(2, round(seconds / (_run(steps[kinds[0]], 2, dev) / 2)))
    best = dict.fromkeys(kinds, float("inf"))
    for _ in range(repeats):
        for kind in kinds:
            best[kind] = min(best[kind], _run(steps[kind], iterations, dev))
    return {"iterations": iterations, **best}


def peak_memory(kind: str, recipe_name: str, overrides: list[str], seeds: int, device: str, threads: int) -> float:
    """MB of peak memory that building `kind` and running three iterations adds to the process."""
    from repro_cli.config.recipes import load_recipe

    torch.set_num_threads(threads)
    dev = torch.device(device)
    recipe = load_recipe(recipe_name, overrides)
    _warm_up_libraries(dev)
    baseline = _peak_bytes(dev)
    _run(_steps(kind, recipe, seeds, dev), 3, dev)
    return (_peak_bytes(dev) - baseline) / 2**20


def _safely(args: tuple):
    from repro_cli.engine.batched import NotBatchable
    from repro_cli.errors import ReproError

    function, *rest = args
    try:
        return function(*rest)
    except (ReproError, NotBatchable) as err:
        return {"error": str(err)}


def isolated(pool_context, function, *args):
    with pool_context.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_safely, ((function, *args),))


# --- the table ---------------------------------------------------------------------------------------------
def synthetic_data(root: Path) -> None:
    """Random MNIST and CIFAR-10 files in the real formats: step time does not depend on pixel
    values, so the image recipes are measured without downloading anything."""
    from mnist_speed import write_random_mnist  # benchmarks/ is on sys.path when run as a script

    from repro_cli.data.cifar10 import write_cifar10_batches

    write_random_mnist(root)
    rng = np.random.default_rng(0)
    write_cifar10_batches(root, rng.integers(0, 256, (2048, 32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8))


def data_overrides(name: str, synthetic: bool) -> list[str]:
    """What the synthetic copies need: no CIFAR checksums, small MNIST subsets."""
    if not synthetic:
        return []
    from repro_cli.config.recipes import load_recipe

    data = load_recipe(name).data.name
    return {"cifar10": ["data.verify_checksums=false"], "mnist": ["data.n_train=2048"], "stacked-mnist": ["data.n_train=1000"]}.get(data, [])


def benchmark_recipe(ctx, name: str, opts) -> dict:
    common = (opts.set + data_overrides(name, opts.data_dir is None), opts.seeds)
    row: dict = {"recipe": name}
    timing = isolated(ctx, time_pair, ("engine", "bare"), name, *common, opts.seconds, opts.repeats, opts.device, opts.threads)
    if "error" in timing:
        return {**row, "note": timing["error"]}
    row["engine_it_per_s"] = round(timing["iterations"] / timing["engine"], 2)
    row["bare_it_per_s"] = round(timing["iterations"] / timing["bare"], 2)
    row["overhead"] = round(timing["engine"] / timing["bare"], 3)
    row["engine_memory_mb"] = round(isolated(ctx, peak_memory, "engine", name, *common, opts.device, opts.threads), 1)
    row.update(penalty_cost(ctx, name, common, opts))
    if opts.seeds < 2:
        return row
    timing = isolated(ctx, time_pair, ("serial", "ensemble"), name, *common, opts.seconds, opts.repeats, opts.device, opts.threads)
    if "error" in timing:
        return {**row, "note": f"no ensemble: {timing['error']}"}
    seed_iterations = opts.seeds * timing["iterations"]
    row["serial_seed_it_per_s"] = round(seed_iterations / timing["serial"], 2)
    row["ensemble_seed_it_per_s"] = round(seed_iterations / timing["ensemble"], 2)
    row["ensemble_speedup"] = round(timing["serial"] / timing["ensemble"], 2)
    row["ensemble_memory_mb"] = round(isolated(ctx, peak_memory, "ensemble", name, *common, opts.device, opts.threads), 1)
    timing = isolated(ctx, time_pair, ("ensemble_autograd", "ensemble"), name, *common, opts.seconds, opts.repeats, opts.device, opts.threads)
    if "error" not in timing:
        row["closed_form_speedup"] = round(timing["ensemble_autograd"] / timing["ensemble"], 2)
    return row


def penalty_cost(ctx, name: str, common: tuple, opts) -> dict:
    """The gp-cost column (empty for a recipe without a gradient penalty)."""
    from repro_cli.config.recipes import load_recipe

    recipe = load_recipe(name, common[0])
    if recipe.penalty.weight <= 0:
        return {}
    timing = isolated(ctx, time_pair, ("engine", "no_penalty", "d_forward_backward"), name, *common, opts.seconds, opts.repeats,
                      opts.device, opts.threads)
    if "error" in timing:
        return {"note": f"no gp cost: {timing['error']}"}
    return {"gp_cost_d_fb": round((timing["engine"] - timing["no_penalty"]) / (recipe.optim.n_dis * timing["d_forward_backward"]), 2)}


def machine(opts) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "device": opts.device, "cpu": cpu,
            "cpu_count": os.cpu_count(), "threads": opts.threads, "load_average_1min": round(os.getloadavg()[0], 2),
            "torch": torch.__version__, "python": platform.python_version(), "seeds": opts.seeds,
            "block_seconds": opts.seconds, "repeats": opts.repeats, "data": str(opts.data_dir) if opts.data_dir else "synthetic (random images in the real formats)"}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    from repro_cli.config.recipes import recipe_names

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", "-r", action="append", help=f"recipe names or globs (default: {' '.join(DEFAULT_RECIPES)})")
    parser.add_argument("--set", "-s", action="append", default=[], help="recipe override, as for repro train")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one timed block, in seconds (default 3)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds for serial vs ensemble (default 8; 1 skips it)")
    parser.add_argument("--data-dir", type=Path, help="real data sets (default: random MNIST/CIFAR files in the real formats)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each measurement; the fastest is kept (default 3)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per measurement (default 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where CSV/JSON go (default {RESULTS})")
    opts = parser.parse_args(argv)

    names = recipe_names()
    recipes = list(dict.fromkeys(n for pattern in (opts.recipe or DEFAULT_RECIPES) for n in fnmatch.filter(names, pattern)))
    if not recipes:
        parser.error(f"no recipe matches {opts.recipe}; `repro recipes` lists them")
    ctx = multiprocessing.get_context("spawn")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["REPRO_DATA_DIR"] = str(opts.data_dir or tmp)  # inherited by the measuring processes
        os.environ["REPRO_OFFLINE"] = "1"
        if opts.data_dir is None:
            synthetic_data(Path(tmp))
        for name in recipes:
            rows.append(benchmark_recipe(ctx, name, opts))
            print(f"measured {name}: {rows[-1]}", flush=True)
    table = pd.DataFrame(rows).set_index("recipe")
    info = machine(opts)

    opts.out.mkdir(parents=True, exist_ok=True)
    stem = opts.out / f"bench-{info['date'][:10]}-{opts.device}"
    table.to_csv(stem.with_suffix(".csv"))
    (stem.with_suffix(".json")).write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(json.dumps(info))
        print(table.to_string(na_rep="-"))
    print(f"written: {stem.with_suffix('.csv')}, {stem.with_suffix('.json')}")
    return table


if __name__ == "__main__":
    main()

"""`repro train`: run recipes × seeds, each into its own run directory."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from repro_cli.cli.app import app, console, err_console, handles_errors, parse_seeds, resolve_device
from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.data.base import DataContext, default_data_dir, offline_from_env
from repro_cli.engine import distributed
from repro_cli.engine.batched import NotBatchable
from repro_cli.engine.world import SINGLE_PROCESS, world_from_env
from repro_cli.errors import ReproError
from repro_cli.runs.ensemble import ensemble_groups
from repro_cli.runs.ensemble_processes import execute_ensemble_in_processes
from repro_cli.runs.execute import describe_final_metrics, execute, set_threads, train_on_every_rank
from repro_cli.runs.resume import find_unfinished, resume
from repro_cli.runs.signals import EXIT_PREEMPTED, stop_on_signals

DEFAULT_RECIPE = "gaussian-0gp"
# `repro train` with no recipe is the quick first run: the default recipe for 2,000 epochs (the budget
# of the report's Fig. 3) instead of its full 10,001 (Fig. 2), so it ends in seconds on a CPU. It is
# an ordinary --set override: printed, and recorded in the run's run.json like any other.
DEFAULT_BUDGET = ["train.epochs=2000"]


def data_context(data_dir: Path | None, offline: bool) -> DataContext:
    return DataContext(root=(data_dir or default_data_dir()).expanduser(), download=not (offline or offline_from_env()))


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} it/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("D {task.fields[d]}  G {task.fields[g]}"),
        console=console,
        transient=False,
    )


@app.command()
@handles_errors
def train(
    recipe: list[str] = typer.Option(None, "--recipe", "-r", help=f"Recipe name, glob pattern ('gaussian-*') or .toml path; repeat for several (default {DEFAULT_RECIPE})."),
    seed: int = typer.Option(None, "--seed", help="One seed (default 0)."),
    seeds: str = typer.Option(None, "--seeds", help="Several seeds: '0,1,2', '0-4' or '0-2,7'."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override a recipe value: --set optim.lr_d=3e-4 (TOML values)."),
    iterations: int = typer.Option(None, "--iterations", "--max-iters", min=1, help="Train this many iterations instead of the recipe's budget (same as --set train.iterations=N)."),
    # readable=False: an unreadable folder is reported as one line by handles_errors, not by Click's usage box.
    out: Path = typer.Option(Path("results"), "--out", "-o", readable=False, help="Results folder; each run gets <out>/<recipe>/<run-id>/."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    data_dir: Path = typer.Option(None, "--data-dir", readable=False, help="Where datasets live (default $REPRO_DATA_DIR or ~/.cache/repro/data)."),
    offline: bool = typer.Option(False, "--offline", help="Never download datasets (also REPRO_OFFLINE=1)."),
    threads: int = typer.Option(None, "--threads", min=1, help="torch CPU threads (default: torch's choice; 1 for the no-argument quick run, whose tiny net only loses time to thread hand-offs)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    resume_dir: Path = typer.Option(None, "--resume", readable=False, help="Continue this run directory from its newest good checkpoint (its own recipe and seed)."),
    auto_resume: bool = typer.Option(False, "--auto-resume", help="Per recipe x seed: continue the newest unfinished run (pre-empted, failed or stale) with the same config hash in --out, else start a new one."),
    force: bool = typer.Option(False, "--force", help="With --resume: accept a changed recipe (--set) or a diverged run; the change is recorded."),
    bf16: bool = typer.Option(False, "--bf16", help="CUDA: bf16 autocast for the step (= --set speed.bf16=true; ignored on CPU)."),
    tf32: bool = typer.Option(False, "--tf32", help="CUDA: TF32 matmuls and convolutions (= --set speed.tf32=true; ignored on CPU)."),
    channels_last: bool = typer.Option(False, "--channels-last", help="CUDA: channels_last memory format for conv nets (= --set speed.channels_last=true; ignored on CPU)."),
    compile_: bool = typer.Option(False, "--compile", help="CUDA: torch.compile G, and D when it has no gradient penalty (= --set speed.compile=true; ignored on CPU)."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Train several seeds of a small recipe as one vectorised ensemble (same run directories and numbers as one at a time, faster); recipes that cannot be vectorised train one seed at a time."),
) -> None:
    """Train recipes. With no options: a quick run of the [bold]gaussian-0gp[/] recipe (2,000 of its 10,001 epochs), seed 0, on CPU.

    SIGTERM, SIGUSR1 (SLURM pre-emption) or Ctrl-C: the current step finishes, a checkpoint is written
    and the command exits with code 75 so a job script can requeue it."""
    device = resolve_device(device)
    # The speed flags are shorthand for the recipe's [speed] table, so they are recorded and hashed like any --set.
    speed = {"bf16": bf16, "tf32": tf32, "channels_last": channels_last, "compile": compile_}
    overrides = list(set_) + [f"speed.{name}=true" for name, on in speed.items() if on] + ([f"train.iterations={iterations}"] if iterations else [])
    set_threads(threads or (1 if not recipe and resume_dir is None and device == "cpu" else None))
    ctx = data_context(data_dir, offline)
    world = world_from_env()
    if world.size > 1:
        ensemble, quiet = False, quiet or not world.is_main
        device = distributed.init_process_group(world, device)
    try:
        _train(recipe, seed, seeds, overrides, out, device, ctx, quiet, resume_dir, auto_resume, force, ensemble, world)
        distributed.finish()
    finally:
        distributed.shutdown()


def _train(recipe, seed, seeds, overrides, out, device, ctx, quiet, resume_dir, auto_resume, force, ensemble, world):
    if out.exists() and not out.is_dir():
        raise ReproError(f"--out {out} exists and is not a folder; choose another with --out")
    if resume_dir is not None:
        if recipe or seed is not None or seeds is not None or auto_resume:
            raise ReproError("--resume continues one run with its own recipe and seed; drop --recipe/--seed/--seeds/--auto-resume")
        jobs = [functools.partial(resume_one_run, resume_dir, overrides, force, device, ctx, quiet, world=world)]
    else:
        if force:
            raise ReproError("--force only applies to --resume RUN_DIR")
        seed_list = parse_seeds(seed, seeds)
        # Validate every recipe before training any, so a typo in the third fails in a second, not an hour.
        quick = not recipe and not any(o.startswith(("train.epochs", "train.iterations")) for o in overrides)
        if quick:
            overrides = overrides + DEFAULT_BUDGET
        recipes = [load_recipe(name, overrides) for name in expand_patterns(recipe or [DEFAULT_RECIPE])]
        if quick:  # said once the recipe is known to be valid, so a bad --set stays a one-line error
            err_console.print(f"no --recipe: quick run of {DEFAULT_RECIPE} with --set {' '.join(DEFAULT_BUDGET)} (report Fig. 3's budget); "
                              f"the full 10,001-epoch recipe is `repro train -r {DEFAULT_RECIPE}`", highlight=False)
        pairs = [(rec, s) for rec in recipes for s in seed_list]
        jobs = [functools.partial(train_one_run, rec, s, out, device, overrides, ctx, quiet, auto_resume, world=world)
                for rec, s in pairs]
        # The ensemble creates fresh runs only: resuming goes run by run.
        if ensemble and not auto_resume:
            for group in ensemble_groups(pairs):
                if pairs[group[0]][0].speed.requested:
                    continue  # the vectorised ensemble has its own fused step, without the CUDA speed switches
                ensemble_jobs = _ensemble_jobs([pairs[i] for i in group], out, device, overrides, ctx, quiet, [jobs[i] for i in group])
                for i, job in zip(group, ensemble_jobs):
                    jobs[i] = job

    table = Table(title="runs", expand=True)
    for col in ("recipe", "seed", "status", "run directory"):
        table.add_column(col, overflow="fold", ratio=1)  # paths and metrics in full, wrapped, never cut
    table.add_column("final metrics (protocol)", overflow="fold", ratio=3)
    preempted = False
    with stop_on_signals() as local_stop:
        # Under torchrun all ranks must agree to stop at the same step, or one would wait forever.
        stop = distributed.AnyRank(local_stop, device) if world.size > 1 else local_stop
        for job in jobs:
            run = job(stop=stop)
            if run is not None:  # None: a torchrun rank other than 0; rank 0 reports
                _report(table, run)
            if stop():
                preempted = True
                break
    if world.is_main:
        console.print(table)
    if preempted:
        err_console.print(f"stopped by {stop.signal} after a checkpoint; continue with: repro train --resume RUN_DIR (or rerun with --auto-resume)")
        raise typer.Exit(EXIT_PREEMPTED)


def _report(table, run):
    info = run.info
    metrics = escape(describe_final_metrics(run))
    table.add_row(info["recipe"], str(info["seed"]), info["status"], str(run.path), metrics)
    for note in info.get("accel", {}).get("notes", []):
        err_console.print(f"[dim]note: {escape(note)}[/]")
    if info["status"] == "diverged":
        err_console.print(f"[yellow]diverged:[/] {run.path}: {info.get('error')}")


def _ensemble_jobs(pairs, out, device, overrides, ctx, quiet, serial_jobs):
    """One job per (recipe, seed): the first trains them all as one vectorised ensemble and the
    others return their runs; when they cannot be vectorised each job trains its run alone."""
    trained: dict[str, list | None] = {}

    def job(index, stop=lambda: False):
        if "runs" not in trained:
            trained["runs"] = _train_ensemble(pairs, out, device, overrides, ctx, quiet, stop)
        runs = trained["runs"]
        return runs[index] if runs is not None else serial_jobs[index](stop=stop)

    return [functools.partial(job, i) for i in range(len(pairs))]


def _train_ensemble(pairs, out, device, overrides, ctx, quiet, stop):
    """All (recipe, seed) pairs at once as a vectorised ensemble, or None when they cannot be vectorised."""
    recipes, seeds = [rec for rec, _ in pairs], [s for _, s in pairs]
    names = sorted({rec.name for rec in recipes}, key=[rec.name for rec in recipes].index)
    label = f"{', '.join(names)} × {len(set(seeds))} seeds"
    short = label if len(names) == 1 else f"{len(names)} recipes × {len(set(seeds))} seeds"  # leaves room for the bar
    try:
        if quiet:
            return execute_ensemble_in_processes(recipes, seeds, out, device, overrides, ctx, stop=stop)
        with progress_bar() as progress:
            task = progress.add_task(f"{escape(short)} (ensemble of {len(pairs)})", total=None, rate="-", d="-", g="-")
            return execute_ensemble_in_processes(recipes, seeds, out, device, overrides, ctx, on_start=lambda ens: progress.update(task, total=ens.total),
                                    on_log=_progress_updater(progress, task), stop=stop)
    except NotBatchable as reason:
        if not quiet:
            console.print(f"[dim]{escape(label)}: one at a time ({reason})[/]")
        return None


def train_one_run(rec, seed, out, device, overrides, ctx, quiet, auto_resume=False, stop=lambda: False, world=SINGLE_PROCESS):
    """One recipe x seed in its own run directory (or, with auto_resume, continuing an unfinished
    one). This is the whole per-run flow of `repro train`."""
    if auto_resume:
        # Under torchrun rank 0 looks for the run and every rank continues the one it found.
        unfinished = distributed.decided_by_rank0(world, lambda: str(run.path) if (run := find_unfinished(out, rec, seed)) else None)
        if unfinished is not None:
            return resume_one_run(Path(unfinished), [], False, device, ctx, quiet, stop=stop, world=world)
    with _progress(quiet) as (on_start, on_log):
        return execute(rec, seed, out, device, overrides, ctx, on_start=on_start, on_log=on_log, stop=stop, world=world)


def resume_one_run(run_dir, overrides, force, device, ctx, quiet, stop=lambda: False, world=SINGLE_PROCESS):
    resumed = resume(run_dir, overrides, force, device, ctx, world)
    if resumed.run is not None:  # rank 0 (or the only process) tells
        for warning in resumed.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}; using an older checkpoint")
        ranks = f" on {world.size} ranks" if world.size > 1 else ""
        err_console.print(f"resuming {resumed.run.path} from {resumed.checkpoint.name} (iteration {resumed.trainer.iteration}){ranks}")
    with _progress(quiet) as (on_start, on_log):
        return train_on_every_rank(resumed.run, resumed.trainer, on_start=on_start, on_log=on_log, stop=stop)


@contextlib.contextmanager
def _progress(quiet):
    """(on_start, on_log) callbacks driving a Rich progress bar, or no-ops when quiet. The bar
    appears only once the run is built, so a build error (bad data, batch too large) stays one line."""
    if quiet:
        yield None, None
        return
    progress = progress_bar()
    task = progress.add_task("", total=None, rate="-", d="-", g="-")

    def on_start(trainer, run):
        progress.start()
        progress.update(task, description=escape(f"{trainer.recipe.name} s{trainer.seed}"), total=trainer.total, completed=trainer.iteration)

    try:
        yield on_start, _progress_updater(progress, task)
    finally:
        progress.stop()


def _progress_updater(progress, task):
    def on_log(record):
        elapsed = record["seconds"] or 1e-9
        progress.update(task, completed=record["iteration"], rate=f"{record['iteration'] / elapsed:.0f}",
                        d=f"{record['d_loss']:.4f}", g=f"{record['g_loss']:.4f}" if "g_loss" in record else "-")

    return on_log

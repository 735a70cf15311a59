"""`repro train`: run recipes × seeds, each into its own run directory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from repro_cli.cli.app import app, console, handles_errors, parse_seeds, resolve_device
from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.data.base import DataContext, default_data_dir, offline_from_env
from repro_cli.engine.batched import NotBatchable
from repro_cli.runs.ensemble import execute_ensemble
from repro_cli.runs.execute import execute, final_metrics, set_threads

DEFAULT_RECIPE = "gaussian-0gp"


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
    recipe: list[str] = typer.Option([DEFAULT_RECIPE], "--recipe", "-r", help="Recipe name, glob pattern ('gaussian-*') or .toml path; repeat for several."),
    seed: int = typer.Option(None, "--seed", help="One seed (default 0)."),
    seeds: str = typer.Option(None, "--seeds", help="Several seeds: '0,1,2', '0-4' or '0-2,7'."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override a recipe value: --set optim.lr_d=3e-4 (TOML values)."),
    iterations: int = typer.Option(None, "--iterations", "--max-iters", min=1, help="Train this many iterations instead of the recipe's budget (same as --set train.iterations=N)."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Results folder; each run gets <out>/<recipe>/<run-id>/."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Where datasets live (default $REPRO_DATA_DIR or ~/.cache/repro/data)."),
    offline: bool = typer.Option(False, "--offline", help="Never download datasets (also REPRO_OFFLINE=1)."),
    threads: int = typer.Option(None, "--threads", min=1, help="torch CPU threads (default: torch's choice)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Train several seeds of a small recipe as one vectorised ensemble (same run directories and numbers as one at a time, faster); recipes that cannot be vectorised train one seed at a time."),
) -> None:
    """Train recipes. With no options: the [bold]gaussian-0gp[/] recipe, seed 0, on CPU (about half a minute)."""
    device = resolve_device(device)
    seed_list = parse_seeds(seed, seeds)
    overrides = list(set_) + ([f"train.iterations={iterations}"] if iterations else [])
    # Validate every recipe before training any, so a typo in the third fails in a second, not an hour.
    recipes = [load_recipe(name, overrides) for name in expand_patterns(recipe)]
    set_threads(threads)
    ctx = data_context(data_dir, offline)

    table = Table(title="runs")
    for col in ("recipe", "seed", "status", "run directory", "final metrics"):
        table.add_column(col)
    for rec in recipes:
        runs = _train_ensemble(rec, seed_list, out, device, overrides, ctx, quiet) if ensemble and len(seed_list) > 1 else None
        if runs is None:
            runs = [_train_one(rec, s, out, device, overrides, ctx, quiet) for s in seed_list]
        for s, run in zip(seed_list, runs):
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in final_metrics(run).items())
            table.add_row(rec.name, str(s), run.info["status"], str(run.path), metrics)
    console.print(table)


def _train_ensemble(rec, seeds, out, device, overrides, ctx, quiet):
    """All seeds at once as a vectorised ensemble, or None when the recipe cannot be vectorised."""
    try:
        if quiet:
            return execute_ensemble(rec, seeds, out, device, overrides, ctx)
        with progress_bar() as progress:
            task = progress.add_task(f"{rec.name} s{seeds[0]}..s{seeds[-1]} (ensemble)", total=None, rate="-", d="-", g="-")
            return execute_ensemble(rec, seeds, out, device, overrides, ctx, on_start=lambda ens: progress.update(task, total=ens.total),
                                    on_log=_progress_updater(progress, task))
    except NotBatchable as reason:
        if not quiet:
            console.print(f"[dim]{rec.name}: training seeds one at a time ({reason})[/]")
        return None


def _progress_updater(progress, task):
    def on_log(record):
        elapsed = record["seconds"] or 1e-9
        progress.update(task, completed=record["iteration"], rate=f"{record['iteration'] / elapsed:.0f}",
                        d=f"{record['d_loss']:.4f}", g=f"{record['g_loss']:.4f}" if "g_loss" in record else "-")

    return on_log


def _train_one(rec, seed, out, device, overrides, ctx, quiet):
    if quiet:
        return execute(rec, seed, out, device, overrides, ctx)
    with progress_bar() as progress:
        task = progress.add_task(f"{rec.name} s{seed}", total=None, rate="-", d="-", g="-")

        def on_start(trainer, run):
            progress.update(task, total=trainer.total)

        return execute(rec, seed, out, device, overrides, ctx, on_start=on_start, on_log=_progress_updater(progress, task))

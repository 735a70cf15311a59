"""`repro evaluate`: run metrics on a run's checkpoint and append them to its metrics log."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from repro_cli import registries as R
from repro_cli.cli.app import app, console, err_console, handles_errors, resolve_device
from repro_cli.cli.commands.train import data_context
from repro_cli.config.validate import bind_signature
from repro_cli.errors import ReproError
from repro_cli.runs.checkpoint import restore_trainer
from repro_cli.runs.rundir import Run


def format_protocol(protocol: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(protocol.items()))


@app.command()
@handles_errors
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run directory."),
    checkpoint: str = typer.Option("last", "--checkpoint", help="'last' or an iteration number."),
    metrics: str = typer.Option(None, "--metrics", help="Comma-separated metric names (default: the recipe's [eval] metrics)."),
    device: str = typer.Option("cpu", "--device"),
    data_dir: Path = typer.Option(None, "--data-dir", help="Where datasets live."),
    offline: bool = typer.Option(False, "--offline", help="Never download."),
) -> None:
    """Evaluate a run's generator/discriminator at a checkpoint. Every value is printed and logged
    with its protocol (samples, reference, seed, checkpoint)."""
    run = Run.open(run_dir)
    trainer, path, warnings = restore_trainer(run, checkpoint, resolve_device(device), data_context(data_dir, offline))
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}; using an older checkpoint")
    if metrics:
        recipe_params = {m.name: m.params for m in trainer.recipe.eval.metrics}
        trainer.metrics = []
        for name in (n.strip() for n in metrics.split(",") if n.strip()):
            factory = R.METRICS.get(name, where="--metrics")
            params = recipe_params.get(name) or bind_signature(factory, {}, f"metric {name}")
            trainer.metrics.append(factory(**params))
    if not trainer.metrics:
        raise ReproError(f"recipe {trainer.recipe.name!r} defines no metrics; pass --metrics (known: {', '.join(R.METRICS.names())})")
    records = trainer.evaluate(run)
    table = Table(title=f"{run.path.name} at {path.name}")
    for col in ("metric", "value", "protocol"):
        table.add_column(col, overflow="fold")
    for rec in records:
        rec["protocol"]["checkpoint"] = f"{path.name} (iteration {trainer.iteration})"
        rec["protocol"]["source"] = "repro evaluate"
        run.log(rec)
        table.add_row(rec["name"], f"{rec['value']:.6g}", format_protocol(rec["protocol"]))
    console.print(table)

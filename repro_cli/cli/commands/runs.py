"""`repro runs`: the runs in a results folder with status, iteration and latest metrics."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from repro_cli.cli.app import app, console, handles_errors
from repro_cli.errors import ReproError
from repro_cli.runs.execute import describe_final_metrics
from repro_cli.runs.rundir import find_runs


@app.command("runs")
@handles_errors
def list_runs(results: Path = typer.Argument(Path("results"), help="Results folder (or one run directory).")) -> None:
    """List runs: recipe, seed, status, iteration and the latest metrics. A run shown as [bold]stale[/] was
    running when its process died (killed, node lost); continue it with `repro train --resume RUN_DIR`."""
    if not results.exists():
        raise ReproError(f"{results} does not exist; train something first (repro train) or pass the results folder")
    table = Table(title=f"runs in {results}", expand=True)
    for col in ("run", "recipe", "seed", "status", "iteration", "updated"):
        table.add_column(col, overflow="fold", ratio=1)
    table.add_column("latest metrics (protocol)", overflow="fold", ratio=3)
    for run in find_runs(results):
        info = run.info
        metrics = escape(describe_final_metrics(run))
        table.add_row(str(run.path), info.get("recipe", "?"), str(info.get("seed", "?")), run.state(),
                      f"{info.get('iteration', 0)}/{info.get('total_iterations', '?')}", info.get("updated", ""), metrics)
    console.print(table)

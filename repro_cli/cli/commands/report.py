"""`repro report`: measured vs reported, number by number and claim by claim."""

from __future__ import annotations

from pathlib import Path

import typer

from repro_cli.cli.app import app, console, err_console, handles_errors
from repro_cli.errors import ReproError

# The report's modules (pandas, seaborn) are imported inside the command: every `repro` command
# loads this module at start-up, and pandas alone costs ~0.4 s.


@app.command()
@handles_errors
def report(
    runs_dirs: list[Path] = typer.Argument(None, help="Results folders (or run directories); default: results."),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for index.md, the CSV tables and the PNG figures."),
    recipes: list[str] = typer.Option(None, "--recipes", "-r", help="Only recipes matching this glob (repeatable)."),
    papers: Path = typer.Option(None, "--papers", help="Folder of paper-value files and claims.toml (default: the shipped recipes/papers)."),
    min_seeds: int = typer.Option(None, "--min-seeds", min=1, help="Seeds a recipe needs before a claim about it is decided (default: each claim's own, 3)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Also draw the PNG figures."),
    formats: list[str] = typer.Option(None, "--format", "-f", help="Output format, repeatable: table (terminal), md (index.md), csv, "
                                      "html (index.html), latex (tables.tex). Default: table, md, csv and html."),
) -> None:
    """Compare measured metrics with the papers' values and decide the papers' claims from the runs.
    Prints the tables and writes them (CSV, index.md, index.html) with figures (PNG) to --out."""
    from repro_cli.report.build import build_report, write_report
    from repro_cli.report.render import FILE_FORMATS

    chosen = _formats(formats)
    result = build_report(runs_dirs or [Path("results")], recipes or None, papers, min_seeds)
    if "table" in chosen:
        _print_tables(result)
    for line in result.runs.skipped:
        err_console.print(f"[yellow]skipped:[/] {line}")
    files = write_report(result, out, with_figures=figures, formats=tuple(f for f in chosen if f in FILE_FORMATS))
    if files:
        console.print(f"wrote {len(files)} files to {out}" + (f" (start with {out / 'index.md'})" if "md" in chosen else ""))


def _formats(requested: list[str] | None) -> list[str]:
    from repro_cli.report.render import FILE_FORMATS

    allowed = ("table", *FILE_FORMATS)
    chosen = requested or ["table", "md", "csv", "html"]
    unknown = [f for f in chosen if f not in allowed]
    if unknown:
        raise ReproError(f"--format {unknown[0]!r} is not a report format; choose from {', '.join(allowed)}")
    return chosen


def _print_tables(result) -> None:
    from repro_cli.report.render import rich_table

    # The terminal gets the deciding columns; the files under --out have every column.
    console.print(rich_table(result.claims[["claim", "verdict", "evidence"]], "Claims (decided on seed means)"))
    console.print(rich_table(result.comparison[["source", "recipe", "metric", "measured", "n", "reported", "difference", "protocol check"]],
                             "Measured vs reported (details: comparison.csv)"))
    console.print(rich_table(result.measured.drop(columns=["config"]), "Measured (mean ± std over seeds, final checkpoint)"))
    if len(result.todo):
        console.print(rich_table(result.todo, "Runs still needed"))

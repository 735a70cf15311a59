"""Assemble the report: runs -> measured table, measured-vs-reported table, claim verdicts, runs still
to do, figures; and write it all to a folder (CSV, index.md, index.html, PNG)."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from repro_cli import __version__
from repro_cli.config.recipes import recipe_names
from repro_cli.errors import RunDirError
from repro_cli.report import plots
from repro_cli.report.claims import Claim, evaluate_claims, load_claims, train_command
from repro_cli.report.compare import compare, measured_label
from repro_cli.report.measured import RunSet, aggregate, load_runs, per_run, protocol_display
from repro_cli.report.references import Reported, load_references
from repro_cli.report.render import write_csv, write_html, write_index, write_latex
from repro_cli.runs.rundir import git_commit


@dataclasses.dataclass
class Report:
    runs: RunSet
    values: pd.DataFrame  # per-run final metric values
    measured: pd.DataFrame  # display: mean ± std per recipe/metric/protocol
    comparison: pd.DataFrame  # one row per reported value
    claims: pd.DataFrame  # one row per claim with its verdict
    todo: pd.DataFrame  # recipes the papers/claims need that have too few runs
    references: list[Reported]
    min_seeds: int


def _measured_table(aggregated: pd.DataFrame) -> pd.DataFrame:
    rows = [{"recipe": r["recipe"], "metric": r["metric"], "mean ± std": measured_label(r), "n": int(r["n"]), "seeds": r["seeds"],
             "checkpoint": f"final, iteration {r['iteration']}", "protocol": protocol_display(r["protocol"]), "config": r["config"]}
            for _, r in aggregated.iterrows()]
    return pd.DataFrame(rows, columns=["recipe", "metric", "mean ± std", "n", "seeds", "checkpoint", "protocol", "config"])


def _claims_table(verdicts) -> pd.DataFrame:
    rows = [{"claim": v.claim.id, "source": f"{v.claim.source}, {v.claim.cite}", "statement": v.claim.text, "verdict": v.verdict,
             "evidence": v.evidence, "to do": v.todo} for v in verdicts]
    return pd.DataFrame(rows, columns=["claim", "source", "statement", "verdict", "evidence", "to do"])


def _todo(needed: Iterable[str], runs: pd.DataFrame, min_seeds: int) -> pd.DataFrame:
    known, counts = set(recipe_names()), runs.groupby("recipe").size()
    rows = []
    for recipe in sorted(set(needed)):
        n = int(counts.get(recipe, 0))
        if n >= min_seeds:
            continue
        action = train_command(recipe, min_seeds) if recipe in known else "recipe not in repro yet (see the MNIST/CIFAR issues)"
        rows.append({"recipe": recipe, "completed runs": n, "command": action})
    return pd.DataFrame(rows, columns=["recipe", "completed runs", "command"])


def _matches(name: str, patterns: list[str] | None) -> bool:
    return not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)


def build_report(dirs: list[Path], patterns: list[str] | None = None, papers: Path | None = None, min_seeds: int | None = None) -> Report:
    """`min_seeds` overrides every claim's own seed requirement (default 3) when given."""
    runs = load_runs(dirs)
    if runs.runs.empty:
        where = " ".join(str(d) for d in dirs)
        hint = f"; {len(runs.skipped)} run(s) skipped as not completed" if runs.skipped else ""
        raise RunDirError(f"no completed runs under {where}{hint}; train some first, e.g. `repro train -r 'gaussian-*' --seeds 0-2 --out {dirs[0]}`, then `repro report {where}`")
    keep = runs.runs["recipe"].map(lambda r: _matches(r, patterns))
    if not keep.any():
        have = ", ".join(sorted(runs.runs["recipe"].unique()))
        raise RunDirError(f"no completed run matches --recipes {' '.join(patterns or [])}; the runs found are of: {have}")
    runs = RunSet(runs.runs[keep], runs.records[runs.records["recipe"].map(lambda r: _matches(r, patterns))], runs.skipped)
    references = [r for r in load_references(papers) if _matches(r.recipe, patterns)]
    claims: list[Claim] = [c if min_seeds is None else dataclasses.replace(c, min_seeds=min_seeds)
                           for c in load_claims(None if papers is None else Path(papers) / "claims.toml")
                           if any(_matches(r, patterns) for r in c.recipes())]
    min_seeds = min_seeds or 3
    values = per_run(runs.records, "final", kind="metric")
    aggregated = aggregate(values)
    statistics = sorted({c.statistic for c in claims})
    claim_stats = pd.concat([aggregate(per_run(runs.records, s, kind=None)) for s in statistics]) if statistics else aggregated
    verdicts = evaluate_claims(claims, claim_stats, references)
    needed = [r.recipe for r in references] + [r for c in claims for r in c.recipes()]
    return Report(runs, values, _measured_table(aggregated), compare(references, aggregated, min_seeds), _claims_table(verdicts),
                  _todo(needed, runs.runs, min_seeds), references, min_seeds)


def figures(report: Report, out: Path) -> list[Path]:
    made = [plots.metric_by_recipe(report.values, m, report.references, out) for m in sorted(report.values["metric"].unique())]
    made += [plots.metric_over_iterations(report.runs.records, m, report.references, out) for m in sorted(report.values["metric"].unique())]
    layered = report.runs.records[report.runs.records["kind"] == "layer"]
    made += [plots.layer_curves(report.runs.records, m, out) for m in sorted(layered["metric"].unique())]
    made += [plots.learning_curves(report.runs.records, out)]
    made += [plots.latest_figure_grid(report.runs.runs, stem, out) for stem in ("surface", "samples")]
    return [p for p in made if p is not None]


def write_report(report: Report, out: Path, with_figures: bool = True, formats: tuple[str, ...] = ("csv", "md", "html")) -> list[Path]:
    """Write the report to `out` in each of `formats` (csv: one file per table; md: index.md;
    html: index.html; latex: tables.tex), with the figures when asked."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    if "csv" in formats:
        files += [write_csv(report.measured, out / "measured.csv"), write_csv(report.values, out / "runs.csv"),
                  write_csv(report.comparison, out / "comparison.csv"), write_csv(report.claims, out / "claims.csv"),
                  write_csv(report.todo, out / "todo.csv")]
    made = figures(report, out) if with_figures else []
    commit = git_commit()
    preamble = [
        f"Generated by `repro report` (repro {__version__}{', commit ' + commit['commit'][:10] if commit else ''}) from "
        f"{len(report.runs.runs)} completed run(s); nothing here is edited by hand.",
        f"Every measured number is a mean ± sample std over seeds (n given) of the value at each run's final checkpoint; "
        f"claims need {report.min_seeds} seeds per recipe. Paper values marked `missing` are not transcribed yet: add them "
        "to `recipes/papers/<source>.toml` as `value = X` with `cite = \"<page/table/figure>\"`.",
    ]
    if report.runs.skipped:
        preamble.append(f"Skipped (not completed): {len(report.runs.skipped)} run(s).")
    sections = [("Claims", report.claims), ("Measured vs reported", report.comparison), ("Measured (all runs)", report.measured),
                ("Runs still needed", report.todo)]
    if report.runs.skipped:  # diverged, failed, pre-empted, running and superseded runs, each with its reason
        sections.append(("Runs not used", pd.DataFrame({"run": report.runs.skipped})))
    if "md" in formats:
        files.append(write_index(out / "index.md", "Reproduction report", preamble, sections, made))
    if "html" in formats:
        files.append(write_html(out / "index.html", "Reproduction report", preamble, sections, made))
    if "latex" in formats:
        files.append(write_latex(out / "tables.tex", "Reproduction report", sections))
    return files + made

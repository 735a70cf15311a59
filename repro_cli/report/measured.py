"""Run directories -> pandas tables of measured values.

records    one row per logged value: run, recipe, seed, config, kind (metric|train|layer), metric, layer
           (per-layer values only), iteration, value, protocol (a canonical string of everything the number depends on, minus seed/checkpoint)
per-run    one value per (run, metric, protocol): the final evaluation, or a statistic over training
aggregated mean ± std over seeds, with n and the seeds; runs are pooled only when recipe, resolved
           config (hash), protocol and final iteration all agree, so different budgets or protocols are
           never averaged together.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from repro_cli.errors import RunDirError
from repro_cli.runs.rundir import find_runs

TRAIN_SERIES = ("d_loss", "g_loss", "penalty", "d_real", "d_fake")
PER_RUN_KEYS = ("seed", "checkpoint", "source")  # protocol keys that differ between seeds of one setting
STATISTICS = ("final", "max", "min", "mean", "std")
GROUP = ["recipe", "config", "metric", "statistic", "protocol", "iteration"]


@dataclasses.dataclass
class RunSet:
    runs: pd.DataFrame  # one row per usable run
    records: pd.DataFrame  # long format, see module docstring
    skipped: list[str]  # run directories left out, with the reason


def protocol_key(protocol: dict | None) -> str:
    """Canonical JSON of the settings a number depends on, minus what differs between seeds."""
    kept = {k: v for k, v in (protocol or {}).items() if k not in PER_RUN_KEYS}
    return json.dumps(kept, sort_keys=True, default=str)


def protocol_dict(key: str) -> dict:
    return json.loads(key) if key.startswith("{") else {}


def protocol_display(key: str) -> str:
    return "; ".join(f"{k}={v}" for k, v in protocol_dict(key).items()) if key.startswith("{") else key


def _run_rows(run, info: dict) -> tuple[list[dict], int]:
    base = {"run": info.get("id", run.path.name), "recipe": info["recipe"], "seed": info.get("seed"),
            "config": info.get("config_hash", "")}
    rows, last = [], 0
    for rec in run.records():
        it = rec.get("iteration", 0)
        last = max(last, it)
        if rec.get("type") == "metric" and isinstance(rec.get("value"), (int, float)):
            rows.append({**base, "kind": "metric", "metric": rec["name"], "iteration": it, "value": float(rec["value"]),
                         "protocol": protocol_key(rec.get("protocol"))})
        elif rec.get("type") == "metric" and isinstance(rec.get("value"), dict):  # per-layer values (SN diagnostics)
            rows.extend({**base, "kind": "layer", "metric": rec["name"], "layer": layer, "iteration": it, "value": float(v),
                         "protocol": protocol_key(rec.get("protocol"))}
                        for layer, v in rec["value"].items() if isinstance(v, (int, float)))
        elif rec.get("type") == "train":
            rows.extend({**base, "kind": "train", "metric": k, "iteration": it, "value": float(rec[k]), "protocol": "training log"}
                        for k in TRAIN_SERIES if isinstance(rec.get(k), (int, float)))
    return rows, last


def _completed(dirs: Iterable[Path]) -> tuple[list, list[str]]:
    """(run, info) of each completed run, newest per (recipe, config, seed): a rerun of the same seed
    is the same experiment again and must not count as another seed."""
    newest: dict[tuple, tuple] = {}
    skipped = []
    for root in dirs:
        root = Path(root)
        if not root.exists():
            raise RunDirError(f"{root} does not exist; pass the results folder that `repro train --out` wrote (default: results)")
        for run in find_runs(root):
            try:
                info = run.info
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                skipped.append(f"{run.path}: run.json unreadable")
                continue
            if info.get("status") != "completed":
                # Divergence is itself a result (stability is one of the papers' claims): say where and why.
                where = f" at iteration {info['diverged_at']}: {info.get('error', '')}" if info.get("status") == "diverged" else ""
                skipped.append(f"{run.path}: status {info.get('status', '?')}{where}")
                continue
            key = (info["recipe"], info.get("config_hash", ""), info.get("seed"))
            if key in newest:
                older, newer = sorted([newest[key], (run, info)], key=lambda ri: ri[1].get("created", ""))
                skipped.append(f"{older[0].path}: superseded by the newer run {newer[0].path.name} of the same recipe, config and seed")
                newest[key] = newer
            else:
                newest[key] = (run, info)
    return list(newest.values()), skipped


def load_runs(dirs: Iterable[Path]) -> RunSet:
    """Every completed run below the given folders. Running, failed, unreadable or superseded runs
    are listed in `skipped` rather than mixed in."""
    run_rows, rows = [], []
    completed, skipped = _completed(dirs)
    for run, info in completed:
        these, last = _run_rows(run, info)
        rows.extend(these)
        run_rows.append({"run": info.get("id", run.path.name), "recipe": info["recipe"], "seed": info.get("seed"),
                         "config": info.get("config_hash", ""), "iteration": last, "path": str(run.path)})
    columns = ["run", "recipe", "seed", "config", "kind", "metric", "layer", "iteration", "value", "protocol"]
    return RunSet(pd.DataFrame(run_rows, columns=["run", "recipe", "seed", "config", "iteration", "path"]),
                  pd.DataFrame(rows, columns=columns), skipped)


def per_run(records: pd.DataFrame, statistic: str = "final", kind: str | None = "metric") -> pd.DataFrame:
    """One value per (run, metric, protocol): the value at the run's last logged iteration ('final'),
    or the max/min/mean/std of its series over training. `iteration` is the last one logged."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic {statistic!r} not in {STATISTICS}")
    # kind None: scalar metrics and training series (per-layer values are plotted, not aggregated)
    df = records[records["kind"] != "layer"] if kind is None else records[records["kind"] == kind]
    keys = ["run", "recipe", "seed", "config", "metric", "protocol"]
    if df.empty:
        return pd.DataFrame(columns=keys + ["statistic", "iteration", "value"])
    df = df.sort_values("iteration", kind="stable")
    grouped = df.groupby(keys, sort=False, dropna=False)
    if statistic == "final":
        out = grouped.tail(1)[keys + ["iteration", "value"]]
    else:
        out = grouped.agg(iteration=("iteration", "max"), value=("value", statistic)).reset_index()
    return out.assign(statistic=statistic).reset_index(drop=True)


def aggregate(values: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample std (ddof 1; NaN for one run), n and the seeds, per comparable group."""
    columns = GROUP + ["n", "mean", "std", "seeds"]
    if values.empty:
        return pd.DataFrame(columns=columns)
    out = (values.groupby(GROUP, sort=True, dropna=False)
           .agg(n=("value", "size"), mean=("value", "mean"), std=("value", "std"),
                seeds=("seed", lambda s: ",".join(str(x) for x in sorted(s))))
           .reset_index())
    return out[columns]


def pick(aggregated: pd.DataFrame, recipe: str, metric: str, statistic: str = "final") -> pd.Series | None:
    """The group a claim or comparison uses for (recipe, metric): the one with the most runs, then the
    longest training. None when the recipe has no completed run logging that metric."""
    hits = aggregated[(aggregated["recipe"] == recipe) & (aggregated["metric"] == metric) & (aggregated["statistic"] == statistic)]
    if hits.empty:
        return None
    return hits.sort_values(["n", "iteration"], ascending=False, kind="stable").iloc[0]


def protocol_text(row: pd.Series) -> str:
    """Every number's protocol in one string: seeds, checkpoint choice, and the metric's own settings."""
    choice = "final checkpoint" if row["statistic"] == "final" else f"{row['statistic']} over training"
    parts = [f"n={row['n']} seeds ({row['seeds']})", f"{choice}, iteration {row['iteration']}"]
    if protocol_display(row["protocol"]):
        parts.append(protocol_display(row["protocol"]))
    return "; ".join(parts)

"""Measured vs reported, number by number: one row per reported value, with the difference and every
protocol setting where the paper and our runs disagree (e.g. the paper used 50k samples, we used 5k)."""

from __future__ import annotations

import pandas as pd

from repro_cli.report.claims import train_command
from repro_cli.report.measured import pick, protocol_dict, protocol_text
from repro_cli.report.references import Reported

COLUMNS = ["source", "recipe", "metric", "measured", "n", "our protocol", "reported", "cite", "difference", "protocol check", "to do"]


def measured_label(row: pd.Series) -> str:
    return f"{row['mean']:.4g}" if pd.isna(row["std"]) else f"{row['mean']:.4g} ± {row['std']:.4g}"


def same_setting(theirs, mine) -> bool:
    """Numbers compare by value; a text setting matches when ours contains the paper's (our
    'cifar10-train (run's training data)' is the paper's 'cifar10-train')."""
    if isinstance(theirs, (int, float)) and isinstance(mine, (int, float)):
        return float(theirs) == float(mine)
    return str(theirs).lower() in str(mine).lower()


def protocol_mismatches(ref: Reported, row: pd.Series) -> list[str]:
    """Reported protocol settings that our runs do not share. `runs` is compared with our seed count;
    any other key with the same key in our metric's protocol (missing there = not recorded)."""
    ours = protocol_dict(row["protocol"])
    out = []
    for key, theirs in sorted(ref.protocol.items()):
        if key == "runs":
            mine = int(row["n"])
        elif key == "checkpoint":
            mine = "final" if row["statistic"] == "final" else row["statistic"]
        else:
            mine = ours.get(key, "not recorded")
        if not same_setting(theirs, mine):
            out.append(f"{key}: paper {theirs}, ours {mine}")
    return out


def compare(references: list[Reported], aggregated: pd.DataFrame, min_seeds: int = 3) -> pd.DataFrame:
    rows = []
    for ref in references:
        row = pick(aggregated, ref.recipe, ref.metric)
        entry = {"source": ref.source.id, "recipe": ref.recipe, "metric": ref.metric, "reported": ref.label(), "cite": ref.cite,
                 "measured": "no runs", "n": 0, "our protocol": "", "difference": "", "protocol check": "", "to do": ""}
        if row is None:
            entry["to do"] = train_command(ref.recipe, min_seeds)
        else:
            entry.update({"measured": measured_label(row), "n": int(row["n"]), "our protocol": protocol_text(row)})
            if not ref.missing:
                entry["difference"] = f"{row['mean'] - ref.value:+.4g}"
                mismatches = protocol_mismatches(ref, row)
                entry["protocol check"] = "MISMATCH: " + "; ".join(mismatches) if mismatches else "match"
            if int(row["n"]) < min_seeds:
                entry["to do"] = train_command(ref.recipe, min_seeds)
        if ref.missing:
            entry["to do"] = (entry["to do"] + "; " if entry["to do"] else "") + "transcribe the paper value with its citation"
        rows.append(entry)
    return pd.DataFrame(rows, columns=COLUMNS)

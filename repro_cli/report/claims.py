"""The papers' qualitative claims as rules over measured metrics (`recipes/papers/claims.toml`).

    [[claim]]
    id = "surface-0gp-closest"
    source = "li-2019-report"               # a [source] id of recipes/papers/*.toml
    cite = "report §IV-B, Fig. 2"
    text = "0-GP's value surface is closer to D* than No-GP's and 1-GP's"
    metric = "d_dstar_distance"
    statistic = "final"                     # or max/min/mean/std of the run's series over training
    min_seeds = 3                           # fewer completed runs of any recipe -> "not enough runs"

    [[claim.check]]                         # every check must hold
    rule = "lower"                          # see RULES; a check may name its own `metric`
    recipe = "gaussian-0gp"
    than = ["gaussian-nogp", "gaussian-1gp"]

A claim is decided on seed means: reproduced / not reproduced / not enough runs / reference missing.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from repro_cli.errors import ConfigError, close_matches
from repro_cli.report.measured import STATISTICS, pick
from repro_cli.report.references import Reported

REPRODUCED, NOT_REPRODUCED, NOT_ENOUGH, REFERENCE_MISSING = "reproduced", "not reproduced", "not enough runs", "reference missing"
CLAIM_KEYS = {"id", "source", "cite", "text", "metric", "statistic", "min_seeds", "check", "note"}


def fmt(row: pd.Series) -> str:
    spread = "" if pd.isna(row["std"]) else f" ± {row['std']:.4g}"
    return f"{row['recipe']} {row['mean']:.4g}{spread} (n={row['n']})"


# --- rules: (check table, {recipe: aggregated row}, reference) -> (holds, evidence) -------------------
def _lower(check: dict, rows: dict, _ref) -> tuple[bool, str]:
    a = rows[check["recipe"]]
    holds = all(a["mean"] < rows[b]["mean"] for b in check["than"])
    return holds, f"{fmt(a)} {'<' if holds else 'not <'} " + ", ".join(fmt(rows[b]) for b in check["than"])


def _higher(check: dict, rows: dict, _ref) -> tuple[bool, str]:
    a = rows[check["recipe"]]
    holds = all(a["mean"] > rows[b]["mean"] for b in check["than"])
    return holds, f"{fmt(a)} {'>' if holds else 'not >'} " + ", ".join(fmt(rows[b]) for b in check["than"])


def _similar(check: dict, rows: dict, _ref) -> tuple[bool, str]:
    """|mean_a − mean_b| ≤ tolerance · max(|mean_a|, |mean_b|) for every b."""
    a, tol = rows[check["recipe"]], float(check["tolerance"])
    gaps = {b: abs(a["mean"] - rows[b]["mean"]) / max(abs(a["mean"]), abs(rows[b]["mean"]), 1e-12) for b in check["to"]}
    holds = all(g <= tol for g in gaps.values())
    return holds, f"{fmt(a)} vs " + ", ".join(f"{fmt(rows[b])} (relative gap {g:.1%})" for b, g in gaps.items()) + f"; tolerance {tol:.0%}"


def _at_least(check: dict, rows: dict, _ref) -> tuple[bool, str]:
    holds = all(rows[r]["mean"] >= check["bound"] for r in check["recipes"])
    return holds, ", ".join(fmt(rows[r]) for r in check["recipes"]) + f" {'≥' if holds else 'not all ≥'} {check['bound']:g}"


def _at_most(check: dict, rows: dict, _ref) -> tuple[bool, str]:
    holds = all(rows[r]["mean"] <= check["bound"] for r in check["recipes"])
    return holds, ", ".join(fmt(rows[r]) for r in check["recipes"]) + f" {'≤' if holds else 'not all ≤'} {check['bound']:g}"


def _matches_reported(check: dict, rows: dict, ref: Reported) -> tuple[bool, str]:
    a, tol = rows[check["recipe"]], float(check["tolerance"])
    gap = abs(a["mean"] - ref.value) / max(abs(ref.value), 1e-12)
    return gap <= tol, f"{fmt(a)} vs reported {ref.label()} ({ref.source.id}, {ref.cite}): relative gap {gap:.1%}, tolerance {tol:.0%}"


@dataclasses.dataclass(frozen=True)
class Rule:
    fn: Callable[[dict, dict, Any], tuple[bool, str]]
    required: tuple[str, ...]  # keys the check table must have
    recipe_keys: tuple[str, ...]  # keys naming recipes (a string or a list)
    needs_reference: bool = False


RULES = {
    "lower": Rule(_lower, ("recipe", "than"), ("recipe", "than")),
    "higher": Rule(_higher, ("recipe", "than"), ("recipe", "than")),
    "similar": Rule(_similar, ("recipe", "to", "tolerance"), ("recipe", "to")),
    "at_least": Rule(_at_least, ("recipes", "bound"), ("recipes",)),
    "at_most": Rule(_at_most, ("recipes", "bound"), ("recipes",)),
    "matches_reported": Rule(_matches_reported, ("recipe", "tolerance"), ("recipe",), needs_reference=True),
}


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    source: str
    cite: str
    text: str
    metric: str
    statistic: str
    min_seeds: int
    checks: tuple[dict, ...]
    note: str = ""

    def recipes(self) -> list[str]:
        out: list[str] = []
        for check in self.checks:
            out.extend(n for n in check_recipes(check) if n not in out)
        return out


def check_recipes(check: dict) -> list[str]:
    """The recipe names a check refers to (`recipe`, `than`, `to`, `recipes`: a name or a list)."""
    return [n for key in RULES[check["rule"]].recipe_keys for n in (check[key] if isinstance(check[key], list) else [check[key]])]


@dataclasses.dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str
    evidence: str
    todo: str = ""  # commands that would produce the missing runs


def _claim(raw: dict, where: str) -> Claim:
    unknown = set(raw) - CLAIM_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(CLAIM_KEYS))}")
    for key in ("id", "source", "cite", "text", "metric"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}: `{key}` is required")
    statistic = raw.get("statistic", "final")
    if statistic not in STATISTICS:
        raise ConfigError(f"{where}: statistic {statistic!r} is not one of {', '.join(STATISTICS)}")
    checks = raw.get("check", [])
    if not checks:
        raise ConfigError(f"{where}: a claim needs at least one [[claim.check]]")
    for i, check in enumerate(checks):
        rule = RULES.get(check.get("rule"))
        if rule is None:
            raise ConfigError(f"{where} check {i + 1}: unknown rule {check.get('rule')!r}{close_matches(str(check.get('rule')), RULES)}; known: {', '.join(RULES)}")
        missing = [k for k in rule.required if k not in check]
        if missing:
            raise ConfigError(f"{where} check {i + 1} ({check['rule']}): missing {', '.join(missing)}")
        for key in ("tolerance", "bound"):
            if key in check and (isinstance(check[key], bool) or not isinstance(check[key], (int, float))):
                raise ConfigError(f"{where} check {i + 1}: {key} must be a number, got {check[key]!r}")
    min_seeds = raw.get("min_seeds", 3)
    if not isinstance(min_seeds, int) or min_seeds < 1:
        raise ConfigError(f"{where}: min_seeds must be a positive integer")
    return Claim(raw["id"], raw["source"], raw["cite"], raw["text"], raw["metric"], statistic, min_seeds,
                 tuple(checks), str(raw.get("note", "")))


def load_claims(path: Path | None = None) -> list[Claim]:
    if path is None:
        from repro_cli.report.references import papers_dir

        path = papers_dir() / "claims.toml"
    try:
        with Path(path).open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    claims = [_claim(c, f"{Path(path).name} claim #{i + 1}") for i, c in enumerate(raw.get("claim", []))]
    ids = [c.id for c in claims]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{path}: duplicate claim id(s) {', '.join(duplicates)}")
    return claims


def _reference(claim: Claim, check: dict, references: list[Reported]) -> Reported | None:
    for ref in references:
        if ref.recipe == check["recipe"] and ref.metric == check.get("metric", claim.metric) and ref.source.id == claim.source:
            return ref
    return None


def train_command(recipe: str, seeds: int) -> str:
    return f"repro train -r {recipe} --seeds 0-{seeds - 1}"


def _rows(claim: Claim, check: dict, aggregated: pd.DataFrame) -> dict[str, pd.Series | None]:
    """The seed aggregate each recipe of a check uses (its own `metric`, else the claim's)."""
    metric = check.get("metric", claim.metric)
    return {n: pick(aggregated, n, metric, claim.statistic) for n in check_recipes(check)}


def evaluate_claim(claim: Claim, aggregated: pd.DataFrame, references: list[Reported]) -> Verdict:
    refs = [_reference(claim, c, references) if RULES[c["rule"]].needs_reference else None for c in claim.checks]
    for check, ref in zip(claim.checks, refs):
        if RULES[check["rule"]].needs_reference and (ref is None or ref.missing):
            where = ref.cite if ref is not None else f"no [[reported]] entry for {check['recipe']}/{check.get('metric', claim.metric)} in {claim.source}"
            return Verdict(claim, REFERENCE_MISSING, f"paper value missing ({where})")
    rows = [_rows(claim, c, aggregated) for c in claim.checks]
    short: dict[str, int] = {}
    for check_rows in rows:
        for recipe, row in check_rows.items():
            n = 0 if row is None else int(row["n"])
            if n < claim.min_seeds:
                short[recipe] = min(n, short.get(recipe, n))
    if short:
        evidence = "; ".join(f"{r}: {n} run(s)" for r, n in short.items()) + f" (need {claim.min_seeds} seeds each)"
        return Verdict(claim, NOT_ENOUGH, evidence, "; ".join(train_command(r, claim.min_seeds) for r in short))
    results = [RULES[c["rule"]].fn(c, r, ref) for c, r, ref in zip(claim.checks, rows, refs)]
    verdict = REPRODUCED if all(holds for holds, _ in results) else NOT_REPRODUCED
    iterations = sorted({int(row["iteration"]) for check_rows in rows for row in check_rows.values()})
    choice = "final checkpoint" if claim.statistic == "final" else f"{claim.statistic} over training"
    metrics = sorted({c.get("metric", claim.metric) for c in claim.checks})
    protocol = f" [{', '.join(metrics)}; {choice}; iteration {', '.join(map(str, iterations))}]"
    return Verdict(claim, verdict, "; ".join(text for _, text in results) + protocol)


def evaluate_claims(claims: list[Claim], aggregated: pd.DataFrame, references: list[Reported]) -> list[Verdict]:
    return [evaluate_claim(c, aggregated, references) for c in claims]

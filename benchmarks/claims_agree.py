"""Do two sets of runs decide the papers' claims alike? `python benchmarks/claims_agree.py A B`

Issue #8 asks that the vectorised ensemble give the same claims as the same runs trained one at a
time. Train the same recipes and seeds twice, e.g.

    repro train -r 'gaussian-*' --seeds 0-4 -q --out runs-ensemble
    repro train -r 'gaussian-*' --seeds 0-4 -q --out runs-serial --no-ensemble --threads 1

then compare: this runs `repro report` on each folder (tables only) and prints, per claim, both
verdicts and both pieces of evidence (the means ± std the report decides on), and per recipe and
metric both means and their relative difference. Writes both comparisons as CSV next to the two
reports (`<out>/claims-agree.csv`, `<out>/measured-agree.csv`). Exit code 0 when every verdict agrees, 1 if not.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd


def report(runs: Path, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    done = subprocess.run([sys.executable, "-m", "repro_cli", "report", str(runs), "--no-figures", "-f", "csv", "-o", str(out)],
                          stdout=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(f"`repro report {runs}` failed (its error is above)")
    measured = pd.read_csv(out / "measured.csv")
    measured["mean"] = measured["mean ± std"].str.split(" ± ").str[0].astype(float)
    return pd.read_csv(out / "claims.csv"), measured[["recipe", "metric", "n", "checkpoint", "mean"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="results folder A (e.g. the ensemble's)")
    parser.add_argument("b", type=Path, help="results folder B (e.g. the one-at-a-time runs')")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/claims-agree"), help="where the two reports go")
    opts = parser.parse_args(argv)
    claims_a, measured_a = report(opts.a, opts.out / "a")
    claims_b, measured_b = report(opts.b, opts.out / "b")
    claims = claims_a[["claim", "verdict", "evidence"]].merge(claims_b[["claim", "verdict", "evidence"]], on="claim", suffixes=(" A", " B"))
    claims["same verdict"] = claims["verdict A"] == claims["verdict B"]
    claims.to_csv(opts.out / "claims-agree.csv", index=False)
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(f"A = {opts.a}\nB = {opts.b}\n")
        undecided = (claims["verdict A"] == "not enough runs") & (claims["verdict B"] == "not enough runs")
        print(f"{int(undecided.sum())} claims have no runs in either folder; the others:")
        for row in claims[~undecided].itertuples(index=False):
            print(f"{row.claim}: {row._1} | {row._3} -> {'same' if row._5 else 'DIFFERENT'}")
            print(f"   A: {row._2}\n   B: {row._4}")
        both = measured_a.merge(measured_b, on=["recipe", "metric"], suffixes=(" A", " B"))
        both["rel. diff"] = ((both["mean A"] - both["mean B"]).abs() / both["mean B"].abs()).round(4)
        print("\nMeans per recipe and metric (A, B, relative difference):")
        print(both.to_string(index=False))
        both.to_csv(opts.out / "measured-agree.csv", index=False)
    agree = bool(claims["same verdict"].all())
    print(f"\n{int(claims['same verdict'].sum())} of {len(claims)} claims get the same verdict.")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())

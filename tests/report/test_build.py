from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from repro_cli.report.build import build_report, write_report


class TagCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_data(self, data):
        self.text.append(data)

CLAIMS = '''
[[claim]]
id = "a-lower"
source = "paper"
cite = "Fig. 1"
text = "a is closer than b"
metric = "dist"
[[claim.check]]
rule = "lower"
recipe = "a"
than = ["b"]
'''
REPORTED = '[[reported]]\nrecipe = "a"\nmetric = "dist"\nmissing = "Table 9"\n'


def test_report_files(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", REPORTED, CLAIMS)
    for seed in range(3):
        run = make_run(tmp_path / "runs", "a", seed, {"dist": 1.0 + seed}, earlier={"dist": 5.0}, d_losses=[1.0, 0.5],
                       layers={"layer_sigma": {"conv1": 1.0 + seed, "fc": 2.0}})
        make_run(tmp_path / "runs", "b", seed, {"dist": 10.0 + seed}, d_losses=[1.0, 0.7])
        (run / "figures").mkdir()
        for it in (50, 100):
            plt.imsave(run / "figures" / f"surface-{it:09d}.png", np.full((8, 8), it / 100.0))
    report = build_report([tmp_path / "runs"], papers=papers)
    files = write_report(report, tmp_path / "out")
    names = {f.name for f in files}
    assert {"measured.csv", "runs.csv", "comparison.csv", "claims.csv", "todo.csv", "index.md", "metric-dist.png",
            "curve-dist.png", "learning-curves.png", "surface-grid.png", "index.html", "layers-layer-sigma.png"} <= names
    assert "samples-grid.png" not in names  # no run has sample grids
    assert all(f.stat().st_size > 1000 for f in files if f.suffix == ".png")

    measured = pd.read_csv(tmp_path / "out" / "measured.csv")
    assert list(measured["recipe"]) == ["a", "b"] and list(measured["mean ± std"]) == ["2 ± 1", "11 ± 1"]
    assert list(measured["n"]) == [3, 3] and list(measured["checkpoint"]) == ["final, iteration 100"] * 2
    claims = pd.read_csv(tmp_path / "out" / "claims.csv")
    assert claims.loc[0, "verdict"] == "reproduced" and claims.loc[0, "evidence"].startswith("a 2 ± 1 (n=3) < b 11 ± 1 (n=3)")
    comparison = pd.read_csv(tmp_path / "out" / "comparison.csv", keep_default_na=False)
    assert comparison.loc[0, "reported"] == "missing" and comparison.loc[0, "cite"] == "Table 9"
    assert len(pd.read_csv(tmp_path / "out" / "runs.csv")) == 6

    index = (tmp_path / "out" / "index.md").read_text()
    assert "| a-lower | paper, Fig. 1 | a is closer than b | reproduced |" in index
    assert "| paper | a | dist | 2 ± 1 | 3 |" in index and "| missing | Table 9 |" in index
    assert "![metric-dist](metric-dist.png)" in index and "![surface-grid](surface-grid.png)" in index

    page = TagCounter()
    page.feed((tmp_path / "out" / "index.html").read_text())
    assert page.tags["table"] == 3 and page.tags["img"] == len([f for f in files if f.suffix == ".png"])
    assert "reproduced" in page.text and "Table 9" in page.text and "none" in page.text  # no runs still needed


def test_recipe_filter_keeps_only_matching_runs_and_claims(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", REPORTED, CLAIMS)
    make_run(tmp_path / "runs", "a", 0, {"dist": 1.0})
    make_run(tmp_path / "runs", "zz", 0, {"dist": 1.0})
    report = build_report([tmp_path / "runs"], patterns=["z*"], papers=papers)
    assert list(report.measured["recipe"]) == ["zz"] and report.claims.empty and report.comparison.empty


def test_min_seeds_overrides_the_claims_requirement(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", REPORTED, CLAIMS)
    for seed in range(2):
        make_run(tmp_path / "runs", "a", seed, {"dist": 1.0})
        make_run(tmp_path / "runs", "b", seed, {"dist": 2.0})
    assert build_report([tmp_path / "runs"], papers=papers).claims.loc[0, "verdict"] == "not enough runs"
    relaxed = build_report([tmp_path / "runs"], papers=papers, min_seeds=2)
    assert relaxed.claims.loc[0, "verdict"] == "reproduced" and relaxed.todo.empty

from repro_cli.report.compare import compare
from repro_cli.report.measured import aggregate, load_runs, per_run
from repro_cli.report.references import load_references

REPORTED = '''
[[reported]]
recipe = "a"
metric = "fid"
value = 20.0
std = 0.5
cite = "Table 2, p. 8"
protocol = { n_fake = 50000, grid = "4x4", runs = 5 }

[[reported]]
recipe = "a"
metric = "inception_score"
missing = "Table 2, IS column"

[[reported]]
recipe = "z"
metric = "fid"
missing = "Table 3"
'''


def test_measured_vs_reported_row_by_row(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", REPORTED, "")
    for seed, v in enumerate([21.0, 23.0]):
        make_run(tmp_path / "runs", "a", seed, {"fid": v, "inception_score": 7.0})
    table = compare(load_references(papers), aggregate(per_run(load_runs([tmp_path / "runs"]).records)), min_seeds=3)
    fid, is_, z = (table.iloc[i] for i in range(3))
    assert (fid["measured"], fid["n"], fid["reported"], fid["difference"]) == ("22 ± 1.414", 2, "20 ± 0.5", "+2")
    assert fid["protocol check"] == "MISMATCH: n_fake: paper 50000, ours not recorded; runs: paper 5, ours 2"
    assert fid["cite"] == "Table 2, p. 8" and fid["to do"] == "repro train -r a --seeds 0-2"
    assert "n=2 seeds (0,1)" in fid["our protocol"] and "final checkpoint, iteration 100" in fid["our protocol"]
    assert (is_["reported"], is_["difference"], is_["protocol check"]) == ("missing", "", "")
    assert "transcribe the paper value" in is_["to do"]
    assert (z["measured"], z["n"]) == ("no runs", 0)
    assert z["to do"] == "repro train -r z --seeds 0-2; transcribe the paper value with its citation"


def test_matching_protocol_says_match(tmp_path, make_run, write_papers):
    papers = write_papers(tmp_path / "papers", '[[reported]]\nrecipe = "a"\nmetric = "fid"\nvalue = 1.0\ncite = "T"\nprotocol = { grid = "4x4" }\n', "")
    make_run(tmp_path / "runs", "a", 0, {"fid": 1.5})
    table = compare(load_references(papers), aggregate(per_run(load_runs([tmp_path / "runs"]).records)), min_seeds=1)
    assert table.iloc[0]["protocol check"] == "match" and table.iloc[0]["difference"] == "+0.5"


def test_protocol_settings_compare_numbers_by_value_and_text_by_containment():
    from repro_cli.report.compare import same_setting

    assert same_setting(50000, 50000.0) and not same_setting(50000, 5000)
    assert same_setting("cifar10-train", "cifar10-train (run's training data)")
    assert not same_setting("cifar10-train", "cifar10-test")

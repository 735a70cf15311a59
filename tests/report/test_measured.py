import math

import pytest

from repro_cli.errors import RunDirError
from repro_cli.report.measured import aggregate, load_runs, pick, per_run, protocol_text


def test_final_values_are_averaged_over_seeds_with_sample_std(tmp_path, make_run):
    for seed, value in enumerate([1.0, 2.0, 4.0]):
        make_run(tmp_path, "a", seed, {"dist": value}, earlier={"dist": 100.0})
    agg = aggregate(per_run(load_runs([tmp_path]).records))
    row = pick(agg, "a", "dist")
    assert row["n"] == 3 and row["seeds"] == "0,1,2" and row["iteration"] == 100
    assert row["mean"] == pytest.approx(7 / 3)
    assert row["std"] == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))
    text = protocol_text(row)
    assert "n=3 seeds (0,1,2)" in text and "final checkpoint, iteration 100" in text and "grid=4x4" in text


def test_different_configs_protocols_and_budgets_are_never_pooled(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {"dist": 1.0}, config="x")
    make_run(tmp_path, "a", 1, {"dist": 3.0}, config="y")
    make_run(tmp_path, "a", 2, {"dist": 5.0}, config="x", protocol={"grid": "8x8"})
    make_run(tmp_path, "a", 3, {"dist": 7.0}, config="x", iteration=200)
    agg = aggregate(per_run(load_runs([tmp_path]).records))
    assert len(agg) == 4 and set(agg["n"]) == {1}
    assert math.isnan(agg.iloc[0]["std"])


def test_unfinished_runs_are_skipped_and_reported(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {"dist": 1.0})
    make_run(tmp_path, "a", 1, {"dist": 9.0}, status="failed")
    runs = load_runs([tmp_path])
    assert list(runs.runs["seed"]) == [0]
    assert len(runs.skipped) == 1 and "status failed" in runs.skipped[0]


def test_diverged_runs_are_listed_with_where_and_why(tmp_path, make_run):
    import json

    make_run(tmp_path, "a", 0, {"dist": 1.0})
    bad = make_run(tmp_path, "a", 1, {"dist": 9.0}, status="diverged")
    info = json.loads((bad / "run.json").read_text())
    (bad / "run.json").write_text(json.dumps({**info, "diverged_at": 37, "error": "d_loss is nan"}))
    runs = load_runs([tmp_path])
    assert runs.skipped == [f"{bad}: status diverged at iteration 37: d_loss is nan"]


def test_statistics_over_the_training_log(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {}, d_losses=[1.0, 3.0, 2.0])
    values = per_run(load_runs([tmp_path]).records, "std", kind="train")
    d = values[values["metric"] == "d_loss"].iloc[0]
    assert d["value"] == pytest.approx(1.0) and d["iteration"] == 30
    final = per_run(load_runs([tmp_path]).records, "final", kind="train")
    assert final[final["metric"] == "d_loss"].iloc[0]["value"] == 2.0


def test_pick_prefers_the_group_with_more_runs(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {"dist": 1.0}, config="x")
    make_run(tmp_path, "a", 1, {"dist": 3.0}, config="y")
    make_run(tmp_path, "a", 2, {"dist": 5.0}, config="y")
    row = pick(aggregate(per_run(load_runs([tmp_path]).records)), "a", "dist")
    assert row["config"] == "y" and row["mean"] == 4.0
    assert pick(aggregate(per_run(load_runs([tmp_path]).records)), "b", "dist") is None


def test_missing_folder_is_a_one_line_error(tmp_path, make_run):
    with pytest.raises(RunDirError, match="does not exist"):
        load_runs([tmp_path / "nope"])


def test_a_rerun_of_the_same_seed_replaces_the_older_run(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {"dist": 1.0}, created="2026-01-02T00:00:00", name="new")
    make_run(tmp_path, "a", 0, {"dist": 9.0}, created="2026-01-01T00:00:00", name="old")
    make_run(tmp_path, "a", 1, {"dist": 3.0})
    runs = load_runs([tmp_path])
    row = pick(aggregate(per_run(runs.records)), "a", "dist")
    assert row["n"] == 2 and row["mean"] == 2.0
    assert len(runs.skipped) == 1 and "old: superseded by the newer run new" in runs.skipped[0]


def test_per_layer_values_are_kept_apart_from_scalar_metrics(tmp_path, make_run):
    make_run(tmp_path, "a", 0, {"dist": 1.0}, layers={"layer_sigma": {"conv1": 1.5, "fc": 0.5}})
    records = load_runs([tmp_path]).records
    layers = records[records["kind"] == "layer"]
    assert sorted(zip(layers["layer"], layers["value"])) == [("conv1", 1.5), ("fc", 0.5)]
    assert list(per_run(records)["metric"]) == ["dist"]

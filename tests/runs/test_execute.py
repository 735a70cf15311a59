"""What the train and runs tables say about a run's results: the last value of each metric, never
without the protocol it was measured under."""

from repro_cli.config.recipes import load_recipe
from repro_cli.runs.execute import describe_final_metrics, final_metrics
from repro_cli.runs.rundir import Run


def _run_with_records(tmp_path):
    run = Run.create(tmp_path, load_recipe("gaussian-0gp"), 3, device="cpu", overrides=[])
    protocol = {"seed": 3, "checkpoint": "iteration 10", "grid": "100x100", "weight": "p_r + p_g"}
    run.log({"type": "train", "iteration": 10, "d_loss": 0.75})
    run.log({"type": "metric", "iteration": 5, "name": "d_dstar_distance", "value": 0.5, "protocol": {**protocol, "checkpoint": "iteration 5"}})
    run.log({"type": "metric", "iteration": 10, "name": "d_dstar_distance", "value": 0.125, "protocol": protocol})
    return run


def test_final_metrics_keep_the_last_value_with_its_protocol(tmp_path):
    metrics = final_metrics(_run_with_records(tmp_path))
    assert metrics["d_dstar_distance"] == (0.125, {"seed": 3, "checkpoint": "iteration 10", "grid": "100x100", "weight": "p_r + p_g"})
    assert metrics["d_loss"] == (0.75, {"checkpoint": "training batch at iteration 10"})


def test_described_metrics_print_each_value_with_its_protocol_but_not_the_seed_column(tmp_path):
    lines = describe_final_metrics(_run_with_records(tmp_path)).splitlines()
    assert lines == ["d_loss=0.75 (checkpoint training batch at iteration 10)",
                     "d_dstar_distance=0.125 (checkpoint iteration 10; grid 100x100; weight p_r + p_g)"]

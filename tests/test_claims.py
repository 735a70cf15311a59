"""The EPFL report's claim on the optimal-D study (its Fig. 2): with the zero-centred penalty, D ends
closer to the optimal D* = p_r/(p_r+p_g) than without one, because the unpenalised D overfits the
100 fixed samples. Checked end to end through `repro train` on a short budget (1,200 of the
recipes' 10,001 epochs) over three seeds, on the weighted |D − D*| distance logged by the runs."""

import json
from pathlib import Path

EPOCHS = 1200
SURFACE = 'eval.metrics=[{name = "value-surface", resolution = 60, figure = false}]'


def final_distance(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["value"] for r in records if r.get("name") == "d_dstar_distance"][-1]


def test_0gp_d_is_closer_to_the_optimal_d_than_no_penalty_for_every_seed(cli):
    result = cli("train", "-r", "gaussian-nogp", "-r", "gaussian-0gp", "--seeds", "0,1,2",
                 "--set", f"train.epochs={EPOCHS}", "--set", SURFACE, "-o", "res", "-q")
    assert result.exit_code == 0, result.output
    distance = {}
    for name in ("gaussian-nogp", "gaussian-0gp"):
        for run in Path("res", name).iterdir():
            info = json.loads((run / "run.json").read_text())
            assert info["status"] == "completed" and info["iteration"] == EPOCHS * 5
            distance[name, info["seed"]] = final_distance(run)
    for seed in (0, 1, 2):
        assert distance["gaussian-0gp", seed] < distance["gaussian-nogp", seed], distance

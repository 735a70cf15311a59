"""Several `repro train` processes writing to one results folder at once never clobber each other."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_simultaneous_processes_make_distinct_complete_runs(tmp_path):
    # Same recipe and seed, started together: the worst case for name collisions.
    cmd = [sys.executable, "-m", "repro_cli", "train", "-r", "gaussian-0gp", "--iterations", "5", "--set", "eval.metrics=[]",
           "--set", "train.log_every=1", "--set", "train.checkpoint_every=2", "--threads", "1", "-q", "--out", str(tmp_path)]
    procs = [subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    runs = sorted(p.parent for p in tmp_path.rglob("run.json"))
    assert len(runs) == 3 and len({r.name for r in runs}) == 3
    pids = set()
    for run in runs:
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "completed" and info["iteration"] == 5
        pids.add(info["pid"])
        lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        assert [r["iteration"] for r in lines] == [1, 2, 3, 4, 5]  # each log written by one process only
        assert sorted(p.name for p in (run / "checkpoints").glob("*.pt")) == ["ckpt-000000002.pt", "ckpt-000000004.pt", "ckpt-000000005.pt"]
    assert len(pids) == 3

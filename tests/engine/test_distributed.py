"""A real torchrun job: 2 Gloo processes on CPU train one run of a tiny GAN recipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from repro_cli.engine.world import World
from repro_cli.errors import ConfigError


def torchrun(out, *extra):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "repro_cli", "train",
           "-r", "8gaussians-0gp", "--iterations", "6", "--set", "train.batch_size=16", "--set", "eval.metrics=[]",
           "--set", "train.log_every=1", "--set", "train.checkpoint_every=3", "--threads", "1", "-q", "--out", str(out), *extra]
    return subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)


def test_two_gloo_ranks_keep_identical_weights_and_rank0_writes_one_run(tmp_path):
    result = torchrun(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    [run_json] = list(tmp_path.rglob("run.json"))  # rank 1 wrote no directory of its own
    info = json.loads(run_json.read_text())
    assert info["status"] == "completed" and info["world_size"] == 2 and info["batch_per_rank"] == 8
    # Each rank drew different data; only the gradient all-reduce keeps their weights equal.
    assert info["replicas_in_sync"] is True
    lines = [json.loads(x) for x in (run_json.parent / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [1, 2, 3, 4, 5, 6]  # logged once, by rank 0
    assert sorted(p.name for p in (run_json.parent / "checkpoints").glob("*.pt")) == ["ckpt-000000003.pt", "ckpt-000000006.pt"]


def test_batch_must_split_evenly_over_ranks():
    assert World(rank=1, size=2).local_batch(16) == 8
    assert World().stream_suffix == "" and World(rank=1, size=2).stream_suffix == "/rank1"
    with pytest.raises(ConfigError, match="multiple of 3"):
        World(rank=0, size=3).local_batch(16)

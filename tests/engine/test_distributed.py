"""Data parallel on CPU: 2 Gloo processes are one process with the global batch (spawned replicas
of real recipes), and a real torchrun job trains, writes from rank 0 alone and resumes."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from repro_cli.engine.world import Shard, World
from repro_cli.errors import ConfigError
from repro_cli.runs.execute import train_run
from repro_cli.runs.resume import resume

# Real recipes cut to 6 iterations, none with a batch-dependent layer (BatchNorm normalises each
# rank's shard by its own statistics, so those recipes are not expected to match a single process).
SHORT = ["train.iterations=6", "train.log_every=1", "eval.metrics=[]", "train.checkpoint_every=0"]
EQUIVALENCE_JOBS = {
    # D alone on fixed samples (the fixed fake sample is sharded too), 0-GP on interpolates.
    "gaussian-0gp": {"recipe": "gaussian-0gp", "overrides": SHORT},
    # G and D, 0-GP on interpolates (double backward), spectrally normalised D (power iteration).
    "8gaussians-0gp-sn": {"recipe": "8gaussians-0gp", "overrides": SHORT + ["train.batch_size=16", "normalization.name=sn"]},
    # The MNIST MLP GAN on the tiny IDX fixture, 0-GP on interpolates of D's probability.
    "mnist-0gp": {"recipe": "mnist-0gp", "overrides": SHORT + ["train.batch_size=16", "data.n_train=600"]},
}
# A G with a BatchNorm layer (registered by the worker module): a valid data-parallel run, not the
# single-process run.
BATCHNORM_JOB = {"recipe": "8gaussians-0gp", "overrides": SHORT + ["train.batch_size=16", "generator.name=test-batchnorm-mlp-generator"]}
# A stop request that reaches rank 1 alone after iteration 3.
STOPPED_JOB = {"recipe": "8gaussians-0gp", "overrides": SHORT + ["train.batch_size=16"], "stop_on_last_rank_at": 3}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, mnist_root):
    """Every job trained by 2 spawned Gloo ranks (their weights and logs per rank) and by this
    process alone with the same global batch."""
    sys.path.insert(0, str(Path(__file__).parent))  # spawned processes import the worker by name
    try:
        worker = importlib.import_module("distributed_replicas")
        jobs = {name: {**job, "data_root": str(mnist_root) if "mnist" in name else None}
                for name, job in {**EQUIVALENCE_JOBS, "batchnorm": BATCHNORM_JOB, "stopped": STOPPED_JOB}.items()}
        out = tmp_path_factory.mktemp("replicas")
        mp.spawn(worker.replica, args=(2, str(out / "store"), jobs, str(out)), nprocs=2)
        return {name: ([torch.load(out / f"{name}-rank{r}.pt") for r in (0, 1)], worker.train(job)) for name, job in jobs.items()}
    finally:
        sys.path.remove(str(Path(__file__).parent))


@pytest.mark.parametrize("job", EQUIVALENCE_JOBS)
def test_two_ranks_are_one_process_with_the_global_batch(replicas, job):
    (rank0, rank1), single = replicas[job]
    assert rank0["status"] == rank1["status"] == single["status"] == "completed"
    assert rank0["in_sync"] and rank1["in_sync"]  # what run.json records as replicas_in_sync
    assert rank0["weights"].keys() == single["weights"].keys()
    for key, weight in single["weights"].items():
        assert torch.equal(rank0["weights"][key], rank1["weights"][key]), key  # replicas never drift
        # Same numbers drawn, same mean gradient: only the order of float sums differs.
        torch.testing.assert_close(rank0["weights"][key], weight, rtol=1e-5, atol=1e-6, msg=key)
    assert [r["iteration"] for r in rank0["log"]] == [1, 2, 3, 4, 5, 6]
    assert rank0["log"] == rank1["log"]  # the logged losses are averaged over ranks
    for distributed_record, single_record in zip(rank0["log"], single["log"], strict=True):
        assert distributed_record.keys() == single_record.keys()
        for key, value in single_record.items():
            assert distributed_record[key] == pytest.approx(value, rel=1e-5, abs=1e-6), (distributed_record["iteration"], key)


def test_batchnorm_replicas_agree_on_weights_and_keep_their_own_running_statistics(replicas):
    (rank0, rank1), _ = replicas["batchnorm"]
    running = [key for key in rank0["weights"] if "running_" in key]
    assert running and rank0["in_sync"] and rank1["in_sync"]
    for key, weight in rank0["weights"].items():
        assert torch.equal(weight, rank1["weights"][key]) or key in running, key
    # Each rank's running statistics come from its own shard; they are left out of the check.
    assert not all(torch.equal(rank0["weights"][key], rank1["weights"][key]) for key in running)


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_step(replicas):
    (rank0, rank1), _ = replicas["stopped"]
    assert (rank0["status"], rank0["iteration"]) == (rank1["status"], rank1["iteration"]) == ("preempted", 3)
    assert [r["iteration"] for r in rank0["log"]] == [1, 2, 3] and rank0["in_sync"] and rank1["in_sync"]


def test_a_shard_is_its_rows_of_the_global_draw():
    draw = torch.arange(12.0).view(6, 2)
    assert torch.equal(Shard(1, 3).take(draw), draw[2:4])
    assert Shard().take(draw) is draw  # one process: untouched
    rng = torch.Generator().manual_seed(0)
    rows = [Shard(r, 2).draw(torch.rand, 3, 2, generator=rng.manual_seed(0)) for r in (0, 1)]
    assert torch.equal(torch.cat(rows), torch.rand(6, 2, generator=rng.manual_seed(0)))


def torchrun(out, *extra):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "repro_cli", "train",
           "-r", "8gaussians-0gp", "--iterations", "6", "--set", "train.batch_size=16", "--set", "eval.metrics=[]",
           "--set", "train.log_every=1", "--set", "train.checkpoint_every=3", "--threads", "1", "-q", "--out", str(out), *extra]
    return subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory):
    """An uninterrupted 2-rank run of 6 iterations, checkpointed at 3 and 6."""
    out = tmp_path_factory.mktemp("torchrun")
    result = torchrun(out)
    assert result.returncode == 0, result.stderr[-3000:]
    [run_json] = list(out.rglob("run.json"))  # rank 1 wrote no directory of its own
    return run_json.parent


def test_two_gloo_ranks_keep_identical_weights_and_rank0_writes_one_run(torchrun_run):
    info = json.loads((torchrun_run / "run.json").read_text())
    assert info["status"] == "completed" and info["world_size"] == 2 and info["batch_per_rank"] == 8
    # Each rank trained on different rows; only the gradient all-reduce keeps their weights equal.
    assert info["replicas_in_sync"] is True
    assert [r["iteration"] for r in log_without_clock(torchrun_run)] == [1, 2, 3, 4, 5, 6]  # logged once, by rank 0
    assert sorted(p.name for p in (torchrun_run / "checkpoints").glob("*.pt")) == ["ckpt-000000003.pt", "ckpt-000000006.pt"]


def crash_after_checkpoint_3(run_dir, out):
    """A copy of the run as a node failure right after checkpoint 3 leaves it: `running` with
    nobody holding its lock, log lines past the checkpoint, no checkpoint 6."""
    crashed = out / run_dir.parent.name / run_dir.name
    shutil.copytree(run_dir, crashed)
    for stale in (crashed / "checkpoints").glob("ckpt-000000006.pt*"):
        stale.unlink()
    info = json.loads((crashed / "run.json").read_text())
    info.update(status="running", iteration=3, last_checkpoint="ckpt-000000003.pt")
    (crashed / "run.json").write_text(json.dumps(info))
    return crashed


def final_state(run_dir):
    return torch.load(run_dir / "checkpoints" / "ckpt-000000006.pt", weights_only=True)


def test_a_crashed_two_rank_run_auto_resumes_on_two_ranks_bit_identically(torchrun_run, tmp_path):
    crashed = crash_after_checkpoint_3(torchrun_run, tmp_path)
    result = torchrun(tmp_path, "--auto-resume")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming" in result.stderr and "(iteration 3) on 2 ranks" in result.stderr
    assert list(tmp_path.rglob("run.json")) == [crashed / "run.json"]  # continued, not started anew
    info = json.loads((crashed / "run.json").read_text())
    assert info["status"] == "completed" and info["replicas_in_sync"] is True
    assert [(r["from_status"], r["iteration"], r["world_size"]) for r in info["resumes"]] == [("stale", 3, 2)]
    # Every rank loaded rank 0's checkpoint 3 (weights, optimisers, streams), so the continuation
    # is the same computation as the uninterrupted run's: equal bit for bit on CPU, not just close.
    assert log_without_clock(crashed) == log_without_clock(torchrun_run)
    final, reference = final_state(crashed), final_state(torchrun_run)
    for part in ("D", "G", "noise_rng", "penalty_rng", "real"):
        assert_equal_states(final[part], reference[part])
    assert_equal_states(final["opt_d"]["state"], reference["opt_d"]["state"])


def test_a_two_rank_checkpoint_continues_in_one_process_to_float_tolerance(torchrun_run, tmp_path):
    # The ranks share one state and their shards make up the global batch, so the world size may
    # change between resumes; only the order of float sums differs.
    crashed = crash_after_checkpoint_3(torchrun_run, tmp_path)
    resumed = resume(crashed)
    assert resumed.trainer.batch_size == 16 and resumed.trainer.iteration == 3
    assert train_run(resumed.run, resumed.trainer).info["status"] == "completed"
    final, reference = final_state(crashed), final_state(torchrun_run)
    for net in ("D", "G"):
        for key, weight in reference[net].items():
            torch.testing.assert_close(final[net][key], weight, rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(log_without_clock(crashed), log_without_clock(torchrun_run), strict=True):
        assert mine == pytest.approx(theirs, rel=1e-5, abs=1e-6)


def log_without_clock(run_dir):
    return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def assert_equal_states(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_equal_states(a[key], b[key])
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    else:
        assert a == b


def test_batch_must_split_evenly_over_ranks():
    assert World(rank=1, size=2).local_batch(16) == 8
    assert World(rank=1, size=2).shard == Shard(1, 2) and World().shard == Shard()
    with pytest.raises(ConfigError, match="multiple of 3"):
        World(rank=0, size=3).local_batch(16)

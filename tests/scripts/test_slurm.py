"""The SLURM job scripts, run by bash with `srun`, `scontrol` and `repro` replaced by recorders:
array tasks map to the right recipe x seed, and exit code 75 (checkpointed stop) requeues the task."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SLURM = Path(__file__).resolve().parents[2] / "scripts" / "slurm"


def stubs(tmp_path: Path, repro_rc: int) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text('#!/usr/bin/env bash\nexec "$@"\n')
    (bin_dir / "scontrol").write_text(f'#!/usr/bin/env bash\necho "$@" >> {tmp_path}/scontrol\n')
    (bin_dir / "fake-repro").write_text(f'#!/usr/bin/env bash\necho "$@" >> {tmp_path}/repro\nexit {repro_rc}\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "REPRO": "fake-repro"}


def sbatch(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SLURM / script), *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("task", "recipe", "seed"), [(0, "a", 0), (2, "a", 2), (3, "b", 0), (5, "b", 2)])
def test_array_task_trains_its_recipe_and_seed(tmp_path, task, recipe, seed):
    env = {**stubs(tmp_path, 0), "RECIPES": "a b", "SEEDS": "3", "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_JOB_ID": "77"}
    result = sbatch("array.sbatch", env)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "repro").read_text().split()
    assert args[args.index("--recipe") + 1] == recipe and args[args.index("--seed") + 1] == str(seed)
    assert "--auto-resume" in args and not (tmp_path / "scontrol").exists()


def test_array_task_out_of_range_is_refused(tmp_path):
    env = {**stubs(tmp_path, 0), "RECIPES": "a b", "SEEDS": "3", "SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_JOB_ID": "77"}
    result = sbatch("array.sbatch", env)
    assert result.returncode == 2 and "--array=0-5" in result.stderr and not (tmp_path / "repro").exists()


@pytest.mark.parametrize(("repro_rc", "requeued", "job_rc"), [(75, True, 0), (0, False, 0), (2, False, 2)])
def test_checkpointed_stop_requeues_and_other_outcomes_do_not(tmp_path, repro_rc, requeued, job_rc):
    env = {**stubs(tmp_path, repro_rc), "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_JOB_ID": "77", "SLURM_JOB_ID": "78"}
    assert sbatch("array.sbatch", env).returncode == job_rc
    assert ((tmp_path / "scontrol").read_text().split() if requeued else None) == (["requeue", "77_1"] if requeued else None)
    (tmp_path / "scontrol").unlink(missing_ok=True)
    assert sbatch("train.sbatch", env, "gaussian-0gp", "4").returncode == job_rc
    assert ((tmp_path / "scontrol").read_text().split() if requeued else None) == (["requeue", "78"] if requeued else None)


@pytest.mark.parametrize(("repro_rc", "requeued", "job_rc"), [(75, True, 0), (2, False, 2)])
def test_ddp_job_runs_each_task_as_a_rank_that_auto_resumes_and_requeues_on_75(tmp_path, repro_rc, requeued, job_rc):
    env = {k: v for k, v in stubs(tmp_path, repro_rc).items() if k not in ("MASTER_ADDR", "MASTER_PORT")}
    env.update(SLURM_JOB_ID="78", SLURM_PROCID="3", SLURM_NTASKS="4", SLURM_LOCALID="1")
    (tmp_path / "bin" / "fake-repro").write_text(
        f'#!/usr/bin/env bash\necho "$RANK $WORLD_SIZE $LOCAL_RANK $MASTER_PORT $@" >> {tmp_path}/repro\nexit {repro_rc}\n')
    assert sbatch("ddp.sbatch", env, "cifar-sn", "2", "--threads", "4").returncode == job_rc
    rank, size, local_rank, port, *args = (tmp_path / "repro").read_text().split()
    assert (rank, size, local_rank, port) == ("3", "4", "1", "20078")  # torchrun's variables, from SLURM's
    assert args[:5] == ["train", "--recipe", "cifar-sn", "--seed", "2"] and "--auto-resume" in args and args[-2:] == ["--threads", "4"]
    scontrol = tmp_path / "scontrol"
    assert ("requeue 78" in (scontrol.read_text() if scontrol.exists() else "")) is requeued

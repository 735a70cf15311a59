"""The bad-input matrix of `repro train` and `repro runs` (listed in the README): every case ends in
one clear line that says what to do, a non-zero exit, no traceback and no run directory left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAST = ["--iterations", "2", "--set", "eval.metrics=[]", "-q"]


def write(path: str, text: str) -> str:
    Path(path).write_text(text)
    return path


def completed_run(cli) -> Path:
    assert cli("train", "-r", "gaussian-0gp", *FAST).exit_code == 0
    [run] = [p.parent for p in Path("results").rglob("run.json")]
    return run


# (arguments, setup run inside the temp dir returning extra arguments, words the message must contain)
CASES = {
    "unknown recipe": (["train", "-r", "gausian-0gp"], None, ["unknown recipe", "did you mean", "gaussian-0gp"]),
    "pattern matching nothing": (["train", "-r", "cifar-zz*"], None, ["no recipe matches"]),
    "zero batch size": (["train", "--set", "train.batch_size=0"], None, ["train.batch_size", ">= 1"]),
    "negative iterations": (["train", "--set", "train.iterations=-5"], None, ["train.iterations"]),
    "wrong type": (["train", "--set", "train.batch_size=\"big\""], None, ["train.batch_size", "int"]),
    "unknown key": (["train", "--set", "train.batchsize=8"], None, ["batchsize", "batch_size"]),
    "unknown section": (["train", "--set", "trian.iterations=8"], None, ["trian", "unknown section"]),
    "absurd learning rate": (["train", "--set", "optim.lr_d=1e9"], None, ["optim.lr_d", "<= 10"]),
    "bad best_mode": (["train", "--set", "train.best_mode=\"median\""], None, ["train.best_mode", "min"]),
    "malformed override": (["train", "--set", "train.iterations"], None, ["expected key=value"]),
    "missing dataset": (["train", "-r", "mnist-0gp", "--offline"], lambda cli: ["--data-dir", _folder("empty")],
                        ["MNIST not found", "--data-dir", "drop --offline"]),
    "speed switch of the wrong type": (["train", "--set", "speed.bf16=\"yes\""], None, ["speed.bf16", "true/false"]),
    "missing recipe file": (["train", "-r", "nowhere/recipe.toml"], None, ["does not exist"]),
    "recipe file not TOML": (["train"], lambda cli: ["-r", write("bad.toml", "[train\niterations = 3")], ["not valid TOML"]),
    "recipe file missing sections": (["train"], lambda cli: ["-r", write("thin.toml", "[recipe]\ndescription='x'\npaper='p'\n")],
                                     ["required section is missing"]),
    "recipe file wrong value type": (["train"], lambda cli: ["-r", write("typed.toml", "[recipe]\nextends='gaussian-0gp'\n[train]\nbatch_size='x'\n")],
                                     ["train.batch_size"]),
    "bad seeds": (["train", "--seeds", "3-1"], None, ["--seeds", "0-4"]),
    "seed and seeds": (["train", "--seed", "1", "--seeds", "0,1"], None, ["not both"]),
    "negative seed list": (["train", "--seeds", "0,-2"], None, ["non-negative"]),
    "no CUDA": (["train", "--device", "cuda"], None, ["CUDA is not available", "--device cpu"]),
    "unknown device": (["train", "--device", "tpu"], None, ["--device", "cpu, cuda"]),
    "--out is a file": (["train"], lambda cli: ["--out", write("taken", "")], ["choose another with --out"]),
    "resume missing dir": (["train", "--resume", "results/none"], None, ["is not a directory", "repro runs"]),
    "resume a non-run dir": (["train", "--resume", "."], None, ["not a run directory"]),
    "resume corrupt run.json": (["train"], lambda cli: ["--resume", str(_corrupt_run_json(completed_run(cli)))], ["corrupt"]),
    "resume with every checkpoint corrupt": (["train"], lambda cli: ["--resume", str(_corrupt_checkpoints(completed_run(cli)))],
                                             ["every checkpoint", "sha256"]),
    "resume with --recipe": (["train", "--resume", "x", "-r", "gaussian-0gp"], None, ["drop --recipe"]),
    "force without resume": (["train", "--force"], None, ["--force only applies to --resume"]),
    "runs of a missing folder": (["runs", "nowhere"], None, ["does not exist", "repro train"]),
}


def _folder(name: str) -> str:
    Path(name).mkdir()
    return name


def _corrupt_run_json(run: Path) -> Path:
    (run / "run.json").write_text("{not json")
    return run


def _corrupt_checkpoints(run: Path) -> Path:
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "preempted"}))
    for ckpt in (run / "checkpoints").glob("*.pt"):
        ckpt.write_bytes(ckpt.read_bytes()[:-10])
    return run


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_clear_line_and_no_run_directory(cli, case):
    args, setup, words = CASES[case]
    extra = setup(cli) if setup else []
    before = sorted(Path(".").rglob("run.json"))
    result = cli(*args, *extra)
    output = result.output.strip()
    assert result.exit_code == 2, output
    assert output.startswith("error: ") and "\n" not in output and "Traceback" not in output, output
    for word in words:
        assert word in output, (word, output)
    assert sorted(Path(".").rglob("run.json")) == before  # nothing new, nothing removed


# Unreadable and unwritable folders. Root bypasses file permissions, so as root the command runs
# with that privilege dropped (setpriv removes CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH), as a user would.
PERMISSION_CASES = {
    "unreadable data folder": (["-r", "mnist-0gp", "--offline", "--data-dir", "locked"], ["cannot access locked/MNIST", "Permission denied"]),
    "unwritable --out": (["-r", "gaussian-0gp", "--out", "locked"], ["cannot create results folder locked/gaussian-0gp", "--out"]),
    "unreadable run directory": (["--resume", "RUN"], ["cannot access", "run.json", "Permission denied"]),
}


def as_unprivileged_user(args: list[str]) -> list[str]:
    command = [sys.executable, "-m", "repro_cli", *args]
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command] if os.geteuid() == 0 else command


@pytest.mark.parametrize("case", list(PERMISSION_CASES))
def test_unreadable_folders_give_one_clear_line_and_no_run_directory(cli, tmp_path, case):
    args, words = PERMISSION_CASES[case]
    if "RUN" in args:
        args = [str(completed_run(cli)) if a == "RUN" else a for a in args]
    locked = Path(args[args.index("--resume") + 1]) if "--resume" in args else tmp_path / "locked"
    locked.mkdir(exist_ok=True)
    before = sorted(tmp_path.rglob("*"))
    locked.chmod(0)
    try:
        result = subprocess.run(as_unprivileged_user(["train", "--iterations", "2", "-q", *args]), cwd=tmp_path, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "REPRO_OFFLINE": "1"})
    finally:
        locked.chmod(0o755)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert output.startswith("error: ") and "\n" not in output and "Traceback" not in output, output
    for word in words:
        assert word in output, (word, output)
    assert sorted(tmp_path.rglob("*")) == before  # nothing created, nothing removed

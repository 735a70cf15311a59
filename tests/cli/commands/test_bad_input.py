"""The bad-input matrix of `repro train` and `repro runs` (listed in the README): every case ends in
one clear line that says what to do, a non-zero exit, no traceback and no run directory left behind."""

from __future__ import annotations

import json
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

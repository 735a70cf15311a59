"""What `repro` imports at start-up: heavy libraries only where a command uses them.

Every command loads every command module (auto-discovery) and a 2-D `repro train` loads the data
and metric registries (every module of each); torchvision (~0.5 s plus its torch._dynamo import),
pandas/seaborn (~0.4 s) and matplotlib (~0.4 s) must not ride along with them.
"""

import json
import subprocess
import sys

HEAVY = ("torchvision", "pytorch_fid", "pandas", "seaborn", "scipy", "matplotlib")


def imported_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_loading_the_cli_imports_no_plotting_table_or_vision_library():
    assert imported_after("import repro_cli.cli") == []


def test_a_2d_run_imports_matplotlib_for_its_figures_but_no_vision_or_table_library(tmp_path):
    code = f"""
from pathlib import Path
from repro_cli.config.recipes import load_recipe
from repro_cli.runs.execute import execute
run = execute(load_recipe("gaussian-0gp", ["train.iterations=2", "eval.every=2"]), 0, Path({str(tmp_path)!r}), "cpu", [])
assert (run.figure_dir / "surface-000000002.png").stat().st_size > 0
info = json.loads((run.path / "run.json").read_text())
import importlib.metadata
assert info["versions"]["torchvision"] == importlib.metadata.version("torchvision")  # recorded without importing it
"""
    assert imported_after(code) == ["matplotlib"]

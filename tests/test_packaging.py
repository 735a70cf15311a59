"""A built (non-editable) package carries its recipes: installed anywhere, it finds them."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import repro_cli

REPO = Path(repro_cli.__file__).resolve().parents[1]


def build_python() -> str:
    """An interpreter whose setuptools can build wheels itself (>= 70.1, as pyproject requires).
    A `--system-site-packages` venv bundles an older setuptools that shadows the system's one;
    its base interpreter then builds the wheel (building needs no repro imports)."""
    probe = "import setuptools, sys; v = tuple(int(x) for x in setuptools.__version__.split('.')[:2]); sys.exit(v < (70, 1))"
    for python in (sys.executable, getattr(sys, "_base_executable", sys.executable)):
        if subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
            return python
    raise AssertionError("no interpreter with setuptools >= 70.1 to build the wheel: pip install 'setuptools>=70.1'")

CHECK = """
import sys, repro_cli
from pathlib import Path
from repro_cli.config.recipes import recipe_dir, recipe_names, load_recipe
site = Path(sys.argv[1]).resolve()
assert Path(repro_cli.__file__).resolve().is_relative_to(site), repro_cli.__file__
assert recipe_dir().resolve().is_relative_to(site), recipe_dir()
names = recipe_names()
assert "gaussian-0gp" in names and "8gaussians-wgan-gp" in names and not any(n.startswith("_") for n in names), names
recipe = load_recipe("gaussian-0gp-sample")   # follows `extends` to a base shipped in the wheel
assert recipe.penalty.points == "real" and recipe.data.params["n"] == 100
print(len(names))
"""


def test_wheel_ships_the_recipes_and_finds_them_from_any_directory(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([build_python(), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("repro_gan-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "repro_cli/recipes/gaussian-0gp.toml" in names and "repro_cli/recipes/_gaussian-base.toml" in names
        site = tmp_path / "site"
        zf.extractall(site)  # a pure-Python wheel installs by unpacking
    assert not (site / "repro_cli" / "recipes").is_symlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    check = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr
    assert int(check.stdout) == len(list((REPO / "recipes").glob("[!_]*.toml")))
    cli = subprocess.run([sys.executable, "-m", "repro_cli", "recipes", "show", "gaussian-0gp"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert 'name = "gaussian-0gp"' in cli.stdout

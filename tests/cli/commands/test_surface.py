"""`repro surface`: figures, the logged distance, and the run checks."""

import json
from pathlib import Path

import pytest

from repro_cli.config.recipes import load_recipe

FAST = ["--set", "train.iterations=3", "--set", "eval.metrics=[{name = \"value-surface\", resolution = 20, figure = false}]"]


def train(cli, recipe, *extra):
    result = cli("train", "-r", recipe, *FAST, *extra, "-o", "res", "-q")
    assert result.exit_code == 0, result.output
    return sorted(Path("res", recipe).glob("*/run.json"))[-1].parent


def test_surface_of_a_run_writes_png_pdf_and_logs_the_distance(cli):
    run = train(cli, "gaussian-0gp")
    result = cli("surface", str(run), "--resolution", "30")
    assert result.exit_code == 0, result.output
    assert (run / "figures" / "surface-ckpt-000000003.png").stat().st_size > 1000
    assert (run / "figures" / "surface-ckpt-000000003.pdf").read_bytes().startswith(b"%PDF")
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    from_surface = [r for r in logged if r.get("protocol", {}).get("source") == "repro surface"]
    assert len(from_surface) == 1 and from_surface[0]["name"] == "d_dstar_distance"
    assert from_surface[0]["protocol"]["grid"] == "30x30 over [-2.5, 4.5]^2"
    assert f"{from_surface[0]['value']:.5f}" in result.output
    assert 0 < from_surface[0]["value"] < 1


def test_surface_of_a_gan_run_draws_the_gradient_field(cli):
    run = train(cli, "8gaussians-nogp", "--set", "eval.metrics=[{name = \"value-surface\", lo = -10.0, hi = 10.0, resolution = 20}]")
    result = cli("surface", str(run))
    assert result.exit_code == 0, result.output
    assert "gradient field" in result.output
    assert (run / "figures" / "surface-ckpt-000000003.png").is_file()


def test_surface_recipe_trains_first_then_reuses_the_matching_run(cli, monkeypatch):
    import repro_cli.cli.commands.surface as command

    trained = []
    real_execute = command.execute
    monkeypatch.setattr(command, "execute", lambda recipe, *a, **k: trained.append(recipe) or real_execute(recipe, *a, **k))
    monkeypatch.setattr(command, "load_recipe", lambda name: load_recipe(name, ["train.iterations=2", "eval.metrics=[{name = \"value-surface\", resolution = 10}]"]))
    assert cli("surface", "--recipe", "gaussian-1gp", "-o", "res").exit_code == 0
    assert cli("surface", "--recipe", "gaussian-1gp", "-o", "res").exit_code == 0
    assert len(trained) == 1
    assert len(list(Path("res", "gaussian-1gp").glob("*/run.json"))) == 1


def test_surface_recipe_ignores_runs_with_another_config(cli, monkeypatch):
    import repro_cli.cli.commands.surface as command

    train(cli, "gaussian-1gp", "--set", "optim.lr_d=5e-3")  # same recipe name, different settings
    monkeypatch.setattr(command, "load_recipe", lambda name: load_recipe(name, ["train.iterations=2", "eval.metrics=[{name = \"value-surface\", resolution = 10}]"]))
    result = cli("surface", "--recipe", "gaussian-1gp", "-o", "res")
    assert result.exit_code == 0, result.output
    assert "training one" in result.output
    assert len(list(Path("res", "gaussian-1gp").glob("*/run.json"))) == 2


def test_surface_refuses_a_run_whose_recipe_file_was_edited(cli):
    run = train(cli, "gaussian-0gp")
    text = (run / "recipe.toml").read_text().replace("lr_d = 0.001", "lr_d = 0.002")
    (run / "recipe.toml").write_text(text)
    result = cli("surface", str(run))
    assert result.exit_code == 2
    assert "does not match the config it was trained with" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["nowhere"], "nowhere is not a directory"),
    (["."], "is not a run directory (no run.json)"),
    ([], "give a RUN_DIR or --recipe NAME"),
    (["--recipe", "gausian-0gp"], "unknown recipe 'gausian-0gp' (did you mean: gaussian-0gp"),
    (["--recipe", "gaussian-*"], "matches 5 recipes"),
])
def test_surface_bad_input(cli, args, message):
    result = cli("surface", *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output

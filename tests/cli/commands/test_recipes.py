"""`repro recipes` and `repro recipes show`."""

import tomllib

from repro_cli.config.recipes import load_recipe, recipe_names
from repro_cli.config.schema import resolve


def test_listing_shows_every_recipe_with_description_and_paper(cli, monkeypatch):
    from repro_cli.cli.app import console

    monkeypatch.setattr(console, "width", 250)  # one line per recipe
    result = cli("recipes")
    assert result.exit_code == 0
    for name in recipe_names():
        assert name in result.output
    row = next(line for line in result.output.splitlines() if " gaussian-0gp " in line)
    recipe = load_recipe("gaussian-0gp")
    assert recipe.meta.description in row and recipe.meta.paper in row and recipe.meta.figure in row
    # grouped by paper, sorted by name inside a paper
    assert result.output.index("gaussian-nogp ") < result.output.index("gaussian-nogp-large")
    assert result.output.index("8gaussians-0gp ") < result.output.index("8gaussians-wgan-gp")


def test_listing_filters_by_glob(cli):
    result = cli("recipes", "--recipes", "8gaussians-*")
    assert result.exit_code == 0 and "8gaussians-0gp" in result.output and "gaussian-nogp" not in result.output


def test_show_prints_the_exact_resolved_toml(cli):
    result = cli("recipes", "show", "gaussian-0gp", "--set", "optim.lr_d=2e-3")
    assert result.exit_code == 0
    shown = tomllib.loads(result.output)
    recipe = load_recipe("gaussian-0gp", ["optim.lr_d=2e-3"])
    assert shown == recipe.to_dict()
    assert resolve(shown) == recipe
    assert result.output.startswith(f"# config hash {recipe.config_hash()}\n")


def test_show_unknown_recipe_names_close_matches(cli):
    result = cli("recipes", "show", "gaussain-0gp")
    assert result.exit_code == 2
    assert "unknown recipe 'gaussain-0gp'" in result.output and "did you mean: gaussian-0gp" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1

"""`repro recipes`: list recipes, or show one fully resolved."""

from __future__ import annotations

import tomli_w
import typer
from rich.syntax import Syntax
from rich.table import Table

from repro_cli.cli.app import app, console, handles_errors
from repro_cli.config.recipes import expand_patterns, load_recipe, recipe_names

recipes_app = typer.Typer(help="List the recipes, or show one fully resolved.", invoke_without_command=True, no_args_is_help=False)
app.add_typer(recipes_app, name="recipes")


@recipes_app.callback()
@handles_errors
def list_recipes(ctx: typer.Context, pattern: str = typer.Option("*", "--recipes", "-r", help="Glob pattern to filter names.")) -> None:
    """Every recipe with its description and the paper/figure it reproduces."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="recipes")
    for col in ("recipe", "description", "paper", "figure"):
        table.add_column(col, overflow="fold")
    for name in expand_patterns([pattern]) if pattern != "*" else recipe_names():
        meta = load_recipe(name).meta
        table.add_row(name, meta.description, meta.paper, meta.figure)
    console.print(table)


@recipes_app.command("show")
@handles_errors
def show(
    name: str = typer.Argument(..., help="Recipe name or .toml path."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Apply overrides before showing (key=value)."),
) -> None:
    """Print the fully resolved recipe (after `extends`, presets, defaults and overrides) as TOML."""
    recipe = load_recipe(name, set_)
    text = f"# config hash {recipe.config_hash()}\n" + tomli_w.dumps(recipe.to_dict())
    console.print(Syntax(text, "toml", theme="ansi_dark", word_wrap=True) if console.is_terminal else text, markup=False, highlight=False)

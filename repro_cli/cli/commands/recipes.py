"""`repro recipes`: list recipes, or show one fully resolved."""

from __future__ import annotations

import tomli_w
import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from repro_cli.cli.app import app, console, handles_errors
from repro_cli.config.recipes import expand_patterns, load_recipe, recipe_names
from repro_cli.config.schema import Recipe

recipes_app = typer.Typer(help="List the recipes, or show one fully resolved.", invoke_without_command=True, no_args_is_help=False)
app.add_typer(recipes_app, name="recipes")


def listing_order(recipes: list[Recipe]) -> list[Recipe]:
    """Grouped by paper, then by name, so one paper's recipes stay together."""
    return sorted(recipes, key=lambda r: (r.meta.paper.lower(), r.name.lower()))


@recipes_app.callback()
@handles_errors
def list_recipes(ctx: typer.Context, pattern: str = typer.Option("*", "--recipes", "-r", help="Glob pattern to filter names, e.g. 'gaussian-*'.")) -> None:
    """Every recipe with its description and the paper/figure it reproduces."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="recipes (repro recipes show NAME prints one in full)")
    table.add_column("recipe", no_wrap=True)
    for col in ("description", "paper", "figure"):
        table.add_column(col, overflow="fold")
    names = expand_patterns([pattern]) if pattern != "*" else recipe_names()
    for recipe in listing_order([load_recipe(name) for name in names]):
        # descriptions are user-written text: brackets in them are not Rich markup
        table.add_row(*(escape(text) for text in (recipe.name, recipe.meta.description, recipe.meta.paper, recipe.meta.figure)))
    console.print(table)


def resolved_toml(recipe: Recipe) -> str:
    """The exact TOML that a run saves as recipe.toml, headed by the config hash as a comment."""
    return f"# config hash {recipe.config_hash()}\n" + tomli_w.dumps(recipe.to_dict())


@recipes_app.command("show")
@handles_errors
def show(
    name: str = typer.Argument(..., help="Recipe name or .toml path."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Apply overrides before showing (key=value)."),
) -> None:
    """Print the fully resolved recipe (after `extends`, presets, defaults and overrides) as TOML."""
    text = resolved_toml(load_recipe(name, set_))
    if console.is_terminal:
        console.print(Syntax(text, "toml", theme="ansi_dark", word_wrap=True))
    else:  # piped: byte-exact TOML, no wrapping or markup, so `repro recipes show X > x.toml` round-trips
        typer.echo(text, nl=False)

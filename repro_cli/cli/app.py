"""The Typer application object and the plumbing every command shares: one-line errors, seeds,
device selection."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from repro_cli import __version__
from repro_cli.errors import ReproError

app = typer.Typer(
    name="repro",
    help="Reproduce GAN stabilisation results (0-GP, SN/BSSN) and say, number by number and claim by claim, "
    "how close the reproduction came.",
    no_args_is_help=False,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)
STATE = {"debug": False}


def _version(value: bool) -> None:
    if value:
        console.print(f"repro {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """repro: train recipes, draw value surfaces, evaluate runs and report against the papers."""
    STATE["debug"] = debug


def fail(message: str, code: int = 2) -> typer.Exit:
    # user-provided text (recipe names, paths, values) may contain [brackets]: never read it as markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """User errors become one red line and a non-zero exit; --debug shows the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ReproError as err:
            if STATE["debug"]:
                raise
            raise fail(str(err).replace("\n", " "), err.exit_code) from None
        except PermissionError as err:  # an unreadable data folder, an unwritable --out, a locked run directory
            if STATE["debug"]:
                raise
            raise fail(f"cannot access {err.filename or 'a file'} ({err.strerror}); fix its permissions for this user or choose another path", 2) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def parse_seeds(seed: int | None, seeds: str | None) -> list[int]:
    """--seed N or --seeds '0,1,2' / '0-4' / '0-2,7' (not both); default [0]."""
    if seed is not None and seeds is not None:
        raise ReproError("give either --seed or --seeds, not both")
    if seeds is None:
        return [0 if seed is None else seed]
    out: list[int] = []
    for part in seeds.split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                lo_i, hi_i = int(lo), int(hi)
                if hi_i < lo_i:
                    raise ValueError
                out.extend(range(lo_i, hi_i + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ReproError(f"--seeds {seeds!r}: expected comma-separated seeds or ranges, e.g. 0,1,2 or 0-4") from None
    if any(s < 0 for s in out):
        raise ReproError(f"--seeds {seeds!r}: seeds must be non-negative")
    return list(dict.fromkeys(out))


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ReproError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ReproError(f"--device {device!r}: expected cpu, cuda, cuda:N or auto")
    return device


def main() -> None:
    """Console-script entry point."""
    from repro_cli.cli import load_commands

    load_commands()
    try:
        app()
    except ReproError as err:  # raised outside a command (e.g. while parsing)
        err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(err.exit_code)

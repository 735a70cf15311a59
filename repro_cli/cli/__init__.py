"""`repro` command line. Each module in `repro_cli.cli.commands` adds its command(s) to `app`."""

from __future__ import annotations

import importlib
import pkgutil

from repro_cli.cli.app import app, main

__all__ = ["app", "main", "load_commands"]


def load_commands() -> None:
    from repro_cli.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"{commands.__name__}.{info.name}")


load_commands()

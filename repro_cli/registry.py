"""Named registries: losses, penalties, models, data sources, normalisations and metrics are small
pieces registered by name and composed by recipes, instead of if-chains in the engine.

A registered factory declares its recipe parameters as keyword-only arguments with type annotations
and defaults; `config.validate` checks a recipe's table against that signature, so the factory's
signature *is* the schema of its recipe section.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from repro_cli.errors import ConfigError, close_matches

T = TypeVar("T", bound=Callable[..., Any])


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str | None = None):
        self.kind = kind
        self._entries: dict[str, T] = {}
        # The module (or every sub-module of the package) that holds the entries registers them on
        # import; importing lazily on first lookup means a new model or metric file needs no edit
        # to any central list.
        self._package = package
        self._loaded = package is None

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise RuntimeError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = obj
            return obj

        return decorate

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        package = importlib.import_module(self._package)
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            importlib.import_module(f"{self._package}.{info.name}")

    def get(self, name: str, where: str = "") -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            at = f"{where}: " if where else ""
            raise ConfigError(
                f"{at}unknown {self.kind} {name!r}{close_matches(name, self._entries)}; "
                f"known: {', '.join(sorted(self._entries))}"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def signature(self, name: str) -> inspect.Signature:
        return inspect.signature(self.get(name))

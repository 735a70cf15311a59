"""Recipe files: finding them, `extends` inheritance, `--set` overrides, and listing.

Recipes are TOML data files shipped inside the package (the repo's top-level `recipes/` folder,
linked as `repro_cli/recipes`, is installed as package data). Files whose name starts with `_` are bases for `extends`, not
runnable recipes. A path to any `.toml` file may be used in place of a name.
"""

from __future__ import annotations

import copy
import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from repro_cli.config.schema import Recipe, resolve
from repro_cli.errors import ConfigError, close_matches

MAX_EXTENDS_DEPTH = 10
# Keys that are alternatives: a recipe or --set that gives one replaces the other it inherited.
ALTERNATIVES = {("train", "iterations"): ("train", "epochs"), ("train", "epochs"): ("train", "iterations")}


def recipe_dir() -> Path:
    return Path(str(resources.files("repro_cli") / "recipes"))


def _files() -> dict[str, Path]:
    # sorted by name, not by path: 'gaussian-nogp.toml' sorts after 'gaussian-nogp-large.toml' ('.' > '-')
    return dict(sorted((p.stem, p) for p in recipe_dir().glob("*.toml")))


def recipe_names() -> list[str]:
    """Runnable recipe names (bases excluded), sorted."""
    return [name for name in _files() if not name.startswith("_")]


def expand_patterns(patterns: Iterable[str]) -> list[str]:
    """Names, glob patterns ('gaussian-*') or file paths -> recipe references, in order, no repeats."""
    names = recipe_names()
    out: list[str] = []
    for pattern in patterns:
        if _is_path(pattern):
            hits = [pattern]
        elif any(ch in pattern for ch in "*?["):
            hits = fnmatch.filter(names, pattern)
            if not hits:
                raise ConfigError(f"no recipe matches {pattern!r}; `repro recipes` lists them")
        else:
            if pattern not in names:
                raise ConfigError(f"unknown recipe {pattern!r}{close_matches(pattern, names)}; `repro recipes` lists them")
            hits = [pattern]
        out.extend(h for h in hits if h not in out)
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"recipe file {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"recipe file {path} is not readable (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(f"recipe file {path} is a directory, not a TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"recipe file {path} is not valid TOML: {err}") from None


def _is_path(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref


def _locate(ref: str, relative_to: Path | None = None) -> Path:
    """A recipe name -> its shipped file; a path -> itself, taken relative to the extending file's
    folder when it comes from an `extends` (so a recipe file works from any working directory)."""
    if _is_path(ref):
        path = Path(ref).expanduser()
        return relative_to / path if relative_to is not None and not path.is_absolute() else path
    files = _files()
    if ref not in files:
        raise ConfigError(f"unknown recipe {ref!r}{close_matches(ref, recipe_names())}; `repro recipes` lists them")
    return files[ref]


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; a component table whose `name` changes replaces the base table
    (the old component's parameters would not fit the new one); anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping) and ("name" not in value or value.get("name") == old.get("name")):
            out[key] = deep_merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_raw(ref: str, _depth: int = 0, _relative_to: Path | None = None) -> dict[str, Any]:
    """The merged (but not yet validated) table of a recipe, following `extends`."""
    path = _locate(ref, _relative_to)
    table = _read_toml(path)
    meta = table.get("recipe", {})
    if not isinstance(meta, Mapping):
        raise ConfigError(f"{path}: [recipe] must be a table")
    parent = meta.get("extends", "")
    if parent:
        if _depth >= MAX_EXTENDS_DEPTH:
            raise ConfigError(f"{path}: recipe.extends is nested more than {MAX_EXTENDS_DEPTH} deep (a cycle?)")
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: recipe.extends must be a recipe name or a .toml path, got {parent!r}")
        base = load_raw(parent, _depth + 1, path.parent)
        base.get("recipe", {}).pop("name", None)
        for (section, key), (other_section, other) in ALTERNATIVES.items():
            if key in table.get(section, {}):
                base.get(other_section, {}).pop(other, None)
        table = deep_merge(base, table)
    table.setdefault("recipe", {}).setdefault("name", path.stem)
    return table


def parse_override(text: str) -> tuple[list[str], Any]:
    """'optim.lr_d=3e-4' -> (['optim', 'lr_d'], 3e-4). Values are TOML literals; bare words are strings."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. --set optim.lr_d=3e-4")
    path = key.split(".")
    if any(not part for part in path):
        raise ConfigError(f"--set {text!r}: malformed key {key!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return path, parsed


def apply_overrides(table: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    table = copy.deepcopy(table)
    for text in overrides:
        path, value = parse_override(text)
        if tuple(path) in ALTERNATIVES:
            section, key = ALTERNATIVES[tuple(path)]
            table.get(section, {}).pop(key, None)
        node = table
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is a value, not a table")
            node = child
        if isinstance(node.get(path[-1]), Mapping) and not isinstance(value, Mapping):
            raise ConfigError(f"--set {text!r}: {'.'.join(path)} is a table; set one of its keys instead")
        node[path[-1]] = value
    return table


def load_recipe(ref: str, overrides: Iterable[str] = ()) -> Recipe:
    """Load, merge, override and validate a recipe. Every error names the key at fault."""
    overrides = list(overrides)
    raw = apply_overrides(load_raw(ref), overrides)
    try:
        return resolve(raw)
    except ConfigError as err:
        where = f"recipe {ref!r}" + (" with --set overrides" if overrides else "")
        raise ConfigError(f"{where}: {err}") from None

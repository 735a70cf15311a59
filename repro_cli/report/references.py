"""The papers' reported numbers, as data: one TOML file per source in `recipes/papers/`.

Each `[[reported]]` entry ties one number to a recipe and a metric, with where it comes from:

    [[reported]]
    recipe = "cifar-resnet-sn"          # the recipe that reproduces the experiment (may not exist yet)
    metric = "inception_score"          # the name our metrics log uses
    value = 8.22                        # ... and its spread if the source gives one: std = 0.05
    cite = "Table 2, p. 8"              # page / table / figure in the source: required with a value
    protocol = { n_samples = 50000 }    # what the number depends on (compared with ours, mismatches flagged)

A number nobody has transcribed yet is listed with `missing = "<where it is: table/figure>"` instead of
`value`: the report then shows it as missing. Never put a number here without its `cite`.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

from repro_cli.errors import ConfigError

ENTRY_KEYS = {"recipe", "metric", "value", "std", "cite", "missing", "protocol", "note"}
SOURCE_KEYS = {"id", "title", "url", "kind", "note"}


@dataclasses.dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str = ""
    kind: str = "paper"  # "paper" (the work being reproduced) or "peer" (someone else's reproduction)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Reported:
    source: Source
    recipe: str
    metric: str
    value: float | None  # None: not transcribed yet
    std: float | None
    cite: str  # where the value is (or, when missing, where to find it)
    protocol: dict[str, Any]
    note: str = ""

    @property
    def missing(self) -> bool:
        return self.value is None

    def label(self) -> str:
        if self.value is None:
            return "missing"
        return f"{self.value:g}" if self.std is None else f"{self.value:g} ± {self.std:g}"


def papers_dir() -> Path:
    from repro_cli.config.recipes import recipe_dir

    return recipe_dir() / "papers"


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _entry(source: Source, raw: dict[str, Any], where: str) -> Reported:
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(ENTRY_KEYS))}")
    for key in ("recipe", "metric"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}: `{key}` (a name) is required")
    has_value, has_missing = "value" in raw, "missing" in raw
    if has_value == has_missing:
        raise ConfigError(f"{where}: give either `value` (with `cite`) or `missing = \"<table/figure it is in>\"`, not both or neither")
    if has_value and not str(raw.get("cite", "")).strip():
        raise ConfigError(f"{where}: a value needs `cite` (source page/table/figure); never add an uncited number")
    if not isinstance(raw.get("protocol", {}), dict):
        raise ConfigError(f"{where}: `protocol` must be a table, e.g. protocol = {{ n_samples = 50000 }}")
    return Reported(
        source=source,
        recipe=raw["recipe"],
        metric=raw["metric"],
        value=_number(where, "value", raw["value"]) if has_value else None,
        std=_number(where, "std", raw["std"]) if "std" in raw else None,
        cite=str(raw.get("cite") or raw.get("missing")),
        protocol=dict(raw.get("protocol", {})),
        note=str(raw.get("note", "")),
    )


def load_source(path: Path) -> list[Reported]:
    try:
        with Path(path).open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    head = raw.get("source")
    if not isinstance(head, dict) or not head.get("id") or not head.get("title"):
        raise ConfigError(f"{path}: needs a [source] table with id and title")
    unknown = set(head) - SOURCE_KEYS
    if unknown:
        raise ConfigError(f"{path}: [source] has unknown key(s) {', '.join(sorted(unknown))}")
    source = Source(**head)
    return [_entry(source, e, f"{path.name} [[reported]] #{i + 1}") for i, e in enumerate(raw.get("reported", []))]


def load_references(directory: Path | None = None) -> list[Reported]:
    """Every reported value of every source file (claims.toml excluded), in file order."""
    directory = papers_dir() if directory is None else Path(directory)
    out: list[Reported] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name != "claims.toml":
            out.extend(load_source(path))
    return out

"""Type-checking of recipe values against annotations (dataclass fields or factory signatures).

One function, `coerce`, turns a TOML value into the annotated type or raises a ConfigError that
names the key and says what was expected. Ranges are declared next to the type with `Annotated`,
e.g. `Annotated[float, Range(gt=0)]`, so schema and constraint live in one place.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from repro_cli.errors import ConfigError, close_matches


@dataclasses.dataclass(frozen=True)
class Range:
    """A numeric constraint: ge/gt/le/lt bounds, any subset."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, key: str, value: float) -> None:
        bad = (
            (self.ge is not None and value < self.ge and f">= {self.ge}")
            or (self.gt is not None and value <= self.gt and f"> {self.gt}")
            or (self.le is not None and value > self.le and f"<= {self.le}")
            or (self.lt is not None and value >= self.lt and f"< {self.lt}")
        )
        if bad:
            raise ConfigError(f"{key}: must be {bad}, got {value!r}")


def type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extras = get_args(annotation)
        rng = next((e for e in extras if isinstance(e, Range)), None)
        bounds = ""
        if rng:
            parts = [f"{op} {v}" for op, v in ((">=", rng.ge), (">", rng.gt), ("<=", rng.le), ("<", rng.lt)) if v is not None]
            bounds = f" ({', '.join(parts)})"
        return type_name(base) + bounds
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in get_args(annotation))
    if origin in (tuple, list):
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {type_name(args[0])}"
        return f"a list of {len(args)} values ({', '.join(type_name(a) for a in args)})"
    if annotation is type(None):
        return "nothing"
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def coerce(key: str, value: Any, annotation: Any) -> Any:
    """Return `value` converted to `annotation`, or raise ConfigError naming `key`."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extras = get_args(annotation)
        out = coerce(key, value, base)
        for extra in extras:
            if isinstance(extra, Range) and out is not None:
                extra.check(key, out)
        return out
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(key, value, arg)
            except ConfigError as err:
                errors.append(err)
        # a range violation of the matching type says more than "expected X or Y"
        range_errors = [e for e in errors if "must be" in str(e)]
        if range_errors:
            raise range_errors[0]
        raise ConfigError(f"{key}: expected {type_name(annotation)}, got {value!r}")
    if origin is Literal:
        if value not in get_args(annotation):
            raise ConfigError(f"{key}: expected {type_name(annotation)}, got {value!r}{close_matches(str(value), map(str, get_args(annotation)))}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {type_name(annotation)}, got {value!r}")
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            items = [coerce(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value)]
        else:
            if len(value) != len(args):
                raise ConfigError(f"{key}: expected {type_name(annotation)}, got {len(value)} values")
            items = [coerce(f"{key}[{i}]", v, a) for i, (v, a) in enumerate(zip(value, args))]
        return tuple(items)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if annotation is Any:
        return value
    if dataclasses.is_dataclass(annotation):
        return build_dataclass(annotation, value, key)
    raise TypeError(f"unsupported annotation {annotation!r} for {key}")


def _check_table(key: str, table: Any) -> Mapping[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{key}: expected a table of settings, got {table!r}")
    return table


def _reject_unknown(prefix: str, table: Mapping[str, Any], known: list[str]) -> None:
    for name in table:
        if name not in known:
            raise ConfigError(f"{prefix}{name}: unknown key{close_matches(name, known)}; known keys: {', '.join(known)}")


def build_dataclass(cls: type, table: Any, key: str = ""):
    """Validate a TOML table against a (frozen) dataclass, field by field."""
    table = _check_table(key or cls.__name__, table)
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    prefix = f"{key}." if key else ""
    _reject_unknown(prefix, table, [f.name for f in fields])
    kwargs = {}
    for f in fields:
        if f.name in table:
            kwargs[f.name] = coerce(prefix + f.name, table[f.name], hints[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{prefix}{f.name}: required key is missing ({type_name(hints[f.name])})")
    return cls(**kwargs)


def bind_signature(fn: Any, table: Mapping[str, Any], key: str, injected: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a component's params against the keyword-only arguments of its factory.

    Returns the full parameter dict with defaults filled in, so the resolved recipe shows every
    value that was used. `injected` names arguments the engine supplies (e.g. data shapes).
    """
    table = _check_table(key, table)
    sig = inspect.signature(fn)
    hints = typing.get_type_hints(fn, include_extras=True)
    params = [p for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in injected]
    _reject_unknown(f"{key}.", table, [p.name for p in params])
    bound = {}
    for p in params:
        if p.name in table:
            bound[p.name] = coerce(f"{key}.{p.name}", table[p.name], hints.get(p.name, Any))
        elif p.default is inspect.Parameter.empty:
            raise ConfigError(f"{key}.{p.name}: required key is missing ({type_name(hints.get(p.name, Any))})")
        else:
            bound[p.name] = p.default
    return bound

"""Type checking of recipe values: every error names the key and says what was expected."""

import dataclasses
from typing import Annotated, Literal

import pytest

from repro_cli.config.validate import Range, bind_signature, build_dataclass, coerce, type_name
from repro_cli.errors import ConfigError


def test_numbers_are_checked_and_ints_widen_to_float():
    assert coerce("k", 3, float) == 3.0 and isinstance(coerce("k", 3, float), float)
    assert coerce("k", 3, int) == 3
    with pytest.raises(ConfigError, match=r"^k: expected an integer, got 3.5"):
        coerce("k", 3.5, int)
    with pytest.raises(ConfigError, match="k: expected a number, got 'x'"):
        coerce("k", "x", float)
    with pytest.raises(ConfigError, match="expected a number"):
        coerce("k", True, float)  # bools are not numbers
    with pytest.raises(ConfigError, match="finite"):
        coerce("k", float("nan"), float)


def test_range_names_the_bound():
    ann = Annotated[float, Range(gt=0, le=10)]
    assert coerce("optim.lr", 1e-3, ann) == 1e-3
    with pytest.raises(ConfigError, match=r"optim.lr: must be > 0, got 0.0"):
        coerce("optim.lr", 0, ann)
    with pytest.raises(ConfigError, match=r"optim.lr: must be <= 10, got 11.0"):
        coerce("optim.lr", 11, ann)
    assert type_name(ann) == "a number (> 0, <= 10)"


def test_literal_suggests_close_values():
    with pytest.raises(ConfigError, match=r"g: expected one of 'probability', 'logit', got 'logits' \(did you mean: logit"):
        coerce("g", "logits", Literal["probability", "logit"])


def test_optional_range_reports_the_range_not_the_union():
    ann = Annotated[int, Range(ge=1)] | None
    assert coerce("n", None, ann) is None
    with pytest.raises(ConfigError, match="n: must be >= 1, got 0"):
        coerce("n", 0, ann)
    with pytest.raises(ConfigError, match="n: expected an integer"):
        coerce("n", "many", ann)


def test_fixed_tuples_check_length_and_items():
    ann = tuple[Annotated[float, Range(ge=0, lt=1)], Annotated[float, Range(ge=0, lt=1)]]
    assert coerce("betas", [0.5, 0.9], ann) == (0.5, 0.9)
    with pytest.raises(ConfigError, match="betas: expected a list of 2 values"):
        coerce("betas", [0.5], ann)
    with pytest.raises(ConfigError, match=r"betas\[1\]: must be < 1"):
        coerce("betas", [0.5, 1.0], ann)


def test_strings_and_bools_are_not_coerced_silently():
    with pytest.raises(ConfigError, match="expected a string"):
        coerce("s", 1, str)
    with pytest.raises(ConfigError, match="expected true/false"):
        coerce("b", "yes", bool)


@dataclasses.dataclass(frozen=True)
class Spec:
    size: Annotated[int, Range(ge=1)]
    rate: float = 0.5


def test_build_dataclass_rejects_unknown_keys_with_suggestions():
    assert build_dataclass(Spec, {"size": 2}, "sec") == Spec(2, 0.5)
    with pytest.raises(ConfigError, match=r"sec.rat: unknown key \(did you mean: rate\?\); known keys: size, rate"):
        build_dataclass(Spec, {"size": 2, "rat": 1.0}, "sec")
    with pytest.raises(ConfigError, match=r"sec.size: required key is missing \(an integer \(>= 1\)\)"):
        build_dataclass(Spec, {}, "sec")
    with pytest.raises(ConfigError, match="sec: expected a table"):
        build_dataclass(Spec, 3, "sec")


def factory(*, in_shape, width: Annotated[int, Range(ge=1)] = 8, act: Literal["relu", "tanh"] = "relu"):
    return in_shape, width, act


def test_bind_signature_fills_defaults_and_hides_injected_arguments():
    assert bind_signature(factory, {"width": 4}, "discriminator", ("in_shape",)) == {"width": 4, "act": "relu"}
    with pytest.raises(ConfigError, match="discriminator.in_shape: unknown key"):
        bind_signature(factory, {"in_shape": [2]}, "discriminator", ("in_shape",))
    with pytest.raises(ConfigError, match="discriminator.width: must be >= 1, got 0"):
        bind_signature(factory, {"width": 0}, "discriminator", ("in_shape",))

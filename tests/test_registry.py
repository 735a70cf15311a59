"""Registries: registration, lookup with close matches, lazy loading of a package's modules."""

import inspect

import pytest

from repro_cli import registries as R
from repro_cli.errors import ConfigError
from repro_cli.registry import Registry


def test_register_and_get_returns_the_object():
    reg = Registry("widget")

    @reg.register("round")
    def make_round(*, radius: float = 1.0):
        return radius

    assert reg.get("round") is make_round
    assert "round" in reg and "square" not in reg
    assert reg.names() == ["round"]
    assert list(reg.signature("round").parameters) == ["radius"]


def test_registering_a_different_object_twice_under_one_name_fails():
    reg = Registry("widget")
    reg.register("a")(len)
    reg.register("a")(len)  # the same object again is harmless (module re-import)
    with pytest.raises(RuntimeError, match="registered twice"):
        reg.register("a")(max)


def test_unknown_name_names_close_matches_and_the_known_ones():
    reg = Registry("loss")
    for name in ("ns-gan", "wgan", "hinge"):
        reg.register(name)(lambda: None)
    with pytest.raises(ConfigError) as err:
        reg.get("wgn", where="loss.name")
    message = str(err.value)
    assert message.startswith("loss.name: unknown loss 'wgn'")
    assert "did you mean: wgan" in message
    assert "known: hinge, ns-gan, wgan" in message


def test_names_are_sorted():
    reg = Registry("x")
    for name in ("b", "c", "a"):
        reg.register(name)(object())
    assert reg.names() == ["a", "b", "c"]


def test_package_registries_import_their_modules_lazily():
    # each registry finds the entries defined in its package without a central list
    assert {"ns-gan", "wgan", "hinge"} <= set(R.LOSSES.names())
    assert {"none", "0gp", "0gp-sample", "1gp"} <= set(R.PENALTY_PRESETS.names())
    assert {"interpolates", "real", "fake", "real+fake"} <= set(R.PENALTY_POINTS.names())
    assert {"mlp-generator", "mlp-discriminator"} <= set(R.MODELS.names())
    assert {"gaussian-sample", "8gaussians"} <= set(R.DATA.names())
    assert {"value-surface", "modes-2d"} <= set(R.METRICS.names())
    assert {"none", "sn"} <= set(R.NORMALIZATIONS.names())
    assert {"adam", "sgd"} <= set(R.OPTIMIZERS.names())


def test_factories_declare_recipe_parameters_as_keyword_only():
    # the factory signature is the schema: every recipe parameter must be keyword-only and typed
    for registry in (R.MODELS, R.DATA, R.LOSSES, R.METRICS, R.NORMALIZATIONS):
        for name in registry.names():
            for p in registry.signature(name).parameters.values():
                assert p.kind is inspect.Parameter.KEYWORD_ONLY, (registry.kind, name, p.name)

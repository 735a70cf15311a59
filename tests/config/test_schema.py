"""The validated Recipe: cross-section rules, penalty presets, the resolved dict and config hash."""

import copy

import pytest

from repro_cli.config.recipes import load_raw, load_recipe
from repro_cli.config.schema import resolve
from repro_cli.errors import ConfigError


@pytest.fixture
def raw():
    return load_raw("gaussian-0gp")


def test_resolved_recipe_round_trips_through_its_dict(raw):
    recipe = resolve(raw)
    again = resolve(recipe.to_dict())
    assert again == recipe
    assert again.config_hash() == recipe.config_hash()


def test_config_hash_ignores_description_but_not_settings(raw):
    base = resolve(raw).config_hash()
    described = copy.deepcopy(raw)
    described["recipe"]["description"] = "another text"
    assert resolve(described).config_hash() == base
    faster = copy.deepcopy(raw)
    faster["optim"]["lr_d"] = 2e-3
    assert resolve(faster).config_hash() != base


def test_presets_fill_defaults_and_explicit_keys_win(raw):
    recipe = resolve(raw)
    assert (recipe.penalty.weight, recipe.penalty.center, recipe.penalty.points) == (1.0, 0.0, "interpolates")
    raw["penalty"] = {"preset": "0gp-sample", "weight": 2.0, "points": "real+fake"}
    penalty = resolve(raw).penalty
    assert (penalty.weight, penalty.center, penalty.points) == (2.0, 0.0, "real+fake")
    raw["penalty"] = {"preset": "1gp", "weight": 1.0}
    assert resolve(raw).penalty.center == 1.0


def test_preset_none_with_a_weight_says_how_to_fix_it(raw):
    raw["penalty"] = {"preset": "none", "weight": 1.0}
    with pytest.raises(ConfigError) as err:
        resolve(raw)
    assert "preset 'none' means no penalty" in str(err.value)
    assert "penalty.weight=0" in str(err.value) and "0gp" in str(err.value)


def test_unknown_preset_and_points_name_close_matches(raw):
    raw["penalty"] = {"preset": "0-gp", "weight": 1.0}
    with pytest.raises(ConfigError, match=r"penalty.preset: unknown penalty preset '0-gp' \(did you mean: 0gp"):
        resolve(raw)
    raw["penalty"] = {"preset": "0gp", "weight": 1.0, "points": "reals"}
    with pytest.raises(ConfigError, match=r"penalty.points: unknown penalty point set 'reals' \(did you mean: real"):
        resolve(raw)


def test_probability_gradient_needs_a_sigmoid_loss_only_when_a_penalty_is_active(raw):
    raw["loss"] = {"name": "hinge"}
    with pytest.raises(ConfigError, match="penalty.gradient_of: 'probability' needs a loss with a sigmoid"):
        resolve(raw)
    raw["penalty"]["gradient_of"] = "logit"
    assert resolve(raw).loss.name == "hinge"
    # without a penalty, where its gradient would be taken does not matter
    raw["penalty"] = {"preset": "none", "gradient_of": "probability"}
    assert resolve(raw).penalty.weight == 0.0


def test_a_recipe_has_exactly_one_of_generator_and_fake_data(raw):
    raw["generator"] = {"name": "mlp-generator"}
    with pytest.raises(ConfigError, match="exactly one of \\[generator\\]"):
        resolve(raw)
    del raw["generator"], raw["fake_data"]
    with pytest.raises(ConfigError, match="exactly one of"):
        resolve(raw)


def test_iterations_and_epochs_are_alternatives(raw):
    raw["train"]["iterations"] = 10
    with pytest.raises(ConfigError, match="exactly one of train.iterations or train.epochs"):
        resolve(raw)
    del raw["train"]["iterations"], raw["train"]["epochs"]
    with pytest.raises(ConfigError, match="exactly one of"):
        resolve(raw)


def test_unknown_section_and_missing_section(raw):
    raw["trian"] = {}
    with pytest.raises(ConfigError, match=r"trian: unknown section \(did you mean: train"):
        resolve(raw)
    del raw["trian"], raw["discriminator"]
    with pytest.raises(ConfigError, match="discriminator: required section is missing"):
        resolve(raw)


def test_component_parameters_are_checked_against_the_factory(raw):
    raw["discriminator"]["hiden"] = 3
    with pytest.raises(ConfigError, match=r"discriminator.hiden: unknown key \(did you mean: hidden"):
        resolve(raw)
    del raw["discriminator"]["hiden"]
    raw["discriminator"]["activation"] = "gelu"
    with pytest.raises(ConfigError, match="discriminator.activation: expected one of 'relu', 'tanh', 'lrelu'"):
        resolve(raw)
    raw["discriminator"] = {"name": "mlp-discrimnator"}
    with pytest.raises(ConfigError, match=r"discriminator.name: unknown model 'mlp-discrimnator' \(did you mean: mlp-discriminator"):
        resolve(raw)


def test_defaults_are_filled_in_so_the_resolved_recipe_shows_every_value():
    recipe = load_recipe("gaussian-nogp")
    assert recipe.discriminator.params == {"hidden": 64, "layers": 2, "activation": "tanh"}
    assert recipe.to_dict()["penalty"] == {"preset": "none", "weight": 0.0, "center": 0.0, "points": "interpolates", "gradient_of": "probability"}

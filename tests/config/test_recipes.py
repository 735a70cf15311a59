"""Recipe files: discovery, `extends`, `--set` overrides, patterns; and the shipped recipes' settings
against the 0-GP authors' code (paper_0gp.md 2a/2b)."""

import pytest

from repro_cli.config.recipes import (apply_overrides, deep_merge, expand_patterns, load_raw, load_recipe,
                                      parse_override, recipe_dir, recipe_names)
from repro_cli.errors import ConfigError

GAUSSIAN = ["gaussian-0gp", "gaussian-0gp-sample", "gaussian-1gp", "gaussian-nogp", "gaussian-nogp-large"]
EIGHT = ["8gaussians-0gp", "8gaussians-0gp-sample", "8gaussians-nogp", "8gaussians-wgan-gp"]


def test_the_issue_recipes_exist_and_bases_are_hidden():
    names = recipe_names()
    assert set(GAUSSIAN + EIGHT) <= set(names)
    assert not any(n.startswith("_") for n in names)
    assert names == sorted(names)
    assert (recipe_dir() / "_gaussian-base.toml").is_file()


@pytest.mark.parametrize("name", recipe_names())
def test_every_shipped_recipe_validates_and_names_its_paper(name):
    recipe = load_recipe(name)
    assert recipe.name == name
    assert recipe.meta.description and recipe.meta.paper


def test_optimal_d_study_matches_the_authors_script():
    r = load_recipe("gaussian-0gp")
    assert r.data.params["mean"] == (0.4, 0.9) and r.data.params["cov"] == ((1.0, 0.5), (0.5, 1.0))
    assert r.fake_data.params["mean"] == (1.3, 1.2) and r.fake_data.params["cov"] == ((1.0, 0.7), (0.7, 1.0))
    assert r.data.params["n"] == r.fake_data.params["n"] == 100
    assert r.generator is None
    assert r.discriminator.params == {"hidden": 64, "layers": 2, "activation": "tanh"}
    assert (r.optim.name, r.optim.lr_d, r.optim.betas) == ("adam", 1e-3, (0.9, 0.999))
    assert (r.train.batch_size, r.train.epochs) == (20, 10001)
    assert (r.penalty.weight, r.penalty.center, r.penalty.points, r.penalty.gradient_of) == (1.0, 0.0, "interpolates", "probability")
    assert load_recipe("gaussian-nogp").penalty.weight == 0
    assert load_recipe("gaussian-1gp").penalty.center == 1.0
    assert load_recipe("gaussian-0gp-sample").penalty.points == "real"
    large = load_recipe("gaussian-nogp-large")
    assert large.data.params["n"] == large.fake_data.params["n"] == 1000


def test_8gaussians_recipes_match_the_authors_defaults():
    r = load_recipe("8gaussians-0gp")
    assert (r.optim.name, r.optim.lr_g, r.optim.lr_d, r.optim.n_dis) == ("sgd", 3e-3, 3e-3, 1)
    assert (r.train.iterations, r.train.batch_size) == (20000, 128)
    assert (r.penalty.weight, r.penalty.points) == (10.0, "interpolates")
    assert r.generator.params["layers"] == r.discriminator.params["layers"] == 3
    assert load_recipe("8gaussians-nogp").penalty.weight == 0
    assert load_recipe("8gaussians-0gp-sample").penalty.points == "real"
    wgan = load_recipe("8gaussians-wgan-gp")
    assert (wgan.loss.name, wgan.penalty.center, wgan.penalty.gradient_of, wgan.optim.n_dis) == ("wgan", 1.0, "logit", 5)


def test_patterns_expand_in_order_without_repeats():
    assert expand_patterns(["gaussian-nogp*"]) == ["gaussian-nogp", "gaussian-nogp-large"]
    assert expand_patterns(["8gaussians-nogp", "8gaussians-*"])[0] == "8gaussians-nogp"
    assert len(expand_patterns(["8gaussians-nogp", "8gaussians-*"])) == len(EIGHT)
    with pytest.raises(ConfigError, match="no recipe matches 'zzz-\\*'"):
        expand_patterns(["zzz-*"])
    with pytest.raises(ConfigError, match=r"unknown recipe 'gausian-0gp' \(did you mean: gaussian-0gp"):
        expand_patterns(["gausian-0gp"])


def test_extends_merges_tables_and_a_changed_component_name_replaces_its_table():
    merged = deep_merge({"d": {"name": "a", "x": 1, "y": 2}, "t": {"k": 1}}, {"d": {"x": 3}, "t": {"j": 2}})
    assert merged == {"d": {"name": "a", "x": 3, "y": 2}, "t": {"k": 1, "j": 2}}
    replaced = deep_merge({"d": {"name": "a", "x": 1}}, {"d": {"name": "b"}})
    assert replaced == {"d": {"name": "b"}}


def test_extends_with_a_path_is_relative_to_the_extending_file(tmp_path, monkeypatch):
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "mine.toml").write_text('[recipe]\nextends = "gaussian-0gp"\n[optim]\nlr_d = 5e-4\n')
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "child.toml").write_text('[recipe]\nextends = "../bases/mine.toml"\ndescription = "child"\n[train]\niterations = 7\n')
    monkeypatch.chdir(tmp_path / "exp" / "..")  # a working directory that is not the file's folder
    monkeypatch.chdir("/")
    recipe = load_recipe(str(tmp_path / "exp" / "child.toml"))
    assert recipe.name == "child"
    assert recipe.optim.lr_d == 5e-4
    assert recipe.train.iterations == 7 and recipe.train.epochs is None  # iterations replaced the inherited epochs
    assert recipe.penalty.points == "interpolates"


def test_extends_cycles_and_missing_files_are_reported(tmp_path):
    (tmp_path / "a.toml").write_text('[recipe]\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[recipe]\nextends = "a.toml"\n')
    with pytest.raises(ConfigError, match="nested more than"):
        load_raw(str(tmp_path / "a.toml"))
    (tmp_path / "c.toml").write_text('[recipe]\nextends = "nothere.toml"\n')
    with pytest.raises(ConfigError, match="nothere.toml does not exist"):
        load_raw(str(tmp_path / "c.toml"))
    (tmp_path / "bad.toml").write_text("[recipe\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_raw(str(tmp_path / "bad.toml"))


def test_parse_override_reads_toml_values_and_bare_words():
    assert parse_override("optim.lr_d=3e-4") == (["optim", "lr_d"], 3e-4)
    assert parse_override("optim.betas=[0.5, 0.9]") == (["optim", "betas"], [0.5, 0.9])
    assert parse_override("loss.name=wgan") == (["loss", "name"], "wgan")
    assert parse_override("eval.metrics[0]=1")[0] == ["eval", "metrics[0]"]
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("optim.lr_d")
    with pytest.raises(ConfigError, match="malformed key"):
        parse_override("optim..lr=1")


def test_overrides_replace_alternatives_and_refuse_to_clobber_tables():
    table = apply_overrides(load_raw("gaussian-0gp"), ["train.iterations=5"])
    assert table["train"]["iterations"] == 5 and "epochs" not in table["train"]
    with pytest.raises(ConfigError, match="optim is a table"):
        apply_overrides(load_raw("gaussian-0gp"), ["optim=3"])
    with pytest.raises(ConfigError, match="'lr_d' is a value, not a table"):
        apply_overrides(load_raw("gaussian-0gp"), ["optim.lr_d.x=3"])


def test_bad_override_names_the_key_and_the_expected_type():
    with pytest.raises(ConfigError) as err:
        load_recipe("gaussian-0gp", ["optim.lr_d=fast"])
    assert str(err.value) == "recipe 'gaussian-0gp' with --set overrides: optim.lr_d: expected a number, got 'fast'"
    with pytest.raises(ConfigError, match=r"optim.lr_d: must be > 0, got -1.0"):
        load_recipe("gaussian-0gp", ["optim.lr_d=-1"])
    with pytest.raises(ConfigError, match=r"optim.lrd: unknown key \(did you mean: lr_d"):
        load_recipe("gaussian-0gp", ["optim.lrd=1e-3"])

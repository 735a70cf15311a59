"""Every CIFAR recipe trains on a tiny CIFAR-10 copy (real pickle format) for a few iterations and
logs the SN diagnostics."""

import math

import pytest

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.runs.execute import execute

TINY = ["data.verify_checksums=false", "train.batch_size=4", "eval.every=0", "eval.metrics=[{name = \"sn-diagnostics\", n_samples = 4}]"]
CNN_RECIPES = ["cifar-sn", "cifar-strict-sn", "cifar-bsn", "cifar-ssn", "cifar-bssn", "cifar-nogp", "cifar-0gp-sample", "cifar-0gp"]
RESNET_RECIPES = ["cifar-resnet-sn", "cifar-resnet-bssn"]


def run_tiny(name, tiny_cifar10, tmp_path, iterations):
    root, _ = tiny_cifar10
    overrides = TINY + [f"train.iterations={iterations}"]
    run = execute(load_recipe(name, overrides), 0, tmp_path / "runs", "cpu", overrides, DataContext(root=root, download=False))
    return run, list(run.records())


@pytest.mark.parametrize("name", CNN_RECIPES + RESNET_RECIPES)
def test_recipe_trains_and_logs_diagnostics(name, tiny_cifar10, tmp_path):
    run, records = run_tiny(name, tiny_cifar10, tmp_path, 1 if name in RESNET_RECIPES else 2)
    assert run.info["status"] == "completed"
    train = [r for r in records if r["type"] == "train"]
    assert train and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in train)
    metrics = {r["name"]: r for r in records if r["type"] == "metric"}
    assert metrics["grad_x_norm_real_max"]["value"] >= metrics["grad_x_norm_real_min"]["value"] > 0
    assert metrics["grad_norm_total"]["value"] > 0
    spectral = metrics["layer_weight_spectral_norm"]["value"]
    recipe = load_recipe(name)
    if recipe.normalization.name in ("sn", "ssn"):
        c = recipe.normalization.params.get("c", 1.0)
        assert all(v == pytest.approx(c, rel=0.05) for v in spectral.values())
        assert "layer_sigma" in metrics and "layer_sigma1" not in metrics
    if recipe.normalization.name in ("bsn", "bssn"):
        assert "layer_sigma1" in metrics and "layer_sigma2" in metrics
    if recipe.normalization.name == "none":
        assert "layer_sigma" not in metrics


def test_sn_recipes_use_the_papers_cnn_setting():
    recipe = load_recipe("cifar-bssn")
    assert (recipe.loss.name, recipe.optim.lr_g, recipe.optim.lr_d, recipe.optim.betas, recipe.optim.n_dis) == ("hinge", 1e-4, 1e-4, (0.5, 0.999), 1)
    assert (recipe.train.batch_size, recipe.train.iterations) == (64, 400_000)
    metrics = {m.name: m.params for m in recipe.eval.metrics}
    assert recipe.eval.every == 10_000 and "sn-diagnostics" in metrics
    assert (metrics["fid"]["n_fake"], metrics["fid"]["n_real"], metrics["fid"]["ref"]) == (10_000, 5_000, "train")
    assert (metrics["inception-score"]["n_samples"], metrics["inception-score"]["splits"]) == (50_000, 10)
    resnet = load_recipe("cifar-resnet-sn")
    assert (resnet.optim.lr_d, resnet.optim.betas, resnet.optim.n_dis) == (2e-4, (0.0, 0.9), 5)


def test_stability_grid_is_a_set_of_overrides_on_one_recipe():
    recipe = load_recipe("cifar-bsn", ["optim.lr_g=2e-4", "optim.n_dis=5", "optim.betas=[0.5, 0.9]"])
    assert (recipe.optim.lr_g, recipe.optim.n_dis, recipe.optim.betas) == (2e-4, 5, (0.5, 0.9))


@pytest.mark.parametrize("name, variant", [("cifar-bssn", []), ("cifar-bssn", ["normalization.variant=bssn-authors"]), ("cifar-strict-sn", [])])
def test_a_resumed_run_continues_exactly_including_the_power_iteration_vectors(name, variant, tiny_cifar10):
    import io

    import torch

    from repro_cli.engine.trainer import Trainer

    root, _ = tiny_cifar10
    recipe = load_recipe(name, ["data.verify_checksums=false", "train.batch_size=2", "train.iterations=3", *variant])
    ctx = DataContext(root=root, download=False)
    straight = Trainer(recipe, data=ctx)
    for _ in range(2):
        straight.step()
    first = Trainer(recipe, data=ctx)
    first.step()
    saved = torch.load(io.BytesIO(first.checkpoint_bytes()), weights_only=False)
    resumed = Trainer(recipe, data=ctx)
    resumed.load_state_dict(saved)
    resumed.step()
    a, b = straight.D.state_dict(), resumed.D.state_dict()
    assert any(".u" in k for k in a)  # the persistent vectors are part of the state
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_0gp_recipes_differ_only_in_where_the_penalty_is_taken():
    nogp, sample, zero = (load_recipe(n) for n in ("cifar-nogp", "cifar-0gp-sample", "cifar-0gp"))
    assert nogp.penalty.weight == 0
    assert (sample.penalty.weight, sample.penalty.center, sample.penalty.points, sample.penalty.gradient_of) == (100.0, 0.0, "real", "probability")
    assert (zero.penalty.weight, zero.penalty.center, zero.penalty.points, zero.penalty.gradient_of) == (100.0, 0.0, "interpolates", "probability")
    assert {r.generator.name for r in (nogp, sample, zero)} == {"dcgan-generator"} and zero.loss.name == "ns-gan"
    assert nogp.config_hash() != sample.config_hash() != zero.config_hash()

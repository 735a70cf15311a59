"""The registered metrics through the real path: a recipe's [eval], the trainer, the resolved
(random) Inception weights, the reference-statistics cache."""

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.errors import ConfigError
from repro_cli.metrics import reference_stats
from repro_cli.runs.execute import execute


@pytest.fixture
def trained_run(tiny_recipe_file, test_weights, tmp_path):
    return execute(load_recipe(str(tiny_recipe_file)), 0, tmp_path / "results", "cpu", [])


def test_recipe_eval_logs_fid_and_is_with_their_protocol(trained_run, test_weights, monkeypatch, cli):
    metrics = {r["name"]: r for r in trained_run.records() if r["type"] == "metric"}
    fid, score = metrics["fid"], metrics["inception_score"]
    assert fid["value"] > 0 and 1.0 <= score["value"] <= 4.0
    assert fid["protocol"]["n_fake"] == 4 and fid["protocol"]["n_real"] == 6
    assert fid["protocol"]["reference"].startswith("test-tiny-images-train")
    assert fid["protocol"]["inception_weights"] == test_weights.describe()
    assert fid["protocol"]["seed"] == 0 and fid["protocol"]["checkpoint"] == "iteration 2"
    assert "biased" in fid["protocol"]["warning"]
    assert score["protocol"]["splits"] == 2 and score["protocol"]["n_samples"] == 4
    assert metrics["inception_score_std"]["protocol"] == score["protocol"]

    # The reference statistics were cached; `repro evaluate` at a chosen checkpoint reads them
    # instead of recomputing, and logs the value with the checkpoint it used.
    cached = list(reference_stats.cache_dir().glob("*.npz"))
    assert len(cached) == 1
    monkeypatch.setattr(reference_stats, "features_of_uint8", lambda *a: pytest.fail("reference stats recomputed"))
    result = cli("evaluate", str(trained_run.path), "--checkpoint", "2", "--metrics", "fid")
    assert result.exit_code == 0, result.output
    assert "fid" in result.output and "n_fake=4" in result.output and "ckpt-000000002.pt" in result.output
    logged = [r for r in trained_run.records() if r.get("protocol", {}).get("source") == "repro evaluate"]
    assert [r["name"] for r in logged] == ["fid"]
    assert logged[0]["value"] == pytest.approx(fid["value"], rel=1e-9)
    assert logged[0]["protocol"]["checkpoint"].startswith("ckpt-000000002.pt")


def test_fid_needs_image_data(test_weights):
    from repro_cli.engine.trainer import Trainer
    from repro_cli.registries import METRICS

    trainer = Trainer(load_recipe("8gaussians-0gp"))
    with pytest.raises(ConfigError, match="needs a generator of images"):
        METRICS.get("fid")()(trainer, None)


def test_unknown_reference_set_suggests_names(test_weights):
    with pytest.raises(ConfigError, match="cifar10-test"):
        reference_stats.load_reference_set("cifar10-tset", None)


def test_run_references_train_test_and_named_splits_of_cifar(tiny_cifar10):
    """'train' is the run's (limited) training data; 'test' / 'cifar10-test' the whole test split,
    read with the run's data settings (here: no checksum check for the tiny copy)."""
    import numpy as np

    from repro_cli.data.base import DataContext
    from repro_cli.engine.trainer import Trainer
    from repro_cli.metrics.image_metrics import run_reference_images

    root, train = tiny_cifar10
    recipe = load_recipe("cifar-bssn", ["data.verify_checksums=false", "data.limit=30", "train.batch_size=8"])
    trainer = Trainer(recipe, data=DataContext(root=root, download=False))
    images, name = run_reference_images(trainer, "train")
    assert images.shape == (30, 3, 32, 32) and name.startswith("cifar10-train")
    np.testing.assert_array_equal(images.permute(0, 2, 3, 1).numpy(), train[:30])
    test, name = run_reference_images(trainer, "test")
    assert test.shape == (8, 3, 32, 32) and name == "cifar10-test"
    named, _ = run_reference_images(trainer, "cifar10-test")
    assert torch.equal(named, test)

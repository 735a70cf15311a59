"""Every recipe trains through the one engine; runs are bit-identical for a seed on CPU."""

import pytest
import torch

from repro_cli.config.recipes import load_recipe, recipe_names
from repro_cli.engine.build import total_iterations
from repro_cli.engine.trainer import Trainer
from repro_cli.errors import ConfigError

TINY = ["train.iterations=3", "train.log_every=1"]
TWO_D = [n for n in recipe_names() if n.startswith(("gaussian-", "8gaussians-"))]


@pytest.mark.parametrize("name", TWO_D)
def test_every_2d_recipe_trains_a_few_iterations(name):
    recipe = load_recipe(name, TINY + ["eval.metrics=[]"])
    trainer = Trainer(recipe, seed=0)
    before = [p.detach().clone() for p in trainer.D.parameters()]
    g_before = [p.detach().clone() for p in trainer.G.parameters()] if trainer.G is not None else []
    status = trainer.fit()
    assert status == "completed" and trainer.iteration == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.D.parameters()))
    if trainer.G is not None:
        assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters()))
    stats = trainer.step()
    assert torch.isfinite(stats["d_loss"]) and ("g_loss" in stats) == (trainer.G is not None)
    assert (stats["penalty"].item() > 0) == (recipe.penalty.weight > 0)


def test_epochs_give_the_authors_number_of_d_steps():
    trainer = Trainer(load_recipe("gaussian-0gp"), seed=0)
    assert trainer.total == 10001 * (100 // 20)
    assert total_iterations(load_recipe("gaussian-0gp", ["train.epochs=2", "train.batch_size=30"]), trainer.real) == 6


def test_batch_larger_than_the_fixed_data_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"train.batch_size: 500 exceeds the 100 samples of \[data\]"):
        Trainer(load_recipe("gaussian-nogp", ["train.batch_size=500", "train.iterations=1"]))


def run_twice(name, overrides):
    out = []
    for _ in range(2):
        records = []
        trainer = Trainer(load_recipe(name, overrides), seed=3)
        trainer.fit(on_log=records.append)
        records += trainer.evaluate()
        out.append((records, {k: v.clone() for k, v in trainer.D.state_dict().items()}))
    return out


@pytest.mark.parametrize("name", ["gaussian-0gp", "8gaussians-0gp"])
def test_same_recipe_and_seed_are_bit_identical(name):
    (rec_a, d_a), (rec_b, d_b) = run_twice(name, ["train.iterations=20", "train.log_every=5"])
    strip = lambda recs: [{k: v for k, v in r.items() if k != "seconds"} for r in recs]
    assert strip(rec_a) == strip(rec_b)
    assert len(rec_a) >= 4
    for key in d_a:
        assert torch.equal(d_a[key], d_b[key]), key


def test_different_seeds_differ():
    a = Trainer(load_recipe("8gaussians-0gp", TINY), seed=0)
    b = Trainer(load_recipe("8gaussians-0gp", TINY), seed=1)
    assert not torch.equal(a.D.net[0].weight, b.D.net[0].weight)
    assert not torch.equal(a.real.batch(4), b.real.batch(4))


def test_fixed_samples_are_the_same_data_set_for_every_run_seed():
    a = Trainer(load_recipe("gaussian-nogp", TINY), seed=0)
    b = Trainer(load_recipe("gaussian-nogp", TINY), seed=5)
    assert torch.equal(a.real.samples, b.real.samples) and torch.equal(a.fake_data.samples, b.fake_data.samples)


def test_evaluate_restores_training_mode_and_labels_the_protocol():
    trainer = Trainer(load_recipe("gaussian-0gp", TINY + ["eval.metrics=[{name = \"value-surface\", resolution = 20}]"]), seed=2)
    trainer.fit()
    records = trainer.evaluate()
    assert trainer.D.training
    names = {r["name"] for r in records}
    assert names == {"d_dstar_distance", "d_dstar_grid_mae"}
    for r in records:
        assert r["protocol"]["seed"] == 2 and r["protocol"]["checkpoint"] == "iteration 3" and "grid" in r["protocol"]

import json
from pathlib import Path

import pytest

from repro_cli.config.recipes import expand_patterns, load_recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.trainer import Trainer

MNIST_RECIPES = ["mnist-nogp", "mnist-0gp-sample", "mnist-1gp", "mnist-0gp", "mnist-0gp-50ep", "mnist-0gp-beta09", "mnist-0gp-ttur"]
STACKED_RECIPES = ["stacked-mnist-nogp", "stacked-mnist-0gp-sample", "stacked-mnist-1gp", "stacked-mnist-0gp"]


def test_all_recipes_exist():
    assert set(expand_patterns(["mnist-*", "stacked-mnist-*"])) == set(MNIST_RECIPES + STACKED_RECIPES)


@pytest.mark.parametrize("name, points, center, weight, epochs", [
    ("mnist-nogp", "interpolates", 0.0, 0.0, 10), ("mnist-0gp-sample", "real", 0.0, 100.0, 10),
    ("mnist-1gp", "interpolates", 1.0, 100.0, 10), ("mnist-0gp", "interpolates", 0.0, 100.0, 10),
    ("mnist-0gp-50ep", "interpolates", 0.0, 100.0, 50), ("mnist-0gp-ttur", "interpolates", 0.0, 100.0, 5),
])
def test_report_fig4_settings(name, points, center, weight, epochs):
    r = load_recipe(name)
    assert (r.penalty.points, r.penalty.center, r.penalty.weight, r.train.epochs) == (points, center, weight, epochs)
    assert r.generator.params["output"] == "tanh" and r.data.params["scaling"] == "tanh"
    assert (r.generator.params["z_dim"], r.generator.params["hidden"], r.generator.params["layers"]) == (50, 512, 3)


def test_stacked_recipes_use_the_authors_generator():
    for name in STACKED_RECIPES:
        r = load_recipe(name)
        assert r.generator.params["output"] == "none" and r.data.params["scaling"] == "mean-std"
        assert r.optim.n_dis == 5 and r.train.iterations == 20000
        assert r.penalty.weight == (0.0 if name.endswith("nogp") else 500.0)


def test_ttur_and_betas_reach_the_optimisers(mnist_root):
    ctx = DataContext(root=mnist_root, download=False)
    ttur = Trainer(load_recipe("mnist-0gp-ttur"), data=ctx)
    assert ttur.opt_d.param_groups[0]["lr"] == pytest.approx(9e-4) and ttur.opt_g.param_groups[0]["lr"] == pytest.approx(3e-4)
    assert ttur.opt_d.param_groups[0]["betas"] == (0.5, 0.9)
    beta = Trainer(load_recipe("mnist-0gp-beta09"), data=ctx)
    assert beta.opt_d.param_groups[0]["betas"] == (0.9, 0.9) == beta.opt_g.param_groups[0]["betas"]
    # epochs -> iterations from the training-set size: 600 // 128 = 4 batches per epoch
    assert ttur.total == 5 * 4 and beta.total == 10 * 4
    d_shapes = [p.shape for p in ttur.D.parameters() if p.dim() == 2]
    assert d_shapes == [(512, 784), (512, 512), (512, 512), (1, 512)]


def test_every_recipe_trains_and_evaluates(cli, mnist_root, mnist_classifier):
    metrics = '[{name="mode-coverage", n_samples=300}, {name="d-generalization", n_samples=50}, {name="sample-grid", side=2}]'
    result = cli("train", "-r", "mnist-*", "-r", "stacked-mnist-*", "--data-dir", str(mnist_root), "--offline", "-q",
                 "--iterations", "2", "--set", "train.batch_size=16", "--set", "data.n_train=1000", "--set", f"eval.metrics={metrics}")
    assert result.exit_code == 0, result.output
    for name in MNIST_RECIPES + STACKED_RECIPES:
        (run,) = [p for p in Path("results", name).iterdir() if p.is_dir()]
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        metric = {r["name"]: r for r in records if r.get("type") == "metric"}
        n_modes = 1000 if name.startswith("stacked") else 10
        assert 0 <= metric["modes_covered"]["value"] <= n_modes and metric["modes_covered"]["protocol"]["n_modes"] == n_modes
        assert metric["modes_covered"]["protocol"]["classifier"] == mnist_classifier.id
        assert "d_generalization_gap" in metric and (run / "figures" / "samples-000000002.png").exists()
        assert max(r["iteration"] for r in records if r.get("type") == "train") == 2

import pytest
import torch

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.build import build, check_reaches_data
from repro_cli.errors import ConfigError


@pytest.mark.parametrize("output, data", [
    (None, None),                 # unbounded G reaches anything
    (None, (-0.42, 2.82)),
    ((-1.0, 1.0), (-1.0, 1.0)),   # tanh G, MNIST/CIFAR scaled to [-1, 1]
    ((0.0, 1.0), (0.0, 1.0)),
])
def test_generators_that_reach_the_data_pass(output, data):
    check_reaches_data(output, data, load_recipe("mnist-0gp"))


@pytest.mark.parametrize("output, data, spans", [
    ((-1.0, 1.0), (-0.4242, 2.8215), "span [-0.424, 2.82]"),  # tanh G, MNIST mean-std
    ((0.0, 1.0), (-1.0, 1.0), "span [-1, 1]"),                # sigmoid G, tanh scaling
    ((-1.0, 1.0), None, "are unbounded"),                     # tanh G, Gaussian data
])
def test_generators_that_cannot_reach_the_data_are_refused(output, data, spans):
    with pytest.raises(ConfigError) as err:
        check_reaches_data(output, data, load_recipe("mnist-0gp"))
    message = str(err.value)
    assert spans in message and "generator" in message and "--set data.scaling=tanh" in message and "\n" not in message


def test_build_checks_the_real_recipe_pieces(mnist_root):
    ctx = DataContext(root=mnist_root, download=False)
    build(load_recipe("mnist-0gp", ["train.iterations=1"]), 0, torch.device("cpu"), ctx)  # tanh with tanh: fine
    build(load_recipe("stacked-mnist-0gp", ["train.iterations=1"]), 0, torch.device("cpu"), ctx)  # authors': none, mean-std
    with pytest.raises(ConfigError, match=r"lies in \[-1, 1\] but the \[data\] values span \[-0.424, 2.82\]"):
        build(load_recipe("mnist-0gp", ["data.scaling=mean-std"]), 0, torch.device("cpu"), ctx)
    with pytest.raises(ConfigError, match="are unbounded"):
        build(load_recipe("8gaussians-0gp", ["generator.output=tanh"]), 0, torch.device("cpu"))


def test_the_cli_refuses_the_mismatch_before_any_run_exists(cli, mnist_root, tmp_path):
    result = cli("train", "-r", "mnist-0gp", "--set", "data.scaling=mean-std", "--iterations", "1",
                 "--data-dir", str(mnist_root), "--offline", "-q", "-o", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert "G cannot produce the data" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "mnist-0gp").exists()

import numpy as np
import pytest
import torch
from torchvision.datasets import MNIST

from repro_cli.data.base import DataContext
from repro_cli.data.idx import read_idx
from repro_cli.data.mnist import StackedMNIST, load_split, mnist, stacked_mnist
from repro_cli.errors import DataError

from ..conftest import write_tiny_mnist  # noqa: TID252


def test_torchvision_reads_the_gzip_and_raw_files(tmp_path):
    raw = write_tiny_mnist(tmp_path, n_train=30, n_test=20)
    written = read_idx(raw / "train-images-idx3-ubyte.gz")
    images, labels = load_split(tmp_path, download=False, split="train")
    assert images.dtype == torch.uint8 and images.shape == (30, 28, 28)
    np.testing.assert_array_equal(images.numpy(), written)
    assert labels.tolist() == [i % 10 for i in range(30)]
    assert (raw / "train-images-idx3-ubyte").exists()  # unpacked where torchvision looks
    test_images, _ = load_split(tmp_path, download=False, split="test")
    assert test_images.shape == (20, 28, 28)


def test_missing_files_offline_say_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "download", lambda self: pytest.fail("downloaded although offline"))
    with pytest.raises(DataError) as err:
        load_split(tmp_path, download=False, split="train")
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte" in message
    assert "offline" in message and "--data-dir" in message and "\n" not in message


def test_download_only_when_allowed(tmp_path, monkeypatch):
    """With downloading allowed, torchvision's own download() is what fetches missing files."""
    calls = []

    def fake_download(self):
        calls.append(self.root)
        write_tiny_mnist(tmp_path, n_train=10, n_test=10, train_suffix="")

    monkeypatch.setattr(MNIST, "download", fake_download)
    images, _ = load_split(tmp_path, download=True, split="train")
    assert calls == [str(tmp_path)] and images.shape[0] == 10


def test_failed_download_is_one_line(tmp_path, monkeypatch):
    def offline_network(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried mirror, got: no route")

    monkeypatch.setattr(MNIST, "download", offline_network)
    with pytest.raises(DataError) as err:
        load_split(tmp_path, download=True, split="train")
    message = str(err.value)
    assert "Error downloading train-images-idx3-ubyte.gz: Tried mirror, got: no route" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "\n" not in message


def test_truncated_file_fails_before_torchvision(tmp_path):
    raw = write_tiny_mnist(tmp_path, n_train=20, n_test=10, train_suffix="")
    path = raw / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is truncated"):
        load_split(tmp_path, download=False, split="train")


def test_n_train_subset_and_scalings(mnist_root):
    ctx = DataContext(root=mnist_root, download=False)
    small = mnist(ctx=ctx, n_train=100, scaling="tanh")
    again = mnist(ctx=DataContext(root=mnist_root, download=False, seed=5), n_train=100, scaling="tanh")
    assert small.size == 100 and small.shape == (1, 28, 28)
    assert torch.equal(small.samples, again.samples)  # the subset does not depend on the run seed
    x = small.batch(32)
    assert x.shape == (32, 1, 28, 28) and x.min() >= -1 and x.max() <= 1 and x.min() == -1
    assert torch.allclose(small.to_unit(small.points(4)), small.samples[:4].float() / 255)
    authors = mnist(ctx=ctx, n_train=100, scaling="mean-std")
    assert torch.allclose(authors.points(4), (small.samples[:4].float() / 255 - 0.1307) / 0.3081)
    assert mnist(ctx=ctx).size == 600  # n_train beyond the data keeps everything


def test_stacked_mnist_is_balanced_over_1000_modes(mnist_root):
    source = stacked_mnist(ctx=DataContext(root=mnist_root, download=False), n_train=2000, scaling="mean-std")
    assert source.shape == (3, 28, 28) and source.n_modes == 1000 and source.size == 2000
    labels = load_split(mnist_root, False, "train")[1]
    digit_labels = labels[source.samples]  # (N, 3) digit of each channel
    modes = digit_labels[:, 0] * 100 + digit_labels[:, 1] * 10 + digit_labels[:, 2]
    assert torch.bincount(modes, minlength=1000).tolist() == [2] * 1000
    x = source.points(5)
    assert x.shape == (5, 3, 28, 28)
    assert torch.allclose(source.to_unit(x)[:, 1], source.digits[source.samples[:5, 1]].float() / 255, atol=1e-6)
    assert source.heldout_points(7).shape == (7, 3, 28, 28)


def test_stacked_mnist_needs_every_digit():
    with pytest.raises(DataError, match=r"no \[9\]"):
        StackedMNIST.balanced_triples(torch.arange(50) % 9, 1000, 0)


@pytest.mark.parametrize("how", ["flag", "env"])
def test_offline_switch_forbids_download_from_the_cli(cli, tmp_path, monkeypatch, how):
    monkeypatch.setattr(MNIST, "download", lambda self: pytest.fail("downloaded although offline"))
    if how == "flag":
        monkeypatch.delenv("REPRO_OFFLINE", raising=False)
        args = ["--offline"]
    else:
        monkeypatch.setenv("REPRO_OFFLINE", "1")
        args = []
    result = cli("train", "-r", "mnist-nogp", "--data-dir", str(tmp_path / "nowhere"), "-q", *args)
    assert result.exit_code == 2
    assert "MNIST not found" in result.output and str(tmp_path / "nowhere" / "MNIST" / "raw") in result.output
    assert "Traceback" not in result.output and not (tmp_path / "results").exists()


def test_data_dir_from_environment(cli, mnist_root, monkeypatch):
    monkeypatch.setenv("REPRO_DATA_DIR", str(mnist_root))
    result = cli("train", "-r", "mnist-nogp", "-q", "--iterations", "1", "--set", "eval.metrics=[]")
    assert result.exit_code == 0, result.output


def test_stacked_batches_resume_exactly(mnist_root):
    ctx = DataContext(root=mnist_root, download=False, seed=3)
    source = stacked_mnist(ctx=ctx, n_train=1000)
    for _ in range(40):  # past an epoch boundary (1000 // 32 batches)
        source.batch(32)
    state = source.state_dict()
    expected = [source.batch(32) for _ in range(3)]
    fresh = stacked_mnist(ctx=ctx, n_train=1000)
    fresh.load_state_dict(state)
    assert all(torch.equal(a, fresh.batch(32)) for a in expected)


def test_images_and_labels_must_match(tmp_path):
    from repro_cli.data.idx import write_idx

    raw = write_tiny_mnist(tmp_path, n_train=20, n_test=10, train_suffix="")
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(19, dtype=np.uint8))
    with pytest.raises(DataError, match=r"\(20, 28, 28\) images and 19 labels"):
        load_split(tmp_path, download=False, split="train")


@pytest.mark.parametrize("scaling", ["mean-std", "tanh"])
def test_pixels_survive_scaling_and_back(mnist_root, scaling):
    """FID/IS, grids and the classifier read generated images back to pixels by the source's own
    map: model space -> uint8 must invert the scaling exactly, for either scaling."""
    source = mnist(ctx=DataContext(root=mnist_root, download=False), scaling=scaling)
    stored = source.samples[:50]
    images = source.decode(stored)
    lo, hi = source.value_range
    assert images.min() >= lo - 1e-6 and images.max() <= hi + 1e-6
    assert torch.equal(source.to_uint8(images), stored)
    assert {"mean-std": (-0.1307 / 0.3081, 0.8693 / 0.3081), "tanh": (-1.0, 1.0)}[scaling] == pytest.approx((lo, hi))

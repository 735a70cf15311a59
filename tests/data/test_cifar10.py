import pytest
import torch

from repro_cli.data.base import DataContext
from repro_cli.data.cifar10 import cifar10
from repro_cli.errors import DataError


def test_loads_the_pickle_batches_through_torchvision_and_scales_to_unit_range(tiny_cifar10):
    root, images = tiny_cifar10
    source = cifar10(ctx=DataContext(root=root, download=False), verify_checksums=False)
    assert source.size == 40 and source.shape == (3, 32, 32)
    expected = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    assert torch.allclose(source.points(40), expected)
    batch = source.batch(16)
    assert batch.min() >= -1 and batch.max() <= 1 and batch.shape == (16, 3, 32, 32)


def test_test_split_and_limit(tiny_cifar10):
    root, _ = tiny_cifar10
    assert cifar10(ctx=DataContext(root=root, download=False), split="test", verify_checksums=False).size == 8
    assert cifar10(ctx=DataContext(root=root, download=False), limit=5, verify_checksums=False).size == 5


def test_missing_data_offline_says_where_and_how(tmp_path):
    with pytest.raises(DataError) as err:
        cifar10(ctx=DataContext(root=tmp_path, download=False))
    message = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in message
    assert "cifar-10-python.tar.gz" in message and "--data-dir" in message and "--offline" in message
    assert "\n" not in message


def test_checksums_of_the_official_release_are_verified_by_default(tiny_cifar10):
    root, _ = tiny_cifar10
    with pytest.raises(DataError, match="incomplete or corrupt"):
        cifar10(ctx=DataContext(root=root, download=False))


def test_missing_data_through_the_cli_is_one_line(cli, tmp_path):
    result = cli("train", "--recipe", "cifar-sn", "--data-dir", str(tmp_path / "nowhere"), "--offline", "--set", "train.iterations=1")
    assert result.exit_code != 0
    assert "CIFAR-10 not found" in result.output and "Traceback" not in result.output


def test_pixels_survive_decoding_and_back(tiny_cifar10):
    root, images = tiny_cifar10
    source = cifar10(ctx=DataContext(root=root, download=False), verify_checksums=False)
    stored = source.samples
    assert torch.equal(stored, torch.from_numpy(images).permute(0, 3, 1, 2))
    assert source.value_range == (-1.0, 1.0)
    assert torch.equal(source.to_uint8(source.decode(stored)), stored)

import numpy as np
import pytest
import torch

from repro_cli.data.base import DataContext
from repro_cli.errors import ConfigError
from repro_cli.metrics import reference_stats as RS


def test_named_split_read_by_the_registered_data_source(tiny_cifar10):
    root, train = tiny_cifar10
    ctx = DataContext(root=root, download=False)
    images = RS.load_reference_set("cifar10-train", ctx, {"verify_checksums": False})
    assert images.dtype == torch.uint8 and images.shape == (40, 3, 32, 32)
    np.testing.assert_array_equal(images.permute(0, 2, 3, 1).numpy(), train)
    assert RS.load_reference_set("cifar10-test", ctx, {"verify_checksums": False}).shape[0] == 8


def test_unknown_set_lists_the_known_ones():
    with pytest.raises(ConfigError, match="did you mean: cifar10-test"):
        RS.load_reference_set("cifar10-tset", None)


def test_subset_is_seeded_and_without_replacement():
    images = torch.arange(100).view(100, 1, 1, 1)
    a, b = RS.subset(images, 10, seed=3), RS.subset(images, 10, seed=3)
    assert torch.equal(a, b) and len(set(a.flatten().tolist())) == 10
    assert not torch.equal(a, RS.subset(images, 10, seed=4))
    assert RS.subset(images, 1000, seed=0) is images


def test_statistics_cached_by_content(test_weights, fast_net, smooth_images, monkeypatch):
    images = (smooth_images(3, 75, seed=9) * 255).round().to(torch.uint8)
    real_extract = RS.features_of_uint8
    first = RS.statistics(images, fast_net, {"reference": "mine"})
    assert first.protocol["cache"].startswith("written")
    monkeypatch.setattr(RS, "features_of_uint8", lambda *a: pytest.fail("recomputed cached statistics"))
    second = RS.statistics(images.clone(), fast_net, {"reference": "mine"})
    assert second.protocol["cache"].startswith("hit") and second.protocol["n"] == 3
    np.testing.assert_array_equal(second.mu, first.mu)
    changed = images.clone()
    changed[0, 0, 0, 0] ^= 1  # one pixel differs: a different data set, never a stale hit
    monkeypatch.setattr(RS, "features_of_uint8", real_extract)
    assert RS.statistics(changed, fast_net, {"reference": "mine"}).protocol["cache"].startswith("written")

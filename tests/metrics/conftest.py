"""Inception weights for tests: pytorch-fid's real InceptionV3 architecture, randomly initialised
(He-normal, so features do not vanish through 94 layers) and saved where the loader expects a file."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from pytorch_fid import inception as pf_inception

from repro_cli.data.base import DataContext, TensorSource
from repro_cli.metrics import inception_weights


def random_inception_state(seed: int = 0) -> dict[str, torch.Tensor]:
    with mock.patch.object(pf_inception, "load_state_dict_from_url", lambda *a, **k: None), \
            mock.patch.object(torch.nn.Module, "load_state_dict"):
        net = pf_inception.fid_inception_v3()
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            fan_in = m.weight[0].numel()
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5
    return net.state_dict()


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(random_inception_state(), path)
    return path


@pytest.fixture
def test_weights(weights_file, monkeypatch, tmp_path):
    """The random weights resolved through the environment, unofficial allowed, a fresh stats cache."""
    monkeypatch.setenv(inception_weights.WEIGHTS_ENV, str(weights_file))
    monkeypatch.setenv(inception_weights.ALLOW_UNOFFICIAL_ENV, "1")
    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path / "cache"))
    return inception_weights.resolve()


@pytest.fixture(scope="session")
def fast_net(weights_file):
    """The extractor without the resize to 299, for 75-px test images (4× fewer FLOPs)."""
    from repro_cli.metrics.inception_features import InceptionFeatures

    weights = inception_weights.verify(weights_file, "test", allow_unofficial=True)
    return InceptionFeatures(weights, torch.device("cpu"), resize_input=False)


@pytest.fixture(scope="session")
def inception_state():
    """A fresh copy of the random state dict, for tests that edit it (e.g. the fc layer)."""
    return random_inception_state


def smooth_images(n: int, size: int, seed: int) -> torch.Tensor:
    """Random low-frequency colour images in [0, 1] (upsampled 4×4 noise): distinct, image-like."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


@pytest.fixture(name="smooth_images", scope="session")
def smooth_images_fixture():
    return smooth_images


@pytest.fixture(scope="session")
def image_sets(fast_net):
    """Pool3 features of a base set X, a copy, and X shifted by a small and a large amount."""
    base = smooth_images(16, 75, seed=1)
    gen = torch.Generator().manual_seed(2)
    noise = torch.randn(base.shape, generator=gen)
    sets = {"x": base, "x_small": (base + 0.05 * noise).clamp(0, 1), "x_large": (base + 0.3 * noise).clamp(0, 1)}
    return {name: fast_net(images)[0].numpy() for name, images in sets.items()}


TINY_IMAGE_RECIPE = """
[recipe]
description = "tiny 3x8x8 image GAN for metric tests"
paper = "none"

[data]
name = "test-tiny-images"

[generator]
name = "mlp-generator"
z_dim = 4
hidden = 8
layers = 1
activation = "relu"
output = "tanh"

[discriminator]
name = "mlp-discriminator"
hidden = 8
layers = 1
activation = "relu"

[loss]
name = "ns-gan"

[penalty]
preset = "none"
weight = 0.0

[optim]
name = "adam"
lr_d = 1e-3
lr_g = 1e-3
betas = [0.5, 0.999]

[train]
iterations = 2
batch_size = 4
log_every = 1

[eval]
every = 0
metrics = [{ name = "fid", n_fake = 4, n_real = 6 }, { name = "inception-score", n_samples = 4, splits = 2 }]
"""


def _register_tiny_images():
    """A 3×8×8 uint8 image data set (decoded to [-1, 1] like real image sources), test-only."""

    from repro_cli.registries import DATA

    class TinyImages(TensorSource):
        def decode(self, stored):
            return stored.float() / 127.5 - 1

    def tiny_images(*, ctx: DataContext, n: int = 12):
        pixels = torch.randint(0, 256, (n, 3, 8, 8), generator=torch.Generator().manual_seed(7), dtype=torch.uint8)
        return TinyImages(pixels, ctx.device, ctx.seed)

    if "test-tiny-images" not in DATA:
        DATA.register("test-tiny-images")(tiny_images)


@pytest.fixture(scope="session")
def tiny_recipe_file(tmp_path_factory):
    _register_tiny_images()
    path = tmp_path_factory.mktemp("recipes") / "tiny-images.toml"
    path.write_text(TINY_IMAGE_RECIPE)
    return path

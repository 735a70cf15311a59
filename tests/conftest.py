"""Shared fixtures. Tests run offline, on CPU, with tiny budgets of the real recipes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from repro_cli.data.base import DataContext, PixelImages, TensorSource

# Never touch the network or the user's data cache from tests.
os.environ["REPRO_OFFLINE"] = "1"
torch.set_num_threads(1)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Invoke `repro ...` through Typer's runner inside a temp dir; returns (exit_code, output)."""
    from repro_cli.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result

    return invoke


# --- a tiny MNIST in the real IDX layout (MNIST/raw/...), so torchvision's own loader runs -------
def render_digits(labels, seed: int):
    """28×28 uint8 images of the digits in `labels`, drawn with PIL's font at random offsets, sizes
    and stroke intensities: real digit shapes a LeNet can learn from a few hundred examples."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    fonts = {size: ImageFont.load_default(size=size) for size in range(18, 25)}
    out = np.zeros((len(labels), 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        image = Image.new("L", (28, 28))
        font = fonts[int(rng.integers(18, 25))]
        ImageDraw.Draw(image).text((int(rng.integers(4, 11)), int(rng.integers(-2, 4))), str(int(label)),
                                   fill=int(rng.integers(180, 256)), font=font)
        out[i] = np.asarray(image)
    return out


def write_tiny_mnist(root, n_train: int = 600, n_test: int = 200, train_suffix: str = ".gz", test_suffix: str = ""):
    """MNIST-format files under root/MNIST/raw: training files gzip-compressed and test files raw by
    default (both forms occur in the wild). Labels cycle 0..9. Returns the raw folder."""
    import numpy as np

    from repro_cli.data.idx import write_idx

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, suffix, seed in (("train", n_train, train_suffix, 1), ("t10k", n_test, test_suffix, 2)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", render_digits(labels, seed))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return raw


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    """A data directory holding a tiny MNIST (shared by the session, so its classifier is trained once)."""
    root = tmp_path_factory.mktemp("mnist-data")
    write_tiny_mnist(root)
    return root


@pytest.fixture(scope="session")
def mnist_classifier(mnist_root):
    """The cached digit classifier of `mnist_root`, trained once (settings that suit 600 images)."""
    from repro_cli.classifier import TrainSettings, get_classifier

    return get_classifier(mnist_root, False, TrainSettings(epochs=10, lr=0.05, momentum=0.9, batch_size=32))


# --- a tiny CIFAR-10 in the real pickle-batch format, so torchvision's own loader runs -------------
@pytest.fixture
def tiny_cifar10(tmp_path):
    """(data dir, training images) of a tiny CIFAR-10 copy; recipes need data.verify_checksums=false."""
    import numpy as np

    from repro_cli.data.cifar10 import write_cifar10_batches

    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    train = rng.integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    write_cifar10_batches(root, train, rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8))
    return root, train


# --- synthetic run directories for the report tests (values chosen by the test, no training) ---

PROTOCOL = {"grid": "4x4", "weight": "p_r + p_g"}


def _make_run(root: Path, recipe: str, seed: int, metrics: dict[str, float], *, iteration: int = 100, status: str = "completed",
             config: str = "cfg0", protocol: dict | None = None, earlier: dict[str, float] | None = None,
             d_losses: list[float] | None = None, created: str = "2026-01-01T00:00:00", name: str = "",
             layers: dict[str, dict[str, float]] | None = None) -> Path:
    """results/<recipe>/<id>/ with run.json and a metrics log: `earlier` values at iteration/2, `metrics`
    at `iteration` (plus per-layer `layers` {metric: {layer: value}}), and a training log of d_loss values
    (one per 10 iterations)."""
    path = Path(root) / recipe / (name or f"run-{recipe}-s{seed}-{config}")
    path.mkdir(parents=True)
    info = {"id": path.name, "recipe": recipe, "seed": seed, "config_hash": config, "status": status, "iteration": iteration,
            "created": created}
    (path / "run.json").write_text(json.dumps(info))
    lines = [json.dumps({"type": "train", "iteration": 10 * (i + 1), "d_loss": v, "g_loss": 1.0}) for i, v in enumerate(d_losses or [])]
    for it, values in ((iteration // 2, earlier or {}), (iteration, {**metrics, **(layers or {})})):
        lines += [json.dumps({"type": "metric", "iteration": it, "name": k, "value": v,
                              "protocol": {"seed": seed, "checkpoint": f"iteration {it}", **(protocol or PROTOCOL)}}) for k, v in values.items()]
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return path


def _write_papers(folder: Path, reported: str, claims: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paper.toml").write_text('[source]\nid = "paper"\ntitle = "A paper"\n' + reported)
    (folder / "claims.toml").write_text(claims)
    return folder


@pytest.fixture
def make_run():
    return _make_run


@pytest.fixture
def write_papers():
    return _write_papers


# --- FID / IS: random Inception weights through the real loader, a tiny image recipe ---------------

def random_inception_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """pytorch-fid's real InceptionV3 architecture, randomly initialised (He-normal, so features do not
    vanish through 94 layers), as the state dict the weights loader expects in a file."""
    from unittest import mock

    from pytorch_fid import inception as pf_inception

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
    from repro_cli.metrics import inception_weights

    monkeypatch.setenv(inception_weights.WEIGHTS_ENV, str(weights_file))
    monkeypatch.setenv(inception_weights.ALLOW_UNOFFICIAL_ENV, "1")
    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path / "cache"))
    return inception_weights.resolve()


@pytest.fixture(scope="session")
def fast_net(weights_file):
    """The extractor without the resize to 299, for 75-px test images (4× fewer FLOPs)."""
    from repro_cli.metrics.inception_features import InceptionFeatures

    from repro_cli.metrics import inception_weights

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

    class TinyImages(PixelImages, TensorSource):
        mean = std = 0.5

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

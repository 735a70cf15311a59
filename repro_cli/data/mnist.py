"""MNIST and Stacked MNIST, loaded with torchvision's `MNIST` from the user's data directory.

Files live where torchvision expects them: `<data dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`
(`.gz` copies are unpacked first). The data directory is `--data-dir`, else $REPRO_DATA_DIR, else
~/.cache/repro/data. torchvision downloads the files only when downloading is allowed (not
`--offline`, not REPRO_OFFLINE=1); otherwise missing files are one error saying where they must go
(the rules and messages of `data.location`, shared with CIFAR-10).

Images are kept as uint8 and scaled per batch, so a 60k-image data set costs 47 MB, not 188 MB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import torch

from repro_cli.config.validate import Range
from repro_cli.data import idx
from repro_cli.data.base import DataContext, PixelImages, TensorSource
from repro_cli.data.location import open_torchvision
from repro_cli.errors import DataError
from repro_cli.registries import DATA

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SOURCE_URL = "MNIST (four .gz files from https://ossci-datasets.s3.amazonaws.com/mnist/, torchvision's mirror of yann.lecun.com/exdb/mnist)"

# Pixel scalings (uint8 -> model input). "mean-std" is the 0-GP authors' Normalize((0.1307,), (0.3081,))
# for a generator without output nonlinearity; "tanh" maps to [-1, 1], the range of a Tanh output.
SCALINGS = {"mean-std": (0.1307, 0.3081), "tanh": (0.5, 0.5)}
Scaling = Literal["mean-std", "tanh"]


RAW = Path("MNIST", "raw")  # where torchvision's MNIST class looks, under the data directory


def raw_folder(root: Path) -> Path:
    return Path(root) / RAW


def _prepare_raw(folder: Path) -> list[str]:
    """Unpack `.gz` copies where the raw file is absent, check every present file; return the missing names."""
    missing = []
    for name in (*FILES["train"], *FILES["test"]):
        raw, packed = folder / name, folder / f"{name}.gz"
        if not raw.exists() and packed.exists():
            idx.gunzip(packed, raw)
        if raw.exists():
            idx.check_idx(raw)
        else:
            missing.append(name)
    return missing


def load_split(root: Path, download: bool, split: Literal["train", "test"]) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images N×28×28, int64 labels N) of one MNIST split, read by torchvision."""
    from torchvision.datasets import MNIST

    folder = raw_folder(root)
    missing = _prepare_raw(folder) if folder.is_dir() else [n for pair in FILES.values() for n in pair]
    dataset = open_torchvision("MNIST", DataContext(root=Path(root), download=download),
                               [str(RAW / name) for name in missing], SOURCE_URL,
                               lambda fetch: MNIST(str(root), train=split == "train", download=fetch), into=str(RAW))
    if missing:
        _prepare_raw(folder)  # check what was fetched
    images, labels = dataset.data, dataset.targets
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise DataError(f"{folder}: the {split} files hold {tuple(images.shape)} images and {labels.shape[0]} labels, "
                        "expected N×28×28 images and N labels; re-download them")
    return images, labels


def load_both(ctx: DataContext) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training images and labels, then test images and labels."""
    return (*load_split(ctx.root, ctx.download, "train"), *load_split(ctx.root, ctx.download, "test"))


def subset(n: int, total: int, seed: int) -> torch.Tensor:
    """Indices of a fixed random subset of size n (all of them, in order, when n covers everything)."""
    if n >= total:
        return torch.arange(total)
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


class ImageSource(PixelImages, TensorSource):
    """Shared by MNIST and Stacked MNIST: uint8 storage, scaling, held-out data, mode labels."""

    n_modes: int

    def __init__(self, stored: torch.Tensor, scaling: str, ctx: DataContext):
        super().__init__(stored, ctx.device, ctx.seed)
        self.mean, self.std = SCALINGS[scaling]
        self.scaling = scaling
        # where the MNIST files came from: the mode-coverage classifier is trained on the same data
        self.root, self.download = ctx.root, ctx.download

    def scale(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels.float() / 255 - self.mean) / self.std

    def train_points(self, n: int) -> torch.Tensor:
        return self.points(n)

    def heldout_points(self, n: int) -> torch.Tensor:
        raise NotImplementedError


class MNISTImages(ImageSource):
    n_modes = 10

    def __init__(self, images, labels, test_images, test_labels, scaling: str, ctx: DataContext):
        super().__init__(images.unsqueeze(1), scaling, ctx)
        self.labels = labels
        self.test_images, self.test_labels = test_images.unsqueeze(1), test_labels

    def decode(self, stored: torch.Tensor) -> torch.Tensor:
        return self.scale(stored)

    def heldout_points(self, n: int) -> torch.Tensor:
        return self.scale(self.test_images[:n]).to(self.device)


class StackedMNIST(ImageSource):
    """Three MNIST digits as the three channels of one image: 1000 modes (digit triples).

    As the 0-GP authors' Stacked MNIST, the training set is balanced: sample i has mode i mod 1000,
    each channel a random image of that mode's digit. Samples are stored as index triples into the
    MNIST images and composed per batch (100k stacked images would be 235 MB as pixels)."""

    n_modes = 1000

    def __init__(self, images, labels, test_images, test_labels, n: int, sample_seed: int, scaling: str, ctx: DataContext):
        self.digits, self.test_digits = images, test_images
        triples = self.balanced_triples(labels, n, sample_seed)
        super().__init__(triples, scaling, ctx)
        self.shape = (3, *images.shape[1:])
        self.test_triples = self.balanced_triples(test_labels, min(n, 10_000), sample_seed + 1)

    @staticmethod
    def balanced_triples(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        modes = torch.arange(n) % 1000
        digits = torch.stack([modes // 100, modes // 10 % 10, modes % 10], dim=1)
        by_digit = [torch.nonzero(labels == d).squeeze(1) for d in range(10)]
        if any(len(pool) == 0 for pool in by_digit):
            absent = [d for d, pool in enumerate(by_digit) if len(pool) == 0]
            raise DataError(f"Stacked MNIST needs every digit, but the MNIST labels have no {absent}; check the data files")
        picks = torch.empty_like(digits)
        for d, pool in enumerate(by_digit):
            mask = digits == d
            picks[mask] = pool[torch.randint(len(pool), (int(mask.sum()),), generator=gen)]
        return picks

    def compose(self, digits: torch.Tensor, triples: torch.Tensor) -> torch.Tensor:
        return self.scale(digits[triples.cpu()]).to(triples.device)

    def decode(self, stored: torch.Tensor) -> torch.Tensor:
        return self.compose(self.digits, stored)

    def heldout_points(self, n: int) -> torch.Tensor:
        return self.compose(self.test_digits, self.test_triples[:n]).to(self.device)


@DATA.register("mnist")
def mnist(
    *,
    ctx: DataContext,
    n_train: Annotated[int, Range(ge=1, le=60_000)] = 60_000,
    subset_seed: Annotated[int, Range(ge=0)] = 0,
    scaling: Scaling = "mean-std",
) -> MNISTImages:
    """MNIST digits (1×28×28). `n_train` < 60,000 keeps a fixed random subset (the same for every run
    seed, drawn with `subset_seed`) for the discriminator-overfitting study; held-out data is the
    10k test set. `scaling` must match the generator's output: 'mean-std' (authors, no output
    nonlinearity) or 'tanh' ([-1, 1])."""
    images, labels, test_images, test_labels = load_both(ctx)
    keep = subset(n_train, images.shape[0], subset_seed)
    return MNISTImages(images[keep], labels[keep], test_images, test_labels, scaling, ctx)


@DATA.register("stacked-mnist")
def stacked_mnist(
    *,
    ctx: DataContext,
    n_train: Annotated[int, Range(ge=1000, le=10_000_000)] = 100_000,
    sample_seed: Annotated[int, Range(ge=0)] = 0,
    scaling: Scaling = "mean-std",
) -> StackedMNIST:
    """Stacked MNIST (3×28×28, 1000 modes): `n_train` stacked images, balanced over the modes
    (authors: 100 per mode = 100,000), composed from the MNIST training digits; held-out images
    from the test digits."""
    return StackedMNIST(*load_both(ctx), n_train, sample_seed, scaling, ctx)

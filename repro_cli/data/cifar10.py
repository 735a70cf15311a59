"""CIFAR-10 through torchvision's own loader, from the data directory (see `data.location`).

Images are kept as uint8 (150 MB for the 50k training images) and scaled to [-1, 1] per batch, as
the SNGAN/BSSN code feeds them to D. Labels are not used: every CIFAR recipe is unconditional.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import Annotated, Literal

import numpy as np

import torch

from repro_cli.config.validate import Range
from repro_cli.data.base import DataContext, PixelImages, TensorSource
from repro_cli.data.location import open_torchvision
from repro_cli.errors import DataError
from repro_cli.registries import DATA


def _torchvision_cifar10():
    # Imported on use: torchvision's import pulls in torch._dynamo (~2.5 s), and every `repro`
    # command that looks up a data source imports this module, most of them for 2-D data.
    from torchvision.datasets import CIFAR10

    return CIFAR10


def _files() -> list[str]:
    cifar = _torchvision_cifar10()
    return [name for name, _ in cifar.train_list + cifar.test_list] + [cifar.meta["filename"]]


@functools.cache
def _without_checksums() -> type:
    """torchvision's CIFAR10 that only checks the files exist (for re-packed or tiny test copies in
    the same pickle format); the pickle parsing is torchvision's, unchanged."""
    cifar = _torchvision_cifar10()

    class CIFAR10WithoutChecksums(cifar):
        train_list = [[name, None] for name, _ in cifar.train_list]
        test_list = [[name, None] for name, _ in cifar.test_list]
        meta = {**cifar.meta, "md5": None}

    return CIFAR10WithoutChecksums


class CIFARImages(PixelImages, TensorSource):
    """uint8 NCHW images -> float NCHW in [-1, 1]."""

    mean = std = 0.5  # the map `decode` applies: pixel/127.5 − 1

    def decode(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.float().div_(127.5).sub_(1.0)


@DATA.register("cifar10")
def cifar10(
    *,
    ctx: DataContext,
    split: Literal["train", "test"] = "train",
    limit: Annotated[int, Range(ge=1)] | None = None,
    verify_checksums: bool = True,
) -> CIFARImages:
    """CIFAR-10 images (3×32×32) of `split`; `limit` keeps the first n. `verify_checksums = false`
    accepts files whose MD5 differs from the official release (same pickle format)."""
    CIFAR10 = _torchvision_cifar10()
    loader = CIFAR10 if verify_checksums else _without_checksums()
    dataset = open_torchvision(
        "CIFAR-10", ctx, [f"{CIFAR10.base_folder}/{name}" for name in _files()], CIFAR10.url,
        lambda download: loader(str(ctx.root), train=split == "train", download=download),
    )
    images = torch.from_numpy(dataset.data[:limit]).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    if images.shape[0] == 0:
        raise DataError(f"CIFAR-10 {split} split under {ctx.root} holds no images")
    return CIFARImages(images, ctx.device, ctx.seed)


def write_cifar10_batches(root: Path, train: np.ndarray, test: np.ndarray) -> Path:
    """Write uint8 images (N, 32, 32, 3) in the official python-pickle layout under
    root/cifar-10-batches-py: the training images split over data_batch_1..5, then test_batch and
    batches.meta. Labels are zeros. Tests and benchmarks use it to exercise the real loader without
    the real data set (such a copy needs data.verify_checksums = false)."""
    CIFAR10 = _torchvision_cifar10()
    folder = Path(root) / CIFAR10.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    chunks = np.array_split(train, len(CIFAR10.train_list))
    for (name, _), images in zip(CIFAR10.train_list + CIFAR10.test_list, [*chunks, test]):
        flat = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)  # rows of R, G, B planes
        entry = {"batch_label": name, "labels": [0] * len(images), "data": flat,
                 "filenames": [f"{name}_{i}.png" for i in range(len(images))]}
        (folder / name).write_bytes(pickle.dumps(entry))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
            "num_cases_per_batch": len(chunks[0]), "num_vis": 3 * 32 * 32}
    (folder / CIFAR10.meta["filename"]).write_bytes(pickle.dumps(meta))
    return folder

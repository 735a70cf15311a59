"""Reference statistics (μ, Σ) of real images, computed once and cached with their protocol.

A cache file is keyed by a SHA-256 of everything that changes the statistics: the image bytes
themselves (so a changed or different dataset can never hit a stale entry), the subset size and
seed, the Inception weights' hash and the preprocessing. Files are written atomically into
$REPRO_CACHE_DIR/fid-stats (default ~/.cache/repro/fid-stats) in pytorch-fid's .npz format.

Reference sets: a run's own training data ('train'), or a named split of a torchvision dataset
(`cifar10-train`, `cifar10-test`, ...), read from the data directory (downloaded unless offline).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from repro_cli.data.base import DataContext
from repro_cli.errors import ConfigError, DataError, close_matches
from repro_cli.metrics.gaussian_stats import GaussianStats
from repro_cli.metrics.inception_features import PREPROCESSING, InceptionFeatures, batched, extract_with_progress, uint8_to_unit

CACHE_ENV = "REPRO_CACHE_DIR"


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "repro") / "fid-stats"


def _torchvision_split(dataset: str, train: bool) -> Callable[[DataContext], torch.Tensor]:
    def load(ctx: DataContext) -> torch.Tensor:
        import torchvision

        cls = getattr(torchvision.datasets, dataset)
        try:
            data = cls(root=str(ctx.root), train=train, download=ctx.download).data
        except RuntimeError as err:  # torchvision: "Dataset not found or corrupted..."
            raise DataError(f"{dataset} ({'train' if train else 'test'}) not found under {ctx.root} ({err}); "
                            f"run once without --offline to download it, or pass --data-dir where it lives") from None
        images = torch.as_tensor(np.asarray(data))
        return images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2).contiguous()

    return load


REFERENCE_SETS: dict[str, Callable[[DataContext], torch.Tensor]] = {
    "cifar10-train": _torchvision_split("CIFAR10", True),
    "cifar10-test": _torchvision_split("CIFAR10", False),
    "cifar100-train": _torchvision_split("CIFAR100", True),
    "cifar100-test": _torchvision_split("CIFAR100", False),
    "mnist-train": _torchvision_split("MNIST", True),
    "mnist-test": _torchvision_split("MNIST", False),
}


def load_reference_set(name: str, ctx: DataContext) -> torch.Tensor:
    if name not in REFERENCE_SETS:
        raise ConfigError(f"unknown reference set {name!r}{close_matches(name, REFERENCE_SETS)}; "
                          f"known: {', '.join(REFERENCE_SETS)} (or 'train' for a run's own training data)")
    return REFERENCE_SETS[name](ctx)


def subset(images: torch.Tensor, n: int | None, seed: int) -> torch.Tensor:
    """n images drawn without replacement by a seeded permutation (all of them when n is None)."""
    if n is None or n >= images.shape[0]:
        return images
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))
    return images[order[:n].sort().values]


def statistics(images: torch.Tensor, net: InceptionFeatures, protocol: dict, batch_size: int = 100,
               use_cache: bool = True) -> GaussianStats:
    """Statistics of uint8 images, from the cache when the same images and protocol were seen."""
    if images.dtype != torch.uint8:
        raise TypeError("reference images must be uint8")
    protocol = {**protocol, "n": int(images.shape[0]), "inception_weights": net.weights.describe(),
                "preprocessing": PREPROCESSING}
    digest = hashlib.sha256(json.dumps(protocol, sort_keys=True).encode())
    digest.update(net.weights.sha256.encode())
    digest.update(str(tuple(images.shape)).encode())
    digest.update(images.contiguous().numpy().tobytes())
    path = cache_dir() / f"{protocol.get('reference', 'images')}-{images.shape[0]}-{digest.hexdigest()[:16]}.npz"
    if use_cache and path.is_file():
        stats = GaussianStats.load(path)
        stats.protocol["cache"] = f"hit {path}"
        return stats
    pool, _ = extract_with_progress(net, (uint8_to_unit(b) for b in batched(images, batch_size)),
                                    images.shape[0], protocol.get("reference", "reference images"))
    stats = GaussianStats.from_features(pool, protocol)
    if use_cache:
        stats.save(path)
        stats.protocol["cache"] = f"written {path}"
    return stats

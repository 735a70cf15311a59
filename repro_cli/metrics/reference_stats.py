"""Reference statistics (μ, Σ) of real images, computed once and cached with their protocol.

A cache file is keyed by a SHA-256 of everything that changes the statistics: the image bytes
themselves (so a changed or different dataset can never hit a stale entry), the subset size and
seed, the Inception weights' hash and the preprocessing. Files are written atomically into
$REPRO_CACHE_DIR/fid-stats (default ~/.cache/repro/fid-stats) in pytorch-fid's .npz format.

Reference sets: a run's own training data ('train'), or a named split of a registered data source
(`cifar10-train`, `cifar10-test`, ...), read from the data directory (downloaded unless offline).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from repro_cli import registries as R
from repro_cli.data.base import DataContext
from repro_cli.errors import ConfigError, close_matches
from repro_cli.metrics.gaussian_stats import GaussianStats
from repro_cli.metrics.inception_features import PREPROCESSING, InceptionFeatures, features_of_uint8

CACHE_ENV = "REPRO_CACHE_DIR"


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "repro") / "fid-stats"


def source_images(source) -> torch.Tensor:
    """All images of a data source as uint8 N×C×H×W: its stored pixels when they are uint8 images,
    else its decoded points read back to pixels by its own map, quantised like generated images."""
    stored = getattr(source, "samples", None)
    if stored is not None and stored.dtype == torch.uint8 and stored.ndim == 4:
        return stored.cpu()
    return source.to_uint8(source.points(min(source.size or 50_000, 50_000)))  # decoded floats: cap the memory


def split_sets() -> list[str]:
    """'<data>-train' / '<data>-test' for every registered data source with a `split` parameter."""
    return [f"{name}-{split}" for name in R.DATA.names() if "split" in R.DATA.signature(name).parameters
            for split in ("train", "test")]


def load_reference_set(name: str, ctx: DataContext, params: dict | None = None) -> torch.Tensor:
    """uint8 images of a named split such as `cifar10-test`, read by the registered data source
    (so the data directory, download and checksum rules are the training data's own)."""
    data_name, _, split = name.rpartition("-")
    if name not in split_sets():
        raise ConfigError(f"unknown reference set {name!r}{close_matches(name, split_sets())}; known: "
                          f"{', '.join(split_sets())}, a statistics .npz or an image folder (or 'train' for a run's own data)")
    return source_images(R.DATA.get(data_name)(ctx=ctx, **{**(params or {}), "split": split}))


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
    pool, _ = features_of_uint8(net, images, batch_size, protocol.get("reference", "reference images"))
    stats = GaussianStats.from_features(pool, protocol)
    if use_cache:
        stats.save(path)
        stats.protocol["cache"] = f"written {path}"
    return stats


def reference_statistics(ref: str, n_real: int | None, seed: int, net: InceptionFeatures, ctx: DataContext,
                         batch_size: int = 100) -> GaussianStats:
    """Statistics of a reference given on the command line: a named set (`cifar10-train`), a
    statistics .npz (ours or pytorch-fid's), or a folder / .npz of images."""
    from repro_cli.metrics.image_sets import is_stats_file, load_images

    path = Path(ref).expanduser()
    if not path.exists():
        images, name = load_reference_set(ref, ctx), ref
    elif is_stats_file(path):
        return GaussianStats.load(path)
    else:
        images, name = load_images(path), str(path)
    return statistics(subset(images, n_real, seed), net, {"reference": name, "subset_seed": seed}, batch_size)

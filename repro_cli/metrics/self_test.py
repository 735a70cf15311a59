"""`repro evaluate --self-test`: checks that the FID/IS pipeline behaves on the user's machine,
weights and data before any number from it is trusted.

1. FID(X, X) ≈ 0, with X's features extracted twice in different batch sizes and orders (catches a
   network not in eval mode and batch-dependent features, users' top FID complaint);
2. FID grows with pixel noise: FID(X, X+2/255) < FID(X, X+8/255) < FID(X, X+32/255);
3. the published anchors, only on real CIFAR-10 with the official weights and the full protocol:
   IS of the 50k training images ≈ 11.24 and FID(train 50k, test 10k) ≈ 3.15 (anchors.md). Without
   them these rows say why they were skipped; nothing is compared against invented values.
"""

from __future__ import annotations

import numpy as np
import torch

from repro_cli.data.base import DataContext
from repro_cli.metrics.fid import frechet_distance
from repro_cli.metrics.gaussian_stats import GaussianStats
from repro_cli.metrics.inception_features import InceptionFeatures, features_of_uint8
from repro_cli.metrics.inception_score import inception_score
from repro_cli.metrics.reference_stats import load_reference_set, subset

NOISE_LEVELS = (2, 8, 32)  # pixel noise std in 8-bit units
IDENTITY_TOLERANCE = 1e-3  # FID(X, X) relative to FID(X, X + 2/255 noise)
# anchors.md §3: TF Inception values, matched by the PyTorch port within 0.02 / 0.001
ANCHORS = {
    "is_cifar10_train": (11.24, 0.25, "IS of CIFAR-10 train (50k, 10 splits)"),
    "fid_cifar10_train_test": (3.15, 0.1, "FID(CIFAR-10 train 50k, test 10k)"),
}


def _noisy(images: torch.Tensor, level: float, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(images.shape, generator=gen) * level
    return (images.float() + noise).round().clamp(0, 255).to(torch.uint8)


def run_self_test(images: torch.Tensor, name: str, net: InceptionFeatures, ctx: DataContext, *, n: int | None,
                  seed: int, batch_size: int) -> list[dict]:
    """Rows {check, value, expected, ok (True/False/None = skipped), protocol}."""
    x = subset(images, n, seed)
    protocol = {"images": name, "n": x.shape[0], "subset_seed": seed, "inception_weights": net.weights.describe()}
    pool, logits = features_of_uint8(net, x, batch_size, f"{name} (pass 1)")
    again, _ = features_of_uint8(net, x.flip(0), max(1, batch_size // 2 + 1), f"{name} (pass 2, other batches)")
    stats = GaussianStats.from_features(pool)
    noisy = [frechet_distance(stats, GaussianStats.from_features(features_of_uint8(net, _noisy(x, s, seed), batch_size, f"{name} + noise {s}/255")[0]))
             for s in NOISE_LEVELS]
    identity = frechet_distance(stats, GaussianStats.from_features(again[::-1].copy()))
    rows = [
        {"check": "FID(X, X), features re-extracted in other batches", "value": identity,
         "expected": f"<= {IDENTITY_TOLERANCE:g} x FID(X, X+noise {NOISE_LEVELS[0]}/255) = {IDENTITY_TOLERANCE * noisy[0]:.3g}",
         "ok": bool(identity <= IDENTITY_TOLERANCE * noisy[0])},
        {"check": f"FID(X, X+noise) for noise {', '.join(f'{s}/255' for s in NOISE_LEVELS)}",
         "value": ", ".join(f"{v:.4g}" for v in noisy), "expected": "strictly increasing",
         "ok": bool(np.all(np.diff(noisy) > 0) and noisy[0] > 0)},
    ]
    rows += anchor_rows(name, net, ctx, x, pool, logits, batch_size)
    return [{**row, "protocol": protocol} for row in rows]


def anchor_rows(name, net, ctx, x, pool, logits, batch_size) -> list[dict]:
    why_not = None
    if name != "cifar10-train":
        why_not = "needs --ref cifar10-train"
    elif not net.weights.official:
        why_not = "needs the official Inception weights"
    elif x.shape[0] < 50_000:
        why_not = "needs all 50k training images (--n 50000)"
    if why_not:
        return [{"check": label, "value": "skipped", "expected": f"{value} ± {tol}", "ok": None, "note": why_not}
                for value, tol, label in ANCHORS.values()]
    is_value, _ = inception_score(logits, 10)
    test = load_reference_set("cifar10-test", ctx)
    fid_value = frechet_distance(GaussianStats.from_features(pool),
                                 GaussianStats.from_features(features_of_uint8(net, test, batch_size, "cifar10-test")[0]))
    rows = []
    for (value, tol, label), measured in zip(ANCHORS.values(), (is_value, fid_value)):
        rows.append({"check": label, "value": measured, "expected": f"{value} ± {tol}", "ok": abs(measured - value) <= tol})
    return rows

"""Fréchet Inception Distance between two `GaussianStats`.

d² = |μ₁ − μ₂|² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^½, as in pytorch-fid's `calculate_frechet_distance`
(which the tests check this against), but computed from symmetric eigenvalues in float64 instead of
`scipy.linalg.sqrtm(..., disp=False)`: SciPy 1.18 removes `disp`, sqrtm of a singular product gives
the "imaginary component" failures users report, and it takes minutes on 2048² matrices.

Tr (Σ₁Σ₂)^½ is the sum of square roots of the eigenvalues of Σ₁Σ₂, which equal those of the
symmetric PSD matrix Σ₁^½ Σ₂ Σ₁^½ — or, when Σ₁ = FᵀF has a low-rank factor (fewer samples than
dimensions), the nonzero ones equal those of the small matrix F Σ₂ Fᵀ.
"""

from __future__ import annotations

import numpy as np

from repro_cli.metrics.gaussian_stats import GaussianStats


def _sqrt_psd(sym: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(sym)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _trace_sqrt_eigs(sym: np.ndarray) -> float:
    sym = (sym + sym.T) / 2  # remove round-off asymmetry before eigvalsh
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(sym), 0, None)).sum())


def trace_sqrt_product(a: GaussianStats, b: GaussianStats) -> float:
    if a.factor is None and b.factor is not None:
        a, b = b, a
    if a.factor is not None:
        if b.factor is not None:  # F_a Σ_b F_aᵀ = (F_a F_bᵀ)(F_a F_bᵀ)ᵀ: its eigen-roots are singular values
            return float(np.linalg.svd(a.factor @ b.factor.T, compute_uv=False).sum())
        return _trace_sqrt_eigs(a.factor @ b.sigma @ a.factor.T)
    root = _sqrt_psd(a.sigma)
    return _trace_sqrt_eigs(root @ b.sigma @ root)


def frechet_distance(a: GaussianStats, b: GaussianStats) -> float:
    if a.dims != b.dims:
        raise ValueError(f"statistics of {a.dims} and {b.dims} dimensions cannot be compared")
    trace_a = float((a.factor**2).sum()) if a.factor is not None else float(np.trace(a.sigma))
    trace_b = float((b.factor**2).sum()) if b.factor is not None else float(np.trace(b.sigma))
    diff = a.mu - b.mu
    value = float(diff @ diff) + trace_a + trace_b - 2 * trace_sqrt_product(a, b)
    # Round-off can push the distance of identical sets a hair below zero.
    return max(value, 0.0)


def small_sample_warning(a: GaussianStats, b: GaussianStats) -> str | None:
    """FID is biased upward at small n (≈30 for CIFAR-10 train vs test at n=2000 instead of 3.15)."""
    small = min(x.n for x in (a, b) if x.n) if any(x.n for x in (a, b)) else 0
    if small and small < a.dims:
        return (f"FID from {small} samples (< {a.dims} feature dimensions) is strongly biased upward; "
                f"compare it only with values of the same sample counts")
    return None

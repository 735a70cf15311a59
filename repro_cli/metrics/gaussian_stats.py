"""The Gaussian (μ, Σ) of a set of Inception features, in float64, saved as pytorch-fid's `.npz`.

The file holds `mu` and `sigma` exactly as `pytorch-fid --save-stats` writes them (so either tool
reads the other's files), plus `n` and a JSON `protocol` saying how the features were made.

With fewer samples than dimensions Σ has rank < n, and the Fréchet distance only needs it through
the factor `F` with Σ = FᵀF (F = centred features / sqrt(n - 1), n × d); keeping F lets `fid`
work in the n × n sample space instead of eigen-decomposing 2048 × 2048 matrices.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np

from repro_cli.errors import DataError
from repro_cli.runs.atomic import atomic_write_bytes


@dataclasses.dataclass
class GaussianStats:
    mu: np.ndarray
    n: int
    protocol: dict = dataclasses.field(default_factory=dict)
    _sigma: np.ndarray | None = None
    factor: np.ndarray | None = None  # F with sigma = F.T @ F, kept when n <= d

    @classmethod
    def from_features(cls, features: np.ndarray, protocol: dict | None = None) -> GaussianStats:
        features = np.asarray(features, dtype=np.float64)
        n, d = features.shape
        if n < 2:
            raise DataError(f"the statistics of {n} image(s) are undefined: FID needs at least 2 samples (use thousands)")
        mu = features.mean(axis=0)
        centred = (features - mu) / np.sqrt(n - 1)  # np.cov's unbiased normalisation, as pytorch-fid
        if n <= d:
            return cls(mu, n, dict(protocol or {}), factor=centred)
        return cls(mu, n, dict(protocol or {}), _sigma=centred.T @ centred)

    @property
    def dims(self) -> int:
        return self.mu.shape[0]

    @property
    def sigma(self) -> np.ndarray:
        if self._sigma is None:
            self._sigma = self.factor.T @ self.factor
        return self._sigma

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, mu=self.mu, sigma=self.sigma, n=np.int64(self.n),
                            protocol=np.array(json.dumps(self.protocol, sort_keys=True, default=str)))
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        atomic_write_bytes(Path(path), self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> GaussianStats:
        """A stats file of ours or of `pytorch-fid --save-stats` (then n and protocol are unknown)."""
        try:
            with np.load(path, allow_pickle=False) as f:
                mu, sigma = f["mu"].astype(np.float64), f["sigma"].astype(np.float64)
                n = int(f["n"]) if "n" in f.files else 0
                protocol = json.loads(str(f["protocol"])) if "protocol" in f.files else {"source": f"statistics file {path}"}
        except (OSError, ValueError, KeyError, EOFError) as err:
            raise DataError(f"{path} is not a statistics .npz with 'mu' and 'sigma' ({type(err).__name__}: {err}); "
                            f"make one with `repro evaluate --images DIR --save-stats FILE` or `pytorch-fid --save-stats`") from None
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise DataError(f"{path}: mu {mu.shape} and sigma {sigma.shape} do not describe one Gaussian")
        return cls(mu, n, protocol, _sigma=sigma)

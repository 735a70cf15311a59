"""2-D data: the two bivariate Gaussians of the optimal-D study and the 8-Gaussians ring."""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from repro_cli.config.validate import Range
from repro_cli.data.base import DataContext, DataSource, TensorSource
from repro_cli.errors import ConfigError
from repro_cli.registries import DATA


class FixedGaussianSample(TensorSource):
    """n points drawn once from N(mean, cov) and kept: the finite 'dataset' of the optimal-D study."""

    def __init__(self, dist: MultivariateNormal, n: int, sample_seed: int, ctx: DataContext):
        gen = torch.Generator().manual_seed(sample_seed)
        eps = torch.randn(n, dist.mean.shape[0], generator=gen, dtype=torch.float64)
        samples = (dist.mean.double() + eps @ dist.scale_tril.double().T).float()
        super().__init__(samples, ctx.device, ctx.seed)
        self.dist = dist

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        return self.dist.log_prob(x.cpu().double())


def _gaussian(mean: tuple[float, float], cov: tuple[tuple[float, float], tuple[float, float]]) -> MultivariateNormal:
    m = torch.tensor(mean, dtype=torch.float64)
    c = torch.tensor(cov, dtype=torch.float64)
    if not torch.allclose(c, c.T) or torch.linalg.eigvalsh(c).min() <= 0:
        raise ConfigError(f"cov: must be symmetric positive definite, got {cov}")
    # validated just above; torch's own check costs a Cholesky per construction (~3 ms, and an
    # ensemble of 25 runs builds 50 of these)
    return MultivariateNormal(m, covariance_matrix=c, validate_args=False)


Pair = tuple[float, float]


@DATA.register("gaussian-sample")
def gaussian_sample(
    *,
    ctx: DataContext,
    mean: Pair,
    cov: tuple[Pair, Pair],
    n: Annotated[int, Range(ge=1, le=10_000_000)] = 100,
    sample_seed: Annotated[int, Range(ge=0)] = 0,
) -> FixedGaussianSample:
    """A fixed sample of n points from a bivariate Gaussian (drawn with `sample_seed`, so every run
    seed sees the same data set, as the authors' `np.random.seed(0)`); its density is known."""
    return FixedGaussianSample(_gaussian(mean, cov), n, sample_seed, ctx)


class EightGaussians(DataSource):
    """Fresh samples each batch (infinite data), as the authors' `Datasets.py`: a centre on the
    radius-`scale` compass/diagonal ring plus N(0, std²) noise, everything divided by 1.414."""

    def __init__(self, scale: float, std: float, ctx: DataContext):
        super().__init__(ctx.device, ctx.seed)
        self.shape = (2,)
        s = 1 / math.sqrt(2)
        dirs = torch.tensor([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)], dtype=torch.float32)
        self.centres = dirs * scale
        self.std = std
        self.divisor = 1.414

    def batch(self, n: int) -> torch.Tensor:
        which = torch.randint(0, 8, (n,), generator=self.rng)
        noise = torch.randn(n, 2, generator=self.rng) * self.std
        return ((self.centres[which] + noise) / self.divisor).to(self.device)

    def points(self, n: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(12345)
        which = torch.randint(0, 8, (n,), generator=gen)
        return (self.centres[which] + torch.randn(n, 2, generator=gen) * self.std) / self.divisor

    def mode_centres(self) -> torch.Tensor:
        return self.centres / self.divisor

    def mode_std(self) -> float:
        return self.std / self.divisor

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.std / self.divisor
        mix = MixtureSameFamily(
            Categorical(torch.full((8,), 1 / 8, dtype=torch.float64)),
            MultivariateNormal(self.centres.double() / self.divisor, covariance_matrix=torch.eye(2, dtype=torch.float64) * scale**2),
        )
        return mix.log_prob(x.cpu().double())


@DATA.register("8gaussians")
def eight_gaussians(
    *,
    ctx: DataContext,
    scale: Annotated[float, Range(gt=0, le=1e4)] = 10.0,
    std: Annotated[float, Range(gt=0, le=1e4)] = 0.02,
) -> EightGaussians:
    return EightGaussians(scale, std, ctx)

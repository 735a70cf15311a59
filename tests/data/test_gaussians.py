"""2-D data: the fixed Gaussian samples of the optimal-D study and the 8-Gaussians ring."""

import math

import pytest
import torch
from scipy.stats import multivariate_normal

from repro_cli import registries as R
from repro_cli.data.base import DataContext
from repro_cli.errors import ConfigError

MEAN, COV = (0.4, 0.9), ((1.0, 0.5), (0.5, 1.0))


def sample(seed=0, n=100, sample_seed=0):
    return R.DATA.get("gaussian-sample")(ctx=DataContext(seed=seed), mean=MEAN, cov=COV, n=n, sample_seed=sample_seed)


def test_fixed_sample_depends_on_sample_seed_only():
    a, b, c = sample(seed=0), sample(seed=9), sample(sample_seed=1)
    assert a.samples.shape == (100, 2) and a.size == 100 and a.shape == (2,)
    assert torch.equal(a.samples, b.samples)
    assert not torch.equal(a.samples, c.samples)


def test_fixed_sample_has_the_requested_moments():
    big = sample(n=200_000).samples.double()
    torch.testing.assert_close(big.mean(0), torch.tensor(MEAN, dtype=torch.float64), atol=0.01, rtol=0)
    torch.testing.assert_close(torch.cov(big.T), torch.tensor(COV, dtype=torch.float64), atol=0.01, rtol=0)


def test_log_density_is_the_bivariate_normal_formula():
    points = torch.tensor([[0.0, 0.0], [0.4, 0.9], [3.0, -1.0]])
    expected = multivariate_normal(mean=MEAN, cov=COV).logpdf(points.numpy())
    torch.testing.assert_close(sample().log_density(points), torch.tensor(expected, dtype=torch.float64))


def test_covariance_must_be_positive_definite():
    with pytest.raises(ConfigError, match="cov: must be symmetric positive definite"):
        R.DATA.get("gaussian-sample")(ctx=DataContext(), mean=MEAN, cov=((1.0, 2.0), (2.0, 1.0)))


def test_an_epoch_visits_every_sample_once_and_state_resumes_exactly():
    src = sample(seed=3)
    epoch = torch.cat([src.batch(20) for _ in range(5)])
    assert sorted(map(tuple, epoch.tolist())) == sorted(map(tuple, src.samples.tolist()))
    state = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in src.state_dict().items()}
    ahead = [src.batch(20) for _ in range(7)]
    src.load_state_dict(state)
    again = [src.batch(20) for _ in range(7)]
    assert all(torch.equal(a, b) for a, b in zip(ahead, again))
    assert src.epoch == 2  # the 6th and 11th batch started new epochs


def test_eight_gaussians_follow_the_authors_dataset():
    src = R.DATA.get("8gaussians")(ctx=DataContext(seed=0))
    assert src.size is None and src.shape == (2,)
    radius = 10 / 1.414
    torch.testing.assert_close(src.mode_centres().norm(dim=1), torch.full((8,), radius))
    x = src.batch(4000)
    nearest = torch.cdist(x, src.mode_centres()).min(dim=1).values
    assert nearest.max() < 6 * 0.02 / 1.414
    assert math.isclose(src.mode_std(), 0.02 / 1.414)
    # the mixture density integrates the 8 equal modes
    log_p = src.log_density(src.mode_centres())
    expected = math.log(1 / 8) - math.log(2 * math.pi * src.mode_std() ** 2)
    torch.testing.assert_close(log_p, torch.full((8,), expected, dtype=torch.float64))

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance

from repro_cli.metrics.fid import frechet_distance, small_sample_warning
from repro_cli.metrics.gaussian_stats import GaussianStats


def _features(n, d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing + shift


@pytest.mark.parametrize("n_a,n_b", [(200, 300), (10, 300), (300, 12), (10, 14)])
def test_agrees_with_pytorch_fid_full_and_low_rank(n_a, n_b):
    """Both the d×d eigen path (n > d) and the sample-space path (n <= d) match pytorch-fid's sqrtm."""
    a = GaussianStats.from_features(_features(n_a, 32, 0))
    b = GaussianStats.from_features(_features(n_b, 32, 1, shift=0.3))
    assert (a.factor is None) == (n_a > 32)
    expected = calculate_frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-5, abs=1e-8)


def test_identical_symmetric_and_growing_on_real_inception_features(image_sets):
    x = GaussianStats.from_features(image_sets["x"])
    same = GaussianStats.from_features(image_sets["x"].copy())
    small = GaussianStats.from_features(image_sets["x_small"])
    large = GaussianStats.from_features(image_sets["x_large"])
    d_small, d_large = frechet_distance(x, small), frechet_distance(x, large)
    assert d_small > 0
    assert frechet_distance(x, same) < 1e-6 * d_small
    assert frechet_distance(small, x) == pytest.approx(d_small, rel=1e-9)
    assert d_large > 2 * d_small


def test_mean_shift_adds_its_squared_norm():
    feats = _features(100, 16, 3)
    shift = np.linspace(0, 1, 16)
    a, b = GaussianStats.from_features(feats), GaussianStats.from_features(feats + shift)
    assert frechet_distance(a, b) == pytest.approx(float(shift @ shift), rel=1e-9)


def test_small_samples_warn_but_do_not_fail():
    a, b = GaussianStats.from_features(_features(5, 32, 0)), GaussianStats.from_features(_features(500, 32, 1))
    assert "5 samples" in small_sample_warning(a, b)
    assert small_sample_warning(GaussianStats.from_features(_features(40, 32, 0)), b) is None
    assert np.isfinite(frechet_distance(a, b))

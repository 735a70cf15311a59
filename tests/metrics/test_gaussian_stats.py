import numpy as np
import pytest
from pytorch_fid.fid_score import compute_statistics_of_path

from repro_cli.errors import DataError
from repro_cli.metrics.gaussian_stats import GaussianStats


def test_npz_round_trip_through_pytorch_fid_loader(tmp_path):
    feats = np.random.default_rng(0).normal(size=(50, 8))
    stats = GaussianStats.from_features(feats, {"reference": "unit", "n_real": 50})
    path = tmp_path / "stats.npz"
    stats.save(path)
    mu, sigma = compute_statistics_of_path(str(path), None, 1, 8, "cpu")
    np.testing.assert_allclose(mu, feats.mean(0))
    np.testing.assert_allclose(sigma, np.cov(feats, rowvar=False), rtol=1e-12)
    again = GaussianStats.load(path)
    assert again.n == 50 and again.protocol == {"reference": "unit", "n_real": 50}
    np.testing.assert_array_equal(again.sigma, stats.sigma)


def test_low_rank_factor_reproduces_numpy_covariance():
    feats = np.random.default_rng(1).normal(size=(6, 20))
    stats = GaussianStats.from_features(feats)
    assert stats.factor.shape == (6, 20)
    np.testing.assert_allclose(stats.sigma, np.cov(feats, rowvar=False), atol=1e-12)


def test_reads_stats_written_by_pytorch_fid(tmp_path):
    path = tmp_path / "theirs.npz"
    np.savez_compressed(path, mu=np.zeros(4), sigma=np.eye(4))
    stats = GaussianStats.load(path)
    assert stats.n == 0 and stats.dims == 4 and "theirs.npz" in stats.protocol["source"]


def test_bad_files_are_data_errors(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="mu"):
        GaussianStats.load(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="at least 2"):
        GaussianStats.from_features(np.zeros((1, 4)))

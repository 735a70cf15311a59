"""`repro evaluate --images` / errors; evaluating a run at a checkpoint is tested with the metrics
(tests/metrics/test_image_metrics.py), the self-test logic in tests/metrics/test_self_test.py."""

import numpy as np
from pytorch_fid.fid_score import compute_statistics_of_path

from repro_cli.metrics import inception_weights as W
from repro_cli.metrics.gaussian_stats import GaussianStats


def test_images_against_reference_stats_with_protocol_and_saved_stats(cli, test_weights):
    images = "m.npz"  # relative (the cli fixture runs in tmp_path): short enough not to wrap in the table
    np.savez(images, x=np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8))
    reference = "r.npz"
    GaussianStats.from_features(np.random.default_rng(1).random((10, 2048))).save(reference)
    out = "s.npz"
    result = cli("evaluate", "--images", images, "--ref", reference, "--metrics", "fid,is",
                 "--splits", "2", "--save-stats", out)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for text in ("fid", "inception_score", "n_fake=4", "splits=2", f"reference={reference}", "UNOFFICIAL"):
        assert text in flat
    mu, sigma = compute_statistics_of_path(out, None, 1, 2048, "cpu")
    assert mu.shape == (2048,) and sigma.shape == (2048, 2048)
    np.testing.assert_allclose(GaussianStats.load(out).mu, mu)

def test_one_line_errors(cli, monkeypatch, tmp_path):
    assert "give a run directory" in cli("evaluate").output
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    result = cli("evaluate", "--self-test", "--offline")
    assert result.exit_code != 0 and "--weights FILE" in result.output and "Traceback" not in result.output
    result = cli("evaluate", "--images", str(tmp_path), "--metrics", "fid")
    assert result.exit_code != 0 and "needs --ref" in result.output


def test_images_rejects_unknown_metric_names(cli, test_weights, tmp_path):
    np.savez(tmp_path / "m.npz", x=np.zeros((2, 8, 8, 3), dtype=np.uint8))
    result = cli("evaluate", "--images", "m.npz", "--metrics", "fdi", "--ref", "r.npz")
    assert result.exit_code != 0 and "did you mean: fid" in result.output

import numpy as np
import pytest
import torch

from repro_cli.metrics import inception_weights
from repro_cli.metrics.inception_features import InceptionFeatures
from repro_cli.metrics.inception_score import inception_score


def test_identical_predictions_score_one():
    logits = np.tile(np.random.default_rng(0).normal(size=1008), (20, 1))
    assert inception_score(logits, splits=2) == pytest.approx((1.0, 0.0), abs=1e-9)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_k_equiprobable_confident_classes_score_k(k):
    logits = np.zeros((4 * k, 1008))
    logits[np.arange(4 * k), np.arange(4 * k) % k] = 200.0
    mean, std = inception_score(logits, splits=4)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0, abs=1e-9)


def test_splits_are_scored_separately():
    logits = np.zeros((8, 1008))
    logits[:4, [0, 1, 0, 1]] = 0  # split 1: uniform predictions everywhere -> 1
    logits[np.arange(4, 8), [0, 1, 2, 3]] = 200.0  # split 2: 4 confident classes -> 4
    assert inception_score(logits, splits=2) == pytest.approx((2.5, 1.5), rel=1e-9)


def test_real_network_scores_k_confident_images_k(fast_net, inception_state, smooth_images, tmp_path):
    """Through the real Inception: point fc row j at image j's pool3 direction, so each image is
    confidently its own class; IS of k images is then k, and of one repeated image 1."""
    images = smooth_images(4, 75, seed=5)
    pool = fast_net(images)[0]
    directions = pool / pool.norm(dim=1, keepdim=True)
    margins = pool @ directions.T
    gap = (margins.diag() - (margins - torch.eye(4) * 1e9).max(dim=1).values).min()
    assert gap > 0
    state = inception_state()
    state["fc.weight"] = torch.zeros(1008, 2048)
    state["fc.weight"][:4] = (100.0 / gap) * directions.float()
    path = tmp_path / "crafted.pth"
    torch.save(state, path)
    net = InceptionFeatures(inception_weights.verify(path, "test", allow_unofficial=True), torch.device("cpu"), resize_input=False)
    _, logits = net(images)
    assert inception_score(logits.numpy(), splits=1)[0] == pytest.approx(4.0, rel=1e-6)
    _, same = net(images[:1].expand(4, -1, -1, -1))
    assert inception_score(same.numpy(), splits=1)[0] == pytest.approx(1.0, abs=1e-9)

import copy

import torch

from repro_cli.metrics.self_test import run_self_test


def _images(smooth_images, n=4):
    return (smooth_images(n, 75, seed=3) * 255).round().to(torch.uint8)


def test_passes_on_a_sound_pipeline_and_skips_anchors_honestly(fast_net, smooth_images):
    rows = run_self_test(_images(smooth_images), "mine", fast_net, None, n=None, seed=0, batch_size=3)
    identity, ordering, *anchors = rows
    assert identity["ok"] is True and identity["value"] < 1e-9
    assert ordering["ok"] is True
    assert [a["ok"] for a in anchors] == [None, None] and all(a["value"] == "skipped" for a in anchors)
    assert "cifar10-train" in anchors[0]["note"]
    assert rows[0]["protocol"]["n"] == 4 and "UNOFFICIAL" in rows[0]["protocol"]["inception_weights"]


def test_catches_batch_dependent_features(fast_net, smooth_images):
    """A network left in training mode (batch-norm on batch statistics) must fail the identity check."""
    training = copy.deepcopy(fast_net)  # train mode updates BN running stats: keep the shared net clean
    training.net.train()
    # 6 images in batches of 4 then 3 (reversed): no image meets the same batch-mates twice
    rows = run_self_test(_images(smooth_images, 6), "mine", training, None, n=None, seed=0, batch_size=4)
    assert rows[0]["ok"] is False

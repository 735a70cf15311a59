import math

import pytest
import torch
from torch import nn

from repro_cli.config.recipes import load_recipe
from repro_cli.data.base import DataContext
from repro_cli.data.mnist import load_split
from repro_cli.engine.trainer import Trainer
from repro_cli.metrics.mode_coverage import histogram, kl_from_uniform, mode_coverage, predict_modes


class FixedProbabilities:
    """A stand-in classifier whose softmax output is given per image (the first pixel picks the row)."""

    id, test_accuracy = "stub", 1.0

    def __init__(self, rows):
        self.rows = torch.tensor(rows, dtype=torch.float32)

    def probabilities(self, unit_images):
        return self.rows[unit_images[:, 0, 0, 0].long()]


def one_hot(digit, p=0.9):
    row = [(1 - p) / 9] * 10
    row[digit] = p
    return row


def images_picking(rows_per_channel):
    x = torch.zeros(len(rows_per_channel), len(rows_per_channel[0]), 28, 28)
    for i, channels in enumerate(rows_per_channel):
        for c, row in enumerate(channels):
            x[i, c, 0, 0] = row
    return x


def test_stacked_mode_is_the_digit_triple():
    clf = FixedProbabilities([one_hot(d) for d in range(10)])
    modes, conf = predict_modes(clf, images_picking([[3, 0, 7], [9, 9, 9], [0, 0, 1]]), 0.5, "class-0")
    assert modes.tolist() == [307, 999, 1]
    assert torch.allclose(conf, torch.full((3, 3), 0.9))


def test_unconfident_predictions_follow_the_authors_or_are_dropped():
    clf = FixedProbabilities([one_hot(4), one_hot(6, p=0.3)])
    x = images_picking([[0], [1], [1]])
    assert predict_modes(clf, x, 0.5, "class-0")[0].tolist() == [4, 0, 0]
    dropped = predict_modes(clf, x, 0.5, "drop")[0]
    assert dropped.tolist() == [4, -1, -1] and histogram(dropped, 10).sum() == 1
    assert predict_modes(clf, x, 0.2, "drop")[0].tolist() == [4, 6, 6]


def test_kl_from_uniform_known_values():
    assert kl_from_uniform(torch.full((10,), 7)) == pytest.approx(0.0)
    assert kl_from_uniform(torch.tensor([5] + [0] * 9)) == pytest.approx(math.log(10))
    assert kl_from_uniform(torch.tensor([3, 3] + [0] * 998)) == pytest.approx(math.log(500))


class RealDigitGenerator(nn.Module):
    """A 'generator' that emits the given real images (in model space), the image a function of z."""

    def __init__(self, images, z_dim=50):
        super().__init__()
        self.images, self.z_dim = images, z_dim

    def forward(self, z):
        idx = (z[:, 0].abs() * 1e4).long() % self.images.shape[0]
        return self.images[idx]


def confident_images(classifier, source, n_digits):
    """Real images of the n_digits classes the classifier recognises most often, and their labels."""
    images, labels = load_split(source.root, False, "train")
    conf, pred = classifier.probabilities(images.unsqueeze(1).float() / 255).max(dim=1)
    right = (pred == labels) & (conf > 0.5)
    digits = torch.bincount(labels[right], minlength=10).argsort(descending=True)[:n_digits]
    keep = right & torch.isin(labels, digits)
    return source.scale(images[keep].unsqueeze(1)), set(digits.tolist())


@pytest.mark.parametrize("n_digits", [1, 2])
def test_generator_of_real_digits_covers_exactly_their_modes(mnist_root, mnist_classifier, n_digits):
    trainer = Trainer(load_recipe("mnist-0gp", ["train.iterations=1"]), data=DataContext(root=mnist_root, download=False))
    images, digits = confident_images(mnist_classifier, trainer.real, n_digits)
    assert images.shape[0] > 2 * n_digits  # the classifier does recognise real digits
    trainer.G = RealDigitGenerator(images)
    records = {r["name"]: r for r in mode_coverage(n_samples=1000)(trainer, None)}
    assert records["modes_covered"]["value"] == len(digits)
    assert records["mode_kl"]["value"] == pytest.approx(math.log(10 / len(digits)), abs=0.05)
    assert records["classifier_confidence"]["value"] > 0.5
    chunked = mode_coverage(n_samples=1000)
    chunked.batch = 128  # generated and classified in 8 chunks, the last one partial
    assert [r["value"] for r in chunked(trainer, None)] == [r["value"] for r in records.values()]
    protocol = records["modes_covered"]["protocol"]
    assert protocol["n_samples"] == 1000 and protocol["n_modes"] == 10 and protocol["classifier"] == mnist_classifier.id

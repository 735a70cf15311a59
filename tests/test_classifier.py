import pytest
import torch

from repro_cli import classifier as C
from repro_cli.data.mnist import load_split
from repro_cli.errors import DataError

from .conftest import write_tiny_mnist


def test_learns_far_above_chance_and_records_its_accuracy(mnist_classifier, mnist_root):
    assert mnist_classifier.test_accuracy > 0.4  # chance is 0.1 on the 10 balanced test digits
    images, labels = load_split(mnist_root, False, "test")
    assert C.accuracy(mnist_classifier.model, images, labels) == pytest.approx(mnist_classifier.test_accuracy)
    assert mnist_classifier.n_train == 600 and mnist_classifier.n_test == 200
    assert mnist_classifier.path.parent == mnist_root / "classifiers"


def test_cached_classifier_is_reused_not_retrained(mnist_classifier, mnist_root, monkeypatch):
    monkeypatch.setattr(C, "train_lenet", lambda *a, **k: pytest.fail("retrained a cached classifier"))
    monkeypatch.setattr(C, "_LOADED", {})  # force a read from disk
    again = C.get_classifier(mnist_root, False)
    assert again.id == mnist_classifier.id
    probe = torch.rand(4, 1, 28, 28)
    assert torch.allclose(again.probabilities(probe), mnist_classifier.probabilities(probe))


def test_other_data_gets_its_own_classifier(tmp_path):
    write_tiny_mnist(tmp_path, n_train=40, n_test=10)
    with pytest.raises(DataError, match="run `repro classifier"):
        C.get_classifier(tmp_path, False, train=False)


def test_torn_cache_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="unreadable.*delete it"):
        C.load_cached(path)


def test_training_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    C.train_lenet(torch.zeros(8, 28, 28, dtype=torch.uint8), torch.arange(8) % 10, C.TrainSettings(epochs=1, batch_size=4))
    assert torch.equal(torch.get_rng_state(), state)

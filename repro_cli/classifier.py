"""The digit classifier behind the mode-coverage metric, trained by `repro` on the user's MNIST.

A LeNet-style net as the 0-GP authors' `Classifier.py` (the PyTorch MNIST example: two 5×5 convs
with max-pooling, dropout, 320→50→10), trained with SGD lr 0.01, momentum 0.5, 10 epochs. It is
trained once per data set and cached under `<data dir>/classifiers/`, keyed by a fingerprint of the
training files, with its settings and test accuracy stored next to the weights; the id and accuracy
go into every mode-coverage record so a number always says which classifier produced it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from repro_cli.data.mnist import SCALINGS, load_split
from repro_cli.errors import DataError
from repro_cli.runs.atomic import atomic_write_bytes

MEAN, STD = SCALINGS["mean-std"]  # MNIST pixel statistics; the classifier normalises its [0, 1] input itself


class LeNet(nn.Module):
    """Input: pixel intensities in [0, 1], shape (B, 1, 28, 28). Output: 10 logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - MEAN) / STD
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = F.dropout(F.relu(self.fc1(x.flatten(1))), training=self.training)
        return self.fc2(x)


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    epochs: int = 10
    lr: float = 0.01
    momentum: float = 0.5
    batch_size: int = 64
    seed: int = 0


@dataclasses.dataclass
class Classifier:
    model: LeNet
    id: str
    test_accuracy: float
    n_train: int
    n_test: int
    path: Path
    settings: dict

    @torch.no_grad()
    def probabilities(self, unit_images: torch.Tensor, batch: int = 2000) -> torch.Tensor:
        """Softmax outputs for images with pixels in [0, 1], shape (N, 1, 28, 28)."""
        self.model.eval()
        return torch.cat([F.softmax(self.model(unit_images[i:i + batch].float().cpu()), dim=1)
                          for i in range(0, unit_images.shape[0], batch)])


def fingerprint(images: torch.Tensor, labels: torch.Tensor) -> str:
    """Identifies the training data: a classifier trained on other files is never reused."""
    h = hashlib.sha256()
    h.update(images.numpy().tobytes())
    h.update(labels.numpy().tobytes())
    return h.hexdigest()[:12]


def cache_path(root: Path, classifier_id: str) -> Path:
    return Path(root) / "classifiers" / f"mnist-lenet-{classifier_id}.pt"


def _unit(images: torch.Tensor) -> torch.Tensor:
    return images.unsqueeze(1).float() / 255


def accuracy(model: LeNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        hits = sum(int((model(_unit(images[i:i + 2000])).argmax(1) == labels[i:i + 2000]).sum())
                   for i in range(0, images.shape[0], 2000))
    return hits / max(1, images.shape[0])


def train_lenet(images: torch.Tensor, labels: torch.Tensor, settings: TrainSettings,
                on_epoch: Callable[[int, float], None] | None = None) -> LeNet:
    # The global RNG (init, dropout) is forked: training the classifier inside a GAN run's first
    # evaluation must not change the run's own random state.
    with torch.random.fork_rng():
        return _train_lenet(images, labels, settings, on_epoch)


def _train_lenet(images, labels, settings: TrainSettings, on_epoch) -> LeNet:
    torch.manual_seed(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    model = LeNet()
    opt = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)
    n = images.shape[0]
    for epoch in range(settings.epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, settings.batch_size):
            batch = order[start:start + settings.batch_size]
            loss = F.cross_entropy(model(_unit(images[batch])), labels[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch.numel()
        if on_epoch is not None:
            on_epoch(epoch + 1, total / n)
    return model


_LOADED: dict[Path, Classifier] = {}


def load_cached(path: Path) -> Classifier:
    if path not in _LOADED:
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            model = LeNet()
            model.load_state_dict(blob["state_dict"])
        except Exception as err:  # a torn or foreign file: say which and how to recover
            raise DataError(f"cached classifier {path} is unreadable ({type(err).__name__}); delete it and run `repro classifier`") from None
        _LOADED[path] = Classifier(model.eval(), blob["id"], blob["test_accuracy"], blob["n_train"], blob["n_test"], path, blob["settings"])
    return _LOADED[path]


def get_classifier(root: Path, download: bool, settings: TrainSettings | None = None, retrain: bool = False, train: bool = True,
                   on_epoch: Callable[[int, float], None] | None = None) -> Classifier:
    """The classifier for the MNIST in `root`: the cached one, or (when absent, or `retrain`) a new
    one trained with `settings` (default: the authors') and cached. One classifier per data set, so
    the mode-coverage metric and `repro classifier` always agree on which one is meant."""
    images, labels = load_split(root, download, "train")
    classifier_id = fingerprint(images, labels)
    path = cache_path(root, classifier_id)
    if path.exists() and not retrain:
        return load_cached(path)
    if not train:
        raise DataError(f"no classifier trained on the MNIST in {root} yet; run `repro classifier --data-dir {root}` to train it")
    settings = settings or TrainSettings()
    test_images, test_labels = load_split(root, download, "test")
    start = time.perf_counter()
    model = train_lenet(images, labels, settings, on_epoch)
    blob = {
        "state_dict": model.state_dict(),
        "id": classifier_id,
        "test_accuracy": accuracy(model, test_images, test_labels),
        "n_train": int(images.shape[0]),
        "n_test": int(test_images.shape[0]),
        "settings": dataclasses.asdict(settings),
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    _LOADED.pop(path, None)
    return load_cached(path)

"""Mode coverage of MNIST / Stacked MNIST generators, judged by the cached digit classifier.

As the 0-GP authors' mode count: each channel of each generated image is classified; a prediction
whose softmax maximum is below `confidence` falls to class 0 (their zeroing of softmax outputs
< 0.5 before argmax) or, with `unconfident = "drop"`, is not counted; a mode (digit, or digit
triple for Stacked MNIST) is covered when more than `min_count` samples land in it. Also reported:
KL(predicted mode histogram ‖ uniform) and the classifier's mean confidence.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch

from repro_cli.classifier import Classifier, get_classifier
from repro_cli.config.validate import Range
from repro_cli.data.mnist import ImageSource
from repro_cli.registries import METRICS


def predict_modes(classifier: Classifier, unit_images: torch.Tensor, confidence: float, unconfident: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(mode per image, or -1 if dropped; classifier confidence per channel) for images (N, C, 28, 28)
    in [0, 1]: channel c's digit is the c-th decimal place of the mode (1 channel: 10 modes, 3: 1000)."""
    n, channels = unit_images.shape[:2]
    probs = classifier.probabilities(unit_images.reshape(n * channels, 1, *unit_images.shape[2:]))
    conf, digit = probs.max(dim=1)
    unsure = conf < confidence
    digit = torch.where(unsure, torch.zeros_like(digit) if unconfident == "class-0" else torch.full_like(digit, -1), digit)
    digit, conf = digit.view(n, channels), conf.view(n, channels)
    places = 10 ** torch.arange(channels - 1, -1, -1)
    modes = (digit * places).sum(dim=1)
    modes[(digit < 0).any(dim=1)] = -1
    return modes, conf


def histogram(modes: torch.Tensor, n_modes: int) -> torch.Tensor:
    return torch.bincount(modes[modes >= 0], minlength=n_modes)


def kl_from_uniform(counts: torch.Tensor) -> float:
    """KL(p ‖ uniform) of the normalised histogram, in nats: 0 when every mode is equally frequent,
    log(n_modes) when everything falls in one mode."""
    total = counts.sum()
    if total == 0:
        return math.nan
    p = counts[counts > 0].double() / total
    return float((p * (p * counts.numel()).log()).sum())


class ModeCoverage:
    def __init__(self, n_samples: int, confidence: float, min_count: int, unconfident: str, noise_seed: int, batch: int = 5000):
        self.n_samples, self.confidence, self.min_count = n_samples, confidence, min_count
        self.unconfident, self.noise_seed, self.batch = unconfident, noise_seed, batch
        self.classifiers: dict = {}  # data dir -> classifier, so periodic evaluations fingerprint the data once

    @torch.no_grad()
    def __call__(self, trainer, run) -> list[dict]:
        source = trainer.real
        if trainer.G is None or not isinstance(source, ImageSource):
            return []
        if source.root not in self.classifiers:
            self.classifiers[source.root] = get_classifier(source.root, source.download)
        classifier = self.classifiers[source.root]
        # Generate and classify chunk by chunk: 100k Stacked-MNIST images would be 0.9 GB at once.
        gen = torch.Generator().manual_seed(self.noise_seed)
        modes, conf = [], []
        for start in range(0, self.n_samples, self.batch):
            z = torch.randn(min(self.batch, self.n_samples - start), trainer.G.z_dim, generator=gen).to(trainer.device)
            chunk_modes, chunk_conf = predict_modes(classifier, source.to_unit(trainer.G(z)).cpu(), self.confidence, self.unconfident)
            modes.append(chunk_modes)
            conf.append(chunk_conf)
        return self.records(torch.cat(modes), torch.cat(conf), source.n_modes, classifier)

    def records(self, modes: torch.Tensor, conf: torch.Tensor, n_modes: int, classifier: Classifier) -> list[dict]:
        counts = histogram(modes, n_modes)
        protocol = {
            "n_samples": int(modes.numel()), "n_modes": n_modes, "noise_seed": self.noise_seed,
            "classifier": classifier.id, "classifier_test_accuracy": round(classifier.test_accuracy, 4),
            "threshold": f"softmax max < {self.confidence:g} -> {self.unconfident}; mode covered if > {self.min_count} samples",
        }
        return [
            {"name": "modes_covered", "value": int((counts > self.min_count).sum()), "protocol": protocol},
            {"name": "mode_kl", "value": kl_from_uniform(counts), "protocol": {**protocol, "divergence": "KL(histogram || uniform), nats"}},
            {"name": "classifier_confidence", "value": float(conf.mean()), "protocol": {**protocol, "statistic": "mean softmax max per channel"}},
        ]


@METRICS.register("mode-coverage")
def mode_coverage(
    *,
    n_samples: Annotated[int, Range(ge=1, le=10_000_000)] = 10_000,
    confidence: Annotated[float, Range(ge=0, le=1)] = 0.5,
    min_count: Annotated[int, Range(ge=0)] = 10,
    unconfident: Literal["class-0", "drop"] = "class-0",
    noise_seed: Annotated[int, Range(ge=0)] = 0,
) -> ModeCoverage:
    """Modes covered by n_samples generated images (10 for MNIST, 1000 for Stacked MNIST); the
    defaults are the authors' threshold (softmax < 0.5 -> class 0, covered if > 10 samples)."""
    return ModeCoverage(n_samples, confidence, min_count, unconfident, noise_seed)

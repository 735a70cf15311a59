"""The registered image-quality metrics `fid` and `inception-score`, usable in a recipe's [eval]:

    [[eval.metrics]]
    name = "fid"
    n_fake = 10000     # BSSN paper: 10k generated vs 5k real training images
    n_real = 5000
    ref = "train"      # the run's training data; or 'test' / a named set such as 'cifar10-test'

Generated images come from G with their own noise seed (`seed`), so evaluating never disturbs
training's random streams and every checkpoint is scored on the same z. Generated images are read
back to pixels by the training data's own map (MNIST's mean-std scaling or the [-1, 1] of a tanh).
"""

from __future__ import annotations

import warnings
from typing import Annotated

import torch

from repro_cli.config.validate import Range
from repro_cli.errors import ConfigError
from repro_cli.metrics.fid import frechet_distance, small_sample_warning
from repro_cli.metrics.gaussian_stats import GaussianStats
from repro_cli.metrics.image_sets import generator_batches
from repro_cli.metrics.inception_features import extract_with_progress, extractor
from repro_cli.metrics.inception_score import inception_score
from repro_cli.metrics.reference_stats import load_reference_set, source_images, statistics, subset
from repro_cli.registries import METRICS


def require_images(trainer, metric: str) -> None:
    shape = tuple(trainer.real.shape)
    if trainer.G is None or len(shape) != 3 or shape[0] not in (1, 3) or not hasattr(trainer.real, "to_uint8"):
        raise ConfigError(f"metric {metric!r} needs a generator of images (C×H×W with 1 or 3 channels); "
                          f"recipe {trainer.recipe.name!r} has data of shape {shape}")


def run_reference_images(trainer, ref: str) -> tuple[torch.Tensor, str]:
    """uint8 reference images for `ref` and the name they are reported under: 'train' is the run's
    own training data, 'test' the held-out split of the same source, anything else a named set."""
    data = trainer.recipe.data
    if ref == "train":
        return source_images(trainer.real), f"{data.name}-train (run's training data)"
    if ref == "test" and hasattr(trainer.real, "heldout_points"):
        return trainer.real.to_uint8(trainer.real.heldout_points(50_000)), f"{data.name}-test"
    name = f"{data.name}-test" if ref == "test" else ref
    # A split of the run's own source is read with the run's data settings (e.g. checksum rules),
    # but whole: a training `limit` does not shrink the reference.
    same_source = name.rpartition("-")[0] == data.name
    params = {k: v for k, v in data.params.items() if k not in ("limit", "split")} if same_source else {}
    return load_reference_set(name, trainer.data_ctx, params), name


def generated_features(trainer, n: int, batch_size: int, seed: int):
    net = extractor(trainer.device, trainer.data_ctx.download)
    batches = generator_batches(trainer.G, n, batch_size, seed, trainer.device, trainer.real.to_uint8)
    return net, extract_with_progress(net, batches, n, f"{n} generated images")


class FID:
    def __init__(self, n_fake: int, n_real: int, ref: str, seed: int, batch_size: int):
        self.n_fake, self.n_real, self.ref, self.seed, self.batch_size = n_fake, n_real, ref, seed, batch_size

    def __call__(self, trainer, run) -> list[dict]:
        require_images(trainer, "fid")
        net, (pool, _) = generated_features(trainer, self.n_fake, self.batch_size, self.seed)
        images, name = run_reference_images(trainer, self.ref)
        real = statistics(subset(images, self.n_real, self.seed), net,
                          {"reference": name, "subset_seed": self.seed}, self.batch_size)
        fake = GaussianStats.from_features(pool)
        protocol = {"n_fake": self.n_fake, "n_real": real.n, "reference": name, "eval_noise_seed": self.seed,
                    "inception_weights": net.weights.describe(), "fid": "pool3 2048-d, float64 eigenvalues"}
        note = small_sample_warning(fake, real)
        if note:
            warnings.warn(note, stacklevel=2)
            protocol["warning"] = note
        return [{"name": "fid", "value": frechet_distance(fake, real), "protocol": protocol}]


class InceptionScore:
    def __init__(self, n_samples: int, splits: int, seed: int, batch_size: int):
        self.n_samples, self.splits, self.seed, self.batch_size = n_samples, splits, seed, batch_size

    def __call__(self, trainer, run) -> list[dict]:
        require_images(trainer, "inception-score")
        net, (_, logits) = generated_features(trainer, self.n_samples, self.batch_size, self.seed)
        mean, std = inception_score(logits, self.splits)
        protocol = {"n_samples": self.n_samples, "splits": self.splits, "eval_noise_seed": self.seed,
                    "inception_weights": net.weights.describe(), "logits": "1008-class, fc without bias"}
        return [{"name": "inception_score", "value": mean, "protocol": protocol},
                {"name": "inception_score_std", "value": std, "protocol": protocol}]


@METRICS.register("fid")
def fid(
    *,
    n_fake: Annotated[int, Range(ge=2)] = 10_000,
    n_real: Annotated[int, Range(ge=2)] = 5_000,
    ref: str = "train",
    seed: int = 0,
    batch_size: Annotated[int, Range(ge=1)] = 100,
) -> FID:
    """FID of n_fake generated images against n_real images of the reference set (defaults: the
    BSSN paper's 10k generated vs 5k real training images)."""
    return FID(n_fake, n_real, ref, seed, batch_size)


@METRICS.register("inception-score")
def inception_score_metric(
    *,
    n_samples: Annotated[int, Range(ge=1)] = 50_000,
    splits: Annotated[int, Range(ge=1)] = 10,
    seed: int = 0,
    batch_size: Annotated[int, Range(ge=1)] = 100,
) -> InceptionScore:
    """Inception Score of n_samples generated images, mean ± std over `splits` parts (default 50k, 10)."""
    if splits > n_samples:
        raise ConfigError(f"inception-score: splits ({splits}) must not exceed n_samples ({n_samples})")
    return InceptionScore(n_samples, splits, seed, batch_size)

"""FID / IS of images from anywhere (a folder, an .npz array, a statistics file) on the same
protocol as the runs, so any generator can be compared with the reproductions."""

from __future__ import annotations

from pathlib import Path

from repro_cli.data.base import DataContext
from repro_cli.errors import ConfigError, ReproError, close_matches
from repro_cli.metrics.fid import frechet_distance, small_sample_warning
from repro_cli.metrics.gaussian_stats import GaussianStats
from repro_cli.metrics.image_sets import is_stats_file, load_images
from repro_cli.metrics.inception_features import InceptionFeatures, features_of_uint8
from repro_cli.metrics.inception_score import inception_score
from repro_cli.metrics.reference_stats import reference_statistics, subset

IMAGE_METRICS = ("fid", "inception-score")


def evaluate_images(images_path: Path, metrics: list[str], net: InceptionFeatures, ctx: DataContext, *, ref: str,
                    n_fake: int | None, n_real: int | None, splits: int, seed: int, batch_size: int,
                    save_stats: Path | None = None) -> list[dict]:
    """Records {name, value, protocol} for 'fid' and/or 'inception-score' of the given images."""
    unknown = [m for m in metrics if m not in IMAGE_METRICS]
    if unknown:
        raise ConfigError(f"--metrics {unknown[0]!r}{close_matches(unknown[0], IMAGE_METRICS)}: --images supports "
                          f"{', '.join(IMAGE_METRICS)} (or 'is')")
    images_path = Path(images_path).expanduser()
    if is_stats_file(images_path):
        if "inception-score" in metrics:
            raise ReproError(f"{images_path} holds statistics, not images: the Inception Score needs the images")
        stats, logits, n = GaussianStats.load(images_path), None, None
    else:
        images = subset(load_images(images_path), n_fake, seed)
        pool, logits = features_of_uint8(net, images, batch_size, str(images_path))
        stats, n = GaussianStats.from_features(pool, {"images": str(images_path)}), images.shape[0]
    if save_stats is not None:
        stats.save(save_stats)
    base = {"images": str(images_path), "n_fake": n or stats.n, "subset_seed": seed,
            "inception_weights": net.weights.describe()}
    records = []
    if "fid" in metrics:
        real = reference_statistics(ref, n_real, seed, net, ctx, batch_size)
        protocol = {**base, "reference": ref, "n_real": real.n or "unknown (external statistics)"}
        if note := small_sample_warning(stats, real):
            protocol["warning"] = note
        records.append({"name": "fid", "value": frechet_distance(stats, real), "protocol": protocol})
    if "inception-score" in metrics:
        mean, std = inception_score(logits, splits)
        protocol = {**base, "splits": splits, "logits": "1008-class, fc without bias"}
        records += [{"name": "inception_score", "value": mean, "protocol": protocol},
                    {"name": "inception_score_std", "value": std, "protocol": protocol}]
    return records

"""Pool3 features and 1008-class logits of pytorch-fid's Inception, for FID and IS from one pass.

The network is pytorch-fid's own `InceptionV3` (the TF 2015-12-05 graph ported to PyTorch, bilinear
resize to 299, inputs in [0, 1]); only the source of its weights changes: pytorch-fid 0.3 fetches
them with `load_state_dict_from_url`, which is swapped for the file `inception_weights` resolved.
The final `fc` layer, which `InceptionV3` drops, is rebuilt from the same state dict because the
Inception Score needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from unittest import mock

import numpy as np
import torch

from repro_cli.metrics import inception_weights
from repro_cli.metrics.inception_weights import WeightsFile

POOL_DIMS = 2048
N_CLASSES = 1008
PREPROCESSING = "8-bit quantised, bilinear resize to 299 (pytorch-fid 0.3 InceptionV3)"


class InceptionFeatures:
    def __init__(self, weights: WeightsFile, device: torch.device, resize_input: bool = True):
        """resize_input=False skips the resize to 299 (only for inputs already ≥ 75 px, e.g. fast tests);
        values are then not comparable with anyone's FID."""
        from pytorch_fid import inception as pf_inception  # on use: it imports torchvision (seconds)

        state = inception_weights.load_state_dict(weights)
        self.weights, self.device = weights, torch.device(device)
        with mock.patch.object(pf_inception, "load_state_dict_from_url", lambda *a, **k: state):
            self.net = pf_inception.InceptionV3([pf_inception.InceptionV3.BLOCK_INDEX_BY_DIM[POOL_DIMS]],
                                                 resize_input=resize_input)
        self.net.eval().to(self.device)
        # The original IS code (improved-gan, torch-fidelity's 'logits_unbiased') multiplies pool3 by
        # the softmax weights *without* the bias; doing the same is what makes CIFAR-10 give 11.24.
        self.fc_weight = state["fc.weight"].double().to(self.device)
        if self.fc_weight.shape != (N_CLASSES, POOL_DIMS):
            raise inception_weights.DataError(f"Inception weights {weights.path}: fc.weight has shape "
                                              f"{tuple(self.fc_weight.shape)}, expected ({N_CLASSES}, {POOL_DIMS})")

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: N×C×H×W in [0, 1] (C = 1 or 3) -> (pool3 N×2048, unbiased logits N×1008), float64."""
        images = images.to(self.device, torch.float32)
        if images.shape[1] == 1:  # grey-scale data sets (MNIST) go in as three equal channels
            images = images.expand(-1, 3, -1, -1)
        pool = self.net(images)[0].flatten(1).double()
        return pool, pool @ self.fc_weight.T

    def extract(self, batches: Iterable[torch.Tensor], total: int | None = None,
                on_progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Features of a stream of image batches, gathered on the CPU as float64 arrays."""
        pools, logits, done = [], [], 0
        for batch in batches:
            pool, logit = self(batch)
            pools.append(pool.cpu())
            logits.append(logit.cpu())
            done += batch.shape[0]
            if on_progress is not None:
                on_progress(done)
        if not pools:
            raise ValueError("no images to extract features from")
        return torch.cat(pools).numpy(), torch.cat(logits).numpy()


@functools.lru_cache(maxsize=2)
def _cached(path: str, sha256: str, source: str, device: str) -> InceptionFeatures:
    from pathlib import Path

    return InceptionFeatures(WeightsFile(Path(path), source, sha256), torch.device(device))


def extractor(device: torch.device | str = "cpu", download: bool | None = None) -> InceptionFeatures:
    """The extractor for the resolved weights (downloaded only if `download`; default: unless
    $REPRO_OFFLINE), built once per process and device."""
    weights = inception_weights.resolve(download=download)
    return _cached(str(weights.path), weights.sha256, weights.source, str(torch.device(device)))


def uint8_to_unit(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255.0


def extract_with_progress(net: InceptionFeatures, batches: Iterable[torch.Tensor], total: int,
                          description: str) -> tuple[np.ndarray, np.ndarray]:
    """`net.extract` with a (transient, stderr) progress bar: 50k images take minutes on a CPU."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"Inception features: {description}", total=total)
        return net.extract(batches, total, lambda done: progress.update(task, completed=done))


def features_of_uint8(net: InceptionFeatures, images: torch.Tensor, batch_size: int, description: str) -> tuple[np.ndarray, np.ndarray]:
    """(pool3, logits) of uint8 N×C×H×W images, in batches, with a progress bar."""
    return extract_with_progress(net, (uint8_to_unit(b) for b in batched(images, batch_size)), images.shape[0], description)


def batched(images: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, images.shape[0], batch_size):
        yield images[start:start + batch_size]

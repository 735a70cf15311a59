"""What the engine needs from a data source, and the in-memory tensor source most recipes use.

Batches come from the source's own `torch.Generator`, so the data order is part of the run's state:
`state_dict()` captures it and a resumed run continues with exactly the batches it would have seen.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import torch

DATA_DIR_ENV = "REPRO_DATA_DIR"
OFFLINE_ENV = "REPRO_OFFLINE"


def default_data_dir() -> Path:
    """$REPRO_DATA_DIR, else ~/.cache/repro/data."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "repro" / "data"


def offline_from_env() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclasses.dataclass
class DataContext:
    root: Path = dataclasses.field(default_factory=default_data_dir)
    download: bool = dataclasses.field(default_factory=lambda: not offline_from_env())
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0


class DataSource:
    """Base class: a stream of batches with resumable state."""

    shape: tuple[int, ...]
    size: int | None = None  # samples per epoch; None for an infinite stream
    # The interval every model-space value lies in (None: unbounded, e.g. Gaussian samples);
    # a generator must be able to produce it (checked in engine.build).
    value_range: tuple[float, float] | None = None

    def __init__(self, device: torch.device, seed: int):
        self.device = torch.device(device)
        self.rng = torch.Generator(device="cpu").manual_seed(seed)

    def batch(self, n: int) -> torch.Tensor:
        raise NotImplementedError

    def log_density(self, x: torch.Tensor) -> torch.Tensor | None:
        """log p(x) where the source knows its density (for the optimal D*); None otherwise."""
        return None

    def points(self, n: int) -> torch.Tensor:
        """Up to n samples for figures, not consuming the training stream."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.rng.set_state(state["rng"])


class TensorSource(DataSource):
    """A finite set of samples held as one tensor, visited in a fresh random order each epoch.

    Batches never straddle epochs (the last partial batch is dropped, as in the 0-GP authors'
    `n_samples // batch_size` minibatches per epoch), so an epoch is `size // batch` batches.
    """

    def __init__(self, samples: torch.Tensor, device: torch.device, seed: int):
        super().__init__(device, seed)
        self.samples = samples.to(self.device)
        self.shape = tuple(samples.shape[1:])
        self.size = samples.shape[0]
        self.order = torch.randperm(self.size, generator=self.rng)
        self.position = 0
        self.epoch = 0

    def batch(self, n: int) -> torch.Tensor:
        idx = self.take_indices(n, 1)[0].to(self.device)
        return self.decode(self.samples.index_select(0, idx))

    def take_indices(self, n: int, k: int) -> torch.Tensor:
        """The sample indices of the next k batches of n, shape (k, n), leaving the source where k
        calls of `batch(n)` leave it (one Python step per epoch, not per batch: the vectorised
        ensemble draws many iterations ahead)."""
        if n > self.size:
            raise ValueError(f"batch size {n} exceeds the {self.size} samples of this data set")
        parts, per_epoch = [], self.size // n
        while k > 0:
            if self.position + n > self.size:
                self.order = torch.randperm(self.size, generator=self.rng)
                self.position = 0
                self.epoch += 1
            if self.position == 0 and k >= 2 * per_epoch:
                # Several whole epochs (the ensemble draws ~200 at a time): their orders in one
                # reshape, drawn from the generator exactly as epoch-by-epoch would draw them.
                epochs = k // per_epoch
                orders = [self.order] + [torch.randperm(self.size, generator=self.rng) for _ in range(epochs - 1)]
                parts.append(torch.stack(orders)[:, : per_epoch * n].reshape(-1, n))
                self.order, self.position, self.epoch = orders[-1], per_epoch * n, self.epoch + epochs - 1
                k -= epochs * per_epoch
                continue
            take = min(k, (self.size - self.position) // n)
            parts.append(self.order[self.position:self.position + take * n].view(take, n))
            self.position += take * n
            k -= take
        return torch.cat(parts) if parts else self.order.new_empty(0, n)

    def decode(self, stored: torch.Tensor) -> torch.Tensor:
        """Stored form -> model input (e.g. uint8 pixels -> floats in [-1, 1]); identity here."""
        return stored

    def points(self, n: int) -> torch.Tensor:
        return self.decode(self.samples[:n])

    def state_dict(self) -> dict:
        return {**super().state_dict(), "order": self.order.clone(), "position": self.position, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.order, self.position, self.epoch = state["order"].clone(), state["position"], state["epoch"]


class PixelImages:
    """Mixin for image sources whose models see uint8 pixels as (pixel/255 − mean) / std: the
    inverse map, so FID/IS, sample grids and the classifier read generated images in pixels
    whatever the scaling (MNIST's mean-std as well as the [-1, 1] of a tanh output)."""

    mean: float
    std: float

    @property
    def value_range(self) -> tuple[float, float]:
        return (-self.mean / self.std, (1 - self.mean) / self.std)

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space images -> pixel intensities in [0, 1]."""
        return (x * self.std + self.mean).clamp(0, 1)

    def to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space images -> uint8 pixels, as if saved to PNG."""
        return (self.to_unit(x.float()) * 255).round().to(torch.uint8).cpu()

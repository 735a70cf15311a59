"""Seeds. Each source of randomness (model init, data order, noise z, penalty α) gets its own
stream derived from the run seed, so adding a random draw in one place never shifts another, and
each stream's state can be saved and restored for an exact resume."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def stream_seed(seed: int, stream: str) -> int:
    digest = hashlib.sha256(f"{seed}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream))

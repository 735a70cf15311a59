"""Which process of a multi-process (torchrun) job this is, and which rows of each batch it trains on.

A plain `repro train` is rank 0 of 1. Under torchrun every rank draws the SAME random streams as a
single process would (data order, noise z, penalty α: same seeds, same global draws) and keeps only
its own contiguous slice of each global draw (`Shard`). With gradients averaged over ranks, N ranks
then take the step a single process takes on the whole global batch, up to float rounding, as
long as no layer couples the samples of a batch: BatchNorm normalises each rank's shard with the
shard's own statistics, which legitimately differ from the global batch's.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import torch

from repro_cli.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Shard:
    """This rank's rows of every global draw: rank r of N keeps rows [r·n/N, (r+1)·n/N) of an
    n-row draw. The whole draw is made on every rank (so the random streams advance exactly as in
    a single process) and then sliced; a single process keeps everything untouched."""

    index: int = 0
    count: int = 1

    def take(self, rows: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch (the batch itself when there is one rank)."""
        if self.count == 1:
            return rows
        size = rows.shape[0] // self.count
        return rows[self.index * size:(self.index + 1) * size]

    def draw(self, sample: Callable[..., torch.Tensor], local_rows: int, *args, **kwargs) -> torch.Tensor:
        """This rank's `local_rows` rows of `sample(local_rows · N, *args, **kwargs)`, e.g.
        `shard.draw(torch.randn, 8, z_dim, generator=g)` or `shard.draw(source.batch, 8)`."""
        return self.take(sample(local_rows * self.count, *args, **kwargs))


WHOLE = Shard()


@dataclasses.dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes the run directory."""
        return self.rank == 0

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.size)

    def local_batch(self, global_batch: int) -> int:
        if global_batch % self.size:
            raise ConfigError(f"train.batch_size: {global_batch} cannot be split evenly over {self.size} processes; "
                              f"use a multiple of {self.size}")
        return global_batch // self.size


SINGLE_PROCESS = World()


def world_from_env() -> World:
    """torchrun sets RANK, WORLD_SIZE and LOCAL_RANK for every process it starts."""
    try:
        return World(rank=int(os.environ.get("RANK", 0)), size=int(os.environ.get("WORLD_SIZE", 1)),
                     local_rank=int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError:
        raise ConfigError("RANK/WORLD_SIZE/LOCAL_RANK must be integers (they are set by torchrun)") from None

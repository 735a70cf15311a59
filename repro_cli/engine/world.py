"""Which process of a multi-process (torchrun) job this is. A plain `repro train` is rank 0 of 1."""

from __future__ import annotations

import dataclasses
import os

from repro_cli.errors import ConfigError


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
    def stream_suffix(self) -> str:
        """Appended to random-stream names so ranks draw different data; '' keeps a single
        process identical to a run that knows nothing of ranks."""
        return "" if self.size == 1 else f"/rank{self.rank}"

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

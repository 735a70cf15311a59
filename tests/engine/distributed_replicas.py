"""Worker for test_distributed.py: trains real recipes as replicas of a Gloo process group (or
alone) and saves each replica's weights and logged losses. A plain module, not a test file, so the
processes that torch.multiprocessing spawns can import it."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import torch
import torch.distributed as dist
from torch import nn

from repro_cli.config.recipes import load_recipe
from repro_cli.config.validate import Range
from repro_cli.data.base import DataContext
from repro_cli.engine import distributed
from repro_cli.engine.trainer import Trainer
from repro_cli.engine.world import SINGLE_PROCESS, World
from repro_cli.models.mlp import Activation, MLPGenerator, OutputActivation
from repro_cli.registries import MODELS


class BatchNormMLPGenerator(MLPGenerator):
    """The 2-D MLP G with a BatchNorm after its first layer: a batch-dependent layer, for the test."""

    def __init__(self, *args):
        super().__init__(*args)
        self.net.insert(1, nn.BatchNorm1d(self.net[0].out_features))


def batchnorm_mlp_generator(*, out_shape: tuple[int, ...], z_dim: Annotated[int, Range(ge=1)] = 2, hidden: Annotated[int, Range(ge=1)] = 64,
                            layers: Annotated[int, Range(ge=1)] = 3, activation: Activation = "relu",
                            output: OutputActivation = "none") -> BatchNormMLPGenerator:
    return BatchNormMLPGenerator(z_dim, out_shape, hidden, layers, activation, output)


if "test-batchnorm-mlp-generator" not in MODELS:
    MODELS.register("test-batchnorm-mlp-generator")(batchnorm_mlp_generator)


def train(job: dict, world: World = SINGLE_PROCESS) -> dict:
    """job: {"recipe", "overrides", "data_root", "stop_on_last_rank_at"}. Returns the final weights,
    the logged train records, the fit status and iteration, and whether the replicas agree."""
    ctx = DataContext(root=Path(job["data_root"]), download=False) if job.get("data_root") else None
    trainer = Trainer(load_recipe(job["recipe"], job["overrides"]), seed=0, data=ctx, world=world)
    if world.size > 1:
        distributed.distribute(trainer)
    log: list[dict] = []
    stop = lambda: False  # noqa: E731
    if "stop_on_last_rank_at" in job:  # a stop request (e.g. SIGTERM) reaching only the last rank
        def stop():
            return world.rank == world.size - 1 and trainer.iteration >= job["stop_on_last_rank_at"]
        if world.size > 1:
            stop = distributed.AnyRank(stop, trainer.device)
    status = trainer.fit(None, on_log=log.append, stop=stop)
    weights = {f"{name}.{k}": v.clone() for name, net in (("G", trainer.G), ("D", trainer.D)) if net is not None
               for k, v in net.state_dict().items()}
    in_sync = distributed.replicas_in_sync(trainer) if world.size > 1 else True
    return {"weights": weights, "log": [{k: v for k, v in r.items() if k != "seconds"} for r in log], "in_sync": in_sync,
            "status": status, "iteration": trainer.iteration}


def replica(rank: int, size: int, store: str, jobs: dict[str, dict], out: str) -> None:
    """One rank (torch.multiprocessing.spawn's entry point): every job in turn, saved to out/<job>-rank<r>.pt."""
    torch.set_num_threads(1)
    # A rank left waiting in a collective (a broken stop agreement) fails the test instead of hanging it.
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=size, timeout=datetime.timedelta(seconds=60))
    try:
        for name, job in jobs.items():
            torch.save(train(job, World(rank=rank, size=size)), Path(out) / f"{name}-rank{rank}.pt")
        distributed.finish()  # the CLI's own teardown
    finally:
        distributed.shutdown()

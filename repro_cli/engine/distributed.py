"""Multi-process training under torchrun (`torchrun --nproc_per_node=N -m repro_cli train ...`).

Data parallel by hand rather than through DistributedDataParallel: the gradient penalties
differentiate D's output with respect to its input (`autograd.grad(create_graph=True)`), which DDP's
bucketed hooks do not support. Instead every rank starts from rank 0's weights, computes its step
on its shard of the global batch (its rows of the single-process draws of data, noise and penalty
α; see `world.Shard`), and each optimiser averages the gradients over ranks just before it updates
(an optimizer step pre-hook). The mean of the shards' mean-loss gradients is the gradient of the
global batch's mean loss, so N ranks take the step one process takes on the whole batch (to float
rounding), except that BatchNorm layers normalise each shard with its own statistics. Spectral
normalisation's power iteration depends only on the weights and so stays identical too. Loss
statistics are averaged over ranks, which also makes every rank see a NaN on any rank and stop
together; stop requests (SIGTERM on one rank) are agreed the same way. Rank 0 alone writes the run
directory; at the end the ranks check that their weights agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist

from repro_cli.engine.world import World
from repro_cli.errors import ReproError


def init_process_group(world: World, device: str) -> str:
    """NCCL between GPUs (one per local rank), Gloo between CPU processes; rendezvous from the
    MASTER_ADDR/MASTER_PORT that torchrun sets. Returns this rank's device."""
    if device.startswith("cuda"):
        device = f"cuda:{world.local_rank}"
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo", rank=world.rank, world_size=world.size)
    return device


def finish() -> None:
    """After a rank's work ended normally: wait for every rank before tearing down. A rank that
    destroys its Gloo process group while a peer is still using it can make the peer abort
    ("terminate called without an active exception"); not after an error, where a peer stuck in a
    collective would never arrive."""
    if dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def distribute(trainer) -> None:
    """Make a freshly built trainer one replica of a data-parallel job."""
    for module in (trainer.D, trainer.G):
        if module is not None:
            for tensor in module.state_dict().values():  # weights and buffers (e.g. SN's u vectors)
                dist.broadcast(tensor, src=0)
    for optimizer in (trainer.opt_d, trainer.opt_g):
        if optimizer is not None:
            optimizer.register_step_pre_hook(lambda opt, args, kwargs: average_gradients(opt))
    trainer.reduce_stats = mean_over_ranks
    if not trainer.world.is_main:
        trainer.metrics = []  # evaluation is rank 0's job; it needs no other rank


def decided_by_rank0(world: World, decide: Callable[[], Any]) -> Any:
    """Rank 0's answer to `decide()` (plain data) on every rank, e.g. which run directory and
    checkpoint to continue, so the ranks never disagree about it; a single process just decides.
    When rank 0 fails, every rank raises its one-line error, so none waits for an answer forever."""
    if world.size == 1:
        return decide()
    answer: list[Any] = [None]
    failure = None
    if world.is_main:
        try:
            answer[0] = {"value": decide()}
        except BaseException as err:
            failure = err
            answer[0] = {"error": str(err) if isinstance(err, ReproError) else f"rank 0 failed ({type(err).__name__}: {err})"}
    dist.broadcast_object_list(answer, src=0)  # pickled between this job's own processes, never read from a file
    if failure is not None:
        raise failure
    if "error" in answer[0]:
        raise ReproError(answer[0]["error"])
    return answer[0]["value"]


def average_gradients(optimizer: torch.optim.Optimizer) -> None:
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def mean_over_ranks(stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    values = torch.stack([v.detach().float() for v in stats.values()])
    dist.all_reduce(values)
    values /= dist.get_world_size()
    return dict(zip(stats, values))


class AnyRank:
    """A stop request that holds on every rank as soon as it holds on one, so all ranks
    checkpoint and leave at the same step (a rank waiting in all_reduce alone would hang)."""

    def __init__(self, local: Callable[[], bool], device: torch.device):
        self.local, self.device = local, device

    @property
    def signal(self) -> str | None:
        return getattr(self.local, "signal", None) or ("another rank's" if self() else None)

    def __call__(self) -> bool:
        flag = torch.tensor([float(self.local())], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())


def replicated_tensors(net: torch.nn.Module) -> list[torch.Tensor]:
    """The weights and buffers every replica must hold identically: all but BatchNorm's running
    statistics, which each rank accumulates from its own shard and which never feed back into
    training (BatchNorm in training mode normalises by the batch); rank 0's are the ones evaluated
    and checkpointed."""
    running = {id(b) for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for b in m.buffers(recurse=False)}
    return [t.detach() for t in net.state_dict(keep_vars=True).values() if id(t) not in running]


def replicas_in_sync(trainer) -> bool:
    """Whether every rank holds the same weights: each tensor's float64 sum, absolute sum, min and
    max, gathered from all ranks, must match exactly (any drift between replicas changes them)."""
    params = [p.double().reshape(-1) for m in (trainer.D, trainer.G) if m is not None for p in replicated_tensors(m)
              if p.is_floating_point()]
    summary = torch.stack([torch.stack([p.sum(), p.abs().sum(), p.min(), p.max()]) for p in params]).reshape(-1)
    gathered = [torch.empty_like(summary) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, summary)
    return all(torch.equal(gathered[0], g) for g in gathered[1:])

"""Turn a validated recipe into live objects: data sources, G, D (normalised), loss, penalty and
optimisers. Nothing here trains; `Trainer` owns the loop."""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from repro_cli import registries as R
from repro_cli.config.schema import Component, Recipe
from repro_cli.data.base import DataContext, DataSource
from repro_cli.engine.penalties import GradientPenalty
from repro_cli.engine.seeding import seed_everything, stream_seed
from repro_cli.engine.world import WHOLE, Shard
from repro_cli.errors import ConfigError


@dataclasses.dataclass
class Parts:
    real: DataSource
    fake_data: DataSource | None
    G: nn.Module | None
    D: nn.Module
    loss: object
    penalty: GradientPenalty
    opt_d: torch.optim.Optimizer
    opt_g: torch.optim.Optimizer | None


def _data(comp: Component, ctx: DataContext, seed: int, stream: str) -> DataSource:
    return R.DATA.get(comp.name)(ctx=dataclasses.replace(ctx, seed=stream_seed(seed, stream)), **comp.params)


def build(recipe: Recipe, seed: int, device: torch.device, ctx: DataContext | None = None, shard: Shard = WHOLE) -> Parts:
    """`shard`: the torchrun rank's rows of each global draw (the penalty draws α for them)."""
    ctx = dataclasses.replace(ctx or DataContext(), device=device)
    seed_everything(seed)
    real = _data(recipe.data, ctx, seed, "data")
    fake_data = _data(recipe.fake_data, ctx, seed, "fake_data") if recipe.fake_data else None
    if fake_data is not None and fake_data.shape != real.shape:
        raise ConfigError(f"fake_data: samples of shape {fake_data.shape} do not match the real data's {real.shape}")
    for section, source in (("data", real), ("fake_data", fake_data)):
        if source is not None and source.size is not None and recipe.train.batch_size > source.size:
            raise ConfigError(f"train.batch_size: {recipe.train.batch_size} exceeds the {source.size} samples of [{section}]; "
                              f"use --set train.batch_size=N with N <= {source.size}")

    # Model init draws from the global torch RNG; reseeding it per network keeps G's init the
    # same whatever D looks like, and vice versa.
    torch.manual_seed(stream_seed(seed, "init-discriminator"))
    D = R.MODELS.get(recipe.discriminator.name)(in_shape=real.shape, **recipe.discriminator.params)
    D = R.NORMALIZATIONS.get(recipe.normalization.name)(**recipe.normalization.params)(D).to(device)
    G = None
    if recipe.generator is not None:
        torch.manual_seed(stream_seed(seed, "init-generator"))
        G = R.MODELS.get(recipe.generator.name)(out_shape=real.shape, **recipe.generator.params).to(device)
        check_reaches_data(G.output_range, real.value_range, recipe)

    opt = recipe.optim
    make_opt = R.OPTIMIZERS.get(opt.name)
    return Parts(
        real=real,
        fake_data=fake_data,
        G=G,
        D=D,
        loss=R.LOSSES.get(recipe.loss.name)(**recipe.loss.params),
        penalty=GradientPenalty(recipe.penalty, shard),
        opt_d=make_opt(D.parameters(), lr=opt.lr_d, betas=opt.betas),
        opt_g=make_opt(G.parameters(), lr=opt.lr_g, betas=opt.betas) if G is not None else None,
    )


def check_reaches_data(output: tuple[float, float] | None, data: tuple[float, float] | None, recipe: Recipe) -> None:
    """A generator whose output activation cannot reach the data's values trains without error and
    silently fails (e.g. a tanh G against MNIST in mean-std scaling, which spans [-0.42, 2.82])."""
    if output is None or (data is not None and output[0] - 1e-6 <= data[0] and data[1] <= output[1] + 1e-6):
        return
    spans = "are unbounded" if data is None else f"span [{data[0]:.3g}, {data[1]:.3g}]"
    raise ConfigError(f"generator: the output of {recipe.generator.name!r} lies in [{output[0]:g}, {output[1]:g}] but the "
                      f"[data] values {spans}, so G cannot produce the data; change the generator's output activation "
                      f"or the data's scaling (e.g. --set data.scaling=tanh for a tanh output)")


def total_iterations(recipe: Recipe, real: DataSource) -> int:
    """`train.iterations`, or the iterations that make `train.epochs` passes of D over the data."""
    train = recipe.train
    if train.iterations is not None:
        return train.iterations
    if real.size is None:
        raise ConfigError("train.epochs: the data source is an infinite stream; set train.iterations instead")
    batches_per_epoch = real.size // train.batch_size
    if batches_per_epoch == 0:
        raise ConfigError(f"train.batch_size: {train.batch_size} exceeds the {real.size} training samples")
    return max(1, math.ceil(train.epochs * batches_per_epoch / recipe.optim.n_dis))

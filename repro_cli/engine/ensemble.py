"""Several seeds of one recipe trained as one vectorised ensemble.

Each member is an ordinary `Trainer` (built exactly as a serial run builds it: same init, data
stream, noise and penalty generators; see EnsembleMember). The ensemble stacks the members' G and
D parameters and runs `Trainer.step` for all of them at once: random draws stay per member (each from its own
generator, so member i sees exactly the numbers serial run i sees), while every forward, backward
and optimiser update is one batched operation over members. Members are independent, so summing
their losses before `backward()` gives each member its own gradient.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch
from torch.func import vmap

from repro_cli import registries as R
from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.batched import NotBatchable, StackedModule, check_batchable, copy_optimizer_state
from repro_cli.engine.trainer import Trainer


class EnsembleMember(Trainer):
    """One seed of an ensemble: an ordinary Trainer whose weights and optimiser state live in the
    ensemble's stacked tensors, pulled into its own modules whenever something reads them
    (evaluation, checkpoints), under the global RNG states its serial run would have."""

    ensemble: "EnsembleTrainer"
    index: int

    def step(self) -> dict[str, torch.Tensor]:
        raise RuntimeError("an ensemble member steps only through its EnsembleTrainer")

    def evaluate(self, run=None):
        with self.ensemble.as_member(self.index):
            return super().evaluate(run)

    def state_dict(self):
        with self.ensemble.as_member(self.index):
            return super().state_dict()

    def weights_finite(self) -> bool:
        self.ensemble.pull(self.index)
        return super().weights_finite()


class EnsembleTrainer:
    def __init__(self, recipe: Recipe, seeds: list[int], device: str | torch.device = "cpu", data: DataContext | None = None):
        if len(set(seeds)) != len(seeds):
            raise NotBatchable("repeated seeds")
        self.recipe, self.seeds = recipe, list(seeds)
        self.members: list[EnsembleMember] = []
        self.global_rngs = []
        for i, s in enumerate(seeds):
            member = EnsembleMember(recipe, seed=s, device=device, data=data)
            member.ensemble, member.index = self, i
            if i == 0:  # before building the others: a recipe that cannot be vectorised fails fast
                for model in (member.D, member.G):
                    if model is not None:
                        check_batchable(model, member.device)
            self.members.append(member)
            # A serial run's checkpoints save the global RNGs as its build left them; keep each member's.
            self.global_rngs.append(_global_rngs())
        self.pulled_at = [0] * len(seeds)  # the iteration each member's own modules reflect
        self.active: int | None = None  # the member whose global RNGs are in place
        first = self.members[0]
        self.loss, self.penalty, self.total = first.loss, first.penalty, first.total
        self.D = StackedModule([m.D for m in self.members])
        self.G = StackedModule([m.G for m in self.members]) if first.G is not None else None
        make_opt, opt = R.OPTIMIZERS.get(recipe.optim.name), recipe.optim
        self.opt_d = make_opt(self.D.parameters(), lr=opt.lr_d, betas=opt.betas)
        self.opt_g = make_opt(self.G.parameters(), lr=opt.lr_g, betas=opt.betas) if self.G is not None else None
        # Per-member losses: the registered loss applied to each member's scores.
        self.d_losses, self.g_losses = vmap(self.loss.discriminator), vmap(self.loss.generator)
        self.iteration = 0

    # --- sampling: one draw per member from its own generator, then stacked ------------------------
    def real_batch(self, n: int) -> torch.Tensor:
        return torch.stack([m.real.batch(n) for m in self.members])

    def sample_fake(self, n: int) -> torch.Tensor:
        if self.G is not None:
            return self.G(torch.stack([m.noise(n) for m in self.members]))
        return torch.stack([m.fake_data.batch(n) for m in self.members])

    def discriminate(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.D(torch.cat([real, fake], dim=1))  # D has no batch statistics (no buffers)
        return scores[:, : real.shape[1]], scores[:, real.shape[1]:]

    def penalties(self, real: torch.Tensor, fake: torch.Tensor, d_real: torch.Tensor) -> torch.Tensor:
        if not self.penalty.active:
            return d_real.new_zeros(len(self.members))
        if self.penalty.reuses_real_forward:
            return self.penalty.of_scores(d_real, real, sample_dims=2)
        points = torch.stack([self.penalty.points(r, f, m.penalty_rng) for r, f, m in zip(real, fake, self.members)])
        points = points.detach().requires_grad_(True)
        return self.penalty.of_scores(self.D(points), points, sample_dims=2)

    # --- the step: Trainer.step with a member dimension; stats are (members,) tensors ---------------
    def step(self) -> dict[str, torch.Tensor]:
        batch = self.recipe.train.batch_size
        for _ in range(self.recipe.optim.n_dis):
            real = self.penalty.prepare_real(self.real_batch(batch))
            with torch.no_grad():
                fake = self.sample_fake(batch)
            d_real, d_fake = self.discriminate(real, fake)
            d_loss = self.d_losses(d_real, d_fake)
            penalty = self.penalties(real, fake, d_real)
            self.opt_d.zero_grad(set_to_none=True)
            (d_loss + penalty).sum().backward()
            self.opt_d.step()
        stats = {"d_loss": d_loss.detach(), "penalty": penalty.detach(), "d_real": d_real.detach().mean(1), "d_fake": d_fake.detach().mean(1)}
        if self.G is not None:
            self.D.requires_grad_(False)
            g_loss = self.g_losses(self.D(self.sample_fake(batch)))
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.sum().backward()
            self.opt_g.step()
            self.D.requires_grad_(True)
            stats["g_loss"] = g_loss.detach()
        self.iteration += 1
        for m in self.members:
            m.iteration = self.iteration
        return stats

    def pull(self, index: int) -> None:
        """Bring member `index`'s own modules and optimisers up to date with the stacked state."""
        if self.pulled_at[index] == self.iteration:
            return
        member = self.members[index]
        for stacked, opt, member_opt in ((self.D, self.opt_d, member.opt_d), (self.G, self.opt_g, member.opt_g)):
            if stacked is not None:
                stacked.copy_to_member(index)
                copy_optimizer_state(opt, member_opt, index)
        self.pulled_at[index] = self.iteration

    @contextlib.contextmanager
    def as_member(self, index: int):
        """Member `index`, up to date, with the global RNGs as its serial run would have them;
        whatever the block draws from them stays that member's."""
        self.pull(index)
        if self.active == index:  # nested (a checkpoint written during an evaluation)
            yield self.members[index]
            return
        self.active, outside = index, _global_rngs()
        _set_global_rngs(self.global_rngs[index])
        try:
            yield self.members[index]
        finally:
            self.global_rngs[index] = _global_rngs()
            _set_global_rngs(outside)
            self.active = None


def _global_rngs() -> tuple:
    return torch.get_rng_state(), random.getstate(), np.random.get_state()


def _set_global_rngs(states: tuple) -> None:
    torch.set_rng_state(states[0])
    random.setstate(states[1])
    np.random.set_state(states[2])

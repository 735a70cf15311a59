"""Several seeds, of one recipe or of several recipes whose shapes agree, trained as one
vectorised ensemble.

Each member is an ordinary `Trainer` of its own recipe and seed (built exactly as a serial run builds
it: same init, data stream, noise and penalty generators; see EnsembleMember). The ensemble stacks
the members' G and D parameters and runs `Trainer.step` for all of them at once: random draws stay
per member (each from its own generator, so member i sees exactly the numbers serial run i sees),
while every forward, backward and optimiser update is one batched operation over members. Members
are independent, so summing their losses before `backward()` gives each member its own gradient.

Members may differ in what `ensemble_key` leaves out: their data (sample size, distribution,
sample seed) and their gradient penalty (weight, centre, point set; none at all). The penalty is
one batched pass over the members that have one, with per-member weights and centres; members
without one get an exact zero, as their serial runs do.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Sequence

import numpy as np
import torch
from torch.func import vmap

from repro_cli import registries as R
from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.batched import NotBatchable, StackedModule, check_batchable, copy_optimizer_state
from repro_cli.engine.closed_form import closed_form_d_step
from repro_cli.engine.draw_ahead import Draw, DrawAhead, can_draw_ahead
from repro_cli.engine.optimizers import FusedAdamStep
from repro_cli.engine.penalties import input_gradient_norm
from repro_cli.engine.trainer import Trainer


def ensemble_key(recipe: Recipe) -> str:
    """What members of one ensemble must share: everything except the description, the data
    (each member has its own source; shapes are checked when stacking), the budget (the resolved
    number of iterations is compared once built) and the gradient penalty (per member, see
    PenaltyGroup)."""
    body = recipe.to_dict()
    for member_own in ("recipe", "data", "fake_data", "penalty"):
        body.pop(member_own, None)
    body["train"] = {k: v for k, v in body["train"].items() if k not in ("iterations", "epochs")}
    body["eval"] = {"every": body["eval"]["every"]}  # metrics are computed per member, by its own Trainer
    return json.dumps(body, sort_keys=True)


class PenaltyGroup:
    """Members whose penalties are one batched pass: the same link (probability or logit) and as
    many points per (real, fake) pair; each with its own points, weight and centre."""

    def __init__(self, members: list["EnsembleMember"], n_members: int, device: torch.device):
        self.members = members
        self.link = members[0].penalty.link
        # None: every member of the ensemble, in order (no indexing needed).
        everyone = len(members) == n_members
        self.index = None if everyone else torch.tensor([m.index for m in members], dtype=torch.long, device=device)
        self.weight = torch.tensor([m.penalty.spec.weight for m in members], device=device)
        self.center = torch.tensor([m.penalty.spec.center for m in members], device=device)
        self.points_per_pair = self.kind(members[0])[1]

    @staticmethod
    def kind(member: "EnsembleMember") -> tuple:
        one = torch.zeros(1, 1)
        points_per_pair = member.penalty.make_points(one, one, torch.Generator()).shape[0]
        return member.penalty.spec.gradient_of, points_per_pair

    def draw_points(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return torch.stack([m.penalty.make_points(real[m.index], fake[m.index], m.penalty_rng) for m in self.members])

    def __call__(self, D: StackedModule, points: torch.Tensor) -> torch.Tensor:
        """(len(members),) penalties at `points` (members, samples, ...)."""
        points = points.detach().requires_grad_(True)
        norms = input_gradient_norm(self.link(D(points, self.index)), points, create_graph=True, sample_dims=2)
        return self.weight * (norms - self.center[:, None]).pow(2).mean(-1)


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
    def __init__(self, recipes: Recipe | Sequence[Recipe], seeds: Sequence[int], device: str | torch.device = "cpu",
                 data: DataContext | None = None):
        """Member i trains `recipes[i]` (or the one `recipes`) with `seeds[i]`."""
        recipes = [recipes] * len(seeds) if isinstance(recipes, Recipe) else list(recipes)
        if len(recipes) != len(seeds):
            raise ValueError("one recipe per seed")
        if len({(r.config_hash(), s) for r, s in zip(recipes, seeds)}) != len(seeds):
            raise NotBatchable("repeated seeds")
        if len({ensemble_key(r) for r in recipes}) != 1:
            raise NotBatchable("the recipes differ in more than data and penalty settings")
        self.recipe, self.seeds = recipes[0], list(seeds)
        self.members: list[EnsembleMember] = []
        self.global_rngs = []
        for i, (rec, s) in enumerate(zip(recipes, seeds)):
            member = EnsembleMember(rec, seed=s, device=device, data=data)
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
        if len({m.total for m in self.members}) != 1:
            raise NotBatchable("the members train for different numbers of iterations")
        self.loss, self.total, self.device = first.loss, first.total, first.device
        self.D = StackedModule([m.D for m in self.members])
        self.G = StackedModule([m.G for m in self.members]) if first.G is not None else None
        make_opt, opt = R.OPTIMIZERS.get(self.recipe.optim.name), self.recipe.optim
        self.opt_d = make_opt(self.D.parameters(), lr=opt.lr_d, betas=opt.betas)
        self.opt_g = make_opt(self.G.parameters(), lr=opt.lr_g, betas=opt.betas) if self.G is not None else None
        self.step_d = FusedAdamStep(self.opt_d)
        self.step_g = FusedAdamStep(self.opt_g) if self.G is not None else None
        # Per-member losses: the registered loss applied to each member's scores.
        self.d_losses, self.g_losses = vmap(self.loss.discriminator), vmap(self.loss.generator)
        kinds: dict[tuple, list[EnsembleMember]] = {}
        for m in self.members:
            if m.penalty.active:
                kinds.setdefault(PenaltyGroup.kind(m), []).append(m)
        self.penalty_groups = [PenaltyGroup(group, len(self.members), self.device) for group in kinds.values()]
        # D's gradients in closed form where D has one (no double backward), else autograd.
        self.closed_form = closed_form_d_step(self.D, self.loss, self.members, self.penalty_groups)
        self.ahead = DrawAhead(self.members, self.recipe.train.batch_size, self.penalty_groups) if can_draw_ahead(self.members) else None
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

    def draws(self, batch: int) -> Draw:
        """One D step's draws, drawn ahead where possible."""
        if self.ahead is not None:
            return self.ahead.next()
        real = self.real_batch(batch)
        with torch.no_grad():
            fake = self.sample_fake(batch)
        return Draw(real, fake, [group.draw_points(real, fake) for group in self.penalty_groups])

    def penalties(self, points: list[torch.Tensor]) -> torch.Tensor:
        """(members,) penalties, an exact zero for members without one (as their serial runs)."""
        if len(self.penalty_groups) == 1 and self.penalty_groups[0].index is None:
            return self.penalty_groups[0](self.D, points[0])
        penalty = self.D.params[next(iter(self.D.params))].new_zeros(len(self.members))
        for group, group_points in zip(self.penalty_groups, points):
            penalty = penalty.index_add(0, group.index, group(self.D, group_points))
        return penalty

    def d_gradients(self, draw: Draw):
        """D's loss and penalty gradients by autograd, into .grad; (d_real, d_fake, d_loss, penalty), detached."""
        d_real, d_fake = self.discriminate(draw.real, draw.fake)
        d_loss = self.d_losses(d_real, d_fake)
        penalty = self.penalties(draw.points)
        self.opt_d.zero_grad(set_to_none=True)
        (d_loss + penalty).sum().backward()
        return d_real.detach(), d_fake.detach(), d_loss.detach(), penalty.detach()

    # --- the step: Trainer.step with a member dimension; stats are (members,) tensors ---------------
    def step(self) -> dict[str, torch.Tensor]:
        batch = self.recipe.train.batch_size
        for _ in range(self.recipe.optim.n_dis):
            d_real, d_fake, d_loss, penalty = (self.closed_form or self.d_gradients)(self.draws(batch))
            self.step_d()
        stats = {"d_loss": d_loss, "penalty": penalty, "d_real": d_real.mean(1), "d_fake": d_fake.mean(1)}
        if self.G is not None:
            self.D.requires_grad_(False)
            g_loss = self.g_losses(self.D(self.sample_fake(batch)))
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.sum().backward()
            self.step_g()
            self.D.requires_grad_(True)
            stats["g_loss"] = g_loss.detach()
        self.iteration += 1
        for m in self.members:
            m.iteration = self.iteration
        return stats

    def pull(self, index: int) -> None:
        """Bring member `index`'s own modules and optimisers up to date with the stacked state."""
        if self.ahead is not None:
            self.ahead.settle()  # the member's data and penalty streams as at this iteration
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

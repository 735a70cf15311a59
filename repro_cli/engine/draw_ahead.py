"""An ensemble's random draws for many D steps at once, each member from its own generators.

Per step, an ensemble of M members would make ~3M small Python calls just to draw its batches
(each member's data order, fixed fake sample and penalty points). Where every draw can be made for
k steps in one call and give exactly the numbers of k single-step calls (a TensorSource's
`take_indices`; a `rowwise` penalty point set, whose torch.rand draws chunk exactly on a CPU), the
ensemble draws `chunk` steps ahead and only slices per step. D-only recipes qualify; with a
generator the fake batch (and so the penalty points) depends on the current weights.

Members' stream states then run ahead of the training; `settle()` rewinds them to where the
training is (restore the state at the chunk's start, redraw the steps used) before anything reads
them (a checkpoint), and the next step draws a fresh chunk from there.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from repro_cli.data.base import TensorSource

# Elements per member per chunk (batches and points), bounding the chunk's memory (~16 MB per member).
CHUNK_ELEMENTS = 4_000_000
MAX_CHUNK_STEPS = 1000


class Draw(NamedTuple):
    """One ensemble D step's draws, each (members, samples, ...): the real and fake batches and each
    penalty group's points; `rows`, where drawn ahead, has every member's real, fake and penalty rows
    side by side (zeros for a member without a penalty): the closed-form step's input, sliced from
    a tensor made once per chunk instead of concatenated at every step."""

    real: torch.Tensor
    fake: torch.Tensor
    points: list[torch.Tensor]
    rows: torch.Tensor | None = None


def side_by_side(real: torch.Tensor, fake: torch.Tensor, points: list[torch.Tensor], penalty_groups, dim: int) -> torch.Tensor:
    """Draw.rows: every member's real, fake and (with any penalty group) penalty rows side by side
    along `dim`, zeros where a member has no penalty; `points` are the groups' points."""
    blocks = [real, fake]
    if points:
        if len(penalty_groups) == 1 and penalty_groups[0].index is None:  # every member, in order
            blocks.append(points[0])
        else:
            penalty_rows = points[0].new_zeros(real.shape[0], *points[0].shape[1:])
            for group, group_points in zip(penalty_groups, points):
                penalty_rows[group.index] = group_points
            blocks.append(penalty_rows)
    return torch.cat(blocks, dim)


def can_draw_ahead(members) -> bool:
    first = members[0]
    return all(
        m.G is None
        and type(m.real) is type(first.real) and type(m.fake_data) is type(first.real)
        and isinstance(m.real, TensorSource)
        and (not m.penalty.active or getattr(m.penalty.make_points, "rowwise", False))
        for m in members
    )


class DrawAhead:
    def __init__(self, members, batch: int, penalty_groups):
        self.members, self.batch, self.penalty_groups = members, batch, penalty_groups
        per_step = batch * math.prod(members[0].real.shape) * 3  # real, fake, points
        self.chunk = max(1, min(MAX_CHUNK_STEPS, CHUNK_ELEMENTS // per_step))
        self.decode = members[0].real.decode  # the same class for every member
        # Every member's samples, padded to the largest set, for one gather per chunk.
        self.real_samples = _padded([m.real.samples for m in members])
        self.fake_samples = _padded([m.fake_data.samples for m in members])
        self.member_index = torch.arange(len(members), device=self.real_samples.device)[:, None, None]
        self.used = self.size = 0

    def next(self) -> Draw:
        """The next D step's draws."""
        if self.used == self.size:
            self._draw()
        self.used += 1
        return self.draws[self.used - 1]

    def _draw(self) -> None:
        k = self.chunk
        self.start_states = [(m.real.state_dict(), m.fake_data.state_dict(), m.penalty_rng.get_state()) for m in self.members]
        real_idx = torch.stack([m.real.take_indices(self.batch, k) for m in self.members]).to(self.real_samples.device)
        fake_idx = torch.stack([m.fake_data.take_indices(self.batch, k) for m in self.members]).to(self.real_samples.device)
        self.real = self.decode(self.real_samples[self.member_index, real_idx])  # (members, k, batch, ...)
        self.fake = self.decode(self.fake_samples[self.member_index, fake_idx])
        self.points = [torch.stack([self._points(m, k) for m in group.members]) for group in self.penalty_groups]
        self.rows = side_by_side(self.real, self.fake, self.points, self.penalty_groups, dim=2)  # (members, k, rows, ...)
        # Each step's Draw made here, its tensors views of the chunk (unbind makes them all in one call).
        per_step = zip(self.real.unbind(1), self.fake.unbind(1), self.rows.unbind(1), *(p.unbind(1) for p in self.points))
        self.draws = [Draw(real, fake, list(points), rows) for real, fake, rows, *points in per_step]
        self.used, self.size = 0, k

    def _points(self, member, k: int) -> torch.Tensor:
        i = member.index
        flat = member.penalty.make_points(self.real[i, :k].flatten(0, 1), self.fake[i, :k].flatten(0, 1), member.penalty_rng)
        return flat.view(k, self.batch, *flat.shape[1:])

    def settle(self) -> None:
        """Bring every member's streams to the step the training is at; the next step redraws."""
        if self.size == 0:
            return
        for m, (real, fake, rng) in zip(self.members, self.start_states):
            m.real.load_state_dict(real)
            m.fake_data.load_state_dict(fake)
            m.penalty_rng.set_state(rng)
            if self.used:
                m.real.take_indices(self.batch, self.used)
                m.fake_data.take_indices(self.batch, self.used)
                if m.penalty.active:
                    self._points(m, self.used)
        self.used = self.size = 0


def _padded(tensors: list[torch.Tensor]) -> torch.Tensor:
    rows = max(t.shape[0] for t in tensors)
    out = tensors[0].new_zeros(len(tensors), rows, *tensors[0].shape[1:])
    for i, t in enumerate(tensors):
        out[i, : t.shape[0]] = t
    return out

"""The one centred gradient penalty of the 0-GP paper, and where its points x̂ come from.

    penalty = λ · mean_i (‖∇ₓ f(x̂_i)‖₂ − c)²

f is D's probability sigmoid(D(x)) (the 0-GP authors' code, BCE on a sigmoid output) or its raw
logit (GAN_stability, WGAN-GP). The factor is λ with no ½: R1 with γ is weight = γ/2 on logits.
Points x̂ are registered (`interpolates`, `real`, `fake`, `real+fake`), presets name the variants.
The norm is taken over every non-batch dimension, so 2-D points, 1×28×28 and 3×32×32 all work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from repro_cli.config.schema import PenaltySpec
from repro_cli.engine.world import WHOLE, Shard
from repro_cli.registries import PENALTY_POINTS, PENALTY_PRESETS

# --- presets: defaults that a recipe's [penalty] table may override key by key -------------
PENALTY_PRESETS.register("none")({"weight": 0.0})
# 0-GP (Thanh-Tung et al.): zero-centred, on random real-fake interpolates.
PENALTY_PRESETS.register("0gp")({"center": 0.0, "points": "interpolates"})
# 0-GP-sample ("GAN-0-real"): zero-centred on real samples only (the authors' alpha = 1, as R1).
PENALTY_PRESETS.register("0gp-sample")({"center": 0.0, "points": "real"})
# 1-GP (Gulrajani et al.'s WGAN-GP penalty): one-centred on interpolates.
PENALTY_PRESETS.register("1gp")({"center": 1.0, "points": "interpolates"})
# R1 (Mescheder et al.) on D's logits; set weight = γ/2.
PENALTY_PRESETS.register("r1")({"center": 0.0, "points": "real", "gradient_of": "logit"})


# --- point sets: (real, fake, rng, shard) -> x̂ ---------------------------------------------
# `shard` says which rows of a global random draw belong to this torchrun rank (all of them in a
# single process), so a rank's x̂ are exactly its rows of a single process's x̂.
def rowwise(points: Callable) -> Callable:
    """Marks a point set whose i-th point depends only on the i-th real and fake sample and the
    i-th draw from rng (drawn with torch.rand, whose CPU draws of k·n numbers equal k draws of n;
    tests/engine/test_draw_ahead.py), so that k batches' points can be made in one call."""
    points.rowwise = True
    return points


@PENALTY_POINTS.register("interpolates")
@rowwise
def interpolates(real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator | None, shard: Shard = WHOLE) -> torch.Tensor:
    """x̂ = α·x_real + (1−α)·x_fake with α ~ U(0,1) per sample, real and fake paired by index."""
    alpha = shard.draw(torch.rand, real.shape[0], *([1] * (real.dim() - 1)), generator=rng, device=real.device, dtype=real.dtype)
    return torch.lerp(fake, real, alpha)


@PENALTY_POINTS.register("real")
@rowwise
def real_points(real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator | None, shard: Shard = WHOLE) -> torch.Tensor:
    return real


@PENALTY_POINTS.register("fake")
@rowwise
def fake_points(real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator | None, shard: Shard = WHOLE) -> torch.Tensor:
    return fake


@PENALTY_POINTS.register("real+fake")
def real_and_fake(real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator | None, shard: Shard = WHOLE) -> torch.Tensor:
    """The EPFL report's reading of 0-GP-sample: v ∈ D_r ∪ D_g."""
    return torch.cat([real, fake])


class Link(NamedTuple):
    """What `gradient_of` differentiates: the link applied to D's logits f, and its first and
    second derivatives (link'(f), link''(f); None: zero), which the closed-form gradients of
    engine/closed_form.py need."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    derivatives: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]


def _probability_derivatives(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = torch.sigmoid(scores)
    slope = torch.addcmul(p, p, p, value=-1)  # p(1 − p)
    return slope, torch.addcmul(slope, slope, p, value=-2)  # p(1 − p)(1 − 2p)


LINKS: dict[str, Link] = {
    "probability": Link(torch.sigmoid, _probability_derivatives),
    "logit": Link(lambda scores: scores, lambda scores: (torch.ones_like(scores), None)),
}


def input_gradient_norm(scores: torch.Tensor, points: torch.Tensor, create_graph: bool, sample_dims: int = 1) -> torch.Tensor:
    """‖∂ scores_i / ∂ points_i‖₂ per sample (each score depends only on its own point, so one
    backward of the sum gives every sample's gradient). The first `sample_dims` dimensions index
    samples: 1 for a batch, 2 for an ensemble's (member, sample)."""
    (grad,) = torch.autograd.grad(scores.sum(), points, create_graph=create_graph)
    return grad.flatten(sample_dims).norm(dim=-1)


class GradientPenalty:
    def __init__(self, spec: PenaltySpec, shard: Shard = WHOLE):
        self.spec = spec
        self.shard = shard
        self.active = spec.weight > 0
        self.make_points: Callable = PENALTY_POINTS.get(spec.points)
        self.link = LINKS[spec.gradient_of].fn
        # With points = real, the penalty can reuse D's forward pass on the real batch.
        self.reuses_real_forward = self.active and spec.points == "real"

    def prepare_real(self, real: torch.Tensor) -> torch.Tensor:
        """Called before D's forward on the real batch, so its graph can serve the penalty."""
        return real.detach().requires_grad_(True) if self.reuses_real_forward else real

    def points(self, real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """The points x̂, as a fresh leaf whose gradient the penalty takes."""
        return self.make_points(real.detach(), fake.detach(), rng, self.shard).detach().requires_grad_(True)

    def of_scores(self, scores: torch.Tensor, points: torch.Tensor, sample_dims: int = 1) -> torch.Tensor:
        """λ · mean over samples of (‖∇ₓ f(x̂)‖ − c)²: a scalar, or one value per ensemble member.
        create_graph because the penalty itself is differentiated w.r.t. D's weights."""
        norms = input_gradient_norm(self.link(scores), points, create_graph=True, sample_dims=sample_dims)
        return self.spec.weight * (norms - self.spec.center).pow(2).mean(-1)

    def __call__(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor, d_real: torch.Tensor,
                 rng: torch.Generator | None = None) -> torch.Tensor:
        if not self.active:
            return real.new_zeros(())
        if self.reuses_real_forward:
            return self.of_scores(d_real, real)
        points = self.points(real, fake, rng)
        return self.of_scores(D(points), points)

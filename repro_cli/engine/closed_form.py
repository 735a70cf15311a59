"""An ensemble's D step with D's gradients in closed form instead of autograd's double backward.

Where D has a registered closed-form gradient (D_GRADIENT_FORMS, next to the model: the MLP's in
models/mlp_gradients.py), the ensemble's D step is one forward over every member's real, fake and
penalty rows, then one hand-written reverse pass that gives each member the gradient of its loss
plus its penalty. The loss is the registered per-sample loss (engine/losses.py),
mean φ(−d_real) + mean φ(d_fake), whose φ′ gives ∂loss/∂scores directly. The penalty is engine/penalties.py's
λ · mean (‖∇ₓ link(f)‖ − c)², per member: its own points, weight, centre and link; a member
without a penalty gets rows of zero points and an exact zero.

The result equals autograd's to float rounding (tests/engine/test_closed_form.py; the ensemble's
member-vs-serial tests run through it).
"""

from __future__ import annotations

import torch

from repro_cli.engine.batched import StackedModule, registered_form
from repro_cli.engine.draw_ahead import Draw, side_by_side
from repro_cli.engine.losses import PerSampleLoss
from repro_cli.engine.penalties import LINKS
from repro_cli.registries import D_GRADIENT_FORMS


class ClosedFormDStep:
    def __init__(self, D: StackedModule, form, loss: PerSampleLoss, members, penalty_groups):
        self.D, self.loss, self.groups = D, loss, penalty_groups
        self.net = form(D.skeleton, D.params)
        self.n_members, self.penalised = len(members), bool(penalty_groups)
        like = next(iter(D.params.values()))
        # The penalty chain runs on the first k members, up to the last one with a penalty (all of
        # them when the penalised members come first, as runs/ensemble.py orders them).
        self.k = 1 + max((m.index for m in members if m.penalty.active), default=-1)
        specs = [m.penalty.spec for m in members[: self.k]]
        self.active = torch.tensor([m.penalty.active for m in members[: self.k]], device=like.device)
        self.weight = torch.tensor([s.weight for s in specs], dtype=like.dtype, device=like.device)  # 0 without a penalty
        self.center = torch.tensor([s.center for s in specs], dtype=like.dtype, device=like.device)
        links = {s.gradient_of for s, m in zip(specs, members) if m.penalty.active}
        # One link for every penalised member, else chosen per member.
        self.link = links.pop() if len(links) == 1 else None
        self.is_probability = torch.tensor([s.gradient_of == "probability" for s in specs], device=like.device)
        self.center_column, self.zero = self.center[:, None], like.new_zeros(())
        self.no_penalty = like.new_zeros(self.n_members - self.k)  # the members after the first k
        self._scale, self._scale_for = None, None
        self._signs_for = None
        self.grad_buffers = [(param, self.net.grads[name]) for name, param in D.params.items()]

    def _seed_scale(self, n_points: int) -> torch.Tensor:
        """2λ/P per member, as a column (made once per number of points)."""
        if self._scale_for != n_points:
            self._scale, self._scale_for = (self.weight * (2 / n_points))[:, None], n_points
        return self._scale

    def _link(self, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.link is not None:
            return LINKS[self.link].derivatives(scores)
        prob_slope, prob_curvature = LINKS["probability"].derivatives(scores)
        mask = self.is_probability[:, None]
        return torch.where(mask, prob_slope, torch.ones_like(scores)), torch.where(mask, prob_curvature, torch.zeros_like(scores))

    def __call__(self, draw: Draw):
        """Sets every stacked D parameter's .grad; returns (d_real, d_fake, d_loss, penalty) per member."""
        batch = draw.real.shape[1]
        # inference_mode, not no_grad: nothing here is ever differentiated, and skipping autograd's
        # version-counter and view bookkeeping makes each of the step's ~100 small operations cheaper.
        with torch.inference_mode():
            rows = draw.rows if draw.rows is not None else side_by_side(draw.real, draw.fake, draw.points, self.groups, dim=1)
            tape = self.net.forward(rows)
            scores = tape.scores
            d_loss, score_grad = self._loss(scores, batch)
            if self.penalised:
                penalty, grads = self._with_penalty(tape, scores, score_grad, batch)
            else:
                penalty, grads = scores.new_zeros(self.n_members), tape.backward(score_grad)
            for param, grad in self.grad_buffers:
                param.grad = grad
        return scores[:, :batch], scores[:, batch: 2 * batch], d_loss, penalty

    def _loss(self, scores: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each member's loss mean φ(−d_real) + mean φ(d_fake) and its gradient w.r.t. every row's
        score (zero on the penalty rows, which enter no loss term), from the real and fake scores
        side by side: with s = −1 on real rows and +1 on fake ones, the loss is 2·mean φ(s·d) and
        its gradient s·φ′(s·d)/batch."""
        if self._signs_for != (batch, scores.shape[1]):
            signs = scores.new_ones(1, 2 * batch)
            signs[:, :batch] = -1
            tail = scores.new_zeros(scores.shape[0], scores.shape[1] - 2 * batch)
            self._signs, self._slope_signs, self._tail, self._signs_for = signs, signs / batch, tail, (batch, scores.shape[1])
        signed = scores[:, : 2 * batch] * self._signs
        d_loss = self.loss.phi(signed).mean(-1).mul_(2)
        score_grad = self.loss.phi_slope(signed).mul_(self._slope_signs)
        return d_loss, torch.cat([score_grad, self._tail], 1) if self._tail.shape[1] else score_grad

    def _with_penalty(self, tape, scores: torch.Tensor, score_grad: torch.Tensor, batch: int):
        rows = slice(2 * batch, None)
        slope, curvature = self._link(scores[: self.k, rows])
        # contiguous: the input layer's narrow product leaves g transposed, on which vector_norm is ~8x slower
        g = tape.input_gradient(rows, slope).flatten(2).contiguous()
        norms = torch.linalg.vector_norm(g, dim=-1)  # (k, P)
        distance = norms - self.center_column
        penalty = torch.where(self.active, distance.square().mean(-1).mul_(self.weight), self.zero)
        # ∂penalty/∂g = λ/P · 2(‖g‖ − c) · g/‖g‖ (zero where ‖g‖ = 0, as autograd's norm gives);
        # λ = 0 for members without a penalty, whose points are finite zeros: an exact zero.
        coeff = torch.where(norms > 0, distance / norms, self.zero).mul_(self._seed_scale(norms.shape[1]))
        seed = g * coeff.unsqueeze(-1)
        if self.k < self.n_members:
            penalty = torch.cat([penalty, self.no_penalty])
        return penalty, tape.backward(score_grad, seed, curvature)


def closed_form_d_step(D: StackedModule, loss, members, penalty_groups) -> ClosedFormDStep | None:
    """The closed-form D step for this ensemble, or None (autograd then) when D has no registered
    closed form, the loss is not a per-sample loss, or the penalised members' point sets differ in size."""
    if not isinstance(loss, PerSampleLoss):
        return None
    form = registered_form(D_GRADIENT_FORMS, D.members[0])
    if form is None or not form.supports(D.members[0]):
        return None
    if len({group.points_per_pair for group in penalty_groups}) > 1:
        return None
    return ClosedFormDStep(D, form, loss, members, penalty_groups)

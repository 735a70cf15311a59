"""The value surface of D on a 2-D grid, the optimal D* = p_r / (p_r + p_g) where both densities
are known, and a distance between them that the papers lack.

distance = Σ_grid |D − D*| · (p_r + p_g) / Σ_grid (p_r + p_g)

i.e. the mean absolute error of D's probability, weighted by where the data actually is: a D that
is wrong only far from both distributions (where D* is ill-determined) is not penalised for it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch


@dataclasses.dataclass
class Surface:
    xs: np.ndarray  # (R,) grid coordinates along x
    ys: np.ndarray  # (R,) along y
    d: np.ndarray  # (R, R) D's value, indexed [y, x]; a probability when the loss has one
    d_star: np.ndarray | None  # (R, R) optimal D, or None when p_g is unknown (a trained G)
    weight: np.ndarray | None  # (R, R) p_r + p_g on the grid
    real: np.ndarray  # (N, 2) real points to draw
    fake: np.ndarray  # (M, 2) fake points to draw
    quiver: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None  # X, Y, U, V of G's direction
    is_probability: bool

    def distance(self) -> float | None:
        if self.d_star is None:
            return None
        return float((np.abs(self.d - self.d_star) * self.weight).sum() / self.weight.sum())

    def grid_mae(self) -> float | None:
        return None if self.d_star is None else float(np.abs(self.d - self.d_star).mean())


def optimal_discriminator(log_p_real: torch.Tensor, log_p_fake: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_r / (p_r + p_g), computed as sigmoid(log p_r − log p_g) so tails do not underflow."""
    return torch.sigmoid(log_p_real - log_p_fake)


def _grid(lo: float, hi: float, resolution: int) -> tuple[np.ndarray, torch.Tensor]:
    axis = np.linspace(lo, hi, resolution)
    gx, gy = np.meshgrid(axis, axis)  # [y, x] indexing, as imshow/contourf expect
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    return axis, points


@torch.no_grad()
def _d_values(trainer, points: torch.Tensor) -> torch.Tensor:
    scores = trainer.D(points.to(trainer.device)).float().cpu()
    return torch.sigmoid(scores) if trainer.loss.has_probability else scores


def _quiver(trainer, lo: float, hi: float, n: int = 20):
    """−∇ₓ (G's per-point loss) on an n×n grid: the direction D pushes G's samples."""
    axis = np.linspace(lo, hi, n, endpoint=False)
    gx, gy = np.meshgrid(axis, axis)
    pts = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32, device=trainer.device)
    pts.requires_grad_(True)
    with torch.enable_grad():
        potential = trainer.loss.generator_potential(trainer.D(pts)).sum()
        (grad,) = torch.autograd.grad(potential, pts)
    direction = -grad.cpu().numpy()
    return gx, gy, direction[:, 0].reshape(gx.shape), direction[:, 1].reshape(gx.shape)


def compute_surface(trainer, lo: float, hi: float, resolution: int, n_points: int = 512) -> Surface:
    """D (and G) in eval mode: layers that behave differently in training (batch norm, spectral
    norm's power iteration) must not change the networks while they are drawn."""
    modules = [m for m in (trainer.D, trainer.G) if m is not None]
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        return _compute_surface(trainer, lo, hi, resolution, n_points)
    finally:
        for m, flag in zip(modules, was_training):
            m.train(flag)


def _compute_surface(trainer, lo: float, hi: float, resolution: int, n_points: int) -> Surface:
    axis, points = _grid(lo, hi, resolution)
    d = _d_values(trainer, points).numpy().reshape(resolution, resolution)
    real_src, fake_src = trainer.real, trainer.fake_data
    log_pr = real_src.log_density(points)
    log_pg = fake_src.log_density(points) if fake_src is not None else None
    d_star = weight = None
    if log_pr is not None and log_pg is not None:
        d_star = optimal_discriminator(log_pr, log_pg).numpy().reshape(resolution, resolution)
        weight = (log_pr.exp() + log_pg.exp()).numpy().reshape(resolution, resolution)
    real = real_src.points(n_points).cpu().numpy()
    if fake_src is not None:
        fake = fake_src.points(n_points).cpu().numpy()
        quiver = None
    else:
        z = torch.randn(n_points, trainer.G.z_dim, generator=torch.Generator().manual_seed(0)).to(trainer.device)
        with torch.no_grad():
            fake = trainer.G(z).cpu().numpy()
        quiver = _quiver(trainer, lo, hi)
    return Surface(axis, axis, d, d_star, weight, real, fake, quiver, trainer.loss.has_probability)

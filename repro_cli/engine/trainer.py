"""The training engine: one short step for every recipe, plus the loop around it.

Per iteration (GAN_stability / mimicry style):
  n_dis times: D minimises loss(D(x), D(G(z))) + penalty on a fresh real batch and fake batch
  once:        G minimises loss_G(D(G(z)))            (skipped for D-only recipes: fake_data)
"""

from __future__ import annotations

import io
import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from repro_cli import registries as R
from repro_cli.config.schema import Recipe
from repro_cli.data.base import DataContext
from repro_cli.engine.build import build, total_iterations
from repro_cli.engine.seeding import generator
from repro_cli.engine.world import SINGLE_PROCESS, World
from repro_cli.runs.checkpoint import save_best, save_checkpoint
from repro_cli.runs.rundir import Run


class Trainer:
    def __init__(self, recipe: Recipe, seed: int = 0, device: str | torch.device = "cpu", data: DataContext | None = None,
                 world: World = SINGLE_PROCESS):
        self.recipe = recipe
        self.seed = seed
        self.device = torch.device(device)
        self.data_ctx = data or DataContext()  # metrics read reference data (e.g. a test split) through it
        self.world = world
        # The recipe's batch size is the global batch. Under torchrun every rank draws the same
        # streams as a single process and trains on its shard of each draw (see world.py).
        self.batch_size = world.local_batch(recipe.train.batch_size)
        self.shard = world.shard
        parts = build(recipe, seed, self.device, data, shard=self.shard)
        self.real, self.fake_data, self.G, self.D = parts.real, parts.fake_data, parts.G, parts.D
        self.loss, self.penalty, self.opt_d, self.opt_g = parts.loss, parts.penalty, parts.opt_d, parts.opt_g
        self.noise_rng = generator(seed, "noise", self.device)
        self.penalty_rng = generator(seed, "penalty", self.device)
        self.iteration = 0
        self.elapsed = 0.0  # training seconds so far, carried across resumes
        self.best: float | None = None  # best value of train.best_metric so far
        self.divergence: dict[str, Any] | None = None
        self.total = total_iterations(recipe, self.real)
        self.metrics = [R.METRICS.get(m.name)(**m.params) for m in recipe.eval.metrics]
        # Real and fake go through D in one forward pass unless D has batch-dependent layers,
        # for which the authors' two separate passes give different results.
        self.joint_forward = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.D.modules())

    # --- sampling: n rows, this rank's shard of the global draw ----------------------------------
    def real_batch(self, n: int) -> torch.Tensor:
        return self.shard.draw(self.real.batch, n)

    def noise(self, n: int) -> torch.Tensor:
        return self.shard.draw(torch.randn, n, self.G.z_dim, generator=self.noise_rng, device=self.device)

    def sample_fake(self, n: int) -> torch.Tensor:
        """G(z), or the next batch of the fixed fake sample of a D-only recipe."""
        return self.G(self.noise(n)) if self.G is not None else self.shard.draw(self.fake_data.batch, n)

    def discriminate(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.joint_forward:
            scores = self.D(torch.cat([real, fake]))
            return scores[: real.shape[0]], scores[real.shape[0]:]
        return self.D(real), self.D(fake)

    # --- the step ------------------------------------------------------------------------------
    def step(self) -> dict[str, torch.Tensor]:
        batch = self.batch_size
        for _ in range(self.recipe.optim.n_dis):
            real = self.penalty.prepare_real(self.real_batch(batch))
            with torch.no_grad():
                fake = self.sample_fake(batch)
            d_real, d_fake = self.discriminate(real, fake)
            d_loss = self.loss.discriminator(d_real, d_fake)
            penalty = self.penalty(self.D, real, fake, d_real, self.penalty_rng)
            self.opt_d.zero_grad(set_to_none=True)
            (d_loss + penalty).backward()
            self.opt_d.step()
        stats = {"d_loss": d_loss.detach(), "penalty": penalty.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        if self.G is not None:
            self.D.requires_grad_(False)  # G's step needs no gradient for D's weights
            g_loss = self.loss.generator(self.D(self.sample_fake(batch)))
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            self.D.requires_grad_(True)
            stats["g_loss"] = g_loss.detach()
        self.iteration += 1
        return stats

    def reduce_stats(self, stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The step's statistics as logged; multi-process training averages them over ranks."""
        return stats

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, run: Run | None = None) -> list[dict[str, Any]]:
        """Run every metric of the recipe; each returns records {name, value, protocol}."""
        records = []
        was_training = [m.training for m in (self.D, self.G) if m is not None]
        for m in (self.D, self.G):
            if m is not None:
                m.eval()
        try:
            for metric in self.metrics:
                for rec in metric(self, run):
                    rec = {"type": "metric", "iteration": self.iteration, **rec}
                    rec["protocol"] = {"seed": self.seed, "checkpoint": f"iteration {self.iteration}", **rec.get("protocol", {})}
                    records.append(rec)
        finally:
            for m, flag in zip((x for x in (self.D, self.G) if x is not None), was_training):
                m.train(flag)
        return records

    # --- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything that determines the rest of the run (tensors and plain data only, so a
        checkpoint loads with `weights_only=True`)."""
        state = {
            "iteration": self.iteration,
            "config_hash": self.recipe.config_hash(),
            "seed": self.seed,
            "elapsed": self.elapsed,
            "best": self.best,
            "D": self.D.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "real": self.real.state_dict(),
            "noise_rng": self.noise_rng.get_state(),
            "penalty_rng": self.penalty_rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
            "numpy_rng": _numpy_rng_state(),
        }
        if self.G is not None:
            state.update(G=self.G.state_dict(), opt_g=self.opt_g.state_dict())
        if self.fake_data is not None:
            state["fake_data"] = self.fake_data.state_dict()
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iteration = state["iteration"]
        self.elapsed = state.get("elapsed", 0.0)
        self.best = state.get("best")
        self.D.load_state_dict(state["D"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.real.load_state_dict(state["real"])
        self.noise_rng.set_state(state["noise_rng"])
        self.penalty_rng.set_state(state["penalty_rng"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(_as_python_rng_state(state["python_rng"]))
        if "numpy_rng" in state:
            _set_numpy_rng_state(state["numpy_rng"])
        if self.G is not None:
            self.G.load_state_dict(state["G"])
            self.opt_g.load_state_dict(state["opt_g"])
        if self.fake_data is not None:
            self.fake_data.load_state_dict(state["fake_data"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])

    def checkpoint_bytes(self) -> bytes:
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        return buffer.getvalue()

    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for m in (self.D, self.G) if m is not None for p in m.parameters())

    # --- the loop ----------------------------------------------------------------------------
    def fit(self, run: Run | None = None, on_log: Callable[[dict[str, Any]], None] | None = None,
            stop: Callable[[], bool] = lambda: False) -> str:
        """Train to the end (or until `stop()` says to checkpoint and leave), logging, evaluating
        and checkpointing as the recipe says. Returns the final status: completed, preempted or
        diverged (then `self.divergence` says where; no checkpoint is written after it, so the
        newest checkpoint is the last good state)."""
        train, every = self.recipe.train, self.recipe.eval.every
        started, elapsed_before = time.perf_counter(), self.elapsed
        while self.iteration < self.total:
            stats = self.reduce_stats(self.step())
            it = self.iteration
            self.elapsed = elapsed_before + time.perf_counter() - started
            if it % train.log_every == 0 or it == self.total:
                record = {"type": "train", "iteration": it, "seconds": round(self.elapsed, 3), **{k: float(v) for k, v in stats.items()}}
                if run is not None:
                    run.log(record)
                if on_log is not None:
                    on_log(record)
            # One host sync per step: a NaN must stop the run at the step it appears, before any
            # checkpoint could save it as the newest "good" state.
            if not bool(torch.isfinite(torch.stack([v.float() for v in stats.values()])).all()):
                return self._diverged(run, {k: float(v) for k, v in stats.items()}, "loss")
            if every and it % every == 0 and it != self.total:
                self._log_eval(run)
            stopping = stop()
            if stopping or (train.checkpoint_every and it % train.checkpoint_every == 0):
                # Weights are checked where a checkpoint would be written (every rank alike, as
                # replicas hold the same weights), never saving a non-finite state.
                if not self.weights_finite():
                    return self._diverged(run, {}, "weight")
                if run is not None:
                    save_checkpoint(run, self)
            if stopping:
                return "preempted"
        self._log_eval(run)
        if not self.weights_finite():
            return self._diverged(run, {}, "weight")
        if run is not None:
            save_checkpoint(run, self)
        return "completed"

    def _log_eval(self, run: Run | None) -> None:
        records = self.evaluate(run)
        for record in records:
            if run is not None:
                run.log(record)
        if run is not None and self.recipe.train.best_metric:
            save_best(run, self, records)

    def _diverged(self, run: Run | None, values: dict[str, float], where: str) -> str:
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        what = f"non-finite {', '.join(bad)}" if bad else f"non-finite {where}s"
        self.divergence = {"iteration": self.iteration, "message": f"{what} at iteration {self.iteration}"}
        if run is not None:
            run.log({"type": "diverged", "iteration": self.iteration, "reason": self.divergence["message"], **values})
        return "diverged"


def _as_python_rng_state(state: Any) -> tuple:
    """random.setstate wants nested tuples; a state that went through a checkpoint may be lists."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def _numpy_rng_state() -> dict[str, Any]:
    """numpy's legacy global RNG state as tensors and plain data (loadable with weights_only)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)}


def _set_numpy_rng_state(state: dict[str, Any]) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached"]))

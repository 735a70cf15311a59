"""Discriminator generalisation (the 0-GP authors' overfitting plot): D's output on real images it
was trained on versus real images it never saw (the MNIST test set). A D that memorises its
training set scores the training images high and the held-out ones lower; the gap measures it.
With a run directory, the curves so far are redrawn to figures/d-generalization.png."""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from repro_cli.config.validate import Range
from repro_cli.registries import METRICS


def summarise(scores: torch.Tensor, has_probability: bool) -> dict[str, float]:
    """Mean D output (probability if the loss has a sigmoid link, else the raw score), the fraction
    judged real (D > 0.5, i.e. logit > 0) and, with a sigmoid link, the mean BCE against 'real'."""
    out = {"accuracy": float((scores > 0).float().mean())}
    if has_probability:
        out["mean"] = float(torch.sigmoid(scores).mean())
        out["bce"] = float(F.softplus(-scores).mean())
    else:
        out["mean"] = float(scores.mean())
    return out


class DGeneralization:
    def __init__(self, n_samples: int):
        self.n_samples = n_samples

    @torch.no_grad()
    def __call__(self, trainer, run) -> list[dict]:
        source = trainer.real
        if not hasattr(source, "heldout_points"):
            return []
        has_probability = getattr(trainer.loss, "has_probability", False)
        train = summarise(trainer.D(source.train_points(self.n_samples)), has_probability)
        heldout = summarise(trainer.D(source.heldout_points(self.n_samples)), has_probability)
        n = min(self.n_samples, source.size)
        protocol = {"n_samples": n, "train_reference": f"first {n} of the {source.size} training images",
                    "heldout_reference": "test split", "output": "sigmoid(D)" if has_probability else "raw D score"}
        records = [{"name": f"d_{split}_{key}", "value": value, "protocol": protocol}
                   for split, stats in (("train", train), ("heldout", heldout)) for key, value in stats.items()]
        records.append({"name": "d_generalization_gap", "value": train["mean"] - heldout["mean"],
                        "protocol": {**protocol, "definition": "mean D(train) - mean D(held-out)"}})
        if run is not None and has_probability:
            self.plot(trainer, run, records)
        return records

    @staticmethod
    def plot(trainer, run, records: list[dict]) -> None:
        """Redraw the curves from every earlier evaluation in the run's log plus this one."""
        from repro_cli.plots.d_generalization import overfitting_frame, plot_overfitting

        earlier = [r for r in run.records() if r.get("type") == "metric" and r.get("iteration") != trainer.iteration]
        frame = overfitting_frame(earlier + [{**r, "iteration": trainer.iteration} for r in records])
        title = f"{trainer.recipe.name}: D on {records[0]['protocol']['n_samples']} training vs test images"
        plot_overfitting(frame, title, run.figure_dir / "d-generalization.png")


@METRICS.register("d-generalization")
def d_generalization(*, n_samples: Annotated[int, Range(ge=1, le=1_000_000)] = 2000) -> DGeneralization:
    return DGeneralization(n_samples)

"""GPU speed switches for `repro train`: bf16 autocast, TF32 matmuls, channels_last, torch.compile.

All off by default. They change numerics (bf16, TF32) or only pay off on CUDA, so on any other device
they are ignored with a one-line note, and CPU runs stay exactly reproducible. They are run settings
(recorded in run.json), not recipe settings: they do not change the config hash.
"""

from __future__ import annotations

import dataclasses
import functools

import torch


@dataclasses.dataclass(frozen=True)
class Accel:
    bf16: bool = False
    tf32: bool = False
    channels_last: bool = False
    compile: bool = False

    @property
    def requested(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name)]


NO_ACCEL = Accel()


def apply(trainer, accel: Accel) -> list[str]:
    """Switch on the requested speed-ups the trainer's device supports; returns one-line notes
    about what was ignored or limited."""
    if not accel.requested:
        return []
    if trainer.device.type != "cuda":
        return [f"{', '.join(accel.requested)}: CUDA-only speed switches, ignored on {trainer.device.type}"]
    notes = []
    nets = [m for m in (trainer.D, trainer.G) if m is not None]
    if accel.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if accel.channels_last:
        for net in nets:
            net.to(memory_format=torch.channels_last)  # affects 4-D (conv) weights only
    if accel.compile:
        # Module.compile() compiles in place, so state_dict keys (and checkpoints) stay the same.
        if trainer.G is not None:
            trainer.G.compile()
        if trainer.recipe.penalty.weight == 0:
            trainer.D.compile()
        else:
            notes.append("compile: D left uncompiled (its gradient penalty needs double backward, which torch.compile does not support)")
    if accel.bf16:
        trainer.step = _under_bf16_autocast(trainer.step)
    return notes


def _under_bf16_autocast(step):
    """The whole step under autocast: forward passes run in bf16 where safe; gradients reach the
    float32 weights, so no loss scaling is needed (unlike fp16)."""

    @functools.wraps(step)
    def wrapped():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return step()

    return wrapped

"""GPU speed switches for `repro train`: bf16 autocast, TF32 matmuls, channels_last, torch.compile.

All off by default; a recipe's [speed] table turns them on (`config.schema.SpeedSpec`) and the
`repro train --bf16/--tf32/--channels-last/--compile` flags are shorthand for `--set speed.X=true`.
They change numerics (bf16, TF32) or only pay off on CUDA, so on any other device they are ignored
with a one-line note, and CPU runs stay exactly reproducible.
"""

from __future__ import annotations

import functools

import torch


def apply(trainer) -> list[str]:
    """Switch on the speed-ups the trainer's recipe requests and its device supports; returns
    one-line notes about what was ignored or limited."""
    accel = trainer.recipe.speed
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

"""What the BSSN paper analyses to explain exploding and vanishing gradients, as metric records:

  layer_sigma (σ1, σ2)        the normalisation's current σ estimate of each normalised layer
  layer_weight_spectral_norm  the exact largest singular value of each effective (normalised) weight,
                              reshaped to (c_out, c_in·k²); 1 under SN, c under SSN
  layer_grad_norm, grad_norm_total
                              ‖∂L_D/∂θ‖ for each of D's parameters (the raw, unnormalised ones the
                              optimiser updates) and over all of them
  grad_x_norm_{real,fake}_{mean,min,max}
                              ‖∇ₓD(x)‖ per sample (the authors' "slopes")
  d_real_mean, d_fake_mean    D's mean output on each

Per-layer values are one record each, with a {layer: value} mapping as the value. Everything is
computed on fixed inputs (the first n training images, G(z) with noise seed 0) with D and G in eval
mode, so neither the training data stream, the RNG streams nor the power-iteration vectors move.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn.utils import parametrize

from repro_cli.config.validate import Range
from repro_cli.engine.penalties import input_gradient_norm
from repro_cli.normalizations.layers import NORMALIZED_LAYERS, normalized_layers
from repro_cli.registries import METRICS


def _layer_name(param_name: str) -> str:
    """'features.0.parametrizations.weight.original' -> 'features.0.weight'."""
    return param_name.replace("parametrizations.", "").replace(".original", "")


def weight_spectral_norms(D: nn.Module) -> dict[str, float]:
    out = {}
    with torch.no_grad(), parametrize.cached():
        for name, module in D.named_modules():
            if isinstance(module, NORMALIZED_LAYERS):
                out[name] = float(torch.linalg.matrix_norm(module.weight.flatten(1).float(), ord=2))
    return out


class SNDiagnostics:
    def __init__(self, n_samples: int):
        self.n_samples = n_samples

    def __call__(self, trainer, run) -> list[dict]:
        D, n = trainer.D, self.n_samples
        real = trainer.real.points(n).to(trainer.device).detach().requires_grad_(True)
        if trainer.G is not None:
            z = torch.randn(n, trainer.G.z_dim, generator=torch.Generator().manual_seed(0)).to(trainer.device)
            with torch.no_grad():
                fake = trainer.G(z)
        else:
            fake = trainer.fake_data.points(n).to(trainer.device)
        fake = fake.detach().requires_grad_(True)
        d_real, d_fake = D(real), D(fake)
        params = [(name, p) for name, p in D.named_parameters() if p.requires_grad]
        grads = torch.autograd.grad(trainer.loss.discriminator(d_real, d_fake), [p for _, p in params], retain_graph=True)
        slopes = {"real": input_gradient_norm(d_real, real, False), "fake": input_gradient_norm(d_fake, fake, False)}

        protocol = {"n_real": real.shape[0], "n_fake": fake.shape[0], "real": f"first {real.shape[0]} training samples",
                    "noise_seed": 0, "mode": "D, G in eval mode (no power-iteration step)", "loss": trainer.recipe.loss.name}
        records = [{"name": "d_real_mean", "value": float(d_real.detach().mean())}, {"name": "d_fake_mean", "value": float(d_fake.detach().mean())}]
        for which, norms in slopes.items():
            for stat in ("mean", "min", "max"):
                records.append({"name": f"grad_x_norm_{which}_{stat}", "value": float(getattr(norms, stat)())})
        layer_grads = {_layer_name(name): float(g.norm()) for (name, _), g in zip(params, grads)}
        records.append({"name": "grad_norm_total", "value": float(torch.stack([g.norm() for g in grads]).norm())})
        records.append({"name": "layer_grad_norm", "value": layer_grads})
        records.append({"name": "layer_weight_spectral_norm", "value": weight_spectral_norms(D)})
        sigmas: dict[str, dict[str, float]] = {}
        for layer, p in normalized_layers(D):
            for key, value in p.last_sigmas.items():
                sigmas.setdefault(f"layer_{key}", {})[layer] = float(value)
        records += [{"name": name, "value": values} for name, values in sigmas.items()]
        for rec in records:
            rec["protocol"] = protocol
        return records


@METRICS.register("sn-diagnostics")
def sn_diagnostics(*, n_samples: Annotated[int, Range(ge=1, le=100_000)] = 64) -> SNDiagnostics:
    """Per-layer σ and gradient norms of D, ‖∇ₓD‖ and D's outputs on real and fake samples."""
    return SNDiagnostics(n_samples)

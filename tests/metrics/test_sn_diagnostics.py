import types

import pytest
import torch
from torch import nn

from repro_cli.data.base import TensorSource
from repro_cli.engine.losses import Hinge
from repro_cli.registries import METRICS, NORMALIZATIONS


class TinyD(nn.Module):
    in_shape = (1, 4, 4)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 16, 1)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1)).squeeze(1)


class TinyG(nn.Module):
    z_dim = 2

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 16)

    def forward(self, z):
        return self.fc(z).view(-1, 1, 4, 4)


def fake_trainer(normalization):
    torch.manual_seed(0)
    D = NORMALIZATIONS.get(normalization)()(TinyD())
    real = TensorSource(torch.randn(10, 1, 4, 4), "cpu", 0)
    recipe = types.SimpleNamespace(loss=types.SimpleNamespace(name="hinge"))
    return types.SimpleNamespace(D=D.eval(), G=TinyG().eval(), real=real, fake_data=None, loss=Hinge(), device=torch.device("cpu"), recipe=recipe)


def test_values_match_a_direct_computation_and_nothing_moves():
    trainer = fake_trainer("bsn")
    u_before = trainer.D.conv.parametrizations.weight[0].u0.clone()
    records = {r["name"]: r for r in METRICS.get("sn-diagnostics")(n_samples=6)(trainer, None)}

    real = trainer.real.points(6).requires_grad_(True)
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    fake = trainer.G(z).detach().requires_grad_(True)
    d_real, d_fake = trainer.D(real), trainer.D(fake)
    (g_real,) = torch.autograd.grad(d_real.sum(), real, retain_graph=True)
    slopes = g_real.flatten(1).norm(dim=1)
    assert records["grad_x_norm_real_max"]["value"] == pytest.approx(float(slopes.max()), rel=1e-5)
    assert records["grad_x_norm_real_min"]["value"] == pytest.approx(float(slopes.min()), rel=1e-5)
    assert records["d_fake_mean"]["value"] == pytest.approx(float(d_fake.detach().mean()), rel=1e-5)
    loss = Hinge().discriminator(d_real, d_fake)
    (g_conv,) = torch.autograd.grad(loss, trainer.D.conv.parametrizations.weight.original)
    assert records["layer_grad_norm"]["value"]["conv.weight"] == pytest.approx(float(g_conv.norm()), rel=1e-5)
    assert set(records["layer_sigma1"]["value"]) == {"conv"}  # only the conv has two views
    assert records["layer_weight_spectral_norm"]["value"]["fc"] == pytest.approx(1.0, abs=1e-3)
    assert records["layer_weight_spectral_norm"]["protocol"]["n_real"] == 6
    assert torch.equal(trainer.D.conv.parametrizations.weight[0].u0, u_before)
    assert trainer.real.position == 0  # the training stream was not consumed


def test_without_normalisation_reports_raw_spectral_norms_and_no_sigma():
    trainer = fake_trainer("none")
    records = {r["name"]: r for r in METRICS.get("sn-diagnostics")(n_samples=4)(trainer, None)}
    assert "layer_sigma" not in records
    expected = float(torch.linalg.matrix_norm(trainer.D.conv.weight.detach().flatten(1), ord=2))
    assert records["layer_weight_spectral_norm"]["value"]["conv"] == pytest.approx(expected, rel=1e-5)

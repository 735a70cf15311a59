import pytest
import torch
from torch import nn

from repro_cli.registries import NORMALIZATIONS


def operator_norm(conv: nn.Conv2d, hw: tuple[int, int]) -> float:
    """Largest singular value of the convolution as a dense matrix on c_in×H×W inputs."""
    n = conv.in_channels * hw[0] * hw[1]
    basis = torch.eye(n).view(n, conv.in_channels, *hw)
    with torch.no_grad():
        columns = torch.nn.functional.conv2d(basis, conv.weight, None, conv.stride, conv.padding).flatten(1)
    return float(torch.linalg.matrix_norm(columns, ord=2))


class TwoConvs(nn.Module):
    in_shape = (2, 6, 6)

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 4, stride=2, padding=1)
        self.fc = nn.Linear(4 * 3 * 3, 1)

    def forward(self, x):
        return self.fc(self.b(self.a(x)).flatten(1))


def test_strict_sn_normalises_the_operator_norm_at_each_layers_input_size():
    torch.manual_seed(0)
    model = TwoConvs()
    NORMALIZATIONS.get("strict-sn")()(model)
    model.train()
    with torch.no_grad():
        for _ in range(300):
            model(torch.randn(1, 2, 6, 6))
    assert operator_norm(model.a, (6, 6)) == pytest.approx(1.0, abs=2e-3)
    assert operator_norm(model.b, (6, 6)) == pytest.approx(1.0, abs=2e-3)  # b sees a's 6×6 output
    assert float(torch.linalg.matrix_norm(model.fc.weight.detach(), ord=2)) == pytest.approx(1.0, abs=1e-3)


def test_strict_sn_is_stricter_than_sn_on_a_3x3_conv():
    """SN_w bounds σ of the reshaped kernel; the conv's operator norm can exceed it (up to ≈k)."""
    torch.manual_seed(0)
    model = TwoConvs()
    NORMALIZATIONS.get("sn")()(model)
    with torch.no_grad():
        for _ in range(50):
            model(torch.randn(1, 2, 6, 6))
    assert operator_norm(model.a, (6, 6)) > 1.2


def test_strict_sn_needs_the_models_input_shape():
    from repro_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="in_shape"):
        NORMALIZATIONS.get("strict-sn")()(nn.Sequential(nn.Conv2d(1, 1, 3)))

import io

import pytest
import torch
from torch import nn

from repro_cli.normalizations.layers import normalized_layers
from repro_cli.registries import NORMALIZATIONS


def sigma_max(matrix: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(matrix.detach(), ord=2))


def settle(model: nn.Module, x: torch.Tensor, steps: int = 60) -> None:
    """Training-mode forwards advance the persistent power-iteration vectors (the authors' variant
    only when the weight changed, as after an optimiser step: here by a factor that σ divides out)."""
    model.train()
    originals = [p for n, p in model.named_parameters() if n.endswith("original")]
    with torch.no_grad():
        for step in range(steps):
            for w in originals:
                w.mul_(1.001 if step % 2 else 1 / 1.001)
            model(x)


@pytest.mark.parametrize("variant", ["pytorch", "bssn-authors"])
def test_sn_gives_the_reshaped_kernel_unit_spectral_norm(variant):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1)
    NORMALIZATIONS.get("sn")(variant=variant)(conv)
    settle(conv, torch.randn(2, 3, 6, 6))
    assert sigma_max(conv.weight.flatten(1)) == pytest.approx(1.0, abs=1e-3)
    raw = conv.parametrizations.weight.original
    assert float(conv.parametrizations.weight[0].last_sigmas["sigma"]) == pytest.approx(sigma_max(raw.flatten(1)), rel=1e-3)


def test_sn_matches_torch_parametrizations_spectral_norm_step_by_step():
    torch.manual_seed(0)
    ours, theirs = nn.Conv2d(4, 6, 3), nn.Conv2d(4, 6, 3)
    theirs.load_state_dict(ours.state_dict())
    NORMALIZATIONS.get("sn")()(ours)
    nn.utils.parametrizations.spectral_norm(theirs)
    p = ours.parametrizations.weight[0]
    p.u0.copy_(theirs.parametrizations.weight[0]._u)
    p.v0.copy_(theirs.parametrizations.weight[0]._v)
    x = torch.randn(2, 4, 5, 5)
    for _ in range(3):
        assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    # and the gradient (u, v constants in both)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    assert torch.allclose(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad, atol=1e-5)


def test_bssn_authors_variant_differentiates_through_the_power_step():
    """Authors: v = n(Wᵀu), u' = n(Wv), σ = u'ᵀWv with gradient through v and u'; PyTorch: u, v constants."""
    grads = {}
    for variant in ("pytorch", "bssn-authors"):
        torch.manual_seed(1)
        layer = nn.Linear(4, 3, bias=False)
        NORMALIZATIONS.get("sn")(variant=variant)(layer)
        p = layer.parametrizations.weight[0]
        W = layer.parametrizations.weight.original.detach().clone().requires_grad_(True)
        stored_u = p.u0.clone()
        layer.eval()  # no buffer update, so the stored u is what the forward used
        layer.weight.sum().backward()
        grads[variant] = layer.parametrizations.weight.original.grad
        if variant == "bssn-authors":
            v = torch.nn.functional.normalize(W.T @ stored_u, dim=0)
            u = torch.nn.functional.normalize(W @ v, dim=0)
        else:
            u, v = p.u0.clone(), p.v0.clone()
        (W / (u @ W @ v)).sum().backward()
        assert torch.allclose(grads[variant], W.grad, atol=1e-6)
    assert not torch.allclose(grads["pytorch"], grads["bssn-authors"], atol=1e-3)


def test_bsn_divides_by_the_mean_of_the_fan_in_and_fan_out_norms_on_a_non_square_layer():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3)
    raw = conv.weight.detach().clone()
    NORMALIZATIONS.get("bsn")()(conv)
    settle(conv, torch.randn(1, 3, 5, 5))
    s1, s2 = sigma_max(raw.flatten(1)), sigma_max(raw.transpose(0, 1).flatten(1))
    assert abs(s1 - s2) > 0.1  # the two reshapings really differ here
    assert torch.allclose(conv.weight, raw / ((s1 + s2) / 2), atol=1e-4)
    sig = conv.parametrizations.weight[0].last_sigmas
    assert float(sig["sigma1"]) == pytest.approx(s1, rel=1e-3) and float(sig["sigma2"]) == pytest.approx(s2, rel=1e-3)


def test_bsn_on_a_dense_layer_is_sn():
    torch.manual_seed(0)
    a, b = nn.Linear(7, 3), nn.Linear(7, 3)
    b.load_state_dict(a.state_dict())
    NORMALIZATIONS.get("bsn")()(a)
    NORMALIZATIONS.get("sn")()(b)
    settle(a, torch.randn(1, 7))
    settle(b, torch.randn(1, 7))
    assert torch.allclose(a.weight, b.weight, atol=1e-5)
    assert len(a.parametrizations.weight[0].views) == 1


@pytest.mark.parametrize("scaled, unscaled", [("ssn", "sn"), ("bssn", "bsn")])
def test_scaling_multiplies_a_bias_free_piecewise_linear_d_by_c_to_the_depth(scaled, unscaled):
    c, depth = 1.4, 3

    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.LeakyReLU(0.1), nn.Conv2d(4, 6, 3, stride=2, bias=False),
                             nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, 1, bias=False))

    a = NORMALIZATIONS.get(scaled)(c=c)(net())
    b = NORMALIZATIONS.get(unscaled)()(net())
    x = torch.randn(3, 3, 8, 8)
    settle(a, x)
    settle(b, x)
    a.eval(), b.eval()
    assert torch.allclose(a(x), b(x) * c**depth, rtol=1e-4, atol=1e-6)


def test_scale_leaves_the_bias_alone():
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    NORMALIZATIONS.get("ssn")(c=2.0)(layer)
    settle(layer, torch.randn(1, 3))
    layer.eval()
    assert torch.allclose(layer(torch.zeros(1, 3)), layer.bias.detach().unsqueeze(0))
    assert sigma_max(layer.weight) == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("name", ["sn", "ssn", "bsn", "bssn"])
def test_state_dict_round_trip_keeps_the_power_iteration_vectors(name):
    def make():
        torch.manual_seed(0)
        return NORMALIZATIONS.get(name)()(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 1)))

    a = make()
    settle(a, torch.randn(2, 3, 6, 6), 5)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    b = make()
    b.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(a(x), b(x))  # training-mode forward: same u, v in, same step taken


@pytest.mark.parametrize("name", ["sn", "bssn", "strict-sn"])
def test_gradient_penalty_double_backward_through_the_parametrization(name):
    torch.manual_seed(0)
    from repro_cli.models.sngan_cnn import sngan_cnn_discriminator

    D = NORMALIZATIONS.get(name)()(sngan_cnn_discriminator(in_shape=(3, 32, 32)))
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    grad.square().sum().backward()
    weights = [p for n, p in D.named_parameters() if n.endswith("original")]
    assert len(weights) == 8 and all(w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0 for w in weights)


def test_normalized_layers_lists_every_conv_and_the_linear_layer():
    from repro_cli.models.sngan_cnn import sngan_cnn_discriminator

    D = NORMALIZATIONS.get("bsn")()(sngan_cnn_discriminator(in_shape=(3, 32, 32)))
    D(torch.randn(1, 3, 32, 32))
    layers = list(normalized_layers(D))
    assert len(layers) == 8
    assert sum("sigma2" in p.last_sigmas for _, p in layers) == 7  # convs have two views, the linear one


def test_bssn_authors_variant_advances_u_once_per_optimiser_step():
    from repro_cli.registries import OPTIMIZERS

    torch.manual_seed(0)
    layer = nn.Linear(5, 4)
    NORMALIZATIONS.get("bssn")(variant="bssn-authors")(layer)
    p = layer.parametrizations.weight[0]
    opt = OPTIMIZERS.get("adam")(layer.parameters(), lr=0.1, betas=(0.5, 0.999))
    x = torch.randn(3, 5)
    u0 = p.u0.clone()
    layer(x), layer(x)
    assert torch.equal(p.u0, u0)  # no update of W yet: u stays
    loss = layer(x).square().sum()
    loss.backward()  # in training mode, with the graph through the stored u
    opt.step()
    W = layer.parametrizations.weight.original.detach()
    layer(x)  # first forward on the updated W: one power step
    expected = torch.nn.functional.normalize(W @ torch.nn.functional.normalize(W.T @ u0, dim=0), dim=0)
    assert torch.allclose(p.u0, expected, atol=1e-6)
    layer(x)  # e.g. the penalty's or G's forward on the same W: no further step
    assert torch.allclose(p.u0, expected, atol=1e-6)

"""The MLPs' batched forms compute, for each member's slice of stacked weights, that member's net."""

from __future__ import annotations

import pytest
import torch
from torch.func import stack_module_state

from repro_cli import registries as R
from repro_cli.engine.batched import StackedModule, registered_form


@pytest.mark.parametrize("name,kwargs,shape", [
    ("mlp-discriminator", {"in_shape": (2,), "hidden": 16, "layers": 2, "activation": "tanh"}, (2,)),
    ("mlp-discriminator", {"in_shape": (1, 3, 3), "hidden": 8, "layers": 3, "activation": "lrelu"}, (1, 3, 3)),
    ("mlp-generator", {"out_shape": (1, 2, 2), "z_dim": 3, "hidden": 8, "layers": 2, "activation": "relu", "output": "tanh"}, (3,)),
])
def test_batched_form_matches_each_member(name, kwargs, shape):
    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        members.append(R.MODELS.get(name)(**kwargs))
    assert registered_form(R.BATCHED_FORMS, members[0]) is R.BATCHED_FORMS.get(name)
    x = torch.randn(3, 5, *shape)
    stacked = StackedModule(members)
    out = stacked(x)
    for i, m in enumerate(members):
        torch.testing.assert_close(out[i], m(x[i]), rtol=1e-6, atol=1e-6)
    # A subset of members (the ensemble's penalised members) uses those members' weights.
    subset = stacked(x[[2, 0]], torch.tensor([2, 0]))
    torch.testing.assert_close(subset[0], members[2](x[2]), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(subset[1], members[0](x[0]), rtol=1e-6, atol=1e-6)


def test_parametrised_model_has_no_batched_form():
    model = R.MODELS.get("mlp-discriminator")(in_shape=(2,), hidden=4, layers=1)
    torch.nn.utils.parametrizations.weight_norm(model.net[0])
    assert registered_form(R.BATCHED_FORMS, model) is None
    assert stack_module_state([model])  # still stackable; vmap(functional_call) runs it

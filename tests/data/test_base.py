"""TensorSource: batches in a fresh random order each epoch; k batches at once equal k single batches."""

from __future__ import annotations

import pytest
import torch

from repro_cli.data.base import TensorSource


def _source(size: int = 10) -> TensorSource:
    return TensorSource(torch.arange(size, dtype=torch.float32)[:, None], torch.device("cpu"), seed=5)


# (batches taken before, batches taken at once, position and epoch after): 7 batches of 3 from 10
# samples cross two epoch boundaries (the partial last batch is dropped); 20 and 21 batches also
# take several whole epochs at once (6 or 7 epochs of 3 batches, ending at an epoch's end or not).
@pytest.mark.parametrize("before,k,after", [(1, 7, (6, 2)), (1, 20, (9, 6)), (3, 21, (9, 7)), (2, 21, (6, 7))])
def test_take_indices_equals_single_batches_and_leaves_the_same_state(before, k, after):
    one_by_one, at_once = _source(), _source()
    for _ in range(before):
        at_once.batch(3)
        one_by_one.batch(3)
    singles = torch.stack([one_by_one.batch(3)[:, 0].long() for _ in range(k)])
    assert torch.equal(at_once.take_indices(3, k), singles)
    state, expected = at_once.state_dict(), one_by_one.state_dict()
    assert (state["position"], state["epoch"]) == (expected["position"], expected["epoch"]) == after
    assert torch.equal(state["order"], expected["order"]) and torch.equal(state["rng"], expected["rng"])
    assert torch.equal(at_once.batch(3), one_by_one.batch(3))


def test_each_epoch_visits_every_sample_once():
    source = _source(12)
    epoch = source.take_indices(4, 3)  # the first epoch's order
    assert sorted(epoch.flatten().tolist()) == list(range(12))

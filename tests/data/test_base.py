"""TensorSource: batches in a fresh random order each epoch; k batches at once equal k single batches."""

from __future__ import annotations

import torch

from repro_cli.data.base import TensorSource


def _source(size: int = 10) -> TensorSource:
    return TensorSource(torch.arange(size, dtype=torch.float32)[:, None], torch.device("cpu"), seed=5)


def test_take_indices_equals_single_batches_and_leaves_the_same_state():
    one_by_one, at_once = _source(), _source()
    at_once.batch(3)
    one_by_one.batch(3)
    # 7 batches of 3 from 10 samples cross two epoch boundaries (the partial last batch is dropped).
    singles = torch.stack([one_by_one.batch(3)[:, 0].long() for _ in range(7)])
    assert torch.equal(at_once.take_indices(3, 7), singles)
    state, expected = at_once.state_dict(), one_by_one.state_dict()
    assert (state["position"], state["epoch"]) == (expected["position"], expected["epoch"]) == (6, 2)
    assert torch.equal(state["order"], expected["order"]) and torch.equal(state["rng"], expected["rng"])
    assert torch.equal(at_once.batch(3), one_by_one.batch(3))


def test_each_epoch_visits_every_sample_once():
    source = _source(12)
    epoch = source.take_indices(4, 3)  # the first epoch's order
    assert sorted(epoch.flatten().tolist()) == list(range(12))

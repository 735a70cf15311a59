"""Drawing k steps ahead must give exactly the numbers of k single steps (the ensemble relies on it)."""

from __future__ import annotations

import pytest
import torch

from repro_cli import registries as R


def _rowwise_point_sets() -> list[str]:
    return [name for name in R.PENALTY_POINTS.names() if getattr(R.PENALTY_POINTS.get(name), "rowwise", False)]


def test_the_row_wise_point_sets_are_the_one_point_per_pair_sets():
    assert _rowwise_point_sets() == ["fake", "interpolates", "real"]  # real+fake is not: it concatenates


@pytest.mark.parametrize("name", _rowwise_point_sets())
@pytest.mark.parametrize("n,k", [(20, 7), (3, 50), (1, 5)])
def test_rowwise_points_of_k_batches_equal_k_single_batches(name, n, k):
    make = R.PENALTY_POINTS.get(name)
    real, fake = torch.randn(k, n, 2), torch.randn(k, n, 2)
    single_rng, chunk_rng = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    singles = torch.stack([make(real[t], fake[t], single_rng) for t in range(k)])
    chunk = make(real.flatten(0, 1), fake.flatten(0, 1), chunk_rng).view(k, n, 2)
    assert torch.equal(chunk, singles)
    assert torch.equal(chunk_rng.get_state(), single_rng.get_state())


def test_normal_draws_do_not_chunk_exactly():
    # Why a generator's noise is never drawn ahead: torch.randn's CPU kernel depends on the size.
    one, many = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    singles = torch.cat([torch.randn(20, 2, generator=one) for _ in range(5)])
    assert not torch.equal(torch.randn(100, 2, generator=many), singles)

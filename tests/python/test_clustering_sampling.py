"""Tests of the seeded, capped fit sample."""

from __future__ import annotations

import numpy as np

from segmentation.clustering import sample_indices


def test_sample_is_deterministic_sorted_and_capped() -> None:
    first = sample_indices(100_000, 5_000, seed=7)
    again = sample_indices(100_000, 5_000, seed=7)
    other = sample_indices(100_000, 5_000, seed=8)
    assert first.dtype == np.int64
    assert len(first) == 5_000 and len(np.unique(first)) == 5_000
    assert np.all(np.diff(first) > 0)
    assert first.min() >= 0 and first.max() < 100_000
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_sample_takes_every_row_below_the_cap() -> None:
    np.testing.assert_array_equal(sample_indices(10, 200_000, seed=1), np.arange(10))
    assert len(sample_indices(0, 5, seed=1)) == 0

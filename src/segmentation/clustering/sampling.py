"""Seeded, capped sampling of rows for the fit, so that fit cost stops growing with customers."""

from __future__ import annotations

import numpy as np


def sample_indices(n_rows: int, cap: int, seed: int) -> np.ndarray:
    """Row positions of a seeded simple random sample (without replacement) of at most ``cap``.

    Deterministic for a given ``(n_rows, cap, seed)``; the positions are sorted so the sample
    keeps the input order. When ``n_rows <= cap`` every row is used. The caller must give
    the rows in a deterministic order (the pipeline sorts by ``customer_id``), because the
    sample is defined by position.

    Returns:
        Sorted int64 array of row positions.
    """
    if n_rows < 0:
        raise ValueError(f"n_rows must be >= 0, got {n_rows}")
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if n_rows <= cap:
        return np.arange(n_rows, dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n_rows, size=cap, replace=False)
    return np.sort(chosen).astype(np.int64)

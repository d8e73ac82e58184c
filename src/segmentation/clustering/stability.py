"""Cluster stability by bootstrap, in the manner of Hennig's ``clusterboot`` (R package fpc).

For each of B seeded bootstrap resamples (n rows drawn with replacement):

1. refit KMeans with the same k on the resample;
2. on the DISTINCT points of the resample, compare each original cluster C (its points that
   are in the resample) with each bootstrap cluster D by the Jaccard coefficient
   ``|C n D| / |C u D|`` and keep the best match ``max_D``;
3. also compute the adjusted Rand index between the original labels and the bootstrap
   model's labels on those points.

The per-cluster Jaccard values are averaged over the resamples (clusters absent from a
resample are skipped for it). Hennig's guidance: mean Jaccard >= 0.85 highly stable,
>= 0.75 stable, >= 0.6 doubtful (a pattern, but not a reliable one), below that unstable.

Cost control: at most ``max_rows`` rows (a seeded subsample of the fit sample) are used, and
the refits use a small ``n_init`` (default 4) since they only need to be good, not best.
A small n_init can slightly understate stability when KMeans lands in a poor local optimum;
that is accepted as part of what "unstable" means in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

from segmentation.clustering.fit import make_kmeans
from segmentation.clustering.sampling import sample_indices

STABILITY_N_INIT = 4
STABILITY_MAX_ROWS = 20_000


@dataclass(frozen=True)
class StabilityResult:
    """Mean Jaccard per original cluster label (array indexed by label 0..k-1), the mean ARI
    over resamples, the number of resamples and of rows used."""

    mean_jaccard: np.ndarray
    mean_ari: float
    bootstrap_resamples: int
    rows_used: int


def verdict(mean_jaccard: float) -> str:
    """Hennig's verdict for a mean Jaccard value."""
    if np.isnan(mean_jaccard):
        return "unknown"
    if mean_jaccard >= 0.85:
        return "highly stable"
    if mean_jaccard >= 0.75:
        return "stable"
    if mean_jaccard >= 0.6:
        return "doubtful"
    return "unstable"


def _jaccard_best(original: np.ndarray, boot: np.ndarray, k: int) -> np.ndarray:
    """For each original label 0..k-1, the best Jaccard with any bootstrap cluster (NaN for an
    original label without points here)."""
    present, original_codes = np.unique(original, return_inverse=True)
    table = contingency_matrix(original_codes, boot).astype(np.float64)  # C x D
    sizes_c = table.sum(axis=1, keepdims=True)
    sizes_d = table.sum(axis=0, keepdims=True)
    jaccard = table / (sizes_c + sizes_d - table)
    best = np.full(k, np.nan)
    best[present] = jaccard.max(axis=1)
    return best


def bootstrap_stability(
    X: np.ndarray,
    labels: np.ndarray,
    k: int,
    bootstrap: int = 30,
    seed: int = 42,
    n_init: int = STABILITY_N_INIT,
    max_rows: int = STABILITY_MAX_ROWS,
) -> StabilityResult:
    """Bootstrap stability of the clustering ``labels`` (0..k-1) of the standardised ``X``.

    Args:
        X: standardised fit sample (rows x features).
        labels: the original clustering of ``X``, integer labels 0..k-1.
        k: number of clusters to refit on each resample.
        bootstrap: number of resamples B (>= 1).
        seed: seeds the row cap, the resamples and the refits.
        n_init: KMeans starts per refit (small, see the module docstring).
        max_rows: cap on the rows used (a seeded subsample of ``X``).
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if bootstrap < 1:
        raise ValueError(f"bootstrap must be >= 1, got {bootstrap}")
    if X.shape[0] != labels.shape[0]:
        raise ValueError("X and labels must have the same number of rows")
    keep = sample_indices(X.shape[0], max_rows, seed)
    X, labels = X[keep], labels[keep]
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    jaccards = np.full((bootstrap, k), np.nan)
    aris = np.empty(bootstrap)
    for b in range(bootstrap):
        draw = rng.integers(0, n, size=n)
        distinct = np.unique(draw)
        k_boot = min(k, distinct.size)
        model = make_kmeans(k_boot, seed + 1 + b, n_init).fit(X[draw])
        boot_labels = model.predict(X[distinct])
        jaccards[b] = _jaccard_best(labels[distinct], boot_labels, k)
        aris[b] = adjusted_rand_score(labels[distinct], boot_labels)
    with np.errstate(all="ignore"):
        counts = (~np.isnan(jaccards)).sum(axis=0)
        mean_jaccard = np.where(
            counts > 0, np.nansum(jaccards, axis=0) / np.maximum(counts, 1), np.nan
        )
    return StabilityResult(
        mean_jaccard=mean_jaccard.astype(np.float64),
        mean_ari=float(np.mean(aris)),
        bootstrap_resamples=int(bootstrap),
        rows_used=int(n),
    )

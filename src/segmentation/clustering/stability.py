"""Cluster stability by bootstrap, as Hennig's ``clusterboot`` (R package fpc) does it.

For each of B seeded bootstrap resamples (n rows drawn with replacement):

1. keep the DISTINCT points of the resample (fpc's default ``multipleboot = FALSE``: a point
   drawn several times is used once) and refit KMeans with the same k on them;
2. compare each original cluster C (its points among them) with each bootstrap cluster D by
   the Jaccard coefficient ``|C n D| / |C u D|`` and keep the best match ``max_D``; a cluster
   with no point in the resample has nothing to match and counts as dissolved (Jaccard 0);
3. also compute the adjusted Rand index between the original labels and the refit's labels.

The per-cluster Jaccard values are averaged over all B resamples, and a cluster is counted
as dissolved in a resample when its best Jaccard is at most ``DISSOLUTION`` (fpc's default
0.5). Hennig's guidance (2007, and fpc's documentation): mean Jaccard >= 0.85 highly stable,
>= 0.75 stable, >= 0.6 doubtful (a pattern, but not a reliable one), below that unstable.

Cost control: at most ``max_rows`` rows (a seeded subsample of the fit sample) are used, and
the refits use a small ``n_init`` (default 4) since they only need to be good, not best.
A small n_init can slightly understate stability when KMeans lands in a poor local optimum;
that is accepted as part of what "unstable" means in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation.clustering.fit import make_kmeans
from segmentation.clustering.sampling import sample_indices

STABILITY_N_INIT = 4
STABILITY_MAX_ROWS = 20_000
#: A cluster whose best Jaccard in a resample is at most this is dissolved there (fpc).
DISSOLUTION = 0.5
#: Hennig's verdict thresholds on the mean Jaccard, highest first.
VERDICT_THRESHOLDS = [(0.85, "highly stable"), (0.75, "stable"), (0.6, "doubtful")]
#: The verdict of a one-segment model: it matches itself in every resample (Jaccard 1), so
#: the bootstrap measures nothing.
NOT_APPLICABLE = "not applicable"
VERDICT_TEXT = (
    "mean Jaccard >= 0.85 highly stable, >= 0.75 stable, >= 0.6 doubtful, else unstable "
    f"(Hennig 2007); dissolved when the best Jaccard is <= {DISSOLUTION}; "
    f"{NOT_APPLICABLE} for one segment, which always matches itself"
)


@dataclass(frozen=True)
class StabilityResult:
    """Mean Jaccard and resamples where it dissolved per original cluster label (arrays
    indexed by label 0..k-1), the mean ARI over resamples, the number of resamples and of
    rows used."""

    mean_jaccard: np.ndarray
    dissolved: np.ndarray
    mean_ari: float
    bootstrap_resamples: int
    rows_used: int


def verdict(mean_jaccard: float) -> str:
    """Hennig's verdict for a mean Jaccard value."""
    if np.isnan(mean_jaccard):
        return "unknown"
    return next((name for bound, name in VERDICT_THRESHOLDS if mean_jaccard >= bound), "unstable")


def _jaccard_best(original: np.ndarray, boot: np.ndarray, k: int) -> np.ndarray:
    """For each original label 0..k-1, the best Jaccard with any bootstrap cluster (0 for an
    original label without points here: dissolved)."""
    from sklearn.metrics.cluster import contingency_matrix  # imported where used (fit.py)

    present, original_codes = np.unique(original, return_inverse=True)
    table = contingency_matrix(original_codes, boot).astype(np.float64)  # C x D
    sizes_c = table.sum(axis=1, keepdims=True)
    sizes_d = table.sum(axis=0, keepdims=True)
    jaccard = table / (sizes_c + sizes_d - table)
    best = np.zeros(k)
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
    from sklearn.metrics import adjusted_rand_score  # imported where used (fit.py)

    keep = sample_indices(X.shape[0], max_rows, seed)
    X, labels = X[keep], labels[keep]
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    jaccards = np.empty((bootstrap, k))
    aris = np.empty(bootstrap)
    for b in range(bootstrap):
        distinct = np.unique(rng.integers(0, n, size=n))
        k_boot = min(k, distinct.size)
        boot_labels = make_kmeans(k_boot, seed + 1 + b, n_init).fit(X[distinct]).labels_
        jaccards[b] = _jaccard_best(labels[distinct], boot_labels, k)
        aris[b] = adjusted_rand_score(labels[distinct], boot_labels)
    return StabilityResult(
        mean_jaccard=jaccards.mean(axis=0).astype(np.float64),
        dissolved=(jaccards <= DISSOLUTION).sum(axis=0).astype(np.int64),
        mean_ari=float(np.mean(aris)),
        bootstrap_resamples=int(bootstrap),
        rows_used=int(n),
    )

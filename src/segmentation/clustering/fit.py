"""KMeans fitting and nearest-centroid assignment (the rule the SQL scoring model uses)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

logger = logging.getLogger(__name__)

#: n_init of the final fit: several k-means++ starts, the best inertia wins.
FINAL_N_INIT = 10


def make_kmeans(k: int, seed: int, n_init: int) -> KMeans:
    """A KMeans estimator with the project's fixed settings (lloyd, k-means++, seeded)."""
    # imported here: a build that fits no new version does not pay for scikit-learn
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=seed, init="k-means++")


def smallest_cluster(model: KMeans, k: int) -> int:
    """Rows in the fitted model's smallest cluster (0 when a cluster is empty)."""
    return int(np.bincount(model.labels_, minlength=k).min())


def fit_kmeans(
    X: np.ndarray, k: int, seed: int, n_init: int = FINAL_N_INIT, min_size: int = 0
) -> KMeans:
    """Fit the final KMeans with ``k`` clusters on the standardised sample ``X``.

    ``n_init`` defaults to 10 (at least 10 is recommended for the final model) and the fit is
    seeded, so the same sample gives the same centroids.

    ``min_size``: when the best of the ``n_init`` starts has a cluster of fewer rows (the k
    sweep found a solution without one, but this fit's starts landed elsewhere), each start
    is refitted on its own (seeds ``seed + 1 ..``) and the lowest inertia among the starts
    that respect the minimum wins; when none does, the first fit is returned and a warning
    logged.
    """
    X = np.asarray(X, dtype=np.float64)
    if not 1 <= k <= X.shape[0]:
        raise ValueError(f"k={k} must be between 1 and the number of rows ({X.shape[0]})")
    model = make_kmeans(k, seed, n_init).fit(X)
    if smallest_cluster(model, k) >= min_size:
        return model
    starts = [make_kmeans(k, seed + 1 + i, 1).fit(X) for i in range(n_init)]
    allowed = [m for m in starts if smallest_cluster(m, k) >= min_size]
    if not allowed:
        logger.warning(
            "no KMeans start with k=%d gives every segment at least %d rows; keeping the best",
            k,
            min_size,
        )
        return model
    return min(allowed, key=lambda m: m.inertia_)


def assign_labels(X_std: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid for each row, by squared Euclidean distance.

    Ties go to the lowest centroid index, so when the centroid rows are ordered by segment id
    this is the SQL rule "nearest centroid, ties to the lower segment id", with the squares
    added in the SQL's order.

    Returns:
        int64 array of row positions into ``centroids``.
    """
    X_std = np.atleast_2d(np.asarray(X_std, dtype=np.float64))
    centroids = np.atleast_2d(np.asarray(centroids, dtype=np.float64))
    # Sum of squared differences, added feature by feature from the first, in the order
    # the SQL adds them ((d1 + d2) + d3 ...): numpy's sum over a row would add 8 or more
    # columns pairwise and can differ in the last bit. One centroid at a time keeps memory
    # at O(rows x features).
    distances = np.empty((X_std.shape[0], centroids.shape[0]), dtype=np.float64)
    for j, centre in enumerate(centroids):
        diff = X_std - centre
        total = diff[:, 0] * diff[:, 0]
        for f in range(1, diff.shape[1]):
            total = total + diff[:, f] * diff[:, f]
        distances[:, j] = total
    return np.argmin(distances, axis=1).astype(np.int64)

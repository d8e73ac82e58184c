"""k sweep: KMeans inertia and internal validity indices for each k in a range."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segmentation.clustering.fit import make_kmeans

#: n_init of the sweep fits: a few starts are enough to trace the inertia curve cheaply.
SWEEP_N_INIT = 4

SWEEP_COLUMNS = ["k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]


def k_range(k_min: int, k_max: int, n_samples: int) -> list[int]:
    """The k values to try: ``k_min..k_max``, without k > n_samples - 1 (k=1 always allowed
    when there is at least one row), because the indices need at least one cluster with two
    points."""
    if k_min < 1 or k_max < k_min:
        raise ValueError(f"invalid k range {k_min}..{k_max}")
    return [k for k in range(k_min, k_max + 1) if (k == 1 and n_samples >= 1) or k <= n_samples - 1]


def sweep_k(
    X: np.ndarray,
    k_min: int = 1,
    k_max: int = 10,
    seed: int = 42,
    n_init: int = SWEEP_N_INIT,
    silhouette_sample: int = 10_000,
) -> pd.DataFrame:
    """Fit a seeded KMeans for each k and measure it.

    For k >= 2 the silhouette (sampled: ``sample_size=min(silhouette_sample, n)``, seeded),
    Calinski-Harabasz and Davies-Bouldin indices are computed with scikit-learn; for k = 1, or
    when a fit produced fewer than two distinct labels, they are NaN.

    Returns:
        DataFrame with columns k (int64), inertia, silhouette, calinski_harabasz,
        davies_bouldin (float64), one row per k tried, ascending k.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    rows: list[dict[str, float]] = []
    for k in k_range(k_min, k_max, n):
        model = make_kmeans(k, seed, n_init).fit(X)
        labels = model.labels_
        silhouette = calinski = davies = np.nan
        n_labels = np.unique(labels).size
        if k >= 2 and 2 <= n_labels <= n - 1:
            calinski = float(calinski_harabasz_score(X, labels))
            davies = float(davies_bouldin_score(X, labels))
            sample = min(silhouette_sample, n)
            try:
                silhouette = float(
                    silhouette_score(
                        X,
                        labels,
                        sample_size=sample if sample < n else None,
                        random_state=seed,
                    )
                )
            except ValueError:  # the silhouette sample happened to hold a single label
                silhouette = np.nan
        rows.append(
            {
                "k": k,
                "inertia": float(model.inertia_),
                "silhouette": silhouette,
                "calinski_harabasz": calinski,
                "davies_bouldin": davies,
            }
        )
    frame = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    frame["k"] = frame["k"].astype(np.int64)
    for column in SWEEP_COLUMNS[1:]:
        frame[column] = frame[column].astype(np.float64)
    return frame

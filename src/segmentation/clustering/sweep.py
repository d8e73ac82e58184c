"""k sweep: KMeans inertia and internal validity indices for each k in a range."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.clustering.fit import make_kmeans

#: n_init of the sweep fits: a few starts are enough to trace the inertia curve cheaply.
SWEEP_N_INIT = 4

#: Rows of the silhouette sample's distance matrix computed at a time (1,024 x 10,000
#: float64 distances = 80 MB).
SILHOUETTE_CHUNK_ROWS = 1024

SWEEP_COLUMNS = [
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "smallest_segment_share",
]


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

    ``smallest_segment_share`` is the share of the rows in the fit's smallest cluster (0 when
    KMeans left a cluster empty), for the minimum segment size.

    Returns:
        DataFrame with columns k (int64), inertia, silhouette, calinski_harabasz,
        davies_bouldin, smallest_segment_share (float64), one row per k tried, ascending k.
    """
    # imported where used: a build that fits no new version does not load scikit-learn
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    rows: list[dict[str, float]] = []
    labelings: dict[int, np.ndarray] = {}
    for k in k_range(k_min, k_max, n):
        model = make_kmeans(k, seed, n_init).fit(X)
        labels = model.labels_
        calinski = davies = np.nan
        n_labels = np.unique(labels).size
        if k >= 2 and 2 <= n_labels <= n - 1:
            calinski = float(calinski_harabasz_score(X, labels))
            davies = float(davies_bouldin_score(X, labels))
            labelings[k] = labels
        rows.append(
            {
                "k": k,
                "inertia": float(model.inertia_),
                "calinski_harabasz": calinski,
                "davies_bouldin": davies,
                "smallest_segment_share": float(np.bincount(labels, minlength=k).min() / n),
            }
        )
    silhouettes = sampled_silhouettes(X, labelings, silhouette_sample, seed)
    for row in rows:
        row["silhouette"] = silhouettes.get(int(row["k"]), np.nan)
    frame = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    frame["k"] = frame["k"].astype(np.int64)
    for column in SWEEP_COLUMNS[1:]:
        frame[column] = frame[column].astype(np.float64)
    return frame


def sampled_silhouettes(
    X: np.ndarray,
    labelings: dict[int, np.ndarray],
    sample_size: int,
    seed: int,
    chunk_rows: int = SILHOUETTE_CHUNK_ROWS,
) -> dict[int, float]:
    """Mean silhouette of several labelings of the same rows, on one seeded sample.

    Each value equals ``sklearn.metrics.silhouette_score(X, labels, sample_size=sample_size,
    random_state=seed)`` (up to floating-point rounding): the sample is drawn the same way
    (``check_random_state(seed).permutation(n)[:sample_size]``, all rows when ``sample_size
    >= n``) and the silhouette is defined the same way (singletons score 0). The difference
    is cost: scikit-learn computes the sample's pairwise distances again for every k; here
    each block of ``chunk_rows`` rows of the distance matrix is computed once
    (``euclidean_distances`` with the squared norms computed once) and reduced for every
    labeling at once, by one matrix product with the labelings' stacked one-hot columns
    (sum of distances from each row to each cluster of each k). On a 10,000-row sample and
    k = 2..10 that is about 0.5 s instead of 7 s (docs/benchmarks.md).

    Returns:
        k -> silhouette; NaN when the sample holds fewer than 2 or more than m - 1 distinct
        labels (where scikit-learn raises).
    """
    from sklearn.metrics.pairwise import euclidean_distances  # imported where used
    from sklearn.utils import check_random_state

    n = X.shape[0]
    result: dict[int, float] = {k: np.nan for k in labelings}
    if n == 0 or not labelings:
        return result
    if sample_size < n:
        rows = check_random_state(seed).permutation(n)[:sample_size]
        sample = X[rows]
    else:
        rows = np.arange(n)
        sample = X
    m = sample.shape[0]
    # one block of one-hot columns per usable labeling: (k, first column, codes, counts)
    blocks: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    width = 0
    for k, labels in labelings.items():
        _, code = np.unique(np.asarray(labels)[rows], return_inverse=True)
        counts = np.bincount(code)
        if 2 <= counts.size <= m - 1:
            blocks.append((k, width, code, counts))
            width += counts.size
    if not blocks:
        return result
    one_hot = np.zeros((m, width))
    for _, first, code, _ in blocks:
        one_hot[np.arange(m), first + code] = 1.0
    squared_norms = np.einsum("ij,ij->i", sample, sample)[np.newaxis, :]
    scores = {k: np.empty(m) for k, _, _, _ in blocks}
    for start in range(0, m, chunk_rows):
        stop = min(m, start + chunk_rows)
        distances = euclidean_distances(
            sample[start:stop],
            sample,
            X_norm_squared=squared_norms[:, start:stop].T,
            Y_norm_squared=squared_norms,
        )
        # scikit-learn's silhouette also zeroes the diagonal (a row's distance to itself)
        distances[np.arange(stop - start), np.arange(start, stop)] = 0.0
        cluster_sums = distances @ one_hot
        at = np.arange(stop - start)
        for k, first, code, counts in blocks:
            sums = cluster_sums[:, first : first + counts.size]
            own = code[start:stop]
            with np.errstate(divide="ignore", invalid="ignore"):
                intra = sums[at, own] / (counts[own] - 1)
                sums[at, own] = np.inf
                inter = (sums / counts).min(axis=1)
                score = (inter - intra) / np.maximum(intra, inter)
            scores[k][start:stop] = np.nan_to_num(score)
    for k in scores:
        result[k] = float(np.mean(scores[k]))
    return result

"""Is there cluster structure at all? The gap statistic and a verdict for marketers.

KMeans always returns k groups, even on one homogeneous population, and the elbow of its
inertia curve always sits somewhere. This module measures whether the groups are real:

Gap statistic (Tibshirani, Walther & Hastie 2001, "Estimating the number of clusters in a
data set via the gap statistic", J. R. Statist. Soc. B 63(2)):

* ``W_k`` is the pooled within-cluster sum of squares of a KMeans fit with k clusters (the
  paper's sum over clusters of ``D_r / 2 n_r`` equals KMeans' inertia);
* B reference data sets are drawn uniformly over the box aligned with the principal
  components of the data (the paper's reference (b): centre the data, rotate by the right
  singular vectors, draw uniformly within each rotated column's range, rotate back), seeded;
* ``Gap(k) = mean_b log W*_kb - log W_k``; ``sd_k`` is the standard deviation of the B values
  ``log W*_kb`` and ``s_k = sd_k * sqrt(1 + 1/B)``;
* the 1-standard-error rule: the smallest k with ``Gap(k) >= Gap(k+1) - s_(k+1)``.
  k = 1 is a possible answer: it says the data look no more clustered than a uniform box.

One guard on k = 1 (ours, not the paper's): the rule stops at the first k whose gap does not
rise by more than a standard error at k + 1, so a dip at k = 2 ends it at k = 1 even when a
larger k has a far larger gap. That happens with well separated groups that each stand apart
on a different feature (groups at the corners of a simplex: splitting them in two helps less
than splitting a uniform box). So k = 1 is kept only when no k has ``Gap(k) - s_k`` above
``Gap(1)``; otherwise the rule is applied again from k = 2. On standardised customer features
the gap often keeps rising slowly past the true k (its ``s_k`` is small), which is why the
elbow, not the gap, is the default k rule; the gap's main job here is the test for k = 1.

The verdict (``cluster_structure``) reads the silhouette of the chosen k with Kaufman &
Rousseeuw's bands ("Finding Groups in Data", 1990): above 0.70 ``strong``, above 0.50
``reasonable``, above 0.25 ``weak``, else ``none``; and ``none`` whenever the gap
statistic's k is 1 or the chosen k is 1.

Cost: the gap is computed on a seeded subsample of at most ``GAP_MAX_ROWS`` rows, with
``GAP_N_INIT`` KMeans starts per fit, B x (number of k) + (number of k) fits in all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.clustering.fit import make_kmeans
from segmentation.clustering.sampling import sample_indices

#: Reference data sets (B). The paper used B = 10 to 50; 10 keeps the sweep cheap and the
#: 1-standard-error rule accounts for the simulation error through s_k.
GAP_REFERENCES = 10
#: Rows of the seeded subsample the gap statistic is computed on (data and references).
GAP_MAX_ROWS = 5_000
#: KMeans starts per fit of the gap statistic (data and reference sets alike).
GAP_N_INIT = 2

#: Kaufman & Rousseeuw's silhouette bands: (lower bound, exclusive), verdict.
SILHOUETTE_BANDS = [(0.70, "strong"), (0.50, "reasonable"), (0.25, "weak")]


@dataclass(frozen=True)
class GapResult:
    """Per k: the gap and its standard error ``s_k``; the gap statistic's k (gap_choice)."""

    table: pd.DataFrame  # columns k, gap, gap_se; ascending k
    k: int
    references: int
    rows_used: int


def reference_box(X: np.ndarray, references: int, seed: int) -> list[np.ndarray]:
    """B reference sets, each uniform over the principal-component box of ``X`` (same shape
    as ``X``), seeded."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    centred = X - mean
    # right singular vectors: the principal axes (a constant column has a zero range)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(references):
        uniform = rng.uniform(low, high, size=rotated.shape)
        sets.append(uniform @ vt + mean)
    return sets


def log_dispersion(X: np.ndarray, k: int, seed: int, n_init: int) -> float:
    """log W_k: the log of the KMeans inertia with k clusters (floored so a perfect fit of
    duplicated points does not give -inf)."""
    inertia = float(make_kmeans(k, seed, n_init).fit(X).inertia_)
    return float(np.log(max(inertia, 1e-12)))


def one_standard_error_k(ks: np.ndarray, gap: np.ndarray, se: np.ndarray) -> int:
    """The smallest k with ``Gap(k) >= Gap(k+1) - s_(k+1)`` among consecutive k; the largest
    k tried when no k qualifies (the gap keeps rising over the whole range)."""
    for i in range(len(ks) - 1):
        if ks[i + 1] == ks[i] + 1 and gap[i] >= gap[i + 1] - se[i + 1]:
            return int(ks[i])
    return int(ks[-1])


def gap_choice(ks: np.ndarray, gap: np.ndarray, se: np.ndarray) -> int:
    """The gap statistic's k: the 1-standard-error rule, with k = 1 kept only when no k has
    a gap more than its standard error above Gap(1) (see the module docstring)."""
    k = one_standard_error_k(ks, gap, se)
    if k != 1 or ks.size < 2 or ks[0] != 1:
        return k
    if np.all(gap[1:] - se[1:] <= gap[0]):
        return 1
    return one_standard_error_k(ks[1:], gap[1:], se[1:])


def gap_statistic(
    X: np.ndarray,
    ks: list[int],
    seed: int = 42,
    references: int = GAP_REFERENCES,
    max_rows: int = GAP_MAX_ROWS,
    n_init: int = GAP_N_INIT,
) -> GapResult:
    """Gap(k) and s_k for each k in ``ks`` on a seeded subsample of ``X`` (at most
    ``max_rows`` rows), with ``references`` uniform reference sets over its principal-component
    box, and the gap statistic's k (:func:`gap_choice`).

    Raises:
        ValueError: fewer than two rows, no k, or fewer than two reference sets.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] < 2:
        raise ValueError("the gap statistic needs at least two rows")
    if not ks:
        raise ValueError("the gap statistic needs at least one k")
    if references < 2:
        raise ValueError(f"the gap statistic needs at least 2 reference sets, got {references}")
    sample = X[sample_indices(X.shape[0], max_rows, seed)]
    ks_array = np.array(sorted(set(int(k) for k in ks if 1 <= k <= sample.shape[0])))
    if ks_array.size == 0:
        raise ValueError(f"no k in {ks} fits a sample of {sample.shape[0]} rows")
    observed = np.array([log_dispersion(sample, k, seed, n_init) for k in ks_array])
    reference_sets = reference_box(sample, references, seed)
    simulated = np.array(
        [[log_dispersion(ref, k, seed, n_init) for k in ks_array] for ref in reference_sets]
    )
    gap = simulated.mean(axis=0) - observed
    se = simulated.std(axis=0) * np.sqrt(1.0 + 1.0 / references)
    table = pd.DataFrame({"k": ks_array.astype(np.int64), "gap": gap, "gap_se": se})
    return GapResult(
        table=table,
        k=gap_choice(ks_array, gap, se),
        references=references,
        rows_used=int(sample.shape[0]),
    )


def structure_verdict(
    chosen_k: int, silhouette: float | None, gap_k: int | None
) -> tuple[str, str]:
    """(verdict, the verdict in words) for a chosen k, its silhouette and the gap's k."""
    bands = "Kaufman & Rousseeuw bands: > 0.70 strong, > 0.50 reasonable, > 0.25 weak"
    if chosen_k <= 1:
        return "none", "one segment was chosen: the customers form one population"
    if gap_k == 1:
        return "none", (
            "the gap statistic's k is 1: the customers look no more grouped than uniform "
            f"reference data, so the {chosen_k} segments are cuts of one population"
        )
    if silhouette is None or not np.isfinite(silhouette):
        return "none", f"no silhouette could be measured at k={chosen_k}"
    verdict = next((name for bound, name in SILHOUETTE_BANDS if silhouette > bound), "none")
    gap_text = "" if gap_k is None else f"; the gap statistic's k is {gap_k}"
    return verdict, f"silhouette {silhouette:.2f} at k={chosen_k} ({bands}){gap_text}"

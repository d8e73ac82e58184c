"""Tests of the k sweep and of the choice of k (Kneedle with fallbacks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from segmentation.clustering import k_range, select_k, sweep_k
from segmentation.clustering.sweep import sampled_silhouettes


def _curve(inertia: list[float], silhouette: list[float] | None = None) -> pd.DataFrame:
    ks = np.arange(1, len(inertia) + 1)
    sil = silhouette if silhouette is not None else [np.nan] + [0.3] * (len(ks) - 1)
    return pd.DataFrame({"k": ks, "inertia": inertia, "silhouette": sil})


def test_sweep_frame_shape_and_undefined_metrics_at_k1() -> None:
    X, _ = make_blobs(n_samples=300, centers=3, n_features=2, random_state=0)
    sweep = sweep_k(X, 1, 6, seed=0)
    assert list(sweep.columns) == [
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "smallest_segment_share",
    ]
    assert sweep["k"].tolist() == [1, 2, 3, 4, 5, 6]
    assert sweep.loc[0, "smallest_segment_share"] == 1.0
    # three blobs of 100: k = 3 splits them (a few points of the touching blobs change sides)
    assert 0.3 <= sweep.loc[2, "smallest_segment_share"] <= 1 / 3
    assert sweep["k"].dtype == np.int64
    assert sweep.loc[0, ["silhouette", "calinski_harabasz", "davies_bouldin"]].isna().all()
    assert sweep.loc[1:, ["silhouette", "calinski_harabasz", "davies_bouldin"]].notna().all().all()
    assert sweep["inertia"].is_monotonic_decreasing


@pytest.mark.parametrize(("sample_size", "chunk_rows"), [(250, 1024), (10_000, 1024), (250, 37)])
def test_shared_silhouette_equals_scikit_learn_for_every_k(
    sample_size: int, chunk_rows: int
) -> None:
    # chunk_rows=37: the distance matrix in blocks that do not divide the sample
    X, _ = make_blobs(n_samples=900, centers=4, n_features=3, random_state=1)
    rng = np.random.default_rng(5)
    labelings = {k: rng.integers(0, k, X.shape[0]) for k in range(2, 7)}
    labelings[7] = np.repeat([0, 1, 2, 3], 225)  # contiguous blocks, unequal in a sample
    got = sampled_silhouettes(X, labelings, sample_size, seed=11, chunk_rows=chunk_rows)
    for k, labels in labelings.items():
        kwargs = {"sample_size": sample_size, "random_state": 11} if sample_size < 900 else {}
        expected = silhouette_score(X, labels, **kwargs)
        assert got[k] == pytest.approx(expected, rel=1e-9, abs=1e-12), k


def test_shared_silhouette_is_nan_where_scikit_learn_refuses() -> None:
    X, _ = make_blobs(n_samples=200, centers=2, n_features=2, random_state=0)
    one_outlier = np.zeros(200, dtype=int)
    one_outlier[17] = 1  # a sample of 20 rows almost surely misses it: one label left
    singletons = np.arange(200)  # n labels for n rows: undefined
    got = sampled_silhouettes(X, {2: one_outlier, 3: singletons}, 20, seed=3)
    with pytest.raises(ValueError):
        silhouette_score(X, one_outlier, sample_size=20, random_state=3)
    assert np.isnan(got[2]) and np.isnan(got[3])


def test_k_range_skips_k_above_n_minus_1() -> None:
    assert k_range(1, 10, 4) == [1, 2, 3]
    assert k_range(1, 10, 1) == [1]
    assert k_range(2, 5, 100) == [2, 3, 4, 5]


def test_knee_of_four_separated_blobs_is_four() -> None:
    centers = np.array([[0, 0], [12, 0], [0, 12], [12, 12]], dtype=float)
    X, _ = make_blobs(n_samples=800, centers=centers, cluster_std=1.0, random_state=1)
    selection = select_k(sweep_k(X, 1, 10, seed=0))
    assert selection.k == 4
    assert selection.method == "kneedle"
    assert "knee of the log inertia curve at k=4" in selection.reason


def test_knee_of_hand_made_convex_curve() -> None:
    curve = [100, 30, 10, 9, 8.5, 8, 7.6, 7.3, 7, 6.8]
    assert (select_k(_curve(curve)).k, select_k(_curve(curve)).method) == (3, "kneedle")
    assert select_k(_curve(curve), scale="linear").k == 3


def test_log_scale_finds_a_late_knee_that_the_linear_scale_misses() -> None:
    # Six separated groups measured end to end: big early drops, then the sixth cluster
    # divides the inertia by 10 at k=6. On the linear scale Kneedle stops at 5.
    curve = [5760, 3901, 2405, 1477, 651, 65, 37, 29, 26, 23]
    assert select_k(_curve(curve)).k == 6
    assert select_k(_curve(curve), scale="linear").k == 5


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="knee scale"):
        select_k(_curve([100, 30, 10, 9]), scale="sqrt")


def test_straight_line_falls_back_to_best_silhouette() -> None:
    silhouette = [np.nan, 0.2, 0.35, 0.41, 0.3, 0.25, 0.2, 0.1, 0.1, 0.1]
    selection = select_k(_curve([100 - 10 * i for i in range(10)], silhouette))
    assert selection.k == 4
    assert selection.method == "silhouette_fallback"
    # on the log scale a straight line is concave: Kneedle gives no knee or k=1
    assert selection.reason.startswith(("no knee found", "the knee of the inertia curve is at k=1"))
    assert "best silhouette (0.41)" in selection.reason
    linear = select_k(_curve([100 - 10 * i for i in range(10)], silhouette), scale="linear")
    assert linear.method == "silhouette_fallback"
    assert linear.reason.startswith("no knee found on the inertia curve")


def test_too_few_k_and_no_silhouette_falls_back_to_smallest_k() -> None:
    selection = select_k(_curve([10.0, 5.0], [np.nan, np.nan]))
    assert (selection.k, selection.method) == (2, "smallest_k_fallback")
    assert "too few" in selection.reason


def test_single_k_and_empty_sweep() -> None:
    assert select_k(_curve([3.0])).k == 1
    with pytest.raises(ValueError):
        select_k(_curve([]))

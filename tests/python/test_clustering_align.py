"""Tests of segment id alignment between model versions."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.clustering import FeatureParams, TransformParams, align_segments

FEATURES = ["frequency", "monetary", "recency_days"]


def _params(
    means: tuple[float, ...] = (2.0, 4.0, 60.0),
    stds: tuple[float, ...] = (1.0, 1.5, 30.0),
    logs: tuple[bool, ...] = (False, True, False),
) -> TransformParams:
    return TransformParams(
        tuple(
            FeatureParams(f, lg, m, s)
            for f, lg, m, s in zip(FEATURES, logs, means, stds, strict=True)
        )
    )


CENTROIDS = np.array(
    [[1.0, 50.0, 200.0], [5.0, 900.0, 10.0], [2.0, 120.0, 60.0], [1.0, 20.0, 20.0]]
)
SIZES = np.array([40, 10, 30, 20])


def test_no_previous_version_orders_ids_by_size() -> None:
    alignment = align_segments(CENTROIDS, _params(), SIZES)
    assert alignment.mapping == {0: 1, 2: 2, 3: 3, 1: 4}
    assert alignment.max_segment_id == 4
    assert all(d is None for d in alignment.distances.values())


def test_permuted_centroids_recover_the_permutation() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        perm = rng.permutation(4)
        previous_ids = [11, 12, 13, 14]
        alignment = align_segments(
            CENTROIDS[perm],
            _params(),
            SIZES[perm],
            previous_centroids_original=CENTROIDS,
            previous_features=FEATURES,
            previous_ids=previous_ids,
        )
        assert alignment.mapping == {i: previous_ids[perm[i]] for i in range(4)}
        assert all(d == pytest.approx(0.0, abs=1e-9) for d in alignment.distances.values())


def test_different_standardisation_and_feature_order_do_not_matter() -> None:
    previous = CENTROIDS[:, [2, 0, 1]]  # previous version stored features in another order
    alignment = align_segments(
        CENTROIDS[::-1],
        _params(means=(3.0, 5.0, 90.0), stds=(2.0, 1.0, 10.0)),
        SIZES[::-1],
        previous_centroids_original=previous,
        previous_features=["recency_days", "frequency", "monetary"],
        previous_ids=[1, 2, 3, 4],
    )
    assert alignment.mapping == {0: 4, 1: 3, 2: 2, 3: 1}


def test_new_cluster_gets_a_fresh_id_never_reused() -> None:
    new = np.vstack([CENTROIDS[[0, 1, 2]], [[30.0, 20_000.0, 1.0]]])
    alignment = align_segments(
        new,
        _params(),
        np.array([40, 10, 30, 5]),
        previous_centroids_original=CENTROIDS[[0, 1, 2]],
        previous_features=FEATURES,
        previous_ids=[1, 2, 3],
        max_previous_id=7,
    )
    assert alignment.mapping == {0: 1, 1: 2, 2: 3, 3: 8}
    assert alignment.distances[3] is None
    assert alignment.max_segment_id == 8


def test_far_pairs_are_not_matches_and_only_shared_features_count() -> None:
    # Previous version had only two features; the nearest previous centroid is too far.
    previous = np.array([[1.0, 50.0], [40.0, 1e6]])
    alignment = align_segments(
        CENTROIDS[[0, 1]],
        _params(),
        np.array([5, 5]),
        previous_centroids_original=previous,
        previous_features=["frequency", "monetary"],
        previous_ids=[5, 6],
        threshold=1.0,
    )
    assert alignment.shared_features == ["frequency", "monetary"]
    assert alignment.mapping[0] == 5
    assert alignment.mapping[1] == 7


def test_no_shared_feature_warns_and_gives_new_ids() -> None:
    with pytest.warns(UserWarning, match="no features shared"):
        alignment = align_segments(
            CENTROIDS,
            _params(),
            SIZES,
            previous_centroids_original=np.ones((2, 1)),
            previous_features=["tenure_days"],
            previous_ids=[1, 2],
        )
    assert sorted(alignment.mapping.values()) == [3, 4, 5, 6]

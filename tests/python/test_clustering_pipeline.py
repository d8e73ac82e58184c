"""End-to-end tests of fit_segmentation on synthetic customers with planted groups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import (
    SegmentationConfig,
    SegmentationResult,
    assign_labels,
    config_hash,
    fit_segmentation,
)

FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "return_rate_units",
    "discount_share",
    "tenure_days",
]
LOG_FEATURES = ["frequency", "monetary"]
FITTED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def planted(n_per_group: int = 600, groups: int = 5, seed: int = 0) -> pd.DataFrame:
    """Customers in ``groups`` well-separated groups (6 features, some log-normal, some nulls);
    the planted group is in column ``group``."""
    rng = np.random.default_rng(seed)
    centres = 6.0 * np.eye(6)[:groups]
    z = np.vstack([c + rng.normal(size=(n_per_group, 6)) for c in centres])
    group = np.repeat(np.arange(groups), n_per_group)
    frame = pd.DataFrame(
        {
            "recency_days": 60 + 20 * z[:, 0],
            "frequency": np.expm1(1.0 + 0.3 * z[:, 1]),
            "monetary": np.expm1(5.0 + 0.5 * z[:, 2]),
            "return_rate_units": 0.2 + 0.05 * z[:, 3],
            "discount_share": 0.3 + 0.04 * z[:, 4],
            "tenure_days": 400 + 50 * z[:, 5],
            "group": group,
        }
    )
    # A few nulls far from any planted centre distance-wise: dropped to the mean (z = 0).
    frame.loc[rng.choice(len(frame), 5, replace=False), "discount_share"] = np.nan
    frame.insert(0, "customer_id", [f"C{i:06d}" for i in rng.permutation(len(frame))])
    return frame


def config(**overrides: object) -> SegmentationConfig:
    base = SegmentationConfig(features=FEATURES, log_features=LOG_FEATURES, bootstrap=8)
    return replace(base, **overrides)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def first(data: pd.DataFrame) -> SegmentationResult:
    return fit_segmentation(data.drop(columns="group"), config(), None, 1, FITTED_AT)


def _planted_labels(data: pd.DataFrame, result: SegmentationResult) -> np.ndarray:
    return data.set_index("customer_id").loc[result.sample_customer_ids, "group"].to_numpy()


def test_chooses_planted_k_and_recovers_groups(
    data: pd.DataFrame, first: SegmentationResult
) -> None:
    assert first.selection.k == 5
    assert first.selection.method == "kneedle"
    assert adjusted_rand_score(_planted_labels(data, first), first.sample_labels) >= 0.9
    chosen = first.k_selection[first.k_selection["is_chosen"]]
    assert chosen["k"].tolist() == [5]
    assert sorted(first.centroids["segment_id"].unique().tolist()) == [1, 2, 3, 4, 5]
    assert (first.stability["verdict"] == "highly stable").all()
    assert first.stability["mean_ari"].iloc[0] > 0.9
    # planted groups, each apart on one feature (a silhouette just under 0.50): real groups
    assert chosen["cluster_structure"].iloc[0] in ("weak", "reasonable")


def test_output_frames_columns_and_types(first: SegmentationResult) -> None:
    ks = first.k_selection
    assert list(ks.columns) == [
        "model_version",
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "gap_se",
        "smallest_segment_share",
        "excluded_reason",
        "is_chosen",
        "method",
        "reason",
        "cluster_structure",
        "structure_reason",
        "config_hash",
        "fitted_at",
    ]
    assert ks["k"].tolist() == list(range(1, 11))
    assert ks["gap"].notna().all() and (ks["gap_se"] > 0).all()
    assert ks["cluster_structure"].nunique() == 1
    assert np.isnan(ks.loc[0, "silhouette"])
    cen = first.centroids
    assert len(cen) == 5 * len(FEATURES)
    assert cen["segment_name"].nunique() == 5
    assert cen.groupby("segment_id")["segment_size_in_sample"].first().sum() == 3000
    assert (cen["max_segment_id_used"] == 5).all()
    assert cen["fitted_at"].iloc[0] == pd.Timestamp("2024-05-01 12:00:00")
    st = first.stability
    assert list(st.columns) == [
        "model_version",
        "segment_id",
        "segment_name",
        "mean_jaccard",
        "verdict",
        "dissolved_resamples",
        "mean_ari",
        "bootstrap_resamples",
        "stability_rows",
        "verdict_rule",
        "fitted_at",
    ]
    bad = {"HUGEINT", "UUID", "INTERVAL", "UBIGINT", "UINTEGER"}
    for frame in (ks, cen, st):
        types = {str(t) for t in duckdb.from_df(frame).types}
        assert types <= {"BIGINT", "DOUBLE", "VARCHAR", "BOOLEAN", "TIMESTAMP"}
        assert not types & bad


def test_sql_scoring_reproduces_sample_labels(
    data: pd.DataFrame, first: SegmentationResult
) -> None:
    """Nearest centroid in SQL from the centroids frame alone gives the fit's labels."""
    centroids = first.centroids  # noqa: F841 (used by duckdb)
    features = data.drop(columns="group")  # noqa: F841
    pick = " ".join(f"when '{f}' then f.{f}" for f in FEATURES)
    scored = duckdb.sql(
        f"""
        with long as (
            select f.customer_id, c.feature, case c.feature {pick} end as x
            from features f cross join (select distinct feature from centroids) c
        ),
        z as (
            select l.customer_id, c.segment_id, c.centroid_std,
                   coalesce((case when l.x is null then null
                                  when c.use_log then ln(1 + greatest(l.x, 0))
                                  else l.x end - c.feature_mean) / c.feature_std, 0) as z
            from long l join centroids c using (feature)
        ),
        d as (
            select customer_id, segment_id, sum((z - centroid_std) ^ 2) as dist
            from z group by customer_id, segment_id
        )
        select customer_id, segment_id from d
        qualify row_number() over (partition by customer_id order by dist, segment_id) = 1
        """
    ).df()
    labels = scored.set_index("customer_id").loc[first.sample_customer_ids, "segment_id"]
    np.testing.assert_array_equal(labels.to_numpy(), first.sample_labels)


def test_refit_with_previous_keeps_ids_and_ignores_row_order(
    data: pd.DataFrame, first: SegmentationResult
) -> None:
    shuffled = data.drop(columns="group").sample(frac=1.0, random_state=5)
    second = fit_segmentation(shuffled, config(), first.centroids, 2, FITTED_AT)
    assert second.centroids["model_version"].unique().tolist() == [2]
    one = first.centroids.set_index(["segment_id", "feature"])["centroid_std"]
    two = second.centroids.set_index(["segment_id", "feature"])["centroid_std"]
    pd.testing.assert_series_equal(one, two)
    pd.testing.assert_series_equal(first.sample_customer_ids, second.sample_customer_ids)
    np.testing.assert_array_equal(first.sample_labels, second.sample_labels)
    assert (second.centroids["alignment_distance"] < 1e-9).all()


def test_refit_with_a_new_group_gives_it_a_fresh_id(first: SegmentationResult) -> None:
    six = planted(n_per_group=500, groups=6, seed=1).drop(columns="group")
    previous = first.centroids.assign(max_segment_id_used=9)  # ids 6..9 used in the past
    result = fit_segmentation(six, config(), previous, 2, FITTED_AT)
    assert result.selection.k == 6
    ids = sorted(result.centroids["segment_id"].unique().tolist())
    assert ids == [1, 2, 3, 4, 5, 10]
    assert (result.centroids["max_segment_id_used"] == 10).all()


def test_sample_cap_and_dropped_features(data: pd.DataFrame) -> None:
    frame = data.drop(columns="group").assign(session_count=1.0)
    cfg = config(
        features=[*FEATURES, "session_count", "category_breadth"],
        sample_size=1000,
        k_max=6,
        bootstrap=3,
    )
    with pytest.warns(UserWarning, match="dropped from clustering"):
        result = fit_segmentation(frame, cfg, None, 1, FITTED_AT)
    assert len(result.sample_labels) == 1000
    assert (result.centroids["sample_rows"] == 1000).all()
    assert result.dropped_features.to_dict("records") == [
        {"feature": "session_count", "reason": "constant"},
        {"feature": "category_breadth", "reason": "missing_column"},
    ]
    assert set(result.centroids["feature"]) == set(FEATURES)


def test_assign_labels_ties_go_to_the_lower_index() -> None:
    centroids = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 5.0]])
    X = np.array([[0.0, 0.0], [0.9, 0.0], [-0.9, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(assign_labels(X, centroids), [0, 0, 1, 2])
    assert assign_labels(X, centroids).dtype == np.int64


def test_config_hash_tracks_configuration() -> None:
    assert config_hash(config()) == config_hash(config())
    assert config_hash(config()) != config_hash(config(seed=1))
    assert config_hash(config()) != config_hash(config(log_features=["monetary"]))


def test_bad_input_is_refused() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "a"], "monetary": [1.0, 2.0]})
    with pytest.raises(ValueError, match="not unique"):
        fit_segmentation(frame, config(features=["monetary"], log_features=[]), None, 1, FITTED_AT)
    with (
        pytest.raises(ValueError, match=r"no usable feature for clustering among 2 customer"),
        pytest.warns(UserWarning),
    ):
        fit_segmentation(
            frame.assign(customer_id=["a", "b"], monetary=1.0),
            config(features=["monetary"], log_features=[]),
            None,
            1,
            FITTED_AT,
        )

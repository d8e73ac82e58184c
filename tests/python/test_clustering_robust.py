"""Outliers and near-constant features do not make micro-segments: winsorising before
standardising, and a minimum segment size that no k rule may break."""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from test_clustering_structure import FEATURES, FITTED_AT, config, planted_groups

from segmentation.clustering import fit_segmentation, fit_transform_params, sql_expression
from segmentation.clustering.fit import fit_kmeans
from segmentation.clustering.pipeline import K_RULES, choose_k, excluded_reasons
from segmentation.clustering.structure import GapResult
from segmentation.clustering.transform import apply_transform, winsor_bounds

RARE = "f7"  # 0 for every planted customer; only the two extreme customers have a value


def with_two_extreme_customers() -> pd.DataFrame:
    """The four planted groups (700 customers each) plus two customers far outside every
    feature's range, who are also the only ones with a non-zero RARE feature."""
    data = planted_groups()
    data[RARE] = 0.0
    extreme = pd.DataFrame(
        {
            "customer_id": ["X000001", "X000002"],
            **{f: [60.0, -55.0] for f in FEATURES},
            RARE: [500.0, 800.0],
            "group": [-1, -1],
        }
    )
    return pd.concat([data, extreme], ignore_index=True)


def _fit(data: pd.DataFrame, **overrides: object):
    settings = config(features=[*FEATURES, RARE], log_features=[], **overrides)
    return fit_segmentation(data.drop(columns="group"), settings, None, 1, FITTED_AT)


@pytest.mark.parametrize("rule", K_RULES)
def test_two_extreme_customers_do_not_get_a_segment(rule: str) -> None:
    data = with_two_extreme_customers()
    result = _fit(data, k_rule=rule)
    assert result.selection.k == 4
    labels = pd.Series(result.sample_labels, index=result.sample_customer_ids)
    truth = data.set_index("customer_id").loc[labels.index, "group"]
    planted = truth >= 0
    assert adjusted_rand_score(truth[planted], labels[planted]) >= 0.9
    assert labels.value_counts().min() >= 0.01 * len(labels)
    # the feature only the two extremes have is a micro-segment, not a feature
    assert result.dropped_features.to_dict("records") == [
        {"feature": RARE, "reason": "near_constant"}
    ]


def test_without_the_guards_the_extremes_take_a_segment() -> None:
    """The defect the guards fix, on the same data: plain z-scores give the two extreme
    customers a segment of their own."""
    result = _fit(
        with_two_extreme_customers(),
        winsor_quantile=0.0,
        min_segment_share=0.0,
        min_segment_customers=0,
    )
    assert pd.Series(result.sample_labels).value_counts().min() <= 2
    assert result.selection.k != 4


def test_winsor_bounds_are_observed_quantiles_and_bound_the_z_scores() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(3, 1, 1000)
    values[:2] = [1e7, -1e7]
    values[5] = np.nan
    lower, upper = winsor_bounds(values, 0.01)
    present = values[~np.isnan(values)]
    assert lower in present and upper in present
    assert (present < lower).mean() <= 0.01 and (present > upper).mean() <= 0.01
    assert winsor_bounds(values, 0.0) == (None, None)
    frame = pd.DataFrame({"customer_id": range(1000), "spend": values})
    params = fit_transform_params(frame, ["spend"], winsor_quantile=0.01)
    z = apply_transform(frame, params)[:, 0]
    # the extreme customers sit at the bounds, with the customers there; unclipped, 1e7
    # would be ~30 standard deviations out and push every other z towards 0
    at_upper = np.flatnonzero(values == upper)
    assert z[0] == z[at_upper[0]] == z.max() < 10
    assert z[1] == z.min()
    assert z[5] == 0.0  # missing is still the mean
    with pytest.raises(ValueError, match="winsor_quantile"):
        fit_transform_params(frame, ["spend"], winsor_quantile=0.5)


def test_clipped_transform_matches_sql_in_duckdb() -> None:
    """The documented SQL (clip, log, standardise) gives the same matrix, NULLs included."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(500)],
            "monetary": rng.lognormal(4, 1.5, 500),
            "rate": rng.beta(0.5, 3, 500),
        }
    )
    frame.loc[[3, 30], "monetary"] = [np.nan, -4.0]
    frame.loc[7, "rate"] = np.nan
    params = fit_transform_params(frame, ["monetary", "rate"], ["monetary"], winsor_quantile=0.02)
    assert all(p.clip_lower is not None and p.clip_upper is not None for p in params.params)
    expressions = ", ".join(
        f"{sql_expression(p.feature, p.use_log, p.mean, p.std, p.clip_lower, p.clip_upper)}"
        f" as {p.feature}"
        for p in params.params
    )
    con = duckdb.connect()
    con.register("features", frame)
    result = con.sql(f"select {expressions} from features order by customer_id").df()
    expected = apply_transform(frame.sort_values("customer_id"), params)
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=0, atol=1e-12)


def _sweep(shares: list[float], silhouettes: list[float]) -> pd.DataFrame:
    ks = np.arange(1, len(shares) + 1)
    inertia = 1000.0 / ks**2  # no clear knee: the rules below decide
    sweep = pd.DataFrame(
        {
            "k": ks,
            "inertia": inertia,
            "silhouette": silhouettes,
            "smallest_segment_share": shares,
        }
    )
    sweep["excluded_reason"] = excluded_reasons(sweep, 0.01)
    return sweep


def test_no_rule_chooses_a_k_with_a_segment_under_the_minimum() -> None:
    sweep = _sweep(
        shares=[1.0, 0.4, 0.2, 0.005, 0.1, 0.002],
        silhouettes=[np.nan, 0.30, 0.40, 0.60, 0.35, 0.50],
    )
    assert sweep["excluded_reason"].notna().tolist() == [False, False, False, True, False, True]
    assert "0.50% of the customers" in sweep.loc[3, "excluded_reason"]
    silhouette = choose_k(sweep, None, config(k_rule="silhouette"))
    assert silhouette.k == 3  # k = 4 has the best silhouette but a segment of 0.5%
    assert "not allowed (a segment under 1%): k=4, 6" in silhouette.reason
    gap = GapResult(table=pd.DataFrame(), k=4, references=10, rows_used=100)
    by_gap = choose_k(sweep, gap, config(k_rule="gap"))
    assert by_gap.k == 3 and "k=4 is not allowed" in by_gap.reason
    assert choose_k(sweep, None, config(k_rule="elbow")).k not in (4, 6)


def test_the_elbow_reads_the_whole_curve_and_chooses_among_the_allowed_k() -> None:
    # six groups: the inertia falls fast to k = 6 and flattens after it. With k = 7..10 not
    # allowed (a segment under the minimum), Kneedle on the allowed k alone saw no knee (it
    # sat at the end of the curve) and the silhouette fallback chose; the knee of the whole
    # curve is k = 6, allowed
    inertia = [5760, 3901, 2405, 1477, 651, 65, 60, 56, 53, 50]
    shares = [1.0, 0.5, 0.33, 0.25, 0.17, 0.16, 0.004, 0.003, 0.002, 0.001]
    sweep = pd.DataFrame(
        {
            "k": range(1, 11),
            "inertia": inertia,
            "silhouette": [np.nan, 0.5, 0.6, 0.7, 0.8, 0.9, 0.5, 0.4, 0.4, 0.3],
            "smallest_segment_share": shares,
        }
    )
    sweep["excluded_reason"] = excluded_reasons(sweep, 0.01)
    chosen = choose_k(sweep, None, config(k_rule="elbow"))
    assert (chosen.k, chosen.method) == (6, "kneedle"), chosen
    # a knee on a k that is not allowed: the largest allowed k below it
    sweep.loc[sweep["k"] == 6, "excluded_reason"] = "a segment under the minimum"
    stepped = choose_k(sweep, None, config(k_rule="elbow"))
    assert (stepped.k, stepped.method) == (5, "kneedle")
    assert "k=6 is not allowed, so k=5" in stepped.reason


def test_when_every_k_makes_a_micro_segment_the_least_bad_is_chosen() -> None:
    sweep = _sweep(shares=[1.0, 0.004, 0.006, 0.002], silhouettes=[np.nan, 0.5, 0.4, 0.3])
    sweep = sweep[sweep["k"] >= 2]  # k_min = 2
    selection = choose_k(sweep, None, config(k_rule="elbow", k_min=2))
    assert (selection.k, selection.method) == (3, "min_size_fallback")


def test_a_small_group_is_not_a_segment_even_above_the_share() -> None:
    """Four planted groups of 25 customers: each is 25% of the shop, well above the 1% share,
    but under 30 customers, so no k that keeps them apart is allowed; with the minimum at 20
    they come back. Before, only the share applied, and a shop of a few dozen customers got
    segments of one or two customers (with a playbook action each)."""
    data = planted_groups(per_group=25).drop(columns="group")
    small = fit_segmentation(data, config(), None, 1, FITTED_AT)
    assert small.selection.k < 4
    assert pd.Series(small.sample_labels).value_counts().min() >= 30
    assert small.k_selection.loc[small.k_selection["k"] == 4, "excluded_reason"].notna().all()
    assert "a segment under 30 of 100 customers" in small.selection.reason
    allowed = fit_segmentation(data, config(min_segment_customers=20), None, 1, FITTED_AT)
    assert allowed.selection.k == 4


@pytest.mark.parametrize("rule", K_RULES)
def test_too_few_customers_for_two_segments_is_one_segment(rule: str) -> None:
    data = planted_groups(per_group=12).drop(columns="group")  # 48 customers, under 2 x 30
    result = fit_segmentation(data, config(k_rule=rule), None, 1, FITTED_AT)
    assert (result.selection.k, result.selection.method) == (1, "too_few_customers")
    assert "48 customers in the fit sample: two segments need at least 60" in (
        result.selection.reason
    )
    assert result.stability["verdict"].tolist() == ["not applicable"]


def test_final_fit_keeps_the_minimum_or_says_it_cannot(caplog) -> None:
    rng = np.random.default_rng(2)
    blobs = np.vstack([c + rng.normal(size=(300, 2)) for c in ([0, 0], [8, 0], [0, 8])])
    X = np.vstack([blobs, [[80.0, 80.0], [81.0, 80.0]]])
    plain = fit_kmeans(X, 4, seed=0)
    assert np.bincount(plain.labels_).min() == 2  # the two far points are a cluster
    with caplog.at_level(logging.WARNING, logger="segmentation.clustering.fit"):
        kept = fit_kmeans(X, 4, seed=0, min_size=10)
    # no start avoids the far pair at k = 4: the best fit is kept and the log says so
    assert "at least 10 rows" in caplog.text
    np.testing.assert_array_equal(kept.labels_, plain.labels_)

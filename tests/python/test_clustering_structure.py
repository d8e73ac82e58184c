"""The cluster structure verdict: the gap statistic, the k rules and the silhouette bands, on
data with no groups and on data with planted groups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import SegmentationConfig, fit_segmentation
from segmentation.clustering.naming import ALL_CUSTOMERS
from segmentation.clustering.pipeline import K_RULES, choose_k
from segmentation.clustering.structure import (
    gap_choice,
    gap_statistic,
    one_standard_error_k,
    reference_box,
    structure_verdict,
)
from segmentation.clustering.sweep import sweep_k
from segmentation.dbt_models import settings_from_dbt

FEATURES = ["f1", "f2", "f3", "f4", "f5", "f6"]
FITTED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _frame(values: np.ndarray, seed: int) -> pd.DataFrame:
    frame = pd.DataFrame(values, columns=FEATURES)
    ids = np.random.default_rng(seed).permutation(len(frame))
    frame.insert(0, "customer_id", [f"C{i:06d}" for i in ids])
    return frame


def one_population(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    """A single Gaussian blob: no groups."""
    return _frame(np.random.default_rng(seed).normal(size=(n, 6)), seed)


def skewed_independent(n: int = 3000, seed: int = 2) -> pd.DataFrame:
    """Independent skewed features (spend-like amounts and counts): one population."""
    rng = np.random.default_rng(seed)
    values = np.column_stack(
        [
            rng.lognormal(5, 1, n),
            rng.poisson(2, n) + 1,
            rng.exponential(30, n),
            rng.gamma(2, 10, n),
            rng.lognormal(3, 0.5, n),
            rng.uniform(0, 1, n),
        ]
    )
    return _frame(values, seed)


def planted_groups(per_group: int = 700, seed: int = 3) -> pd.DataFrame:
    """Four well separated groups, each set apart on every feature (corners of a cube, 12 or
    more standard deviations apart); column group."""
    rng = np.random.default_rng(seed)
    corners = 3.0 * np.array(
        [[1, 1, 1, 1, 1, 1], [1, -1, 1, -1, 1, -1], [-1, 1, -1, 1, -1, 1], [-1] * 6]
    )
    values = np.vstack([c + rng.normal(size=(per_group, 6)) for c in corners])
    frame = _frame(values, seed)
    frame["group"] = np.repeat(np.arange(4), per_group)
    return frame


def simplex_groups(per_group: int = 700, seed: int = 4) -> pd.DataFrame:
    """Four well separated groups, each set apart on ONE feature of its own (8 standard
    deviations): splitting them in two helps less than splitting a uniform box, the case
    where the plain 1-standard-error rule of the gap statistic stops at k = 1."""
    rng = np.random.default_rng(seed)
    values = np.vstack([8.0 * np.eye(6)[i] + rng.normal(size=(per_group, 6)) for i in range(4)])
    frame = _frame(values, seed)
    frame["group"] = np.repeat(np.arange(4), per_group)
    return frame


def config(**overrides: object) -> SegmentationConfig:
    return replace(SegmentationConfig(features=FEATURES, bootstrap=6), **overrides)


def _chosen(result) -> pd.Series:
    ks = result.k_selection
    return ks[ks["is_chosen"]].iloc[0]


@pytest.mark.parametrize("make", [one_population, skewed_independent])
def test_one_population_is_not_called_a_segmentation(make) -> None:
    data = make()
    result = fit_segmentation(data, config(log_features=[]), None, 1, FITTED_AT)
    chosen = _chosen(result)
    # the elbow still cuts the population into k >= 2 pieces, and the verdict says so
    assert result.selection.k >= 2
    assert chosen["cluster_structure"] in ("none", "weak")


def test_gap_statistic_finds_one_population_in_a_blob() -> None:
    gap = gap_statistic(_standardised(one_population()), list(range(1, 11)))
    assert gap.k == 1
    # skewed independent features: the gap keeps rising past k = 1 (its s_k is small), so
    # there the verdict rests on the silhouette (the test above)
    assert gap_statistic(_standardised(skewed_independent()), list(range(1, 11))).k > 1


def _standardised(data: pd.DataFrame) -> np.ndarray:
    values = data[FEATURES].to_numpy(dtype=np.float64)
    return (values - values.mean(axis=0)) / values.std(axis=0)


def test_gap_rule_can_answer_one_segment() -> None:
    result = fit_segmentation(one_population(), config(k_rule="gap"), None, 1, FITTED_AT)
    chosen = _chosen(result)
    assert result.selection.k == 1
    assert result.selection.method == "gap"
    assert chosen["cluster_structure"] == "none"
    # one segment is a complete model: one centroid, named as such, scored
    assert result.centroids["segment_id"].unique().tolist() == [1]
    assert result.centroids["segment_name"].unique().tolist() == [ALL_CUSTOMERS]
    assert (result.sample_labels == 1).all()
    # it matches itself in every resample: a Jaccard of 1 that measures nothing, so no
    # stability verdict (it was "highly stable")
    assert result.stability["mean_jaccard"].tolist() == [1.0]
    assert result.stability["verdict"].tolist() == ["not applicable"]


@pytest.mark.parametrize("rule", K_RULES)
def test_planted_groups_give_the_planted_k_and_a_real_structure(rule: str) -> None:
    data = planted_groups()
    result = fit_segmentation(
        data.drop(columns="group"), config(k_rule=rule, log_features=[]), None, 1, FITTED_AT
    )
    chosen = _chosen(result)
    assert result.selection.k == 4
    assert chosen["cluster_structure"] in ("strong", "reasonable")
    assert "the gap statistic's k is 4" in chosen["structure_reason"]
    planted = data.set_index("customer_id").loc[result.sample_customer_ids, "group"]
    assert adjusted_rand_score(planted.to_numpy(), result.sample_labels) >= 0.9


def test_groups_apart_on_one_feature_each_are_not_called_one_population() -> None:
    data = simplex_groups()
    result = fit_segmentation(
        data.drop(columns="group"), config(log_features=[]), None, 1, FITTED_AT
    )
    chosen = _chosen(result)
    assert result.selection.k == 4
    # two of the six features are pure noise, standardised to the same weight: the
    # silhouette is weak, but the verdict is not "one population"
    assert chosen["cluster_structure"] != "none"
    ks, gap, se = (result.k_selection[c].to_numpy() for c in ("k", "gap", "gap_se"))
    # the paper's rule alone would stop at k = 1 here (a dip at k = 2); the guard does not
    assert one_standard_error_k(ks, gap, se) == 1
    assert gap_choice(ks, gap, se) > 1
    assert not chosen["structure_reason"].endswith("the gap statistic's k is 1")


def test_gap_table_per_k() -> None:
    X = _standardised(planted_groups(per_group=300))
    gap = gap_statistic(X, [1, 2, 3, 4, 5, 6], seed=7, references=5)
    assert gap.table["k"].tolist() == [1, 2, 3, 4, 5, 6]
    assert (gap.table["gap_se"] > 0).all()
    assert gap.k == 4
    assert gap.references == 5 and gap.rows_used == 1200
    # seeded: the same call gives the same numbers
    again = gap_statistic(X, [1, 2, 3, 4, 5, 6], seed=7, references=5)
    pd.testing.assert_frame_equal(gap.table, again.table)


def test_gap_statistic_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(ValueError, match="at least two rows"):
        gap_statistic(np.zeros((1, 3)), [1])
    with pytest.raises(ValueError, match="at least 2 reference sets"):
        gap_statistic(np.zeros((5, 3)), [1], references=1)


def test_reference_sets_fill_the_principal_component_box() -> None:
    rng = np.random.default_rng(0)
    # a long thin cloud along the diagonal: its box is aligned with the diagonal, not the axes
    t = rng.uniform(-10, 10, 2000)
    X = np.column_stack([t, t]) + rng.normal(scale=0.1, size=(2000, 2))
    refs = reference_box(X, references=3, seed=0)
    assert len(refs) == 3 and all(r.shape == X.shape for r in refs)
    across = (refs[0][:, 0] - refs[0][:, 1]) / np.sqrt(2)
    along = (refs[0][:, 0] + refs[0][:, 1]) / np.sqrt(2)
    assert np.abs(across).max() < 1.0  # the box is thin across the diagonal
    assert np.ptp(along) > 25  # and long along it


def test_one_standard_error_rule() -> None:
    ks = np.array([1, 2, 3, 4])
    # Gap(1) >= Gap(2) - s2: k = 1
    assert one_standard_error_k(ks, np.array([1.0, 1.05, 1.5, 1.4]), np.full(4, 0.1)) == 1
    # rises beyond the error until k = 3
    assert one_standard_error_k(ks, np.array([0.5, 1.0, 1.5, 1.45]), np.full(4, 0.1)) == 3
    # keeps rising: the largest k tried
    assert one_standard_error_k(ks, np.array([0.1, 0.5, 0.9, 1.3]), np.full(4, 0.1)) == 4
    # the guard: a dip at k = 2 but a far larger gap at k = 3 is not k = 1
    dip = np.array([1.0, 0.9, 1.5, 1.45])
    assert one_standard_error_k(ks, dip, np.full(4, 0.1)) == 1
    assert gap_choice(ks, dip, np.full(4, 0.1)) == 3
    flat = np.array([1.0, 0.95, 1.05, 1.08])
    assert gap_choice(ks, flat, np.full(4, 0.1)) == 1


@pytest.mark.parametrize(
    ("chosen_k", "silhouette", "gap_k", "verdict"),
    [
        (4, 0.71, 4, "strong"),
        (4, 0.70, 4, "reasonable"),
        (4, 0.51, 3, "reasonable"),
        (4, 0.50, 4, "weak"),
        (4, 0.26, 4, "weak"),
        (4, 0.25, 4, "none"),
        (4, 0.90, 1, "none"),  # the gap statistic sees one population
        (1, None, 1, "none"),
        (3, float("nan"), 3, "none"),
    ],
)
def test_verdict_bands(chosen_k: int, silhouette: float | None, gap_k: int, verdict: str) -> None:
    assert structure_verdict(chosen_k, silhouette, gap_k)[0] == verdict


def test_silhouette_rule_and_unknown_rule() -> None:
    X = _standardised(planted_groups(per_group=200))
    sweep = sweep_k(X, 1, 6, seed=0)
    gap = gap_statistic(X, sweep["k"].tolist(), references=3)
    best = int(sweep.loc[sweep["silhouette"].idxmax(), "k"])
    assert choose_k(sweep, gap, config(k_rule="silhouette")).k == best == 4
    with pytest.raises(ValueError, match="k rule 'best'"):
        choose_k(sweep, gap, config(k_rule="best"))


def test_k_rule_var_is_checked() -> None:
    values = {
        "segmentation_features": "[f1, f2]",
        "segmentation_k_min": 1,
        "segmentation_k_max": 5,
        "segmentation_sample_size": 100,
        "segmentation_bootstrap": 2,
        "segmentation_seed": 1,
        "segmentation_alignment_threshold": 1.0,
        "run_started_at": "2024-05-01T12:00:00+00:00",
    }
    assert settings_from_dbt({**values, "segmentation_k_rule": "Gap"}).config.k_rule == "gap"
    assert settings_from_dbt(values).config.k_rule == "elbow"
    with pytest.raises(ValueError, match="segmentation_k_rule is 'knee'"):
        settings_from_dbt({**values, "segmentation_k_rule": "knee"})

"""Tests of segment names and descriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.clustering import base_name, describe, name_segments, unique_names


def test_rules_on_z_scores() -> None:
    assert base_name({"return_rate_units": 2.0, "monetary": 1.0}) == "High returners"
    assert base_name({"discount_share": 1.5}) == "Bargain hunters"
    assert base_name({"monetary": 1.2, "frequency": 1.0, "recency_days": -0.8}) == (
        "High-value loyal"
    )
    assert base_name({"tenure_days": -1.0, "frequency": -0.4}) == "Newcomers"
    assert base_name({"frequency": -0.8, "recency_days": 1.2}) == "Lapsed one-timers"
    assert base_name({"frequency": 0.4, "recency_days": 1.2}) == "Fading regulars"
    assert base_name({"frequency": -0.4, "monetary": 1.5}) == "Big spenders"
    assert base_name({"avg_order_value": 1.5, "monetary": 0.2}) == "Big-ticket buyers"
    assert base_name({"session_count": 1.0, "session_conversion_rate": -1.0}) == "Browsers"
    assert base_name({"frequency": 0.6, "monetary": 0.2}) == "Regular customers"
    assert base_name({"frequency": -0.1, "monetary": -0.2}) == "Occasional buyers"


def test_missing_features_do_not_break_rules() -> None:
    # No return data: the returns rule cannot fire; no frequency: only what is present counts.
    assert base_name({"discount_share": 0.1, "monetary": 0.9}) == "Regular customers"
    assert base_name({}) == "Occasional buyers"
    assert base_name({"recency_days": np.nan, "tenure_days": -2.0}) == "Newcomers"


def test_names_are_unique_and_deterministic() -> None:
    z = pd.DataFrame(
        {
            "frequency": [0.1, 0.0, -0.1, 0.05, 2.0],
            "monetary": [0.3, -0.3, 0.0, 0.0, 2.0],
            "recency_days": [0.0, 0.1, -0.2, 0.2, -1.0],
        },
        index=[3, 1, 2, 7, 5],
    )
    names = unique_names(z)
    assert len(set(names.values())) == len(names)
    assert names == unique_names(z.sample(frac=1.0, random_state=1))
    assert names[5] == "High-value loyal"
    assert all(names[i].startswith("Occasional buyers") for i in (1, 2, 3, 7))


def test_two_same_names_split_by_spend() -> None:
    z = pd.DataFrame({"frequency": [0.0, 0.0], "monetary": [0.4, -0.4]}, index=[1, 2])
    assert unique_names(z) == {
        1: "Occasional buyers (higher spend)",
        2: "Occasional buyers (lower spend)",
    }


def test_description_uses_distinctive_features() -> None:
    z = pd.Series({"monetary": 2.0, "return_rate_units": 1.5, "frequency": 0.1})
    seg = pd.Series({"monetary": 620.0, "return_rate_units": 0.42, "frequency": 3.0})
    pop = pd.Series({"monetary": 200.0, "return_rate_units": 0.1, "frequency": 2.9})
    text = describe(z, seg, pop)
    assert text == "Spends 3.1x the average; returns 42% of units (average 10%)"
    assert describe(z * 0, seg, pop) == "close to the average customer on every feature"


def test_name_segments_frame() -> None:
    z = pd.DataFrame({"monetary": [1.0, -1.0]}, index=[2, 1])
    means = pd.DataFrame({"monetary": [300.0, 50.0]}, index=[2, 1])
    frame = name_segments(z, means, pd.Series({"monetary": 100.0}))
    assert frame.index.tolist() == [1, 2]
    assert list(frame.columns) == ["segment_name", "segment_description", "previous_segment_name"]
    assert frame["segment_name"].is_unique


def test_high_value_loyal_is_above_average_spend_and_frequency_and_recent():
    assert base_name({"monetary": 0.74, "frequency": 0.73, "recency_days": -0.17}) == (
        "High-value loyal"
    )
    # frequent but lapsed: not "loyal"
    lapsed = {"monetary": 0.74, "frequency": 0.73, "recency_days": 0.6}
    assert base_name(lapsed) == "Fading regulars"


def test_a_kept_id_keeps_its_name_while_the_profile_fits() -> None:
    """A refit that moves segment 3 a little (still frequent, now also a bit discounted
    enough for an earlier rule) keeps "Regular customers"; segment 7, whose profile no
    longer fits "Fading regulars" (it is now recent), is renamed and the rename is recorded."""
    z = pd.DataFrame(
        {
            "frequency": [0.6, -0.8, 0.0],
            "monetary": [0.2, -0.5, 0.0],
            "recency_days": [-0.1, -0.9, 0.0],
            "discount_share": [1.1, 0.0, 0.0],
            "tenure_days": [0.0, 0.2, 0.0],
        },
        index=[3, 7, 9],
    )
    means = pd.DataFrame(0.0, index=z.index, columns=z.columns)
    population = pd.Series(0.0, index=z.columns)
    fresh = name_segments(z, means, population)
    assert fresh.loc[3, "segment_name"] == "Bargain hunters"  # the first rule that matches
    assert fresh["previous_segment_name"].isna().all()
    refit = name_segments(
        z,
        means,
        population,
        previous_names={3: "Regular customers", 7: "Fading regulars", 1: "Gone"},
    )
    assert refit.loc[3, "segment_name"] == "Regular customers"
    assert pd.isna(refit.loc[3, "previous_segment_name"])
    assert refit.loc[7, "segment_name"] != "Fading regulars"
    assert refit.loc[7, "previous_segment_name"] == "Fading regulars"
    assert refit["segment_name"].is_unique


def test_a_new_name_that_collides_with_a_kept_one_is_numbered() -> None:
    z = pd.DataFrame({"frequency": [0.6, 0.7], "monetary": [0.0, 0.0]}, index=[1, 2])
    means = pd.DataFrame(0.0, index=z.index, columns=z.columns)
    population = pd.Series(0.0, index=z.columns)
    # both profiles are regular customers; id 2 kept its old (qualified) name, id 1 is new
    named = name_segments(
        z, means, population, previous_names={2: "Regular customers (more frequent)"}
    )
    assert named.loc[2, "segment_name"] == "Regular customers (more frequent)"
    assert named.loc[1, "segment_name"] == "Regular customers (less frequent)"
    assert named["segment_name"].is_unique


def test_name_fits_reads_the_rule_behind_a_qualified_or_numbered_name() -> None:
    from segmentation.clustering.naming import name_fits

    frequent = {"frequency": 0.6, "monetary": 0.0}
    assert name_fits("Regular customers (higher spend)", frequent)
    assert name_fits("Regular customers 2", frequent)
    assert not name_fits("Occasional buyers", frequent)
    assert name_fits("Occasional buyers", {"frequency": 0.0, "monetary": 0.0})
    assert not name_fits("All customers", frequent)
    assert not name_fits("Something we no longer name", frequent)


def test_every_name_the_naming_can_give_has_a_playbook_row() -> None:
    """seeds/segment_playbook.csv has a kmeans row for every archetype a segment can be
    named after (and for each name an earlier naming version gave), and an rfm row for
    every named RFM segment of seeds/rfm_segments.csv; each row has an action and a KPI."""
    import csv
    from pathlib import Path

    from segmentation.clustering.naming import ALL_CUSTOMERS, DEFAULT_NAME, FORMER_NAMES, RULES

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    with (seeds / "segment_playbook.csv").open(newline="") as handle:
        playbook = list(csv.DictReader(handle))
    with (seeds / "rfm_segments.csv").open(newline="") as handle:
        rfm_names = {row["rfm_segment"] for row in csv.DictReader(handle)}
    rows = {(row["source"], row["segment_type"]): row for row in playbook}
    archetypes = {name for name, _ in RULES} | {DEFAULT_NAME, ALL_CUSTOMERS}
    # a name an earlier version gave keeps its row, the same as its new name's
    assert set(FORMER_NAMES.values()) <= archetypes
    assert {t for s, t in rows if s == "kmeans"} == archetypes | set(FORMER_NAMES)
    for former, name in FORMER_NAMES.items():
        same = {k: v for k, v in rows["kmeans", former].items() if k != "segment_type"}
        assert same == {k: v for k, v in rows["kmeans", name].items() if k != "segment_type"}
    assert {t for s, t in rows if s == "rfm"} == rfm_names
    for row in playbook:
        assert row["recommended_action"].strip() and row["kpi"].strip(), row


def test_a_value_name_needs_a_typical_member_who_spends_at_least_the_average() -> None:
    """Segment 1's centroid is high on spend and frequency, but its median customer spends
    less than the population's mean (a few big spenders pull its mean up): it is named for
    its frequency, not "High-value loyal". Segment 2's median is above the mean: it keeps
    the value name."""
    z = pd.DataFrame(
        {"monetary": [0.8, 0.9], "frequency": [0.7, 0.8], "recency_days": [-0.2, -0.3]},
        index=[1, 2],
    )
    means = pd.DataFrame({"monetary": [2400.0, 3000.0], "frequency": [10.0, 12.0]}, index=[1, 2])
    medians = pd.DataFrame({"monetary": [1160.0, 2000.0], "frequency": [9.0, 11.0]}, index=[1, 2])
    population = pd.Series({"monetary": 1180.0, "frequency": 6.0})
    named = name_segments(z, means, population, segment_medians=medians)
    assert named.loc[2, "segment_name"] == "High-value loyal"
    assert named.loc[1, "segment_name"] == "Regular customers"
    # without medians (a caller that has none) the centroid alone decides, as before
    assert set(name_segments(z, means, population)["segment_name"]) == {
        "High-value loyal (lower spend)",
        "High-value loyal (higher spend)",
    }
    # a refit does not keep an old value name the median no longer supports
    kept = name_segments(
        z, means, population, previous_names={1: "High-value loyal"}, segment_medians=medians
    )
    assert kept.loc[1, "segment_name"] == "Regular customers"
    assert kept.loc[1, "previous_segment_name"] == "High-value loyal"


def test_kmeans_names_and_rfm_segment_names_do_not_collide() -> None:
    """A marketer reads both customer_segments and customer_rfm: no KMeans archetype may be
    spelled like a named RFM segment (ignoring case, spaces and hyphens)."""
    import csv
    from pathlib import Path

    from segmentation.clustering.naming import ALL_CUSTOMERS, DEFAULT_NAME, RULES

    def key(name: str) -> str:
        return "".join(ch for ch in name.casefold() if ch.isalnum())

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    with (seeds / "rfm_segments.csv").open(newline="") as handle:
        rfm = {key(row["rfm_segment"]) for row in csv.DictReader(handle)}
    kmeans = {key(name) for name, _ in RULES} | {key(DEFAULT_NAME), key(ALL_CUSTOMERS)}
    assert not kmeans & rfm

"""The adapter functions the dbt Python models call: settings, refit policy, empty inputs."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.dbt_models import (
    K_SELECTION_MODEL_COLUMNS,
    FeatureSample,
    ModelSettings,
    _empty,
    centroids_model,
    decide_refit,
    fit_sample_model,
    k_selection_model,
    max_psi,
    read_history,
    settings_from_dbt,
    stability_model,
)

SETTINGS = {
    "segmentation_features": ["recency_days", "frequency"],
    "segmentation_log_features": ["frequency"],
    "segmentation_k_min": 1,
    "segmentation_k_max": 10,
    "segmentation_knee_scale": "log",
    "segmentation_sample_size": 1000,
    "segmentation_sweep_sample_size": 500,
    "segmentation_bootstrap": 5,
    "segmentation_seed": 42,
    "segmentation_alignment_threshold": 1.0,
    "segmentation_refit": "auto",
    "segmentation_psi_refit_threshold": 0.25,
    "run_started_at": "2026-01-02T03:04:05.678901+00:00",
}


def _history(config_hash: str) -> pd.DataFrame:
    """k selection rows of two versions; the latest has this configuration hash."""
    return pd.DataFrame(
        {"model_version": [1, 2, 2], "config_hash": ["old", config_hash, config_hash]}
    )


def test_settings_read_lists_given_as_text_and_naive_utc_time():
    settings = settings_from_dbt(
        {**SETTINGS, "segmentation_features": "['recency_days', 'frequency']"}
    )
    assert settings.config.features == ["recency_days", "frequency"]
    assert settings.config.sweep_max_rows == 500
    assert settings.run_started_at == datetime(2026, 1, 2, 3, 4, 5, 678901)
    # the minimum segment size in customers: 30 when unset, the var as dbt renders it (text)
    assert settings.config.min_segment_customers == 30
    given = settings_from_dbt({**SETTINGS, "segmentation_min_segment_customers": "12"})
    assert given.config.min_segment_customers == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"segmentation_refit": "sometimes"}, "segmentation_refit"),
        ({"segmentation_features": []}, "segmentation_features is empty"),
        ({"segmentation_log_features": ["monetary"]}, "not in segmentation_features"),
        ({"segmentation_min_segment_customers": "-1"}, "segmentation_min_segment_customers"),
        ({"segmentation_min_segment_customers": "2.5"}, "segmentation_min_segment_customers"),
    ],
)
def test_bad_settings_are_refused_with_the_var_named(change, message):
    with pytest.raises(ValueError, match=message):
        settings_from_dbt({**SETTINGS, **change})


def test_refit_policy():
    assert decide_refit("auto", None, "h") == (True, "no model yet")
    history = _history("h")
    assert decide_refit("auto", history, "h")[0] is False
    assert decide_refit("auto", history, "new")[1].startswith("configuration changed")
    assert decide_refit("always", history, "h")[0] is True
    assert decide_refit("never", history, "new")[0] is False
    refit, reason = decide_refit("auto", history, "h", max_psi=0.4, psi_threshold=0.25)
    assert refit and reason.startswith("feature drift: max PSI 0.400")
    assert decide_refit("auto", history, "h", max_psi=0.1, psi_threshold=0.25)[0] is False


def test_max_psi_of_no_drift_table_is_none():
    assert max_psi(None) is None
    assert max_psi(pd.DataFrame({"psi": []})) is None
    assert max_psi(pd.DataFrame({"psi": [0.1, 0.3]})) == 0.3


def test_empty_inputs_give_typed_empty_frames():
    settings: ModelSettings = settings_from_dbt(SETTINGS)
    empty_features = pd.DataFrame({"customer_id": [], "recency_days": [], "frequency": []})
    frame = k_selection_model(empty_features, None, settings)
    assert frame.empty and list(frame.columns) == K_SELECTION_MODEL_COLUMNS
    assert stability_model(empty_features, _empty(["model_version"]), None, settings).empty
    types = {name: kind for name, kind, *_ in duckdb.sql("describe select * from frame").fetchall()}
    assert types["model_version"] == "BIGINT"
    assert types["is_chosen"] == "BOOLEAN"
    assert types["method"] == "VARCHAR"
    assert types["fitted_at"] == "TIMESTAMP"
    assert types["inertia"] == "DOUBLE"


def test_fit_sample_keeps_a_feature_the_fit_dropped_for_drift():
    """A feature constant on the sample is dropped by the transform, but the fit sample still
    stores it: segment_feature_drift measures every configured feature against it."""
    settings = settings_from_dbt(
        {**SETTINGS, "segmentation_features": ["recency_days", "frequency", "discount_share"]}
    )
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(300)],
            "recency_days": np.r_[rng.normal(20, 3, 150), rng.normal(200, 3, 150)],
            "frequency": rng.integers(1, 5, 300).astype(float),
            "discount_share": np.zeros(300),
        }
    )
    k_selection = k_selection_model(features, None, settings)
    centroids = centroids_model(features, k_selection, None, settings)
    assert "discount_share" not in set(centroids["feature"])  # constant: dropped by the fit
    sample = fit_sample_model(features, centroids, None, settings)
    assert set(sample["feature"]) == {"recency_days", "frequency", "discount_share"}
    assert (sample.loc[sample["feature"] == "discount_share", "feature_value"] == 0).all()
    assert sample.groupby("feature")["customer_id"].count().eq(300).all()


def test_refit_never_with_another_feature_list_stops_with_a_message():
    """segmentation_refit: never keeps the stored model; when the configured features are
    no longer the ones it was fitted on, the build stops instead of scoring on the features
    both lists share."""
    rng = np.random.default_rng(1)
    features = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(200)],
            "recency_days": np.r_[rng.normal(20, 3, 100), rng.normal(200, 3, 100)],
            "frequency": rng.integers(1, 5, 200).astype(float),
            "monetary": rng.lognormal(4, 1, 200),
        }
    )
    history = k_selection_model(features, None, settings_from_dbt(SETTINGS))
    assert set(history["configured_features"]) == {"recency_days, frequency"}
    never = {**SETTINGS, "segmentation_refit": "never"}
    assert k_selection_model(features, history, settings_from_dbt(never)).empty  # same list
    for changed in (["recency_days", "frequency", "monetary"], ["frequency"]):
        settings = settings_from_dbt({**never, "segmentation_features": changed})
        with pytest.raises(ValueError, match="model version 1 was fitted on"):
            k_selection_model(features, history, settings)
    # a version stored before the list was recorded is not checked
    legacy = history.drop(columns="configured_features")
    settings = settings_from_dbt({**never, "segmentation_features": ["frequency"]})
    assert k_selection_model(features, legacy, settings).empty


def test_the_fit_models_draw_the_sample_only_for_a_new_version():
    """The four fit models get the sample as a FeatureSample: a build that fits no new
    version draws no row from the database (it counts them), one that fits draws them once
    per model; the result is the one a drawn frame gives."""
    settings = settings_from_dbt(SETTINGS)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(300)],
            "recency_days": np.r_[rng.normal(20, 3, 150), rng.normal(200, 3, 150)],
            "frequency": rng.integers(1, 5, 300).astype(float),
        }
    )
    con = duckdb.connect()
    relation = con.from_df(frame)

    def sample():
        return FeatureSample(relation, settings.config)

    drawn = sample()
    k_selection = k_selection_model(drawn, None, settings)
    assert not k_selection.empty and drawn._frame is not None  # a new version: drawn
    pd.testing.assert_frame_equal(k_selection, k_selection_model(frame, None, settings))
    centroids = centroids_model(sample(), k_selection, None, settings)
    pd.testing.assert_frame_equal(centroids, centroids_model(frame, k_selection, None, settings))
    # the next build: the same configuration and no drift, so no new version
    idle = [sample() for _ in range(4)]
    assert k_selection_model(idle[0], k_selection, settings).empty
    assert centroids_model(idle[1], k_selection, centroids, settings).empty
    stored_sample = fit_sample_model(frame, centroids, None, settings)
    stored_stability = stability_model(frame, centroids, None, settings)
    # the fit sample model reads only the versions its table holds
    con.register("stored_sample", stored_sample)
    versions = read_history(con, "stored_sample", True, columns=["model_version"])
    assert list(versions.columns) == ["model_version"] and len(versions) == 1 < len(stored_sample)
    assert fit_sample_model(idle[2], centroids, versions, settings).empty
    assert stability_model(idle[3], centroids, stored_stability, settings).empty
    assert all(s._frame is None for s in idle)
    # an empty input is seen without drawing, and a missing feature column is named at once
    empty = FeatureSample(con.from_df(frame.head(0)), settings.config)
    assert k_selection_model(empty, None, settings).empty and empty._frame is None
    with pytest.raises(ValueError, match="frequency"):
        FeatureSample(con.from_df(frame.drop(columns="frequency")), settings.config)


def test_the_fit_libraries_load_only_when_a_version_is_fitted():
    """A build that fits no new version runs the four Python models without scikit-learn,
    SciPy or kneed: their import took about 2 s of every build (docs/benchmarks.md)."""
    code = (
        "import sys; import segmentation.dbt_models; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'kneed'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"

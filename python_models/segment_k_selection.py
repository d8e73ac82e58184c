"""segment_k_selection: when the refit policy says so (no model yet, configuration changed,
feature drift above the threshold, or always), a new model version and its k sweep
(inertia, silhouette, Calinski-Harabasz, Davies-Bouldin) with the chosen k and why."""

from segmentation.dbt_models import (
    FeatureSample,
    k_selection_model,
    read_history,
    run_started,
    settings_from_dbt,
    to_pandas,
)


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = settings_from_dbt(
        dbt.config.get("segmentation_settings"), run_started(dbt.ref("int_run_started"))
    )
    features = FeatureSample(dbt.ref("int_customer_features_current"), settings.config)
    drift = to_pandas(dbt.ref("segment_feature_drift"))
    history = read_history(session, dbt.this, dbt.is_incremental)
    return k_selection_model(features, history, settings, drift)

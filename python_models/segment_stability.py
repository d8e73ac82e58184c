"""segment_stability: for a new model version, bootstrap stability (Hennig's clusterboot:
mean Jaccard per segment, verdict) and the mean adjusted Rand index across resamples."""

from segmentation.dbt_models import (
    FeatureSample,
    read_history,
    settings_from_dbt,
    stability_model,
    to_pandas,
)


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = settings_from_dbt(dbt.config.get("segmentation_settings"))
    features = FeatureSample(dbt.ref("int_customer_features_current"), settings.config)
    centroids = to_pandas(dbt.ref("segment_centroids"))
    history = read_history(session, dbt.this, dbt.is_incremental)
    return stability_model(features, centroids, history, settings)

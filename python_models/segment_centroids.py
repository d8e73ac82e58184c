"""segment_centroids: for a new model version, the final KMeans fit on the seeded sample,
its centroids (standardised and original units) with the transform parameters, segment ids
aligned to the previous version and segment names. Incremental: one block per version."""

from segmentation.dbt_models import (
    FeatureSample,
    centroids_model,
    read_history,
    settings_from_dbt,
    to_pandas,
)


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = settings_from_dbt(dbt.config.get("segmentation_settings"))
    features = FeatureSample(dbt.ref("int_customer_features_current"), settings.config)
    k_selection = to_pandas(dbt.ref("segment_k_selection"))
    history = read_history(session, dbt.this, dbt.is_incremental)
    return centroids_model(features, k_selection, history, settings)

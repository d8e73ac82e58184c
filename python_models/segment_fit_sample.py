"""segment_fit_sample: the customers a model version was fitted on, with the label Python
gives them and their raw feature values. Used to prove the SQL scoring equals the Python
labels and to measure feature drift against the fit sample."""

from segmentation.dbt_models import (
    FeatureSample,
    fit_sample_model,
    read_history,
    settings_from_dbt,
    to_pandas,
)


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = settings_from_dbt(dbt.config.get("segmentation_settings"))
    features = FeatureSample(dbt.ref("int_customer_features_current"), settings.config)
    centroids = to_pandas(dbt.ref("segment_centroids"))
    # the versions it holds (a version's sample is written once)
    history = read_history(session, dbt.this, dbt.is_incremental, columns=["model_version"])
    return fit_sample_model(features, centroids, history, settings)

"""What the dbt Python models in python_models/ call: settings from the dbt config, the
refit policy, reading a model's own history, and one function per model.

The models stay a few lines long (read a ref, call one function here, return a frame);
everything that can be wrong is here, where pytest can reach it. The four models run the
stages of one fit, each in its own model, and each recomputes the same seeded sample:

segment_k_selection  -> decides whether to refit; if so, a new model_version and its k sweep
segment_centroids    -> for a new version: final KMeans, stable ids, names (incremental)
segment_stability    -> for a new version: bootstrap stability per segment (incremental)
segment_fit_sample   -> for a new version: the fit sample with its Python labels and values
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from segmentation.clustering.fit import assign_labels
from segmentation.clustering.pipeline import (
    CENTROID_COLUMNS,
    ID_COLUMN,
    K_RULES,
    K_SELECTION_COLUMNS,
    STABILITY_COLUMNS,
    SegmentationConfig,
    centroid_matrix,
    config_hash,
    fit_stage,
    prepare_sample,
    select_k_stage,
    stability_stage,
)

logger = logging.getLogger(__name__)

REFIT_POLICIES = ("always", "never", "auto")
K_SELECTION_MODEL_COLUMNS = [*K_SELECTION_COLUMNS, "refit_reason", "configured_features"]
FIT_SAMPLE_COLUMNS = ["model_version", "customer_id", "segment_id", "feature", "feature_value"]


@dataclass(frozen=True)
class ModelSettings:
    """Everything the Python models read from dbt: the fit config and the run context."""

    config: SegmentationConfig
    refit: str
    run_started_at: datetime | None  # None: not given (only k selection stamps a version)
    psi_refit_threshold: float = 0.25


def _as_list(value: Any) -> list[str]:
    """dbt renders a var list in model config either as a list or as its text."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip().strip("[]")
        return [item.strip().strip("'\"") for item in text.split(",") if item.strip()]
    return [str(item) for item in value]


def _fraction(values: dict[str, Any], var: str, default: float, below: float) -> float:
    """A share var: ``default`` when unset, else a number in [0, below)."""
    value = values.get(var)
    if value is None or str(value).strip() in ("", "None"):
        return default
    share = float(value)
    if not 0.0 <= share < below:
        raise ValueError(f"var {var} is {share}; use a number from 0 to below {below}")
    return share


def _whole_number(values: dict[str, Any], var: str, default: int) -> int:
    """A count var: ``default`` when unset, else a whole number >= 0."""
    value = values.get(var)
    if value is None or str(value).strip() in ("", "None"):
        return default
    number = float(value)
    if number < 0 or number != int(number):
        raise ValueError(f"var {var} is {value}; use a whole number from 0")
    return int(number)


# What dbt.ref() returns depends on the adapter: a DuckDB relation (dbt-duckdb) or a Spark
# DataFrame (Databricks, and the fit step on Spark, docs/scale-out.md). These helpers take
# either, so that the query runs in the engine and only its answer becomes pandas.


def _is_spark(relation: Any) -> bool:
    return hasattr(relation, "toPandas")


def to_pandas(relation: Any) -> pd.DataFrame:
    """A DuckDB relation or a Spark DataFrame as a pandas frame."""
    return relation.toPandas() if _is_spark(relation) else relation.df()


def _select(relation: Any, columns: list[str]) -> Any:
    if _is_spark(relation):
        return relation.select(*columns)
    return relation.project(", ".join(columns))


def _count(relation: Any) -> int:
    if _is_spark(relation):
        return int(relation.count())
    return int(relation.aggregate("count(*)").fetchall()[0][0])


def _first_rows(relation: Any, order_by: list[str], limit: int) -> Any:
    """The first ``limit`` rows by SQL expressions (evaluated by the engine)."""
    if _is_spark(relation):
        from pyspark.sql import functions as F

        return relation.orderBy(*[F.expr(e) for e in order_by]).limit(limit)
    return relation.order(", ".join(order_by)).limit(limit)


def sample_order(seed: int) -> list[str]:
    """The order in which the engine draws the bounded fit sample: by the MD5 of customer_id
    and the seed, then customer_id. md5 and concat give the same text on DuckDB and Spark, so
    both engines draw the same customers."""
    return [f"md5(concat({ID_COLUMN}, '-{int(seed)}'))", ID_COLUMN]


def run_started(relation: Any) -> datetime:
    """This invocation's start time from int_run_started (a one-row SQL model compiled when
    the build runs). Not from the Python model's yml config: dbt renders that when it parses,
    and a partial parse reuses an earlier invocation's value, which would stamp a new model
    version with an old time."""
    rows = to_pandas(_select(relation, ["run_started_at"])).itertuples(index=False)
    rows = [tuple(row) for row in rows]
    if len(rows) != 1:
        raise ValueError(f"int_run_started has {len(rows)} rows; expected one")
    return _naive_utc(rows[0][0])


def _naive_utc(value: Any) -> datetime:
    started = pd.Timestamp(str(value))
    if started.tzinfo is not None:
        started = started.tz_convert("UTC").tz_localize(None)
    return started.to_pydatetime()


def settings_from_dbt(
    values: dict[str, Any] | None, run_started_at: datetime | None = None
) -> ModelSettings:
    """Read the `segmentation_settings` config of python_models/_python_models.yml (the
    vars, rendered there, since a Python model reads config, not vars). ``run_started_at``
    (see :func:`run_started`) wins over a ``run_started_at`` in ``values``."""
    if not values:
        raise ValueError("the Python model has no segmentation_settings config")
    get = values.get
    refit = str(get("segmentation_refit") or "auto").strip().lower()
    if refit not in REFIT_POLICIES:
        raise ValueError(
            f"var segmentation_refit is {refit!r}; use one of {', '.join(REFIT_POLICIES)}"
        )
    features = _as_list(get("segmentation_features"))
    if not features:
        raise ValueError("var segmentation_features is empty: list customer_features columns")
    log_features = _as_list(get("segmentation_log_features"))
    unknown = sorted(set(log_features) - set(features))
    if unknown:
        raise ValueError(
            f"segmentation_log_features lists {unknown} which are not in segmentation_features"
        )
    k_rule = str(get("segmentation_k_rule") or "elbow").strip().lower()
    if k_rule not in K_RULES:
        raise ValueError(f"var segmentation_k_rule is {k_rule!r}; use one of {', '.join(K_RULES)}")
    config = SegmentationConfig(
        features=features,
        log_features=log_features,
        k_min=int(get("segmentation_k_min")),
        k_max=int(get("segmentation_k_max")),
        sample_size=int(get("segmentation_sample_size")),
        sweep_max_rows=int(get("segmentation_sweep_sample_size") or 0) or None,
        bootstrap=int(get("segmentation_bootstrap")),
        seed=int(get("segmentation_seed")),
        alignment_threshold=float(get("segmentation_alignment_threshold")),
        knee_scale=str(get("segmentation_knee_scale") or "log"),
        k_rule=k_rule,
        winsor_quantile=_fraction(values, "segmentation_winsor_quantile", 0.01, 0.5),
        min_segment_share=_fraction(values, "segmentation_min_segment_share", 0.01, 1.0),
        min_segment_customers=_whole_number(values, "segmentation_min_segment_customers", 30),
    )
    if run_started_at is None and get("run_started_at") is not None:
        run_started_at = _naive_utc(get("run_started_at"))
    threshold = get("segmentation_psi_refit_threshold")
    return ModelSettings(
        config=config,
        refit=refit,
        run_started_at=run_started_at,
        psi_refit_threshold=0.25 if threshold is None else float(threshold),
    )


def decide_refit(
    policy: str,
    history: pd.DataFrame | None,
    current_hash: str,
    max_psi: float | None = None,
    psi_threshold: float = 0.25,
) -> tuple[bool, str]:
    """Whether this build fits a new model version, and why (recorded with the version).

    ``history`` holds the previous segment_k_selection rows (None or empty: no model yet);
    ``max_psi`` is the largest feature drift against the current model's fit sample.
    """
    if history is None or history.empty:
        return True, "no model yet"
    latest = history[history["model_version"] == history["model_version"].max()]
    previous_hash = str(latest["config_hash"].iloc[0])
    if policy == "always":
        return True, "segmentation_refit=always"
    if policy == "never":
        return False, "segmentation_refit=never: scoring with the latest version"
    if previous_hash != current_hash:
        return True, f"configuration changed ({previous_hash} -> {current_hash})"
    if max_psi is not None and max_psi > psi_threshold:
        return True, f"feature drift: max PSI {max_psi:.3f} > {psi_threshold}"
    return False, "configuration unchanged and no drift above the threshold"


def read_history(
    session: Any, this: Any, is_incremental: bool, columns: list[str] | None = None
) -> pd.DataFrame | None:
    """A Python model's own previous table, or None on its first run. With ``columns``, only
    their distinct values: the fit sample needs the versions it holds, not its rows."""
    if not is_incremental:
        return None
    select = f"distinct {', '.join(columns)}" if columns else "*"
    return to_pandas(session.sql(f"select {select} from {this}"))


def _sample_columns(relation: Any, config: SegmentationConfig) -> list[str]:
    """customer_id and the configured features; a clear error when the relation lacks one."""
    columns = [ID_COLUMN, *config.features]
    available = set(relation.columns)
    missing = [c for c in columns if c not in available]
    if missing:
        raise ValueError(
            f"the segmentation features (int_customer_features_current) have no column(s) "
            f"{missing} listed in segmentation_features; add the column to the `final` select "
            "of models/intermediate/int_customer_features.sql, or remove the name from the var"
        )
    return columns


def sample_features(relation: Any, config: SegmentationConfig) -> pd.DataFrame:
    """customer_id and the configured features of the segmentation input, as a frame.

    The relation is int_customer_features_current: every customer with a kept order and the
    features of int_customer_features as of the analysis date (web-session features only when
    configured).

    Above the sample cap the database draws a deterministic pseudo-random subset first
    (sample_order: the MD5 of customer_id and the seed, the same on DuckDB and Spark), so the
    rows pulled into Python, and the fit's cost, stop growing with the customer count. The
    package's seeded sampling then works on at most ``sample_size`` rows. ``relation`` is a
    DuckDB relation or a Spark DataFrame.
    """
    selected = _select(relation, _sample_columns(relation, config))
    if _count(selected) > config.sample_size:
        selected = _first_rows(selected, sample_order(config.seed), config.sample_size)
    return to_pandas(selected)


class FeatureSample:
    """The fit sample of the segmentation input (:func:`sample_features`), read from the
    database only when a model needs its rows: a build that fits no new model version reads
    none (the four fit models each drew 200,000 rows on every build before).

    ``relation`` is int_customer_features_current (a DuckDB relation or a Spark DataFrame).
    The configured feature columns are checked at once, as :func:`sample_features` does.
    """

    def __init__(self, relation: Any, config: SegmentationConfig):
        self._relation, self._config = relation, config
        self._frame: pd.DataFrame | None = None
        _sample_columns(relation, config)

    def frame(self) -> pd.DataFrame:
        """The sample's rows (drawn on the first call)."""
        if self._frame is None:
            self._frame = sample_features(self._relation, self._config)
        return self._frame

    @property
    def empty(self) -> bool:
        """No customer to fit on (counted in the database unless the rows were drawn)."""
        if self._frame is not None:
            return self._frame.empty
        return _count(self._relation) == 0


def _rows(features: pd.DataFrame | FeatureSample) -> pd.DataFrame:
    return features.frame() if isinstance(features, FeatureSample) else features


_INTEGER_COLUMNS = {
    "model_version", "k", "segment_id", "segment_size_in_sample", "sample_rows",
    "max_segment_id_used", "bootstrap_resamples", "stability_rows", "dissolved_resamples",
}  # fmt: skip
_BOOLEAN_COLUMNS = {"is_chosen", "use_log"}
_TIMESTAMP_COLUMNS = {"fitted_at"}
_TEXT_COLUMNS = {
    "method", "reason", "config_hash", "refit_reason", "segment_name", "segment_description",
    "feature", "verdict", "customer_id", "cluster_structure", "structure_reason",
    "verdict_rule", "excluded_reason", "previous_segment_name", "configured_features",
}  # fmt: skip


def _dtype(column: str) -> str:
    if column in _INTEGER_COLUMNS:
        return "int64"
    if column in _BOOLEAN_COLUMNS:
        return "bool"
    if column in _TIMESTAMP_COLUMNS:
        return "datetime64[us]"
    if column in _TEXT_COLUMNS:
        return "string"
    return "float64"


def _empty(columns: list[str]) -> pd.DataFrame:
    """No rows, but typed, so that a first build without rows (an empty shop, `dbt build
    --empty`) still creates tables whose column types match the contracts downstream."""
    return pd.DataFrame({column: pd.Series(dtype=_dtype(column)) for column in columns})


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["model_version"] == frame["model_version"].max()]


def max_psi(drift: pd.DataFrame | None) -> float | None:
    """The largest PSI of segment_feature_drift (None before the first model)."""
    if drift is None or drift.empty or drift["psi"].isna().all():
        return None
    return float(drift["psi"].max())


def k_selection_model(
    features: pd.DataFrame | FeatureSample,
    history: pd.DataFrame | None,
    settings: ModelSettings,
    drift: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """segment_k_selection: a new version's k sweep when the policy says refit, else no rows."""
    if features.empty:
        # nothing to fit on (an empty shop, or `dbt build --empty`): no version this build
        logger.warning("customer_features is empty: no segmentation model can be fitted")
        return _empty(K_SELECTION_MODEL_COLUMNS)
    check_features_unchanged(settings, history)
    refit, reason = decide_refit(
        settings.refit,
        history,
        config_hash(settings.config),
        max_psi(drift),
        settings.psi_refit_threshold,
    )
    logger.info("segmentation refit: %s (%s)", refit, reason)
    if not refit:
        return _empty(K_SELECTION_MODEL_COLUMNS)
    if settings.run_started_at is None:
        raise ValueError("the k selection needs the run's start time (int_run_started)")
    version = 1 if history is None or history.empty else int(history["model_version"].max()) + 1
    prepared = prepare_sample(_rows(features), settings.config)
    frame, _ = select_k_stage(prepared, settings.config, version, settings.run_started_at)
    frame["refit_reason"] = reason
    frame["configured_features"] = feature_list(settings.config.features)
    return frame[K_SELECTION_MODEL_COLUMNS]


def feature_list(features: list[str]) -> str:
    """The configured features as stored with a version (segment_k_selection)."""
    return ", ".join(features)


def check_features_unchanged(settings: ModelSettings, history: pd.DataFrame | None) -> None:
    """With segmentation_refit: never, stop when var segmentation_features no longer lists
    the features the current version was fitted on: the stored model would otherwise score
    on whichever features both lists share, silently. (Other policies refit instead: the
    configuration hash changes.) Versions stored before the list was recorded are not
    checked."""
    if settings.refit != "never" or history is None or history.empty:
        return
    if "configured_features" not in history.columns:
        return
    latest = _latest(history)
    fitted = latest["configured_features"].dropna()
    if fitted.empty:
        return
    now = feature_list(settings.config.features)
    if str(fitted.iloc[0]) != now:
        version = int(latest["model_version"].iloc[0])
        raise ValueError(
            f"segmentation_refit is never, but var segmentation_features ({now}) is not the "
            f"list model version {version} was fitted on ({fitted.iloc[0]}). The model cannot "
            "score on other features: set segmentation_refit to auto (or always) to refit, "
            "or restore the feature list."
        )


def _pending_version(
    k_selection: pd.DataFrame, history: pd.DataFrame | None
) -> tuple[int, int, datetime] | None:
    """(version, chosen k, fitted_at) of the newest k selection not yet in ``history``."""
    if k_selection.empty:
        return None
    latest = _latest(k_selection)
    version = int(latest["model_version"].iloc[0])
    if history is not None and not history.empty and version in set(history["model_version"]):
        return None
    chosen = latest[latest["is_chosen"].astype(bool)]
    fitted = pd.Timestamp(latest["fitted_at"].iloc[0]).to_pydatetime()
    return version, int(chosen["k"].iloc[0]), fitted


def centroids_model(
    features: pd.DataFrame | FeatureSample,
    k_selection: pd.DataFrame,
    history: pd.DataFrame | None,
    settings: ModelSettings,
) -> pd.DataFrame:
    """segment_centroids: the final fit of a new version, aligned to the previous one."""
    pending = _pending_version(k_selection, history)
    if pending is None:
        return _empty(CENTROID_COLUMNS)
    version, k, fitted_at = pending
    previous = None if history is None or history.empty else _latest(history)
    prepared = prepare_sample(_rows(features), settings.config)
    outcome = fit_stage(prepared, k, settings.config, previous, version, fitted_at)
    return outcome.centroids


def _scored_sample(
    features: pd.DataFrame | FeatureSample, centroids: pd.DataFrame, settings: ModelSettings
) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    """The fit sample of the latest centroid version, scored with its stored centroids."""
    latest = _latest(centroids)
    prepared = prepare_sample(_rows(features), settings.config)
    segment_ids, matrix = centroid_matrix(latest, prepared.params.features)
    positions = assign_labels(prepared.X, matrix)
    names = latest.drop_duplicates("segment_id").set_index("segment_id")["segment_name"]
    return prepared, segment_ids, positions, [str(names[i]) for i in segment_ids]


def stability_model(
    features: pd.DataFrame | FeatureSample,
    centroids: pd.DataFrame,
    history: pd.DataFrame | None,
    settings: ModelSettings,
) -> pd.DataFrame:
    """segment_stability: bootstrap stability of a new version's segments."""
    if centroids.empty:
        return _empty(STABILITY_COLUMNS)
    version = int(centroids["model_version"].max())
    if history is not None and not history.empty and version in set(history["model_version"]):
        return _empty(STABILITY_COLUMNS)
    prepared, segment_ids, positions, names = _scored_sample(features, centroids, settings)
    fitted_at = pd.Timestamp(_latest(centroids)["fitted_at"].iloc[0]).to_pydatetime()
    return stability_stage(
        prepared, positions, segment_ids, names, settings.config, version, fitted_at
    )


def fit_sample_model(
    features: pd.DataFrame | FeatureSample,
    centroids: pd.DataFrame,
    history: pd.DataFrame | None,
    settings: ModelSettings,
) -> pd.DataFrame:
    """segment_fit_sample: each sampled customer of a new version with its Python label and
    raw values of every configured feature (long), so SQL can check its own scoring and
    measure drift."""
    if centroids.empty:
        return _empty(FIT_SAMPLE_COLUMNS)
    version = int(centroids["model_version"].max())
    if history is not None and not history.empty and version in set(history["model_version"]):
        return _empty(FIT_SAMPLE_COLUMNS)
    prepared, segment_ids, positions, _ = _scored_sample(features, centroids, settings)
    sample = prepared.sample
    labels = segment_ids[positions]
    # every configured feature, also one the transform dropped (constant or empty on the
    # sample): segment_feature_drift measures them all against this reference
    used = [f for f in settings.config.features if f in sample.columns]
    long = sample[[ID_COLUMN, *used]].melt(
        id_vars=ID_COLUMN, var_name="feature", value_name="feature_value"
    )
    long["segment_id"] = np.tile(labels, len(used))
    long["model_version"] = version
    long["feature_value"] = pd.to_numeric(long["feature_value"], errors="coerce").astype(np.float64)
    long["segment_id"] = long["segment_id"].astype(np.int64)
    long["model_version"] = long["model_version"].astype(np.int64)
    return long[FIT_SAMPLE_COLUMNS]

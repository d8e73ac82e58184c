"""The function the dbt Python models call: fit, measure, align and name the segmentation.

One call does, on a seeded sample of at most ``sample_size`` customers (sorted by
customer_id first, so the sample does not depend on the order the database returns rows):

1. fit the feature transform (winsorise, log1p, standardise, impute) and drop unusable
   features;
2. sweep k and choose it (Kneedle on inertia, silhouette fallback) among the k whose
   solution has no segment under the minimum size;
3. fit the final KMeans (respecting the minimum size);
4. align the clusters to the previous model version's segments (stable ids);
5. name and describe the segments;
6. measure bootstrap stability.

It returns three frames shaped for the public marts ``segment_k_selection``,
``segment_centroids`` (long: one row per segment and feature) and ``segment_stability``.
The SQL scoring model reproduces the assignment from ``segment_centroids`` alone:
``z = coalesce((t(c) - feature_mean) / feature_std, 0)`` with ``c = least(greatest(x,
clip_lower), clip_upper)`` and ``t(c) = ln(1 + greatest(c, 0))`` when ``use_log`` (guarded so
NULL stays NULL), then the nearest ``centroid_std`` by squared Euclidean distance, ties to
the lower segment_id (see :func:`assign_labels`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from segmentation.clustering.align import DEFAULT_ALIGNMENT_THRESHOLD, Alignment, align_segments
from segmentation.clustering.elbow import Selection, select_k, select_k_by_silhouette
from segmentation.clustering.fit import FINAL_N_INIT, assign_labels, fit_kmeans
from segmentation.clustering.naming import NAMING_VERSION, name_segments
from segmentation.clustering.sampling import sample_indices
from segmentation.clustering.stability import (
    NOT_APPLICABLE,
    STABILITY_MAX_ROWS,
    STABILITY_N_INIT,
    VERDICT_TEXT,
    bootstrap_stability,
    verdict,
)
from segmentation.clustering.structure import (
    GAP_MAX_ROWS,
    GAP_REFERENCES,
    GapResult,
    gap_statistic,
    structure_verdict,
)
from segmentation.clustering.sweep import SWEEP_N_INIT, sweep_k
from segmentation.clustering.transform import (
    TransformParams,
    apply_transform,
    fit_transform_params,
    inverse_transform,
)

logger = logging.getLogger(__name__)

ID_COLUMN = "customer_id"

K_SELECTION_COLUMNS = [
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
CENTROID_COLUMNS = [
    "model_version",
    "segment_id",
    "segment_name",
    "segment_description",
    "previous_segment_name",
    "feature",
    "use_log",
    "feature_mean",
    "feature_std",
    "clip_lower",
    "clip_upper",
    "centroid_std",
    "centroid_value",
    "segment_size_in_sample",
    "sample_rows",
    "alignment_distance",
    "max_segment_id_used",
    "config_hash",
    "fitted_at",
]
STABILITY_COLUMNS = [
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


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of a segmentation fit (all of them enter ``config_hash``).

    Attributes:
        features: feature columns of ``customer_features`` to cluster on, in order.
        log_features: subset of ``features`` to log1p-transform (skewed amounts and counts).
        k_min, k_max: k range of the sweep (k > rows - 1 is skipped).
        k_rule: how k is chosen: "elbow" (Kneedle on the inertia curve, k >= 2),
            "gap" (the gap statistic's 1-standard-error rule, k = 1 possible) or
            "silhouette" (the best silhouette, k >= 2).
        gap_references, gap_max_rows: reference sets (B) and subsample rows of the gap
            statistic (structure.py).
        winsor_quantile: each feature is clipped at its q and 1 - q quantiles of the fit
            sample before the log and standardisation (transform.py); 0 turns it off.
        min_segment_share: no rule chooses a k whose sweep solution has a segment under
            this share of the rows, and the final fit keeps every segment at or above it.
        min_segment_customers: the same with a number of customers of the fit sample (the
            larger of the two applies; see :func:`min_segment_size`), so a small shop gets no
            segment of one or two customers; with fewer than twice as many customers, no k
            above 1 is allowed and the model is one segment (``too_few_customers``).
        naming_version: the version of the naming vocabulary (clustering/naming.py). It is
            part of the configuration hash, so a release that renames archetypes refits an
            existing warehouse once and its segments get names the playbook knows.
        sample_size: cap on the customers used for the fit (seeded sample).
        bootstrap: bootstrap resamples for the stability.
        seed: seeds the sample, the KMeans fits, silhouette sampling and the bootstrap.
        alignment_threshold: max distance (new standardised space) for a segment id match.
        silhouette_sample: rows used for the sweep's silhouette.
        knee_sensitivity: Kneedle's S.
        knee_scale: "log" (Kneedle on log inertia, default) or "linear".
        final_n_init, sweep_n_init, stability_n_init: KMeans starts for each stage.
        sweep_max_rows: optional smaller seeded subsample of the fit sample for the sweep.
        stability_max_rows: cap on the fit-sample rows used for the bootstrap.
    """

    features: list[str]
    log_features: list[str] = field(default_factory=list)
    k_min: int = 1
    k_max: int = 10
    k_rule: str = "elbow"
    gap_references: int = GAP_REFERENCES
    gap_max_rows: int = GAP_MAX_ROWS
    winsor_quantile: float = 0.01
    min_segment_share: float = 0.01
    min_segment_customers: int = 30
    naming_version: int = NAMING_VERSION
    sample_size: int = 200_000
    bootstrap: int = 30
    seed: int = 42
    alignment_threshold: float = DEFAULT_ALIGNMENT_THRESHOLD
    silhouette_sample: int = 10_000
    knee_sensitivity: float = 1.0
    knee_scale: str = "log"
    final_n_init: int = FINAL_N_INIT
    sweep_n_init: int = SWEEP_N_INIT
    stability_n_init: int = STABILITY_N_INIT
    sweep_max_rows: int | None = None
    stability_max_rows: int = STABILITY_MAX_ROWS


def config_hash(config: SegmentationConfig) -> str:
    """A short stable fingerprint (16 hex chars of SHA-256) of the configuration, so a dbt
    model can tell whether the configuration changed since the stored version."""
    payload = json.dumps(asdict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SegmentationResult:
    """Output of :func:`fit_segmentation`.

    The three frames are ready to be returned by the dbt Python models; the rest is for
    tests, logging and callers that want more detail.
    """

    k_selection: pd.DataFrame
    centroids: pd.DataFrame
    stability: pd.DataFrame
    dropped_features: pd.DataFrame
    selection: Selection
    transform: TransformParams
    alignment: Alignment
    config_hash: str
    sample_customer_ids: pd.Series
    sample_labels: np.ndarray  # segment id of each sampled customer, int64
    centroid_matrix: np.ndarray = field(repr=False)  # k x features, rows in segment_ids order
    segment_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def _timestamp(value: datetime) -> pd.Timestamp:
    """``fitted_at`` as a naive UTC timestamp (DuckDB TIMESTAMP, BI-friendly)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _previous_wide(
    previous: pd.DataFrame | None,
) -> tuple[np.ndarray | None, list[str], list[int], int | None]:
    """Previous centroids (long layout) as (matrix in original units, features, ids, max id).

    Only the latest ``model_version`` present is used; ``max_segment_id_used`` (when present)
    carries the highest id ever used, so ids retired earlier are never reused.
    """
    if previous is None or previous.empty:
        return None, [], [], None
    frame = previous
    if "model_version" in frame.columns:
        frame = frame[frame["model_version"] == frame["model_version"].max()]
    wide = frame.pivot_table(
        index="segment_id",
        columns="feature",
        values="centroid_value",
        aggfunc="first",
        dropna=False,
    ).sort_index()
    wide = wide.reindex(columns=sorted(wide.columns))
    max_id = int(frame["segment_id"].max())
    if "max_segment_id_used" in previous.columns:
        max_id = max(max_id, int(pd.to_numeric(previous["max_segment_id_used"]).max()))
    return (
        wide.to_numpy(dtype=np.float64),
        [str(c) for c in wide.columns],
        [int(i) for i in wide.index],
        max_id,
    )


def _previous_names(previous: pd.DataFrame | None) -> dict[int, str]:
    """segment id -> name in the latest previous version (empty without one)."""
    if previous is None or previous.empty or "segment_name" not in previous.columns:
        return {}
    frame = previous
    if "model_version" in frame.columns:
        frame = frame[frame["model_version"] == frame["model_version"].max()]
    first = frame.drop_duplicates("segment_id")
    return {int(i): str(n) for i, n in zip(first["segment_id"], first["segment_name"], strict=True)}


def _raw_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Feature columns as float64 with NaN for missing or non-finite values."""
    raw = frame[features].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    return raw.where(np.isfinite(raw))


@dataclass(frozen=True)
class PreparedSample:
    """The seeded fit sample, its transform and the standardised matrix.

    Deterministic for (features, config): every stage (sweep, fit, stability) recomputes it
    and gets the same rows and the same floats, so the stages can run as separate dbt models.
    """

    sample: pd.DataFrame
    params: TransformParams
    X: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FitOutcome:
    """The final fit in segment id order."""

    centroids: pd.DataFrame
    segment_ids: np.ndarray
    segment_names: list[str]
    centres_std: np.ndarray = field(repr=False)
    positions: np.ndarray = field(repr=False)  # index into segment_ids for each sample row
    alignment: Alignment


def validate_features(features: pd.DataFrame) -> None:
    """Refuse inputs the fit cannot use, with a message that says why."""
    if ID_COLUMN not in features.columns:
        raise ValueError(f"the features frame has no {ID_COLUMN!r} column")
    if features.empty:
        raise ValueError("the features frame has no rows: nothing to segment")
    if features[ID_COLUMN].isna().any():
        raise ValueError(f"{ID_COLUMN} has null values in the features frame")
    if features[ID_COLUMN].duplicated().any():
        raise ValueError(f"{ID_COLUMN} is not unique in the features frame")


def prepare_sample(features: pd.DataFrame, config: SegmentationConfig) -> PreparedSample:
    """Sort by customer_id, draw the seeded sample (at most ``sample_size`` rows), fit the
    transform on it and standardise it.

    Raises:
        ValueError: bad input (see :func:`validate_features`) or no usable feature.
    """
    validate_features(features)
    ordered = features.sort_values(ID_COLUMN, kind="mergesort").reset_index(drop=True)
    sample = ordered.iloc[sample_indices(len(ordered), config.sample_size, config.seed)]
    sample = sample.reset_index(drop=True)
    params = fit_transform_params(
        sample, config.features, config.log_features, winsor_quantile=config.winsor_quantile
    )
    if not params.params:
        raise ValueError(
            f"no usable feature for clustering among {len(sample):,} customer(s) with a kept "
            "purchase: "
            + ", ".join(f"{d.feature} ({d.reason})" for d in params.dropped)
            + ". Segments need customers whose features differ (more buyers: a longer or "
            "larger export); the staging and customer marts build without them "
            "(dbt build --select +dim_customers)"
        )
    return PreparedSample(sample=sample, params=params, X=apply_transform(sample, params))


def select_k_stage(
    prepared: PreparedSample,
    config: SegmentationConfig,
    version: int,
    fitted_at: datetime,
) -> tuple[pd.DataFrame, Selection]:
    """Sweep k over the configured range and choose it: the ``segment_k_selection`` rows."""
    X = prepared.X
    n = X.shape[0]
    sweep_rows = sample_indices(n, config.sweep_max_rows or n, config.seed)
    sweep = sweep_k(
        X[sweep_rows],
        k_min=config.k_min,
        k_max=config.k_max,
        seed=config.seed,
        n_init=config.sweep_n_init,
        silhouette_sample=config.silhouette_sample,
    )
    gap = (
        gap_statistic(
            X[sweep_rows],
            sweep["k"].tolist(),
            seed=config.seed,
            references=config.gap_references,
            max_rows=config.gap_max_rows,
        )
        if len(sweep_rows) >= 2
        else None  # one customer: nothing to compare
    )
    sweep["excluded_reason"] = excluded_reasons(sweep, min_segment_size(config, n) / n)
    selection = choose_k(sweep, gap, config, n)
    logger.info("chose k=%d (%s): %s", selection.k, selection.method, selection.reason)
    frame = _k_selection_frame(
        sweep, gap, selection, int(version), config_hash(config), _timestamp(fitted_at)
    )
    logger.info("cluster structure: %s", frame["structure_reason"].iloc[0])
    return frame, selection


K_RULES = ("elbow", "gap", "silhouette")


def min_segment_size(config: SegmentationConfig, rows: int) -> int:
    """The fewest customers of a fit sample of ``rows`` a segment may hold: the larger of
    ``min_segment_share`` of them and ``min_segment_customers``."""
    return max(math.ceil(config.min_segment_share * rows), config.min_segment_customers)


def excluded_reasons(sweep: pd.DataFrame, min_share: float) -> list[str | None]:
    """Per k of the sweep: why no rule may choose it (a segment under ``min_share`` of the
    rows), or None. k = 1 is never excluded."""
    reasons: list[str | None] = []
    for k, share in zip(sweep["k"], sweep["smallest_segment_share"], strict=True):
        if int(k) > 1 and share < min_share:
            reasons.append(
                f"its smallest segment holds {share:.2%} of the customers, under the "
                f"minimum segment size of {min_share:.2%}"
            )
        else:
            reasons.append(None)
    return reasons


def choose_k(
    sweep: pd.DataFrame,
    gap: GapResult | None,
    config: SegmentationConfig,
    rows: int | None = None,
) -> Selection:
    """The k of the configured rule (``config.k_rule``, one of K_RULES) among the k not
    excluded for a segment under the minimum size (``excluded_reason``; all k when the
    column is absent); ``gap`` is None when the sample has a single row. ``rows``: the fit
    sample's customers; fewer than twice ``min_segment_customers`` give one segment."""
    if config.k_rule not in K_RULES:
        raise ValueError(f"k rule {config.k_rule!r}: use one of {', '.join(K_RULES)}")
    excluded = (
        sweep["excluded_reason"].notna()
        if "excluded_reason" in sweep.columns
        else pd.Series(False, index=sweep.index)
    )
    too_few = rows is not None and rows < 2 * config.min_segment_customers
    if too_few and (sweep["k"] == 1).any():
        return Selection(
            1,
            "too_few_customers",
            f"{rows} customers in the fit sample: two segments need at least "
            f"{2 * config.min_segment_customers} (var segmentation_min_segment_customers = "
            f"{config.min_segment_customers}), so one segment",
        )
    allowed = sweep[~excluded]
    note = ""
    if excluded.any():
        ks = ", ".join(str(int(k)) for k in sweep.loc[excluded, "k"])
        minimum = (
            f"{config.min_segment_share:.0%}"
            if rows is None
            else f"{min_segment_size(config, rows)} of {rows} customers"
        )
        note = f"; not allowed (a segment under {minimum}): k={ks}"
    if allowed.empty:
        # every k in the range makes a micro-segment: take the one whose smallest is largest
        best = sweep.sort_values(["smallest_segment_share", "k"], ascending=[False, True])
        k = int(best["k"].iloc[0])
        return Selection(
            k,
            "min_size_fallback",
            f"every k in the range has a segment under the minimum size; chose k={k}, whose "
            f"smallest segment is the largest ({best['smallest_segment_share'].iloc[0]:.2%})",
        )
    if config.k_rule == "elbow":
        chosen = _elbow_selection(sweep, allowed, config)
    elif config.k_rule == "silhouette":
        chosen = select_k_by_silhouette(allowed)
    elif gap is None:
        chosen = Selection(1, "only_k", "one customer: only k=1 could be tried")
    else:
        chosen = _gap_selection(gap, allowed["k"].astype(int).tolist())
    return Selection(chosen.k, chosen.method, chosen.reason + note)


def _elbow_selection(
    sweep: pd.DataFrame, allowed: pd.DataFrame, config: SegmentationConfig
) -> Selection:
    """Kneedle's knee of the whole inertia curve, or when that k is not allowed the largest
    allowed k (>= 2) below it, as the gap rule does: the knee is where the curve flattens, so
    the k after it, excluded or not, are what shows it (on the allowed k only, the knee of six
    planted groups sat at the end of the curve and went unseen). Without a knee, or without
    an allowed k below it, the elbow rule and its fallbacks run on the allowed k."""
    whole = select_k(sweep, sensitivity=config.knee_sensitivity, scale=config.knee_scale)
    if whole.method == "kneedle":
        allowed_ks = set(allowed["k"].astype(int))
        if whole.k in allowed_ks:
            return whole
        below = [k for k in allowed_ks if 2 <= k < whole.k]
        if below:
            k = max(below)
            return Selection(k, "kneedle", f"{whole.reason}; k={whole.k} is not allowed, so k={k}")
    return select_k(allowed, sensitivity=config.knee_sensitivity, scale=config.knee_scale)


def _gap_selection(gap: GapResult, allowed: list[int]) -> Selection:
    """The gap statistic's k, or when it is not allowed the largest allowed k below it (more
    segments would split off one under the minimum size)."""
    why = (
        f"the gap statistic's 1-standard-error rule gives k={gap.k} "
        f"({gap.references} uniform reference sets over the principal-component box of "
        f"{gap.rows_used} customers)"
    )
    if gap.k in allowed:
        return Selection(gap.k, "gap", why)
    below = [k for k in allowed if k < gap.k]
    k = max(below) if below else min(allowed)
    return Selection(k, "gap", f"{why}; k={gap.k} is not allowed, so k={k}")


def fit_stage(
    prepared: PreparedSample,
    k: int,
    config: SegmentationConfig,
    previous_centroids: pd.DataFrame | None,
    version: int,
    fitted_at: datetime,
) -> FitOutcome:
    """Fit KMeans with the chosen k, give the clusters stable ids (aligned to the previous
    version), name them: the ``segment_centroids`` rows."""
    X, params, sample = prepared.X, prepared.params, prepared.sample
    min_size = min_segment_size(config, X.shape[0]) if k > 1 else 0
    model = fit_kmeans(X, k, config.seed, n_init=config.final_n_init, min_size=min_size)
    centres_std = np.asarray(model.cluster_centers_, dtype=np.float64)
    centres_original = inverse_transform(centres_std, params)
    fit_sizes = np.bincount(model.labels_, minlength=k)

    prev_matrix, prev_features, prev_ids, prev_max = _previous_wide(previous_centroids)
    alignment = align_segments(
        centres_original,
        params,
        fit_sizes,
        previous_centroids_original=prev_matrix,
        previous_features=prev_features,
        previous_ids=prev_ids,
        max_previous_id=prev_max,
        threshold=config.alignment_threshold,
    )
    order = sorted(range(k), key=lambda i: alignment.mapping[i])
    segment_ids = np.array([alignment.mapping[i] for i in order], dtype=np.int64)
    centres_std = centres_std[order]
    centres_original = centres_original[order]
    positions = assign_labels(X, centres_std)  # the SQL rule, in segment id order
    sizes = np.bincount(positions, minlength=k).astype(np.int64)

    feature_names = params.features
    raw = _raw_matrix(sample, feature_names)
    z_frame = pd.DataFrame(centres_std, index=segment_ids, columns=feature_names)
    by_segment = raw.groupby(segment_ids[positions])
    naming = name_segments(
        z_frame,
        by_segment.mean().reindex(segment_ids),
        raw.mean(),
        _previous_names(previous_centroids),
        segment_medians=by_segment.median().reindex(segment_ids),
    )

    centroids = _centroids_frame(
        params=params,
        segment_ids=segment_ids,
        naming=naming,
        centres_std=centres_std,
        centres_original=centres_original,
        sizes=sizes,
        sample_rows=X.shape[0],
        alignment=alignment,
        order=order,
        version=int(version),
        fingerprint=config_hash(config),
        fitted=_timestamp(fitted_at),
    )
    return FitOutcome(
        centroids=centroids,
        segment_ids=segment_ids,
        segment_names=naming.loc[segment_ids, "segment_name"].to_list(),
        centres_std=centres_std,
        positions=positions,
        alignment=alignment,
    )


def stability_stage(
    prepared: PreparedSample,
    positions: np.ndarray,
    segment_ids: np.ndarray,
    segment_names: list[str],
    config: SegmentationConfig,
    version: int,
    fitted_at: datetime,
) -> pd.DataFrame:
    """Bootstrap stability of the clustering as scored: the ``segment_stability`` rows."""
    k = len(segment_ids)
    stability = bootstrap_stability(
        prepared.X,
        positions,
        k,
        bootstrap=config.bootstrap,
        seed=config.seed,
        n_init=config.stability_n_init,
        max_rows=config.stability_max_rows,
    )
    fitted = _timestamp(fitted_at)
    return pd.DataFrame(
        {
            "model_version": np.full(k, int(version), dtype=np.int64),
            "segment_id": np.asarray(segment_ids, dtype=np.int64),
            "segment_name": list(segment_names),
            "mean_jaccard": stability.mean_jaccard.astype(np.float64),
            "verdict": [NOT_APPLICABLE] * k
            if k == 1
            else [verdict(float(v)) for v in stability.mean_jaccard],
            "dissolved_resamples": stability.dissolved.astype(np.int64),
            "mean_ari": np.full(k, stability.mean_ari, dtype=np.float64),
            "bootstrap_resamples": np.full(k, stability.bootstrap_resamples, dtype=np.int64),
            "stability_rows": np.full(k, stability.rows_used, dtype=np.int64),
            "verdict_rule": [VERDICT_TEXT] * k,
            "fitted_at": pd.Series([fitted] * k, dtype="datetime64[us]"),
        },
        columns=STABILITY_COLUMNS,
    )


def centroid_matrix(centroids: pd.DataFrame, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stored centroids (long rows of one version) as (segment ids, k x features matrix of
    centroid_std) in segment id order and the given feature order."""
    wide = centroids.pivot_table(
        index="segment_id", columns="feature", values="centroid_std", aggfunc="first"
    ).sort_index()
    return wide.index.to_numpy(dtype=np.int64), wide[features].to_numpy(dtype=np.float64)


def fit_segmentation(
    features: pd.DataFrame,
    config: SegmentationConfig,
    previous_centroids: pd.DataFrame | None,
    model_version: int,
    fitted_at: datetime,
) -> SegmentationResult:
    """Fit a segmentation version on ``customer_features`` and return the mart frames
    (all stages in one call; the dbt models run the same stages one model each).

    Args:
        features: one row per customer: ``customer_id`` plus numeric feature columns.
        config: the fit settings.
        previous_centroids: the previous version's ``segment_centroids`` rows (same long
            layout as the output), or None for the first version.
        model_version: version number written to every output row.
        fitted_at: fit timestamp written to every output row (stored as naive UTC).

    Raises:
        ValueError: no rows, null or duplicate customer ids, or no usable feature.
    """
    prepared = prepare_sample(features, config)
    k_selection, selection = select_k_stage(prepared, config, model_version, fitted_at)
    outcome = fit_stage(prepared, selection.k, config, previous_centroids, model_version, fitted_at)
    stability = stability_stage(
        prepared,
        outcome.positions,
        outcome.segment_ids,
        outcome.segment_names,
        config,
        model_version,
        fitted_at,
    )
    return SegmentationResult(
        k_selection=k_selection,
        centroids=outcome.centroids,
        stability=stability,
        dropped_features=prepared.params.dropped_frame(),
        selection=selection,
        transform=prepared.params,
        alignment=outcome.alignment,
        config_hash=config_hash(config),
        sample_customer_ids=prepared.sample[ID_COLUMN].reset_index(drop=True),
        sample_labels=outcome.segment_ids[outcome.positions],
        centroid_matrix=outcome.centres_std,
        segment_ids=outcome.segment_ids,
    )


def _k_selection_frame(
    sweep: pd.DataFrame,
    gap: GapResult | None,
    selection: Selection,
    version: int,
    fingerprint: str,
    fitted: pd.Timestamp,
) -> pd.DataFrame:
    """The sweep with the gap statistic, the choice and the structure verdict: one row per k
    tried."""
    rows = len(sweep)
    gap_table = gap.table if gap is not None else pd.DataFrame(columns=["k", "gap", "gap_se"])
    frame = sweep.merge(gap_table.astype({"k": np.int64}), on="k", how="left")
    frame["gap"] = frame["gap"].astype(np.float64)
    frame["gap_se"] = frame["gap_se"].astype(np.float64)
    frame.insert(0, "model_version", np.full(rows, version, dtype=np.int64))
    chosen = frame["k"] == selection.k
    silhouette = frame.loc[chosen, "silhouette"]
    verdict, why = structure_verdict(
        selection.k,
        float(silhouette.iloc[0]) if len(silhouette) else None,
        None if gap is None else gap.k,
    )
    frame["is_chosen"] = chosen.astype(bool)
    if "excluded_reason" not in frame.columns:
        frame["excluded_reason"] = None
    frame["excluded_reason"] = frame["excluded_reason"].astype("string")  # VARCHAR if all null
    frame["method"] = [selection.method] * rows
    frame["reason"] = [selection.reason] * rows
    frame["cluster_structure"] = [verdict] * rows
    frame["structure_reason"] = [why] * rows
    frame["config_hash"] = [fingerprint] * rows
    frame["fitted_at"] = pd.Series([fitted] * rows, dtype="datetime64[us]")
    return frame[K_SELECTION_COLUMNS].reset_index(drop=True)


def _centroids_frame(
    *,
    params: TransformParams,
    segment_ids: np.ndarray,
    naming: pd.DataFrame,
    centres_std: np.ndarray,
    centres_original: np.ndarray,
    sizes: np.ndarray,
    sample_rows: int,
    alignment: Alignment,
    order: list[int],
    version: int,
    fingerprint: str,
    fitted: pd.Timestamp,
) -> pd.DataFrame:
    """Long centroids: one row per (segment, kept feature), segment id then feature order."""
    k, d = centres_std.shape
    distances = [alignment.distances[i] for i in order]
    seg = np.repeat(segment_ids, d)
    total = k * d
    return pd.DataFrame(
        {
            "model_version": np.full(total, version, dtype=np.int64),
            "segment_id": seg.astype(np.int64),
            "segment_name": naming.loc[seg, "segment_name"].to_list(),
            "segment_description": naming.loc[seg, "segment_description"].to_list(),
            "previous_segment_name": pd.Series(
                naming.loc[seg, "previous_segment_name"].to_list(), dtype="string"
            ),
            "feature": params.features * k,
            "use_log": np.tile(params.use_log, k).astype(bool),
            "feature_mean": np.tile(params.means, k).astype(np.float64),
            "feature_std": np.tile(params.stds, k).astype(np.float64),
            "clip_lower": np.tile(params.clip_lowers, k).astype(np.float64),
            "clip_upper": np.tile(params.clip_uppers, k).astype(np.float64),
            "centroid_std": centres_std.reshape(-1).astype(np.float64),
            "centroid_value": centres_original.reshape(-1).astype(np.float64),
            "segment_size_in_sample": np.repeat(sizes, d).astype(np.int64),
            "sample_rows": np.full(total, sample_rows, dtype=np.int64),
            "alignment_distance": np.repeat(
                np.array([np.nan if v is None else v for v in distances], dtype=np.float64), d
            ),
            "max_segment_id_used": np.full(total, alignment.max_segment_id, dtype=np.int64),
            "config_hash": [fingerprint] * total,
            "fitted_at": pd.Series([fitted] * total, dtype="datetime64[us]"),
        },
        columns=CENTROID_COLUMNS,
    )

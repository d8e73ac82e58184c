"""Feature transform for clustering: winsorising, optional log1p, z-standardisation,
imputation by the mean.

The transform is deliberately simple so that the SQL scoring model can reproduce it from the
stored parameters (one row per feature: feature, use_log, mean, std, clip_lower,
clip_upper):

    c = case when x is not null then least(greatest(x, clip_lower), clip_upper) end
    coalesce((case when use_log then ln(1 + greatest(c, 0)) else c end - mean) / std, 0)

Winsorising (robustness to outliers): each feature is first clipped to the range between
two observed values of the fit sample, the ``q`` and ``1 - q`` quantiles (``q`` =
``winsor_quantile``, var ``segmentation_winsor_quantile``, default 0.01; numpy's
``method="lower"`` and ``"higher"``, so both bounds are values that occur in the sample).
Without it one customer with a spend a thousand times the median, or a feature that is 0
for all but two customers, standardises to z ~ 60 and takes a KMeans segment of its own.
The mean and std are those of the clipped values, so z stays bounded. A feature whose
middle ``1 - 2q`` of the sample holds one value is dropped as ``near_constant``: it only
tells a handful of customers apart, which is a micro-segment, not a segment. Clipping is a
comparison with stored doubles, so SQL repeats it exactly.

Notes on matching SQL:

* The log step is ``log1p(max(x, 0))``; negative values are clipped to 0 first, like
  ``ln(1 + greatest(x, 0))``. Beware: in DuckDB ``greatest(NULL, 0)`` is ``0`` (NULLs are
  skipped), so the SQL must keep the ``case when x is not null`` guard, or a missing value
  would become ``(0 - mean) / std`` instead of being imputed with 0 (see :func:`sql_expression`).
* ``mean`` and ``std`` are computed over the non-null values only (like SQL ``avg`` and
  ``stddev_pop``), with the population standard deviation (ddof=0).
* Missing values are imputed AFTER standardisation with 0, i.e. with the (transformed) mean.
* In DuckDB ``greatest``/``least`` also skip a NULL bound, so a version stored without clip
  bounds (NULL) is scored unclipped.
* Non-finite values (+/-inf) are treated as missing; the SQL features should not contain them.

Features that are absent from the frame, all-null, or constant on the fit data cannot be
standardised; they are dropped with a warning and reported as (feature, reason).

Float agreement with SQL: the clip, log and standardisation are the same IEEE operations in
numpy and DuckDB (``np.log1p`` and ``ln(1 + x)`` may differ in the last bit for tiny x), so
the z values agree to about 1e-15 and the nearest centroid agrees except for customers
within that distance of a tie; the dbt test
``assert_sql_scoring_of_the_fit_sample_equals_python_labels`` checks the labels on every
build.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: A feature whose population std is below ``STD_TOLERANCE * max(1, |mean|)`` counts as constant.
STD_TOLERANCE = 1e-12


@dataclass(frozen=True)
class FeatureParams:
    """Transform parameters of one feature, enough to reproduce the transform in SQL."""

    feature: str
    use_log: bool
    mean: float
    std: float
    clip_lower: float | None = None  # winsorising bounds in original units (None: no clip)
    clip_upper: float | None = None


@dataclass(frozen=True)
class DroppedFeature:
    """A configured feature that was not used, and why (missing_column, all_null, constant)."""

    feature: str
    reason: str


@dataclass(frozen=True)
class TransformParams:
    """Fitted transform: the kept features (in matrix column order) and the dropped ones."""

    params: tuple[FeatureParams, ...]
    dropped: tuple[DroppedFeature, ...] = ()

    @property
    def features(self) -> list[str]:
        """Names of the kept features, in the column order of the transformed matrix."""
        return [p.feature for p in self.params]

    @property
    def means(self) -> np.ndarray:
        """Means of the (log-)transformed features, float64."""
        return np.array([p.mean for p in self.params], dtype=np.float64)

    @property
    def stds(self) -> np.ndarray:
        """Population standard deviations of the (log-)transformed features, float64."""
        return np.array([p.std for p in self.params], dtype=np.float64)

    @property
    def use_log(self) -> np.ndarray:
        """Boolean mask: which kept features are log1p-transformed."""
        return np.array([p.use_log for p in self.params], dtype=bool)

    @property
    def clip_lowers(self) -> np.ndarray:
        """Lower winsorising bounds in original units, NaN where there is none."""
        return _bounds([p.clip_lower for p in self.params])

    @property
    def clip_uppers(self) -> np.ndarray:
        """Upper winsorising bounds in original units, NaN where there is none."""
        return _bounds([p.clip_upper for p in self.params])

    def to_frame(self) -> pd.DataFrame:
        """Parameters as a DataFrame with columns feature, use_log, mean, std, clip_lower,
        clip_upper."""
        return pd.DataFrame(
            {
                "feature": pd.Series(self.features, dtype=object),
                "use_log": pd.Series(self.use_log, dtype=bool),
                "mean": pd.Series(self.means, dtype=np.float64),
                "std": pd.Series(self.stds, dtype=np.float64),
                "clip_lower": pd.Series(self.clip_lowers, dtype=np.float64),
                "clip_upper": pd.Series(self.clip_uppers, dtype=np.float64),
            }
        )

    def dropped_frame(self) -> pd.DataFrame:
        """Dropped features as a DataFrame with columns feature, reason."""
        return pd.DataFrame(
            {
                "feature": pd.Series([d.feature for d in self.dropped], dtype=object),
                "reason": pd.Series([d.reason for d in self.dropped], dtype=object),
            }
        )


def _bounds(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _clip(values: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    """``least(greatest(x, lower), upper)``; NaN stays NaN, a None bound does not clip."""
    low = -np.inf if lower is None or np.isnan(lower) else lower
    high = np.inf if upper is None or np.isnan(upper) else upper
    return np.clip(values, low, high)


def winsor_bounds(values: np.ndarray, quantile: float) -> tuple[float | None, float | None]:
    """The ``quantile`` and ``1 - quantile`` quantiles of the non-missing values, both
    observed values (numpy ``method="lower"`` / ``"higher"``); (None, None) when
    ``quantile`` is 0 or there is no value."""
    present = values[~np.isnan(values)]
    if quantile <= 0 or present.size == 0:
        return None, None
    return (
        float(np.quantile(present, quantile, method="lower")),
        float(np.quantile(present, 1.0 - quantile, method="higher")),
    )


def _raw_column(frame: pd.DataFrame, feature: str) -> np.ndarray:
    """A feature column as float64 with NaN for missing and non-finite values."""
    values = pd.to_numeric(frame[feature], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    values = values.copy()
    values[~np.isfinite(values)] = np.nan
    return values


def _log_step(values: np.ndarray, use_log: bool) -> np.ndarray:
    """``log1p(max(x, 0))`` when ``use_log``; NaN stays NaN."""
    if not use_log:
        return values
    with np.errstate(invalid="ignore"):
        return np.log1p(np.maximum(values, 0.0))


def fit_transform_params(
    frame: pd.DataFrame,
    features: Sequence[str],
    log_features: Sequence[str] = (),
    winsor_quantile: float = 0.0,
) -> TransformParams:
    """Fit the winsorising bounds, then mean and population std of each configured feature
    (clipped, after the optional log1p).

    Features absent from ``frame`` ("missing_column"), without any non-null value
    ("all_null"), with (near) zero spread ("constant") or with zero spread once clipped
    ("near_constant") are dropped with a warning, because they cannot be standardised and
    carry no information for clustering.

    Args:
        frame: the fit data (e.g. the seeded sample), one row per customer.
        features: configured feature columns, in the order to use.
        log_features: features to log1p-transform first (must be a subset of ``features``).
        winsor_quantile: clip each feature at its ``q`` and ``1 - q`` quantiles (0: no
            clipping); must be in [0, 0.5).

    Returns:
        The kept features' parameters and the dropped features with their reason.
    """
    log_set = set(log_features)
    unknown = log_set.difference(features)
    if unknown:
        raise ValueError(f"log_features not in features: {sorted(unknown)}")
    if len(set(features)) != len(features):
        raise ValueError(f"duplicate feature names in {list(features)}")
    if not 0.0 <= winsor_quantile < 0.5:
        raise ValueError(f"winsor_quantile must be in [0, 0.5), got {winsor_quantile}")
    kept: list[FeatureParams] = []
    dropped: list[DroppedFeature] = []
    for feature in features:
        use_log = feature in log_set
        if feature not in frame.columns:
            dropped.append(DroppedFeature(feature, "missing_column"))
            continue
        raw = _raw_column(frame, feature)
        if np.isnan(raw).all():
            dropped.append(DroppedFeature(feature, "all_null"))
            continue
        if _constant(_log_step(raw, use_log)):
            dropped.append(DroppedFeature(feature, "constant"))
            continue
        lower, upper = winsor_bounds(raw, winsor_quantile)
        values = _log_step(_clip(raw, lower, upper), use_log)
        if _constant(values):
            dropped.append(DroppedFeature(feature, "near_constant"))
            continue
        present = values[~np.isnan(values)]
        mean = float(np.mean(present))
        std = float(np.std(present, ddof=0))
        kept.append(FeatureParams(feature, use_log, mean, std, lower, upper))
    for d in dropped:
        message = f"feature {d.feature!r} dropped from clustering: {d.reason}"
        logger.warning(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return TransformParams(tuple(kept), tuple(dropped))


def _constant(values: np.ndarray) -> bool:
    """True when the non-missing values have (near) zero population spread."""
    present = values[~np.isnan(values)]
    mean = float(np.mean(present))
    return not float(np.std(present, ddof=0)) >= STD_TOLERANCE * max(1.0, abs(mean))


def apply_transform(frame: pd.DataFrame, params: TransformParams) -> np.ndarray:
    """Transform ``frame`` with fitted parameters into a float64 matrix (rows x kept features).

    Values are clipped to the winsorising bounds first; missing values become 0 after
    standardisation (the mean), like the SQL ``coalesce((t(clip(x)) - mean) / std, 0)``.
    """
    missing = [f for f in params.features if f not in frame.columns]
    if missing:
        raise KeyError(f"features missing from the frame: {missing}")
    out = np.empty((len(frame), len(params.params)), dtype=np.float64)
    for j, p in enumerate(params.params):
        clipped = _clip(_raw_column(frame, p.feature), p.clip_lower, p.clip_upper)
        z = (_log_step(clipped, p.use_log) - p.mean) / p.std
        out[:, j] = np.where(np.isnan(z), 0.0, z)
    return out


def transform_values(values: np.ndarray, params: TransformParams) -> np.ndarray:
    """Transform a matrix already in ``params.features`` column order (e.g. centroids in
    original units). Same semantics as :func:`apply_transform`."""
    values = np.asarray(values, dtype=np.float64)
    frame = pd.DataFrame(np.atleast_2d(values), columns=params.features)
    return apply_transform(frame, params)


def inverse_transform(standardised: np.ndarray, params: TransformParams) -> np.ndarray:
    """Map standardised rows (e.g. centroids) back to original units: ``z * std + mean``, then
    ``expm1`` for log features. Values that were clipped at 0 by the log step come back as 0."""
    z = np.atleast_2d(np.asarray(standardised, dtype=np.float64))
    values = z * params.stds + params.means
    log_mask = params.use_log
    values[:, log_mask] = np.expm1(values[:, log_mask])
    return values


def sql_expression(
    feature: str,
    use_log: bool,
    mean: float,
    std: float,
    clip_lower: float | None = None,
    clip_upper: float | None = None,
) -> str:
    """The SQL expression that reproduces the transform of one feature (for docs and tests).

    Uses ``repr`` of the floats so that no precision is lost.
    """
    value = feature
    if clip_lower is not None:
        value = f"greatest({value}, {clip_lower!r})"
    if clip_upper is not None:
        value = f"least({value}, {clip_upper!r})"
    inner = f"ln(1 + greatest({value}, 0))" if use_log else value
    return f"coalesce((case when {feature} is not null then {inner} end - ({mean!r})) / {std!r}, 0)"

"""Feature transform for clustering: optional log1p, z-standardisation, imputation by the mean.

The transform is deliberately simple so that the SQL scoring model can reproduce it exactly
from the stored parameters (one row per feature: feature, use_log, mean, std):

    coalesce((case when x is not null then ln(1 + greatest(x, 0)) end - mean) / std, 0)

Notes on matching SQL:

* The log step is ``log1p(max(x, 0))``; negative values are clipped to 0 first, like
  ``ln(1 + greatest(x, 0))``. Beware: in DuckDB ``greatest(NULL, 0)`` is ``0`` (NULLs are
  skipped), so the SQL must keep the ``case when x is not null`` guard, or a missing value
  would become ``(0 - mean) / std`` instead of being imputed with 0 (see :func:`sql_expression`).
* ``mean`` and ``std`` are computed over the non-null values only (like SQL ``avg`` and
  ``stddev_pop``), with the population standard deviation (ddof=0).
* Missing values are imputed AFTER standardisation with 0, i.e. with the (transformed) mean.
* Non-finite values (+/-inf) are treated as missing; the SQL features should not contain them.

Features that are absent from the frame, all-null, or constant on the fit data cannot be
standardised; they are dropped with a warning and reported as (feature, reason).
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

    def to_frame(self) -> pd.DataFrame:
        """Parameters as a DataFrame with columns feature, use_log, mean, std."""
        return pd.DataFrame(
            {
                "feature": pd.Series(self.features, dtype=object),
                "use_log": pd.Series(self.use_log, dtype=bool),
                "mean": pd.Series(self.means, dtype=np.float64),
                "std": pd.Series(self.stds, dtype=np.float64),
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
    frame: pd.DataFrame, features: Sequence[str], log_features: Sequence[str] = ()
) -> TransformParams:
    """Fit mean and population std of each configured feature (after the optional log1p).

    Features absent from ``frame`` ("missing_column"), without any non-null value
    ("all_null") or with (near) zero spread ("constant") are dropped with a warning, because
    they cannot be standardised and carry no information for clustering.

    Args:
        frame: the fit data (e.g. the seeded sample), one row per customer.
        features: configured feature columns, in the order to use.
        log_features: features to log1p-transform first (must be a subset of ``features``).

    Returns:
        The kept features' parameters and the dropped features with their reason.
    """
    log_set = set(log_features)
    unknown = log_set.difference(features)
    if unknown:
        raise ValueError(f"log_features not in features: {sorted(unknown)}")
    if len(set(features)) != len(features):
        raise ValueError(f"duplicate feature names in {list(features)}")
    kept: list[FeatureParams] = []
    dropped: list[DroppedFeature] = []
    for feature in features:
        use_log = feature in log_set
        if feature not in frame.columns:
            dropped.append(DroppedFeature(feature, "missing_column"))
            continue
        values = _log_step(_raw_column(frame, feature), use_log)
        present = values[~np.isnan(values)]
        if present.size == 0:
            dropped.append(DroppedFeature(feature, "all_null"))
            continue
        mean = float(np.mean(present))
        std = float(np.std(present, ddof=0))
        if not std >= STD_TOLERANCE * max(1.0, abs(mean)):
            dropped.append(DroppedFeature(feature, "constant"))
            continue
        kept.append(FeatureParams(feature, use_log, mean, std))
    for d in dropped:
        message = f"feature {d.feature!r} dropped from clustering: {d.reason}"
        logger.warning(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return TransformParams(tuple(kept), tuple(dropped))


def apply_transform(frame: pd.DataFrame, params: TransformParams) -> np.ndarray:
    """Transform ``frame`` with fitted parameters into a float64 matrix (rows x kept features).

    Missing values become 0 after standardisation (the mean), exactly like the SQL
    ``coalesce((t(x) - mean) / std, 0)``.
    """
    missing = [f for f in params.features if f not in frame.columns]
    if missing:
        raise KeyError(f"features missing from the frame: {missing}")
    out = np.empty((len(frame), len(params.params)), dtype=np.float64)
    for j, p in enumerate(params.params):
        z = (_log_step(_raw_column(frame, p.feature), p.use_log) - p.mean) / p.std
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


def sql_expression(feature: str, use_log: bool, mean: float, std: float) -> str:
    """The SQL expression that reproduces the transform of one feature (for docs and tests).

    Uses ``repr`` of the floats so that no precision is lost.
    """
    inner = f"ln(1 + greatest({feature}, 0))" if use_log else feature
    return f"coalesce((case when {feature} is not null then {inner} end - ({mean!r})) / {std!r}, 0)"

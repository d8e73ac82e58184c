"""Tests of the feature transform: parameters, dropped features, inverse, SQL equivalence."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import (
    apply_transform,
    fit_transform_params,
    inverse_transform,
    sql_expression,
    transform_values,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    monetary = rng.lognormal(4, 1, n)
    monetary[[3, 17]] = np.nan
    monetary[5] = -2.0  # clipped at 0 by the log step
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "monetary": monetary,
            "frequency": rng.poisson(3, n).astype(float),
            "constant": np.full(n, 7.0),
            "empty": np.full(n, np.nan),
        }
    )


def test_params_use_population_std_and_ignore_nulls(frame: pd.DataFrame) -> None:
    params = fit_transform_params(frame, ["monetary", "frequency"], ["monetary"])
    logged = np.log1p(np.maximum(frame["monetary"], 0)).dropna()
    by_name = {p.feature: p for p in params.params}
    assert by_name["monetary"].use_log and not by_name["frequency"].use_log
    assert by_name["monetary"].mean == pytest.approx(logged.mean())
    assert by_name["monetary"].std == pytest.approx(logged.std(ddof=0))
    assert by_name["frequency"].std == pytest.approx(frame["frequency"].std(ddof=0))
    table = params.to_frame()
    assert list(table.columns) == ["feature", "use_log", "mean", "std", "clip_lower", "clip_upper"]
    assert table["clip_lower"].isna().all()  # winsor_quantile defaults to 0 here
    assert table["mean"].dtype == np.float64


def test_constant_all_null_and_missing_features_dropped_with_warning(
    frame: pd.DataFrame,
) -> None:
    with pytest.warns(UserWarning, match="dropped from clustering"):
        params = fit_transform_params(
            frame, ["monetary", "constant", "empty", "absent", "frequency"], ["empty"]
        )
    assert params.features == ["monetary", "frequency"]
    dropped = params.dropped_frame().set_index("feature")["reason"].to_dict()
    assert dropped == {"constant": "constant", "empty": "all_null", "absent": "missing_column"}
    assert apply_transform(frame, params).shape == (len(frame), 2)


def test_nulls_imputed_with_zero_after_standardising(frame: pd.DataFrame) -> None:
    params = fit_transform_params(frame, ["monetary", "frequency"], ["monetary"])
    X = apply_transform(frame, params)
    assert X.dtype == np.float64
    assert np.all(X[[3, 17], 0] == 0.0)
    assert not np.isnan(X).any()
    present = frame["monetary"].notna().to_numpy()
    assert X[present, 0].mean() == pytest.approx(0.0, abs=1e-12)
    assert X[present, 0].std() == pytest.approx(1.0)


def test_inverse_recovers_original_values(frame: pd.DataFrame) -> None:
    params = fit_transform_params(frame, ["monetary", "frequency"], ["monetary"])
    rows = frame.loc[frame["monetary"] >= 0, ["monetary", "frequency"]].dropna().head(20)
    back = inverse_transform(apply_transform(rows, params), params)
    np.testing.assert_allclose(back, rows.to_numpy(), rtol=1e-10)
    centroid = np.array([[0.3, -1.2]])
    np.testing.assert_allclose(
        transform_values(inverse_transform(centroid, params), params), centroid
    )


def test_transform_matches_sql_in_duckdb(frame: pd.DataFrame) -> None:
    """The documented SQL expression gives the same matrix, NULLs included."""
    params = fit_transform_params(frame, ["monetary", "frequency"], ["monetary"])
    expressions = ", ".join(
        f"{sql_expression(p.feature, p.use_log, p.mean, p.std)} as {p.feature}"
        for p in params.params
    )
    con = duckdb.connect()
    con.register("features", frame)
    sql = f"select {expressions} from features order by customer_id"
    result = con.sql(sql).df()
    expected = apply_transform(frame.sort_values("customer_id"), params)
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=0, atol=1e-12)


def test_log_features_must_be_configured_features(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="log_features"):
        fit_transform_params(frame, ["frequency"], ["monetary"])

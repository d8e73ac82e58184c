"""The path from raw files to customer_segments, and the monthly features of the trends,
stage the web sessions only when a session feature is configured (int_customer_daily_activity
joins them conditionally); the path to segments builds neither the monthly snapshots nor the
order- and return-level join models the marts use."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e


def _upstream_models(
    dbt_runner, tmp_path, features: list[str] | None, model: str = "customer_segments"
) -> set[str]:
    extra = {"segmentation_features": features} if features else None
    if features:
        extra["segmentation_log_features"] = []
    run = dbt_runner(
        ["ls", "--select", f"+{model}", "--resource-type", "model", "--output", "json",
         "--output-keys", "name"],
        tmp_path / "raw",
        tmp_path / "w.duckdb",
        extra_vars=extra,
    )  # fmt: skip
    assert run.returncode == 0, run.output
    names = set()
    for line in run.output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            names.add(json.loads(line)["name"])
    assert model in names, run.output
    return names


def test_default_features_do_not_need_the_web_sessions(tmp_path, dbt_runner):
    names = _upstream_models(dbt_runner, tmp_path, None)
    assert "int_customer_features_current" in names
    assert "stg_shop__order_items" in names
    assert not {n for n in names if "session" in n}, sorted(names)
    # the daily activity reads the order lines and the staged orders and returns: the
    # order-level and return-level join models are for the marts, not on the path
    assert not names & {"int_orders_summarised", "int_returns_joined_to_order_items"}
    assert {"int_order_lines", "int_customer_daily_activity", "int_customer_metrics"} <= names
    # the segments never wait for the month-end snapshots of the trends
    assert not names & {"int_customer_features_monthly", "int_customer_segments_monthly"}


def test_a_session_feature_brings_the_web_sessions_in(tmp_path, dbt_runner):
    names = _upstream_models(dbt_runner, tmp_path, ["recency_days", "session_count"])
    assert {"stg_shop__sessions", "int_customer_daily_activity"} <= names


def test_monthly_features_join_the_web_sessions_only_for_a_session_feature(tmp_path, dbt_runner):
    monthly = "int_customer_features_monthly"
    default = _upstream_models(dbt_runner, tmp_path, None, monthly)
    assert "stg_shop__order_items" in default
    assert not {n for n in default if "session" in n}, sorted(default)
    with_sessions = _upstream_models(
        dbt_runner, tmp_path, ["recency_days", "session_count"], monthly
    )
    assert "stg_shop__sessions" in with_sessions

"""docs/scripts/feature_choices.py, which prints the table of docs/segmentation.md "Choices:
what was tried": each row fits the configuration it names, and the shrunk return rates are
the formula the page gives."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location(
        "feature_choices", REPO / "docs" / "scripts" / "feature_choices.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_each_row_changes_what_its_label_says(script):
    base = script.project_config()
    assert script.ADDED in base.features  # the current defaults hold the added feature
    by_label = {c.label: script.config_for(c, base) for c in script.CHOICES}
    previous = by_label["previous defaults (8 features)"]
    assert len(previous.features) == 8 and script.ADDED not in previous.features
    current = next(v for k, v in by_label.items() if "the current defaults" in k)
    assert current.features == base.features and current.log_features == base.log_features
    sessions = by_label["+ session_count (log)"]
    assert sessions.features == [*previous.features, "session_count"]
    assert "session_count" in sessions.log_features
    swapped = by_label["return_rate_orders instead of return_rate_value"]
    assert "return_rate_value" not in swapped.features
    assert "return_rate_orders" in swapped.features
    assert "return_rate_orders" not in swapped.log_features  # a rate is not logged
    shrunk = next(v for k, v in by_label.items() if k.startswith("shrunk"))
    assert "shrunk_return_rate_units" in shrunk.features
    assert not any(f.startswith("return_rate_") for f in shrunk.features)
    assert by_label["previous defaults, Kneedle S = 0.5 instead of 1"].knee_sensitivity == 0.5


def test_shrunk_rates_follow_the_formula(script, tmp_path):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.customer_features as "
            "select * from (values ('a', 1.0), ('b', 2.0)) as t(customer_id, frequency)"
        )
        # the shop: 2 of 10 units returned, 20.0 of 100.0 refunded, 10.0 per unit
        con.execute(
            "create table marts.customer_returns as select * from (values "
            "('a', 1, 1, 10.0, 10.0), ('b', 9, 1, 90.0, 10.0)) "
            "as t(customer_id, units_sold, units_returned, value_sold, value_refunded)"
        )
    frame = script.read_features(db).set_index("customer_id")
    m = script.SHRINK_UNITS
    # a: one unit bought and returned, shrunk towards the shop's 20%
    assert frame.loc["a", "shrunk_return_rate_units"] == pytest.approx((1 + m * 0.2) / (1 + m))
    assert frame.loc["a", "shrunk_return_rate_value"] == pytest.approx(
        (10 + m * 10 * 0.2) / (10 + m * 10)
    )

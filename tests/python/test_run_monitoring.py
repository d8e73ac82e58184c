"""The monitoring tables keep one row per build, also for a build of a selection.

segmentation_runs and segmentation_run_segments are incremental on run_id, which they take
from int_run_started (this invocation's id). A `dbt build --select` of the monitoring tables
without int_run_started would merge its rows over the previous build's (same run id): the
models stop such a build with a message (macro require_run_started) and nothing changes;
with int_run_started selected, the build adds its own row.
"""

from __future__ import annotations

import duckdb
import pytest
from conftest import run_dbt
from shared_shop import FAST, shared_shop

pytestmark = pytest.mark.e2e

MONITORING = ("segmentation_runs", "segmentation_run_segments")


def _connect(shop) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(shop.db), read_only=True)


def _runs(shop) -> list[tuple]:
    with _connect(shop) as con:
        return con.sql(
            "select run_id, run_started_at, customers_scored from marts.segmentation_runs"
            " order by run_started_at"
        ).fetchall()


def test_a_selection_without_the_run_id_stops_and_keeps_the_history(tmp_path):
    shop = shared_shop(tmp_path / "shop")
    before = _runs(shop)
    assert len(before) == 1
    run = run_dbt(["build", "--select", *MONITORING], shop.raw, shop.db, FAST)
    assert run.returncode != 0
    # segmentation_runs reads segmentation_run_segments: the first one stops, the other is
    # skipped
    assert (
        "segmentation_run_segments records this build under the run id of int_run_started,"
        " which this build does not rebuild" in run.output
    ), run.output[-3000:]
    assert "dbt build --select int_run_started segmentation_run_segments" in run.output
    assert "SKIP relation marts.segmentation_runs" in run.output
    assert _runs(shop) == before


def test_a_selection_with_the_run_id_adds_its_own_row(tmp_path):
    shop = shared_shop(tmp_path / "shop")
    (first,) = _runs(shop)
    run = run_dbt(["build", "--select", "int_run_started", *MONITORING], shop.raw, shop.db, FAST)
    assert run.returncode == 0, run.output[-3000:]
    runs = _runs(shop)
    assert len(runs) == 2 and runs[0] == first
    assert runs[1][0] != first[0] and runs[1][1] > first[1]
    assert runs[1][2] == first[2]  # the same customers scored
    with _connect(shop) as con:
        per_run = con.sql(
            "select run_id, sum(customers) from marts.segmentation_run_segments group by all"
        ).fetchall()
    assert sorted(per_run) == sorted([(first[0], first[2]), (runs[1][0], first[2])])

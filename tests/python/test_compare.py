"""`python -m segmentation.compare` on two small DuckDB files written here."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from segmentation.compare import compare_warehouses, main


def warehouse(path: Path, statements: list[str]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate")
        for statement in statements:
            con.execute(statement)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two builds of one data set: the same facts, other run ids and build times."""
    a = warehouse(
        tmp_path / "a.duckdb",
        [
            "create table intermediate.int_run_started as select 'run-a' as run_id,"
            " timestamp '2026-12-01 06:00:00' as run_started_at",
            "create table intermediate.totals as select * from (values ('C1', 10), ('C2', 5))"
            " as t(customer_id, orders), (select timestamp '2026-12-01' as _built_at)",
        ],
    )
    b = warehouse(
        tmp_path / "b.duckdb",
        [
            "create table intermediate.int_run_started as select 'run-b' as run_id,"
            " timestamp '2026-12-02 06:00:00' as run_started_at",
            "create table intermediate.totals as select * from (values ('C2', 5), ('C1', 10))"
            " as t(customer_id, orders), (select timestamp '2026-12-02' as _built_at)",
        ],
    )
    return a, b


def test_a_table_of_run_metadata_only_is_compared_by_its_rows(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    a, b = pair
    assert compare_warehouses(a, b, schema="intermediate") == []
    assert main([str(a), str(b), "--schema", "intermediate"]) == 0
    assert capsys.readouterr().out.strip().endswith("equal")
    # one build more on one side: the metadata table has another row count
    with duckdb.connect(str(b)) as con:
        con.execute(
            "insert into intermediate.int_run_started values"
            " ('run-c', timestamp '2026-12-03 06:00:00')"
        )
    [difference] = compare_warehouses(a, b, schema="intermediate")
    assert (difference.table, difference.only_in_a, difference.only_in_b) == (
        "int_run_started",
        0,
        1,
    )


def test_a_differing_value_is_found_and_build_times_are_not(pair: tuple[Path, Path]) -> None:
    a, b = pair
    with duckdb.connect(str(b)) as con:
        con.execute("update intermediate.totals set orders = 6 where customer_id = 'C2'")
    [difference] = compare_warehouses(a, b, schema="intermediate")
    assert (difference.table, difference.only_in_a, difference.only_in_b) == ("totals", 1, 1)
    assert difference.example == ("C2", 5)

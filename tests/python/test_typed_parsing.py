"""Type-aware staging: native Parquet values (integers, decimals, timestamps, dates) are cast
directly, text goes through clean_string and try_cast. Both paths must stage the same data:
the same generated tables as Parquet and as CSV text build identical staged tables and
segmentation features."""

from __future__ import annotations

import duckdb
import pytest

from segmentation.generate import generate

pytestmark = pytest.mark.e2e

STAGED = [
    "staging.stg_shop__customers",
    "staging.stg_shop__orders",
    "staging.stg_shop__order_items",
    "staging.stg_shop__returns",
    "staging.stg_shop__products",
    "staging.stg_shop__sessions",
    "intermediate.int_customer_features_current",
]


def test_parquet_and_csv_text_stage_identically(tmp_path, dbt_runner):
    parquet_dir, csv_dir = tmp_path / "parquet", tmp_path / "csv"
    generate(customers=300, seed=11, out_dir=parquet_dir, truth_dir=tmp_path / "truth")
    csv_dir.mkdir()
    with duckdb.connect() as con:
        for path in sorted(parquet_dir.glob("*.parquet")):
            con.execute(
                f"copy (select * from read_parquet('{path}')) "
                f"to '{csv_dir / (path.stem + '.csv')}' (header, delimiter ',')"
            )
    selection = ["run", "--select", "+int_customer_features_current", "path:models/staging"]
    builds = {}
    for name, raw in [("parquet", parquet_dir), ("csv", csv_dir)]:
        run = dbt_runner(selection, raw, tmp_path / name / "w.duckdb")
        assert run.returncode == 0, run.output
        builds[name] = run.db_path
    with duckdb.connect() as con:
        con.execute(f"attach '{builds['parquet']}' as p (read_only)")
        con.execute(f"attach '{builds['csv']}' as c (read_only)")
        for table in STAGED:
            rows = con.sql(f"select count(*) from p.{table}").fetchall()[0][0]
            assert rows > 0, table
            # every column but the file each kept row came from (.parquet / .csv) and the
            # start of the build that wrote its base row (the kept orders, lines, sessions)
            columns = "columns(lambda c: c not in ('_source_file', '_built_at'))"
            p_rows = f"select {columns} from p.{table}"
            c_rows = f"select {columns} from c.{table}"
            differ = con.sql(
                f"select count(*) from (({p_rows} except {c_rows})"
                f" union all ({c_rows} except {p_rows}))"
            ).fetchall()[0][0]
            assert differ == 0, f"{table}: {differ} rows differ between Parquet and CSV"
        # the typed path was taken: Parquet's columns are native, the CSV's are text
        types = dict(
            con.sql(
                "select column_name, data_type from duckdb_columns() where database_name = 'p' "
                "and schema_name = 'raw' and table_name = 'order_items'"
            ).fetchall()
        )
        assert types["quantity"] != "VARCHAR" and types["unit_price"].startswith("DECIMAL")

"""Compare the public marts of two warehouses row for row (``EXCEPT ALL`` both ways).

Used by the tests that prove a build from batch files, or an incremental build, equals a
full rebuild (docs/incremental.md), and usable by hand::

    python -m segmentation.compare A.duckdb B.duckdb

Run metadata is left out of the comparison: columns that record when or in which run a
build happened (:data:`RUN_METADATA_COLUMNS`). Exit status 1 when a mart differs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

#: Columns that say when or in which run a row was built, not what the data says.
RUN_METADATA_COLUMNS = frozenset(
    {
        "run_id",
        "run_started_at",
        "run_finished_at",
        "built_at",
        "_built_at",
        "fitted_at",
        "fitted_run_id",
        "scored_at",
        "published_at",
        "dbt_invocation_id",
    }
)


#: Marts that record every build (one block per build): a copy's build extends them, so an
#: incremental warehouse and a full refresh of its copy differ there by design.
HISTORY_MARTS = frozenset(
    {"segmentation_runs", "segmentation_run_segments", "segment_feature_drift"}
)


@dataclass(frozen=True)
class TableDifference:
    """Rows of one table found only on one side (with duplicates counted)."""

    table: str
    only_in_a: int
    only_in_b: int
    example: tuple | None = None

    def format(self) -> str:
        text = f"{self.table}: {self.only_in_a} row(s) only in A, {self.only_in_b} only in B"
        return text + (f"; e.g. {self.example}" if self.example else "")


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? "
        "and table_schema = ?",
        [catalog, schema],
    ).fetchall()
    return {r[0] for r in rows}


def table_names(db: str | Path, schema: str = "marts") -> list[str]:
    """The tables of ``schema`` in the DuckDB file ``db``, sorted."""
    with duckdb.connect() as con:
        quoted = str(db).replace("'", "''")
        con.execute(f"attach '{quoted}' as a (read_only)")
        return sorted(_tables(con, "a", schema))


def compare_warehouses(
    db_a: str | Path,
    db_b: str | Path,
    *,
    schema: str = "marts",
    ignore_columns: frozenset[str] = RUN_METADATA_COLUMNS,
    tables: list[str] | None = None,
) -> list[TableDifference]:
    """The tables of ``schema`` that differ between the two DuckDB files (a table missing on
    one side, a column set that differs, or rows that differ), compared on every column but
    ``ignore_columns``. An empty list means equal."""
    con = duckdb.connect()
    try:
        for alias, path in (("a", db_a), ("b", db_b)):
            quoted = str(path).replace("'", "''")
            con.execute(f"attach '{quoted}' as {alias} (read_only)")
        names_a, names_b = _tables(con, "a", schema), _tables(con, "b", schema)
        wanted = sorted(names_a | names_b) if tables is None else tables
        differences = []
        for table in wanted:
            if table not in names_a or table not in names_b:
                differences.append(
                    TableDifference(
                        table,
                        int(table in names_a),
                        int(table in names_b),
                        ("missing on one side",),
                    )
                )
                continue
            cols_a = [c for c in _columns(con, "a", schema, table) if c not in ignore_columns]
            cols_b = [c for c in _columns(con, "b", schema, table) if c not in ignore_columns]
            if cols_a != cols_b:
                differences.append(TableDifference(table, 1, 1, ("columns differ", cols_a, cols_b)))
                continue
            # a table of run metadata only (e.g. the build's id) is compared by its row count
            select = ", ".join(f'"{c}"' for c in cols_a) or "1 as row_present"
            side_a = f"select {select} from a.{schema}.{table}"
            side_b = f"select {select} from b.{schema}.{table}"
            only_a = con.execute(f"select count(*) from ({side_a} except all {side_b})").fetchall()
            only_b = con.execute(f"select count(*) from ({side_b} except all {side_a})").fetchall()
            if only_a[0][0] or only_b[0][0]:
                example = (
                    con.execute(f"select * from ({side_a} except all {side_b}) limit 1").fetchall()
                    or con.execute(
                        f"select * from ({side_b} except all {side_a}) limit 1"
                    ).fetchall()
                )
                differences.append(TableDifference(table, only_a[0][0], only_b[0][0], example[0]))
        return differences
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db_a")
    parser.add_argument("db_b")
    parser.add_argument("--schema", default="marts")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TABLE",
        help="leave this table out (repeatable), e.g. the build-history marts",
    )
    args = parser.parse_args(argv)
    tables = None
    if args.skip:
        tables = [t for t in table_names(args.db_a, args.schema) if t not in args.skip]
    for path in (args.db_a, args.db_b):
        if not Path(path).is_file():
            print(f"error: no DuckDB file at {path}", file=sys.stderr)
            return 2
    differences = compare_warehouses(args.db_a, args.db_b, schema=args.schema, tables=tables)
    if not differences and not (tables or table_names(args.db_a, args.schema)):
        # nothing compared is not "equal": a schema name mistyped, or two empty warehouses
        print(f"error: no table in schema {args.schema!r} of {args.db_a}", file=sys.stderr)
        return 2
    for difference in differences:
        print(difference.format())
    print("equal" if not differences else f"{len(differences)} table(s) differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())

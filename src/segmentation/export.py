"""`segmentation export audiences`: one segment's audience as a CSV for the tools that act
on it (email, ads, CRM).

Reads ``marts.segment_audiences`` from the build database (read-only) and writes the rows of
one segment, chosen by id or by name (case-insensitive), highest priority first:
customer_id, email_sha256 (SHA-256 of the trimmed, lower-cased email: the format of ad
platforms' customer-match uploads), segment_id, segment_name, recommended_action,
priority_rank, priority_score, model_version.

The hashes are pseudonymised personal data, not anonymous data (docs/data-quality.md): the
export is opt-in, written only when this command is run, and never by `make run`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_DB = "data/warehouse.duckdb"
AUDIENCE_TABLE = "marts.segment_audiences"
AUDIENCE_COLUMNS = [
    "customer_id",
    "email_sha256",
    "segment_id",
    "segment_name",
    "recommended_action",
    "priority_rank",
    "priority_score",
    "model_version",
]


class ExportError(Exception):
    """A problem the user can fix (no build yet, unknown segment); the message says how."""


@dataclass(frozen=True)
class ExportResult:
    """What was written: the segment and the number of customers (with an email hash), and
    which warehouse it came from (the raw folder its builds read, when it records one)."""

    path: Path
    segment_id: int
    segment_name: str
    customers: int
    with_email: int
    db_path: Path
    built_from: str | None


def _segment(con: duckdb.DuckDBPyConnection, wanted: str) -> tuple[int, str]:
    """The (id, name) of the segment given as an id or a name."""
    segments = con.execute(
        f"select distinct segment_id, segment_name from {AUDIENCE_TABLE} order by segment_id"
    ).fetchall()
    text = wanted.strip()
    for segment_id, name in segments:
        if text == str(segment_id) or text.casefold() == str(name).casefold():
            return int(segment_id), str(name)
    listed = ", ".join(f"{i} ({n})" for i, n in segments) or "none: the table is empty"
    raise ExportError(f"no segment {wanted!r} in {AUDIENCE_TABLE}; the segments are: {listed}")


def export_audience(db_path: Path, segment: str, out: Path) -> ExportResult:
    """Write one segment's audience to ``out`` (CSV with a header), highest priority first."""
    if not db_path.is_file():
        raise ExportError(f"no build database at {db_path}: run `make run` (or dbt build) first")
    with duckdb.connect(str(db_path), read_only=True) as con:
        if not _has_table(con, "marts", "segment_audiences"):
            raise ExportError(
                f"{db_path} has no {AUDIENCE_TABLE}: it was built by an older release;"
                " run `make run` (or dbt build) to build it"
            )
        segment_id, name = _segment(con, segment)
        out.parent.mkdir(parents=True, exist_ok=True)
        columns = ", ".join(AUDIENCE_COLUMNS)
        con.execute(
            f"copy (select {columns} from {AUDIENCE_TABLE} where segment_id = ?"
            " order by priority_rank) to ? (header, delimiter ',')",
            [segment_id, str(out)],
        )
        customers, with_email = con.execute(
            f"select count(*), count(email_sha256) from {AUDIENCE_TABLE} where segment_id = ?",
            [segment_id],
        ).fetchall()[0]
        built_from = _built_from(con)
    return ExportResult(out, segment_id, name, int(customers), int(with_email), db_path, built_from)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _built_from(con: duckdb.DuckDBPyConnection) -> str | None:
    """The raw folder the warehouse's builds read (raw.built_from, macro
    check_warehouse_source), or None for a warehouse that does not record it."""
    if not _has_table(con, "raw", "built_from"):
        return None
    rows = con.execute("select raw_folder from raw.built_from").fetchall()
    return str(rows[0][0]) if rows else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["audiences"], help="what to export")
    parser.add_argument("--segment", required=True, help="segment id or name (as in dim_segments)")
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=(
            f"build DuckDB file, opened read-only (default: $SEGMENTATION_DB or {DEFAULT_DB},"
            " the demo's; `make run RAW=<folder>` builds data/warehouses/<folder name>.duckdb)"
        ),
    )


def main(args: argparse.Namespace) -> int:
    db_path = Path(args.db or os.environ.get("SEGMENTATION_DB") or DEFAULT_DB)
    try:
        result = export_audience(db_path, args.segment, args.out)
    except ExportError as exc:
        print(f"segmentation export: {exc}", file=sys.stderr)
        return 2
    # a warehouse per raw folder (make run RAW=...): say which shop the audience is from
    source = f", built from {result.built_from}" if result.built_from else ""
    print(
        f"wrote {result.customers:,} customers of segment {result.segment_id}"
        f" ({result.segment_name}; {result.with_email:,} with an email hash) to {result.path}"
        f"\nfrom the warehouse {result.db_path}{source} (another shop's: --db with the"
        " Warehouse path its `make run` printed)"
    )
    return 0

"""Split a raw folder into dated batch files, as a shop's daily exports would land.

``segmentation generate --split-at DATE`` / ``--daily N`` call :func:`split_into_batches`
after writing the demo data, so users, tests and benchmarks can replay a shop batch by batch
(docs/incremental.md). Each table ``<table>.parquet`` becomes a folder ``<table>/`` with one
file per batch, named by the day the batch lands (``2026-09-01.parquet`` holds what happened
before 2026-09-01 and after the previous batch), so file-name order is arrival order.

Which batch a row lands in (its arrival day; a row whose timestamp is missing or does not
parse lands in the first batch):

* orders: ``ordered_at``; order lines travel with their order;
* returns: ``returned_at``, so a late return of an old order lands in a later batch;
* sessions: ``started_at``;
* customers: the earliest of ``signup_at``, their first order and their first session (an
  account exists before it is used); products all land in the first batch.

Updates, as a shop re-sends changed rows:

* an order placed in the ``resend_days`` before a batch boundary whose final status is
  ``delivered`` or ``cancelled`` first lands as ``placed`` and is re-sent in the next batch
  with its final status;
* a ``customer_update_share`` of the customers that land before a boundary first land with
  the country of another customer and are re-sent, as they are, in the next batch.

The latest version of every row is the generated row, so a build of the batch folders keeps
exactly the rows a build of the single files keeps (the tests rely on it); only the superseded
versions differ. Not so with planted defects (``--defects``): a planted duplicate of an order
placed near a boundary may be re-sent too and then win as the later file's row. Everything
runs as DuckDB SQL over the raw files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from segmentation.preflight import _sql_str, csv_reader, parquet_reader

TABLES = ("customers", "orders", "order_items", "returns", "products", "sessions")

#: Days before a batch boundary in which a delivered or cancelled order first lands as placed.
DEFAULT_RESEND_DAYS = 3
#: Share of the customers landing before a boundary that are re-sent with a changed country.
DEFAULT_CUSTOMER_UPDATE_SHARE = 0.01


def batch_boundaries(
    end_date: dt.date, split_at: Sequence[dt.date] = (), daily: int = 0
) -> list[dt.date]:
    """The sorted landing days of all batches but the last: ``split_at`` plus, with ``daily``
    = N, each of the last N days of history (a batch per day). The last batch lands on the
    day after ``end_date``."""
    days = set(split_at)
    days.update(end_date - dt.timedelta(days=i) for i in range(daily))
    bad = [d for d in days if d > end_date]
    if bad:
        raise ValueError(f"batch boundary {min(bad)} is after the last day of history {end_date}")
    return sorted(days)


def _arrival_case(column: str, landing: list[dt.date]) -> str:
    """SQL: the landing day (DATE) of a row whose arrival timestamp is ``column``: the first
    landing day after it (the last batch takes the rest), the first batch when it is missing
    or does not parse."""
    whens = " ".join(
        f"when try_cast({column} as timestamp) < date '{day}' then date '{day}'"
        for day in landing[:-1]
    )
    return (
        f"case when try_cast({column} as timestamp) is null then date '{landing[0]}' {whens} "
        f"else date '{landing[-1]}' end"
    )


def split_into_batches(
    raw_dir: str | os.PathLike[str],
    boundaries: Sequence[dt.date],
    end_date: dt.date,
    *,
    resend_days: int = DEFAULT_RESEND_DAYS,
    customer_update_share: float = DEFAULT_CUSTOMER_UPDATE_SHARE,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Turn every ``<table>.parquet`` in ``raw_dir`` into a folder ``<table>/`` of batch
    files. Returns rows written per table and batch file name. The single files are removed
    only after every batch folder is written."""
    raw = Path(raw_dir)
    say = progress or (lambda _msg: None)
    days = sorted(set(boundaries))
    if not days:
        raise ValueError("give at least one batch boundary (--split-at or --daily)")
    landing = [*days, end_date + dt.timedelta(days=1)]
    con = duckdb.connect()
    written: dict[str, dict[str, int]] = {}
    staged: list[tuple[Path, Path]] = []
    try:
        con.execute("set TimeZone = 'UTC'")
        sources = _table_files(raw)
        for table, path in sources.items():
            con.execute(f"create view {table} as select * from {_reader(path)}")
        con.execute(_versions_sql("orders", landing, resend_days, customer_update_share))
        con.execute(
            _versions_sql(
                "customers", landing, resend_days, customer_update_share, "sessions" in sources
            )
        )
        for table, path in sources.items():
            folder = raw / f".{table}.batches-{os.getpid()}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            staged.append((folder, raw / table))
            # materialized once, then one copy per landing day
            con.execute(f"create temp table {table}_batched as {_batched_rows(table, landing)}")
            source = f"select * from {table}_batched"
            counts = {}
            fmt = path.suffix.lstrip(".")
            options = "format parquet, compression zstd" if fmt == "parquet" else "header"
            for day in landing:
                name = f"{day.isoformat()}.{fmt}"
                con.execute(
                    f"copy (select * exclude (_landed_on, _ordinal) from ({source}) "
                    f"where _landed_on = date '{day}' order by _ordinal) "
                    f"to {_sql_str(folder / name)} ({options})"
                )
                counts[name] = con.execute(
                    f"select count(*) from {_reader(folder / name)}"
                ).fetchall()[0][0]
            written[table] = counts
            say(f"{table}: {sum(counts.values()):,} rows in {len(counts)} batch files")
        for folder, target in staged:
            if target.exists():
                shutil.rmtree(target)
            folder.rename(target)
            sources[target.name].unlink()
        staged.clear()
    finally:
        con.close()
        for folder, _ in staged:
            shutil.rmtree(folder, ignore_errors=True)
    return written


def _table_files(raw: Path) -> dict[str, Path]:
    """The single file of every table in ``raw`` (``<table>.parquet`` or ``<table>.csv``)."""
    found = {}
    for table in TABLES:
        for ext in ("parquet", "csv"):
            if (raw / f"{table}.{ext}").is_file():
                found[table] = raw / f"{table}.{ext}"
                break
    if "orders" not in found or "customers" not in found:
        raise ValueError(f"{raw} has no orders or customers file to split")
    return found


def _reader(path: Path) -> str:
    """DuckDB table function of a raw file, as the dbt hook reads it (CSV as text, so the
    values are copied unchanged)."""
    if path.suffix == ".csv":
        return csv_reader(path)
    return parquet_reader(path)


def _versions_sql(
    table: str,
    landing: list[dt.date],
    resend_days: int,
    customer_update_share: float,
    has_sessions: bool = False,
) -> str:
    """SQL creating the temporary table ``<table>_versions``: every row of the table once, as
    the version that lands first, plus the later version of the rows that are re-sent (column
    ``_landed_on``)."""
    days = landing[:-1]
    if table == "orders":
        arrival = _arrival_case("ordered_at", landing)
        in_window = " or ".join(
            f"(try_cast(ordered_at as timestamp) >= date '{day}' - {int(resend_days)} "
            f"and try_cast(ordered_at as timestamp) < date '{day}')"
            for day in days
        )
        return f"""
        create temp table orders_versions as
        with landed as (
            select *, row_number() over () as _ordinal, {arrival} as _landed_on,
                lower(cast(status as varchar)) in ('delivered', 'cancelled')
                    and ({in_window}) as _resent
            from orders
        )
        select * exclude (_resent)
            replace (case when _resent then 'placed' else status end as status)
        from landed
        union all
        select * exclude (_resent) replace ({_next_day_sql("_landed_on", landing)} as _landed_on)
        from landed where _resent
        """
    # customers: the earlier of the signup and the first order; a share re-sent
    arrival = _arrival_case(
        "least(try_cast(signup_at as timestamp), first_order_at, first_session_at)", landing
    )
    threshold = int(round(customer_update_share * 1_000_000))
    first_sessions = (
        "select customer_id, min(try_cast(started_at as timestamp)) as first_session_at "
        "from sessions group by customer_id"
        if has_sessions
        else "select null as customer_id, cast(null as timestamp) as first_session_at"
    )
    return f"""
    create temp table customers_versions as
    with first_orders as (
        select customer_id, min(try_cast(ordered_at as timestamp)) as first_order_at
        from orders group by customer_id
    ),
    first_sessions as (
        {first_sessions}
    ),
    landed as (
        select customers.*, row_number() over () as _ordinal, {arrival} as _landed_on,
            lag(customers.country) over (order by customers.customer_id) as _other_country
        from customers
        left join first_orders using (customer_id)
        left join first_sessions using (customer_id)
    ),
    flagged as (
        select *,
            _landed_on <= date '{days[-1]}'
            and hash(customer_id) % 1000000 < {threshold}
            and _other_country is distinct from country as _resent
        from landed
    )
    select * exclude (_other_country, _resent)
        replace (case when _resent then _other_country else country end as country)
    from flagged
    union all
    select * exclude (_other_country, _resent)
        replace ({_next_day_sql("_landed_on", landing)} as _landed_on)
    from flagged where _resent
    """


def _next_day_sql(column: str, landing: list[dt.date]) -> str:
    """SQL: the landing day of the batch after the one landing on ``column``."""
    whens = " ".join(
        f"when {column} = date '{day}' then date '{nxt}'"
        for day, nxt in zip(landing[:-1], landing[1:], strict=True)
    )
    return f"case {whens} else {column} end"


def _batched_rows(table: str, landing: list[dt.date]) -> str:
    """SQL of a table's rows with their landing day ``_landed_on`` and file order ``_ordinal``."""
    if table in ("orders", "customers"):
        return f"select * from {table}_versions"
    if table == "order_items":
        return (
            "select order_items.*, row_number() over () as _ordinal, "
            f"coalesce(first_versions._landed_on, date '{landing[0]}') as _landed_on "
            "from order_items left join (select order_id, min(_landed_on) as _landed_on "
            "from orders_versions group by order_id) as first_versions using (order_id)"
        )
    column = {"returns": "returned_at", "sessions": "started_at"}.get(table)
    arrival = _arrival_case(column, landing) if column else f"date '{landing[0]}'"
    return f"select *, row_number() over () as _ordinal, {arrival} as _landed_on from {table}"

"""Incremental builds (docs/incremental.md): new batch files applied without a full rebuild.

A generated shop arrives as batch folders; its last day is mid-month. The first build reads
every file but the last day's; the second, plain `dbt build`, adds the last day plus planted
updates, and recomputes the daily activity and the month-end snapshots of only the customers
those files touch (int_customers_changed). It must equal a `--full-refresh` of a copy of the
warehouse on the same files: every public mart (the build-history marts aside), the daily
activity and the month-end snapshots. The last day holds what a shop sends every day: new
customers and orders, late returns of old orders, orders re-sent with their final status,
customers re-sent with another country. Planted on top: an order moved to another customer,
a return moved to another order, a product re-sent with another category, a customer
arriving after the orders staging held back for lack of them (one of them a re-sent version
of an order kept for another customer, which wins once the customer is known; another an
order sent twice in one file, whose held-back earlier row then wins and makes the row kept
before a duplicate; with a line
and a web session held back with them), a web session that was from the future at the first
build and is not at the second, an order
re-sent as cancelled whose return falls back to its earlier version on another customer's
order, and rows that are quarantined."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_FIT_VARS

from segmentation.batches import batch_boundaries, split_into_batches
from segmentation.compare import HISTORY_MARTS, compare_warehouses, table_names
from segmentation.generate import generate

CUSTOMERS = 1500
# the shop's last day is mid-month, so the last day lands in the month of the first build:
# the same month ends (a build in a new month recomputes them all)
END_DATE = dt.date(2026, 9, 20)
TABLES = ("customers", "orders", "order_items", "returns", "products", "sessions")
#: The order and return facts, incremental by customer on DuckDB.
FACTS = ("fct_orders", "fct_order_items", "fct_returns")
PLANTED = "2026-10-02.parquet"  # sorts after every generated batch file
LATE_CUSTOMER = "LATE-CUSTOMER-1"
TWICE_CUSTOMER = "TWICE-CUSTOMER-1"
#: The kept row of TWICE_CUSTOMER (whether it has a sign-up time) and its quarantined rows.
TWICE_CUSTOMER_ROWS = (
    "select 'kept', case when signup_at is null then 'no sign-up' else 'signed up' end "
    f"from staging.stg_shop__customers where customer_id = '{TWICE_CUSTOMER}' union all "
    "select reject_reason, raw_first_name from staging.quarantine_shop__customers "
    f"where raw_customer_id = '{TWICE_CUSTOMER}' order by 1"
)
#: A planted web session is dated this long after the files are written: after the first
#: build's start (quarantined as from the future), before the second's.
FUTURE_SESSION_DELAY_S = 30


def _copy_sql(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    quoted = str(path).replace("'", "''")
    con.execute(f"copy ({sql}) to '{quoted}' (format parquet)")


@pytest.fixture(scope="module")
def arrivals(tmp_path_factory) -> dict:
    """raw/ holds the first build's files; later/ the files that land before the second."""
    root = tmp_path_factory.mktemp("incremental")
    source, raw, later = root / "source", root / "raw", root / "later"
    generate(CUSTOMERS, out_dir=source, truth_dir=root / "truth", end_date=END_DATE)
    split_into_batches(source, batch_boundaries(END_DATE, [], daily=2), END_DATE)
    for table in TABLES:
        files = sorted((source / table).iterdir())
        (raw / table).mkdir(parents=True)
        (later / table).mkdir(parents=True)
        for path in files[:-1]:
            shutil.copy2(path, raw / table / path.name)
        shutil.copy2(files[-1], later / table / files[-1].name)
    con = duckdb.connect()
    first = {table: sorted((raw / table).iterdir())[0] for table in TABLES}
    # a kept order moved to another customer
    moved = con.sql(
        f"select order_id, customer_id from '{first['orders']}' where status = 'delivered' "
        "order by order_id limit 1"
    ).fetchall()[0]
    new_owner = con.sql(
        f"select customer_id from '{first['customers']}' where customer_id != '{moved[1]}' "
        "order by customer_id desc limit 1"
    ).fetchall()[0][0]
    # a product re-sent with another category: every buyer's category breadth may change
    product = con.sql(
        f"select product_id, (select max(category) from '{first['products']}') "
        f"from '{first['products']}' where category != (select max(category) "
        f"from '{first['products']}') order by product_id limit 1"
    ).fetchall()[0]
    _copy_sql(
        con,
        f"select * replace ('{product[1]}' as category) from '{first['products']}' "
        f"where product_id = '{product[0]}'",
        later / "products" / PLANTED,
    )
    # an order of a customer that is not in any file yet (quarantined as an orphan), and a
    # kept order re-sent for that customer (quarantined: the earlier version stays kept),
    # of a customer whom nothing else in the later files touches, so that only the arrival
    # can make the build recompute them ...
    # the customers the later files touch (their orders, customers, returns, the re-sent
    # product's buyers)
    touched_later = f"""
        select customer_id from '{later}/orders/*.parquet'
        union all select customer_id from '{later}/customers/*.parquet'
        union all select o.customer_id from '{raw}/orders/*.parquet' as o
        inner join '{later}/returns/*.parquet' as r on o.order_id = r.order_id
        union all select o.customer_id from '{raw}/orders/*.parquet' as o
        inner join '{raw}/order_items/*.parquet' as i on o.order_id = i.order_id
        where i.product_id = '{product[0]}'
    """
    claimed = con.sql(
        f"""
        select order_id, customer_id from '{first["orders"]}'
        where status = 'delivered' and customer_id not in (
            {touched_later}
            union all select '{moved[1]}' union all select '{new_owner}'
        )
        order by order_id limit 1
        """
    ).fetchall()[0]
    _copy_sql(
        con,
        f"(select * replace ('ORPHAN-ORDER-1' as order_id, '{LATE_CUSTOMER}' as customer_id) "
        f"from '{first['orders']}' order by order_id limit 1) "
        f"union all select * replace ('{LATE_CUSTOMER}' as customer_id) "
        f"from '{first['orders']}' where order_id = '{claimed[0]}'",
        raw / "orders" / ("~" + first["orders"].name),
    )
    # ... and an order sent twice in one file, for that customer a minute earlier
    # (quarantined) and for the claimed order's customer (kept): once the customer arrives,
    # the earlier row is valid and wins (the duplicate-key rule keeps a file's earliest row),
    # and the kept row becomes a duplicate whose raw text the quarantine shows
    _copy_sql(
        con,
        f"select * replace ('SIBLING-ORDER-1' as order_id, '{LATE_CUSTOMER}' as customer_id, "
        f"ordered_at - interval 1 minute as ordered_at) from '{first['orders']}' "
        f"where order_id = '{claimed[0]}' "
        f"union all select * replace ('SIBLING-ORDER-1' as order_id) "
        f"from '{first['orders']}' where order_id = '{claimed[0]}'",
        raw / "orders" / ("~~" + first["orders"].name),
    )
    # ... with a line, quarantined until its order is kept, a web session of that customer,
    # quarantined until the customer arrives, and a web session dated just after the first
    # build starts: quarantined then as from the future, kept by the next build without a new
    # file (the base tables check their held quarantined rows again) ...
    _copy_sql(
        con,
        f"select * replace ('ORPHAN-ORDER-1' as order_id) from '{first['order_items']}' "
        f"where order_id = (select min(order_id) from '{first['orders']}')",
        raw / "order_items" / ("~" + first["order_items"].name),
    )
    future_session_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(
        seconds=FUTURE_SESSION_DELAY_S
    )
    _copy_sql(
        con,
        f"(select * replace ('ORPHAN-SESSION-1' as session_id, '{LATE_CUSTOMER}' as customer_id) "
        f"from '{first['sessions']}' order by session_id limit 1) "
        f"union all (select * replace ('FUTURE-SESSION-1' as session_id, "
        f"timestamp '{future_session_at}' as started_at) from '{first['sessions']}' "
        "where customer_id is not null order by session_id limit 1)",
        raw / "sessions" / ("~" + first["sessions"].name),
    )
    # ... and a customer sent twice in one file: without a sign-up time (kept) and signed up
    # at the same moment as that session (quarantined as from the future). Once the sign-up
    # time has come, that row is valid and comes first in the file (the rule ranks a missing
    # sign-up last), and the kept row becomes a duplicate whose raw text the quarantine shows
    _copy_sql(
        con,
        f"(select * replace ('{TWICE_CUSTOMER}' as customer_id, 'Kept' as first_name, "
        f"cast(null as timestamp) as signup_at) from '{first['customers']}' "
        "order by customer_id limit 1) "
        f"union all (select * replace ('{TWICE_CUSTOMER}' as customer_id, 'Later' as "
        f"first_name, timestamp '{future_session_at}' as signup_at) "
        f"from '{first['customers']}' order by customer_id limit 1)",
        raw / "customers" / ("~" + first["customers"].name),
    )
    # ... whose customer arrives later; with it, the moved order ...
    _copy_sql(
        con,
        f"select * replace ('{LATE_CUSTOMER}' as customer_id, 'late@example.com' as email) "
        f"from '{first['customers']}' order by customer_id limit 1",
        later / "customers" / PLANTED,
    )
    # ... and quarantined rows: an order of nobody, and a key twice in one file
    _copy_sql(
        con,
        f"select * replace ('{new_owner}' as customer_id) from '{first['orders']}' "
        f"where order_id = '{moved[0]}' "
        f"union all select * replace ('NOBODY-ORDER' as order_id, 'NO-SUCH-CUSTOMER' as "
        f"customer_id) from '{first['orders']}' where order_id = '{moved[0]}' "
        f"union all select * replace ('DUP-ORDER' as order_id, '{new_owner}' as customer_id) "
        f"from '{first['orders']}' where order_id = '{moved[0]}' "
        f"union all select * replace ('DUP-ORDER' as order_id, '{new_owner}' as customer_id, "
        f"'placed' as status) from '{first['orders']}' where order_id = '{moved[0]}'",
        later / "orders" / PLANTED,
    )
    # a return re-sent on the first line of another order, of other customers
    others = f"('{moved[1]}', '{new_owner}', '{claimed[1]}')"
    moved_return = con.sql(
        f"""
        select r.return_id, r.order_id, o.order_id, o.customer_id
        from '{first["returns"]}' as r
        inner join '{first["orders"]}' as from_order
            on r.order_id = from_order.order_id and from_order.customer_id not in {others}
        inner join '{first["orders"]}' as o
            on o.order_id != r.order_id and o.ordered_at < r.returned_at
            and o.status = 'delivered' and o.customer_id not in {others}
        inner join '{first["order_items"]}' as i
            on i.order_id = o.order_id and i.line_number = 1 and i.quantity >= r.quantity
        where not exists (
            select 1 from '{first["returns"]}' as other where other.order_id = o.order_id
        )
        order by r.return_id, o.order_id
        limit 1
        """
    ).fetchall()[0]
    _copy_sql(
        con,
        f"select * replace ('{moved_return[2]}' as order_id, 1::integer as line_number) "
        f"from '{first['returns']}' where return_id = '{moved_return[0]}'",
        later / "returns" / PLANTED,
    )
    # a return sent first on o2's line, then re-sent on o1's (kept there), of two customers
    # nothing else touches; the later files re-send o1 as cancelled, so the o1 version is
    # quarantined and the o2 version wins again: o2's customer is touched only through the
    # returns of a touched order and the orders they were ever on
    fallback = con.sql(
        f"""
        with untouched as (
            select order_id, customer_id, ordered_at from '{first["orders"]}'
            where status = 'delivered'
            and order_id not in (select order_id from '{raw}/returns/*.parquet')
            and customer_id not in (
                {touched_later}
                union all select customer_id from '{raw}/orders/*.parquet'
                where order_id = '{moved_return[1]}'
                union all select unnest([
                    '{moved[1]}', '{new_owner}', '{claimed[1]}', '{moved_return[3]}'
                ])
            )
        )
        select o1.order_id, o1.customer_id, o2.order_id, o2.customer_id,
            greatest(o1.ordered_at, o2.ordered_at) + interval 1 day
        from untouched as o1
        inner join untouched as o2 on o1.customer_id < o2.customer_id
        order by o1.order_id, o2.order_id
        limit 1
        """
    ).fetchall()[0]
    for name, order_id in (("2026-09-20a", fallback[2]), ("2026-09-20b", fallback[0])):
        _copy_sql(
            con,
            f"select 'FALLBACK-RETURN-1' as return_id, '{order_id}' as order_id, "
            f"1::integer as line_number, 1::integer as quantity, "
            f"timestamp '{fallback[4]}' as returned_at, 'too_small' as reason, "
            f"1.00::decimal(18, 2) as refund_amount",
            raw / "returns" / f"{name}.parquet",
        )
    _copy_sql(
        con,
        f"select * replace ('cancelled' as status) from '{first['orders']}' "
        f"where order_id = '{fallback[0]}'",
        later / "orders" / "2026-10-03.parquet",
    )
    # a return dated on the day after the first build's last order (its analysis date), of a
    # customer no later file touches: the first build's totals leave it out, the second
    # build's count it because the analysis date moves over it
    moved_over = con.sql(
        f"""
        select o.order_id, o.customer_id,
            (select max(ordered_at) from '{raw}/orders/*.parquet')::date
                + interval 1 day + interval 12 hour
        from '{first["orders"]}' as o
        inner join '{first["order_items"]}' as i on i.order_id = o.order_id
            and i.line_number = 1
        where o.status = 'delivered'
        and o.order_id not in (select order_id from '{raw}/returns/*.parquet')
        and o.customer_id not in (
            {touched_later}
            union all select customer_id from '{raw}/orders/*.parquet'
            where order_id = '{moved_return[1]}'
            union all select unnest([
                '{moved[1]}', '{new_owner}', '{claimed[1]}', '{moved_return[3]}',
                '{fallback[1]}', '{fallback[3]}'
            ])
        )
        order by o.order_id desc
        limit 1
        """
    ).fetchall()[0]
    _copy_sql(
        con,
        f"select 'MOVED-OVER-RETURN-1' as return_id, '{moved_over[0]}' as order_id, "
        f"1::integer as line_number, 1::integer as quantity, "
        f"timestamp '{moved_over[2]}' as returned_at, 'too_small' as reason, "
        f"1.00::decimal(18, 2) as refund_amount",
        raw / "returns" / "2026-09-20c.parquet",
    )
    con.close()
    return {
        "raw": raw,
        "moved_over": moved_over,
        "later": later,
        "moved_order": moved,
        "new_owner": new_owner,
        "claimed_order": claimed,
        "moved_return": moved_return,
        "fallback": fallback,
        "future_session_at": future_session_at,
    }


def _land(arrivals: dict) -> None:
    for table in TABLES:
        for path in sorted((arrivals["later"] / table).iterdir()):
            target = arrivals["raw"] / table / path.name
            if not target.exists():
                shutil.copy2(path, target)


@pytest.fixture(scope="module")
def builds(arrivals, dbt_runner, tmp_path_factory) -> dict:
    """The first build, the incremental build after the new files landed, and a copy of the
    latter rebuilt with --full-refresh."""
    root = tmp_path_factory.mktemp("incremental_builds")
    (root / "inc").mkdir()
    (root / "full").mkdir()
    db = root / "inc" / "w.duckdb"
    first = dbt_runner(["build"], arrivals["raw"], db)
    assert first.returncode == 0, first.output[-3000:]
    before = {
        "activity": first.query(
            "select count(*), sum(orders_placed) from intermediate.int_customer_daily_activity"
        )[0],
        "moved": first.query(
            "select customer_id from staging.stg_shop__orders "
            f"where order_id = '{arrivals['moved_order'][0]}'"
        ),
        "orphan": first.query(
            "select count(*) from staging.quarantine_shop__orders "
            "where raw_order_id = 'ORPHAN-ORDER-1'"
        )[0][0],
        "sibling": first.query(
            "select 'kept', customer_id from staging.stg_shop__orders "
            "where order_id = 'SIBLING-ORDER-1' union all "
            "select reject_reason, raw_customer_id from staging.quarantine_shop__orders "
            "where raw_order_id = 'SIBLING-ORDER-1' order by 1"
        ),
        "claimed": first.query(
            "select customer_id from staging.stg_shop__orders "
            f"where order_id = '{arrivals['claimed_order'][0]}'"
        ),
        "moved_return": first.query(
            "select r.order_id, o.customer_id from staging.stg_shop__returns as r "
            "inner join staging.stg_shop__orders as o on r.order_id = o.order_id "
            f"where r.return_id = '{arrivals['moved_return'][0]}'"
        ),
        "fallback": first.query(
            "select order_id from staging.stg_shop__returns where return_id = 'FALLBACK-RETURN-1'"
        ),
        "moved_over": first.query(
            "select units_returned from intermediate.int_customer_totals_current "
            f"where customer_id = '{arrivals['moved_over'][1]}'"
        ),
        "analysis_date": first.query("select as_of_date from intermediate.int_analysis_date"),
        "twice": first.query(TWICE_CUSTOMER_ROWS),
        "held_back": first.query(
            "select 'line', reject_reason from staging.quarantine_shop__order_items "
            "where raw_order_id = 'ORPHAN-ORDER-1' union all "
            "select raw_session_id, reject_reason from staging.quarantine_shop__sessions "
            "where raw_session_id in ('ORPHAN-SESSION-1', 'FUTURE-SESSION-1') order by 1"
        ),
    }
    month_ends = (
        "select list(as_of_date order by as_of_date) from intermediate.int_snapshot_dates "
        "where snapshot_set = 'month_end'"
    )
    before["month_ends"] = first.query(month_ends)[0][0]
    before["rewritten"] = first.query(REWRITTEN)
    # the first build as it was, for a test that applies the same files in other steps
    before["db"] = root / "first.duckdb"
    shutil.copy(db, before["db"])
    _land(arrivals)
    # the planted session's time comes before the second build starts
    wait = (
        arrivals["future_session_at"] - dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ).total_seconds()
    time.sleep(max(0.0, wait + 1))
    incremental = dbt_runner(["build"], arrivals["raw"], db, data_tests=True)
    assert incremental.returncode == 0, incremental.output[-3000:]
    before["month_ends_after"] = incremental.query(month_ends)[0][0]
    # the SQL the incremental build ran for the month-end snapshots
    compiled = root / "inc" / "target" / "compiled" / "segmentation" / "models" / "intermediate"
    before["month_end_sql"] = {
        path.stem: path.read_text()
        for path in [
            compiled / "int_customer_metrics.sql",
            compiled / "segmentation" / "int_customer_features_monthly.sql",
            compiled / "segmentation" / "int_customer_segments_monthly.sql",
        ]
    }
    models = root / "inc" / "target" / "compiled" / "segmentation" / "models"
    before["fact_sql"] = {
        path.stem: path.read_text()
        for path in [
            models / "intermediate" / "int_orders_summarised.sql",
            models / "intermediate" / "int_returns_joined_to_order_items.sql",
            *(models / "marts" / "orders" / f"{name}.sql" for name in FACTS),
        ]
    }
    base = models / "staging"
    before["base_sql"] = {
        table: (base / "shop" / "base" / f"base_shop__{table}.sql").read_text()
        for table in ("customers", "orders", "order_items", "returns", "sessions")
    }
    full_db = root / "full" / "w.duckdb"
    shutil.copy(db, full_db)
    full = dbt_runner(["build", "--full-refresh"], arrivals["raw"], full_db)
    assert full.returncode == 0, full.output[-3000:]
    return {"first": first, "before": before, "incremental": incremental, "full": full}


def test_the_scenarios_are_in_the_new_files(builds, arrivals):
    run = builds["incremental"]
    # the planted orphan was held back before its customer arrived, and is kept now
    assert builds["before"]["orphan"] == 1
    assert run.query(
        "select customer_id from staging.stg_shop__orders where order_id = 'ORPHAN-ORDER-1'"
    ) == [(LATE_CUSTOMER,)]
    # so are its line, the customer's web session and the session that was from the future
    # (held rows checked again without a new row of their own)
    assert builds["before"]["held_back"] == [
        ("FUTURE-SESSION-1", "future_started_at"),
        ("ORPHAN-SESSION-1", "unknown_customer"),
        ("line", "unknown_order"),
    ]
    assert run.query(
        "select 'line' from staging.stg_shop__order_items where order_id = 'ORPHAN-ORDER-1' "
        "union all select session_id from staging.stg_shop__sessions "
        "where session_id in ('ORPHAN-SESSION-1', 'FUTURE-SESSION-1') order by 1"
    ) == [("FUTURE-SESSION-1",), ("ORPHAN-SESSION-1",), ("line",)]
    # the order re-sent for that customer was quarantined beside its kept version, and wins
    # now that the customer has arrived
    assert builds["before"]["claimed"] == [(arrivals["claimed_order"][1],)]
    assert run.query(
        "select customer_id from staging.stg_shop__orders "
        f"where order_id = '{arrivals['claimed_order'][0]}'"
    ) == [(LATE_CUSTOMER,)]
    # of the order sent twice in one file, the earlier row, held back for the customer, wins
    # now, and the row kept before is quarantined as a duplicate with its raw text
    claimed_customer = arrivals["claimed_order"][1]
    assert builds["before"]["sibling"] == [
        ("kept", claimed_customer),
        ("unknown_customer", LATE_CUSTOMER),
    ]
    assert run.query(
        "select 'kept', customer_id from staging.stg_shop__orders "
        "where order_id = 'SIBLING-ORDER-1' union all "
        "select reject_reason, raw_customer_id from staging.quarantine_shop__orders "
        "where raw_order_id = 'SIBLING-ORDER-1' order by 1"
    ) == [("duplicate_order_id", claimed_customer), ("kept", LATE_CUSTOMER)]
    # the return re-sent on another order's line is kept there
    assert builds["before"]["moved_return"][0][0] == arrivals["moved_return"][1]
    assert run.query(
        "select order_id from staging.stg_shop__returns "
        f"where return_id = '{arrivals['moved_return'][0]}'"
    ) == [(arrivals["moved_return"][2],)]
    # the return kept on the order re-sent as cancelled falls back to its earlier version
    assert builds["before"]["fallback"] == [(arrivals["fallback"][0],)]
    assert run.query(
        "select order_id from staging.stg_shop__returns where return_id = 'FALLBACK-RETURN-1'"
    ) == [(arrivals["fallback"][2],)]
    # the order moved to its new customer
    assert builds["before"]["moved"] == [(arrivals["moved_order"][1],)]
    assert run.query(
        "select customer_id from staging.stg_shop__orders "
        f"where order_id = '{arrivals['moved_order'][0]}'"
    ) == [(arrivals["new_owner"],)]
    last = sorted((arrivals["later"] / "orders").iterdir())[0].name
    with run.connect() as con:
        latest = str(arrivals["raw"] / "orders" / last).replace("'", "''")
        counts = con.sql(
            f"""
            select
                (select count(*) from staging.base_shop__orders
                 where superseded_by_file = '{latest}' and status = 'placed') as resent,
                (select count(*) from staging.stg_shop__returns as r
                 inner join staging.stg_shop__orders as o on r.order_id = o.order_id
                 where r._source_file like '%/returns/{last}'
                 and o._source_file not like '%/orders/{last}') as late_returns,
                (select count(*) from staging.base_shop__customers
                 where superseded_by_file is not null) as customer_updates,
                (select count(*) from staging.quarantine_shop__orders
                 where source_file like '%/orders/{PLANTED}') as quarantined
            """
        ).fetchall()[0]
    resent, late_returns, customer_updates, quarantined = counts
    assert resent > 0, "no order re-sent with its final status"
    assert late_returns > 0, "no late return of an order from an earlier file"
    assert customer_updates > 0, "no customer re-sent"
    assert quarantined == 2  # the order of nobody, and the second row of the key sent twice


def test_a_customer_row_whose_sign_up_time_came_is_ranked_again_within_its_file(builds):
    # the first build keeps the row without a sign-up time and holds the other back as from
    # the future; the next build, with no new row of that customer, lets it through and ranks
    # the file's two rows again by their place in the file (set when the file was read): it
    # wins, and the row kept before is a duplicate whose raw text the base table kept
    assert builds["before"]["twice"] == [("future_signup_at", "Later"), ("kept", "no sign-up")]
    after = builds["incremental"].query(TWICE_CUSTOMER_ROWS)
    assert after == [("duplicate_customer_id", "Kept"), ("kept", "signed up")]
    assert builds["full"].query(TWICE_CUSTOMER_ROWS) == after


def test_todays_totals_count_a_day_the_analysis_date_moved_over(builds, arrivals):
    # the planted return is kept by both builds, dated on the first build's analysis date:
    # out of that build's totals; no later file touches its customer, yet the second build
    # counts it, as a sum of every day would
    customer = arrivals["moved_over"][1]
    totals = (
        "select units_returned from intermediate.int_customer_totals_current "
        f"where customer_id = '{customer}'"
    )
    kept = "select count(*) from staging.stg_shop__returns where return_id = 'MOVED-OVER-RETURN-1'"
    assert builds["incremental"].query(kept) == [(1,)]
    assert builds["before"]["analysis_date"] == [(arrivals["moved_over"][2].date(),)]
    assert builds["incremental"].query(
        f"select count(*) from intermediate.int_customers_changed where customer_id = '{customer}'"
    ) == [(0,)]
    assert builds["incremental"].query(totals) == builds["full"].query(totals)
    assert builds["incremental"].query(totals)[0][0] == builds["before"]["moved_over"][0][0] + 1


def test_the_incremental_build_recomputes_only_the_touched_customers(builds, arrivals):
    run = builds["incremental"]
    changed = {
        r[0] for r in run.query("select customer_id from intermediate.int_customers_changed")
    }
    customers = run.query("select count(*) from staging.stg_shop__customers")[0][0]
    assert 0 < len(changed) < customers / 5
    # the order's old and new customer, and the customer who let the orphan through
    assert {arrivals["moved_order"][1], arrivals["new_owner"], LATE_CUSTOMER} <= changed
    # the customer who lost an order to a version that only became valid with that arrival
    assert arrivals["claimed_order"][1] in changed
    # the customers of the order a return left and of the one it moved to
    assert {builds["before"]["moved_return"][0][1], arrivals["moved_return"][3]} <= changed
    # the customer whom the return falls back to, reached only through the cancelled order's
    # returns and the orders they were ever on
    assert {arrivals["fallback"][1], arrivals["fallback"][3]} <= changed
    # every incremental customer model applied every file
    files = run.query("select count(*) from raw.raw_files")[0][0]
    assert run.query(
        "select model_name, count(distinct table_name), count(*) from raw.applied_raw_files "
        "group by model_name order by model_name"
    ) == [
        ("base_shop__customers", 6, files),
        ("base_shop__order_items", 6, files),
        ("base_shop__orders", 6, files),
        ("base_shop__returns", 6, files),
        ("base_shop__sessions", 6, files),
        ("customer_returns", 6, files),
        ("fct_order_items", 6, files),
        ("fct_orders", 6, files),
        ("fct_returns", 6, files),
        ("int_customer_daily_activity", 6, files),
        ("int_customer_features_monthly", 6, files),
        ("int_customer_segments_monthly", 6, files),
        ("int_customer_totals_current", 6, files),
        ("int_orders_summarised", 6, files),
        ("int_returns_joined_to_order_items", 6, files),
        ("stg_shop__returns", 6, files),
    ]


def test_the_base_tables_read_only_the_new_files(builds, arrivals):
    # the incremental build's SQL of the orders, order lines, returns and web sessions reads
    # the raw files that landed, no other, and checks the rows the table holds again
    for table, sql in builds["before"]["base_sql"].items():
        new = sorted(path.name for path in (arrivals["later"] / table).iterdir())
        assert new, table
        read = sql.split("where _source_file in (", 1)[1].split(")", 1)[0]
        assert (
            sorted(name.strip().strip("'").rsplit("/", 1)[-1] for name in read.split(",")) == new
        ), table
        assert "union all by name" in sql, table


def test_the_month_end_snapshots_recompute_only_the_touched_customers(builds):
    # the new day is in the month of the last build: the same month ends, so the snapshots
    # sum and score only the customers of int_customers_changed
    assert builds["before"]["month_ends"] == builds["before"]["month_ends_after"]
    for name, sql in builds["before"]["month_end_sql"].items():
        assert "int_customers_changed" in sql, name


def test_the_facts_recompute_only_the_touched_customers(builds):
    # the order and return facts (and the models between staging and them) read the lines,
    # orders and returns of the customers of int_customers_changed only, and keep the rest
    for name, sql in builds["before"]["fact_sql"].items():
        assert "customer_id in (select customer_id from changed_customers)" in sql, name
    # and the facts with an incremental parent read only the rows the parent wrote in this
    # build (written_by_this_build), like the month-end segments (an equal answer: below)
    for name in ("fct_orders", "fct_returns"):
        assert "_built_at = cast(" in builds["before"]["fact_sql"][name], name
    segments_sql = builds["before"]["month_end_sql"]["int_customer_segments_monthly"]
    assert "_built_at = cast(" in segments_sql


def test_built_without_their_parents_they_read_every_row_of_them(
    builds, arrivals, dbt_runner, tmp_path
):
    """With nothing new to apply, the facts and the month-end segments may be built alone;
    they recompute the customers int_customers_changed still lists from every row of their
    parents then, whose rows were written by an earlier build: the same tables (reading only
    this build's rows would delete those customers and append nothing)."""
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    models = ["fct_orders", "fct_returns", "int_customer_segments_monthly"]
    alone = dbt_runner(["run", "--select", *models], arrivals["raw"], db)
    assert alone.returncode == 0, alone.output[-3000:]
    assert alone.query("select count(*) from intermediate.int_customers_changed")[0][0] > 0
    inc = builds["incremental"].db_path
    assert compare_warehouses(inc, db, tables=["fct_orders", "fct_returns"]) == []
    assert (
        compare_warehouses(inc, db, schema="intermediate", tables=["int_customer_segments_monthly"])
        == []
    )


def test_incremental_equals_a_full_refresh_of_a_copy(builds):
    inc, full = builds["incremental"].db_path, builds["full"].db_path
    marts = [t for t in table_names(inc) if t not in HISTORY_MARTS]
    assert len(marts) > 15
    assert compare_warehouses(inc, full, tables=marts) == []
    assert (
        compare_warehouses(
            inc,
            full,
            schema="intermediate",
            tables=[
                "int_customer_daily_activity",
                "int_customer_totals_current",
                "int_customers_with_orders_current",
                "int_customer_features_monthly",
                "int_customer_segments_monthly",
            ],
        )
        == []
    )
    # staging: the incremental base tables (new files only) and what reads them
    staging = [
        f"{layer}_shop__{table}"
        for layer in ("base", "stg", "quarantine")
        for table in ("customers", "orders", "order_items", "returns", "sessions")
    ]
    assert compare_warehouses(inc, full, schema="staging", tables=staging) == []
    # the full refresh rebuilt the daily activity from all files: nothing touched then
    assert builds["full"].query("select count(*) from intermediate.int_customers_changed") == [(0,)]


def test_a_build_with_nothing_new_changes_nothing(builds, arrivals, dbt_runner, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    again = dbt_runner(["build"], arrivals["raw"], db)
    assert again.returncode == 0, again.output[-3000:]
    assert again.query("select count(*) from intermediate.int_customers_changed") == [(0,)]
    inc = builds["incremental"].db_path
    marts = [t for t in table_names(db) if t not in HISTORY_MARTS]
    assert compare_warehouses(inc, db, tables=marts) == []
    assert (
        compare_warehouses(inc, db, schema="intermediate", tables=["int_customer_daily_activity"])
        == []
    )


def test_a_relative_raw_path_names_the_files_as_an_absolute_one(
    builds, arrivals, dbt_runner, tmp_path
):
    # make run passes the raw folder as an absolute path, plain `dbt build` the var or the
    # default data/raw as given: before, the second way found every applied file "gone" (the
    # file ledger compares full paths) and stopped a build with nothing new
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    relative = os.path.relpath(arrivals["raw"], tmp_path)
    assert not relative.startswith("/")
    again = dbt_runner(
        ["build", "--select", "int_customers_changed"],
        arrivals["raw"],
        db,
        env={"SEGMENTATION_RAW": relative, "PWD": str(tmp_path)},
    )
    assert again.returncode == 0, again.output[-3000:]
    assert again.query("select count(*) from intermediate.int_customers_changed") == [(0,)]
    prefix = str(arrivals["raw"]).replace("'", "''") + "/"
    assert again.query(
        f"select count(*) from raw.raw_files where not starts_with(source_file, '{prefix}')"
    ) == [(0,)]
    # a program that starts dbt elsewhere without a shell can leave PWD stale: a relative
    # path taken from it would name other files, so the build stops and says why
    stale = dbt_runner(
        ["build", "--select", "int_customers_changed"],
        arrivals["raw"],
        db,
        env={"SEGMENTATION_RAW": relative, "PWD": "/"},
    )
    assert stale.returncode != 0
    assert "PWD is not the directory dbt runs in" in stale.output
    assert "give raw_path or SEGMENTATION_RAW as an absolute path" in stale.output


def test_new_files_applied_in_separate_invocations_give_the_same_warehouse(
    builds, arrivals, dbt_runner, tmp_path
):
    """The base returns check the orders and lines the base models rewrote since the returns'
    last build, and the kept returns recompute the orders whose base returns were rewritten
    since theirs, whichever dbt invocation wrote them: the order and line base tables first,
    then the base returns alone, then the whole build give what one build gives."""
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["before"]["db"], db)
    for step in (
        ["run", "--select", "+base_shop__order_items"],
        ["run", "--select", "base_shop__returns"],
        ["build"],
    ):
        run = dbt_runner(step, arrivals["raw"], db)
        assert run.returncode == 0, run.output[-3000:]
    inc = builds["incremental"].db_path
    marts = [t for t in table_names(inc) if t not in HISTORY_MARTS]
    assert compare_warehouses(inc, db, tables=marts) == []
    staging = [f"{layer}_shop__returns" for layer in ("base", "stg", "quarantine")]
    assert compare_warehouses(inc, db, schema="staging", tables=staging) == []
    # the kept returns applied the files in the last step, from the rows the second wrote
    assert run.query(
        "select count(*) from raw.applied_raw_files where model_name = 'stg_shop__returns'"
    ) == run.query("select count(*) from raw.raw_files")


LATEST_BUILD_KEY_TESTS = {
    "intermediate.int_customer_daily_activity": (
        "unique_int_customer_daily_activity_customer_day_of_the_latest_build"
    ),
    **{
        f"staging.base_shop__{table}": f"unique_base_shop__{table}_raw_row_of_the_latest_build"
        for table in ("orders", "order_items", "returns", "sessions")
    },
    # the kept rows of three of them (views over them)
    "staging.stg_shop__orders": "unique_stg_shop__orders_order_id_of_the_latest_build",
    "staging.stg_shop__order_items": "unique_stg_shop__order_items_order_line_of_the_latest_build",
    "staging.stg_shop__sessions": "unique_stg_shop__sessions_session_id_of_the_latest_build",
}
#: Other tests that read the latest build's rows: the kept orders', lines' and sessions'
#: parents, the line view's key and the intermediate order and return tables' keys.
LATEST_BUILD_OTHER_TESTS = (
    "relationships_stg_shop__orders_customer_id_of_the_latest_build",
    "relationships_stg_shop__order_items_order_id_of_the_latest_build",
    "relationships_stg_shop__sessions_customer_id_of_the_latest_build",
    "unique_int_order_lines_order_line_of_the_latest_build",
    "unique_int_orders_summarised_order_id_of_the_latest_build",
    "unique_int_returns_joined_to_order_items_return_id_of_the_latest_build",
    # the kept lines' row rule
    "stg_shop__order_items_net_amount_of_the_latest_build",
)


def test_the_key_tests_read_the_rows_the_latest_build_wrote(builds, arrivals):
    # the incremental models' key tests read the rows with the latest _built_at: after an
    # incremental build, the changed customers' days and every row of the new raw files,
    # not the rest (macros/utils/where_subquery.sql)
    run = builds["incremental"]

    def latest(table):
        return f"_built_at = (select max(_built_at) from {table})"

    activity = "intermediate.int_customer_daily_activity"
    written = run.query(f"select count(*) from {activity} where {latest(activity)}")[0][0]
    changed = run.query(
        f"select count(*) from {activity} where customer_id in "
        "(select customer_id from intermediate.int_customers_changed)"
    )[0][0]
    assert 0 < written == changed < run.query(f"select count(*) from {activity}")[0][0]
    for table in ("orders", "order_items", "returns", "sessions"):
        base = f"staging.base_shop__{table}"
        files = ", ".join(
            f"'{path}'"
            for path in sorted((arrivals["raw"] / table).iterdir())
            if path.name in {p.name for p in (arrivals["later"] / table).iterdir()}
        )
        new_rows, new_unwritten, total, written = run.query(
            f"select count(*) filter (where _source_file in ({files})), "
            f"count(*) filter (where _source_file in ({files}) and not {latest(base)}), "
            f"count(*), count(*) filter (where {latest(base)}) from {base}"
        )[0]
        assert new_rows > 0 and new_unwritten == 0, table
        assert written < total, table
    compiled = run.db_path.parent / "target" / "compiled" / "segmentation" / "models"
    for name in (*LATEST_BUILD_KEY_TESTS.values(), *LATEST_BUILD_OTHER_TESTS):
        (sql,) = [p.read_text() for p in compiled.rglob(f"{name}.sql")]
        assert "where _built_at = (select max(latest._built_at) from" in sql, name


def test_a_key_test_fails_on_a_duplicate_the_latest_build_wrote(
    builds, arrivals, dbt_runner, tmp_path
):
    # a duplicate key among the rows the latest build wrote fails the test; one among the
    # rows an earlier build wrote (tested then) is not read again
    raw, db = _copy_of_the_incremental_build(builds, arrivals, tmp_path)
    activity = "intermediate.int_customer_daily_activity"
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"insert into {activity} select * from {activity} "
            f"where _built_at < (select max(_built_at) from {activity}) limit 1"
        )
    name = LATEST_BUILD_KEY_TESTS[activity]
    old = dbt_runner(["test", "--select", name], raw, db)
    assert old.returncode == 0, old.output[-3000:]
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"insert into {activity} select * from {activity} "
            f"where _built_at = (select max(_built_at) from {activity}) limit 1"
        )
    new = dbt_runner(["test", "--select", name], raw, db)
    assert new.returncode != 0
    assert f"Failure in test {name}" in new.output


REWRITTEN = "select model_name, every_customer from raw.rewritten_customers order by 1"
#: The facts' tests that read the rows of the customers the latest build rewrote.
REWRITTEN_CUSTOMERS_TESTS = (
    "unique_fct_orders_order_id_of_the_rewritten_customers",
    "unique_fct_order_items_order_item_id_of_the_rewritten_customers",
    "unique_fct_returns_return_id_of_the_rewritten_customers",
    "relationships_fct_order_items_order_id_of_the_rewritten_customers",
)


def test_the_facts_tests_read_the_customers_the_latest_build_rewrote(builds):
    # raw.rewritten_customers records, per incremental model of customer rows, whether its
    # latest build rewrote every customer: the first build and --full-refresh did, the
    # incremental build rewrote int_customers_changed's customers only
    first = dict(builds["before"]["rewritten"])
    incremental = dict(builds["incremental"].query(REWRITTEN))
    full = dict(builds["full"].query(REWRITTEN))
    assert set(FACTS) <= set(first) and set(first) == set(incremental) == set(full)
    assert all(first.values()) and all(full.values())
    assert not any(incremental[name] for name in FACTS)
    compiled = builds["incremental"].db_path.parent / "target" / "compiled"
    for name in REWRITTEN_CUSTOMERS_TESTS:
        (sql,) = [p.read_text() for p in compiled.rglob(f"{name}.sql")]
        assert "customer_id in (select changed.customer_id from" in sql, name
        assert "from raw.rewritten_customers as rewritten" in sql, name


def test_a_fact_test_reads_every_row_unless_the_latest_build_rewrote_changed_customers_only(
    builds, arrivals, dbt_runner, tmp_path
):
    # a duplicate order of a customer the incremental build did not rewrite is not read
    # again; the same test reads it when the fact's latest build rewrote every customer, and a
    # duplicate of a rewritten customer's order fails it
    raw, db = _copy_of_the_incremental_build(builds, arrivals, tmp_path)
    orders = "marts.fct_orders"
    changed = "select customer_id from intermediate.int_customers_changed"
    with duckdb.connect(str(db)) as con:
        assert con.execute(f"select count(*) from ({changed})").fetchone()[0] > 0
        con.execute(
            f"insert into {orders} select * from {orders} "
            f"where customer_id not in ({changed}) limit 1"
        )
    name = REWRITTEN_CUSTOMERS_TESTS[0]
    old = dbt_runner(["test", "--select", name], raw, db)
    assert old.returncode == 0, old.output[-3000:]
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update raw.rewritten_customers set every_customer = true "
            "where model_name = 'fct_orders'"
        )
    every = dbt_runner(["test", "--select", name], raw, db)
    assert every.returncode != 0 and f"Failure in test {name}" in every.output
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update raw.rewritten_customers set every_customer = false "
            "where model_name = 'fct_orders'"
        )
        con.execute(f"delete from {orders} where customer_id not in ({changed})")
        con.execute(
            f"insert into {orders} select * from {orders} where customer_id in ({changed}) limit 1"
        )
    new = dbt_runner(["test", "--select", name], raw, db)
    assert new.returncode != 0 and f"Failure in test {name}" in new.output


def _copy_of_the_incremental_build(builds: dict, arrivals: dict, tmp_path: Path) -> tuple:
    """A copy of the raw folder and of the incremental warehouse, its ledger moved to that
    copy (the warehouse was built from arrivals["raw"]), for a test that changes files."""
    raw = tmp_path / "raw"
    shutil.copytree(arrivals["raw"], raw, copy_function=shutil.copy2)
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.built_from set raw_folder = ?", [str(raw)])
        con.execute(
            "update raw.applied_raw_files set source_file = replace(source_file, ?, ?)",
            [str(arrivals["raw"]), str(raw)],
        )
    return raw, db


def test_a_changed_or_removed_applied_file_stops_the_build(builds, arrivals, dbt_runner, tmp_path):
    raw, db = _copy_of_the_incremental_build(builds, arrivals, tmp_path)
    changed = sorted((raw / "returns").iterdir())[0]
    stat = changed.stat()
    os.utime(changed, (stat.st_atime, stat.st_mtime + 60))
    removed = sorted((raw / "sessions").iterdir())[-1]
    removed.unlink()
    run = dbt_runner(["build"], raw, db)
    assert run.returncode != 0
    assert f"{changed} has changed" in run.output
    assert f"{removed} is gone" in run.output
    assert "--full-refresh" in run.output
    # nothing was built: the daily activity is the one the incremental build left
    assert (
        compare_warehouses(
            builds["incremental"].db_path,
            db,
            schema="intermediate",
            tables=["int_customer_daily_activity"],
        )
        == []
    )
    rebuilt = dbt_runner(["build", "--full-refresh"], raw, db)
    assert rebuilt.returncode == 0, rebuilt.output[-3000:]
    gone = str(removed).replace("'", "''")
    assert rebuilt.query(
        f"select count(*) from raw.applied_raw_files where source_file = '{gone}'"
    ) == [(0,)]


def test_a_session_feature_added_later_rebuilds_the_daily_activity_whole(
    builds, arrivals, dbt_runner, tmp_path
):
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    with duckdb.connect(str(db), read_only=True) as con:
        features = [r[0] for r in con.sql("select feature from marts.segment_centroids").fetchall()]
    assert "session_count" not in features
    features = [
        "recency_days", "frequency", "monetary", "avg_order_value", "return_rate_units",
        "return_rate_value", "discount_share", "tenure_days", "category_breadth", "session_count",
    ]  # fmt: skip
    run = dbt_runner(
        ["build"], arrivals["raw"], db, {**TEST_FIT_VARS, "segmentation_features": features}
    )
    assert run.returncode == 0, run.output[-3000:]
    # every customer's days now carry their sessions, not only the changed customers'
    assert run.query(
        "select sum(session_count) from intermediate.int_customer_daily_activity"
    ) == run.query(
        "select count(*) from staging.stg_shop__sessions where not is_anonymous "
        "and customer_id in (select customer_id from intermediate.int_customer_daily_activity)"
    )


def test_rows_dated_after_the_last_builds_start_are_recomputed(
    builds, arrivals, dbt_runner, tmp_path
):
    """Staging quarantines rows dated after the build's start (future_ordered_at, ...); once
    their time has come a later build keeps them, with no new file. Emulated by moving the
    ledger's record of the last build's start back before the last day's orders."""
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    with duckdb.connect(str(db)) as con:
        cutoff = con.sql(
            "select max(ordered_at) - interval 12 hour from staging.stg_shop__orders"
        ).fetchall()[0][0]
        con.execute("update raw.applied_raw_files set future_cutoff = ?", [cutoff])
        late = {
            r[0]
            for r in con.execute(
                "select customer_id from staging.stg_shop__orders where ordered_at > ?", [cutoff]
            ).fetchall()
        }
    assert late
    run = dbt_runner(["build"], arrivals["raw"], db)
    assert run.returncode == 0, run.output[-3000:]
    changed = {
        r[0] for r in run.query("select customer_id from intermediate.int_customers_changed")
    }
    assert late <= changed


def test_the_daily_activity_alone_does_not_apply_files_its_parents_did_not_read(
    builds, arrivals, dbt_runner, tmp_path
):
    db = tmp_path / "w.duckdb"
    shutil.copy(builds["incremental"].db_path, db)
    with duckdb.connect(str(db)) as con:  # the last orders file is new to the daily activity
        con.execute(
            "delete from raw.applied_raw_files where source_file = (select max(source_file) "
            "from raw.applied_raw_files where table_name = 'orders')"
        )
    run = dbt_runner(["run", "--select", "int_customer_daily_activity"], arrivals["raw"], db)
    assert run.returncode != 0
    assert "dbt build --select +int_customer_daily_activity" in run.output


def test_a_batch_file_that_retypes_a_column_makes_the_base_model_read_every_file(
    builds, arrivals, dbt_runner, tmp_path
):
    """A new order-lines file whose quantity is text makes the raw view read that column as
    text in every file, so the rows the base table holds were parsed from another type: the
    raw column types are part of the fingerprint, and the build reads every file again."""
    raw, db = _copy_of_the_incremental_build(builds, arrivals, tmp_path)
    with duckdb.connect(str(db)) as con:
        order_id = con.sql("select min(order_id) from staging.stg_shop__order_items").fetchall()
        last = sorted((raw / "order_items").iterdir())[-1]
        _copy_sql(
            con,
            "select order_id, line_number + 100 as line_number, product_id, "
            "cast(quantity as varchar) as quantity, unit_price, discount_amount "
            f"from read_parquet('{last}') where order_id = '{order_id[0][0]}'",
            raw / "order_items" / "2026-10-09.parquet",
        )
    run = dbt_runner(["build"], raw, db)
    assert run.returncode == 0, run.output[-3000:]
    compiled = db.parent / "target" / "compiled" / "segmentation" / "models" / "staging" / "shop"
    sql = (compiled / "base" / "base_shop__order_items.sql").read_text()
    assert "where _source_file in (" not in sql
    assert "union all by name" not in sql
    # the unchanged tables still read only their new files (none)
    assert "union all by name" in (compiled / "base" / "base_shop__orders.sql").read_text()
    assert run.query(
        "select count(*) from staging.stg_shop__order_items "
        f"where order_id = '{order_id[0][0]}' and line_number > 100"
    ) == run.query(
        f"select count(*) from read_parquet('{last}') where order_id = '{order_id[0][0]}'"
    )

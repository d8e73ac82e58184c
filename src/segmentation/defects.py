"""Defect injector: plant every catalogued kind of bad input into a clean raw folder.

Why it exists: principle 5 of the design ("nothing lost, nothing silent") is only as good as
the defects it has been tried on. This module takes a clean folder written by
``segmentation.generate.generate`` and plants each kind of defect at a known row, writing a
*defect manifest* (kind, table, key, expected outcome, expected reject_reason) into the truth
folder, next to ``personas.parquet``, where no model reads it. ``tests/python/test_defects.py``
builds the folder with dbt and checks every manifest entry; docs/data-quality.md is the
human-readable catalogue.

Two families:

* **Row-level** (:func:`plant_row_defects`, :func:`make_defect_folder`): bad rows inside valid
  files. The build must succeed; each planted row ends in the table's quarantine model with its
  ``reject_reason`` (or is kept / repaired by a documented rule), and raw rows = kept +
  quarantined for every table. Planted rows use new ids with an ``X`` (``CX000001``, ``OX...``)
  or a marker value (``defect_...``), so they never cascade into other planted rows.
* **File-level** (:func:`plant_file_defect`): a whole file is unusable (wrong delimiter or
  encoding, missing column, empty, corrupt, ...). ``segmentation check`` must exit non-zero
  naming the file and column, and where the dbt hook can see it, ``dbt build`` must stop before
  any model runs.

All tables are rewritten with text columns (as a CSV export would give them), so text can be
planted in numeric and timestamp columns; ``customers`` and ``order_items`` are written as CSV
and the others as Parquet, so both readers are exercised.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from segmentation.generate import TABLES, generate

#: Format each table is written in by default (both readers are exercised).
DEFAULT_FORMATS: dict[str, str] = {
    "customers": "csv",
    "orders": "parquet",
    "order_items": "csv",
    "returns": "parquet",
    "products": "parquet",
    "sessions": "parquet",
}

MANIFEST_NAME = "defects.json"
#: A kept order whose every line is quarantined (not a purchase).
ALL_LINES_QUARANTINED = "OX000011"
FUTURE = "2099-01-01 00:00:00"

#: Every row-level kind :func:`plant_row_defects` plants, in planting order (the tests are
#: parametrised by it; a test checks it matches the manifest).
ROW_DEFECT_KINDS: tuple[str, ...] = (
    "customers_null_key",
    "customers_duplicate_key",
    "customers_duplicate_email_variant",
    "customers_shared_email",
    "customers_future_signup_at",
    "customers_unparseable_signup_at",
    "customers_unparseable_birth_date",
    "customers_null_token_key",
    "orders_null_key",
    "orders_duplicate_key",
    "orders_orphan",
    "orders_unparseable_ordered_at",
    "orders_future_ordered_at",
    "orders_unknown_status",
    "orders_status_synonym",
    "orders_null_token_customer_id",
    "orders_offset_timestamp",
    "orders_twelve_hour_timestamp",
    "orders_customer_id_invisible_characters",
    "orders_float_formatted_customer_id",
    "order_items_non_positive_quantity_zero",
    "order_items_non_positive_quantity_negative",
    "order_items_negative_unit_price",
    "order_items_text_in_quantity",
    "order_items_text_in_unit_price",
    "order_items_outlier_line_value",
    "order_items_discount_exceeds_line_value",
    "order_items_missing_line_number",
    "order_items_null_key",
    "order_items_all_lines_quarantined",
    "order_items_orphan",
    "order_items_duplicate_key",
    "returns_null_key",
    "returns_duplicate_key",
    "returns_orphan",
    "returns_exceed_sold_quantity",
    "returns_before_order",
    "returns_unparseable_returned_at",
    "returns_future_returned_at",
    "returns_cumulative_exceed_sold_quantity",
    "returns_of_cancelled_order",
    "returns_missing_refund_amount",
    "returns_text_in_quantity",
    "products_null_key",
    "products_duplicate_key",
    "products_text_in_list_price",
    "products_negative_list_price",
    "sessions_null_key",
    "sessions_orphan_customer",
    "sessions_text_in_count",
    "sessions_negative_count",
    "sessions_future_started_at",
    "sessions_anonymous",
    "sessions_duplicate_key",
)


@dataclass(frozen=True)
class Defect:
    """One planted defect and the outcome the project promises for it.

    ``key`` maps raw contract columns to the exact text planted; it selects the planted row(s)
    in the raw view, in the base model (``raw_<column>``) and in the quarantine model.
    ``quarantined`` and ``kept`` are the expected numbers of matching rows on each side
    (e.g. a duplicate key: one kept, one quarantined).
    """

    kind: str
    table: str
    key: dict[str, str]
    outcome: str  # quarantined | kept | repaired | stopped
    reject_reason: str | None
    description: str
    quarantined: int = 1
    kept: int = 0


@dataclass(frozen=True)
class FileDefect:
    """A file-level defect: ``segmentation check`` stops; the dbt hook too if ``hook_stops``.

    ``check_mentions`` / ``hook_mentions`` are fragments the messages must contain.
    """

    kind: str
    table: str
    file: str
    column: str | None
    description: str
    check_mentions: tuple[str, ...]
    hook_stops: bool
    hook_mentions: tuple[str, ...] = field(default_factory=tuple)
    outcome: str = "stopped"


# --------------------------------------------------------------------------------------------
# Row-level defects
# --------------------------------------------------------------------------------------------


class _Planter:
    """Tables of one raw folder, as text, in an in-memory DuckDB; helpers to add rows."""

    def __init__(self, raw_dir: Path) -> None:
        self.con = duckdb.connect()
        self.columns: dict[str, list[str]] = {}
        self.defects: list[Defect] = []
        for table in TABLES:
            path = raw_dir / f"{table}.parquet"
            self.con.execute(
                f"create table {table} as select cast(columns(*) as varchar) "
                f"from read_parquet('{path}')"
            )
            self.columns[table] = [r[0] for r in self.con.execute(f"describe {table}").fetchall()]

    def one(self, sql: str) -> dict[str, Any]:
        """First row of a query as a dict (the query must return a row)."""
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        if row is None:
            raise LookupError(f"no row for: {sql}")
        return dict(zip(names, row, strict=True))

    def row(self, table: str, where: str) -> dict[str, Any]:
        return self.one(f"select * from {table} where {where} order by all limit 1")

    def insert(self, table: str, values: dict[str, Any]) -> None:
        cols = self.columns[table]
        unknown = set(values) - set(cols)
        if unknown:
            raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
        row = [values.get(c) for c in cols]
        self.con.execute(f"insert into {table} values ({', '.join('?' for _ in cols)})", row)

    def plant(
        self,
        kind: str,
        table: str,
        rows: Iterable[dict[str, Any]],
        key: dict[str, str],
        reason: str | None,
        description: str,
        *,
        outcome: str | None = None,
        quarantined: int | None = None,
        kept: int | None = None,
    ) -> None:
        for values in rows:
            self.insert(table, values)
        if outcome is None:
            outcome = "quarantined" if reason else "kept"
        self.defects.append(
            Defect(
                kind=kind,
                table=table,
                key=key,
                outcome=outcome,
                reject_reason=reason,
                description=description,
                quarantined=quarantined if quarantined is not None else int(reason is not None),
                kept=kept if kept is not None else int(reason is None),
            )
        )

    def write(self, out_dir: Path, formats: dict[str, str]) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            fmt = formats.get(table, "parquet")
            for ext in ("parquet", "csv"):
                (out_dir / f"{table}.{ext}").unlink(missing_ok=True)
            target = out_dir / f"{table}.{fmt}"
            options = "format csv, header" if fmt == "csv" else "format parquet"
            self.con.execute(f"copy {table} to '{target}' ({options})")


def _shift(ts: str, **delta: float) -> str:
    """A 'YYYY-MM-DD HH:MM:SS' text moved by a timedelta."""
    moved = dt.datetime.fromisoformat(ts) + dt.timedelta(**delta)
    return moved.strftime("%Y-%m-%d %H:%M:%S")


def _plant_customers(p: _Planter) -> str:
    """Customer defects; returns a kept customer id the other tables can hang rows on."""
    host = p.one(
        "select customer_id from orders where status = 'delivered' order by order_id limit 1"
    )["customer_id"]
    base = p.row("customers", f"customer_id = '{host}'")
    ids = [r[0] for r in p.con.execute("select customer_id from customers order by 1").fetchall()]
    dup, variant, shared = ids[-1], ids[-2], ids[-3]
    if host in (dup, variant, shared):
        raise ValueError("need more customers to plant the defects")

    p.plant(
        "customers_null_key",
        "customers",
        [base | {"customer_id": None, "email": "defect-null-key@example.invalid"}],
        {"email": "defect-null-key@example.invalid"},
        "missing_customer_id",
        "customer row without customer_id",
    )
    p.plant(
        "customers_duplicate_key",
        "customers",
        [p.row("customers", f"customer_id = '{dup}'")],
        {"customer_id": dup},
        "duplicate_customer_id",
        "the same customer row twice: one is kept, the copy is quarantined",
        kept=1,
    )
    row = p.row("customers", f"customer_id = '{variant}'")
    p.plant(
        "customers_duplicate_email_variant",
        "customers",
        [row | {"email": f" {row['email'].upper()} "}],
        {"customer_id": variant},
        "duplicate_customer_id",
        "same customer_id twice, emails differ only in case and spaces: the same customer; "
        "one row kept (the first in the deterministic order), the other quarantined",
        kept=1,
    )
    row = p.row("customers", f"customer_id = '{shared}'")
    p.plant(
        "customers_shared_email",
        "customers",
        [row | {"customer_id": "CX000001", "email": f"  {row['email'].upper()}"}],
        {"customer_id": "CX000001"},
        None,
        f"a different customer_id with the same email as {shared} up to case and spaces: "
        "both kept as separate customers (not merged); their email_hash is equal",
    )
    p.plant(
        "customers_future_signup_at",
        "customers",
        [
            base
            | {"customer_id": "CX000002", "email": "cx000002@example.invalid", "signup_at": FUTURE}
        ],
        {"customer_id": "CX000002"},
        "future_signup_at",
        "signup_at in 2099",
    )
    p.plant(
        "customers_unparseable_signup_at",
        "customers",
        [base | {"customer_id": "CX000003", "email": None, "signup_at": "last tuesday"}],
        {"customer_id": "CX000003"},
        None,
        "text in signup_at: the customer is kept, signup_at set to missing and flagged "
        "is_signup_at_unparseable",
        outcome="repaired",
    )
    p.plant(
        "customers_unparseable_birth_date",
        "customers",
        [base | {"customer_id": "CX000004", "email": None, "birth_date": "31/12/1980"}],
        {"customer_id": "CX000004"},
        None,
        "day-first text in birth_date: the customer is kept without an age band",
        outcome="repaired",
    )
    p.plant(
        "customers_null_token_key",
        "customers",
        [base | {"customer_id": "NULL", "email": "defect-null-token@example.invalid"}],
        {"email": "defect-null-token@example.invalid"},
        "missing_customer_id",
        "the text 'NULL' as customer_id: a missing id (var raw_null_tokens), never a customer",
    )
    return host


def _plant_orders(p: _Planter, host: str) -> str:
    """Order defects; returns a new kept order id for line defects."""
    base = p.row("orders", f"customer_id = '{host}' and status = 'delivered'")
    clean = "OX000010"
    p.insert("orders", base | {"order_id": clean})
    dup = p.row("orders", "status = 'delivered' and order_id > 'O0000000100'")
    p.plant(
        "orders_null_key",
        "orders",
        [base | {"order_id": None, "sales_channel": "defect_null_key"}],
        {"sales_channel": "defect_null_key"},
        "missing_order_id",
        "order row without order_id",
    )
    p.plant(
        "orders_duplicate_key",
        "orders",
        [dup | {"ordered_at": _shift(dup["ordered_at"], days=1)}],
        {"order_id": dup["order_id"]},
        "duplicate_order_id",
        "the same order_id twice (the copy one day later): the earlier row is kept",
        kept=1,
    )
    p.plant(
        "orders_orphan",
        "orders",
        [base | {"order_id": "OX000001", "customer_id": "CX_NO_SUCH_CUSTOMER"}],
        {"order_id": "OX000001"},
        "unknown_customer",
        "order of a customer that is not in customers",
    )
    p.plant(
        "orders_unparseable_ordered_at",
        "orders",
        [base | {"order_id": "OX000002", "ordered_at": "31.12.2024 10:00"}],
        {"order_id": "OX000002"},
        "unparseable_ordered_at",
        "day-first text in ordered_at",
    )
    p.plant(
        "orders_future_ordered_at",
        "orders",
        [base | {"order_id": "OX000003", "ordered_at": FUTURE}],
        {"order_id": "OX000003"},
        "future_ordered_at",
        "ordered_at in 2099",
    )
    p.plant(
        "orders_unknown_status",
        "orders",
        [base | {"order_id": "OX000004", "status": "lost in space"}],
        {"order_id": "OX000004"},
        "unknown_status",
        "status outside placed/shipped/delivered/cancelled (and their synonyms)",
    )
    p.plant(
        "orders_status_synonym",
        "orders",
        [base | {"order_id": "OX000005", "status": " Canceled "}],
        {"order_id": "OX000005"},
        None,
        "status ' Canceled ': kept, normalised to 'cancelled'",
        outcome="repaired",
    )
    p.plant(
        "orders_null_token_customer_id",
        "orders",
        [base | {"order_id": "OX000006", "customer_id": "\\N"}],
        {"order_id": "OX000006"},
        "missing_customer_id",
        "customer_id '\\N' (a database dump's null): a missing id, the order is quarantined",
    )
    when = dt.datetime.fromisoformat(str(base["ordered_at"])[:19])
    p.plant(
        "orders_offset_timestamp",
        "orders",
        [base | {"order_id": "OX000007", "ordered_at": f"{when:%Y-%m-%d %H:%M:%S} +0200"}],
        {"order_id": "OX000007"},
        None,
        "ordered_at with a space-separated offset (Shopify's '2024-03-01 13:51:30 +0200'): "
        "kept, converted to UTC",
        outcome="repaired",
    )
    p.plant(
        "orders_twelve_hour_timestamp",
        "orders",
        [base | {"order_id": "OX000008", "ordered_at": f"{when:%Y-%m-%d %I:%M:%S %p}"}],
        {"order_id": "OX000008"},
        None,
        "ordered_at on a 12-hour clock ('01:51:30 PM'): kept",
        outcome="repaired",
    )
    p.plant(
        "orders_customer_id_invisible_characters",
        "orders",
        [base | {"order_id": "OX000009", "customer_id": f"\u200b{host}\t"}],
        {"order_id": "OX000009"},
        None,
        "customer_id wrapped in a zero-width space and a tab: trimmed, the order is kept "
        "under its customer",
        outcome="repaired",
    )
    p.plant(
        "orders_float_formatted_customer_id",
        "orders",
        [base | {"order_id": "OX000012", "customer_id": f"{host}.0"}],
        {"order_id": "OX000012"},
        "unknown_customer",
        "customer_id written as a float ('123.0' for '123'): no such customer, the order is "
        "quarantined; when most ids look like this, `segmentation check` names the cause",
    )
    # the order of order_items_all_lines_quarantined: kept, but no purchase
    p.insert("orders", base | {"order_id": ALL_LINES_QUARANTINED})
    return clean


def _plant_order_items(p: _Planter, order_id: str) -> None:
    line = {
        "order_id": order_id,
        "line_number": "1",
        "product_id": "P00001",
        "quantity": "1",
        "unit_price": "10.00",
        "discount_amount": "0.00",
    }
    p.insert("order_items", line)
    dup = p.row("order_items", "order_id = (select min(order_id) from order_items)")
    cases: list[tuple[str, dict[str, Any], str | None, str]] = [
        ("order_items_non_positive_quantity_zero", {"quantity": "0"}, "non_positive_quantity",
         "quantity 0"),
        ("order_items_non_positive_quantity_negative", {"quantity": "-2"},
         "non_positive_quantity", "quantity -2"),
        ("order_items_negative_unit_price", {"unit_price": "-5.00"}, "negative_unit_price",
         "unit_price -5.00"),
        ("order_items_text_in_quantity", {"quantity": "two"}, "unparseable_quantity",
         "text 'two' in quantity"),
        ("order_items_text_in_unit_price", {"unit_price": "12,50"}, "unparseable_unit_price",
         "decimal comma '12,50' in unit_price"),
        ("order_items_outlier_line_value", {"unit_price": "10000000.00"}, "outlier_line_value",
         "a 10,000,000 line (above var max_line_value, default 1,000,000)"),
        ("order_items_discount_exceeds_line_value", {"discount_amount": "50.00"},
         "discount_exceeds_line_value", "discount 50.00 on a 10.00 line"),
        ("order_items_missing_line_number", {"line_number": None, "product_id": "PX_NULL_LINE"},
         "missing_line_number", "order line without line_number"),
    ]  # fmt: skip
    for number, (kind, change, reason, text) in enumerate(cases, start=2):
        values = line | {"line_number": str(number)} | change
        key = (
            {"product_id": values["product_id"]}
            if values["line_number"] is None
            else {"order_id": order_id, "line_number": values["line_number"]}
        )
        p.plant(kind, "order_items", [values], key, reason, text)
    p.plant(
        "order_items_null_key",
        "order_items",
        [line | {"order_id": None, "product_id": "PX_NULL_ORDER"}],
        {"product_id": "PX_NULL_ORDER"},
        "missing_order_id",
        "order line without order_id",
    )
    p.plant(
        "order_items_all_lines_quarantined",
        "order_items",
        [
            line | {"order_id": ALL_LINES_QUARANTINED, "line_number": str(n), "unit_price": "-1"}
            for n in (1, 2)
        ],
        {"order_id": ALL_LINES_QUARANTINED},
        "negative_unit_price",
        "every line of a kept order quarantined: the order stays in stg_shop__orders but is no "
        "purchase (fct_orders.is_purchase false) and counts in no frequency",
        quarantined=2,
    )
    p.plant(
        "order_items_orphan",
        "order_items",
        [line | {"order_id": "OX_NO_SUCH_ORDER"}],
        {"order_id": "OX_NO_SUCH_ORDER"},
        "unknown_order",
        "line of an order that is not in orders",
    )
    p.plant(
        "order_items_duplicate_key",
        "order_items",
        [dup],
        {"order_id": dup["order_id"], "line_number": dup["line_number"]},
        "duplicate_order_line",
        "the same (order_id, line_number) twice: one kept, the copy quarantined",
        kept=1,
    )


def _plant_returns(p: _Planter) -> None:
    # Lines of delivered orders that have no return yet, and one line of a cancelled order.
    free_lines = p.con.execute(
        """
        select distinct i.order_id, i.line_number, i.quantity, o.ordered_at
        from order_items as i
        join orders as o using (order_id)
        anti join returns as r using (order_id, line_number)
        where o.status = 'delivered' and o.order_id like 'O0%'
        order by i.order_id, i.line_number
        limit 6
        """
    ).fetchall()
    cancelled = p.one(
        """
        select i.order_id, i.line_number, o.ordered_at
        from order_items as i join orders as o using (order_id)
        where o.status = 'cancelled' order by all limit 1
        """
    )
    (l1, l2, l3, l4, l5, l6) = free_lines

    def ret(rid: str | None, line: tuple, quantity: str = "1", days: float = 5, **kw: Any):
        return {
            "return_id": rid,
            "order_id": line[0],
            "line_number": line[1],
            "quantity": quantity,
            "returned_at": _shift(line[3], days=days),
            "reason": "wrong_size",
            "refund_amount": "1.00",
        } | kw

    dup = p.row("returns", "return_id = (select min(return_id) from returns)")
    p.plant(
        "returns_null_key",
        "returns",
        [ret(None, l1, reason="defect_null_key")],
        {"reason": "defect_null_key"},
        "missing_return_id",
        "return row without return_id",
    )
    p.plant(
        "returns_duplicate_key",
        "returns",
        [dup],
        {"return_id": dup["return_id"]},
        "duplicate_return_id",
        "the same return row twice: one kept, the copy quarantined",
        kept=1,
    )
    p.plant(
        "returns_orphan",
        "returns",
        [ret("RX000001", ("OX_NO_SUCH_ORDER", "1", "1", "2024-01-01 00:00:00"))],
        {"return_id": "RX000001"},
        "unknown_order_line",
        "return of an order line that does not exist",
    )
    p.plant(
        "returns_exceed_sold_quantity",
        "returns",
        [ret("RX000002", l1, quantity=str(int(l1[2]) + 1))],
        {"return_id": "RX000002"},
        "return_exceeds_sold_quantity",
        "one more unit returned than the line sold",
    )
    p.plant(
        "returns_before_order",
        "returns",
        [ret("RX000003", l2, days=-2)],
        {"return_id": "RX000003"},
        "returned_before_order",
        "returned_at two days before ordered_at",
    )
    p.plant(
        "returns_unparseable_returned_at",
        "returns",
        [ret("RX000004", l3, returned_at="2024-13-45 25:00:00")],
        {"return_id": "RX000004"},
        "unparseable_returned_at",
        "impossible date '2024-13-45 25:00:00' in returned_at",
    )
    p.plant(
        "returns_future_returned_at",
        "returns",
        [ret("RX000005", l3, returned_at=FUTURE)],
        {"return_id": "RX000005"},
        "future_returned_at",
        "returned_at in 2099",
    )
    p.plant(
        "returns_cumulative_exceed_sold_quantity",
        "returns",
        [ret("RX000006", l4, quantity=str(l4[2]), days=3), ret("RX000007", l4, days=4)],
        {"return_id": "RX000007"},
        "return_exceeds_sold_quantity",
        "two returns of one line: the first returns every unit (kept), the later one pushes "
        "the total past the sold quantity (quarantined)",
    )
    p.plant(
        "returns_of_cancelled_order",
        "returns",
        [ret("RX000008", (cancelled["order_id"], cancelled["line_number"], "1",
                          cancelled["ordered_at"]))],
        {"return_id": "RX000008"},
        "return_of_cancelled_order",
        "return of a line of a cancelled order",
    )  # fmt: skip
    p.plant(
        "returns_missing_refund_amount",
        "returns",
        [ret("RX000009", l5, refund_amount=None)],
        {"return_id": "RX000009"},
        None,
        "no refund_amount: kept, refund estimated as the line's net unit price x quantity "
        "(is_refund_estimated)",
        outcome="repaired",
    )
    p.plant(
        "returns_text_in_quantity",
        "returns",
        [ret("RX000010", l6, quantity="one")],
        {"return_id": "RX000010"},
        "unparseable_quantity",
        "text 'one' in quantity",
    )


def _plant_products(p: _Planter) -> None:
    base = p.row("products", "product_id = (select min(product_id) from products)")
    p.plant(
        "products_null_key",
        "products",
        [base | {"product_id": None, "product_name": "defect null key"}],
        {"product_name": "defect null key"},
        "missing_product_id",
        "product row without product_id",
    )
    p.plant(
        "products_duplicate_key",
        "products",
        [base | {"product_name": f"{base['product_name']} (copy)"}],
        {"product_id": base["product_id"]},
        "duplicate_product_id",
        "the same product_id twice with different names: the first name is kept",
        kept=1,
    )
    p.plant(
        "products_text_in_list_price",
        "products",
        [base | {"product_id": "PX0001", "list_price": "call us"}],
        {"product_id": "PX0001"},
        "unparseable_list_price",
        "text 'call us' in list_price ('n/a' would be a missing value)",
    )
    p.plant(
        "products_negative_list_price",
        "products",
        [base | {"product_id": "PX0002", "list_price": "-1.00"}],
        {"product_id": "PX0002"},
        "negative_list_price",
        "list_price -1.00",
    )


def _plant_sessions(p: _Planter, host: str) -> None:
    base = p.row("sessions", "customer_id is not null") | {"customer_id": host}
    dup = p.row("sessions", "session_id = (select min(session_id) from sessions)")
    cases: list[tuple[str, str | None, dict[str, Any], str | None, str]] = [
        ("sessions_null_key", None, {"device": "defect_null_key"}, "missing_session_id",
         "session row without session_id"),
        ("sessions_orphan_customer", "SX000001", {"customer_id": "CX_NO_SUCH_CUSTOMER"},
         "unknown_customer", "session of a customer that is not in customers"),
        ("sessions_text_in_count", "SX000002", {"page_views": "many"}, "unparseable_count",
         "text 'many' in page_views"),
        ("sessions_negative_count", "SX000003", {"cart_adds": "-1"}, "negative_count",
         "cart_adds -1"),
        ("sessions_future_started_at", "SX000004", {"started_at": FUTURE}, "future_started_at",
         "started_at in 2099"),
        ("sessions_anonymous", "SX000005", {"customer_id": None}, None,
         "no customer_id: kept as an anonymous session"),
    ]  # fmt: skip
    for kind, sid, change, reason, text in cases:
        values = base | {"session_id": sid} | change
        key = {"session_id": sid} if sid else {"device": "defect_null_key"}
        p.plant(kind, "sessions", [values], key, reason, text)
    p.plant(
        "sessions_duplicate_key",
        "sessions",
        [dup],
        {"session_id": dup["session_id"]},
        "duplicate_session_id",
        "the same session row twice: one kept, the copy quarantined",
        kept=1,
    )


def plant_row_defects(
    clean_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    formats: dict[str, str] | None = None,
) -> list[Defect]:
    """Read the clean Parquet folder ``clean_dir``, plant every row-level kind, write the
    result to ``out_dir`` (may equal ``clean_dir``); return the manifest entries."""
    planter = _Planter(Path(clean_dir))
    try:
        host = _plant_customers(planter)
        clean_order = _plant_orders(planter, host)
        _plant_order_items(planter, clean_order)
        _plant_returns(planter)
        _plant_products(planter)
        _plant_sessions(planter, host)
        planter.write(Path(out_dir), formats or DEFAULT_FORMATS)
    finally:
        planter.con.close()
    return planter.defects


def write_manifest(defects: Iterable[Defect | FileDefect], path: str | os.PathLike[str]) -> None:
    """The defect manifest as JSON: a list of entries (kind, table, key, outcome, ...)."""
    entries = [asdict(d) | {"family": type(d).__name__} for d in defects]
    Path(path).write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def read_manifest(path: str | os.PathLike[str]) -> list[Defect]:
    """Row-level entries of a manifest written by :func:`write_manifest`."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        Defect(**{k: v for k, v in e.items() if k != "family"})
        for e in entries
        if e.get("family") == "Defect"
    ]


def make_defect_folder(
    out_dir: str | os.PathLike[str],
    truth_dir: str | os.PathLike[str],
    customers: int = 2_000,
    seed: int = 42,
    *,
    end_date: dt.date | None = None,
    force: bool = False,
) -> list[Defect]:
    """Generate a clean folder, plant the row-level defects in place, write the manifest
    (``truth_dir/defects.json``); return the manifest entries."""
    kwargs: dict[str, Any] = {"force": force}
    if end_date is not None:
        kwargs["end_date"] = end_date
    generate(customers=customers, seed=seed, out_dir=out_dir, truth_dir=truth_dir, **kwargs)
    defects = plant_row_defects(out_dir, out_dir)
    write_manifest(defects, Path(truth_dir) / MANIFEST_NAME)
    return defects


# --------------------------------------------------------------------------------------------
# File-level defects
# --------------------------------------------------------------------------------------------

FILE_DEFECTS: dict[str, FileDefect] = {
    d.kind: d
    for d in [
        FileDefect(
            "file_missing_required_table", "orders", "orders.parquet", None,
            "orders file deleted", ("orders", "missing"), True, ("missing required table",
                                                                 "orders")),
        FileDefect(
            "file_missing_required_column", "order_items", "order_items.csv", "quantity",
            "order_items without its quantity column", ("order_items.csv", "quantity"), True,
            ("order_items.csv", "quantity")),
        FileDefect(
            "file_wrong_delimiter", "customers", "customers.csv", "customer_id",
            "customers.csv separated by ';'", ("customers.csv", "semicolon", "comma"), True,
            ("customers.csv", "customer_id")),
        FileDefect(
            "file_wrong_encoding_latin1", "customers", "customers.csv", "last_name",
            "customers.csv saved as Windows-1252 (a name with 'ü')",
            ("customers.csv", "UTF-8", "Windows-1252", "line"), True, ("customers.csv",)),
        FileDefect(
            "file_wrong_encoding_utf16", "orders", "orders.csv", None,
            "orders.csv saved as UTF-16", ("orders.csv", "UTF-16"), True, ("orders.csv",)),
        FileDefect(
            "file_empty_header_only", "order_items", "order_items.csv", None,
            "order_items.csv with only its header row", ("order_items.csv", "no data rows"),
            True, ("order_items.csv", "no data rows")),
        FileDefect(
            "file_empty_zero_bytes", "sessions", "sessions.csv", None,
            "sessions.csv of 0 bytes (an optional table: a file that is there must be valid)",
            ("sessions.csv", "empty"), True, ("sessions.csv", "session_id")),
        FileDefect(
            "file_corrupt_parquet", "customers", "customers.parquet", None,
            "customers.parquet truncated to half its size",
            ("customers.parquet", "Parquet"), True, ("customers.parquet",)),
        FileDefect(
            "file_ambiguous_parquet_and_csv", "orders", "orders.parquet + orders.csv", None,
            "orders present as both orders.parquet and orders.csv",
            ("orders.parquet", "orders.csv", "ambiguous"), True, ("ambiguous", "orders")),
        FileDefect(
            "file_no_header", "products", "products.csv", None,
            "products.csv without its header row", ("products.csv", "no header"), True,
            ("products.csv", "product_id")),
        FileDefect(
            "file_wrong_timestamp_format", "orders", "orders.csv", "ordered_at",
            "orders.csv with every ordered_at as 'DD/MM/YYYY HH:MM'",
            ("orders.csv", "ordered_at", "YYYY-MM-DD"), False),
        FileDefect(
            "file_text_in_numeric_column", "order_items", "order_items.csv", "unit_price",
            "order_items.csv with unit_price written with a decimal comma everywhere",
            ("order_items.csv", "unit_price", "decimal"), False),
    ]
}  # fmt: skip


def _table_text(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """A relation over a raw file (Parquet or CSV) with every column as text."""
    if path.suffix == ".parquet":
        return f"(select cast(columns(*) as varchar) from read_parquet('{path}'))"
    return f"read_csv('{path}', all_varchar = true, header = true)"


def _to_csv(con: duckdb.DuckDBPyConnection, folder: Path, table: str, select: str = "*") -> Path:
    """Rewrite ``folder/<table>.*`` as CSV (UTF-8, comma), optionally transforming columns."""
    source = next(p for p in (folder / f"{table}.parquet", folder / f"{table}.csv") if p.exists())
    target = folder / f"{table}.csv"
    tmp = folder / f"{table}.tmp.csv"
    con.execute(
        f"copy (select {select} from {_table_text(con, source)}) to '{tmp}' (format csv, header)"
    )
    source.unlink()
    os.replace(tmp, target)
    return target


def plant_file_defect(
    clean_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], kind: str
) -> FileDefect:
    """Copy the clean folder to ``out_dir`` (replacing it) and break one file per ``kind``."""
    return plant_file_defects(clean_dir, out_dir, [kind])[0]


def plant_file_defects(
    clean_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], kinds: Iterable[str]
) -> list[FileDefect]:
    """Copy the clean folder to ``out_dir`` (replacing it) and plant several file-level kinds,
    each on a different table (the dbt hook reports all missing tables/columns at once)."""
    defects = [FILE_DEFECTS[kind] for kind in kinds]
    tables = [d.table for d in defects]
    if len(set(tables)) != len(tables):
        raise ValueError(f"file-level kinds must break different tables: {tables}")
    src, out = Path(clean_dir), Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out)
    con = duckdb.connect()
    try:
        for defect in defects:
            _break_file(con, out, defect.kind)
    finally:
        con.close()
    return defects


def _break_file(con: duckdb.DuckDBPyConnection, out: Path, kind: str) -> None:
    """Apply one file-level kind to the folder ``out``, in place."""
    if kind == "file_missing_required_table":
        for ext in ("parquet", "csv"):
            (out / f"orders.{ext}").unlink(missing_ok=True)
    elif kind == "file_missing_required_column":
        _to_csv(con, out, "order_items", "* exclude (quantity)")
    elif kind == "file_wrong_delimiter":
        path = _to_csv(con, out, "customers")
        con.execute(
            f"copy (from read_csv('{path}', all_varchar = true)) to '{path}.tmp' "
            "(format csv, header, delimiter ';')"
        )
        os.replace(f"{path}.tmp", path)
    elif kind == "file_wrong_encoding_latin1":
        path = _to_csv(
            con,
            out,
            "customers",
            "* replace (case when customer_id = (select max(customer_id) from "
            f"{_table_text(con, out / 'customers.parquet')}) then 'Müller' "
            "else last_name end as last_name)",
        )
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    elif kind == "file_wrong_encoding_utf16":
        path = _to_csv(con, out, "orders")
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    elif kind == "file_empty_header_only":
        path = _to_csv(con, out, "order_items")
        with path.open(encoding="utf-8") as handle:
            header = handle.readline()
        path.write_text(header, encoding="utf-8")
    elif kind == "file_empty_zero_bytes":
        path = _to_csv(con, out, "sessions")
        path.write_bytes(b"")
    elif kind == "file_corrupt_parquet":
        path = out / "customers.parquet"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "file_ambiguous_parquet_and_csv":
        con.execute(
            f"copy (from read_parquet('{out / 'orders.parquet'}')) to "
            f"'{out / 'orders.csv'}' (format csv, header)"
        )
    elif kind == "file_no_header":
        path = _to_csv(con, out, "products")
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[1:]), encoding="utf-8")
    elif kind == "file_wrong_timestamp_format":
        _to_csv(
            con,
            out,
            "orders",
            "* replace (strftime(cast(ordered_at as timestamp), '%d/%m/%Y %H:%M') as ordered_at)",
        )
    elif kind == "file_text_in_numeric_column":
        _to_csv(con, out, "order_items", "* replace (replace(unit_price, '.', ',') as unit_price)")
    else:  # pragma: no cover - FILE_DEFECTS and this switch are kept in step
        raise KeyError(kind)


# --------------------------------------------------------------------------------------------
# `segmentation generate --defects` (the flag lives in generate.add_arguments)
# --------------------------------------------------------------------------------------------


def apply_after_generate(out_dir: str | os.PathLike[str], truth_dir: str | os.PathLike[str]) -> int:
    """Plant the row-level defects into a freshly generated folder; the number planted."""
    defects = plant_row_defects(out_dir, out_dir)
    write_manifest(defects, Path(truth_dir) / MANIFEST_NAME)
    return len(defects)

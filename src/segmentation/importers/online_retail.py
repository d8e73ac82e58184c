"""Convert the UCI "Online Retail" / "Online Retail II" transaction log into the raw input contract.

The source is one row per invoice line: no customer table, no order table, no line key, and
returns are negative "C" invoices rather than references to the sold line. This module turns it
into the five raw tables the dbt project reads (customers, orders, order_items, returns,
products; no sessions) and explains every source row: each row gets exactly one *outcome*, and
the outcome counts add up to the rows read (asserted), so nothing is dropped silently.

Both published layouts are accepted, from CSV or Parquet:

- "Online Retail II": Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
  Customer ID, Country
- "Online Retail": InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
  CustomerID (a float), Country

Row outcomes, in precedence order (a row takes the first that applies):

1. ``invalid_row``: invoice, invoice date, quantity (integer) or price (number) missing or
   unreadable.
2. ``bad_debt_adjustment``: invoice starts with ``A``.
3. ``stock_adjustment``: not a ``C`` invoice and quantity <= 0.
4. ``non_positive_price``: not a ``C`` invoice, quantity > 0 and price <= 0.
5. ``guest_row``: no customer id (guest purchases and ``C`` lines without a customer id).
6. ``cancellation_matched`` / ``cancellation_unmatched``: a ``C`` line with a customer id,
   matched to a purchase line (a return) or written to the rejects file with its reason.
7. ``kept_order_line``: everything else; becomes a row of order_items.

The heavy lifting is set-based DuckDB SQL; only the greedy return matching, which is
inherently sequential (each cancellation consumes quantity the next one can no longer use), is
a Python loop over the cancellation lines with dictionary lookups.
"""

from __future__ import annotations

import bisect
import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

# Canonical field -> source column name, per published layout.
LAYOUTS: dict[str, dict[str, str]] = {
    "Online Retail II": {
        "invoice": "Invoice",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "price": "Price",
        "customer_id": "Customer ID",
        "country": "Country",
    },
    "Online Retail": {
        "invoice": "InvoiceNo",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "price": "UnitPrice",
        "customer_id": "CustomerID",
        "country": "Country",
    },
}

# Row outcomes in precedence order (see the module docstring).
OUTCOMES: tuple[str, ...] = (
    "invalid_row",
    "bad_debt_adjustment",
    "stock_adjustment",
    "non_positive_price",
    "guest_row",
    "cancellation_matched",
    "cancellation_unmatched",
    "kept_order_line",
)

# Why a cancellation line with a customer id could not become a return.
REJECT_REASONS: tuple[str, ...] = (
    "non_positive_quantity",  # a C line whose Quantity is >= 0: nothing is being returned
    "no_earlier_purchase",  # no kept purchase line of that customer and stock code at or before it
    "quantity_exceeds_unreturned",  # earlier purchases exist, none has enough unreturned quantity
)

# Files the importer owns in the output folder (and removes with ``force``).
RAW_TABLES: tuple[str, ...] = (
    "customers",
    "orders",
    "order_items",
    "returns",
    "products",
    "sessions",
)
IMPORT_DIR = "_import"
IMPORT_FILES: tuple[str, ...] = ("summary.json", "rejected_returns.parquet", "row_outcomes.parquet")

# String formats tried for InvoiceDate values that are not ISO-8601 / `YYYY-MM-DD HH:MM:SS`.
US_DATE_FORMATS = ["%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]
US_SHORT_YEAR_FORMATS = ["%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y"]

_MISSING_STRINGS = "('', 'nan', 'none', 'null')"
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")


class OnlineRetailImportError(ValueError):
    """The input cannot be imported; the message names the file, the problem and the fix."""


@dataclass
class ImportSummary:
    """What an import read, what it decided for every row, and what it wrote."""

    source: str
    layout: str
    file_format: str
    out_dir: str
    rows_read: int
    outcomes: dict[str, int]
    tables: dict[str, int]
    customers_with_orders: int
    purchase_value: float
    refund_value: float
    rejected_returns: dict[str, int]
    invoices_with_several_customers: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-serialisable dict (written to ``_import/summary.json``)."""
        return asdict(self)

    def format_text(self) -> str:
        """Human-readable summary printed by the CLI."""
        width = max(len(name) for name in OUTCOMES)
        lines = [
            f"Imported {self.source} ({self.layout} layout, {self.file_format})",
            f"  rows read: {self.rows_read:,}",
            "  row outcomes (precedence order):",
        ]
        lines += [f"    {name:<{width}}  {self.outcomes[name]:>10,}" for name in OUTCOMES]
        lines.append(f"    {'total':<{width}}  {sum(self.outcomes.values()):>10,}")
        lines.append(f"  written to {self.out_dir}:")
        lines += [
            f"    {name + '.parquet':<20}  {count:>10,} rows" for name, count in self.tables.items()
        ]
        lines.append(f"  customers with a kept order: {self.customers_with_orders:,}")
        lines.append(f"  purchase value (sum quantity x unit_price): {self.purchase_value:,.2f}")
        lines.append(f"  refund value of matched returns: {self.refund_value:,.2f}")
        if self.rejected_returns:
            detail = ", ".join(f"{k} {v:,}" for k, v in self.rejected_returns.items())
            lines.append(
                f"  rejected cancellations ({IMPORT_DIR}/rejected_returns.parquet): {detail}"
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _normalise_name(name: str) -> str:
    """Column-name key for layout detection: case-, space- and underscore-insensitive."""
    return re.sub(r"[\s_\-]+", "", name).lower()


def detect_layout(columns: Sequence[str], source: str = "input") -> tuple[str, dict[str, str]]:
    """Return the layout name and a map canonical field -> actual column name.

    The layout whose columns are all present wins; otherwise the closest layout is reported
    with the missing columns named, so the user can rename them.
    """
    actual = {_normalise_name(c): c for c in columns}
    best: tuple[int, str, list[str]] | None = None
    for layout, fields in LAYOUTS.items():
        missing = [col for col in fields.values() if _normalise_name(col) not in actual]
        if not missing:
            return layout, {key: actual[_normalise_name(col)] for key, col in fields.items()}
        if best is None or len(missing) < best[0]:
            best = (len(missing), layout, missing)
    assert best is not None
    _, layout, missing = best
    raise OnlineRetailImportError(
        f"{source}: not an Online Retail file: missing column(s) {', '.join(missing)} "
        f"(closest layout: {layout!r}; expected {', '.join(LAYOUTS[layout].values())}; "
        f"found {', '.join(columns)}). Rename the columns (case and spaces do not matter)."
    )


def _quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


def _file_format(path: Path) -> str:
    """'parquet' or 'csv' from the file name; a clear error for anything else."""
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith((".xlsx", ".xls")):
        raise OnlineRetailImportError(
            f"{path}: Excel files are not read directly; save the sheet as CSV (UTF-8) or "
            "Parquet and import that file."
        )
    raise OnlineRetailImportError(
        f"{path}: unknown file type; expected .csv (or .csv.gz, .txt, .tsv) or .parquet."
    )


def _load_source(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> None:
    """Load the file into table ``src`` in file order (``rowid`` = 0-based data row).

    CSV is read with every column as VARCHAR so identifiers keep leading zeros and are never
    turned into floats; a file that is not UTF-8 is retried as Latin-1 (the UCI CSV exports
    are often Windows-encoded).
    """
    con.execute("SET preserve_insertion_order = true")
    if file_format == "parquet":
        con.execute(f"CREATE TABLE src AS SELECT * FROM read_parquet({_sql_str(str(path))})")
        return
    delim = "\\t" if path.name.lower().endswith(".tsv") else ","
    last_error: Exception | None = None
    for encoding in ("utf-8", "latin-1"):
        try:
            con.execute(
                "CREATE TABLE src AS SELECT * FROM read_csv("
                f"{_sql_str(str(path))}, header = true, all_varchar = true, "
                f"delim = '{delim}', encoding = '{encoding}')"
            )
            return
        except duckdb.Error as exc:
            last_error = exc
            if "unicode" not in str(exc).lower() and "encod" not in str(exc).lower():
                break
    raise OnlineRetailImportError(f"{path}: cannot read as CSV: {last_error}") from last_error


def _identifier_sql(col: str, col_type: str) -> str:
    """SQL turning a source identifier column into a trimmed string or NULL.

    Numbers that are integral lose their decimal part (17850.0 -> '17850'); NaN, empty strings
    and the literal strings 'nan'/'None'/'null' are missing.
    """
    q = _quote(col)
    t = col_type.upper()
    if t in {"DOUBLE", "FLOAT", "REAL"} or t.startswith("DECIMAL"):
        d = f"CAST({q} AS DOUBLE)"
        return (
            f"CASE WHEN {d} IS NULL OR isnan({d}) THEN NULL "
            f"WHEN {d} = trunc({d}) THEN CAST(CAST({d} AS HUGEINT) AS VARCHAR) "
            f"ELSE CAST({d} AS VARCHAR) END"
        )
    s = f"trim(CAST({q} AS VARCHAR))"
    return (
        f"CASE WHEN {q} IS NULL OR lower({s}) IN {_MISSING_STRINGS} THEN NULL "
        f"ELSE regexp_replace({s}, '^([0-9]+)\\.0+$', '\\1') END"
    )


def _text_sql(col: str) -> str:
    """SQL for a free-text column: trimmed, missing (NULL, '', 'nan') as NULL."""
    s = f"trim(CAST({_quote(col)} AS VARCHAR))"
    return f"CASE WHEN {s} IS NULL OR lower({s}) IN {_MISSING_STRINGS} THEN NULL ELSE {s} END"


def _number_sql(col: str, col_type: str) -> str:
    """SQL for a numeric column as DOUBLE (NULL when missing, unreadable or NaN)."""
    q = _quote(col)
    if col_type.upper() == "VARCHAR":
        d = f"TRY_CAST(trim({q}) AS DOUBLE)"
    else:
        d = f"TRY_CAST({q} AS DOUBLE)"
    return f"CASE WHEN isnan({d}) OR isinf({d}) THEN NULL ELSE {d} END"


def _timestamp_sql(col: str, col_type: str) -> str:
    """SQL for InvoiceDate as a naive UTC TIMESTAMP.

    Accepts timestamp/date columns, and strings as ISO-8601 (with or without offset, converted
    to UTC), `YYYY-MM-DD HH:MM:SS`, or the US CSV export form `M/D/YYYY H:MM` (also `M/D/YY`).
    """
    q = _quote(col)
    t = col_type.upper()
    if t in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return f"timezone('UTC', {q})"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"CAST({q} AS TIMESTAMP)"
    s = f"trim(CAST({q} AS VARCHAR))"
    short = ", ".join(_sql_str(f) for f in US_SHORT_YEAR_FORMATS)
    long = ", ".join(_sql_str(f) for f in US_DATE_FORMATS)
    return (
        f"CASE WHEN regexp_matches({s}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{2}}(\\s|$)') "
        f"THEN try_strptime({s}, [{short}]) "
        f"WHEN regexp_matches({s}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}(\\s|$)') "
        f"THEN try_strptime({s}, [{long}]) "
        f"ELSE timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) END"
    )


def _build_lines(con: duckdb.DuckDBPyConnection, mapping: dict[str, str], source: str) -> None:
    """Create table ``lines``: one typed row per source row, with its outcome.

    ``cancellation`` is a provisional outcome, split into matched/unmatched by the matcher.
    """
    types = {row[0]: row[1] for row in con.execute("DESCRIBE src").fetchall()}
    m = mapping
    date_raw = f"trim(CAST({_quote(m['invoice_date'])} AS VARCHAR))"
    con.execute(
        f"""
        CREATE TABLE typed AS
        SELECT
            CAST(rowid + 1 AS BIGINT) AS source_row,
            {_identifier_sql(m["invoice"], types[m["invoice"]])} AS invoice,
            {_identifier_sql(m["stock_code"], types[m["stock_code"]])} AS stock_code,
            {_text_sql(m["description"])} AS description,
            {_number_sql(m["quantity"], types[m["quantity"]])} AS quantity_raw,
            {_number_sql(m["price"], types[m["price"]])} AS price_raw,
            {_timestamp_sql(m["invoice_date"], types[m["invoice_date"]])} AS invoiced_at,
            {date_raw} AS invoice_date_text,
            {_identifier_sql(m["customer_id"], types[m["customer_id"]])} AS customer_id,
            {_text_sql(m["country"])} AS country
        FROM src
        """
    )
    # A whole column in an unknown date format is a bad file, not a pile of invalid rows.
    parsed, present, example = con.execute(
        "SELECT count(invoiced_at), count(*) FILTER (WHERE invoice_date_text <> ''), "
        "any_value(invoice_date_text) "
        "FILTER (WHERE invoiced_at IS NULL AND invoice_date_text <> '') "
        "FROM typed"
    ).fetchone()
    if present and not parsed:
        raise OnlineRetailImportError(
            f"{source}: column {m['invoice_date']}: no value could be read as a date "
            f"(e.g. {example!r}); expected 'YYYY-MM-DD HH:MM:SS', ISO-8601 or 'M/D/YYYY H:MM'."
        )
    con.execute(
        """
        CREATE TABLE lines AS
        WITH t AS (
            SELECT
                * EXCLUDE (quantity_raw, price_raw),
                CASE WHEN quantity_raw = trunc(quantity_raw)
                     THEN CAST(quantity_raw AS BIGINT) END AS quantity,
                CAST(round(price_raw, 3) AS DECIMAL(12, 3)) AS unit_price,
                upper(left(invoice, 1)) AS prefix,
                quantity_raw,
                price_raw
            FROM typed
        ),
        r AS (
            SELECT
                *,
                CASE
                    WHEN invoice IS NULL THEN 'missing_invoice'
                    WHEN invoiced_at IS NULL AND coalesce(invoice_date_text, '') = ''
                        THEN 'missing_invoice_date'
                    WHEN invoiced_at IS NULL THEN 'unreadable_invoice_date'
                    WHEN quantity_raw IS NULL THEN 'missing_or_unreadable_quantity'
                    WHEN quantity IS NULL THEN 'non_integer_quantity'
                    WHEN price_raw IS NULL THEN 'missing_or_unreadable_price'
                    WHEN abs(price_raw) >= 1e9 THEN 'price_out_of_range'
                END AS invalid_reason
            FROM t
        )
        SELECT
            * EXCLUDE (quantity_raw, price_raw, invoice_date_text),
            CASE
                WHEN invalid_reason IS NOT NULL THEN 'invalid_row'
                WHEN prefix = 'A' THEN 'bad_debt_adjustment'
                WHEN prefix <> 'C' AND quantity <= 0 THEN 'stock_adjustment'
                WHEN prefix <> 'C' AND unit_price <= 0 THEN 'non_positive_price'
                WHEN customer_id IS NULL THEN 'guest_row'
                WHEN prefix = 'C' THEN 'cancellation'
                ELSE 'kept_order_line'
            END AS outcome,
            -- position of the row within its invoice, in file order (all rows of the invoice)
            row_number() OVER (PARTITION BY invoice ORDER BY source_row) AS invoice_position
        FROM r
        """
    )


def _build_order_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``order_items``, ``orders``, ``customers`` and ``products`` (set-based SQL)."""
    con.execute(
        """
        CREATE TABLE kept AS
        SELECT
            *,
            CAST(row_number() OVER (PARTITION BY invoice ORDER BY source_row) AS INTEGER)
                AS line_number
        FROM lines
        WHERE outcome = 'kept_order_line'
        """
    )
    con.execute(
        """
        CREATE TABLE out_order_items AS
        SELECT
            invoice AS order_id,
            line_number,
            stock_code AS product_id,
            quantity,
            unit_price,
            CAST(0 AS DECIMAL(12, 2)) AS discount_amount
        FROM kept
        ORDER BY source_row
        """
    )
    # ordered_at: the earliest InvoiceDate among all rows of the invoice. customer_id: the
    # customer of the invoice's first kept line (invoices never mix customers in the UCI data;
    # if one does, it is counted in the summary).
    con.execute(
        """
        CREATE TABLE out_orders AS
        WITH invoice_start AS (
            SELECT invoice, min(invoiced_at) AS ordered_at
            FROM lines
            WHERE invoice IS NOT NULL AND invoiced_at IS NOT NULL
            GROUP BY invoice
        ),
        kept_invoices AS (
            SELECT
                invoice,
                arg_min(customer_id, source_row) AS customer_id,
                count(DISTINCT customer_id) AS n_customers,
                min(source_row) AS first_row
            FROM kept
            GROUP BY invoice
        )
        SELECT
            k.invoice AS order_id,
            k.customer_id,
            s.ordered_at,
            'delivered' AS status,
            'online' AS sales_channel,
            k.n_customers
        FROM kept_invoices AS k
        JOIN invoice_start AS s USING (invoice)
        ORDER BY k.first_row
        """
    )
    # Country: the customer's most frequent non-missing country over all their rows;
    # ties go to the alphabetically first country.
    con.execute(
        """
        CREATE TABLE out_customers AS
        WITH ids AS (
            SELECT customer_id, min(source_row) AS first_row
            FROM lines WHERE customer_id IS NOT NULL GROUP BY customer_id
        ),
        country_counts AS (
            SELECT customer_id, country, count(*) AS n
            FROM lines
            WHERE customer_id IS NOT NULL AND country IS NOT NULL
            GROUP BY customer_id, country
        ),
        top_country AS (
            SELECT customer_id, arg_min(country, (-n, country)) AS country
            FROM country_counts GROUP BY customer_id
        )
        SELECT
            i.customer_id,
            CAST(NULL AS VARCHAR) AS email,
            CAST(NULL AS VARCHAR) AS first_name,
            CAST(NULL AS VARCHAR) AS last_name,
            CAST(NULL AS DATE) AS birth_date,
            CAST(NULL AS VARCHAR) AS gender,
            c.country,
            CAST(NULL AS TIMESTAMP) AS signup_at,
            CAST(NULL AS VARCHAR) AS acquisition_channel
        FROM ids AS i
        LEFT JOIN top_country AS c USING (customer_id)
        ORDER BY i.first_row
        """
    )
    # product_name: most frequent non-missing description (ties: alphabetically first).
    # list_price: most frequent unit price on sale lines (not C/A, quantity > 0, price > 0,
    # with or without a customer id); ties go to the lower price. NULL if never sold.
    con.execute(
        """
        CREATE TABLE out_products AS
        WITH codes AS (
            SELECT stock_code, min(source_row) AS first_row
            FROM lines WHERE stock_code IS NOT NULL GROUP BY stock_code
        ),
        names AS (
            SELECT stock_code, arg_min(description, (-n, description)) AS product_name
            FROM (
                SELECT stock_code, description, count(*) AS n
                FROM lines
                WHERE stock_code IS NOT NULL AND description IS NOT NULL
                GROUP BY ALL
            )
            GROUP BY stock_code
        ),
        prices AS (
            SELECT stock_code, arg_min(unit_price, (-n, unit_price)) AS list_price
            FROM (
                SELECT stock_code, unit_price, count(*) AS n
                FROM lines
                WHERE stock_code IS NOT NULL
                  AND outcome IN ('kept_order_line', 'guest_row')
                  AND prefix NOT IN ('C', 'A') AND quantity > 0 AND unit_price > 0
                GROUP BY ALL
            )
            GROUP BY stock_code
        )
        SELECT
            c.stock_code AS product_id,
            n.product_name,
            CAST(NULL AS VARCHAR) AS category,
            p.list_price
        FROM codes AS c
        LEFT JOIN names AS n USING (stock_code)
        LEFT JOIN prices AS p USING (stock_code)
        ORDER BY c.first_row
        """
    )


@dataclass
class _Purchase:
    """A kept purchase line that cancellations can be matched to."""

    invoiced_at: datetime
    source_row: int
    order_id: str
    line_number: int
    unreturned: int


def match_cancellations(
    cancellations: Iterable[tuple[int, str | None, str | None, int, datetime]],
    purchases: Iterable[tuple[str, str, datetime, int, str, int, int]],
) -> dict[int, tuple[str, int] | str]:
    """Match cancellation lines to purchase lines greedily; return source_row -> match or reason.

    ``cancellations``: (source_row, customer_id, stock_code, quantity, invoiced_at), quantity
    negative on a real cancellation. ``purchases``: (customer_id, stock_code, invoiced_at,
    source_row, order_id, line_number, quantity) of kept order lines.

    Rule: cancellations are processed in time order (InvoiceDate, then file row). Each is matched
    to the same customer's most recent purchase line of the same stock code dated at or before
    it (ties on the date: the later file row) whose unreturned quantity is at least the
    cancelled quantity; the match consumes that quantity. A cancellation is never split over
    several lines, so one larger than every single line's unreturned quantity is unmatched.
    The result is a pair (order_id, line_number) or a reason from ``REJECT_REASONS``.
    """
    by_key: dict[tuple[str, str], list[_Purchase]] = {}
    for customer_id, stock_code, at, row, order_id, line_number, quantity in purchases:
        by_key.setdefault((customer_id, stock_code), []).append(
            _Purchase(at, row, order_id, line_number, quantity)
        )
    times: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
    for key, lines in by_key.items():
        lines.sort(key=lambda p: (p.invoiced_at, p.source_row))
        times[key] = [(p.invoiced_at, p.source_row) for p in lines]

    result: dict[int, tuple[str, int] | str] = {}
    for row, customer_id, stock_code, quantity, at in sorted(
        cancellations, key=lambda c: (c[4], c[0])
    ):
        if quantity >= 0:
            result[row] = "non_positive_quantity"
            continue
        wanted = -quantity
        key = (customer_id or "", stock_code or "")
        lines = by_key.get(key, [])
        # purchases dated at or before the cancellation: a prefix of the sorted list
        end = bisect.bisect_right(times.get(key, []), (at, float("inf")))
        if end == 0:
            result[row] = "no_earlier_purchase"
            continue
        for purchase in reversed(lines[:end]):
            if purchase.unreturned >= wanted:
                purchase.unreturned -= wanted
                result[row] = (purchase.order_id, purchase.line_number)
                break
        else:
            result[row] = "quantity_exceeds_unreturned"
    return result


def _build_returns(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``out_returns`` and ``rejected_returns`` by matching the cancellation lines."""
    cancellations = con.execute(
        """
        SELECT source_row, customer_id, stock_code, quantity, invoiced_at
        FROM lines WHERE outcome = 'cancellation'
        """
    ).fetchall()
    purchases = con.execute(
        """
        SELECT k.customer_id, k.stock_code, k.invoiced_at, k.source_row, k.invoice,
               k.line_number, k.quantity
        FROM kept AS k
        WHERE EXISTS (
            SELECT 1 FROM lines AS c
            WHERE c.outcome = 'cancellation'
              AND c.customer_id = k.customer_id
              AND c.stock_code = k.stock_code
        )
        """
    ).fetchall()
    matches = match_cancellations(cancellations, purchases)
    rows = sorted(matches)
    matched = [matches[r] if isinstance(matches[r], tuple) else None for r in rows]
    match_table = pa.table(
        {
            "source_row": pa.array(rows, pa.int64()),
            "order_id": pa.array([m[0] if m else None for m in matched], pa.string()),
            "line_number": pa.array([m[1] if m else None for m in matched], pa.int32()),
            "reject_reason": pa.array(
                [None if isinstance(matches[r], tuple) else matches[r] for r in rows], pa.string()
            ),
        }
    )
    con.register("match_table", match_table)
    con.execute(
        """
        CREATE TABLE cancel_results AS
        SELECT l.*, m.order_id, m.line_number, m.reject_reason
        FROM lines AS l JOIN match_table AS m USING (source_row)
        """
    )
    con.unregister("match_table")
    con.execute(
        """
        UPDATE lines SET outcome = CASE WHEN c.reject_reason IS NULL
                                        THEN 'cancellation_matched'
                                        ELSE 'cancellation_unmatched' END
        FROM cancel_results AS c
        WHERE lines.source_row = c.source_row
        """
    )
    con.execute(
        """
        CREATE TABLE out_returns AS
        SELECT
            invoice || '-' || invoice_position AS return_id,
            order_id,
            line_number,
            -quantity AS quantity,
            invoiced_at AS returned_at,
            CAST(NULL AS VARCHAR) AS reason,
            CAST(round(-quantity * unit_price, 2) AS DECIMAL(12, 2)) AS refund_amount
        FROM cancel_results
        WHERE reject_reason IS NULL
        ORDER BY invoiced_at, source_row
        """
    )
    con.execute(
        """
        CREATE TABLE rejected_returns AS
        SELECT
            invoice || '-' || invoice_position AS return_id,
            source_row,
            invoice,
            stock_code,
            customer_id,
            quantity,
            unit_price,
            invoiced_at AS cancelled_at,
            reject_reason
        FROM cancel_results
        WHERE reject_reason IS NOT NULL
        ORDER BY invoiced_at, source_row
        """
    )


def _existing_outputs(out_dir: Path) -> list[Path]:
    """Files in ``out_dir`` that an import would write or that would mix with its output:
    a table's file, or its batch folder (``<table>/``, docs/incremental.md), which the build
    would read beside the imported file or refuse as ambiguous."""
    found = [
        out_dir / f"{table}.{ext}"
        for table in RAW_TABLES
        for ext in ("parquet", "csv")
        if (out_dir / f"{table}.{ext}").exists()
    ]
    found += [out_dir / table for table in RAW_TABLES if (out_dir / table).is_dir()]
    found += [out_dir / IMPORT_DIR / f for f in IMPORT_FILES if (out_dir / IMPORT_DIR / f).exists()]
    return found


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """Write a query result as Parquet."""
    con.execute(f"COPY ({query}) TO {_sql_str(str(target))} (FORMAT parquet)")


def import_online_retail(
    path: str | Path, out_dir: str | Path, *, force: bool = False
) -> ImportSummary:
    """Import one Online Retail (II) file into ``out_dir`` as the raw input contract.

    Writes customers, orders, order_items, returns and products as Parquet, plus
    ``_import/summary.json``, ``_import/rejected_returns.parquet`` (cancellations that could not
    be matched, with ``reject_reason``) and ``_import/row_outcomes.parquet`` (the outcome of
    every source row). Refuses to overwrite existing raw files or batch folders unless
    ``force`` is true, in which case it also removes a stale ``sessions`` file or folder so
    the folder holds only this import.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    if not path.is_file():
        raise OnlineRetailImportError(f"{path}: file not found.")
    file_format = _file_format(path)
    existing = _existing_outputs(out_dir)
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise OnlineRetailImportError(
            f"{out_dir}: already holds raw files ({names}); pass --force to replace them."
        )

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        _load_source(con, path, file_format)
        columns = [name for name, *_ in con.execute("DESCRIBE src").fetchall()]
        layout, mapping = detect_layout(columns, str(path))
        _build_lines(con, mapping, str(path))
        _build_order_tables(con)
        _build_returns(con)

        rows_read = con.execute("SELECT count(*) FROM src").fetchone()[0]
        counts = dict(con.execute("SELECT outcome, count(*) FROM lines GROUP BY 1").fetchall())
        unknown = set(counts) - set(OUTCOMES)
        assert not unknown, f"rows left without a final outcome: {unknown}"
        outcomes = {name: int(counts.get(name, 0)) for name in OUTCOMES}
        assert sum(outcomes.values()) == rows_read, (outcomes, rows_read)
        if not outcomes["kept_order_line"]:
            # an import with no order line would give the pipeline nothing to segment, and
            # (with --force) would already have replaced the folder's raw files
            found = ", ".join(f"{n} {name}" for name, n in outcomes.items() if n) or "none"
            raise OnlineRetailImportError(
                f"{path}: no row is a customer's order line ({rows_read} rows read: {found}); "
                f"nothing was written to {out_dir}. docs/real-data.md says which row is kept."
            )

        for p in existing:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / IMPORT_DIR).mkdir(exist_ok=True)
        tables = {
            "customers": "SELECT * FROM out_customers",
            "orders": "SELECT * EXCLUDE (n_customers) FROM out_orders",
            "order_items": "SELECT * FROM out_order_items",
            "returns": "SELECT * FROM out_returns",
            "products": "SELECT * FROM out_products",
        }
        for name, query in tables.items():
            _copy(con, query, out_dir / f"{name}.parquet")
        _copy(
            con, "SELECT * FROM rejected_returns", out_dir / IMPORT_DIR / "rejected_returns.parquet"
        )
        _copy(
            con,
            "SELECT source_row, lines.invoice, outcome, "
            "coalesce(invalid_reason, r.reject_reason) AS reason "
            "FROM lines LEFT JOIN rejected_returns AS r USING (source_row) "
            "ORDER BY source_row",
            out_dir / IMPORT_DIR / "row_outcomes.parquet",
        )

        table_counts = {
            name: int(con.execute(f"SELECT count(*) FROM out_{name}").fetchone()[0])
            for name in tables
        }
        assert table_counts["order_items"] == outcomes["kept_order_line"]
        assert table_counts["returns"] == outcomes["cancellation_matched"]
        customers_with_orders, several = con.execute(
            "SELECT count(DISTINCT customer_id), count(*) FILTER (WHERE n_customers > 1) "
            "FROM out_orders"
        ).fetchone()
        purchase_value = con.execute(
            "SELECT coalesce(sum(quantity * unit_price), 0) FROM out_order_items"
        ).fetchone()[0]
        refund_value = con.execute(
            "SELECT coalesce(sum(refund_amount), 0) FROM out_returns"
        ).fetchone()[0]
        rejected = dict(
            con.execute(
                "SELECT reject_reason, count(*) FROM rejected_returns GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        notes = []
        if several:
            notes.append(
                f"{several} invoice(s) carry several customer ids; the order belongs to the "
                "customer of its first kept line."
            )
        if outcomes["invalid_row"]:
            notes.append(
                f"{outcomes['invalid_row']} invalid row(s); reasons in "
                f"{IMPORT_DIR}/row_outcomes.parquet."
            )
    finally:
        con.close()

    summary = ImportSummary(
        source=str(path),
        layout=layout,
        file_format=file_format,
        out_dir=str(out_dir),
        rows_read=int(rows_read),
        outcomes=outcomes,
        tables=table_counts,
        customers_with_orders=int(customers_with_orders),
        purchase_value=float(round(Decimal(purchase_value), 2)),
        refund_value=float(round(Decimal(refund_value), 2)),
        rejected_returns={str(k): int(v) for k, v in rejected.items()},
        invoices_with_several_customers=int(several),
        notes=notes,
    )
    (out_dir / IMPORT_DIR / "summary.json").write_text(
        json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
    return summary

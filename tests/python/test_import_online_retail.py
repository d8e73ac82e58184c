"""Tests for `segmentation import online-retail`: layouts, formats, row outcomes, return matching.

Unit tests run on tiny hand-made frames. The integration tests import the real "Online Retail
II" 2009-2010 file (found by ``real_file``: ``$ONLINE_RETAIL_DIR`` or the repository's
``data/online_retail_ii/``) in both published layouts and check the published counts exactly.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation.importers import add_arguments, main
from segmentation.importers.online_retail import (
    OUTCOMES,
    OnlineRetailImportError,
    detect_layout,
    import_online_retail,
    match_cancellations,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_FILE_NAME = "online_retail_II_2009-2010.parquet"

# Online Retail II column names -> Online Retail (older layout) column names.
OLD_LAYOUT = {
    "Invoice": "InvoiceNo",
    "Price": "UnitPrice",
    "Customer ID": "CustomerID",
}


def rows(*lines: tuple) -> pd.DataFrame:
    """A frame in the Online Retail II layout from (invoice, stock, desc, qty, date, price,
    customer, country) tuples; dates as `YYYY-MM-DD HH:MM:SS` strings, customer as int/None."""
    columns = [
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
    ]
    frame = pd.DataFrame(list(lines), columns=columns)
    frame["Customer ID"] = frame["Customer ID"].astype("Int64")
    return frame


def to_old_layout(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows in the "Online Retail" layout: float CustomerID, `M/D/YYYY H:MM` dates."""
    old = frame.rename(columns=OLD_LAYOUT).copy()
    old["CustomerID"] = old["CustomerID"].astype("float64")
    stamps = pd.to_datetime(old["InvoiceDate"])
    old["InvoiceDate"] = [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in stamps]
    return old


def read(out: Path, name: str) -> pd.DataFrame:
    """Read one output Parquet file; decimal columns come back as ``Decimal`` (exact cents)."""
    return pq.read_table(out / name).to_pandas()


def run(tmp_path: Path, frame: pd.DataFrame, fmt: str = "parquet", name: str = "in") -> Path:
    """Write ``frame`` as CSV or Parquet, import it, and return the output folder."""
    src = tmp_path / f"{name}.{fmt}"
    if fmt == "csv":
        frame.to_csv(src, index=False)
    else:
        frame.to_parquet(src, index=False)
    out = tmp_path / f"out_{name}_{fmt}"
    summary = import_online_retail(src, out)
    assert sum(summary.outcomes.values()) == summary.rows_read == len(frame)
    return out


# A small shop: customer 17850 buys, buys again, returns; a guest; adjustments.
BASIC = rows(
    ("536365", "85123A", "WHITE HANGING HEART ", 6, "2010-12-01 08:26:00", 2.55, 17850, "UK"),
    ("536365", "71053", "WHITE METAL LANTERN", 6, "2010-12-01 08:26:00", 3.39, 17850, "UK"),
    ("536365", "71053", "WHITE METAL LANTERN", 6, "2010-12-01 08:26:00", 3.39, 17850, "UK"),
    ("536366", "22633", "HAND WARMER", 6, "2010-12-01 08:28:00", 1.85, 17850, "UK"),
    ("536367", "85123A", "nan", 4, "2010-12-02 09:00:00", 2.55, 17850, "France"),
    ("C536368", "85123A", "WHITE HANGING HEART", -3, "2010-12-03 10:00:00", 2.55, 17850, "UK"),
    ("C536369", "22633", "HAND WARMER", -1, "2010-12-01 08:00:00", 1.85, 17850, "UK"),
    ("536370", "22633", "HAND WARMER", 2, "2010-12-01 09:00:00", 1.85, None, "UK"),
    ("C536371", "22633", "HAND WARMER", -2, "2010-12-01 09:30:00", 1.85, None, "UK"),
    ("536372", "22633", "damaged", -5, "2010-12-01 10:00:00", 0.0, None, "UK"),
    ("536373", "22633", "HAND WARMER", 1, "2010-12-01 10:00:00", 0.0, 12583, "Spain"),
    ("A536374", "B", "Adjust bad debt", 1, "2010-12-01 11:00:00", -11062.06, None, "UK"),
)

BASIC_OUTCOMES = {
    "invalid_row": 0,
    "bad_debt_adjustment": 1,
    "stock_adjustment": 1,
    "non_positive_price": 1,
    "guest_row": 2,
    "cancellation_matched": 1,
    "cancellation_unmatched": 1,
    "kept_order_line": 5,
}


def test_detect_layout_is_case_and_space_insensitive() -> None:
    layout, mapping = detect_layout(
        [
            "invoice",
            "STOCKCODE",
            "Description",
            "quantity",
            "Invoice Date",
            "price",
            "customer_id",
            "Country",
            "extra",
        ]  # fmt: skip
    )
    assert layout == "Online Retail II"
    assert mapping["customer_id"] == "customer_id"
    assert mapping["invoice_date"] == "Invoice Date"
    layout, mapping = detect_layout(list(to_old_layout(BASIC).columns))
    assert layout == "Online Retail"
    assert mapping["price"] == "UnitPrice"


def test_detect_layout_names_missing_columns() -> None:
    with pytest.raises(OnlineRetailImportError, match=r"missing column\(s\) Price, Customer ID"):
        detect_layout(["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Country"])


def test_outcomes_add_up_and_tables_follow_the_rules(tmp_path: Path) -> None:
    out = run(tmp_path, BASIC)
    summary = json.loads((out / "_import" / "summary.json").read_text())
    assert summary["outcomes"] == BASIC_OUTCOMES
    assert list(summary["outcomes"]) == list(OUTCOMES)
    assert summary["rows_read"] == len(BASIC)

    customers = read(out, "customers.parquet")
    # every customer with any row, id as a string; 17850 is mostly in the UK
    assert customers["customer_id"].tolist() == ["17850", "12583"]
    assert customers["country"].tolist() == ["UK", "Spain"]
    assert customers.columns.tolist() == [
        "customer_id", "email", "first_name", "last_name", "birth_date", "gender", "country",
        "signup_at", "acquisition_channel",
    ]  # fmt: skip

    orders = read(out, "orders.parquet")
    assert orders["order_id"].tolist() == ["536365", "536366", "536367"]
    assert set(orders["customer_id"]) == {"17850"}
    assert set(orders["status"]) == {"delivered"} and set(orders["sales_channel"]) == {"online"}
    assert orders["ordered_at"].iloc[0] == pd.Timestamp("2010-12-01 08:26:00")

    items = read(out, "order_items.parquet")
    assert items.columns.tolist() == [
        "order_id", "line_number", "product_id", "quantity", "unit_price", "discount_amount",
    ]  # fmt: skip
    # the exact duplicate line is kept, numbered in file order
    first = items[items["order_id"] == "536365"]
    assert first["line_number"].tolist() == [1, 2, 3]
    assert first["product_id"].tolist() == ["85123A", "71053", "71053"]
    assert sum(items["quantity"] * items["unit_price"]) == Decimal("77.28")
    assert set(items["discount_amount"]) == {Decimal("0")}


def test_products_ignore_missing_descriptions_and_trim(tmp_path: Path) -> None:
    products = read(run(tmp_path, BASIC), "products.parquet").set_index("product_id")
    # "WHITE HANGING HEART " (trimmed) twice vs "nan" once: nan is never a name
    assert products.loc["85123A", "product_name"] == "WHITE HANGING HEART"
    assert products.loc["85123A", "list_price"] == Decimal("2.55")
    assert products.loc["22633", "product_name"] == "HAND WARMER"  # 4x, beats "damaged"
    assert products.loc["B", "list_price"] is None or pd.isna(products.loc["B", "list_price"])
    assert products["category"].isna().all()


def test_product_name_ties_are_deterministic(tmp_path: Path) -> None:
    frame = rows(
        ("1", "X", "ZEBRA", 1, "2010-12-01 08:00:00", 1.0, 1, "UK"),
        ("1", "X", "nan", 1, "2010-12-01 08:00:00", 1.0, 1, "UK"),
        ("2", "X", "", 1, "2010-12-01 08:00:00", 1.0, 1, "UK"),
        ("2", "X", "APPLE", 1, "2010-12-01 08:00:00", 1.0, 1, "UK"),
        ("3", "Y", "nan", 1, "2010-12-01 08:00:00", 1.0, 1, "UK"),
    )
    products = read(run(tmp_path, frame), "products.parquet").set_index("product_id")
    assert products.loc["X", "product_name"] == "APPLE"
    assert pd.isna(products.loc["Y", "product_name"])


def test_return_matches_most_recent_earlier_purchase(tmp_path: Path) -> None:
    out = run(tmp_path, BASIC)
    returns = read(out, "returns.parquet")
    assert returns.columns.tolist() == [
        "return_id", "order_id", "line_number", "quantity", "returned_at", "reason",
        "refund_amount",
    ]  # fmt: skip
    assert len(returns) == 1
    ret = returns.iloc[0]
    # two earlier purchases of 85123A (536365 line 1, 536367 line 1): the later one wins
    assert (ret["return_id"], ret["order_id"], ret["line_number"]) == ("C536368-1", "536367", 1)
    assert ret["quantity"] == 3
    assert ret["returned_at"] == pd.Timestamp("2010-12-03 10:00:00")
    assert ret["refund_amount"] == Decimal("7.65")


def test_unmatched_cancellation_goes_to_rejects_with_reason(tmp_path: Path) -> None:
    out = run(tmp_path, BASIC)
    rejects = read(out, "_import/rejected_returns.parquet")
    # C536369 (08:00) is earlier than the customer's only purchase of 22633 (08:28)
    assert rejects["invoice"].tolist() == ["C536369"]
    assert rejects["reject_reason"].tolist() == ["no_earlier_purchase"]
    assert rejects["customer_id"].tolist() == ["17850"]
    outcomes = read(out, "_import/row_outcomes.parquet")
    assert len(outcomes) == len(BASIC)
    row = outcomes[outcomes["invoice"] == "C536369"].iloc[0]
    assert (row["outcome"], row["reason"]) == ("cancellation_unmatched", "no_earlier_purchase")


def test_reject_reasons_quantity_and_sign(tmp_path: Path) -> None:
    frame = rows(
        ("1", "X", "x", 5, "2010-12-01 08:00:00", 1.0, 7, "UK"),
        ("2", "X", "x", 2, "2010-12-02 08:00:00", 1.0, 7, "UK"),
        ("C3", "X", "x", -4, "2010-12-03 08:00:00", 1.0, 7, "UK"),  # line 2 has too few: line 1
        ("C4", "X", "x", -4, "2010-12-04 08:00:00", 1.0, 7, "UK"),  # line 1 has only 1 left
        ("C5", "X", "x", 3, "2010-12-05 08:00:00", 1.0, 7, "UK"),  # positive on a C line
    )
    out = run(tmp_path, frame)
    returns = read(out, "returns.parquet")
    assert returns[["return_id", "order_id", "quantity"]].values.tolist() == [["C3-1", "1", 4]]
    rejects = read(out, "_import/rejected_returns.parquet")
    assert rejects[["invoice", "reject_reason"]].values.tolist() == [
        ["C4", "quantity_exceeds_unreturned"],
        ["C5", "non_positive_quantity"],
    ]


def test_match_cancellations_is_greedy_in_time_order() -> None:
    t = datetime.fromisoformat
    purchases = [
        ("c1", "X", t("2010-01-01 10:00"), 1, "o1", 1, 10),
        ("c1", "X", t("2010-01-02 10:00"), 2, "o2", 1, 3),
        ("c2", "X", t("2010-01-01 10:00"), 3, "o3", 1, 10),
    ]
    cancellations = [  # given out of time order on purpose
        (12, "c1", "X", -3, t("2010-01-03 10:00")),
        (11, "c1", "X", -3, t("2010-01-02 10:00")),  # same time as o2: o2 qualifies
        (13, "c1", "X", -8, t("2010-01-04 10:00")),  # o2 used up, o1 has 7 left
        (14, "c2", "Y", -1, t("2010-01-04 10:00")),
    ]
    result = match_cancellations(cancellations, purchases)
    assert result == {
        11: ("o2", 1),
        12: ("o1", 1),
        13: "quantity_exceeds_unreturned",
        14: "no_earlier_purchase",
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_old_layout_gives_same_result(tmp_path: Path, fmt: str) -> None:
    """ "Online Retail" layout (float CustomerID, M/D/YYYY H:MM dates) imports identically."""
    new = run(tmp_path, BASIC, "parquet", "new")
    old = run(tmp_path, to_old_layout(BASIC), fmt, "old")
    assert json.loads((old / "_import" / "summary.json").read_text())["layout"] == "Online Retail"
    for name in ["customers", "orders", "order_items", "returns", "products"]:
        pd.testing.assert_frame_equal(read(new, f"{name}.parquet"), read(old, f"{name}.parquet"))


def test_csv_identifiers_and_dates_in_many_forms(tmp_path: Path) -> None:
    """Numbers-as-floats, NaN, empty ids, ISO dates with offsets, leading zeros kept."""
    src = tmp_path / "mixed.csv"
    src.write_text(
        "invoice no,stock code,description,quantity,invoice date,unit price,customer id,country\n"
        "536365.0,085123A,A,1,2010-12-01T08:26:00,1.5,17850.0,UK\n"
        "536365.0,085123A,A,1,12/1/2010 8:30,1.5,17850.0,UK\n"
        "536366,22,B,2,2010-12-01T09:00:00+01:00,2,017850,UK\n"
        "536367,22,B,1,2010-12-01 09:00:00,2,nan,UK\n"
        "536368,22,B,1,2010-12-01 09:00:00,2,,UK\n"
        "536369,22,B,1,12/1/10 9:00,2,5,UK\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = import_online_retail(src, out)
    assert summary.layout == "Online Retail"
    assert summary.outcomes["guest_row"] == 2
    orders = read(out, "orders.parquet").set_index("order_id")
    assert orders.loc["536365", "customer_id"] == "17850"
    assert orders.loc["536365", "ordered_at"] == pd.Timestamp("2010-12-01 08:26:00")
    assert orders.loc["536366", "customer_id"] == "017850"  # leading zero kept
    assert orders.loc["536366", "ordered_at"] == pd.Timestamp("2010-12-01 08:00:00")  # UTC
    assert orders.loc["536369", "ordered_at"] == pd.Timestamp("2010-12-01 09:00:00")
    assert read(out, "order_items.parquet")["product_id"].iloc[0] == "085123A"


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    """Invoice as a number, a real timestamp column and float customer ids with NaN."""
    frame = BASIC[~BASIC["Invoice"].str[0].isin(["C", "A"])].copy()
    frame["Invoice"] = frame["Invoice"].astype("int64")
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame["Customer ID"] = frame["Customer ID"].astype("float64")
    out = run(tmp_path, frame)
    orders = read(out, "orders.parquet")
    assert orders["order_id"].tolist() == ["536365", "536366", "536367"]
    assert orders["customer_id"].tolist() == ["17850"] * 3


def test_latin1_csv_is_read(tmp_path: Path) -> None:
    src = tmp_path / "latin1.csv"
    src.write_bytes(
        (
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "1,X,CAFÉ MUG,1,12/1/2010 8:26,1.0,1.0,Réunion\n"
        ).encode("latin-1")
    )
    out = tmp_path / "out"
    import_online_retail(src, out)
    assert read(out, "products.parquet")["product_name"].tolist() == ["CAFÉ MUG"]
    assert read(out, "customers.parquet")["country"].tolist() == ["Réunion"]


def test_invalid_rows_are_counted_not_dropped(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "1,X,x,1,2010-12-01 08:00:00,1.0,1,UK\n"
        "2,X,x,1.5,2010-12-01 08:00:00,1.0,1,UK\n"
        "3,X,x,1,yesterday,1.0,1,UK\n"
        ",X,x,1,2010-12-01 08:00:00,1.0,1,UK\n"
        "4,X,x,1,2010-12-01 08:00:00,,1,UK\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = import_online_retail(src, out)
    assert summary.outcomes["invalid_row"] == 4 and summary.outcomes["kept_order_line"] == 1
    reasons = read(out, "_import/row_outcomes.parquet")["reason"].fillna("-").tolist()
    assert reasons == [
        "-",
        "non_integer_quantity",
        "unreadable_invoice_date",
        "missing_invoice",
        "missing_or_unreadable_price",
    ]


def test_a_file_with_no_order_line_fails_and_replaces_nothing(tmp_path: Path) -> None:
    # before, an export of guests and adjustments only "succeeded" with empty tables, and with
    # --force replaced the folder's raw files with them
    frame = rows(
        ("536370", "22633", "HAND WARMER", 2, "2010-12-01 09:00:00", 1.85, None, "UK"),
        ("536372", "22633", "damaged", -5, "2010-12-01 10:00:00", 0.0, 12583, "UK"),
        ("X1", "22633", "HAND WARMER", 1.5, "2010-12-01 10:00:00", 1.0, 12583, "UK"),
    )
    src = tmp_path / "in.parquet"
    frame.to_parquet(src, index=False)
    out = tmp_path / "raw"
    out.mkdir()
    (out / "orders.parquet").write_bytes(b"the last good import")

    with pytest.raises(OnlineRetailImportError) as excinfo:
        import_online_retail(src, out, force=True)

    assert (
        "no row is a customer's order line (3 rows read: 1 invalid_row, 1 stock_adjustment, "
        "1 guest_row)" in str(excinfo.value)
    )
    assert sorted(p.name for p in out.iterdir()) == ["orders.parquet"]
    assert (out / "orders.parquet").read_bytes() == b"the last good import"


def test_unknown_date_format_fails_with_column_name(tmp_path: Path) -> None:
    frame = BASIC.copy()
    frame["InvoiceDate"] = "01.12.2010 08:26"
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    with pytest.raises(OnlineRetailImportError, match="column InvoiceDate"):
        import_online_retail(src, tmp_path / "out")


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = tmp_path / "in.parquet"
    BASIC.to_parquet(src, index=False)
    out = tmp_path / "raw"
    out.mkdir()
    (out / "sessions.parquet").write_bytes(b"stale")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert main(parser.parse_args(["online-retail", str(src), "--out", str(out)])) == 2
    assert "--force" in capsys.readouterr().err
    assert main(parser.parse_args(["online-retail", str(src), "--out", str(out), "--force"])) == 0
    assert "kept_order_line" in capsys.readouterr().out
    assert not (out / "sessions.parquet").exists()
    assert (out / "orders.parquet").exists()


def test_batch_folders_count_as_raw_files_already_there(tmp_path: Path) -> None:
    """A demo written as batch folders (generate --split-at) is raw data too: the import
    refuses it, and --force removes the folders, so the build does not find a table twice
    (a file and a folder) or read the demo's sessions with the import (found by a review:
    the import passed and the check then failed on five ambiguous tables)."""
    src = tmp_path / "in.parquet"
    BASIC.to_parquet(src, index=False)
    out = tmp_path / "raw"
    for table in ("orders", "sessions"):
        (out / table).mkdir(parents=True)
        (out / table / "2026-06-01.parquet").write_bytes(b"demo")
    with pytest.raises(OnlineRetailImportError, match="sessions"):
        import_online_retail(src, out)
    import_online_retail(src, out, force=True)
    assert not (out / "orders").exists() and not (out / "sessions").exists()
    assert (out / "orders.parquet").is_file()


def test_unsupported_file_type(tmp_path: Path) -> None:
    src = tmp_path / "in.xlsx"
    src.write_bytes(b"")
    with pytest.raises(OnlineRetailImportError, match="save the sheet as CSV"):
        import_online_retail(src, tmp_path / "out")


# --- integration: the real file -------------------------------------------------------------


def real_file() -> Path:
    """The real 2009-2010 file, or skip with a message saying where it was looked for: in
    $ONLINE_RETAIL_DIR, else in data/online_retail_ii/ of the repository (as
    docs/scripts/real_data_report.py and docs/real-data.md say), else in the shared data
    folder that CI's machines keep beside the clone."""
    env = os.environ.get("ONLINE_RETAIL_DIR")
    folders = (
        [Path(env)]
        if env
        else [
            REPO_ROOT / "data" / "online_retail_ii",
            REPO_ROOT.parent / "shared" / "data" / "online_retail_ii",
        ]
    )
    for folder in folders:
        if (folder / REAL_FILE_NAME).is_file():
            return folder / REAL_FILE_NAME
    looked = ", ".join(str(folder / REAL_FILE_NAME) for folder in folders)
    pytest.skip(f"real data not found: {looked} (set ONLINE_RETAIL_DIR to its folder)")


PUBLISHED = {
    "rows_read": 525_461,
    "customers_with_orders": 4_312,
    "orders": 19_213,
    "order_items": 407_664,
    "purchase_value": 8_832_003.27,
    "cancellations_with_customer": 9_839,
    "customers": 4_383,
}


def check_published_counts(out: Path) -> dict:
    """Assert the published facts on an import of the real file; return the summary."""
    summary = json.loads((out / "_import" / "summary.json").read_text())
    outcomes = summary["outcomes"]
    assert summary["rows_read"] == PUBLISHED["rows_read"]
    assert sum(outcomes.values()) == PUBLISHED["rows_read"]
    assert summary["customers_with_orders"] == PUBLISHED["customers_with_orders"]
    assert summary["tables"]["orders"] == PUBLISHED["orders"]
    assert summary["tables"]["order_items"] == PUBLISHED["order_items"]
    assert summary["tables"]["customers"] == PUBLISHED["customers"]
    assert summary["purchase_value"] == PUBLISHED["purchase_value"]
    matched, unmatched = outcomes["cancellation_matched"], outcomes["cancellation_unmatched"]
    assert matched + unmatched == PUBLISHED["cancellations_with_customer"]
    assert summary["tables"]["returns"] == matched
    assert sum(summary["rejected_returns"].values()) == unmatched
    # recomputed from the written files, not just the summary
    value, n_customers = duckdb.sql(
        f"SELECT round(sum(quantity * unit_price), 2), count(DISTINCT customer_id) "
        f"FROM read_parquet('{out / 'order_items.parquet'}') "
        f"JOIN read_parquet('{out / 'orders.parquet'}') USING (order_id)"
    ).fetchall()[0]
    assert value == Decimal("8832003.27") and n_customers == PUBLISHED["customers_with_orders"]
    return summary


@pytest.fixture(scope="module")
def real_import(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Import the real file once (Online Retail II layout, Parquet)."""
    out = tmp_path_factory.mktemp("real") / "raw"
    import_online_retail(real_file(), out)
    return out


def test_real_file_reproduces_published_counts(real_import: Path) -> None:
    summary = check_published_counts(real_import)
    assert summary["layout"] == "Online Retail II"


def test_real_file_in_old_layout_csv_gives_same_counts(real_import: Path, tmp_path: Path) -> None:
    """Convert the real file to the "Online Retail" CSV layout and import it with the same
    rules: same counts, and the same tables row for row."""
    csv = tmp_path / "online_retail.csv"
    duckdb.sql(
        f"""
        COPY (
            SELECT Invoice AS InvoiceNo, StockCode, Description, Quantity,
                   strftime(strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S'), '%-m/%-d/%Y %-H:%M')
                       AS InvoiceDate,
                   Price AS UnitPrice, CAST("Customer ID" AS DOUBLE) AS CustomerID, Country
            FROM read_parquet('{real_file()}')
        ) TO '{csv}' (HEADER)
        """
    )
    assert (
        csv.read_text(encoding="utf-8")[:200]
        .splitlines()[1]
        .endswith(",12/1/2009 7:45,6.95,13085.0,United Kingdom")
    )
    out = tmp_path / "raw"
    import_online_retail(csv, out)
    summary = check_published_counts(out)
    assert summary["layout"] == "Online Retail"
    first = json.loads((real_import / "_import" / "summary.json").read_text())
    assert summary["outcomes"] == first["outcomes"]
    for name in ["customers", "orders", "order_items", "returns", "products"]:
        differing = duckdb.sql(
            f"SELECT count(*) FROM (SELECT * FROM read_parquet('{real_import / name}.parquet') "
            f"EXCEPT ALL SELECT * FROM read_parquet('{out / name}.parquet'))"
        ).fetchall()[0][0]
        assert differing == 0, name


def test_output_types_follow_the_raw_contract(tmp_path: Path) -> None:
    """Identifiers VARCHAR, timestamps TIMESTAMP, money as exact decimals."""
    out = run(tmp_path, BASIC)
    expected = {
        "orders.parquet": {"order_id": "string", "customer_id": "string",
                           "ordered_at": "timestamp[us]"},
        "order_items.parquet": {"order_id": "string", "line_number": "int32",
                                "product_id": "string", "unit_price": "decimal128(12, 3)",
                                "discount_amount": "decimal128(12, 2)"},
        "returns.parquet": {"return_id": "string", "returned_at": "timestamp[us]",
                            "refund_amount": "decimal128(12, 2)"},
        "products.parquet": {"product_id": "string", "list_price": "decimal128(12, 3)"},
    }  # fmt: skip
    for name, columns in expected.items():
        schema = pq.read_schema(out / name)
        assert {c: str(schema.field(c).type) for c in columns} == columns, name

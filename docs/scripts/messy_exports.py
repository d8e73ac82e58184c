"""Rewrite a generated shop the way real exports break, and show what happens to each case.

    .venv/bin/python docs/scripts/messy_exports.py [--customers 400] [--keep DIR]

A clean shop is generated and given numeric text ids ('00000001', as many shops have); each
case rewrites one thing. For every case the script runs `segmentation check` and
`dbt build --select +customer_rfm` (the staging gates and the customer marts; the
segmentation is not needed to see lost orders) and compares `customer_rfm` with the clean
build. Every case must end either *equal* (handled) or *stopped* (check error or red build);
*warned* means the build is green, says how many rows it quarantined and why, and the marts
differ by exactly those rows. Prints a markdown table (docs/data-quality.md shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "src"))

from segmentation.generate import generate  # noqa: E402

TABLES = ("customers", "orders", "order_items", "returns", "products")

#: (case, what the export does, table, SQL select over that table's text columns).
CASES: list[tuple[str, str, str, str]] = [
    (
        "offset_timestamps",
        "ordered_at in local time with a space-separated offset ('2024-03-01 15:51:30 +0200')",
        "orders",
        "select * replace (strftime(cast(ordered_at as timestamp) + interval 2 hour, "
        "'%Y-%m-%d %H:%M:%S') || ' +0200' as ordered_at) from t",
    ),
    (
        "twelve_hour_clock",
        "ordered_at on a 12-hour clock ('2024-03-01 01:51:30 PM')",
        "orders",
        "select * replace (strftime(cast(ordered_at as timestamp), '%Y-%m-%d %I:%M:%S %p') "
        "as ordered_at) from t",
    ),
    (
        "invisible_characters",
        "customer ids in orders wrapped in a zero-width space and a tab",
        "orders",
        "select * replace (chr(8203) || customer_id || chr(9) as customer_id) from t",
    ),
    (
        "integer_customer_ids",
        "customers.customer_id stored as integers (zeros lost), orders keep '00000001'",
        "customers",
        "select * replace (cast(customer_id as bigint) as customer_id) from t",
    ),
    (
        "float_customer_ids",
        "orders.customer_id written by pandas as floats ('1.0')",
        "orders",
        "select * replace (cast(cast(cast(customer_id as bigint) as double) as varchar) "
        "as customer_id) from t",
    ),
    (
        "scientific_order_ids",
        "order_items.order_id in Excel's scientific notation ('1.00000E+00')",
        "order_items",
        "select * replace (printf('%.5E', cast(order_id as double)) as order_id) from t",
    ),
    (
        "null_text_ids",
        "the text 'NULL' as customer_id on 3% of orders",
        "orders",
        "select * replace (case when hash(order_id) % 100 < 3 then 'NULL' else customer_id "
        "end as customer_id) from t",
    ),
    (
        "woocommerce_statuses",
        "WooCommerce statuses: 'wc-completed', 'processing'",
        "orders",
        "select * replace (case status when 'delivered' then 'wc-completed' when 'shipped' "
        "then 'processing' else status end as status) from t",
    ),
    (
        "negative_refunds",
        "refunds exported as negative amounts on 10% of returns",
        "returns",
        "select * replace (case when hash(return_id) % 10 = 0 then '-' || refund_amount "
        "else refund_amount end as refund_amount) from t",
    ),
]


def numeric_ids(src: Path, dst: Path) -> None:
    """The generated shop with ids as zero-padded digits, every column as text (CSV)."""
    dst.mkdir(parents=True)
    strip = {"customer_id", "order_id", "return_id"}
    with duckdb.connect() as con:
        for table in TABLES:
            cols = [
                r[0] for r in con.sql(f"describe select * from '{src / table}.parquet'").fetchall()
            ]
            exprs = [
                f"substr(cast({c} as varchar), 2) as {c}"
                if c in strip
                else f"cast({c} as varchar) as {c}"
                for c in cols
            ]
            con.execute(
                f"copy (select {', '.join(exprs)} from '{src / table}.parquet') "
                f"to '{dst / table}.csv' (header)"
            )


#: Cases written as Parquet, so the rewritten column keeps a numeric type.
PARQUET_CASES = {"integer_customer_ids"}


def rewrite(clean: Path, dst: Path, table: str, select: str, as_parquet: bool) -> None:
    shutil.copytree(clean, dst)
    with duckdb.connect() as con:
        con.execute(
            f"create table t as select * from read_csv('{clean / table}.csv', all_varchar = true)"
        )
        target = dst / f"{table}.csv"
        target.unlink()
        kind = "parquet" if as_parquet else "csv"
        out = dst / f"{table}.{kind}"
        con.execute(
            f"copy ({select}) to '{out}' " + ("(header)" if kind == "csv" else "(format parquet)")
        )


def build(raw: Path, work: Path) -> tuple[int, str]:
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "SEGMENTATION_DB": str(work / "w.duckdb"),
        "SEGMENTATION_TEMP_DIR": str(work / "tmp"),
    }
    cmd = [
        str(BIN / "dbt"), "build", "--select", "+customer_rfm", "--indirect-selection", "cautious",
        "--vars", json.dumps({"raw_path": str(raw)}),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def check(raw: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [str(BIN / "segmentation"), "check", str(raw)], capture_output=True, text=True, check=False
    )
    first_error = next((ln for ln in proc.stdout.splitlines() if ln.startswith("ERROR")), "")
    return proc.returncode, first_error


def rfm_difference(a: Path, b: Path) -> int:
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        q = "select customer_id, frequency, monetary, recency_days from {}.marts.customer_rfm"
        return con.sql(
            f"select count(*) from (({q.format('a')} except all {q.format('b')}) "
            f"union all ({q.format('b')} except all {q.format('a')}))"
        ).fetchall()[0][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="messy-"))
    work.mkdir(parents=True, exist_ok=True)
    generate(customers=args.customers, seed=5, out_dir=work / "generated", truth_dir=work / "truth")
    clean = work / "clean"
    numeric_ids(work / "generated", clean)
    rc, out = build(clean, work / "build-clean")
    if rc != 0:
        print(out[-3000:])
        return 1
    rows = []
    for name, what, table, select in CASES:
        raw = work / name
        rewrite(clean, raw, table, select, name in PARQUET_CASES)
        check_rc, first_error = check(raw)
        build_rc, out = build(raw, work / f"build-{name}")
        quarantine = [
            ln.split("  ", 1)[-1].strip() for ln in out.splitlines() if "Quarantine: " in ln
        ]
        if build_rc != 0:
            outcome = "stopped"
            diff = "-"
        else:
            diff = rfm_difference(
                work / "build-clean" / "w.duckdb", work / f"build-{name}" / "w.duckdb"
            )
            outcome = "equal" if diff == 0 else ("warned" if quarantine else "SILENT LOSS")
        said = (
            first_error.split(": ", 1)[-1] if first_error else (quarantine[0] if quarantine else "")
        )
        rows.append(
            (name, what, f"exit {check_rc}", f"exit {build_rc}", outcome, str(diff), said[:160])
        )
        print(f"{name}: {outcome}", file=sys.stderr)
    print(
        "| case | the export | `segmentation check` | `dbt build` | outcome "
        "| customer_rfm rows differing | first message |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return 1 if any(r[4] == "SILENT LOSS" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One parser, two callers: `segmentation check` and staging read raw text by the same rules
(vars raw_null_tokens, raw_trim_code_points, raw_timestamp_formats). The SQL the dbt macros
compile to is the SQL preflight runs, and on a raw folder with every accepted timestamp
format, null tokens and ids wrapped in invisible characters, what preflight accepts staging
keeps, with the same values."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from conftest import REPO

from segmentation import parsing
from segmentation.preflight import check_raw_folder

pytestmark = pytest.mark.e2e

RULES = parsing.ParsingRules.from_project(REPO)
STATUSES = {**dict(RULES.order_statuses), "wc-completed": "delivered"}

#: (raw ordered_at text, its UTC value): one row per accepted format.
TIMESTAMPS = [
    ("2024-03-01 13:51:30", "2024-03-01 13:51:30"),
    ("2024-03-01T13:51:30", "2024-03-01 13:51:30"),
    ("2024-03-01T13:51:30Z", "2024-03-01 13:51:30"),
    ("2024-03-01T13:51:30.250Z", "2024-03-01 13:51:30.250"),
    ("2024-03-01T13:51:30+02:00", "2024-03-01 11:51:30"),
    ("2024-03-01 13:51:30+0200", "2024-03-01 11:51:30"),
    ("2024-03-01 13:51:30 +0200", "2024-03-01 11:51:30"),  # Shopify's export
    ("2024-03-01 13:51:30 -0500", "2024-03-01 18:51:30"),
    ("2024-03-01 13:51:30.5 +0200", "2024-03-01 11:51:30.500"),
    ("2024-03-01 01:51:30 PM", "2024-03-01 13:51:30"),
    ("2024-03-01 12:05:00 AM", "2024-03-01 00:05:00"),
    ("2024-03-01 01:51 PM", "2024-03-01 13:51:00"),
    ("2024-03-01 01:51:30 PM +0200", "2024-03-01 11:51:30"),
    ("2024-03-01", "2024-03-01 00:00:00"),
]
NULL_TOKENS = ["NULL", "null", "N/A", "NA", "\\N", "None", "NaN"]
#: Invisible characters an export leaves around ids: tab, no-break space, zero-width space,
#: byte-order mark, ideographic space.
INVISIBLE = ["\t", "\u00a0", "\u200b", "\ufeff", "\u3000"]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_folder(raw: Path) -> None:
    # country 'NA' is Namibia, not a null token; 'NULL' there is missing
    countries = {1: "NA", 2: "NULL", 3: " gb "}
    customers = [[f"{c:03d}", f"c{c}@example.com", countries[c]] for c in range(1, 4)]
    customers += [[token, f"{token}@example.com", ""] for token in NULL_TOKENS]
    orders, items = [], []
    for n, (text, _) in enumerate(TIMESTAMPS):
        # the customer id reaches the order wrapped in an invisible character
        wrapped = f"{INVISIBLE[n % len(INVISIBLE)]}001{INVISIBLE[(n + 2) % len(INVISIBLE)]}"
        orders.append([f"T{n:02d}", wrapped, text, "delivered"])
        items.append([f"T{n:02d}", 1, 1, "10.00"])
    for n, token in enumerate(NULL_TOKENS):
        orders.append([f"N{n:02d}", token, "2024-03-02 10:00:00", token])
        items.append([f"N{n:02d}", 1, 1, "10.00"])
    # null tokens in optional columns are missing values, not a status or a discount
    orders.append(["S01", "002", "2024-03-03 10:00:00", "NULL"])
    items.append(["S01", 1, 2, "5.00"])
    # a shop's own status, mapped in var order_statuses (STATUSES)
    orders.append(["W01", "003", "2024-03-04 10:00:00", " WC-Completed "])
    items.append(["W01", 1, 1, "5.00"])
    _write(raw / "customers.csv", ["customer_id", "email", "country"], customers)
    _write(raw / "orders.csv", ["order_id", "customer_id", "ordered_at", "status"], orders)
    _write(raw / "order_items.csv", ["order_id", "line_number", "quantity", "unit_price"], items)


@pytest.fixture(scope="module")
def staged(tmp_path_factory, dbt_runner):
    work = tmp_path_factory.mktemp("parsing")
    raw = work / "raw"
    raw.mkdir()
    make_folder(raw)
    run = dbt_runner(
        ["run", "--select", "path:models/staging"],
        raw,
        work / "w.duckdb",
        extra_vars={"order_statuses": STATUSES},
    )
    assert run.returncode == 0, run.output
    return raw, run


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).replace("( ", "(").replace(" )", ")").strip()


def test_preflight_runs_the_sql_the_staging_macros_compile_to(staged, dbt_runner, tmp_path):
    raw, _ = staged
    run = dbt_runner(
        [
            "compile",
            "--inline",
            "select {{ clean_string('x') }} as a, {{ parse_timestamp('x') }} as b",
        ],
        raw,
        tmp_path / "w.duckdb",
    )
    assert run.returncode == 0, run.output
    compiled = _squash(run.output[run.output.index("select ") :])
    expected = _squash(
        f"select {parsing.clean_string('x', RULES)} as a, "
        f"{parsing.parse_timestamp('x', RULES)} as b"
    )
    assert expected in compiled, (expected, compiled)


def test_each_base_model_cleans_a_raw_column_once(staged):
    """Raw text is cleaned once per column (a base model's `cleaned` step) and the parse
    macros read the cleaned column: a macro that cleaned the value again would repeat the
    whole trim expression, for parse_integer three times and once more for is_unparseable,
    which tripled the compiled SQL of the base models (and the work of sqlfluff and Spark's
    planner on it). One clean_string writes its trimmed text twice."""
    raw, _ = staged
    base = raw.parent / "target" / "compiled" / "segmentation" / "models" / "staging" / "shop"
    models = sorted((base / "base").glob("base_shop__*.sql"))
    assert len(models) == 7, models
    for model in models:
        if model.stem == "base_shop__row_keys":  # six tables, each with its own columns
            continue
        trims = Counter(re.findall(r"regexp_replace\(cast\((\w+) as", model.read_text()))
        assert trims, model.name  # the text path was compiled: CSV columns are text
        assert max(trims.values()) <= 2, (model.name, trims)


@pytest.mark.parametrize(("text", "utc"), TIMESTAMPS, ids=[t for t, _ in TIMESTAMPS])
def test_each_timestamp_format_is_kept_in_utc(staged, text, utc):
    _, run = staged
    n = [t for t, _ in TIMESTAMPS].index(text)
    rows = run.query(
        f"select customer_id, ordered_at from staging.stg_shop__orders where order_id = 'T{n:02d}'"
    )
    assert rows == [("001", datetime.fromisoformat(utc))], text


def test_preflight_accepts_every_timestamp_format_staging_keeps(staged):
    raw, _ = staged
    result = check_raw_folder(raw, tables=["orders"], rules=RULES)
    about_ordered_at = [p for p in result.problems if p.column == "ordered_at"]
    assert about_ordered_at == [], [p.message for p in about_ordered_at]


def test_preflight_reports_what_staging_quarantines(tmp_path, dbt_runner):
    raw = tmp_path / "raw"
    raw.mkdir()
    make_folder(raw)
    text = (raw / "orders.csv").read_text()
    (raw / "orders.csv").write_text(text.replace("2024-03-01 01:51 PM", "01/03/2024 13:51"))
    result = check_raw_folder(raw, tables=["orders"], rules=RULES)
    (problem,) = [p for p in result.problems if p.column == "ordered_at"]
    assert "1 of" in problem.message and "'01/03/2024 13:51'" in problem.example
    assert "day-first" in problem.fix


def test_null_tokens_are_missing_values_and_an_id_that_is_missing_is_quarantined(staged):
    _, run = staged
    assert run.query("select count(*) from staging.stg_shop__customers") == [(3,)]
    reasons = run.query(
        "select reject_reason, count(*) from staging.quarantine_shop__customers group by 1"
    )
    assert reasons == [("missing_customer_id", len(NULL_TOKENS))]
    orders = run.query(
        "select reject_reason, count(*) from staging.quarantine_shop__orders group by 1"
    )
    assert orders == [("missing_customer_id", len(NULL_TOKENS))]
    # a 'NULL' status is a missing status (delivered, as an empty one), not unknown_status
    assert run.query(
        "select order_status from staging.stg_shop__orders where order_id = 'S01'"
    ) == [("delivered",)]


def test_a_status_mapped_in_the_var_is_kept_by_staging_and_preflight(staged):
    raw, run = staged
    assert run.query(
        "select order_status from staging.stg_shop__orders where order_id = 'W01'"
    ) == [("delivered",)]
    rules = dataclasses.replace(RULES, order_statuses=tuple(STATUSES.items()))
    result = check_raw_folder(raw, tables=["orders"], rules=rules)
    assert not [p for p in result.problems if p.column == "status"], result.format()
    # without the mapping preflight reports it (staging quarantines it: orders_unknown_status)
    (problem,) = [
        p
        for p in check_raw_folder(raw, tables=["orders"], rules=RULES).problems
        if p.column == "status"
    ]
    assert "'wc-completed' (1)" in problem.message


def test_country_na_is_namibia_and_not_a_missing_value(staged):
    _, run = staged
    rows = run.query("select customer_id, country_code from staging.stg_shop__customers order by 1")
    assert rows == [("001", "NA"), ("002", None), ("003", "GB")]


def test_preflight_counts_null_token_ids_as_missing(staged):
    raw, _ = staged
    result = check_raw_folder(raw, tables=["customers"], rules=RULES)
    (problem,) = [p for p in result.problems if p.column == "customer_id"]
    assert f"{len(NULL_TOKENS)} of {len(NULL_TOKENS) + 3} rows have no customer_id" in (
        problem.message
    )

"""The defect catalogue (docs/data-quality.md), proven: every planted kind has its outcome.

Row-level kinds: one dbt build of a generated folder with every kind planted (module fixture,
2,000 customers, 5 bootstrap rounds); each planted row must be in its table's quarantine model
with the expected reject_reason, or kept / repaired as documented, and raw rows = kept +
quarantined for all six tables. File-level kinds: `segmentation check` exits non-zero naming
the file (and column), and `dbt build` stops in the on-run-start hook before any model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from segmentation import cli
from segmentation.defects import (
    FILE_DEFECTS,
    MANIFEST_NAME,
    ROW_DEFECT_KINDS,
    Defect,
    make_defect_folder,
    plant_file_defect,
    plant_file_defects,
    read_manifest,
)
from segmentation.generate import TABLES, generate

pytestmark = pytest.mark.e2e

FAST = {"segmentation_bootstrap": 5}

#: Extra assertions for kinds that are kept and repaired: SQL returning one boolean row.
REPAIRED_CHECKS: dict[str, str] = {
    "customers_unparseable_signup_at": (
        "select signup_at is null and is_signup_at_unparseable "
        "from staging.stg_shop__customers where customer_id = 'CX000003'"
    ),
    "customers_unparseable_birth_date": (
        "select c.birth_date is null and d.age_band = 'unknown' "
        "from staging.stg_shop__customers as c inner join marts.dim_customers as d "
        "on c.customer_id = d.customer_id where c.customer_id = 'CX000004'"
    ),
    "customers_shared_email": (
        "select count(distinct email_hash) = 1 and count(*) = 2 "
        "from staging.stg_shop__customers where email_hash = "
        "(select email_hash from staging.stg_shop__customers where customer_id = 'CX000001')"
    ),
    "orders_status_synonym": (
        "select order_status = 'cancelled' and is_cancelled "
        "from staging.stg_shop__orders where order_id = 'OX000005'"
    ),
    # the planted order is the host order's copy: same instant, written another way
    "orders_offset_timestamp": (
        "select o.ordered_at = h.ordered_at - interval 2 hour from staging.stg_shop__orders o, "
        "(select ordered_at from staging.stg_shop__orders where order_id = 'OX000010') h "
        "where o.order_id = 'OX000007'"
    ),
    "orders_twelve_hour_timestamp": (
        "select o.ordered_at = h.ordered_at from staging.stg_shop__orders o, "
        "(select ordered_at from staging.stg_shop__orders where order_id = 'OX000010') h "
        "where o.order_id = 'OX000008'"
    ),
    "orders_customer_id_invisible_characters": (
        "select o.customer_id = h.customer_id from staging.stg_shop__orders o, "
        "(select customer_id from staging.stg_shop__orders where order_id = 'OX000010') h "
        "where o.order_id = 'OX000009'"
    ),
    "order_items_all_lines_quarantined": (
        "select not is_purchase and line_count = 0 from marts.fct_orders "
        "where order_id = 'OX000011'"
    ),
    "returns_missing_refund_amount": (
        "select is_refund_estimated and refund_amount > 0 "
        "from staging.stg_shop__returns where return_id = 'RX000009'"
    ),
    "sessions_anonymous": (
        "select is_anonymous from staging.stg_shop__sessions where session_id = 'SX000005'"
    ),
    "returns_cumulative_exceed_sold_quantity": (
        "select count(*) = 1 from staging.stg_shop__returns where return_id = 'RX000006'"
    ),
}


@pytest.fixture(scope="module")
def defect_build(tmp_path_factory, dbt_runner):
    """One dbt build of the folder with every row-level defect; (run, manifest by kind)."""
    work = tmp_path_factory.mktemp("defects")
    raw, truth = work / "raw", work / "truth"
    make_defect_folder(raw, truth, customers=2_000, seed=42)
    run = dbt_runner(["build"], raw, work / "w.duckdb", extra_vars=FAST, data_tests=True)
    assert run.returncode == 0, run.output[-5000:]
    manifest = {d.kind: d for d in read_manifest(truth / MANIFEST_NAME)}
    return run, manifest


#: How the base tables show a raw key on the rows they keep: the customers' table keeps the
#: raw text on rejected rows only (no raw personal data of kept rows), the orders', lines'
#: and web sessions' on rejected rows and on the kept row of a key its file holds more than
#: once; so a kept row is found by the typed key (the trimmed text) or by the hash of the
#: normalised email.
TYPED_KEYS = {
    "email": "email_hash = md5(lower(trim({})))",
    "line_number": "line_number = cast(trim({}) as integer)",
}


def _where(defect: Defect, kept: bool = False) -> str:
    """The rows of the planted defect, by its raw key (kept: the kept rows of the base table)."""
    conditions = []
    for col, value in defect.key.items():
        literal = "'" + value.replace("'", "''") + "'"
        if kept:
            conditions.append(TYPED_KEYS.get(col, f"{col} = trim({{}})").format(literal))
        else:
            conditions.append(f"raw_{col} = {literal}")
    return " and ".join(conditions)


def test_catalogue_covers_at_least_15_kinds_on_all_six_tables():
    kinds = list(ROW_DEFECT_KINDS) + list(FILE_DEFECTS)
    assert len(kinds) >= 15
    assert len(set(kinds)) == len(kinds)
    assert {d.table for d in FILE_DEFECTS.values()} <= set(TABLES)
    for table in TABLES:
        assert any(k.startswith(table + "_") for k in ROW_DEFECT_KINDS), table


def test_manifest_lists_exactly_the_catalogued_kinds(defect_build):
    _run, manifest = defect_build
    assert list(manifest) == list(ROW_DEFECT_KINDS)


@pytest.mark.parametrize("kind", ROW_DEFECT_KINDS)
def test_row_defect_has_its_documented_outcome(defect_build, kind):
    run, manifest = defect_build
    defect = manifest[kind]
    where = _where(defect)
    quarantined = run.query(
        f"select reject_reason, count(*) from staging.quarantine_shop__{defect.table} "
        f"where {where} group by 1"
    )
    expected = [(defect.reject_reason, defect.quarantined)] if defect.quarantined else []
    assert quarantined == expected, f"{kind}: {defect.description}"
    kept = run.query(
        f"select count(*) from staging.base_shop__{defect.table} "
        f"where {_where(defect, kept=True)} and reject_reason is null"
    )[0][0]
    assert kept == defect.kept, f"{kind}: {defect.description}"
    if kind in REPAIRED_CHECKS:
        assert run.query(REPAIRED_CHECKS[kind]) == [(True,)], kind
    assert defect.outcome in ("quarantined", "kept", "repaired")


@pytest.mark.parametrize("table", TABLES)
def test_raw_rows_equal_kept_plus_quarantined(defect_build, table):
    run, _manifest = defect_build
    raw, kept, quarantined = run.query(
        f"select (select count(*) from raw.{table}), "
        f"(select count(*) from staging.stg_shop__{table}), "
        f"(select count(*) from staging.quarantine_shop__{table})"
    )[0]
    assert raw == kept + quarantined
    assert quarantined > 0


def test_outlier_does_not_reach_the_marts(defect_build):
    run, _manifest = defect_build
    (top,) = run.query("select max(monetary) from marts.customer_rfm")[0]
    assert top < 1_000_000


def test_generate_cli_plants_defects_and_writes_manifest(tmp_path):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    argv = ["generate", "--customers", "300", "--seed", "5", "--out", str(raw)]
    assert cli.main([*argv, "--truth", str(truth), "--defects"]) == 0
    entries = json.loads((truth / MANIFEST_NAME).read_text())
    assert [e["kind"] for e in entries] == list(ROW_DEFECT_KINDS)
    assert (raw / "customers.csv").exists() and not (raw / "customers.parquet").exists()


# --------------------------------------------------------------------------------------------
# File-level defects
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_small(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean_small")
    generate(customers=200, seed=3, out_dir=folder / "raw", truth_dir=folder / "truth")
    return folder / "raw"


#: File-level kinds the dbt hook must stop, grouped so that one dbt run checks several: the
#: hook collects missing tables/columns/empty/ambiguous files of all tables into one message;
#: a file DuckDB cannot read raises at once, so each of those gets its own run.
HOOK_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "file_wrong_delimiter",
        "file_ambiguous_parquet_and_csv",
        "file_missing_required_column",
        "file_empty_zero_bytes",
        "file_no_header",
    ),
    ("file_missing_required_table", "file_empty_header_only"),
    ("file_corrupt_parquet",),
    ("file_wrong_encoding_latin1",),
    ("file_wrong_encoding_utf16",),
)
HOOK_KINDS = [kind for group in HOOK_GROUPS for kind in group]


@pytest.fixture(scope="module")
def hook_run(clean_small, tmp_path_factory, dbt_runner):
    """dbt build output per hook group, run on first use; same raw path and vars every time,
    so dbt parses partially after the first run."""
    work = tmp_path_factory.mktemp("hook")
    outputs: dict[tuple[str, ...], object] = {}

    def run_for(kind: str):
        group = next(g for g in HOOK_GROUPS if kind in g)
        if group not in outputs:
            plant_file_defects(clean_small, work / "raw", group)
            outputs[group] = dbt_runner(["build"], work / "raw", work / "w.duckdb", FAST)
        return outputs[group]

    return run_for


def test_hook_groups_cover_every_kind_the_hook_stops():
    assert sorted(HOOK_KINDS) == sorted(k for k, d in FILE_DEFECTS.items() if d.hook_stops)


@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_file_defect_stops_dbt_before_any_model(hook_run, kind):
    defect = FILE_DEFECTS[kind]
    run = hook_run(kind)
    assert run.returncode != 0
    for fragment in defect.hook_mentions:
        assert fragment in run.output, (fragment, run.output[-3000:])
    assert not re.search(r"START sql \w+ model", run.output), run.output[-3000:]


@pytest.mark.parametrize("kind", list(FILE_DEFECTS))
def test_file_defect_is_stopped_by_check(clean_small, tmp_path, capsys, kind):
    defect = plant_file_defect(clean_small, tmp_path / "raw", kind)
    code = cli.main(["check", str(tmp_path / "raw")])
    out = capsys.readouterr().out
    assert code == 1, out
    errors = [block for block in re.split(r"\n(?=ERROR|WARNING|check )", out) if "ERROR" in block]
    assert errors, out
    text = "\n".join(errors)
    for fragment in defect.check_mentions:
        assert fragment.lower() in text.lower(), (fragment, text)
    if defect.column:
        assert defect.column in text
    assert "fix:" in text

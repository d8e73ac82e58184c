"""PII audit: raw emails, names and birth dates never reach a mart or a published file.

The shared shop (shared_shop.py: 1,500 generated customers) has sentinel personal data that
cannot occur by chance: first and last names are unique strings (``Firstzq00042`` /
``Lastzq00042``) and every birth date is in 1901-1950, long before any event of the shop
(orders, sessions and the date dimension are in 2023-2026). The generated emails are already
unique (``first.last123@example.com``). After a build, a publish and the HTML report, every value of
every column of

* every table and view in the ``marts`` and ``intermediate`` schemas of the warehouse,
* the rows of the customers' base table (``staging.base_shop__customers``) that staging keeps
  or a later file superseded (it keeps the raw text of rejected rows only, for the quarantine;
  its typed birth date, which the kept customers carry too, aside),
* every published Parquet file and every table of the serving database ``segmentation.duckdb``,

cast to text, must not equal (ignoring case and surrounding spaces) any raw email, first name,
last name, full name or birth date; must not contain a raw email, a sentinel name or a birth
date (``YYYY-MM-DD``) inside a longer text; and no DATE/TIMESTAMP column may hold a birth
date. The report's text is searched the same way. The same scan run on the raw customers table
must find all four kinds, which proves the scan can see a leak.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import BIN, REPO
from shared_shop import shared_shop

pytestmark = pytest.mark.e2e

SENTINEL = re.compile(r"zq\d{5}")
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
FORBIDDEN_COLUMNS = {"email", "first_name", "last_name", "birth_date", "full_name"}


def personal_values(raw: Path) -> dict[str, list[str]]:
    """The raw personal values by kind (the shared shop's sentinels, shared_shop.py)."""
    table = pq.read_table(raw / "customers.parquet").to_pydict()
    first, last = table["first_name"], table["last_name"]
    assert all(SENTINEL.search(name) for name in first + last), "no sentinels planted"
    return {
        "email": [e for e in table["email"] if e],
        "first_name": first,
        "last_name": last,
        "full_name": [f"{f} {s}" for f, s in zip(first, last, strict=True)],
        "birth_date": [b.isoformat() for b in table["birth_date"]],
    }


def load_needles(con: duckdb.DuckDBPyConnection, pii: dict[str, list[str]]) -> None:
    """Temp tables of the values to look for, normalised (lower-case, trimmed)."""
    rows = [(kind, value.strip().lower()) for kind, values in pii.items() for value in values]
    con.execute("CREATE TEMP TABLE needles (kind VARCHAR, s VARCHAR)")
    con.executemany("INSERT INTO needles VALUES (?, ?)", rows)
    con.execute(
        "CREATE TEMP TABLE email_needles AS SELECT DISTINCT s FROM needles WHERE kind = 'email'"
    )
    con.execute(
        "CREATE TEMP TABLE birth_list AS "
        "SELECT list(DISTINCT s) AS dates FROM needles WHERE kind = 'birth_date'"
    )


def leaks(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str, str]]:
    """(column, value, why) of up to 10 values of ``relation`` that carry raw PII."""
    columns = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    found = [
        (name, "", "forbidden column name")
        for name, *_ in columns
        if name.lower() in FORBIDDEN_COLUMNS
    ]
    if not columns:
        return found
    rows = con.execute(
        f"""
        WITH text_values AS (
            UNPIVOT (SELECT COLUMNS(*)::VARCHAR FROM {relation})
            ON COLUMNS(*) INTO NAME col VALUE v
        ),
        distinct_values AS (
            SELECT DISTINCT col, v, lower(trim(v)) AS lv FROM text_values
        )
        SELECT col, v, CASE
                WHEN lv IN (SELECT s FROM needles) THEN 'equals a raw value'
                WHEN regexp_matches(lv, '{SENTINEL.pattern}') THEN 'contains a sentinel name'
                WHEN list_has_any(regexp_extract_all(lv, '{ISO_DATE}'),
                                  (SELECT dates FROM birth_list)) THEN 'contains a birth date'
                ELSE 'contains a raw email'
            END AS why
        FROM distinct_values
        WHERE lv IN (SELECT s FROM needles)
           OR regexp_matches(lv, '{SENTINEL.pattern}')
           OR list_has_any(regexp_extract_all(lv, '{ISO_DATE}'), (SELECT dates FROM birth_list))
           OR (contains(lv, '@')
               AND EXISTS (SELECT 1 FROM email_needles AS e WHERE contains(lv, e.s)))
        ORDER BY col, v
        LIMIT 10
        """
    ).fetchall()
    return found + [(col, v, why) for col, v, why in rows]


def date_leaks(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, int]]:
    """(column, rows) of DATE/TIMESTAMP columns of ``relation`` holding a birth date."""
    out = []
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall():
        if not type_.upper().startswith(("DATE", "TIMESTAMP")):
            continue
        col = '"' + name.replace('"', '""') + '"'
        hits = con.execute(
            f"""SELECT count(*) FROM {relation}
                WHERE strftime(CAST({col} AS DATE), '%Y-%m-%d')
                      IN (SELECT s FROM needles WHERE kind = 'birth_date')"""
        ).fetchone()[0]
        if hits:
            out.append((name, hits))
    return out


def relations(con: duckdb.DuckDBPyConnection, catalog: str, schemas: list[str]) -> list[str]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema IN (SELECT unnest(?)) ORDER BY 1, 2",
        [catalog, schemas],
    ).fetchall()
    return [f'"{catalog}"."{schema}"."{name}"' for schema, name in rows]


def run_cli(*args: object) -> None:
    proc = subprocess.run(
        [BIN / "segmentation", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    """Build, publish and report the sentinel folder; an in-memory DuckDB with the warehouse
    and the serving database attached read-only and the needles loaded."""
    work = tmp_path_factory.mktemp("pii")
    shop = shared_shop(work / "build")
    pii = personal_values(shop.raw)
    db = shop.db
    bi = work / "bi"
    run_cli("publish", "--db", db, "--bi", bi, "--manifest", db.parent / "target" / "manifest.json")
    run_cli("report", "--db", db, "--out", bi / "report.html")

    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS wh (READ_ONLY)")
    con.execute(f"ATTACH '{bi / 'segmentation.duckdb'}' AS serving (READ_ONLY)")
    load_needles(con, pii)
    yield con, pii, bi
    con.close()


def test_the_scan_finds_pii_in_the_raw_customers(audit):
    con, _pii, _bi = audit
    raw_customers = relations(con, "wh", ["raw"])
    assert '"wh"."raw"."customers"' in raw_customers
    found = leaks(con, '"wh"."raw"."customers"')
    assert {"email", "first_name", "last_name", "birth_date"} <= {col for col, _, _ in found}
    assert date_leaks(con, '"wh"."raw"."customers"') == [("birth_date", 1_500)]


def test_no_mart_or_intermediate_model_holds_raw_pii(audit):
    con, _pii, _bi = audit
    scanned = relations(con, "wh", ["marts", "intermediate"])
    assert len(scanned) >= 20
    found = {rel: leaks(con, rel) + date_leaks(con, rel) for rel in scanned}
    assert {rel: hits for rel, hits in found.items() if hits} == {}


def test_the_customers_base_table_keeps_raw_pii_only_on_rejected_rows(audit):
    con, _pii, _bi = audit
    kept = (
        "(SELECT * EXCLUDE (birth_date) FROM wh.staging.base_shop__customers"
        " WHERE reject_reason IS NULL) AS kept_rows"
    )
    assert con.execute(f"SELECT count(*) FROM {kept}").fetchone()[0] >= 1_000
    assert leaks(con, kept) + date_leaks(con, kept) == []


def test_no_published_parquet_file_holds_raw_pii(audit):
    con, _pii, bi = audit
    files = sorted(bi.glob("*.parquet"))
    assert len(files) >= 10
    found = {}
    for path in files:
        rel = f"read_parquet('{path}')"
        found[path.name] = leaks(con, rel) + date_leaks(con, rel)
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_the_serving_database_holds_no_raw_pii(audit):
    con, _pii, _bi = audit
    scanned = relations(con, "serving", ["main"])
    assert '"serving"."main"."publish_info"' in scanned
    found = {rel: leaks(con, rel) + date_leaks(con, rel) for rel in scanned}
    assert {rel: hits for rel, hits in found.items() if hits} == {}


def test_the_report_holds_no_raw_pii(audit):
    _con, pii, bi = audit
    text = (bi / "report.html").read_text(encoding="utf-8").lower()
    assert len(text) > 1_000
    assert SENTINEL.findall(text) == []
    assert [e for e in pii["email"] if e.strip().lower() in text] == []
    assert sorted(set(re.findall(ISO_DATE, text)) & set(pii["birth_date"])) == []

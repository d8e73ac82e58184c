"""Tests of the demo data generator: contract schema, validity, determinism and personas.

The checks run as DuckDB SQL over the written Parquet files, the same way dbt will read them,
so a passing test means the raw folder is valid input for the build.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from segmentation import generate as gen

N_CUSTOMERS = 4_000
SEED = 7
END = dt.date(2026, 9, 30)
END_EXCLUSIVE = "TIMESTAMP '2026-10-01 00:00:00'"

EXPECTED_TYPES = {
    "customers": {
        "customer_id": "VARCHAR",
        "email": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "birth_date": "DATE",
        "gender": "VARCHAR",
        "country": "VARCHAR",
        "signup_at": "TIMESTAMP",
        "acquisition_channel": "VARCHAR",
    },
    "orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "ordered_at": "TIMESTAMP",
        "status": "VARCHAR",
        "sales_channel": "VARCHAR",
    },
    "order_items": {
        "order_id": "VARCHAR",
        "line_number": "INTEGER",
        "product_id": "VARCHAR",
        "quantity": "INTEGER",
        "unit_price": "DECIMAL(12,2)",
        "discount_amount": "DECIMAL(12,2)",
    },
    "returns": {
        "return_id": "VARCHAR",
        "order_id": "VARCHAR",
        "line_number": "INTEGER",
        "quantity": "INTEGER",
        "returned_at": "TIMESTAMP",
        "reason": "VARCHAR",
        "refund_amount": "DECIMAL(12,2)",
    },
    "products": {
        "product_id": "VARCHAR",
        "product_name": "VARCHAR",
        "category": "VARCHAR",
        "list_price": "DECIMAL(12,2)",
    },
    "sessions": {
        "session_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "started_at": "TIMESTAMP",
        "page_views": "INTEGER",
        "product_views": "INTEGER",
        "cart_adds": "INTEGER",
        "device": "VARCHAR",
    },
}


def _run(root: Path, seed: int = SEED, **kwargs: object) -> tuple[Path, Path, dict[str, int]]:
    raw, truth = root / "raw", root / "truth"
    rows = gen.generate(N_CUSTOMERS, seed, raw, truth, END, **kwargs)
    return raw, truth, rows


def _connect(raw: Path, truth: Path) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with one view per raw table plus ``personas``."""
    con = duckdb.connect()
    for table in gen.TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{raw / table}.parquet')")
    con.execute(f"CREATE VIEW personas AS SELECT * FROM read_parquet('{truth}/personas.parquet')")
    return con


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    # A small chunk size so that the multi-chunk path (id offsets, appends) is exercised.
    return _run(tmp_path_factory.mktemp("gen"), chunk_size=1_500)


@pytest.fixture(scope="module")
def con(dataset: tuple[Path, Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    raw, truth, _ = dataset
    return _connect(raw, truth)


@pytest.fixture(scope="module")
def features(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Per-customer RFM-style features over non-cancelled orders, joined to the persona."""
    con.execute(
        f"""
        CREATE TABLE features AS
        WITH returned AS (
            SELECT order_id, line_number, sum(quantity) AS returned_qty
            FROM returns GROUP BY ALL
        ),
        lines AS (
            SELECT o.customer_id, o.order_id, o.ordered_at, i.quantity,
                   i.unit_price * i.quantity AS gross, i.discount_amount AS discount,
                   coalesce(r.returned_qty, 0) AS returned_qty
            FROM orders o
            JOIN order_items i USING (order_id)
            LEFT JOIN returned r USING (order_id, line_number)
            WHERE o.status <> 'cancelled'
        )
        SELECT p.persona, l.customer_id,
               count(DISTINCT l.order_id) AS frequency,
               date_diff('day', max(l.ordered_at), {END_EXCLUSIVE}) AS recency_days,
               date_diff('day', min(l.ordered_at), {END_EXCLUSIVE}) AS first_order_age_days,
               sum(l.gross - l.discount) AS monetary,
               sum(l.gross - l.discount) / count(DISTINCT l.order_id) AS avg_order_value,
               sum(l.returned_qty) / sum(l.quantity) AS unit_return_rate,
               sum(l.discount) / nullif(sum(l.gross), 0) AS discount_share
        FROM lines l JOIN personas p USING (customer_id)
        GROUP BY ALL
        """
    )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------------------------
# Files, schema, determinism
# --------------------------------------------------------------------------------------------


def test_writes_six_tables_and_truth_outside_raw(dataset: tuple[Path, Path, dict]) -> None:
    raw, truth, rows = dataset
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{t}.parquet" for t in gen.TABLES)
    assert (truth / "personas.parquet").exists()
    assert raw not in (truth, *truth.parents)
    assert set(rows) == set(gen.TABLES)
    assert rows["customers"] == N_CUSTOMERS
    assert all(count > 0 for count in rows.values())


def test_row_counts_match_files(con: duckdb.DuckDBPyConnection, dataset: tuple) -> None:
    _, _, rows = dataset
    for table, count in rows.items():
        assert _one(con, f"SELECT count(*) FROM {table}") == count


@pytest.mark.parametrize("table", gen.TABLES)
def test_schema_is_exactly_the_contract(con: duckdb.DuckDBPyConnection, table: str) -> None:
    described = con.execute(f"DESCRIBE {table}").fetchall()
    assert {name: col_type for name, col_type, *_ in described} == EXPECTED_TYPES[table]
    assert [name for name, *_ in described] == list(EXPECTED_TYPES[table])


def test_persona_file_schema(con: duckdb.DuckDBPyConnection) -> None:
    described = con.execute("DESCRIBE personas").fetchall()
    assert [(name, col_type) for name, col_type, *_ in described] == [
        ("customer_id", "VARCHAR"),
        ("persona", "VARCHAR"),
    ]
    assert _one(con, "SELECT count(*) FROM personas") == N_CUSTOMERS
    assert _one(con, "SELECT count(*) FROM personas JOIN customers USING (customer_id)") == (
        N_CUSTOMERS
    )
    found = {r[0] for r in con.execute("SELECT DISTINCT persona FROM personas").fetchall()}
    assert found == set(gen.PERSONAS)


def _fingerprint(raw: Path, truth: Path) -> dict[str, tuple]:
    """Order-sensitive content hash of every table (file bytes may embed writer metadata)."""
    con = _connect(raw, truth)
    return {
        table: con.execute(
            "SELECT count(*), bit_xor(hash(rn, t)) FROM "
            f"(SELECT row_number() OVER () AS rn, t FROM {table} t)"
        ).fetchone()
        for table in (*gen.TABLES, "personas")
    }


def test_deterministic_for_a_seed(dataset: tuple, tmp_path: Path) -> None:
    raw, truth, _ = dataset
    raw2, truth2, _ = _run(tmp_path / "again", chunk_size=1_500)
    assert _fingerprint(raw, truth) == _fingerprint(raw2, truth2)
    raw3, truth3, _ = _run(tmp_path / "other", seed=SEED + 1, chunk_size=1_500)
    first, other = _fingerprint(raw, truth), _fingerprint(raw3, truth3)
    for table in ("customers", "orders", "order_items", "returns", "sessions", "personas"):
        assert first[table] != other[table], table


# --------------------------------------------------------------------------------------------
# Validity per the raw input contract
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("customers", "customer_id"),
        ("orders", "order_id"),
        ("order_items", "order_id, line_number"),
        ("returns", "return_id"),
        ("products", "product_id"),
        ("sessions", "session_id"),
        ("customers", "email"),
    ],
)
def test_keys_unique_and_not_null(con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    total = _one(con, f"SELECT count(*) FROM {table}")
    assert _one(con, f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {table})") == total
    first = key.split(",")[0]
    assert _one(con, f"SELECT count(*) FROM {table} WHERE {first} IS NULL") == 0


def test_required_columns_present(con: duckdb.DuckDBPyConnection) -> None:
    required = {
        "orders": ["customer_id", "ordered_at"],
        "order_items": ["line_number", "quantity", "unit_price"],
        "returns": ["order_id", "line_number", "quantity", "returned_at"],
        "sessions": ["started_at"],
    }
    for table, columns in required.items():
        condition = " OR ".join(f"{c} IS NULL" for c in columns)
        assert _one(con, f"SELECT count(*) FROM {table} WHERE {condition}") == 0, table


def test_identifiers_keep_leading_zeros(con: duckdb.DuckDBPyConnection) -> None:
    assert _one(con, "SELECT min(customer_id) FROM customers") == "C00000001"
    bad = "SELECT count(*) FROM customers WHERE NOT regexp_full_match(customer_id, 'C[0-9]{8}')"
    assert _one(con, bad) == 0


def test_referential_integrity(con: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "orders without customer": "SELECT count(*) FROM orders o ANTI JOIN customers c "
        "USING (customer_id)",
        "items without order": "SELECT count(*) FROM order_items ANTI JOIN orders USING (order_id)",
        "orders without items": "SELECT count(*) FROM orders ANTI JOIN order_items "
        "USING (order_id)",
        "items without product": "SELECT count(*) FROM order_items ANTI JOIN products "
        "USING (product_id)",
        "returns without line": "SELECT count(*) FROM returns ANTI JOIN order_items "
        "USING (order_id, line_number)",
        "sessions with unknown customer": "SELECT count(*) FROM sessions s WHERE customer_id IS "
        "NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers)",
    }
    for name, sql in checks.items():
        assert _one(con, sql) == 0, name


def test_value_ranges(con: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "quantity > 0": "SELECT count(*) FROM order_items WHERE quantity <= 0",
        "unit_price >= 0": "SELECT count(*) FROM order_items WHERE unit_price < 0",
        "discount within line": "SELECT count(*) FROM order_items WHERE discount_amount < 0 "
        "OR discount_amount > unit_price * quantity",
        "line numbers 1..n": "SELECT count(*) FROM (SELECT order_id, max(line_number) m, "
        "count(*) n, min(line_number) lo FROM order_items GROUP BY 1) WHERE m <> n OR lo <> 1",
        "status values": "SELECT count(*) FROM orders WHERE status NOT IN "
        "('placed', 'shipped', 'delivered', 'cancelled')",
        "session funnel": "SELECT count(*) FROM sessions WHERE NOT (page_views >= product_views "
        "AND product_views >= 0 AND cart_adds >= 0)",
        "device values": "SELECT count(*) FROM sessions WHERE device NOT IN "
        "('desktop', 'mobile', 'tablet')",
        "list_price > 0": "SELECT count(*) FROM products WHERE list_price <= 0",
        "refund within net line": "SELECT count(*) FROM returns r JOIN order_items i "
        "USING (order_id, line_number) WHERE r.refund_amount < 0 OR r.refund_amount > "
        "i.unit_price * i.quantity - i.discount_amount",
    }
    for name, sql in checks.items():
        assert _one(con, sql) == 0, name


def test_returns_are_consistent_with_their_line(con: duckdb.DuckDBPyConnection) -> None:
    sql = """
        SELECT count(*) FILTER (WHERE r.quantity <= 0 OR r.quantity > i.quantity),
               count(*) FILTER (WHERE r.returned_at <= o.ordered_at),
               count(*) FILTER (WHERE o.status NOT IN ('delivered', 'shipped')),
               count(*)
        FROM returns r
        JOIN order_items i USING (order_id, line_number)
        JOIN orders o USING (order_id)
    """
    too_many, too_early, wrong_status, total = con.execute(sql).fetchone()
    assert (too_many, too_early, wrong_status) == (0, 0, 0)
    assert total > 0
    # At most one return per line here, so the per-line sum is also within the sold quantity.
    repeated = (
        "SELECT count(*) FROM (SELECT order_id, line_number FROM returns "
        "GROUP BY ALL HAVING count(*) > 1)"
    )
    assert _one(con, repeated) == 0


def test_no_timestamp_after_end_date(con: duckdb.DuckDBPyConnection) -> None:
    for table, column in [
        ("orders", "ordered_at"),
        ("returns", "returned_at"),
        ("sessions", "started_at"),
        ("customers", "signup_at"),
    ]:
        assert _one(con, f"SELECT count(*) FROM {table} WHERE {column} >= {END_EXCLUSIVE}") == 0
    assert _one(con, "SELECT min(ordered_at) FROM orders") >= dt.datetime(2023, 10, 1)
    assert _one(con, "SELECT max(birth_date) FROM customers") < END


def test_signup_before_first_order(con: duckdb.DuckDBPyConnection) -> None:
    sql = """
        SELECT count(*) FROM customers c
        JOIN (SELECT customer_id, min(ordered_at) AS first_order FROM orders GROUP BY 1) f
        USING (customer_id) WHERE c.signup_at > f.first_order
    """
    assert _one(con, sql) == 0


def test_demographic_gaps_are_realistic(con: duckdb.DuckDBPyConnection) -> None:
    shares = con.execute(
        """
        SELECT avg((birth_date IS NULL)::int), avg((gender IS NULL)::int),
               avg((country IS NULL)::int), count(DISTINCT gender)
        FROM customers
        """
    ).fetchone()
    assert 0.11 < shares[0] < 0.19
    assert 0.07 < shares[1] < 0.13
    assert 0.01 < shares[2] < 0.05
    assert shares[3] == 3


def test_status_mix(con: duckdb.DuckDBPyConnection) -> None:
    share = dict(
        con.execute(
            "SELECT status, count(*) / (SELECT count(*) FROM orders) FROM orders GROUP BY 1"
        ).fetchall()
    )
    assert share["delivered"] > 0.85
    assert 0.025 < share["cancelled"] < 0.06
    recent = _one(
        con,
        "SELECT min(ordered_at) FROM orders WHERE status IN ('placed', 'shipped')",
    )
    assert recent > dt.datetime(2026, 9, 20)


def test_sessions_convert_to_orders(con: duckdb.DuckDBPyConnection) -> None:
    same_day = _one(
        con,
        """
        SELECT avg((EXISTS (SELECT 1 FROM sessions s WHERE s.customer_id = o.customer_id
                    AND s.started_at <= o.ordered_at
                    AND s.started_at::date = o.ordered_at::date))::int)
        FROM orders o
        """,
    )
    assert same_day > 0.8
    per_customer = _one(con, "SELECT count(*) / (SELECT count(*) FROM customers) FROM sessions")
    assert 7 < per_customer < 14
    anonymous = _one(con, "SELECT avg((customer_id IS NULL)::int) FROM sessions")
    assert 0.03 < anonymous < 0.3


def test_volume_per_customer(con: duckdb.DuckDBPyConnection) -> None:
    orders = _one(con, "SELECT count(*) / (SELECT count(*) FROM customers) FROM orders")
    lines = _one(con, "SELECT count(*) / (SELECT count(*) FROM customers) FROM order_items")
    assert 4.5 < orders < 7.5
    assert 11 < lines < 19
    assert 200 <= _one(con, "SELECT count(*) FROM products") <= 2_000


def test_categories_differ_in_return_propensity(con: duckdb.DuckDBPyConnection) -> None:
    rate = dict(
        con.execute(
            """
            SELECT p.category, sum(coalesce(r.quantity, 0)) / sum(i.quantity)
            FROM order_items i JOIN products p USING (product_id)
            LEFT JOIN returns r USING (order_id, line_number)
            GROUP BY 1
            """
        ).fetchall()
    )
    assert rate["apparel"] > 2 * rate["home"]
    assert rate["shoes"] > rate["electronics"] > rate["home"]


def test_refund_mostly_net_price_times_quantity(con: duckdb.DuckDBPyConnection) -> None:
    exact, missing = con.execute(
        """
        SELECT avg((r.refund_amount = round((i.unit_price * i.quantity - i.discount_amount)
                    * r.quantity / i.quantity, 2))::int),
               avg((r.refund_amount IS NULL)::int)
        FROM returns r JOIN order_items i USING (order_id, line_number)
        """
    ).fetchone()
    assert exact > 0.8
    assert 0.02 < missing < 0.15


# --------------------------------------------------------------------------------------------
# Planted structure: personas and seasonality
# --------------------------------------------------------------------------------------------


def _median(con: duckdb.DuckDBPyConnection, column: str, persona: str | None = None) -> float:
    where = f"WHERE persona = '{persona}'" if persona else ""
    return float(_one(con, f"SELECT median({column}) FROM features {where}"))


def test_serial_returners_return_several_times_more(features: duckdb.DuckDBPyConnection) -> None:
    population = _median(features, "unit_return_rate")
    returners = _median(features, "unit_return_rate", "serial_returner")
    assert returners >= 3 * max(population, 0.05)
    assert returners > 0.5  # "sends most back"
    # They bracket sizes: several lines of the same apparel/shoes product in one order.
    bracketing = dict(
        features.execute(
            """
            SELECT persona = 'serial_returner', avg(has_repeat::int) FROM (
                SELECT p.persona, o.order_id,
                       count(DISTINCT i.product_id) < count(*) AS has_repeat
                FROM orders o JOIN order_items i USING (order_id)
                JOIN personas p USING (customer_id)
                GROUP BY ALL)
            GROUP BY 1
            """
        ).fetchall()
    )
    assert bracketing[True] > 0.4
    assert bracketing[True] > 5 * bracketing[False]


def test_bargain_hunters_use_discounts(features: duckdb.DuckDBPyConnection) -> None:
    hunters = _median(features, "discount_share", "bargain_hunter")
    others = _one(
        features, "SELECT median(discount_share) FROM features WHERE persona <> 'bargain_hunter'"
    )
    assert hunters > 0.15
    assert hunters > 5 * max(float(others), 0.01)
    lines_discounted = _one(
        features,
        """
        SELECT avg((i.discount_amount >= 0.1 * i.unit_price * i.quantity)::int)
        FROM order_items i JOIN orders o USING (order_id) JOIN personas p USING (customer_id)
        WHERE p.persona = 'bargain_hunter'
        """,
    )
    assert lines_discounted > 0.5


def test_lapsed_one_timers(features: duckdb.DuckDBPyConnection) -> None:
    orders_per_customer = features.execute(
        """
        SELECT min(n), max(n) FROM (
            SELECT p.customer_id, count(o.order_id) AS n
            FROM personas p LEFT JOIN orders o USING (customer_id)
            WHERE p.persona = 'lapsed_one_timer' GROUP BY 1)
        """
    ).fetchone()
    assert orders_per_customer == (1, 1)
    assert _median(features, "recency_days", "lapsed_one_timer") > 365
    assert (
        _one(features, "SELECT min(recency_days) FROM features WHERE persona = 'lapsed_one_timer'")
        > 180
    )


def test_new_customers(features: duckdb.DuckDBPyConnection) -> None:
    stats = features.execute(
        """
        SELECT max(first_order_age_days), min(frequency), max(frequency)
        FROM features WHERE persona = 'new_customer'
        """
    ).fetchone()
    assert stats[0] <= 91
    assert stats[1] >= 1 and stats[2] <= 2


def test_high_value_loyal(features: duckdb.DuckDBPyConnection) -> None:
    population = _median(features, "monetary")
    assert _median(features, "monetary", "high_value_loyal") > 3 * population
    assert _median(features, "frequency", "high_value_loyal") > 2 * _median(features, "frequency")
    assert _median(features, "recency_days", "high_value_loyal") < 90
    assert _median(features, "unit_return_rate", "high_value_loyal") < _median(
        features, "unit_return_rate"
    )
    assert _median(features, "avg_order_value", "high_value_loyal") > _median(
        features, "avg_order_value", "regular"
    )


def test_regular_is_the_largest_persona(con: duckdb.DuckDBPyConnection) -> None:
    top = _one(con, "SELECT persona FROM personas GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    assert top == "regular"


def test_browsers_never_order(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        _one(
            con,
            "SELECT count(*) FROM orders JOIN personas USING (customer_id) "
            "WHERE persona = 'browser'",
        )
        == 0
    )


def test_q4_peak(con: duckdb.DuckDBPyConnection) -> None:
    per_month = dict(
        con.execute(
            """
            SELECT quarter(ordered_at), count(*) / count(DISTINCT date_trunc('month', ordered_at))
            FROM orders GROUP BY 1
            """
        ).fetchall()
    )
    assert per_month[4] > 1.15 * max(per_month[q] for q in (1, 2, 3))


# --------------------------------------------------------------------------------------------
# Safety of the output folder and the CLI
# --------------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    gen.add_arguments(parser)
    return gen.main(parser.parse_args(argv))


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    raw.mkdir()
    (raw / "orders.csv").write_text("order_id\n")
    argv = ["--customers", "50", "--out", str(raw), "--truth", str(truth)]
    assert _cli(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in raw.iterdir()) == ["orders.csv"]
    assert _cli([*argv, "--force"]) == 0
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{t}.parquet" for t in gen.TABLES)


def test_refuses_truth_inside_raw(tmp_path: Path) -> None:
    argv = ["--customers", "50", "--out", str(tmp_path), "--truth", str(tmp_path / "truth")]
    assert _cli(argv) == 2
    assert not list(tmp_path.iterdir())


def test_cli_defaults() -> None:
    parser = argparse.ArgumentParser()
    gen.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.customers, args.seed, args.out, args.truth) == (
        60_000,
        42,
        "data/raw",
        "data/truth",
    )
    assert args.end == dt.date(2026, 9, 30)


def test_chunks_do_not_change_prefix(tmp_path: Path) -> None:
    """The first chunk's customers are the same whatever the total count."""
    gen.generate(300, SEED, tmp_path / "a", tmp_path / "ta", END, chunk_size=200)
    gen.generate(500, SEED, tmp_path / "b", tmp_path / "tb", END, chunk_size=200)
    con = duckdb.connect()
    sql = (
        "SELECT list(email ORDER BY customer_id), list(signup_at ORDER BY customer_id) "
        "FROM read_parquet('{}/customers.parquet') WHERE customer_id <= 'C00000200'"
    )
    first = con.execute(sql.format(tmp_path / "a")).fetchone()
    second = con.execute(sql.format(tmp_path / "b")).fetchone()
    assert len(first[0]) == 200
    assert first == second

"""Idempotent builds: the same input gives the same public marts, build after build.

One generated raw folder (the shared shop, shared_shop.py: 1,500 customers) is built three
times: into a fresh database A (a copy of the shared build), into a fresh database B, and a
second time into A. Every public mart (the models with
``access: public`` in dbt's manifest, as `segmentation publish` lists them) is reduced to an
order-independent checksum over all its columns (row count and the sum of a hash of each row),
leaving out only the columns that legitimately differ per build:

* ``run_id`` and ``run_started_at`` of the monitoring marts (one row / block per dbt run);
* ``fitted_at`` (when the model version was fitted) between two fresh databases.

The second build on A must not refit: every non-monitoring mart is identical including
``fitted_at``, the monitoring marts gain one run whose segment sizes equal the first run's,
and the feature drift against the (identical) fit sample is zero. Publishing twice gives
Parquet files with the same content (compared through DuckDB, not byte by byte).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO
from shared_shop import CUSTOMERS, FAST, shared_shop

pytestmark = pytest.mark.e2e

MONITORING = {"segmentation_runs", "segmentation_run_segments"}
PER_RUN_COLUMNS = {"run_id", "run_started_at"}
PER_FIT_COLUMNS = {"fitted_at"}

Checksum = tuple[int, int, int, dict[str, float]]
Checksums = dict[str, Checksum]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def public_marts(manifest: Path) -> dict[str, str]:
    """Mart name -> schema of every public model in a dbt manifest."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    return {
        node.get("alias") or node["name"]: node["schema"]
        for node in nodes.values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    }


def checksum(con: duckdb.DuckDBPyConnection, relation: str, skip: set[str]) -> Checksum:
    """Order-independent checksum over every column of ``relation`` not in ``skip``: (rows,
    sum of row hashes without the DOUBLE columns, sum of row hashes of all columns, sum of
    each DOUBLE column)."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    kept = [(_quote(row[0]), row[1]) for row in described if row[0] not in skip]
    assert kept, relation
    exact = [name for name, type_ in kept if type_ != "DOUBLE"] or ["1"]
    doubles = [name for name, type_ in kept if type_ == "DOUBLE"]
    sums = "".join(f", sum({name})" for name in doubles)
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash({', '.join(exact)})), 0),"
        f" coalesce(sum(hash({', '.join(name for name, _ in kept)})), 0){sums} FROM {relation}"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), dict(zip(doubles, row[3:], strict=True))


def skipped_columns(mart: str, *, per_fit: bool) -> set[str]:
    skip = set(PER_RUN_COLUMNS) if mart in MONITORING else set()
    return skip | PER_FIT_COLUMNS if per_fit else skip


def mart_checksums(db: Path, marts: dict[str, str], *, per_fit: bool) -> Checksums:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            mart: checksum(
                con, f"{_quote(schema)}.{_quote(mart)}", skipped_columns(mart, per_fit=per_fit)
            )
            for mart, schema in marts.items()
        }


def parquet_checksums(bi_dir: Path, *, per_fit: bool) -> Checksums:
    files = sorted(bi_dir.glob("*.parquet"))
    assert files, f"no Parquet files in {bi_dir}"
    with duckdb.connect() as con:
        return {
            path.stem: checksum(
                con,
                f"read_parquet('{path}')",
                skipped_columns(path.stem, per_fit=per_fit),
            )
            for path in files
        }


def publish(db: Path, bi_dir: Path) -> None:
    manifest = db.parent / "target" / "manifest.json"
    proc = subprocess.run(
        [BIN / "segmentation", "publish", "--db", db, "--bi", bi_dir, "--manifest", manifest],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def close(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is right
    return right == pytest.approx(left, rel=1e-9, abs=1e-9, nan_ok=True)


def same(left: Checksum | None, right: Checksum | None, *, bitwise: bool) -> bool:
    """Equal row count and non-DOUBLE content; DOUBLE columns equal up to rounding noise (the
    sums agree to 1e-9 relative), or bit for bit when ``bitwise``."""
    if left is None or right is None:
        return left is right
    if bitwise:
        return left[:3] == right[:3]
    return (
        left[:2] == right[:2]
        and left[3].keys() == right[3].keys()
        and all(close(value, right[3][col]) for col, value in left[3].items())
    )


def differences(left: Checksums, right: Checksums, *, bitwise: bool = False) -> list[str]:
    return [
        f"{mart}: {left.get(mart)} != {right.get(mart)}"
        for mart in sorted(set(left) | set(right))
        if not same(left.get(mart), right.get(mart), bitwise=bitwise)
    ]


@pytest.fixture(scope="module")
def builds(tmp_path_factory, dbt_runner):
    """Build A (a copy of the shared shop's fresh build), publish it twice, build B and
    publish it, then build A again."""
    work = tmp_path_factory.mktemp("idempotent")
    shop = shared_shop(work / "a")
    raw, db_a, db_b = shop.raw, shop.db, work / "b" / "warehouse.duckdb"
    out: dict = {"db_a": db_a, "db_b": db_b}

    marts = public_marts(db_a.parent / "target" / "manifest.json")
    out["marts"] = marts
    out["a1"] = mart_checksums(db_a, marts, per_fit=False)
    out["a1_fresh"] = mart_checksums(db_a, marts, per_fit=True)
    publish(db_a, work / "bi_a")
    out["parquet_a1"] = parquet_checksums(work / "bi_a", per_fit=False)
    out["parquet_a1_fresh"] = parquet_checksums(work / "bi_a", per_fit=True)
    publish(db_a, work / "bi_a")
    out["parquet_a1_again"] = parquet_checksums(work / "bi_a", per_fit=False)

    db_b.parent.mkdir()
    run = dbt_runner(["build"], raw, db_b, extra_vars=FAST)
    assert run.returncode == 0, run.output[-5000:]
    out["b"] = mart_checksums(db_b, marts, per_fit=True)
    publish(db_b, work / "bi_b")
    out["parquet_b"] = parquet_checksums(work / "bi_b", per_fit=True)

    with duckdb.connect() as con:
        con.execute(f"ATTACH '{db_a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{db_b}' AS b (READ_ONLY)")
        out["segment_diff"] = con.execute(
            """SELECT count(*),
                      count(*) FILTER (WHERE a.customer_id IS NULL OR b.customer_id IS NULL
                          OR a.model_version IS DISTINCT FROM b.model_version
                          OR a.segment_id IS DISTINCT FROM b.segment_id
                          OR a.segment_name IS DISTINCT FROM b.segment_name)
               FROM a.marts.customer_segments AS a
               FULL OUTER JOIN b.marts.customer_segments AS b USING (customer_id)"""
        ).fetchone()

    run = dbt_runner(["build"], raw, db_a, extra_vars=FAST)
    assert run.returncode == 0, run.output[-5000:]
    out["a2"] = mart_checksums(db_a, marts, per_fit=False)
    return out


def test_public_marts_are_listed_from_the_manifest(builds):
    marts = builds["marts"]
    assert len(marts) >= 10
    assert {"customer_segments", "dim_segments", "segmentation_runs"} <= set(marts)


def test_two_fresh_builds_give_identical_public_marts(builds):
    assert differences(builds["a1_fresh"], builds["b"]) == []
    assert builds["b"]["customer_segments"][0] > 0


def test_two_fresh_builds_give_bit_identical_public_marts(builds):
    # Doubles from parallel aggregation are rounded to 9 decimals in the marts
    # (macro stable_double), so even the last bits agree.
    assert differences(builds["a1_fresh"], builds["b"], bitwise=True) == []


def test_two_fresh_builds_give_every_customer_the_same_version_and_segment(builds):
    customers, mismatched = builds["segment_diff"]
    assert customers > 0.9 * CUSTOMERS
    assert mismatched == 0


def test_second_build_on_the_same_database_changes_only_the_run_history(builds):
    first, second = builds["a1"], builds["a2"]
    stable = set(first) - MONITORING - {"segment_feature_drift"}
    assert differences({m: first[m] for m in stable}, {m: second[m] for m in stable}) == []
    # First build: no model in force, so no drift rows; second: one row per feature.
    assert first["segment_feature_drift"][0] == 0
    assert second["segment_feature_drift"][0] > 0
    for mart in MONITORING:
        assert second[mart][0] == 2 * first[mart][0], mart


def test_second_build_on_the_same_database_records_a_run_without_refit_or_drift(builds):
    with duckdb.connect(str(builds["db_a"]), read_only=True) as con:
        runs = con.execute(
            """SELECT model_version, refitted, customers_scored, k, inertia, max_psi,
                      drifted_features, segment_share_shift
               FROM marts.segmentation_runs ORDER BY run_started_at"""
        ).fetchall()
        assert len(runs) == 2
        (v1, refit1, n1, k1, inertia1, *_), (v2, refit2, n2, k2, inertia2, psi, drifted, shift) = (
            runs
        )
        assert (refit1, refit2) == (True, False)
        assert (v2, n2, k2, inertia2) == (v1, n1, k1, inertia1)
        assert psi == pytest.approx(0, abs=1e-9)
        assert drifted == 0
        assert shift == pytest.approx(0, abs=1e-12)
        blocks = con.execute(
            """SELECT run_started_at, list((model_version, segment_id, segment_name, customers,
                          customer_share) ORDER BY segment_id)
               FROM marts.segmentation_run_segments GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        assert len(blocks) == 2
        assert blocks[0][1] == blocks[1][1]
        max_psi = con.execute("SELECT max(psi) FROM marts.segment_feature_drift").fetchone()[0]
        assert max_psi == pytest.approx(0, abs=1e-9)


def test_publishing_twice_gives_the_same_parquet_content(builds):
    assert set(builds["parquet_a1"]) == set(builds["marts"])
    assert differences(builds["parquet_a1"], builds["parquet_a1_again"]) == []


def test_parquet_content_equals_the_marts_and_is_the_same_for_both_builds(builds):
    assert differences(builds["parquet_a1"], builds["a1"]) == []
    assert differences(builds["parquet_a1_fresh"], builds["parquet_b"]) == []

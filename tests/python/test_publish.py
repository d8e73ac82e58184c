"""Tests for `segmentation publish`: what is published, atomicity, readers, storage version.

Each test builds a small fake warehouse (a `marts` schema with two tables and a view, plus a
non-public staging table) and a fake dbt manifest in tmp_path; no dbt run is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from segmentation import cli
from segmentation import publish as pub

PUBLIC = ["customer_segments", "dim_customers", "segment_profiles"]
# DuckDB writes this number into the file header; 1.0 and 1.1 write and read 64 only.
DUCKDB_1_1_STORAGE_NUMBER = 64
OLD_DUCKDB = "1.1.3"


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------


def make_warehouse(db_path: Path, customers: int) -> None:
    """A build database with public marts of varied (BI-safe) types and a private table."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS staging")
        con.execute(
            f"""CREATE OR REPLACE TABLE marts.dim_customers AS
            SELECT lpad(i::VARCHAR, 8, '0') AS customer_key,
                   ['DE', 'FR', 'NL', 'US', NULL][1 + i % 5] AS country,
                   (i % 7 = 0) AS is_returner,
                   DATE '2020-01-01' + (i % 900)::INTEGER AS first_order_date,
                   TIMESTAMP '2020-01-01 08:00:00' + to_seconds(i * 37) AS signed_up_at,
                   (i * 1.37)::DECIMAL(18, 2) AS lifetime_value,
                   sqrt(i)::DOUBLE AS score,
                   i::BIGINT AS row_number
            FROM range({customers}) AS t(i)"""
        )
        con.execute(
            """CREATE OR REPLACE TABLE marts.customer_segments AS
            SELECT customer_key, (row_number % 4)::INTEGER AS segment_id,
                   (score / 10)::DOUBLE AS distance
            FROM marts.dim_customers"""
        )
        con.execute(
            """CREATE OR REPLACE VIEW marts.segment_profiles AS
            SELECT segment_id, count(*)::BIGINT AS customers, avg(distance) AS avg_distance
            FROM marts.customer_segments GROUP BY segment_id"""
        )
        con.execute(
            "CREATE OR REPLACE TABLE staging.stg_shop__customers AS "
            "SELECT customer_key, 'someone@example.com' AS email FROM marts.dim_customers"
        )


def model_node(name: str, schema: str, access: str, alias: str | None = None) -> dict:
    """The bits of a dbt manifest model node that publish reads."""
    return {
        "resource_type": "model",
        "name": name,
        "alias": alias or name,
        "schema": schema,
        "database": "warehouse",
        "access": access,
        "config": {"access": access, "materialized": "table"},
    }


def write_manifest(path: Path, public: list[str] = PUBLIC) -> Path:
    nodes = {f"model.segmentation.{n}": model_node(n, "marts", "public") for n in public}
    nodes["model.segmentation.stg_shop__customers"] = model_node(
        "stg_shop__customers", "staging", "protected"
    )
    nodes["test.segmentation.not_null_dim_customers"] = {"resource_type": "test", "name": "t"}
    path.write_text(json.dumps({"metadata": {}, "nodes": nodes}))
    return path


class Project:
    """Paths of one fake project in tmp_path, and a helper to publish it."""

    def __init__(self, root: Path) -> None:
        self.db = root / "warehouse.duckdb"
        self.bi = root / "bi"
        self.manifest = write_manifest(root / "manifest.json")
        self.log: list[str] = []

    def publish(self, **kwargs) -> pub.PublishResult:
        # a fake manifest has no semantic layer: the Power BI project is tested on real builds
        kwargs.setdefault("powerbi", False)
        return pub.publish(self.db, self.bi, self.manifest, log=self.log.append, **kwargs)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj = Project(tmp_path)
    make_warehouse(proj.db, customers=3000)
    return proj


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry of a folder (hidden ones too) -> sha256 of its bytes ("dir" for folders)."""
    return {
        p.name: "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
    }


def count(path: Path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# What gets published
# ---------------------------------------------------------------------------------------------


def test_publishes_parquet_serving_db_and_manifest(project: Project) -> None:
    result = project.publish()

    assert [m.name for m in result.marts] == PUBLIC
    files = sorted(p.name for p in project.bi.iterdir())
    assert files == sorted(
        [f"{n}.parquet" for n in PUBLIC] + ["segmentation.duckdb", "_manifest.json"]
    )

    expected_rows = {"dim_customers": 3000, "customer_segments": 3000, "segment_profiles": 4}
    with duckdb.connect() as con:
        for name, rows in expected_rows.items():
            parquet = str(project.bi / f"{name}.parquet")
            assert (
                con.execute("SELECT count(*) FROM read_parquet(?)", [parquet]).fetchone()[0] == rows
            )
            codecs = con.execute(
                "SELECT DISTINCT compression FROM parquet_metadata(?)", [parquet]
            ).fetchall()
            assert codecs == [("ZSTD",)]

    serving = project.bi / "segmentation.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert tables == set(PUBLIC) | {"publish_info"}  # not stg_shop__customers
        assert con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall() == [
            ("main",)
        ]
        for name, rows in expected_rows.items():
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == rows
        info = con.execute(
            "SELECT mart, row_count, column_count, source_db, storage_version"
            " FROM publish_info ORDER BY mart"
        ).fetchall()
        assert info == [
            (n, expected_rows[n], len(m.columns), str(project.db), "v1.1.0")
            for n, m in zip(PUBLIC, result.marts, strict=True)
        ]
        # Types survive the copy (DECIMAL stays DECIMAL, DATE stays DATE, ...).
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns()"
                " WHERE table_name = 'dim_customers'"
            ).fetchall()
        )
        assert types["lifetime_value"] == "DECIMAL(18,2)"
        assert types["first_order_date"] == "DATE"

    manifest = json.loads((project.bi / "_manifest.json").read_text())
    assert set(manifest["marts"]) == set(PUBLIC)
    dim = manifest["marts"]["dim_customers"]
    assert dim["rows"] == 3000
    assert dim["columns"][0] == {"name": "customer_key", "type": "VARCHAR"}
    assert {"name": "lifetime_value", "type": "DECIMAL(18,2)"} in dim["columns"]
    for name in PUBLIC:
        data = (project.bi / f"{name}.parquet").read_bytes()
        assert manifest["marts"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["serving_db"]["storage_version"] == "v1.1.0"

    # One progress line per mart, with its rows.
    assert any("dim_customers: 3,000 rows" in line for line in project.log)
    assert sum(": " in line and " rows" in line for line in project.log) == len(PUBLIC)


def test_republish_replaces_and_drops_marts_no_longer_public(project: Project) -> None:
    project.publish()
    (project.bi / ".staging-999999-left-by-a-killed-run").mkdir()
    make_warehouse(project.db, customers=500)
    write_manifest(project.manifest, public=["dim_customers", "customer_segments"])

    project.publish()

    assert count(project.bi / "segmentation.duckdb", "dim_customers") == 500
    names = {p.name for p in project.bi.iterdir()}
    assert "segment_profiles.parquet" not in names
    assert not [n for n in names if n.startswith(".staging-")]


def test_cli_uses_env_defaults(project: Project, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SEGMENTATION_DB", str(project.db))
    monkeypatch.setenv("SEGMENTATION_BI", str(project.bi))

    rc = cli.main(["publish", "--manifest", str(project.manifest), "--no-powerbi"])

    assert rc == 0
    out = capsys.readouterr().out
    assert "dim_customers: 3,000 rows" in out
    assert count(project.bi / "segmentation.duckdb", "customer_segments") == 3000


def test_cli_missing_manifest_is_a_clear_error(project: Project, capsys) -> None:
    rc = cli.main(
        ["publish", "--db", str(project.db), "--bi", str(project.bi), "--manifest", "nope.json"]
    )
    assert rc == 1
    assert "dbt manifest not found: nope.json" in capsys.readouterr().err
    assert not project.bi.exists()


def test_missing_build_db_is_a_clear_error(project: Project) -> None:
    project.db.unlink()
    with pytest.raises(pub.PublishError, match="build database not found"):
        project.publish()


def test_refuses_when_a_public_mart_is_missing(project: Project) -> None:
    project.publish()
    before = snapshot(project.bi)
    write_manifest(project.manifest, public=[*PUBLIC, "segment_trends"])

    with pytest.raises(pub.PublishError, match=r"lacks public mart\(s\).*marts\.segment_trends"):
        project.publish()

    assert snapshot(project.bi) == before


def test_a_build_lacking_a_documented_column_is_published_with_a_warning(
    project: Project,
) -> None:
    # a warehouse built before the project documented a column: the Parquet files and the
    # Power BI project follow the table, and the publish says which columns they go without
    # (before, it said nothing)
    manifest = json.loads(project.manifest.read_text())
    node = manifest["nodes"]["model.segmentation.customer_segments"]
    node["columns"] = {name: {"name": name} for name in ["customer_key", "Segment_ID", "k_new"]}
    project.manifest.write_text(json.dumps(manifest))

    project.publish()

    warnings = [line for line in project.log if "lacks documented column" in line]
    assert warnings == [
        "  warning: marts.customer_segments lacks documented column(s) k_new: published "
        "without them (is the build older than the project? `dbt build` first)"
    ]  # Segment_ID is there: DuckDB resolves names ignoring case
    assert "k_new" not in pq.read_schema(project.bi / "customer_segments.parquet").names


# ---------------------------------------------------------------------------------------------
# Degenerate builds are refused (the last good publish stays)
# ---------------------------------------------------------------------------------------------


def with_customer_features(project: Project, customers: int, monetary: float = 10.0) -> None:
    """Add the mart the customer and revenue figures come from, with `customers` rows."""
    with duckdb.connect(str(project.db)) as con:
        con.execute(
            f"""CREATE OR REPLACE TABLE marts.customer_features AS
            SELECT lpad(i::VARCHAR, 8, '0') AS customer_key,
                   {monetary}::DECIMAL(18, 2) AS monetary
            FROM range({customers}) AS t(i)"""
        )
    write_manifest(project.manifest, public=[*PUBLIC, "customer_features"])


def test_headline_is_recorded_in_the_manifest(project: Project) -> None:
    with_customer_features(project, customers=3000, monetary=2.5)

    result = project.publish()

    assert result.headline == {"customers": 3000, "revenue": 7500.0, "segments": 4}
    manifest = json.loads((project.bi / "_manifest.json").read_text())
    assert manifest["headline"] == result.headline


def test_build_without_customers_is_refused_and_last_publish_stays(project: Project) -> None:
    with_customer_features(project, customers=3000)
    project.publish()
    before = snapshot(project.bi)
    with_customer_features(project, customers=0)  # e.g. every order quarantined

    refused = r"degenerate build(.|\n)*customers: 0 in customer_features"
    with pytest.raises(pub.PublishError, match=refused):
        project.publish()

    assert snapshot(project.bi) == before


def test_build_without_segments_is_refused(project: Project) -> None:
    with duckdb.connect(str(project.db)) as con:
        con.execute("UPDATE marts.customer_segments SET segment_id = NULL")

    with pytest.raises(pub.PublishError, match="segments: 0 in customer_segments"):
        project.publish()
    assert not (project.bi / "_manifest.json").exists()


def test_steep_drop_is_refused_unless_forced(project: Project, capsys) -> None:
    with_customer_features(project, customers=3000)
    project.publish()
    before = snapshot(project.bi)
    with_customer_features(project, customers=1000)

    with pytest.raises(pub.PublishError, match=r"customers: 1,000, down 67% from 3,000"):
        project.publish()
    assert snapshot(project.bi) == before
    # a looser threshold lets it through, and so does --force
    project.publish(max_drop=0.7)
    with_customer_features(project, customers=100)
    argv = ["publish", "--db", str(project.db), "--bi", str(project.bi)]
    assert cli.main([*argv, "--manifest", str(project.manifest), "--no-powerbi"]) == 1
    assert "down 90% from 1,000" in capsys.readouterr().err
    assert cli.main([*argv, "--manifest", str(project.manifest), "--no-powerbi", "--force"]) == 0
    assert "publishing despite (--force)" in capsys.readouterr().out
    assert count(project.bi / "segmentation.duckdb", "customer_features") == 100


def test_drop_is_measured_against_the_same_warehouse_only(project: Project) -> None:
    with_customer_features(project, customers=3000)
    project.publish()
    (project.db.parent / "other").mkdir()
    other = Project(project.db.parent / "other")  # another data set, its own warehouse
    make_warehouse(other.db, customers=500)
    with_customer_features(other, customers=500)

    result = pub.publish(other.db, project.bi, other.manifest, log=other.log.append, powerbi=False)

    assert result.headline["customers"] == 500
    assert count(project.bi / "segmentation.duckdb", "customer_features") == 500


def test_the_same_warehouse_written_another_way_is_the_same(project: Project, monkeypatch) -> None:
    with_customer_features(project, customers=3000)
    project.publish()  # an absolute path
    with_customer_features(project, customers=1000)
    monkeypatch.chdir(project.db.parent)

    with pytest.raises(pub.PublishError, match="down 67%"):
        pub.publish(Path(project.db.name), project.bi, project.manifest, powerbi=False)


def test_max_drop_comes_from_the_environment(project: Project, monkeypatch, capsys) -> None:
    with_customer_features(project, customers=3000)
    project.publish()
    with_customer_features(project, customers=2000)  # down 33%
    argv = ["publish", "--db", str(project.db), "--bi", str(project.bi)]
    argv += ["--manifest", str(project.manifest), "--no-powerbi"]

    monkeypatch.setenv("SEGMENTATION_MAX_DROP", "0.2")
    assert cli.main(argv) == 1
    assert "more than the allowed 20%" in capsys.readouterr().err
    monkeypatch.setenv("SEGMENTATION_MAX_DROP", "1.5")
    assert cli.main(argv) == 1
    assert "between 0 and 1" in capsys.readouterr().err
    monkeypatch.delenv("SEGMENTATION_MAX_DROP")
    assert cli.main(argv) == 0


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        ({"customers": 10, "revenue": 5, "segments": 3}, {}, []),
        ({"customers": 0, "revenue": 0, "segments": 0}, {}, ["customers: 0", "segments: 0"]),
        ({"customers": 60, "revenue": 100}, {"customers": 100, "revenue": 100}, []),
        ({"customers": 40, "revenue": 100}, {"customers": 100, "revenue": 100}, ["customers: 40"]),
        ({"customers": 100, "revenue": 49}, {"customers": 100, "revenue": 100}, ["revenue: 49"]),
        ({"customers": 100}, {"customers": 0, "revenue": 100}, []),  # nothing to fall from
    ],
)
def test_degenerate_reasons(current: dict, previous: dict, expected: list[str]) -> None:
    reasons = pub.degenerate_reasons(current, previous, max_drop=0.5)
    assert [r.split(" in ")[0].split(",")[0] for r in reasons] == expected


def test_manifest_reading(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.json")
    data = json.loads(manifest.read_text())
    data["nodes"]["model.segmentation.dim_customers"]["alias"] = "dim_customer_v2"
    manifest.write_text(json.dumps(data))

    marts = pub.public_marts(manifest)

    assert [(m.name, m.schema) for m in marts] == [
        ("customer_segments", "marts"),
        ("dim_customer_v2", "marts"),
        ("segment_profiles", "marts"),
    ]


# ---------------------------------------------------------------------------------------------
# BI-safe types
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column_type",
    [
        "HUGEINT",
        "UHUGEINT",
        "UUID",
        "INTERVAL",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "INTEGER[]",
        "VARCHAR[3]",
        "STRUCT(a INTEGER)",
        "MAP(VARCHAR, INTEGER)",
        "UNION(a INTEGER, b VARCHAR)",
    ],
)
def test_unsafe_types_are_recognised(column_type: str) -> None:
    assert pub.unsafe_type_reason(column_type)


@pytest.mark.parametrize(
    "column_type",
    [
        "INTEGER",
        "BIGINT",
        "DOUBLE",
        "DECIMAL(18,2)",
        "DECIMAL(38,4)",
        "VARCHAR",
        "DATE",
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "BOOLEAN",
    ],
)
def test_bi_safe_types_pass(column_type: str) -> None:
    assert pub.unsafe_type_reason(column_type) is None


@pytest.mark.parametrize(
    ("expression", "type_name"),
    [
        ("1::HUGEINT", "HUGEINT"),
        ("uuid()", "UUID"),
        ("[1, 2]", "INTEGER[]"),
        ("1::UINTEGER", "UINTEGER"),
    ],
)
def test_non_bi_safe_column_fails_and_replaces_nothing(
    project: Project, expression: str, type_name: str
) -> None:
    project.publish()
    before = snapshot(project.bi)
    with duckdb.connect(str(project.db)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE marts.customer_segments AS "
            f"SELECT *, {expression} AS bad FROM marts.customer_segments"
        )

    with pytest.raises(pub.PublishError) as excinfo:
        project.publish()

    message = str(excinfo.value)
    assert f"customer_segments.bad: {type_name}" in message
    assert "not BI-safe" in message
    assert snapshot(project.bi) == before


# ---------------------------------------------------------------------------------------------
# Atomicity
# ---------------------------------------------------------------------------------------------


def _fail_on_call(real, n: int):
    """Wrap `real` so that its n-th call raises, like a full disk or an I/O error would."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise duckdb.IOException("simulated failure: No space left on device")
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    ("function", "nth"),
    [
        ("_export_parquet", 2),
        ("_copy_into_serving", 2),
        ("_write_publish_info", 1),
        ("_write_json", 1),
    ],
)
def test_failure_mid_publish_leaves_previous_publish_untouched(
    project: Project, monkeypatch, function: str, nth: int
) -> None:
    project.publish()
    before = snapshot(project.bi)
    make_warehouse(project.db, customers=100)  # new data that must not leak out
    real = getattr(pub, function)
    if function == "_write_json":

        def failing(*args, **kwargs):
            raise OSError(28, "No space left on device")
    else:
        failing = _fail_on_call(real, nth)
    monkeypatch.setattr(pub, function, failing)

    with pytest.raises(pub.PublishError, match="previous publish .* is unchanged"):
        project.publish()

    assert snapshot(project.bi) == before  # byte-identical, and no temp files left
    assert count(project.bi / "segmentation.duckdb", "dim_customers") == 3000


def test_a_failed_first_publish_leaves_no_empty_folder(project: Project, tmp_path) -> None:
    # before, a first publish that failed (here: a column Power BI cannot read) left the empty
    # --bi folder it had made, which looks like a publish that wrote nothing
    with duckdb.connect(str(project.db)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE marts.customer_segments AS "
            "SELECT *, 1::HUGEINT AS bad FROM marts.customer_segments"
        )
    nested = tmp_path / "out" / "bi"

    with pytest.raises(pub.PublishError, match="not BI-safe"):
        pub.publish(project.db, nested, project.manifest, log=project.log.append, powerbi=False)

    assert not nested.parent.exists()
    # a folder that existed before is left in place, with what it held
    nested.mkdir(parents=True)
    (nested / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(pub.PublishError, match="not BI-safe"):
        pub.publish(project.db, nested, project.manifest, log=project.log.append, powerbi=False)
    assert sorted(p.name for p in nested.iterdir()) == ["keep.txt"]


def test_a_ctrl_c_while_files_move_into_place_waits_for_the_last_one(
    project: Project, monkeypatch
) -> None:
    # Ctrl-C (or a scheduler's SIGTERM) after the 3rd of the moves: before, the BI folder kept
    # 3 new files beside the old ones and the old manifest; now every file moves, then the
    # interrupt is delivered
    project.publish()
    make_warehouse(project.db, customers=100)
    real, calls = os.replace, {"n": 0}

    def interrupted(src, dst):
        real(src, dst)
        calls["n"] += 1
        if calls["n"] == 3:
            # to this thread, at once (os.kill to the process may reach another thread first)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(pub.os, "replace", interrupted)
    # Python's own Ctrl-C handler, whatever an earlier test in this worker left (PySpark's
    # SparkContext installs its own and keeps it after stop)
    earlier = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            project.publish()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, earlier)
    monkeypatch.setattr(pub.os, "replace", real)
    manifest = json.loads((project.bi / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["marts"]["dim_customers"]["rows"] == 100
    for name in manifest["marts"]:  # every Parquet file is the one the new manifest lists
        data = (project.bi / f"{name}.parquet").read_bytes()
        assert manifest["marts"][name]["sha256"] == hashlib.sha256(data).hexdigest(), name
    assert count(project.bi / "segmentation.duckdb", "dim_customers") == 100


def test_second_publisher_is_refused_while_one_is_running(project: Project) -> None:
    import fcntl

    project.bi.mkdir()
    fd = os.open(project.bi, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(pub.PublishError, match="another `segmentation publish`"):
            project.publish()
    finally:
        os.close(fd)
    assert list(project.bi.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Readers in other processes
# ---------------------------------------------------------------------------------------------

READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "SELECT count(*), sum(row_number) FROM dim_customers"
    print(*con.execute(query).fetchone(), flush=True)
    sys.stdin.readline()  # the test publishes new data meanwhile
    print(*con.execute(query).fetchone(), flush=True)
    """
)


def test_open_reader_does_not_block_publish_and_keeps_old_data(project: Project) -> None:
    project.publish()
    serving = project.bi / "segmentation.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().split() == ["3000", str(sum(range(3000)))]

        make_warehouse(project.db, customers=1234)
        project.publish()  # must not wait for, or fail on, the reader's open file

        with duckdb.connect(str(serving), read_only=True) as con:  # a new connection
            assert con.execute("SELECT count(*) FROM dim_customers").fetchone()[0] == 1234
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    assert out.split() == ["3000", str(sum(range(3000)))]  # the old reader still sees old data


def test_build_db_is_opened_read_only(project: Project) -> None:
    """Another process may read the build database while we publish (and vice versa)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER.replace("dim_customers", "marts.dim_customers"),
            str(project.db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().split()[0] == "3000"
        project.publish()
        holder.communicate("go\n", timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert count(project.bi / "segmentation.duckdb", "dim_customers") == 3000


# ---------------------------------------------------------------------------------------------
# Storage version: DuckDB 1.1 can read the serving database
# ---------------------------------------------------------------------------------------------


def test_serving_file_header_has_duckdb_1_1_storage_number(project: Project) -> None:
    """Cheap, offline proof: the main header stores the storage format number at byte 12
    (after an 8-byte checksum and the magic "DUCK"); DuckDB 1.0/1.1 read only number 64."""
    project.publish()
    header = (project.bi / "segmentation.duckdb").read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert struct.unpack("<Q", header[12:20])[0] == DUCKDB_1_1_STORAGE_NUMBER


def test_default_storage_version_is_the_oldest_that_duckdb_1_1_writes(tmp_path: Path) -> None:
    """Guard the default: v1.1.0 gives format 64, anything from v1.2.0 on does not."""
    con = duckdb.connect()
    for version, expected in [("v1.1.0", True), ("v1.2.0", False)]:
        path = tmp_path / f"{version}.duckdb"
        con.execute(f"ATTACH '{path}' AS x (STORAGE_VERSION '{version}')")
        con.execute("CREATE TABLE x.t AS SELECT 1 AS a")
        con.execute("DETACH x")
        number = struct.unpack("<Q", path.read_bytes()[12:20])[0]
        assert (number == DUCKDB_1_1_STORAGE_NUMBER) is expected
    assert pub.DEFAULT_STORAGE_VERSION == "v1.1.0"


def _old_duckdb_python() -> Path:
    """A cached virtualenv with duckdb==1.1.3 (built once per machine, atomically)."""
    tag = f"segmentation-duckdb-{OLD_DUCKDB}-py{sys.version_info[0]}{sys.version_info[1]}"
    final = Path(tempfile.gettempdir()) / tag
    python = final / "bin" / "python"
    if python.exists():
        return python
    building = final.with_name(f"{tag}.tmp-{os.getpid()}")
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(building)], check=True, capture_output=True
        )
        proc = subprocess.run(
            [
                str(building / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                f"duckdb=={OLD_DUCKDB}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.skip(
                f"cannot install duckdb=={OLD_DUCKDB} (no network or registry?): "
                f"{proc.stderr.strip().splitlines()[-1:]}; the header test still checks the "
                "storage format number"
            )
        try:
            os.rename(building, final)
        except OSError:
            pass  # another test run won the race; use its venv
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return python


OLD_READER = textwrap.dedent(
    """
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    out = {"version": duckdb.__version__}
    for table in sys.argv[2:]:
        out[table] = con.execute(sys.stdin.readline()).fetchall()
    print(json.dumps(out, default=str))
    """
)

CHECKSUM_SQL = {
    "dim_customers": (
        "SELECT count(*), count(DISTINCT customer_key), count(country),"
        " sum(is_returner::INTEGER), min(first_order_date)::VARCHAR,"
        " max(signed_up_at)::VARCHAR, sum(lifetime_value)::VARCHAR,"
        " round(sum(score), 6), sum(row_number) FROM dim_customers"
    ),
    "customer_segments": (
        "SELECT count(*), sum(segment_id), round(sum(distance), 6) FROM customer_segments"
    ),
    "publish_info": "SELECT count(*), min(mart), max(row_count) FROM publish_info",
}


def test_serving_db_is_readable_by_duckdb_1_1(project: Project) -> None:
    project.publish()
    serving = project.bi / "segmentation.duckdb"
    python = _old_duckdb_python()
    tables = list(CHECKSUM_SQL)

    proc = subprocess.run(
        [str(python), "-c", OLD_READER, str(serving), *tables],
        input="\n".join(CHECKSUM_SQL[t] for t in tables) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert proc.returncode == 0, proc.stderr
    old = json.loads(proc.stdout)
    assert old["version"] == OLD_DUCKDB
    with duckdb.connect(str(serving), read_only=True) as con:
        for table in tables:
            new = json.loads(json.dumps(con.execute(CHECKSUM_SQL[table]).fetchall(), default=str))
            assert old[table] == new, table
    assert old["dim_customers"][0][0] == 3000


def test_a_failed_folder_swap_puts_the_last_power_bi_project_back(tmp_path, monkeypatch):
    target = tmp_path / "bi" / "powerbi"
    target.mkdir(parents=True)
    (target / "Segmentation.pbip").write_text("last good")
    new = tmp_path / "staging" / "powerbi"
    new.mkdir(parents=True)
    (new / "Segmentation.pbip").write_text("new")
    real_replace = os.replace
    calls = []

    def failing_second_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(pub.os, "replace", failing_second_rename)
    with pytest.raises(pub.PublishError, match="disk full"):
        pub._swap_folder(new, target)
    assert (target / "Segmentation.pbip").read_text() == "last good"
    monkeypatch.setattr(pub.os, "replace", real_replace)
    pub._swap_folder(new, target)
    assert (target / "Segmentation.pbip").read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["powerbi"]

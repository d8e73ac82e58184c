"""One warehouse per data set (docs/data-quality.md): a warehouse records the raw folder it
was built from, and a build from another folder stops before any model, naming both folders
and the ways out; `make run RAW=<folder>` builds into a warehouse of its own (and, checked with
the same dry run, leaves out dbt's unit tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import FIXTURES, REPO

SELECT = ["run", "--select", "+stg_shop__products"]


def test_a_build_from_another_raw_folder_stops_and_says_why(tmp_path: Path, dbt_runner) -> None:
    shop_a, shop_b = tmp_path / "shop_a", tmp_path / "shop_b"
    shutil.copytree(FIXTURES / "tiny_csv", shop_a)
    shutil.copytree(FIXTURES / "tiny_csv", shop_b)
    db = tmp_path / "warehouse.duckdb"

    first = dbt_runner(SELECT, shop_a, db)
    assert first.returncode == 0, first.output
    assert first.query("select raw_folder from raw.built_from") == [(str(shop_a),)]

    other = dbt_runner(SELECT, shop_b, db)
    assert other.returncode != 0
    message = " ".join(other.output.split())
    assert f"holds the data set built from {shop_a}, not {shop_b}" in message
    assert "set SEGMENTATION_DB to a new file" in message
    assert "make reset-warehouse" in message

    # the same folder, written differently, is the same data set
    again = dbt_runner(SELECT, Path(f"{shop_a}/./"), db)
    assert again.returncode == 0, again.output


def dry_run(*args: str) -> str:
    """The commands `make run` would run, as a user's shell would run it: not inside
    `make test`, which exports its own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMENTATION_", "MAKE"))}
    env.pop("MFLAGS", None)
    proc = subprocess.run(
        ["make", "-n", "run", *args], cwd=REPO, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return proc.stdout


def test_make_run_leaves_out_dbt_unit_tests_unless_asked() -> None:
    """dbt's unit tests check the SQL on fixed inputs (make test runs them): the scheduled
    build skips them, as dbt recommends for production builds; UNIT_TESTS=1 keeps them."""
    build = [line for line in dry_run().splitlines() if "/dbt build" in line]
    assert len(build) == 1 and build[0].endswith("--exclude-resource-type unit_test"), build
    asked = [line for line in dry_run("UNIT_TESTS=1").splitlines() if "/dbt build" in line]
    assert len(asked) == 1 and "unit_test" not in asked[0], asked


def test_make_run_with_a_raw_folder_uses_a_warehouse_of_its_own(tmp_path: Path) -> None:
    assert f'--db "{REPO}/data/warehouses/my_shop.duckdb"' in dry_run(f"RAW={tmp_path}/my_shop")
    # a folder named like a schema (raw.duckdb would make `raw.<table>` ambiguous)
    shop = tmp_path / "shop"
    assert f'--db "{REPO}/data/warehouses/shop_raw.duckdb"' in dry_run(f"RAW={shop}/raw")
    assert f'--db "{REPO}/data/warehouse.duckdb"' in dry_run()
    chosen = dry_run(f"RAW={tmp_path}/my_shop", "SEGMENTATION_DB=/x/w.duckdb")
    assert '--db "/x/w.duckdb"' in chosen


def test_a_warehouse_named_like_a_schema_stops_with_the_fix(tmp_path: Path, dbt_runner) -> None:
    raw = tmp_path / "shop"
    shutil.copytree(FIXTURES / "tiny_csv", raw)
    run = dbt_runner(["run", "--select", "base_shop__orders"], raw, tmp_path / "raw.duckdb")
    assert run.returncode != 0
    text = " ".join(run.output.split())
    assert "is named like one of its schemas (raw)" in text and "SEGMENTATION_DB" in text

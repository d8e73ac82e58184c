"""The README's "Adding a feature" on a copy of the project: one SQL column in
models/intermediate/int_customer_features.sql plus its name in var segmentation_features
(dbt_project.yml) is all it takes for a new feature to reach the fit (k sweep, fit sample),
the centroids, the SQL scoring of every customer and the monthly trend scoring."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import duckdb
import pytest
from conftest import BIN, REPO

from segmentation.generate import generate

pytestmark = pytest.mark.e2e

FEATURES_MODEL = "models/intermediate/int_customer_features.sql"
NEW_COLUMN = (
    "        {{ safe_divide('orders_cancelled', 'orders_placed') }} as cancellation_rate,\n"
)
SKIP = shutil.ignore_patterns(".venv", ".git", "data", "target", "logs", "dbt_packages", "results")


def add_feature(project) -> None:
    """The two edits of the README, done by a script: the column, then the name."""
    model = project / FEATURES_MODEL
    text = model.read_text()
    anchor = "        category_breadth,\n"
    assert text.count(anchor) == 1, "the features block of int_customer_features changed"
    model.write_text(text.replace(anchor, anchor + NEW_COLUMN))

    config = project / "dbt_project.yml"
    text = config.read_text()
    pattern = re.compile(r"(segmentation_features: \[[^\]]*)\]")
    assert pattern.search(text), "var segmentation_features not found in dbt_project.yml"
    config.write_text(pattern.sub(r"\1, cancellation_rate]", text, count=1))


@pytest.fixture(scope="module")
def built_copy(tmp_path_factory):
    work = tmp_path_factory.mktemp("feature")
    project = work / "project"
    shutil.copytree(REPO, project, ignore=SKIP)
    add_feature(project)
    generate(customers=1500, seed=7, out_dir=work / "raw", truth_dir=work / "truth")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SEGMENTATION_DB": str(work / "w.duckdb"),
        "SEGMENTATION_TEMP_DIR": str(work / "tmp"),
    }
    dbt_vars = f'{{raw_path: "{work / "raw"}", segmentation_bootstrap: 5, segmentation_k_max: 5}}'
    proc = subprocess.run(
        [str(BIN / "dbt"), "build", "--vars", dbt_vars],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return work / "w.duckdb"


def query(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_the_new_feature_is_fitted(built_copy):
    sample = query(
        built_copy,
        "select count(*), count(distinct customer_id) from marts.segment_fit_sample "
        "where feature = 'cancellation_rate'",
    )
    assert sample[0][0] > 0 and sample[0][0] == sample[0][1], sample
    assert query(built_copy, "select count(*) from marts.segment_k_selection where is_chosen") == [
        (1,)
    ]


def test_the_new_feature_has_centroid_coordinates(built_copy):
    centroids = query(
        built_copy,
        "select count(*), count(distinct segment_id), count(centroid_std) "
        "from intermediate.int_segment_centroids_current where feature = 'cancellation_rate'",
    )
    k = query(built_copy, "select k from marts.segment_k_selection where is_chosen")[0][0]
    assert centroids == [(k, k, k)], centroids


def test_the_sql_scoring_uses_the_new_feature(built_copy):
    params = query(
        built_copy,
        "select mean__cancellation_rate, std__cancellation_rate, c1__cancellation_rate "
        "from intermediate.int_segment_scoring_params",
    )
    assert all(value is not None for value in params[0]), params
    scored = query(
        built_copy,
        "select (select count(*) from marts.customer_segments), "
        "(select count(*) from intermediate.int_customer_features_current)",
    )
    assert scored[0][0] == scored[0][1] > 0, scored
    # each customer's distance to its segment is the sum over the features, the new one
    # included: recomputed from the long standardised features and the centroids, it equals
    # customer_segments.distance, and without the new feature it would not
    check = query(
        built_copy,
        """
        with recomputed as (
            select
                z.customer_id,
                sum((z.z - c.centroid_std) * (z.z - c.centroid_std)) as with_new,
                sum(
                    case when z.feature <> 'cancellation_rate'
                        then (z.z - c.centroid_std) * (z.z - c.centroid_std) else 0 end
                ) as without_new
            from intermediate.int_customer_features_standardised as z
            inner join marts.customer_segments as s on z.customer_id = s.customer_id
            inner join intermediate.int_segment_centroids_current as c
                on c.segment_id = s.segment_id and c.feature = z.feature
            group by z.customer_id
        )
        select
            count(*),
            count(*) filter (where abs(r.with_new - s.distance) > 1e-6),
            count(*) filter (where abs(r.without_new - s.distance) > 1e-6)
        from recomputed as r
        inner join marts.customer_segments as s on r.customer_id = s.customer_id
        """,
    )
    total, off_with, off_without = check[0]
    assert total == scored[0][0], check
    assert off_with == 0, check
    assert off_without > 0, check


def test_the_monthly_trends_score_the_new_feature(built_copy):
    columns = query(
        built_copy,
        "select count(*) from information_schema.columns where table_schema = 'intermediate' "
        "and table_name = 'int_customer_features_monthly' and column_name = 'cancellation_rate'",
    )
    assert columns == [(1,)]
    assert query(built_copy, "select count(*) > 0 from intermediate.int_customer_segments_monthly")[
        0
    ][0]

"""The project reads the way dbt shows it: every dependency dbt records is visible in the
model's own file (a `ref`/`source` call or a `-- depends_on:` line), no macro hides a `ref`,
staging reads only sources and staging, every model has a primary-key test (the base and
quarantine models on the raw row identity), every source is declared in the staging folder
named after it, and no model names a warehouse table in its code (the rules of
dbt-project-evaluator this project follows; docs/project-evaluator.md); and every public
model and column is documented."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

pytestmark = pytest.mark.e2e

REF = re.compile(r"""\bref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
SOURCE = re.compile(r"""\bsource\(\s*['"]([A-Za-z0-9_]+)['"]\s*,\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, dbt_runner):
    work = tmp_path_factory.mktemp("parse")
    run = dbt_runner(["parse"], work / "raw", work / "w.duckdb")
    assert run.returncode == 0, run.output
    return json.loads((work / "target" / "manifest.json").read_text())


def _models(manifest):
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_dependency_is_written_in_the_models_own_file(manifest):
    hidden = {}
    for node in _models(manifest):
        text = (REPO / node["original_file_path"]).read_text()
        shown = {f"model.segmentation.{name}" for name in REF.findall(text)}
        shown |= {f"source.segmentation.{a}.{b}" for a, b in SOURCE.findall(text)}
        shown |= {f"seed.segmentation.{name}" for name in REF.findall(text)}
        if node["language"] == "python":
            shown |= {f"model.segmentation.{m}" for m in re.findall(r"dbt\.ref\(\"(\w+)\"\)", text)}
        missing = set(node["depends_on"]["nodes"]) - shown
        if missing:
            hidden[node["name"]] = sorted(missing)
    assert not hidden, hidden


def test_latest_build_from_names_a_parent_of_the_tested_model(manifest):
    # get_where_subquery reads a test's __latest_build__ from the model its meta
    # latest_build_from names; it must be a direct parent of the tested model, or the compile
    # of that test stops (found by a build, not by a parse, so checked here)
    nodes = manifest["nodes"]
    named, wrong = 0, {}
    for node in nodes.values():
        name = node["resource_type"] == "test" and node["config"]["meta"].get("latest_build_from")
        if not name:
            continue
        named += 1
        tested = nodes[node["attached_node"]]
        if f"model.segmentation.{name}" not in tested["depends_on"]["nodes"]:
            wrong[node["name"]] = name
    assert named >= 2  # the line view's key and customer tests
    assert not wrong, wrong


def test_rewritten_customers_tests_read_only_models_rewritten_by_customer(manifest):
    # a test configured `where: "__rewritten_customers__"` reads only the rows of the
    # customers the latest build rewrote (rewritten_customers_condition); that holds only for
    # a model that rewrites its rows by customer (an incremental model reading
    # int_customers_changed), for every model the test reads, or the compile stops
    nodes = manifest["nodes"]
    changed = "model.segmentation.int_customers_changed"
    by_customer = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and changed in node["depends_on"]["nodes"]
    }
    tests, wrong = [], {}
    for node in nodes.values():
        if node["resource_type"] != "test" or "__rewritten_customers__" not in (
            node["config"].get("where") or ""
        ):
            continue
        tests.append(node["name"])
        models = [p for p in node["depends_on"]["nodes"] if p.startswith("model.")]
        if not models or set(models) - by_customer:
            wrong[node["name"]] = sorted(set(models) - by_customer)
    assert len(tests) >= 4  # the order and return facts' keys and the lines' orders
    assert not wrong, wrong


def test_no_macro_calls_ref():
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "macros").rglob("*.sql")
        if REF.search(path.read_text())
    ]
    assert not offenders, offenders


def test_staging_reads_only_sources_and_staging(manifest):
    nodes = manifest["nodes"]
    later = {}
    for node in _models(manifest):
        if not node["original_file_path"].startswith("models/staging/"):
            continue
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source."):
                continue
            if not nodes[parent]["original_file_path"].startswith("models/staging/"):
                later.setdefault(node["name"], []).append(parent)
    assert not later, later


def test_no_model_is_a_short_macro_call(manifest):
    """A model file shows its steps: at least an import CTE and a final select."""
    short = [
        node["name"]
        for node in _models(manifest)
        if node["language"] == "sql" and " as (" not in node["raw_code"]
    ]
    assert not short, short


#: Models without a primary-key test, and why (docs/project-evaluator.md): two views that
#: each of their tables computes for its own snapshot set (a test would compute every set
#: again; the tables' keys are tested), and the raw row keys of every table (ids only, whose
#: key is the raw row identity each table's base model tests).
WITHOUT_PRIMARY_KEY_TEST = {"int_customer_metrics", "int_customer_features", "base_shop__row_keys"}


def primary_key_tested(manifest) -> set[str]:
    """Models with a primary-key test: dbt's unique and not_null on one column, or
    unique_combination_of_columns (the rule dbt-project-evaluator applies, with the var
    primary_key_test_macros in dbt_project.yml)."""
    columns: dict[tuple[str, str], set[str]] = {}
    tested = set()
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        model = node.get("attached_node") or ""
        if node["resource_type"] != "test" or not model.startswith("model."):
            continue
        if meta.get("name") == "unique_combination_of_columns":
            tested.add(model)
        elif meta.get("name") in {"unique", "not_null"}:
            columns.setdefault((model, node["column_name"]), set()).add(meta["name"])
    tested |= {model for (model, _), names in columns.items() if names == {"unique", "not_null"}}
    return tested


def test_every_model_has_a_primary_key_test(manifest):
    tested = primary_key_tested(manifest)
    models = {n["unique_id"]: n["name"] for n in _models(manifest)}
    missing = sorted(name for uid, name in models.items() if uid not in tested)
    assert missing == sorted(WITHOUT_PRIMARY_KEY_TEST)
    # the base and quarantine models (their key: the raw row identity) are among the tested
    layers = ("base_shop__", "quarantine_shop__")
    assert sum(name.startswith(layers) for name in models.values()) == 13


def test_every_source_is_declared_in_the_staging_folder_named_after_it(manifest):
    misplaced = {
        source["unique_id"]: source["original_file_path"]
        for source in manifest["sources"].values()
        if not source["original_file_path"].startswith(f"models/staging/{source['source_name']}/")
    }
    assert len(manifest["sources"]) >= 9
    assert not misplaced, misplaced


#: A warehouse table named in a model's code instead of through ref() or source()
SCHEMA_TABLE = re.compile(
    r"\b(raw|staging|intermediate|marts|reference|segmentation_state|main)\.[a-z_]+"
)


def test_no_model_names_a_warehouse_table_in_its_code(manifest):
    named = {}
    for node in _models(manifest):
        code = re.sub(r"\{#.*?#\}", "", node["raw_code"], flags=re.S)
        code = re.sub(r"(--|#)[^\n]*", "", code)  # SQL and Python comments
        found = [match.group(0) for match in SCHEMA_TABLE.finditer(code)]
        if found:
            named[node["name"]] = found
    assert not named, named


def test_test_yaml_lives_beside_the_models_it_tests(manifest):
    """Generic and unit tests are declared in a YAML file of the tested model's folder."""
    misplaced = []
    nodes = manifest["nodes"]
    for node in list(nodes.values()) + list(manifest.get("unit_tests", {}).values()):
        if node["resource_type"] not in {"test", "unit_test"}:
            continue
        if node["resource_type"] == "test" and not node.get("test_metadata"):
            continue  # singular tests live in tests/
        yaml_dir = node["original_file_path"].rsplit("/", 1)[0]
        attached = node.get("attached_node") or node.get("model")
        if not attached or not attached.startswith("model."):
            continue  # a test of a source lives with the source's YAML
        model_dir = nodes[attached]["original_file_path"].rsplit("/", 1)[0]
        if model_dir != yaml_dir:
            misplaced.append((node["name"], yaml_dir, model_dir))
    assert not misplaced, misplaced


#: Macros that render no SQL of their own: they return a value to Jinja, run statements at
#: run start, are adapter implementations reached through a dispatching macro that an
#: analysis calls (the DuckDB one is what `make lint` renders), or are hooks that decide
#: whether to run a statement written by a linted macro (delete_rows, ledger_replacement,
#: rewritten_customers_replacement, changed_or_moved_over_customers, rows_written_after).
NOT_SQL_MACROS = {
    "duplicate_key_rules", "find_raw_file", "generate_schema_name", "raw_column_types",
    "raw_path", "raw_type_class", "register_raw_tables", "check_warehouse_name",
    "default__check_warehouse_name", "duckdb__check_warehouse_name", "check_raw_file_ledger",
    "default__check_raw_file_ledger", "duckdb__check_raw_file_ledger", "list_raw_files",
    "duckdb__list_raw_files", "spark__list_raw_files", "describe_select", "build_raw_folder",
    "default__build_raw_folder", "duckdb__build_raw_folder",
    "default__describe_select", "spark__describe_select", "prepare_raw_file",
    "default__prepare_raw_file", "spark__prepare_raw_file", "spark_raw_file_table",
    "default__sql_text_literal", "spark__sql_text_literal", "spark__raw_reader",
    "spark__raw_source_row", "default__all_columns_except", "spark__all_columns_except",
    "duckdb__raw_reader", "duckdb__raw_source_row", "keeps_file_ledger",
    "default__keeps_file_ledger", "duckdb__keeps_file_ledger", "materialized_incrementally",
    "trim_pattern", "raw_text_column_names", "latest_build_relation", "spark_code_point_literal",
    "get_column_comment_sql",
    "default__integer_divide",
    "duckdb__integer_divide", "spark__integer_divide", "spark__parse_timestamp",
    "spark_datetime_patterns", "default__trim_characters", "spark__trim_characters",
    "default__materialized_step", "duckdb__materialized_step", "default__recursive_union",
    "spark__recursive_union", "spark__listagg", "default__iso_day_of_week",
    "spark__iso_day_of_week",
    "relation_exists",
    "segmentation_uses_sessions",
    "session_feature_names", "scoring_slots", "default__integer_series",
    "duckdb__integer_series", "spark__integer_series", "default__median", "duckdb__median",
    "default__parse_timestamp", "duckdb__parse_timestamp", "duckdb__safe_cast",
    "check_warehouse_source", "absolute_raw_folder", "drop_leftover_temp_tables",
    "default__sha256_hex", "duckdb__sha256_hex", "default__byte_length", "duckdb__byte_length",
    "default__not_materialized", "duckdb__not_materialized",
    "rollback_failed_refit", "report_quarantine_shares", "find_part_folder",
    "raw_table_is_batched", "find_batch_files", "raw_file_select", "raw_file_columns",
    "record_raw_files", "check_applied_files", "has_applied_files", "unapplied_raw_files",
    "record_applied_files", "delete_changed_customers", "changed_customers_only",
    "incremental_fingerprint", "ledger_models", "require_parents_selected", "ledger_matches",
    "require_run_started",
    "applies_new_files_only", "new_raw_files", "clear_unless_new_files_only",
    "customers_summed_again", "delete_customers", "daily_activity_sums", "last_build_started",
    "orders_rewritten_since_last_build", "delete_orders",
    "record_rewritten_customers", "rewritten_customers_condition", "node_relation",
}  # fmt: skip


def test_every_sql_macro_is_documented_and_linted(manifest):
    """Each macro has a description (macros/_macros.yml), and each one that renders SQL is
    called by a file under analyses/macros/, which `make lint` lints as rendered SQL."""
    macros = [
        m
        for m in manifest["macros"].values()
        if m["package_name"] == "segmentation" and not m["name"].startswith("test_")
    ]
    assert not [m["name"] for m in macros if not m["description"].strip()]
    analyses = "\n".join(p.read_text() for p in (REPO / "analyses" / "macros").rglob("*.sql"))
    unlinted = [
        m["name"]
        for m in macros
        if m["name"] not in NOT_SQL_MACROS and not re.search(rf"\b{m['name']}\(", analyses)
    ]
    assert not unlinted, unlinted


def test_segment_marts_do_not_reuse_a_customer_features_name(manifest):
    """A segment's pooled figure (units returned / units sold over the segment) is not the
    mean of its customers' feature of the same meaning, so it must not carry the feature's
    name: segment_feature_deviations reports the feature under that name."""
    columns = {
        n["name"]: set(n["columns"]) for n in _models(manifest) if n["columns"] and n["name"]
    }
    features = columns["customer_features"] - {"customer_id", "model_version", "as_of_date"}
    clashes = {
        mart: sorted(columns[mart] & features)
        for mart in ("segment_profiles", "segment_trends", "dim_segments")
        if columns[mart] & features
    }
    assert not clashes, clashes


def test_every_public_model_and_column_is_documented(manifest):
    """What Power BI and the analysts read is documented: every public model has a
    description, and every column it writes has one. A public SQL model enforces its
    contract, so its table has exactly the columns of its yml; a public Python model writes
    the columns of the package's list for it (segmentation.dbt_models), compared here."""
    from segmentation.dbt_models import (
        CENTROID_COLUMNS,
        K_SELECTION_MODEL_COLUMNS,
        STABILITY_COLUMNS,
    )

    python_columns = {
        "segment_centroids": CENTROID_COLUMNS,
        "segment_k_selection": K_SELECTION_MODEL_COLUMNS,
        "segment_stability": STABILITY_COLUMNS,
    }
    public = [n for n in _models(manifest) if n["access"] == "public"]
    assert len(public) >= 20, [n["name"] for n in public]
    gaps = {}
    for node in public:
        described = {c for c, v in node["columns"].items() if v["description"].strip()}
        if node["language"] == "python":
            written = set(python_columns[node["name"]])
            contract = True
        else:
            written = set(node["columns"])
            contract = node["config"]["contract"]["enforced"]
        gap = sorted(written - described)
        if not node["description"].strip():
            gap.insert(0, "(model)")
        if not contract:
            gap.insert(0, "(no enforced contract)")
        if gap:
            gaps[node["name"]] = gap
    assert not gaps, gaps


def test_the_dashboard_exposure_lists_every_mart_power_bi_loads(manifest):
    """The Power BI project loads every public mart (publish), so the dbt exposure of the
    dashboard depends on exactly those: `dbt ls --select +exposure:segmentation_dashboard`
    then shows all it reads (found by a review: 5 of 22 were missing)."""
    exposure = manifest["exposures"]["exposure.segmentation.segmentation_dashboard"]
    public = {n["unique_id"] for n in _models(manifest) if n["access"] == "public"}
    assert set(exposure["depends_on"]["nodes"]) == public


def test_the_parse_counts_in_docs_are_the_projects(manifest):
    """docs/incremental.md says what a reused parse saves with the counts dbt prints; a new
    macro or test makes them stale (found by a review: 687 macros against 692)."""
    text = " ".join((REPO / "docs" / "incremental.md").read_text().split())
    found = re.search(r"parsing (\d+) models, (\d+) data tests and (\d+) macros", text)
    assert found, "the sentence with the parse counts moved"
    nodes = manifest["nodes"].values()
    actual = (
        sum(n["resource_type"] == "model" for n in nodes),
        sum(n["resource_type"] == "test" for n in nodes),
        len(manifest["macros"]),
    )
    assert tuple(int(g) for g in found.groups()) == actual

"""The Power BI project that `segmentation publish` generates, checked offline.

A module fixture publishes a copy of the shared shop's build (shared_shop.py: 1,500 generated
customers) the way `make run` does.
Then, without Power BI:

* every PBIR/PBIP JSON file validates against Microsoft's published JSON schemas (the ones
  the project uses are in tests/powerbi_schemas, MIT licence; no network);
* the TMDL files parse with the strict reader, every table's columns and types match the
  Parquet file it loads, every DAX measure and M query parses (pbi-parsers);
* every relationship joins existing columns, its "one" side is unique in the published data
  and its "many" side has no orphans, and no two active filter paths connect the same tables;
* every field a visual uses exists in the model as the kind of field it is used as;
* MetricFlow's answers for every metric equal SQL written here on the marts, overall, by
  segment and by month; the report's headline SQL (generated from the same definitions)
  equals MetricFlow's; the hand-written DAX measures, computed the DAX way in SQL, equal the
  marts' own figures;
* a build with a renamed and an added mart column generates a project that follows it.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
from collections import defaultdict
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import BIN, REPO
from jsonschema.validators import validator_for
from pbi_parsers import dax as dax_parser
from pbi_parsers import pq as m_parser
from pbi_parsers.dax.main import remove_non_executing_tokens as dax_tokens
from pbi_parsers.pq.main import remove_non_executing_tokens as m_tokens
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7
from shared_shop import shared_shop

from segmentation.powerbi import metrics as metric_defs
from segmentation.powerbi.model import ModelError
from segmentation.powerbi.project import write_project
from segmentation.powerbi.tmdl import TmdlError, column_ref, read_definition, read_tmdl

pytestmark = pytest.mark.e2e

SCHEMAS = REPO / "tests" / "powerbi_schemas"
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/"
PROJECT = "Segmentation"


def publish(db: Path, bi: Path, manifest: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "segmentation", "publish", "--db", db, "--bi", bi, "--manifest", manifest, *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(warehouse, BI folder, dbt target folder) of a green build and its publish."""
    work = tmp_path_factory.mktemp("powerbi")
    db = shared_shop(work / "build").db
    bi = work / "bi"
    proc = publish(db, bi, db.parent / "target" / "manifest.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Power BI project: {bi / 'powerbi' / 'Segmentation.pbip'}" in proc.stdout
    return db, bi, db.parent / "target"


@pytest.fixture(scope="module")
def project_dir(published) -> Path:
    return published[1] / "powerbi"


@pytest.fixture(scope="module")
def tmdl(project_dir) -> dict:
    return read_definition(project_dir / f"{PROJECT}.SemanticModel" / "definition")


def tables(tmdl: dict) -> dict:
    return {
        obj.name: obj
        for path, objects in tmdl.items()
        if path.startswith("tables/")
        for obj in objects
        if obj.kind == "table"
    }


# ---------------------------------------------------------------------------------------------
# JSON files against Microsoft's schemas
# ---------------------------------------------------------------------------------------------


@cache
def _schema(url: str) -> dict:
    if not url.startswith(SCHEMA_URL):
        raise NoSuchResource(ref=url)
    path = SCHEMAS / url[len(SCHEMA_URL) :].split("#", 1)[0]
    if not path.is_file():
        raise NoSuchResource(ref=url)
    return json.loads(path.read_text(encoding="utf-8-sig"))


REGISTRY = Registry(
    retrieve=lambda url: Resource.from_contents(_schema(url), default_specification=DRAFT7)
)


def schema_errors(instance: dict) -> list[str]:
    schema = _schema(instance["$schema"])
    validator = validator_for(schema)(schema, registry=REGISTRY)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    ]


def json_files(project_dir: Path) -> list[Path]:
    return sorted(
        p for p in project_dir.rglob("*") if p.suffix in (".json", ".pbip", ".pbir", ".pbism")
    )


def test_project_has_the_pbip_layout(project_dir, published):
    _db, bi, _target = published
    model = project_dir / f"{PROJECT}.SemanticModel"
    report = project_dir / f"{PROJECT}.Report"
    for path in [
        project_dir / f"{PROJECT}.pbip",
        model / "definition.pbism",
        report / "definition.pbir",
        report / "definition" / "report.json",
        report / "definition" / "version.json",
        report / "definition" / "pages" / "pages.json",
    ] + [
        model / "definition" / f"{n}.tmdl"
        for n in ("database", "model", "relationships", "expressions")
    ]:
        assert path.is_file(), path
    marts = json.loads((bi / "_manifest.json").read_text())["marts"]
    table_files = {p.stem for p in (model / "definition" / "tables").glob("*.tmdl")}
    assert table_files == set(marts)
    pages = json.loads((report / "definition" / "pages" / "pages.json").read_text())
    assert pages["pageOrder"] == [
        "overview",
        "characteristics",
        "returns",
        "value",
        "trends",
        "migration",
        "choosing_k",
        "stability",
        "drilldown",
    ]
    for page in pages["pageOrder"]:
        visuals = list((report / "definition" / "pages" / page / "visuals").glob("*/visual.json"))
        assert visuals, f"page {page} has no visuals"


def test_every_json_file_validates_against_the_published_schemas(project_dir):
    files = json_files(project_dir)
    assert len(files) >= 50
    failures = {
        str(p.relative_to(project_dir)): schema_errors(json.loads(p.read_text())) for p in files
    }
    assert {k: v for k, v in failures.items() if v} == {}


def test_schema_validation_rejects_a_broken_visual(project_dir):
    """Negative control: the validator really checks (a visual without a width fails)."""
    visual_file = next(project_dir.rglob("visual.json"))
    broken = json.loads(visual_file.read_text())
    del broken["position"]["width"]
    assert any("width" in e for e in schema_errors(broken))
    broken = json.loads(visual_file.read_text())
    broken["visual"]["query"]["queryState"][
        "Values"
        if "Values" in broken["visual"]["query"]["queryState"]
        else next(iter(broken["visual"]["query"]["queryState"]))
    ]["projections"][0].pop("queryRef")
    assert schema_errors(broken)


# ---------------------------------------------------------------------------------------------
# TMDL, DAX and M
# ---------------------------------------------------------------------------------------------


# Parquet physical/logical type -> the TMDL dataType the column must have
def expected_data_type(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "int64"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_decimal(arrow_type):
        return "decimal"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "dateTime"
    raise AssertionError(f"unexpected Parquet type {arrow_type}")


def test_every_table_and_column_matches_the_parquet_file_it_reads(tmdl, published):
    _db, bi, _target = published
    found = tables(tmdl)
    assert set(found) == {p.stem for p in bi.glob("*.parquet")}
    for name, table in found.items():
        schema = pq.read_schema(bi / f"{name}.parquet")
        columns = table.of_kind("column")
        assert [c.name for c in columns] == schema.names, name
        for column in columns:
            assert column.properties["sourceColumn"] == column.name
            expected = expected_data_type(schema.field(column.name).type)
            assert column.properties["dataType"] == expected, f"{name}.{column.name}"
        (partition,) = table.of_kind("partition")
        source = partition.properties["source"]
        assert f'BiFolder & "/{name}.parquet"' in source
        assert source.count('{"') == len(columns)  # every column typed in Power Query
        assert table.description, f"{name} has no description"


def test_money_is_fixed_decimal_and_keys_are_text(tmdl):
    orders = tables(tmdl)["fct_orders"]
    assert orders.child("column", "net_amount").properties["dataType"] == "decimal"
    assert orders.child("column", "net_amount").properties["formatString"] == "#,0.00"
    assert orders.child("column", "customer_id").properties["dataType"] == "string"
    assert "isHidden" in orders.child("column", "customer_id").flags
    assert orders.child("column", "ordered_date").properties["formatString"] == "yyyy-mm-dd"


def test_the_date_table_is_marked_and_contiguous(tmdl, published):
    date = tables(tmdl)["dim_date"]
    assert date.properties["dataCategory"] == "Time"
    assert "isKey" in date.child("column", "date_day").flags
    with duckdb.connect() as con:
        days, distinct, span, first, last = con.execute(
            f"select count(*), count(distinct date_day), max(date_day) - min(date_day) + 1, "
            f"strftime(min(date_day), '%m-%d'), strftime(max(date_day), '%m-%d') "
            f"from '{published[1] / 'dim_date.parquet'}'"
        ).fetchall()[0]
    assert days == distinct == span
    # whole calendar years, as Power BI's time intelligence expects (it ran from the first
    # order's day to the analysis date)
    assert (first, last) == ("01-01", "12-31")


def strict_parse(parser, tokens, text: str) -> None:
    p = parser.Parser(tokens(parser.Lexer(text).scan()))
    ast = p.to_ast()
    if ast is None or p.remaining():
        raise ValueError(f"did not parse completely: {text!r}")


def test_only_additive_numbers_are_summed_by_default(tmdl):
    columns = {
        (table, column.name): column.properties
        for table, obj in tables(tmdl).items()
        for column in obj.of_kind("column")
    }
    summed = {key for key, props in columns.items() if props.get("summarizeBy") == "sum"}
    # money and counts of one fact row, and flows per month, add up
    for key in [
        ("fct_orders", "net_amount"),
        ("fct_order_items", "quantity"),
        ("fct_returns", "refund_amount"),
        ("segment_trends", "orders"),
        ("segment_trends", "net_sales"),
    ]:
        assert key in summed, key
    # before, these were summed by default: a price, a day count, a weekday number, a stock
    # of customers per month end, and counts per build or model version (a card showed
    # 1,020,411 customers in segment_trends for 56,491 customers)
    for key in [
        ("fct_order_items", "unit_price"),
        ("fct_returns", "days_to_return"),
        ("dim_date", "iso_day_of_week"),
        ("segment_trends", "customers"),
        ("segment_migration", "customers"),
        ("segmentation_runs", "customers_scored"),
        ("segmentation_run_segments", "customers"),
        ("segment_stability", "bootstrap_resamples"),
        ("segment_centroids", "sample_rows"),
        ("segment_attribute_lift", "customers_with_value"),
    ]:
        assert key not in summed, key
    assert columns[("dim_date", "iso_day_of_week")]["formatString"] == "0"


def expressions(tmdl: dict, kind: str) -> list:
    found = []
    for objects in tmdl.values():
        for obj in objects:
            found += [obj] if obj.kind == kind else [c for c in obj.children if c.kind == kind]
    return found


def test_every_dax_measure_and_m_query_parses(tmdl):
    measures = expressions(tmdl, "measure")
    assert len(measures) >= 20
    for measure in measures:
        strict_parse(dax_parser, dax_tokens, measure.expression)
        assert measure.properties["formatString"] and measure.description, measure.name
    queries = [p.properties["source"] for p in expressions(tmdl, "partition")]
    queries += [e.expression for e in expressions(tmdl, "expression")]
    for query in queries:
        strict_parse(m_parser, m_tokens, query)
    with pytest.raises((ValueError, AssertionError)):  # negative control
        strict_parse(dax_parser, dax_tokens, "SUM ( fct_orders[net_amount] ) )")


def test_the_documented_odbc_variant_parses():
    doc = (REPO / "docs" / "power-bi.md").read_text()
    section = doc[doc.index("## Reading the serving database instead") :]
    query = section.split("```")[1].strip()
    assert "Odbc.Query" in query and "access_mode=read_only" in query
    strict_parse(m_parser, m_tokens, query)


def test_strict_reader_rejects_what_desktop_would_not_read():
    good = (
        "table t\n\n\tcolumn c\n\t\tdataType: string\n\t\tsummarizeBy: none\n\t\tsourceColumn: c\n"
    )
    assert read_tmdl(good)[0].child("column", "c").properties["dataType"] == "string"
    for bad in [
        good.replace("\t\tdataType", "    dataType"),  # spaces for indentation
        good.replace("dataType: string", "dataType: text"),  # unknown type
        good.replace("summarizeBy: none", "sumarizeBy: none"),  # unknown property
        good.replace("\tcolumn c", "column c"),  # a column outside its table
        good + "\n\tcolumn c\n\t\tdataType: string\n\t\tsummarizeBy: none\n\t\tsourceColumn: c\n",
    ]:
        with pytest.raises(TmdlError):
            read_tmdl(bad)


# ---------------------------------------------------------------------------------------------
# Relationships and bindings
# ---------------------------------------------------------------------------------------------


def relationships(tmdl: dict) -> list[dict]:
    found = []
    for obj in tmdl["relationships.tmdl"]:
        props = obj.properties
        found.append(
            {
                "from": column_ref(props["fromColumn"]),
                "to": column_ref(props["toColumn"]),
                "active": props.get("isActive", "true") == "true",
                "both": props.get("crossFilteringBehavior") == "bothDirections",
                "one_to_one": props.get("fromCardinality") == "one",
            }
        )
    return found


def test_relationships_join_existing_unique_keys_without_orphans(tmdl, published):
    _db, bi, _target = published
    found = tables(tmdl)
    rels = relationships(tmdl)
    assert len(rels) >= 15
    with duckdb.connect() as con:
        for rel in rels:
            (from_table, from_col), (to_table, to_col) = rel["from"], rel["to"]
            found[from_table].child("column", from_col)
            found[to_table].child("column", to_col)
            one = f"'{bi / (to_table + '.parquet')}'"
            many = f"'{bi / (from_table + '.parquet')}'"
            rows, keys = con.execute(
                f"select count(*), count(distinct {to_col}) from {one}"
            ).fetchall()[0]
            assert rows == keys, f"{to_table}.{to_col} is not unique"
            orphans = con.execute(
                f"select count(*) from {many} where {from_col} is not null and {from_col} not in "
                f"(select {to_col} from {one})"
            ).fetchall()[0][0]
            assert orphans == 0, rel
            if rel["one_to_one"]:
                n, d = con.execute(
                    f"select count(*), count(distinct {from_col}) from {many}"
                ).fetchall()[0]
                assert n == d and rel["both"], rel


def test_no_two_active_filter_paths_connect_the_same_tables(tmdl):
    """Power BI refuses an ambiguous model: from any table, every other table is reached by at
    most one path of active relationships in their filter direction."""
    edges = defaultdict(set)
    for rel in relationships(tmdl):
        if not rel["active"]:
            continue
        many, one = rel["from"][0], rel["to"][0]
        edges[one].add(many)  # the dimension filters the fact
        if rel["both"]:
            edges[many].add(one)

    def paths(start, node, seen):
        count = defaultdict(int)
        for nxt in edges[node]:
            if nxt in seen:
                continue
            count[nxt] += 1
            for target, n in paths(start, nxt, seen | {nxt}).items():
                count[target] += n
        return count

    for start in list(edges):
        ambiguous = {t: n for t, n in paths(start, start, {start}).items() if n > 1}
        assert not ambiguous, f"{start} reaches {ambiguous} by more than one path"


def visual_fields(node) -> list[tuple[str, str, str]]:
    found = []
    if isinstance(node, dict):
        for kind in ("Column", "Measure"):
            if kind in node and isinstance(node[kind], dict) and "Property" in node[kind]:
                entity = node[kind]["Expression"]["SourceRef"]["Entity"]
                found.append((kind, entity, node[kind]["Property"]))
        for value in node.values():
            found += visual_fields(value)
    elif isinstance(node, list):
        for value in node:
            found += visual_fields(value)
    return found


def test_every_field_a_visual_uses_exists_in_the_model(project_dir, tmdl):
    found = tables(tmdl)
    columns = {(t, c.name) for t, table in found.items() for c in table.of_kind("column")}
    measures = {(t, m.name) for t, table in found.items() for m in table.of_kind("measure")}
    used = set()
    for path in project_dir.rglob("visual.json"):
        for kind, entity, prop in visual_fields(json.loads(path.read_text())):
            known = columns if kind == "Column" else measures
            assert (entity, prop) in known, f"{path.parent.name}: {kind} {entity}[{prop}]"
            used.add(kind)
    assert used == {"Column", "Measure"}


# ---------------------------------------------------------------------------------------------
# The semantic layer: MetricFlow, SQL on the marts, the generated DAX and headline SQL
# ---------------------------------------------------------------------------------------------

# Each metric written here in plain SQL on the marts (not generated): (mart, time column,
# aggregate, row filter). A metric's filter applies to rows before grouping, so a group with
# no matching rows has no value. Derived and ratio metrics are combined from these below.
DIRECT = {
    "net_sales": ("fct_orders", "ordered_date", "sum(f.net_amount)", "f.is_purchase"),
    "refunds": ("fct_returns", "returned_date", "sum(f.refund_amount)", "true"),
    "orders": ("fct_orders", "ordered_date", "count(f.order_id)", "f.is_purchase"),
    "orders_with_return": (
        "fct_orders",
        "ordered_date",
        "count(f.order_id)",
        "f.is_purchase and f.has_return",
    ),
    "units_sold": ("fct_orders", "ordered_date", "sum(f.units)", "f.is_purchase"),
    "units_returned": ("fct_returns", "returned_date", "sum(f.quantity)", "true"),
    "customers": ("dim_customers", "first_order_date", "count(distinct f.customer_id)", "true"),
    "buyers": ("dim_customers", "first_order_date", "count(distinct f.customer_id)", "f.is_buyer"),
}
RATIOS = {
    "average_order_value": ("net_sales", "orders"),
    "return_rate_units": ("units_returned", "units_sold"),
    "return_rate_orders": ("orders_with_return", "orders"),
    "return_rate_value": ("refunds", "net_sales"),
}
GROUPINGS = {
    "overall": (None, "null"),
    "segment": ("customer__segment__segment_name", "s.segment_name"),
    "month": ("metric_time__month", "date_trunc('month', {time})::timestamp"),
}


def direct_values(con, metric: str, grouping: str) -> dict:
    if metric == "revenue":
        net = direct_values(con, "net_sales", grouping)
        refunds = direct_values(con, "refunds", grouping)
        return {
            k: None if net.get(k) is None else net[k] - (refunds.get(k) or 0)
            for k in set(net) | set(refunds)
        }
    if metric in RATIOS:
        num, den = (direct_values(con, m, grouping) for m in RATIOS[metric])
        return {
            k: None if num.get(k) is None or not den.get(k) else num[k] / den[k]
            for k in set(num) | set(den)
        }
    mart, time, aggregate, where = DIRECT[metric]
    key = GROUPINGS[grouping][1].format(time=f"f.{time}")
    sql = (
        f"select {key} as k, {aggregate} from marts.{mart} f "
        "left join marts.customer_segments cs on cs.customer_id = f.customer_id "
        f"left join marts.dim_segments s on s.segment_id = cs.segment_id where {where} group by all"
    )
    rows = con.execute(sql).fetchall()
    values = {k: (float(v) if v is not None else None) for k, v in rows}
    if metric == "refunds":  # fill_nulls_with: 0
        values = {k: v or 0.0 for k, v in values.items()}
    return values


@pytest.fixture(scope="module")
def metricflow(published):
    from metricflow.data_table.mf_table import MetricFlowDataTable
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow.protocols.sql_client import SqlEngine
    from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    db, _bi, target = published
    text = (target / "semantic_manifest.json").read_text()
    con = duckdb.connect(str(db), read_only=True)

    class Client:  # MetricFlow's SqlClient protocol over a read-only DuckDB connection
        sql_engine_type = SqlEngine.DUCKDB
        sql_plan_renderer = DuckDbSqlPlanRenderer()

        def query(self, stmt, sql_bind_parameter_set=None):
            cur = con.execute(stmt)
            names = [d[0] for d in cur.description]
            return MetricFlowDataTable.create_from_rows(column_names=names, rows=cur.fetchall())

        def execute(self, stmt, sql_bind_parameter_set=None):
            con.execute(stmt)

        def dry_run(self, stmt, sql_bind_parameter_set=None):
            con.execute("EXPLAIN " + stmt)

        def close(self):
            con.close()

        def render_bind_parameter_key(self, key):
            return f"${key}"

    manifest = parse_manifest_from_dbt_generated_manifest(text)
    engine = MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=Client()
    )

    def ask(metric: str, group_by: str | None) -> dict:
        request = MetricFlowQueryRequest.create(
            metric_names=[metric], group_by_names=[group_by] if group_by else []
        )
        table = engine.query(request).result_df
        rows = table.rows
        if group_by is None:
            return {None: rows[0][0]}
        return {row[0]: row[1] for row in rows}

    yield ask, con
    con.close()


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


@pytest.mark.parametrize("grouping", list(GROUPINGS))
def test_metricflow_answers_equal_sql_on_the_marts(metricflow, published, grouping):
    ask, con = metricflow
    semantic = json.loads((published[2] / "semantic_manifest.json").read_text())
    names = [m["name"] for m in semantic["metrics"]]
    assert set(names) == set(DIRECT) | set(RATIOS) | {"revenue"}
    for name in names:
        got = ask(name, GROUPINGS[grouping][0])
        want = direct_values(con, name, grouping)
        if grouping == "month":
            got = {k.replace(tzinfo=None) if k is not None else None: v for k, v in got.items()}
        got = {k: v for k, v in got.items() if v is not None}
        want = {k: v for k, v in want.items() if v is not None}
        assert set(got) == set(want), (name, grouping)
        bad = {k: (got[k], want[k]) for k in want if not close(got[k], want[k])}
        assert not bad, (name, grouping, bad)


def test_headline_sql_generated_from_the_metrics_equals_metricflow(metricflow, published):
    ask, con = metricflow
    semantic = json.loads((published[2] / "semantic_manifest.json").read_text())
    metrics = metric_defs.load_metrics(semantic)
    cur = con.execute(metric_defs.headline_sql(metrics, lambda schema, table: f"{schema}.{table}"))
    headline = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
    assert set(headline) == set(metrics)
    for name, value in headline.items():
        assert close(value, ask(name, None)[None]), name


def test_hand_written_dax_computed_in_sql_equals_the_marts(published):
    """The DAX measures that are not metrics, computed the DAX way over the published files,
    give the figures the marts state themselves."""
    _db, bi, _target = published
    with duckdb.connect() as con:
        for table in bi.glob("*.parquet"):
            con.execute(f"create view {table.stem} as select * from '{table}'")
        value = {h.name: con.execute(h.sql).fetchall() for h in metric_defs.HAND_MEASURES}
        run = con.execute(
            "select model_version, k, mean_stability, max_psi, cluster_structure "
            "from segmentation_runs order by run_started_at desc limit 1"
        ).fetchall()[0]
        stability = con.execute(
            "select avg(mean_jaccard), max(mean_jaccard) from segment_stability "
            "where model_version = (select max(model_version) from segment_stability)"
        ).fetchall()[0]
        share = dict(
            con.execute("select segment_id, customer_share from segment_profiles").fetchall()
        )
        segmented = con.execute("select count(*) from customer_segments").fetchall()[0][0]
        latest_moves = con.execute(
            "select from_segment_name, to_segment_name, customers from segment_migration "
            "where to_month_end = (select max(month_end_date) from segment_trends)"
        ).fetchall()
        months = con.execute(
            "select count(distinct to_month_end) from segment_migration"
        ).fetchall()
    assert value["Latest Model Version"][0][0] == run[0]
    assert value["Chosen k"][0][0] == run[1]
    assert close(value["Mean Stability"][0][0], run[2])
    assert close(value["Mean Stability"][0][0], stability[0])
    assert close(value["Mean Jaccard (latest model)"][0][0], stability[1])
    assert close(value["Max Feature Drift (PSI)"][0][0], run[3])
    assert value["Cluster Structure"][0][0] == run[4]
    assert value["Segment Customers"][0][0] == segmented
    # the migration matrix shows one month end, the latest (before: the sum of all 23)
    assert months[0][0] > 1
    assert sorted(value["Migration Customers"]) == sorted(latest_moves)
    shares = dict(value["Segment Share"])
    assert set(shares) == set(share)
    assert all(math.isclose(shares[s], share[s], abs_tol=1e-6) for s in share)


def test_the_html_report_shows_the_headline_metrics_from_the_same_definitions(
    metricflow, published, tmp_path
):
    from segmentation.report import write_report

    ask, _con = metricflow
    db, _bi, target = published
    out = tmp_path / "report.html"
    write_report(db, out, target / "semantic_manifest.json")
    page = out.read_text()
    start = page.index("Headline metrics (dbt semantic layer)")
    table = page[start : page.index("</table>", start)]
    assert f"<td>Net Revenue</td><td>{ask('revenue', None)[None]:,.2f}</td>" in table
    assert f"<td>Buyers</td><td>{int(ask('buyers', None)[None]):,}</td>" in table
    assert f"<td>Return Rate (units)</td><td>{ask('return_rate_units', None)[None]:.1%}</td>" in (
        table
    )
    write_report(db, out, tmp_path / "missing.json")
    assert "Not shown: cannot read dbt&#x27;s semantic manifest" in out.read_text()


def test_generated_measures_carry_the_metric_definitions(tmdl, published):
    semantic = json.loads((published[2] / "semantic_manifest.json").read_text())
    metrics = metric_defs.load_metrics(semantic)
    by_name = {m.name: m for m in expressions(tmdl, "measure")}
    for metric in metrics.values():
        measure = by_name[metric.label]
        assert f"dbt metric `{metric.name}`" in measure.description
        assert measure.properties["formatString"] == metric.format_string
    assert by_name["Net Sales"].expression == (
        "CALCULATE ( SUM ( fct_orders[net_amount] ), "
        "KEEPFILTERS ( fct_orders[is_purchase] == TRUE () ) )"
    )
    # null, not -refunds, where there are no sales (as MetricFlow); refunds fill with 0. Blank
    # where an order's or a return's own column filters the visual: such a filter reaches one
    # input only (before: -5.4 M of net revenue for the marketplace channel, a 226% return
    # rate by value; MetricFlow refuses the question)
    cross = "IF ( ISFILTERED ( fct_orders ) || ISFILTERED ( fct_returns ), BLANK (), "
    assert by_name["Net Revenue"].expression == (
        cross + "IF ( ISBLANK ( [Net Sales] ), BLANK (), [Net Sales] - [Refunds] ) )"
    )
    assert by_name["Refunds"].expression == "COALESCE ( SUM ( fct_returns[refund_amount] ), 0 )"
    assert by_name["Return Rate (units)"].expression == (
        cross + "DIVIDE ( [Units Returned], [Units Sold] ) )"
    )
    assert (
        by_name["Return Rate (value)"].expression == cross + "DIVIDE ( [Refunds], [Net Sales] ) )"
    )
    assert "filters it directly" in by_name["Return Rate (value)"].description
    # inputs of one table: any filter reaches both
    assert by_name["Return Rate (orders)"].expression == (
        "DIVIDE ( [Orders With Return], [Order Count] )"
    )
    # customers follow a date filter through their first order date (MetricFlow's metric_time
    # for them); before, every month showed every customer
    count = "DISTINCTCOUNTNOBLANK ( dim_customers[customer_id] )"
    assert by_name["Customer Count"].expression == (
        f"IF ( ISCROSSFILTERED ( dim_date ), CALCULATE ( {count}, TREATAS ( VALUES ( "
        f"dim_date[date_day] ), dim_customers[first_order_date] ) ), {count} )"
    )


def test_an_untranslatable_metric_stops_with_its_name(published):
    semantic = json.loads((published[2] / "semantic_manifest.json").read_text())
    broken = copy.deepcopy(semantic)
    metric = next(m for m in broken["metrics"] if m["name"] == "net_sales")
    metric["filter"]["where_filters"][0]["where_sql_template"] = (
        "{{ Dimension('order__sales_channel') }} = 'web'"
    )
    with pytest.raises(metric_defs.MetricError, match="net_sales"):
        metric_defs.load_metrics(broken)


# ---------------------------------------------------------------------------------------------
# Nothing hand-kept: a changed mart changes the project
# ---------------------------------------------------------------------------------------------


def test_a_renamed_and_an_added_column_reach_the_project(published, tmp_path):
    db, bi, target = published
    changed = tmp_path / "warehouse.duckdb"
    shutil.copy(db, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("alter table marts.dim_customers rename column gender to sex")
        con.execute(
            "alter table marts.dim_customers add column loyalty_tier varchar default 'gold'"
        )
    (tmp_path / "target").mkdir()
    for name in ("manifest.json", "semantic_manifest.json"):
        shutil.copy(target / name, tmp_path / "target" / name)
    new_bi = tmp_path / "bi"
    proc = publish(
        changed, new_bi, tmp_path / "target" / "manifest.json", "--powerbi-folder", r"C:\data\bi"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the documented column the table lacks is named, not dropped in silence
    assert "marts.dim_customers lacks documented column(s) gender" in proc.stdout + proc.stderr
    definition = new_bi / "powerbi" / f"{PROJECT}.SemanticModel" / "definition"
    customers = tables(read_definition(definition))["dim_customers"]
    names = [c.name for c in customers.of_kind("column")]
    assert "sex" in names and "gender" not in names
    assert names[-1] == "loyalty_tier"
    assert names == pq.read_schema(new_bi / "dim_customers.parquet").names
    assert customers.child("column", "loyalty_tier").properties["dataType"] == "string"
    (parameter,) = read_definition(definition)["expressions.tmdl"]
    assert parameter.name == "BiFolder" and parameter.expression.startswith('"C:\\data\\bi" meta [')


def manifests(published) -> tuple[dict, dict, dict]:
    _db, bi, target = published
    return (
        json.loads((bi / "_manifest.json").read_text()),
        json.loads((target / "manifest.json").read_text()),
        json.loads((target / "semantic_manifest.json").read_text()),
    )


def test_a_column_a_measure_reads_must_exist(published, tmp_path):
    bi_manifest, dbt_manifest, semantic = manifests(published)
    for column in bi_manifest["marts"]["fct_orders"]["columns"]:
        if column["name"] == "net_amount":
            column["name"] = "net_value"
    with pytest.raises(ModelError, match=r"measure 'Net Sales': column fct_orders\[net_amount\]"):
        write_project(tmp_path, bi_manifest, dbt_manifest, semantic, "x")


def test_a_measure_named_like_a_column_stops_with_both_names(published, tmp_path):
    bi_manifest, dbt_manifest, semantic = manifests(published)
    next(m for m in semantic["metrics"] if m["name"] == "revenue")["label"] = "Revenue"
    with pytest.raises(ModelError, match=r"'Revenue' and column segment_profiles\[revenue\]"):
        write_project(tmp_path, bi_manifest, dbt_manifest, semantic, "x")


def test_keys_that_differ_only_by_case_stop_the_publish(published, tmp_path):
    # DuckDB and dbt's unique test tell 'CUST-1' from 'cust-1'; Power BI does not, and would
    # refuse the one side of the relationship on refresh: the publish stops and names them
    db, bi, target = published
    changed = tmp_path / "warehouse.duckdb"
    shutil.copy(db, changed)
    with duckdb.connect(str(changed)) as con:
        first, second = con.execute(
            "select customer_id from marts.dim_customers order by customer_id limit 2"
        ).fetchall()
        assert first[0] != first[0].lower()
        con.execute(
            "update marts.dim_customers set customer_id = ? where customer_id = ?",
            [first[0].lower(), second[0]],
        )
    proc = publish(changed, tmp_path / "bi", target / "manifest.json")
    assert proc.returncode == 1
    assert "Power BI compares text keys ignoring case" in proc.stderr
    assert f"dim_customers.customer_id: {first[0]!r} and {first[0].lower()!r}" in proc.stderr


def test_a_renamed_column_a_visual_uses_stops_the_publish_and_keeps_the_last_one(
    published, tmp_path
):
    db, bi, target = published
    changed = tmp_path / "warehouse.duckdb"
    shutil.copy(db, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("alter table marts.segment_trends rename column net_sales to sales")
    last = tmp_path / "bi"
    shutil.copytree(bi, last)
    before = {p: p.read_bytes() for p in last.rglob("*") if p.is_file()}
    proc = publish(changed, last, target / "manifest.json")
    assert proc.returncode == 1
    assert "Trends by month" in proc.stderr and "segment_trends[net_sales]" in proc.stderr
    assert "previous publish" in proc.stderr
    assert before == {p: p.read_bytes() for p in last.rglob("*") if p.is_file()}

"""Power BI measures and SQL headline figures generated from dbt's semantic layer.

The business metrics are defined once, in ``models/marts/_semantic_layer.yml``; dbt writes
them to ``target/semantic_manifest.json``. This module translates each metric into

* a DAX measure (``Metric.dax``) on the table of the mart its measure aggregates, and
* a SQL expression of its overall value (``headline_sql``), which the HTML report shows,

so neither is a second definition. The translatable subset is small on purpose (see the
YAML's header); a metric outside it stops the publish with a message rather than producing
a measure that means something else.

Model-health measures (chosen k, stability, drift, the cluster-structure verdict, segment
share) are not sums over a fact table, so they are not metrics in the semantic layer; they are
written in DAX here (``HAND_MEASURES``), each with the SQL that computes the same thing the DAX
way, and the tests check that SQL against the marts' own figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segmentation.powerbi.model import Measure

_FILTER_TERM = re.compile(r"^(not\s+)?\{\{\s*Dimension\('([a-z_]+)__([a-z_]+)'\)\s*\}\}$")
_DERIVED_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[-+()]|\d+(?:\.\d+)?)")
_AGGREGATIONS = {
    # MetricFlow agg -> (DAX, SQL); count and count_distinct skip nulls in both
    "sum": ("SUM", "sum"),
    "count": ("COUNT", "count"),
    "count_distinct": ("DISTINCTCOUNTNOBLANK", "count(distinct {})"),
}


class MetricError(ValueError):
    """A metric the generator cannot translate; the message names it and says why."""


@dataclass(frozen=True)
class Aggregate:
    """A measure of a semantic model with a metric's filter: the leaf of every metric."""

    table: str  # the mart (alias of the semantic model's relation)
    schema: str
    agg: str
    column: str
    filters: tuple[tuple[str, bool], ...]  # (boolean column, required value)
    fill_nulls_with: float | None
    time_column: str | None = None  # the semantic model's agg_time_dimension, as a column

    def dax(self) -> str:
        function = _AGGREGATIONS[self.agg][0]
        value = f"{function} ( {self.table}[{self.column}] )"
        if self.filters:
            # == is strict: a blank is neither TRUE nor FALSE, as a null is in SQL
            conditions = ", ".join(
                f"KEEPFILTERS ( {self.table}[{col}] == {'TRUE' if wanted else 'FALSE'} () )"
                for col, wanted in self.filters
            )
            value = f"CALCULATE ( {value}, {conditions} )"
        if self.fill_nulls_with is not None:
            value = f"COALESCE ( {value}, {self.fill_nulls_with:g} )"
        return value

    def sql(self, relation: Callable[[str, str], str]) -> str:
        sql_agg = _AGGREGATIONS[self.agg][1]
        expr = sql_agg.format(self.column) if "{}" in sql_agg else f"{sql_agg}({self.column})"
        where = " and ".join(col if value else f"not {col}" for col, value in self.filters)
        query = f"select {expr} from {relation(self.schema, self.table)}"
        if where:
            query += f" where {where}"
        value = f"({query})"
        if self.fill_nulls_with is not None:
            value = f"coalesce({value}, {self.fill_nulls_with})"
        return value


@dataclass
class Metric:
    name: str
    label: str
    description: str
    kind: str
    table: str
    format_string: str
    folder: str
    aggregate: Aggregate | None = None
    numerator: str | None = None
    denominator: str | None = None
    expr_tokens: tuple[str, ...] = ()
    unfilled_inputs: tuple[str, ...] = ()  # derived: inputs that stay null (no fill_nulls_with)
    # ratio/derived: the tables of its inputs when they are more than one (cross_table_guard)
    input_tables: tuple[str, ...] = ()
    # simple: (date table, its key) when the metric's table has no relationship to the date
    # table, so a date filter reaches it through its time column (link_dates)
    date_bridge: tuple[str, str] | None = None

    def dax(self, labels: dict[str, str]) -> str:
        if self.kind == "simple":
            return self._dated(self.aggregate.dax())
        if self.kind == "ratio":
            expression = f"DIVIDE ( [{labels[self.numerator]}], [{labels[self.denominator]}] )"
            return self._cross_table_guard(expression)
        expression = " ".join(f"[{labels[t]}]" if t in labels else t for t in self.expr_tokens)
        # MetricFlow gives null when an input without fill_nulls_with is null; DAX would treat
        # the blank as 0 in arithmetic, so guard it.
        guards = " || ".join(f"ISBLANK ( [{labels[name]}] )" for name in self.unfilled_inputs)
        if guards:
            expression = f"IF ( {guards}, BLANK (), {expression} )"
        return self._cross_table_guard(expression)

    def _cross_table_guard(self, expression: str) -> str:
        """Blank when a column of one of its input tables filters the visual directly: such a
        filter (an order's channel, a return's reason) reaches that table's input only, and
        the result would mix a filtered and an unfiltered figure (-5 M of net revenue, a 226%
        return rate). MetricFlow refuses that question; the measure says nothing rather than
        something wrong. Filters through a shared dimension (customers, dates, segments)
        reach every input and keep the figure."""
        if not self.input_tables:
            return expression
        guards = " || ".join(f"ISFILTERED ( {table} )" for table in self.input_tables)
        return f"IF ( {guards}, BLANK (), {expression} )"

    def _dated(self, value: str) -> str:
        """A date filter applied through the metric's time column (MetricFlow's metric_time)
        on a table no relationship links to the date table (customers by first order date)."""
        if self.date_bridge is None:
            return value
        date_table, date_key = self.date_bridge
        column = f"{self.aggregate.table}[{self.aggregate.time_column}]"
        return (
            f"IF ( ISCROSSFILTERED ( {date_table} ), CALCULATE ( {value}, TREATAS ( VALUES ( "
            f"{date_table}[{date_key}] ), {column} ) ), {value} )"
        )

    def sql(self, metrics: dict[str, Metric], relation: Callable[[str, str], str]) -> str:
        if self.kind == "simple":
            return self.aggregate.sql(relation)
        if self.kind == "ratio":
            num = metrics[self.numerator].sql(metrics, relation)
            den = metrics[self.denominator].sql(metrics, relation)
            return f"(cast({num} as double) / nullif(cast({den} as double), 0))"
        return (
            "("
            + " ".join(
                metrics[t].sql(metrics, relation) if t in metrics else t for t in self.expr_tokens
            )
            + ")"
        )

    def measure(self, labels: dict[str, str]) -> Measure:
        description = self.description
        if self.input_tables:
            description += (
                f" Blank where a column of {' or '.join(self.input_tables)} filters it directly "
                "(such a filter reaches only some of its inputs)."
            )
        return Measure(
            name=self.label,
            expression=self.dax(labels),
            format_string=self.format_string,
            description=f"{description} (dbt metric `{self.name}`)",
            display_folder=self.folder,
            table=self.table,
        )


def _filters(metric_name: str, where: list[dict], primary_entity: str) -> list[tuple[str, bool]]:
    terms = []
    for clause in where:
        for term in re.split(r"\s+and\s+", clause["where_sql_template"].strip()):
            match = _FILTER_TERM.match(term.strip())
            if not match or match.group(2) != primary_entity:
                raise MetricError(
                    f"metric {metric_name}: cannot translate the filter {term.strip()!r} to DAX; "
                    "use and-joined boolean dimensions of the measure's own semantic model "
                    f"({primary_entity}__...), optionally with not"
                )
            terms.append((match.group(3), match.group(1) is None))
    return terms


def load_metrics(semantic_manifest: dict) -> dict[str, Metric]:
    """Every metric of the semantic manifest, translated; raises MetricError if one is not."""
    measures = {}
    for model in semantic_manifest["semantic_models"]:
        primary = next((e["name"] for e in model["entities"] if e["type"] == "primary"), None)
        dimensions = {d["name"]: d for d in model["dimensions"]}
        for measure in model["measures"]:
            measures[measure["name"]] = (model, measure, primary, dimensions)
    metrics: dict[str, Metric] = {}
    raw = {m["name"]: m for m in semantic_manifest["metrics"]}
    for name, spec in raw.items():
        meta = (spec.get("config") or {}).get("meta") or {}
        if "powerbi_format" not in meta or "powerbi_folder" not in meta:
            raise MetricError(f"metric {name}: config.meta needs powerbi_format and powerbi_folder")
        params = spec["type_params"]
        common = {
            "name": name,
            "label": spec["label"],
            "description": " ".join((spec.get("description") or "").split()),
            "kind": spec["type"],
            "format_string": meta["powerbi_format"],
            "folder": meta["powerbi_folder"],
        }
        if spec["type"] == "simple":
            measure_ref = params["measure"]
            model, measure, primary, dimensions = measures[measure_ref["name"]]
            if measure["agg"] not in _AGGREGATIONS:
                raise MetricError(f"metric {name}: aggregation {measure['agg']} is not translated")
            column = measure.get("expr") or measure["name"]
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
                raise MetricError(f"metric {name}: measure expr must be a column, not {column!r}")
            where = list(((spec.get("filter") or {}).get("where_filters")) or [])
            where += list(((measure_ref.get("filter") or {}).get("where_filters")) or [])
            filters = _filters(name, where, primary)
            for col, _ in filters:
                if (dimensions.get(col) or {}).get("expr"):
                    raise MetricError(f"metric {name}: dimension {col} has an expr")
            relation = model["node_relation"]
            metrics[name] = Metric(
                table=relation["alias"],
                aggregate=Aggregate(
                    table=relation["alias"],
                    schema=relation["schema_name"],
                    agg=measure["agg"],
                    column=column,
                    filters=tuple(filters),
                    fill_nulls_with=measure_ref.get("fill_nulls_with"),
                    time_column=_time_column(name, model, measure, dimensions),
                ),
                **common,
            )
        elif spec["type"] in ("ratio", "derived"):
            metrics[name] = Metric(table="", **common)
        else:
            raise MetricError(f"metric {name}: type {spec['type']} is not translated to DAX")
    for name, metric in metrics.items():
        params = raw[name]["type_params"]
        if metric.kind == "ratio":
            for part in ("numerator", "denominator"):
                ref = params[part]
                if ref.get("filter") or ref.get("alias") or ref.get("offset_window"):
                    raise MetricError(f"metric {name}: {part} with a filter/alias/offset")
            metric.numerator = params["numerator"]["name"]
            metric.denominator = params["denominator"]["name"]
        elif metric.kind == "derived":
            inputs = {m["name"] for m in params["metrics"]}
            if any(
                m.get("filter") or m.get("alias") or m.get("offset_window")
                for m in params["metrics"]
            ):
                raise MetricError(f"metric {name}: input metrics with a filter/alias/offset")
            tokens = tuple(_DERIVED_TOKEN.findall(params["expr"]))
            if "".join(tokens).replace(" ", "") != params["expr"].replace(" ", ""):
                raise MetricError(f"metric {name}: expr {params['expr']!r} is not translated")
            for token in tokens:
                if re.fullmatch(r"[A-Za-z_]\w*", token) and token not in inputs:
                    raise MetricError(f"metric {name}: {token} is not one of its input metrics")
            metric.expr_tokens = tokens
            metric.unfilled_inputs = tuple(
                t
                for t in dict.fromkeys(tokens)
                if t in inputs
                and (metrics[t].aggregate is None or metrics[t].aggregate.fill_nulls_with is None)
            )
    for metric in metrics.values():
        if metric.kind != "simple":
            metric.table = _home_table(metric, metrics)
            tables = sorted(_input_tables(metric, metrics))
            metric.input_tables = tuple(tables) if len(tables) > 1 else ()
    return metrics


def _time_column(name: str, model: dict, measure: dict, dimensions: dict) -> str | None:
    """The column of the measure's agg_time_dimension (MetricFlow's metric_time), if any."""
    time_dimension = measure.get("agg_time_dimension") or (model.get("defaults") or {}).get(
        "agg_time_dimension"
    )
    if not time_dimension:
        return None
    column = (dimensions.get(time_dimension) or {}).get("expr") or time_dimension
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
        raise MetricError(f"metric {name}: time dimension expr must be a column, not {column!r}")
    return column


def _input_tables(metric: Metric, metrics: dict[str, Metric]) -> set[str]:
    """The tables whose rows a metric aggregates, through its inputs."""
    if metric.kind == "simple":
        return {metric.aggregate.table}
    inputs = (
        [metric.numerator, metric.denominator]
        if metric.kind == "ratio"
        else [t for t in metric.expr_tokens if t in metrics]
    )
    return set().union(*(_input_tables(metrics[name], metrics) for name in inputs))


def link_dates(
    metrics: dict[str, Metric], date_table: tuple[str, str], date_links: dict[str, str]
) -> None:
    """Give each simple metric whose table no active relationship links to the date table
    (``date_links``: table -> its column on the date table) a date bridge on its time column.
    A table linked on another column than its time dimension would be dated by the wrong
    date: that stops the publish."""
    for metric in metrics.values():
        if metric.kind != "simple" or metric.aggregate.time_column is None:
            continue
        linked = date_links.get(metric.table)
        if linked is None:
            metric.date_bridge = date_table
        elif linked != metric.aggregate.time_column:
            raise MetricError(
                f"metric {metric.name}: {metric.table} is linked to the date table on {linked}, "
                f"but the metric's time dimension is {metric.aggregate.time_column}"
            )


def _home_table(metric: Metric, metrics: dict[str, Metric]) -> str:
    """A ratio or derived measure lives on the table of its first input."""
    first = metric.numerator or next(t for t in metric.expr_tokens if t in metrics)
    target = metrics[first]
    return target.table or _home_table(target, metrics)


def read_semantic_manifest(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MetricError(
            f"cannot read dbt's semantic manifest {path}: {exc}. Run `dbt parse` or `dbt build`."
        ) from exc


def generated_measures(metrics: dict[str, Metric]) -> list[Measure]:
    labels = {name: m.label for name, m in metrics.items()}
    return [m.measure(labels) for m in metrics.values()]


def headline_sql(metrics: dict[str, Metric], relation: Callable[[str, str], str]) -> str:
    """One row, one column per metric: its overall value, computed from its definition."""
    columns = ",\n    ".join(f"{m.sql(metrics, relation)} as {name}" for name, m in metrics.items())
    return f"select\n    {columns}"


@dataclass(frozen=True)
class HandMeasure:
    """A DAX measure that is not a semantic-layer metric, with the same logic in SQL."""

    name: str
    table: str
    dax: str
    format_string: str
    folder: str
    description: str
    sql: str  # over the published marts, by bare table name, computed the way the DAX does


_LATEST_RUN = "(select max(run_started_at) from segmentation_runs)"
_LATEST_VERSION = "(select max(model_version) from segment_k_selection)"


def _latest_run_measure(name: str, column: str, fmt: str, description: str) -> HandMeasure:
    return HandMeasure(
        name=name,
        table="segmentation_runs",
        dax=(
            "VAR LatestRun = CALCULATE ( MAX ( segmentation_runs[run_started_at] ), "
            "REMOVEFILTERS ( segmentation_runs ) )\n"
            "RETURN\n"
            f"    CALCULATE ( MAX ( segmentation_runs[{column}] ), "
            "segmentation_runs[run_started_at] = LatestRun )"
        ),
        format_string=fmt,
        folder="Model health",
        description=description,
        sql=f"select max({column}) from segmentation_runs where run_started_at = {_LATEST_RUN}",
    )


def _latest_version_measure(name: str, table: str, column: str, fmt: str, description: str):
    return HandMeasure(
        name=name,
        table=table,
        dax=(
            "VAR Latest = [Latest Model Version]\n"
            "RETURN\n"
            f"    CALCULATE ( MAX ( {table}[{column}] ), {table}[model_version] = Latest )"
        ),
        format_string=fmt,
        folder="Model health",
        description=description,
        sql=f"select max({column}) from {table} where model_version = {_LATEST_VERSION}",
    )


HAND_MEASURES: tuple[HandMeasure, ...] = (
    HandMeasure(
        name="Latest Model Version",
        table="segment_k_selection",
        dax=(
            "CALCULATE ( MAX ( segment_k_selection[model_version] ), "
            "REMOVEFILTERS ( segment_k_selection ) )"
        ),
        format_string="0",
        folder="Model health",
        description="The newest fitted model version, whatever the visual filters.",
        sql="select max(model_version) from segment_k_selection",
    ),
    HandMeasure(
        name="Chosen k",
        table="segment_k_selection",
        dax=(
            "VAR Latest = [Latest Model Version]\n"
            "RETURN\n"
            "    CALCULATE ( MAX ( segment_k_selection[k] ), "
            "segment_k_selection[is_chosen] = TRUE (), "
            "segment_k_selection[model_version] = Latest )"
        ),
        format_string="0",
        folder="Model health",
        description=(
            "The number of segments the newest model chose, by its k rule (var "
            "segmentation_k_rule: the elbow by default)."
        ),
        sql=(
            "select max(k) from segment_k_selection where is_chosen "
            f"and model_version = {_LATEST_VERSION}"
        ),
    ),
    _latest_version_measure(
        "Inertia (latest model)",
        "segment_k_selection",
        "inertia",
        "#,0.00",
        "Within-segment sum of squares of the newest model, per k (the elbow curve).",
    ),
    _latest_version_measure(
        "Silhouette (latest model)",
        "segment_k_selection",
        "silhouette",
        "0.000",
        "Mean silhouette of the newest model, per k.",
    ),
    _latest_version_measure(
        "Mean Jaccard (latest model)",
        "segment_stability",
        "mean_jaccard",
        "0.00",
        "Bootstrap stability of each segment of the newest model (mean Jaccard).",
    ),
    _latest_run_measure(
        "Mean Stability",
        "mean_stability",
        "0.00",
        "Mean bootstrap Jaccard over the segments, from the latest build.",
    ),
    _latest_run_measure(
        "Max Feature Drift (PSI)",
        "max_psi",
        "0.000",
        "Largest population stability index of a feature against the fit, latest build.",
    ),
    _latest_run_measure(
        "Cluster Structure",
        "cluster_structure",
        "General",
        "The latest build's verdict on whether the data has cluster structure.",
    ),
    HandMeasure(
        name="Migration Customers",
        table="segment_migration",
        dax=(
            "VAR LatestMonth = CALCULATE ( MAX ( segment_migration[to_month_end] ), "
            "ALLSELECTED ( segment_migration ) )\n"
            "RETURN\n"
            "    CALCULATE ( SUM ( segment_migration[customers] ), "
            "segment_migration[to_month_end] = LatestMonth )"
        ),
        format_string="#,0",
        folder="Segments",
        description=(
            "Customers by their segment at the previous month end and at one month end (the "
            "latest the visual's filters allow; a month-end slicer picks another): on a from x "
            "to matrix the diagonal holds those who stayed, the other cells those who moved. "
            "A sum over month ends would count a customer once per month."
        ),
        sql=(
            "select from_segment_name, to_segment_name, sum(customers) from segment_migration "
            "where to_month_end = (select max(to_month_end) from segment_migration) "
            "group by all"
        ),
    ),
    HandMeasure(
        name="Segment Customers",
        table="dim_segments",
        dax="SUM ( dim_segments[customers] )",
        format_string="#,0",
        folder="Segments",
        description="Customers in the selected segments.",
        sql="select sum(customers) from dim_segments",
    ),
    HandMeasure(
        name="Segment Share",
        table="dim_segments",
        dax=(
            "DIVIDE ( [Segment Customers], "
            "CALCULATE ( [Segment Customers], REMOVEFILTERS ( dim_segments ), "
            "REMOVEFILTERS ( segment_profiles ) ) )"
        ),
        format_string="0.0%",
        folder="Segments",
        description="Share of segmented customers in the selected segments.",
        sql=("select segment_id, customers / sum(customers) over () as value from dim_segments"),
    ),
)


def hand_measures() -> list[Measure]:
    return [
        Measure(
            name=h.name,
            expression=h.dax,
            format_string=h.format_string,
            description=h.description,
            display_folder=h.folder,
            table=h.table,
        )
        for h in HAND_MEASURES
    ]

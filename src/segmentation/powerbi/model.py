"""The Power BI semantic model, derived from what was published and from dbt's manifest.

Nothing here is a hand-kept copy of the marts:

* tables and columns (names, order, types) are the published Parquet files, as recorded in the
  publish's ``_manifest.json``;
* descriptions are the dbt docs of each public model and column (``target/manifest.json``);
* relationships are the dbt ``relationships`` tests between two public marts. A test's
  ``meta`` says how Power BI uses it: ``powerbi_relationship: inactive`` (kept, but only used
  through ``USERELATIONSHIP``) or ``none`` (tested, not a Power BI relationship: it would make
  a second filter path). A relationship is one-to-one when the child column also has a
  ``unique`` test, and then filters both ways (Power BI requires that for one-to-one);
* the date table is the public model whose dbt ``meta`` has ``powerbi_date_table: <column>``.

Formats, summarisation, hidden keys and display folders follow a few documented rules on the
column's type and name (``column_presentation``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

# Stable lineage tags: the same model, column or measure gets the same tag on every publish,
# so two generated projects diff by what changed.
_LINEAGE_NAMESPACE = uuid.UUID("5b6f1d52-3c4e-4bb0-9d8e-6a0f3e7c2a11")

# DuckDB type -> (TMDL dataType, Power Query type used in Table.TransformColumnTypes)
_TYPES: dict[str, tuple[str, str]] = {
    "VARCHAR": ("string", "type text"),
    "BOOLEAN": ("boolean", "type logical"),
    "TINYINT": ("int64", "Int64.Type"),
    "SMALLINT": ("int64", "Int64.Type"),
    "INTEGER": ("int64", "Int64.Type"),
    "BIGINT": ("int64", "Int64.Type"),
    "DOUBLE": ("double", "type number"),
    "FLOAT": ("double", "type number"),
    "REAL": ("double", "type number"),
    "DATE": ("dateTime", "type date"),
    "TIMESTAMP": ("dateTime", "type datetime"),
    "TIMESTAMP WITH TIME ZONE": ("dateTime", "type datetimezone"),
}
# Money is DECIMAL(18,4) in the marts: Power BI's fixed decimal (Currency.Type) holds exactly
# four decimal places, so it is loaded as that.
_DECIMAL = re.compile(r"^DECIMAL\(\s*(\d+)\s*,\s*(\d+)\s*\)$")

_PERCENT_NAME = re.compile(r"(^|_)(share|rate)(_|$)")
_CODE_NAME = re.compile(r"(_id$|^k$|model_version|_number$|_rank$|^year|_year$|day_of_week)")
_NOT_ADDITIVE = re.compile(
    r"(_id$|^k$|model_version|_number$|_rank$|year|_score$|_days$|^days_|_share$|_rate|^avg_"
    r"|^mean_|^median_|^max_|^min_|_per_|percentile|quantile|^pct_|price|day_of_week"
    r"|_resamples$|_rows$)"
)
#: dbt meta (on a model or a column) that keeps every number of it from being summed by
#: default: counts per build, per month end or per model version, which add up to nonsense
SUMMARIZE_META = "powerbi_summarize_by"


class ModelError(ValueError):
    """The published marts cannot be described as a Power BI model; the message says why."""


def lineage_tag(*parts: str) -> str:
    """A deterministic lineage tag for an object named by ``parts``."""
    return str(uuid.uuid5(_LINEAGE_NAMESPACE, "/".join(parts)))


@dataclass
class Column:
    name: str
    duckdb_type: str
    data_type: str
    m_type: str
    description: str = ""
    format_string: str | None = None
    summarize_by: str = "none"
    is_hidden: bool = False
    is_key: bool = False
    display_folder: str | None = None


@dataclass
class Measure:
    name: str
    expression: str
    format_string: str
    description: str
    display_folder: str
    table: str


@dataclass
class Table:
    name: str
    file: str
    description: str
    columns: list[Column]
    measures: list[Measure] = field(default_factory=list)
    is_date_table: bool = False

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Relationship:
    from_table: str
    from_column: str
    to_table: str
    to_column: str
    is_active: bool = True
    one_to_one: bool = False

    @property
    def name(self) -> str:
        return lineage_tag(
            "relationship", self.from_table, self.from_column, self.to_table, self.to_column
        )


@dataclass
class SemanticModel:
    tables: list[Table]
    relationships: list[Relationship]

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"the model has no table {name!r}")

    @property
    def measures(self) -> list[Measure]:
        return [m for t in self.tables for m in t.measures]


def type_mapping(duckdb_type: str) -> tuple[str, str]:
    """(TMDL dataType, Power Query type) of a published DuckDB column type."""
    upper = duckdb_type.strip().upper()
    if upper in _TYPES:
        return _TYPES[upper]
    match = _DECIMAL.match(upper)
    if match:
        scale = int(match.group(2))
        if scale > 4:
            return "double", "type number"  # more places than fixed decimal keeps
        return "decimal", "Currency.Type"
    raise ModelError(f"no Power BI type for DuckDB type {duckdb_type!r}")


def column_presentation(name: str, duckdb_type: str) -> dict:
    """Format string, summarisation and display folder of a column, from its type and name.

    Rules: money (DECIMAL) ``#,0.00``; shares and rates (a ``share`` or ``rate`` word in the
    name, stored as 0-1) as percentages; codes (ids, k, versions, ranks, calendar numbers)
    without thousands separators; dates ``yyyy-mm-dd``. Only additive numbers (money, counts)
    are summed by default; ids, averages, shares, scores, prices, day counts, weekday numbers
    and per-row repeated sizes (resamples, rows) are not. A model or column with dbt meta
    ``powerbi_summarize_by`` overrides this in build_model (counts per build or month end).
    Id columns go to a "Keys" folder and dates to "Dates".
    """
    data_type, _ = type_mapping(duckdb_type)
    upper = duckdb_type.upper()
    presentation: dict = {"format_string": None, "summarize_by": "none", "display_folder": None}
    if data_type in ("int64", "double", "decimal"):
        if _PERCENT_NAME.search(name) and data_type == "double":
            presentation["format_string"] = "0.0%"
        elif data_type == "decimal":
            presentation["format_string"] = "#,0.00"
        elif _CODE_NAME.search(name):
            presentation["format_string"] = "0"
        elif data_type == "int64":
            presentation["format_string"] = "#,0"
        else:
            presentation["format_string"] = "#,0.00"
        if data_type != "double" and not _NOT_ADDITIVE.search(name):
            presentation["summarize_by"] = "sum"
    elif upper == "DATE":
        presentation["format_string"] = "yyyy-mm-dd"
    elif data_type == "dateTime":
        presentation["format_string"] = "yyyy-mm-dd hh:nn:ss"
    if name.endswith("_id"):
        presentation["display_folder"] = "Keys"
    elif data_type == "dateTime":
        presentation["display_folder"] = "Dates"
    return presentation


def _summarize_meta(node: dict) -> str | None:
    """The ``powerbi_summarize_by`` meta of a model or column node (none or sum), if set."""
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    value = meta.get(SUMMARIZE_META)
    if value is not None and value not in ("none", "sum"):
        raise ModelError(f"meta {SUMMARIZE_META} must be none or sum, not {value!r}")
    return value


def _public_models(dbt_manifest: dict) -> dict[str, dict]:
    models = {}
    for node in dbt_manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        access = node.get("access") or (node.get("config") or {}).get("access")
        if access == "public":
            models[node.get("alias") or node["name"]] = node
    return models


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")


def _unique_columns(dbt_manifest: dict) -> set[tuple[str, str]]:
    unique = set()
    for node in dbt_manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") == "test" and meta.get("name") == "unique":
            model = (node.get("attached_node") or "").rsplit(".", 1)[-1]
            column = node.get("column_name") or meta.get("kwargs", {}).get("column_name")
            if model and column:
                unique.add((model, column))
    return unique


def relationships_from_tests(dbt_manifest: dict, published: set[str]) -> list[Relationship]:
    """The Power BI relationships: dbt ``relationships`` tests between two published marts."""
    unique = _unique_columns(dbt_manifest)
    found = []
    for node in dbt_manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or meta.get("name") != "relationships":
            continue
        kwargs = meta.get("kwargs") or {}
        child = (node.get("attached_node") or "").rsplit(".", 1)[-1]
        parent_ref = _REF.search(str(kwargs.get("to", "")))
        if not parent_ref or child not in published or parent_ref.group(1) not in published:
            continue
        setting = ((node.get("config") or {}).get("meta") or {}).get("powerbi_relationship")
        if setting == "none":
            continue
        if setting not in (None, "active", "inactive"):
            raise ModelError(
                f"{node['unique_id']}: meta powerbi_relationship must be active, inactive or "
                f"none, not {setting!r}"
            )
        column = kwargs.get("column_name") or node.get("column_name")
        found.append(
            Relationship(
                from_table=child,
                from_column=column,
                to_table=parent_ref.group(1),
                to_column=kwargs["field"],
                is_active=setting != "inactive",
                one_to_one=(child, column) in unique,
            )
        )
    return sorted(found, key=lambda r: (r.from_table, r.from_column, r.to_table))


def build_model(bi_manifest: dict, dbt_manifest: dict) -> SemanticModel:
    """Tables, columns and relationships of the published marts (no measures yet)."""
    models = _public_models(dbt_manifest)
    tables = []
    for name, mart in sorted(bi_manifest["marts"].items()):
        node = models.get(name)
        if node is None:
            raise ModelError(
                f"{name} was published but is not a public model in the dbt manifest; "
                "publish and generate from the same build"
            )
        docs = node.get("columns") or {}
        columns = []
        for spec in mart["columns"]:
            data_type, m_type = type_mapping(spec["type"])
            doc = docs.get(spec["name"]) or {}
            presentation = column_presentation(spec["name"], spec["type"])
            summarize = _summarize_meta(doc) or _summarize_meta(node)
            if summarize is not None:
                presentation["summarize_by"] = summarize
            columns.append(
                Column(
                    name=spec["name"],
                    duckdb_type=spec["type"],
                    data_type=data_type,
                    m_type=m_type,
                    description=_one_line(doc.get("description")),
                    **presentation,
                )
            )
        date_key = ((node.get("config") or {}).get("meta") or {}).get("powerbi_date_table")
        table = Table(
            name=name,
            file=mart["file"],
            description=_one_line(node.get("description")),
            columns=columns,
            is_date_table=bool(date_key),
        )
        if date_key:
            key = table.column(date_key)
            if key.duckdb_type.upper() != "DATE":
                raise ModelError(f"date table {name}: key column {date_key} is not a DATE")
            key.is_key = True
        tables.append(table)
    relationships = relationships_from_tests(dbt_manifest, {t.name for t in tables})
    model = SemanticModel(tables=tables, relationships=relationships)
    for rel in relationships:
        # The child's key is plumbing: reports slice by the parent's columns.
        model.table(rel.from_table).column(rel.from_column).is_hidden = True
        if not rel.one_to_one:
            model.table(rel.to_table).column(rel.to_column).is_key = True
    return model

"""Write the semantic model as TMDL, and read TMDL back strictly (for the tests).

TMDL (Tabular Model Definition Language) is the text form Power BI Desktop saves a semantic
model in: one object per line, one tab of indentation per level, ``key: value`` properties,
``///`` descriptions above an object, and expressions (DAX, M) after ``=``, on the same line
or on the following lines one level deeper than the object's properties.

The writer emits only the subset this project needs; the reader accepts exactly that subset
and raises ``TmdlError`` with the file and line for anything else (an unknown keyword or
property, a bad indentation, a duplicate name), so a test that reads the generated files
back fails on any formatting slip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from segmentation.powerbi.model import Relationship, SemanticModel, Table

COMPATIBILITY_LEVEL = 1567
PARAMETER = "BiFolder"
# TMDL quotes a name that holds whitespace, '.', '=', ':' or a quote
_SIMPLE_NAME = re.compile(r"^[^\s.=:'\"]+$")
TAB = "\t"


class TmdlError(ValueError):
    """A TMDL file the strict reader does not accept."""


def quote_name(name: str) -> str:
    """A TMDL object name: bare when simple, else in single quotes with ' doubled."""
    if _SIMPLE_NAME.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _description(text: str, depth: int) -> list[str]:
    return [TAB * depth + "/// " + line for line in text.splitlines() if line.strip()]


def _property_value(value: str) -> str:
    if value != value.strip() or (value.startswith('"') and value.endswith('"')):
        return '"' + value.replace('"', '""') + '"'
    return value


def m_string(text: str) -> str:
    """An M text literal."""
    return '"' + text.replace('"', '""') + '"'


def partition_source(table: Table) -> list[str]:
    """The M query that loads a table: its Parquet file in the BI folder, typed column by
    column the way the model declares them."""
    types = ", ".join("{" + m_string(c.name) + ", " + c.m_type + "}" for c in table.columns)
    path = m_string("/" + table.file)
    return [
        "let",
        f"    Source = Parquet.Document(File.Contents({PARAMETER} & {path})),",
        f"    Typed = Table.TransformColumnTypes(Source, {{{types}}})",
        "in",
        "    Typed",
    ]


def table_tmdl(table: Table) -> str:
    lines = _description(table.description, 0) + [f"table {quote_name(table.name)}"]
    if table.is_date_table:
        lines.append(TAB + "dataCategory: Time")
    for measure in table.measures:
        lines.append("")
        lines += _description(measure.description, 1)
        expression = measure.expression.strip().splitlines()
        if len(expression) == 1:
            lines.append(f"{TAB}measure {quote_name(measure.name)} = {expression[0]}")
        else:
            lines.append(f"{TAB}measure {quote_name(measure.name)} =")
            lines += [TAB * 3 + line for line in expression]
        lines.append(f"{TAB * 2}formatString: {_property_value(measure.format_string)}")
        lines.append(f"{TAB * 2}displayFolder: {_property_value(measure.display_folder)}")
    for column in table.columns:
        lines.append("")
        lines += _description(column.description, 1)
        lines.append(f"{TAB}column {quote_name(column.name)}")
        lines.append(f"{TAB * 2}dataType: {column.data_type}")
        if column.is_hidden:
            lines.append(f"{TAB * 2}isHidden")
        if column.is_key:
            lines.append(f"{TAB * 2}isKey")
        if column.format_string:
            lines.append(f"{TAB * 2}formatString: {_property_value(column.format_string)}")
        lines.append(f"{TAB * 2}summarizeBy: {column.summarize_by}")
        lines.append(f"{TAB * 2}sourceColumn: {_property_value(column.name)}")
        if column.display_folder:
            lines.append(f"{TAB * 2}displayFolder: {_property_value(column.display_folder)}")
    lines += ["", f"{TAB}partition {quote_name(table.name)} = m", f"{TAB * 2}mode: import"]
    lines.append(f"{TAB * 2}source =")
    lines += [TAB * 4 + line for line in partition_source(table)]
    return "\n".join(lines) + "\n"


def relationship_tmdl(rel: Relationship) -> list[str]:
    lines = [f"relationship {rel.name}"]
    if not rel.is_active:
        lines.append(TAB + "isActive: false")
    if rel.one_to_one:
        lines.append(TAB + "fromCardinality: one")
        lines.append(TAB + "crossFilteringBehavior: bothDirections")
    lines.append(f"{TAB}fromColumn: {quote_name(rel.from_table)}.{quote_name(rel.from_column)}")
    lines.append(f"{TAB}toColumn: {quote_name(rel.to_table)}.{quote_name(rel.to_column)}")
    return lines


def model_files(model: SemanticModel, bi_folder: str) -> dict[str, str]:
    """Relative path (under the semantic model's ``definition/``) -> TMDL text."""
    files = {
        "database.tmdl": f"database\n{TAB}compatibilityLevel: {COMPATIBILITY_LEVEL}\n",
        "model.tmdl": "\n".join(
            [
                "model Model",
                f"{TAB}culture: en-US",
                f"{TAB}defaultPowerBIDataSourceVersion: powerBI_V3",
                f"{TAB}sourceQueryCulture: en-US",
                "",
                # no auto date/time tables: dim_date is the date table
                "annotation __PBI_TimeIntelligenceEnabled = 0",
                "",
            ]
            + [f"ref table {quote_name(t.name)}" for t in model.tables]
        )
        + "\n",
        "expressions.tmdl": "\n".join(
            [
                "/// The folder that holds the published Parquet files (data/bi). Set it once in",
                "/// Power Query: Transform data > Edit parameters.",
                f"expression {PARAMETER} = {m_string(bi_folder)} meta [IsParameterQuery=true, "
                'Type="Text", IsParameterQueryRequired=true]',
            ]
        )
        + "\n",
        "relationships.tmdl": "\n\n".join(
            "\n".join(relationship_tmdl(rel)) for rel in model.relationships
        )
        + "\n",
    }
    for table in model.tables:
        files[f"tables/{table.name}.tmdl"] = table_tmdl(table)
    return files


# --------------------------------------------------------------------------------------------
# Strict reader
# --------------------------------------------------------------------------------------------

_KINDS = {
    # object keyword -> (allowed properties, allowed flags, takes an expression after "=")
    "database": ({"compatibilityLevel"}, set(), False),
    "model": (
        {"culture", "defaultPowerBIDataSourceVersion", "sourceQueryCulture"},
        {"discourageImplicitMeasures"},
        False,
    ),
    "table": ({"dataCategory"}, {"isHidden"}, False),
    "column": (
        {"dataType", "formatString", "summarizeBy", "sourceColumn", "displayFolder"},
        {"isHidden", "isKey"},
        False,
    ),
    "measure": ({"formatString", "displayFolder"}, {"isHidden"}, True),
    "partition": ({"mode", "source"}, set(), True),
    "relationship": (
        {
            "isActive",
            "fromCardinality",
            "toCardinality",
            "crossFilteringBehavior",
            "fromColumn",
            "toColumn",
        },
        set(),
        False,
    ),
    "expression": (set(), set(), True),
}
_CHILDREN = {"table": {"column", "measure", "partition"}}
_DATA_TYPES = {"string", "int64", "double", "decimal", "dateTime", "boolean"}
_SUMMARIZE = {"none", "sum", "count", "min", "max", "average", "distinctCount"}
_NAME = r"(?:'(?:[^']|'')+'|[^\s.=:'\"]+)"
_HEADER = re.compile(rf"^(?P<kind>[a-z]+)(?: (?P<name>{_NAME}))?(?: = ?(?P<expr>.*))?$")
_COLUMN_REF = re.compile(rf"^(?P<table>{_NAME})\.(?P<column>{_NAME})$")


def unquote_name(text: str) -> str:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return text


@dataclass
class TmdlObject:
    kind: str
    name: str
    description: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    expression: str = ""
    children: list[TmdlObject] = field(default_factory=list)

    def child(self, kind: str, name: str) -> TmdlObject:
        for obj in self.children:
            if obj.kind == kind and obj.name == name:
                return obj
        raise KeyError(f"{self.kind} {self.name} has no {kind} {name!r}")

    def of_kind(self, kind: str) -> list[TmdlObject]:
        return [c for c in self.children if c.kind == kind]


def _depth(line: str, where: str) -> int:
    stripped = line.lstrip("\t")
    if stripped.startswith(" "):
        raise TmdlError(f"{where}: indentation must be tabs")
    return len(line) - len(stripped)


def read_tmdl(text: str, source: str = "<tmdl>") -> list[TmdlObject]:
    """Parse TMDL text into top-level objects; raise TmdlError on anything unexpected."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    objects: list[TmdlObject] = []
    stack: list[tuple[int, TmdlObject]] = []
    pending_description: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        where = f"{source}:{i + 1}"
        i += 1
        if not line.strip():
            if pending_description:
                raise TmdlError(f"{where}: a blank line between a description and its object")
            continue
        if line != line.rstrip():
            raise TmdlError(f"{where}: trailing whitespace")
        depth = _depth(line, where)
        content = line[depth:]
        if content.startswith("///"):
            pending_description.append(content[3:].strip())
            continue
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if parent is not None and depth == stack[-1][0] + 1:
            # a property or flag of the parent, or a child object
            key, sep, value = content.partition(": ")
            allowed_props, allowed_flags, _ = _KINDS[parent.kind]
            if sep and key in allowed_props:
                if key in parent.properties:
                    raise TmdlError(f"{where}: {key} given twice")
                parent.properties[key] = value
                continue
            if content in allowed_flags:
                parent.flags.add(content)
                continue
            if content == "source =" and parent.kind == "partition":
                body, i = _expression_block(lines, i, depth + 2, where)
                parent.properties["source"] = body
                continue
        if content.startswith(("ref table ", "annotation ")):
            kind = content.split(" ", 1)[0]
            if depth != 0 or pending_description:
                raise TmdlError(f"{where}: {kind} only at column 0, without a description")
            name = content.split(" ", 2)[-1] if kind == "ref" else content.split(" ", 1)[1]
            if kind == "ref" and not re.fullmatch(_NAME, name):
                raise TmdlError(f"{where}: bad table name in {content!r}")
            if kind == "annotation" and not re.fullmatch(r"[A-Za-z_]\w* = \S.*", name):
                raise TmdlError(f"{where}: an annotation is 'annotation Name = value'")
            objects.append(TmdlObject(kind=kind, name=unquote_name(name)))
            continue
        match = _HEADER.match(content)
        if not match or match.group("kind") not in _KINDS:
            raise TmdlError(f"{where}: not a TMDL line this project writes: {content!r}")
        kind = match.group("kind")
        expected_parent = next((p for p, kids in _CHILDREN.items() if kind in kids), None)
        if expected_parent is None and depth != 0:
            raise TmdlError(f"{where}: {kind} must start at column 0")
        if expected_parent is not None and (
            parent is None or parent.kind != expected_parent or depth != stack[-1][0] + 1
        ):
            raise TmdlError(f"{where}: {kind} must be inside a {expected_parent}")
        name = unquote_name(match.group("name") or "")
        obj = TmdlObject(kind=kind, name=name, description="\n".join(pending_description))
        if kind == "relationship" and pending_description:
            raise TmdlError(f"{where}: relationships take no description")
        pending_description = []
        expr = match.group("expr")
        if _KINDS[kind][2]:
            if expr is None:
                raise TmdlError(f"{where}: {kind} {name} needs '= expression'")
            if expr.strip():
                obj.expression = expr.strip()
            else:
                obj.expression, i = _expression_block(lines, i, depth + 2, where)
        elif expr is not None:
            raise TmdlError(f"{where}: {kind} takes no expression")
        if parent is not None and depth > 0:
            if any(c.kind == kind and c.name == name for c in parent.children):
                raise TmdlError(f"{where}: duplicate {kind} {name!r} in {parent.name}")
            parent.children.append(obj)
        else:
            objects.append(obj)
        stack.append((depth, obj))
    if pending_description:
        raise TmdlError(f"{source}: a description at the end of the file")
    for obj in _walk(objects):
        _check_values(obj, source)
    return objects


def _expression_block(lines: list[str], i: int, depth: int, where: str) -> tuple[str, int]:
    body = []
    while i < len(lines) and lines[i].strip() and lines[i].startswith(TAB * depth):
        body.append(lines[i][depth:])
        i += 1
    if not body:
        raise TmdlError(f"{where}: an expression block must follow, indented {depth} tabs")
    return "\n".join(body), i


def _walk(objects: list[TmdlObject]):
    for obj in objects:
        yield obj
        yield from _walk(obj.children)


def _check_values(obj: TmdlObject, source: str) -> None:
    props = obj.properties
    if obj.kind == "column":
        for required in ("dataType", "sourceColumn", "summarizeBy"):
            if required not in props:
                raise TmdlError(f"{source}: column {obj.name} has no {required}")
        if props["dataType"] not in _DATA_TYPES:
            raise TmdlError(f"{source}: column {obj.name}: unknown dataType {props['dataType']}")
        if props["summarizeBy"] not in _SUMMARIZE:
            raise TmdlError(f"{source}: column {obj.name}: bad summarizeBy {props['summarizeBy']}")
    if obj.kind == "partition" and (props.get("mode") != "import" or "source" not in props):
        raise TmdlError(f"{source}: partition {obj.name} must be mode: import with a source")
    if obj.kind == "relationship":
        for end in ("fromColumn", "toColumn"):
            if not _COLUMN_REF.match(props.get(end, "")):
                raise TmdlError(f"{source}: relationship {obj.name}: bad {end}")
        if props.get("isActive", "true") not in ("true", "false"):
            raise TmdlError(f"{source}: relationship {obj.name}: isActive is true or false")
    if obj.kind == "measure" and "formatString" not in props:
        raise TmdlError(f"{source}: measure {obj.name} has no formatString")


def column_ref(text: str) -> tuple[str, str]:
    """('table', 'column') of a relationship end such as ``fct_orders.customer_id``."""
    match = _COLUMN_REF.match(text)
    if not match:
        raise TmdlError(f"not a column reference: {text!r}")
    return unquote_name(match.group("table")), unquote_name(match.group("column"))


def read_definition(folder: Path) -> dict[str, list[TmdlObject]]:
    """Every ``*.tmdl`` file under a semantic model's ``definition/`` folder, parsed."""
    return {
        str(path.relative_to(folder)): read_tmdl(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(folder.rglob("*.tmdl"))
    }

"""How raw text values are read, for `segmentation check`: the same SQL the staging macros
build (``clean_string``, ``trim_characters`` and ``duckdb__parse_timestamp`` in
macros/utils/cleaning.sql), from the same three vars of dbt_project.yml (``raw_null_tokens``,
``raw_trim_code_points``, ``raw_timestamp_formats``). Whatever preflight accepts, staging
keeps: tests/python/test_parsing_rules.py compiles the macros with dbt and compares them with
the expressions built here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: dbt-duckdb's dbt.type_string(), which the macros cast with.
TEXT_TYPE = "TEXT"


@dataclass(frozen=True)
class ParsingRules:
    """The three vars of dbt_project.yml that say how raw text is read."""

    null_tokens: tuple[str, ...]
    trim_code_points: tuple[int, ...]
    timestamp_formats: tuple[str, ...]
    order_statuses: tuple[tuple[str, str], ...] = ()
    csv_max_line_size: int = 2_000_000

    @classmethod
    def from_vars(cls, variables: dict[str, Any]) -> ParsingRules:
        try:
            return cls(
                null_tokens=tuple(str(t) for t in variables["raw_null_tokens"]),
                trim_code_points=tuple(int(c) for c in variables["raw_trim_code_points"]),
                timestamp_formats=tuple(str(f) for f in variables["raw_timestamp_formats"]),
                csv_max_line_size=int(variables.get("raw_csv_max_line_size", 2_000_000)),
                order_statuses=tuple(
                    (str(raw), str(status))
                    for raw, status in (variables.get("order_statuses") or {}).items()
                ),
            )
        except KeyError as exc:
            raise ValueError(f"dbt_project.yml has no var {exc.args[0]!r}") from None

    @classmethod
    def from_project(cls, project_dir: str | Path) -> ParsingRules:
        with (Path(project_dir) / "dbt_project.yml").open(encoding="utf-8") as handle:
            project = yaml.safe_load(handle) or {}
        return cls.from_vars(project.get("vars") or {})


def sql_text_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def trim_pattern(rules: ParsingRules) -> str:
    """The regular expression (a SQL literal) of a run of the trimmed characters at either end
    of a text, every character as a \\x{hex} escape (the macro trim_pattern)."""
    characters = "[" + "".join(f"\\x{{{code:x}}}" for code in rules.trim_code_points) + "]"
    return f"'^{characters}+|{characters}+$'"


def trim_characters(text: str, rules: ParsingRules) -> str:
    return (
        f"case when strlen({text}) = length({text}) "
        f"and left({text}, 1) > ' ' and right({text}, 1) > ' ' "
        f"then {text} else regexp_replace({text}, {trim_pattern(rules)}, '', 'g') end"
    )


def clean_string(column: str, rules: ParsingRules, real_values: tuple[str, ...] = ()) -> str:
    """Trimmed text of ``column``; empty text and the null tokens (but ``real_values``, the
    tokens that are values in this column) are NULL."""
    trimmed = trim_characters(f"cast({column} as {TEXT_TYPE})", rules)
    tokens = [t for t in rules.null_tokens if t not in real_values]
    missing = ", ".join(sql_text_literal(t) for t in ("", *tokens))
    return f"case when {trimmed} not in ({missing}) then {trimmed} end"


def clean_enum(column: str, rules: ParsingRules) -> str:
    """Trimmed, lower case, spaces as underscores (the macro clean_enum)."""
    return f"replace(lower({clean_string(column, rules)}), ' ', '_')"


#: The statuses staging keeps; var order_statuses maps an export's values onto them.
ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled")


def order_status(column: str, rules: ParsingRules) -> str:
    """The status staging keeps (base_shop__orders): var order_statuses, missing = delivered;
    anything else is quarantined as unknown_status."""
    enum = clean_enum(column, rules)
    whens = " ".join(
        f"when {sql_text_literal(raw)} then {sql_text_literal(status)}"
        for raw, status in rules.order_statuses
    )
    return f"case {enum} {whens} else coalesce({enum}, 'delivered') end"


def parse_timestamp(column: str, rules: ParsingRules) -> str:
    """UTC timestamp of a text column, NULL when no rule parses it (staging quarantines)."""
    text = clean_string(column, rules)
    with_offset = [sql_text_literal(f) for f in rules.timestamp_formats if "%z" in f]
    without_offset = [sql_text_literal(f) for f in rules.timestamp_formats if "%z" not in f]
    parts = [f"try_cast({text} as timestamptz)"]
    if with_offset:
        parts.append(f"try_strptime({text}, [{', '.join(with_offset)}])")
    if without_offset:
        parts.append(f"cast(try_strptime({text}, [{', '.join(without_offset)}]) as timestamptz)")
    return f"timezone('UTC', coalesce({', '.join(parts)}))"


def accepted_timestamp_formats(rules: ParsingRules) -> str:
    """The formats in words, for messages."""
    extra = ", ".join(rules.timestamp_formats)
    return "ISO-8601 (2024-03-01 14:05:00, 2024-03-01T14:05:00Z, +02:00 or +0200 offsets)" + (
        f" or one of: {extra}" if extra else ""
    )

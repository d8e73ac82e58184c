"""`segmentation check [RAW_DIR]`: validate a raw folder before dbt runs.

The dbt hook ``register_raw_tables`` (on-run-start) stops a build when a required table or a
required column is missing. This preflight goes further and runs in seconds, before dbt: it
reads the raw input contract from ``dbt_project.yml`` (vars ``raw_contract``, the single source
of truth) and checks, for every table of the contract:

* **files**: ``<table>.parquet`` or ``<table>.csv`` present, or a batch folder ``<table>/`` of
  such files whose every file gets the checks below (two of these = ambiguous: error; a missing
  required table is an error, a missing optional one a warning), not empty (0 bytes);
* **readability**: Parquet magic bytes and a full DuckDB scan; CSV decodable as UTF-8 (a
  Latin-1/Windows-1252 or UTF-16 file is named, with the first bad line), comma-separated (a
  ``;``, tab or ``|`` header is detected and the fix given), a header row, strict CSV parsing;
* **columns**: the required columns present (case-insensitive and trimmed, as the hook
  matches them); contract columns that are absent are reported as warnings (read as empty);
* **rows**: a required table with no data rows (header only) is an error;
* **values**: the share of non-empty values that do not parse in the numeric and timestamp
  columns. Most values failing (more than ``--error-share``, default 50%) means a wrong column
  or format (decimal comma, day-first dates, ...): error. A few failing rows will be quarantined
  (or repaired) by staging with a reason code: warning. Empty required values, duplicate keys,
  future timestamps and emails shared by several customer ids are warnings too.

Every problem names the file, the column, an example row (row number + value) and the fix.
Exit status: 1 when there is any error, else 0 (warnings are printed). Scans use DuckDB and
read CSV files exactly as the hook does (``all_varchar``, strict), so it is fast on millions of
rows and agrees with what dbt will see.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as dt
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from segmentation import parsing
from segmentation.parsing import ParsingRules

# --------------------------------------------------------------------------------------------
# What the values of the contract columns must look like (see the staging parse_* macros).
# --------------------------------------------------------------------------------------------

INTEGER_COLUMNS = frozenset({"line_number", "quantity", "page_views", "product_views", "cart_adds"})
MONEY_COLUMNS = frozenset({"unit_price", "discount_amount", "refund_amount", "list_price"})
TIMESTAMP_COLUMNS = frozenset({"ordered_at", "returned_at", "started_at", "signup_at"})
DATE_COLUMNS = frozenset({"birth_date"})

#: Primary key of each table (text, trimmed); extra rows with the same key are quarantined.
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "order_items": ("order_id", "line_number"),
    "returns": ("return_id",),
    "products": ("product_id",),
    "sessions": ("session_id",),
}

#: What staging does with a row whose value does not parse, when it is not simply
#: "quarantined as unparseable_<column>".
UNPARSEABLE_OUTCOME: dict[tuple[str, str], str] = {
    ("customers", "signup_at"): "the customer is kept with signup_at missing "
    "(is_signup_at_unparseable = true)",
    ("customers", "birth_date"): "the customer is kept without an age band",
    ("sessions", "page_views"): "these sessions will be quarantined (unparseable_count)",
    ("sessions", "product_views"): "these sessions will be quarantined (unparseable_count)",
    ("sessions", "cart_adds"): "these sessions will be quarantined (unparseable_count)",
}

#: Columns whose unparseable values staging drops while it keeps the row.
KEPT_WHEN_UNPARSEABLE = frozenset({("customers", "signup_at"), ("customers", "birth_date")})

#: Values that parse but that staging quarantines: (table, column, SQL condition on the parsed
#: value, reject_reason). tests/python/test_preflight.py checks each reason is in the table's
#: base model.
VALUE_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("order_items", "quantity", "<= 0", "non_positive_quantity"),
    ("order_items", "unit_price", "< 0", "negative_unit_price"),
    ("order_items", "discount_amount", "< 0", "negative_discount_amount"),
    ("returns", "quantity", "<= 0", "non_positive_quantity"),
    ("returns", "refund_amount", "< 0", "negative_refund_amount"),
    ("products", "list_price", "< 0", "negative_list_price"),
)

#: Default share of non-empty values that must fail to parse before it is an error.
DEFAULT_ERROR_SHARE = 0.5

OTHER_DELIMITERS = {";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}


def csv_reader(path: Path, max_line_size: int = 2_000_000) -> str:
    """DuckDB table function reading a raw CSV exactly like the dbt hook (raw_reader)."""
    return (
        f"read_csv({_sql_str(path)}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"all_varchar = true, encoding = 'utf-8', strict_mode = true, "
        f"max_line_size = {int(max_line_size)})"
    )


def parquet_reader(path: Path) -> str:
    """DuckDB table function reading a raw Parquet file."""
    return f"read_parquet({_sql_str(path)})"


def _sql_str(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One finding: an error stops the build, a warning does not."""

    level: str  # "error" | "warning"
    file: str
    message: str
    column: str | None = None
    example: str | None = None
    fix: str | None = None
    table: str | None = None

    def format(self) -> str:
        """Human-readable multi-line text."""
        where = self.file + (f", column {self.column}" if self.column else "")
        lines = [f"{self.level.upper():<7} {where}: {self.message}"]
        if self.example:
            lines.append(f"        example: {self.example}")
        if self.fix:
            lines.append(f"        fix: {self.fix}")
        return "\n".join(lines)


@dataclass
class CheckResult:
    """All problems found in one raw folder, and the file used for each table."""

    raw_dir: Path
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def format(self) -> str:
        """The report printed by the CLI: errors first, then warnings, then a summary line."""
        lines = [p.format() for p in self.errors + self.warnings]
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "FAILED" if n_err else "passed"
        lines.append(
            f"check {verdict}: {n_err} error(s), {n_warn} warning(s) in {self.raw_dir}"
            + ("" if n_err else f" ({', '.join(f'{t} {n:,}' for t, n in self.rows.items())})")
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Contract
# --------------------------------------------------------------------------------------------


def find_project_dir(start: Path | None = None) -> Path:
    """Folder with dbt_project.yml: start (or cwd) and its parents, then the repo of this
    package (src/segmentation -> repo root)."""
    candidates: list[Path] = []
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    package_repo = Path(__file__).resolve().parents[2]
    candidates.append(package_repo)
    for folder in candidates:
        if (folder / "dbt_project.yml").is_file():
            return folder
    raise FileNotFoundError(
        f"dbt_project.yml not found in {here} or its parents; pass --project-dir"
    )


def project_vars(
    project_dir: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """dbt_project.yml's vars, with the build's --vars (overrides) on top, as dbt merges
    them."""
    folder = Path(project_dir) if project_dir else find_project_dir()
    with (folder / "dbt_project.yml").open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle) or {}
    variables = dict(project.get("vars") or {})
    if isinstance(variables.get(project.get("name")), dict):
        variables.update(variables.pop(project["name"]))
    variables.update(overrides or {})
    return variables


def load_contract(
    project_dir: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The raw input contract: dbt_project.yml vars ``raw_contract`` (table -> spec)."""
    folder = Path(project_dir) if project_dir else find_project_dir()
    path = folder / "dbt_project.yml"
    variables = project_vars(folder, overrides)
    contract = variables.get("raw_contract")
    if not contract:
        raise ValueError(f"{path} has no vars.raw_contract")
    return {
        table: {
            "required": bool(spec.get("required", False)),
            "columns": list(spec.get("columns") or []),
            "required_columns": list(spec.get("required_columns") or []),
        }
        for table, spec in contract.items()
    }


def load_quarantine_error_share(
    project_dir: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None
) -> float:
    """The build's limit on a raw table's quarantined share: var ``quarantine_error_share``
    (the test quarantined_share fails above it)."""
    value = project_vars(project_dir, overrides).get("quarantine_error_share")
    if value is None:
        raise ValueError("dbt_project.yml has no var 'quarantine_error_share'")
    return float(value)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


class _FileChecker:
    """Checks of one raw file; appends to ``result.problems``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        result: CheckResult,
        table: str,
        spec: dict[str, Any],
        path: Path,
        error_share: float,
        now: dt.datetime,
        rules: ParsingRules,
        in_batch: bool = False,
    ) -> None:
        self.in_batch = in_batch  # one file of a batch folder: it may have no rows
        self.con = con
        self.rules = rules
        self.result = result
        self.table = table
        self.spec = spec
        self.path = path
        self.error_share = error_share
        self.now = now
        self.is_csv = path.suffix == ".csv"
        self.present: dict[str, str] = {}
        #: rows each rule finds, summed over the rules: more than the rows quarantined when
        #: a row breaks two rules (check_quarantined_share counts them exactly if needed)
        self.flagged_upper_bound = 0

    # -- helpers ---------------------------------------------------------------------------

    def add(self, level: str, message: str, **kwargs: Any) -> None:
        self.result.problems.append(
            Problem(level, str(self.path), message, table=self.table, **kwargs)
        )

    def row_label(self, row: int) -> str:
        return f"row {row:,}" + (f" (line {row + 1:,})" if self.is_csv else "")

    @property
    def reader(self) -> str:
        if self.is_csv:
            return csv_reader(self.path, self.rules.csv_max_line_size)
        return parquet_reader(self.path)

    # -- stages ----------------------------------------------------------------------------

    def run(self) -> None:
        if self.path.stat().st_size == 0:
            self.add(
                "error",
                "the file is empty (0 bytes)",
                fix="export the table again (CSV: a header row and at least one data row)",
            )
            return
        if self.is_csv:
            if not self.check_encoding() or not self.check_header():
                return
        elif not self.check_parquet_magic():
            return
        if not self.scan_columns():
            return
        if not self.check_required_columns():
            return
        rows = self.count_rows()
        if rows is None:
            return
        self.result.rows[self.table] = self.result.rows.get(self.table, 0) + rows
        if rows == 0:
            if self.in_batch:
                return  # a batch with nothing new; the folder as a whole is checked
            if self.spec["required"]:
                self.add(
                    "error",
                    "no data rows (only a header): a required table cannot be empty",
                    fix="export the table with its rows; check the export's filters",
                )
            else:
                self.add("warning", "no data rows: the optional table is treated as empty")
            return
        if self.in_batch:
            # within the file; the same key in a later file is an update, and the value shares
            # are judged on the whole folder (_check_batch_folder)
            self.check_duplicate_keys()
            return
        self.check_values(rows)
        self.check_value_rules(rows)
        if self.table == "orders" and "status" in self.present:
            self.check_statuses(rows)
        self.check_duplicate_keys()
        if self.table == "customers":
            self.check_shared_emails()

    def check_encoding(self) -> bool:
        """UTF-8 only; UTF-16 and Latin-1/Windows-1252 are named with the first bad line."""
        with self.path.open("rb") as handle:
            head = handle.read(4096)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head.count(b"\x00") > 0:
            self.add(
                "error",
                "the file is UTF-16 encoded (byte-order mark or NUL bytes), not UTF-8",
                fix=f"re-save as UTF-8: iconv -f UTF-16 -t UTF-8 {self.path.name} > "
                f"{self.path.stem}.utf8.csv (Excel: 'CSV UTF-8 (Comma delimited)')",
            )
            return False
        bad = _first_invalid_utf8_line(self.path)
        if bad is None:
            return True
        line_no, raw_line, byte, offset = bad
        text = raw_line.decode("cp1252", errors="replace").rstrip("\r\n")
        column = self._column_at(raw_line[:offset].decode("cp1252", errors="replace"))
        self.add(
            "error",
            f"the file is not UTF-8: byte 0x{byte:02x} on line {line_no:,} is invalid UTF-8; "
            "it reads as Latin-1/Windows-1252",
            column=column,
            example=f"line {line_no:,} read as Windows-1252: {_clip(text)!r}",
            fix=f"re-save as UTF-8: iconv -f WINDOWS-1252 -t UTF-8 {self.path.name} > "
            f"{self.path.stem}.utf8.csv (Excel: 'CSV UTF-8 (Comma delimited)')",
        )
        return False

    def _column_at(self, line_prefix: str) -> str | None:
        """Header name of the CSV field in which ``line_prefix`` (start of a line) ends."""
        with self.path.open("rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
        names = next(csv.reader([header.rstrip("\r\n")]), [])
        index = len(next(csv.reader([line_prefix]), [""])) - 1
        return names[index].strip() if 0 <= index < len(names) else None

    def check_header(self) -> bool:
        """A comma-separated header row naming the columns."""
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline().rstrip("\r\n")
        if not header.strip():
            self.add(
                "error",
                "the first line is empty: no header row",
                fix="the first line must be the comma-separated column names",
            )
            return False
        fields = header.split(",")
        if len(fields) == 1:
            for delim, name in OTHER_DELIMITERS.items():
                if len(header.split(delim)) > 1:
                    self.add(
                        "error",
                        f"the file is separated by {name}, not by commas: the header is read "
                        f"as one column {_clip(header)!r}",
                        example=f"header (line 1): {_clip(header)!r}",
                        fix="re-export as comma-separated CSV, or convert it: python -c "
                        f"\"import duckdb; duckdb.sql(\\\"copy (from read_csv('{self.path.name}'"
                        f", delim='{delim.encode('unicode_escape').decode()}', all_varchar=true)"
                        f") to '{self.path.stem}.fixed.csv' (header)\\\")\"",
                    )
                    return False
        names = {f.strip().strip('"').lower() for f in fields}
        known = set(self.spec["columns"])
        if not names & known and sum(_looks_like_data(f) for f in fields) >= 1:
            self.add(
                "error",
                "no header row: the first line looks like data and names none of the "
                "contract's columns",
                example=f"line 1: {_clip(header)!r}",
                fix="add a first line with the column names: " + ",".join(self.spec["columns"]),
            )
            return False
        return True

    def check_parquet_magic(self) -> bool:
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            start = handle.read(4)
            handle.seek(max(size - 4, 0))
            end = handle.read(4)
        if start != b"PAR1" or end != b"PAR1":
            what = "does not start with" if start != b"PAR1" else "does not end with"
            self.add(
                "error",
                f"not a readable Parquet file: it {what} the Parquet magic bytes 'PAR1' "
                "(truncated copy, or another format renamed to .parquet)",
                fix="copy or export the file again; a CSV must be named .csv",
            )
            return False
        return True

    def scan_columns(self) -> bool:
        try:
            described = self.con.execute(f"describe select * from {self.reader}").fetchall()
        except duckdb.Error as exc:
            self.add_read_error(exc)
            return False
        if self.is_csv and [n for n, *_ in described] != self.header_fields():
            # DuckDB's sniffer took another line for the header: a line with another number
            # of fields makes it guess the layout again (its header is then a data row)
            if self.add_ragged_line_error():
                return False
        self.present = {}
        for name, *_ in described:
            self.present.setdefault(name.strip().lower(), name)
        return True

    def add_read_error(self, exc: Exception) -> None:
        over_long = self.is_csv and bool(
            re.search(r"maximum line size of \d+ bytes exceeded", str(exc), re.IGNORECASE)
        )
        if over_long and self.add_long_line_error():
            return
        if self.is_csv and self.add_ragged_line_error():
            return
        detail = _clip(" ".join(str(exc).split()), 400)
        kind = "CSV" if self.is_csv else "Parquet"
        fix = (
            "CSV must be UTF-8, comma-separated, with a header row and the same number of "
            "fields on every line (quote values that contain commas or line breaks)"
            if self.is_csv
            else "export the Parquet file again (it is corrupt or truncated)"
        )
        self.add("error", f"not a readable {kind} file: {detail}", fix=fix)

    def header_fields(self) -> list[str]:
        """The first line's fields, as the CSV module splits them."""
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])

    def add_ragged_line_error(self) -> bool:
        """The first line whose number of fields is not the header's, by its line number
        (quoted line breaks counted). False when every line has the header's fields."""
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader, [])
                for fields in reader:
                    if len(fields) != len(header) and fields:
                        line = reader.line_num
                        break
                else:
                    return False
            except csv.Error as exc:
                self.add(
                    "error",
                    f"malformed CSV at line {reader.line_num:,}: {exc}",
                    fix="quote a value that contains a comma, a quote or a line break, and "
                    'double the quotes inside it ("say ""hi""")',
                )
                return True
        self.add(
            "error",
            f"line {line:,} has {len(fields)} field(s), the header (line 1) has {len(header)}: "
            "the build reads no file with a malformed line (no row is skipped silently)",
            example=f"line {line:,}: {_clip(','.join(fields))!r}",
            fix='quote values that contain commas ("Smith, Ann"), or remove the extra '
            "fields; every line must have the header's number of fields",
        )
        return True

    def add_long_line_error(self) -> bool:
        """The first line over the limit, by its real line number, and the setting to change.
        False when no physical line is that long (a quoted value spanning lines): the
        generic message is given then."""
        limit = self.rules.csv_max_line_size
        with self.path.open("rb") as handle:
            hit = next(
                ((n, line) for n, line in enumerate(handle, start=1) if len(line) > limit), None
            )
        if hit is None:
            return False
        number, line = hit
        self.add(
            "error",
            f"line {number:,} is {len(line):,} bytes long, over the maximum line size of "
            f"{limit:,} bytes (a field that long is usually a document, an image or a whole "
            "export pasted into one cell)",
            example=f"line {number:,}: {_clip(line.decode('utf-8', 'replace').strip(), 80)}",
            fix="remove or shorten that field in the export; or, if such values are real, "
            f"raise var raw_csv_max_line_size in dbt_project.yml (now {limit}), e.g. "
            f"raw_csv_max_line_size: {max(2 * limit, len(line) + 1024)}; the dbt hook and "
            "`segmentation check` both read it",
        )
        return True

    def check_required_columns(self) -> bool:
        found = ", ".join(self.present.values())
        missing = [c for c in self.spec["required_columns"] if c not in self.present]
        for col in missing:
            close = [n for k, n in self.present.items() if _similar(k, col)]
            hint = f" (a column {close[0]!r} looks similar)" if close else ""
            self.add(
                "error",
                f"required column {col!r} is missing{hint}; columns found: {_clip(found, 300)}",
                column=col,
                fix=f"add or rename the column to {col!r} (names are matched ignoring case and "
                "surrounding spaces)",
            )
        absent = [
            c
            for c in self.spec["columns"]
            if c not in self.present and c not in self.spec["required_columns"]
        ]
        if absent:
            self.add(
                "warning",
                f"contract column(s) {', '.join(absent)} absent: read as empty on every row",
                column=", ".join(absent),
                fix="add the column(s) if the source has them",
            )
        return not missing

    def count_rows(self) -> int | None:
        try:
            return int(self.con.execute(f"select count(*) from {self.reader}").fetchone()[0])
        except duckdb.Error as exc:
            self.add_read_error(exc)
            return None

    # -- value checks ------------------------------------------------------------------------

    def _numbered(self) -> str:
        return f"(select row_number() over () as _row, * from {self.reader})"

    def _text(self, col: str) -> str:
        """The value as staging reads it: trimmed text, null tokens missing (parsing.py)."""
        return parsing.clean_string(_ident(self.present[col]), self.rules)

    def _parsed(self, col: str) -> str | None:
        text = self._text(col)
        if col in INTEGER_COLUMNS:
            as_double = f"try_cast({text} as double)"
            return f"case when {as_double} = floor({as_double}) then {as_double} end"
        if col in MONEY_COLUMNS:
            return f"try_cast({text} as decimal(18, 4))"
        if col in TIMESTAMP_COLUMNS:
            return parsing.parse_timestamp(_ident(self.present[col]), self.rules)
        if col in DATE_COLUMNS:
            return f"try_cast({text} as date)"
        return None

    def _example(self, condition: str, col: str) -> str | None:
        sql = (
            f"select _row, cast({_ident(self.present[col])} as varchar) from {self._numbered()} "
            f"where {condition} order by _row limit 1"
        )
        hit = self.con.execute(sql).fetchone()
        return f"{self.row_label(hit[0])}: {_show(hit[1])}" if hit else None

    def check_values(self, rows: int) -> None:
        typed = [c for c in self.spec["columns"] if c in self.present and self._parsed(c)]
        required = [c for c in self.spec["required_columns"] if c in self.present]
        exprs: list[str] = []
        for col in typed:
            text, parsed = self._text(col), self._parsed(col)
            exprs.append(f"count({text})")
            exprs.append(f"count(*) filter (where {text} is not null and {parsed} is null)")
            if col in TIMESTAMP_COLUMNS:
                cutoff = f"timestamp '{self.now:%Y-%m-%d %H:%M:%S}'"
                exprs.append(f"count(*) filter (where {parsed} > {cutoff})")
        for col in required:
            exprs.append(f"count(*) filter (where {self._text(col)} is null)")
        if not exprs:
            return
        try:
            stats = list(
                self.con.execute(f"select {', '.join(exprs)} from {self.reader}").fetchone()
            )
        except duckdb.Error as exc:
            self.add_read_error(exc)
            return
        for col in typed:
            nonempty, bad = stats.pop(0), stats.pop(0)
            future = stats.pop(0) if col in TIMESTAMP_COLUMNS else 0
            if (self.table, col) not in KEPT_WHEN_UNPARSEABLE:
                self.flagged_upper_bound += bad
            self.flagged_upper_bound += future
            if bad:
                self._report_unparseable(col, nonempty, bad)
            if future:
                parsed = self._parsed(col)
                example = self._example(f"{parsed} > timestamp '{self.now:%Y-%m-%d %H:%M:%S}'", col)
                self.add(
                    "warning",
                    f"{future:,} value(s) lie in the future: staging quarantines these rows "
                    f"(reject_reason future_{col})",
                    column=col,
                    example=example,
                    fix="check the source's clock/time zone; timestamps must be UTC",
                )
        for col in required:
            empty = stats.pop(0)
            self.flagged_upper_bound += empty
            if not empty:
                continue
            example = self._example(f"{self._text(col)} is null", col)
            if empty == rows:
                self.add(
                    "error",
                    f"required column {col!r} is empty on every row ({rows:,} rows)",
                    column=col,
                    example=example,
                    fix=f"fill {col!r}; is the right column mapped to this name?",
                )
            else:
                self.add(
                    "warning",
                    f"{empty:,} of {rows:,} rows have no {col}: staging quarantines them "
                    f"(reject_reason missing_{col})",
                    column=col,
                    example=example,
                    fix=f"fill {col!r} in the source if these rows matter",
                )

    def check_value_rules(self, rows: int) -> None:
        """Values that parse but that staging quarantines (negative prices, zero quantities)."""
        for table, col, condition, reason in VALUE_RULES:
            if table != self.table or col not in self.present:
                continue
            parsed = self._parsed(col)
            try:
                (bad,) = self.con.execute(
                    f"select count(*) from {self.reader} where {parsed} {condition}"
                ).fetchone()
            except duckdb.Error:
                continue
            self.flagged_upper_bound += bad
            if bad:
                self.add(
                    "error" if bad > rows * self.error_share else "warning",
                    f"{bad:,} of {rows:,} rows have {col} {condition}: "
                    f"staging quarantines them (reject_reason {reason})",
                    column=col,
                    example=self._example(f"{parsed} {condition}", col),
                    fix=f"{col} must be {'above' if '<=' in condition else 'at least'} 0; "
                    + (
                        "write the amount refunded as a positive number"
                        if self.table == "returns"
                        else "a refund, credit or cancellation belongs in returns or in the "
                        "order status, not as a negative value"
                    ),
                )

    def unknown_status(self) -> str:
        """SQL condition: the order's status is one var order_statuses does not map."""
        status = parsing.order_status(_ident(self.present["status"]), self.rules)
        known = ", ".join(parsing.sql_text_literal(s) for s in parsing.ORDER_STATUSES)
        return f"{status} not in ({known})"

    def orphan(self, column: str, parent: _FileChecker) -> str:
        """SQL condition: the row's id in ``column`` is not a key of the parent's file."""
        key, parent_key = self._text(column), parent._text(column)
        return (
            f"{key} not in (select {parent_key} from {parent.reader} "
            f"where {parent_key} is not null)"
        )

    def check_statuses(self, rows: int) -> None:
        """Order statuses that var order_statuses does not map: quarantined as unknown_status."""
        unknown_status = self.unknown_status()
        raw = parsing.clean_enum(_ident(self.present["status"]), self.rules)
        unknown = self.con.execute(
            f"select {raw} as value, count(*) as n from {self.reader} "
            f"where {unknown_status} group by 1 order by n desc, value"
        ).fetchall()
        if not unknown:
            return
        bad = sum(n for _, n in unknown)
        self.flagged_upper_bound += bad
        values = ", ".join(f"{value!r} ({n:,})" for value, n in unknown[:5])
        self.add(
            "error" if bad > rows * self.error_share else "warning",
            f"{bad:,} of {rows:,} orders have a status staging does not know: {values}; they "
            "are quarantined (reject_reason unknown_status)",
            column="status",
            example=self._example(unknown_status, "status"),
            fix="map them in var order_statuses (dbt_project.yml) onto placed, shipped, "
            "delivered or cancelled, e.g. WooCommerce 'wc-completed': delivered, "
            "'processing': placed (a refund belongs in returns)",
        )

    def _report_unparseable(self, col: str, nonempty: int, bad: int) -> None:
        share = bad / nonempty if nonempty else 0.0
        parsed = self._parsed(col)
        example_sql = (
            f"select _row, cast({_ident(self.present[col])} as varchar) from {self._numbered()} "
            f"where {self._text(col)} is not null and {parsed} is null order by _row limit 1"
        )
        hit = self.con.execute(example_sql).fetchone()
        example = f"{self.row_label(hit[0])}: {_show(hit[1])}" if hit else None
        value = str(hit[1]) if hit else ""
        what = _expected_format(col)
        counts = f"{bad:,} of {nonempty:,} non-empty values ({share:.1%}) are not {what}"
        if share > self.error_share:
            self.add(
                "error",
                f"{counts}: most values fail, so this is probably the wrong column or a "
                "different format",
                column=col,
                example=example,
                fix=_format_fix(col, value),
            )
        else:
            outcome = UNPARSEABLE_OUTCOME.get(
                (self.table, col),
                f"these rows will be quarantined (reject_reason unparseable_{col})",
            )
            self.add(
                "warning",
                f"{counts}: {outcome}",
                column=col,
                example=example,
                fix=_format_fix(col, value),
            )

    def check_duplicate_keys(self) -> None:
        key = [c for c in KEYS.get(self.table, ()) if c in self.present]
        if not key or len(key) != len(KEYS[self.table]):
            return
        texts = [self._text(c) for c in key]
        not_null = " and ".join(f"{t} is not null" for t in texts)
        sql = (
            f"select {', '.join(texts)}, count(*) as n, min(_row) as first_row, "
            f"max(_row) as last_row from {self._numbered()} where {not_null} "
            f"group by all having count(*) > 1"
        )
        try:
            hit = self.con.execute(
                f"select count(*) over (), sum(n - 1) over (), * from ({sql}) "
                "order by first_row limit 1"
            ).fetchone()
        except duckdb.Error:
            return
        if not hit:
            return
        groups, extra, *values = hit
        self.flagged_upper_bound += extra
        key_text = ", ".join(f"{c}={v!r}" for c, v in zip(key, values[: len(key)], strict=True))
        self.add(
            "warning",
            f"{groups:,} key value(s) occur more than once ({extra:,} extra rows): staging keeps "
            f"one row per key and quarantines the others (reject_reason duplicate_...)",
            column=", ".join(key),
            example=f"{key_text} on {self.row_label(values[-2])} and {self.row_label(values[-1])}",
            fix="export each key once (check joins in the export query)",
        )

    def rejected_conditions(self, parents: list[tuple[str, _FileChecker]]) -> list[str]:
        """SQL conditions, one per rule these checks know, under which staging quarantines a
        row of this table: unparseable, future or missing values, the value rules, unknown
        statuses, and ids without a row in the parent's file (parents: column, checker)."""
        cutoff = f"timestamp '{self.now:%Y-%m-%d %H:%M:%S}'"
        conditions = []
        for col in self.spec["columns"]:
            parsed = self._parsed(col) if col in self.present else None
            if parsed is None:
                continue
            if (self.table, col) not in KEPT_WHEN_UNPARSEABLE:
                conditions.append(f"({self._text(col)} is not null and {parsed} is null)")
            if col in TIMESTAMP_COLUMNS:
                conditions.append(f"{parsed} > {cutoff}")
        for col in self.spec["required_columns"]:
            if col in self.present:
                conditions.append(f"{self._text(col)} is null")
        for table, col, condition, _ in VALUE_RULES:
            if table == self.table and col in self.present:
                conditions.append(f"{self._parsed(col)} {condition}")
        if self.table == "orders" and "status" in self.present:
            conditions.append(self.unknown_status())
        for column, parent in parents:
            if column in self.present and column in parent.present:
                conditions.append(self.orphan(column, parent))
        return [f"coalesce({c}, false)" for c in conditions]

    def check_quarantined_share(
        self, rows: int, limit: float, parents: list[tuple[str, _FileChecker]]
    ) -> None:
        """The build stops when staging quarantines more than var quarantine_error_share of a
        raw table's rows (test quarantined_share): an error when the rows these checks expect
        to be quarantined, all rules together, are already more than that. Rows of a key
        that occurs again in the same file count once (staging keeps one of them)."""
        if self.flagged_upper_bound <= rows * limit:
            return  # the rules' counts summed are within the limit: so are the rows
        conditions = self.rejected_conditions(parents)
        if not rows or not conditions:
            return
        flagged = " or ".join(conditions)
        key = [c for c in KEYS.get(self.table, ()) if c in self.present]
        if isinstance(self, _FolderChecker) or len(key) != len(KEYS.get(self.table, ())):
            # a key in a later batch file is an update, not a duplicate
            sql = f"select count(*) filter (where {flagged}), 0, 0 from {self.reader}"
        else:
            # the extra rows of a key among the rows no other rule quarantines: those rows
            # less their distinct keys (one aggregate; no sort of the rows)
            texts = ", ".join(self._text(c) for c in key)
            not_null = " and ".join(f"{self._text(c)} is not null" for c in key)
            valid = f"not ({flagged}) and {not_null}"
            sql = (
                f"select count(*) filter (where {flagged}), count(*) filter (where {valid}), "
                f"count(distinct ({texts})) filter (where {valid}) from {self.reader}"
            )
        try:
            flagged_rows, keyed, distinct_keys = self.con.execute(sql).fetchone()
        except duckdb.Error:
            return
        rejected = flagged_rows + keyed - distinct_keys
        if rejected > rows * limit:
            self.add(
                "error",
                f"at least {rejected:,} of {rows:,} rows ({rejected / rows:.1%}) will be "
                f"quarantined, the reasons these checks know together: more than the build allows "
                f"(var quarantine_error_share, {limit:.0%}), so dbt build stops at the test "
                "quarantined_share before any mart",
                fix="fix the export (the warnings above name each reason), or, for a data set "
                "where this is expected, raise the limit: --vars "
                f"'{{quarantine_error_share: {min(1.0, round(rejected / rows + 0.05, 2))}}}'",
            )

    def check_shared_emails(self) -> None:
        if "email" not in self.present or "customer_id" not in self.present:
            return
        email = f"lower({self._text('email')})"
        sql = (
            f"select {email} as email, count(distinct {self._text('customer_id')}) as ids, "
            f"min(_row) as first_row from {self._numbered()} where {email} is not null "
            "group by 1 having count(distinct " + self._text("customer_id") + ") > 1"
        )
        summary = self.con.execute(
            f"select count(*), arg_min(email, first_row), min(first_row) from ({sql})"
        ).fetchone()
        if not summary[0]:
            return
        self.add(
            "warning",
            f"{summary[0]:,} email address(es) (ignoring case and spaces) belong to several "
            "customer ids: they are kept as separate customers (not merged)",
            column="email",
            example=f"{self.row_label(summary[2])}: {summary[1]!r}",
            fix="merge the accounts in the source if they are the same person",
        )


class _FolderChecker(_FileChecker):
    """A batch folder ``<table>/`` read as one table (its files in file-name order, every
    column as text), for the checks judged on the whole table: the shares of unparseable and
    out-of-range values, statuses, shared emails and foreign keys between tables. Each file is
    checked on its own by a ``_FileChecker`` first (readability, columns, duplicates)."""

    def __init__(self, files: list[_FileChecker], folder: Path) -> None:
        first = files[0]
        super().__init__(
            first.con,
            first.result,
            first.table,
            first.spec,
            folder,
            first.error_share,
            first.now,
            first.rules,
        )
        self.files = files
        self.present = {}
        for checker in files:
            for key, name in checker.present.items():
                self.present.setdefault(key, name)

    def row_label(self, row: int) -> str:
        return f"row {row:,} of the folder's files in name order"

    @property
    def reader(self) -> str:
        columns = sorted(self.present)
        selects = []
        for checker in self.files:
            cols = ", ".join(
                f"cast({_ident(checker.present[c])} as varchar) as {_ident(self.present[c])}"
                if c in checker.present
                else f"cast(null as varchar) as {_ident(self.present[c])}"
                for c in columns
            )
            selects.append(f"select {cols} from {checker.reader}")
        return "(" + " union all ".join(selects) + ")"


def batch_files(folder: Path) -> list[Path]:
    """The data files of a batch folder (``*.parquet`` and ``*.csv``) in file-name order, as
    the dbt hook reads them (find_batch_files)."""
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix in (".parquet", ".csv")),
        key=lambda p: p.name,
    )


def _first_invalid_utf8_line(
    path: Path, block: int = 1 << 20
) -> tuple[int, bytes, int, int] | None:
    """(line number, raw line, offending byte, its offset in the line) of the first invalid
    UTF-8 line, or None when the whole file is valid UTF-8."""
    lines_before = 0
    carry = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(block)
            data = carry + chunk
            if not data:
                return None
            carry = b""
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                truncated = exc.reason == "unexpected end of data" and chunk
                if truncated:  # a character split over two blocks: finish it next round
                    carry, data = data[exc.start :], data[: exc.start]
                else:
                    line_start = data.rfind(b"\n", 0, exc.start) + 1
                    line_end = data.find(b"\n", exc.start)
                    line = data[line_start : line_end if line_end >= 0 else len(data)]
                    line_no = lines_before + data.count(b"\n", 0, exc.start) + 1
                    return line_no, line, data[exc.start], exc.start - line_start
            lines_before += data.count(b"\n")
            if not chunk:
                return None


def _show(value: object) -> str:
    """A value for an example: quoted text, or (empty)."""
    return "(empty)" if value is None or str(value).strip() == "" else repr(str(value))


def _looks_like_data(value: str) -> bool:
    text = value.strip().strip('"')
    return bool(
        re.fullmatch(r"-?\d+([.,]\d+)?", text)
        or re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text)
        or "@" in text
    )


def _similar(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", s.lower())

    return norm(a) == norm(b) and a != b


def _clip(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _expected_format(col: str) -> str:
    if col in INTEGER_COLUMNS:
        return "whole numbers"
    if col in MONEY_COLUMNS:
        return "numbers"
    if col in DATE_COLUMNS:
        return "dates"
    return "timestamps"


def _format_fix(col: str, value: str) -> str:
    """How to write the column, with a hint for the format the example value is in."""
    text = value.strip()
    if col in INTEGER_COLUMNS or col in MONEY_COLUMNS:
        if re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+", text):
            return (
                "decimal comma: write numbers with '.' as the decimal separator and no "
                "thousands separator (e.g. 1234.50, not 1.234,50)"
            )
        if re.search(r"[€$£]|EUR|USD|GBP", text):
            return "remove the currency symbol: plain numbers such as 12.50"
        if col in INTEGER_COLUMNS:
            return f"write {col} as a whole number such as 3 (no text, fractions or units)"
        return f"write {col} as a plain number such as 12.50 (no text, units or separators)"
    if col in DATE_COLUMNS:
        return "write dates as YYYY-MM-DD (e.g. 1980-12-31)"
    if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}.*", text):
        return (
            "day-first/month-first dates are ambiguous: write YYYY-MM-DD HH:MM:SS or ISO-8601, "
            "UTC (e.g. 2024-03-01 14:05:00)"
        )
    if re.fullmatch(r"\d{9,13}", text):
        return "epoch numbers are not accepted: convert to YYYY-MM-DD HH:MM:SS (UTC)"

    return (
        "write timestamps as YYYY-MM-DD HH:MM:SS (UTC, e.g. 2024-03-01 14:05:00) or ISO-8601 "
        "with an offset (2024-03-01T14:05:00+02:00, +0200 or Z; 12-hour '01:05:00 PM' works "
        "too), or add the export's strptime format to the var raw_timestamp_formats"
    )


def _near_misses(raw_dir: Path, table: str) -> list[str]:
    """Files that look like the table but are not named <table>.parquet / <table>.csv."""
    if not raw_dir.is_dir():
        return []
    hits = []
    for entry in sorted(raw_dir.iterdir()):
        name = entry.name
        if name in (f"{table}.parquet", f"{table}.csv"):
            continue
        if name.lower().split(".")[0] == table:
            hits.append(name)
    return hits


def check_raw_folder(
    raw_dir: str | os.PathLike[str],
    contract: dict[str, dict[str, Any]] | None = None,
    *,
    error_share: float = DEFAULT_ERROR_SHARE,
    now: dt.datetime | None = None,
    tables: Iterable[str] | None = None,
    rules: ParsingRules | None = None,
    quarantine_share: float | None = None,
) -> CheckResult:
    """Check a raw folder against the contract, the parsing rules and the build's limit on
    a table's quarantined share (default: this project's dbt_project.yml)."""
    folder = Path(raw_dir)
    contract = contract if contract is not None else load_contract()
    rules = rules if rules is not None else ParsingRules.from_project(find_project_dir())
    if quarantine_share is None:
        quarantine_share = load_quarantine_error_share()
    result = CheckResult(folder)
    if not folder.is_dir():
        result.problems.append(
            Problem(
                "error",
                str(folder),
                "the raw folder is a file, not a folder"
                if folder.exists()
                else "the raw folder does not exist",
                fix="pass the folder with the raw files (one file or folder per table), or set "
                "SEGMENTATION_RAW",
            )
        )
        return result
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    readable: dict[str, _FileChecker] = {}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as the dbt profile: text without an offset is UTC
    try:
        for table, spec in contract.items():
            if tables is not None and table not in tables:
                continue
            parquet, csv = folder / f"{table}.parquet", folder / f"{table}.csv"
            found = [p for p in (parquet, csv) if p.is_file()]
            batch_dir = folder / table
            if batch_dir.is_dir() and any(p.is_file() for p in batch_dir.iterdir()):
                checker = _check_batch_folder(
                    con, result, table, spec, batch_dir, found, error_share, now, rules
                )
                if checker is not None:
                    readable[table] = checker
                continue
            if len(found) == 2:
                result.problems.append(
                    Problem(
                        "error",
                        f"{parquet} + {csv}",
                        f"table {table!r} is there twice (Parquet and CSV): ambiguous",
                        table=table,
                        fix="keep one file per table: delete or move the one that is not current",
                    )
                )
                continue
            folders = [p for p in (parquet, csv) if p.is_dir()]
            if not found and folders:
                parts = sorted(x.name for x in folders[0].iterdir() if not x.name.startswith("_"))
                suffix = folders[0].suffix
                reader = "read_csv" if suffix == ".csv" else "read_parquet"
                options = " (header)" if suffix == ".csv" else ""
                result.problems.append(
                    Problem(
                        "error",
                        str(folders[0]),
                        f"{folders[0].name} is a folder ({len(parts)} part file(s), e.g. "
                        f"{', '.join(parts[:2]) or 'none'}), as Spark or Hive write a table; "
                        f"the contract wants one file {table}.parquet or {table}.csv",
                        table=table,
                        fix=f"write one file (Spark: df.coalesce(1), or combine the parts: "
                        f"duckdb -c \"copy (select * from {reader}('{folders[0]}/*{suffix}')) "
                        f"to '{folder / (table + '.single' + suffix)}'{options}\"), then "
                        "replace the folder with it",
                    )
                )
                continue
            if not found:
                near = _near_misses(folder, table)
                hint = f" (found {', '.join(near)}: wrong name or format?)" if near else ""
                expected = f"{parquet} or {csv}"
                if spec["required"]:
                    result.problems.append(
                        Problem(
                            "error",
                            expected,
                            f"required table {table!r} is missing{hint}",
                            table=table,
                            fix=f"export {table} as {table}.parquet or {table}.csv (UTF-8, "
                            "comma-separated, header row) into the raw folder",
                        )
                    )
                else:
                    result.problems.append(
                        Problem(
                            "warning",
                            expected,
                            f"optional table {table!r} not found: treated as empty{hint}",
                            table=table,
                        )
                    )
                continue
            result.files[table] = found[0]
            checker = _FileChecker(con, result, table, spec, found[0], error_share, now, rules)
            before = len(result.errors)
            checker.run()
            if len(result.errors) == before:
                readable[table] = checker
        for child, column, parent in FOREIGN_KEYS:
            if child in readable and parent in readable:
                _check_foreign_key(readable[child], column, readable[parent], error_share)
        for table, checker in readable.items():
            parents = [
                (column, readable[parent])
                for child, column, parent in FOREIGN_KEYS
                if child == table and parent in readable
            ]
            checker.check_quarantined_share(result.rows.get(table, 0), quarantine_share, parents)
    finally:
        con.close()
    return result


def _check_batch_folder(
    con: duckdb.DuckDBPyConnection,
    result: CheckResult,
    table: str,
    spec: dict[str, Any],
    batch_dir: Path,
    single_files: list[Path],
    error_share: float,
    now: dt.datetime,
    rules: ParsingRules,
) -> _FolderChecker | None:
    """Check every file of the batch folder ``<table>/`` on its own, then the folder as a
    whole (a required table needs rows in some file). The folder's checker when no file has
    an error, else None."""
    if single_files:
        result.problems.append(
            Problem(
                "error",
                f"{single_files[0]} + {batch_dir}/",
                f"table {table!r} is there twice (a single file and a batch folder): ambiguous",
                table=table,
                fix=f"move {single_files[0].name} into {batch_dir}/ as its first batch (files "
                "are applied in name order), or remove the folder",
            )
        )
        return None
    files = batch_files(batch_dir)
    odd = [p for p in files if set(p.name) & set("'*?[]{}")]
    if odd:
        result.problems.append(
            Problem(
                "error",
                str(odd[0]),
                "a batch file name may not contain ' * ? [ ] { } (DuckDB reads them as a "
                "quote or a file pattern)",
                table=table,
                fix="rename the file",
            )
        )
        return None
    if not files:
        result.problems.append(
            Problem(
                "error",
                f"{batch_dir}/",
                "the batch folder holds no .parquet or .csv files",
                table=table,
                fix=f"put the {table} batch files in it, or remove the folder",
            )
        )
        return None
    before = len(result.errors)
    checkers = []
    result.rows[table] = 0
    for path in files:
        checker = _FileChecker(con, result, table, spec, path, error_share, now, rules, True)
        checker.run()
        checkers.append(checker)
    result.files[table] = batch_dir
    if len(result.errors) > before:
        return None
    if result.rows[table] == 0 and spec["required"]:
        result.problems.append(
            Problem(
                "error",
                f"{batch_dir}/",
                f"no data rows in any of its {len(files)} file(s): a required table cannot "
                "be empty",
                table=table,
                fix="export the table with its rows; check the export's filters",
            )
        )
        return None
    folder = _FolderChecker(checkers, batch_dir)
    rows = result.rows[table]
    folder.check_values(rows)
    folder.check_value_rules(rows)
    if table == "orders" and "status" in folder.present:
        folder.check_statuses(rows)
    if table == "customers":
        folder.check_shared_emails()
    return folder if len(result.errors) == before else None


#: (child table, id column, parent table): each child id must be a parent's key (same column
#: name), or staging quarantines the child row (unknown_customer, unknown_order, ...).
FOREIGN_KEYS: tuple[tuple[str, str, str], ...] = (
    ("orders", "customer_id", "customers"),
    ("order_items", "order_id", "orders"),
    ("returns", "order_id", "orders"),
    ("sessions", "customer_id", "customers"),
)

#: The reject reason staging gives a child row without its parent.
ORPHAN_REASON = {
    "orders": "unknown_customer",
    "order_items": "unknown_order",
    "returns": "unknown_order_line",
    "sessions": "unknown_customer",
}

#: Why ids that do not match might still be the same ids, written differently: (name, SQL
#: normalisation of a cleaned id `{k}`, what happened, how to fix the export). Tried in order
#: on both sides; the first that makes most unmatched ids match is reported.
ID_MISMATCHES: tuple[tuple[str, str, str, str], ...] = (
    (
        "float-formatted integers",
        "regexp_replace({k}, '\\.0+$', '')",
        "one file writes the ids as decimal numbers ('10.0'), the other as whole numbers "
        "('10'): the ids went through a float column (pandas does this to an integer column "
        "with missing values)",
        "export the ids as text, e.g. df[col].astype('Int64').astype(str) in pandas, or read "
        "the source with dtype=str",
    ),
    (
        "leading zeros",
        "ltrim({k}, '0')",
        "the same numbers with and without leading zeros ('000123' against '123'): one export "
        "stored the ids as integers (or Excel dropped the zeros). Leading zeros are part of an "
        "id, so they are not guessed back",
        "export the ids as text with their leading zeros in both files",
    ),
    (
        "letter case",
        "lower({k})",
        "the same ids in different upper/lower case: ids are case-sensitive",
        "export the ids with the same case in both files",
    ),
    (
        "number formatting",
        "ltrim(regexp_replace({k}, '\\.0+$', ''), '0')",
        "the same numbers written as decimals ('1.0') and with or without leading zeros "
        "('00000001'): the ids went through a numeric column in one export",
        "export the ids as text with their leading zeros in both files",
    ),
)

SCIENTIFIC = r"^[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"


def _check_foreign_key(
    child: _FileChecker, column: str, parent: _FileChecker, error_share: float
) -> None:
    """Report child rows whose id has no parent row, and say why when a pattern explains it."""
    if column not in child.present or column not in parent.present:
        return
    con = child.con
    child_key, parent_key = child._text(column), parent._text(column)
    unmatched_sql = (
        f"select _row, {child_key} as k, cast({_ident(child.present[column])} as varchar) as raw "
        f"from {child._numbered()} where {child_key} is not null and "
        f"{child.orphan(column, parent)}"
    )
    try:
        rows, unmatched = con.execute(
            f"select (select count({child_key}) from {child.reader}), "
            f"(select count(*) from ({unmatched_sql}))"
        ).fetchone()
    except duckdb.Error:
        return
    child.flagged_upper_bound += unmatched
    if not unmatched:
        return
    share = unmatched / rows if rows else 0.0
    first = con.execute(f"select _row, raw from ({unmatched_sql}) order by _row limit 1").fetchone()
    example = f"{child.row_label(first[0])}: {_show(first[1])}, not in {parent.path.name}"
    why, fix = None, None
    scientific = con.execute(
        f"select count(*) from ({unmatched_sql}) where regexp_matches(k, '{SCIENTIFIC}')"
    ).fetchone()[0]
    if scientific >= unmatched / 2:
        why = (
            f"{scientific:,} of them are in scientific notation ({_show(first[1])}): a "
            "spreadsheet turned long numeric ids into numbers and their digits are lost"
        )
        fix = (
            f"export {column} as text from the source (in Excel, format the column as Text "
            "before pasting or saving), then export the file again"
        )
    else:
        for name, normalise, what, how in ID_MISMATCHES:
            k_child, k_parent = normalise.format(k="u.k"), normalise.format(k="p.k")
            hit = con.execute(
                f"select count(distinct u._row), arg_min(u.raw, u._row), arg_min(p.k, u._row) "
                f"from ({unmatched_sql}) u "
                f"join (select distinct {parent_key} as k from {parent.reader}) p "
                f"on {k_child} = {k_parent}"
            ).fetchone()
            if hit[0] >= unmatched / 2:
                why = f"{hit[0]:,} of them differ only by {name} ({hit[1]!r} vs {hit[2]!r}): {what}"
                fix = how
                break
    counts = (
        f"{unmatched:,} of {rows:,} rows ({share:.1%}) have {column} values that are not in "
        f"{parent.path.name}: staging quarantines them (reject_reason "
        f"{ORPHAN_REASON[child.table]})"
    )
    level = "error" if share > error_share else "warning"
    child.add(
        level,
        counts + (f"; {why}" if why else ""),
        column=column,
        example=example,
        fix=fix or f"check that {child.path.name} and {parent.path.name} come from the same export",
    )


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"a share from 0 to 1: {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``segmentation check``."""
    parser.add_argument(
        "raw_dir",
        nargs="?",
        default=None,
        metavar="RAW_DIR",
        help="raw folder (default: env SEGMENTATION_RAW, else data/raw)",
    )
    parser.add_argument(
        "--project-dir",
        default=None,
        help="folder with dbt_project.yml (the contract); default: found from the current "
        "folder or this package",
    )
    parser.add_argument(
        "--error-share",
        type=_share,
        default=DEFAULT_ERROR_SHARE,
        help="share of unparseable values in a numeric/timestamp column above which it is an "
        "error rather than a warning (default %(default)s)",
    )
    parser.add_argument(
        "--vars",
        default=None,
        metavar="YAML",
        help="the build's dbt vars, as given to dbt build --vars (e.g. \"{quarantine_error_"
        "share: 0.5}\"): they override dbt_project.yml's, as in the build (the contract, the "
        "parsing rules, order_statuses, quarantine_error_share); make run passes its VARS",
    )


def main(args: argparse.Namespace) -> int:
    """Run the checks; print the report; 1 on any error, else 0."""
    raw_dir = args.raw_dir or os.environ.get("SEGMENTATION_RAW") or "data/raw"
    try:
        given = getattr(args, "vars", None)
        overrides = yaml.safe_load(given) if given else {}
        if not isinstance(overrides, dict):
            raise ValueError(f"--vars must be a YAML mapping, got {given!r}")
        contract = load_contract(args.project_dir, overrides)
        rules = ParsingRules.from_vars(project_vars(args.project_dir, overrides))
        quarantine_share = load_quarantine_error_share(args.project_dir, overrides)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = check_raw_folder(
        raw_dir,
        contract,
        error_share=args.error_share,
        rules=rules,
        quarantine_share=quarantine_share,
    )
    print(result.format())
    return 0 if result.ok else 1

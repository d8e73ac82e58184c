"""`segmentation check`: the preflight of a raw folder, on small hand-made files (no dbt).

File-level defects from the catalogue are also run through the CLI and the dbt hook in
test_defects.py; these tests pin the details: contract source, case-insensitive columns,
error vs warning thresholds, example rows and line numbers, encodings and exit codes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from segmentation import cli, preflight
from segmentation.preflight import check_raw_folder, load_contract

REPO = Path(__file__).resolve().parents[2]

HEADERS = {
    "customers": ["customer_id", "email", "signup_at"],
    "orders": ["order_id", "customer_id", "ordered_at", "status"],
    "order_items": ["order_id", "line_number", "product_id", "quantity", "unit_price"],
}


def _write(path: Path, header: list[str], rows: list[list[object]], **kw) -> Path:
    with path.open("w", newline="", encoding=kw.pop("encoding", "utf-8")) as handle:
        writer = csv.writer(handle, **kw)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_folder(folder: Path, n: int = 20) -> Path:
    """A minimal valid raw folder: the three required tables as CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "customers.csv",
        HEADERS["customers"],
        [[f"{i:04d}", f"u{i}@x.com", "2024-01-01 10:00:00"] for i in range(n)],
    )
    _write(
        folder / "orders.csv",
        HEADERS["orders"],
        [[f"O{i}", f"{i:04d}", "2024-02-01T10:00:00Z", "delivered"] for i in range(n)],
    )
    _write(
        folder / "order_items.csv",
        HEADERS["order_items"],
        [[f"O{i}", 1, "P1", 2, "9.99"] for i in range(n)],
    )
    return folder


def _messages(result: preflight.CheckResult, level: str) -> list[str]:
    return [p.format() for p in result.problems if p.level == level]


def test_contract_is_read_from_dbt_project_yml():
    contract = load_contract(REPO)
    assert set(contract) == {
        "customers",
        "orders",
        "order_items",
        "returns",
        "products",
        "sessions",
    }
    assert contract["order_items"]["required"] is True
    assert contract["returns"]["required"] is False
    assert "quantity" in contract["order_items"]["required_columns"]


def test_project_dir_is_found_from_the_package_when_cwd_is_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert preflight.find_project_dir() == REPO


def test_clean_folder_passes_with_warnings_for_optional_tables(tmp_path):
    result = check_raw_folder(make_folder(tmp_path / "raw"))
    assert result.ok, result.format()
    warnings = "\n".join(_messages(result, "warning"))
    for table in ("returns", "products", "sessions"):
        assert f"optional table '{table}' not found" in warnings
    assert result.rows == {"customers": 20, "orders": 20, "order_items": 20}


def test_generated_parquet_folder_passes_without_problems(tmp_path):
    from segmentation.generate import generate

    generate(customers=150, seed=1, out_dir=tmp_path / "raw", truth_dir=tmp_path / "truth")
    result = check_raw_folder(tmp_path / "raw")
    assert result.problems == [], result.format()


def test_column_names_match_ignoring_case_and_spaces(tmp_path):
    raw = make_folder(tmp_path / "raw")
    _write(
        raw / "customers.csv",
        [" Customer_ID ", "EMAIL", "Signup_At"],
        [[f"{i:04d}", "a@x.com", "2024-01-01"] for i in range(20)],
    )
    result = check_raw_folder(raw)
    assert result.ok, result.format()


def test_missing_required_column_names_file_column_and_similar_name(tmp_path):
    raw = make_folder(tmp_path / "raw")
    _write(raw / "order_items.csv", ["order_id", "line_number", "qty", "unit_price"], [])
    result = check_raw_folder(raw)
    (error,) = result.errors
    assert error.file.endswith("order_items.csv")
    assert error.column == "quantity"
    assert "columns found: order_id, line_number, qty, unit_price" in error.message
    assert error.fix


def test_a_few_unparseable_values_warn_with_example_row_and_line(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", 1, "P1", 2, "9.99"] for i in range(20)]
    rows[6][3] = "two"
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    result = check_raw_folder(raw)
    assert result.ok
    (warning,) = [p for p in result.warnings if p.column == "quantity"]
    assert "1 of 20 non-empty values (5.0%)" in warning.message
    assert "unparseable_quantity" in warning.message
    assert warning.example == "row 7 (line 8): 'two'"


def test_most_values_unparseable_is_an_error_with_a_format_hint(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", 1, "P1", 2, f"{i},99"] for i in range(20)]
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    (error,) = check_raw_folder(raw).errors
    assert error.column == "unit_price"
    assert "20 of 20" in error.message and "wrong column" in error.message
    assert "decimal comma" in error.fix
    assert error.example == "row 1 (line 2): '0,99'"


def test_day_first_timestamps_are_an_error_naming_the_format(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", f"{i:04d}", "31/01/2024 10:00", "delivered"] for i in range(20)]
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    (error,) = check_raw_folder(raw).errors
    assert error.column == "ordered_at"
    assert "YYYY-MM-DD" in error.fix


def test_error_share_threshold_is_configurable(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", 1, "P1", "x" if i < 4 else 2, "1.00"] for i in range(20)]
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    assert check_raw_folder(raw).ok
    assert not check_raw_folder(raw, error_share=0.1).ok


def test_future_timestamps_missing_keys_and_duplicates_warn(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", f"{i:04d}", "2024-02-01 10:00:00", "delivered"] for i in range(20)]
    rows[2][2] = "2099-01-01 00:00:00"
    rows[3][0] = ""
    rows[5][0] = "O4"
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    result = check_raw_folder(raw)
    assert result.ok
    text = "\n".join(_messages(result, "warning"))
    assert "future_ordered_at" in text and "row 3 (line 4): '2099-01-01 00:00:00'" in text
    assert "missing_order_id" in text and "row 4 (line 5): (empty)" in text
    assert "order_id='O4' on row 5 (line 6) and row 6 (line 7)" in text


def test_shared_email_is_a_warning(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [["0001", "a@x.com", ""], ["0002", " A@X.COM ", ""]]
    _write(raw / "customers.csv", HEADERS["customers"], rows)
    result = check_raw_folder(raw, tables=["customers"])
    assert result.ok
    assert any("several customer ids" in m for m in _messages(result, "warning"))


def test_required_column_empty_everywhere_is_an_error(tmp_path):
    raw = make_folder(tmp_path / "raw")
    _write(raw / "customers.csv", HEADERS["customers"], [["", "a@x.com", ""]] * 3)
    (error,) = check_raw_folder(raw).errors
    assert error.column == "customer_id" and "empty on every row" in error.message


@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_wrong_delimiter_is_named_with_the_fix(tmp_path, delimiter, name):
    raw = make_folder(tmp_path / "raw")
    _write(raw / "orders.csv", HEADERS["orders"], [["O1", "0001", "2024-01-01", ""]],
           delimiter=delimiter)  # fmt: skip
    (error,) = check_raw_folder(raw).errors
    assert name in error.message and error.file.endswith("orders.csv")
    assert "read_csv" in error.fix


def test_latin1_is_named_with_the_first_bad_line(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"{i:04d}", f"u{i}@x.com", ""] for i in range(50)]
    rows[41][1] = "müller@x.com"
    _write(raw / "customers.csv", HEADERS["customers"], rows, encoding="cp1252")
    (error,) = check_raw_folder(raw).errors
    assert "not UTF-8" in error.message and "line 43" in error.message
    assert error.column == "email"
    assert "müller@x.com" in error.example
    assert "iconv" in error.fix


def test_invalid_utf8_is_found_across_block_boundaries(tmp_path):
    path = tmp_path / "x.csv"
    body = ("a,b\n" + "1,é\n" * 5000).encode("utf-8") + b"2,\xe9\n"
    path.write_bytes(body)
    for block in (7, 64, 4096):
        found = preflight._first_invalid_utf8_line(path, block=block)
        assert found == (5002, b"2,\xe9", 0xE9, 2)
    path.write_bytes(("a,b\n" + "1,é\n" * 5000).encode("utf-8"))
    assert preflight._first_invalid_utf8_line(path, block=7) is None


def test_utf8_bom_is_accepted(tmp_path):
    raw = make_folder(tmp_path / "raw")
    path = raw / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert check_raw_folder(raw).ok


@pytest.mark.parametrize("at", ["end", "middle"])
def test_malformed_csv_row_is_an_error_naming_its_line(tmp_path, at):
    # at the end, DuckDB's sniffer took the long line for the header (the columns found were
    # the line's values); in the middle it failed with its own dialect error
    raw = make_folder(tmp_path / "raw")
    lines = (raw / "orders.csv").read_text(encoding="utf-8").splitlines()
    bad = "O99,0001,2024-01-01,delivered,extra,fields"
    position = len(lines) if at == "end" else 3
    lines.insert(position, bad)
    (raw / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (error,) = check_raw_folder(raw).errors
    assert error.file.endswith("orders.csv")
    assert f"line {position + 1} has 6 field(s), the header (line 1) has 4" in error.message
    assert bad in error.example


def test_broken_quoting_names_its_line(tmp_path):
    raw = make_folder(tmp_path / "raw")
    with (raw / "orders.csv").open("a", encoding="utf-8") as handle:
        handle.write('O99,0001,"2024-01-01"x,delivered\n')
    (error,) = check_raw_folder(raw).errors
    assert error.file.endswith("orders.csv") and "malformed CSV at line 22" in error.message


def test_missing_table_hints_at_near_miss_names(tmp_path):
    raw = make_folder(tmp_path / "raw")
    (raw / "orders.csv").rename(raw / "Orders.CSV")
    (error,) = check_raw_folder(raw).errors
    assert "required table 'orders' is missing" in error.message
    assert "Orders.CSV" in error.message


def test_empty_optional_table_is_a_warning(tmp_path):
    raw = make_folder(tmp_path / "raw")
    _write(raw / "returns.csv", ["return_id", "order_id", "line_number", "quantity",
                                 "returned_at"], [])  # fmt: skip
    result = check_raw_folder(raw)
    assert result.ok
    assert any("no data rows" in m and "returns.csv" in m for m in _messages(result, "warning"))


def test_empty_parquet_required_table_is_an_error(tmp_path):
    raw = make_folder(tmp_path / "raw")
    (raw / "customers.csv").unlink()
    duckdb.sql(
        "copy (select 'x' as customer_id where false) to "
        f"'{raw / 'customers.parquet'}' (format parquet)"
    )
    (error,) = check_raw_folder(raw).errors
    assert "no data rows" in error.message and error.file.endswith("customers.parquet")


def test_cli_exit_codes_and_env_default(tmp_path, monkeypatch, capsys):
    raw = make_folder(tmp_path / "raw")
    monkeypatch.setenv("SEGMENTATION_RAW", str(raw))
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    assert "check passed: 0 error(s), 6 warning(s)" in out
    (raw / "orders.csv").write_text("")
    assert cli.main(["check", str(raw), "--project-dir", str(REPO)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "orders.csv" in out and "check FAILED: 1 error(s)" in out


def test_cli_missing_folder_and_bad_project_dir(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().out
    args = argparse.Namespace(raw_dir=str(tmp_path), project_dir=str(tmp_path), error_share=0.5)
    assert preflight.main(args) == 2


def _key_problem(result: preflight.CheckResult, file: str, column: str) -> preflight.Problem:
    (problem,) = [
        p
        for p in result.problems
        if p.file.endswith(file) and p.column == column and "not in" in p.message
    ]
    return problem


def test_integer_ids_against_zero_padded_ids_stop_with_the_reason(tmp_path):
    raw = make_folder(tmp_path / "raw")
    (raw / "customers.csv").unlink()
    with duckdb.connect() as con:  # customers exported with integer ids: zeros dropped
        con.execute(
            "copy (select i as customer_id, 'u' || i || '@x.com' as email from range(20) t(i)) "
            f"to '{raw / 'customers.parquet'}'"
        )
    result = check_raw_folder(raw)
    problem = _key_problem(result, "orders.csv", "customer_id")
    assert problem.level == "error"  # every order would be lost
    assert "20 of 20 rows (100.0%)" in problem.message and "unknown_customer" in problem.message
    assert "leading zeros" in problem.message and "'0000' vs '0'" in problem.message
    assert "as text with their leading zeros" in problem.fix
    assert problem.example == "row 1 (line 2): '0000', not in customers.parquet"


def test_float_formatted_ids_are_named(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [
        [f"O{i}", f"{i:04d}.0" if i % 2 else f"{i:04d}", "2024-02-01 10:00:00", ""]
        for i in range(20)
    ]
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    problem = _key_problem(check_raw_folder(raw), "orders.csv", "customer_id")
    assert problem.level == "warning"  # half the orders: below the error share
    assert "10 of 20 rows" in problem.message and "float-formatted integers" in problem.message
    assert "astype('Int64')" in problem.fix


def test_scientific_notation_order_ids_are_named(tmp_path):
    raw = make_folder(tmp_path / "raw")
    _write(
        raw / "orders.csv",
        HEADERS["orders"],
        [[str(4000000000000 + i), f"{i:04d}", "2024-02-01 10:00:00", ""] for i in range(20)],
    )
    _write(
        raw / "order_items.csv",
        HEADERS["order_items"],
        [[f"{4.0 + i * 1e-12:.5E}", 1, "P1", 2, "9.99"] for i in range(20)],
    )
    problem = _key_problem(check_raw_folder(raw), "order_items.csv", "order_id")
    assert problem.level == "error"
    assert "20 of 20 rows" in problem.message and "scientific notation" in problem.message
    assert "format the column as Text" in problem.fix


def test_ids_in_another_case_are_named_and_a_few_orphans_only_warn(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"o{i}" if i < 3 else f"O{i}", 1, "P1", 2, "9.99"] for i in range(20)]
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    problem = _key_problem(check_raw_folder(raw), "order_items.csv", "order_id")
    assert problem.level == "warning" and "letter case" in problem.message
    rows[0][0], rows[1][0], rows[2][0] = "O0", "O1", "X99"
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    problem = _key_problem(check_raw_folder(raw), "order_items.csv", "order_id")
    assert problem.level == "warning" and "1 of 20 rows" in problem.message
    assert "differ only" not in problem.message
    assert "come from the same export" in problem.fix


def test_ids_wrapped_in_invisible_characters_match_their_parent(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", f"\u200b{i:04d}\u00a0", "2024-02-01 10:00:00", "NULL"] for i in range(20)]
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    result = check_raw_folder(raw)
    assert not [p for p in result.problems if "not in" in p.message], result.format()


def test_values_staging_quarantines_are_reported_with_the_reason(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [
        [f"O{i}", 1, "P1", 0 if i == 3 else 2, "-9.99" if i in (4, 5) else "9.99"]
        for i in range(20)
    ]
    _write(raw / "order_items.csv", HEADERS["order_items"], rows)
    result = check_raw_folder(raw, tables=["order_items"])
    text = "\n".join(_messages(result, "warning"))
    assert "1 of 20 rows have quantity <= 0: staging quarantines them" in text
    assert "(reject_reason non_positive_quantity)" in text and "row 4 (line 5): '0'" in text
    assert "2 of 20 rows have unit_price < 0" in text and "negative_unit_price" in text


def test_unknown_statuses_are_listed_and_the_mapping_var_is_the_fix(tmp_path):
    raw = make_folder(tmp_path / "raw")
    statuses = ["wc-completed", "processing", "\\N", " Canceled ", "refunded"]
    rows = [[f"O{i}", f"{i:04d}", "2024-02-01 10:00:00", statuses[i % 5]] for i in range(20)]
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    result = check_raw_folder(raw, tables=["orders"])
    (problem,) = [p for p in result.problems if p.column == "status"]
    assert problem.level == "error"  # 12 of 20: above the error share (50%)
    assert "12 of 20 orders have a status staging does not know" in problem.message
    assert "'processing' (4), 'refunded' (4), 'wc-completed' (4)" in problem.message
    assert "var order_statuses" in problem.fix
    # mapped in the var, they are known ('\N' is a missing status and ' Canceled ' a synonym)
    rules = preflight.ParsingRules.from_project(REPO)
    rules = dataclasses.replace(
        rules,
        order_statuses=(
            *rules.order_statuses,
            ("wc-completed", "delivered"),
            ("processing", "placed"),
            ("refunded", "cancelled"),
        ),
    )
    result = check_raw_folder(raw, tables=["orders"], rules=rules)
    assert not [p for p in result.problems if p.column == "status"]


@pytest.mark.parametrize(
    ("table", "column", "reason"),
    [(table, column, reason) for table, column, _, reason in preflight.VALUE_RULES],
)
def test_each_value_rule_is_a_rule_of_the_base_model(table, column, reason):
    model = (REPO / "models" / "staging" / "shop" / "base" / f"base_shop__{table}.sql").read_text()
    condition = next(r[2] for r in preflight.VALUE_RULES if r[:2] == (table, column))
    rule = rf"when (\w+\.)?{column}\w*\s*{re.escape(condition)}\s+then '{reason}'"
    assert re.search(rule, model), rule


def test_an_over_long_csv_field_names_its_real_line_and_the_setting(tmp_path):
    raw = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", f"{i:04d}", "2024-02-01 10:00:00", "delivered"] for i in range(20)]
    rows[5][3] = "x" * 3_000_000  # data row 6, line 7 of the file
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    (problem,) = check_raw_folder(raw, tables=["orders"]).errors
    assert problem.message.startswith("line 7 is 3,000,030 bytes long, over the maximum line")
    assert "raise var raw_csv_max_line_size in dbt_project.yml (now 2000000)" in problem.fix
    assert "CSV Error on Line: 1" not in problem.format()
    rules = dataclasses.replace(
        preflight.ParsingRules.from_project(REPO), csv_max_line_size=4_000_000
    )
    assert check_raw_folder(raw, tables=["orders"], rules=rules).ok


def test_a_spark_style_folder_of_part_files_is_named(tmp_path):
    raw = make_folder(tmp_path / "raw")
    (raw / "orders.csv").unlink()
    parts = raw / "orders.parquet"
    parts.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "copy (select 'O1' as order_id, '0001' as customer_id, '2024-02-01' as ordered_at) "
            f"to '{parts / 'part-00000-1a2b.snappy.parquet'}'"
        )
    (parts / "_SUCCESS").write_text("")
    (problem,) = check_raw_folder(raw, tables=["orders"]).errors
    assert "orders.parquet is a folder (1 part file(s), e.g. part-00000-1a2b.snappy.parquet)" in (
        problem.message
    )
    assert "df.coalesce(1)" in problem.fix and "read_parquet(" in problem.fix


def test_decimals_of_zero_padded_ids_are_named_as_number_formatting(tmp_path):
    raw = make_folder(tmp_path / "raw")  # customers '0000'..'0019'
    rows = [[f"O{i}", f"{i}.0", "2024-02-01 10:00:00", ""] for i in range(1, 20)]
    _write(raw / "orders.csv", HEADERS["orders"], rows)
    problem = _key_problem(check_raw_folder(raw), "orders.csv", "customer_id")
    assert "differ only by number formatting ('1.0' vs '0001')" in problem.message


def test_a_folder_of_csv_parts_gets_the_csv_command(tmp_path):
    raw = make_folder(tmp_path / "raw")
    parts = raw / "order_items.csv"
    text = parts.read_text()
    parts.unlink()
    parts.mkdir()
    (parts / "part-00000.csv").write_text(text)
    (problem,) = check_raw_folder(raw, tables=["order_items"]).errors
    assert "order_items.csv is a folder (1 part file(s)" in problem.message
    assert "read_csv(" in problem.fix and "(header)" in problem.fix


def _as_batches(folder: Path, table: str, split: int) -> Path:
    """Move <table>.csv into a batch folder <table>/ of two files (rows before and after
    `split`) plus an empty third batch (a day with nothing new)."""
    source = folder / f"{table}.csv"
    with source.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    source.unlink()
    batch_dir = folder / table
    batch_dir.mkdir()
    _write(batch_dir / "2024-01.csv", header, rows[:split])
    _write(batch_dir / "2024-02.csv", header, rows[split:])
    _write(batch_dir / "2024-03.csv", header, [])
    return batch_dir


def test_a_batch_folder_is_checked_file_by_file_and_as_one_table(tmp_path):
    folder = make_folder(tmp_path / "raw")
    _as_batches(folder, "customers", 10)
    _as_batches(folder, "orders", 5)  # orders of the second file's customers: no orphan
    result = check_raw_folder(folder)
    assert result.ok, result.format()
    assert result.rows["customers"] == 20 and result.rows["orders"] == 20
    assert result.files["customers"] == folder / "customers"
    warnings = " ".join(_messages(result, "warning"))
    assert "not in customers" not in warnings  # foreign keys span the files
    assert "no data rows" not in warnings  # an empty batch is a day with nothing new


def test_a_batch_file_without_a_required_column_is_named(tmp_path):
    folder = make_folder(tmp_path / "raw")
    batch_dir = _as_batches(folder, "orders", 5)
    _write(batch_dir / "2024-04.csv", ["order_id", "customer_id", "status"], [["O99", "0001", "x"]])
    result = check_raw_folder(folder)
    assert not result.ok
    [error] = result.errors
    assert error.file == str(batch_dir / "2024-04.csv") and "ordered_at" in error.message


def test_a_table_as_file_and_batch_folder_is_ambiguous(tmp_path):
    folder = make_folder(tmp_path / "raw")
    batch_dir = _as_batches(folder, "orders", 5)
    shutil.copy(batch_dir / "2024-01.csv", folder / "orders.csv")
    result = check_raw_folder(folder)
    assert any("single file and a batch folder" in e.message for e in result.errors)


def test_a_required_batch_folder_without_rows_is_an_error(tmp_path):
    folder = make_folder(tmp_path / "raw")
    batch_dir = _as_batches(folder, "order_items", 0)
    (batch_dir / "2024-02.csv").unlink()
    result = check_raw_folder(folder)
    assert any("no data rows in any of its 2 file(s)" in e.message for e in result.errors)


def test_value_shares_of_a_batch_folder_are_judged_on_the_whole_folder(tmp_path):
    # one bad row in a one-row daily file is 1 of 21 rows, not "every row": a warning
    folder = make_folder(tmp_path / "raw")
    batch_dir = _as_batches(folder, "order_items", 20)
    _write(batch_dir / "2024-04.csv", HEADERS["order_items"], [["O1", 2, "P1", -1, "9.99"]])
    result = check_raw_folder(folder)
    assert result.ok, result.format()
    [warning] = [p for p in result.warnings if p.column == "quantity"]
    assert "1 of 21 rows" in warning.message and warning.file == str(batch_dir)


def test_a_batch_file_name_with_pattern_characters_is_an_error(tmp_path):
    folder = make_folder(tmp_path / "raw")
    batch_dir = _as_batches(folder, "orders", 5)
    (batch_dir / "2024-02.csv").rename(batch_dir / "2024-02[1].csv")
    result = check_raw_folder(folder)
    assert any("may not contain" in e.message for e in result.errors)


def _share_errors(result: preflight.CheckResult) -> list[str]:
    return [m for m in _messages(result, "error") if "quarantine_error_share" in m]


def test_reasons_together_over_the_build_limit_are_an_error(tmp_path):
    # each reason alone is a warning (under --error-share), but 5 of the 20 orders (25%) are
    # quarantined in all: more than the build's quarantine_error_share (20%), whose test
    # quarantined_share would stop dbt build
    folder = make_folder(tmp_path / "raw")
    rows = [[f"O{i}", f"{i:04d}", "2024-02-01T10:00:00Z", "delivered"] for i in range(20)]
    rows[3][2] = rows[4][2] = "07/03/2024 10:00"  # unparseable_ordered_at
    rows[5][3] = "lost in the post"  # unknown_status
    rows[6][1] = rows[7][1] = "9999"  # unknown_customer
    _write(folder / "orders.csv", HEADERS["orders"], rows)
    result = check_raw_folder(folder, load_contract(REPO), quarantine_share=0.2)
    (error,) = _share_errors(result)
    assert "orders.csv" in error
    assert "at least 5 of 20 rows (25.0%)" in error
    assert "quarantine_error_share: 0.3" in error  # the fix names a limit that would pass
    assert not [m for m in _messages(result, "error") if m != error]
    assert not _share_errors(check_raw_folder(folder, load_contract(REPO), quarantine_share=0.3))
    # the CLI reads the limit from dbt_project.yml, and the build's --vars over it (make run
    # passes its VARS)
    assert cli.main(["check", str(folder)]) == 1
    assert cli.main(["check", str(folder), "--vars", "{quarantine_error_share: 0.3}"]) == 0
    assert cli.main(["check", str(folder), "--vars", "[0.3]"]) == 2


def test_values_staging_repairs_do_not_count_towards_the_limit(tmp_path):
    # an unparseable signup_at or birth_date leaves the customer kept (the value missing)
    folder = make_folder(tmp_path / "raw")
    rows = [[f"{i:04d}", f"u{i}@x.com", "01/02/2024" if i < 8 else "2024-01-01"] for i in range(20)]
    _write(folder / "customers.csv", HEADERS["customers"], rows)
    result = check_raw_folder(folder, load_contract(REPO), quarantine_share=0.2)
    assert not _share_errors(result)
    assert any("signup_at" in m for m in _messages(result, "warning"))


def test_the_build_limit_is_read_from_dbt_project_yml():
    assert preflight.load_quarantine_error_share(REPO) == pytest.approx(0.2)


@pytest.mark.parametrize("copies, over", [(2, False), (3, True)])
def test_a_repeated_key_counts_its_extra_rows_only(tmp_path, copies, over):
    # staging keeps one row of a key repeated in one file: 10 customers and `copies` more
    # rows of customer 0000 quarantine copies of 10 + copies rows (2 of 12: 16.7%; 3 of 13:
    # 23.1%)
    folder = make_folder(tmp_path / "raw", n=10)
    rows = [[f"{i:04d}", f"u{i}@x.com", "2024-01-01 10:00:00"] for i in range(10)]
    rows += [["0000", "u0@x.com", "2024-01-02 10:00:00"]] * copies
    _write(folder / "customers.csv", HEADERS["customers"], rows)
    errors = _share_errors(check_raw_folder(folder, load_contract(REPO), quarantine_share=0.2))
    assert bool(errors) is over
    if over:
        assert f"at least {copies} of {10 + copies} rows" in errors[0]

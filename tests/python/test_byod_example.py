"""The example folder of docs/bring-your-own-data.md, written from the page's own CSV blocks,
gives what the page says `segmentation check` prints on it: stopped without the vars the
page's command passes (customers and orders over quarantine_error_share), passed with them
and five warnings. The build of the same folder is in the page as run; this pins the check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentation import cli

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "bring-your-own-data.md"
BLOCK = re.compile(r"^`([a-z_]+\.csv)`\n\n```csv\n(.*?)```", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("byod") / "shop"
    folder.mkdir()
    blocks = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    tables = ("customers", "orders", "order_items", "returns", "products", "sessions")
    assert sorted(name for name, _ in blocks) == sorted(f"{t}.csv" for t in tables)
    for name, text in blocks:
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_check_stops_the_example_without_the_pages_vars(example, capsys):
    assert cli.main(["check", str(example)]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 2
    assert "customers.csv: at least 2 of 6 rows" in errors[0]
    assert "orders.csv: at least 2 of 7 rows" in errors[1]
    assert "make run" not in out  # the fix names the var, as the page does


def test_check_passes_the_example_with_five_warnings(example, capsys):
    assert cli.main(["check", str(example), "--vars", "{quarantine_error_share: 0.5}"]) == 0
    out = capsys.readouterr().out
    assert "check passed: 0 error(s), 5 warning(s)" in out
    page = PAGE.read_text(encoding="utf-8")
    assert "it passes with five warnings" in page
    # the warning the page quotes is printed as quoted
    quoted = re.search(r"```text\n(WARNING .*?orders\.csv, column ordered_at.*?)```", page, re.S)
    assert quoted
    assert quoted.group(1).strip().replace("/tmp/byod/shop", str(example)) in out

"""The docs point only at files in this repository: users have only the repository.

Every relative link of README.md and docs/*.md resolves to a file or folder in the repo, no
doc names a folder beside the repository (`../shared`), and every Markdown file a doc names
(`DESIGN.md`, `incremental.md`, ...) is one the repository has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
MARKDOWN_FILES = {p.name for p in REPO.rglob("*.md") if ".venv" not in p.parts}

LINK = re.compile(r"\]\(([^)\s]+)\)")
MD_NAME = re.compile(r"(?<![\w/.-])([A-Za-z][\w-]*\.md)\b")


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("doc", DOCS, ids=_id)
def test_relative_links_resolve_inside_the_repository(doc: Path):
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        path = (doc.parent / target.split("#")[0]).resolve()
        if not path.exists() or REPO not in (path, *path.parents):
            broken.append(target)
    assert not broken, f"{_id(doc)}: links that do not resolve in the repository: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_id)
def test_no_doc_points_outside_the_repository(doc: Path):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{_id(doc)} names ../shared, which users do not have"
    missing = sorted(set(MD_NAME.findall(text)) - MARKDOWN_FILES)
    assert not missing, f"{_id(doc)} names Markdown files the repository does not have: {missing}"

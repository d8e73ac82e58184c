"""sqlfluff on the models' incremental branches.

`make lint` compiles the models against an empty warehouse, as on a fresh clone, where a
branch such as `{% if changed_only %}` renders nothing. Against a built warehouse (its file
ledger present) the incremental models render those branches: this lints every model file
with a Jinja `if` that way, against a copy of the shared shop's green build, so their SQL is
held to the same rules. Before, 17 such models failed sqlfluff once `make run` had built
data/warehouse.duckdb, and `make test` failed after `make run`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from shared_shop import shared_shop

BRANCH = re.compile(r"\{%-?\s*if\b")


def branching_models() -> list[str]:
    return sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "models").rglob("*.sql")
        if BRANCH.search(path.read_text(encoding="utf-8"))
    )


def test_incremental_branches_pass_sqlfluff(tmp_path: Path) -> None:
    shop = shared_shop(tmp_path / "shop")
    models = branching_models()
    assert "models/marts/orders/fct_orders.sql" in models  # the pattern finds the branches
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "SEGMENTATION_DB": str(shop.db),
        "SEGMENTATION_RAW": str(shop.raw),
        "SEGMENTATION_TEMP_DIR": str(tmp_path / "tmp"),
        # dbt's compile output and logs away from the repository's target folder
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", *models, "--processes", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert lint.returncode == 0, lint.stdout[-6000:] + lint.stderr[-2000:]

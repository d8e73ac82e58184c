"""Run dbt-project-evaluator's rules on this project and print what each rule finds.

The counts in docs/project-evaluator.md are printed by this script. It copies the committed
project (`git archive HEAD`) into a temporary folder, adds the dbt-project-evaluator package,
generates a small demo shop for the build's raw-file hook, and runs
`dbt build --select package:dbt_project_evaluator` into a temporary DuckDB file (the repo's
own data/ and target/ are not touched). Then it prints one row per rule: how many models,
sources or tests it lists, and with --details the rows themselves.

    .venv/bin/python docs/scripts/project_evaluator.py [--details]
        [--evaluator DIR --dbt-utils DIR] [--keep DIR]

By default `dbt deps` installs dbt-labs/dbt_project_evaluator 1.3.2 (and its dbt_utils) from
dbt's package hub. Without access to the hub, give local copies of both packages (a checkout
of each repository) with --evaluator and --dbt-utils.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EVALUATOR_VERSION = "1.3.2"


def packages_yml(evaluator: Path | None, dbt_utils: Path | None, work: Path) -> str:
    if evaluator is None:
        return (
            "packages:\n  - package: dbt-labs/dbt_project_evaluator\n"
            f"    version: {EVALUATOR_VERSION}\n"
        )
    if dbt_utils is None:
        raise SystemExit("--evaluator needs --dbt-utils (the package it depends on)")
    # local copies: the evaluator's own dependency on dbt_utils points at the local copy too
    local = work / "packages"
    shutil.copytree(
        evaluator, local / "dbt_project_evaluator", ignore=shutil.ignore_patterns(".git")
    )
    shutil.copytree(dbt_utils, local / "dbt_utils", ignore=shutil.ignore_patterns(".git"))
    (local / "dbt_project_evaluator" / "packages.yml").write_text(
        f"packages:\n  - local: {local / 'dbt_utils'}\n"
    )
    return (
        f"packages:\n  - local: {local / 'dbt_project_evaluator'}\n"
        f"  - local: {local / 'dbt_utils'}\n"
    )


def run(cmd: list[str], cwd: Path, env: dict, hint: str = "") -> None:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"{cmd[0]} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            + (f"\n{hint}" if hint else "")
        )


def evaluate(work: Path, evaluator: Path | None, dbt_utils: Path | None) -> Path:
    project = work / "project"
    project.mkdir()
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(project)], input=archive, check=True)
    (project / "packages.yml").write_text(packages_yml(evaluator, dbt_utils, work))
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SEGMENTATION_RAW": str(work / "raw"),
        "SEGMENTATION_DB": str(work / "evaluator.duckdb"),
    }
    run([str(BIN / "segmentation"), "generate", "--customers", "2000", "--seed", "42",
         "--out", str(work / "raw"), "--truth", str(work / "truth")], project, env)  # fmt: skip
    run(
        [str(BIN / "dbt"), "deps"],
        project,
        env,
        hint="dbt deps could not install the package: without access to dbt's package hub, "
        "give local checkouts of dbt-labs/dbt-project-evaluator and dbt-labs/dbt-utils with "
        "--evaluator DIR --dbt-utils DIR",
    )
    # the rules' own tests warn when a rule lists something; the build fails only on an error
    run([str(BIN / "dbt"), "build", "--select", "package:dbt_project_evaluator"], project, env)
    return work / "evaluator.duckdb"


def report(database: Path, details: bool) -> str:
    con = duckdb.connect(str(database), read_only=True)
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_name like 'fct_%' order by table_name"
        ).fetchall()
    ]
    lines = ["| rule (dbt-project-evaluator model) | rows |", "|---|---:|"]
    listed = []
    for name in tables:
        if name in ("fct_documentation_coverage", "fct_test_coverage"):
            continue
        rows = con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
        lines.append(f"| `{name}` | {rows} |")
        if rows:
            listed.append(name)
    for name, column in (
        ("fct_documentation_coverage", "documentation_coverage_pct"),
        ("fct_test_coverage", "test_coverage_pct"),
    ):
        value = con.execute(f'select {column} from "{name}"').fetchall()[0][0]
        lines.append(f"| `{name}` ({column}) | {value} |")
    if details:
        for name in listed:
            frame = con.execute(f'select * from "{name}"').df()
            lines += ["", f"### {name}", "", frame.to_markdown(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluator", type=Path, help="a local copy of dbt-project-evaluator")
    parser.add_argument("--dbt-utils", type=Path, help="a local copy of dbt-utils")
    parser.add_argument("--details", action="store_true", help="print each rule's rows")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True)
        work = args.keep
    else:
        work = Path(tempfile.mkdtemp(prefix="project-evaluator-"))
    try:
        database = evaluate(work, args.evaluator, args.dbt_utils)
        print(report(database, args.details))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

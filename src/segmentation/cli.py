"""Command line: `segmentation <command> ...`.

Each command lives in its own module, which exposes ``add_arguments(parser)`` and
``main(args) -> int``. Modules are imported lazily so that `segmentation --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("segmentation.generate", "write demo raw data (all six tables) as Parquet"),
    "check": ("segmentation.preflight", "validate a raw folder before dbt runs"),
    "import": ("segmentation.importers", "convert a public data set into the raw contract"),
    "fit": ("segmentation.fit_step", "run the fit between two dbt selections (Spark)"),
    "spark-build": ("segmentation.spark_build", "build, fit and test on Spark in one process"),
    "publish": ("segmentation.publish", "publish the public marts for BI (Parquet + DuckDB)"),
    "report": ("segmentation.report", "write the offline HTML report"),
    "evaluate": ("segmentation.evaluate", "markdown quality report of the latest segmentation"),
    "export": ("segmentation.export", "write one segment's audience (hashed emails) as CSV"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segmentation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # command not built yet
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except OSError as exc:
        # a path the command cannot read or write (permissions, a folder where a file is
        # expected, a full disk): one line naming the path, not a traceback
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(
            f"error: {exc.strerror or exc}{where} (check that the path exists, is the kind of "
            "path the option wants (file or folder) and that you may read or write it)",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        import duckdb  # noqa: PLC0415 - only for the isinstance check, after a failure

        if not isinstance(exc, duckdb.Error):
            raise
        # a database file that is not a DuckDB warehouse, is truncated or is locked
        detail = " ".join(str(exc).split())[:400]
        print(
            f"error: DuckDB could not use the database: {detail} (is it a DuckDB file this "
            "project built, complete, and not open for writing by another process?)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

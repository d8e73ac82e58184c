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
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""`segmentation import <source> FILE --out DIR`: convert a public data set into the raw contract.

Each source has its own module with a pure import function; this module only wires them into
the command line. Sources: ``online-retail`` (UCI "Online Retail" and "Online Retail II").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segmentation.importers.online_retail import (
    ImportSummary,
    OnlineRetailImportError,
    import_online_retail,
)

__all__ = [
    "ImportSummary",
    "OnlineRetailImportError",
    "add_arguments",
    "import_online_retail",
    "main",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``source`` sub-command (currently only ``online-retail``) and its options."""
    sources = parser.add_subparsers(dest="source", required=True, metavar="source")
    retail = sources.add_parser(
        "online-retail",
        help='UCI "Online Retail" / "Online Retail II" transaction log (CSV or Parquet)',
        description=(
            'Convert a UCI "Online Retail" or "Online Retail II" file (CSV or Parquet, either '
            "column layout) into customers, orders, order_items, returns and products Parquet "
            "files. Writes a summary, the rejected cancellations and every source row's "
            "outcome to DIR/_import/ (summary.json, rejected_returns.parquet, "
            "row_outcomes.parquet)."
        ),
    )
    retail.add_argument("file", type=Path, metavar="FILE", help="the .csv or .parquet file")
    retail.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="raw folder to write"
    )
    retail.add_argument(
        "--force",
        action="store_true",
        help=(
            "replace raw files and batch folders already in DIR (also removes a stale "
            "sessions file or folder)"
        ),
    )


def main(args: argparse.Namespace) -> int:
    """Run the chosen importer and print its summary; exit code 2 on a bad input."""
    if args.source != "online-retail":  # argparse already restricts the choice
        print(f"error: unknown source {args.source!r}", file=sys.stderr)
        return 2
    try:
        summary = import_online_retail(args.file, args.out, force=args.force)
    except OnlineRetailImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary.format_text())
    return 0

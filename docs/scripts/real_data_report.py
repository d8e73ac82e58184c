"""Build the pipeline on the UCI "Online Retail II" file and print what it finds, as markdown.

Every figure in docs/real-data.md, section "What the pipeline finds", is printed by this
script. It imports the file into a temporary raw folder (`segmentation import online-retail`),
runs `dbt build` on it into a temporary DuckDB file (the repo's own data/ and target/ are not
touched), then queries the marts.

    .venv/bin/python docs/scripts/real_data_report.py \
        [--file $ONLINE_RETAIL_DIR/online_retail_II_2009-2010.parquet] \
        [--keep DIR] [--vars '{"segmentation_bootstrap": 10}']

With --keep DIR the raw folder and the warehouse are written to DIR and kept for inspection.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
#: The UCI file (docs/real-data.md says where to get it): in $ONLINE_RETAIL_DIR, else
#: data/online_retail_ii/ in this repository.
DEFAULT_FILE = (
    Path(os.environ.get("ONLINE_RETAIL_DIR") or REPO / "data" / "online_retail_ii")
    / "online_retail_II_2009-2010.parquet"
)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; numbers right-aligned and formatted with thousands separators."""

    def fmt(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else ""
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        return str(value)

    numeric = [
        all(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows if r[i])
        for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def run_build(raw: Path, work: Path, extra_vars: dict) -> tuple[Path, float]:
    """`dbt build` on raw into work/warehouse.duckdb; returns the database path and seconds."""
    db = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "SEGMENTATION_DB": str(db),
        "SEGMENTATION_TEMP_DIR": str(work / "tmp"),
    }
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--vars",
        json.dumps({"raw_path": str(raw), **extra_vars}),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"dbt build failed (exit {proc.returncode})")
    return db, seconds


def report(con: duckdb.DuckDBPyConnection, summary: dict, seconds: float) -> str:
    q = lambda sql: con.sql(sql).fetchall()  # noqa: E731
    out: list[str] = []

    # ---- input -------------------------------------------------------------------------
    as_of = q("select max(as_of_date) from marts.customer_rfm")[0][0]
    n_items, gross = q("select count(*), sum(gross_amount) from marts.fct_order_items")[0]
    n_orders = q("select count(*) from marts.fct_orders")[0][0]
    n_returns, refunds = q("select count(*), sum(refund_amount) from marts.fct_returns")[0]
    n_customers = q("select count(*) from marts.customer_rfm")[0][0]
    n_segmented = q("select count(*) from marts.customer_segments")[0][0]
    out.append("### Input and build\n")
    out.append(
        markdown_table(
            ["measure", "value"],
            [
                ["source rows read by the importer", summary["rows_read"]],
                ["customers with a kept order (customer_rfm)", n_customers],
                ["customers with a segment (customer_segments)", n_segmented],
                ["orders (fct_orders)", n_orders],
                ["order lines (fct_order_items)", n_items],
                ["purchase value, sum of gross_amount", f"{gross:,.2f}"],
                ["returns (fct_returns)", n_returns],
                ["refund value, sum of refund_amount", f"{refunds:,.2f}"],
                ["analysis date (as_of_date)", str(as_of)],
                ["dbt build wall time, seconds", round(seconds)],
            ],
        )
    )

    # ---- features ----------------------------------------------------------------------
    used = {r[0] for r in q("select distinct feature from marts.segment_centroids")}
    feature_cols = [
        r[0]
        for r in q(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'customer_features' and column_name != 'customer_id' "
            "order by ordinal_position"
        )
    ]
    rows = []
    for col in feature_cols:
        lo, hi, mean = q(
            f"select min({col})::double, max({col})::double, avg({col})::double "
            "from marts.customer_features"
        )[0]
        if col in used:
            status = "used"
        elif lo == hi:
            status = "constant: not used"
        else:
            status = "not in segmentation_features"
        rows.append([col, lo, hi, mean, status])
    out.append("\n### Features (customer_features)\n")
    out.append(markdown_table(["feature", "min", "max", "mean", "in the KMeans"], rows))

    # ---- k selection -------------------------------------------------------------------
    ksel = q(
        "select k, inertia, silhouette, calinski_harabasz, davies_bouldin, is_chosen, "
        "method, reason, gap, gap_se, cluster_structure, structure_reason "
        "from marts.segment_k_selection "
        "where model_version = (select max(model_version) from marts.segment_k_selection) "
        "order by k"
    )
    out.append("\n### Choice of k\n")
    out.append(f"Method `{ksel[0][6]}`: {ksel[0][7]}.\n")
    out.append(f"Cluster structure: **{ksel[0][10]}**. {ksel[0][11]}.\n")
    out.append(
        markdown_table(
            [
                "k",
                "inertia",
                "silhouette",
                "Calinski-Harabasz",
                "Davies-Bouldin",
                "gap",
                "gap s.e.",
                "chosen",
            ],
            [[*r[:5], r[8], r[9], r[5]] for r in ksel],
        )
    )

    # ---- segment profiles --------------------------------------------------------------
    profiles = q(
        """
        with joined as (
            select s.segment_id, s.segment_name, r.recency_days, r.frequency,
                   r.monetary::double as monetary, ret.return_rate_units,
                   ret.return_rate_value, ret.has_returned,
                   ret.units_returned, ret.units_sold, ret.value_refunded::double as refunded,
                   ret.value_sold::double as sold
            from marts.customer_segments s
            join marts.customer_rfm r using (customer_id)
            join marts.customer_returns ret using (customer_id)
        )
        select segment_id, segment_name, count(*) as customers,
               count(*) / sum(count(*)) over () as share,
               sum(monetary) / sum(sum(monetary)) over () as spend_share,
               median(monetary), avg(monetary), avg(frequency), median(frequency),
               median(recency_days), avg(recency_days),
               avg(has_returned::int), avg(return_rate_units),
               sum(units_returned) / sum(units_sold), sum(refunded) / sum(sold)
        from joined group by all order by segment_id
        """
    )
    out.append("\n### Segment profiles\n")
    out.append(
        "Spend = `customer_rfm.monetary` (net sales minus refunds), frequency = kept orders, "
        "recency = days from the last order to the analysis date; return figures from "
        "`customer_returns`. "
        'Shares are of all customers / all spend. "units returned" and "value refunded" '
        'are pooled over the segment (sum returned / sum sold); "mean return rate" is the '
        "mean of the customers' own `return_rate_units`.\n"
    )
    out.append(
        markdown_table(
            [
                "id",
                "segment",
                "customers",
                "share",
                "spend share",
                "median spend",
                "mean spend",
                "mean orders",
                "median orders",
                "median recency (d)",
                "mean recency (d)",
                "customers with a return",
                "mean return rate (units)",
                "units returned",
                "value refunded",
            ],  # fmt: skip
            [
                [
                    r[0],
                    r[1],
                    r[2],
                    f"{r[3]:.1%}",
                    f"{r[4]:.1%}",
                    *r[5:11],
                    f"{r[11]:.1%}",
                    f"{r[12]:.1%}",
                    f"{r[13]:.1%}",
                    f"{r[14]:.1%}",
                ]
                for r in profiles
            ],  # fmt: skip
        )
    )
    descriptions = q("select segment_id, segment_name, description from marts.dim_segments "
                     "order by segment_id")  # fmt: skip
    out.append("\n`dim_segments.description`, as generated by the naming step:\n")
    out.append(markdown_table(["id", "segment", "description"], descriptions))

    # ---- centroids ---------------------------------------------------------------------
    centroid_rows = q(
        """
        select feature, segment_id, centroid_value, centroid_std
        from marts.segment_centroids
        where model_version = (select max(model_version) from marts.segment_centroids)
        order by feature, segment_id
        """
    )
    seg_ids = sorted({r[1] for r in centroid_rows})
    by_feature: dict[str, dict[int, tuple[float, float]]] = {}
    for feature, seg, value, std in centroid_rows:
        by_feature.setdefault(feature, {})[seg] = (value, std)
    out.append("\n### Centroids (original units; standardised value in brackets)\n")
    out.append(
        markdown_table(
            ["feature", *[f"segment {s}" for s in seg_ids]],
            [
                [f, *[f"{v[s][0]:,.3f} ({v[s][1]:+.2f})" for s in seg_ids]]
                for f, v in by_feature.items()
            ],
        )
    )

    # ---- stability ---------------------------------------------------------------------
    stab = q(
        """
        select segment_id, segment_name, mean_jaccard, verdict, mean_ari, bootstrap_resamples
        from marts.segment_stability
        where model_version = (select max(model_version) from marts.segment_stability)
        order by segment_id
        """
    )
    out.append("\n### Stability (bootstrap)\n")
    out.append(
        markdown_table(
            ["id", "segment", "mean Jaccard", "verdict", "mean ARI (whole model)", "resamples"],
            stab,
        )
    )

    # ---- oddities worth knowing ---------------------------------------------------------
    over, full, n_ret = q(
        "select count(*) filter (where return_rate_value > 1), "
        "count(*) filter (where return_rate_units = 1), count(*) filter (where has_returned) "
        "from marts.customer_returns"
    )[0]
    out.append("\n### Checks on the return features\n")
    out.append(
        markdown_table(
            ["measure", "customers"],
            [
                ["with at least one return", n_ret],
                ["returned every unit they bought (return_rate_units = 1)", full],
                ["refunded more than they paid (return_rate_value > 1)", over],
            ],
        )
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="UCI file to import")
    parser.add_argument("--keep", type=Path, help="write raw folder and warehouse here, keep")
    parser.add_argument("--vars", default="{}", help="extra dbt vars as JSON (default: none)")
    args = parser.parse_args(argv)

    from segmentation.importers.online_retail import import_online_retail

    if not args.file.is_file():
        parser.error(
            f"file not found: {args.file}. Get the UCI file as docs/real-data.md says, then "
            "pass --file PATH or set ONLINE_RETAIL_DIR to its folder"
        )
    with tempfile.TemporaryDirectory(prefix="real_data_report_") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        raw = work / "raw"
        import_online_retail(args.file, raw, force=True)
        summary = json.loads((raw / "_import" / "summary.json").read_text())
        db, seconds = run_build(raw, work, json.loads(args.vars))
        with duckdb.connect(str(db), read_only=True) as con:
            print(report(con, summary, seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

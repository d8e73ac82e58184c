"""`segmentation evaluate`: a markdown quality report of the latest segmentation model.

Reads a built warehouse (read-only) and writes, for the latest model version:

* the k sweep (k, inertia, silhouette, Calinski-Harabasz, Davies-Bouldin, chosen k) and the
  stored reason for the choice, plus an SVG plot of the elbow curve with the silhouette
  (hand-written SVG: no plotting dependency);
* the segments: names, sizes (every scored customer and the fit sample), descriptions;
* the bootstrap stability per segment (mean Jaccard, Hennig's verdict) and the mean ARI;
* optionally, with ``--truth`` (a parquet file with ``customer_id`` and a label column, e.g.
  the demo generator's ``personas.parquet``), the adjusted Rand index between the segments
  and the planted labels and their contingency table.

Every number comes from the public marts (``segment_k_selection``, ``segment_centroids``,
``segment_stability``, ``customer_segments``); nothing is refitted here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering.sweep import SWEEP_COLUMNS

DEFAULT_DB = "data/warehouse.duckdb"
SCHEMA = "marts"
ID_COLUMN = "customer_id"
#: Label columns looked for in the truth file, in this order.
TRUTH_COLUMNS = ("persona", "group", "label", "segment", "truth")
NO_SEGMENT = "(no segment: no kept order)"


class EvaluationError(Exception):
    """The warehouse or the truth file cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class ModelRun:
    """What the marts store about one model version."""

    version: int
    sweep: pd.DataFrame  # SWEEP_COLUMNS, gap, gap_se, excluded_reason, is_chosen
    chosen_k: int
    method: str
    reason: str
    refit_reason: str | None
    cluster_structure: str | None
    structure_reason: str | None
    config_hash: str
    fitted_at: str
    segments: pd.DataFrame  # segment_id, segment_name, description, size_in_sample, customers
    sample_rows: int
    stability: pd.DataFrame | None  # segment_id, segment_name, mean_jaccard, verdict, mean_ari
    assignments: pd.DataFrame | None  # customer_id, segment_id (scored with this version)


@dataclass(frozen=True)
class TruthComparison:
    """Segments vs planted labels on the customers present in both."""

    ari: float
    matched: int
    contingency: pd.DataFrame  # index: segment label, columns: truth labels (+ total)
    unsegmented: pd.Series  # truth label -> customers without a segment
    unlabelled: int  # segmented customers absent from the truth file
    label_column: str


# --------------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
    ).fetchall()
    return {str(r[0]) for r in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [SCHEMA, table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def load_run(con: duckdb.DuckDBPyConnection) -> ModelRun:
    """The latest model version of the warehouse behind ``con``.

    Raises:
        EvaluationError: the segmentation marts are missing or empty.
    """
    tables = _tables(con)
    for needed in ("segment_k_selection", "segment_centroids"):
        if needed not in tables:
            raise EvaluationError(
                f"table {SCHEMA}.{needed} not found: build the warehouse first "
                "(`dbt build`, or `make run`) or pass --db PATH"
            )
    version_row = con.execute(
        f"select max(model_version) from {SCHEMA}.segment_centroids"
    ).fetchone()
    if version_row is None or version_row[0] is None:
        raise EvaluationError(f"{SCHEMA}.segment_centroids is empty: no model has been fitted")
    version = int(version_row[0])

    ks_columns = _columns(con, "segment_k_selection")
    # columns a model fitted by an older release may lack
    optional = [
        "refit_reason",
        "gap",
        "gap_se",
        "cluster_structure",
        "structure_reason",
        "smallest_segment_share",
        "excluded_reason",
    ]
    present = [c for c in optional if c in ks_columns]
    refit_col = "".join(f", {c}" for c in present)
    sweep = con.execute(
        "select k, inertia, silhouette, calinski_harabasz, davies_bouldin, is_chosen, method, "
        f"reason, config_hash, cast(fitted_at as varchar) as fitted_at{refit_col} "
        f"from {SCHEMA}.segment_k_selection where model_version = ? order by k",
        [version],
    ).df()
    if sweep.empty:
        raise EvaluationError(f"{SCHEMA}.segment_k_selection has no rows for version {version}")
    chosen = sweep[sweep["is_chosen"].astype(bool)]
    if len(chosen) != 1:
        raise EvaluationError(
            f"{SCHEMA}.segment_k_selection version {version} has {len(chosen)} chosen k rows"
        )
    first = chosen.iloc[0]

    segments = con.execute(
        "select segment_id, any_value(segment_name) as segment_name, "
        "any_value(segment_description) as description, "
        "any_value(segment_size_in_sample) as size_in_sample, "
        "any_value(sample_rows) as sample_rows "
        f"from {SCHEMA}.segment_centroids where model_version = ? "
        "group by segment_id order by segment_id",
        [version],
    ).df()
    sample_rows = int(segments["sample_rows"].max())
    segments = segments.drop(columns="sample_rows")

    assignments = None
    if "customer_segments" in tables:
        assignments = con.execute(
            f"select {ID_COLUMN}, segment_id from {SCHEMA}.customer_segments "
            "where model_version = ?",
            [version],
        ).df()
        if assignments.empty:
            assignments = None
    if assignments is not None:
        counts = assignments.groupby("segment_id").size()
        segments["customers"] = segments["segment_id"].map(counts).fillna(0).astype(np.int64)
    else:
        segments["customers"] = pd.Series([pd.NA] * len(segments), dtype="Int64")

    stability = None
    if "segment_stability" in tables:
        stability = con.execute(
            "select segment_id, segment_name, mean_jaccard, verdict, mean_ari, "
            "bootstrap_resamples, stability_rows "
            f"from {SCHEMA}.segment_stability where model_version = ? order by segment_id",
            [version],
        ).df()
        if stability.empty:
            stability = None

    def stored(column: str) -> str | None:
        value = first.get(column)
        return None if value is None or pd.isna(value) else str(value)

    for column in ("gap", "gap_se", "smallest_segment_share", "excluded_reason"):
        if column not in sweep.columns:
            sweep[column] = np.nan
    return ModelRun(
        version=version,
        sweep=sweep[[*SWEEP_COLUMNS, "gap", "gap_se", "excluded_reason", "is_chosen"]].reset_index(
            drop=True
        ),
        chosen_k=int(first["k"]),
        method=str(first["method"]),
        reason=str(first["reason"]),
        refit_reason=stored("refit_reason"),
        cluster_structure=stored("cluster_structure"),
        structure_reason=stored("structure_reason"),
        config_hash=str(first["config_hash"]),
        fitted_at=str(first["fitted_at"]),
        segments=segments,
        sample_rows=sample_rows,
        stability=stability,
        assignments=assignments,
    )


def read_truth(path: Path) -> tuple[pd.DataFrame, str]:
    """The truth file as (frame with customer_id and ``label``, name of the label column)."""
    if not Path(path).is_file():
        raise EvaluationError(f"truth file not found: {path}")
    frame = pd.read_parquet(path)
    if ID_COLUMN not in frame.columns:
        raise EvaluationError(f"truth file {path} has no {ID_COLUMN!r} column")
    others = [c for c in frame.columns if c != ID_COLUMN]
    column = next((c for c in TRUTH_COLUMNS if c in frame.columns), None)
    if column is None and len(others) == 1:
        column = others[0]
    if column is None:
        raise EvaluationError(
            f"truth file {path}: cannot tell the label column among {others}; "
            f"name it one of {', '.join(TRUTH_COLUMNS)}"
        )
    truth = frame[[ID_COLUMN, column]].rename(columns={column: "label"})
    truth[ID_COLUMN] = truth[ID_COLUMN].astype(str)
    truth["label"] = truth["label"].astype(str)
    if truth[ID_COLUMN].duplicated().any():
        raise EvaluationError(f"truth file {path}: {ID_COLUMN} is not unique")
    return truth, str(column)


def segment_labels(segments: pd.DataFrame) -> dict[int, str]:
    """segment id -> "id name", the row labels of the contingency table."""
    return {
        int(i): f"{int(i)} {name}"
        for i, name in zip(segments["segment_id"], segments["segment_name"], strict=True)
    }


def compare_with_truth(
    assignments: pd.DataFrame, segments: pd.DataFrame, truth: pd.DataFrame, label_column: str
) -> TruthComparison:
    """ARI and contingency table of segments (rows) x truth labels (columns)."""
    scored = assignments.assign(**{ID_COLUMN: assignments[ID_COLUMN].astype(str)})
    merged = truth.merge(scored, on=ID_COLUMN, how="outer", indicator=True)
    both = merged[merged["_merge"] == "both"]
    if both.empty:
        raise EvaluationError("no customer of the truth file has a segment: wrong truth file?")
    ari = float(adjusted_rand_score(both["label"], both["segment_id"].astype(np.int64)))
    names = segment_labels(segments)
    rows = both["segment_id"].astype(np.int64).map(names)
    table = pd.crosstab(rows, both["label"])
    table = table.reindex(index=[names[i] for i in sorted(names)], fill_value=0)
    labels = sorted(set(truth["label"]))
    table = table.reindex(columns=labels, fill_value=0)
    table["total"] = table.sum(axis=1)
    unsegmented = merged[merged["_merge"] == "left_only"]["label"].value_counts().sort_index()
    return TruthComparison(
        ari=ari,
        matched=len(both),
        contingency=table,
        unsegmented=unsegmented,
        unlabelled=int((merged["_merge"] == "right_only").sum()),
        label_column=label_column,
    )


# --------------------------------------------------------------------------------------------
# SVG plot of the k sweep
# --------------------------------------------------------------------------------------------

INERTIA_COLOUR = "#1f5fa8"
SILHOUETTE_COLOUR = "#d9730d"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2, 2.5 or 5 x 10^n)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    n = int(round((stop - start) / step))
    return [round(start + i * step, 10) for i in range(n + 1)]


def _format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def k_sweep_svg(sweep: pd.DataFrame, chosen_k: int, title: str = "k sweep") -> str:
    """A self-contained SVG: inertia (left axis) and silhouette (right axis) against k, with
    the chosen k marked. Deterministic text (no timestamps, fixed number formatting)."""
    width, height = 720, 400
    left, right, top, bottom = 72, 72, 56, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    ks = sweep["k"].to_numpy(dtype=np.int64)
    inertia = sweep["inertia"].to_numpy(dtype=np.float64)
    silhouette = sweep["silhouette"].to_numpy(dtype=np.float64)

    k_low, k_high = int(ks.min()), int(ks.max())
    k_span = max(k_high - k_low, 1)

    def x(k: float) -> float:
        return left + (k - k_low) / k_span * plot_w if k_high > k_low else left + plot_w / 2

    i_ticks = nice_ticks(0.0, float(np.nanmax(inertia)) if np.isfinite(inertia).any() else 1.0)
    valid_sil = silhouette[np.isfinite(silhouette)]
    s_low = min(0.0, float(valid_sil.min())) if valid_sil.size else 0.0
    s_high = float(valid_sil.max()) if valid_sil.size else 1.0
    s_ticks = nice_ticks(s_low, s_high)

    def y(value: float, ticks: list[float]) -> float:
        return top + plot_h - (value - ticks[0]) / (ticks[-1] - ticks[0]) * plot_h

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    # grid and left axis (inertia)
    for tick in i_ticks:
        ty = y(tick, i_ticks)
        out.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#e6e6e6"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'fill="{INERTIA_COLOUR}">{_format_tick(tick)}</text>'
        )
    for tick in s_ticks:
        ty = y(tick, s_ticks)
        out.append(
            f'<text x="{left + plot_w + 6}" y="{ty + 4:.1f}" text-anchor="start" '
            f'fill="{SILHOUETTE_COLOUR}">{tick:.2f}</text>'
        )
    for k in ks:
        out.append(
            f'<text x="{x(k):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{int(k)}</text>'
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">'
        "number of segments k</text>"
    )
    out.append(
        f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="{INERTIA_COLOUR}">inertia (within-segment SS)</text>'
    )
    out.append(
        f'<text transform="translate({width - 14} {top + plot_h / 2:.1f}) rotate(90)" '
        f'text-anchor="middle" fill="{SILHOUETTE_COLOUR}">silhouette</text>'
    )
    # chosen k
    cx = x(chosen_k)
    out.append(
        f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{top + plot_h}" stroke="#333" '
        'stroke-dasharray="5,4"/>'
    )
    out.append(f'<text x="{cx + 5:.1f}" y="{top + 14}" fill="#333">chosen k = {chosen_k}</text>')
    # series
    inertia_points = [
        (x(k), y(v, i_ticks)) for k, v in zip(ks, inertia, strict=True) if math.isfinite(v)
    ]
    sil_points = [
        (x(k), y(v, s_ticks)) for k, v in zip(ks, silhouette, strict=True) if math.isfinite(v)
    ]
    for points, colour, dash in (
        (inertia_points, INERTIA_COLOUR, ""),
        (sil_points, SILHOUETTE_COLOUR, ' stroke-dasharray="6,3"'),
    ):
        if len(points) >= 2:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )
        for px, py in points:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>')
    chosen = sweep[sweep["k"] == chosen_k]
    if not chosen.empty and math.isfinite(float(chosen["inertia"].iloc[0])):
        py = y(float(chosen["inertia"].iloc[0]), i_ticks)
        out.append(
            f'<circle cx="{cx:.1f}" cy="{py:.1f}" r="7" fill="none" stroke="#333" '
            'stroke-width="2"/>'
        )
    # legend
    lx, ly = left + 8, top - 16
    out.append(
        f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{INERTIA_COLOUR}" '
        'stroke-width="2"/>'
    )
    out.append(f'<text x="{lx + 30}" y="{ly + 4}">inertia (left axis)</text>')
    lx += 170
    out.append(
        f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{SILHOUETTE_COLOUR}" '
        'stroke-width="2" stroke-dasharray="6,3"/>'
    )
    out.append(f'<text x="{lx + 30}" y="{ly + 4}">silhouette (right axis)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, align_right: tuple[str, ...] = ()) -> str:
    """A GitHub-flavoured markdown table of ``frame`` (values already formatted)."""
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if c in align_right else "---" for c in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _num(value: float, digits: int = 3) -> str | None:
    return None if value is None or not math.isfinite(float(value)) else f"{value:.{digits}f}"


def _int(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{int(value):,}"


def sweep_section(run: ModelRun, svg_link: str | None) -> list[str]:
    sweep = run.sweep
    table = pd.DataFrame(
        {
            "k": sweep["k"].astype(int).astype(str),
            "inertia": [f"{v:,.0f}" for v in sweep["inertia"]],
            "silhouette": [_num(v) for v in sweep["silhouette"]],
            "Calinski-Harabasz": [_num(v, 0) for v in sweep["calinski_harabasz"]],
            "Davies-Bouldin": [_num(v) for v in sweep["davies_bouldin"]],
            "gap (s.e.)": [
                "n/a" if pd.isna(g) else f"{g:.3f} ({e:.3f})"
                for g, e in zip(sweep["gap"], sweep["gap_se"], strict=True)
            ],
            "smallest segment": [
                "n/a" if pd.isna(v) else f"{v:.1%}" for v in sweep["smallest_segment_share"]
            ],
            "allowed": ["no" if pd.notna(r) else "yes" for r in sweep["excluded_reason"]],
            "chosen": ["**yes**" if c else "" for c in sweep["is_chosen"].astype(bool)],
        }
    )
    lines = [
        "## Choice of k",
        "",
        f"Chosen **k = {run.chosen_k}** by `{run.method}`: {run.reason}.",
        "",
        (
            f"Cluster structure: **{run.cluster_structure}**. {run.structure_reason}."
            if run.cluster_structure
            else "Cluster structure: not measured (a model fitted before the verdict existed)."
        ),
        "",
        markdown_table(
            table,
            ("k", "inertia", "silhouette", "Calinski-Harabasz", "Davies-Bouldin", "gap (s.e.)"),
        ),
        "",
        "Silhouette, Calinski-Harabasz and gap: higher is better; Davies-Bouldin: lower is "
        "better. The silhouette is computed on a seeded sample of the fit sample, the gap "
        "statistic on at most 5,000 of its customers against 10 uniform reference sets.",
        "",
    ]
    if svg_link:
        lines += [f"![k sweep: inertia and silhouette against k]({svg_link})", ""]
    return lines


def segments_section(run: ModelRun) -> list[str]:
    segs = run.segments
    total = segs["customers"].sum() if segs["customers"].notna().all() else None
    table = pd.DataFrame(
        {
            "id": segs["segment_id"].astype(int).astype(str),
            "name": segs["segment_name"],
            "customers": [_int(v) for v in segs["customers"]],
            "share": [
                f"{v / total:.1%}" if total and pd.notna(v) else None for v in segs["customers"]
            ],
            "in fit sample": [_int(v) for v in segs["size_in_sample"]],
            "description": segs["description"],
        }
    )
    scored = (
        f"{_int(total)} customers scored in SQL"
        if total is not None
        else "customer_segments not built"
    )
    return [
        "## Segments",
        "",
        f"{scored}; the fit sample has {run.sample_rows:,} customers.",
        "",
        markdown_table(table, ("id", "customers", "share", "in fit sample")),
        "",
    ]


def stability_section(run: ModelRun) -> list[str]:
    if run.stability is None:
        return ["## Stability", "", "segment_stability has no rows for this version.", ""]
    stab = run.stability
    table = pd.DataFrame(
        {
            "id": stab["segment_id"].astype(int).astype(str),
            "name": stab["segment_name"],
            "mean Jaccard": [_num(v) for v in stab["mean_jaccard"]],
            "verdict": stab["verdict"],
        }
    )
    first = stab.iloc[0]
    return [
        "## Stability",
        "",
        f"Bootstrap (clusterboot-style): {int(first['bootstrap_resamples'])} resamples of "
        f"{int(first['stability_rows']):,} fit-sample customers, KMeans refitted with the same "
        f"k each time. Mean adjusted Rand index between the model and the refits: "
        f"**{float(first['mean_ari']):.3f}**. Hennig's verdicts: mean Jaccard >= 0.85 highly "
        "stable, >= 0.75 stable, >= 0.6 doubtful, below unstable.",
        "",
        markdown_table(table, ("id", "mean Jaccard")),
        "",
    ]


def truth_section(comparison: TruthComparison, truth_name: str) -> list[str]:
    table = comparison.contingency.reset_index()
    table = table.rename(columns={table.columns[0]: "segment"})
    totals = comparison.contingency.sum(axis=0)
    rows = [table]
    rows.append(pd.DataFrame([{"segment": "**total**", **totals.to_dict()}]))
    if not comparison.unsegmented.empty:
        missing = comparison.unsegmented.to_dict()
        missing["total"] = int(comparison.unsegmented.sum())
        rows.append(pd.DataFrame([{"segment": NO_SEGMENT, **missing}]))
    full = pd.concat(rows, ignore_index=True)
    numeric = [c for c in full.columns if c != "segment"]
    for column in numeric:
        full[column] = [_int(v) if pd.notna(v) else "0" for v in full[column]]
    labels = comparison.contingency.drop(columns="total")
    largest = [
        f"{labels.loc[i].idxmax()} {labels.loc[i].max() / total:.0%}" if total else None
        for i, total in zip(labels.index, comparison.contingency["total"], strict=True)
    ]
    full["largest label"] = largest + [None] * (len(full) - len(largest))
    lines = [
        f"## Agreement with the planted labels ({truth_name})",
        "",
        f"Adjusted Rand index between segments and `{comparison.label_column}`: "
        f"**{comparison.ari:.3f}** on {comparison.matched:,} customers with both "
        "(1 = identical partitions, 0 = chance level).",
        "",
        "Contingency table (customers; rows: segments, columns: planted labels):",
        "",
        markdown_table(full, tuple(numeric)),
        "",
    ]
    if comparison.unlabelled:
        lines += [f"{comparison.unlabelled:,} segmented customers are not in the truth file.", ""]
    return lines


def render_markdown(
    run: ModelRun,
    db_label: str,
    svg_link: str | None = None,
    comparison: TruthComparison | None = None,
    truth_name: str = "truth",
) -> str:
    """The whole report as markdown text."""
    header = [
        "# Segmentation evaluation",
        "",
        f"Warehouse `{db_label}`, model version {run.version} (config `{run.config_hash}`, "
        f"fitted at {run.fitted_at}"
        + (f"; refit reason: {run.refit_reason}" if run.refit_reason else "")
        + ").",
        "",
    ]
    lines = header + sweep_section(run, svg_link) + segments_section(run)
    lines += stability_section(run)
    if comparison is not None:
        lines += truth_section(comparison, truth_name)
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def evaluate(
    db_path: Path,
    truth_path: Path | None = None,
    svg_path: Path | None = None,
    out_path: Path | None = None,
) -> str:
    """Build the report for ``db_path``; write the SVG to ``svg_path`` (when given) and return
    the markdown (image link relative to ``out_path``'s folder, or to the working folder)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise EvaluationError(
            f"build database not found: {db_path}. Run `dbt build` (or `make run`) first, "
            "or pass --db PATH / set SEGMENTATION_DB."
        )
    with duckdb.connect(str(db_path), read_only=True) as con:
        run = load_run(con)
    comparison = None
    if truth_path is not None:
        truth, column = read_truth(Path(truth_path))
        if run.assignments is None:
            raise EvaluationError(
                f"{SCHEMA}.customer_segments has no rows for version {run.version}: "
                "cannot compare with the truth"
            )
        comparison = compare_with_truth(run.assignments, run.segments, truth, column)
    svg_link = None
    if svg_path is not None:
        svg_path = Path(svg_path)
        svg_path.parent.mkdir(parents=True, exist_ok=True)
        title = f"k sweep of model version {run.version}: chosen k = {run.chosen_k}"
        svg_path.write_text(k_sweep_svg(run.sweep, run.chosen_k, title), encoding="utf-8")
        base = Path(out_path).resolve().parent if out_path is not None else Path.cwd()
        svg_link = Path(os.path.relpath(svg_path.resolve(), base)).as_posix()
    truth_name = Path(truth_path).name if truth_path is not None else "truth"
    return render_markdown(run, db_path.as_posix(), svg_link, comparison, truth_name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `segmentation evaluate`."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"build DuckDB file, opened read-only (default: $SEGMENTATION_DB or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="parquet file with customer_id and planted labels (e.g. data/truth/personas.parquet)"
        "; adds the adjusted Rand index and the contingency table",
    )
    parser.add_argument(
        "--out",
        default="-",
        help="markdown file to write, or - for stdout (default: -)",
    )
    parser.add_argument(
        "--svg",
        default=None,
        help="where to write the k sweep plot, e.g. docs/img/k_sweep.svg (the plot "
        "docs/segmentation.md shows); default: no plot",
    )


def main(args: argparse.Namespace) -> int:
    """Write the report; a clear error and exit code 1 when it cannot be built."""
    db_path = Path(args.db or os.environ.get("SEGMENTATION_DB") or DEFAULT_DB)
    out = None if args.out in (None, "", "-") else Path(args.out)
    svg = Path(args.svg) if getattr(args, "svg", None) else None
    try:
        text = evaluate(db_path, args.truth, svg, out)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"evaluation written to {out}" + (f" (plot: {svg})" if svg else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="segmentation evaluate", description=__doc__)
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))

"""Offline HTML report: one self-contained page that explains the customer segments.

``segmentation report`` reads the public segmentation marts from the build database (opened
read-only) and writes ONE HTML file that works with no network at all: the charts are Vega-Lite
specs built with Altair, rendered in the page by the vega / vega-lite / vega-embed JavaScript
that ``vl-convert-python`` ships (``vl_convert.javascript_bundle``), inlined into the page. No
CDN script, web font or remote image is referenced, and a Content-Security-Policy meta tag makes
the browser refuse any request the page might still try.

Every view is a ``<section>`` with a stable id (see ``SECTION_IDS``); each chart lives in a
``<div class="chart">`` inside its section. A section whose table or columns are missing, or
whose table is empty, says "Not available" and why, instead of failing the whole report.

Choosing a segment (the select box, or clicking a bar in the segment sizes chart) shows its
profile, its characteristics text and its top customers by monetary value. Customer ids are
never written: the page shows ``md5(customer_id)``, computed in SQL.

The page also records, in ``<div id="resource-check">``, how many resources the browser loaded
from the network, how many failed, how many script errors and CSP violations happened and how
many charts rendered; the browser test reads these attributes from the dumped DOM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import pandas as pd

from segmentation import report_assets
from segmentation.powerbi.metrics import (
    MetricError,
    headline_sql,
    load_metrics,
    read_semantic_manifest,
)

DEFAULT_DB = "data/warehouse.duckdb"
DEFAULT_BI = "data/bi"
DEFAULT_SEMANTIC_MANIFEST = "target/semantic_manifest.json"
REPORT_NAME = "report.html"
PREFERRED_SCHEMA = "marts"

#: Section ids in page order; tests and BI links rely on them.
SECTION_IDS: tuple[str, ...] = (
    "model-health",
    "segment-sizes",
    "segment-playbook",
    "feature-importance",
    "cluster-characteristics",
    "segment-metrics",
    "return-rates",
    "customer-value",
    "behavioural-patterns",
    "trends",
    "migration",
    "k-selection",
    "stability",
    "segment-drilldown",
)

TOP_CUSTOMERS = 10
BEHAVIOUR_SAMPLE = 2000
SEGMENT_COLORS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)
#: Mean Jaccard thresholds of the bootstrap stability verdicts (Hennig 2007).
STABILITY_THRESHOLDS = ((0.6, "unstable below"), (0.75, "stable above"), (0.85, "highly stable"))
#: segment_stability.verdict (clustering/stability.py) -> bar colour
VERDICT_COLORS = {
    "highly stable": "#2f9e44",
    "stable": "#74c476",
    "doubtful": "#f2b134",
    "unstable": "#d9480f",
    "not applicable": "#bab0ac",
}


class ReportError(RuntimeError):
    """The report cannot be written at all (bad database path, no chart runtime)."""


class Unavailable(Exception):
    """A section's data is missing or empty; the message says why, for the reader."""


# --------------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------------


class Warehouse:
    """Read-only access to the marts with friendly 'not available' reasons.

    Tables are looked up by name in schema ``marts`` first, then in any schema whose name ends
    with ``marts``, then anywhere else, so the report also works on a published serving copy.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
        found: dict[str, dict[str, list[str]]] = {}
        for schema, table, column in rows:
            found.setdefault(table.lower(), {}).setdefault(schema, []).append(column.lower())
        self._tables: dict[str, tuple[str, list[str]]] = {}
        for table, by_schema in found.items():
            schema = sorted(by_schema, key=_schema_rank)[0]
            self._tables[table] = (schema, by_schema[schema])

    def columns(self, table: str) -> list[str]:
        """Columns of ``table``; raises Unavailable if it does not exist."""
        if table not in self._tables:
            raise Unavailable(f"table {PREFERRED_SCHEMA}.{table} is missing")
        return self._tables[table][1]

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` exists with all ``columns``."""
        return table in self._tables and all(c in self._tables[table][1] for c in columns)

    def qualified(self, table: str) -> str:
        """The quoted ``schema.table`` name of ``table``."""
        self.columns(table)
        schema, _ = self._tables[table]
        return f'"{schema}"."{table}"'

    def read(
        self,
        table: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
        latest_version: bool = True,
        order_by: str | None = None,
    ) -> pd.DataFrame:
        """Select ``required`` (+ present ``optional``) columns of ``table``.

        With ``latest_version`` and a ``model_version`` column, only rows of the highest model
        version are returned. Raises Unavailable when the table or a required column is missing
        or no row is left.
        """
        present = self.columns(table)
        missing = [c for c in required if c not in present]
        if missing:
            raise Unavailable(f"{PREFERRED_SCHEMA}.{table} has no column {', '.join(missing)}")
        cols = list(required) + [c for c in optional if c in present and c not in required]
        name = self.qualified(table)
        sql = f"select {', '.join(_quote(c) for c in cols)} from {name}"
        if latest_version and "model_version" in present:
            sql += f" where model_version = (select max(model_version) from {name})"
        if order_by:
            sql += f" order by {order_by}"
        frame = self.query(sql)
        if frame.empty:
            raise Unavailable(f"{PREFERRED_SCHEMA}.{table} has no rows")
        return frame

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` and return a DataFrame with decimals as floats."""
        try:
            frame = self.con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise Unavailable(f"query failed: {str(exc).splitlines()[0]}") from exc
        return _decimals_to_float(frame)

    def latest_filter(self, table: str, alias: str) -> str:
        """A ``where`` clause keeping the latest model version of ``table`` (or '')."""
        if "model_version" not in self.columns(table):
            return ""
        return (
            f"where {alias}.model_version = "
            f"(select max(model_version) from {self.qualified(table)})"
        )


def _schema_rank(schema: str) -> tuple[int, str]:
    lowered = schema.lower()
    if lowered == PREFERRED_SCHEMA:
        return (0, lowered)
    if lowered.endswith(PREFERRED_SCHEMA):
        return (1, lowered)
    return (2, lowered)


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _decimals_to_float(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if frame[column].dtype == object:
            sample = frame[column].dropna()
            if not sample.empty and isinstance(sample.iloc[0], Decimal):
                frame[column] = frame[column].astype(float)
    return frame


# --------------------------------------------------------------------------------------------
# Segment labels and colours shared by every chart
# --------------------------------------------------------------------------------------------


@dataclass
class Segments:
    """The segments of the latest model version, in id order, with one colour each."""

    ids: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)

    def label(self, segment_id: Any, fallback_name: Any = None) -> str:
        """Display label ``"<id> · <name>"`` for a segment id (None -> ``"(none)"``)."""
        if segment_id is None or (isinstance(segment_id, float) and pd.isna(segment_id)):
            return "(none)"
        sid = int(segment_id)
        name = self.names.get(sid)
        if name is None and fallback_name is not None and not pd.isna(fallback_name):
            name = str(fallback_name)
        return f"{sid} · {name}" if name else f"{sid}"

    def add_labels(self, frame: pd.DataFrame, id_col: str, name_col: str, out: str) -> None:
        """Add a label column ``out`` to ``frame`` from an id and an optional name column."""
        names = frame[name_col] if name_col in frame.columns else [None] * len(frame)
        frame[out] = [self.label(i, n) for i, n in zip(frame[id_col], names, strict=True)]

    def domain(self) -> list[str]:
        """Colour domain: the labels of all known segments."""
        return [self.label(i) for i in self.ids]

    def color(self, field_name: str = "segment", title: str = "Segment") -> alt.Color:
        """A colour encoding with the same colour per segment in every chart."""
        domain = self.domain()
        if not domain:
            return alt.Color(f"{field_name}:N", title=title)
        palette = [SEGMENT_COLORS[i % len(SEGMENT_COLORS)] for i in range(len(domain))]
        return alt.Color(
            f"{field_name}:N",
            title=title,
            scale=alt.Scale(domain=domain, range=palette),
            sort=domain,
        )


def load_segments(wh: Warehouse) -> Segments:
    """Segment ids and names, from the first of dim_segments, profiles, customer_segments."""
    for table in ("dim_segments", "segment_profiles", "customer_segments"):
        try:
            frame = wh.read(table, ["segment_id"], ["segment_name"])
        except Unavailable:
            continue
        frame = frame.dropna(subset=["segment_id"]).drop_duplicates("segment_id")
        segments = Segments()
        for row in frame.sort_values("segment_id").itertuples(index=False):
            sid = int(row.segment_id)
            segments.ids.append(sid)
            name = getattr(row, "segment_name", None)
            if name is not None and not pd.isna(name):
                segments.names[sid] = str(name)
        if segments.ids:
            return segments
    return Segments()


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


@dataclass
class Section:
    """One view of the page: text, HTML tables and charts, or a 'not available' reason."""

    id: str
    title: str
    intro: str = ""
    charts: list[dict[str, Any]] = field(default_factory=list)
    html_parts: list[str] = field(default_factory=list)
    unavailable: str | None = None
    wide: bool = False


@dataclass
class ReportContext:
    """Everything the section builders share."""

    wh: Warehouse
    segments: Segments
    drilldown: dict[str, Any] = field(default_factory=dict)
    #: dbt's semantic layer metrics (segmentation.powerbi.metrics), or why they are missing
    metrics: dict[str, Any] | str = field(default_factory=dict)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (NaN -> null, dates -> ISO strings)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def _data(frame: pd.DataFrame) -> alt.Data:
    return alt.Data(values=_records(frame))


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec = chart.to_dict()
    spec.setdefault("config", {})
    spec["config"].setdefault("view", {"stroke": None})
    return spec


def _fmt(value: Any, kind: str = "num") -> str:
    """Format one value for an HTML table."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if kind == "pct":
        return f"{float(value):.1%}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "num":
        return f"{float(value):,.2f}"
    if kind == "num3":
        return f"{float(value):.3f}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f'<table class="data {css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


#: What each cluster structure verdict means for a marketer (segmentation_runs).
STRUCTURE_MEANING = {
    "strong": (
        "good",
        "The segments are distinct kinds of customers: target each with its own message.",
    ),
    "reasonable": (
        "good",
        "The segments are real groups with some overlap at the borders: target each with its "
        "own message, and expect customers near a border to respond like their neighbours.",
    ),
    "weak": (
        "warn",
        "Real groups that overlap a lot, or one population that skewed features make look "
        "grouped (one population can score weak, too): use the segments to prioritise (who to "
        "contact first, how much to spend), read their names as where each sits against the "
        "average rather than as kinds of customers, and test a message on a segment before "
        "rolling it out.",
    ),
    "none": (
        "bad",
        "The customers form one population: the segments are cuts of a continuum (more or "
        "less spend, recency, returns), not different kinds of customers. Use them as ranges "
        "of a scale; do not expect a segment to behave unlike its neighbours.",
    ),
}


def structure_banner(run: dict[str, Any]) -> str:
    """The cluster structure verdict of the latest run, first thing in the report."""
    verdict = run.get("cluster_structure")
    if verdict is None or pd.isna(verdict) or str(verdict) not in STRUCTURE_MEANING:
        return (
            '<div class="verdict neutral"><strong>Cluster structure: not measured</strong> '
            "(a model fitted before the verdict existed; the next refit measures it).</div>"
        )
    state, meaning = STRUCTURE_MEANING[str(verdict)]
    why = _fmt(run.get("structure_reason"), "text")
    method = run.get("k_method")
    if _present(method) and method in K_FALLBACKS:
        # the number of segments is not the configured rule's answer: say so where the
        # verdict is read
        why += f". k = {_fmt(run.get('k'), 'int')} was chosen by {method}"
        if _present(run.get("k_reason")):
            why += f": {run['k_reason']}"
    return (
        f'<div class="verdict {state}" id="cluster-structure">'
        f"<strong>Cluster structure: {html.escape(str(verdict))}.</strong> "
        f"{html.escape(meaning)}<br><small>{html.escape(why)}</small></div>"
    )


def not_segmented_hint(count: Any, only_cancelled: Any = None) -> str:
    """The customers without a segment (no kept order), said plainly."""
    if count is None or pd.isna(count) or int(count) == 0:
        return ""
    text = f"not segmented: {int(count):,} without a kept order"
    if only_cancelled is not None and not pd.isna(only_cancelled) and int(only_cancelled) > 0:
        text += (
            f" ({int(only_cancelled):,} of them had every order cancelled or without a kept line)"
        )
    return text


#: k_method values that are not the configured rule's own answer (segmentation_runs.k_method)
K_FALLBACKS = {
    "silhouette_fallback",
    "smallest_k_fallback",
    "min_size_fallback",
    "only_k",
    "too_few_customers",
}


def k_rule_card(method: Any) -> tuple[str, str]:
    """The state and hint of the k card: which rule chose k, a warning for a fallback."""
    if not _present(method):
        return "neutral", ""
    if method in K_FALLBACKS:
        return "warn", f"chosen by {method}: not the configured rule's own answer"
    return "neutral", f"chosen by {method}"


def _present(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def stability_card(run: dict[str, Any], status: Callable[..., str]) -> tuple[str, str, str]:
    """Value, state and hint of the stability card: the mean over the segments, coloured by
    the least stable one (a green mean can hide an unstable segment), and nothing to judge
    for one segment, which always matches itself."""
    mean, lowest = run.get("mean_stability"), run.get("min_stability")
    if _present(run.get("k")) and int(run["k"]) == 1:
        return _fmt(mean, "num3"), "neutral", "one segment: it always matches itself"
    bands = "≥ 0.75 stable, < 0.6 unstable"
    if _present(lowest):
        judged, hint = lowest, f"least stable segment {float(lowest):.3f} (colour; {bands})"
    else:  # a history written before min_stability existed
        judged, hint = mean, bands
    return _fmt(mean, "num3"), status(judged, lambda v: v >= 0.75, lambda v: v >= 0.6), hint


def section_model_health(ctx: ReportContext) -> Section:
    """The latest run of the segmentation: model version, fit quality, stability, drift."""
    section = Section("model-health", "Model health", wide=True)
    runs = ctx.wh.read(
        "segmentation_runs",
        ["model_version"],
        [
            "run_id",
            "run_started_at",
            "refitted",
            "refit_reason",
            "customers_scored",
            "customers_without_kept_order",
            "customers_with_only_cancelled_orders",
            "k",
            "k_method",
            "inertia",
            "silhouette",
            "cluster_structure",
            "structure_reason",
            "mean_stability",
            "min_stability",
            "max_psi",
            "k_reason",
        ],
        latest_version=False,
    )
    sort_cols = [c for c in ("run_started_at", "model_version") if c in runs.columns]
    run = runs.sort_values(sort_cols, na_position="first").iloc[-1].to_dict()

    def status(value: Any, good: Callable[[float], bool], warn: Callable[[float], bool]) -> str:
        if value is None or pd.isna(value):
            return "neutral"
        return "good" if good(float(value)) else ("warn" if warn(float(value)) else "bad")

    refitted = run.get("refitted")
    refitted = bool(refitted) if _present(refitted) else None
    drift_state = status(run.get("max_psi"), lambda v: v < 0.1, lambda v: v < 0.25)
    cards = [
        ("Model version", _fmt(run.get("model_version"), "int"), "neutral", ""),
        ("Segments (k)", _fmt(run.get("k"), "int"), *k_rule_card(run.get("k_method"))),
        (
            "Customers scored",
            _fmt(run.get("customers_scored"), "int"),
            "neutral",
            not_segmented_hint(
                run.get("customers_without_kept_order"),
                run.get("customers_with_only_cancelled_orders"),
            ),
        ),
        (
            "Silhouette",
            _fmt(run.get("silhouette"), "num3"),
            status(run.get("silhouette"), lambda v: v > 0.5, lambda v: v > 0.25),
            "> 0.50 reasonable, > 0.25 weak, else none (the verdict above also asks the gap)",
        ),
        ("Mean stability (Jaccard)", *stability_card(run, status)),
        (
            "Max feature drift (PSI)",
            _fmt(run.get("max_psi"), "num3"),
            drift_state,
            "< 0.1 none, ≥ 0.25 significant"
            # drift is measured against the model in force when the build started
            + (
                "; this build refitted on today's data"
                if refitted and drift_state != "good"
                else ""
            ),
        ),
    ]
    refit_text = "–" if refitted is None else ("refitted" if refitted else "reused")
    cards.append(("This run", refit_text, "neutral", _fmt(run.get("refit_reason"), "text")))
    parts = []
    for title, value, state, hint in cards:
        parts.append(
            f'<div class="kpi {state}"><div class="kpi-title">{html.escape(title)}</div>'
            f'<div class="kpi-value">{html.escape(value)}</div>'
            f'<div class="kpi-hint">{html.escape(hint)}</div></div>'
        )
    section.html_parts.append(structure_banner(run))
    section.html_parts.append(f'<div class="kpis">{"".join(parts)}</div>')
    section.html_parts.append(headline_metrics(ctx))
    started = run.get("run_started_at")
    run_id = run.get("run_id")
    section.intro = (
        f"Latest run {html.escape(_fmt(run_id, 'text'))} started "
        f"{html.escape(_fmt(started, 'text'))} (UTC)."
    )
    return section


_FORMAT_KINDS = {"0.0%": "pct", "#,0": "int"}


def headline_metrics(ctx: ReportContext) -> str:
    """The business metrics of dbt's semantic layer, overall, computed by SQL generated from
    their definitions (the same definitions the Power BI measures come from)."""
    title = "<h3>Headline metrics (dbt semantic layer)</h3>"
    if isinstance(ctx.metrics, str) or not ctx.metrics:
        reason = ctx.metrics or "no metrics defined"
        return f'{title}<p class="note">Not shown: {html.escape(reason)}</p>'
    try:
        sql = headline_sql(ctx.metrics, lambda _schema, table: ctx.wh.qualified(table))
        row = ctx.wh.query(sql).iloc[0].to_dict()
    except Unavailable as exc:
        return f'{title}<p class="note">Not shown: {html.escape(str(exc))}</p>'
    rows = [
        (
            metric.label,
            _fmt(row.get(name), _FORMAT_KINDS.get(metric.format_string, "money")),
            metric.description,
        )
        for name, metric in ctx.metrics.items()
    ]
    return title + _table(["Metric", "Value", "Definition"], rows)


def _load_metrics(path: Path) -> dict[str, Any] | str:
    try:
        return load_metrics(read_semantic_manifest(path))
    except MetricError as exc:
        return str(exc)


def _profiles(ctx: ReportContext, optional: Sequence[str]) -> pd.DataFrame:
    frame = ctx.wh.read("segment_profiles", ["segment_id"], ["segment_name", *optional])
    frame = frame.sort_values("segment_id").reset_index(drop=True)
    ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    return frame


def section_segment_sizes(ctx: ReportContext) -> Section:
    """Customers per segment, with their share; click a bar to drill down."""
    section = Section(
        "segment-sizes",
        "Segment sizes",
        intro="Customers in each segment. Click a bar to see that segment's profile below.",
    )
    try:
        frame = _profiles(ctx, ["customers", "customer_share"])
        if "customers" not in frame.columns:
            raise Unavailable("segment_profiles has no customers column")
    except Unavailable:
        frame = ctx.wh.read("dim_segments", ["segment_id", "customers"], ["segment_name"])
        ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    if "customer_share" not in frame.columns:
        total = frame["customers"].sum()
        frame["customer_share"] = frame["customers"] / total if total else None
    domain = ctx.segments.domain() or list(frame["segment"])
    base = alt.Chart(_data(frame)).encode(
        y=alt.Y("segment:N", sort=domain, title=None),
        x=alt.X("customers:Q", title="Customers"),
    )
    bars = base.mark_bar(cursor="pointer").encode(
        color=ctx.segments.color(),
        tooltip=[
            alt.Tooltip("segment:N", title="Segment"),
            alt.Tooltip("customers:Q", format=",", title="Customers"),
            alt.Tooltip("customer_share:Q", format=".1%", title="Share"),
        ],
    )
    labels = base.mark_text(align="left", dx=4).encode(
        text=alt.Text("customer_share:Q", format=".1%")
    )
    chart = (bars + labels).properties(width=460, height=max(60, 34 * len(frame)))
    section.charts.append(_spec(chart.configure_legend(disable=True)))
    return section


PLAYBOOK_FIELDS = [
    ("recommended_action", "Recommended action"),
    ("channel", "Channel"),
    ("offer_guidance", "Offers"),
    ("kpi", "KPI to watch"),
]


def section_segment_playbook(ctx: ReportContext) -> Section:
    """The segment playbook (seed segment_playbook, through dim_segments): what to do with
    each segment, where, with which offers, and the KPI that shows whether it works."""
    section = Section(
        "segment-playbook",
        SECTION_TITLES["segment-playbook"],
        intro="From the segment playbook (seeds/segment_playbook.csv): edit it to match the "
        "shop's own playbook. Read it with the cluster structure verdict above: when the "
        "segments are cuts of one population, test an action on a sample before rolling it "
        "out.",
        wide=True,
    )
    frame = ctx.wh.read(
        "dim_segments",
        ["segment_id", "recommended_action"],
        ["segment_name", "customers", *[name for name, _ in PLAYBOOK_FIELDS[1:]]],
    )
    frame = frame.sort_values("segment_id").reset_index(drop=True)
    ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    fields = [(name, title) for name, title in PLAYBOOK_FIELDS if name in frame.columns]
    rows = [
        [
            row["segment"],
            _fmt(row.get("customers"), "int"),
            *[_fmt(row[name], "text") for name, _ in fields],
        ]
        for row in frame.to_dict(orient="records")
    ]
    section.html_parts.append(
        _table(["Segment", "Customers", *[title for _, title in fields]], rows, css="playbook")
    )
    return section


def section_feature_importance(ctx: ReportContext) -> Section:
    """Eta squared of each feature: how much of its variance the segments explain."""
    section = Section(
        "feature-importance",
        "Feature importance",
        intro="Share of each feature's variance explained by the segments (eta squared).",
    )
    frame = ctx.wh.read(
        "segment_feature_importance", ["feature", "eta_squared"], ["importance_rank"]
    )
    frame = frame.sort_values("eta_squared", ascending=False)
    chart = (
        alt.Chart(_data(frame))
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("feature:N", sort=list(frame["feature"]), title=None),
            x=alt.X("eta_squared:Q", title="Eta squared", scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("feature:N"),
                alt.Tooltip("eta_squared:Q", format=".3f"),
            ],
        )
        .properties(width=460, height=max(60, 26 * len(frame)))
    )
    section.charts.append(_spec(chart))
    return section


def section_cluster_characteristics(ctx: ReportContext) -> Section:
    """Heatmap of each segment's mean standardised feature value."""
    section = Section(
        "cluster-characteristics",
        "Cluster characteristics",
        intro=(
            "Mean of each feature per segment on the scale the model clusters on (winsorised, "
            "log-transformed where the model uses the log, standardised): red is above the "
            "average customer on that scale, blue below, in standard deviations. A few very "
            "large customers pull a raw average up, so a segment can be red here with a raw "
            "mean below the average: a cell's tooltip gives both raw means."
        ),
        wide=True,
    )
    frame = ctx.wh.read(
        "segment_feature_deviations",
        ["segment_id", "feature", "standardised_deviation"],
        ["segment_name", "segment_mean", "population_mean"],
    )
    ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    raw_means = [
        alt.Tooltip(f"{column}:Q", title=title, format=",.2f")
        for column, title in (
            ("segment_mean", "Segment mean"),
            ("population_mean", "All customers"),
        )
        if column in frame.columns
    ]
    features = list(dict.fromkeys(frame["feature"]))
    if ctx.wh.has("segment_feature_importance", "feature", "eta_squared"):
        try:
            imp = ctx.wh.read("segment_feature_importance", ["feature", "eta_squared"])
            ranked = list(imp.sort_values("eta_squared", ascending=False)["feature"])
            features = [f for f in ranked if f in features] + [
                f for f in features if f not in ranked
            ]
        except Unavailable:
            pass
    limit = max(0.5, float(frame["standardised_deviation"].abs().max() or 0.5))
    seg_order = [s for s in ctx.segments.domain() if s in set(frame["segment"])] or sorted(
        set(frame["segment"])
    )
    base = alt.Chart(_data(frame)).encode(
        x=alt.X("feature:N", sort=features, title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("segment:N", sort=seg_order, title=None),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "standardised_deviation:Q",
            title="Std. deviation",
            scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit], domainMid=0),
        ),
        tooltip=[
            alt.Tooltip("segment:N"),
            alt.Tooltip("feature:N"),
            alt.Tooltip("standardised_deviation:Q", format="+.2f"),
            *raw_means,
        ],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("standardised_deviation:Q", format="+.1f"),
        color=alt.condition(
            f"abs(datum.standardised_deviation) > {limit * 0.6}",
            alt.value("white"),
            alt.value("#222"),
        ),
    )
    chart = (rect + text).properties(
        width=max(300, 64 * len(features)), height=max(60, 34 * len(seg_order))
    )
    section.charts.append(_spec(chart))
    return section


PROFILE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("customers", "Customers", "int"),
    ("customer_share", "Customer share", "pct"),
    ("revenue", "Revenue", "money"),
    ("revenue_share", "Revenue share", "pct"),
    ("mean_monetary", "Mean monetary", "money"),
    ("median_monetary", "Median monetary", "money"),
    ("net_sales_per_order", "Net sales per order", "money"),
    ("mean_frequency", "Mean orders", "num"),
    ("mean_recency_days", "Mean recency (days)", "num"),
    ("returned_units_share", "Units returned (of sold)", "pct"),
    ("orders_with_return_share", "Orders with a return", "pct"),
    ("refunded_value_share", "Value refunded (of net sales)", "pct"),
    ("top_category", "Top category", "text"),
    ("top_return_reason", "Top return reason", "text"),
)


def section_segment_metrics(ctx: ReportContext) -> Section:
    """The segment_profiles table: one column per segment, one row per metric, so that
    fourteen metrics fit a laptop's width without scrolling sideways."""
    section = Section("segment-metrics", "Segment metrics", wide=True)
    frame = _profiles(ctx, [name for name, _, _ in PROFILE_FIELDS])
    fields = [f for f in PROFILE_FIELDS if f[0] in frame.columns]
    records = frame.to_dict(orient="records")
    rows = [
        [title, *[_fmt(record[name], kind) for record in records]] for name, title, kind in fields
    ]
    section.html_parts.append(
        _table(["Metric", *[record["segment"] for record in records]], rows, css="metrics")
    )
    return section


#: Widest grouped-bar chart (px of plot area): with its axis and a legend below, it fits the
#: narrowest column of the page's grid (620 px) at any number of segments.
GROUPED_BARS_MAX_WIDTH = 440


def grouped_bars_width(segments: int, per_segment: int = 90, least: int = 260) -> int:
    """Plot width of a grouped bar chart over the segments: ``per_segment`` px each, within
    [least, GROUPED_BARS_MAX_WIDTH], so that no chart scrolls sideways at 1280 or 1920 px."""
    return min(GROUPED_BARS_MAX_WIDTH, max(least, per_segment * segments))


def section_return_rates(ctx: ReportContext) -> Section:
    """Grouped bars of the three return rates per segment."""
    section = Section(
        "return-rates",
        "Return rates by segment",
        intro=(
            "Pooled over each segment: units returned of units sold, orders with a return of "
            "kept orders, value refunded of net sales. The customers' own return rates "
            "(one vote per customer) are the features under Cluster characteristics."
        ),
    )
    measures = {
        "returned_units_share": "units",
        "orders_with_return_share": "orders",
        "refunded_value_share": "value",
    }
    frame = _profiles(ctx, list(measures))
    present = [m for m in measures if m in frame.columns]
    if not present:
        raise Unavailable("segment_profiles has no return rate columns")
    long = frame.melt(
        id_vars=["segment"], value_vars=present, var_name="measure", value_name="rate"
    )
    long["measure"] = long["measure"].map(measures)
    chart = (
        alt.Chart(_data(long))
        .mark_bar()
        .encode(
            x=alt.X(
                "segment:N", sort=ctx.segments.domain(), title=None, axis=alt.Axis(labelAngle=-20)
            ),
            xOffset=alt.XOffset("measure:N", sort=list(measures.values())),
            y=alt.Y("rate:Q", title="Return rate", axis=alt.Axis(format="%")),
            color=alt.Color(
                "measure:N",
                title="Measured on",
                sort=list(measures.values()),
                scale=alt.Scale(range=["#e45756", "#f58518", "#9d755d"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["segment:N", "measure:N", alt.Tooltip("rate:Q", format=".1%")],
        )
        # legend below and a capped width: no legend cut off behind a scrollbar
        .properties(width=grouped_bars_width(len(frame)), height=260)
    )
    section.charts.append(_spec(chart))
    return section


def section_customer_value(ctx: ReportContext) -> Section:
    """Customer share vs revenue share, and mean vs median monetary, per segment."""
    section = Section(
        "customer-value",
        "Customer value by segment",
        intro="Who brings the revenue: share of customers vs share of revenue, and spend per "
        "customer.",
    )
    frame = _profiles(
        ctx, ["customer_share", "revenue_share", "mean_monetary", "median_monetary", "revenue"]
    )
    domain = ctx.segments.domain()
    shares = [c for c in ("customer_share", "revenue_share") if c in frame.columns]
    if shares:
        long = frame.melt(
            id_vars=["segment"], value_vars=shares, var_name="what", value_name="share"
        )
        long["what"] = long["what"].map(
            {"customer_share": "share of customers", "revenue_share": "share of revenue"}
        )
        chart = (
            alt.Chart(_data(long))
            .mark_bar()
            .encode(
                x=alt.X("segment:N", sort=domain, title=None, axis=alt.Axis(labelAngle=-20)),
                xOffset="what:N",
                y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
                color=alt.Color(
                    "what:N",
                    title=None,
                    scale=alt.Scale(range=["#bab0ac", "#54a24b"]),
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=["segment:N", "what:N", alt.Tooltip("share:Q", format=".1%")],
            )
            .properties(
                width=grouped_bars_width(len(frame)), height=240, title="Customers vs revenue"
            )
        )
        section.charts.append(_spec(chart))
    spend = [c for c in ("mean_monetary", "median_monetary") if c in frame.columns]
    if spend:
        long = frame.melt(
            id_vars=["segment"], value_vars=spend, var_name="stat", value_name="value"
        )
        long["stat"] = long["stat"].str.replace("_monetary", "")
        chart = (
            alt.Chart(_data(long))
            .mark_bar()
            .encode(
                x=alt.X("segment:N", sort=domain, title=None, axis=alt.Axis(labelAngle=-20)),
                xOffset="stat:N",
                y=alt.Y("value:Q", title="Monetary per customer"),
                color=alt.Color(
                    "stat:N",
                    title=None,
                    scale=alt.Scale(range=["#4c78a8", "#9ecae9"]),
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=["segment:N", "stat:N", alt.Tooltip("value:Q", format=",.2f")],
            )
            .properties(
                width=grouped_bars_width(len(frame)), height=240, title="Spend per customer"
            )
        )
        section.charts.append(_spec(chart))
    if not section.charts:
        raise Unavailable("segment_profiles has no share or monetary columns")
    return section


def section_behavioural_patterns(ctx: ReportContext) -> Section:
    """Recency vs frequency of a deterministic customer sample, and of the segment means."""
    section = Section(
        "behavioural-patterns",
        "Behavioural patterns",
        intro=(
            f"Left: recency vs number of orders for a fixed sample of up to {BEHAVIOUR_SAMPLE:,} "
            "customers. Right: segment means, bubble size is the average order value."
        ),
        wide=True,
    )
    wh = ctx.wh
    reasons = []
    try:
        features_table = next(
            t
            for t in ("customer_features", "dim_customers")
            if wh.has(t, "customer_id", "recency_days", "frequency")
        )
        wh.columns("customer_segments")
        cs = wh.qualified("customer_segments")
        ft = wh.qualified(features_table)
        aov = "f.avg_order_value" if wh.has(features_table, "avg_order_value") else "null"
        sample = wh.query(
            f"""
            select s.segment_id, s.segment_name,
                   cast(f.recency_days as double) as recency_days,
                   cast(f.frequency as double) as frequency,
                   cast({aov} as double) as avg_order_value
            from {cs} as s
            join {ft} as f on f.customer_id = s.customer_id
            {wh.latest_filter("customer_segments", "s")}
            order by md5(cast(s.customer_id as varchar))
            limit {BEHAVIOUR_SAMPLE}
            """
        )
        if sample.empty:
            raise Unavailable("no scored customers with features")
        ctx.segments.add_labels(sample, "segment_id", "segment_name", "segment")
        sample = sample.drop(columns=["segment_name", "segment_id"])
        chart = (
            alt.Chart(_data(sample))
            .mark_circle(opacity=0.45, size=22)
            .encode(
                x=alt.X("recency_days:Q", title="Days since last order"),
                y=alt.Y("frequency:Q", title="Orders", scale=alt.Scale(type="symlog")),
                color=ctx.segments.color(),
                tooltip=[
                    "segment:N",
                    alt.Tooltip("recency_days:Q", format=",.0f"),
                    alt.Tooltip("frequency:Q", format=",.0f"),
                    alt.Tooltip("avg_order_value:Q", format=",.2f"),
                ],
            )
            .properties(width=420, height=300, title="Customers (sample)")
        )
        section.charts.append(_spec(chart))
    except (Unavailable, StopIteration) as exc:
        reasons.append(str(exc) or "customer_features / customer_segments are missing")
    try:
        frame = _profiles(ctx, ["mean_frequency", "mean_recency_days", "net_sales_per_order"])
        need = {"mean_frequency", "mean_recency_days"}
        if not need.issubset(frame.columns):
            raise Unavailable("segment_profiles has no mean_frequency / mean_recency_days")
        if "net_sales_per_order" not in frame.columns:
            frame["net_sales_per_order"] = 1.0
        base = alt.Chart(_data(frame)).encode(
            x=alt.X("mean_recency_days:Q", title="Mean days since last order"),
            y=alt.Y("mean_frequency:Q", title="Mean orders"),
        )
        bubbles = base.mark_circle(opacity=0.8).encode(
            size=alt.Size(
                "net_sales_per_order:Q",
                title="Net sales per order",
                scale=alt.Scale(range=[80, 1600]),
            ),
            color=ctx.segments.color(),
            tooltip=[
                "segment:N",
                alt.Tooltip("mean_recency_days:Q", format=",.1f"),
                alt.Tooltip("mean_frequency:Q", format=",.2f"),
                alt.Tooltip("net_sales_per_order:Q", format=",.2f"),
            ],
        )
        labels = base.mark_text(dy=-16, fontSize=11).encode(text="segment:N")
        chart = (bubbles + labels).properties(width=420, height=300, title="Segment means")
        section.charts.append(_spec(chart))
    except Unavailable as exc:
        reasons.append(str(exc))
    if not section.charts:
        raise Unavailable("; ".join(reasons))
    return section


#: segment_trends' columns: the customers and the three return shares are to date (every
#: customer with a kept order by the month end; returns pooled over all months so far), the
#: others are the month's own
TREND_METRICS: dict[str, str] = {
    "customers": "Customers (with an order to date)",
    "new_customers": "New customers (first order in the month)",
    "orders": "Orders in the month",
    "net_sales": "Net sales in the month (before refunds)",
    "returned_units_share": "Units returned of sold, to date",
    "orders_with_return_share": "Orders with a return, to date",
    "refunded_value_share": "Value refunded of net sales, to date",
}


def section_trends(ctx: ReportContext) -> Section:
    """Monthly metrics per segment, with a metric selector bound to the chart."""
    section = Section(
        "trends",
        "Trends by month",
        intro=(
            "Pick a metric under the chart. Each month end scores every customer with the "
            "current model. Customers and the return shares are to date (everyone with an "
            "order by then, and returns over all months so far); orders, new customers and "
            "net sales are the month's own."
        ),
        wide=True,
    )
    frame = ctx.wh.read(
        "segment_trends",
        ["month_end_date", "segment_id"],
        ["segment_name", *TREND_METRICS],
        latest_version=False,
    )
    present = [m for m in TREND_METRICS if m in frame.columns]
    if not present:
        raise Unavailable("segment_trends has no metric columns")
    ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    frame["month"] = pd.to_datetime(frame["month_end_date"]).dt.strftime("%Y-%m-%d")
    long = frame.melt(id_vars=["month", "segment"], value_vars=present, var_name="key")
    long["metric"] = long["key"].map(TREND_METRICS)
    long = long.drop(columns=["key"])
    options = [TREND_METRICS[m] for m in present]
    metric = alt.param(
        name="metric",
        value=options[0],
        bind=alt.binding_select(options=options, name="Metric: "),
    )
    chart = (
        alt.Chart(_data(long))
        .mark_line(point=alt.OverlayMarkDef(size=25))
        .encode(
            x=alt.X("month:T", title="Month end"),
            y=alt.Y("value:Q", title=None),
            color=ctx.segments.color(),
            tooltip=[
                "segment:N",
                alt.Tooltip("month:T", format="%Y-%m"),
                "metric:N",
                alt.Tooltip("value:Q", format=",.3~f"),
            ],
        )
        .add_params(metric)
        .transform_filter(alt.datum.metric == metric)
        .properties(width=820, height=300)
    )
    section.charts.append(_spec(chart))
    return section


def section_migration(ctx: ReportContext) -> Section:
    """From -> to segment heatmap between consecutive month ends, month pair selectable."""
    section = Section(
        "migration",
        "Segment migration",
        intro=(
            "Where the customers of each segment (rows) were one month later (columns); the "
            "colour is the share of the row's customers. Pick the month under the chart."
        ),
        wide=True,
    )
    frame = ctx.wh.read(
        "segment_migration",
        ["to_month_end", "from_segment_id", "to_segment_id", "customers"],
        ["from_month_end", "from_segment_name", "to_segment_name", "share_of_from_segment"],
        latest_version=False,
    )
    ctx.segments.add_labels(frame, "from_segment_id", "from_segment_name", "from_segment")
    ctx.segments.add_labels(frame, "to_segment_id", "to_segment_name", "to_segment")
    if "share_of_from_segment" not in frame.columns:
        totals = frame.groupby(["to_month_end", "from_segment"])["customers"].transform("sum")
        frame["share_of_from_segment"] = frame["customers"] / totals
    frame["month"] = pd.to_datetime(frame["to_month_end"]).dt.strftime("%Y-%m-%d")
    frame = frame[["month", "from_segment", "to_segment", "customers", "share_of_from_segment"]]
    months = sorted(frame["month"].unique())
    order = ctx.segments.domain()
    labels = set(frame["from_segment"]) | set(frame["to_segment"])
    order = [s for s in order if s in labels] + sorted(labels - set(order))
    month = alt.param(
        name="migration_month",
        value=months[-1],
        bind=alt.binding_select(options=months, name="Month ending: "),
    )
    base = (
        alt.Chart(_data(frame))
        .transform_filter(alt.datum.month == month)
        .encode(
            x=alt.X("to_segment:N", sort=order, title="To segment", axis=alt.Axis(labelAngle=-20)),
            y=alt.Y("from_segment:N", sort=order, title="From segment"),
        )
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "share_of_from_segment:Q",
            title="Share of row",
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
        ),
        tooltip=[
            "from_segment:N",
            "to_segment:N",
            alt.Tooltip("customers:Q", format=","),
            alt.Tooltip("share_of_from_segment:Q", format=".1%"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("share_of_from_segment:Q", format=".0%"),
        color=alt.condition(
            "datum.share_of_from_segment > 0.6", alt.value("white"), alt.value("#222")
        ),
    )
    chart = (
        (rect + text)
        .add_params(month)
        .properties(width=max(240, 80 * len(order)), height=max(60, 36 * len(order)))
    )
    section.charts.append(_spec(chart))
    return section


def section_k_selection(ctx: ReportContext) -> Section:
    """Elbow curve with the chosen k marked, silhouette curve, and the sweep table."""
    section = Section("k-selection", "Choosing the number of segments", wide=True)
    frame = ctx.wh.read(
        "segment_k_selection",
        ["k", "inertia"],
        [
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "gap",
            "gap_se",
            "excluded_reason",
            "is_chosen",
            "method",
            "reason",
        ],
        order_by="k",
    )
    if "is_chosen" not in frame.columns:
        frame["is_chosen"] = False
    frame["is_chosen"] = frame["is_chosen"].fillna(False).astype(bool)
    chosen = frame[frame["is_chosen"]]
    chosen_k = int(chosen["k"].iloc[0]) if not chosen.empty else None
    # the elbow rule's default reads the knee on log(inertia) (clustering/elbow.py), where a
    # late knee shows as clearly as an early one: the chart draws the curve the rule read
    rule_reasons = frame["reason"].dropna().astype(str) if "reason" in frame.columns else []
    log_curve = any("log inertia" in r for r in rule_reasons) and bool((frame["inertia"] > 0).all())
    plot = frame[["k", "inertia", "is_chosen"]].copy()
    if "silhouette" in frame.columns:
        plot["silhouette"] = frame["silhouette"]
    base = alt.Chart(_data(plot)).encode(x=alt.X("k:Q", title="k", axis=alt.Axis(tickMinStep=1)))
    layers = [
        base.mark_line(point=True, color="#4c78a8").encode(
            y=alt.Y(
                "inertia:Q",
                title="Inertia (within-cluster SS, log scale)"
                if log_curve
                else "Inertia (within-cluster SS)",
                scale=alt.Scale(type="log", nice=False) if log_curve else alt.Undefined,
            ),
            tooltip=["k:Q", alt.Tooltip("inertia:Q", format=",.1f")],
        )
    ]
    if chosen_k is not None:
        marker = base.transform_filter(alt.datum.is_chosen)
        layers += [
            marker.mark_rule(color="#e45756", strokeDash=[4, 3]),
            marker.mark_point(color="#e45756", size=160, filled=True).encode(y="inertia:Q"),
            marker.mark_text(align="left", dx=8, dy=-10, color="#e45756", fontWeight="bold").encode(
                y="inertia:Q", text=alt.value(f"chosen k = {chosen_k}")
            ),
        ]
    elbow = alt.layer(*layers).properties(width=400, height=260, title="Elbow curve")
    section.charts.append(_spec(elbow))
    sil = plot.dropna(subset=["silhouette"]) if "silhouette" in plot.columns else plot.iloc[0:0]
    if not sil.empty:
        sbase = alt.Chart(_data(sil)).encode(
            x=alt.X("k:Q", title="k", axis=alt.Axis(tickMinStep=1))
        )
        slayers = [
            sbase.mark_line(point=True, color="#54a24b").encode(
                y=alt.Y("silhouette:Q", title="Silhouette"),
                tooltip=["k:Q", alt.Tooltip("silhouette:Q", format=".3f")],
            )
        ]
        if chosen_k is not None and chosen_k in set(sil["k"]):
            smarker = sbase.transform_filter(alt.datum.is_chosen)
            slayers += [
                smarker.mark_rule(color="#e45756", strokeDash=[4, 3]),
                smarker.mark_point(color="#e45756", size=160, filled=True).encode(y="silhouette:Q"),
            ]
        silhouette = alt.layer(*slayers).properties(width=400, height=260, title="Silhouette curve")
        section.charts.append(_spec(silhouette))
    else:
        section.html_parts.append(
            '<p class="not-available">Silhouette curve not available (no silhouette for any k).</p>'
        )
    method = (
        frame["method"].dropna().iloc[0]
        if "method" in frame and frame["method"].notna().any()
        else None
    )
    reason = None
    if "reason" in frame.columns:
        reasons = chosen["reason"].dropna() if not chosen.empty else frame["reason"].dropna()
        reason = reasons.iloc[0] if not reasons.empty else None
    summary = f"Chosen k = {chosen_k}" if chosen_k is not None else "No k is marked as chosen"
    if method:
        summary += f" (method: {method})"
    if reason:
        summary += f": {reason}"
    section.intro = html.escape(summary) + "."
    metric_cols = [
        ("k", "k", "int"),
        ("inertia", "Inertia", "num"),
        ("silhouette", "Silhouette", "num3"),
        ("calinski_harabasz", "Calinski-Harabasz", "num"),
        ("davies_bouldin", "Davies-Bouldin", "num3"),
        ("gap", "Gap", "num3"),
        ("gap_se", "Gap s.e.", "num3"),
        ("excluded_reason", "Not allowed because", "text"),
    ]
    metric_cols = [m for m in metric_cols if m[0] in frame.columns]
    rows = [
        [_fmt(r[c], kind) for c, _, kind in metric_cols] + ["◀ chosen" if r["is_chosen"] else ""]
        for r in frame.to_dict(orient="records")
    ]
    section.html_parts.append(
        "<details><summary>All k in the sweep</summary>"
        + _table([t for _, t, _ in metric_cols] + [""], rows, css="compact")
        + "</details>"
    )
    return section


def section_stability(ctx: ReportContext) -> Section:
    """Bootstrap stability per segment: mean Jaccard with the verdict thresholds."""
    section = Section(
        "stability",
        "Stability per segment",
        intro=(
            "Mean Jaccard similarity of each segment with its best match over bootstrap refits "
            "(0 in a resample where it dissolved): at least 0.85 highly stable, at least 0.75 "
            "stable, at least 0.6 doubtful (a pattern, not a reliable one), below that unstable. "
            "Stable is not the same as distinct: cuts of one population can be reproduced "
            "exactly, so read this with the cluster structure verdict."
        ),
    )
    frame = ctx.wh.read(
        "segment_stability",
        ["segment_id", "mean_jaccard"],
        ["segment_name", "verdict", "mean_ari", "bootstrap_resamples", "dissolved_resamples"],
    )
    ctx.segments.add_labels(frame, "segment_id", "segment_name", "segment")
    if "dissolved_resamples" not in frame.columns:  # a model fitted by an older release
        frame["dissolved_resamples"] = pd.NA
    if "verdict" not in frame.columns:
        frame["verdict"] = "–"
    frame["verdict"] = frame["verdict"].fillna("–")
    order = [s for s in ctx.segments.domain() if s in set(frame["segment"])] or sorted(
        frame["segment"]
    )
    present = list(dict.fromkeys(frame["verdict"]))
    verdicts = [v for v in VERDICT_COLORS if v in present] + [
        v for v in present if v not in VERDICT_COLORS
    ]
    palette = [VERDICT_COLORS.get(v, "#bab0ac") for v in verdicts]
    bars = (
        alt.Chart(_data(frame[["segment", "mean_jaccard", "verdict", "dissolved_resamples"]]))
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort=order, title=None),
            x=alt.X("mean_jaccard:Q", title="Mean Jaccard", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "verdict:N",
                title="Verdict",
                scale=alt.Scale(domain=verdicts, range=palette),
                legend=alt.Legend(orient="bottom", direction="horizontal"),
            ),
            tooltip=[
                "segment:N",
                alt.Tooltip("mean_jaccard:Q", format=".3f"),
                "verdict:N",
                alt.Tooltip("dissolved_resamples:Q", title="Resamples where it dissolved"),
            ],
        )
    )
    thresholds = pd.DataFrame(
        [{"x": value, "label": label} for value, label in STABILITY_THRESHOLDS]
    )
    rules = alt.Chart(_data(thresholds)).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
    chart = (bars + rules).properties(width=440, height=max(60, 34 * len(frame)))
    section.charts.append(_spec(chart))
    notes = []
    if "mean_ari" in frame.columns and frame["mean_ari"].notna().any():
        notes.append(f"mean adjusted Rand index {frame['mean_ari'].dropna().iloc[0]:.3f}")
    if "bootstrap_resamples" in frame.columns and frame["bootstrap_resamples"].notna().any():
        notes.append(f"{int(frame['bootstrap_resamples'].dropna().iloc[0])} bootstrap resamples")
    if notes:
        section.html_parts.append(f'<p class="note">{html.escape(", ".join(notes))}.</p>')
    return section


def section_segment_drilldown(ctx: ReportContext) -> Section:
    """Profile, characteristics and top customers of the chosen segment (built in JS)."""
    section = Section(
        "segment-drilldown",
        "Segment drill-down",
        intro="Choose a segment to see its profile and its top customers by monetary value "
        "(customer ids are shown as md5 hashes).",
        wide=True,
    )
    wh = ctx.wh
    segments: dict[int, dict[str, Any]] = {}
    for sid in ctx.segments.ids:
        segments[sid] = {
            "id": sid,
            "label": ctx.segments.label(sid),
            "profile": [],
            "characteristics": None,
            "description": None,
            "customers": {"headers": [], "rows": [], "unavailable": None},
        }
    try:
        frame = _profiles(
            ctx,
            [name for name, _, _ in PROFILE_FIELDS]
            + ["characteristics", "top_attributes", "recommended_action", "kpi"],
        )
        for row in frame.to_dict(orient="records"):
            entry = segments.setdefault(
                int(row["segment_id"]),
                {
                    "id": int(row["segment_id"]),
                    "label": row["segment"],
                    "description": None,
                    "customers": {"headers": [], "rows": [], "unavailable": None},
                },
            )
            entry["profile"] = [
                [title, _fmt(row[name], kind)]
                for name, title, kind in PROFILE_FIELDS
                if name in row
            ]
            for key in ("characteristics", "top_attributes", "recommended_action", "kpi"):
                value = row.get(key)
                entry[key] = None if value is None or pd.isna(value) else str(value)
    except Unavailable as exc:
        for entry in segments.values():
            entry["profile_unavailable"] = str(exc)
    try:
        dims = wh.read("dim_segments", ["segment_id", "description"])
        for row in dims.to_dict(orient="records"):
            if int(row["segment_id"]) in segments and isinstance(row["description"], str):
                segments[int(row["segment_id"])]["description"] = row["description"]
    except Unavailable:
        pass
    top_reason = None
    try:
        top = _top_customers(wh)
        cols = [c for c in top.columns if c != "segment_id"]
        headers = [TOP_CUSTOMER_COLUMNS[c][0] for c in cols]
        for sid, group in top.groupby("segment_id"):
            if int(sid) not in segments:
                continue
            segments[int(sid)]["customers"] = {
                "headers": headers,
                "rows": [
                    [_fmt(r[c], TOP_CUSTOMER_COLUMNS[c][1]) for c in cols]
                    for r in group.to_dict(orient="records")
                ],
                "unavailable": None,
            }
    except Unavailable as exc:
        top_reason = str(exc)
    for entry in segments.values():
        if top_reason:
            entry["customers"]["unavailable"] = top_reason
    if not segments:
        raise Unavailable("no segments found (dim_segments / segment_profiles are missing)")
    ctx.drilldown = {"segments": [segments[k] for k in sorted(segments)]}
    options = "".join(
        f'<option value="{sid}">{html.escape(segments[sid]["label"])}</option>'
        for sid in sorted(segments)
    )
    section.html_parts.append(
        '<label class="picker">Segment: <select id="segment-select">'
        + options
        + "</select></label>"
        '<div class="drill"><div id="segment-profile" class="drill-profile"></div>'
        '<div id="segment-top-customers" class="drill-customers"></div></div>'
    )
    return section


TOP_CUSTOMER_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_hash": ("Customer (md5)", "text"),
    "monetary": ("Monetary", "money"),
    "frequency": ("Orders", "int"),
    "recency_days": ("Recency (days)", "int"),
    "avg_order_value": ("Avg order value", "money"),
    "return_rate_units": ("Return rate (units)", "pct"),
}


def _top_customers(wh: Warehouse) -> pd.DataFrame:
    """Top customers by monetary per segment; ids hashed in SQL, the raw id never leaves."""
    wh.columns("customer_segments")
    table = next(
        (t for t in ("customer_features", "dim_customers") if wh.has(t, "customer_id", "monetary")),
        None,
    )
    if table is None:
        raise Unavailable("customer_features / dim_customers with a monetary column are missing")
    extras = [
        c
        for c in ("frequency", "recency_days", "avg_order_value", "return_rate_units")
        if wh.has(table, c)
    ]
    extra_sql = "".join(f", cast(f.{c} as double) as {c}" for c in extras)
    frame = wh.query(
        f"""
        select s.segment_id,
               md5(cast(s.customer_id as varchar)) as customer_hash,
               cast(f.monetary as double) as monetary{extra_sql}
        from {wh.qualified("customer_segments")} as s
        join {wh.qualified(table)} as f on f.customer_id = s.customer_id
        {wh.latest_filter("customer_segments", "s")}
        qualify row_number() over (
            partition by s.segment_id order by f.monetary desc nulls last, customer_hash
        ) <= {TOP_CUSTOMERS}
        order by s.segment_id, monetary desc nulls last, customer_hash
        """
    )
    if frame.empty:
        raise Unavailable("no scored customers")
    return frame


SECTION_BUILDERS: tuple[Callable[[ReportContext], Section], ...] = (
    section_model_health,
    section_segment_sizes,
    section_segment_playbook,
    section_feature_importance,
    section_cluster_characteristics,
    section_segment_metrics,
    section_return_rates,
    section_customer_value,
    section_behavioural_patterns,
    section_trends,
    section_migration,
    section_k_selection,
    section_stability,
    section_segment_drilldown,
)
SECTION_TITLES: dict[str, str] = {
    "model-health": "Model health",
    "segment-sizes": "Segment sizes",
    "segment-playbook": "What to do with each segment",
    "feature-importance": "Feature importance",
    "cluster-characteristics": "Cluster characteristics",
    "segment-metrics": "Segment metrics",
    "return-rates": "Return rates by segment",
    "customer-value": "Customer value by segment",
    "behavioural-patterns": "Behavioural patterns",
    "trends": "Trends by month",
    "migration": "Segment migration",
    "k-selection": "Choosing the number of segments",
    "stability": "Stability per segment",
    "segment-drilldown": "Segment drill-down",
}


def build_sections(
    con: duckdb.DuckDBPyConnection, metrics: dict[str, Any] | str | None = None
) -> tuple[list[Section], dict[str, Any]]:
    """Build every section from an open connection; returns them and the drill-down data."""
    wh = Warehouse(con)
    ctx = ReportContext(wh=wh, segments=load_segments(wh), metrics=metrics or {})
    sections = []
    for section_id, builder in zip(SECTION_IDS, SECTION_BUILDERS, strict=True):
        try:
            section = builder(ctx)
        except Unavailable as exc:
            section = Section(section_id, SECTION_TITLES[section_id], unavailable=str(exc))
        except Exception as exc:  # one broken view must not sink the whole report
            section = Section(
                section_id,
                SECTION_TITLES[section_id],
                unavailable=f"could not be built ({type(exc).__name__}: {exc})",
            )
        assert section.id == section_id, (section.id, section_id)
        sections.append(section)
    return sections, ctx.drilldown


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def vega_bundle() -> str:
    """The vega + vega-lite + vega-embed JavaScript, from the vl-convert-python package."""
    try:
        from altair.utils._importers import import_vl_convert, vl_version_for_vl_convert

        vlc = import_vl_convert()
        bundle = vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())
    except (ImportError, RuntimeError) as exc:
        raise ReportError(
            "the report needs the vega JavaScript shipped by vl-convert-python "
            f"(pip install vl-convert-python): {exc}"
        ) from exc
    return bundle.replace("</script", "<\\/script")


def render_html(
    sections: Sequence[Section],
    drilldown: dict[str, Any],
    generated_at: dt.datetime | None = None,
    source: str = "",
    bundle: str | None = None,
) -> str:
    """The complete, self-contained HTML page."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    charts: dict[str, dict[str, Any]] = {}
    body = []
    for section in sections:
        classes = "card wide" if section.wide else "card"
        parts = [f'<section id="{section.id}" class="{classes}">']
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.unavailable is not None:
            parts.append(
                '<p class="not-available">Not available: '
                f"{html.escape(section.unavailable)}</p></section>"
            )
            body.append("".join(parts))
            continue
        if section.intro:
            parts.append(f'<p class="intro">{section.intro}</p>')
        if section.charts:
            parts.append('<div class="charts">')
            for number, spec in enumerate(section.charts, start=1):
                chart_id = f"{section.id}-chart-{number}"
                charts[chart_id] = spec
                parts.append(f'<div class="chart" id="{chart_id}"></div>')
            parts.append("</div>")
        parts.extend(section.html_parts)
        parts.append("</section>")
        body.append("".join(parts))
    nav = "".join(
        f'<a href="#{s.id}"{" class=na" if s.unavailable is not None else ""}>'
        f"{html.escape(s.title)}</a>"
        for s in sections
    )
    bundle = vega_bundle() if bundle is None else bundle
    csp = (
        "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
        "connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer segmentation report</title>
<style>{report_assets.CSS}</style>
<script>
{report_assets.RESOURCE_CHECK_JS}
</script>
</head>
<body>
<header class="top">
<h1>Customer segmentation report</h1>
<p class="meta">Generated {html.escape(generated_at.strftime("%Y-%m-%d %H:%M UTC"))}
from {html.escape(source)}. Works offline: everything is inside this file.</p>
<nav>{nav}</nav>
</header>
<main>
{"".join(body)}
</main>
<div id="resource-check" data-status="pending" data-external="-1" data-errors="-1"
 data-charts-expected="{len(charts)}" data-charts-rendered="0" hidden></div>
<script>
// vega, vega-lite and vega-embed (bundled by vl-convert-python)
{bundle}
</script>
<script type="application/json" id="chart-specs">{_script_json(charts)}</script>
<script type="application/json" id="drilldown-data">{_script_json(drilldown)}</script>
<script>
{report_assets.APP_JS}
</script>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


@dataclass
class ReportResult:
    """What ``write_report`` produced."""

    path: Path
    sections: list[str]
    unavailable: dict[str, str]
    bytes: int


def write_report(
    db_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    semantic_manifest: str | os.PathLike[str] = DEFAULT_SEMANTIC_MANIFEST,
) -> ReportResult:
    """Read the marts in ``db_path`` (read-only) and write the report to ``out_path`` atomically.
    The headline metrics come from dbt's ``semantic_manifest``."""
    db = Path(db_path)
    metrics = _load_metrics(Path(semantic_manifest))
    out = Path(out_path)
    if not db.is_file():
        raise ReportError(f"database {db} does not exist; run the dbt build first (make run)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {db} read-only: {exc}") from exc
    try:
        sections, drilldown = build_sections(con, metrics)
    finally:
        con.close()
    page = render_html(sections, drilldown, source=db.name)
    data = page.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return ReportResult(
        path=out,
        sections=[s.id for s in sections],
        unavailable={s.id: s.unavailable for s in sections if s.unavailable is not None},
        bytes=len(data),
    )


def _default_out() -> str:
    return str(Path(os.environ.get("SEGMENTATION_BI") or DEFAULT_BI) / REPORT_NAME)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``segmentation report``."""
    parser.add_argument(
        "--db",
        default=None,
        help=f"build database to read, read-only (default: $SEGMENTATION_DB or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--out",
        default=None,
        help=f"HTML file to write (default: $SEGMENTATION_BI/{REPORT_NAME} or "
        f"{DEFAULT_BI}/{REPORT_NAME})",
    )
    parser.add_argument(
        "--semantic-manifest",
        default=DEFAULT_SEMANTIC_MANIFEST,
        help="dbt's semantic manifest, for the headline metrics "
        f"(default: {DEFAULT_SEMANTIC_MANIFEST})",
    )


def main(args: argparse.Namespace) -> int:
    """Write the report; 0 on success, 1 when it cannot be written."""
    db = args.db or os.environ.get("SEGMENTATION_DB") or DEFAULT_DB
    out = args.out or _default_out()
    try:
        result = write_report(db, out, args.semantic_manifest)
    except ReportError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 1
    for section_id, reason in result.unavailable.items():
        print(f"report: warning: section {section_id} not available: {reason}", file=sys.stderr)
    available = len(result.sections) - len(result.unavailable)
    print(
        f"report: wrote {result.path} ({result.bytes / 1e6:.1f} MB, "
        f"{available}/{len(result.sections)} sections)",
        file=sys.stderr,
    )
    return 0

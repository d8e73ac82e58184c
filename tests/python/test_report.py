"""Tests of `segmentation report` on a small fake warehouse (no dbt build needed)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation import report

SEGMENT_NAMES = ["Loyal big spenders", "Bargain hunters", "Serial returners", "Lapsed one-timers"]
FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "return_rate_units",
    "discount_share",
]


def build_fake_warehouse(
    path: Path,
    *,
    segments: int = 4,
    customers: int = 300,
    skip: Iterable[str] = (),
    empty: Iterable[str] = (),
    seed: int = 7,
) -> list[str]:
    """Write a DuckDB file with the marts the report reads; returns the raw customer ids.

    ``skip`` names tables not to create, ``empty`` tables to create without rows. Two model
    versions are written where the mart has one, so the "latest version" filter is exercised.
    """
    rng = np.random.default_rng(seed)
    skip, empty = set(skip), set(empty)
    ids = [f"CUST-{i:06d}" for i in range(customers)]
    seg_of = rng.integers(0, segments, size=customers)
    names = {s: SEGMENT_NAMES[s % len(SEGMENT_NAMES)] for s in range(segments)}
    feats = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": rng.integers(1, 700, customers),
            "frequency": rng.integers(1, 30, customers),
            "monetary": rng.gamma(2.0, 300.0, customers).round(2),
            "avg_order_value": rng.gamma(3.0, 25.0, customers).round(2),
            "return_rate_units": rng.uniform(0, 0.6, customers),
            "discount_share": rng.uniform(0, 0.5, customers),
            "tenure_days": rng.integers(30, 1500, customers),
        }
    )
    cs = pd.DataFrame(
        {
            "customer_id": ids,
            "segment_id": seg_of.astype("int32"),
            "segment_name": [names[s] for s in seg_of],
            "distance": rng.uniform(0.1, 3, customers),
            "margin": rng.uniform(0, 1, customers),
            "model_version": np.int32(2),
        }
    )
    old = cs.assign(model_version=np.int32(1), segment_id=np.int32(99), segment_name="Old")
    cs = pd.concat([old, cs], ignore_index=True)
    prof_rows = []
    total_rev = float(feats["monetary"].sum())
    for s in range(segments):
        members = feats[seg_of == s]
        prof_rows.append(
            {
                "model_version": 2,
                "segment_id": s,
                "segment_name": names[s],
                "customers": len(members),
                "customer_share": len(members) / customers,
                "revenue": round(float(members["monetary"].sum()), 4),
                "revenue_share": float(members["monetary"].sum()) / total_rev,
                "mean_monetary": float(members["monetary"].mean()),
                "median_monetary": float(members["monetary"].median()),
                "net_sales_per_order": float(members["avg_order_value"].mean()),
                "mean_frequency": float(members["frequency"].mean()),
                "mean_recency_days": float(members["recency_days"].mean()),
                "returned_units_share": float(members["return_rate_units"].mean()),
                "orders_with_return_share": float(members["return_rate_units"].mean()) * 1.2,
                "refunded_value_share": float(members["return_rate_units"].mean()) * 0.9,
                "top_category": ["Shoes", "Books", "Dresses", "Toys"][s % 4],
                "top_return_reason": ["too small", "changed mind", "damaged", "late"][s % 4],
                "characteristics": f"{names[s]}: returns {'a lot' if s == 2 else 'little'}.",
                "top_attributes": f"region: north ({1.5 + s}x)",
                "recommended_action": f"Contact {names[s]}",
                "kpi": "Retention rate",
            }
        )
    profiles = pd.DataFrame(prof_rows)
    dim = profiles[["segment_id", "segment_name", "customers", "model_version"]].assign(
        description=lambda d: "Description of " + d["segment_name"],
        recommended_action=lambda d: "Action for " + d["segment_name"],
        channel="Email",
        offer_guidance="No discounts",
        kpi=lambda d: "KPI of " + d["segment_name"],
    )
    ks = list(range(1, 9))
    inertia = [1000 / k + 40 for k in ks]
    k_sel = pd.DataFrame(
        {
            "model_version": 2,
            "k": ks,
            "inertia": inertia,
            "silhouette": [None] + [0.2 + 0.05 * np.sin(k) for k in ks[1:]],
            "calinski_harabasz": [None] + [500 - 20 * k for k in ks[1:]],
            "davies_bouldin": [None] + [1.0 + 0.05 * k for k in ks[1:]],
            "is_chosen": [k == segments for k in ks],
            "method": "kneedle",
            "reason": [f"elbow at k={segments}" if k == segments else None for k in ks],
        }
    )
    stability = pd.DataFrame(
        {
            "model_version": 2,
            "segment_id": range(segments),
            "segment_name": [names[s] for s in range(segments)],
            "mean_jaccard": [0.92, 0.8, 0.66, 0.5][:segments] + [0.7] * max(0, segments - 4),
            "verdict": ["highly stable", "stable", "doubtful", "unstable"][:segments]
            + ["doubtful"] * max(0, segments - 4),
            "mean_ari": 0.81,
            "bootstrap_resamples": 50,
        }
    )
    importance = pd.DataFrame(
        {
            "model_version": 2,
            "feature": FEATURES,
            "eta_squared": rng.uniform(0.05, 0.9, len(FEATURES)),
        }
    )
    importance["importance_rank"] = importance["eta_squared"].rank(ascending=False).astype(int)
    deviations = pd.DataFrame(
        [
            {
                "model_version": 2,
                "segment_id": s,
                "segment_name": names[s],
                "feature": f,
                "standardised_deviation": float(rng.normal(0, 1)),
                "segment_mean": 10.0 * s,
                "population_mean": 25.0,
            }
            for s in range(segments)
            for f in FEATURES
        ]
    )
    months = pd.date_range("2024-01-31", periods=12, freq="ME")
    trends = pd.DataFrame(
        [
            {
                "month_end_date": m.date(),
                "segment_id": s,
                "segment_name": names[s],
                "customers": int(rng.integers(20, 120)),
                "new_customers": int(rng.integers(0, 20)),
                "orders": int(rng.integers(20, 300)),
                "net_sales": round(float(rng.uniform(1000, 9000)), 4),
                "returned_units_share": float(rng.uniform(0, 0.4)),
                "orders_with_return_share": float(rng.uniform(0, 0.4)),
                "refunded_value_share": float(rng.uniform(0, 0.4)),
            }
            for m in months
            for s in range(segments)
        ]
    )
    mig_rows = []
    for prev, cur in zip(months[-4:-1], months[-3:], strict=True):
        for a in range(segments):
            counts = rng.integers(1, 10, segments)
            counts[a] += 40
            for b in range(segments):
                mig_rows.append(
                    {
                        "from_month_end": prev.date(),
                        "to_month_end": cur.date(),
                        "from_segment_id": a,
                        "from_segment_name": names[a],
                        "to_segment_id": b,
                        "to_segment_name": names[b],
                        "customers": int(counts[b]),
                        "share_of_from_segment": float(counts[b] / counts.sum()),
                    }
                )
    migration = pd.DataFrame(mig_rows)
    runs = pd.DataFrame(
        {
            "run_id": ["run-1", "run-2"],
            "run_started_at": pd.to_datetime(["2024-11-30 02:00", "2024-12-31 02:00"]),
            "model_version": [1, 2],
            "refitted": [True, True],
            "refit_reason": ["first fit", "drift above threshold"],
            "customers_scored": [customers - 10, customers],
            "k": [3, segments],
            "inertia": [900.0, 400.0],
            "silhouette": [0.21, 0.31],
            "cluster_structure": ["none", "weak"],
            "structure_reason": ["silhouette 0.21 at k=3", "silhouette 0.31 at k=4"],
            "mean_stability": [0.7, 0.78],
            "max_psi": [0.05, 0.12],
            "customers_without_kept_order": [None, 17],
            "customers_with_only_cancelled_orders": [None, 5],
        }
    )
    dim_customers = feats[["customer_id", "monetary", "frequency", "recency_days"]]
    tables = {
        "customer_features": feats,
        "dim_customers": dim_customers,
        "customer_segments": cs,
        "segment_profiles": profiles,
        "dim_segments": dim,
        "segment_k_selection": k_sel,
        "segment_stability": stability,
        "segment_feature_importance": importance,
        "segment_feature_deviations": deviations,
        "segment_trends": trends,
        "segment_migration": migration,
        "segmentation_runs": runs,
    }
    decimals = {"segment_profiles": ["revenue"], "segment_trends": ["net_sales"]}
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        for name, frame in tables.items():
            if name in skip:
                continue
            con.register("frame", frame)
            con.execute(f"create table marts.{name} as select * from frame")
            con.unregister("frame")
            for column in decimals.get(name, []):
                con.execute(f"alter table marts.{name} alter {column} type decimal(18, 4)")
            if name in empty:
                con.execute(f"delete from marts.{name}")
    return ids


def write(db: Path, out: Path) -> tuple[report.ReportResult, str]:
    """Write the report and return it with the page text."""
    result = report.write_report(db, out)
    return result, out.read_text(encoding="utf-8")


def drilldown_data(page: str) -> dict:
    """The JSON the page embeds for the segment drill-down."""
    match = re.search(r'<script type="application/json" id="drilldown-data">(.*?)</script>', page)
    assert match, "no drill-down data in the page"
    return json.loads(match.group(1))


REMOTE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"""src\s*=\s*["']?\s*(https?:)?//""",
        r"""href\s*=\s*["']?\s*(https?:)?//""",
        r"@import",
        r"""url\(\s*["']?\s*(https?:)?//""",
    )
]


def assert_offline(page: str) -> None:
    """No reference to a remote resource in the page."""
    for pattern in REMOTE_PATTERNS:
        match = pattern.search(page)
        assert match is None, f"remote reference {match.group(0)!r} in the report"


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[report.ReportResult, str, list]:
    work = tmp_path_factory.mktemp("report")
    db = work / "warehouse.duckdb"
    ids = build_fake_warehouse(db)
    result, page = write(db, work / "bi" / "report.html")
    return result, page, ids


def test_report_written_with_every_section(full_report) -> None:
    result, page, _ = full_report
    assert result.path.is_file()
    assert result.unavailable == {}, result.unavailable
    for section_id in report.SECTION_IDS:
        assert f'<section id="{section_id}"' in page
    assert "Not available" not in page
    # Charts: every chart container has a spec.
    chart_ids = re.findall(r'<div class="chart" id="([^"]+)"', page)
    assert len(chart_ids) >= 13
    for chart_id in chart_ids:
        assert f'"{chart_id}":' in page


def test_playbook_says_what_to_do_with_each_segment(full_report) -> None:
    _, page, _ = full_report
    start = page.index('<section id="segment-playbook"')
    section = page[start : page.index("</section>", start)]
    assert "Recommended action" in section and "KPI to watch" in section
    assert section.count("Action for ") == section.count("KPI of ") >= 2


def test_report_is_offline(full_report) -> None:
    _, page, _ = full_report
    assert_offline(page)
    assert "vegaEmbed" in page  # the chart runtime is inlined, not fetched
    assert "Content-Security-Policy" in page
    assert not list(Path(full_report[0].path).parent.glob(".report.html.*"))  # temp file gone


def test_report_shows_only_hashed_customer_ids(full_report) -> None:
    _, page, ids = full_report
    leaked = [cid for cid in ids if cid in page]
    assert not leaked, f"raw customer ids in the report: {leaked[:5]}"
    assert "CUST-" not in page
    hashes = set(re.findall(r"\b[0-9a-f]{32}\b", page))
    with duckdb.connect() as con:
        expected = {
            row[0] for row in con.execute("select md5(unnest($ids))", {"ids": ids}).fetchall()
        }
    assert len(hashes & expected) >= 10 * 3  # top customers of each segment


def test_drilldown_data(full_report) -> None:
    _, page, _ = full_report
    data = drilldown_data(page)
    assert [s["id"] for s in data["segments"]] == [0, 1, 2, 3]
    first = data["segments"][0]
    assert first["label"] == "0 · Loyal big spenders"
    assert first["characteristics"].startswith("Loyal big spenders")
    assert first["top_attributes"] == "region: north (1.5x)"
    assert (first["recommended_action"], first["kpi"]) == (
        "Contact Loyal big spenders",
        "Retention rate",
    )
    assert dict(first["profile"])["Customers"].isdigit()
    hashes = [row[0] for row in first["customers"]["rows"]]
    assert len(hashes) == report.TOP_CUSTOMERS
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in hashes)
    monetary = [float(row[1].replace(",", "")) for row in first["customers"]["rows"]]
    assert monetary == sorted(monetary, reverse=True)
    assert '<select id="segment-select">' in page


def test_latest_model_version_only(full_report) -> None:
    _, page, _ = full_report
    assert "99 · Old" not in page


def test_missing_optional_tables_disable_only_their_section(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(
        db,
        skip={"segment_migration", "segmentation_runs", "customer_features"},
        empty={"segment_trends"},
    )
    result, page = write(db, tmp_path / "report.html")
    assert set(result.unavailable) == {"migration", "model-health", "trends"}
    assert "segment_migration is missing" in result.unavailable["migration"]
    assert "has no rows" in result.unavailable["trends"]
    for section_id in report.SECTION_IDS:
        assert f'<section id="{section_id}"' in page
    assert page.count('class="not-available"') >= 3
    # Top customers and the behaviour sample fall back to dim_customers.
    assert "segment-drilldown" not in result.unavailable
    assert "behavioural-patterns" not in result.unavailable
    for segment in drilldown_data(page)["segments"]:
        assert len(segment["customers"]["rows"]) == report.TOP_CUSTOMERS
        assert segment["customers"]["headers"][0] == "Customer (md5)"
    assert_offline(page)


def test_missing_column_disables_only_its_section(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.segment_stability drop column mean_jaccard")
    result, _ = write(db, tmp_path / "report.html")
    assert list(result.unavailable) == ["stability"]
    assert "mean_jaccard" in result.unavailable["stability"]


def test_cluster_structure_verdict_leads_the_report(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db)
    _, page = write(db, tmp_path / "report.html")
    # the latest run's verdict, with its meaning, before any other figure of the report
    verdict = page.index('<div class="verdict warn" id="cluster-structure">')
    assert page.index("Cluster structure: weak.") > verdict
    assert "silhouette 0.31 at k=4" in page
    assert verdict < page.index('<div class="kpis">')
    assert "Cluster structure: none" not in page  # the earlier run's verdict is not shown
    # the silhouette card agrees with the verdict's bands: 0.31 is weak (it was shown green as
    # "reasonable structure" from 0.25 up)
    assert re.search(r'<div class="kpi warn"><div class="kpi-title">Silhouette</div>', page)
    assert "&gt; 0.50 reasonable, &gt; 0.25 weak" in page
    assert "Stable is not the same as distinct" in page
    # customers left out of the segmentation are said, not lost
    assert (
        "not segmented: 17 without a kept order "
        "(5 of them had every order cancelled or without a kept line)"
    ) in page
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.segmentation_runs drop column cluster_structure")
    result, page = write(db, tmp_path / "report.html")
    assert "Cluster structure: not measured" in page
    assert result.unavailable == {}


def test_k_selection_draws_the_curve_the_rule_read_and_shows_the_gap(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db)
    _, page = write(db, tmp_path / "report.html")
    # a rule that did not read log(inertia): a linear axis
    assert 'Inertia (within-cluster SS)"' in page
    assert "SS, log scale" not in page
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.segment_k_selection set reason = 'Kneedle found the knee of the log "
            "inertia curve at k=4 (sensitivity S=1, k range 1..8)' where is_chosen"
        )
        con.execute(
            "alter table marts.segment_k_selection add column gap double default 0.4321;"
            "alter table marts.segment_k_selection add column gap_se double default 0.0123;"
            "alter table marts.segment_k_selection add column excluded_reason varchar;"
            "update marts.segment_k_selection set excluded_reason = 'a segment of 0.8% (under "
            "the minimum 2%)' where k = 8"
        )
    result, page = write(db, tmp_path / "report.html")
    assert result.unavailable == {}
    # before, the elbow chart drew the inertia on a linear axis while the rule found the knee
    # on log(inertia), so the marked k did not look like the chart's elbow
    assert "Inertia (within-cluster SS, log scale)" in page
    assert '"scale":{"nice":false,"type":"log"}' in page
    # the sweep table has the gap statistic and why a k was not allowed
    assert "<th>Gap</th><th>Gap s.e.</th><th>Not allowed because</th>" in page
    assert "<td>0.432</td><td>0.012</td>" in page
    assert "a segment of 0.8% (under the minimum 2%)" in page


def page_after(db: Path, tmp_path: Path, sql: str = "") -> str:
    """The report's page after ``sql`` (if any) changed the fake warehouse."""
    if sql:
        with duckdb.connect(str(db)) as con:
            con.execute(sql)
    return write(db, tmp_path / "report.html")[1]


def kpi_state(page: str, title: str) -> str:
    """The state (good, warn, bad, neutral) of the model-health card titled ``title``."""
    card = rf'<div class="kpi (\w+)"><div class="kpi-title">{re.escape(title)}</div>'
    return re.search(card, page).group(1)


def test_the_k_card_names_the_rule_and_warns_on_a_fallback(tmp_path: Path) -> None:
    build_fake_warehouse(db := tmp_path / "w.duckdb")
    page = page_after(db, tmp_path)
    assert kpi_state(page, "Segments (k)") == "neutral"  # a history without k_method
    # drift (0.12, amber) is measured against the model in force when the build started: a
    # build that refitted says it
    assert "&lt; 0.1 none, ≥ 0.25 significant; this build refitted on today&#x27;s data" in page
    page = page_after(
        db,
        tmp_path,
        "alter table marts.segmentation_runs add column k_method varchar;"
        "update marts.segmentation_runs set k_method = 'silhouette_fallback'",
    )
    assert kpi_state(page, "Segments (k)") == "warn"
    assert "chosen by silhouette_fallback: not the configured rule&#x27;s own answer" in page
    page = page_after(db, tmp_path, "update marts.segmentation_runs set k_method = 'kneedle'")
    assert kpi_state(page, "Segments (k)") == "neutral"
    assert "chosen by kneedle</div>" in page


def test_stability_is_judged_by_the_least_stable_segment(tmp_path: Path) -> None:
    build_fake_warehouse(db := tmp_path / "w.duckdb")
    page = page_after(db, tmp_path)
    # mean 0.78, and a history without min_stability
    assert kpi_state(page, "Mean stability (Jaccard)") == "good"
    # a doubtful segment is amber in the chart (it was drawn in the neutral grey)
    assert '"domain":["highly stable","stable","doubtful","unstable"]' in page
    assert '"range":["#2f9e44","#74c476","#f2b134","#d9480f"]' in page
    page = page_after(
        db,
        tmp_path,
        "alter table marts.segmentation_runs add column min_stability double default 0.5",
    )
    # before, a green mean hid the unstable segment
    assert kpi_state(page, "Mean stability (Jaccard)") == "bad"
    assert "least stable segment 0.500" in page


def test_a_fallback_k_is_said_in_the_verdict_banner(tmp_path: Path) -> None:
    build_fake_warehouse(db := tmp_path / "w.duckdb")
    page = page_after(
        db,
        tmp_path,
        "alter table marts.segmentation_runs add column k_method varchar;"
        "alter table marts.segmentation_runs add column k_reason varchar;"
        "update marts.segmentation_runs set k_method = 'silhouette_fallback', "
        "k_reason = 'no knee found on the inertia curve'",
    )
    banner = page[page.index('id="cluster-structure"') :]
    banner = banner[: banner.index("</div>")]
    assert (
        "silhouette 0.31 at k=4. k = 4 was chosen by silhouette_fallback: no knee found on "
        "the inertia curve"
    ) in banner


def test_single_segment_and_null_silhouette(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db, segments=1, customers=40)
    result, page = write(db, tmp_path / "report.html")
    assert result.unavailable == {}, result.unavailable
    assert "chosen k = 1" in page
    # one segment matches itself in every resample: no stability to judge (it was green)
    assert re.search(
        r'<div class="kpi neutral"><div class="kpi-title">Mean stability \(Jaccard\)</div>'
        r'<div class="kpi-value">[^<]*</div><div class="kpi-hint">one segment: it always '
        r"matches itself</div>",
        page,
    )


def test_empty_warehouse_still_writes_a_page(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    result, page = write(db, tmp_path / "report.html")
    assert set(result.unavailable) == set(report.SECTION_IDS)
    for section_id in report.SECTION_IDS:
        assert f'<section id="{section_id}"' in page
    assert_offline(page)


def test_all_tables_empty(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(
        db,
        empty={
            "customer_features",
            "dim_customers",
            "customer_segments",
            "segment_profiles",
            "dim_segments",
            "segment_k_selection",
            "segment_stability",
            "segment_feature_importance",
            "segment_feature_deviations",
            "segment_trends",
            "segment_migration",
            "segmentation_runs",
        },
    )
    result, _ = write(db, tmp_path / "report.html")
    assert set(result.unavailable) == set(report.SECTION_IDS)


def test_cli_defaults_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db, customers=60)
    bi = tmp_path / "bi"
    monkeypatch.setenv("SEGMENTATION_DB", str(db))
    monkeypatch.setenv("SEGMENTATION_BI", str(bi))
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    before = (db.stat().st_mtime_ns, db.stat().st_size)
    assert report.main(parser.parse_args([])) == 0
    assert (bi / "report.html").is_file()
    assert (db.stat().st_mtime_ns, db.stat().st_size) == before  # opened read-only
    assert not list(bi.glob(".report.html.*"))  # no temp file left behind
    out = tmp_path / "x" / "r.html"
    assert report.main(parser.parse_args(["--db", str(db), "--out", str(out)])) == 0
    assert out.is_file()
    missing = tmp_path / "nope.duckdb"
    assert report.main(parser.parse_args(["--db", str(missing), "--out", str(out)])) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_cli_entry_point(tmp_path: Path) -> None:
    from segmentation import cli

    db = tmp_path / "w.duckdb"
    build_fake_warehouse(db, customers=50)
    out = tmp_path / "r.html"
    assert cli.main(["report", "--db", str(db), "--out", str(out)]) == 0
    assert out.stat().st_size > 100_000


def test_heatmap_and_trends_say_what_their_figures_are(full_report) -> None:
    """Found by a review: the heatmap's colour is on the model's scale, whose sign can differ
    from the raw means, so each cell's tooltip gives both raw means; the trend series that
    are to date (customers, return shares) say so instead of "Active customers"."""
    _, page, _ = full_report
    assert "on the scale the model clusters on" in page
    assert '"title":"Segment mean"' in page and '"title":"All customers"' in page
    assert "Active customers" not in page
    assert "Customers (with an order to date)" in page
    assert "Units returned of sold, to date" in page

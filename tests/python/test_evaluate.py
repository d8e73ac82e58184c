"""`segmentation evaluate` on a tiny fake warehouse: marts written from a real
fit_segmentation run on planted groups, plus a truth file."""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation import evaluate as ev
from segmentation.clustering import SegmentationConfig, fit_segmentation

FEATURES = ["recency_days", "frequency", "monetary", "return_rate_units", "discount_share"]
GROUPS = 4


def planted(n_per_group: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = np.vstack([6.0 * np.eye(5)[g] + rng.normal(size=(n_per_group, 5)) for g in range(GROUPS)])
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(len(z))],
            "recency_days": 60 + 20 * z[:, 0],
            "frequency": np.expm1(1.0 + 0.3 * z[:, 1]),
            "monetary": np.expm1(5.0 + 0.5 * z[:, 2]),
            "return_rate_units": 0.2 + 0.05 * z[:, 3],
            "discount_share": 0.3 + 0.04 * z[:, 4],
        }
    )
    frame["group"] = [f"g{g}" for g in np.repeat(np.arange(GROUPS), n_per_group)]
    return frame


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    work = tmp_path_factory.mktemp("evaluate")
    data = planted()
    config = SegmentationConfig(
        features=FEATURES, log_features=["frequency", "monetary"], k_max=7, bootstrap=4
    )
    result = fit_segmentation(
        data[["customer_id", *FEATURES]], config, None, 1, datetime(2025, 1, 2, tzinfo=UTC)
    )
    k_selection = result.k_selection.assign(refit_reason="no model yet")
    labels = dict(zip(result.sample_customer_ids, result.sample_labels, strict=True))
    names = result.centroids.drop_duplicates("segment_id").set_index("segment_id")
    # Two customers are scored but not in the truth; the truth has two without a segment.
    scored = pd.DataFrame({"customer_id": list(labels), "segment_id": list(labels.values())})
    scored = pd.concat([scored, pd.DataFrame({"customer_id": ["X1", "X2"], "segment_id": [1, 1]})])
    scored["segment_name"] = scored["segment_id"].map(names["segment_name"])
    scored["model_version"] = 1
    truth = pd.concat(
        [
            data[["customer_id", "group"]].rename(columns={"group": "persona"}),
            pd.DataFrame({"customer_id": ["B1", "B2"], "persona": ["browser", "browser"]}),
        ]
    )
    db = work / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        for name, frame in {
            "segment_k_selection": k_selection,
            "segment_centroids": result.centroids,
            "segment_stability": result.stability,
            "customer_segments": scored,
        }.items():
            con.register("frame", frame)
            con.execute(f"create table marts.{name} as select * from frame")
            con.unregister("frame")
    truth_path = work / "personas.parquet"
    truth.to_parquet(truth_path, index=False)
    return db, truth_path, result.stability


def test_report_has_every_section_and_the_right_numbers(warehouse, tmp_path):
    db, truth, stability = warehouse
    out = tmp_path / "docs" / "eval.md"
    svg = tmp_path / "docs" / "img" / "k_sweep.svg"
    text = ev.evaluate(db, truth, svg, out)
    assert "model version 1" in text and "refit reason: no model yet" in text
    assert f"Chosen **k = {GROUPS}** by `kneedle`" in text
    # planted groups: the verdict is read from the stored sweep, with the gap per k
    verdict = r"Cluster structure: \*\*(strong|reasonable|weak)\*\*\. silhouette 0\.\d\d"
    assert re.search(verdict, text)
    assert "| gap (s.e.) |" in text
    # sweep table: one row per k (1..7), the chosen one marked
    rows = [line for line in text.splitlines() if line.startswith("| ") and "**yes**" in line]
    assert len(rows) == 1 and rows[0].startswith(f"| {GROUPS} |")
    assert "![k sweep: inertia and silhouette against k](img/k_sweep.svg)" in text
    # stability: the stored numbers
    assert f"**{stability['mean_ari'].iloc[0]:.3f}**" in text
    for value in stability["mean_jaccard"]:
        assert f"{value:.3f}" in text
    # truth: planted groups recovered, browsers listed as unsegmented, extra customers noted
    assert "Adjusted Rand index between segments and `persona`: **1.000** on 600" in text
    assert ev.NO_SEGMENT in text
    assert "| largest label |" in text and " 100% |" in text
    assert "2 segmented customers are not in the truth file." in text


def test_compare_with_truth_contingency_table(warehouse):
    db, truth_path, _ = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        run = ev.load_run(con)
    truth, column = ev.read_truth(truth_path)
    comparison = ev.compare_with_truth(run.assignments, run.segments, truth, column)
    table = comparison.contingency
    # every truth label is a column, even one no segmented customer has
    assert list(table.columns) == ["browser", "g0", "g1", "g2", "g3", "total"]
    assert (table["browser"] == 0).all()
    assert table["total"].sum() == 600 == comparison.matched
    # each segment holds exactly one planted group
    assert ((table.drop(columns="total") > 0).sum(axis=1) == 1).all()
    assert comparison.unsegmented.to_dict() == {"browser": 2}
    assert comparison.unlabelled == 2
    assert comparison.ari == pytest.approx(1.0)


def test_svg_is_valid_and_marks_the_chosen_k(warehouse, tmp_path):
    db, _, _ = warehouse
    svg = tmp_path / "k.svg"
    ev.evaluate(db, None, svg, None)
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert len(root.findall(f"{ns}polyline")) == 2  # inertia and silhouette
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert f"chosen k = {GROUPS}" in texts
    # deterministic: same input, same bytes
    again = tmp_path / "k2.svg"
    ev.evaluate(db, None, again, None)
    assert again.read_bytes() == svg.read_bytes()


def test_without_truth_there_is_no_agreement_section(warehouse):
    db, _, _ = warehouse
    text = ev.evaluate(db, None, None, None)
    assert "Agreement with the planted labels" not in text
    assert "![k sweep" not in text
    assert "## Segments" in text and "## Stability" in text


def _args(**kwargs) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ev.add_arguments(parser)
    argv: list[str] = []
    for key, value in kwargs.items():
        argv += [f"--{key}", str(value)]
    return parser.parse_args(argv)


def test_main_writes_file_or_stdout(warehouse, tmp_path, capsys):
    db, truth, _ = warehouse
    out = tmp_path / "report.md"
    assert ev.main(_args(db=db, truth=truth, out=out, svg=tmp_path / "k.svg")) == 0
    assert out.read_text(encoding="utf-8").startswith("# Segmentation evaluation")
    assert (tmp_path / "k.svg").is_file()
    assert ev.main(_args(db=db, svg="")) == 0
    assert capsys.readouterr().out.startswith("# Segmentation evaluation")


def test_main_writes_no_plot_unless_asked(warehouse, tmp_path, monkeypatch, capsys):
    # the default run (stdout) leaves the working tree alone: before, it rewrote the
    # repository's docs/img/k_sweep.svg from whatever warehouse it evaluated
    db, _, _ = warehouse
    monkeypatch.chdir(tmp_path)
    assert ev.main(_args(db=db)) == 0
    assert capsys.readouterr().out.startswith("# Segmentation evaluation")
    assert not list(tmp_path.rglob("*.svg"))


def test_main_reads_segmentation_db_env(warehouse, monkeypatch, capsys):
    db, _, _ = warehouse
    monkeypatch.setenv("SEGMENTATION_DB", str(db))
    assert ev.main(_args(svg="")) == 0
    assert f"Warehouse `{db.as_posix()}`" in capsys.readouterr().out


def test_clear_errors(tmp_path, capsys, warehouse):
    assert ev.main(_args(db=tmp_path / "missing.duckdb", svg="")) == 1
    assert "build database not found" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert ev.main(_args(db=empty, svg="")) == 1
    assert "marts.segment_k_selection not found" in capsys.readouterr().err
    db, _, _ = warehouse
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"customer_id": ["1"], "a": [1], "b": [2]}).to_parquet(bad)
    assert ev.main(_args(db=db, truth=bad, svg="")) == 1
    assert "cannot tell the label column" in capsys.readouterr().err


def test_nice_ticks_cover_the_range():
    ticks = ev.nice_ticks(0.0, 453_102.0)
    assert ticks[0] == 0.0 and ticks[-1] >= 453_102.0 and len(ticks) <= 7
    assert ev.nice_ticks(0.0, 0.316)[-1] >= 0.316
    assert ev.nice_ticks(1.0, 1.0) == sorted(ev.nice_ticks(1.0, 1.0))

"""Write the Power BI project (PBIP) for a publish: `Segmentation.pbip`, the semantic model
in TMDL and the report in PBIR, all generated from the published marts, dbt's manifest and
the semantic layer (see the package's other modules)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from segmentation.powerbi import metrics as metric_defs
from segmentation.powerbi.model import ModelError, SemanticModel, build_model
from segmentation.powerbi.report import SCHEMAS, Page, pages
from segmentation.powerbi.tmdl import model_files

PROJECT = "Segmentation"
FOLDER = "powerbi"


def semantic_model(bi_manifest: dict, dbt_manifest: dict, semantic_manifest: dict) -> SemanticModel:
    """The model with its measures: generated from the metrics, plus the hand-written ones
    (only those whose table was published)."""
    model = build_model(bi_manifest, dbt_manifest)
    published = {t.name for t in model.tables}
    metrics = metric_defs.load_metrics(semantic_manifest)
    date_table = next((t for t in model.tables if t.is_date_table), None)
    if date_table is not None:
        key = next(c.name for c in date_table.columns if c.is_key)
        links = {
            rel.from_table: rel.from_column
            for rel in model.relationships
            if rel.to_table == date_table.name and rel.is_active
        }
        try:
            metric_defs.link_dates(metrics, (date_table.name, key), links)
        except metric_defs.MetricError as exc:
            raise ModelError(str(exc)) from exc
    generated = metric_defs.generated_measures(metrics)
    for measure in generated + metric_defs.hand_measures():
        if measure.table not in published:
            if measure in generated:  # every semantic-layer metric must reach Power BI
                raise ModelError(
                    f"measure {measure.name!r} belongs on {measure.table}, which was not published"
                )
            continue
        model.table(measure.table).measures.append(measure)
    return model


_COLUMN_IN_DAX = re.compile(r"\b([A-Za-z_]\w*)\[([^\]]+)\]")
_MEASURE_IN_DAX = re.compile(r"(?<![\w\]])\[([^\]]+)\]")


def check_names(model: SemanticModel) -> None:
    """Power BI names are case-insensitive, and a measure may not share its name with any
    other measure or with a column."""
    seen: dict[str, str] = {}
    for table in model.tables:
        for column in table.columns:
            seen.setdefault(column.name.lower(), f"column {table.name}[{column.name}]")
    clashes = []
    for measure in model.measures:
        key = measure.name.lower()
        if key in seen:
            clashes.append(f"measure {measure.name!r} and {seen[key]}")
        seen[key] = f"measure {measure.name!r}"
    if clashes:
        raise ModelError(
            "Power BI needs distinct names (ignoring case); rename the metric's label in "
            "models/marts/_semantic_layer.yml:\n  " + "\n  ".join(clashes)
        )


def check_bindings(model: SemanticModel, report_pages: list[Page]) -> None:
    """Every column and measure a DAX measure or a visual uses exists in the model, as the
    kind it is used as."""
    columns = {(t.name, c.name) for t in model.tables for c in t.columns}
    measures = {(m.table, m.name) for m in model.measures}
    measure_names = {m.name for m in model.measures}
    missing = []
    for measure in model.measures:
        for table, column in _COLUMN_IN_DAX.findall(measure.expression):
            if (table, column) not in columns:
                missing.append(f"measure {measure.name!r}: column {table}[{column}]")
        for name in _MEASURE_IN_DAX.findall(measure.expression):
            if name not in measure_names:
                missing.append(f"measure {measure.name!r}: measure [{name}]")
    for page in report_pages:
        for visual in page.visuals:
            for f in visual.fields():
                known = measures if f.kind == "measure" else columns
                if (f.table, f.name) not in known:
                    missing.append(
                        f"page {page.display_name} / {visual.title}: {f.kind} {f.table}[{f.name}]"
                    )
    if missing:
        raise ModelError(
            "the Power BI project uses fields the model does not have (was a mart column "
            "renamed?):\n  " + "\n  ".join(missing)
        )


def check_keys_ignoring_case(model: SemanticModel, bi_manifest: dict, data_dir: Path) -> None:
    """Power BI compares text ignoring case: a relationship's key that is unique in DuckDB
    (and in dbt's unique test) but holds 'AB1' and 'ab1' would be a duplicate on the one
    side, and the refresh would fail in Power BI. Stop the publish instead, naming them."""
    import duckdb  # the publish's engine; the rest of this package does not need it

    clashes = []
    keys = {(r.to_table, r.to_column) for r in model.relationships}
    keys |= {(r.from_table, r.from_column) for r in model.relationships if r.one_to_one}
    with duckdb.connect() as con:
        for table, column in sorted(keys):
            if model.table(table).column(column).data_type != "string":
                continue
            path = str(Path(data_dir) / bi_manifest["marts"][table]["file"]).replace("'", "''")
            quoted = '"' + column.replace('"', '""') + '"'
            rows = con.execute(
                f"select lower({quoted}) as key, min({quoted}), max({quoted}), count(*) "
                f"from read_parquet('{path}') group by 1 "
                f"having count(distinct {quoted}) > 1 order by 1 limit 3"
            ).fetchall()
            clashes += [
                f"{table}.{column}: {low!r} and {high!r} ({n} rows)" for _, low, high, n in rows
            ]
    if clashes:
        raise ModelError(
            "Power BI compares text keys ignoring case, so these values would be one key "
            "with several rows on the one side of a relationship and the refresh would fail: "
            + "; ".join(clashes)
            + " (fix: make the ids differ by more than case in the source, or map them to "
            "one spelling in staging)"
        )


def write_project(
    out_dir: Path,
    bi_manifest: dict,
    dbt_manifest: dict,
    semantic_manifest: dict,
    bi_folder: str,
    data_dir: Path | None = None,
) -> list[Path]:
    """Write the project into ``out_dir`` (created); return the files written. With
    ``data_dir`` (the folder of the published Parquet files), the relationships' text keys
    are checked first (check_keys_ignoring_case)."""
    out_dir = Path(out_dir)
    model = semantic_model(bi_manifest, dbt_manifest, semantic_manifest)
    report_pages = pages()
    check_names(model)
    check_bindings(model, report_pages)
    if data_dir is not None:
        check_keys_ignoring_case(model, bi_manifest, data_dir)
    written: list[Path] = []

    def text(path: Path, content: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)

    def data(path: Path, content: dict) -> None:
        text(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")

    data(
        out_dir / f"{PROJECT}.pbip",
        {
            "$schema": SCHEMAS["pbip"],
            "version": "1.0",
            "artifacts": [{"report": {"path": f"{PROJECT}.Report"}}],
            "settings": {"enableAutoRecovery": True},
        },
    )
    model_dir = out_dir / f"{PROJECT}.SemanticModel"
    data(
        model_dir / "definition.pbism",
        {"$schema": SCHEMAS["pbism"], "version": "4.2", "settings": {}},
    )
    for relative, content in model_files(model, bi_folder).items():
        text(model_dir / "definition" / relative, content)

    report_dir = out_dir / f"{PROJECT}.Report"
    data(
        report_dir / "definition.pbir",
        {
            "$schema": SCHEMAS["pbir"],
            "version": "4.0",
            "datasetReference": {"byPath": {"path": f"../{PROJECT}.SemanticModel"}},
        },
    )
    definition = report_dir / "definition"
    data(definition / "report.json", {"$schema": SCHEMAS["report"], "themeCollection": {}})
    data(definition / "version.json", {"$schema": SCHEMAS["version"], "version": "2.0.0"})
    data(
        definition / "pages" / "pages.json",
        {
            "$schema": SCHEMAS["pages"],
            "pageOrder": [p.name for p in report_pages],
            "activePageName": report_pages[0].name,
        },
    )
    for page in report_pages:
        page_dir = definition / "pages" / page.name
        data(page_dir / "page.json", page.to_json())
        for z, visual in enumerate(page.visuals):
            data(page_dir / "visuals" / visual.name / "visual.json", visual.to_json(z * 1000))
    text(
        out_dir / ".gitignore",
        "# Power BI Desktop's local files\n**/.pbi/localSettings.json\n**/.pbi/cache.abf\n",
    )
    return written

"""`segmentation publish`: copy the public marts out of the build database for BI.

Runs after a green `dbt build`. The marts to publish are the dbt models with
``access: public`` in dbt's ``target/manifest.json``, so the list follows the project instead
of a hard-coded copy of it. For each public mart it writes, into the BI folder:

* ``<mart>.parquet`` (zstd), for Power BI and any other Parquet reader;
* a table ``<mart>`` in the serving database ``segmentation.duckdb``, plus a ``publish_info``
  table (one row per mart: when, from where, rows, columns, Parquet checksum). The serving file
  is written with an old storage version (default ``v1.1.0``) so that DuckDB 1.1 and every
  newer DuckDB can open it read-only;
* ``powerbi/``: a Power BI project (``Segmentation.pbip``: the semantic model in TMDL, the
  report in PBIR) generated from the published marts, dbt's docs and relationships tests and
  the semantic layer's metrics (``segmentation.powerbi``);
* ``_manifest.json`` last: mart -> rows, columns with types, sha256 of the Parquet file.

Why it is built this way:

* **Atomic.** Everything is first written into a staging folder inside the BI folder (same
  file system), then each file is moved into place with ``os.replace``, which swaps the
  directory entry atomically on POSIX. A reader never sees a half-written file; if anything
  fails before the moves, the previous publish is left exactly as it was and the staging folder
  is removed. Ctrl-C, SIGTERM and SIGHUP wait until the moves end (milliseconds), so an
  interrupted publish is either the old one or the new one; only a SIGKILL in between leaves
  the folder mixed, until the next publish.
* **Does not block, is not blocked.** The build database is opened read-only, so it does not
  hold the write lock. A BI tool (or another DuckDB process) holding the old serving file open
  read-only does not stop the publish: the rename leaves the old inode alive for that reader,
  and new connections open the new file.
* **Degenerate-build guard.** A build with no customers or no segments, or with far fewer
  customers or far less revenue than the last publish (more than ``--max-drop``, default 50%),
  is refused unless ``--force``: a green build can still be empty (every order quarantined)
  and must not replace the last good dashboard. The drop is measured against the last publish
  from the same build database (one warehouse per data set). The headline figures
  compared are recorded in ``_manifest.json`` (key ``headline``).
* **BI-safe guard.** Columns of type HUGEINT, UHUGEINT, UUID, INTERVAL, unsigned integers or
  nested types (LIST, ARRAY, STRUCT, MAP, UNION) break or confuse BI tools; publishing refuses
  them and names the mart and column, rather than shipping something Power BI cannot load.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmentation.powerbi.metrics import MetricError, read_semantic_manifest
from segmentation.powerbi.model import ModelError
from segmentation.powerbi.project import FOLDER as POWERBI_FOLDER
from segmentation.powerbi.project import PROJECT as POWERBI_PROJECT
from segmentation.powerbi.project import write_project

DEFAULT_DB = "data/warehouse.duckdb"
DEFAULT_BI = "data/bi"
DEFAULT_MANIFEST = "target/manifest.json"
# The storage format DuckDB 1.0 and 1.1 write (file header version number 64). DuckDB 2.0
# accepts older values too (v0.10.0 gives the same format number), but v1.1.0 is the oldest
# reader we promise to serve, and asking for the newest format that it reads lets DuckDB use
# every serialisation feature up to 1.1.
DEFAULT_STORAGE_VERSION = "v1.1.0"

SERVING_DB = "segmentation.duckdb"
MANIFEST_FILE = "_manifest.json"
INFO_TABLE = "publish_info"
STAGING_PREFIX = ".staging-"
_SERVING_ALIAS = "__segmentation_publish_serving"
DEFAULT_MAX_DROP = 0.5
#: The headline figures of a publish: name -> (mart, SQL aggregate over it). A figure whose
#: mart is not public is not measured.
HEADLINE = {
    "customers": ("customer_features", "count(*)"),
    "revenue": ("customer_features", "coalesce(sum(monetary), 0)"),
    "segments": ("customer_segments", "count(distinct segment_id)"),
}
#: Figures that must not be zero, and figures that must not drop by more than max_drop.
_NON_ZERO = ("customers", "segments")
_NO_STEEP_DROP = ("customers", "revenue")

_UNSAFE_SCALARS = {
    "HUGEINT": "128-bit integers are not supported by most BI tools",
    "UHUGEINT": "unsigned 128-bit integers are not supported by most BI tools",
    "UUID": "UUID is not a Parquet/BI type; cast to VARCHAR",
    "INTERVAL": "INTERVAL is not understood by BI tools; store a number of days/seconds",
    "UTINYINT": "unsigned integers are not BI-safe; use a signed type",
    "USMALLINT": "unsigned integers are not BI-safe; use a signed type",
    "UINTEGER": "unsigned integers are not BI-safe; use a signed type",
    "UBIGINT": "unsigned integers are not BI-safe; use a signed type",
}
_NESTED_PREFIXES = ("STRUCT(", "MAP(", "UNION(")
_ARRAY_SUFFIX = re.compile(r"\[\d*\]$")  # INTEGER[] (LIST) and INTEGER[3] (ARRAY)


class PublishError(Exception):
    """A publish that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Mart:
    """A public dbt model: its published name and where it lives in the build database."""

    name: str
    schema: str
    unique_id: str
    #: the columns the project documents for it (the manifest's), in no particular order
    documented: tuple[str, ...] = ()

    @property
    def relation(self) -> str:
        """The quoted ``schema.name`` to select from in the build database."""
        return f"{_quote(self.schema)}.{_quote(self.name)}"


@dataclass
class PublishedMart:
    """What was published for one mart (also what `_manifest.json` records)."""

    name: str
    rows: int
    columns: list[tuple[str, str]]
    sha256: str = ""
    bytes: int = 0


@dataclass
class PublishResult:
    """The outcome of a successful publish."""

    bi_dir: Path
    published_at: str
    marts: list[PublishedMart] = field(default_factory=list)
    headline: dict[str, float] = field(default_factory=dict)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# What to publish
# --------------------------------------------------------------------------------------------


def public_marts(manifest_path: Path) -> list[Mart]:
    """Read dbt's manifest and return the models with ``access == "public"``, sorted by name.

    The relation name is ``node["alias"]`` (falling back to ``node["name"]``) in
    ``node["schema"]``. Ephemeral models have no relation and cannot be published.
    """
    if not manifest_path.is_file():
        raise PublishError(
            f"dbt manifest not found: {manifest_path}. Run `dbt build` (or `make run`) first, "
            "or pass --manifest PATH."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        nodes = manifest["nodes"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"cannot read dbt manifest {manifest_path}: {exc}") from exc

    marts: dict[str, Mart] = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") != "model":
            continue
        config = node.get("config") or {}
        access = node.get("access") or config.get("access")
        if access != "public":
            continue
        if config.get("materialized") == "ephemeral":
            raise PublishError(
                f"public model {unique_id} is ephemeral and has no table to publish; "
                "materialize it as a table or view"
            )
        name = node.get("alias") or node["name"]
        if name in marts:
            raise PublishError(
                f"two public models publish as {name!r}: {marts[name].unique_id} and {unique_id}"
            )
        marts[name] = Mart(
            name=name,
            schema=node["schema"],
            unique_id=unique_id,
            documented=tuple(node.get("columns") or {}),
        )
    if not marts:
        raise PublishError(f"no public models in {manifest_path}; nothing to publish")
    return [marts[name] for name in sorted(marts)]


def unsafe_type_reason(column_type: str) -> str | None:
    """Why a DuckDB column type is not BI-safe, or None when it is fine."""
    upper = column_type.strip().upper()
    if upper in _UNSAFE_SCALARS:
        return _UNSAFE_SCALARS[upper]
    if upper.startswith(_NESTED_PREFIXES) or _ARRAY_SUFFIX.search(upper):
        return "nested types (LIST, ARRAY, STRUCT, MAP, UNION) are not BI-safe; flatten them"
    return None


def describe(con: duckdb.DuckDBPyConnection, mart: Mart) -> list[tuple[str, str]]:
    """(column name, DuckDB type) of a mart, in column order."""
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {mart.relation}").fetchall()]


def check_marts(
    con: duckdb.DuckDBPyConnection, marts: list[Mart], db_path: Path
) -> dict[str, list[tuple[str, str]]]:
    """Check that every mart exists and is BI-safe; return its columns.

    All problems are collected first so that one run reports all of them.
    """
    existing = {
        (schema, name)
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_catalog = current_database()"
        ).fetchall()
    }
    missing = [m for m in marts if (m.schema, m.name) not in existing]
    if missing:
        names = ", ".join(f"{m.schema}.{m.name}" for m in missing)
        raise PublishError(
            f"the build database {db_path} lacks public mart(s) listed in the manifest: {names}. "
            "Run a green `dbt build` against this database (or check --db/--manifest) first."
        )

    columns = {mart.name: describe(con, mart) for mart in marts}
    problems = [
        f"  {mart}.{column}: {column_type} ({reason})"
        for mart, cols in columns.items()
        for column, column_type in cols
        if (reason := unsafe_type_reason(column_type))
    ]
    if problems:
        raise PublishError(
            "public marts have column types that are not BI-safe; cast them in the model:\n"
            + "\n".join(problems)
        )
    return columns


def undocumented_differences(
    marts: list[Mart], columns: dict[str, list[tuple[str, str]]]
) -> list[str]:
    """A warning for each mart whose table lacks a column the project documents (names
    compared ignoring case, as DuckDB resolves them): a build older than the project, or a
    manifest newer than it. The Parquet files and the Power BI project follow the table, so
    they go without the column; a measure or visual that reads it stops the publish
    (powerbi.project)."""
    warnings = []
    for mart in marts:
        present = {name.lower() for name, _ in columns[mart.name]}
        lacking = sorted(name for name in mart.documented if name.lower() not in present)
        if lacking:
            warnings.append(
                f"  warning: {mart.schema}.{mart.name} lacks documented column(s) "
                f"{', '.join(lacking)}: published without them (is the build older than the "
                "project? `dbt build` first)"
            )
    return warnings


def measure_headline(con: duckdb.DuckDBPyConnection, marts: list[Mart]) -> dict[str, float]:
    """The HEADLINE figures of the build, for the public marts that hold them."""
    by_name = {m.name: m for m in marts}
    figures = {}
    for name, (mart_name, aggregate) in HEADLINE.items():
        mart = by_name.get(mart_name)
        if mart is not None:
            value = con.execute(f"SELECT {aggregate} FROM {mart.relation}").fetchall()[0][0]
            figures[name] = float(value or 0)
    return figures


def degenerate_reasons(
    current: dict[str, float], previous: dict[str, float], max_drop: float
) -> list[str]:
    """Why a build with the headline ``current`` must not replace a publish with ``previous``
    (empty when it may): a zero count of customers or segments, or customers or revenue
    down by more than ``max_drop`` (a share) since the last publish."""
    reasons = [
        f"{name}: 0 in {HEADLINE[name][0]}"
        for name in _NON_ZERO
        if name in current and current[name] == 0
    ]
    for name in _NO_STEEP_DROP:
        before, now = previous.get(name), current.get(name)
        if before and now is not None and before > 0 and now < before * (1 - max_drop):
            reasons.append(
                f"{name}: {now:,.0f}, down {1 - now / before:.0%} from {before:,.0f} at the "
                f"last publish (more than the allowed {max_drop:.0%})"
            )
    return reasons


def _previous_headline(bi_dir: Path, db_path: Path) -> dict[str, float]:
    """The headline figures of the previous publish (from its `_manifest.json`) if it came
    from the same build database (one warehouse holds one data set: another warehouse is
    another shop, whose size says nothing about this one's); else none."""
    try:
        data = json.loads((bi_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        if Path(data.get("source_db") or "").resolve() != Path(db_path).resolve():
            return {}
        return {k: float(v) for k, v in (data.get("headline") or {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


# --------------------------------------------------------------------------------------------
# Writing (small functions, so that tests can make one step fail)
# --------------------------------------------------------------------------------------------


def _export_parquet(con: duckdb.DuckDBPyConnection, mart: Mart, path: Path) -> int:
    """COPY a mart to a zstd Parquet file; return the number of rows written."""
    row = con.execute(
        f"COPY (SELECT * FROM {mart.relation}) TO {_literal(str(path))}"
        " (FORMAT parquet, COMPRESSION zstd)"
    ).fetchone()
    return int(row[0]) if row else 0


def _copy_into_serving(con: duckdb.DuckDBPyConnection, mart: Mart) -> int:
    """Copy a mart into the attached serving database as ``main.<mart>``; return its rows."""
    target = f"{_SERVING_ALIAS}.main.{_quote(mart.name)}"
    con.execute(f"CREATE TABLE {target} AS SELECT * FROM {mart.relation}")
    row = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    return int(row[0]) if row else 0


def _write_publish_info(
    con: duckdb.DuckDBPyConnection,
    published: list[PublishedMart],
    published_at: datetime,
    db_path: Path,
    storage_version: str,
) -> None:
    """Write the ``publish_info`` table: one flat row per mart, so BI can show freshness."""
    con.execute(
        f"""CREATE TABLE {_SERVING_ALIAS}.main.{INFO_TABLE} (
            published_at TIMESTAMP, source_db VARCHAR, mart VARCHAR, row_count BIGINT,
            column_count INTEGER, parquet_file VARCHAR, parquet_sha256 VARCHAR,
            storage_version VARCHAR, duckdb_version VARCHAR)"""
    )
    naive_utc = published_at.astimezone(UTC).replace(tzinfo=None)
    con.executemany(
        f"INSERT INTO {_SERVING_ALIAS}.main.{INFO_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                naive_utc,
                str(db_path),
                m.name,
                m.rows,
                len(m.columns),
                f"{m.name}.parquet",
                m.sha256,
                storage_version,
                duckdb.__version__,
            ]
            for m in published
        ],
    )


def _write_json(path: Path, data: dict) -> None:
    """Write JSON and fsync it, so the rename that follows publishes complete content."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """Flush a file (or directory entry table) to disk; best effort where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _publish_lock(bi_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the BI folder so two publishes cannot interleave their renames.

    Uses flock on the directory itself (no lock file is left behind). Where flock is not
    available (Windows), no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(bi_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PublishError(
                f"another `segmentation publish` is writing to {bi_dir}; try again when it ends"
            ) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_stale_staging(bi_dir: Path) -> None:
    """Remove staging folders left by a publish that was killed (we hold the lock, so no
    other publish can be using them)."""
    for path in bi_dir.glob(STAGING_PREFIX + "*"):
        if path.is_dir():
            # killed between the two renames of _swap_folder: the project is put back
            if (
                path.name.endswith(f"-{POWERBI_FOLDER}.old")
                and not (bi_dir / POWERBI_FOLDER).exists()
            ):
                os.replace(path, bi_dir / POWERBI_FOLDER)
                continue
            shutil.rmtree(path, ignore_errors=True)


def _previous_marts(bi_dir: Path) -> set[str]:
    """Mart names of the previous publish (from its `_manifest.json`), if any."""
    try:
        data = json.loads((bi_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return set(data.get("marts", {}))
    except (OSError, ValueError, AttributeError):
        return set()


# --------------------------------------------------------------------------------------------
# The publish itself
# --------------------------------------------------------------------------------------------


def publish(
    db_path: Path,
    bi_dir: Path,
    manifest_path: Path,
    storage_version: str = DEFAULT_STORAGE_VERSION,
    log: Callable[[str], None] = print,
    force: bool = False,
    max_drop: float = DEFAULT_MAX_DROP,
    powerbi: bool = True,
    powerbi_folder: str | None = None,
) -> PublishResult:
    """Publish every public mart of ``db_path`` into ``bi_dir``; see the module docstring.

    Raises PublishError (previous publish untouched, staging removed) on any failure before
    the files are moved into place, and for a degenerate build (degenerate_reasons) unless
    ``force``.
    """
    db_path = Path(db_path)
    bi_dir = Path(bi_dir)
    marts = public_marts(Path(manifest_path))
    dbt_manifest = semantic_manifest = None
    if powerbi:
        dbt_manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        try:
            semantic_manifest = read_semantic_manifest(
                Path(manifest_path).with_name("semantic_manifest.json")
            )
        except MetricError as exc:
            raise PublishError(f"{exc} (or publish with --no-powerbi)") from exc
    if not db_path.is_file():
        raise PublishError(
            f"build database not found: {db_path}. Run `dbt build` (or `make run`) first, "
            "or pass --db PATH / set SEGMENTATION_DB."
        )
    # the folders this publish makes (the missing ancestors too), newest first
    created = [folder for folder in [bi_dir, *bi_dir.parents] if not folder.exists()]
    bi_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = _publish_locked(
            db_path,
            bi_dir,
            marts,
            storage_version,
            log,
            force,
            max_drop,
            powerbi,
            dbt_manifest,
            semantic_manifest,
            powerbi_folder,
        )
    except BaseException:
        # a failed first publish leaves none of the empty folders it made
        with contextlib.suppress(OSError):
            for folder in created:
                folder.rmdir()
        raise
    log(f"published {len(result.marts)} marts to {bi_dir} (serving database: {SERVING_DB})")
    if powerbi:
        log(
            f"Power BI project: {bi_dir / POWERBI_FOLDER / (POWERBI_PROJECT + '.pbip')} (open it "
            "in Power BI Desktop; docs/power-bi.md)"
        )
    return result


def _publish_locked(
    db_path: Path,
    bi_dir: Path,
    marts: list[Mart],
    storage_version: str,
    log: Callable[[str], None],
    force: bool,
    max_drop: float,
    powerbi: bool,
    dbt_manifest: dict | None,
    semantic_manifest: dict | None,
    powerbi_folder: str | None,
) -> PublishResult:
    """publish's work under the folder's lock: build everything in staging, then move it."""
    with _publish_lock(bi_dir):
        _remove_stale_staging(bi_dir)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=bi_dir))
        try:
            result = _build_in_staging(
                db_path, bi_dir, staging, marts, storage_version, log, force, max_drop
            )
            if powerbi:
                _write_powerbi(
                    staging,
                    bi_dir,
                    result,
                    db_path,
                    storage_version,
                    dbt_manifest,
                    semantic_manifest,
                    log,
                    powerbi_folder or str(bi_dir.resolve()),
                )
            with _signals_deferred():
                _move_into_place(bi_dir, staging, result)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return result


def _write_powerbi(
    staging: Path,
    bi_dir: Path,
    result: PublishResult,
    db_path: Path,
    storage_version: str,
    dbt_manifest: dict,
    semantic_manifest: dict,
    log: Callable[[str], None],
    bi_folder: str,
) -> None:
    """Generate the Power BI project into ``staging/powerbi``. Its folder parameter is
    ``bi_folder``: the BI folder as the Power BI user sees it (by default the folder's path
    on this machine)."""
    try:
        files = write_project(
            staging / POWERBI_FOLDER,
            _manifest_data(result, db_path, storage_version),
            dbt_manifest,
            semantic_manifest,
            bi_folder=bi_folder,
            data_dir=staging,
        )
    except (ModelError, MetricError, OSError, KeyError) as exc:
        raise PublishError(
            f"could not generate the Power BI project: {exc}. The previous publish in {bi_dir} "
            "is unchanged."
        ) from exc
    log(f"  Power BI project: {len(files)} files")


def _build_in_staging(
    db_path: Path,
    bi_dir: Path,
    staging: Path,
    marts: list[Mart],
    storage_version: str,
    log: Callable[[str], None],
    force: bool = False,
    max_drop: float = DEFAULT_MAX_DROP,
) -> PublishResult:
    """Write every output file into ``staging``; nothing in ``bi_dir`` is touched."""
    published_at = datetime.now(UTC)
    result = PublishResult(bi_dir=bi_dir, published_at=published_at.isoformat())
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise PublishError(
            f"cannot open the build database {db_path} read-only: {exc}. "
            "Is a `dbt build` still writing to it?"
        ) from exc
    step = "checking the marts"
    try:
        columns = check_marts(con, marts, db_path)
        for warning in undocumented_differences(marts, columns):
            log(warning)
        step = "measuring the headline figures"
        result.headline = measure_headline(con, marts)
        previous = _previous_headline(bi_dir, db_path)
        reasons = degenerate_reasons(result.headline, previous, max_drop)
        if reasons and not force:
            raise PublishError(
                "refusing to publish a degenerate build:\n  "
                + "\n  ".join(reasons)
                + f"\nThe last good publish in {bi_dir} is unchanged. Check the build (the "
                "quarantine_shop__* models say which rows were rejected and why); if the "
                "change is expected (another shop, a deliberate reset), publish anyway with "
                "`segmentation publish --force` (make run FORCE=1)."
            )
        if reasons:
            log("publishing despite (--force): " + "; ".join(reasons))
        step = f"attaching the serving database (STORAGE_VERSION {storage_version!r})"
        serving_path = staging / SERVING_DB
        con.execute(
            f"ATTACH {_literal(str(serving_path))} AS {_SERVING_ALIAS}"
            f" (STORAGE_VERSION {_literal(storage_version)}, READ_WRITE)"
        )
        for mart in marts:
            step = f"writing {mart.name}.parquet"
            parquet = staging / f"{mart.name}.parquet"
            rows = _export_parquet(con, mart, parquet)
            step = f"copying {mart.name} into {SERVING_DB}"
            serving_rows = _copy_into_serving(con, mart)
            if serving_rows != rows:
                raise PublishError(
                    f"{mart.name}: {rows} rows in Parquet but {serving_rows} in {SERVING_DB}; "
                    "was the build database modified during the publish?"
                )
            _fsync(parquet)
            published = PublishedMart(
                name=mart.name,
                rows=rows,
                columns=columns[mart.name],
                sha256=_sha256(parquet),
                bytes=parquet.stat().st_size,
            )
            result.marts.append(published)
            log(f"  {mart.name}: {rows:,} rows, {len(published.columns)} columns")
        step = f"writing {INFO_TABLE}"
        _write_publish_info(con, result.marts, published_at, db_path, storage_version)
        step = f"closing {SERVING_DB}"
        con.execute(f"DETACH {_SERVING_ALIAS}")  # checkpoints: everything is in the file
        wal = serving_path.with_name(serving_path.name + ".wal")
        if wal.exists():
            raise PublishError(f"{SERVING_DB} left a write-ahead log behind after closing")
        _fsync(serving_path)
        step = f"writing {MANIFEST_FILE}"
        _write_json(staging / MANIFEST_FILE, _manifest_data(result, db_path, storage_version))
    except PublishError:
        raise
    except (duckdb.Error, OSError) as exc:
        raise PublishError(
            f"publish failed while {step}: {exc}. The previous publish in {bi_dir} is unchanged."
        ) from exc
    finally:
        con.close()
    return result


def _manifest_data(result: PublishResult, db_path: Path, storage_version: str) -> dict:
    return {
        "published_at": result.published_at,
        "source_db": str(db_path),
        "headline": result.headline,
        "duckdb_version": duckdb.__version__,
        "serving_db": {"file": SERVING_DB, "storage_version": storage_version},
        "marts": {
            m.name: {
                "file": f"{m.name}.parquet",
                "rows": m.rows,
                "columns": [{"name": n, "type": t} for n, t in m.columns],
                "sha256": m.sha256,
                "bytes": m.bytes,
            }
            for m in result.marts
        },
    }


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then deliver them: the moves
    into place take milliseconds, and a Ctrl-C or a scheduler's kill in the middle of them
    would leave the BI folder with some files of each publish. (SIGKILL cannot be held: a
    publish killed that way during the moves is repaired by publishing again.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    wanted = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {sig: signal.signal(sig, lambda signum, _: held.append(signum)) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(held):
            signal.raise_signal(sig)


def _move_into_place(bi_dir: Path, staging: Path, result: PublishResult) -> None:
    """Rename the staged files over the published ones: Parquet files, the serving database,
    the Power BI project, then `_manifest.json` last (so its presence means the rest is in
    place)."""
    previous = _previous_marts(bi_dir)
    names = [f"{m.name}.parquet" for m in result.marts] + [SERVING_DB]

    def move(name: str, done: int) -> None:
        try:
            os.replace(staging / name, bi_dir / name)
        except OSError as exc:
            raise PublishError(
                f"could not move {name} into {bi_dir}: {exc}. {done} of {len(names) + 1} files "
                "were already replaced, so the BI folder mixes two publishes; run publish again."
            ) from exc

    for done, name in enumerate(names):
        move(name, done)
    _swap_folder(staging / POWERBI_FOLDER, bi_dir / POWERBI_FOLDER)
    move(MANIFEST_FILE, len(names))
    _fsync(bi_dir)
    # Marts that are no longer public: remove the files an earlier publish wrote for them.
    for stale in sorted(previous - {m.name for m in result.marts}):
        with contextlib.suppress(FileNotFoundError):
            (bi_dir / f"{stale}.parquet").unlink()


def _swap_folder(new: Path, target: Path) -> None:
    """Put the folder ``new`` where ``target`` is: the old one is renamed aside (beside it,
    in the BI folder), the new one renamed in, then the old one removed. Between the two
    renames (microseconds) the folder is absent, never half written; if the second rename
    fails, the old folder is renamed back."""
    if not new.is_dir():
        return
    old = target.with_name(f"{STAGING_PREFIX}{os.getpid()}-{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    had_old = target.exists()
    try:
        if had_old:
            os.replace(target, old)
        os.replace(new, target)
    except OSError as exc:
        if had_old and old.exists() and not target.exists():
            os.replace(old, target)
        raise PublishError(f"could not move {target.name}/ into place: {exc}") from exc
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `segmentation publish`."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"build DuckDB file, opened read-only (default: $SEGMENTATION_DB or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--bi",
        type=Path,
        default=None,
        help=f"BI folder to publish into (default: $SEGMENTATION_BI or {DEFAULT_BI})",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path(DEFAULT_MANIFEST),
        help=f"dbt manifest listing the public models (default: {DEFAULT_MANIFEST})",
    )
    parser.add_argument(
        "--storage-version",
        default=DEFAULT_STORAGE_VERSION,
        help=(
            "DuckDB storage version of the serving database; the oldest DuckDB that must read "
            f"it (default: {DEFAULT_STORAGE_VERSION}, readable by DuckDB 1.1 and newer)"
        ),
    )
    parser.add_argument(
        "--no-powerbi",
        dest="powerbi",
        action="store_false",
        help="do not generate the Power BI project (powerbi/Segmentation.pbip)",
    )
    parser.add_argument(
        "--powerbi-folder",
        default=None,
        help=(
            "the BI folder's path as Power BI will see it, e.g. C:\\data\\bi, written into the "
            "project's BiFolder parameter (default: $SEGMENTATION_POWERBI_FOLDER or the BI "
            "folder's absolute path here)"
        ),
    )
    parser.add_argument(
        "--from-spark",
        action="store_true",
        help=(
            "the build ran on the Spark target: first copy its public marts into --db "
            "(default: $SEGMENTATION_SPARK_WAREHOUSE/spark_marts.duckdb), then publish from there "
            "(make run ENGINE=spark; docs/scale-out.md)"
        ),
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="publish even a degenerate build (no customers or segments, or a steep drop)",
    )
    parser.add_argument(
        "--max-drop",
        type=_max_drop,
        default=None,
        help=(
            "largest share by which customers or revenue may fall since the last publish "
            f"before publish refuses (default: $SEGMENTATION_MAX_DROP or {DEFAULT_MAX_DROP})"
        ),
    )


def _max_drop(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"--max-drop must be a share between 0 and 1, not {text}")
    return value


def spark_marts_db() -> Path:
    """Where `--from-spark` copies the public marts: beside the Spark warehouse."""
    warehouse = Path(os.environ.get("SEGMENTATION_SPARK_WAREHOUSE") or "data/spark")
    return warehouse / "spark_marts.duckdb"


def copy_from_spark(manifest_path: Path, db_path: Path, spark=None) -> None:
    """Copy the public marts of a Spark build into the DuckDB file ``db_path``, through the
    given SparkSession or one opened (and stopped) here."""
    from segmentation.spark import copy_to_duckdb, session, stop

    marts = public_marts(manifest_path)
    print(f"copying {len(marts)} public marts from the Spark warehouse into {db_path}")
    own = spark is None
    spark = session() if own else spark
    try:
        copied = copy_to_duckdb(spark, [(mart.schema, mart.name) for mart in marts], db_path)
    finally:
        if own:
            stop(spark)
    for name, rows in copied:
        print(f"  {name}: {rows} rows")


def main(args: argparse.Namespace) -> int:
    """Run the publish; print one line per mart, or a clear error and return 1."""
    db_path = args.db or Path(os.environ.get("SEGMENTATION_DB") or DEFAULT_DB)
    bi_dir = args.bi or Path(os.environ.get("SEGMENTATION_BI") or DEFAULT_BI)
    try:
        if args.from_spark:
            db_path = args.db or spark_marts_db()
            copy_from_spark(args.manifest, db_path)
        print(f"publishing {db_path} -> {bi_dir}")
        max_drop = args.max_drop
        if max_drop is None:
            max_drop = _max_drop(os.environ.get("SEGMENTATION_MAX_DROP") or str(DEFAULT_MAX_DROP))
        publish(
            db_path,
            bi_dir,
            args.manifest,
            storage_version=args.storage_version,
            force=args.force,
            max_drop=max_drop,
            powerbi=args.powerbi,
            powerbi_folder=args.powerbi_folder or os.environ.get("SEGMENTATION_POWERBI_FOLDER"),
        )
    except (PublishError, argparse.ArgumentTypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0

"""Helper of test_spark_raw.py, run in its own process: one Spark session (one JVM) for
several raw folders. For each folder it runs dbt's `run-operation register_raw_tables
--target spark` in this process (dbt-spark's session method takes the session opened here)
and, when that succeeds, writes every raw view to <out>/<n>/<table>.parquet. dbt's output
goes to stdout; <out>/report.json says which registrations succeeded.

usage: python spark_raw_probe.py OUT PROJECT_DIR RAW_DIR [RAW_DIR ...]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

TABLES = ["customers", "orders", "order_items", "returns", "products", "sessions"]


def main(out: Path, project: Path, raws: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    from segmentation.spark import session, stop

    spark = session()
    report = []
    try:
        for n, raw in enumerate(raws):
            os.environ["SEGMENTATION_RAW"] = raw  # raw_path(): no var given, so the env var
            result = dbtRunner().invoke(
                ["run-operation", "register_raw_tables", "--target", "spark",
                 "--project-dir", str(project)]
            )  # fmt: skip
            report.append({"raw": raw, "success": bool(result.success)})
            if result.success:
                (out / str(n)).mkdir(parents=True)
                for table in TABLES:
                    frame = spark.table(f"raw.{table}").toPandas()
                    frame.to_parquet(out / str(n) / f"{table}.parquet", index=False)
    finally:
        stop(spark)
    (out / "report.json").write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))

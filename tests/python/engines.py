"""Compare the tables one build wrote on DuckDB and on Spark (issue: Spark target, same
results on both engines): rows as multisets, with values in one canonical form per kind, so
that the engines' types (DECIMAL as float or Decimal, timestamps with or without a zone)
do not matter and the values do. Doubles agree to 9 significant digits (about 1e-9
relative), money (decimals) to the cent and beyond, everything else exactly."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import Counter

import pandas as pd


def canonical(value):
    """One value in a form both engines' answers share."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return "float:" + format(value, ".9g")
    if isinstance(value, decimal.Decimal):
        return "float:" + format(float(value), ".9g")
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return "float:" + format(float(value), ".9g") if abs(value) < 2**53 else value
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return "time:" + stamp.isoformat()
    if isinstance(value, dt.date):  # DuckDB gives dates to pandas as midnight timestamps
        return "time:" + pd.Timestamp(value).isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return canonical(value.item())
    return value


def rows(frame: pd.DataFrame) -> Counter:
    columns = sorted(frame.columns)
    records = frame[columns].astype(object).itertuples(index=False, name=None)
    return Counter(tuple(canonical(v) for v in record) for record in records)


def differences(left: pd.DataFrame, right: pd.DataFrame, limit: int = 5) -> list[str]:
    """What differs between two frames of one table (columns, then rows both ways)."""
    if sorted(left.columns) != sorted(right.columns):
        return [f"columns differ: {sorted(left.columns)} vs {sorted(right.columns)}"]
    a, b = rows(left), rows(right)
    only_left = list((a - b).elements())
    only_right = list((b - a).elements())
    if not only_left and not only_right:
        return []
    columns = sorted(left.columns)
    return [
        f"{len(only_left)} row(s) only on the left, {len(only_right)} only on the right "
        f"(columns {columns})",
        *[f"  left:  {row}" for row in only_left[:limit]],
        *[f"  right: {row}" for row in only_right[:limit]],
    ]

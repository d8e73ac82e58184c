"""Compare the tables one build wrote on DuckDB and on Spark (issue: Spark target, same
results on both engines): rows as multisets, with values in one canonical form per kind, so
that the engines' types (DECIMAL as float or Decimal, timestamps with or without a zone)
do not matter and the values do. Integers (also integer columns that pandas holds as floats
because of NULLs) agree exactly; other numbers within 1e-9 relative, or one unit of the
9th decimal (where the marts round a double), so money agrees to the cent and beyond;
everything else exactly. Rows are
paired as multisets: each row of one side with an equal row of the other."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import defaultdict

import pandas as pd


def _number(value):
    """An integer at or above 10^9 (also one pandas holds as a float because of NULLs) as
    its exact text; any other number as a float, compared within 1e-9 relative."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if abs(value) >= 10**9 and value == int(value):
        return "int:" + str(int(value))
    return float(value)


def canonical(value):
    """One value in a form both engines' answers share."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return _number(value)
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


# The marts round doubles to 9 decimals (macro stable_double): two values within 1e-9
# relative before the rounding can come out one unit of the 9th decimal apart.
LAST_DECIMAL = 1.000001e-9


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=LAST_DECIMAL)
    return a == b


def _same_row(a: tuple, b: tuple) -> bool:
    return all(_close(x, y) for x, y in zip(a, b, strict=True))


def _coarse(row: tuple) -> tuple:
    """Where a row is looked for: its values with numbers to 6 significant digits."""
    return tuple(format(v, ".6g") if isinstance(v, float) else v for v in row)


def rows(frame: pd.DataFrame) -> list[tuple]:
    columns = sorted(frame.columns)
    records = frame[columns].astype(object).itertuples(index=False, name=None)
    return [tuple(canonical(v) for v in record) for record in records]


def _unmatched(left: list[tuple], right: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Pair equal rows (numbers within 1e-9 relative); what is left on each side."""
    buckets: dict[tuple, list[tuple]] = defaultdict(list)
    for row in right:
        buckets[_coarse(row)].append(row)
    only_left = []
    for row in left:
        bucket = buckets.get(_coarse(row), [])
        found = next((i for i, other in enumerate(bucket) if _same_row(row, other)), None)
        if found is None:
            only_left.append(row)
        else:
            bucket.pop(found)
    only_right = [row for bucket in buckets.values() for row in bucket]
    if len(only_left) * len(only_right) > 10**6:
        return only_left, only_right
    # a number next to a 6-digit rounding edge lands in another bucket: look everywhere
    still_left = []
    for row in only_left:
        found = next((i for i, other in enumerate(only_right) if _same_row(row, other)), None)
        if found is None:
            still_left.append(row)
        else:
            only_right.pop(found)
    return still_left, only_right


def differences(left: pd.DataFrame, right: pd.DataFrame, limit: int = 5) -> list[str]:
    """What differs between two frames of one table (columns, then rows both ways)."""
    if sorted(left.columns) != sorted(right.columns):
        return [f"columns differ: {sorted(left.columns)} vs {sorted(right.columns)}"]
    only_left, only_right = _unmatched(rows(left), rows(right))
    if not only_left and not only_right:
        return []
    columns = sorted(left.columns)
    return [
        f"{len(only_left)} row(s) only on the left, {len(only_right)} only on the right "
        f"(columns {columns})",
        *[f"  left:  {row}" for row in only_left[:limit]],
        *[f"  right: {row}" for row in only_right[:limit]],
    ]

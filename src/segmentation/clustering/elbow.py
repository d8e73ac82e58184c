"""Choice of k: the knee of the inertia curve (Kneedle), with a documented fallback.

Kneedle (Satopaa et al. 2011, via ``kneed.KneeLocator``) normalises the curve to the unit
square and looks for the point furthest from the straight line between its ends. Settings:

* ``curve="convex", direction="decreasing"``: the shape of an inertia curve.
* ``S`` (sensitivity, default 1.0): how many "average steps" of flatness must follow a
  candidate before it is accepted. The paper recommends S=1 offline; larger S is more
  conservative (fewer knees found, more fallbacks).
* ``online=False``: keep the FIRST knee found rather than revising it to later candidates;
  the first knee is the coarser, more actionable segmentation.
* ``interp_method="interp1d"``: no smoothing; the curve has only a handful of points and the
  polynomial option would invent shape.

Inertia of the optimal k-clustering never increases with k; an increase in the sweep is a
local optimum of KMeans. Kneedle is therefore run on the running minimum of the inertia.

Scale (``scale="log"`` by default): Kneedle runs on log(inertia), the scale on which the gap
statistic (Tibshirani, Walther & Hastie 2001) compares within-cluster dispersion. Adding a
real cluster divides the inertia by a large factor wherever it happens on the curve, so on
the log scale a late knee (say 1,000 -> 65 at k=6 after 5,760 -> 651 over k=1..5) stands out
as clearly as an early one; on the linear scale the large early drops hide it and Kneedle
stops one cluster short. ``scale="linear"`` gives plain Kneedle on the inertia.

Fallback when there are fewer than 3 k values, no knee, or a knee at k < 2: the k with the
best (highest) silhouette, ties to the smaller k; when no silhouette is available, the
smallest k >= 2 in the range, or 1 when only k=1 was possible. The result always says which
rule was used and why (never a silent None).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Selection:
    """The chosen k, the rule that chose it (kneedle, silhouette_fallback, smallest_k_fallback,
    only_k) and a human-readable reason."""

    k: int
    method: str
    reason: str


SCALES = ("log", "linear")


def knee_curve(inertia: np.ndarray, scale: str = "log") -> np.ndarray:
    """The curve Kneedle runs on: the inertia, or its log (zeros floored at a tiny fraction of
    the largest inertia so a perfect fit does not give -inf)."""
    if scale not in SCALES:
        raise ValueError(f"knee scale {scale!r}: use one of {', '.join(SCALES)}")
    if scale == "linear":
        return inertia
    floor = max(float(np.max(inertia)), 1.0) * 1e-12
    return np.log(np.maximum(inertia, floor))


def find_knee(ks: np.ndarray, inertia: np.ndarray, sensitivity: float = 1.0) -> int | None:
    """The knee of a decreasing convex curve with Kneedle, or None when there is none."""
    from kneed import KneeLocator  # imported where used: it loads SciPy (fit.py)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed warns "No knee/elbow found"; we handle None
        locator = KneeLocator(
            ks,
            inertia,
            S=sensitivity,
            curve="convex",
            direction="decreasing",
            interp_method="interp1d",
            online=False,
        )
    knee = locator.knee
    return None if knee is None else int(round(float(knee)))


def select_k(sweep: pd.DataFrame, sensitivity: float = 1.0, scale: str = "log") -> Selection:
    """Choose k from a sweep frame (columns k, inertia, silhouette; see ``sweep_k``)."""
    if sweep.empty:
        raise ValueError("the k sweep is empty: no k could be tried")
    frame = sweep.sort_values("k").reset_index(drop=True)
    ks = frame["k"].to_numpy(dtype=np.int64)
    inertia = np.minimum.accumulate(frame["inertia"].to_numpy(dtype=np.float64))

    if len(ks) == 1:
        k = int(ks[0])
        return Selection(k, "only_k", f"only k={k} could be tried on this data")

    why_no_knee: str
    if len(ks) < 3:
        why_no_knee = f"only {len(ks)} values of k were tried, too few to find a knee"
    elif np.ptp(inertia) <= 0:
        why_no_knee = "the inertia curve is flat"
    else:
        knee = find_knee(ks, knee_curve(inertia, scale), sensitivity)
        if knee is not None and knee >= 2:
            curve = "log inertia" if scale == "log" else "inertia"
            return Selection(
                knee,
                "kneedle",
                f"Kneedle found the knee of the {curve} curve at k={knee} "
                f"(sensitivity S={sensitivity:g}, k range {ks[0]}..{ks[-1]})",
            )
        why_no_knee = (
            "no knee found on the inertia curve"
            if knee is None
            else f"the knee of the inertia curve is at k={knee}, which is no segmentation"
        )

    best = best_silhouette(frame)
    if best is not None:
        k, score = best
        return Selection(
            k,
            "silhouette_fallback",
            f"{why_no_knee}; chose the k with the best silhouette ({score:.2f})",
        )
    candidates = ks[ks >= 2]
    k = int(candidates[0]) if candidates.size else int(ks[0])
    return Selection(
        k,
        "smallest_k_fallback",
        f"{why_no_knee} and no silhouette is available; chose the smallest k in the range (k={k})",
    )


def best_silhouette(sweep: pd.DataFrame) -> tuple[int, float] | None:
    """(k, silhouette) of the highest silhouette in the sweep, ties to the smaller k; None
    when no k has one (k = 1 never has)."""
    frame = sweep.sort_values("k").reset_index(drop=True)
    silhouette = frame["silhouette"].to_numpy(dtype=np.float64)
    valid = ~np.isnan(silhouette)
    if not valid.any():
        return None
    best = int(np.flatnonzero(valid)[np.argmax(silhouette[valid])])  # first max = smaller k
    return int(frame["k"].iloc[best]), float(silhouette[best])


def select_k_by_silhouette(sweep: pd.DataFrame) -> Selection:
    """The k with the best silhouette (rule ``silhouette``), the smallest k >= 2 when no k
    has one, k = 1 when only k = 1 was tried."""
    if sweep.empty:
        raise ValueError("the k sweep is empty: no k could be tried")
    best = best_silhouette(sweep)
    if best is not None:
        k, score = best
        return Selection(
            k, "silhouette", f"the best silhouette of the sweep ({score:.2f}) is at k={k}"
        )
    ks = np.sort(sweep["k"].to_numpy(dtype=np.int64))
    candidates = ks[ks >= 2]
    k = int(candidates[0]) if candidates.size else int(ks[0])
    return Selection(k, "smallest_k_fallback", f"no silhouette is available; chose k={k}")

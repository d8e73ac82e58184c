"""BASELINE, not the project: a plain pandas + scikit-learn version of the "seed notebook"
approach, used only as a yardstick in docs/benchmarks.md.

Raw Parquet files -> pandas group-bys for RFM (recency, frequency, monetary) and the unit
return rate -> StandardScaler -> KMeans on *every* customer for k = 1..9 (n_init=10,
algorithm "lloyd", sklearn defaults otherwise) -> Kneedle elbow (kneed) -> the label of every
customer from the fit at the elbow k. No cleaning, no quarantine, no tests, no sampling.

usage: baseline_pandas.py RAW_DIR [--out labels.parquet] [--json timings.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

K_RANGE = range(1, 10)
SEED = 42


def features(raw: Path) -> pd.DataFrame:
    orders = pd.read_parquet(
        raw / "orders.parquet", columns=["order_id", "customer_id", "ordered_at", "status"]
    )
    items = pd.read_parquet(
        raw / "order_items.parquet",
        columns=["order_id", "line_number", "quantity", "unit_price", "discount_amount"],
    )
    returns = pd.read_parquet(
        raw / "returns.parquet", columns=["order_id", "line_number", "quantity"]
    )
    orders = orders[orders["status"] != "cancelled"]
    items["net"] = items["quantity"] * items["unit_price"].astype("float64") - items[
        "discount_amount"
    ].astype("float64").fillna(0.0)
    lines = items.merge(orders[["order_id", "customer_id"]], on="order_id", how="inner")
    returned = returns.groupby(["order_id", "line_number"], as_index=False)["quantity"].sum()
    returned = returned.rename(columns={"quantity": "returned"})
    lines = lines.merge(returned, on=["order_id", "line_number"], how="left")
    lines["returned"] = lines["returned"].fillna(0)

    as_of = orders["ordered_at"].max().normalize() + pd.Timedelta(days=1)
    per_order = orders.groupby("customer_id").agg(
        last_order_at=("ordered_at", "max"), frequency=("order_id", "nunique")
    )
    per_line = lines.groupby("customer_id").agg(
        monetary=("net", "sum"), units=("quantity", "sum"), returned=("returned", "sum")
    )
    rfm = per_order.join(per_line, how="inner")
    rfm["recency"] = (as_of - rfm["last_order_at"]).dt.days
    rfm["return_rate"] = (rfm["returned"] / rfm["units"]).where(rfm["units"] > 0, 0.0)
    return rfm[["recency", "frequency", "monetary", "return_rate"]]


def segment(
    rfm: pd.DataFrame, n_init: int | str = 10
) -> tuple[pd.Series, int, list[float], dict[str, float]]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    x = StandardScaler().fit_transform(rfm.to_numpy(dtype="float64"))
    inertias, fits = [], {}
    for k in K_RANGE:
        model = KMeans(n_clusters=k, n_init=n_init, random_state=SEED).fit(x)
        inertias.append(float(model.inertia_))
        fits[k] = model
    timings["kmeans_sweep_s"] = time.perf_counter() - start
    knee = KneeLocator(list(K_RANGE), inertias, curve="convex", direction="decreasing").knee
    k = int(knee) if knee is not None else 1
    labels = pd.Series(fits[k].labels_.astype(np.int32), index=rfm.index, name="segment")
    return labels, k, inertias, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--out", type=Path, help="write customer_id, segment as Parquet")
    parser.add_argument("--json", type=Path, help="write phase timings as JSON")
    parser.add_argument(
        "--n-init",
        default="10",
        help="KMeans starts per k: 10 (the seed notebook, default) or auto (scikit-learn's "
        "default since 1.4: one k-means++ start)",
    )
    args = parser.parse_args()
    n_init = args.n_init if args.n_init == "auto" else int(args.n_init)

    start = time.perf_counter()
    rfm = features(args.raw)
    features_s = time.perf_counter() - start
    labels, k, inertias, timings = segment(rfm, n_init)
    result = {
        "customers": int(len(labels)),
        "k": k,
        "n_init": n_init,
        "inertias": inertias,
        "features_s": features_s,
        **timings,
        "total_s": time.perf_counter() - start,
        "segment_sizes": labels.value_counts().sort_index().astype(int).tolist(),
    }
    if args.out:
        labels.reset_index().to_parquet(args.out, index=False)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

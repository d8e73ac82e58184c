"""Fit the segmentation with other feature sets and settings and compare each with the personas.

Every figure of docs/segmentation.md, section "Choices: what was tried", is printed by this
script. It reads ``marts.customer_features`` (and ``marts.customer_returns`` for the shrunk
return rates) of a built demo warehouse, fits each configuration with the project's own
``fit_segmentation`` (the stages the dbt Python models run), and compares the labels with the
generator's personas by the adjusted Rand index (ARI):

    .venv/bin/python docs/scripts/feature_choices.py \
        [--db data/warehouse.duckdb] [--truth data/truth/personas.parquet]

The warehouse must be a build of the default demo data (``make run``), whose personas are in
``data/truth``. Every fit uses the project's settings (dbt_project.yml) except what its row
changes, with one bootstrap resample (stability is not compared here). About a minute per
row on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import yaml
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering.pipeline import SegmentationConfig, fit_segmentation
from segmentation.dbt_models import settings_from_dbt
from segmentation.evaluate import read_truth

REPO = Path(__file__).resolve().parents[2]
#: the feature the current defaults added to the previous eight
ADDED = "category_breadth"
#: prior weight (units, or order values) of the shrunk return rates: one returned item of one
#: bought is weak evidence
SHRINK_UNITS = 5


@dataclass(frozen=True)
class Choice:
    label: str
    add: tuple[str, ...] = ()  # features added (log1p for counts and amounts)
    drop: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)  # SegmentationConfig fields
    shrunk: bool = False  # shrunk return rates in place of the raw ones
    previous: bool = True  # start from the previous defaults (without ADDED)


CHOICES = [
    Choice("previous defaults (8 features)"),
    Choice(f"**+ {ADDED} (log)**: the current defaults", previous=False),
    Choice(f"+ {ADDED} + session_count (both log)", add=("session_count",), previous=False),
    Choice("+ session_count (log)", add=("session_count",)),
    Choice("+ avg_days_between_orders (log)", add=("avg_days_between_orders",)),
    Choice("- return_rate_value", drop=("return_rate_value",)),
    Choice(f"- return_rate_value, + {ADDED}", drop=("return_rate_value",), previous=False),
    Choice(
        "return_rate_orders instead of return_rate_value",
        add=("return_rate_orders",),
        drop=("return_rate_value",),
    ),
    Choice(
        f"return_rate_orders instead of value, + {ADDED}",
        add=("return_rate_orders",),
        drop=("return_rate_value",),
        previous=False,
    ),
    Choice("- avg_order_value", drop=("avg_order_value",)),
    Choice("previous defaults, Kneedle S = 0.5 instead of 1", settings={"knee_sensitivity": 0.5}),
    Choice(
        f"shrunk return rates (m = {SHRINK_UNITS}), current defaults", shrunk=True, previous=False
    ),
]
#: a row that forces k (k_min = k_max): the ARI at that k, for comparison with the knee's k
FORCED_K = 6
LOGGED = {"session_count", "avg_days_between_orders"}


def project_config() -> SegmentationConfig:
    """The fit settings of dbt_project.yml's vars (the defaults of a build), read the way the
    dbt Python models read them, with one bootstrap resample."""
    variables = yaml.safe_load((REPO / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return replace(settings_from_dbt(variables).config, bootstrap=1)


def read_features(db: Path) -> pd.DataFrame:
    """customer_features with the shrunk return rates beside the raw ones: (returned + m * p)
    / (sold + m), p the shop's overall rate, on units and on value."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"""
            with shop as (
                select
                    sum(units_returned) / sum(units_sold) as units_rate,
                    sum(value_refunded) / sum(value_sold) as value_rate,
                    sum(value_sold) / sum(units_sold) as value_per_unit
                from marts.customer_returns
            )
            select
                features.*,
                (returns.units_returned + {SHRINK_UNITS} * shop.units_rate)
                    / (returns.units_sold + {SHRINK_UNITS}) as shrunk_return_rate_units,
                (returns.value_refunded
                    + {SHRINK_UNITS} * shop.value_per_unit * shop.value_rate)
                    / (returns.value_sold + {SHRINK_UNITS} * shop.value_per_unit)
                    as shrunk_return_rate_value
            from marts.customer_features as features
            inner join marts.customer_returns as returns using (customer_id)
            cross join shop
            """
        ).df()


def config_for(choice: Choice, base: SegmentationConfig) -> SegmentationConfig:
    features = [f for f in base.features if not (choice.previous and f == ADDED)]
    logged = [f for f in base.log_features if f in features]
    features = [f for f in features if f not in choice.drop] + list(choice.add)
    logged = [f for f in logged if f not in choice.drop] + [f for f in choice.add if f in LOGGED]
    if choice.shrunk:
        features = [f"shrunk_{f}" if f.startswith("return_rate_") else f for f in features]
    return replace(base, features=features, log_features=logged, **choice.settings)


def fit(features: pd.DataFrame, truth: pd.DataFrame, config: SegmentationConfig) -> dict:
    result = fit_segmentation(features, config, None, 1, datetime.now(UTC))
    labels = pd.DataFrame(
        {"customer_id": result.sample_customer_ids.astype(str), "segment": result.sample_labels}
    ).merge(truth, on="customer_id")
    chosen = result.k_selection[result.k_selection["is_chosen"]].iloc[0]
    return {
        "k": int(result.selection.k),
        "ari": adjusted_rand_score(labels["label"], labels["segment"]),
        "silhouette": float(chosen["silhouette"]),
        "customers": len(labels),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=REPO / "data" / "warehouse.duckdb")
    parser.add_argument("--truth", type=Path, default=REPO / "data" / "truth" / "personas.parquet")
    args = parser.parse_args(argv)
    truth, _ = read_truth(args.truth)
    features = read_features(args.db)
    base = project_config()
    print(f"{len(features):,} customers in customer_features of {args.db}", file=sys.stderr)
    rows = []
    for choice in CHOICES:
        config = config_for(choice, base)
        knee = fit(features, truth, config)
        forced = ""
        if choice.label.startswith(("previous defaults (", "**+")):
            at_k = fit(features, truth, replace(config, k_min=FORCED_K, k_max=FORCED_K))
            forced = f"{at_k['ari']:.3f}"
        rows.append(
            f"| {choice.label} | {knee['k']} | {knee['ari']:.3f} | {knee['silhouette']:.3f} "
            f"| {forced or '-'} |"
        )
        print(rows[-1], file=sys.stderr)
    print(f"Fitted on the {knee['customers']:,} buying customers of the demo warehouse.\n")
    print(
        f"| features (changes to the previous defaults) | knee k | ARI at knee k | silhouette "
        f"| ARI at k = {FORCED_K} |"
    )
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Raw folders with clearly separated, planted customer groups, written in the raw input
contract (used by the end-to-end segmentation tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

END = datetime(2025, 6, 30)

# name: (orders, first order days ago, last order days ago, order value, units per line,
#        unit return rate, discount share)
GROUPS = {
    "lapsed_one_timer": (1, 700, 700, 30.0, 1, 0.0, 0.0),
    "loyal_big_spender": (24, 720, 5, 220.0, 2, 0.02, 0.0),
    "serial_returner": (6, 400, 30, 90.0, 3, 0.7, 0.0),
    "bargain_hunter": (6, 400, 30, 45.0, 1, 0.0, 0.45),
}


def write_planted_raw(
    folder: Path,
    per_group: int = 120,
    seed: int = 3,
    groups: dict | None = None,
    fmt: str = "parquet",
    id_offset: int = 0,
    cancelled_only: int = 0,
    extreme: int = 0,
) -> pd.DataFrame:
    """Write customers, orders, order_items and returns for the planted groups; return the
    truth (customer_id, group).

    ``cancelled_only`` adds that many customers whose one order was cancelled (ids from
    ``id_offset + 900000``); they are not in the truth: they have no kept order to segment.
    ``extreme`` adds that many customers far outside every group (ids from ``id_offset +
    800000``, group "extreme" in the truth): 300 orders of 25,000 each over two years, half
    of the units returned.
    """
    groups = groups or GROUPS
    rng = np.random.default_rng(seed)
    customers, orders, items, returns, truth = [], [], [], [], []
    for g_index, (name, spec) in enumerate(groups.items()):
        n_orders, first_ago, last_ago, value, units, return_rate, discount = spec
        for i in range(per_group):
            cid = f"{id_offset + g_index * 100000 + i:07d}"
            truth.append((cid, name))
            # every other email as exports have them: padded and in mixed case
            email = f"{cid}@example.com" if i % 2 else f"  {cid}@Example.COM "
            customers.append({"customer_id": cid, "email": email})
            k = max(1, int(round(n_orders * rng.uniform(0.8, 1.2))))
            first = first_ago * rng.uniform(0.9, 1.1)
            last = last_ago * rng.uniform(0.8, 1.2)
            days_ago = np.sort(np.linspace(first, last, k))[::-1] if k > 1 else [first]
            for j, ago in enumerate(days_ago):
                oid = f"{cid}-{j:03d}"
                ordered_at = END - timedelta(days=float(ago), hours=float(rng.uniform(0, 8)))
                orders.append(
                    {
                        "order_id": oid,
                        "customer_id": cid,
                        "ordered_at": ordered_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "status": "delivered",
                    }
                )
                qty = units
                price = round(value * rng.uniform(0.85, 1.15) / qty, 2)
                disc = round(qty * price * discount * rng.uniform(0.9, 1.1), 2)
                items.append(
                    {
                        "order_id": oid,
                        "line_number": 1,
                        "product_id": "P1",
                        "quantity": qty,
                        "unit_price": price,
                        "discount_amount": min(disc, qty * price),
                    }
                )
                back = int(rng.binomial(qty, return_rate)) if return_rate else 0
                if back:
                    returns.append(
                        {
                            "return_id": f"R{oid}",
                            "order_id": oid,
                            "line_number": 1,
                            "quantity": back,
                            "returned_at": (ordered_at + timedelta(days=5)).strftime(
                                "%Y-%m-%d %H:%M:%S"
                            ),
                            "reason": "wrong_size",
                        }
                    )
    for i in range(extreme):
        cid = f"{id_offset + 800000 + i:07d}"
        truth.append((cid, "extreme"))
        customers.append({"customer_id": cid, "email": f"{cid}@example.com"})
        for j in range(300):
            oid = f"{cid}-{j:03d}"
            ordered_at = END - timedelta(days=2 + j * 2.4, hours=1)
            orders.append(
                {
                    "order_id": oid,
                    "customer_id": cid,
                    "ordered_at": ordered_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "status": "delivered",
                }
            )
            items.append(
                {
                    "order_id": oid,
                    "line_number": 1,
                    "product_id": "P1",
                    "quantity": 10,
                    "unit_price": 2500.0,
                    "discount_amount": 0.0,
                }
            )
            returns.append(
                {
                    "return_id": f"R{oid}",
                    "order_id": oid,
                    "line_number": 1,
                    "quantity": 5,
                    "returned_at": (ordered_at + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
                    "reason": "changed_mind",
                }
            )
    for i in range(cancelled_only):
        cid = f"{id_offset + 900000 + i:07d}"
        oid = f"{cid}-000"
        customers.append({"customer_id": cid, "email": f"{cid}@example.com"})
        ordered_at = END - timedelta(days=float(rng.uniform(10, 300)))
        orders.append(
            {
                "order_id": oid,
                "customer_id": cid,
                "ordered_at": ordered_at.strftime("%Y-%m-%d %H:%M:%S"),
                "status": "cancelled",
            }
        )
        items.append(
            {
                "order_id": oid,
                "line_number": 1,
                "product_id": "P1",
                "quantity": 1,
                "unit_price": 50.0,
                "discount_amount": 0.0,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in [
        ("customers", customers),
        ("orders", orders),
        ("order_items", items),
        ("returns", returns),
    ]:
        frame = pd.DataFrame(rows)
        if fmt == "csv":
            frame.to_csv(folder / f"{table}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{table}.parquet", index=False)
    return pd.DataFrame(truth, columns=["customer_id", "group"])

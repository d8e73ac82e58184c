"""Demo data generator: writes the six raw input tables as Parquet, with planted personas.

Why it exists: the project needs realistic shop data that anyone can regenerate from a seed,
large enough to benchmark (millions of customers) and structured enough that clustering has
something real to find. Every customer is assigned exactly one *persona* (see ``PERSONAS``)
that drives how often, how recently, how much and how they buy, how much discount they use and
how much they send back. The persona of each customer is written to a separate "truth" folder
(``personas.parquet``) that no model reads; it exists only to evaluate the segmentation.

What it writes (exactly the columns of the design's raw input contract, no extras):
``customers``, ``orders``, ``order_items``, ``returns``, ``products`` and ``sessions``, one
Parquet file each. Every row is valid per the contract: unique keys, full referential
integrity, returns only on delivered orders with ``quantity <=`` the sold quantity and
``ordered_at < returned_at``, and no timestamp after the end date (the whole end day is
included: timestamps are ``< end_date + 1 day``). Defects are injected by a separate tool.

How it scales: customers are generated in fixed-size chunks (default 250,000), each from its
own child seed (``SeedSequence(seed, spawn_key=(1, chunk_index))``), fully vectorised with
numpy, and appended to one ``ParquetWriter`` per table. Memory is bounded by the chunk size,
not by the customer count. For a fixed seed and chunk size the output is identical on every
run; the first chunks are even the same for different customer counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# --------------------------------------------------------------------------------------------
# Public constants
# --------------------------------------------------------------------------------------------

DEFAULT_CUSTOMERS = 60_000
DEFAULT_SEED = 42
DEFAULT_END_DATE = dt.date(2026, 9, 30)
DEFAULT_CHUNK_SIZE = 250_000
HISTORY_YEARS = 3
N_PRODUCTS = 1_200

TABLES = ("customers", "orders", "order_items", "returns", "products", "sessions")

MONEY = pa.decimal128(12, 2)
TS = pa.timestamp("us")

#: Arrow schemas of the six raw tables; DuckDB reads them as VARCHAR, INTEGER, DECIMAL(12,2),
#: TIMESTAMP and DATE.
SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.string()),
            ("email", pa.string()),
            ("first_name", pa.string()),
            ("last_name", pa.string()),
            ("birth_date", pa.date32()),
            ("gender", pa.string()),
            ("country", pa.string()),
            ("signup_at", TS),
            ("acquisition_channel", pa.string()),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("ordered_at", TS),
            ("status", pa.string()),
            ("sales_channel", pa.string()),
        ]
    ),
    "order_items": pa.schema(
        [
            ("order_id", pa.string()),
            ("line_number", pa.int32()),
            ("product_id", pa.string()),
            ("quantity", pa.int32()),
            ("unit_price", MONEY),
            ("discount_amount", MONEY),
        ]
    ),
    "returns": pa.schema(
        [
            ("return_id", pa.string()),
            ("order_id", pa.string()),
            ("line_number", pa.int32()),
            ("quantity", pa.int32()),
            ("returned_at", TS),
            ("reason", pa.string()),
            ("refund_amount", MONEY),
        ]
    ),
    "products": pa.schema(
        [
            ("product_id", pa.string()),
            ("product_name", pa.string()),
            ("category", pa.string()),
            ("list_price", MONEY),
        ]
    ),
    "sessions": pa.schema(
        [
            ("session_id", pa.string()),
            ("customer_id", pa.string()),
            ("started_at", TS),
            ("page_views", pa.int32()),
            ("product_views", pa.int32()),
            ("cart_adds", pa.int32()),
            ("device", pa.string()),
        ]
    ),
}
PERSONA_SCHEMA = pa.schema([("customer_id", pa.string()), ("persona", pa.string())])

# Identifier layout: prefix + zero-padded sequence number (fixed width, so ids sort naturally).
ID_WIDTH = {"C": 8, "O": 10, "R": 10, "S": 11, "P": 5}

# --------------------------------------------------------------------------------------------
# Personas: one row of behaviour parameters each. Shares sum to 1.
# --------------------------------------------------------------------------------------------

PERSONAS = (
    "high_value_loyal",
    "regular",
    "bargain_hunter",
    "serial_returner",
    "new_customer",
    "lapsed_one_timer",
    "browser",
)
HVL, REG, BARGAIN, RETURNER, NEW, LAPSED, BROWSER = range(len(PERSONAS))
PERSONA_SHARE = np.array([0.08, 0.36, 0.15, 0.07, 0.12, 0.17, 0.05])

CATEGORIES = ("apparel", "shoes", "electronics", "home", "beauty", "sports")
APPAREL, SHOES, ELECTRONICS, HOME, BEAUTY, SPORTS = range(len(CATEGORIES))
CATEGORY_SHARE = np.array([0.34, 0.14, 0.12, 0.18, 0.11, 0.11])  # of the catalogue
CATEGORY_MEDIAN_PRICE = np.array([35.0, 75.0, 140.0, 40.0, 18.0, 45.0])
CATEGORY_PRICE_SIGMA = np.array([0.55, 0.45, 0.85, 0.75, 0.5, 0.7])
#: Relative return propensity per category (apparel and shoes high, home and beauty low).
CATEGORY_RETURN_FACTOR = np.array([1.6, 1.5, 0.6, 0.35, 0.25, 0.7])
#: Extra units per line (Poisson mean) per category: consumables are bought in multiples.
CATEGORY_EXTRA_QTY = np.array([0.15, 0.05, 0.03, 0.3, 0.6, 0.2])

#: Category mix of the lines each persona buys (rows sum to 1).
PERSONA_CATEGORY_MIX = np.array(
    [
        [0.22, 0.12, 0.22, 0.22, 0.12, 0.10],  # high_value_loyal
        [0.30, 0.12, 0.12, 0.20, 0.14, 0.12],  # regular
        [0.32, 0.12, 0.10, 0.18, 0.18, 0.10],  # bargain_hunter
        [0.55, 0.30, 0.03, 0.04, 0.04, 0.04],  # serial_returner
        [0.30, 0.13, 0.13, 0.18, 0.14, 0.12],  # new_customer
        [0.30, 0.14, 0.14, 0.18, 0.12, 0.12],  # lapsed_one_timer
        [0.30, 0.12, 0.12, 0.20, 0.14, 0.12],  # browser (never buys)
    ]
)
#: Exponent on list price when picking products: > 0 favours premium, < 0 cheap products.
PERSONA_PRICE_TILT = np.array([0.8, 0.0, -0.7, 0.2, 0.0, -0.1, 0.0])


class _Behaviour:
    """Vectors indexed by persona: the knobs that make the personas separable (a namespace)."""

    # Orders: base + Poisson(rate per year x active years), so frequency grows with tenure.
    order_base = np.array([8, 2, 2, 2, 1, 1, 0])
    order_rate = np.array([4.8, 2.25, 2.5, 1.9, 0.0, 0.0, 0.0])
    # Lines per order: 1 + Poisson(mean).
    line_extra = np.array([1.8, 1.25, 1.05, 0.9, 1.05, 0.9, 0.0])
    # Unit return propensity (Beta mean) before the category factor.
    return_mean = np.array([0.05, 0.17, 0.13, 0.38, 0.17, 0.24, 0.0])
    # Share of lines discounted (Beta mean) and the discount depth range.
    discount_mean = np.array([0.06, 0.14, 0.80, 0.14, 0.18, 0.22, 0.0])
    depth_low = np.array([0.05, 0.10, 0.20, 0.10, 0.10, 0.10, 0.0])
    depth_high = np.array([0.15, 0.25, 0.55, 0.25, 0.30, 0.30, 0.0])
    # Probability that an apparel/shoes line is bought in several sizes (size bracketing).
    bracket_mean = np.array([0.01, 0.04, 0.03, 0.65, 0.06, 0.05, 0.0])
    # Extra units per line on top of the category default (bargain hunters stock up).
    extra_qty = np.array([0.1, 0.0, 0.35, 0.0, 0.0, 0.0, 0.0])
    # Non-purchase browsing sessions per customer (Poisson mean).
    browse_sessions = np.array([15.0, 4.0, 8.0, 5.0, 3.0, 1.5, 5.0])
    # Cancellation probability per order.
    cancel = np.array([0.02, 0.04, 0.06, 0.05, 0.04, 0.04, 0.0])
    # Age: mean and standard deviation in years.
    age_mean = np.array([46.0, 40.0, 35.0, 31.0, 32.0, 38.0, 33.0])
    age_sd = np.array([11.0, 13.0, 12.0, 9.0, 11.0, 14.0, 12.0])


B = _Behaviour()

ACQUISITION_CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "email",
    "referral",
    "affiliate",
    "direct",
)
PERSONA_ACQUISITION_MIX = np.array(
    [
        [0.25, 0.12, 0.08, 0.10, 0.20, 0.05, 0.20],
        [0.28, 0.20, 0.15, 0.08, 0.09, 0.08, 0.12],
        [0.15, 0.20, 0.15, 0.10, 0.05, 0.30, 0.05],
        [0.20, 0.20, 0.35, 0.05, 0.08, 0.07, 0.05],
        [0.22, 0.25, 0.25, 0.05, 0.10, 0.08, 0.05],
        [0.20, 0.30, 0.20, 0.04, 0.05, 0.15, 0.06],
        [0.30, 0.20, 0.25, 0.05, 0.05, 0.05, 0.10],
    ]
)
COUNTRIES = ("DE", "GB", "FR", "NL", "AT", "CH", "BE", "IT", "ES", "PL", "SE", "DK", "IE", "US")
COUNTRY_SHARE = np.array(
    [0.28, 0.14, 0.12, 0.08, 0.06, 0.05, 0.04, 0.05, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02]
)
GENDERS = ("F", "M", "X")
GENDER_SHARE = np.array([0.50, 0.47, 0.03])
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARE = np.array([0.55, 0.35, 0.10])
SALES_CHANNELS = ("web", "app", "marketplace", "phone")
STATUSES = ("placed", "shipped", "delivered", "cancelled")
PLACED, SHIPPED, DELIVERED, CANCELLED = range(len(STATUSES))
REASONS = (
    "wrong_size",
    "not_as_described",
    "damaged",
    "changed_mind",
    "late_delivery",
    "defective",
)
#: Reason mix per return group; the last column is "no reason given" (null).
REASON_MIX = np.array(
    [
        [0.86, 0.03, 0.00, 0.08, 0.01, 0.00, 0.02],  # extra size of a bracketed product
        [0.45, 0.18, 0.06, 0.15, 0.05, 0.03, 0.08],  # apparel and shoes
        [0.00, 0.20, 0.15, 0.18, 0.06, 0.33, 0.08],  # electronics
        [0.02, 0.27, 0.22, 0.28, 0.09, 0.04, 0.08],  # everything else
    ]
)

FEMALE_NAMES = (
    "Anna", "Maria", "Sophie", "Emma", "Laura", "Julia", "Lena", "Sarah", "Lisa", "Hannah",
    "Olivia", "Amelia", "Isla", "Chloe", "Camille", "Lea", "Manon", "Ines", "Giulia", "Sofia",
    "Lucia", "Marta", "Eva", "Zoe", "Mia", "Ella", "Nora", "Alice", "Clara", "Elena",
)  # fmt: skip
MALE_NAMES = (
    "Lukas", "Leon", "Paul", "Jonas", "Felix", "Max", "Noah", "Elias", "Ben", "Finn",
    "Oliver", "George", "Harry", "Jack", "Hugo", "Louis", "Lucas", "Gabriel", "Marco", "Luca",
    "Pablo", "Javier", "Jan", "Piotr", "Erik", "Lars", "Sean", "Liam", "Adam", "David",
)  # fmt: skip
LAST_NAMES = (
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Martin",
    "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Rossi", "Russo", "Ferrari", "Garcia",
    "Fernandez", "Lopez", "Martinez", "Nowak", "Kowalski", "Jansen", "de Vries", "Bakker",
    "Andersson", "Johansson", "Nielsen", "Hansen", "Murphy", "Kelly", "Gruber", "Huber",
    "Peeters", "Maes", "Keller", "Frei", "Walsh", "Novak", "Horvat", "Berg",
)  # fmt: skip

PRODUCT_WORDS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    APPAREL: (
        ("Classic", "Slim", "Relaxed", "Organic", "Linen", "Wool", "Cotton", "Oversized"),
        ("T-Shirt", "Shirt", "Dress", "Jeans", "Chinos", "Sweater", "Hoodie", "Jacket", "Skirt"),
    ),
    SHOES: (
        ("Leather", "Suede", "Canvas", "Trail", "City", "Classic", "Lightweight"),
        ("Sneaker", "Boot", "Loafer", "Sandal", "Running Shoe", "Ankle Boot", "Slipper"),
    ),
    ELECTRONICS: (
        ("Wireless", "Smart", "Portable", "Pro", "Compact", "Noise-Cancelling"),
        ("Headphones", "Speaker", "Smartwatch", "Charger", "Keyboard", "Mouse", "Camera"),
    ),
    HOME: (
        ("Ceramic", "Oak", "Cotton", "Glass", "Stoneware", "Bamboo", "Velvet"),
        ("Mug", "Vase", "Cushion", "Lamp", "Throw", "Plate Set", "Towel Set", "Frame"),
    ),
    BEAUTY: (
        ("Hydrating", "Natural", "Repair", "Daily", "Vitamin C", "Sensitive"),
        ("Face Cream", "Serum", "Shampoo", "Conditioner", "Lip Balm", "Body Lotion"),
    ),
    SPORTS: (
        ("Performance", "Training", "Outdoor", "Yoga", "Cycling", "Trail"),
        ("Leggings", "Mat", "Water Bottle", "Backpack", "Gloves", "Shorts", "Jacket"),
    ),
}

#: Relative order intensity per hour of day (UTC): quiet at night, evening peak.
HOUR_WEIGHT = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 7, 8, 8, 7, 7, 7, 8, 9, 10, 11, 10, 7, 4], dtype=float
)
#: Relative order intensity per calendar month (Q4 peak).
MONTH_WEIGHT = np.array([0.85, 0.8, 0.9, 0.9, 0.95, 0.9, 0.88, 0.9, 0.95, 1.0, 1.45, 1.6])
#: Relative intensity per weekday (Monday first).
WEEKDAY_WEIGHT = np.array([1.05, 1.0, 0.98, 0.98, 0.95, 0.92, 1.12])

SECONDS_PER_DAY = 86_400


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _string_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """Fixed-width ids such as ``C00000042`` built straight into an Arrow string buffer.

    Formatting millions of ids with Python f-strings is the slowest part of a naive generator;
    writing the ASCII digits into a byte matrix keeps it vectorised and zero-copy.
    """
    width = ID_WIDTH[prefix]
    n = len(numbers)
    if n and int(numbers.max()) >= 10**width:
        raise ValueError(f"id {prefix}{int(numbers.max())} needs more than {width} digits")
    row = 1 + width
    buf = np.empty((n, row), dtype=np.uint8)
    buf[:, 0] = ord(prefix)
    rest = numbers.astype(np.int64, copy=True)
    for pos in range(width, 0, -1):
        buf[:, pos] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(n + 1, dtype=np.int64) * row
    if offsets[-1] < 2**31:
        offsets = offsets.astype(np.int32)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
        )
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    return arr.cast(pa.string())


def _money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """DECIMAL(12,2) from integer cents, built from buffers (exact, no float rounding)."""
    n = len(cents)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = words[:, 0] >> 63  # sign extension to 128 bits
    if valid is None or valid.all():
        return pa.Array.from_buffers(MONEY, n, [None, pa.py_buffer(words)], null_count=0)
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        MONEY, n, [bitmap, pa.py_buffer(words)], null_count=int(n - valid.sum())
    )


def _timestamps(seconds: np.ndarray) -> pa.Array:
    """TIMESTAMP (naive UTC, microseconds) from seconds since the Unix epoch."""
    return pa.array((seconds.astype(np.int64) * 1_000_000).view("datetime64[us]"), type=TS)


def _labels(values: tuple[str, ...], codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Plain string column from small integer codes (``null`` marks missing values)."""
    indices = pa.array(codes.astype(np.int32), mask=null)
    return pa.array(values, pa.string()).take(indices)


def _choice(rng: np.random.Generator, probabilities: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one category per row from ``probabilities[rows]`` (a row-stochastic matrix)."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    return (u[:, None] >= cdf[rows]).sum(axis=1)


def _beta_mean(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    """Per-row Beta draws with the given means: individual noise around a persona's level."""
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * concentration, (1 - mean) * concentration)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a flat array built with ``np.repeat(..., counts)``."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _position_in_group(counts: np.ndarray) -> np.ndarray:
    """0-based position of every element inside its group (groups laid out contiguously)."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_group_starts(counts), counts)


# --------------------------------------------------------------------------------------------
# Calendar: seasonal intensity and sampling of timestamps inside per-row windows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """The history window and a cumulative seasonal intensity used to place events in time."""

    start_epoch_day: int  # first day of history (days since 1970-01-01)
    n_days: int  # days of history, the end date included
    cum_weight: np.ndarray  # cumulative intensity at day boundaries, length n_days + 1
    hour_cdf: np.ndarray

    @classmethod
    def build(cls, end_date: dt.date) -> _Calendar:
        start = _years_before(end_date, HISTORY_YEARS) + dt.timedelta(days=1)
        start_day = (start - dt.date(1970, 1, 1)).days
        n_days = (end_date - start).days + 1
        days = np.arange(start_day, start_day + n_days)
        as_dates = days.astype("datetime64[D]")
        month = as_dates.astype("datetime64[M]").astype(np.int64) % 12
        day_of_month = (as_dates - as_dates.astype("datetime64[M]")).astype(np.int64) + 1
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        weight = MONTH_WEIGHT[month] * WEEKDAY_WEIGHT[weekday]
        weight *= np.where((month == 10) & (day_of_month >= 22), 1.6, 1.0)  # black week
        weight *= np.where((month == 11) & (day_of_month <= 20), 1.15, 1.0)  # gift shopping
        weight *= np.where((month == 11) & (day_of_month >= 24) & (day_of_month <= 26), 0.5, 1.0)
        weight *= 1.0 + 0.12 * np.arange(n_days) / 365.25  # the shop grows ~12% a year
        cum = np.concatenate([[0.0], np.cumsum(weight)])
        hour_cdf = np.cumsum(HOUR_WEIGHT) / HOUR_WEIGHT.sum()
        return cls(start_day, n_days, cum, hour_cdf)

    @property
    def end_second(self) -> int:
        """First second after the history (exclusive upper bound of every timestamp)."""
        return (self.start_epoch_day + self.n_days) * SECONDS_PER_DAY

    def sample(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Seasonally weighted timestamps (epoch seconds), one per row, with day in [lo, hi).

        ``lo`` and ``hi`` are fractional days since the start of history. The day comes from
        inverting the cumulative seasonal intensity; the time of day from the hour profile.
        """
        grid = np.arange(self.n_days + 1, dtype=float)
        c_lo = np.interp(lo, grid, self.cum_weight)
        c_hi = np.interp(hi, grid, self.cum_weight)
        u = c_lo + rng.random(len(lo)) * (c_hi - c_lo)
        day = np.floor(np.interp(u, self.cum_weight, grid)).astype(np.int64)
        day = np.clip(day, 0, self.n_days - 1)
        return self.day_to_seconds(day) + self.time_of_day(rng, len(lo))

    def time_of_day(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Seconds after midnight following the hourly profile."""
        hour = np.searchsorted(self.hour_cdf, rng.random(n), side="right")
        return np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, n)

    def day_to_seconds(self, day: np.ndarray) -> np.ndarray:
        """Epoch seconds of midnight of ``day`` (days since the start of history)."""
        return (self.start_epoch_day + day.astype(np.int64)) * SECONDS_PER_DAY

    def seconds_to_day(self, seconds: np.ndarray) -> np.ndarray:
        """Fractional days since the start of history."""
        return seconds / SECONDS_PER_DAY - self.start_epoch_day


def _years_before(day: dt.date, years: int) -> dt.date:
    """Same calendar day ``years`` earlier (29 Feb falls back to 28 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# --------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalogue:
    """The product catalogue plus per-persona and per-category sampling tables."""

    table: pa.Table
    category: np.ndarray  # category code per product
    price_cents: np.ndarray
    persona_cdf: np.ndarray  # flat: persona p occupies (p, p + 1]
    category_cdf: np.ndarray  # flat: category c occupies (c, c + 1]

    def pick(self, u: np.ndarray, block: np.ndarray, flat_cdf: np.ndarray) -> np.ndarray:
        """Product index for uniform draws ``u`` inside sampling block ``block``."""
        n = len(self.category)
        idx = np.searchsorted(flat_cdf, block + u, side="right") - block * n
        return np.clip(idx, 0, n - 1)


def _build_catalogue(rng: np.random.Generator, n_products: int = N_PRODUCTS) -> _Catalogue:
    """Products with category, a lognormal list price and a Zipf-like popularity."""
    category = np.sort(rng.choice(len(CATEGORIES), size=n_products, p=CATEGORY_SHARE))
    raw_price = CATEGORY_MEDIAN_PRICE[category] * np.exp(
        rng.normal(0, CATEGORY_PRICE_SIGMA[category])
    )
    price_cents = np.maximum(np.round(raw_price) * 100 - 1, 199).astype(np.int64)  # x.99
    popularity = np.empty(n_products)
    for c in range(len(CATEGORIES)):  # six categories, not rows
        members = np.flatnonzero(category == c)
        ranks = rng.permutation(len(members)) + 1
        popularity[members] = 1.0 / ranks**0.9

    persona_cdf = []
    for p in range(len(PERSONAS)):
        weight = popularity * (price_cents / 5000.0) ** PERSONA_PRICE_TILT[p]
        weight /= np.bincount(category, weights=weight, minlength=len(CATEGORIES))[category]
        weight *= PERSONA_CATEGORY_MIX[p][category]
        persona_cdf.append(p + _normalised_cdf(weight))
    category_cdf = []
    for c in range(len(CATEGORIES)):
        category_cdf.append(c + _normalised_cdf(np.where(category == c, popularity, 0.0)))

    adjective, noun = rng.random(n_products), rng.random(n_products)
    names = []
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(category == c)
        adjectives, nouns = PRODUCT_WORDS[c]
        a = _labels(adjectives, (adjective[members] * len(adjectives)).astype(int))
        b = _labels(nouns, (noun[members] * len(nouns)).astype(int))
        names.append(pc.binary_join_element_wise(a, b, " "))
    product_ids = _string_ids("P", np.arange(1, n_products + 1))
    table = pa.table(
        {
            "product_id": product_ids,
            "product_name": pa.concat_arrays(names),
            "category": _labels(CATEGORIES, category),
            "list_price": _money(price_cents),
        },
        schema=SCHEMAS["products"],
    )
    return _Catalogue(
        table=table,
        category=category,
        price_cents=price_cents,
        persona_cdf=np.concatenate(persona_cdf),
        category_cdf=np.concatenate(category_cdf),
    )


def _normalised_cdf(weight: np.ndarray) -> np.ndarray:
    """Cumulative distribution ending at exactly 1.0."""
    cdf = np.cumsum(weight)
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    return cdf


# --------------------------------------------------------------------------------------------
# One chunk of customers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Offsets:
    """Global sequence numbers already used by earlier chunks (ids stay unique across chunks)."""

    customer: int = 0
    order: int = 0
    ret: int = 0
    session: int = 0


def _generate_chunk(
    rng: np.random.Generator,
    n: int,
    offsets: _Offsets,
    cal: _Calendar,
    cat: _Catalogue,
) -> dict[str, pa.Table]:
    """Generate ``n`` customers and everything they did; returns one Arrow table per output."""
    D = cal.n_days
    persona = rng.choice(len(PERSONAS), size=n, p=PERSONA_SHARE)
    cust_no = offsets.customer + 1 + np.arange(n, dtype=np.int64)
    customer_ids = _string_ids("C", cust_no)

    # ---- order count and active window per customer (days since start of history) ----------
    lo = np.zeros(n)
    hi = np.full(n, float(D))
    span = rng.random(n)
    is_ = {p: persona == p for p in range(len(PERSONAS))}
    # Repeat buyers: a window start below 0 means a customer from before the history
    # (about 40% of them), so the order volume does not ramp up from nothing.
    lo = np.where(is_[HVL], (span * 0.8 - 0.35) * D, lo)
    hi = np.where(is_[HVL], D - rng.exponential(8.0, n), hi)
    for p, recency_mean, min_tenure in ((REG, 90, 200), (BARGAIN, 75, 200), (RETURNER, 60, 250)):
        lo = np.where(is_[p], span * (1.5 * D - min_tenure) - 0.5 * D, lo)
        hi = np.where(is_[p], D - rng.exponential(recency_mean, n), hi)
    lo = np.where(is_[NEW], D - span * 90, lo)  # first order within the last 90 days
    hi = np.where(is_[NEW], np.minimum(lo + 25, D), hi)
    lo = np.where(is_[LAPSED], 0.0, lo)
    hi = np.where(is_[LAPSED], D - 300 - rng.exponential(60, n), hi)
    joined_before = lo < 0  # signed up before the history starts
    joined_day = np.floor(lo)
    lo = np.maximum(lo, 0.0)
    hi = np.clip(hi, np.minimum(lo + 20, D), D)  # every window has some room
    active_years = (hi - lo) / 365.25
    rate = B.order_rate[persona] * np.exp(rng.normal(0, 0.35, n))  # individual appetite
    n_orders = B.order_base[persona] + rng.poisson(rate * active_years)
    n_orders = np.where(persona == NEW, 1 + (rng.random(n) < 0.35), n_orders)

    # ---- orders ------------------------------------------------------------------------------
    o_cust = np.repeat(np.arange(n), n_orders)
    o_ts = cal.sample(rng, lo[o_cust], hi[o_cust])
    order = np.lexsort((o_ts, o_cust))  # per customer in time order
    o_ts = o_ts[order]
    n_ord = len(o_cust)
    o_persona = persona[o_cust]
    first_idx = _group_starts(n_orders)
    has_orders = n_orders > 0
    o_ts_padded = np.append(o_ts, 0)  # customers without orders index the padding
    first_ts = np.where(has_orders, o_ts_padded[np.minimum(first_idx, n_ord)], 0)
    last_ts = np.where(has_orders, o_ts_padded[np.minimum(first_idx + n_orders - 1, n_ord)], 0)
    order_no = offsets.order + 1 + np.arange(n_ord, dtype=np.int64)

    age_days = (cal.end_second - o_ts) / SECONDS_PER_DAY
    status = np.full(n_ord, DELIVERED)
    status = np.where(age_days < 5, np.where(rng.random(n_ord) < 0.85, SHIPPED, DELIVERED), status)
    status = np.where(age_days < 1.5, np.where(rng.random(n_ord) < 0.7, PLACED, SHIPPED), status)
    status = np.where(rng.random(n_ord) < B.cancel[o_persona], CANCELLED, status)

    # ---- customers ---------------------------------------------------------------------------
    preferred_device = rng.choice(len(DEVICES), size=n, p=DEVICE_SHARE)
    gap = np.where(
        rng.random(n) < 0.35,
        rng.uniform(120, 1800, n),  # signed up in the session of the first order
        rng.exponential(np.where(persona == NEW, 4.0, 30.0), n) * SECONDS_PER_DAY,
    )
    browser_signup = cal.sample(rng, np.zeros(n), np.full(n, float(D)))
    signup = np.where(has_orders, first_ts - gap.astype(np.int64), browser_signup)
    early_signup = cal.day_to_seconds(joined_day) + cal.time_of_day(rng, n)
    signup = np.where(joined_before, np.minimum(early_signup, signup), signup)
    gender = _choice(rng, GENDER_SHARE[None, :], np.zeros(n, dtype=np.int64))
    gender_null = rng.random(n) < 0.10
    first_name_idx = np.where(
        gender == 0,
        rng.integers(0, len(FEMALE_NAMES), n),
        np.where(
            gender == 1,
            len(FEMALE_NAMES) + rng.integers(0, len(MALE_NAMES), n),
            rng.integers(0, len(FEMALE_NAMES) + len(MALE_NAMES), n),
        ),
    )
    last_name_idx = rng.integers(0, len(LAST_NAMES), n)
    first_names = _labels(FEMALE_NAMES + MALE_NAMES, first_name_idx)
    last_names = _labels(LAST_NAMES, last_name_idx)
    email_local_last = pc.replace_substring(pc.utf8_lower(last_names), " ", "")
    emails = pc.binary_join_element_wise(
        pc.utf8_lower(first_names),
        ".",
        email_local_last,
        pc.cast(pa.array(cust_no), pa.string()),
        "@example.com",
        "",
    )
    age_years = np.clip(rng.normal(B.age_mean[persona], B.age_sd[persona]), 18, 88)
    end_epoch_day = cal.start_epoch_day + D - 1
    birth_day = (end_epoch_day - age_years * 365.25).astype(np.int64)
    customers = pa.table(
        {
            "customer_id": customer_ids,
            "email": emails,
            "first_name": first_names,
            "last_name": last_names,
            "birth_date": pa.array(
                birth_day.astype("datetime64[D]"), pa.date32(), mask=rng.random(n) < 0.15
            ),
            "gender": _labels(GENDERS, gender, gender_null),
            "country": _labels(
                COUNTRIES,
                rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARE),
                rng.random(n) < 0.03,
            ),
            "signup_at": _timestamps(signup),
            "acquisition_channel": _labels(
                ACQUISITION_CHANNELS,
                _choice(rng, PERSONA_ACQUISITION_MIX, persona),
                rng.random(n) < 0.02,
            ),
        },
        schema=SCHEMAS["customers"],
    )

    # ---- order lines -------------------------------------------------------------------------
    # Per-customer noise around the persona levels, so personas overlap realistically.
    line_mult = np.exp(rng.normal(0, 0.3, n))
    return_rate = _beta_mean(rng, B.return_mean[persona], 10.0)
    discount_rate = _beta_mean(rng, B.discount_mean[persona], 8.0)
    bracket_rate = _beta_mean(rng, B.bracket_mean[persona], 12.0)
    favourite = _choice(rng, PERSONA_CATEGORY_MIX, persona)

    n_lines = 1 + rng.poisson(B.line_extra[o_persona] * line_mult[o_cust])
    l_order = np.repeat(np.arange(n_ord), n_lines)
    l_cust = o_cust[l_order]
    n_base = len(l_order)
    u = rng.random(n_base)
    from_favourite = rng.random(n_base) < 0.3
    product = np.where(
        from_favourite,
        cat.pick(u, favourite[l_cust], cat.category_cdf),
        cat.pick(u, persona[l_cust], cat.persona_cdf),
    )
    category = cat.category[product]
    # Size bracketing: an apparel/shoes line becomes 2-3 lines of the same product.
    bracketable = (category == APPAREL) | (category == SHOES)
    bracketed = bracketable & (rng.random(n_base) < bracket_rate[l_cust])
    copies = np.where(bracketed, 2 + (rng.random(n_base) < 0.4), 1)
    src = np.repeat(np.arange(n_base), copies)
    copy_index = _position_in_group(copies)
    l_order, l_cust, product, category = l_order[src], l_cust[src], product[src], category[src]
    bracketed = bracketed[src]
    n_line = len(src)
    lines_per_order = np.bincount(l_order, minlength=n_ord)
    line_number = (_position_in_group(lines_per_order) + 1).astype(np.int32)
    l_persona = persona[l_cust]

    extra_qty = CATEGORY_EXTRA_QTY[category] + B.extra_qty[l_persona]
    quantity = np.where(bracketed, 1, 1 + rng.poisson(extra_qty)).astype(np.int32)
    list_cents = cat.price_cents[product]
    drift = rng.random(n_line) < 0.08  # a price change since the catalogue snapshot
    unit_cents = np.where(
        drift, np.round(list_cents * rng.uniform(0.85, 1.08, n_line)), list_cents
    ).astype(np.int64)
    gross_cents = unit_cents * quantity
    l_ts = o_ts[l_order]
    in_black_week = _is_black_week(l_ts)
    p_discount = np.minimum(discount_rate[l_cust] + 0.2 * in_black_week, 0.97)
    discounted = rng.random(n_line) < p_discount
    depth = rng.uniform(B.depth_low[l_persona], B.depth_high[l_persona])
    discount_cents = np.where(discounted, np.round(gross_cents * depth), 0).astype(np.int64)
    order_items = pa.table(
        {
            "order_id": _string_ids("O", order_no[l_order]),
            "line_number": pa.array(line_number, pa.int32()),
            "product_id": cat.table.column("product_id").combine_chunks().take(product),
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": _money(unit_cents),
            "discount_amount": _money(discount_cents),
        },
        schema=SCHEMAS["order_items"],
    )

    # ---- returns -----------------------------------------------------------------------------
    p_return = np.minimum(return_rate[l_cust] * CATEGORY_RETURN_FACTOR[category], 0.95)
    p_return = np.where(bracketed & (copy_index > 0), 0.92, p_return)
    returned = (status[l_order] == DELIVERED) & (rng.random(n_line) < p_return)
    returned_at = (
        l_ts
        + rng.integers(2 * SECONDS_PER_DAY, 6 * SECONDS_PER_DAY, n_line)  # delivery
        + (rng.exponential(9.0, n_line) * SECONDS_PER_DAY).astype(np.int64)  # decision
    )
    returned &= returned_at < cal.end_second  # not yet back by the end date
    r_line = np.flatnonzero(returned)
    n_ret = len(r_line)
    r_qty_full = quantity[r_line]
    partial = rng.random(n_ret) < 0.2
    r_qty = np.where(
        partial, 1 + (rng.random(n_ret) * r_qty_full).astype(np.int32), r_qty_full
    ).astype(np.int32)
    r_qty = np.minimum(r_qty, r_qty_full)
    net_cents = gross_cents[r_line] - discount_cents[r_line]
    refund_cents = np.round(net_cents * r_qty / r_qty_full).astype(np.int64)
    refund_kind = rng.random(n_ret)
    restocking = refund_kind > 0.96
    refund_cents = np.where(
        restocking, np.round(refund_cents * rng.uniform(0.5, 0.9, n_ret)), refund_cents
    ).astype(np.int64)
    refund_valid = refund_kind >= 0.07  # 7% missing: computed downstream
    r_cat = category[r_line]
    reason_group = np.where(
        bracketed[r_line] & (copy_index[r_line] > 0),
        0,
        np.where((r_cat == APPAREL) | (r_cat == SHOES), 1, np.where(r_cat == ELECTRONICS, 2, 3)),
    )
    reason = _choice(rng, REASON_MIX, reason_group)
    reason_null = reason == len(REASONS)
    return_no = offsets.ret + 1 + np.arange(n_ret, dtype=np.int64)
    returns = pa.table(
        {
            "return_id": _string_ids("R", return_no),
            "order_id": order_items.column("order_id").combine_chunks().take(r_line),
            "line_number": pa.array(line_number[r_line], pa.int32()),
            "quantity": pa.array(r_qty, pa.int32()),
            "returned_at": _timestamps(returned_at[r_line]),
            "reason": _labels(REASONS, np.minimum(reason, len(REASONS) - 1), reason_null),
            "refund_amount": _money(refund_cents, refund_valid),
        },
        schema=SCHEMAS["returns"],
    )

    # ---- sessions ----------------------------------------------------------------------------
    # (a) the session in which most orders were placed, shortly before the order.
    has_session = rng.random(n_ord) < 0.92
    s1_order = np.flatnonzero(has_session)
    s1_cust = o_cust[s1_order]
    s1_ts = o_ts[s1_order] - rng.integers(60, 75 * 60, len(s1_order))
    s1_items = lines_per_order[s1_order]
    s1_product_views = s1_items + rng.poisson(4.0, len(s1_order))
    s1_cart_adds = s1_items + rng.poisson(0.4, len(s1_order))
    s1_pages = s1_product_views + 3 + rng.poisson(4.0, len(s1_order))
    # (b) browsing sessions without a purchase, around each customer's active period.
    n_browse = rng.poisson(B.browse_sessions[persona])
    first_day = cal.seconds_to_day(first_ts)
    last_day = cal.seconds_to_day(last_ts)
    signup_day = np.clip(cal.seconds_to_day(signup), 0, D - 1)
    b_lo = np.where(has_orders, np.maximum(first_day - 30, 0), signup_day)
    b_hi = np.where(has_orders, np.minimum(last_day + 60, D), D)
    s2_cust = np.repeat(np.arange(n), n_browse)
    s2_ts = cal.sample(rng, b_lo[s2_cust], np.maximum(b_hi[s2_cust], b_lo[s2_cust] + 1))
    # (c) anonymous sessions (about one per customer).
    n_anon = int(rng.poisson(1.0 * n))
    s3_ts = cal.sample(rng, np.zeros(n_anon), np.full(n_anon, float(D)))
    n2 = len(s2_cust) + n_anon
    s23_product_views = rng.poisson(2.5, n2)
    s23_pages = s23_product_views + 1 + rng.poisson(2.0, n2)
    s23_cart_adds = np.minimum(rng.poisson(0.25, n2), s23_product_views)

    s_cust = np.concatenate([s1_cust, s2_cust, np.full(n_anon, -1)])
    s_ts = np.concatenate([s1_ts, s2_ts, s3_ts])
    s_ts = np.minimum(s_ts, cal.end_second - 1)
    keep_device = rng.random(len(s_cust)) < 0.75
    s_device = np.where(
        keep_device & (s_cust >= 0),
        preferred_device[np.maximum(s_cust, 0)],
        rng.choice(len(DEVICES), size=len(s_cust), p=DEVICE_SHARE),
    )
    s_pages = np.concatenate([s1_pages, s23_pages]).astype(np.int32)
    s_product_views = np.concatenate([s1_product_views, s23_product_views]).astype(np.int32)
    s_cart_adds = np.concatenate([s1_cart_adds, s23_cart_adds]).astype(np.int32)
    # The sales channel follows the device of the ordering session; orders without a web
    # session came from a marketplace or by phone.
    o_device = np.full(n_ord, -1)
    o_device[s1_order] = s_device[: len(s1_order)]
    r = rng.random(n_ord)
    sales_channel = np.where(
        o_device < 0,
        np.where(r < 0.7, 2, 3),
        np.where(
            (o_device == 0) & (r < 0.6) | (o_device == 2) & (r < 0.3),
            1,
            0,
        ),
    )
    orders = pa.table(
        {
            "order_id": _string_ids("O", order_no),
            "customer_id": customer_ids.take(o_cust),
            "ordered_at": _timestamps(o_ts),
            "status": _labels(STATUSES, status),
            "sales_channel": _labels(SALES_CHANNELS, sales_channel),
        },
        schema=SCHEMAS["orders"],
    )
    s_order = np.argsort(s_ts, kind="stable")
    s_cust = s_cust[s_order]
    anonymous = s_cust < 0
    session_no = offsets.session + 1 + np.arange(len(s_ts), dtype=np.int64)
    sessions = pa.table(
        {
            "session_id": _string_ids("S", session_no),
            "customer_id": customer_ids.take(pa.array(np.maximum(s_cust, 0), mask=anonymous)),
            "started_at": _timestamps(s_ts[s_order]),
            "page_views": pa.array(s_pages[s_order], pa.int32()),
            "product_views": pa.array(s_product_views[s_order], pa.int32()),
            "cart_adds": pa.array(s_cart_adds[s_order], pa.int32()),
            "device": _labels(DEVICES, s_device[s_order]),
        },
        schema=SCHEMAS["sessions"],
    )
    personas = pa.table(
        {"customer_id": customer_ids, "persona": _labels(PERSONAS, persona)},
        schema=PERSONA_SCHEMA,
    )
    return {
        "customers": customers,
        "orders": orders,
        "order_items": order_items,
        "returns": returns,
        "sessions": sessions,
        "personas": personas,
    }


def _is_black_week(seconds: np.ndarray) -> np.ndarray:
    """True for timestamps between 22 and 30 November (Black Friday to Cyber Monday)."""
    days = (seconds // SECONDS_PER_DAY).astype("datetime64[D]")
    month_start = days.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12
    day_of_month = (days - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return (month == 10) & (day_of_month >= 22)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def existing_contract_files(out_dir: Path) -> list[Path]:
    """Raw contract files (``<table>.parquet``, ``<table>.csv`` or a batch folder
    ``<table>/``) already in ``out_dir``."""
    return [
        out_dir / f"{table}{ext}"
        for table in TABLES
        for ext in (".parquet", ".csv", "")
        if (out_dir / f"{table}{ext}").exists()
    ]


def generate(
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    out_dir: str | os.PathLike[str] = "data/raw",
    truth_dir: str | os.PathLike[str] = "data/truth",
    end_date: dt.date = DEFAULT_END_DATE,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the six raw tables to ``out_dir`` and ``personas.parquet`` to ``truth_dir``.

    Returns the number of rows written per raw table. Output depends only on ``customers``,
    ``seed``, ``end_date`` and ``chunk_size``. Raises ``FileExistsError`` if ``out_dir``
    already holds contract files and ``force`` is false, and ``ValueError`` for bad arguments
    (including a truth folder inside the raw folder, which would leak the answer to models).
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    out = Path(out_dir)
    truth = Path(truth_dir)
    out_abs, truth_abs = out.resolve(), truth.resolve()
    if truth_abs == out_abs or out_abs in truth_abs.parents:
        raise ValueError(f"truth folder {truth} must be outside the raw folder {out}")
    existing = existing_contract_files(out)
    if existing and not force:
        names = ", ".join(p.name for p in existing)
        raise FileExistsError(
            f"{out} already contains raw files ({names}); use --force to overwrite them "
            "or choose an empty --out folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)

    root = np.random.SeedSequence(seed)
    cal = _Calendar.build(end_date)
    catalogue = _build_catalogue(np.random.default_rng(root.spawn(1)[0]))
    tag = f".tmp-{os.getpid()}"
    targets = {t: out / f"{t}.parquet" for t in TABLES} | {"personas": truth / "personas.parquet"}
    temps = {t: p.with_name(p.name + tag) for t, p in targets.items()}
    schemas = SCHEMAS | {"personas": PERSONA_SCHEMA}
    writers: dict[str, pq.ParquetWriter] = {}
    rows = dict.fromkeys(TABLES, 0)
    started = time.perf_counter()
    try:
        for t, path in temps.items():
            writers[t] = pq.ParquetWriter(path, schemas[t], compression="zstd")
        writers["products"].write_table(catalogue.table)
        rows["products"] = catalogue.table.num_rows
        offsets = _Offsets()
        n_chunks = -(-customers // chunk_size)
        for k in range(n_chunks):
            n = min(chunk_size, customers - k * chunk_size)
            chunk_seed = np.random.SeedSequence(seed, spawn_key=(1, k))
            tables = _generate_chunk(np.random.default_rng(chunk_seed), n, offsets, cal, catalogue)
            for t, table in tables.items():
                writers[t].write_table(table, row_group_size=1_000_000)
                if t in rows:
                    rows[t] += table.num_rows
            offsets = _Offsets(
                customer=offsets.customer + n,
                order=offsets.order + tables["orders"].num_rows,
                ret=offsets.ret + tables["returns"].num_rows,
                session=offsets.session + tables["sessions"].num_rows,
            )
            elapsed = time.perf_counter() - started
            say(
                f"customers {offsets.customer}/{customers}  orders {rows['orders']}  "
                f"lines {rows['order_items']}  returns {rows['returns']}  "
                f"sessions {rows['sessions']}  {elapsed:.1f}s"
            )
        for writer in writers.values():
            writer.close()
        writers.clear()
        if force:
            for stale in existing:
                # a csv or batch folder next to the new parquet would be ambiguous
                if stale.is_dir():
                    shutil.rmtree(stale)
                elif stale.suffix == ".csv":
                    stale.unlink()
        for t in temps:
            os.replace(temps[t], targets[t])
    finally:
        for writer in writers.values():
            writer.close()
        for path in temps.values():
            path.unlink(missing_ok=True)
    return rows


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no daily batches) or more: {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``segmentation generate``."""
    parser.add_argument(
        "--customers", type=int, default=DEFAULT_CUSTOMERS, help="number of customers"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--out", default="data/raw", help="raw folder to write (created)")
    parser.add_argument(
        "--truth",
        default="data/truth",
        help="folder for personas.parquet, the planted answer (must be outside --out)",
    )
    parser.add_argument(
        "--end",
        type=_date,
        default=DEFAULT_END_DATE,
        help=f"last day of history, YYYY-MM-DD (default {DEFAULT_END_DATE}); "
        f"{HISTORY_YEARS} years of data end on this day",
    )
    parser.add_argument("--force", action="store_true", help="overwrite raw files already in --out")
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help="customers generated per chunk; bounds memory (output depends on it)",
    )
    parser.add_argument(
        "--split-at",
        type=_date,
        action="append",
        default=[],
        metavar="DATE",
        help="then write every table as a folder <table>/ of batch files, a new batch landing "
        "on DATE (repeatable); see docs/incremental.md",
    )
    parser.add_argument(
        "--daily",
        type=_days,
        default=0,
        metavar="N",
        help="then write batch folders whose last N batches are one day each (with "
        "--split-at: both)",
    )
    parser.add_argument(
        "--defects",
        action="store_true",
        help="then plant every catalogued row-level defect (docs/data-quality.md) and write "
        "the defect manifest to <truth>/defects.json",
    )


def main(args: argparse.Namespace) -> int:
    """Run the generator from parsed CLI arguments; 0 on success, 2 on a usage error."""

    def say(message: str) -> None:
        print(f"generate: {message}", file=sys.stderr, flush=True)

    from segmentation.batches import batch_boundaries

    try:
        days = batch_boundaries(args.end, getattr(args, "split_at", []), getattr(args, "daily", 0))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        rows = generate(
            customers=args.customers,
            seed=args.seed,
            out_dir=args.out,
            truth_dir=args.truth,
            end_date=args.end,
            chunk_size=args.chunk_size,
            force=args.force,
            progress=say,
        )
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{table} {count:,}" for table, count in rows.items())
    say(f"wrote {summary} to {args.out} in {time.perf_counter() - started:.1f}s")
    say(f"personas written to {Path(args.truth) / 'personas.parquet'}")
    if getattr(args, "defects", False):
        from segmentation.defects import MANIFEST_NAME, apply_after_generate

        planted = apply_after_generate(args.out, args.truth)
        say(f"planted {planted} defects; manifest {Path(args.truth) / MANIFEST_NAME}")
    if days:
        from segmentation.batches import split_into_batches

        split_into_batches(args.out, days, args.end, progress=say)
        say(f"wrote {len(days) + 1} batches per table into {args.out}/<table>/")
    return 0

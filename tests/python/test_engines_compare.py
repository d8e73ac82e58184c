"""The comparison the DuckDB-vs-Spark test relies on (tests/python/engines.py) tells apart
what the issue asks to be equal: keys and integers exactly, money to the cent, doubles to
about 1e-9 relative."""

from __future__ import annotations

import decimal

import pandas as pd
from engines import differences


def frame(**columns):
    return pd.DataFrame(columns)


def test_large_integers_must_be_equal_to_the_last_digit():
    assert differences(frame(n=[1_234_567_890_123]), frame(n=[1_234_567_890_124]))
    assert not differences(frame(n=[1_234_567_890_123]), frame(n=[1_234_567_890_123.0]))


def test_an_integer_column_with_nulls_compares_with_its_integers():
    assert not differences(frame(n=[3, None]), frame(n=pd.array([3, None], dtype="Int64")))


def test_money_differs_by_a_cent_and_doubles_agree_to_nine_digits():
    dec = decimal.Decimal
    assert differences(frame(m=[dec("27.11")]), frame(m=[dec("27.12")]))
    assert not differences(frame(m=[dec("27.12")]), frame(m=[27.12]))
    assert not differences(frame(x=[0.1 + 0.2]), frame(x=[0.3]))
    assert differences(frame(x=[0.30001]), frame(x=[0.3]))
    # rounded to 9 decimals (stable_double) one unit apart: the same value before rounding
    assert not differences(frame(x=[0.739644657]), frame(x=[0.739644656]))
    assert differences(frame(x=[0.739644658]), frame(x=[0.739644656]))


def test_rows_are_multisets_and_columns_must_match():
    assert differences(frame(a=[1, 1]), frame(a=[1]))
    assert not differences(frame(a=[1, 2], b=["x", "y"]), frame(b=["y", "x"], a=[2, 1]))
    assert differences(frame(a=[1]), frame(b=[1]))


def test_doubles_within_1e_9_relative_pair_up_across_a_rounding_edge():
    edge = 1.234565  # 6 significant digits round it one way, a hair below it the other
    left = frame(k=["a", "b"], x=[edge, 2.0])
    right = frame(k=["b", "a"], x=[2.0, edge * (1 - 5e-10)])
    assert not differences(left, right)
    assert differences(left, frame(k=["b", "a"], x=[2.0, edge * (1 - 5e-9)]))
    big = 123456.789
    assert not differences(frame(x=[big]), frame(x=[big * (1 + 5e-10)]))
    assert differences(frame(x=[big]), frame(x=[big * (1 + 5e-9)]))

"""Disclosure control of released counts: suppression, midpoint-6 and nearest-5 rounding."""

from __future__ import annotations

import math

import pytest

from everyfamily.privacy.disclosure import (
    released_count,
    released_text,
    round_midpoint6,
    round_nearest5,
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0), (1, 3), (6, 3), (7, 9), (12, 9), (13, 15), (117, 117), (120, 117), (121, 123)],
)
def test_midpoint6(n: int, expected: int) -> None:
    assert round_midpoint6(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0), (2, 0), (3, 5), (12, 10), (13, 15), (125, 125), (127, 125), (128, 130)],
)
def test_nearest5(n: int, expected: int) -> None:
    assert round_nearest5(n) == expected


def test_counts_at_or_below_the_threshold_are_suppressed_then_rounded() -> None:
    assert [released_count(n) for n in (0, 7, 8, 13)] == [None, None, 9, 15]
    assert released_count(8, rounding="nearest5") == 10
    assert released_count(8, suppress_at_or_below=10) is None
    assert released_count(11, rounding="none", suppress_at_or_below=0) == 11
    assert released_count(None) is None and released_count(math.nan) is None
    assert released_count(16.6) == 15  # an expected count: 17 children, block 13-18


def test_released_text() -> None:
    assert released_text(1240) == "1,239"
    assert released_text(5) == "fewer than 8"
    assert released_text(5, suppress_at_or_below=2) == "3"


def test_negative_counts_and_unknown_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        released_count(-1)
    with pytest.raises(ValueError, match="unknown rounding"):
        released_count(20, rounding="banker")  # type: ignore[arg-type]


def test_counts_from_the_released_table_are_not_rounded_again_under_cell_key() -> None:
    """Under the cell key method a count read from the released reach table is shown as
    released (the dashboard and reach.csv show the same); a count of 1-7 still is not.
    Under suppression and rounding it is rounded (idempotent on a rounded count)."""
    import pandas as pd

    from everyfamily.report.build import ReportInputs, table_count

    ck = ReportInputs(reach=pd.DataFrame(), findings={}, title="t", reference_date="d")
    assert ck.release_method == "cell_key"
    assert table_count(10013, ck) == "10,013" and table_count(0, ck) == "0"
    assert table_count(5, ck) == "fewer than 8"
    sr = ReportInputs(
        reach=pd.DataFrame(),
        findings={},
        title="t",
        reference_date="d",
        release_method="suppress_round",
    )
    assert table_count(10013, sr) == "10,011"  # 6 * ceil(10013 / 6) - 3
    assert table_count(10011, sr) == "10,011"

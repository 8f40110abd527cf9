"""The tests and the misclassification correction on hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from everyfamily.communities.adjust import adjust_counts, adjusted_interval
from everyfamily.communities.detect import baseline_p, best_split, growth_p
from everyfamily.communities.groups import (
    group_from_country,
    group_from_ethnicity,
    group_from_language,
)
from everyfamily.communities.signals import assign_groups, child_names


def test_growth_p_hand_computed() -> None:
    # 8 recent and 1 earlier birth in equal exposure: P(X >= 8 | Bin(9, 1/2)) = (9 + 1) / 512
    assert growth_p(8, 1, 100, 100) == pytest.approx(10 / 512)
    # exposure 1:3, all 3 births recent: (1/4)^3
    assert growth_p(3, 0, 10, 30) == pytest.approx(1 / 64)
    assert growth_p(0, 0, 10, 10) == 1.0


def test_baseline_p_hand_computed() -> None:
    # P(X >= 2 | Bin(3, 1/2)) = (3 + 1) / 8
    assert baseline_p(2, 3, 0.5) == pytest.approx(0.5)
    # P(X >= 1 | Bin(2, 0.1)) = 1 - 0.81
    assert baseline_p(1, 2, 0.1) == pytest.approx(0.19)
    assert baseline_p(0, 10, 0.1) == 1.0


def test_best_split_pays_for_the_scan() -> None:
    x = np.array([4, 4, 0])  # births of the group: most recent year first
    t = np.array([10, 10, 10])
    g = best_split(x, t)
    # split 2: 8 recent, 0 earlier, exposure 20 vs 10 -> (2/3)^8; split 1: 4 of 8 in 1/3
    p2 = (2 / 3) ** 8
    assert g.split == 2 and g.recent == 8 and g.earlier == 0
    assert g.p_value == pytest.approx(min(1.0, 2 * p2))
    assert math.isinf(g.rate_ratio)


def test_misclassification_adjustment_hand_example() -> None:
    # two groups; 10% of group A read as B, 20% of B read as A. True (100, 20) gives
    # predicted (0.9*100 + 0.2*20, 0.1*100 + 0.8*20) = (94, 26).
    m = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert adjust_counts(np.array([94.0, 26.0]), m) == pytest.approx([100.0, 20.0])
    # the naive count of B (26) overstates it by 30%; the corrected one does not
    confusion = np.array([[900, 100], [200, 800]])
    est, lo, hi = adjusted_interval(np.array([94.0, 26.0]), confusion, direct=np.array([0, 5]))
    assert est == pytest.approx([100.0, 25.0])
    assert (lo <= est + 1e-9).all() and (est <= hi + 1e-9).all() and hi[1] > lo[1]


def test_signal_tables() -> None:
    assert group_from_country("Romania") == "romanian"
    assert group_from_country("POL") == "polish"
    assert group_from_country("United Kingdom") is None
    assert group_from_country("Peru") == "other"
    assert group_from_language("Lithuanian") == "baltic"
    assert group_from_language("English") is None
    assert group_from_ethnicity("white_other") is None
    assert group_from_ethnicity("asian_chinese") == "chinese"


class _StubModel:
    """A name model that answers from a table (the real one is tested above)."""

    def predict_many(self, given: list, surname: list) -> list:
        return ["polish" if s == "Nowak" else None for s in surname]


def test_signals_combine_in_order() -> None:
    children = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d", "e"],
            "mother_country_of_birth": ["Romania", "United Kingdom", None, None, None],
            "main_language": ["Polish", "Polish", "English", None, None],
            "ethnicity": ["white_other", None, "asian_chinese", "white_other", None],
        }
    )
    names = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d", "e"],
            "given_name": ["x"] * 5,
            "surname": ["Nowak"] * 4 + ["Smith"],
        }
    )
    out = assign_groups(children, names, _StubModel())  # type: ignore[arg-type]
    assert out["origin_group"].tolist() == ["romanian", "polish", "chinese", "polish", None]
    assert out["basis"].tolist() == ["country_of_birth", "language", "ethnicity", "name", None]
    # a source without a signal column at all is not an error
    only_names = assign_groups(children[["person_id"]], names, _StubModel())  # type: ignore[arg-type]
    assert only_names["basis"].tolist() == ["name"] * 4 + [None]


def test_child_names_prefer_the_most_frequent_then_universal() -> None:
    records = pd.DataFrame(
        {
            "person_id": ["p", "p", "p", "q"],
            "service_type": ["targeted", "universal", "targeted", "targeted"],
            "first_name": ["Ana", "Anna", "Ana", None],
            "last_name": ["Pop", "Popa", "Pop", "Lee"],
        }
    )
    names = child_names(records).set_index("person_id")
    assert names.loc["p", "given_name"] == "Ana" and names.loc["p", "surname"] == "Pop"
    assert pd.isna(names.loc["q", "given_name"]) and names.loc["q", "surname"] == "Lee"

"""Secondary suppression on overlapping sums: it protects the suppressed cell without
spreading across the map (hand-worked example)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from everyfamily.privacy.disclosure import secondary_suppression

# Six small areas (cells 0-5); two wards W1 = 0+1+2 (cell 6) and W2 = 3+4+5 (7); three
# deprivation bands across the wards, D1 = 0+3 (8), D2 = 1+4 (9), D3 = 2+5 (10); the
# borough B = 0+...+5 (11). Every cell is an area total (keep 1), the borough's is worth
# most (keep 2).
VALUES = np.array([5, 30, 40, 35, 12, 50, 75, 97, 40, 42, 90, 172], dtype=float)
SUMS = {6: (0, 1, 2), 7: (3, 4, 5), 8: (0, 3), 9: (1, 4), 10: (2, 5), 11: (0, 1, 2, 3, 4, 5)}
KEEP = np.array([1] * 11 + [2])


def _relations(sums: dict[int, tuple[int, ...]]) -> pd.DataFrame:
    rows = []
    for r, (parent, kids) in enumerate(sums.items()):
        rows.append((r, parent, True))
        rows += [(r, k, False) for k in kids]
    return pd.DataFrame(rows, columns=["rel", "cell", "is_parent"])


def _lone(sup: np.ndarray, sums: dict[int, tuple[int, ...]]) -> list[int]:
    return [p for p, kids in sums.items() if sup[[p, *kids]].sum() == 1]


def test_a_suppressed_small_area_is_protected_through_its_parents() -> None:
    primary = np.zeros(12, dtype=bool)
    primary[0] = True  # a count of 5
    sup = secondary_suppression(primary, VALUES, _relations(SUMS), keep=KEEP)
    assert _lone(sup, SUMS) == []  # no sum gives a suppressed cell back
    # By hand: W1 and D1 hold cell 0 alone, so their parents go (cells 6, 8); the borough's
    # total is worth most, so B takes a sibling: the one that also mends W1 and D1 ... of
    # equal worth, the smallest of those mending two sums (cell 1, 30); cell 1 leaves D2
    # alone, which takes its parent (9).
    assert set(np.flatnonzero(sup)) == {0, 1, 6, 8, 9}
    assert not sup[11]  # the borough total stays


def test_identical_cells_are_suppressed_together() -> None:
    # An area with a single group: the group cell (12) IS the area total (cell 2).
    sums = {**SUMS, 2: (12,), 13: (12, 14)}  # 13: a band sum of group cells 12 and 14
    values = np.append(VALUES, [40, 40, 80, 40])
    keep = np.append(KEEP, [0, 0, 0, 0])
    primary = np.zeros(len(values), dtype=bool)
    primary[14] = True
    sup = secondary_suppression(primary, values, _relations(sums), keep=keep)
    assert _lone(sup, sums) == []
    # 13 holds 14 alone: its parent goes first (lowest worth, parent before siblings)
    assert sup[13] and not sup[12] and not sup[2]
    # and a suppressed group cell that is its area's total suppresses the total with it
    primary = np.zeros(len(values), dtype=bool)
    primary[12] = True
    sup = secondary_suppression(primary, values, _relations(sums), keep=keep)
    assert sup[12] and sup[2] and _lone(sup, sums) == []

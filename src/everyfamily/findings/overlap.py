"""How many unreached children two findings share (findings/engine.py merges them on it).

The children are rows of the restricted children table (one per child, by index) or the
engine's cells of unregistered children (``n`` children with the same small area and group
values: findings/stage.overlap_cells_sql); both give the same counts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: The unreached children a finding is about: the children table's rows (by index) with
#: the children each stands for (1 per child row; a cell's ``n``).
Unreached = dict[Any, int]


def weights(frame: pd.DataFrame) -> pd.Series:
    """Children per row: a cell's ``n``, or 1 per child."""
    if "n" in frame.columns:
        return frame["n"].astype("int64")
    return pd.Series(1, index=frame.index, dtype="int64")


def size(u: Unreached) -> int:
    return sum(u.values())


def common(a: Unreached, b: Unreached) -> int:
    """Children in both (a row counts its children once)."""
    return sum(min(a[k], b[k]) for k in a.keys() & b.keys())


def overlap(a: Unreached | set[str] | None, b: Unreached | set[str] | None) -> float:
    """Share of the smaller in both: of children (:data:`Unreached`) or of areas (sets)."""
    if not a or not b:
        return 0.0
    ca = a if isinstance(a, dict) else dict.fromkeys(a, 1)
    cb = b if isinstance(b, dict) else dict.fromkeys(b, 1)
    return common(ca, cb) / min(size(ca), size(cb))

"""What every page service returns: :class:`Table` (shown on a page, exported as CSV or
Excel), the two request errors a page service raises, and how a released value reads.

Values in a :class:`Table` are already released (disclosure control happened when the run
view was built, :mod:`everyfamily.web.release`); nothing here counts or rounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd


class NotFound(LookupError):
    """No such area, centre or table (the route answers 404 without detail)."""


class BadRequest(ValueError):
    """A query parameter has a value the dashboard does not know (400, with the choices)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | count | rate | number | km


@dataclass(frozen=True)
class Table:
    """A table as shown on a page and exported (CSV/Excel). Values are already released."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    note: str = ""
    export: str = ""  # query string of the export link (the table's parameters)
    links: dict[str, str] = field(default_factory=dict)  # column key -> row key of its URL
    #: Columns only in the downloads, not on the page (a wide person-level list keeps what
    #: a visit needs on screen; analysis columns stay in the CSV and Excel files).
    download_only: frozenset[str] = frozenset()
    #: Columns only on the page: one cell joining two download columns (a name from first
    #: and last name); the downloads and the API keep the parts.
    page_only: frozenset[str] = frozenset()

    def for_download(self) -> Table:
        """The table as the downloads and the API give it: without its page-only columns."""
        if not self.page_only:
            return self
        return replace(self, columns=tuple(c for c in self.columns if c.key not in self.page_only))

    def records(self) -> list[dict[str, Any]]:
        return [{c.key: r.get(c.key) for c in self.columns} for r in self.rows]


def clean(v: Any) -> Any:
    """A value as JSON can hold it: None for NaN/NA, plain int and float for numpy's."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def number_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as numbers (NaN where empty or absent)."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.Series(pd.to_numeric(frame[column], errors="coerce"), index=frame.index)


def pct(v: Any) -> str:
    v = clean(v)
    return "suppressed" if v is None else f"{100 * float(v):.1f}%"


def one_page(frame: pd.DataFrame, page: int, page_size: int) -> tuple[pd.DataFrame, int, int, int]:
    """Rows of ``page`` (clamped to the pages there are), the number of rows and of pages."""
    total = len(frame)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    return frame.iloc[(page - 1) * page_size : page * page_size], total, page, pages


def format_value(value: Any, kind: str) -> str:
    """How a released value reads on a page."""
    v = clean(value)
    if kind == "count":
        return "suppressed" if v is None else f"{int(v):,}"
    if kind == "rate":
        return "–" if v is None else f"{100 * float(v):.1f}%"
    if kind == "km":
        return "" if v is None else f"{float(v):.2f}"
    if kind == "number":
        if v is None:
            return ""
        if isinstance(v, float) and not float(v).is_integer():
            return f"{v:.2g}" if abs(v) < 0.01 else f"{v:.3f}"
        return f"{v}"
    return "" if v is None else str(v)

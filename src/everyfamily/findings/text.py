"""Plain-English pieces of headlines: area names, group phrases, percentages and counts.

Counts in headlines pass through :mod:`everyfamily.privacy.disclosure` (suppression, the
complement rule, rounding: the rules of the reach release), and every percentage shown is
computed FROM those released counts (:func:`share`), so "36% of 255" is 36% of the 255
shown, and no number in a headline undoes the rounding of another.

With the released reach table at hand (:class:`ReleasedTable`, ``FindingsSettings.
released_table``; the find stage always sets it), every count a reach finding shows is a
sum or difference of released cells (:func:`table_pair`, :func:`table_rest`,
:func:`affected`, :func:`excess`), under either release method: released values are
post-processed, never recomputed from exact counts, so a finding cannot narrow a cell the
table withholds or perturbs (issue 15). Such counts are :class:`ReleasedCount`: releasing
them again (the findings.json contract releases every count) leaves them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from everyfamily.findings.model import NOT_A_GROUP, FindingsSettings
from everyfamily.privacy.disclosure import (
    SUPPRESSED_TEXT,
    released_count,
    released_part,
    released_rate,
    released_text,
)
from everyfamily.schema import ETHNICITY_2021

if TYPE_CHECKING:
    import pandas as pd

_REGION_LABELS: dict[str, str] = {
    "uk": "the UK",
    "ireland": "Ireland",
    "eu14": "the EU14 countries",
    "eu8": "the EU8 countries",
    "eu2": "Romania or Bulgaria (EU2)",
    "other_europe": "elsewhere in Europe",
    "south_asia": "South Asia",
    "middle_east_north_africa": "the Middle East or North Africa",
    "sub_saharan_africa": "sub-Saharan Africa",
    "east_asia": "East Asia",
    "other": "elsewhere in the world",
}


def pct(rate: float) -> str:
    """A rate on the 0-1 scale as a whole percentage ('29%'); 'n/a' when undefined."""
    if rate is None or not math.isfinite(rate):
        return "n/a"
    return f"{100 * rate:.0f}%"


class ReleasedCount(int):
    """A count computed only from released counts (cells of the released reach table, their
    sums and differences). Releasing it again changes nothing (:func:`released`), except that
    a derived count of ``1..suppress_at_or_below`` is still not shown. Sums stay released
    counts; a sum with a :class:`WithheldCount` is withheld."""

    def __add__(self, other: object) -> int:
        if isinstance(other, WithheldCount):
            return WithheldCount(int(self) + int(other))
        if isinstance(other, ReleasedCount):
            return ReleasedCount(int(self) + int(other))
        return int(self) + other if isinstance(other, int) else NotImplemented

    __radd__ = __add__


class WithheldCount(int):
    """An exact count that may not be released (it would give a withheld cell back): kept
    for ranking, released as nothing (:func:`released` returns None)."""

    def __add__(self, other: object) -> int:
        return WithheldCount(int(self) + int(other)) if isinstance(other, int) else NotImplemented

    __radd__ = __add__


def count(n: float, settings: FindingsSettings) -> str:
    """A count as released (suppressed or rounded per the project's privacy settings)."""
    if isinstance(n, WithheldCount):
        return WITHHELD_TEXT
    if isinstance(n, ReleasedCount):
        value = released(n, settings)
        return (
            f"{value:,}"
            if value is not None
            else SUPPRESSED_TEXT.format(limit=settings.suppress_at_or_below + 1)
        )
    return released_text(
        n, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )


#: What a count suppressed by the complement rule reads as (it is not small: "fewer than 8"
#: would be false).
WITHHELD_TEXT = "a number not released"
#: What a percentage of a suppressed count reads as.
RATE_WITHHELD_TEXT = "rate not released"

#: Steps a rate may be rounded to when its sum holds a suppressed cell (see coarse_rate).
COARSE_STEPS: tuple[float, ...] = (0.05, 0.10)


def coarse_rate(
    part: float, whole: float, released_whole: int | None, settings: FindingsSettings
) -> float:
    """The rate ``part / whole`` of a sum whose count may not be released (it holds a
    suppressed small-area cell), rounded to a 5% or 10% step so coarse that it cannot give
    the cell back: half a step of the (released) whole must be more than twice the
    suppression threshold, so the count the rate implies is uncertain by more than any
    suppressed count could be (a 5% step needs over 640 children with the default 7).
    NaN when even a 10% step is too fine."""
    if released_whole is None or not whole or not math.isfinite(part / whole):
        return math.nan
    hidden = 2 * (settings.suppress_at_or_below + 1)
    for step in COARSE_STEPS:
        if step / 2 * released_whole > hidden:
            return round(part / whole / step) * step
    return math.nan


def released(n: float | None, settings: FindingsSettings) -> int | None:
    """A count as released (None when suppressed), per the project's privacy settings.

    A :class:`ReleasedCount` is already released and comes back as it is (None when it is
    ``1..suppress_at_or_below``: counts that small are never shown); a
    :class:`WithheldCount` comes back as None; any other count is an exact count, suppressed
    and rounded (:func:`everyfamily.privacy.disclosure.released_count`)."""
    if isinstance(n, WithheldCount):
        return None
    if isinstance(n, ReleasedCount):
        return None if 1 <= n <= settings.suppress_at_or_below else n
    value = released_count(
        n, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )
    return None if value is None else ReleasedCount(value)


def released_pair(
    part: float, whole: float, settings: FindingsSettings
) -> tuple[int | None, int | None]:
    """A count and its group as released together (complement rule included)."""
    return released_part(
        part, whole, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )


#: A reach-table cell: level, area_code, dimension, group_value, service.
Cell = tuple[str, str, str, str, str]


def withheld(settings: FindingsSettings, cells: list[Cell], column: str) -> bool:
    """Does the released reach table suppress ``column`` of any of these cells?"""
    return any((*cell, column) in settings.withheld for cell in cells)


def released_cells(
    part: float,
    whole: float,
    settings: FindingsSettings,
    cells: list[Cell],
    part_column: str,
    whole_column: str = "denominator",
) -> tuple[int | None, int | None]:
    """:func:`released_pair` for counts that are the sum of these reach-table cells: a
    count is also suppressed when the released reach table suppresses it in any of them (a
    sum shown next to its other parts would give a suppressed cell back)."""
    shown_part, shown_whole = released_pair(part, whole, settings)
    if withheld(settings, cells, part_column):
        shown_part = None
    if withheld(settings, cells, whole_column):
        shown_whole = None
    return shown_part, shown_whole


#: A column of a reach-table cell: (level, area_code, dimension, group_value, service, column).
CellColumn = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class ReleasedTable:
    """The released reach table (``privacy.release.release_reach``) as a lookup: cell and
    column -> released count (None when withheld). Built once by the find stage."""

    values: Mapping[CellColumn, int | None] = field(default_factory=dict)
    #: (level, area_code, dimension, service) -> the group values of that dimension
    groups: Mapping[tuple[str, str, str, str], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, released: pd.DataFrame) -> ReleasedTable:
        """From the released reach table (counts NA where withheld)."""
        import pandas as pd

        keys = ["level", "area_code", "dimension", "group_value", "service"]
        k = released[keys].astype(str)
        values: dict[CellColumn, int | None] = {}
        for column in ("denominator", "known", "registered", "engaged"):
            if column not in released.columns:
                continue
            v = pd.to_numeric(released[column], errors="coerce")
            for cell, x in zip(k.itertuples(index=False, name=None), v, strict=True):
                values[(*cell, column)] = None if pd.isna(x) else round(float(x))
        groups: dict[tuple[str, str, str, str], list[str]] = {}
        for level, code, dim, value, service in k.itertuples(index=False, name=None):
            groups.setdefault((level, code, dim, service), []).append(value)
        return cls(values, {g: tuple(dict.fromkeys(v)) for g, v in groups.items()})

    def total(self, cells: Iterable[Cell], column: str) -> ReleasedCount | None:
        """The sum of ``column`` over ``cells`` as released: None when any cell is withheld
        or not in the table (or there are no cells)."""
        out, seen = 0, False
        for cell in cells:
            v = self.values.get((*cell, column))
            if v is None:
                return None
            out, seen = out + v, True
        return ReleasedCount(out) if seen else None

    def unknown_cells(self, level: str, code: str, dimension: str, service: str) -> list[Cell]:
        """The cells of a dimension's values that are no group (unknown, not stated ...)."""
        values = self.groups.get((level, code, dimension, service), ())
        return [
            (level, code, dimension, v, service) for v in values if v.strip().lower() in NOT_A_GROUP
        ]


def table_pair(
    part: float,
    whole: float,
    settings: FindingsSettings,
    cells: list[Cell],
    part_column: str,
    whole_column: str = "denominator",
) -> tuple[int | None, int | None]:
    """A count and its group, where both are the sum of these reach-table cells: the sums of
    the RELEASED cells when the released table is known (a numerator never above its
    whole), else :func:`released_cells` of the exact counts."""
    table = settings.released_table
    if table is None or not cells:
        return released_cells(part, whole, settings, cells, part_column, whole_column)
    p, w = table.total(cells, part_column), table.total(cells, whole_column)
    if p is not None and w is not None and p > w:
        p = w
    return p, w


def table_rest(
    part: float,
    whole: float,
    settings: FindingsSettings,
    group: Cell,
    total: Cell,
    part_column: str,
    whole_column: str = "denominator",
    fallback_cells: list[Cell] | None = None,
) -> tuple[int | None, int | None]:
    """ "Everyone else" in an area: the area's total minus the group minus the children whose
    value is unknown, all as released (see :func:`table_pair`); negative differences (noise
    of perturbed cells) read as 0. Without the released table, :func:`released_cells` of the
    exact counts over ``fallback_cells``."""
    table = settings.released_table
    if table is None:
        return released_cells(
            part, whole, settings, fallback_cells or [group, total], part_column, whole_column
        )
    level, code, dim, _value, service = group
    minus = [group, *table.unknown_cells(level, code, dim, service)]

    def rest(column: str) -> ReleasedCount | None:
        t = table.total([total], column)
        m = table.total(minus, column)
        return None if t is None or m is None else ReleasedCount(max(t - m, 0))

    p, w = rest(part_column), rest(whole_column)
    if p is not None and w is not None and p > w:
        p = w
    return p, w


def affected(
    shown_part: int | None, shown_whole: int | None, exact: float, settings: FindingsSettings
) -> int:
    """Children affected (the whole minus the part): from the released counts when the
    released table is known (a :class:`ReleasedCount`; a :class:`WithheldCount`, kept exact
    only for ranking, when either count is withheld), else the exact count (released by the
    rules when shown)."""
    if settings.released_table is None:
        return int(max(round(exact), 0))
    if shown_part is None or shown_whole is None:
        return WithheldCount(max(round(exact), 0))
    return ReleasedCount(max(shown_whole - shown_part, 0))


def excess_of(
    shown_whole: int | None,
    shown_part: int | None,
    rate: float,
    exact: float,
    settings: FindingsSettings,
) -> float:
    """Excess of unreached children over what ``rate`` predicts. With the released table:
    ``whole * rate - part`` of RELEASED counts and a rate of released counts, in whole
    children (a :class:`ReleasedCount`; :class:`WithheldCount` when a count is withheld);
    without it the exact excess (released by the rules when shown)."""
    if settings.released_table is None:
        return exact
    if shown_whole is None or shown_part is None or not math.isfinite(rate):
        return WithheldCount(max(round(exact), 0))
    return ReleasedCount(max(round(shown_whole * rate - shown_part), 0))


def expected_of(shown_whole: int | None, rate: float) -> int | None:
    """Expected children, ``whole * rate``, of a released count and a rate of released
    counts, in whole children (None when either is unknown)."""
    if shown_whole is None or not math.isfinite(rate):
        return None
    return ReleasedCount(round(shown_whole * rate))


def shown(exact: float, value: int | None, settings: FindingsSettings) -> str:
    """Text of a released count ``value`` (of the exact count ``exact``): '1,233', 'fewer
    than 8' when suppressed as small, :data:`WITHHELD_TEXT` when suppressed otherwise."""
    if isinstance(value, ReleasedCount) and 1 <= value <= settings.suppress_at_or_below:
        return SUPPRESSED_TEXT.format(limit=settings.suppress_at_or_below + 1)
    if value is not None:
        return f"{value:,}"
    if exact is not None and math.isfinite(exact) and exact <= settings.suppress_at_or_below:
        return SUPPRESSED_TEXT.format(limit=settings.suppress_at_or_below + 1)
    return WITHHELD_TEXT


def share(part: int | None, whole: int | None) -> str:
    """A percentage of RELEASED counts: '36%', or :data:`RATE_WITHHELD_TEXT`."""
    rate = released_rate(part, whole)
    return RATE_WITHHELD_TEXT if not math.isfinite(rate) else pct(rate)


def _pretty(value: str) -> str:
    return value.replace("_", " ").strip().title() if value.islower() else value


def group_phrase(dimension: str, value: str) -> str:
    """'under-fives whose main language is Romanian' and the like."""
    v = str(value)
    if dimension == "ethnicity":
        label = ETHNICITY_2021.get(v, (_pretty(v), ""))[0]
        return f"under-fives of {label} ethnicity"
    if dimension == "ethnicity_broad":
        return f"under-fives of {_pretty(v)} ethnicity (broad group)"
    if dimension == "main_language":
        return f"under-fives whose family's main language is {_pretty(v)}"
    if dimension == "mother_country_of_birth":
        return f"under-fives whose mother was born in {_pretty(v)}"
    if dimension == "mother_region_of_birth":
        return f"under-fives whose mother was born in {_REGION_LABELS.get(v, _pretty(v))}"
    if dimension in {"imd_decile", "idaci_decile"}:
        index = dimension.split("_")[0].upper()
        return f"under-fives in {index} decile {v} areas"
    if dimension in {"imd_quintile", "idaci_quintile"}:
        index = dimension.split("_")[0].upper()
        return f"under-fives in {index} quintile {v} areas"
    if dimension == "age_years":
        return f"children aged {v}"
    if dimension == "sex":
        return f"{v} under-fives"
    if dimension == "moved":  # a linkage-quality dimension: records at different addresses
        return {
            "yes": "under-fives whose records show a house move",
            "no": "under-fives whose records show no house move",
        }.get(v, "under-fives whose house moves are unknown")
    return f"under-fives with {dimension.replace('_', ' ')} {v}"


def areas_label(names: list[str], *, neighbours_word: str = "neighbouring") -> str:
    """'Halewood South', 'Halewood South and Halewood North', 'Halewood South and 3
    neighbouring areas'."""
    if not names:
        return "Unnamed area"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {len(names) - 1} {neighbours_word} areas"


#: How :class:`ReleasedCount` and :class:`WithheldCount` survive JSON (the candidate-findings
#: table between the access / communities stages and the find stage): JSON has no int
#: subclasses, and a released count read back as a plain int would be released AGAIN
#: (rounded: a perturbed cell would then read differently in findings.json and reach.csv).
_COUNT_TAGS: dict[str, type[int]] = {
    "__released_count__": ReleasedCount,
    "__withheld_count__": WithheldCount,
}


def tag_counts(node: object) -> object:
    """A JSON-safe copy of ``node`` in which every :class:`ReleasedCount` /
    :class:`WithheldCount` is a one-key mapping ({"__released_count__": 27});
    :func:`untag_counts` is the inverse."""
    if isinstance(node, ReleasedCount | WithheldCount):
        tag = "__released_count__" if isinstance(node, ReleasedCount) else "__withheld_count__"
        return {tag: int(node)}
    if isinstance(node, Mapping):
        return {k: tag_counts(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [tag_counts(v) for v in node]
    return node


def untag_counts(node: object) -> object:
    """The inverse of :func:`tag_counts`."""
    if isinstance(node, Mapping):
        if len(node) == 1:
            ((key, value),) = node.items()
            if key in _COUNT_TAGS and isinstance(value, int):
                return _COUNT_TAGS[key](value)
        return {k: untag_counts(v) for k, v in node.items()}
    if isinstance(node, list):
        return [untag_counts(v) for v in node]
    return node

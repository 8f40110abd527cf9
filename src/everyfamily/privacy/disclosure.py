"""Disclosure control for released counts: suppress small counts, then round.

A small pure module with named constants, in the manner of OpenSAFELY's (ehrQL) disclosure
control: counts at or below a threshold are suppressed (redacted), the rest are rounded.
Every count that leaves the restricted zone (report, findings headlines, dashboards) goes
through :func:`released_count`, so one later change here tightens every output.

Rules (DOMAIN.md, "Disclosure control conventions"):

- suppression: ``n <= suppress_at_or_below`` is not released (OpenSAFELY redacts 7 or fewer);
- ``midpoint6``: 0 stays 0; 1-6 -> 3; 7-12 -> 9; ... i.e. ``6 * ceil(n / 6) - 3``. Unbiased
  for counts spread evenly within each block, and keeps zeros distinguishable;
- ``nearest5``: round half up to the nearest multiple of 5 (OpenSAFELY's rounding);
- ``none``: released as counted (only for trusted settings; say so on the output).

Suppression alone is vulnerable to differencing (a total minus its shown parts), and
rounding alone does not always stop it (a total of 25 shown as 27 and one part of 18 shown as
15 pin a suppressed second part to exactly 7). So released tables also get:

- complement protection (:func:`primary_suppressed`): a numerator whose complement in its
  group (denominator - numerator) is small is suppressed too, because 0% or 100% of a group,
  or nearly so, tells something about every member (ONS SDC guidance on "class
  disclosure"; OpenSAFELY output checking asks for both sides of a proportion);
- secondary suppression (:func:`secondary_suppression`): in every additive relation
  (a total and its parts) either no cell or at least two cells are suppressed, so that no
  suppressed cell equals a released total minus released parts (ONS, "Disclosure control
  for tables": secondary suppression).

:func:`everyfamily.privacy.release.release_reach` applies all of it to the reach table.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: OpenSAFELY's default redaction threshold: counts of 7 or fewer are not released.
DEFAULT_SUPPRESS_AT_OR_BELOW = 7
#: Midpoint-6 rounding works in blocks of this size (1-6, 7-12, ...).
MIDPOINT6_BLOCK = 6
#: Nearest-5 rounding base.
NEAREST_BASE = 5
#: What a suppressed count is shown as in text.
SUPPRESSED_TEXT = "fewer than {limit}"

Rounding = Literal["midpoint6", "nearest5", "none"]


def round_midpoint6(n: int) -> int:
    """Midpoint-6 rounding: 0 -> 0; 1-6 -> 3; 7-12 -> 9; 13-18 -> 15 ..."""
    if n < 0:
        raise ValueError("counts are never negative")
    if n == 0:
        return 0
    return MIDPOINT6_BLOCK * math.ceil(n / MIDPOINT6_BLOCK) - MIDPOINT6_BLOCK // 2


def round_nearest5(n: int) -> int:
    """Round half up to the nearest multiple of 5: 2 -> 0, 3 -> 5, 12 -> 10, 13 -> 15."""
    if n < 0:
        raise ValueError("counts are never negative")
    return NEAREST_BASE * math.floor(n / NEAREST_BASE + 0.5)


def released_count(
    n: int | float | None,
    *,
    suppress_at_or_below: int = DEFAULT_SUPPRESS_AT_OR_BELOW,
    rounding: Rounding = "midpoint6",
) -> int | None:
    """The count as it may be released: ``None`` when suppressed, otherwise rounded.

    ``None``/NaN in gives ``None`` out (nothing to release). Non-integral input (an expected
    count) is rounded to the nearest whole child first.
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    value = round(float(n))
    if value < 0:
        raise ValueError("counts are never negative")
    if value <= suppress_at_or_below:
        return None
    if rounding == "midpoint6":
        return round_midpoint6(value)
    if rounding == "nearest5":
        return round_nearest5(value)
    if rounding == "none":
        return value
    raise ValueError(f"unknown rounding rule {rounding!r}: use midpoint6, nearest5 or none")


def released_text(
    n: int | float | None,
    *,
    suppress_at_or_below: int = DEFAULT_SUPPRESS_AT_OR_BELOW,
    rounding: Rounding = "midpoint6",
) -> str:
    """The released count as text for headlines: '1,236', or 'fewer than 8' when suppressed."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "unknown"
    value = released_count(n, suppress_at_or_below=suppress_at_or_below, rounding=rounding)
    if value is None:
        return SUPPRESSED_TEXT.format(limit=suppress_at_or_below + 1)
    return f"{value:,}"


def released_part(
    part: int | float | None,
    whole: int | float | None,
    *,
    suppress_at_or_below: int = DEFAULT_SUPPRESS_AT_OR_BELOW,
    rounding: Rounding = "midpoint6",
) -> tuple[int | None, int | None]:
    """A count and the group it is part of (registered of the children living there), as
    they may be released together: each by :func:`released_count`, and the part also
    suppressed when its complement (whole - part) is small, exactly or as the released
    counts show it (the scalar form of :func:`primary_suppressed`: 0% or 100% of a group,
    or nearly so, tells something about every member). ``(None, None)`` for unknowns."""
    shown_whole = released_count(
        whole, suppress_at_or_below=suppress_at_or_below, rounding=rounding
    )
    shown_part = released_count(part, suppress_at_or_below=suppress_at_or_below, rounding=rounding)
    if shown_part is None or whole is None or part is None:
        return shown_part, shown_whole
    rest = round(float(whole)) - round(float(part))
    if rest <= suppress_at_or_below or (
        shown_whole is not None and shown_whole - shown_part <= suppress_at_or_below
    ):
        shown_part = None
    return shown_part, shown_whole


def released_rate(part: int | None, whole: int | None) -> float:
    """A rate from RELEASED counts (never from exact ones, so it cannot undo their
    rounding): NaN when either is suppressed or the whole is 0."""
    if part is None or whole is None or whole <= 0:
        return math.nan
    return part / whole


def round_counts(values: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Vectorised rounding of whole counts (NaN stays NaN); the same rule as
    :func:`released_count` without the suppression, so it is deterministic: the same count
    is shown the same way in every release."""
    v = np.round(np.asarray(values, dtype="float64"))
    if np.nanmin(v, initial=0.0) < 0:
        raise ValueError("counts are never negative")
    if rounding == "midpoint6":
        blocks = np.ceil(v / MIDPOINT6_BLOCK)
        return np.where(v == 0, 0.0, MIDPOINT6_BLOCK * blocks - MIDPOINT6_BLOCK // 2)
    if rounding == "nearest5":
        return NEAREST_BASE * np.floor(v / NEAREST_BASE + 0.5)
    if rounding == "none":
        return v
    raise ValueError(f"unknown rounding rule {rounding!r}: use midpoint6, nearest5 or none")


def primary_suppressed(
    counts: np.ndarray,
    suppress_at_or_below: int,
    *,
    complement: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Cells that may not be released on their own: ``count <= suppress_at_or_below``, or,
    given ``complement = (exact, released)`` (the rest of the group, e.g. denominator -
    registered, exact and as the released counts would show it), a complement that small.

    Checking the complement of the released counts too keeps the rule idempotent: releasing
    a released table suppresses nothing new. Unknown (NaN) counts count as suppressed.
    """
    c = np.asarray(counts, dtype="float64")
    out = ~(c > suppress_at_or_below)
    if complement is not None:
        exact, shown = (np.asarray(a, dtype="float64") for a in complement)
        out |= exact <= suppress_at_or_below
        out |= shown <= suppress_at_or_below
    return np.asarray(out, dtype=bool)


def secondary_suppression(
    suppressed: np.ndarray, counts: np.ndarray, relations: pd.DataFrame
) -> np.ndarray:
    """Extend ``suppressed`` until no relation has exactly one suppressed cell.

    ``relations``: rows ``rel, cell, is_parent``; each ``rel`` says its parent cell equals
    the sum of its child cells. A relation with one suppressed cell would give that cell as
    total minus parts, so one more cell is suppressed: the smallest released child (losing
    the least information; ties by position, so the choice is deterministic), or the parent
    when no child is left. Repeated until stable (suppression only grows, so it ends). This
    is the usual heuristic for hierarchical tables (ONS/Eurostat tau-ARGUS "hypercube" in
    spirit); the attacker test checks its result with linear programming.
    """
    sup = np.asarray(suppressed, dtype=bool).copy()
    if relations.empty:
        return sup
    rel = relations["rel"].to_numpy()
    cell = relations["cell"].to_numpy().astype(int)
    parent = relations["is_parent"].to_numpy().astype(bool)
    value = np.nan_to_num(np.asarray(counts, dtype="float64")[cell], nan=0.0)
    order = np.lexsort((cell, value, parent, rel))  # children first, smallest first
    rel, cell, parent = rel[order], cell[order], parent[order]
    while True:
        s = sup[cell]
        n_sup = np.bincount(rel, weights=s.astype(float), minlength=int(rel.max()) + 1)
        lone = n_sup[rel] == 1
        if not lone.any():
            return sup
        candidates = lone & ~s
        if not candidates.any():
            return sup
        r, first = np.unique(rel[candidates], return_index=True)
        del r
        sup[cell[np.flatnonzero(candidates)[first]]] = True

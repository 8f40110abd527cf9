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
    suppressed: np.ndarray,
    counts: np.ndarray,
    relations: pd.DataFrame,
    *,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Extend ``suppressed`` until no relation has exactly one suppressed cell.

    ``relations``: rows ``rel, cell, is_parent``; each ``rel`` says its parent cell equals
    the sum of its child cells. A relation with one suppressed cell would give that cell as
    total minus parts, so one more cell of it is suppressed. Which one decides how far
    suppression spreads, because every chosen cell belongs to other relations too:

    1. the lowest ``keep`` priority (e.g. 0 small areas' groups, 1 area totals, 2 the whole
       area's total): totals are what most readers need;
    2. then the parent before a sibling: a small area sits in many overlapping sums (ward,
       MSOA, reach area, every deprivation band), so suppressing a sibling needs partners in
       all of them and spreads across the map (one engaged count of 6 in Knowsley once
       spread to 81 of 98 small-area totals), while the parent is in few;
    3. then the cell that mends most such relations at once, the smallest, the first.

    Repeated until stable (suppression only grows, so it ends). This is the usual heuristic
    for hierarchical tables (ONS/Eurostat tau-ARGUS "hypercube" in spirit), not an optimal
    suppression; the attacker test checks its result with integer programming.
    """
    sup = np.asarray(suppressed, dtype=bool).copy()
    if relations.empty:
        return sup
    # Cells equal by definition (a relation with one child: an area's only deprivation
    # decile is the area itself) are one cell: suppressed together, and their identity is
    # no relation to protect (left as separate cells, each identity met with its child
    # suppressed would have to suppress the parent).
    alias, relations = _merge_identical_cells(relations, len(sup))
    sup = np.asarray(np.bincount(alias, weights=sup.astype(float), minlength=len(sup))[alias] > 0)
    if relations.empty:
        return sup
    rel = relations["rel"].to_numpy()
    cell = relations["cell"].to_numpy().astype(int)
    parent = relations["is_parent"].to_numpy().astype(bool)
    value = np.nan_to_num(np.asarray(counts, dtype="float64")[cell], nan=0.0)
    # a set of identical cells is worth what its most valuable member is
    kept = np.zeros(len(sup), dtype=np.int64)
    if keep is not None:
        np.maximum.at(kept, alias, np.asarray(keep, dtype=np.int64))
        kept = kept[alias]
    while True:
        s = sup[cell]
        n_sup = np.bincount(rel, weights=s.astype(float), minlength=int(rel.max()) + 1)
        candidates = (n_sup[rel] == 1) & ~s
        if not candidates.any():
            break
        # How many relations with a lone suppressed cell each candidate would mend at once:
        # a cell shared by many of them (a neighbouring area in the same ward, MSOA, reach
        # area and deprivation decile) mends them all, instead of each relation taking its
        # own smallest cell and the suppression spreading relation by relation.
        mends = np.bincount(cell[candidates], minlength=len(sup))
        idx = np.flatnonzero(candidates)
        c = cell[idx]
        # lowest keep priority, parent first, most mended, smallest, by position
        order = np.lexsort((c, value[idx], -mends[c], ~parent[idx], kept[c], rel[idx]))
        idx = idx[order]
        _, first = np.unique(rel[idx], return_index=True)
        sup[cell[idx[first]]] = True
    return np.asarray(sup[alias], dtype=bool)


def _merge_identical_cells(
    relations: pd.DataFrame, n_cells: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """``alias[i]``: the representative of the cells equal to cell ``i`` by definition (joined
    through relations with a single child), and the relations rewritten onto
    representatives, without the identities themselves."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    children = relations.loc[~relations["is_parent"].astype(bool)]
    n_children = children.groupby("rel").size()
    single = n_children.index[n_children.to_numpy() == 1]
    ident = relations[relations["rel"].isin(single)]
    if ident.empty:
        return np.arange(n_cells), relations
    pairs = ident.pivot_table(index="rel", columns="is_parent", values="cell", aggfunc="first")
    a = pairs[True].to_numpy().astype(int)
    b = pairs[False].to_numpy().astype(int)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_cells, n_cells))
    _, label = connected_components(graph, directed=False)
    # the representative of each component: its first cell
    first = np.full(label.max() + 1, n_cells)
    np.minimum.at(first, label, np.arange(n_cells))
    alias = first[label]
    rest = relations[~relations["rel"].isin(single)].copy()
    rest["cell"] = alias[rest["cell"].to_numpy().astype(int)]
    return alias, rest

"""Releasing the reach table: THE function every released table passes.

:func:`release_reach` turns the exact reach table (``schema.REACH_COLUMNS``, restricted: it
stays in the store) into the table that may leave the restricted zone: ``reach.csv``,
``reach.gpkg``, the report, the dashboard, its API and exports all show this released copy.
It is pure (tables and settings in, a table out) and applies, in order:

1. **primary suppression** (:func:`everyfamily.privacy.disclosure.primary_suppressed`): a
   count of ``suppress_at_or_below`` or fewer (OpenSAFELY: 7), a registered or engaged count
   whose complement in its group is that small (a rate of 0% or 100%, or close to it,
   discloses something about every member of the group), a known count whose complement
   (children not known to universal services) is that small in a small group
   (:data:`KNOWN_COMPLEMENT_GROUP_FACTOR`), and every cell suppressed in an earlier release
   (the release registry, so repeated releases never un-suppress a cell);
2. **secondary suppression** (:func:`everyfamily.privacy.disclosure.secondary_suppression`)
   over every additive relation an attacker could difference: each larger area (ward, MSOA,
   borough, each centre's reach area, overlapping or not) is the sum of its small areas, and
   each dimension's groups (and finer groups within broader ones: ethnicity within broad
   ethnic group, deciles within quintiles, countries within regions) sum to their total;
3. **rounding** (midpoint-6 or nearest-5, deterministic, so a count released twice reads the
   same both times);
4. **rates from the protected counts**: every rate, interval, funnel position and smoothed
   rate is recomputed from the released (suppressed and rounded) counts, so a rate cannot
   undo the rounding (an exact 8/13 would reveal both counts). ONS population estimates are
   published figures and are released as ONS publishes them.

The ONS Statistical Disclosure Control guidance for tables (cell suppression with secondary
suppression so that "a suppressed cell cannot be derived by subtraction", and rounding) and
OpenSAFELY's output-checking rules (redact counts of 7 or fewer, round to 5) are the sources
of these rules.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from everyfamily.privacy import cellkey, disclosure
from everyfamily.reach import statistics as st
from everyfamily.schema import ETHNICITY_2021, REACH_COLUMNS

#: Protected counts of the reach table (ONS population estimates are published, not ours).
PROTECTED_COUNTS: tuple[str, ...] = ("denominator", "known", "registered", "engaged")
#: Counts with a complement in the group (denominator - count) that must not be small.
COMPLEMENTED: tuple[str, ...] = ("registered", "engaged")
#: ``known`` is complement-protected only in small groups: a group whose denominator
#: (exact or as released) is at most this many times ``suppress_at_or_below + 1`` (40
#: children with the default 7). Why: the harm of a small complement of ``known`` is
#: attribute disclosure by elimination: someone who knows a small group (a small community
#: in one small area) and sees that all but 3 of its children are known to services learns
#: that those few (whom they may well be able to name) are not: a possible safeguarding
#: signal. That needs a group small enough for an outsider to know its members; ONS sets the
#: same kind of floor for its smallest release geography (a census output area holds at
#: least 40 households, so that membership of a cell is not common knowledge). In a larger
#: group a few not-known children stay anonymous, and because nearly every child is known,
#: protecting ``known`` everywhere would suppress almost every known count (docs/privacy.md).
#: In a small group the complement is protected when it is 0 too (everyone known): the rule
#: must not single out a non-zero complement by suppressing only those (ONS SDC guidance asks
#: for both sides of a proportion in small groups).
KNOWN_COMPLEMENT_GROUP_FACTOR = 5
#: Counts that do not depend on the service (the same on every service's row).
SERVICE_FREE: tuple[str, ...] = ("denominator", "known")
KEYS: tuple[str, ...] = ("level", "area_code", "dimension", "group_value", "service")
#: Columns of the release registry (store table ``release_registry``).
REGISTRY_COLUMNS: tuple[str, ...] = (*KEYS, "column")
ALL = "all"
UNKNOWN = "unknown"
#: ``cell_key``: the ONS/ABS cell key method (privacy.cellkey); ``suppress_round``: primary and
#: secondary suppression plus rounding (the method before issue 15).
ReleaseMethod = Literal["cell_key", "suppress_round"]
RELEASE_METHODS: tuple[str, ...] = ("cell_key", "suppress_round")
#: The default (issue 15): the cell key method keeps its numbers (no cell is blanked to
#: protect another) and gives differencing nothing; suppress_round stays as a setting.
DEFAULT_METHOD: ReleaseMethod = "cell_key"
#: Why a released count is withheld (the released table's ``withheld_reason`` column reads
#: "registered: secondary; engaged: small", one entry per withheld count of the row).
WITHHELD_REASONS: dict[str, str] = {
    "small": "a count of 1 to the suppression threshold",
    "complement": "all or nearly all of the group (a small complement)",
    "secondary": "would give another withheld count back by subtraction",
    "earlier_release": "withheld in an earlier release into this folder",
    "not_counted": "no count was made for this cell",
}
#: The released table's column naming the reason of every withheld count of the row.
WITHHELD_REASON_COLUMN = "withheld_reason"
#: Columns of the cell-key table (store table ``reach_cell_keys``): KEYS plus one cell key per
#: protected count (sum of the record keys of the children counted, mod the modulus).
CELL_KEY_COLUMNS: tuple[str, ...] = (*KEYS, *(f"ck_{c}" for c in PROTECTED_COUNTS))


@dataclass(frozen=True)
class ReleaseRules:
    """The project's disclosure rules (project ``privacy`` block)."""

    suppress_at_or_below: int = disclosure.DEFAULT_SUPPRESS_AT_OR_BELOW
    rounding: disclosure.Rounding = "midpoint6"
    method: ReleaseMethod = "cell_key"
    max_perturbation: int = cellkey.DEFAULT_MAX_PERTURBATION

    @property
    def max_error(self) -> int:
        """The most a released count (one that is shown) can differ from the exact count:
        the ptable's maximum perturbation for ``cell_key`` (counts above the small-count
        floor; a shown 0 or ``suppress_at_or_below + 1`` may stand for a small count), the
        rounding's largest change for ``suppress_round`` (midpoint6: 3, nearest5: 2)."""
        if self.method == "cell_key":
            return self.max_perturbation
        return {"midpoint6": disclosure.MIDPOINT6_BLOCK // 2, "nearest5": 2}.get(self.rounding, 0)

    def ptable(self) -> cellkey.PTable:
        """The perturbation table of these rules (cell_key)."""
        return cellkey.build_ptable(
            small=self.suppress_at_or_below, max_perturbation=self.max_perturbation
        )

    @classmethod
    def from_settings(cls, settings: Any) -> ReleaseRules:
        """From a ``PrivacySettings``, a dict of its fields (run.json), or None (defaults)."""
        if settings is None:
            return cls()
        get = settings.get if isinstance(settings, Mapping) else _attr_getter(settings)
        rounding = str(get("rounding", "midpoint6") or "midpoint6")
        if rounding not in ("midpoint6", "nearest5", "none"):
            raise ValueError(f"unknown rounding rule {rounding!r}: use midpoint6, nearest5, none")
        limit = get("suppress_at_or_below", disclosure.DEFAULT_SUPPRESS_AT_OR_BELOW)
        method = str(get("release_method", DEFAULT_METHOD) or DEFAULT_METHOD)
        if method not in RELEASE_METHODS:
            raise ValueError(f"unknown release method {method!r}: use cell_key, suppress_round")
        return cls(int(limit), cast(disclosure.Rounding, rounding), cast(ReleaseMethod, method))

    @classmethod
    def from_run(cls, privacy: Mapping[str, Any] | None) -> ReleaseRules:
        """The rules a run folder was released with, from run.json's ``settings.privacy``: as
        :meth:`from_settings`, except that a run.json without ``release_method`` predates the
        setting and was released by suppression and rounding (the only method then). An
        unknown rounding rule or method is refused (ValueError), never replaced by a default."""
        privacy = dict(privacy or {})
        privacy.setdefault("release_method", "suppress_round")
        return cls.from_settings(privacy)

    def count(self, n: Any) -> int | None:
        """One count as released under these rules (None when suppressed or not a number)."""
        return disclosure.released_count(
            _as_number(n), suppress_at_or_below=self.suppress_at_or_below, rounding=self.rounding
        )

    def again(self, n: Any) -> int | None:
        """A count that was RELEASED already (findings.json, reach.csv) as shown again: under
        the cell key method as it is (rounding a perturbed count again would only make it
        disagree with the table it came from), except that a count of
        ``1..suppress_at_or_below`` (which no release shows: a hand-edited file) is not
        shown; under suppression and rounding, :meth:`count` (idempotent on its output)."""
        if self.method != "cell_key":
            return self.count(n)
        value = _as_number(n)
        if value is None or value < 0 or 1 <= value <= self.suppress_at_or_below:
            return None
        return round(value)

    def text(self, n: Any) -> str:
        """The released count as text: '1,236' or 'fewer than 8'."""
        return disclosure.released_text(
            _as_number(n), suppress_at_or_below=self.suppress_at_or_below, rounding=self.rounding
        )

    def rate_allowed(self, numerator: Any, denominator: Any) -> bool:
        """May the rate numerator/denominator be shown? Only when the numerator AND its
        complement (denominator - numerator) would both be released: a suppressed numerator
        is otherwise recoverable from the rate, and 0% or 100% of a small group discloses
        something about every member (DOMAIN.md, disclosure control conventions)."""
        num, den = _as_number(numerator), _as_number(denominator)
        if num is None or den is None or den <= 0:
            return False
        return self.count(num) is not None and self.count(max(den - num, 0.0)) is not None

    def rate(self, value: Any, numerator: Any, denominator: Any) -> float | None:
        """``value`` (a rate or interval bound, from exact counts, not rounded) when
        :meth:`rate_allowed`, else None."""
        v = _as_number(value)
        if v is None or not self.rate_allowed(numerator, denominator):
            return None
        return round(v, 4)


def _as_number(v: Any) -> float | None:
    """A count or rate as a float; None for None, NaN, NA and anything not a number."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def release_child_counts(
    counts: np.ndarray | list[float],
    key_sums: np.ndarray | list[int],
    rules: ReleaseRules,
) -> np.ndarray:
    """Counts of sets of children that are no cell of the reach table (one side of a
    barrier, an emerging community's children, its births in a year), released by the
    project's method: THE path such a count takes out of the restricted zone.

    ``key_sums``: for each count, the sum of the record keys of exactly the children it
    counts (``privacy.cellkey.child_record_keys``; taken modulo the modulus here). Under
    ``cell_key`` the count is perturbed through the ptable with that cell key, exactly as
    :func:`release_reach_cell_key` perturbs a reach cell, so the same children give the same
    released value wherever they are counted (a count of 0 has cell key 0; counts of
    ``1..suppress_at_or_below`` come back as 0 or ``suppress_at_or_below + 1``). Under
    ``suppress_round`` the count is suppressed (NaN) at or below the threshold and rounded.
    NaN counts stay NaN."""
    n = np.asarray(counts, dtype="float64")
    if rules.method == "cell_key":
        k = np.mod(np.asarray(key_sums, dtype=np.int64), cellkey.DEFAULT_MODULUS)
        k = np.where(np.isfinite(n) & (n == 0), 0, k).astype("float64")
        return rules.ptable().perturb(np.maximum(n, 0.0), k)
    out = [rules.count(float(v)) if math.isfinite(v) else None for v in n]
    return np.asarray([np.nan if v is None else float(v) for v in out], dtype="float64")


def rule_text(rules: ReleaseRules) -> str:
    """One sentence on how the counts shown were protected (dashboard pages, the report)."""
    limit = rules.suppress_at_or_below
    rate = (
        f"A rate is shown only when at least {limit + 1} children are in it and "
        f"at least {limit + 1} are not."
    )
    if rules.method == "cell_key":
        return (
            "Counts in the reach tables are perturbed by the cell key method (ONS): each "
            f"is within {rules.max_error} of the true count and reads the same in every "
            f"table; counts of 1 to {limit} are shown as 0 or {limit + 1}. Other counts "
            f"of {limit} or fewer are suppressed and the rest rounded. {rate}"
        )
    how = {
        "midpoint6": "rounded to the midpoint of blocks of six (1-6 shown as 3, 7-12 as 9)",
        "nearest5": "rounded to the nearest 5",
        "none": "shown unrounded",
    }[rules.rounding]
    return f"Counts of {limit} or fewer are suppressed; other counts are {how}. {rate}"


def withheld_text(reason: str) -> str:
    """A ``withheld_reason`` in words: 'registered: would give another withheld count back
    by subtraction; engaged: a count of 1 to the suppression threshold'."""
    parts = []
    for part in str(reason or "").split("; "):
        column, _sep, code = part.partition(": ")
        if code:
            parts.append(f"{column}: {WITHHELD_REASONS.get(code, code)}")
    return "; ".join(parts)


def _attr_getter(obj: Any) -> Any:
    return lambda name, default: getattr(obj, name, default)


# --- Relations an attacker can difference -----------------------------------------------------


def _nested_maps(values: Mapping[str, set[str]]) -> dict[tuple[str, str], dict[str, str]]:
    """(fine dimension, broad dimension) -> {fine group: broad group}, from definitions."""
    from everyfamily.reach.regions import region_of_birth

    maps: dict[tuple[str, str], dict[str, str]] = {}
    eth = {code: broad for code, (_label, broad) in ETHNICITY_2021.items()}
    maps[("ethnicity", "ethnicity_broad")] = {
        g: eth.get(g, UNKNOWN) for g in values.get("ethnicity", set())
    }
    for index in ("imd", "idaci"):
        deciles = values.get(f"{index}_decile", set())
        maps[(f"{index}_decile", f"{index}_quintile")] = {
            g: (str((int(g) + 1) // 2) if g.isdigit() else UNKNOWN) for g in deciles
        }
    countries = sorted(values.get("mother_country_of_birth", set()) - {UNKNOWN})
    regions: list[Any] = (
        list(region_of_birth(pd.Series(countries, dtype=object))) if countries else []
    )
    cmap = {c: (UNKNOWN if pd.isna(r) else str(r)) for c, r in zip(countries, regions, strict=True)}
    cmap[UNKNOWN] = UNKNOWN
    maps[("mother_country_of_birth", "mother_region_of_birth")] = cmap
    return maps


def reach_relations(
    keys: pd.DataFrame, hierarchy: pd.DataFrame | None, small_area_level: str
) -> pd.DataFrame:
    """Every additive relation among the rows of a reach table: ``rel``, ``cell`` (row
    position), ``is_parent``. A relation says parent = sum of children exactly.

    ``keys``: the key columns of the table (level, area_code, dimension, group_value,
    service). ``hierarchy``: level, area_code, small_area (the measure stage's membership
    table; None when unknown, then only the group relations are used).
    """
    k = keys[list(KEYS)].astype(str).reset_index(drop=True)
    k["cell"] = np.arange(len(k))
    parts: list[pd.DataFrame] = []
    next_rel = 0

    def add(parent: pd.DataFrame, child: pd.DataFrame, by: list[str]) -> None:
        # parent / child: frames with the join columns ``by`` and ``cell``
        nonlocal next_rel
        p = parent[[*by, "cell"]].drop_duplicates(by).reset_index(drop=True)
        p["rel"] = np.arange(next_rel, next_rel + len(p))
        next_rel += len(p)
        c = child[[*by, "cell"]].merge(p[[*by, "rel"]], on=by)
        parts.append(pd.DataFrame({"rel": p["rel"], "cell": p["cell"], "is_parent": True}))
        parts.append(pd.DataFrame({"rel": c["rel"], "cell": c["cell"], "is_parent": False}))

    # Geography: each larger area is the sum of its small areas (overlaps allowed).
    if hierarchy is not None and not hierarchy.empty:
        m = hierarchy[["level", "area_code", "small_area"]].astype(str).drop_duplicates()
        m = m[m["level"] != small_area_level]
        small = k[k["level"] == small_area_level].rename(columns={"area_code": "small_area"})
        big = k[k["level"] != small_area_level].merge(m, on=["level", "area_code"])
        child = small.drop(columns="level").merge(
            big[["level", "area_code", "small_area", "dimension", "group_value", "service"]],
            on=["small_area", "dimension", "group_value", "service"],
        )
        by = ["level", "area_code", "dimension", "group_value", "service"]
        add(big.drop(columns="small_area").drop_duplicates(by), child, by)

    # Groups: within each area and service, a dimension's groups sum to the 'all' row.
    by = ["level", "area_code", "service", "dimension"]
    totals = k[k["dimension"] == ALL]
    groups = k[k["dimension"] != ALL]
    dims = groups[["dimension"]].drop_duplicates()
    parent = totals.drop(columns="dimension").merge(dims, how="cross")
    parent = parent.merge(groups[by].drop_duplicates(), on=by)
    add(parent, groups, by)

    # Finer groups within broader ones (by definition of the broad groups).
    values = {str(d): set(g["group_value"]) for d, g in groups.groupby("dimension")}
    for (fine, broad), mapping in _nested_maps(values).items():
        if fine not in values or broad not in values:
            continue
        f = k[k["dimension"] == fine].copy()
        f["broad_group"] = f["group_value"].map(mapping)
        b = k[k["dimension"] == broad].rename(columns={"group_value": "broad_group"})
        by2 = ["level", "area_code", "service", "broad_group"]
        add(b, f.dropna(subset=["broad_group"]), by2)

    if not parts:
        return pd.DataFrame({"rel": [], "cell": [], "is_parent": []})
    return pd.concat(parts, ignore_index=True)


def _exact_relations(rel: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Keep the relations that hold exactly for these counts (a relation that does not hold,
    e.g. an incomplete hierarchy, is no exact constraint for an attacker either)."""
    if rel.empty:
        return rel
    v = values[rel["cell"].to_numpy()]
    signed = np.where(rel["is_parent"].to_numpy(), -v, v)
    total = pd.Series(signed).groupby(rel["rel"].to_numpy()).sum()
    ok = total.index[np.isclose(total.to_numpy(), 0.0)]
    return rel[rel["rel"].isin(ok)]


# --- The release ------------------------------------------------------------------------------


def known_complement_group_limit(suppress_at_or_below: int) -> int:
    """The largest group (denominator) in which ``known`` is complement-protected."""
    return KNOWN_COMPLEMENT_GROUP_FACTOR * (suppress_at_or_below + 1)


def _known_complement(
    exact: Mapping[str, np.ndarray], rounded: Mapping[str, np.ndarray], limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """(exact, shown) complement of ``known`` (children not known to universal services)
    in small groups (see :data:`KNOWN_COMPLEMENT_GROUP_FACTOR`); NaN elsewhere, where the
    complement rule does not apply. A group counts as small when its denominator is small
    exactly or as released, so releasing a released table suppresses nothing new."""
    den, den_shown = exact["denominator"], rounded["denominator"]
    small = (den <= limit) | (den_shown <= limit)
    return (
        np.where(small, den - exact["known"], np.nan),
        np.where(small, den_shown - rounded["known"], np.nan),
    )


def _keep_priority(keys: pd.DataFrame) -> np.ndarray:
    """How much each cell is worth keeping when secondary suppression must choose: 2 for the
    whole area's total (the top level, one area), 1 for every other area total and every
    group of the whole area, 0 for the groups of smaller areas (see
    :func:`everyfamily.privacy.disclosure.secondary_suppression`)."""
    areas_per_level = keys.groupby("level")["area_code"].transform("nunique")
    top = np.asarray(areas_per_level == 1)
    total = np.asarray(keys["dimension"] == ALL)
    return np.where(top & total, 2, np.where(top | total, 1, 0)).astype(np.int64)


def _counts(reach: pd.DataFrame, column: str) -> np.ndarray:
    return np.asarray(pd.to_numeric(reach[column], errors="coerce"), dtype="float64")


def _registry_mask(keys: pd.DataFrame, column: str, registry: pd.DataFrame | None) -> np.ndarray:
    if registry is None or registry.empty:
        return np.zeros(len(keys), dtype=bool)
    reg = registry.loc[registry["column"].astype(str) == column, list(KEYS)].astype(str)
    if reg.empty:
        return np.zeros(len(keys), dtype=bool)
    if column in SERVICE_FREE:  # suppressed on one service's row: on every service's row
        reg = reg.drop(columns="service").drop_duplicates()
        on = [c for c in KEYS if c != "service"]
    else:
        on = list(KEYS)
    hit = keys[on].astype(str).merge(reg.assign(_hit=1), on=on, how="left")["_hit"]
    return np.asarray(hit.notna().to_numpy(), dtype=bool)


def release_reach(
    reach: pd.DataFrame,
    hierarchy: pd.DataFrame | None,
    settings: Any,
    *,
    small_area_level: str = "lsoa",
    previously_suppressed: pd.DataFrame | None = None,
    cell_keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The reach table as it may be released (see the module docstring).

    With ``release_method: cell_key`` the counts are perturbed by the cell key method
    (:func:`release_reach_cell_key`) instead of suppressed and rounded.

    ``hierarchy``: level, area_code, small_area (None: only group relations). ``settings``:
    the project's ``PrivacySettings`` (or a dict of it, or :class:`ReleaseRules`).
    ``previously_suppressed``: the release registry (:data:`REGISTRY_COLUMNS`); every cell in
    it stays suppressed. Counts come back as nullable integers (NA = suppressed); the
    columns are ``schema.REACH_COLUMNS``. Releasing a released table changes nothing.
    """
    rules = settings if isinstance(settings, ReleaseRules) else ReleaseRules.from_settings(settings)
    # The cell key method needs the cell keys, or a table it released already (which says
    # so with its withheld_reason column). An exact table without keys (an older store)
    # cannot be perturbed: it is suppressed and rounded instead, never shown as it is.
    keyed = cell_keys is not None or WITHHELD_REASON_COLUMN in reach.columns
    if rules.method == "cell_key" and not keyed:
        rules = dataclasses.replace(rules, method="suppress_round")
    if rules.method == "cell_key":
        return release_reach_cell_key(
            reach,
            rules,
            cell_keys,
            small_area_level=small_area_level,
            previously_suppressed=previously_suppressed,
        )
    t, rounding = rules.suppress_at_or_below, rules.rounding
    base = reach.reset_index(drop=True)
    keys = base[list(KEYS)].astype(str)
    exact = {c: _counts(base, c) for c in PROTECTED_COUNTS}
    rounded = {c: disclosure.round_counts(exact[c], rounding) for c in PROTECTED_COUNTS}

    any_rows = np.asarray(keys["service"] == "any")
    rel_all = reach_relations(keys, hierarchy, small_area_level)
    rel_any = reach_relations(keys[any_rows], hierarchy, small_area_level)
    any_pos = np.flatnonzero(any_rows)

    keep = _keep_priority(keys)
    suppressed: dict[str, np.ndarray] = {}
    reasons: dict[str, np.ndarray] = {}
    for c in PROTECTED_COUNTS:
        complement = None
        if c in COMPLEMENTED:
            complement = (exact["denominator"] - exact[c], rounded["denominator"] - rounded[c])
        elif c == "known":
            complement = _known_complement(exact, rounded, known_complement_group_limit(t))
        primary = disclosure.primary_suppressed(exact[c], t, complement=complement)
        small = ~(exact[c] > t)
        earlier = _registry_mask(keys, c, previously_suppressed)
        primary |= earlier
        if c in SERVICE_FREE:
            # decide on the 'any' rows, then copy to every service's row of the same group
            rel = _exact_relations(rel_any, exact[c][any_pos])
            sub = disclosure.secondary_suppression(
                primary[any_pos], exact[c][any_pos], rel, keep=keep[any_pos]
            )
            key_any = keys[any_rows].drop(columns="service").assign(_s=sub)
            merged = keys.drop(columns="service").merge(
                key_any, on=[k for k in KEYS if k != "service"], how="left"
            )
            suppressed[c] = np.asarray(merged["_s"].fillna(True).to_numpy(), dtype=bool)
        else:
            rel = _exact_relations(rel_all, exact[c])
            suppressed[c] = disclosure.secondary_suppression(primary, exact[c], rel, keep=keep)
        reasons[c] = np.select(
            [np.isnan(exact[c]), ~suppressed[c], earlier, small, primary],
            ["not_counted", "", "earlier_release", "small", "complement"],
            "secondary",
        )

    released = {
        c: np.where(suppressed[c] | np.isnan(exact[c]), np.nan, rounded[c])
        for c in PROTECTED_COUNTS
    }
    return _released_table(base, released, small_area_level, rules.max_error, reasons)


def _nullable_int(values: np.ndarray) -> pd.Series:
    """Whole counts with NA where suppressed."""
    return pd.Series(values, dtype="float64").round(0).astype("Int64")


def withheld_reasons(reasons: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The ``withheld_reason`` text of every row: 'registered: secondary; engaged: small'
    (reason codes of :data:`WITHHELD_REASONS`), '' when nothing in the row is withheld."""
    out = np.full(n, "", dtype=object)
    for c in PROTECTED_COUNTS:
        r = reasons.get(c)
        if r is None:
            continue
        r = np.asarray(r, dtype=object)
        has = r != ""
        entry = np.where(has, c + ": " + r.astype(str), "")
        sep = np.where((out != "") & has, "; ", "")
        out = out + sep + entry
    return out


def _reasons_given(base: pd.DataFrame) -> dict[str, np.ndarray]:
    """The reasons a table released before gives (its ``withheld_reason`` column), per
    count: releasing a released table keeps them (its withheld counts come back NaN)."""
    out = {c: np.full(len(base), "", dtype=object) for c in PROTECTED_COUNTS}
    if WITHHELD_REASON_COLUMN not in base:
        return out
    for i, text in enumerate(base[WITHHELD_REASON_COLUMN].fillna("").astype(str)):
        for part in text.split("; "):
            column, _sep, code = part.partition(": ")
            if column in out and code:
                out[column][i] = code
    return out


def _released_table(
    base: pd.DataFrame,
    released: dict[str, np.ndarray],
    small_area_level: str,
    max_error: float = 0.0,
    reasons: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The released reach table from the released counts (either method): identifying
    columns, counts as nullable integers, rates computed from the released counts only, and
    the reason of every withheld count (:data:`WITHHELD_REASON_COLUMN`)."""
    out = base[["level", "area_code", "area_name", "dimension", "group_value", "service"]].copy()
    ons = (
        _counts(base, "ons_population") if "ons_population" in base else np.full(len(base), np.nan)
    )
    out["ons_population"] = ons
    for c in ("known", "registered", "engaged"):
        out[c] = _nullable_int(released[c])
    _released_rates(out, base, released, ons, small_area_level, max_error)
    out["denominator"] = _nullable_int(released["denominator"])
    given = _reasons_given(base)
    merged = {
        c: np.where(
            np.isnan(_counts(base, c)) & (given[c] != ""),
            given[c],
            (reasons or {}).get(c, np.full(len(base), "", dtype=object)),
        )
        for c in PROTECTED_COUNTS
    }
    out[WITHHELD_REASON_COLUMN] = withheld_reasons(merged, len(out))
    return out[[*REACH_COLUMNS, WITHHELD_REASON_COLUMN]]


def _released_rates(
    out: pd.DataFrame,
    exact_table: pd.DataFrame,
    released: dict[str, np.ndarray],
    ons: np.ndarray,
    small_area_level: str,
    max_error: float = 0.0,
) -> None:
    """Rates, intervals, funnel and smoothing from the released counts (NaN when a count
    behind them is suppressed); intervals allow for counts off by up to ``max_error``."""
    den, reg, eng = released["denominator"], released["registered"], released["engaged"]
    out["known_completeness"] = np.round(st.safe_ratio(released["known"], ons), 4)
    # One function derives every statistic for the exact and the released table (issue 14):
    # targets per group, the exact table's over-dispersion tau2, intervals widened by the
    # most a released count can be off (max_error).
    from everyfamily.reach.measure import statistics_columns

    tau2 = _counts(exact_table, "funnel_tau2") if "funnel_tau2" in exact_table else None
    cols = statistics_columns(
        out[["level", "area_code", "dimension", "group_value", "service"]],
        registered=reg,
        engaged=eng,
        denominator=den,
        ons=ons,
        small_area_level=small_area_level,
        tau2=tau2,
        count_error=max_error,
    )
    for name, values in cols.items():
        if name == "funnel_band":
            out[name] = pd.Series(values, index=out.index)
        elif name == "funnel_tau2":
            out[name] = np.round(values, 8)
        else:
            out[name] = np.round(values, 4)

    # linkage shifts scale with the rate (statistics.linkage_shift): keep the group's factor,
    # apply it to the released rate
    exact_rate = st.safe_ratio(
        _counts(exact_table, "registered"), _counts(exact_table, "denominator")
    )
    rate = out["registered_rate"].to_numpy(dtype="float64")
    for col in ("linkage_shift_lower", "linkage_shift_upper"):
        if col not in exact_table:
            out[col] = np.nan
            continue
        shift = _counts(exact_table, col)
        factor = st.safe_ratio(shift, exact_rate)
        scaled = factor * rate
        if col.endswith("upper"):
            scaled = np.minimum(scaled, 1.0 - rate)
        else:
            scaled = -np.minimum(-scaled, rate)
        out[col] = np.round(scaled, 4)


def suppressed_cells(released: pd.DataFrame) -> pd.DataFrame:
    """The release-registry entries of a released table: every suppressed count cell."""
    parts = []
    for c in PROTECTED_COUNTS:
        mask = released[c].isna()
        if mask.any():
            parts.append(released.loc[mask, list(KEYS)].astype(str).assign(column=c))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in REGISTRY_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(REGISTRY_COLUMNS)]


def release_reach_cell_key(
    reach: pd.DataFrame,
    rules: ReleaseRules,
    cell_keys: pd.DataFrame | None,
    *,
    small_area_level: str = "lsoa",
    previously_suppressed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The reach table released by the cell key method (:mod:`everyfamily.privacy.cellkey`).

    ``cell_keys``: :data:`CELL_KEY_COLUMNS` for the rows of ``reach`` (store table
    ``reach_cell_keys``). Each protected count is perturbed through the ptable with its own
    cell key, so the same children give the same released count in every table and release.
    Without ``cell_keys`` the table is taken as already released (reach.csv read back by the
    dashboard; :func:`release_reach` sends an exact table without keys, one with no
    ``withheld_reason`` column, to suppression and rounding instead): counts are kept, so
    releasing a released table changes nothing; as a safety net any count of
    ``1..suppress_at_or_below`` (which a cell-key release never shows) is withheld. Cells
    in the release registry stay withheld. A released numerator is capped at its released
    denominator; rates come from the released counts.
    """
    t = rules.suppress_at_or_below
    base = reach.reset_index(drop=True)
    keys = base[list(KEYS)].astype(str)
    exact = {c: _counts(base, c) for c in PROTECTED_COUNTS}
    released: dict[str, np.ndarray] = {}
    reasons = {c: np.full(len(base), "", dtype=object) for c in PROTECTED_COUNTS}
    if cell_keys is None:
        for c in PROTECTED_COUNTS:
            v = exact[c]
            small = (v >= 1) & (v <= t)
            released[c] = np.where(small, np.nan, v)
            reasons[c] = np.where(small, "small", reasons[c])
    else:
        ckt = cell_keys[list(CELL_KEY_COLUMNS)].astype({k: str for k in KEYS})
        ck = keys.merge(ckt, on=list(KEYS), how="left")
        # service-free counts: the key of the 'any' row (the same children on every row)
        no_svc = [k for k in KEYS if k != "service"]
        free_cols = [f"ck_{c}" for c in SERVICE_FREE]
        free = ckt.loc[ckt["service"] == "any", [*no_svc, *free_cols]].drop_duplicates(no_svc)
        ck_free = keys.merge(free, on=no_svc, how="left")
        table = rules.ptable()
        for c in PROTECTED_COUNTS:
            src = ck_free if c in SERVICE_FREE else ck
            key = pd.to_numeric(src[f"ck_{c}"], errors="coerce").to_numpy(dtype="float64")
            # a count of 0 has no children and so cell key 0 (sum of nothing)
            key = np.where(exact[c] == 0, 0.0, key)
            released[c] = table.perturb(exact[c], key)
    for c in PROTECTED_COUNTS:
        earlier = _registry_mask(keys, c, previously_suppressed)
        released[c] = np.where(earlier, np.nan, released[c])
        reasons[c] = np.where(earlier, "earlier_release", reasons[c])
    den = released["denominator"]
    for c in ("known", "registered", "engaged"):
        released[c] = np.where(np.isfinite(den), np.fmin(released[c], den), released[c])
    return _released_table(base, released, small_area_level, rules.max_error, reasons)

"""Changes since the last run (pure): who joined, who left and whose status changed.

Two runs' pseudonymous child tables (the analysis store's ``children``: person_id, small
area, in_age_range, known, registered, engaged, month_of_birth) are compared child by child
through the stable person ids (linkage/stable_ids.py carries them from run to run). A child
is **counted** in a run when the measure stage counts them in the known population: in the
age range on that run's reference date, known to a universal service and living in one of
the project's small areas. For every area of every level (``area_membership``) and each
area A:

    current = previous + born + arrived + moved_in - moved_out - aged_out - left - relinked

exactly, because every child counted in either run falls in exactly one term:

- ``born``: counted in A now, not counted before, born after the last run's reference date;
- ``arrived``: counted in A now, not counted before, born by then (moved into the borough,
  or newly known to a universal service);
- ``moved_in`` / ``moved_out``: counted in both runs, in another area of the same level
  then / now (zero at the borough level);
- ``aged_out``: counted in A before, now past the age range;
- ``left``: counted in A before, still in this run's table but not counted now for another
  reason: moved out of the borough (their latest universal record is outside the area,
  :func:`moved_away`), or no longer known or placed;
- ``relinked``: counted in A before under an id this run's table no longer holds: linkage
  merged it into another child's id (records are cumulative, docs/input-contract.md, so an
  id only vanishes that way). Not a child leaving: a correction of the earlier count.

Against reach.csv (the measure stage, which places every child at their latest record that
HAS a small area, so a child who moved out of the borough is still counted where they
lived): ``away`` (placed in A by the measure stage, but their latest universal record is
outside the borough: not counted here) and ``reach_known`` (the known population of A in
reach.csv), with ``current + away = reach_known`` exactly (:func:`agrees_with_reach`).

Status flows among the children counted in A now: ``newly_registered`` (registered now, not
registered in the last run, new children included) and ``lapsed`` (engaged in the last run,
not now). Every count comes with the sum of its children's record keys
(``privacy.cellkey.child_record_keys``) for the cell key method of release.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from everyfamily.privacy.cellkey import child_record_keys

#: Count columns, in output order.
COUNTS: tuple[str, ...] = (
    "previous",
    "born",
    "arrived",
    "moved_in",
    "moved_out",
    "aged_out",
    "left",
    "relinked",
    "current",
    "newly_registered",
    "lapsed",
    "away",
    "reach_known",
)
#: The terms added to (+1) or taken from (-1) the previous total to give the current one.
RECONCILIATION: dict[str, int] = {
    "born": 1,
    "arrived": 1,
    "moved_in": 1,
    "moved_out": -1,
    "aged_out": -1,
    "left": -1,
    "relinked": -1,
}
CHILD_COLUMNS = ("person_id", "area_code", "in_age_range", "known", "registered", "engaged")


def _bool(values: pd.Series) -> pd.Series:
    """True/False, missing as False (a child absent from one run's table)."""
    return values.map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)


def _prepared(children: pd.DataFrame, away: frozenset[str] = frozenset()) -> pd.DataFrame:
    missing = [c for c in (*CHILD_COLUMNS, "month_of_birth") if c not in children.columns]
    if missing:
        raise ValueError(f"the children table has no column {missing[0]!r}")
    out = children[[*CHILD_COLUMNS, "month_of_birth"]].copy()
    out["person_id"] = out["person_id"].astype(str)
    for c in ("in_age_range", "known", "registered", "engaged"):
        out[c] = _bool(out[c])
    # placed: in the measure stage's known population (reach.csv), at their latest record
    # that has a small area; counted: placed and not moved away (module docstring)
    out["placed"] = out["in_age_range"] & out["known"] & out["area_code"].notna()
    out["counted"] = out["placed"] & ~out["person_id"].isin(away)
    return out.drop_duplicates("person_id").set_index("person_id")


def child_changes(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    previous_reference: dt.date,
    *,
    away_then: frozenset[str] = frozenset(),
    away_now: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """One row per child counted in either run: person_id, prev_area, curr_area (small
    areas, NA where not counted), born, aged_out, gone (not in this run's table),
    was_registered, registered, was_engaged, engaged, record_key. Pseudonymous; it never
    leaves the analysis zone. ``away_then`` / ``away_now``: person ids whose latest
    universal record on the previous / this reference date places them outside the area
    (:func:`moved_away`): not counted then / now."""
    prev, curr = _prepared(previous, away_then), _prepared(current, away_now)
    ids = prev.index[prev["counted"]].union(curr.index[curr["placed"]])
    p, c = prev.reindex(ids), curr.reindex(ids)
    p_counted = _bool(p["counted"])
    c_counted = _bool(c["counted"])
    c_away = _bool(c["placed"]) & ~c_counted
    mob = pd.to_datetime(c["month_of_birth"].where(c["month_of_birth"].notna(), None))
    born = (~p_counted) & c_counted & _bool(mob > pd.Timestamp(previous_reference))
    # past the age range now: in the current run's table, not in the age range any more
    aged = p_counted & ~c_counted & _bool(c["in_age_range"].eq(False))
    gone = p_counted & ~pd.Series(ids.isin(curr.index), index=ids)
    out = pd.DataFrame(
        {
            "person_id": ids.astype(str),
            "prev_area": p["area_code"].where(p_counted).to_numpy(),
            "curr_area": c["area_code"].where(c_counted).to_numpy(),
            "away_area": c["area_code"].where(c_away).to_numpy(),
            "born": born.to_numpy(dtype=bool),
            "aged_out": aged.to_numpy(dtype=bool),
            "gone": gone.to_numpy(dtype=bool),
            "was_registered": _bool(p["registered"]).to_numpy(),
            "registered": _bool(c["registered"]).to_numpy(),
            "was_engaged": (_bool(p["engaged"]) & p_counted).to_numpy(),
            "engaged": _bool(c["engaged"]).to_numpy(),
        }
    )
    out["record_key"] = child_record_keys(out["person_id"]).to_numpy()
    return out


def change_counts(changes: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """The counts of the module docstring for every area of every level of ``membership``
    (level, area_code, small_area): level, area_code, then each of :data:`COUNTS` and its
    ``<count>_key`` (sum of record keys), exact."""
    frames = []
    for level, m in membership.groupby("level", sort=False):
        up = m.drop_duplicates("small_area").set_index("small_area")["area_code"]
        was = changes["prev_area"].map(up)
        now = changes["curr_area"].map(up)
        away = changes["away_area"].map(up) if "away_area" in changes else now.iloc[0:0]
        frames.append(_level_counts(changes, was, now, away).assign(level=level))
    cols = ["level", "area_code", *(x for c in COUNTS for x in (c, f"{c}_key"))]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def _level_counts(
    changes: pd.DataFrame, was: pd.Series, now: pd.Series, away: pd.Series
) -> pd.DataFrame:
    """The counts at one level: ``was`` / ``now`` are each child's area (NA: not counted),
    ``away`` the area where the measure stage places a child counted as moved away now."""
    had, has = was.notna(), now.notna()
    away = away.reindex(changes.index)
    gone_away = away.notna()
    placed = now.where(has, away)
    terms: dict[str, tuple[pd.Series, pd.Series]] = {
        "previous": (was, had),
        "born": (now, ~had & has & changes["born"]),
        "arrived": (now, ~had & has & ~changes["born"]),
        "moved_in": (now, had & has & (was != now)),
        "moved_out": (was, had & has & (was != now)),
        "aged_out": (was, had & ~has & changes["aged_out"]),
        "left": (was, had & ~has & ~changes["aged_out"] & ~changes["gone"]),
        "relinked": (was, had & ~has & changes["gone"]),
        "current": (now, has),
        "newly_registered": (now, has & changes["registered"] & ~changes["was_registered"]),
        "lapsed": (now, has & changes["was_engaged"] & ~changes["engaged"]),
        "away": (away, gone_away),
        "reach_known": (placed, has | gone_away),
    }
    areas = sorted(set(was.dropna()) | set(now.dropna()) | set(away.dropna()))
    out = pd.DataFrame({"area_code": areas})
    key = changes["record_key"].astype("int64")
    for name, (area, mask) in terms.items():
        sel = _bool(mask).to_numpy()
        n = pd.Series(1, index=changes.index)[sel].groupby(area[sel]).sum()
        k = key[sel].groupby(area[sel]).sum()
        out[name] = out["area_code"].map(n).fillna(0).astype("int64")
        out[f"{name}_key"] = out["area_code"].map(k).fillna(0).astype("int64")
    return out


def reconciles(counts: pd.DataFrame) -> np.ndarray:
    """Per row: previous + the signed terms of :data:`RECONCILIATION` == current, exactly."""
    total = counts["previous"].astype("int64").to_numpy().copy()
    for name, sign in RECONCILIATION.items():
        total += sign * counts[name].astype("int64").to_numpy()
    return np.asarray(total == counts["current"].astype("int64").to_numpy())


def agrees_with_reach(counts: pd.DataFrame) -> np.ndarray:
    """Per row: current + away == reach_known, exactly (module docstring): the children
    counted here plus those the measure stage still places here although their latest
    universal record is outside the borough are the known population of reach.csv."""
    total = counts["current"].astype("int64") + counts["away"].astype("int64")
    return np.asarray(total.to_numpy() == counts["reach_known"].astype("int64").to_numpy())


#: Counts of a run-history snapshot (each with its ``<count>_key`` record-key sum).
HISTORY_COUNTS: tuple[str, ...] = ("known", "registered", "engaged")


def history_rows(
    children: pd.DataFrame,
    membership: pd.DataFrame,
    reference: dt.date,
    away: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """This run's snapshot for the run history (aggregates only): reference_date, level,
    area_code, known, registered, engaged among the children counted (module docstring),
    each with the sum of its children's record keys (``<count>_key``, for the cell key
    method when the history is released)."""
    c = _prepared(children, away)
    c = c[c["counted"]]
    key = child_record_keys(pd.Series(c.index, index=c.index)).astype("int64")
    frames = []
    for level, m in membership.groupby("level", sort=False):
        up = m.drop_duplicates("small_area").set_index("small_area")["area_code"]
        area = c["area_code"].map(up)
        reg, eng = c["registered"].astype("int64"), c["engaged"].astype("int64")
        g = (
            pd.DataFrame(
                {
                    "area_code": area,
                    "known": 1,
                    "registered": reg,
                    "engaged": eng,
                    "known_key": key,
                    "registered_key": key * reg,
                    "engaged_key": key * eng,
                }
            )
            .dropna(subset=["area_code"])
            .groupby("area_code", as_index=False)
            .sum()
        )
        frames.append(g.assign(level=level))
    cols = [
        "reference_date",
        "level",
        "area_code",
        *HISTORY_COUNTS,
        *(f"{n}_key" for n in HISTORY_COUNTS),
    ]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).assign(reference_date=reference.isoformat())
    return out[cols]


def moved_away(latest: pd.DataFrame, small_areas: set[str]) -> frozenset[str]:
    """Person ids whose latest universal record with a valid postcode (``latest``:
    person_id, area_code) is outside the project's small areas: the health visitor's record
    of a move out of the borough. The measure stage places a child at their latest record
    that HAS a small area (reach/children.py), so it still counts them where they lived; the
    changes since the last run count them as moved out."""
    out = latest["area_code"].isna() | ~latest["area_code"].isin(small_areas)
    return frozenset(latest.loc[out, "person_id"].astype(str))

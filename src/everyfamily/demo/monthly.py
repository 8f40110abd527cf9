"""Monthly extracts of the synthetic world: the same history, cut at an earlier month end.

A council running everyfamily every month gets, each month, extracts that hold everything
the last month's did plus a month of new records, less the children who left. The demo makes
such a series from ONE simulated world (same seed, so the shared history is identical):

- the extract of ``months_earlier`` = k holds the world's records dated on or before the
  month end k months before the reference date (births by date of birth, every other source
  by its event date; a date that does not parse is kept, as the pipeline quarantines it);
- departures are planted: for each of the last :data:`DEPARTURE_MONTHS` months, a few
  whole families (seeded, :data:`DEPARTURES_PER_MONTH` per 1,000 children, none of a planted
  story's) move out of the borough on a day of that month: the health visitor records the
  transfer (each child's last contact again, on that day, at a real postcode outside the
  area) and none of their records is dated after it;
- the reference date and the population's as-at date move back k months.

So the extract of k-1 = the extract of k + one month of births, contacts, registrations,
attendances and moves out (the extracts are cumulative, as the ingest stage expects:
docs/input-contract.md): ``everyfamily demo --months-earlier 1`` then ``everyfamily demo
--month-later OUT`` are two consecutive monthly runs whose changes the truth records
(``truth/children.csv``: ``departed_month``, ``departed_on``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from everyfamily.demo.world import World

#: Per extract: (record id column, date column, date format) as the demo writes them.
EXTRACT_DATES: dict[str, tuple[str, str, str]] = {
    "births": ("Notification No", "Date of Birth", "%d/%m/%Y"),
    "health_visiting": ("Contact Ref", "Contact Date", "%d-%b-%Y"),
    "registrations": ("RegID", "Registered On", "%Y-%m-%d"),
    "attendances": ("attendance_id", "session_date", "%Y%m%d"),
}
#: Months back over which departures are planted (a series of up to this many monthly runs).
DEPARTURE_MONTHS = 12
#: Families leaving per month, per 1,000 children of the world (ONS internal migration: a
#: few per cent of under-fives move local authority in a year).
DEPARTURES_PER_MONTH = 3.0
#: Real postcodes well outside Knowsley (Manchester, Wirral, Wigan, Preston, Chester), in
#: postcode sectors the Knowsley lookup does not hold: a record there is out of the area.
OUT_OF_AREA_POSTCODES: tuple[str, ...] = (
    "M1 1AE",
    "M4 1HN",
    "CH41 5LH",
    "CH62 4UE",
    "WN1 1NJ",
    "PR1 2HE",
    "CH1 2HS",
)
MOVE_OUT_PREFIX = "HVX"


def month_end(d: dt.date, months_back: int) -> dt.date:
    """The last day of the month ``months_back`` months before ``d``'s month (0: d's)."""
    y, m = divmod(d.year * 12 + d.month - 1 - months_back, 12)
    return dt.date(y, m + 1, calendar.monthrange(y, m + 1)[1])


@dataclass(frozen=True)
class Departures:
    """family_id -> the month it left (1 = the last month before the reference date), and
    the day (a date) of the move."""

    month_of: dict[str, int]
    day_of: dict[str, dt.date]


def _hv_dates(world: World) -> pd.DataFrame:
    """child_id, record_id, date, row of every clean health-visiting record (no planted
    error, nothing to quarantine: a copy of it links as the child's other records do)."""
    id_col, date_col, fmt = EXTRACT_DATES["health_visiting"]
    hv = world.extracts["health_visiting"]
    when = pd.to_datetime(hv[date_col].astype(str), format=fmt, errors="coerce")
    t = world.records_truth
    clean = (t["source"] == "health_visiting") & (t["errors"].fillna("").astype(str) == "")
    clean &= t["expected_quarantine"].fillna("").astype(str) == ""
    truth = t[clean]
    out = pd.DataFrame({"record_id": hv[id_col].astype(str), "date": when, "row": hv.index})
    return out.merge(
        truth[["record_id", "child_id"]].astype(str), on="record_id", how="inner"
    ).dropna(subset=["date"])


def plant_departures(world: World) -> Departures:
    """Seeded departures (module docstring): whole families, none of a planted story's,
    every child of which the health visitor saw before the earliest month of departures."""
    rng = np.random.default_rng([world.seed, 1818])
    earliest = pd.Timestamp(month_end(world.reference_date, DEPARTURE_MONTHS))
    seen = _hv_dates(world)
    seen_before = set(seen.loc[seen["date"] <= earliest, "child_id"])
    story = [c for c in ("community", "barrier") if c in world.children.columns]
    eligible = []
    for fam, kids in world.children.groupby("family_id"):
        in_story = any(kids[c].astype(str).eq("True").any() for c in story)
        if not in_story and set(kids["child_id"].astype(str)) <= seen_before:
            eligible.append(str(fam))
    per_month = max(1, round(len(world.children) * DEPARTURES_PER_MONTH / 1000))
    chosen = rng.permutation(np.array(sorted(eligible), dtype=object))
    month_of: dict[str, int] = {}
    day_of: dict[str, dt.date] = {}
    for i, fam in enumerate(chosen[: per_month * DEPARTURE_MONTHS]):
        month = 1 + i // per_month
        month_of[str(fam)] = month
        day_of[str(fam)] = month_end(world.reference_date, month - 1) - dt.timedelta(
            days=int(rng.integers(0, 25))
        )
    return Departures(month_of, day_of)


def _with_departures(world: World, dep: Departures) -> World:
    """The world in which the departing families moved out on their day: each child's last
    health-visiting contact again, on that day, at a postcode outside the area (the health
    visitor's record of the transfer), and none of their records after it."""
    rng = np.random.default_rng([world.seed, 1819])
    kids = world.children.assign(family_id=world.children["family_id"].astype(str))
    moving = kids[kids["family_id"].isin(dep.month_of)]
    child_day = dict(
        zip(moving["child_id"].astype(str), moving["family_id"].map(dep.day_of), strict=True)
    )
    truth = world.records_truth.astype({"record_id": str, "child_id": str})
    extracts = dict(world.extracts)
    for name, frame in extracts.items():  # nothing of theirs after the move
        id_col, date_col, fmt = EXTRACT_DATES[name]
        when = pd.to_datetime(frame[date_col].astype(str), format=fmt, errors="coerce")
        owner = (
            frame[id_col]
            .astype(str)
            .map(truth[truth["source"] == name].set_index("record_id")["child_id"])
        )
        after = owner.map(child_day).map(lambda d: pd.Timestamp(d) if pd.notna(d) else pd.NaT)
        extracts[name] = frame[~(when > after).to_numpy(dtype=bool)].reset_index(drop=True)
    seen = _hv_dates(replace(world, extracts=extracts))
    last = seen.sort_values(["date", "record_id"]).drop_duplicates("child_id", keep="last")
    last = last[last["child_id"].isin(child_day)].sort_values("child_id")
    id_col, date_col, fmt = EXTRACT_DATES["health_visiting"]
    hv = extracts["health_visiting"]
    rows, truth_rows = [], []
    fam_of = dict(zip(moving["child_id"].astype(str), moving["family_id"], strict=True))
    postcode_of = {
        f: OUT_OF_AREA_POSTCODES[int(rng.integers(0, len(OUT_OF_AREA_POSTCODES)))]
        for f in sorted(dep.month_of)
    }
    for n, (row_at, child) in enumerate(
        zip(last["row"].astype(int), last["child_id"].astype(str), strict=True), start=1
    ):
        row = hv.loc[row_at].copy()
        rid = f"{MOVE_OUT_PREFIX}{n:06d}"
        row[id_col] = rid
        row[date_col] = child_day[child].strftime(fmt)
        row["Postcode"] = postcode_of[fam_of[child]]
        rows.append(row)
        truth_rows.append(
            {
                "source": "health_visiting",
                "record_id": rid,
                "child_id": child,
                "family_id": fam_of[child],
                "errors": "moved_out",
                "expected_quarantine": "",
                "expected_flags": "postcode_unknown",
            }
        )
    extracts["health_visiting"] = pd.concat([hv, pd.DataFrame(rows)], ignore_index=True)
    records = pd.concat([world.records_truth, pd.DataFrame(truth_rows)], ignore_index=True)
    return replace(world, extracts=extracts, records_truth=records)


def cut_world(world: World, months_earlier: int) -> World:
    """The world as a monthly extract ``months_earlier`` months before its reference date
    (module docstring). ``months_earlier`` 0 is the reference date itself, departures
    applied. The truth keeps every child; ``children.departed_month`` says who left when."""
    if not 0 <= months_earlier < DEPARTURE_MONTHS:
        raise ValueError(f"months_earlier must be 0 to {DEPARTURE_MONTHS - 1}")
    cut = month_end(world.reference_date, months_earlier)
    dep = plant_departures(world)
    world = _with_departures(world, dep)
    children = world.children.copy()
    children["departed_month"] = children["family_id"].astype(str).map(dep.month_of)
    children["departed_on"] = children["family_id"].astype(str).map(dep.day_of)
    truth = world.records_truth
    extracts: dict[str, pd.DataFrame] = {}
    kept_ids: list[pd.DataFrame] = []
    for name, frame in world.extracts.items():
        id_col, date_col, fmt = EXTRACT_DATES[name]
        when = pd.to_datetime(frame[date_col].astype(str), format=fmt, errors="coerce")
        late = (when > pd.Timestamp(cut)).fillna(False).to_numpy(dtype=bool)
        extracts[name] = frame[~late].reset_index(drop=True)
        ids = extracts[name][id_col].astype(str)
        kept_ids.append(
            pd.DataFrame({"source": name, "record_id": ids, "row_number": range(1, len(ids) + 1)})
        )
    kept = pd.concat(kept_ids, ignore_index=True)
    cols = list(truth.columns)
    records = truth.drop(columns="row_number").astype({"record_id": str})
    records = records.merge(kept, on=["source", "record_id"], how="inner")[cols]
    stories = {**world.stories, "monthly": {"months_earlier": months_earlier, "cut": str(cut)}}
    return replace(
        world,
        reference_date=cut,
        children=children,
        extracts=extracts,
        records_truth=records.reset_index(drop=True),
        stories=stories,
    )

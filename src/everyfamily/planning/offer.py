"""The offer matched to each locality ("different stores stock different products").

For each centre's reach area, the children living there are described by age band, main
language and need (an interpreter), and set against the sessions the centre runs: which age
bands a session is open to and which languages it is run in. A mismatch line is written only
where the numbers support it: a group of at least ``min_children`` children (released count)
that makes up at least ``min_share`` of the reach area's children, with no session at the
centre for it. Without session data for a centre the line says "no session data" and no
mismatch is claimed.

Sessions come from the caller (the planning settings or a sessions source): each names its
site, type, the ages it is open to in months and the languages it is run in. A session with
no ages given is open to every age; a session with no languages given is in ``default
language`` (English unless the project says otherwise).

Pure: frames in, a frozen result out; every count leaves through
:func:`everyfamily.privacy.release.release_child_counts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pydantic import ValidationError

from everyfamily.config.planning import Session
from everyfamily.errors import ConfigError, DataError
from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.privacy.release import ReleaseRules, release_child_counts

#: Age bands (label, first month, last month), the early-years bands of the DfE's
#: "Best start in life" offer: babies, one-year-olds, two-year-olds, three and four.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under 1", 0, 11),
    ("1 year", 12, 23),
    ("2 years", 24, 35),
    ("3-4 years", 36, 59),
)
OFFER_COLUMNS = (
    "site_id",
    "site_name",
    "aspect",  # age | language | need
    "group",
    "children",  # released
    "share",  # of the reach area's children (released counts)
    "sessions_per_week",  # at the centre, open to this group (NaN: no session data)
    "mismatch",  # one line, or empty
)
NO_SESSION_DATA = "no session data"


def parse_sessions(items: Sequence[object], where: str = "planning.sessions") -> list[Session]:
    """Validate a list of session mappings; the first problem is one ConfigError line."""
    out = []
    for i, item in enumerate(items):
        try:
            s = Session.model_validate(item)
        except ValidationError as err:
            e = err.errors()[0]
            loc = ".".join(str(x) for x in e["loc"])
            raise ConfigError(
                f"{where}[{i}].{loc}: {e['msg']}",
                hint="see docs/planning.md, 'The offer'",
            ) from None
        if s.max_age_months < s.min_age_months:
            raise ConfigError(
                f"{where}[{i}]: max_age_months is below min_age_months",
                hint="give the youngest and oldest age in months, youngest first",
            )
        out.append(s)
    return out


@dataclass(frozen=True)
class Offer:
    """The released offer table (:data:`OFFER_COLUMNS`) and its mismatch lines."""

    table: pd.DataFrame
    mismatches: tuple[str, ...]


def _age_months(dob: pd.Series, on: date) -> pd.Series:
    d = pd.to_datetime(dob, errors="coerce")
    ref = pd.Timestamp(on)
    months = (ref.year - d.dt.year) * 12 + (ref.month - d.dt.month) - (d.dt.day > ref.day)
    return months


def _band(months: float) -> str | None:
    if not np.isfinite(months):
        return None
    for label, lo, hi in AGE_BANDS:
        if lo <= months <= hi:
            return label
    return None


def match_offer(
    children: pd.DataFrame,
    reach_areas: pd.DataFrame,
    sessions: Sequence[Session],
    rules: ReleaseRules,
    *,
    reference_date: date,
    default_language: str = "english",
    min_children: int = 20,
    min_share: float = 0.1,
) -> Offer:
    """The offer at each centre against its reach area's children (module docstring).

    ``children``: ``person_id``, ``small_area``, ``date_of_birth`` (or ``age_months``),
    ``main_language`` and ``interpreter_needed`` (either may be missing). ``reach_areas``:
    ``site_id``, ``site_name``, ``small_area``. Languages are compared case-insensitively.
    """
    for col in ("person_id", "small_area"):
        if col not in children.columns:
            raise DataError(f"offer: children has no column {col!r}", hint="read the store")
    for col in ("site_id", "site_name", "small_area"):
        if col not in reach_areas.columns:
            raise DataError(f"offer: reach_areas has no column {col!r}", hint="read the store")
    kids = children.drop_duplicates("person_id").copy()
    kids["key"] = child_record_keys(kids["person_id"])
    if "age_months" not in kids.columns:
        if "date_of_birth" in kids.columns:
            kids["age_months"] = _age_months(kids["date_of_birth"], reference_date)
        else:
            kids["age_months"] = np.nan
    kids["age"] = [_band(float(m)) for m in pd.to_numeric(kids["age_months"], errors="coerce")]
    lang = kids["main_language"] if "main_language" in kids.columns else pd.Series(dtype=str)
    kids["language"] = lang.astype("string").str.strip().str.lower()
    if "interpreter_needed" in kids.columns:
        needs = kids["interpreter_needed"].astype("boolean").fillna(False).astype(bool)
        kids["need"] = ["interpreter" if v else None for v in needs]
    else:
        kids["need"] = None
    default = default_language.strip().lower()
    by_site: dict[str, list[Session]] = {}
    for s in sessions:
        by_site.setdefault(s.site, []).append(s)

    rows: list[dict[str, object]] = []
    sites = reach_areas[["site_id", "site_name"]].drop_duplicates("site_id")
    for site_id, site_name in zip(sites["site_id"], sites["site_name"], strict=True):
        areas = set(reach_areas.loc[reach_areas["site_id"] == site_id, "small_area"])
        here = kids[kids["small_area"].isin(areas)]
        total = release_child_counts(
            np.array([float(len(here))]), np.array([int(here["key"].sum())]), rules
        )[0]
        runs = by_site.get(str(site_id))
        for aspect in ("age", "language", "need"):
            groups = here[here[aspect].notna()].groupby(aspect)["key"].agg(["size", "sum"])
            if groups.empty:
                continue
            released = release_child_counts(
                groups["size"].to_numpy(dtype="float64"), groups["sum"].to_numpy(), rules
            )
            for group, n in zip(groups.index, released, strict=True):
                per_week = np.nan if not runs else _sessions_for(runs, aspect, group, default)
                share = n / total if np.isfinite(n) and np.isfinite(total) and total > 0 else np.nan
                rows.append(
                    {
                        "site_id": str(site_id),
                        "site_name": str(site_name),
                        "aspect": aspect,
                        "group": str(group),
                        "children": n,
                        "share": share,
                        "sessions_per_week": per_week,
                        "mismatch": _mismatch(
                            str(site_name),
                            aspect,
                            str(group),
                            n,
                            share,
                            per_week,
                            runs,
                            default,
                            min_children,
                            min_share,
                        ),
                    }
                )
    table = pd.DataFrame(rows, columns=list(OFFER_COLUMNS))
    lines = tuple(m for m in table["mismatch"] if m and m != NO_SESSION_DATA)
    return Offer(table, lines)


def _sessions_for(runs: list[Session], aspect: str, group: str, default: str) -> float:
    """Sessions a week at a site that are open to this group."""
    if aspect == "age":
        lo, hi = next((lo, hi) for label, lo, hi in AGE_BANDS if label == group)
        return float(
            sum(s.per_week for s in runs if s.min_age_months <= hi and s.max_age_months >= lo)
        )
    if aspect == "language":
        return float(
            sum(
                s.per_week
                for s in runs
                if group in ({x.strip().lower() for x in s.languages} or {default})
            )
        )
    return float(sum(s.per_week for s in runs if s.interpreter))


def _mismatch(
    site: str,
    aspect: str,
    group: str,
    n: float,
    share: float,
    per_week: float,
    runs: list[Session] | None,
    default: str,
    min_children: int,
    min_share: float,
) -> str:
    if not runs:
        return NO_SESSION_DATA
    if per_week > 0 or not np.isfinite(n) or n < min_children or not share >= min_share:
        return ""
    if aspect == "language" and group == default:
        return ""
    what = {
        "age": f"no session for children aged {group}",
        "language": f"no session in {group}",
        "need": "no session with an interpreter",
    }[aspect]
    who = {
        "age": f"{int(n)} children aged {group}",
        "language": f"{int(n)} children whose main language is {group}",
        "need": f"{int(n)} children whose family needs an interpreter",
    }[aspect]
    return f"{site}: {who} ({share:.0%} of its reach area) and {what}."

"""Service overlap ("new resources"): which services know each child, and how often they call.

For each locality (every area of every level the run releases, and each centre's reach
area) the children living there are counted by the exact combination of services that hold
a record of them (an UpSet intersection: Lex et al. 2014, IEEE TVCG 20:1983), and each
service's contacts are counted per child known to it per year. The services are whatever
the linked records carry (the caller maps each record to a service, normally its source's
role): health visiting, centre registrations and attendances, and any source a council adds
such as early help. No list of services is fixed here.

A family is counted once per locality, under the union of the services that know any of its
children (its home is the area of its first child in ``person_id`` order).

Pure: frames in, a frozen result out. :func:`release_overlap` sends every child and family
count through the one release path (:func:`everyfamily.privacy.release.release_child_counts`);
a contacts rate is shown only where the released number of children behind it is above the
small-count threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

import numpy as np
import pandas as pd

from everyfamily.errors import DataError
from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.privacy.release import ReleaseRules, release_child_counts

#: Separator of services in a combination's label (service names never hold it).
JOIN = " + "
DAYS_PER_YEAR = 365.25

OVERLAP_COLUMNS = (
    "level",
    "area_code",
    "area_name",
    "combination",
    "n_services",
    "children",
    "families",
)
CONTACT_COLUMNS = (
    "level",
    "area_code",
    "area_name",
    "service",
    "children",
    "contacts",
    "contacts_per_child_per_year",
)


@dataclass(frozen=True)
class Overlap:
    """Exact overlap (restricted until released). ``combinations``: one row per locality and
    combination of services with at least one child or family (:data:`OVERLAP_COLUMNS` plus
    ``children_key`` and ``families_key``, the sums of record keys). ``contacts``: one row per
    locality and service (:data:`CONTACT_COLUMNS` plus ``children_key``). ``services``: the
    services found, sorted. ``years``: length of the contact window in years."""

    services: tuple[str, ...]
    combinations: pd.DataFrame
    contacts: pd.DataFrame
    years: float


def _need(frame: pd.DataFrame, what: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"service overlap: {what} has no column {missing[0]!r}",
            hint=f"{what} needs the columns {', '.join(columns)}",
        )


def combination_label(services: Sequence[str]) -> str:
    """The label of a combination: its services, sorted, joined by :data:`JOIN`."""
    return JOIN.join(sorted(services))


def compute_overlap(
    records: pd.DataFrame,
    children: pd.DataFrame,
    localities: pd.DataFrame,
    period: tuple[date, date],
) -> Overlap:
    """The overlap of services in every locality.

    ``records``: one row per linked record: ``person_id``, ``service``, ``event_date`` (may be
    missing: the record says the service knows the child, but is no contact). ``children``:
    one row per child: ``person_id``, ``family_id`` (may be missing: the child is its own
    family), ``small_area`` (home; missing = outside every locality). ``localities``:
    ``level``, ``area_code``, ``area_name``, ``small_area`` (which small areas each locality
    holds; a small area may be in several localities, e.g. two reach areas). ``period``: the
    first and last day of the window in which contacts are counted (both included).
    """
    _need(records, "records", ("person_id", "service", "event_date"))
    _need(children, "children", ("person_id", "family_id", "small_area"))
    _need(localities, "localities", ("level", "area_code", "area_name", "small_area"))
    start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    if end < start:
        raise DataError(
            "service overlap: the contact window ends before it starts",
            hint="give (first day, last day)",
        )
    years = ((end - start).days + 1) / DAYS_PER_YEAR
    recs = records[records["person_id"].notna() & records["service"].notna()].copy()
    recs["service"] = recs["service"].astype(str)
    services = tuple(sorted(recs["service"].unique()))
    kids = children.drop_duplicates("person_id").copy()
    kids["family_id"] = kids["family_id"].where(kids["family_id"].notna(), kids["person_id"])
    kids["key"] = child_record_keys(kids["person_id"])

    known = recs[["person_id", "service"]].drop_duplicates()
    combo = known.groupby("person_id")["service"].agg(lambda s: combination_label(list(s)))
    kids["combination"] = kids["person_id"].map(combo)
    kids = kids[kids["combination"].notna()]
    fam_services = (
        kids[["family_id", "person_id"]]
        .merge(known, on="person_id")
        .drop_duplicates(["family_id", "service"])
        .groupby("family_id")["service"]
        .agg(lambda s: combination_label(list(s)))
    )
    fam_home = kids.sort_values("person_id").drop_duplicates("family_id")
    families = pd.DataFrame(
        {
            "family_id": fam_home["family_id"].to_numpy(),
            "small_area": fam_home["small_area"].to_numpy(),
            "combination": fam_home["family_id"].map(fam_services).to_numpy(),
        }
    )
    families["key"] = child_record_keys(families["family_id"])
    loc = localities[["level", "area_code", "area_name", "small_area"]].drop_duplicates()
    keys = ["level", "area_code", "area_name", "combination"]

    def count(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        placed = frame.merge(loc, on="small_area")
        return (
            placed.groupby(keys, dropna=False)
            .agg(**{name: ("key", "size"), f"{name}_key": ("key", "sum")})
            .reset_index()
        )

    comb = count(kids, "children").merge(count(families, "families"), on=keys, how="outer")
    for col in ("children", "families", "children_key", "families_key"):
        comb[col] = comb[col].fillna(0).astype("int64")
    comb["n_services"] = [len(str(c).split(JOIN)) for c in comb["combination"]]
    comb = comb.sort_values(["level", "area_code", "children"], ascending=[True, True, False])
    combinations = comb[[*OVERLAP_COLUMNS, "children_key", "families_key"]].reset_index(drop=True)

    dates = pd.to_datetime(recs["event_date"], errors="coerce")
    in_window = recs[dates.between(start, end)]
    per_child = in_window.groupby(["person_id", "service"]).size().rename("contacts")
    known_home = known.merge(kids[["person_id", "small_area", "key"]], on="person_id")
    known_home = known_home.merge(per_child.reset_index(), on=["person_id", "service"], how="left")
    known_home["contacts"] = known_home["contacts"].fillna(0)
    placed = known_home.merge(loc, on="small_area")
    cont = (
        placed.groupby(["level", "area_code", "area_name", "service"], dropna=False)
        .agg(
            children=("key", "size"),
            children_key=("key", "sum"),
            contacts=("contacts", "sum"),
        )
        .reset_index()
    )
    cont["contacts"] = cont["contacts"].astype("int64")
    cont["contacts_per_child_per_year"] = cont["contacts"] / cont["children"] / years
    contacts = cont[[*CONTACT_COLUMNS, "children_key"]].reset_index(drop=True)
    return Overlap(services, combinations, contacts, years)


def release_overlap(overlap: Overlap, rules: ReleaseRules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The overlap as it may leave the restricted zone: (combinations, contacts), each count
    released by :func:`release_child_counts` (NaN = withheld), without the record keys. A
    contacts rate stays only where the released children behind it exceed
    ``rules.suppress_at_or_below``; it is then recomputed on the released count, rounded to
    one decimal, and the exact contacts total is dropped (it could difference out a child).
    """
    comb = overlap.combinations.copy()
    for col in ("children", "families"):
        comb[col] = release_child_counts(
            comb[col].to_numpy(dtype="float64"), comb[f"{col}_key"].to_numpy(), rules
        )
    cont = overlap.contacts.copy()
    released = release_child_counts(
        cont["children"].to_numpy(dtype="float64"), cont["children_key"].to_numpy(), rules
    )
    shown = np.isfinite(released) & (released > rules.suppress_at_or_below)
    rate = cont["contacts_per_child_per_year"].to_numpy(dtype="float64")
    cont["children"] = released
    cont["contacts_per_child_per_year"] = np.where(shown, np.round(rate, 1), np.nan)
    out_cont = cont[[c for c in CONTACT_COLUMNS if c != "contacts"]].reset_index(drop=True)
    return comb[list(OVERLAP_COLUMNS)].reset_index(drop=True), out_cont


def upset_svg(
    combinations: pd.DataFrame,
    *,
    title: str,
    count: str = "children",
    max_bars: int = 12,
    width: int = 640,
) -> str:
    """An UpSet chart (Lex et al. 2014) of one locality's released combinations: one bar per
    combination (largest first, at most ``max_bars``), and under the bars a dot matrix with
    one row per service, filled where the combination includes it. Withheld counts are drawn
    as an empty bar marked "withheld". Plain SVG, readable without colour."""
    rows = combinations[["combination", count]].copy()
    rows["order"] = rows[count].fillna(-1)
    rows = rows.sort_values(["order", "combination"], ascending=[False, True]).head(max_bars)
    services = sorted({s for c in rows["combination"] for s in str(c).split(JOIN)})
    left, top, bar_area, row_h = 170, 36, 150, 18
    n = max(len(rows), 1)
    col_w = max(min((width - left - 10) / n, 48.0), 16.0)
    height = top + bar_area + 10 + row_h * len(services) + 8
    finite = rows[count].dropna()
    peak = float(finite.max()) if len(finite) and float(finite.max()) > 0 else 1.0
    out = [
        f'<text x="{left}" y="14" font-size="11" fill="#222">{escape(title)}: '
        f"{escape(count)} known to exactly these services</text>"
    ]
    y0 = top + bar_area
    for i, (combo, value) in enumerate(zip(rows["combination"], rows[count], strict=True)):
        x = left + i * col_w + col_w * 0.15
        w = col_w * 0.7
        if value is None or not np.isfinite(value):
            out.append(
                f'<rect x="{x:.1f}" y="{y0 - 12}" width="{w:.1f}" height="12" fill="none" '
                f'stroke="#444"/><text x="{x + w / 2:.1f}" y="{y0 - 16}" font-size="8" '
                f'text-anchor="middle" fill="#444">withheld</text>'
            )
        else:
            h = bar_area * float(value) / peak
            out.append(
                f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="#3b528b"><title>{escape(str(combo))}: {int(value)}</title></rect>'
                f'<text x="{x + w / 2:.1f}" y="{y0 - h - 3:.1f}" font-size="9" '
                f'text-anchor="middle" fill="#222">{int(value)}</text>'
            )
        members = set(str(combo).split(JOIN))
        ys = []
        for j, service in enumerate(services):
            cy = y0 + 10 + j * row_h + row_h / 2
            on = service in members
            if on:
                ys.append(cy)
            fill = "#222" if on else "#ddd"
            out.append(f'<circle cx="{x + w / 2:.1f}" cy="{cy:.1f}" r="5" fill="{fill}"/>')
        if len(ys) > 1:
            out.append(
                f'<line x1="{x + w / 2:.1f}" y1="{min(ys):.1f}" x2="{x + w / 2:.1f}" '
                f'y2="{max(ys):.1f}" stroke="#222" stroke-width="2"/>'
            )
    for j, service in enumerate(services):
        cy = y0 + 10 + j * row_h + row_h / 2
        out.append(
            f'<text x="{left - 8}" y="{cy + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#222">{escape(service.replace("_", " ")[:26])}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'class="chart" role="img" aria-label="{escape(title)}: service overlap">'
        f"{''.join(out)}</svg>"
    )

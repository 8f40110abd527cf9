"""Person-level pages, the only page services that read person-level rows: the outreach list
(children known to universal services and registered nowhere; view_outreach_list) and the
pseudonymised records (view_records). Rows are read on demand from the analysis store.

Names and contact details are never held here: the outreach list asks a
:data:`ContactLookup`, which the route hands over only to a role with ``reidentify`` and
which audits, then reads the identifiable store, per request.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from everyfamily.web.labels import group_label
from everyfamily.web.outputs import RunOutputs, read_children, read_not_reached
from everyfamily.web.tables import Column, NotFound, Table, clean, number_or_none, one_page
from everyfamily.web.view import RunView

OUTREACH_PAGE_SIZE = 100
#: Most rows of the record-level view served at once (the server's limit on a page).
RECORDS_PAGE_SIZE = 200

#: Re-identification, handed to the outreach list only for a user allowed it:
#: ``(person_ids, area_codes) -> DataFrame`` of person_id and the contact columns. The caller
#: (the route) writes the audit entry before it opens the identifiable store.
ContactLookup = Callable[[list[str], list[str]], pd.DataFrame]

#: The identifying columns re-identification adds to the outreach list (the fields of
#: everyfamily.privacy.reidentify.contact_details), shown only to roles with reidentify.
CONTACT_TABLE_COLUMNS: tuple[Column, ...] = (
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("date_of_birth", "Date of birth"),
    Column("parent_first_name", "Parent's first name"),
    Column("parent_last_name", "Parent's last name"),
    Column("address", "Address"),
    Column("postcode", "Postcode"),
    Column("contact_source", "Details from"),
    Column("contact_as_of", "Details as of"),
)
OUTREACH_COLUMNS: tuple[Column, ...] = (
    Column("area", "Home area"),
    Column("area_code", "Area code"),
    Column("age_years", "Age"),
    Column("sex", "Sex"),
    Column("ethnicity", "Ethnic group"),
    Column("main_language", "Main language"),
    Column("mother_region_of_birth", "Mother's region of birth"),
    Column("imd_decile", "IMD decile"),
    Column("nearest_site", "Nearest centre"),
    Column("km", "Distance (km)", "km"),
)
RECORD_COLUMNS: tuple[Column, ...] = (
    Column("person_id", "Child id (pseudonymous)"),
    Column("family_id", "Family id (pseudonymous)"),
    Column("month_of_birth", "Month of birth"),
    Column("age_years", "Age"),
    Column("sex", "Sex"),
    Column("area_code", "Home area (LSOA)"),
    Column("ethnicity", "Ethnicity"),
    Column("main_language", "Main language"),
    Column("mother_region_of_birth", "Mother's region of birth"),
    Column("imd_decile", "IMD decile"),
    Column("known", "Known"),
    Column("registered", "Registered"),
    Column("registered_sites", "Registered at"),
    Column("engaged", "Engaged"),
    Column("engaged_sites", "Engaged at"),
    Column("nearest_site", "Nearest centre"),
)


class _Lazy:
    """A person-level frame read from the store on first use, once (thread-safe)."""

    def __init__(self, read: Callable[[RunOutputs], pd.DataFrame], outputs: RunOutputs) -> None:
        self._read, self._outputs = read, outputs
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def get(self) -> pd.DataFrame:
        with self._lock:
            if self._frame is None:
                self._frame = self._read(self._outputs)
            return self._frame


class OutreachList:
    """Children known to universal services and registered with no centre."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._frame = _Lazy(read_not_reached, view.outputs)

    def page(
        self,
        area: str | None = None,
        site: str | None = None,
        page: int = 1,
        page_size: int = OUTREACH_PAGE_SIZE,
        *,
        allowed: frozenset[str] | None = None,
        contacts: ContactLookup | None = None,
    ) -> dict[str, Any]:
        """One page of the list. ``allowed``: the small areas the user may see (None: all).
        ``contacts``: given only to a user allowed to re-identify; called with the ids and
        areas of the rows of this page alone (after scoping and paging), it returns their
        names and contact details."""
        frame = self._scoped(allowed)
        chunk, total, page, pages = one_page(_filter(frame, area, site), page, page_size)
        areas = sorted(
            {
                (str(c), str(n))
                for c, n in zip(
                    frame.get("area_code", []), frame.get("area_name", []), strict=False
                )
            },
            key=lambda t: t[1],
        )
        return {
            "table": self._table(chunk, area, site, contacts),
            "total": total,
            "page": page,
            "pages": pages,
            "area": area,
            "site": site,
            "reidentified": contacts is not None,
            "area_choices": [{"code": c, "name": n} for c, n in areas],
            "site_choices": [
                {"code": s, "name": self.view.site_name(s)} for s in self.view.services[1:]
            ],
        }

    def export(
        self,
        area: str | None,
        site: str | None,
        *,
        allowed: frozenset[str] | None = None,
        contacts: ContactLookup | None = None,
    ) -> Table:
        """The whole (scoped, filtered) list as one table."""
        return self._table(_filter(self._scoped(allowed), area, site), area, site, contacts)

    def _scoped(self, allowed: frozenset[str] | None) -> pd.DataFrame:
        frame = self._frame.get()
        if allowed is None:
            return frame
        return frame[frame["area_code"].astype(str).isin(allowed)]

    def _row(self, rec: Mapping[Any, Any]) -> dict[str, Any]:
        dist = clean(number_or_none(rec.get("nearest_site_distance_m")))
        eth = str(rec.get("ethnicity", ""))
        if eth == "white_british":
            ethnicity = "White British"
        else:
            ethnicity = group_label("ethnicity", eth) if eth else ""
        return {
            "person_id": rec.get("person_id"),
            "area": rec.get("area_name") or rec.get("area_code"),
            "area_code": rec.get("area_code"),
            "age_years": rec.get("age_years"),
            "sex": rec.get("sex"),
            "ethnicity": ethnicity,
            "main_language": rec.get("main_language"),
            "mother_region_of_birth": group_label(
                "mother_region_of_birth", str(rec.get("mother_region_of_birth") or "unknown")
            ),
            "imd_decile": rec.get("imd_decile"),
            "nearest_site": self.view.site_name(str(rec.get("nearest_site", ""))),
            "km": None if dist is None else round(float(dist) / 1000, 2),
        }

    def _table(
        self,
        frame: pd.DataFrame,
        area: str | None,
        site: str | None,
        contacts: ContactLookup | None = None,
    ) -> Table:
        found: dict[str, dict[Any, Any]] = {}
        if contacts is not None and not frame.empty:
            ids = [str(p) for p in frame["person_id"]]
            areas = sorted({str(a) for a in frame.get("area_code", [])})
            details = contacts(ids, areas)
            found = {str(r["person_id"]): r for r in details.to_dict("records")}
        rows = []
        for rec in frame.to_dict("records"):
            row = self._row(rec)
            if contacts is not None:
                person = found.get(str(rec.get("person_id")), {})
                row.update({c.key: person.get(c.key, "") for c in CONTACT_TABLE_COLUMNS})
            rows.append(row)
        params = {k: v for k, v in (("area", area), ("site", site)) if v}
        columns = (
            Column("person_id", "Child id (pseudonymous)"),
            *(CONTACT_TABLE_COLUMNS if contacts is not None else ()),
            *OUTREACH_COLUMNS,
        )
        note = (
            "Identifiable and restricted: names and contact details for outreach by you "
            "only, in your assigned areas; this opening is in the audit log. Contact details "
            "come from the most recent record with an address (its source and date are shown)."
            if contacts is not None
            else "Person-level and restricted: for outreach by authorised staff only. The id "
            "is the linkage pseudonym; look the child up in the source systems."
        )
        return Table(
            "outreach",
            "Children known to universal services and registered with no centre",
            columns,
            tuple(rows),
            export=urlencode(params),
            note=note + " Distance is in a straight line to the nearest centre.",
        )


def _filter(frame: pd.DataFrame, area: str | None, site: str | None) -> pd.DataFrame:
    sel = frame
    if area:
        sel = sel[sel.get("area_code", pd.Series(dtype=str)) == area]
    if site:
        sel = sel[sel.get("nearest_site", pd.Series(dtype=str)) == site]
    return sel


class RecordsView:
    """Pseudonymised record-level rows of every child (table ``children``)."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._frame = _Lazy(read_children, view.outputs)

    def page(
        self, area: str | None = None, page: int = 1, page_size: int = RECORDS_PAGE_SIZE
    ) -> dict[str, Any]:
        """One page of at most ``page_size`` rows, optionally within an area of any level (a
        ward is the small areas in it). No names, no full dates of birth."""
        v = self.view
        frame = self._frame.get()
        if area:
            if area not in v.level_of:
                raise NotFound(area)
            frame = frame[frame["area_code"].astype(str).isin(v.expand_areas([area]))]
        page_size = max(1, min(int(page_size), RECORDS_PAGE_SIZE))
        chunk, total, page, pages = one_page(frame, page, page_size)
        return {
            "table": self._table(chunk, area),
            "total": total,
            "page": page,
            "pages": pages,
            "page_size": page_size,
            "area": area,
            "area_choices": [
                {"code": c, "name": v.area_name(c), "level": v.level_label(lvl)}
                for lvl in v.levels
                if lvl != "borough"
                for c in sorted({str(code) for (lv, code) in v.by_area if lv == lvl})
            ],
        }

    def _sites(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return ", ".join(self.view.site_name(str(s)) for s in list(value))

    def _table(self, frame: pd.DataFrame, area: str | None) -> Table:
        # the store holds the 1st of the month: show the month, not a false day
        months = (
            pd.to_datetime(frame["month_of_birth"], errors="coerce").dt.strftime("%Y-%m")
            if "month_of_birth" in frame.columns
            else pd.Series("", index=frame.index)
        )
        rows = []
        for rec, month in zip(frame.to_dict("records"), months, strict=True):
            rows.append(
                {
                    "person_id": rec.get("person_id"),
                    "family_id": rec.get("family_id"),
                    "month_of_birth": "" if pd.isna(month) else str(month),
                    "age_years": clean(rec.get("age_years")),
                    "sex": rec.get("sex"),
                    "area_code": rec.get("area_code"),
                    "ethnicity": rec.get("ethnicity"),
                    "main_language": rec.get("main_language"),
                    "mother_region_of_birth": rec.get("mother_region_of_birth"),
                    "imd_decile": clean(rec.get("imd_decile")),
                    "known": _flag(rec.get("known")),
                    "registered": _flag(rec.get("registered")),
                    "registered_sites": self._sites(rec.get("registered_sites")),
                    "engaged": _flag(rec.get("engaged")),
                    "engaged_sites": self._sites(rec.get("engaged_sites")),
                    "nearest_site": self.view.site_name(str(rec.get("nearest_site") or "")),
                }
            )
        return Table(
            "records",
            "Children (pseudonymised records)",
            RECORD_COLUMNS,
            tuple(rows),
            export=urlencode({"area": area} if area else {}),
            note="Pseudonymised record-level data for analysis: exact counts, not released "
            "through disclosure control; do not publish them. Every page opened is in the "
            "audit log.",
        )


def _flag(v: Any) -> str:
    v = clean(v)
    return "" if v is None else ("yes" if bool(v) else "no")

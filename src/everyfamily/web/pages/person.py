"""Person-level pages, the only page services that read person-level rows: the pseudonymised
records (view_records) here, and the outreach lists (view_outreach_list) in
:mod:`everyfamily.web.pages.outreach`, which share the lazy reader and the contact columns.
Rows are read on demand from the analysis store.

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

from everyfamily.web.outputs import RunOutputs, read_children
from everyfamily.web.tables import Column, NotFound, Table, clean, one_page
from everyfamily.web.view import RunView

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
    Column("newer_postcode_from", "Newer postcode in"),
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
                    **_record_words(rec, self.view.area_name),
                }
            )
        return Table(
            "records",
            "Children (pseudonymised records)",
            tuple(
                c for col in RECORD_COLUMNS for c in (col, *RECORD_PAGE_COLUMNS.get(col.key, ()))
            ),
            tuple(rows),
            export=urlencode({"area": area} if area else {}),
            page_only=frozenset(c.key for cs in RECORD_PAGE_COLUMNS.values() for c in cs),
            download_only=frozenset(k for k in RECORD_PAGE_COLUMNS if k != "person_id"),
            note="Pseudonymised record-level data for analysis: exact counts, not released "
            "through disclosure control; do not publish them. Every page opened is in the "
            "audit log.",
        )


#: The records page says an area by its name and groups by their labels (never a bare
#: code or a field value such as white_british); the downloads and the API keep the codes.
#: Each page-only column follows the column it stands for (the home area by name comes
#: second, after the child's id, which stays on the page).
RECORD_PAGE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "person_id": (Column("area", "Home area"),),
    "area_code": (),
    "ethnicity": (Column("ethnicity_label", "Ethnicity"),),
    "mother_region_of_birth": (Column("region_label", "Mother's region of birth"),),
}


def _record_words(rec: Mapping[Any, Any], area_name: Callable[[str], str]) -> dict[str, str]:
    """The page-only cells of one record (:data:`RECORD_PAGE_COLUMNS`)."""
    from everyfamily.web.labels import group_label

    def label(dimension: str) -> str:
        value = clean(rec.get(dimension))
        return "" if value is None else group_label(dimension, str(value))

    code = clean(rec.get("area_code"))
    return {
        "area": "" if code is None else area_name(str(code)),
        "ethnicity_label": label("ethnicity"),
        "region_label": label("mother_region_of_birth"),
    }


def _flag(v: Any) -> str:
    v = clean(v)
    return "" if v is None else ("yes" if bool(v) else "no")

"""Sites (centres): registrations and sustained engagement, a centre's profile, whom its
reach area misses, and its figures small area by small area (view_centre_detail)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd

from everyfamily.web import charts
from everyfamily.web.labels import dimension_label
from everyfamily.web.pages.plain import plain_card
from everyfamily.web.release import public_rows
from everyfamily.web.tables import Column, NotFound, Table, clean
from everyfamily.web.view import RunView

#: Most rows of a centre's "who it misses" table.
MISSES_ROWS = 40


class CentresPage:
    """Every centre, and one centre's profile."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    def _reach_area_row(self, site: str, service: str) -> dict[str, Any] | None:
        ra = self.view.by_area.get(("reach_area", site))
        if ra is None:
            return None
        sel = ra[(ra["dimension"] == "all") & (ra["service"] == service)]
        return public_rows(sel.head(1))[0] if not sel.empty else None

    def table(self) -> Table:
        v = self.view
        rows = []
        for site in v.services[1:]:
            g = v.by_slice.get(("borough", "all", "all", site))
            if g is None:
                continue
            r = public_rows(g.head(1))[0]
            ra_any = self._reach_area_row(site, "any")
            rows.append(
                {
                    "site_id": site,
                    "name": v.site_name(site),
                    "url": f"/centres/{site}",
                    "registered": r["registered"],
                    "engaged": r["engaged"],
                    "engaged_per_registered": r["engaged_per_registered"],
                    "reach_children": ra_any["denominator"] if ra_any else None,
                    "reach_registered_rate": ra_any["registered_rate"] if ra_any else None,
                }
            )
        return Table(
            "centres",
            "Centres: registrations and sustained engagement",
            (
                Column("name", "Centre"),
                Column("site_id", "Site"),
                Column("registered", "Children registered here", "count"),
                Column("engaged", "Engaged here", "count"),
                Column("engaged_per_registered", "Engaged, of registered", "rate"),
                Column("reach_children", "Children in its reach area", "count"),
                Column("reach_registered_rate", "Reach area registered (any centre)", "rate"),
            ),
            tuple(rows),
            links={"name": "url"},
            note="Registered and engaged count children registered with, or attending, the "
            "centre wherever they live. The reach-area rate counts registration with any centre.",
        )

    def profile(self, site: str) -> dict[str, Any]:
        v = self.view
        if not v.is_site(site):
            raise NotFound(site)
        table = self.table()
        members = v.reach_area_members(site)
        return {
            "site_id": site,
            "name": v.site_name(site),
            "summary": next((r for r in table.rows if r["site_id"] == site), None),
            "location": v.site_location(site),
            "illustrative": v.sites_illustrative,
            "reach_any": self._reach_area_row(site, "any"),
            "reach_site": self._reach_area_row(site, site),
            "reach_area_members": [
                {"code": c, "name": v.area_name(c), "url": f"/areas/{c}"} for c in members
            ],
            "misses": self.misses_table(site),
            "bars_svg": self._bars(table, site),
            "findings": [
                plain_card(v, v.finding_card(f)) for f in v.findings if str(f.get("site")) == site
            ],
            "map_url": "/map?"
            + urlencode({"level": v.small_level, "service": site, "highlight": ",".join(members)}),
        }

    def _bars(self, table: Table, site: str) -> str:
        rows = [
            (str(r["name"]), clean(r["reach_registered_rate"]), clean(r["engaged_per_registered"]))
            for r in table.rows
        ]
        return charts.bar_pair_svg(
            rows,
            highlight=self.view.site_name(site),
            legend=("reach area registered (any centre)", "engaged, of those registered here"),
            title="For each centre: the share of children in its reach area registered with "
            "any centre, and the share of its own registrations in sustained engagement",
        )

    def misses_table(self, site: str) -> Table:
        """Groups in the centre's reach area with the lowest registration (any centre)."""
        v = self.view
        if not v.is_site(site):
            raise NotFound(site)
        ra = v.by_area.get(("reach_area", site))
        rows: list[dict[str, Any]] = []
        if ra is not None:
            sel = ra[
                (ra["service"] == "any")
                & (ra["dimension"] != "all")
                & (ra["dimension"] != "mother_country_of_birth")
            ]
            overall = ra[(ra["service"] == "any") & (ra["dimension"] == "all")]
            base = (
                float(overall["registered_rate"].iloc[0])
                if not overall.empty and pd.notna(overall["registered_rate"].iloc[0])
                else None
            )
            sel = sel.assign(raw_unreg=(sel["raw_denominator"] - sel["raw_registered"]))
            for rec, unreg in zip(public_rows(sel), sel["raw_unreg"], strict=True):
                rate = rec["registered_rate"]
                if rate is None or (base is not None and rate >= base):
                    continue
                rows.append(
                    {
                        "dimension": dimension_label(str(rec["dimension"])),
                        "group": rec["group_label"],
                        "denominator": rec["denominator"],
                        "not_registered": v.release.count(unreg),
                        "registered_rate": rate,
                        "registered_rate_lower": rec["registered_rate_lower"],
                        "registered_rate_upper": rec["registered_rate_upper"],
                        "_unreg": float(unreg),
                    }
                )
            rows.sort(key=lambda r: (-r["_unreg"], r["registered_rate"]))
            for r in rows:
                r.pop("_unreg")
        return Table(
            "centre_misses",
            f"Who {v.site_name(site)} misses: groups in its reach area "
            "registered less than the area overall",
            (
                Column("dimension", "Grouped by"),
                Column("group", "Group"),
                Column("denominator", "Children", "count"),
                Column("not_registered", "Not registered with any centre", "count"),
                Column("registered_rate", "Registered rate", "rate"),
                Column("registered_rate_lower", "95% lower", "rate"),
                Column("registered_rate_upper", "95% upper", "rate"),
            ),
            tuple(rows[:MISSES_ROWS]),
            export=urlencode({"site": site}),
            note="Groups whose rate could not be shown under disclosure control are left out.",
        )

    def areas_table(self, site: str) -> Table:
        """The centre's figures small area by small area (needs view_centre_detail)."""
        v = self.view
        if not v.is_site(site):
            raise NotFound(site)
        members = set(v.reach_area_members(site))
        g = v.by_slice.get((v.small_level, "all", "all", site))
        rows = []
        if g is not None:
            for rec in public_rows(g.sort_values("area_name")):
                in_area = rec["area_code"] in members
                if not in_area and not rec["registered"]:
                    continue
                rows.append(
                    {
                        "area": rec["area_name"],
                        "area_code": rec["area_code"],
                        "url": f"/areas/{rec['area_code']}",
                        "in_reach_area": "yes" if in_area else "no",
                        "denominator": rec["denominator"],
                        "registered": rec["registered"],
                        "registered_rate": rec["registered_rate"],
                        "engaged": rec["engaged"],
                        "engaged_rate": rec["engaged_rate"],
                    }
                )
        return Table(
            "centre_areas",
            f"{v.site_name(site)} small area by small area",
            (
                Column("area", "Area"),
                Column("area_code", "Code"),
                Column("in_reach_area", "In its reach area"),
                Column("denominator", "Children", "count"),
                Column("registered", "Registered here", "count"),
                Column("registered_rate", "Registered here, rate", "rate"),
                Column("engaged", "Engaged here", "count"),
                Column("engaged_rate", "Engaged here, rate", "rate"),
            ),
            tuple(rows),
            export=urlencode({"site": site}),
            links={"area": "url"},
        )

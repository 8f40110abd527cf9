"""Areas and groups: the released reach rows (API), the index of areas, and an area's
profile (headline, deprivation, reach by group, its place on the funnel plot, nearest
centres, related findings)."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from everyfamily.report.funnel import FunnelPoint, funnel_svg
from everyfamily.web.labels import BANDS, dimension_label, sort_groups
from everyfamily.web.pages.locator import locator_svg
from everyfamily.web.pages.plain import plain_card, ward_members, ward_of
from everyfamily.web.release import public_rows
from everyfamily.web.tables import Column, NotFound, Table, clean, number_or_none, numeric, pct
from everyfamily.web.view import RunView, dimension_order


class AreasPage:
    """Reach rows, the areas index and area profiles."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._walks: dict[str, tuple[float, str, bool]] | None = None
        self._near: dict[str, list[tuple[str, float, float]]] = {}
        self._level_near: dict[tuple[str, str], list[tuple[str, float, float]]] | None = None

    def walks(self) -> dict[str, tuple[float, str, bool]]:
        """Per small area, from the access stage's walking layer (reach.gpkg
        ``access_time_bands``, as the map's walking-time overlay and the barrier findings
        use): the median walk of its children to their nearest centre on foot (minutes),
        the centre most of them walk to, and whether the network was approximate. Empty
        when the run has no walking network."""
        if self._walks is None:
            got: dict[str, tuple[float, str, bool]] = {}
            near: dict[str, list[tuple[str, float, float]]] = {}
            raw = self.view.outputs.overlays.get("access_time_bands")
            for f in (json.loads(raw).get("features") or []) if raw else []:
                p = f.get("properties") or {}
                if p.get("area_code") is not None:
                    near[str(p["area_code"])] = _on_foot(p)
                minutes = number_or_none(p.get("median_walk_min"))
                if p.get("area_code") is None or minutes is None:
                    continue
                got[str(p["area_code"])] = (
                    float(minutes),
                    str(p.get("nearest_site_walk") or ""),
                    bool(p.get("approximate_network")),
                )
            self._walks, self._near = got, near
        return self._walks

    def level_walks(self) -> dict[tuple[str, str], list[tuple[str, float, float]]]:
        """(level, area code) -> the centres nearest on foot from the middle of each larger
        area, nearest first, from the access stage's area_walks.csv (access/area_walks.py);
        empty when the run wrote none."""
        if self._level_near is None:
            from everyfamily.access.area_walks import LEVEL_WALKS_FILE

            path = self.view.outputs.out_dir / LEVEL_WALKS_FILE
            got: dict[tuple[str, str], list[tuple[str, float, float]]] = {}
            if path.is_file():
                import pandas as pd

                text = {c: str for c in ("level", "area_code", "walk_site_1", "walk_site_2")}
                frame = pd.read_csv(path, dtype={**text, "walk_site_3": str})
                for row in frame.to_dict("records"):
                    got[(str(row["level"]), str(row["area_code"]))] = _on_foot(
                        {str(k): v for k, v in row.items()}
                    )
            self._level_near = got
        return self._level_near

    def walking(self, level: str, code: str) -> dict[str, Any] | None:
        """The walk to the nearest centre from an area's homes: for a small area its median
        walk and the centre most walk to; for a larger area the range of its small areas'
        medians. None without a walking network."""
        walks, v = self.walks(), self.view
        if level == v.small_level:
            codes = [code]
        elif level == "borough":
            codes = list(walks)
        else:
            codes = [m["code"] for m in ward_members(v, code)]
        got = [walks[c] for c in codes if c in walks]
        if not got:
            return None
        minutes = sorted(round(g[0]) for g in got)
        sites = [g[1] for g in got if g[1]]
        site = max(sorted(set(sites)), key=sites.count) if sites else ""
        return {
            "small": level == v.small_level,
            "minutes": minutes[0] if len(minutes) == 1 else None,
            "low": minutes[0],
            "high": minutes[-1],
            "areas": len(got),
            "site": v.site_name(site) if site else "",
            "site_url": f"/centres/{site}" if site else "",
            "approximate": any(g[2] for g in got),
        }

    def reach_rows(
        self, level: str, area: str | None, dimension: str | None, service: str, limit: int = 5000
    ) -> list[dict[str, Any]]:
        v = self.view
        v.check("level", level, v.levels)
        v.check("service", service, v.services)
        if area is not None:
            g = v.by_area.get((level, area))
            if g is None:
                raise NotFound(area)
        else:
            g = v.reach[v.reach["level"] == level]
        g = g[g["service"] == service]
        if dimension is not None:
            v.check("dimension", dimension, v.dimensions)
            g = g[g["dimension"] == dimension]
        return public_rows(g.head(max(1, min(limit, 50000))))

    def index(self) -> list[dict[str, Any]]:
        out = []
        for lvl in self.view.levels:
            g = self.view.by_slice.get((lvl, "all", "all", "any"))
            if g is None:
                continue
            for code, name in zip(g["area_code"], g["area_name"], strict=True):
                out.append({"level": lvl, "code": code, "name": name, "url": f"/areas/{code}"})
        return out

    def profile(self, code: str, service: str = "any") -> dict[str, Any]:
        v = self.view
        level = v.level_of.get(code)
        if level is None:
            raise NotFound(code)
        v.check("service", service, v.services)
        rows = v.by_area[(level, code)]
        overall = rows[(rows["dimension"] == "all") & (rows["service"] == service)]
        deprivation = {}
        for dim in ("imd_decile", "idaci_decile"):
            sel = rows[
                (rows["dimension"] == dim)
                & (rows["service"] == "any")
                & (rows["raw_denominator"] > 0)
            ]
            deprivation[dim] = sort_groups([str(g) for g in sel["group_value"] if g != "unknown"])
        ra = v.outputs.reach_areas
        member_of = sorted(ra.loc[ra["small_area"] == code, "site_id"].astype(str))
        map_level = level if level != "borough" else v.small_level
        return {
            "code": code,
            "level": level,
            "level_label": v.level_label(level),
            "name": v.area_name(code),
            "service": service,
            "service_label": v.site_name(service),
            "overall": public_rows(overall.head(1))[0] if not overall.empty else None,
            "deprivation": deprivation,
            "groups": self.groups_table(code, service),
            "funnel_svg": self.funnel(level, code, service),
            "nearest_sites": self.nearest_sites(level, code),
            "walking": self.walking(level, code),
            "reach_areas": [
                {"site_id": s, "name": v.site_name(s), "url": f"/centres/{s}"} for s in member_of
            ],
            "findings": [
                plain_card(v, v.finding_card(f)) for f in v.findings if _mentions(f, code)
            ],
            "map_url": "/map?" + urlencode({"level": map_level, "highlight": code}),
            **self.place(code),
        }

    def place(self, code: str) -> dict[str, Any]:
        """Where an area is: its ward (a small area), the small areas of a larger area, and
        a locator map of either."""
        v = self.view
        ward = ward_of(v, code) if v.level_of.get(code) == v.small_level else None
        level = v.level_of.get(code)
        members = ward_members(v, code) if level not in (v.small_level, "borough") else []
        shapes = v.outputs.shapes.get(v.small_level)
        locator = ""
        if shapes is not None and v.level_of.get(code) != "borough":
            if ward is not None:
                around = [m["code"] for m in ward_members(v, ward["code"])]
                title = f"Where {v.area_name(code)} is: dark, in {ward['name']} (mid blue)"
                locator = locator_svg(shapes.geojson, code, around, title)
            elif members:
                title = f"Where {v.area_name(code)} is: its small areas in blue"
                locator = locator_svg(shapes.geojson, "", [m["code"] for m in members], title)
        return {"ward": ward, "members": members, "locator_svg": locator}

    def groups_table(self, code: str, service: str = "any") -> Table:
        v = self.view
        level = v.level_of.get(code)
        if level is None:
            raise NotFound(code)
        v.check("service", service, v.services)
        rows = v.by_area[(level, code)]
        sel = rows[rows["service"] == service]
        order = dimension_order()
        sel = sel.assign(_d=sel["dimension"].map(lambda d: order.index(d) if d in order else 99))
        out = []
        for _d, g in sel.groupby("_d", sort=True):
            groups = sort_groups([str(x) for x in g["group_value"]])
            for rec in sorted(public_rows(g), key=lambda r: groups.index(str(r["group_value"]))):
                out.append(
                    {
                        "dimension": dimension_label(str(rec["dimension"])),
                        "group": rec["group_label"],
                        **{k: rec[k] for k in _GROUP_FIGURES},
                        "band": BANDS.get(str(rec["funnel_band"]), "")
                        if rec["funnel_band"]
                        else "",
                    }
                )
        return Table(
            "area_groups",
            f"Reach by group: {v.area_name(code)} ({v.site_name(service)})",
            (
                Column("dimension", "Grouped by"),
                Column("group", "Group"),
                Column("denominator", "Children", "count"),
                Column("registered", "Registered", "count"),
                Column("registered_rate", "Registered rate", "rate"),
                Column("registered_rate_lower", "95% lower", "rate"),
                Column("registered_rate_upper", "95% upper", "rate"),
                Column("engaged", "Engaged", "count"),
                Column("engaged_rate", "Engaged rate", "rate"),
                Column("engaged_rate_lower", "95% lower", "rate"),
                Column("engaged_rate_upper", "95% upper", "rate"),
                Column("band", "Funnel plot"),
            ),
            tuple(out),
            export=urlencode({"area": code, "service": service}),
        )

    def funnel(self, level: str, code: str | None, service: str = "any") -> str:
        """The funnel plot of every area of ``level`` (released rates), ``code`` marked."""
        v = self.view
        g = v.by_slice.get((level, "all", "all", service))
        b = v.borough_row(service)
        if g is None or b is None or b.get("registered_rate") is None:
            return ""
        points = [
            FunnelPoint(
                str(r["area_code"]),
                str(r["area_name"]),
                float(r["denominator"]),
                float(r["registered_rate"]),
                r["funnel_band"],
            )
            for r in public_rows(g)
            if r["registered_rate"] is not None and r["denominator"] is not None
        ]
        from everyfamily.reach.methods import funnel_caption

        tau2s = numeric(g, "funnel_tau2").dropna()  # the family's tau2, as in reach.csv
        tau2 = float(tau2s.iloc[0]) if len(tau2s) else 0.0
        title = (
            f"Funnel plot: registered rate of each {v.level_label(level).lower()} area "
            f"against its number of children, with 95% and 99.8% limits around the "
            f"borough rate of {pct(b['registered_rate'])} ({funnel_caption(tau2)})"
        )
        return funnel_svg(points, float(b["registered_rate"]), code, title=title, tau2=tau2)

    def nearest_sites(self, level: str, code: str, k: int = 3) -> list[dict[str, Any]]:
        """The ``k`` centres nearest the middle of an area: on foot over the access stage's
        street network where the run has it for this area (a small area: access/
        area_walks.py; a ward or other larger area: area_walks.csv, the walk from its own
        middle), each with ``walk_min`` and the walk in km, otherwise in a straight
        line (haversine) from the same point, each with ``walk_min`` None."""
        self.walks()
        small = level == self.view.small_level
        on_foot = (self._near.get(code) if small else self.level_walks().get((level, code))) or []
        if on_foot:
            return [
                {
                    "site_id": site,
                    "name": self.view.site_name(site),
                    "km": round(metres / 1000, 2),
                    "walk_min": round(minutes),
                    "url": f"/centres/{site}",
                }
                for site, metres, minutes in on_foot[:k]
            ]
        shapes = self.view.outputs.shapes.get(level)
        centre = shapes.centres.get(code) if shapes else None
        if centre is None:
            return []
        found: list[dict[str, Any]] = []
        for r in self.view.sites.itertuples():
            lat, lon = clean(r.lat), clean(r.lon)
            if lat is None or lon is None:
                continue
            found.append(
                {
                    "site_id": str(r.site_id),
                    "name": str(r.site_name),
                    "km": round(haversine_km(centre[0], centre[1], lat, lon), 2),
                    "walk_min": None,
                    "url": f"/centres/{r.site_id}",
                }
            )
        return sorted(found, key=lambda s: s["km"])[:k]


_GROUP_FIGURES = (
    "denominator",
    "registered",
    "registered_rate",
    "registered_rate_lower",
    "registered_rate_upper",
    "engaged",
    "engaged_rate",
    "engaged_rate_lower",
    "engaged_rate_upper",
)


def _on_foot(props: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The centres nearest on foot of one walking-layer feature: (site, metres, minutes),
    nearest first (columns ``walk_site_1``, ``walk_m_1``, ``walk_min_1`` ...)."""
    out: list[tuple[str, float, float]] = []
    for i in range(1, 10):
        site = props.get(f"walk_site_{i}")
        metres = number_or_none(props.get(f"walk_m_{i}"))
        minutes = number_or_none(props.get(f"walk_min_{i}"))
        if not site or metres is None or minutes is None:
            break
        out.append((str(site), float(metres), float(minutes)))
    return out


def _mentions(f: dict[str, Any], code: str) -> bool:
    """Does a finding name the area (in its areas or in its evidence's areas)?"""
    named = [str(a) for a in f.get("areas") or []]
    named += [
        str(a.get("area_code"))
        for a in (f.get("evidence") or {}).get("areas") or []
        if isinstance(a, dict)
    ]
    return code in named


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371.0088 km); within a borough
    it differs from British National Grid distance by well under 1%."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))

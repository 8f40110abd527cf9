"""The released, read-only view of one run that every page service reads.

:class:`RunView` is built once from :class:`everyfamily.web.outputs.RunOutputs` (the files
the run wrote): the reach table released through the one release path
(:func:`everyfamily.web.release.dashboard_reach`), indexed by slice and by area, and the
run's labels (title, levels, services, groups). Every figure a page shows comes from it, so
no page service sees an exact count. It answers lookups only (names, labels, links); what a
page shows is in :mod:`everyfamily.web.pages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from everyfamily.population.levels import level_label, ordered_levels
from everyfamily.privacy.release import ReleaseRules, rule_text
from everyfamily.web.labels import (
    DIMENSIONS,
    MEASURES,
    group_label,
    sort_groups,
)
from everyfamily.web.outputs import RunOutputs
from everyfamily.web.release import dashboard_reach, public_rows, run_rules
from everyfamily.web.tables import BadRequest, clean

#: (level, dimension, group_value, service) -> the released rows of that slice
SliceKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class RunView:
    """One run's outputs as the dashboard may show them (see the module docstring)."""

    outputs: RunOutputs
    release: ReleaseRules
    title: str
    attribution: tuple[str, ...]
    reference_date: str
    basemap_url: str | None
    sites_illustrative: bool
    reach: pd.DataFrame  # the released reach table (dashboard_reach)
    by_slice: Mapping[SliceKey, pd.DataFrame]
    by_area: Mapping[tuple[str, str], pd.DataFrame]
    level_of: Mapping[str, str]  # area code -> its level (the first level it appears at)
    small_level: str
    level_labels: Mapping[str, str]
    levels: tuple[str, ...]
    site_names: Mapping[str, str]
    services: tuple[str, ...]  # "any", then each site
    dimensions: Mapping[str, list[str]]  # dimension -> its groups (small-area level)
    findings: tuple[dict[str, Any], ...]

    @classmethod
    def build(cls, outputs: RunOutputs) -> RunView:
        run, settings = outputs.run, outputs.settings
        release = run_rules(settings.get("privacy"))
        project = settings.get("project") or {}
        geography = settings.get("geography") or {}
        small_level = str(geography.get("small_area_level") or "lsoa")
        reach = dashboard_reach(outputs.reach, release, outputs.membership, small_level)
        by_slice = {
            k: g
            for k, g in reach.groupby(["level", "dimension", "group_value", "service"], sort=False)
        }
        by_area = {k: g for k, g in reach.groupby(["level", "area_code"], sort=False)}
        sizes = reach.groupby("level")["area_code"].nunique()
        levels = ordered_levels(
            set(reach["level"]),
            small_level,
            geography,
            {str(k): int(v) for k, v in sizes.items()},
        )
        if small_level not in levels and levels:
            small_level = levels[0]
        level_of: dict[str, str] = {}
        for lvl, code in by_area:
            level_of.setdefault(str(code), str(lvl))
        sites = outputs.sites
        return cls(
            outputs=outputs,
            release=release,
            title=str(
                project.get("area_name")
                or project.get("name")
                or run.get("project")
                or "everyfamily"
            ),
            attribution=tuple(str(a) for a in project.get("attribution") or []),
            reference_date=str(run.get("reference_date") or project.get("reference_date") or ""),
            basemap_url=(settings.get("outputs") or {}).get("basemap_url"),
            sites_illustrative=bool((settings.get("sites") or {}).get("illustrative")),
            reach=reach,
            by_slice=by_slice,  # type: ignore[arg-type]
            by_area=by_area,  # type: ignore[arg-type]
            level_of=level_of,
            small_level=small_level,
            level_labels={str(k): str(v) for k, v in (geography.get("level_labels") or {}).items()},
            levels=tuple(levels),
            site_names={str(r.site_id): str(r.site_name) for r in sites.itertuples()},
            services=("any", *sorted(s for s in set(reach["service"]) if s != "any")),
            dimensions={
                str(d): sort_groups(sorted({str(v) for v in g["group_value"]}))
                for d, g in reach[reach["level"] == small_level].groupby("dimension")
            },
            findings=tuple(outputs.findings.get("findings") or []),
        )

    # --- lookups ------------------------------------------------------------------------------

    @property
    def sites(self) -> pd.DataFrame:
        return self.outputs.sites

    @property
    def rule_text(self) -> str:
        """One sentence describing the release rule, shown on every page and export."""
        return rule_text(self.release)

    def borough_row(self, service: str = "any") -> dict[str, Any] | None:
        g = self.by_slice.get(("borough", "all", "all", service))
        return None if g is None or g.empty else public_rows(g.head(1))[0]

    def level_label(self, level: str) -> str:
        """The level's plural label: the project's geography.level_labels, else labels.py."""
        return level_label(level, dict(self.level_labels))

    def site_name(self, site: str) -> str:
        if site == "any":
            return "Any centre"
        return self.site_names.get(site, site)

    def area_name(self, code: str) -> str:
        lvl = self.level_of.get(code)
        g = self.by_area.get((lvl, code)) if lvl else None
        return code if g is None else str(g["area_name"].iloc[0])

    def check(self, name: str, value: str, allowed: Iterable[str]) -> str:
        """``value`` if it is one of ``allowed``, else a :class:`BadRequest` naming them."""
        allowed = list(allowed)
        if value not in allowed:
            raise BadRequest(f"{name}: unknown value; use one of: {', '.join(allowed)}")
        return value

    def is_site(self, site: str) -> bool:
        return site in self.services and site != "any"

    def expand_areas(self, codes: Iterable[str]) -> frozenset[str]:
        """Small areas within the given area codes (any level; a small area is itself)."""
        codes = {str(c) for c in codes}
        out = set(codes)
        m = self.outputs.membership
        if m is not None and not m.empty:
            out |= set(m.loc[m["area_code"].astype(str).isin(codes), "small_area"].astype(str))
        return frozenset(out)

    def reach_area_members(self, site: str) -> list[str]:
        """The small areas of a centre's reach area, sorted."""
        ra = self.outputs.reach_areas
        return sorted(ra.loc[ra["site_id"].astype(str) == site, "small_area"].astype(str))

    def site_location(self, site: str) -> dict[str, float] | None:
        row = self.sites[self.sites["site_id"].astype(str) == site]
        if row.empty:
            return None
        lat, lon = clean(row["lat"].iloc[0]), clean(row["lon"].iloc[0])
        return None if lat is None or lon is None else {"lat": lat, "lon": lon}

    # --- findings (cards appear on several pages) ---------------------------------------------

    def finding_links(self, f: Mapping[str, Any]) -> dict[str, Any]:
        """Where a finding's areas are: map query and profile links."""
        areas = [str(a) for a in f.get("areas") or [] if str(a) in self.level_of]
        level = self.level_of.get(areas[0], self.small_level) if areas else self.small_level
        params: dict[str, str] = {"measure": "registered_rate", "level": level}
        group = f.get("group") or None
        # a deprivation gradient is about every decile: the plain rate map, not one group
        if group and group.get("dimension") in self.dimensions and group["value"] != "gradient":
            params["dimension"] = str(group["dimension"])
            params["group"] = str(group["value"])
        measure = str(f.get("measure") or "")
        if measure in MEASURES:
            params["measure"] = measure
        if level == "borough":
            params["level"] = self.small_level
        elif areas:
            params["highlight"] = ",".join(areas)
        site = f.get("site")
        if site:
            params["service"] = str(site) if str(site) in self.services else "any"
        return {
            "map": "/map?" + urlencode(params),
            "areas": [
                {"code": a, "name": self.area_name(a), "url": f"/areas/{a}"}
                for a in areas
                if self.level_of.get(a) != "borough"
            ],
            "site": {"id": str(site), "name": self.site_name(str(site)), "url": f"/centres/{site}"}
            if site
            else None,
        }

    def finding_card(self, f: Mapping[str, Any]) -> dict[str, Any]:
        """A finding as its card shows it (findings.json, counts released again)."""
        ev = f.get("evidence") or {}
        interval = f.get("interval") or [None, None]
        return {
            "id": f.get("id"),
            "rank": f.get("rank"),
            "kind": f.get("kind"),
            "kind_label": str(f.get("kind") or "").replace("_", " ").capitalize(),
            "headline": f.get("headline"),
            "severity": ev.get("severity"),
            "measure": f.get("measure"),
            "measure_label": MEASURES[f["measure"]].label
            if f.get("measure") in MEASURES
            else str(f.get("measure") or "").replace("_", " "),
            "observed": clean(f.get("observed")),
            "expected": clean(f.get("expected")),
            "lower": clean(interval[0]),
            "upper": clean(interval[1]),
            # findings.json counts were released by the findings engine; release again with
            # this run's rule so a hand-edited file cannot show a small count
            "children_affected": self.release.again(f.get("children_affected")),
            "test": ev.get("test"),
            "q_value": clean(ev.get("q_value")),
            "why_ranked": ev.get("why_ranked"),
            "group": f.get("group"),
            "group_label": group_label(f["group"]["dimension"], f["group"]["value"])
            if f.get("group")
            else None,
            "links": self.finding_links(f),
        }


def dimension_order() -> list[str]:
    """Dimensions in the order the pages list them (labels.DIMENSIONS)."""
    return list(DIMENSIONS)

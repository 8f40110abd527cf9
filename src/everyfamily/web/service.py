"""The dashboard's service layer: what each page and API endpoint shows, as plain data.

Routes call only this module. :class:`Dashboard` is built once from a run's outputs
(:mod:`everyfamily.web.outputs` reads the files) and applies disclosure control at the
door: the reach table is released once (:func:`release_reach`) and every figure served
afterwards comes from the released copy. Raw counts are kept only in columns prefixed
``raw_`` so that sums over many areas (a legend class, a reach area) can be released as a
whole; no serializer here copies a ``raw_`` column out.

Person-level rows are read on demand: the pseudonymised outreach list by
:meth:`Dashboard.outreach` (permission ``view_outreach_list``) and the pseudonymised records
by :meth:`Dashboard.records` (``view_records``). Names and contact details are never held
here: the outreach list asks a :data:`ContactLookup`, which the route hands over only to a
role with ``reidentify`` and which audits, then reads the identifiable store, per request.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from everyfamily.privacy.release import WITHHELD_REASON_COLUMN, withheld_text
from everyfamily.report.svg import NO_DATA, PALETTE, class_breaks, classify
from everyfamily.schema import QUALITY_FLAGS, QUARANTINE_REASONS
from everyfamily.stage import map_overlays
from everyfamily.web import charts
from everyfamily.web.labels import (
    BANDS,
    MEASURES,
    dimension_label,
    group_label,
    level_label,
    ordered_levels,
    outline_levels,
    sort_groups,
)
from everyfamily.web.outputs import RunOutputs, read_children, read_not_reached
from everyfamily.web.release import Release

COUNT_COLUMNS = ("ons_population", "denominator", "known", "registered", "engaged")
#: rate column -> (numerator, denominator) whose release decides whether it is shown
RATE_COLUMNS: dict[str, tuple[str, str]] = {
    "registered_rate": ("registered", "denominator"),
    "registered_rate_lower": ("registered", "denominator"),
    "registered_rate_upper": ("registered", "denominator"),
    "engaged_rate": ("engaged", "denominator"),
    "engaged_rate_lower": ("engaged", "denominator"),
    "engaged_rate_upper": ("engaged", "denominator"),
    "registered_rate_ons": ("registered", "ons_population"),
    "engaged_rate_ons": ("engaged", "ons_population"),
    "registered_rate_smoothed": ("registered", "denominator"),
    "engaged_per_registered": ("engaged", "registered"),
}
KEY_COLUMNS = ("level", "area_code", "area_name", "dimension", "group_value", "service")
OUTREACH_PAGE_SIZE = 100
#: Most rows of the record-level view served at once (the server's limit on a page).
RECORDS_PAGE_SIZE = 200
#: Most results (e.g. serialised API answers) the dashboard remembers.
MEMO_SIZE = 2048
#: Labels of the map overlays, from the stages' declarations (everyfamily.stage.MapOverlay).
OVERLAY_LABELS: dict[str, str] = {o.key: o.label for o in map_overlays()}


#: Re-identification, handed to the outreach list only for a user allowed it:
#: ``(person_ids, area_codes) -> DataFrame`` of person_id and the contact columns. The caller
#: (the route) writes the audit entry before it opens the identifiable store.
ContactLookup = Callable[[list[str], list[str]], pd.DataFrame]


class NotFound(LookupError):
    """No such area, centre or table (the route answers 404 without detail)."""


class BadRequest(ValueError):
    """A query parameter has a value the dashboard does not know (400, with the choices)."""


# --- Tables (shown on pages and exported) ---------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | count | rate | number | km


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


@dataclass(frozen=True)
class Table:
    """A table as shown on a page and exported (CSV/Excel). Values are already released."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    note: str = ""
    export: str = ""  # query string of the export link (the table's parameters)
    links: dict[str, str] = field(default_factory=dict)  # column key -> row key of its URL

    def records(self) -> list[dict[str, Any]]:
        return [{c.key: r.get(c.key) for c in self.columns} for r in self.rows]


# --- Releasing the reach table --------------------------------------------------------------


def _released_counts(values: pd.Series, release: Release) -> pd.Series:
    """Release a column of counts, calling disclosure control once per distinct value."""
    numbers = pd.to_numeric(values, errors="coerce")
    mapping = {v: release.count(v) for v in numbers.dropna().unique()}
    out = numbers.map(lambda v: None if pd.isna(v) else mapping[v])
    return out.astype("Int64")


def release_reach(
    reach: pd.DataFrame,
    release: Release,
    hierarchy: pd.DataFrame | None = None,
    small_area_level: str = "lsoa",
) -> pd.DataFrame:
    """The reach table as it may be shown: :func:`everyfamily.privacy.release.release_reach`
    (through :meth:`Release.reach`, the same function that wrote reach.csv; releasing a
    released table changes nothing), plus ``engaged_per_registered`` from the released
    counts. The ``raw_*`` columns used for re-aggregation (legend classes, reach areas) hold
    the RELEASED counts too, so the dashboard holds no exact count at all."""
    released = release.reach(reach, hierarchy, small_area_level)
    released = released.assign(
        **{
            c: pd.to_numeric(released[c], errors="coerce").astype("float64")
            for c in released.columns
            if c not in (*KEY_COLUMNS, "funnel_band", WITHHELD_REASON_COLUMN)
        }
    )
    out = released[list(KEY_COLUMNS)].copy()
    for c in COUNT_COLUMNS:
        out[f"raw_{c}"] = _numeric(released, c)
        out[c] = _numeric(released, c).round(0).astype("Int64")
    reg, eng = _numeric(released, "registered"), _numeric(released, "engaged")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_reg = np.where(reg > 0, eng / reg, np.nan)
    # shown only when engaged, registered and registered-not-engaged would all be released
    ok = reg.notna() & eng.notna() & ((reg - eng) > release.suppress_at_or_below)
    for col in RATE_COLUMNS:
        if col == "engaged_per_registered":
            out[col] = pd.Series(per_reg, index=out.index).where(ok).round(4)
        else:
            out[col] = _numeric(released, col)
    for col in (
        "known_completeness",
        "funnel_z",
        "funnel_tau2",
        "linkage_shift_lower",
        "linkage_shift_upper",
    ):
        out[col] = _numeric(released, col)
    out["funnel_band"] = released["funnel_band"].where(released["funnel_band"].notna(), None)
    if WITHHELD_REASON_COLUMN in released:  # why each withheld count is withheld (issue 15)
        out[WITHHELD_REASON_COLUMN] = released[WITHHELD_REASON_COLUMN].fillna("").astype(str)
    return out


PUBLIC_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    *COUNT_COLUMNS,
    "known_completeness",
    *RATE_COLUMNS,
    "funnel_z",
    "funnel_band",
    "linkage_shift_lower",
    "linkage_shift_upper",
    WITHHELD_REASON_COLUMN,
)


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as numbers (NaN where empty or absent)."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.Series(pd.to_numeric(frame[column], errors="coerce"), index=frame.index)


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def public_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the released reach table as JSON-ready dicts (public columns only)."""
    cols = [c for c in PUBLIC_COLUMNS if c in frame.columns]
    rows = []
    for rec in frame[cols].to_dict("records"):
        row = {str(k): _clean(v) for k, v in rec.items()}
        row["group_label"] = group_label(str(row["dimension"]), str(row["group_value"]))
        if row.get(WITHHELD_REASON_COLUMN):
            row["withheld_note"] = withheld_text(str(row[WITHHELD_REASON_COLUMN]))
        rows.append(row)
    return rows


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371.0088 km); within a borough
    it differs from British National Grid distance by well under 1%."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _number_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _pct(v: Any) -> str:
    v = _clean(v)
    return "suppressed" if v is None else f"{100 * float(v):.1f}%"


# --- The dashboard --------------------------------------------------------------------------


class Dashboard:
    """Everything the pages and API show, computed from one run's outputs."""

    def __init__(self, outputs: RunOutputs) -> None:
        self.outputs = outputs
        run = outputs.run
        settings = outputs.settings
        self.release = Release.from_settings(settings.get("privacy"))
        self.project = settings.get("project") or {}
        self.title = str(
            self.project.get("area_name")
            or self.project.get("name")
            or run.get("project")
            or "everyfamily"
        )
        self.attribution: list[str] = [str(a) for a in self.project.get("attribution") or []]
        self.reference_date = str(
            run.get("reference_date") or self.project.get("reference_date") or ""
        )
        self.basemap_url: str | None = (settings.get("outputs") or {}).get("basemap_url")
        self.sites_illustrative = bool((settings.get("sites") or {}).get("illustrative"))
        self.reach = release_reach(
            outputs.reach,
            self.release,
            outputs.membership,
            str((settings.get("geography") or {}).get("small_area_level") or "lsoa"),
        )
        self._by_slice = {
            k: g
            for k, g in self.reach.groupby(
                ["level", "dimension", "group_value", "service"], sort=False
            )
        }
        self._by_area = {k: g for k, g in self.reach.groupby(["level", "area_code"], sort=False)}
        geography = settings.get("geography") or {}
        self.small_level = str(geography.get("small_area_level") or "lsoa")
        self.level_labels: dict[str, str] = {
            str(k): str(v) for k, v in (geography.get("level_labels") or {}).items()
        }
        sizes = self.reach.groupby("level")["area_code"].nunique()
        self.levels = ordered_levels(
            set(self.reach["level"]),
            self.small_level,
            geography,
            {str(k): int(v) for k, v in sizes.items()},
        )
        if self.small_level not in self.levels and self.levels:
            self.small_level = self.levels[0]
        self._level_of: dict[str, str] = {}
        for lvl, code in self._by_area:
            self._level_of.setdefault(str(code), str(lvl))
        self.sites = outputs.sites
        self.site_names = {str(r.site_id): str(r.site_name) for r in self.sites.itertuples()}
        self.services = ["any", *sorted(s for s in set(self.reach["service"]) if s != "any")]
        self.dimensions: dict[str, list[str]] = {
            str(d): sort_groups(sorted({str(v) for v in g["group_value"]}))
            for d, g in self.reach[self.reach["level"] == self.small_level].groupby("dimension")
        }
        self.findings: list[dict[str, Any]] = list(outputs.findings.get("findings") or [])
        self._outreach: pd.DataFrame | None = None
        self._outreach_lock = threading.Lock()
        self._records: pd.DataFrame | None = None
        self._records_lock = threading.Lock()
        self._map_values = lru_cache(maxsize=1024)(self._compute_map_values)
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._memo_lock = threading.Lock()

    def memo(self, key: tuple[Any, ...], produce: Callable[[], Any]) -> Any:
        """``produce()`` once per key (a run's outputs never change under the app), keeping
        the :data:`MEMO_SIZE` most recently used results. Errors are not remembered."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = produce()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

    # --- helpers ---------------------------------------------------------------------------

    def borough_row(self, service: str = "any") -> dict[str, Any] | None:
        g = self._by_slice.get(("borough", "all", "all", service))
        return None if g is None or g.empty else public_rows(g.head(1))[0]

    def level_label(self, level: str) -> str:
        """The level's plural label: the project's geography.level_labels, else labels.py."""
        return level_label(level, self.level_labels)

    def site_name(self, site: str) -> str:
        if site == "any":
            return "Any centre"
        return self.site_names.get(site, site)

    def area_name(self, code: str) -> str:
        lvl = self._level_of.get(code)
        g = self._by_area.get((lvl, code)) if lvl else None
        return code if g is None else str(g["area_name"].iloc[0])

    def _check(self, name: str, value: str, allowed: Iterable[str]) -> str:
        allowed = list(allowed)
        if value not in allowed:
            raise BadRequest(f"{name}: unknown value; use one of: {', '.join(allowed)}")
        return value

    def finding_links(self, f: Mapping[str, Any]) -> dict[str, Any]:
        """Where a finding's areas are: map query and profile links."""
        areas = [str(a) for a in f.get("areas") or [] if str(a) in self._level_of]
        level = self._level_of.get(areas[0], self.small_level) if areas else self.small_level
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
                if self._level_of.get(a) != "borough"
            ],
            "site": {"id": str(site), "name": self.site_name(str(site)), "url": f"/centres/{site}"}
            if site
            else None,
        }

    # --- overview ----------------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        b = self.borough_row()
        reach_meta = self.outputs.run.get("reach") or {}
        top = [self._finding_card(f) for f in self.findings[:5]]
        completeness = self._completeness_table()
        return {
            "title": self.title,
            "reference_date": self.reference_date,
            "borough": b,
            "trend": None,  # a run measures one reference date; see the page note
            "population_vintage": reach_meta.get("population_vintage")
            or (self.outputs.run.get("data_vintages") or {}).get("population"),
            "findings_total": len(self.findings),
            "findings_striking": sum(
                1 for f in self.findings if (f.get("evidence") or {}).get("severity") == "striking"
            ),
            "top_findings": top,
            "children_without_area": self.release.count(reach_meta.get("children_without_area")),
            "completeness": completeness,
            "warnings": list(self.outputs.warnings),
        }

    def _completeness_table(self) -> Table:
        g = self._by_slice.get((self.small_level, "all", "all", "any"))
        rows: list[dict[str, Any]] = []
        if g is not None:
            ratio = g["raw_known"] / g["raw_ons_population"].where(g["raw_ons_population"] > 0)
            frame = g.assign(_ratio=ratio).sort_values(["_ratio", "area_code"])
            for rec in public_rows(frame.head(10)):
                rows.append(
                    {
                        "area": rec["area_name"],
                        "area_code": rec["area_code"],
                        "url": f"/areas/{rec['area_code']}",
                        "ons_population": rec["ons_population"],
                        "known": rec["known"],
                        "known_completeness": rec["known_completeness"],
                    }
                )
        return Table(
            "completeness",
            "Lowest known-population completeness (small areas)",
            (
                Column("area", "Area"),
                Column("ons_population", "ONS estimate", "count"),
                Column("known", "Known to universal services", "count"),
                Column("known_completeness", "Completeness", "rate"),
            ),
            tuple(rows),
            note="Known to a universal service (births, health visiting) as a "
            "share of the ONS estimate; well below 100% means children the council cannot see.",
            links={"area": "url"},
        )

    # --- map ---------------------------------------------------------------------------------

    def map_options(self) -> dict[str, Any]:
        drawn = [lv for lv in self.levels if lv in self.outputs.shapes]
        outlines = outline_levels(drawn, self.small_level)
        return {
            "levels": [
                {"key": lv, "label": self.level_label(lv)}
                for lv in self.levels
                if lv in self.outputs.shapes and lv != "borough"
            ],
            "measures": [{"key": m.key, "label": m.label} for m in MEASURES.values()],
            "dimensions": [
                {
                    "key": d,
                    "label": dimension_label(d),
                    "groups": [{"key": v, "label": group_label(d, v)} for v in groups],
                }
                for d, groups in sorted(
                    self.dimensions.items(),
                    key=lambda kv: (
                        list(dimension_label_order()).index(kv[0])
                        if kv[0] in dimension_label_order()
                        else 99
                    ),
                )
            ],
            "services": [{"key": s, "label": self.site_name(s)} for s in self.services],
            "outlines": outlines,
            "outline_labels": {lv: self.level_label(lv) for lv in outlines},
            "overlays": [
                {"key": k, "label": OVERLAY_LABELS.get(k, k.replace("_", " "))}
                for k in self.outputs.overlays
            ],
            "overlays_approximate": bool(
                (self.outputs.run.get("access") or {}).get("approximate_network")
            ),
            "basemap_url": self.basemap_url,
            "sites_illustrative": self.sites_illustrative,
            "small_level": self.small_level,
        }

    def map_geometry(self, level: str) -> bytes:
        shapes = self.outputs.shapes.get(level)
        if shapes is None:
            raise NotFound(level)
        return shapes.geojson

    def map_overlay(self, name: str) -> bytes:
        """One overlay layer (access stage) as GeoJSON; NotFound for any other name."""
        layer = self.outputs.overlays.get(name)
        if layer is None:
            raise NotFound(name)
        return layer

    def map_sites(self) -> dict[str, Any]:
        sites = []
        for r in self.sites.itertuples():
            lat, lon = _clean(r.lat), _clean(r.lon)
            if lat is None or lon is None:
                continue
            sites.append(
                {
                    "site_id": str(r.site_id),
                    "name": str(r.site_name),
                    "lat": lat,
                    "lon": lon,
                    "url": f"/centres/{r.site_id}",
                }
            )
        return {"illustrative": self.sites_illustrative, "sites": sites}

    def map_values(
        self, level: str, measure: str, dimension: str, group: str, service: str
    ) -> dict[str, Any]:
        """Each area's released value of a measure for one group and service, its class
        and the legend (classes with the number of children behind each colour)."""
        self._check("level", level, [lv for lv in self.levels if lv in self.outputs.shapes])
        self._check("measure", measure, MEASURES)
        self._check("dimension", dimension, self.dimensions)
        self._check("group", group, self.dimensions[dimension])
        self._check("service", service, self.services)
        result: dict[str, Any] = self._map_values(level, measure, dimension, group, service)
        return result

    def _compute_map_values(
        self, level: str, measure: str, dimension: str, group: str, service: str
    ) -> dict[str, Any]:
        m = MEASURES[measure]
        g = self._by_slice.get((level, dimension, group, service))
        frame = g if g is not None else self.reach.iloc[0:0]
        values = frame[measure].to_numpy(dtype="float64")
        finite = [float(v) for v in values if math.isfinite(v)]
        edges = class_breaks(finite)
        raw_den = pd.to_numeric(frame[f"raw_{m.denominator}"], errors="coerce").to_numpy()
        areas: dict[str, Any] = {}
        class_children = [0.0] * (len(edges) - 1)
        class_areas = [0] * (len(edges) - 1)
        no_data_children = 0.0
        no_data_areas = 0
        for rec, value, den in zip(frame.to_dict("records"), values, raw_den, strict=True):
            k = classify(float(value), edges) if math.isfinite(value) else None
            d = 0.0 if not math.isfinite(den) else float(den)
            if k is None:
                no_data_children += d
                no_data_areas += 1
            else:
                class_children[k] += d
                class_areas[k] += 1
            lower, upper = _interval(rec, measure)
            areas[str(rec["area_code"])] = {
                "name": rec["area_name"],
                "value": _clean(value),
                "lower": lower,
                "upper": upper,
                "class": k,
                "numerator": _clean(rec[m.numerator]),
                "denominator": _clean(rec[m.denominator]),
                "band": _clean(rec["funnel_band"]) if measure == "registered_rate" else None,
            }
        missing = set(json_codes(self.outputs.shapes.get(level))) - set(areas)
        no_data_areas += len(missing)
        classes = [
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "colour": PALETTE[i % len(PALETTE)],
                "areas": class_areas[i],
                # a class with no areas has no children: a structural zero, not a small count
                "children": self.release.count(class_children[i]) if class_areas[i] else 0,
            }
            for i in range(len(edges) - 1)
        ]
        return {
            "level": level,
            "measure": measure,
            "measure_label": m.label,
            "dimension": dimension,
            "dimension_label": dimension_label(dimension),
            "group": group,
            "group_label": group_label(dimension, group),
            "service": service,
            "service_label": self.site_name(service),
            "denominator_label": m.denominator_label,
            "classes": classes,
            "no_data": {
                "colour": NO_DATA,
                "areas": no_data_areas,
                "children": self.release.count(no_data_children) if no_data_areas else 0,
            },
            "areas": areas,
        }

    def map_table(
        self, level: str, measure: str, dimension: str, group: str, service: str
    ) -> Table:
        vals = self.map_values(level, measure, dimension, group, service)
        m = MEASURES[measure]
        rows = [
            {
                "area": a["name"],
                "area_code": code,
                "url": f"/areas/{code}",
                "value": a["value"],
                "lower": a["lower"],
                "upper": a["upper"],
                "numerator": a["numerator"],
                "denominator": a["denominator"],
            }
            for code, a in sorted(vals["areas"].items(), key=lambda kv: str(kv[1]["name"]))
        ]
        query = urlencode(
            {
                "level": level,
                "measure": measure,
                "dimension": dimension,
                "group": group,
                "service": service,
            }
        )
        return Table(
            "map",
            f"{m.label}: {vals['group_label']}, {vals['service_label']}",
            (
                Column("area", "Area"),
                Column("area_code", "Code"),
                Column("value", m.label, "rate"),
                Column("lower", "95% lower", "rate"),
                Column("upper", "95% upper", "rate"),
                Column("numerator", m.numerator.replace("_", " ").capitalize(), "count"),
                Column("denominator", m.denominator_label.capitalize(), "count"),
            ),
            tuple(rows),
            export=query,
            links={"area": "url"},
        )

    def map_frame(self, level: str, measure: str, dimension: str, group: str, service: str) -> Any:
        """The map as a GeoDataFrame (released values) for GeoJSON/GeoPackage export."""
        import geopandas as gpd

        table = self.map_table(level, measure, dimension, group, service)
        geo = gpd.read_file(self.map_geometry(level).decode("utf-8"))
        values = pd.DataFrame(table.records()).drop(columns=["area"])
        geo = geo.merge(values, on="area_code", how="left")
        geo["measure"], geo["dimension"], geo["group_value"], geo["service"] = (
            measure,
            dimension,
            group,
            service,
        )
        return geo

    # --- findings ----------------------------------------------------------------------------

    def _finding_card(self, f: Mapping[str, Any]) -> dict[str, Any]:
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
            "observed": _clean(f.get("observed")),
            "expected": _clean(f.get("expected")),
            "lower": _clean(interval[0]),
            "upper": _clean(interval[1]),
            # findings.json counts were released by the findings engine; release again with
            # this run's rule so a hand-edited file cannot show a small count
            "children_affected": self.release.again(f.get("children_affected")),
            "test": ev.get("test"),
            "q_value": _clean(ev.get("q_value")),
            "why_ranked": ev.get("why_ranked"),
            "group": f.get("group"),
            "group_label": group_label(f["group"]["dimension"], f["group"]["value"])
            if f.get("group")
            else None,
            "links": self.finding_links(f),
        }

    def findings_list(self) -> list[dict[str, Any]]:
        return [self._finding_card(f) for f in self.findings]

    def findings_table(self) -> Table:
        rows = []
        for c in self.findings_list():
            rows.append(
                {
                    "rank": c["rank"],
                    "severity": c["severity"],
                    "kind": c["kind_label"],
                    "headline": c["headline"],
                    "measure": c["measure_label"],
                    "observed": c["observed"],
                    "expected": c["expected"],
                    "lower": c["lower"],
                    "upper": c["upper"],
                    "children_affected": c["children_affected"],
                    "q_value": c["q_value"],
                    "areas": "; ".join(a["code"] for a in c["links"]["areas"]),
                }
            )
        return Table(
            "findings",
            "Findings, ranked",
            (
                Column("rank", "Rank", "number"),
                Column("severity", "Severity"),
                Column("kind", "Kind"),
                Column("headline", "Finding"),
                Column("measure", "Measure"),
                Column("observed", "Observed", "rate"),
                Column("expected", "Expected", "rate"),
                Column("lower", "95% lower", "rate"),
                Column("upper", "95% upper", "rate"),
                Column("children_affected", "Children affected", "count"),
                Column("q_value", "q-value (FDR)", "number"),
                Column("areas", "Areas"),
            ),
            tuple(rows),
        )

    # --- reach rows (API) --------------------------------------------------------------------

    def reach_rows(
        self, level: str, area: str | None, dimension: str | None, service: str, limit: int = 5000
    ) -> list[dict[str, Any]]:
        self._check("level", level, self.levels)
        self._check("service", service, self.services)
        if area is not None:
            g = self._by_area.get((level, area))
            if g is None:
                raise NotFound(area)
        else:
            g = self.reach[self.reach["level"] == level]
        g = g[g["service"] == service]
        if dimension is not None:
            self._check("dimension", dimension, self.dimensions)
            g = g[g["dimension"] == dimension]
        return public_rows(g.head(max(1, min(limit, 50000))))

    # --- area profile ------------------------------------------------------------------------

    def areas_index(self) -> list[dict[str, Any]]:
        out = []
        for lvl in self.levels:
            g = self._by_slice.get((lvl, "all", "all", "any"))
            if g is None:
                continue
            for code, name in zip(g["area_code"], g["area_name"], strict=True):
                out.append({"level": lvl, "code": code, "name": name, "url": f"/areas/{code}"})
        return out

    def area_profile(self, code: str, service: str = "any") -> dict[str, Any]:
        level = self._level_of.get(code)
        if level is None:
            raise NotFound(code)
        self._check("service", service, self.services)
        rows = self._by_area[(level, code)]
        overall = rows[(rows["dimension"] == "all") & (rows["service"] == service)]
        head = public_rows(overall.head(1))[0] if not overall.empty else None
        deprivation = {}
        for dim in ("imd_decile", "idaci_decile"):
            sel = rows[
                (rows["dimension"] == dim)
                & (rows["service"] == "any")
                & (rows["raw_denominator"] > 0)
            ]
            values = sort_groups([str(v) for v in sel["group_value"] if v != "unknown"])
            deprivation[dim] = values
        groups = self.area_groups_table(code, service)
        sites = self._nearest_sites(level, code)
        member_of = sorted(
            self.outputs.reach_areas.loc[
                self.outputs.reach_areas["small_area"] == code, "site_id"
            ].astype(str)
        )
        related = [
            self._finding_card(f)
            for f in self.findings
            if code in [str(a) for a in f.get("areas") or []]
            or code
            in [
                str(a.get("area_code"))
                for a in (f.get("evidence") or {}).get("areas") or []
                if isinstance(a, dict)
            ]
        ]
        return {
            "code": code,
            "level": level,
            "level_label": self.level_label(level),
            "name": self.area_name(code),
            "service": service,
            "service_label": self.site_name(service),
            "overall": head,
            "deprivation": deprivation,
            "groups": groups,
            "funnel_svg": self.funnel_for(level, code, service),
            "nearest_sites": sites,
            "reach_areas": [
                {"site_id": s, "name": self.site_name(s), "url": f"/centres/{s}"} for s in member_of
            ],
            "findings": related,
            "map_url": "/map?"
            + urlencode(
                {"level": level if level != "borough" else self.small_level, "highlight": code}
            ),
        }

    def area_groups_table(self, code: str, service: str = "any") -> Table:
        level = self._level_of.get(code)
        if level is None:
            raise NotFound(code)
        self._check("service", service, self.services)
        rows = self._by_area[(level, code)]
        sel = rows[rows["service"] == service]
        order = dimension_label_order()
        sel = sel.assign(_d=sel["dimension"].map(lambda d: order.index(d) if d in order else 99))
        out = []
        for d, g in sel.groupby("_d", sort=True):
            for rec in sorted(
                public_rows(g),
                key=lambda r: sort_groups([str(x) for x in g["group_value"]]).index(
                    str(r["group_value"])
                ),
            ):
                out.append(
                    {
                        "dimension": dimension_label(str(rec["dimension"])),
                        "group": rec["group_label"],
                        "denominator": rec["denominator"],
                        "registered": rec["registered"],
                        "registered_rate": rec["registered_rate"],
                        "registered_rate_lower": rec["registered_rate_lower"],
                        "registered_rate_upper": rec["registered_rate_upper"],
                        "engaged": rec["engaged"],
                        "engaged_rate": rec["engaged_rate"],
                        "engaged_rate_lower": rec["engaged_rate_lower"],
                        "engaged_rate_upper": rec["engaged_rate_upper"],
                        "band": BANDS.get(str(rec["funnel_band"]), "")
                        if rec["funnel_band"]
                        else "",
                    }
                )
            del d
        return Table(
            "area_groups",
            f"Reach by group: {self.area_name(code)} ({self.site_name(service)})",
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

    def funnel_for(self, level: str, code: str | None, service: str = "any") -> str:
        g = self._by_slice.get((level, "all", "all", service))
        b = self.borough_row(service)
        if g is None or b is None or b.get("registered_rate") is None:
            return ""
        points = [
            charts.FunnelPoint(
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

        tau2s = _numeric(g, "funnel_tau2").dropna()  # the family's tau2, as in reach.csv
        tau2 = float(tau2s.iloc[0]) if len(tau2s) else 0.0
        title = (
            f"Funnel plot: registered rate of each {self.level_label(level).lower()} area "
            f"against its number of children, with 95% and 99.8% limits around the "
            f"borough rate of {_pct(b['registered_rate'])} ({funnel_caption(tau2)})"
        )
        return charts.funnel_svg(points, float(b["registered_rate"]), code, title=title, tau2=tau2)

    def _nearest_sites(self, level: str, code: str, k: int = 3) -> list[dict[str, Any]]:
        shapes = self.outputs.shapes.get(level)
        centre = shapes.centres.get(code) if shapes else None
        if centre is None:
            return []
        found: list[dict[str, Any]] = []
        for r in self.sites.itertuples():
            lat, lon = _clean(r.lat), _clean(r.lon)
            if lat is None or lon is None:
                continue
            found.append(
                {
                    "site_id": str(r.site_id),
                    "name": str(r.site_name),
                    "km": round(_haversine_km(centre[0], centre[1], lat, lon), 2),
                    "url": f"/centres/{r.site_id}",
                }
            )
        return sorted(found, key=lambda s: s["km"])[:k]

    # --- centres -----------------------------------------------------------------------------

    def centres_table(self) -> Table:
        rows = []
        for site in self.services[1:]:
            g = self._by_slice.get(("borough", "all", "all", site))
            if g is None:
                continue
            r = public_rows(g.head(1))[0]
            ra = self._by_area.get(("reach_area", site))
            ra_any = None
            if ra is not None:
                sel = ra[(ra["dimension"] == "all") & (ra["service"] == "any")]
                ra_any = public_rows(sel.head(1))[0] if not sel.empty else None
            rows.append(
                {
                    "site_id": site,
                    "name": self.site_name(site),
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
                Column("site_id", "Site"),
                Column("name", "Centre"),
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

    def centre_profile(self, site: str) -> dict[str, Any]:
        if site not in self.services or site == "any":
            raise NotFound(site)
        table = self.centres_table()
        me = next((r for r in table.rows if r["site_id"] == site), None)
        ra = self._by_area.get(("reach_area", site))
        reach_any = reach_site = None
        if ra is not None:
            a = ra[(ra["dimension"] == "all") & (ra["service"] == "any")]
            s = ra[(ra["dimension"] == "all") & (ra["service"] == site)]
            reach_any = public_rows(a.head(1))[0] if not a.empty else None
            reach_site = public_rows(s.head(1))[0] if not s.empty else None
        members = sorted(
            self.outputs.reach_areas.loc[
                self.outputs.reach_areas["site_id"].astype(str) == site, "small_area"
            ].astype(str)
        )
        bars = self._centre_bars(table, site)
        site_row = self.sites[self.sites["site_id"].astype(str) == site]
        location = None
        if not site_row.empty:
            lat, lon = _clean(site_row["lat"].iloc[0]), _clean(site_row["lon"].iloc[0])
            if lat is not None and lon is not None:
                location = {"lat": lat, "lon": lon}
        related = [self._finding_card(f) for f in self.findings if str(f.get("site")) == site]
        return {
            "site_id": site,
            "name": self.site_name(site),
            "summary": me,
            "location": location,
            "illustrative": self.sites_illustrative,
            "reach_any": reach_any,
            "reach_site": reach_site,
            "reach_area_members": [
                {"code": c, "name": self.area_name(c), "url": f"/areas/{c}"} for c in members
            ],
            "misses": self.centre_misses_table(site),
            "bars_svg": bars,
            "findings": related,
            "map_url": "/map?"
            + urlencode(
                {"level": self.small_level, "service": site, "highlight": ",".join(members)}
            ),
        }

    def _centre_bars(self, table: Table, site: str) -> str:
        rows = [
            (
                str(r["name"]),
                _clean(r["reach_registered_rate"]),
                _clean(r["engaged_per_registered"]),
            )
            for r in table.rows
        ]
        return charts.bar_pair_svg(
            rows,
            highlight=self.site_name(site),
            legend=("reach area registered (any centre)", "engaged, of those registered here"),
            title="For each centre: the share of children in its reach area registered with "
            "any centre, and the share of its own registrations in sustained engagement",
        )

    def centre_misses_table(self, site: str) -> Table:
        """Groups in the centre's reach area with the lowest registration (any centre)."""
        ra = self._by_area.get(("reach_area", site))
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
                        "not_registered": self.release.count(unreg),
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
            f"Who {self.site_name(site)} misses: groups in its reach area "
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
            tuple(rows[:40]),
            export=urlencode({"site": site}),
            note="Groups whose rate could not be shown under disclosure control are left out.",
        )

    def centre_areas_table(self, site: str) -> Table:
        """The centre's figures small area by small area (needs view_centre_detail)."""
        if site not in self.services or site == "any":
            raise NotFound(site)
        members = set(
            self.outputs.reach_areas.loc[
                self.outputs.reach_areas["site_id"].astype(str) == site, "small_area"
            ].astype(str)
        )
        g = self._by_slice.get((self.small_level, "all", "all", site))
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
            f"{self.site_name(site)} small area by small area",
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

    # --- data quality ------------------------------------------------------------------------

    def quality(self) -> dict[str, Any]:
        run = self.outputs.run
        rec = run.get("reconciliation") or {}
        r = self.release
        recon = Table(
            "reconciliation",
            "Rows read, loaded and set aside, by source",
            (
                Column("source", "Source"),
                Column("status", "Status"),
                Column("rows_read", "Rows read", "count"),
                Column("rows_loaded", "Loaded", "count"),
                Column("rows_quarantined", "Quarantined", "count"),
                Column("reconciles", "Read = loaded + quarantined"),
            ),
            tuple(
                {
                    "source": s,
                    "status": v.get("status"),
                    "rows_read": r.count(v.get("rows_read")),
                    "rows_loaded": r.count(v.get("rows_loaded")),
                    "rows_quarantined": r.count(v.get("rows_quarantined")),
                    "reconciles": "yes" if v.get("reconciles") else "NO",
                }
                for s, v in rec.items()
            ),
            note="Counts are rounded, so parts need not add up to totals exactly; the last "
            "column is checked on the exact counts.",
        )
        sources = ((run.get("ingest") or {}).get("sources")) or {}
        reasons = Table(
            "quarantine",
            "Why rows were set aside (quarantine reasons)",
            (
                Column("source", "Source"),
                Column("reason", "Reason"),
                Column("meaning", "Meaning"),
                Column("rows", "Rows", "count"),
            ),
            tuple(
                {
                    "source": s,
                    "reason": k,
                    "meaning": QUARANTINE_REASONS.get(k, ""),
                    "rows": r.count(n),
                }
                for s, v in sources.items()
                for k, n in sorted((v.get("quarantine_reasons") or {}).items())
            ),
            note="A row with two reasons counts under both.",
        )
        flags = Table(
            "flags",
            "Quality flags on rows that loaded",
            (
                Column("source", "Source"),
                Column("flag", "Flag"),
                Column("meaning", "Meaning"),
                Column("rows", "Rows", "count"),
            ),
            tuple(
                {"source": s, "flag": k, "meaning": QUALITY_FLAGS.get(k, ""), "rows": r.count(n)}
                for s, v in sources.items()
                for k, n in sorted((v.get("quality_flags") or {}).items())
            ),
        )
        link = run.get("linkage") or {}
        link_rows = [
            ("Records linked", link.get("n_records")),
            ("Children (distinct people)", link.get("n_persons")),
            ("Families", link.get("n_families")),
            ("Record pairs scored", link.get("n_pairs_scored")),
            ("Identities that could not be linked", link.get("n_unlinkable_identities")),
            (
                "Records without a link (left out of reach)",
                (run.get("reach") or {}).get("unlinked_records"),
            ),
            (
                "Children with no home area (left out of reach)",
                (run.get("reach") or {}).get("children_without_area"),
            ),
        ]
        linkage = Table(
            "linkage",
            "Record linkage",
            (Column("what", "What"), Column("count", "Count", "count")),
            tuple({"what": w, "count": r.count(n)} for w, n in link_rows if n is not None),
            note=f"Model: {link.get('model_source', 'unknown')}.",
        )
        by_group = self._linkage_by_group_table()
        return {
            "reconciliation": recon,
            "quarantine": reasons,
            "flags": flags,
            "linkage": linkage,
            "linkage_by_group": by_group,
            "completeness": self._completeness_table(),
            "borough": self.borough_row(),
        }

    def _linkage_by_group_table(self) -> Table | None:
        frame = self.outputs.linkage_by_group
        if frame is None or frame.empty:
            return None
        if "suppressed" in frame:  # too few pairs for a figure: not shown
            frame = frame[~frame["suppressed"].fillna(False).astype(bool)]
        value_col = "group_value" if "group_value" in frame else "group"
        size_col = next((c for c in ("n_children", "n_pairs") if c in frame), None)
        size_label = "Children" if size_col == "n_children" else "Record pairs"
        rows = []
        for rec in frame.to_dict("records"):
            dim = str(rec.get("dimension", ""))
            rows.append(
                {
                    "dimension": dimension_label(dim),
                    "group": group_label(dim, str(rec.get(value_col, ""))),
                    "size": self.release.count(rec.get(size_col)) if size_col else None,
                    "precision": _clean(rec.get("precision")),
                    "recall": _clean(rec.get("recall")),
                }
            )
        method = str(frame["method"].iloc[0]) if "method" in frame and len(frame) else ""
        note = "A group that links worse can look less reached than it is."
        if method == "model_estimate":
            note += (
                " Estimated from the linkage model's match probabilities (no ground truth):"
                " a floor on the errors, useful for comparing groups."
            )
        return Table(
            "linkage_by_group",
            "Linkage quality by group",
            (
                Column("dimension", "Grouped by"),
                Column("group", "Group"),
                Column("size", size_label, "count"),
                Column("precision", "Precision", "rate"),
                Column("recall", "Recall", "rate"),
            ),
            tuple(rows),
            note=note,
        )

    # --- outreach (person-level) -----------------------------------------------------------

    def _outreach_frame(self) -> pd.DataFrame:
        with self._outreach_lock:
            if self._outreach is None:
                self._outreach = read_not_reached(self.outputs)
            return self._outreach

    def outreach(
        self,
        area: str | None = None,
        site: str | None = None,
        page: int = 1,
        page_size: int = OUTREACH_PAGE_SIZE,
        *,
        allowed: frozenset[str] | None = None,
        contacts: ContactLookup | None = None,
    ) -> dict[str, Any]:
        """Children known to universal services and registered nowhere (person-level).
        ``allowed``: the small areas the user may see (None: all). ``contacts``: given only
        to a user allowed to re-identify; called with the ids and areas of the rows of this
        page alone (after scoping and paging), it returns their names and contact details."""
        frame = self._scoped_outreach(allowed)
        sel = self._outreach_filter(frame, area, site)
        chunk, total, page, pages = _one_page(sel, page, page_size)
        table = self._outreach_table(chunk, area, site, contacts)
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
            "table": table,
            "total": total,
            "page": page,
            "pages": pages,
            "area": area,
            "site": site,
            "reidentified": contacts is not None,
            "area_choices": [{"code": c, "name": n} for c, n in areas],
            "site_choices": [{"code": s, "name": self.site_name(s)} for s in self.services[1:]],
        }

    def expand_areas(self, codes: Iterable[str]) -> frozenset[str]:
        """Small areas within the given area codes (any level; a small area is itself)."""
        codes = {str(c) for c in codes}
        out = set(codes)
        m = self.outputs.membership
        if m is not None and not m.empty:
            out |= set(m.loc[m["area_code"].astype(str).isin(codes), "small_area"].astype(str))
        return frozenset(out)

    def _scoped_outreach(self, allowed: frozenset[str] | None) -> pd.DataFrame:
        frame = self._outreach_frame()
        if allowed is None:
            return frame
        return frame[frame["area_code"].astype(str).isin(allowed)]

    @staticmethod
    def _outreach_filter(frame: pd.DataFrame, area: str | None, site: str | None) -> pd.DataFrame:
        sel = frame
        if area:
            sel = sel[sel.get("area_code", pd.Series(dtype=str)) == area]
        if site:
            sel = sel[sel.get("nearest_site", pd.Series(dtype=str)) == site]
        return sel

    def outreach_export(
        self,
        area: str | None,
        site: str | None,
        *,
        allowed: frozenset[str] | None = None,
        contacts: ContactLookup | None = None,
    ) -> Table:
        sel = self._outreach_filter(self._scoped_outreach(allowed), area, site)
        return self._outreach_table(sel, area, site, contacts)

    def _outreach_table(
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
            dist = _clean(_number_or_none(rec.get("nearest_site_distance_m")))
            eth = str(rec.get("ethnicity", ""))
            row = {
                "person_id": rec.get("person_id"),
                "area": rec.get("area_name") or rec.get("area_code"),
                "area_code": rec.get("area_code"),
                "age_years": rec.get("age_years"),
                "sex": rec.get("sex"),
                "ethnicity": (
                    "White British"
                    if eth == "white_british"
                    else group_label("ethnicity", eth)
                    if eth
                    else ""
                ),
                "main_language": rec.get("main_language"),
                "mother_region_of_birth": group_label(
                    "mother_region_of_birth",
                    str(rec.get("mother_region_of_birth") or "unknown"),
                ),
                "imd_decile": rec.get("imd_decile"),
                "nearest_site": self.site_name(str(rec.get("nearest_site", ""))),
                "km": None if dist is None else round(float(dist) / 1000, 2),
            }
            if contacts is not None:
                person = found.get(str(rec.get("person_id")), {})
                row.update({c.key: person.get(c.key, "") for c in CONTACT_TABLE_COLUMNS})
            rows.append(row)
        params = {k: v for k, v in (("area", area), ("site", site)) if v}
        columns = (
            Column("person_id", "Child id (pseudonymous)"),
            *(CONTACT_TABLE_COLUMNS if contacts is not None else ()),
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

    # --- record-level (pseudonymised) --------------------------------------------------------

    def _records_frame(self) -> pd.DataFrame:
        with self._records_lock:
            if self._records is None:
                self._records = read_children(self.outputs)
            return self._records

    def records(
        self, area: str | None = None, page: int = 1, page_size: int = RECORDS_PAGE_SIZE
    ) -> dict[str, Any]:
        """Pseudonymised record-level rows of every child (table ``children``): one page of
        at most ``page_size`` rows, optionally within an area of any level (a ward is the
        small areas in it). No names, no full dates of birth."""
        frame = self._records_frame()
        if area:
            if area not in self._level_of:
                raise NotFound(area)
            frame = frame[frame["area_code"].astype(str).isin(self.expand_areas([area]))]
        page_size = max(1, min(int(page_size), RECORDS_PAGE_SIZE))
        chunk, total, page, pages = _one_page(frame, page, page_size)
        return {
            "table": self._records_table(chunk, area),
            "total": total,
            "page": page,
            "pages": pages,
            "page_size": page_size,
            "area": area,
            "area_choices": [
                {"code": c, "name": self.area_name(c), "level": self.level_label(lvl)}
                for lvl in self.levels
                if lvl != "borough"
                for c in sorted({str(code) for (lv, code) in self._by_area if lv == lvl})
            ],
        }

    def _records_table(self, frame: pd.DataFrame, area: str | None) -> Table:
        def flag(v: Any) -> str:
            v = _clean(v)
            return "" if v is None else ("yes" if bool(v) else "no")

        def sites(v: Any) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return ""
            return ", ".join(self.site_name(str(s)) for s in list(v))

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
                    "age_years": _clean(rec.get("age_years")),
                    "sex": rec.get("sex"),
                    "area_code": rec.get("area_code"),
                    "ethnicity": rec.get("ethnicity"),
                    "main_language": rec.get("main_language"),
                    "mother_region_of_birth": rec.get("mother_region_of_birth"),
                    "imd_decile": _clean(rec.get("imd_decile")),
                    "known": flag(rec.get("known")),
                    "registered": flag(rec.get("registered")),
                    "registered_sites": sites(rec.get("registered_sites")),
                    "engaged": flag(rec.get("engaged")),
                    "engaged_sites": sites(rec.get("engaged_sites")),
                    "nearest_site": self.site_name(str(rec.get("nearest_site") or "")),
                }
            )
        return Table(
            "records",
            "Children (pseudonymised records)",
            (
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
            ),
            tuple(rows),
            export=urlencode({"area": area} if area else {}),
            note="Pseudonymised record-level data for analysis: exact counts, not released "
            "through disclosure control; do not publish them. Every page opened is in the "
            "audit log.",
        )

    # --- admin -------------------------------------------------------------------------------

    def admin_run(self) -> dict[str, Any]:
        return dict(self.outputs.run)

    # --- exports -----------------------------------------------------------------------------

    def table(self, table_id: str, params: Mapping[str, str]) -> Table:
        """An aggregate table by id, for export (the outreach and centre-detail tables have
        their own permission-gated routes)."""

        def need(name: str) -> str:
            value = params.get(name)
            if not value:
                raise BadRequest(f"{name}: required for this table")
            return value

        if table_id == "findings":
            return self.findings_table()
        if table_id == "centres":
            return self.centres_table()
        if table_id == "completeness":
            return self._completeness_table()
        if table_id in ("reconciliation", "quarantine", "flags", "linkage"):
            t: Table = self.quality()[table_id]
            return t
        if table_id == "linkage_by_group":
            lt = self._linkage_by_group_table()
            if lt is None:
                raise NotFound(table_id)
            return lt
        if table_id == "area_groups":
            return self.area_groups_table(need("area"), params.get("service") or "any")
        if table_id == "centre_misses":
            site = need("site")
            if site not in self.services or site == "any":
                raise NotFound(site)
            return self.centre_misses_table(site)
        if table_id == "map":
            return self.map_table(*self.map_params(params))
        raise NotFound(table_id)

    def map_params(self, params: Mapping[str, str]) -> tuple[str, str, str, str, str]:
        level = params.get("level") or self.small_level
        dimension = params.get("dimension") or "all"
        group = params.get("group") or ("all" if dimension == "all" else "")
        if not group and dimension in self.dimensions and self.dimensions[dimension]:
            group = self.dimensions[dimension][0]
        return (
            level,
            params.get("measure") or "registered_rate",
            dimension,
            group,
            params.get("service") or "any",
        )


def _one_page(frame: pd.DataFrame, page: int, page_size: int) -> tuple[pd.DataFrame, int, int, int]:
    """Rows of ``page`` (clamped to the pages there are), the number of rows and of pages."""
    total = len(frame)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    return frame.iloc[(page - 1) * page_size : page * page_size], total, page, pages


def json_codes(shapes: Any) -> list[str]:
    return list(shapes.centres) if shapes is not None else []


def dimension_label_order() -> list[str]:
    from everyfamily.web.labels import DIMENSIONS

    return list(DIMENSIONS)


def _interval(rec: Mapping[Any, Any], measure: str) -> tuple[Any, Any]:
    if measure in ("registered_rate", "engaged_rate"):
        return _clean(rec.get(f"{measure}_lower")), _clean(rec.get(f"{measure}_upper"))
    return None, None


def format_value(value: Any, kind: str) -> str:
    """How a released value reads on a page."""
    v = _clean(value)
    if kind == "count":
        return "suppressed" if v is None else f"{int(v):,}"
    if kind == "rate":
        return "–" if v is None else f"{100 * float(v):.1f}%"
    if kind == "km":
        return "" if v is None else f"{float(v):.2f}"
    if kind == "number":
        if v is None:
            return ""
        if isinstance(v, float) and not float(v).is_integer():
            return f"{v:.2g}" if abs(v) < 0.01 else f"{v:.3f}"
        return f"{v}"
    return "" if v is None else str(v)


def list_of(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)

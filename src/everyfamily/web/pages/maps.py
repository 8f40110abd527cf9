"""The map: options, boundaries, overlays, sites and each area's released value of a measure,
classed for the legend (with the number of children behind each colour)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from everyfamily.population.levels import outline_levels
from everyfamily.report.svg import NO_DATA, PALETTE, class_breaks, classify
from everyfamily.stage import map_overlays
from everyfamily.web.labels import MEASURES, dimension_label, group_label
from everyfamily.web.tables import Column, NotFound, Table, clean
from everyfamily.web.view import RunView, dimension_order


def overlay_labels() -> dict[str, str]:
    """Labels of the map overlays, from the stages' declarations (everyfamily.stage.MapOverlay),
    read when asked: a constant taken at import would keep whatever was declared then."""
    return {o.key: o.label for o in map_overlays()}


#: (level, measure, dimension, group, service): what one map shows
MapParams = tuple[str, str, str, str, str]


class MapPage:
    """Everything the map page and its API show."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._values = lru_cache(maxsize=1024)(self._compute_values)

    def params(self, params: Mapping[str, str]) -> MapParams:
        """The map's parameters from a query string, with the defaults filled in."""
        v = self.view
        level = params.get("level") or v.small_level
        dimension = params.get("dimension") or "all"
        group = params.get("group") or ("all" if dimension == "all" else "")
        if not group and dimension in v.dimensions and v.dimensions[dimension]:
            group = v.dimensions[dimension][0]
        return (
            level,
            params.get("measure") or "registered_rate",
            dimension,
            group,
            params.get("service") or "any",
        )

    def options(self) -> dict[str, Any]:
        v = self.view
        shapes = v.outputs.shapes
        outlines = outline_levels([lv for lv in v.levels if lv in shapes], v.small_level)
        order = dimension_order()
        return {
            "levels": [
                {"key": lv, "label": v.level_label(lv)}
                for lv in v.levels
                if lv in shapes and lv != "borough"
            ],
            "measures": [{"key": m.key, "label": m.label} for m in MEASURES.values()],
            "dimensions": [
                {
                    "key": d,
                    "label": dimension_label(d),
                    "groups": [{"key": g, "label": group_label(d, g)} for g in groups],
                }
                for d, groups in sorted(
                    v.dimensions.items(),
                    key=lambda kv: order.index(kv[0]) if kv[0] in order else 99,
                )
            ],
            "services": [{"key": s, "label": v.site_name(s)} for s in v.services],
            "outlines": outlines,
            "outline_labels": {lv: v.level_label(lv) for lv in outlines},
            "overlays": [
                {"key": k, "label": overlay_labels().get(k, k.replace("_", " "))}
                for k in v.outputs.overlays
            ],
            "overlays_approximate": bool(
                (v.outputs.run.get("access") or {}).get("approximate_network")
            ),
            "basemap_url": v.basemap_url,
            "sites_illustrative": v.sites_illustrative,
            "small_level": v.small_level,
        }

    def geometry(self, level: str) -> bytes:
        shapes = self.view.outputs.shapes.get(level)
        if shapes is None:
            raise NotFound(level)
        return shapes.geojson

    def overlay(self, name: str) -> bytes:
        """One overlay layer (access stage) as GeoJSON; NotFound for any other name."""
        layer = self.view.outputs.overlays.get(name)
        if layer is None:
            raise NotFound(name)
        return layer

    def sites(self) -> dict[str, Any]:
        sites = []
        for r in self.view.sites.itertuples():
            lat, lon = clean(r.lat), clean(r.lon)
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
        return {"illustrative": self.view.sites_illustrative, "sites": sites}

    def values(
        self, level: str, measure: str, dimension: str, group: str, service: str
    ) -> dict[str, Any]:
        """Each area's released value of a measure for one group and service, its class
        and the legend (classes with the number of children behind each colour)."""
        v = self.view
        v.check("level", level, [lv for lv in v.levels if lv in v.outputs.shapes])
        v.check("measure", measure, MEASURES)
        v.check("dimension", dimension, v.dimensions)
        v.check("group", group, v.dimensions[dimension])
        v.check("service", service, v.services)
        result: dict[str, Any] = self._values(level, measure, dimension, group, service)
        return result

    def _compute_values(
        self, level: str, measure: str, dimension: str, group: str, service: str
    ) -> dict[str, Any]:
        v = self.view
        m = MEASURES[measure]
        g = v.by_slice.get((level, dimension, group, service))
        frame = g if g is not None else v.reach.iloc[0:0]
        values = frame[measure].to_numpy(dtype="float64")
        edges = class_breaks([float(x) for x in values if math.isfinite(x)])
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
                "value": clean(value),
                "lower": lower,
                "upper": upper,
                "class": k,
                "numerator": clean(rec[m.numerator]),
                "denominator": clean(rec[m.denominator]),
                "band": clean(rec["funnel_band"]) if measure == "registered_rate" else None,
            }
        shapes = v.outputs.shapes.get(level)
        no_data_areas += len(set(shapes.centres if shapes is not None else ()) - set(areas))
        classes = [
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "colour": PALETTE[i % len(PALETTE)],
                "areas": class_areas[i],
                # a class with no areas has no children: a structural zero, not a small count
                "children": v.release.count(class_children[i]) if class_areas[i] else 0,
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
            "service_label": v.site_name(service),
            "denominator_label": m.denominator_label,
            "classes": classes,
            "no_data": {
                "colour": NO_DATA,
                "areas": no_data_areas,
                "children": v.release.count(no_data_children) if no_data_areas else 0,
            },
            "areas": areas,
        }

    def table(self, level: str, measure: str, dimension: str, group: str, service: str) -> Table:
        vals = self.values(level, measure, dimension, group, service)
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

    def frame(self, level: str, measure: str, dimension: str, group: str, service: str) -> Any:
        """The map as a GeoDataFrame (released values) for GeoJSON/GeoPackage export."""
        import geopandas as gpd

        table = self.table(level, measure, dimension, group, service)
        geo = gpd.read_file(self.geometry(level).decode("utf-8"))
        values = pd.DataFrame(table.records()).drop(columns=["area"])
        geo = geo.merge(values, on="area_code", how="left")
        geo["measure"], geo["dimension"], geo["group_value"], geo["service"] = (
            measure,
            dimension,
            group,
            service,
        )
        return geo


def _interval(rec: Mapping[Any, Any], measure: str) -> tuple[Any, Any]:
    if measure in ("registered_rate", "engaged_rate"):
        return clean(rec.get(f"{measure}_lower")), clean(rec.get(f"{measure}_upper"))
    return None, None

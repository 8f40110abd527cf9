"""A small locator map for an area's profile: every small area in light grey, the areas of
its ward in a middle tone and the area itself in the dark brand colour, as inline SVG.

Drawn on the server from the run's own boundaries (reach.gpkg, already EPSG:4326), with an
equirectangular projection scaled by the cosine of the middle latitude: at a borough's scale
(tens of km) its distortion is invisible, and no tiles or scripts are needed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from markupsafe import escape
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

WIDTH = 420
BACKGROUND, WARD, HERE = "#dde3ea", "#8fb3dd", "#1d3b6e"


def _rings(geom: BaseGeometry) -> Iterable[list[tuple[float, float]]]:
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        if p.geom_type != "Polygon":
            continue
        yield list(p.exterior.coords)
        for hole in p.interiors:
            yield list(hole.coords)


def locator_svg(geojson: bytes, here: str, ward: Iterable[str], title: str) -> str:
    """The locator map (see the module docstring): ``here`` dark ("" for none), ``ward``
    in a middle tone; empty when neither has a shape."""
    ward = set(ward)
    features = json.loads(geojson).get("features") or []
    shapes = [
        (str(f["properties"]["area_code"]), shape(f["geometry"]))
        for f in features
        if f.get("geometry")
    ]
    codes = {c for c, _ in shapes}
    if not shapes or (here not in codes and not codes & set(ward)):
        return ""
    minx = min(g.bounds[0] for _, g in shapes)
    miny = min(g.bounds[1] for _, g in shapes)
    maxx = max(g.bounds[2] for _, g in shapes)
    maxy = max(g.bounds[3] for _, g in shapes)
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x, span_y = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    scale = (WIDTH - 8) / span_x
    height = round(span_y * scale + 8)

    def path(g: BaseGeometry) -> str:
        out = []
        for ring in _rings(g):
            pts = " L".join(
                f"{4 + (x - minx) * kx * scale:.1f},{4 + (maxy - y) * scale:.1f}" for x, y in ring
            )
            out.append(f"M{pts}Z")
        return " ".join(out)

    parts = []
    for layer in ("background", "ward", "here"):
        for code, g in shapes:
            is_here, in_ward = code == here, code in ward
            if layer == "background" and not (is_here or in_ward):
                fill = BACKGROUND
            elif layer == "ward" and in_ward and not is_here:
                fill = WARD
            elif layer == "here" and is_here:
                fill = HERE
            else:
                continue
            parts.append(f'<path d="{path(g)}" fill="{fill}" stroke="#ffffff" stroke-width="0.8"/>')
    label = escape(title)
    return (
        f'<svg class="locator" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        + "".join(parts)
        + "</svg>"
    )

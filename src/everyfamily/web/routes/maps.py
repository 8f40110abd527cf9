"""Overview and maps: the overview page, the map page and the map's JSON layers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.basemap import EMPTY_PNG
from everyfamily.web.routes.common import DashDep, cached_json, geojson, render

router = APIRouter()
#: Most area codes a map link may highlight.
HIGHLIGHT_LIMIT = 200
#: Basemap tiles never change under a running dashboard: the browser keeps them a day.
TILE_HEADERS = {"Cache-Control": "private, max-age=86400"}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page_overview(request: Request, dash: DashDep) -> Response:
    return render(
        request, "overview.html", ov=dash.overview.overview(), sparklines=dash.compare.sparklines()
    )


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def page_map(request: Request, dash: DashDep) -> Response:
    params = dict(request.query_params)
    level, measure, dimension, group, service = dash.maps.params(params)
    highlight = [c for c in (params.get("highlight") or "").split(",") if c][:HIGHLIGHT_LIMIT]
    return render(
        request,
        "map.html",
        options=dash.map_options(),
        table=dash.maps.table(level, measure, dimension, group, service),
        values=dash.maps.values(level, measure, dimension, group, service),
        sel={
            "level": level,
            "measure": measure,
            "dimension": dimension,
            "group": group,
            "service": service,
        },
        highlight=highlight,
    )


@router.get("/api/map/options", tags=["map"])
async def api_map_options(dash: DashDep) -> Response:
    """Levels, measures, groups and services the map can show."""
    return cached_json(dash, ("map_options",), dash.map_options)


@router.get("/api/map/geometry/{level}", tags=["map"])
async def api_map_geometry(dash: DashDep, level: str) -> Response:
    """Boundaries of one area level as GeoJSON (EPSG:4326)."""
    return geojson(dash.maps.geometry(level))


@router.get("/api/map/values", tags=["map"])
def api_map_values(
    dash: DashDep,
    level: str | None = None,
    measure: str = "registered_rate",
    dimension: str = "all",
    group: str = "all",
    service: str = "any",
) -> Response:
    """Each area's released value, its colour class, and the legend with the number of
    children behind each colour."""
    lv = level or dash.view.small_level  # the project's small-area level, whatever its name
    return cached_json(
        dash,
        ("map_values", lv, measure, dimension, group, service),
        lambda: dash.maps.values(lv, measure, dimension, group, service),
    )


@router.get("/api/map/overlay/{name}", tags=["map"])
async def api_map_overlay(dash: DashDep, name: str) -> Response:
    """An overlay layer (travel-time bands, barrier lines, areas cut off) as GeoJSON."""
    return geojson(dash.maps.overlay(name))


@router.get("/api/map/sites", tags=["map"])
async def api_map_sites(dash: DashDep) -> Response:
    """Centre sites with their locations (and whether they are illustrative)."""
    return cached_json(dash, ("map_sites",), dash.maps.sites)


@router.get("/basemap/{z}/{x}/{y}", include_in_schema=False)
def basemap_tile(dash: DashDep, z: int, x: int, y: int) -> Response:
    """A tile of the offline basemap (outputs.basemap_path), served from the council's own
    file; a transparent tile where the file has none (no broken images)."""
    if dash.basemap is None:
        return Response(status_code=404)
    data = dash.basemap.tile(z, x, y)
    if data is None:
        return Response(EMPTY_PNG, media_type="image/png", headers=TILE_HEADERS)
    return Response(data, media_type=dash.basemap.info.media_type, headers=TILE_HEADERS)

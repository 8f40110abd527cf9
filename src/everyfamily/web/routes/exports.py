"""Exports: the map (GeoJSON, GeoPackage, CSV, Excel), the outreach list, a centre's
small-area table, and any aggregate table by id (specific routes before the generic one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from everyfamily.web import exports as files
from everyfamily.web.routes.common import DashDep, export
from everyfamily.web.routes.scope import list_request
from everyfamily.web.tables import NotFound

router = APIRouter()


@router.get("/export/map.{fmt}", tags=["export"])
def export_map(request: Request, dash: DashDep, fmt: str) -> Response:
    """The map's values: GeoJSON or GeoPackage with boundaries, or CSV/Excel."""
    params = dash.maps.params(dict(request.query_params))
    if fmt in ("csv", "xlsx"):
        return export(request, dash.maps.table(*params), fmt)
    if fmt not in ("geojson", "gpkg"):
        raise NotFound(fmt)
    frame = dash.maps.frame(*params)
    if fmt == "geojson":
        body, media = files.map_geojson(frame), "application/geo+json"
    else:
        body, media = files.map_gpkg(frame, layer=params[0]), "application/geopackage+sqlite3"
    resp = Response(body, media_type=media)
    resp.headers["Content-Disposition"] = f'attachment; filename="map-{params[0]}.{fmt}"'
    return resp


@router.get("/export/outreach.{fmt}", tags=["export"])
def export_outreach(
    request: Request,
    dash: DashDep,
    fmt: str,
    area: str | None = None,
    site: str | None = None,
    kind: Annotated[str, Query(alias="list")] = "not_registered",
) -> Response:
    """An outreach list in walking order (person-level; view_outreach_list)."""
    table = dash.outreach.export(list_request(request, dash, area, site, kind))
    return export(request, table, fmt, private=True)


@router.get("/export/centres/{site}/areas.{fmt}", tags=["export"])
def export_centre_areas(request: Request, dash: DashDep, site: str, fmt: str) -> Response:
    """A centre's small-area table (view_centre_detail)."""
    return export(request, dash.centres.areas_table(site), fmt)


@router.get("/export/{table_id}.{fmt}", tags=["export"])
def export_table(request: Request, dash: DashDep, table_id: str, fmt: str) -> Response:
    """Any aggregate table shown on a page, as CSV or Excel."""
    return export(request, dash.table(table_id, dict(request.query_params)), fmt)

"""The JSON API and the exports, over real HTTP against uvicorn on a loopback port.

Expected values are worked out by hand from the fixture table (fixture_outputs.py) with
midpoint-6 rounding (n -> 6 * ceil(n / 6) - 3) and suppression of counts <= 7.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import httpx
import openpyxl
import pytest

from .fixture_outputs import ATTRIBUTION, SENTINEL_PERSON


def get(url: str, **params: str) -> httpx.Response:
    return httpx.get(url, params=params, timeout=30)


def test_health(viewer_url: str) -> None:
    r = get(viewer_url + "/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_overview_borough_figures_are_released(viewer_url: str) -> None:
    b = get(viewer_url + "/api/overview").json()["borough"]
    # borough: children 240 -> 237, registered 162 -> 159, engaged 84 -> 81,
    # known 233 -> 231; ONS 247 is a published ONS figure and is shown as published
    assert (b["denominator"], b["registered"], b["engaged"], b["known"], b["ons_population"]) == (
        237,
        159,
        81,
        231,
        247,
    )
    # rates come from the protected counts (issue 7): 159 / 237, not the true 162 / 240
    assert b["registered_rate"] == pytest.approx(round(159 / 237, 4))
    assert b["engaged_rate"] == pytest.approx(round(81 / 237, 4))
    assert b["known_completeness"] == pytest.approx(round(231 / 247, 4))


def test_map_values_apply_the_rate_rule(viewer_url: str) -> None:
    v = get(viewer_url + "/api/map/values", measure="registered_rate").json()
    areas = v["areas"]
    assert set(areas) == {"E01006508", "E01006506", "E01006419", "E01006421"}
    # rates from the released counts: 80/100 -> 81/99, 20/60 -> 21/57, 15/30 -> 15/27
    assert areas["E01006508"]["value"] == pytest.approx(round(81 / 99, 4))
    assert areas["E01006506"]["value"] == pytest.approx(round(21 / 57, 4))
    assert areas["E01006421"]["value"] == pytest.approx(round(15 / 27, 4))
    # 47 of 50 registered: only 3 are not, so the rate would disclose them
    assert areas["E01006419"]["value"] is None and areas["E01006419"]["class"] is None
    # and so would the count 47 beside the denominator: complement protection suppresses it
    assert areas["E01006419"]["numerator"] is None
    assert v["no_data"] == {"colour": "#d9d9d9", "areas": 1, "children": 51}  # 50 -> 51
    # legend: the three shown areas hold 100 + 60 + 30 children
    shown = [c for c in v["classes"] if c["areas"]]
    assert sum(c["areas"] for c in shown) == 3
    assert sorted(c["children"] for c in shown) == [27, 57, 99]  # 30, 60, 100 released
    # higher rates sit in higher classes
    assert areas["E01006506"]["class"] < areas["E01006421"]["class"] < areas["E01006508"]["class"]


def test_map_values_for_a_group_and_a_service(viewer_url: str) -> None:
    v = get(
        viewer_url + "/api/map/values",
        measure="engaged_rate",
        dimension="all",
        group="all",
        service="S2",
    ).json()
    # engaged at S2: 019A 30 of 50, 018A 9 of 30; Cherryfield children never engage at S2
    assert v["areas"]["E01006419"]["value"] == pytest.approx(round(27 / 51, 4))  # 30/50
    assert v["areas"]["E01006421"]["value"] == pytest.approx(round(9 / 27, 4))  # 9/30
    assert v["areas"]["E01006508"]["value"] is None  # 0 engaged: suppressed
    f = get(viewer_url + "/api/map/values", dimension="sex", group="female").json()
    # females in 004D: ceil(100/2) = 50 children, ceil(80/2) = 40 registered, released
    # as 51 and 39: the rate is 39 / 51 (from the protected counts)
    assert f["areas"]["E01006508"]["value"] == pytest.approx(round(39 / 51, 4))
    assert f["areas"]["E01006508"]["denominator"] == 51


def test_unknown_parameter_values_are_refused_with_the_choices(viewer_url: str) -> None:
    r = get(viewer_url + "/api/map/values", measure="bogus")
    assert r.status_code == 400
    assert "registered_rate" in r.json()["detail"]
    r = get(viewer_url + "/api/map/values", dimension="sex", group="nobody")
    assert r.status_code == 400


def test_geometry_has_every_small_area(viewer_url: str) -> None:
    geo = get(viewer_url + "/api/map/geometry/lsoa").json()
    assert geo["type"] == "FeatureCollection"
    assert sorted(f["properties"]["area_code"] for f in geo["features"]) == [
        "E01006419",
        "E01006421",
        "E01006506",
        "E01006508",
    ]
    wards = get(viewer_url + "/api/map/geometry/ward").json()
    assert len(wards["features"]) == 2


def test_sites_are_marked_illustrative(viewer_url: str) -> None:
    s = get(viewer_url + "/api/map/sites").json()
    assert s["illustrative"] is True
    assert [x["site_id"] for x in s["sites"]] == ["S1", "S2"]


def test_area_profile(viewer_url: str) -> None:
    a = get(viewer_url + "/api/areas/E01006506").json()
    assert a["name"] == "Knowsley 004B" and a["level"] == "lsoa"
    assert a["overall"]["registered"] == 21 and a["overall"]["engaged"] is None  # 5 engaged
    assert a["overall"]["funnel_band"] == "below_998"
    assert a["reach_areas"][0]["site_id"] == "S1"
    # nearest centre: S1 sits inside Cherryfield, S2 in Halewood North
    assert a["nearest_sites"][0]["site_id"] == "S1"
    assert a["nearest_sites"][0]["km"] < a["nearest_sites"][1]["km"]
    assert [f["rank"] for f in a["findings"]] == [1]
    groups = {(r["dimension"], r["group"]): r for r in a["groups"]["rows"]}
    # asian children in 004B: 60 - round(48) = 12 children (-> 9), 20 - 16 = 4 registered
    asian = groups[("Ethnic group (broad)", "Asian")]
    assert asian["denominator"] == 9 and asian["registered"] is None
    assert asian["registered_rate"] is None


def test_unknown_area_and_route_give_the_same_404(viewer_url: str) -> None:
    a = get(viewer_url + "/api/areas/E99999999")
    b = get(viewer_url + "/api/no/such/thing")
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json() == {"detail": "not found"}
    assert "E99999999" not in a.text


def test_centres_and_centre_profile(viewer_url: str) -> None:
    t = get(viewer_url + "/api/centres").json()
    rows = {r["site_id"]: r for r in t["rows"]}
    # S1: registered 80 + 20 = 100 -> 99, engaged 45 -> 45; S2: 62 -> 63, 39 -> 39
    assert (rows["S1"]["registered"], rows["S1"]["engaged"]) == (99, 45)
    assert (rows["S2"]["registered"], rows["S2"]["engaged"]) == (63, 39)
    assert rows["S1"]["engaged_per_registered"] == pytest.approx(round(45 / 99, 4))
    c = get(viewer_url + "/api/centres/S1").json()
    assert c["name"] == "Cherryfield Family Hub"
    assert [m["code"] for m in c["reach_area_members"]] == ["E01006506", "E01006508"]
    assert get(viewer_url + "/api/centres/any").status_code == 404


def test_quality(viewer_url: str) -> None:
    q = get(viewer_url + "/api/quality").json()
    rec = {r["source"]: r for r in q["reconciliation"]["rows"]}
    assert rec["births"]["rows_read"] == 249 and rec["births"]["rows_quarantined"] == 9
    assert rec["registrations"]["rows_quarantined"] is None  # 3 rows: suppressed
    reasons = {(r["source"], r["reason"]): r["rows"] for r in q["quarantine"]["rows"]}
    assert reasons == {
        ("births", "invalid_date_of_birth"): 9,
        ("registrations", "missing_identity"): None,
    }
    by_group = {r["group"]: r for r in q["linkage_by_group"]["rows"]}
    assert by_group["Asian"]["recall"] == pytest.approx(0.85)
    assert by_group["Asian"]["size"] == 45  # 48 children -> 45


def test_findings_link_to_their_areas(viewer_url: str) -> None:
    f = get(viewer_url + "/api/findings").json()["findings"]
    assert [x["rank"] for x in f] == [1, 2, 3]
    assert "highlight=E01006506" in f[0]["links"]["map"]
    assert f[1]["links"]["site"]["url"] == "/centres/S2"
    # a borough-wide group finding opens the map on that group
    assert "dimension=ethnicity_broad" in f[2]["links"]["map"]
    assert "group=asian" in f[2]["links"]["map"]
    # children affected are released again: 21 stays 21, 9 stays 9
    assert [x["children_affected"] for x in f] == [21, 9, 9]


def test_reach_rows_endpoint(viewer_url: str) -> None:
    rows = get(viewer_url + "/api/reach", level="ward", dimension="all").json()["rows"]
    by = {r["area_code"]: r for r in rows}
    # Cherryfield ward: 160 children -> 159, 100 registered -> 99
    assert by["E05010935"]["denominator"] == 159 and by["E05010935"]["registered"] == 99
    assert not any(k.startswith("raw_") for k in rows[0])


def test_openapi_documents_the_api(viewer_url: str) -> None:
    paths = get(viewer_url + "/openapi.json").json()["paths"]
    for p in (
        "/api/overview",
        "/api/map/values",
        "/api/areas/{code}",
        "/api/outreach",
        "/export/map.{fmt}",
    ):
        assert p in paths


def test_security_headers(viewer_url: str) -> None:
    r = get(viewer_url + "/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert "camera=()" in r.headers["permissions-policy"]
    assert "server" not in r.headers  # no software banner
    # pages are not cached unless a route says so; map layers may be (private)
    assert r.headers["cache-control"] == "no-store"
    for path in ("/outreach", "/quality", "/export/centres.csv"):
        assert get(viewer_url + path).headers.get("cache-control") == "no-store", path


# --- exports --------------------------------------------------------------------------------


def test_csv_export_matches_the_api(viewer_url: str) -> None:
    r = get(viewer_url + "/export/map.csv", measure="registered_rate")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    by = {row["Code"]: row for row in rows}
    assert by["E01006508"]["Registered with a centre"] == str(round(81 / 99, 4))
    assert by["E01006419"]["Registered with a centre"] == ""  # suppressed: empty cell
    assert by["E01006506"]["Children living there (known or registered)"] == "57"


def test_excel_export_has_the_table_and_the_attribution(viewer_url: str, tmp_path: Path) -> None:
    r = get(viewer_url + "/export/centres.xlsx")
    assert r.status_code == 200
    path = tmp_path / "centres.xlsx"
    path.write_bytes(r.content)
    wb = openpyxl.load_workbook(path)
    ws = wb["centres"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Centre", "Site", "Children registered here"]  # plain name first
    assert [ws.cell(row=i, column=3).value for i in (2, 3)] == [99, 63]
    about = [row[0].value for row in wb["About"].iter_rows()]
    assert ATTRIBUTION[0] in about
    assert any("suppressed" in str(line) for line in about)


@pytest.mark.parametrize(
    "table",
    [
        "findings",
        "centres",
        "completeness",
        "reconciliation",
        "quarantine",
        "flags",
        "linkage",
        "linkage_by_group",
    ],
)
def test_every_aggregate_table_exports(viewer_url: str, table: str) -> None:
    for fmt in ("csv", "xlsx"):
        r = get(viewer_url + f"/export/{table}.{fmt}")
        assert r.status_code == 200, (table, fmt)
        assert r.headers["content-disposition"] == f'attachment; filename="{table}.{fmt}"'


def test_parameterised_table_exports(viewer_url: str) -> None:
    r = get(viewer_url + "/export/area_groups.csv", area="E01006508")
    assert r.status_code == 200 and "Female" in r.text
    assert get(viewer_url + "/export/area_groups.csv").status_code == 400
    r = get(viewer_url + "/export/centre_misses.csv", site="S1")
    assert r.status_code == 200
    assert get(viewer_url + "/export/nothing.csv").status_code == 404


def test_map_exports_as_geojson_and_geopackage(viewer_url: str, tmp_path: Path) -> None:
    r = get(viewer_url + "/export/map.geojson", measure="engaged_rate")
    geo = json.loads(r.content)
    values = {f["properties"]["area_code"]: f["properties"]["value"] for f in geo["features"]}
    assert values["E01006419"] == pytest.approx(round(27 / 51, 4))
    assert values["E01006506"] is None
    r = get(viewer_url + "/export/map.gpkg", measure="engaged_rate")
    path = tmp_path / "map.gpkg"
    path.write_bytes(r.content)
    frame = gpd.read_file(path, layer="lsoa")
    assert len(frame) == 4
    assert frame.crs.to_epsg() == 4326
    assert set(frame["measure"]) == {"engaged_rate"}


def test_outreach_for_a_permitted_role(admin_url: str) -> None:
    o = get(admin_url + "/api/outreach").json()
    assert o["total"] == 3
    # rows come in households and walking order (web/pages/outreach.py), not by id
    sentinel = [r for r in o["table"]["rows"] if r["person_id"] == SENTINEL_PERSON]
    assert len(sentinel) == 1 and sentinel[0]["nearest_site"] == "Cherryfield Family Hub"
    only = get(admin_url + "/api/outreach", area="E01006421").json()
    assert only["total"] == 1
    r = get(admin_url + "/export/outreach.csv", site="S1")
    assert r.headers["cache-control"] == "no-store"
    assert len(list(csv.DictReader(io.StringIO(r.text)))) == 2

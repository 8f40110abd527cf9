"""The optional offline basemap (outputs.basemap_path): a tiny PMTiles and a tiny MBTiles
file written here, read back tile by tile, served by the dashboard at /basemap/z/x/y and
drawn in Chromium under the areas."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from everyfamily.errors import InputError
from everyfamily.web import create_app
from everyfamily.web.access import StaticPolicy
from everyfamily.web.basemap import EMPTY_PNG, Basemap

from .conftest import running
from .fixture_outputs import Fixture

#: One colour per tile, so each tile read back can be told from every other.
ZOOMS = (0, 1, 2)


def _png(z: int, x: int, y: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (40 * z + 10, 30 * x + 20, 30 * y + 30)).save(buf, "PNG")
    return buf.getvalue()


def _tiles() -> dict[tuple[int, int, int], bytes]:
    return {(z, x, y): _png(z, x, y) for z in ZOOMS for x in range(2**z) for y in range(2**z)}


def write_pmtiles(path: Path, tile_type: TileType = TileType.PNG) -> dict[tuple[int, ...], bytes]:
    tiles = _tiles()
    with write(str(path)) as w:
        for (z, x, y), data in sorted(tiles.items(), key=lambda t: zxy_to_tileid(*t[0])):
            w.write_tile(zxy_to_tileid(z, x, y), data)
        w.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": Compression.NONE,
                "min_zoom": 0,
                "max_zoom": 2,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850000000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850000000,
                "center_zoom": 0,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {"attribution": "Test tiles, made in the test"},
        )
    return dict(tiles)


def write_mbtiles(path: Path) -> dict[tuple[int, ...], bytes]:
    tiles = _tiles()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("format", "png"), ("minzoom", "0"), ("maxzoom", "2"), ("bounds", "-180,-85,180,85")],
    )
    # MBTiles rows are in TMS order: row 0 is the south
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, 2**z - 1 - y, d) for (z, x, y), d in tiles.items()],
    )
    db.commit()
    db.close()
    return dict(tiles)


@pytest.mark.parametrize("kind", ["pmtiles", "mbtiles"])
def test_every_tile_reads_back_at_its_xyz_address(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"base.{kind}"
    tiles = write_pmtiles(path) if kind == "pmtiles" else write_mbtiles(path)
    bm = Basemap(path)
    assert (bm.info.min_zoom, bm.info.max_zoom, bm.info.media_type) == (0, 2, "image/png")
    for (z, x, y), data in tiles.items():
        assert bm.tile(z, x, y) == data, (z, x, y)
    # the north-west tile at zoom 1 is the one written there (no TMS flip left over)
    pixel = Image.open(io.BytesIO(bm.tile(1, 0, 0) or b"")).getpixel((0, 0))
    assert pixel == (50, 20, 30)
    assert bm.tile(3, 0, 0) is None  # beyond the file's zooms
    assert bm.tile(1, 2, 0) is None  # off the world


def test_vector_tiles_and_other_files_are_refused_in_one_line(tmp_path: Path) -> None:
    write_pmtiles(tmp_path / "v.pmtiles", TileType.MVT)
    with pytest.raises(InputError, match="expected raster tiles") as got:
        Basemap(tmp_path / "v.pmtiles")
    assert "\n" not in str(got.value)
    (tmp_path / "x.pmtiles").write_text("not tiles")
    with pytest.raises(InputError, match="neither a PMTiles nor an MBTiles"):
        Basemap(tmp_path / "x.pmtiles")
    with pytest.raises(InputError, match="no such file"):
        Basemap(tmp_path / "absent.pmtiles")


@pytest.fixture(scope="module")
def with_basemap(
    fixture_outputs: Fixture, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[tuple[int, ...], bytes]]]:
    folder = tmp_path_factory.mktemp("basemap")
    out = folder / "out"
    shutil.copytree(fixture_outputs.out_dir, out)
    tiles = write_pmtiles(folder / "council.pmtiles")
    run = json.loads((out / "run.json").read_text("utf-8"))
    run.setdefault("settings", {}).setdefault("outputs", {})["basemap_path"] = str(
        folder / "council.pmtiles"
    )
    (out / "run.json").write_text(json.dumps(run), "utf-8")
    with running(create_app(out, policy=StaticPolicy("viewer"))) as base:
        yield base, tiles


def test_the_dashboard_serves_the_tiles_itself(
    with_basemap: tuple[str, dict[tuple[int, ...], bytes]],
) -> None:
    base, tiles = with_basemap
    got = httpx.get(f"{base}/basemap/2/3/1")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content == tiles[(2, 3, 1)]
    # where the file has no tile: a transparent one, never a broken image
    empty = httpx.get(f"{base}/basemap/9/0/0")
    assert empty.status_code == 200 and empty.content == EMPTY_PNG
    assert Image.open(io.BytesIO(empty.content)).getpixel((0, 0))[3] == 0
    options = httpx.get(f"{base}/api/map/options").json()
    assert options["basemap"]["url"] == "/basemap/{z}/{x}/{y}"
    assert options["basemap"]["max_zoom"] == 2
    assert options["basemap"]["attribution"] == "Test tiles, made in the test"


def test_without_the_setting_there_is_no_basemap(viewer_url: str) -> None:
    assert httpx.get(f"{viewer_url}/api/map/options").json()["basemap"] is None
    assert httpx.get(f"{viewer_url}/basemap/0/0/0").status_code == 404


@pytest.mark.browser
def test_the_map_draws_the_basemap_under_the_areas(
    browser: Any, with_basemap: tuple[str, dict[tuple[int, ...], bytes]]
) -> None:
    base, _tiles = with_basemap
    pg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(base + "/map", wait_until="networkidle")
    pg.wait_for_selector("#map[data-ready='true']")
    pg.wait_for_function(
        "Array.from(document.querySelectorAll('img.leaflet-tile')).some(i => i.complete"
        " && i.naturalWidth === 256 && i.src.includes('/basemap/2/'))"
    )
    # the tiles' pane lies under the areas' pane, the areas under the outlines
    z = pg.evaluate(
        "['.leaflet-tile-pane', '.leaflet-ef-areas-pane', '.leaflet-ef-outlines-pane']"
        ".map(s => Number(getComputedStyle(document.querySelector(s)).zIndex))"
    )
    assert z[0] < z[1] < z[2], z
    assert "Test tiles" in pg.locator(".leaflet-control-attribution").inner_text()
    assert errors == []
    pg.context.close()

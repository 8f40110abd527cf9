"""An optional offline basemap: raster tiles from a PMTiles or MBTiles file the council
provides (``outputs.basemap_path``), served by the dashboard itself at
``/basemap/{z}/{x}/{y}`` and drawn under the outlines. Nothing is fetched from outside;
without the setting the maps stay self-contained with no basemap.

PMTiles v3 (Protomaps specification, github.com/protomaps/PMTiles/blob/main/spec/v3) is read
with the ``pmtiles`` package over a memory map, so a tile costs a few small reads of the
file; MBTiles 1.3 (Mapbox specification: an SQLite file, ``tiles`` table in TMS order, y
flipped against XYZ) through the standard library's sqlite3, read-only. Only raster tiles
(PNG, JPEG, WebP) are served: vector tiles would need a style and a renderer the dashboard
does not ship, so a vector file is refused with a one-line error at start.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from everyfamily.errors import InputError

#: Tile formats the dashboard serves -> media type.
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
#: A fully transparent 1 x 1 PNG, answered where the file has no tile (no broken images).
EMPTY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


@dataclass(frozen=True)
class BasemapInfo:
    """What the map needs to draw the layer: zooms, bounds (south, west, north, east) and
    the attribution the file carries."""

    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None
    attribution: str
    media_type: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": "/basemap/{z}/{x}/{y}",
            "min_zoom": self.min_zoom,
            "max_zoom": self.max_zoom,
            "bounds": list(self.bounds) if self.bounds else None,
            "attribution": self.attribution,
        }


#: What to provide instead of vector tiles (docs/dashboard.md, "Basemap: raster only").
VECTOR_HINT = (
    "give raster tiles (PNG, JPEG or WebP) in a PMTiles or MBTiles file: ask the GIS team "
    "for a raster export, or render the vector file to raster first; see docs/dashboard.md"
)


class Basemap:
    """A PMTiles or MBTiles file of raster tiles, opened once, read by many requests."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(
                f"outputs.basemap_path: {self.path}: no such file",
                hint="give the PMTiles or MBTiles file the council provides, or remove the setting",
            )
        self._lock = threading.Lock()
        with self.path.open("rb") as f:
            magic = f.read(7)
        if magic == b"PMTiles":
            self.info = self._open_pmtiles()
        else:
            self.info = self._open_mbtiles()

    # --- PMTiles ---------------------------------------------------------------------------

    def _open_pmtiles(self) -> BasemapInfo:
        from pmtiles import reader as pm_reader
        from pmtiles.tile import Compression, TileType

        pm: Any = pm_reader  # the package has no type hints
        self._file = self.path.open("rb")
        self._reader: Any = pm.Reader(pm.MmapSource(self._file))
        h = self._reader.header()
        kinds = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}
        kind = kinds.get(h["tile_type"])
        if kind is None:
            self._file.close()
            raise InputError(
                f"outputs.basemap_path: {self.path}: tiles of type {h['tile_type'].name}, "
                "expected raster tiles (PNG, JPEG or WebP)",
                hint=VECTOR_HINT,
            )
        self._gzip = h["tile_compression"] == Compression.GZIP
        self.kind = "pmtiles"
        try:
            meta = self._reader.metadata()
        except (ValueError, OSError):
            meta = {}
        bounds = (
            h["min_lat_e7"] / 1e7,
            h["min_lon_e7"] / 1e7,
            h["max_lat_e7"] / 1e7,
            h["max_lon_e7"] / 1e7,
        )
        return BasemapInfo(
            int(h["min_zoom"]),
            int(h["max_zoom"]),
            bounds,
            str(meta.get("attribution") or "") if isinstance(meta, dict) else "",
            MEDIA[kind],
        )

    # --- MBTiles ---------------------------------------------------------------------------

    def _open_mbtiles(self) -> BasemapInfo:
        uri = f"file:{self.path}?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._db.execute(
                "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles"
            ).fetchone()
        except sqlite3.DatabaseError:
            raise InputError(
                f"outputs.basemap_path: {self.path}: neither a PMTiles nor an MBTiles file",
                hint="give a .pmtiles or .mbtiles file of raster tiles",
            ) from None
        kind = str(meta.get("format") or "png").lower()
        if kind not in MEDIA:
            raise InputError(
                f"outputs.basemap_path: {self.path}: tiles of format {kind!r}, expected raster "
                "tiles (png, jpg or webp)",
                hint=VECTOR_HINT,
            )
        self.kind = "mbtiles"
        self._gzip = False
        bounds = None
        try:
            w, s, e, n = (float(v) for v in str(meta.get("bounds", "")).split(","))
            bounds = (s, w, n, e)
        except ValueError:
            pass
        lo = int(meta.get("minzoom", zooms[0] if zooms[0] is not None else 0))
        hi = int(meta.get("maxzoom", zooms[1] if zooms[1] is not None else 18))
        return BasemapInfo(lo, hi, bounds, str(meta.get("attribution") or ""), MEDIA[kind])

    # --- tiles -----------------------------------------------------------------------------

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ (z, x, y), or None when the file has none there."""
        if z < 0 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with self._lock:
            if self.kind == "pmtiles":
                data = self._reader.get(z, x, y)
            else:
                row = self._db.execute(
                    "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                    "AND tile_row = ?",
                    (z, x, 2**z - 1 - y),
                ).fetchone()
                data = row[0] if row else None
        if data is None:
            return None
        data = bytes(data)
        return gzip.decompress(data) if self._gzip else data


def open_basemap(settings: dict[str, Any]) -> Basemap | None:
    """The basemap the run's settings name (``outputs.basemap_path``), or None."""
    path = (settings.get("outputs") or {}).get("basemap_path")
    return Basemap(Path(path)) if path else None


def info_json(basemap: Basemap | None) -> str:
    return json.dumps(basemap.info.to_dict() if basemap else None)

"""A randomised synthetic town: areas, postcodes, a barrier, sites and streets (pure, seeded).

Nothing here is a real place. The town sits at a random spot of the English Midlands in
British National Grid coordinates (EPSG:27700, metres) so that every distance is realistic:

- an outline (a wobbly ellipse) of ``n_areas`` small areas of about 0.35 km² each (urban
  LSOA-sized), made as Voronoi cells of random points relaxed by Lloyd's algorithm
  (Lloyd 1982, "Least squares quantization in PCM") and clipped to the outline;
- wards: the areas grouped by k-means on their centres;
- 12-30 postcode centroids per area, with postcodes in a non-existent postcode area (``Z?``:
  only ZE exists) so they can never be mistaken for real ones;
- deprivation: a spatial field around a random "deprived core" ranked into deciles on each
  side of the barrier separately (so the barrier is not a deprivation contrast in disguise);
- a railway or motorway crossing the town with two or three crossings, cutting off a
  quarter to a third of the areas, none of which holds a service site;
- 8-15 sites spread by farthest-point sampling on the larger side;
- an approximate street network: paths between neighbouring postcodes (Delaunay edges),
  none crossing the barrier except at its crossings (a footway bridge there).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from everyfamily.demo.opendata_io import ETHNIC_GROUPS_2011, OpenData

#: Mean size of a small area (m²): an urban LSOA of ~1,500 people.
AREA_M2 = 0.35e6
#: Longest street segment between two neighbouring postcodes (metres).
MAX_EDGE_M = 700.0
#: Postcode areas that do not exist (only ZE, Shetland, does): synthetic postcodes only.
POSTCODE_AREAS = ("ZT", "ZR", "ZW", "ZN", "ZL", "ZH")
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
_STEMS = (
    "Ash", "Bram", "Cal", "Dun", "Elm", "Fern", "Gor", "Hal", "Ire", "Kel", "Lang", "Mor",
    "Nor", "Oak", "Pen", "Quen", "Rud", "Sel", "Thorn", "Ul", "Wen", "Yar", "Hol", "Stan",
)  # fmt: skip
_ENDS = (
    "bridge", "ford", "ham", "ley", "wick", "by", "thorpe", "field", "well", "stead", "ton",
    "bury", "worth", "cote", "mere", "hurst",
)  # fmt: skip
_WARD_WORDS = ("Park", "Green", "Hill", "Vale", "Common", "Fields", "Central", "Heath", "Moor")


@dataclass(frozen=True)
class Geography:
    """One synthetic town (coordinates in EPSG:27700 unless a column says lat/lon)."""

    seed: int
    town_name: str
    outline: Polygon
    #: One row per small area, the columns :class:`OpenData` promises (see opendata_io).
    areas: pd.DataFrame
    polygons: dict[str, BaseGeometry]
    #: postcode, lat, lon, lsoa, x, y
    postcodes: pd.DataFrame
    #: site_id, name, lat, lon, capacity, school_urn (empty), lsoa, x, y
    sites: pd.DataFrame
    barrier: LineString
    barrier_class: str
    barrier_name: str
    crossings: tuple[tuple[float, float], ...]
    #: areas on the side of the barrier without sites
    cut_off_areas: tuple[str, ...]
    #: street lines: road_class, name, bridge, geometry (EPSG:27700)
    streets: Any

    def open_data(self) -> OpenData:
        """The town as the Knowsley generator's input (demo.world.simulate(data=...))."""
        return OpenData(
            areas=self.areas,
            postcodes=self.postcodes,
            schools=self.sites.iloc[0:0],
            polygons=self.polygons,
            m57=tuple(self.barrier_lonlat()),
        )

    def barrier_lonlat(self) -> list[tuple[float, float]]:
        lon, lat = to_lonlat(*np.asarray(self.barrier.coords).T)
        return [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lon, lat, strict=True)]


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = t.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def _outline(rng: np.random.Generator, cx: float, cy: float, radius: float) -> Polygon:
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    aspect = rng.uniform(0.75, 1.0)
    r = radius * (1 + 0.12 * np.sin(2 * t + p1) + 0.07 * np.sin(3 * t + p2))
    return Polygon(
        np.column_stack(
            [cx + r * np.cos(t) / math.sqrt(aspect), cy + r * np.sin(t) * math.sqrt(aspect)]
        )
    )


def _points_in(rng: np.random.Generator, poly: BaseGeometry, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        cand = np.column_stack([rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)])
        inside = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out.append(cand[inside])
        got += int(inside.sum())
    return np.vstack(out)[:n]


def _cells(points: np.ndarray, outline: Polygon) -> list[BaseGeometry]:
    """Voronoi cells of ``points`` clipped to the outline, in the order of the points."""
    vor = shapely.voronoi_polygons(MultiPoint(points), extend_to=outline.buffer(5000))
    cells = list(vor.geoms)
    out: list[BaseGeometry] = []
    for x, y in points:
        p = Point(x, y)
        cell = next(c for c in cells if c.contains(p))
        out.append(cell.intersection(outline))
    return out


def _town_name(rng: np.random.Generator) -> str:
    return str(rng.choice(_STEMS)) + str(rng.choice(_ENDS))


def _kmeans(pts: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = pts[rng.choice(len(pts), k, replace=False)]
    for _ in range(25):
        lab = np.argmin(
            np.hypot(*(pts[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)), axis=1
        )
        for j in range(k):
            if (lab == j).any():
                centres[j] = pts[lab == j].mean(axis=0)
    return np.asarray(lab)


def build_geography(seed: int, n_areas: int | None = None) -> Geography:
    """The town of this seed (same seed and size, same town)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1013]))
    n = int(n_areas if n_areas is not None else rng.integers(40, 81))
    if not 10 <= n <= 200:
        raise ValueError(f"n_areas must be within 10..200, got {n}")
    cx = float(np.round(rng.uniform(400_000, 500_000), -2))
    cy = float(np.round(rng.uniform(220_000, 380_000), -2))
    radius = math.sqrt(n * AREA_M2 / math.pi)
    outline = _outline(rng, cx, cy, radius)
    town = _town_name(rng)

    # --- small areas: Lloyd-relaxed Voronoi cells ------------------------------------------
    pts = _points_in(rng, outline, n)
    for _ in range(3):
        cells = _cells(pts, outline)
        pts = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    cells = _cells(pts, outline)
    order = np.lexsort((pts[:, 0], -pts[:, 1]))  # north to south, then west to east
    pts = pts[order]
    cells = [cells[i] for i in order]
    code_prefix = str(rng.choice(["E01", "TA", "NB0", "X"]))
    codes = [f"{code_prefix}{9000 + i + 1:05d}" for i in range(n)]
    area_names = [f"{town} {i + 1:03d}{string.ascii_uppercase[i % 4]}" for i in range(n)]

    # wards: k-means of area centres
    k = max(4, n // 6)
    lab = _kmeans(pts, k, rng)
    ward_ids = {
        int(j): i
        for i, j in enumerate(sorted(set(lab.tolist()), key=lambda j: -pts[lab == j, 1].mean()))
    }
    words = list(rng.permutation(_WARD_WORDS))
    stems = list(rng.permutation(_STEMS))
    ward_names = [f"{stems[i % len(stems)]} {words[i % len(words)]}" for i in range(k)]
    ward = [f"W{seed % 97:02d}{ward_ids[int(j)] + 1:03d}" for j in lab]
    ward_name = [ward_names[ward_ids[int(j)]] for j in lab]
    msoa = [f"M{seed % 97:02d}{(ward_ids[int(j)]) // 2 + 1:03d}" for j in lab]

    areas = pd.DataFrame({"lsoa": codes, "name": area_names})
    areas["ward"] = ward
    areas["ward_name"] = ward_name
    areas["msoa"] = msoa
    polygons = dict(zip(codes, cells, strict=True))

    # --- postcodes ------------------------------------------------------------------------------
    pc_area = str(rng.choice(POSTCODE_AREAS))
    used: set[str] = set()
    rows = []
    for i, (code, cell) in enumerate(zip(codes, cells, strict=True)):
        m = int(rng.integers(12, 31))
        district = int(ward[i][-3:])
        for x, y in _points_in(rng, cell, m):
            while True:
                inward = (
                    f"{rng.integers(0, 10)}{rng.choice(list(_INWARD))}{rng.choice(list(_INWARD))}"
                )
                pc = f"{pc_area}{district} {inward}"
                if pc not in used:
                    used.add(pc)
                    break
            rows.append((pc, code, round(float(x), 1), round(float(y), 1)))
    postcodes = pd.DataFrame(rows, columns=["postcode", "lsoa", "x", "y"])
    lon, lat = to_lonlat(postcodes["x"].to_numpy(), postcodes["y"].to_numpy())
    postcodes["lat"] = np.round(lat, 6)
    postcodes["lon"] = np.round(lon, 6)
    postcodes = postcodes[["postcode", "lat", "lon", "lsoa", "x", "y"]]
    postcodes = postcodes.sort_values("postcode").reset_index(drop=True)
    centre = postcodes.groupby("lsoa")[["x", "y"]].mean()
    areas["x"] = areas["lsoa"].map(centre["x"]).to_numpy()
    areas["y"] = areas["lsoa"].map(centre["y"]).to_numpy()

    # --- the barrier: a line cutting off 25-35% of the areas ---------------------------------
    theta = rng.uniform(0, np.pi)
    normal = np.array([-math.sin(theta), math.cos(theta)])
    proj = (areas[["x", "y"]].to_numpy() - (cx, cy)) @ normal
    share = rng.uniform(0.25, 0.35)
    offset = float(np.quantile(proj, 1 - share))  # areas with proj > offset are cut off
    direction = np.array([math.cos(theta), math.sin(theta)])
    base = np.array([cx, cy]) + offset * normal
    ts = np.linspace(-2.2 * radius, 2.2 * radius, 7)
    wiggle = np.concatenate([[0], rng.normal(0, 60, 5), [0]])
    verts = [
        tuple(np.round(base + t * direction + w * normal, 1))
        for t, w in zip(ts, wiggle, strict=True)
    ]
    barrier = LineString(verts)
    # the side test uses the line itself (its wiggles included)
    far_poly = _side_polygon(barrier, normal, radius)
    cut_off = tuple(
        c for c, x, y in zip(areas["lsoa"], areas["x"], areas["y"], strict=True)
        if far_poly.contains(Point(x, y))
    )  # fmt: skip
    _area_attributes(areas, pts, np.isin(codes, cut_off), outline, radius, seed)
    barrier_class = str(rng.choice(["rail", "motorway"]))
    barrier_name = (
        f"{town} railway"
        if barrier_class == "rail"
        else f"M{int(rng.integers(60, 99))} (synthetic)"
    )
    inside = barrier.intersection(outline)
    n_cross = int(rng.integers(2, 4))
    length = inside.length
    crossings = tuple(
        tuple(np.round(np.asarray(inside.interpolate(length * f).coords[0]), 1))
        for f in np.linspace(0.2, 0.8, n_cross)
    )

    # --- sites: farthest-point sampling on the side with the most areas -----------------------
    n_sites = int(rng.integers(8, 16))
    near_pc = postcodes[~postcodes["lsoa"].isin(set(cut_off))]
    cand = near_pc[["x", "y"]].to_numpy()
    # keep sites off the barrier itself: at least 250 m from it
    dist_line = shapely.distance(barrier, shapely.points(cand))
    cand_idx = np.flatnonzero(dist_line > 250)
    chosen = [int(cand_idx[rng.integers(0, len(cand_idx))])]
    mind = np.hypot(*(cand[cand_idx] - cand[chosen[0]]).T)
    while len(chosen) < n_sites:
        nxt = int(cand_idx[int(np.argmax(mind))])
        chosen.append(nxt)
        mind = np.minimum(mind, np.hypot(*(cand[cand_idx] - cand[nxt]).T))
    site_prefix = str(rng.choice(["FH", "CC", "HUB", "S"]))
    kind = str(rng.choice(["Family Hub", "Children's Centre"]))
    srows = []
    seen: set[str] = set()
    for i, k_ in enumerate(chosen):
        r = near_pc.iloc[k_]
        wname = str(areas.set_index("lsoa").loc[r["lsoa"], "ward_name"])
        name = f"{wname} {kind}"
        if name in seen:
            name = f"{wname} {string.ascii_uppercase[i]} {kind}"
        seen.add(name)
        srows.append(
            {
                "site_id": f"{site_prefix}{i + 1:02d}",
                "name": name,
                "lat": float(r["lat"]),
                "lon": float(r["lon"]),
                "capacity": int(rng.integers(8, 25)) * 5,
                "school_urn": "",
                "lsoa": str(r["lsoa"]),
                "x": float(r["x"]),
                "y": float(r["y"]),
            }
        )
    sites = pd.DataFrame(srows)
    streets = _streets(postcodes, sites, barrier, crossings, barrier_class, barrier_name)
    return Geography(
        seed=seed,
        town_name=town,
        outline=outline,
        areas=areas,
        polygons=polygons,
        postcodes=postcodes,
        sites=sites,
        barrier=barrier,
        barrier_class=barrier_class,
        barrier_name=barrier_name,
        crossings=crossings,
        cut_off_areas=cut_off,
        streets=streets,
    )


def _area_attributes(
    areas: pd.DataFrame,
    pts: np.ndarray,
    cut_off: np.ndarray,
    outline: Polygon,
    radius: float,
    seed: int,
) -> None:
    """Deprivation deciles, under-fives by single year of age and the ethnic mix (in place).

    Deprivation rises towards a random core with noise, and is ranked into deciles
    separately on each side of the barrier, so that both sides span deciles 1-10: the
    barrier story is never the deprivation story in disguise (and vice versa).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1014]))
    n = len(areas)
    core = _points_in(rng, outline.buffer(-radius * 0.3), 1)[0]
    score = np.hypot(*(pts - core).T) / radius + rng.normal(0, 0.25, n)
    imd = np.zeros(n, dtype=int)
    for side in (cut_off, ~cut_off):
        idx = np.flatnonzero(side)
        rank = np.argsort(np.argsort(score[idx]))
        imd[idx] = 1 + np.floor(rank * 10 / len(idx)).astype(int)
    idaci = np.clip(imd + rng.integers(-1, 2, n), 1, 10)
    # under-fives: more in the deprived areas
    total = rng.integers(70, 131, n) * (1 + 0.04 * (5.5 - imd))
    ages = np.array([rng.multinomial(int(t), [0.19, 0.2, 0.2, 0.2, 0.21]) for t in total])
    # ethnic mix (Census 2011 groups): a town mix, varied by area
    white = rng.uniform(0.72, 0.93)
    rest = rng.dirichlet(np.full(len(ETHNIC_GROUPS_2011) - 1, 0.7)) * (1 - white)
    mix = np.concatenate([[white], rest])
    shares = mix[None, :] * rng.lognormal(0, 0.5, (n, len(mix)))
    shares /= shares.sum(axis=1, keepdims=True)
    foreign_cols = [
        i
        for i, g in enumerate(ETHNIC_GROUPS_2011)
        if g not in {"WhiteBrit", "Mixed", "BlkCaribbean"}
    ]
    born_out = 0.02 + 0.6 * shares[:, foreign_cols].sum(axis=1)
    for a in range(5):
        areas[f"age_{a}"] = ages[:, a].astype(int)
    areas["imd_decile"] = imd
    areas["idaci_decile"] = idaci.astype(int)
    for j, g in enumerate(ETHNIC_GROUPS_2011):
        areas[f"eth_{g}"] = shares[:, j]
    areas["born_outside_uk"] = born_out
    areas["non_english_msoa"] = np.clip(0.45 * born_out, 0, 0.9)
    areas["persons"] = rng.integers(1300, 1900, n)


def _side_polygon(line: LineString, normal: np.ndarray, radius: float) -> Polygon:
    """The half-plane (within reach of the town) on the +normal side of the line."""
    coords = np.asarray(line.coords)
    far = coords[::-1] + normal * 10 * radius
    return Polygon(np.vstack([coords, far]))


def _streets(
    postcodes: pd.DataFrame,
    sites: pd.DataFrame,
    barrier: LineString,
    crossings: tuple[tuple[float, float], ...],
    barrier_class: str,
    barrier_name: str,
) -> Any:
    """Paths between neighbouring postcodes and sites, crossing the barrier only at crossings."""
    import geopandas as gpd
    from scipy.spatial import Delaunay, cKDTree

    pts = np.vstack([postcodes[["x", "y"]].to_numpy(float), sites[["x", "y"]].to_numpy(float)])
    pts = np.unique(np.round(pts, 1), axis=0)
    tri = Delaunay(pts)
    s = tri.simplices
    pairs = np.unique(
        np.sort(np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), axis=1), axis=0
    )
    length = np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)
    pairs = pairs[length <= MAX_EDGE_M]
    paths = shapely.linestrings(np.stack([pts[pairs[:, 0]], pts[pairs[:, 1]]], axis=1))
    paths = paths[~shapely.intersects(paths, barrier)]
    tree = cKDTree(pts)
    bridges = []
    for cx, cy in crossings:
        _d, near = tree.query((cx, cy), k=min(16, len(pts)))
        best, best_len = None, np.inf
        for a_i, a in enumerate(near):
            for b in near[a_i + 1 :]:
                if not LineString([pts[a], pts[b]]).intersects(barrier):
                    continue
                total = np.hypot(*(pts[a] - (cx, cy))) + np.hypot(*(pts[b] - (cx, cy)))
                if total < best_len:
                    best, best_len = (a, b), total
        if best is not None:
            bridges.append(LineString([pts[best[0]], (cx, cy), pts[best[1]]]))
    n_p, n_b = len(paths), len(bridges)
    return gpd.GeoDataFrame(
        {
            "road_class": ["residential"] * n_p + ["footway"] * n_b + [barrier_class],
            "name": [""] * (n_p + n_b) + [barrier_name],
            "bridge": ["no"] * n_p + ["yes"] * n_b + ["no"],
        },
        geometry=[*paths, *bridges, barrier],
        crs="EPSG:27700",
    )

"""Barriers: roads and railways with few crossings, and the reach discontinuity across them.

Pure: takes the network lines, small-area points, sites and a per-child frame; returns the
candidate barriers, the tests and ``access_barrier`` findings. Never reads the truth.

1. Candidates. Lines of a barrier class (motorway, trunk, railway ...) are joined by name
   (or, unnamed, by touching) into barriers at least :data:`MIN_BARRIER_LENGTH_M` long. A
   crossing is a place where a walkable way of another class meets or passes over the
   barrier (intersections within :data:`CROSSING_CLUSTER_M` of each other count once). A
   barrier is a candidate when it has at most ``max_crossings_per_km`` crossings per km.
2. Sides. The zone within ``barrier_buffer_m`` of the barrier is cut along the barrier (its
   ends extended beyond the zone, so the cut runs right through): each piece is a side. This
   is orientation-free, so dual carriageways and curving roads need no special care.
3. Cut off. A small area is cut off when the straight line to its nearest site (as the crow
   flies) crosses the barrier: its families must cross to reach the centre closest to them.
4. Test, for each side holding cut-off areas: the registered rate of the children in them
   against the children in the areas on the other side(s) that are not cut off (one-sided
   two-proportion test; Wilson intervals), Benjamini-Hochberg across every side of every
   candidate. A finding needs q <= FDR, a gap of at least :data:`MIN_BARRIER_GAP` that the
   area's deprivation, ages and groups do not explain (a model without access), and detour
   evidence: the cut-off children's walk must be more roundabout (higher median detour ratio)
   than the other side's.

The test runs on exact counts; what a finding shows is disclosure-controlled like the find
stage's own findings (findings/detectors.py): counts released (suppression, the complement
rule, rounding), and every rate, interval, gap and expected rate computed from the released
counts, so no shown number undoes the rounding of another.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.access.measures import weighted_mean, weighted_median
from everyfamily.evidence import fnum as _fnum
from everyfamily.evidence import sig as _sig
from everyfamily.evidence import strength
from everyfamily.findings import stats as fstats
from everyfamily.findings.model import FDR_ALPHA, Finding, FindingsSettings
from everyfamily.findings.text import (
    RATE_WITHHELD_TEXT,
    Cell,
    affected,
    coarse_rate,
    excess_of,
    expected_of,
    pct,
    released,
    share,
    shown,
    table_pair,
)
from everyfamily.privacy.disclosure import released_rate

#: Shortest barrier considered: 1 km. A shorter piece of motorway or railway (a slip road,
#: a siding) can be walked round; it does not divide a neighbourhood.
MIN_BARRIER_LENGTH_M = 1000.0
#: Intersections of walkable ways with a barrier closer than this are one crossing (the two
#: pavements of a bridge, a junction's several arms).
CROSSING_CLUSTER_M = 50.0
#: Half-width of the cut along a barrier (metres): closes small gaps between the pieces of
#: a barrier (at junctions, between dual carriageways) so that a side cannot leak through.
CUT_HALF_WIDTH_M = 25.0
#: Smallest gap in registered rate across a barrier, after allowing for deprivation, age and
#: group, that makes a finding: 10 percentage points, the findings engine's MIN_RATE_GAP (the
#: smallest gap that would change a service plan; a grade boundary's width at Ofsted).
MIN_BARRIER_GAP = 0.10
#: Fewest children on each side of a comparison: below 20 one child moves a rate 5 points.
MIN_SIDE_CHILDREN = 20

#: Barrier classes grouped into kinds for naming and joining.
KIND_OF_CLASS: dict[str, str] = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "trunk road",
    "trunk_link": "trunk road",
    "primary": "main road",
    "primary_link": "main road",
    "rail": "railway",
    "railway": "railway",
    "light_rail": "railway",
    "subway": "railway",
    "narrow_gauge": "railway",
}


@dataclass(frozen=True)
class Barrier:
    """A candidate barrier: geometry in the projected CRS (metres) and its crossings."""

    barrier_id: str
    name: str
    kind: str
    geometry: Any  # shapely (Multi)LineString
    length_m: float
    crossings: tuple[tuple[float, float], ...]

    @property
    def crossings_per_km(self) -> float:
        return len(self.crossings) / max(self.length_m / 1000.0, 1e-9)

    @property
    def label(self) -> str:
        return f"the {self.name}" if self.name else f"the {self.kind}"


def _kind(road_class: str) -> str:
    return KIND_OF_CLASS.get(road_class, road_class.replace("_", " "))


def find_barriers(lines: Any, barrier_classes: Sequence[str]) -> list[Barrier]:
    """Every barrier-class line joined into barriers, with their crossings (see module)."""
    import shapely

    classes = {c.lower() for c in barrier_classes}
    is_barrier = lines["road_class"].isin(classes).to_numpy()
    bar = lines[is_barrier]
    if bar.empty:
        return []
    walk = lines[lines["walkable"].to_numpy() & ~is_barrier]
    walk_geoms = walk.geometry.to_numpy()
    tree = shapely.STRtree(walk_geoms)
    groups: dict[tuple[str, str], list[Any]] = {}
    for cls, name, geom in zip(bar["road_class"], bar["name"], bar.geometry, strict=True):
        groups.setdefault((_kind(str(cls)), str(name or "").strip()), []).append(geom)
    out: list[Barrier] = []
    for (kind, name), geoms in sorted(groups.items()):
        merged = _merge(geoms)
        pieces = [merged] if name else list(getattr(merged, "geoms", [merged]))
        if not name:
            # Unnamed lines: join pieces that touch (one railway drawn in several lines).
            pieces = _touching(pieces)
        for k, geom in enumerate(pieces):
            length = float(geom.length)
            if length < MIN_BARRIER_LENGTH_M:
                continue
            hits = tree.query(geom, predicate="intersects")
            points = _intersection_points(geom, walk_geoms[hits])
            slug = (name or kind).replace(" ", "_")
            out.append(
                Barrier(
                    barrier_id=f"{slug}#{k + 1}" if len(pieces) > 1 else slug,
                    name=name,
                    kind=kind,
                    geometry=geom,
                    length_m=length,
                    crossings=tuple(_cluster(points, CROSSING_CLUSTER_M)),
                )
            )
    return out


def _touching(pieces: list[Any]) -> list[Any]:
    from shapely.ops import unary_union

    polys = unary_union([p.buffer(1.0) for p in pieces])
    blobs = list(getattr(polys, "geoms", [polys]))
    joined: list[list[Any]] = [[] for _ in blobs]
    for p in pieces:
        for i, b in enumerate(blobs):
            if b.intersects(p):
                joined[i].append(p)
                break
    return [_merge(g) for g in joined if g]


def _merge(geoms: list[Any]) -> Any:
    """The lines joined end to end where they meet (a single line stays as it is)."""
    from shapely.ops import linemerge, unary_union

    u = unary_union(geoms)
    return linemerge(u) if u.geom_type == "MultiLineString" else u


def _intersection_points(barrier: Any, ways: np.ndarray) -> list[tuple[float, float]]:
    import shapely

    pts: list[tuple[float, float]] = []
    for inter in shapely.intersection(ways, barrier):
        # Only points cross: a way that runs along the barrier (a shared line) is not a
        # crossing of it.
        for g in getattr(inter, "geoms", [inter]):
            if g.geom_type == "Point" and not g.is_empty:
                pts.append((float(g.x), float(g.y)))
    return pts


def _cluster(points: list[tuple[float, float]], radius: float) -> list[tuple[float, float]]:
    """Greedy clustering: a point within ``radius`` of a kept point joins it."""
    kept: list[tuple[float, float]] = []
    for x, y in sorted(points):
        if all(math.hypot(x - a, y - b) > radius for a, b in kept):
            kept.append((x, y))
    return kept


def _extended(geom: Any, by: float) -> Any:
    """The barrier with each line's ends pushed ``by`` metres further along their direction."""
    from shapely.geometry import LineString, MultiLineString

    parts = list(getattr(geom, "geoms", [geom]))
    out = []
    for line in parts:
        c = np.asarray(line.coords, dtype="float64")[:, :2]
        if len(c) < 2:
            continue
        d0 = c[0] - c[1]
        d1 = c[-1] - c[-2]
        n0 = np.hypot(*d0) or 1.0
        n1 = np.hypot(*d1) or 1.0
        start = c[0] + d0 / n0 * by
        end = c[-1] + d1 / n1 * by
        out.append(LineString(np.vstack([start, c, end])))
    return MultiLineString(out) if len(out) > 1 else out[0]


def sides(barrier: Barrier, buffer_m: float) -> list[Any]:
    """The pieces of the zone within ``buffer_m`` of the barrier, cut along it (see module);
    largest first."""
    zone = barrier.geometry.buffer(buffer_m)
    cut = _extended(barrier.geometry, 2 * buffer_m).buffer(CUT_HALF_WIDTH_M)
    rest = zone.difference(cut)
    pieces = sorted(getattr(rest, "geoms", [rest]), key=lambda g: -g.area)
    return [p for p in pieces if not p.is_empty]


def compass(dx: float, dy: float) -> str:
    """'north', 'north-east', ... for a direction in a projected CRS (y grows north)."""
    names = (
        "east",
        "north-east",
        "north",
        "north-west",
        "west",
        "south-west",
        "south",
        "south-east",
    )
    angle = math.degrees(math.atan2(dy, dx)) % 360
    return names[int(((angle + 22.5) % 360) // 45)]


@dataclass(frozen=True)
class SideTest:
    """One comparison across a barrier: cut-off areas on one side against the rest."""

    barrier: Barrier
    cut_off: tuple[str, ...]
    other: tuple[str, ...]
    n_cut: int
    x_cut: int
    n_other: int
    x_other: int
    expected_cut: float  # model rate (deprivation, age, group; no access)
    expected_other: float
    walk_cut_m: float  # medians over children
    walk_other_m: float
    detour_cut: float
    detour_other: float
    direction: str  # where the cut-off side lies, e.g. 'east'
    z: float
    p: float
    q: float = math.nan

    @property
    def rate_cut(self) -> float:
        return self.x_cut / self.n_cut if self.n_cut else math.nan

    @property
    def rate_other(self) -> float:
        return self.x_other / self.n_other if self.n_other else math.nan

    @property
    def gap(self) -> float:
        return self.rate_other - self.rate_cut

    @property
    def unexplained_gap(self) -> float:
        return self.gap - (self.expected_other - self.expected_cut)


def side_tests(
    barriers: Sequence[Barrier],
    areas: pd.DataFrame,
    sites_xy: pd.DataFrame,
    children: pd.DataFrame,
    *,
    buffer_m: float,
    max_crossings_per_km: float,
) -> list[SideTest]:
    """Every cut-off-side comparison of every candidate barrier (q-values filled in).

    ``areas``: area_code, x, y (a point per small area, projected). ``sites_xy``: site_id,
    x, y. ``children``: area_code, registered, expected_composition, walk_m, detour_ratio,
    a row per child; or, with a column ``n``, a row per cell of ``n`` children with the same
    values, ``registered`` of them registered (access.engine_sums.area_cells_sql): the same
    counts, medians and means (:func:`_compare`)."""
    from shapely import STRtree, points
    from shapely.geometry import LineString, Point

    if areas.empty or sites_xy.empty:
        return []
    pts = points(areas["x"].to_numpy(dtype="float64"), areas["y"].to_numpy(dtype="float64"))
    sx = sites_xy["x"].to_numpy(dtype="float64")
    sy = sites_xy["y"].to_numpy(dtype="float64")
    ax = areas["x"].to_numpy(dtype="float64")
    ay = areas["y"].to_numpy(dtype="float64")
    k = np.argmin(np.hypot(ax[:, None] - sx[None, :], ay[:, None] - sy[None, :]), axis=1)
    codes = areas["area_code"].astype(str).to_numpy()
    by_area = children.groupby(children["area_code"].astype(str))
    tests: list[SideTest] = []
    for b in barriers:
        if b.crossings_per_km > max_crossings_per_km:
            continue
        near = [int(i) for i in np.flatnonzero(b.geometry.distance(pts) <= buffer_m)]
        if not near:
            continue
        cut_flag = {
            i: LineString([(ax[i], ay[i]), (sx[k[i]], sy[k[i]])]).intersects(b.geometry)
            for i in near
        }
        pieces = sides(b, buffer_m)
        tree = STRtree(pieces)
        side_of: dict[int, int] = {}
        for i in near:
            hit = tree.query(pts[i], predicate="within")
            if len(hit):
                side_of[i] = int(hit[0])
        for s in sorted(set(side_of.values())):
            cut = [i for i, si in side_of.items() if si == s and cut_flag[i]]
            other = [i for i, si in side_of.items() if si != s and not cut_flag[i]]
            if not cut or not other:
                continue
            t = _compare(b, [codes[i] for i in cut], [codes[i] for i in other], by_area)
            if t is None:
                continue
            # Which side: from the nearest point of the barrier to the cut-off areas' middle
            # (across the line where they are, whatever the line does elsewhere).
            mid = Point(float(ax[cut].mean()), float(ay[cut].mean()))
            foot = b.geometry.interpolate(b.geometry.project(mid))
            tests.append(_with(t, direction=compass(mid.x - foot.x, mid.y - foot.y)))
    q = fstats.bh_adjust([t.p for t in tests])
    return [_with(t, q=float(qi)) for t, qi in zip(tests, q, strict=True)]


def _with(t: SideTest, **changes: Any) -> SideTest:
    import dataclasses

    return dataclasses.replace(t, **changes)


def _compare(b: Barrier, cut: list[str], other: list[str], by_area: Any) -> SideTest | None:
    """The test of one side: children counted by their cells' ``n`` (1 per child row),
    medians and means of the values repeated that often
    (access.measures.weighted_median, weighted_mean)."""

    def gather(codes: list[str]) -> pd.DataFrame:
        frames = [by_area.get_group(c) for c in codes if c in by_area.groups]
        return pd.concat(frames) if frames else pd.DataFrame()

    def weights(f: pd.DataFrame) -> np.ndarray:
        if "n" in f.columns:
            return f["n"].to_numpy(dtype="int64")
        return np.ones(len(f), dtype="int64")

    def median(f: pd.DataFrame, col: str) -> float:
        values = pd.to_numeric(f[col], errors="coerce").to_numpy(dtype="float64")
        return weighted_median(values, weights(f))

    a, o = gather(cut), gather(other)
    na = int(weights(a).sum()) if len(a) else 0
    no = int(weights(o).sum()) if len(o) else 0
    if na < MIN_SIDE_CHILDREN or no < MIN_SIDE_CHILDREN:
        return None
    xa, xo = int(a["registered"].sum()), int(o["registered"].sum())
    z, p = fstats.two_proportion_lower(xa, na, xo, no)
    return SideTest(
        barrier=b,
        cut_off=tuple(sorted({c for c in cut if c in by_area.groups})),
        other=tuple(sorted({c for c in other if c in by_area.groups})),
        n_cut=na,
        x_cut=xa,
        n_other=no,
        x_other=xo,
        expected_cut=weighted_mean(a["expected_composition"].to_numpy("float64"), weights(a)),
        expected_other=weighted_mean(o["expected_composition"].to_numpy("float64"), weights(o)),
        walk_cut_m=median(a, "walk_m"),
        walk_other_m=median(o, "walk_m"),
        detour_cut=median(a, "detour_ratio"),
        detour_other=median(o, "detour_ratio"),
        direction="",
        z=float(z),
        p=float(p),
    )


def is_finding(t: SideTest, fdr_alpha: float = FDR_ALPHA) -> bool:
    """The three conditions of a finding (module docstring, step 4)."""
    return (
        math.isfinite(t.q)
        and t.q <= fdr_alpha
        and t.unexplained_gap >= MIN_BARRIER_GAP
        and math.isfinite(t.detour_cut)
        and (not math.isfinite(t.detour_other) or t.detour_cut > t.detour_other)
    )


def barrier_geojson(geom: Any, to_wgs84: Any) -> dict[str, Any]:
    """The barrier as a GeoJSON geometry in EPSG:4326 (simplified to 5 m, 6 decimals)."""
    from shapely import to_geojson
    from shapely.ops import transform

    g = transform(to_wgs84, geom.simplify(5.0))
    out: dict[str, Any] = json.loads(to_geojson(g, indent=None))

    def rnd(c: Any) -> Any:
        return [rnd(v) for v in c] if isinstance(c[0], list | tuple) else [round(v, 6) for v in c]

    out["coordinates"] = rnd(out["coordinates"])
    return out


def make_findings(
    tests: Sequence[SideTest],
    *,
    settings: FindingsSettings,
    area_labels: Mapping[str, str],
    place_names: Mapping[str, str],
    to_wgs84: Any,
    approximate_note: str | None,
    speed_kmh: float,
) -> list[Finding]:
    """An ``access_barrier`` finding for each test that meets :func:`is_finding`."""
    context = _Context(settings, area_labels, place_names, to_wgs84, approximate_note, speed_kmh)
    return [_finding(t, context) for t in tests if is_finding(t, settings.fdr_alpha)]


@dataclass(frozen=True)
class _Context:
    """What every barrier finding of a run shares (make_findings' keyword arguments)."""

    settings: FindingsSettings
    area_labels: Mapping[str, str]
    place_names: Mapping[str, str]
    to_wgs84: Any
    approximate_note: str | None
    speed_kmh: float


def side_cells(areas: Sequence[str], settings: FindingsSettings) -> list[Cell]:
    """The reach-table cells of a side: every child of each of its small areas, any service."""
    return [(settings.small_area_level, a, "all", "all", "any") for a in areas]


def _finding(t: SideTest, c: _Context) -> Finding:
    """One ``access_barrier`` finding: released sides, headline, evidence (see module)."""
    s = c.settings
    cut = shown_side(t.x_cut, t.n_cut, t.expected_cut, s, side_cells(t.cut_off, s))
    oth = shown_side(t.x_other, t.n_other, t.expected_other, s, side_cells(t.other, s))
    names = [c.area_labels.get(a, a) for a in t.cut_off]
    st = strength(t.q)
    excess = shown_excess(t, cut, oth, s)
    return Finding(
        kind="access_barrier",
        areas=t.cut_off,
        group=None,
        site=None,
        measure="registered_rate",
        observed=cut.rate,
        expected=oth.rate,
        interval=cut.interval,
        children_affected=affected(cut.registered, cut.children, t.n_cut - t.x_cut, s),
        headline=_headline(t, cut, oth, _place(t.cut_off, c.place_names), c),
        evidence=_evidence(t, cut, oth, names, excess, st, c),
        score=max(t.n_cut * t.unexplained_gap, 0.0) * st,
        severity="striking",
        level=s.small_area_level,
        area_names=tuple(names),
    )


def shown_excess(t: SideTest, cut: ShownSide, oth: ShownSide, s: FindingsSettings) -> float:
    """Unreached children on the cut-off side beyond what the other side's rate predicts,
    after composition: ``n * (gap - explained gap)``, i.e. ``n * r - x`` with
    ``r = other rate - other expected + cut expected``, all of RELEASED counts when the
    released table is known (:func:`everyfamily.findings.text.excess_of`); the exact excess
    (released by the rules) without it. The ranking score stays exact."""
    rate = oth.rate - oth.expected_rate + cut.expected_rate
    return excess_of(cut.children, cut.registered, rate, t.n_cut * t.unexplained_gap, s)


def _headline(t: SideTest, cut: ShownSide, oth: ShownSide, place: str, c: _Context) -> str:
    """'Families east of the M57 in X walk 2.2 km to their nearest centre; 36% of 255
    under-fives are registered, against 79% west of it' (released numbers only)."""
    s = c.settings
    # '36% of 255', or 'fewer than 8 of 39 ... (rate not released)' when not released
    part = cut.rate_text()
    withheld = ""
    if not math.isfinite(cut.rate):
        part = shown(t.x_cut, cut.registered, s)
        withheld = f" ({RATE_WITHHELD_TEXT})"
    headline = (
        f"Families {t.direction} of {t.barrier.label}{f' in {place}' if place else ''} walk "
        f"{t.walk_cut_m / 1000.0:.1f} km to their nearest centre; {part} of "
        f"{shown(t.n_cut, cut.children, s)} under-fives are registered{withheld}, "
        f"against {oth.rate_text()} {compass(*_opposite(t.direction))} of it"
    )
    return headline + (" (approximate walking network)" if c.approximate_note else "")


def _barrier_evidence(b: Barrier, to_wgs84: Any) -> dict[str, Any]:
    return {
        "id": b.barrier_id,
        "name": b.name or None,
        "kind": b.kind,
        "length_km": round(b.length_m / 1000.0, 2),
        "crossings": len(b.crossings),
        "crossings_per_km": round(b.crossings_per_km, 2),
        "geometry": barrier_geojson(b.geometry, to_wgs84),
    }


def _side_evidence(
    side: ShownSide, direction: str, areas: Sequence[str], walk_m: float, detour: float, kmh: float
) -> dict[str, Any]:
    """One side as the evidence shows it: released counts, rates of them, exact distances."""
    return {
        "direction": direction,
        "areas": list(areas),
        "children": side.children,
        "registered": side.registered,
        "rate": _fnum(side.rate),
        "rate_approximate": side.approximate,
        "interval": [_fnum(side.interval[0]), _fnum(side.interval[1])],
        "expected_rate_from_composition": _fnum(side.expected_rate),
        "median_walk_m": _fnum(round(walk_m)),
        "median_walk_minutes": _fnum(round(walk_m / (kmh * 1000 / 60), 1)),
        "median_detour_ratio": _fnum(round(detour, 3)),
    }


def _evidence(
    t: SideTest,
    cut: ShownSide,
    oth: ShownSide,
    names: list[str],
    excess: float,
    st: float,
    c: _Context,
) -> dict[str, Any]:
    """The finding's evidence: the test (exact statistics, released later as bounds), the
    barrier, both sides and the gaps (from the released rates; the test used exact ones)."""
    gap = oth.rate - cut.rate
    explained = oth.expected_rate - cut.expected_rate
    kmh = c.speed_kmh
    cut_side = _side_evidence(cut, t.direction, t.cut_off, t.walk_cut_m, t.detour_cut, kmh)
    opposite = compass(*_opposite(t.direction))
    return {
        "test": "registered rate of children in small areas cut off by the barrier (the "
        "straight line to their nearest centre crosses it) against children in the areas "
        "across it that are not cut off; one-sided two-proportion test, Wilson 95% "
        "intervals, Benjamini-Hochberg across every side of every candidate barrier",
        "p_value": _sig(t.p),
        "q_value": _sig(t.q),
        "z": _fnum(t.z),
        "fdr_alpha": c.settings.fdr_alpha,
        "min_gap": MIN_BARRIER_GAP,
        "barrier": _barrier_evidence(t.barrier, c.to_wgs84),
        "cut_off_side": {**cut_side, "area_names": names},
        "other_side": _side_evidence(oth, opposite, t.other, t.walk_other_m, t.detour_other, kmh),
        "gap": _fnum(gap),
        "gap_explained_by_composition": _fnum(explained),
        "unexplained_gap": _fnum(gap - explained),
        "network": {
            "approximate": c.approximate_note is not None,
            "note": c.approximate_note,
            "walking_speed_kmh": kmh,
        },
        "see_also": "an unreached_area finding may name the same areas: this finding "
        "gives the likely reason",
        "excess_unreached": excess if isinstance(excess, int) else _fnum(excess),
        "strength": _fnum(st),
    }


@dataclass(frozen=True)
class ShownSide:
    """One side of a barrier as a finding shows it: released counts (None when suppressed)
    and the rate, Wilson interval and composition-expected rate computed from them."""

    children: int | None
    registered: int | None
    rate: float
    interval: tuple[float, float]
    expected_rate: float
    #: the count is withheld and ``rate`` is only a coarse one (findings.text.coarse_rate)
    approximate: bool = False

    def rate_text(self) -> str:
        """'36%', 'about 80%' or 'rate not released'."""
        if self.approximate and math.isfinite(self.rate):
            return f"about {pct(self.rate)}"
        return share(self.registered, self.children)


def shown_side(
    x: int,
    n: int,
    expected_rate: float,
    settings: FindingsSettings,
    cells: Sequence[Cell] = (),
) -> ShownSide:
    """Release one side's counts.

    With the released reach table (``settings.released_table``: the access stage always
    sets it), the side's children and registered are the SUMS of its small areas' released
    cells (:func:`everyfamily.findings.text.table_pair`), under either release method, so
    the side reads what reach.csv and the map show for those areas and narrows none of them
    (issue 15); a withheld cell withholds the sum. Without it: registered of children with
    the complement rule, withheld where the reach table suppresses any of ``cells``.
    The model's expected registrations (``children * expected_rate``) are a count of the
    released children, so the expected rate is a ratio of released numbers too."""
    rx, rn = table_pair(x, n, settings, list(cells), "registered")
    rate = released_rate(rx, rn)
    interval = (
        fstats.wilson_interval(float(rx), float(rn))
        if rx is not None and rn is not None
        else (math.nan, math.nan)
    )
    if settings.released_table is not None:
        expected = expected_of(rn, expected_rate)
    else:
        expected = released(n * expected_rate, settings) if math.isfinite(expected_rate) else None
    if rx is None and rn is not None and x > settings.suppress_at_or_below:
        # withheld because the side holds a suppressed area: a coarse rate is still safe
        approx = coarse_rate(x, n, rn, settings)
        if math.isfinite(approx):
            return ShownSide(rn, None, approx, (math.nan, math.nan), math.nan, approximate=True)
    return ShownSide(rn, rx, rate, interval, released_rate(expected, rn))


def _opposite(direction: str) -> tuple[float, float]:
    angles = {
        "east": 0,
        "north-east": 45,
        "north": 90,
        "north-west": 135,
        "west": 180,
        "south-west": 225,
        "south": 270,
        "south-east": 315,
    }
    a = math.radians(angles.get(direction, 0) + 180)
    return math.cos(a), math.sin(a)


def _place(codes: Sequence[str], place_names: Mapping[str, str]) -> str:
    """The most common place (ward) name of the areas; '' when none is known."""
    names = [place_names[c] for c in codes if place_names.get(c)]
    if not names:
        return ""
    vc = pd.Series(names).value_counts()
    return str(vc.index[0])

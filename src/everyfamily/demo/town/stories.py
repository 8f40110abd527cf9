"""The town's planted stories, placed at random per seed (areas, sites, groups).

Effect sizes are the Knowsley scenario's (demo/stories.py), which were chosen to be
realistic; only the places change. :meth:`TownStories.none` plants nothing (a null world for
false-alarm counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from everyfamily.demo.stories import (
    Barrier,
    DecliningReach,
    EmergingCommunity,
    Gradients,
    LowEngagementSite,
    Stories,
)
from everyfamily.demo.town.geography import Geography

#: Origins an emerging community is drawn from (each has name pools and census columns).
COMMUNITY_ORIGINS: tuple[str, ...] = (
    "polish",
    "romanian",
    "baltic",
    "south_asian",
    "arabic",
    "west_african",
    "chinese",
)


@dataclass(frozen=True)
class UnreachedCluster:
    """A few neighbouring areas whose families centres seldom register (no known cause)."""

    enabled: bool = True
    n_areas: int = 3
    #: Multiplies the registration probability of families living there.
    registration_factor: float = 0.4


@dataclass(frozen=True)
class TownStories:
    """Which stories to plant in the town and how strongly; where is drawn from the seed."""

    unreached_cluster: UnreachedCluster = field(default_factory=UnreachedCluster)
    emerging_community: bool = True
    barrier: bool = True
    low_engagement_site: bool = True
    gradients: bool = True
    #: Reach falling over the last year (off by default: the town's story ranks were measured
    #: without it; tests/trends plant it on a seed of their own).
    declining_reach: bool = False

    @classmethod
    def none(cls) -> TownStories:
        return cls(
            unreached_cluster=UnreachedCluster(enabled=False),
            emerging_community=False,
            barrier=False,
            low_engagement_site=False,
            gradients=False,
            declining_reach=False,
        )


@dataclass(frozen=True)
class Placement:
    """The stories resolved for one town: generator parameters plus where they are."""

    stories: Stories
    area_registration_factor: dict[str, float]
    truth: dict[str, Any]


def _touching(geo: Geography, code: str) -> list[str]:
    poly = geo.polygons[code].buffer(5)
    return [c for c, p in geo.polygons.items() if c != code and p.intersects(poly)]


def area_levels(geo: Geography, chosen: list[str]) -> dict[str, list[str]]:
    """The codes of the given small areas and of the wards and MSOAs that hold them."""
    level_of = geo.areas.set_index("lsoa")
    return {
        "small_area": sorted(chosen),
        "ward": sorted({str(level_of.loc[c, "ward"]) for c in chosen}),
        "msoa": sorted({str(level_of.loc[c, "msoa"]) for c in chosen}),
    }


def place_stories(geo: Geography, stories: TownStories, seed: int) -> Placement:
    """Draw every story's place from the seed (its own random stream)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2027]))
    areas = geo.areas
    kids = areas[[f"age_{a}" for a in range(5)]].sum(axis=1).to_numpy()
    codes = list(areas["lsoa"])
    taken = set(geo.cut_off_areas) if stories.barrier else set()
    truth: dict[str, Any] = {}

    def free(code: str) -> bool:
        return code not in taken and not (set(_touching(geo, code)) & taken)

    def cluster(n: int, min_kids: int) -> list[str]:
        cands = [c for c, k in zip(codes, kids, strict=True) if k >= min_kids and free(c)]
        if not cands:
            cands = [c for c in codes if c not in taken]
        anchor = str(cands[int(rng.integers(0, len(cands)))])
        ring = [c for c in _touching(geo, anchor) if c not in taken]
        rng.shuffle(ring)
        chosen = [anchor, *ring[: n - 1]]
        # the whole neighbourhood is reserved: stories must not share or touch areas
        taken.update([anchor, *_touching(geo, anchor)])
        return chosen

    ec = EmergingCommunity(enabled=False)
    if stories.emerging_community:
        origin = str(rng.choice(COMMUNITY_ORIGINS))
        c_areas = cluster(3, 80)
        ec = EmergingCommunity(
            origin=origin, anchor_lsoa=c_areas[0], n_areas=3, n_families=int(rng.integers(50, 71))
        )
        # the areas themselves are chosen by the generator (anchor + nearest neighbours)
        truth["emerging_community"] = {"origin": origin, "anchor": c_areas[0]}
    factor: dict[str, float] = {}
    uc = stories.unreached_cluster
    if uc.enabled:
        u_areas = cluster(uc.n_areas, 60)
        factor = {c: uc.registration_factor for c in u_areas}
        truth["unreached_cluster"] = {
            "areas": area_levels(geo, u_areas),
            "registration_factor": uc.registration_factor,
        }
    barrier = Barrier(enabled=False)
    if stories.barrier:
        barrier = Barrier(line=tuple(geo.barrier_lonlat()), max_distance_km=2.0)
    les = LowEngagementSite(enabled=False)
    if stories.low_engagement_site:
        # a site with at least the median catchment: a site that sees few children is no story
        spts = geo.sites[["x", "y"]].to_numpy()
        pc = geo.postcodes[["x", "y"]].to_numpy()
        nearest = np.argmin(
            np.hypot(pc[:, None, 0] - spts[None, :, 0], pc[:, None, 1] - spts[None, :, 1]), axis=1
        )
        load = np.bincount(nearest, minlength=len(spts))
        big = np.flatnonzero(load >= np.median(load))
        site = str(geo.sites["site_id"].iat[int(big[int(rng.integers(0, len(big)))])])
        les = LowEngagementSite(site_id=site)
    grad = Gradients() if stories.gradients else Gradients(enabled=False)
    return Placement(
        stories=Stories(
            emerging_community=ec,
            barrier=barrier,
            low_engagement_site=les,
            gradients=grad,
            declining_reach=DecliningReach(enabled=stories.declining_reach),
        ),
        area_registration_factor=factor,
        truth=truth,
    )

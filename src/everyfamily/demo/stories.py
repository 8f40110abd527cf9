"""The planted stories of the synthetic Knowsley scenario, as frozen parameter sets.

Each story is something the pipeline should find on its own: a new community few centres
know, a motorway that keeps families from their nearest centre, a centre that registers
families but rarely sees them again, and mild deprivation and age gradients. Tests switch a
story off (``enabled=False``, or :meth:`Stories.none`) or move it (another anchor area,
origin, line or site) and check the finding moves with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from everyfamily.communities.groups import GROUPS

#: Name-origin groups of the scenario (the truth's ``origin`` column): the same broad origin
#: groups the product estimates (everyfamily.communities.groups), so truth and estimate agree.
ORIGINS: tuple[str, ...] = GROUPS

LonLat = tuple[float, float]


@dataclass(frozen=True)
class EmergingCommunity:
    """Families of one origin arriving in a few neighbouring LSOAs, barely registered.

    Community families replace other families in those LSOAs (so the ONS totals still hold);
    they arrive from ``arrival_year`` on, so most of their children are born recently, and a
    child born before the family arrived has no local birth notification.
    """

    enabled: bool = True
    origin: str = "romanian"
    #: LSOA 2011 code of the centre of the community; None picks one from the data (the LSOA
    #: with the highest Census 2021 share born outside the UK among those with >= 80 under-fives).
    anchor_lsoa: str | None = None
    #: Number of LSOAs, the anchor included (the others are its nearest touching neighbours).
    n_areas: int = 4
    n_families: int = 70
    arrival_year: int = 2023
    #: Multiplies the probability that a community family registers with a centre.
    registration_factor: float = 0.15


@dataclass(frozen=True)
class Barrier:
    """A main road between families and their nearest centre: those on the far side register less.

    An LSOA is behind the barrier when its centre point is within ``max_distance_km`` of the
    line and the straight segment to its nearest site crosses the line.
    """

    enabled: bool = True
    #: The barrier as lon/lat vertices; None means the M57 (J1 to J7, schematic HATRIS links).
    line: tuple[LonLat, ...] | None = None
    max_distance_km: float = 2.0
    registration_factor: float = 0.45


@dataclass(frozen=True)
class LowEngagementSite:
    """A centre that registers families as usual but seldom sees them again."""

    enabled: bool = True
    #: Site id (e.g. 'KN05'); None picks the site whose catchment holds the most under-fives.
    site_id: str | None = None
    #: Multiplies the attendance rate of children registered at the site.
    attendance_factor: float = 0.15


@dataclass(frozen=True)
class Gradients:
    """Mild deprivation and age gradients in registration and engagement.

    Probabilities are multiplied by ``1 + slope * (x - x0)``, with x the IMD decile (x0 = 1,
    most deprived) or the child's age in whole years (x0 = 0). Centres target the most
    deprived areas, so registration falls a little with affluence; sustained engagement is
    harder in the most deprived areas and falls as children grow (nursery, school).
    """

    enabled: bool = True
    registration_per_imd_decile: float = -0.03
    engagement_per_imd_decile: float = 0.04
    registration_per_year_of_age: float = 0.03
    engagement_per_year_of_age: float = -0.08


@dataclass(frozen=True)
class DecliningReach:
    """Reach falling over the last year: in a few neighbouring small areas (chosen at random
    from the seed, away from the other stories) new registrations and attendances thin out
    from ``months`` before the reference date; and one centre (chosen at random, not the
    low-engagement one) whose sessions thin out from ``site_months`` before it.
    Before those dates nothing changes, so a single-date measure sees only part of it."""

    enabled: bool = True
    n_areas: int = 4
    #: The decline starts this many months before the reference date.
    months: int = 12
    #: Share of registrations (of children living in the areas) still made after the start.
    registration_factor: float = 0.2
    #: Share of attendances (of children living in the areas) still made after the start.
    attendance_factor: float = 0.25
    site_enabled: bool = True
    #: Site id whose engagement falls; None picks one at random from the seed.
    site_id: str | None = None
    site_months: int = 9
    #: Share of the site's sessions still attended after its start.
    site_attendance_factor: float = 0.3


@dataclass(frozen=True)
class Stories:
    """Every planted story; the default plants all five."""

    emerging_community: EmergingCommunity = field(default_factory=EmergingCommunity)
    barrier: Barrier = field(default_factory=Barrier)
    low_engagement_site: LowEngagementSite = field(default_factory=LowEngagementSite)
    gradients: Gradients = field(default_factory=Gradients)
    declining_reach: DecliningReach = field(default_factory=DecliningReach)

    @classmethod
    def none(cls) -> Stories:
        """No story at all: a uniform population, for tests and as a baseline."""
        return cls(
            emerging_community=EmergingCommunity(enabled=False),
            barrier=Barrier(enabled=False),
            low_engagement_site=LowEngagementSite(enabled=False),
            gradients=Gradients(enabled=False),
            declining_reach=DecliningReach(enabled=False),
        )

    def validate(self) -> None:
        """Raise ValueError on parameters that cannot make a scenario."""
        ec = self.emerging_community
        if ec.origin not in ORIGINS or ec.origin == "british_irish":
            raise ValueError(
                f"emerging_community.origin must be one of {ORIGINS[1:]}, got {ec.origin!r}"
            )
        if ec.n_areas < 1 or ec.n_families < 1:
            raise ValueError("emerging_community.n_areas and n_families must be at least 1")
        if not 0 <= ec.registration_factor <= 1:
            raise ValueError("emerging_community.registration_factor must be within 0..1")
        if self.barrier.line is not None and len(self.barrier.line) < 2:
            raise ValueError("barrier.line needs at least two lon/lat vertices")
        if self.barrier.max_distance_km <= 0:
            raise ValueError("barrier.max_distance_km must be positive")
        if not 0 <= self.barrier.registration_factor <= 1:
            raise ValueError("barrier.registration_factor must be within 0..1")
        if not 0 <= self.low_engagement_site.attendance_factor <= 1:
            raise ValueError("low_engagement_site.attendance_factor must be within 0..1")
        dr = self.declining_reach
        for name in ("registration_factor", "attendance_factor", "site_attendance_factor"):
            if not 0 <= getattr(dr, name) <= 1:
                raise ValueError(f"declining_reach.{name} must be within 0..1")
        if dr.n_areas < 1 or dr.months < 1 or dr.site_months < 1:
            raise ValueError("declining_reach.n_areas, months and site_months must be >= 1")

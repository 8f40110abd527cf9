"""Run every detector, merge duplicates, rank, and shape the public findings document.

Ranking score (documented in docs/findings.md): the *excess* of unreached children (how many
more are unreached than the comparison rate predicts) times the strength of evidence,
-log10(q) capped at :data:`~everyfamily.findings.model.STRENGTH_CAP`. Striking findings come
before watch findings; ties break on the stable id.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from everyfamily.evidence import fnum, p_bound, strength
from everyfamily.findings import detectors, scan, stats
from everyfamily.findings.model import (
    LEVEL_ORDER,
    NESTED_DIMENSIONS,
    Finding,
    FindingsSettings,
)
from everyfamily.findings.overlap import Unreached, common, overlap, size, weights
from everyfamily.findings.text import ReleasedCount, WithheldCount, count, released
from everyfamily.origin_groups import group_from_country, group_from_ethnicity, group_from_language
from everyfamily.reach.regions import region_of_birth
from everyfamily.schema import ETHNICITY_2021

SCHEMA_VERSION = "1.0"

#: Evidence keys that hold counts of children: released through disclosure control.
COUNT_KEYS: frozenset[str] = frozenset(
    {
        "known",
        "registered",
        "engaged",
        "rest_known",
        "rest_registered",
        "rest_engaged",
        "borough_known",
        "borough_registered",
        "ons_population",
        "expected_known",
        "records",
        "excess_unreached",
        "children",
        "rest_children",
        "borough_children",
    }
)

#: Evidence keys of test statistics computed from EXACT counts. p- and q-values are released
#: as upper bounds with one significant figure (:func:`p_bound`); a p-value to three figures
#: of a test on a few counts can single out their exact values among those the rounding
#: allows. z is a finer function of the same counts, so it is not released (the p-value
#: carries the evidence).
P_KEYS: frozenset[str] = frozenset({"p_value", "q_value", "p_value_growth"})
DROPPED_KEYS: frozenset[str] = frozenset({"z"})

#: Share of the smaller group's unreached children that must also be in the other group's
#: for two group findings to be the same community (more than half: most of them).
SAME_COMMUNITY_OVERLAP = 0.5

#: level -> {area code -> the small areas in it}.
AreaMembers = Mapping[str, Mapping[str, "set[str] | frozenset[str]"]]


def find(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings | None = None,
    neighbours: Mapping[str, Iterable[str]] | None = None,
    children: pd.DataFrame | None = None,
    linkage_by_group: pd.DataFrame | None = None,
    site_names: Mapping[str, str] | None = None,
    area_labels: Mapping[str, str] | None = None,
    area_members: AreaMembers | None = None,
    candidates: Iterable[Finding] = (),
    centroids: Mapping[str, tuple[float, float]] | None = None,
    families: pd.DataFrame | None = None,
) -> list[Finding]:
    """Every finding the reach table supports, merged and ranked (rank 1 first).

    ``candidates``: findings made by other stages (e.g. access barriers, emerging
    communities), ranked together with these on the same score.

    ``neighbours``: small area -> touching small areas (Queen contiguity), to group flagged
    areas. ``children``: the restricted one-row-per-child table, used only to tell whether two
    findings are about the same children (never copied into a finding); or the engine's
    cells of the unregistered children (a column ``n``: children with the same small area
    and group values, findings/stage.overlap_cells_sql), which give the same overlaps.
    ``families``: known children's families counted by size and registered children
    (``size``, ``registered``, ``families``: findings/stage.family_sizes_sql), for the design
    effect without a row per child. ``area_members``:
    level -> {area code -> the small areas in it} (wards, MSOAs, reach areas).
    ``centroids``: small area -> (x, y) in metres, for the spatial scan of unreached clusters
    (findings.scan); without them only the one-area funnel runs.
    """
    s = settings or FindingsSettings()
    members = dict(area_members or {})
    cands = list(candidates)
    deff = _design_effect(children, families)
    areas = detectors.find_unreached_areas(
        reach, settings=s, neighbours=neighbours, area_labels=area_labels, design_effect=deff
    )
    clusters = scan.find_unreached_clusters(
        reach, settings=s, centroids=centroids, design_effect=deff, area_labels=area_labels
    )
    areas = fold_into_clusters(clusters, areas)
    groups = detectors.find_unreached_groups(
        reach, settings=s, area_labels=area_labels, design_effect=deff
    )
    groups = merge_group_findings(
        groups, children=children, area_members=members, neighbours=neighbours
    )
    found: list[Finding] = merge_into_areas(areas, groups, children=children, area_members=members)
    found += detectors.find_low_engagement_sites(reach, settings=s, site_names=site_names)
    found += detectors.find_unknown_population(
        reach, settings=s, neighbours=neighbours, area_labels=area_labels
    )
    found += detectors.find_deprivation_gradients(
        reach, settings=s, set_aside=explained_areas([*areas, *cands])
    )
    found += detectors.find_linkage_quality_gaps(linkage_by_group, settings=s)
    found += cands
    found = merge_across_stages(dedupe(found), children=children, area_members=members)
    return rank(found)


def explained_areas(findings: Iterable[Finding]) -> frozenset[str]:
    """Small areas of striking unreached-area and barrier findings (their low reach has a
    finding of its own): set aside by the deprivation gradient's test."""
    return frozenset(
        a
        for f in findings
        if f.severity == "striking" and f.kind in {"unreached_area", "access_barrier"}
        for a in f.areas
    )


def fold_into_clusters(clusters: list[Finding], areas: list[Finding]) -> list[Finding]:
    """One finding per place: a funnel finding (one area or touching areas) with more than
    :data:`SAME_ISSUE_OVERLAP` of its areas inside a scan cluster is attached to the cluster's
    evidence (the higher score and severity of the two kept)."""
    out = list(clusters)
    rest: list[Finding] = []
    for f in areas:
        best, share = None, 0.0
        for i, c in enumerate(out):
            inside = len(set(f.areas) & set(c.areas)) / max(len(f.areas), 1)
            if inside > share:
                best, share = i, inside
        if best is not None and share > SAME_ISSUE_OVERLAP:
            c = out[best]
            why = f"{share:.0%} of its areas are in the cluster"
            joined = _absorb(c, f, add_areas=False, why=why)
            out[best] = dataclasses.replace(
                joined,
                score=max(c.score, f.score),
                severity="striking" if "striking" in {c.severity, f.severity} else "watch",
            )
        else:
            rest.append(f)
    return [*out, *rest]


def _design_effect(children: pd.DataFrame | None, families: pd.DataFrame | None = None) -> float:
    """The family design effect of the registered rate over the known children in the age
    range (stats.family_design_effect; from ``families``' counts when given:
    stats.family_design_effect_from_sizes); 1 without a children table or family ids."""
    if families is not None:
        return stats.family_design_effect_from_sizes(
            families["size"].to_numpy(dtype="int64"),
            families["registered"].to_numpy(dtype="int64"),
            families["families"].to_numpy(dtype="int64"),
        )
    if children is None or not {"family_id", "registered"} <= set(children.columns):
        return 1.0
    kids = children
    if "known" in kids.columns:
        kids = kids[kids["known"].fillna(False).astype(bool)]
    if kids.empty:
        return 1.0
    return stats.family_design_effect(
        kids["registered"].fillna(False).astype(bool).to_numpy(), kids["family_id"].to_numpy()
    )


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats (same id): keep the higher score."""
    best: dict[str, Finding] = {}
    for f in findings:
        if f.id not in best or f.score > best[f.id].score:
            best[f.id] = f
    return list(best.values())


def rank(findings: list[Finding]) -> list[Finding]:
    """Order by severity (striking first), then score (high first), then id; number from 1."""
    ordered = sorted(findings, key=lambda f: (f.severity != "striking", -f.score, f.id))
    return [dataclasses.replace(f, rank=i + 1) for i, f in enumerate(ordered)]


# --- merging group findings ----------------------------------------------------------------


def _level_index(level: str, members: AreaMembers | None = None) -> float:
    """Broad levels first: :data:`LEVEL_ORDER` for the levels it knows; any other level (a
    council's 'locality', 'neighbourhood' ...) by its mean number of small areas per area
    from ``members`` (more is broader), after the borough and reach areas; a level with no
    members is taken as the small-area level (finest)."""
    if level in LEVEL_ORDER[:2]:
        return LEVEL_ORDER.index(level)
    areas = (members or {}).get(level)
    if areas:
        mean = sum(len(s) for s in areas.values()) / len(areas)
        return len(LEVEL_ORDER[:2]) + 1.0 / (1.0 + mean)
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)


def _absorb(primary: Finding, other: Finding, *, add_areas: bool, why: str) -> Finding:
    evidence = dict(primary.evidence)
    merged = list(evidence.get("merged", []))
    merged.append(
        {
            "id": other.id,
            "kind": other.kind,
            "level": other.level,
            "areas": list(other.areas),
            "group": {"dimension": other.group[0], "value": other.group[1]}
            if other.group
            else None,
            "observed": fnum(other.observed),
            "expected": fnum(other.expected),
            "q_value": other.evidence.get("q_value"),
            "why_merged": why,
        }
    )
    evidence["merged"] = merged
    areas, names, affected, score = (
        primary.areas,
        primary.area_names,
        primary.children_affected,
        primary.score,
    )
    if add_areas:
        areas = tuple(dict.fromkeys(primary.areas + other.areas))
        names = tuple(dict.fromkeys(primary.area_names + other.area_names))
        affected += other.children_affected
        score += other.score
        if len(areas) > 1:
            evidence["areas_merged"] = len(areas)
    return dataclasses.replace(
        primary,
        areas=areas,
        area_names=names,
        children_affected=affected,
        score=score,
        evidence=evidence,
    )


def _broad_value(dimension: str, value: str) -> str | None:
    """The broad group a fine group rolls into, where the rule is fixed (no data needed)."""
    if dimension == "ethnicity":
        return ETHNICITY_2021.get(value, ("", ""))[1] or None
    if dimension in {"imd_decile", "idaci_decile"}:
        try:
            return str(math.ceil(float(value) / 2))
        except ValueError:
            return None
    if dimension == "mother_country_of_birth":
        try:
            return str(region_of_birth(pd.Series([value])).iloc[0])
        except Exception:  # the regions table is optional here; no mapping means no merge
            return None
    return None


def _norm_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _small_areas(f: Finding, members: AreaMembers) -> set[str] | None:
    """The small areas a finding covers; None for borough-wide (everything) or unknown."""
    if f.level == "borough":
        return None
    level_members = members.get(f.level)
    if level_members is None:
        return set(f.areas)  # the small-area level itself
    out: set[str] = set()
    for a in f.areas:
        out |= set(level_members.get(a, ()))
    return out


def _unreached_ids(f: Finding, children: pd.DataFrame, members: AreaMembers) -> Unreached | None:
    """The unregistered children a finding is about (None if unknown): rows of the
    per-child table (pseudonymous ids) or of the engine's cells, with their counts."""
    frame = children
    if not {"area_code", "registered"} <= set(frame.columns) or not (
        "person_id" in frame.columns or "n" in frame.columns
    ):
        return None
    small = _small_areas(f, members)
    if f.level != "borough" and not small:
        return None
    mask = ~frame["registered"].fillna(False).astype(bool)
    if small is not None:
        mask &= frame["area_code"].astype(str).isin(small)
    if f.group is not None:
        dim, value = f.group
        if dim == "ethnicity_broad" and dim not in frame.columns and "ethnicity" in frame.columns:
            frame = frame.assign(
                ethnicity_broad=frame["ethnicity"].map(
                    lambda e: ETHNICITY_2021.get(str(e), ("", None))[1]
                )
            )
        if dim not in frame.columns:
            return None
        mask &= frame[dim].map(_norm_value).eq(value)
    w = weights(frame)[mask]
    return dict(zip(w.index, w.to_numpy(dtype="int64").tolist(), strict=True))


def _contains(coarse: Finding, fine: Finding, members: AreaMembers) -> bool:
    """Whether ``fine``'s small areas lie inside ``coarse``'s."""
    if coarse.level == "borough":
        return True
    outer, inner = _small_areas(coarse, members), _small_areas(fine, members)
    return bool(outer) and bool(inner) and inner <= outer  # type: ignore[operator]


def merge_group_findings(
    findings: list[Finding],
    *,
    children: pd.DataFrame | None = None,
    area_members: AreaMembers | None = None,
    neighbours: Mapping[str, Iterable[str]] | None = None,
) -> list[Finding]:
    """Merge group findings that are about the same thing.

    1. The same group flagged at a broad level and inside it (borough-wide and in a ward)
       is one finding at the broad level, listing where it is concentrated.
    2. The same group flagged in touching small areas is one finding over those areas.
    3. Two group findings that are the same children (a language, a country of birth and an
       ethnicity of one community; a ward and the reach area drawn over it) are one finding:
       more than half of the smaller one's unregistered children (from the restricted
       children table, when given) are in both. Without that table, one group must be the
       fixed roll-up of the other (ethnicity into its broad group, decile into quintile) in
       the same area. The finding with the higher score leads.
    """
    members = area_members or {}
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (_level_index(f.level, members), -f.score, f.id)):
        done = False
        for i, g in enumerate(kept):
            if g.group != f.group:
                continue
            if _level_index(g.level, members) < _level_index(f.level, members) and _contains(
                g, f, members
            ):
                kept[i] = _absorb(
                    g,
                    f,
                    add_areas=False,
                    why=f"the same group, flagged inside the {g.level} finding",
                )
                done = True
                break
            if (
                g.level == f.level
                and neighbours
                and any(n in g.areas for a in f.areas for n in neighbours.get(a, ()))
            ):
                kept[i] = _absorb(g, f, add_areas=True, why="the same group in a touching area")
                done = True
                break
        if not done:
            kept.append(f)

    kept.sort(key=lambda f: (-f.score, f.id))
    out: list[Finding] = []
    cache: dict[str, Unreached | None] = {}

    def ids(h: Finding) -> Unreached | None:
        if children is None:
            return None
        if h.id not in cache:
            cache[h.id] = _unreached_ids(h, children, members)
        return cache[h.id]

    for f in kept:
        merged = False
        for i, g in enumerate(out):
            if g.group is None or f.group is None:
                continue
            same, why = False, ""
            share = overlap(ids(f), ids(g))
            if share > SAME_COMMUNITY_OVERLAP:
                same, why = (
                    True,
                    f"{share:.0%} of the smaller group's unreached children are in both",
                )
            elif g.level == f.level and not set(g.areas).isdisjoint(f.areas):
                for fine, broad in ((f, g), (g, f)):
                    assert fine.group is not None and broad.group is not None  # narrowed above
                    if (
                        NESTED_DIMENSIONS.get(fine.group[0]) == broad.group[0]
                        and _broad_value(*fine.group) == broad.group[1]
                    ):
                        same, why = True, f"{fine.group[0]} rolls up into {broad.group[0]}"
            if same:
                out[i] = _absorb(g, f, add_areas=False, why=why)
                merged = True
                break
        if not merged:
            out.append(f)
    return out


def merge_into_areas(
    areas: list[Finding],
    groups: list[Finding],
    *,
    children: pd.DataFrame | None = None,
    area_members: AreaMembers | None = None,
) -> list[Finding]:
    """Fold a group finding into an area finding when they are the same children: more than
    half of the group's unregistered children live in the flagged areas (needs the children
    table). The group then shows as evidence of who, in that place, is missed."""
    if children is None or not areas:
        return [*areas, *groups]
    members = area_members or {}
    area_ids = {a.id: _unreached_ids(a, children, members) for a in areas}
    out_areas = list(areas)
    rest: list[Finding] = []
    for g in groups:
        gi = _unreached_ids(g, children, members)
        best, share = None, 0.0
        for i, a in enumerate(areas):
            ai = area_ids[a.id]
            inside = common(gi, ai) / size(gi) if gi and ai else 0.0
            if inside > share:
                best, share = i, inside
        if best is not None and share > SAME_COMMUNITY_OVERLAP:
            out_areas[best] = _absorb(
                out_areas[best],
                g,
                add_areas=False,
                why=f"{share:.0%} of the group's unreached children live in these areas",
            )
        else:
            rest.append(g)
    return [*out_areas, *rest]


# --- merging across stages ---------------------------------------------------------------

#: Two findings of different stages are one issue when more than this share of the smaller
#: one is in both (small areas, or unreached children when the children table is given).
SAME_ISSUE_OVERLAP = 0.5
#: Kinds that say *why* children are missed: in a merged pair they lead, and the finding that
#: says *who* or *where* (an unreached area, an unreached group) is attached as evidence.
EXPLAINING_KINDS = frozenset({"access_barrier", "emerging_community"})
#: Group dimensions whose values name an origin group (everyfamily.origin_groups), so that an
#: unreached language or country group can be matched with an emerging community.
_ORIGIN_SIGNALS = ("main_language", "mother_country_of_birth", "ethnicity")


def _origin_group(f: Finding) -> str | None:
    """The communities origin group a finding is about, if any."""
    if f.group is None:
        return None
    dim, value = f.group
    if dim == "origin_group":
        return value
    lookup = {
        "main_language": group_from_language,
        "mother_country_of_birth": group_from_country,
        "ethnicity": group_from_ethnicity,
    }.get(dim)
    g = lookup(value) if lookup else None
    return g if g and g != "other" else None


def _same_barrier(a: Finding, b: Finding) -> bool:
    """Two access_barrier findings about the same barrier (its id in the evidence): one
    issue, one finding (issue 14, defect 9); the other stretch is attached as evidence."""
    if a.kind != "access_barrier" or b.kind != "access_barrier":
        return False
    ida = (a.evidence.get("barrier") or {}).get("id")
    idb = (b.evidence.get("barrier") or {}).get("id")
    return ida is not None and ida == idb


def _same_issue(
    a: Finding, b: Finding, children: pd.DataFrame | None, members: AreaMembers
) -> tuple[bool, str]:
    """Whether two findings from different stages are about the same children (see
    :func:`merge_across_stages`), and why."""
    kinds = {a.kind, b.kind}
    if _same_barrier(a, b):
        return True, "the same barrier, another stretch of its cut-off side"
    if kinds == {"access_barrier", "unreached_area"}:
        share = overlap(_small_areas(a, members), _small_areas(b, members))
        why = f"{share:.0%} of the smaller finding's areas are in both"
        return share > SAME_ISSUE_OVERLAP, why
    if kinds == {"emerging_community", "unreached_group"}:
        community, group = (a, b) if a.kind == "emerging_community" else (b, a)
        origin = _origin_group(community)
        if origin is None or _origin_group(group) != origin:
            return False, ""
        where = _small_areas(community, members) or set()
        ids = _unreached_ids(group, children, members) if children is not None else None
        if ids and where and "area_code" in children.columns:  # type: ignore[union-attr]
            frame = children.loc[list(ids)]  # type: ignore[union-attr]
            inside = frame["area_code"].astype(str).isin(where).to_numpy()
            share = float(weights(frame)[inside].sum() / size(ids))
            why = f"{share:.0%} of the group's unreached children live in the community's areas"
            return share > SAME_ISSUE_OVERLAP, why
        if group.level == "borough":
            return True, "the same origin group, borough-wide"
        share = overlap(_small_areas(group, members), where)
        return share > SAME_ISSUE_OVERLAP, f"the same origin group; {share:.0%} of areas shared"
    return False, ""


def merge_across_stages(
    findings: list[Finding],
    *,
    children: pd.DataFrame | None = None,
    area_members: AreaMembers | None = None,
) -> list[Finding]:
    """One finding per issue across stages (issue 14, defect 9).

    * An ``access_barrier`` and an ``unreached_area`` are the same issue when more than
      :data:`SAME_ISSUE_OVERLAP` of the smaller one's small areas are in both (the barrier
      cuts off the areas the funnel flags).
    * An ``emerging_community`` and an ``unreached_group`` are the same issue when the group
      names the same origin group (a language, a mother's country of birth or an ethnicity
      that communities.groups maps to it) and more than that share of the group's unreached
      children live in the community's areas (children table given), or, without it, the
      group is borough-wide or shares that share of areas.

    The finding of the explaining kind (:data:`EXPLAINING_KINDS`: the barrier, the emerging
    community) leads, with the higher score and severity of the two; the other is attached
    to its evidence under ``merged`` with its kind and the reason, and is not listed on its
    own. Pairs are examined in rank order (striking first, then score).
    """
    members = area_members or {}
    ordered = sorted(findings, key=lambda f: (f.severity != "striking", -f.score, f.id))
    out: list[Finding] = []
    for f in ordered:
        merged = False
        for i, g in enumerate(out):
            if g.kind == f.kind and not _same_barrier(g, f):
                continue
            same, why = _same_issue(g, f, children, members)
            if same:
                explains = f.kind in EXPLAINING_KINDS and g.kind not in EXPLAINING_KINDS
                lead, other = (f, g) if explains else (g, f)
                joined = _absorb(lead, other, add_areas=False, why=why)
                out[i] = dataclasses.replace(
                    joined,
                    score=max(g.score, f.score),
                    severity="striking" if "striking" in {g.severity, f.severity} else "watch",
                )
                merged = True
                break
        if not merged:
            out.append(f)
    return out


# --- the public document -------------------------------------------------------------------


def _release(value: Any, settings: FindingsSettings, key: str | None = None) -> Any:
    if isinstance(value, Mapping):
        return {k: _release(v, settings, k) for k, v in value.items() if k not in DROPPED_KEYS}
    if key in P_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return p_bound(float(value))
    if isinstance(value, list | tuple):
        return [_release(v, settings, key) for v in value]
    if key in COUNT_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return released(max(value, 0.0), settings)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def public_score(f: Finding, settings: FindingsSettings) -> tuple[float, float]:
    """(strength, score) as released: the strength of the released q bound, times the
    released excess of unreached children. The exact score (exact excess times exact
    strength) would give the exact excess back; the ranking itself uses the exact score."""
    q = p_bound(_number(f.evidence.get("q_value")))
    st = round(strength(q) if q is not None else 0.0, 1)
    excess = _number(f.evidence.get("excess_unreached"))
    if excess is None:
        return st, float(f"{f.score:.2g}") if math.isfinite(f.score) else 0.0
    shown = released(max(excess, 0.0), settings)
    return st, round((shown or 0) * st, 1)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, ReleasedCount | WithheldCount):  # keep what it is (findings.text)
        return value
    return float(value) if math.isfinite(value) else None


def why_ranked(f: Finding, settings: FindingsSettings) -> str:
    """One sentence: why this finding sits at its rank (released numbers only)."""
    excess = _number(f.evidence.get("excess_unreached"))
    st, score = public_score(f, settings)
    lead = "Striking" if f.severity == "striking" else "Worth watching (weaker evidence)"
    if excess is None:
        return f"{lead}: ranked by score {score:.0f}."
    return (
        f"{lead}: about {count(max(excess, 0.0), settings)} more children unreached than the "
        f"comparison rate predicts, evidence strength {st:.1f} (-log10 q, capped at 10); "
        f"score {score:.0f}, rank {f.rank}."
    )


def to_public(f: Finding, settings: FindingsSettings) -> dict[str, Any]:
    """A finding as the findings.json contract shows it: counts released, rates from the
    released counts (the detectors compute them so), test statistics coarsened (p- and
    q-values as one-figure upper bounds, no z, strength and score from those)."""
    lo, hi = f.interval
    evidence = dict(f.evidence)
    st, score = public_score(f, settings)
    if "strength" in evidence:
        evidence["strength"] = st
    od = evidence.get("overdispersion")
    if isinstance(od, Mapping) and _number(od.get("tau2")) is not None:
        evidence["overdispersion"] = {**od, "tau2": float(f"{od['tau2']:.2g}")}
    evidence.update(
        {
            "severity": f.severity,
            "score": score,
            "level": f.level,
            "area_names": list(f.area_names),
            "why_ranked": why_ranked(f, settings),
        }
    )
    return {
        "id": f.id,
        "rank": f.rank,
        "kind": f.kind,
        "areas": list(f.areas),
        "group": {"dimension": f.group[0], "value": f.group[1]} if f.group else None,
        "site": f.site,
        "measure": f.measure,
        "observed": fnum(f.observed),
        "expected": fnum(f.expected),
        "interval": [fnum(lo), fnum(hi)],
        "children_affected": released(f.children_affected, settings),
        "headline": f.headline,
        "evidence": _release(evidence, settings),
    }


def findings_document(
    findings: list[Finding], settings: FindingsSettings, generated_at: str
) -> dict[str, Any]:
    """The findings.json document."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "findings": [to_public(f, settings) for f in findings],
    }

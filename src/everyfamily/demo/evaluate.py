"""Check a demo run against the scenario's ground truth (demo, tests and benchmarks only).

The pipeline never reads the truth; this module does, after the pipeline has finished, to
show how well linkage did and whether the findings name the planted stories. A council's
own run has no truth and never calls this.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from everyfamily.catalogue import IDENTIFIABLE

#: Findings that count as naming a planted story must be of the "striking" severity.
STRIKING = "striking"


@dataclass(frozen=True)
class StoryCheck:
    story: str
    planted: bool
    found: bool
    finding_ids: tuple[str, ...]


def community_groups(origin: str) -> set[tuple[str, str]]:
    """The (dimension, value) pairs that describe a community of this origin."""
    from everyfamily.demo.namepools import LOCALE_COUNTRY, LOCALE_LANGUAGE, ORIGIN_LOCALES
    from everyfamily.demo.world import COMMUNITY_ETHNICITY
    from everyfamily.reach.regions import region_of_birth

    locales = [loc for loc, _w in ORIGIN_LOCALES[origin]]
    countries = {LOCALE_COUNTRY[loc] for loc in locales}
    out = {("main_language", LOCALE_LANGUAGE[loc].lower()) for loc in locales}
    out |= {("mother_country_of_birth", c.lower()) for c in countries}
    out |= {
        ("mother_region_of_birth", str(r).lower())
        for r in region_of_birth(pd.Series(sorted(countries)))
    }
    out |= {("ethnicity", e) for e, _w in COMMUNITY_ETHNICITY[origin]}
    return out


def groups_in(finding: dict[str, Any]) -> set[tuple[str, str]]:
    """The groups a finding is about, including those merged into it."""
    out = set()
    if finding.get("group"):
        out.add((finding["group"]["dimension"], str(finding["group"]["value"]).lower()))
    for merged in finding.get("evidence", {}).get("merged", []):
        if merged.get("group"):
            out.add((merged["group"]["dimension"], str(merged["group"]["value"]).lower()))
    return out


def striking(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f.get("evidence", {}).get("severity") == STRIKING]


def check_stories(findings: list[dict[str, Any]], truth: dict[str, Any]) -> list[StoryCheck]:
    """For each planted story, the striking findings that name it."""
    hits: dict[str, list[dict[str, Any]]] = {}
    ec = truth.get("emerging_community", {})
    if ec.get("enabled"):
        areas, groups = set(ec["lsoas"]), community_groups(ec["origin"])
        hits["emerging_community"] = [
            f
            for f in striking(findings)
            if f["kind"] in {"unreached_group", "unreached_area", "emerging_community"}
            and (areas & set(f["areas"]) or groups & groups_in(f))
        ]
    barrier = truth.get("barrier", {})
    if barrier.get("enabled"):
        far = set(barrier.get("far_side_lsoas", []))
        hits["barrier"] = [
            f
            for f in striking(findings)
            if f["kind"] in {"unreached_area", "access_barrier"} and far & set(f["areas"])
        ]
    site = truth.get("low_engagement_site", {})
    if site.get("enabled"):
        hits["low_engagement_site"] = [
            f
            for f in striking(findings)
            if f["kind"] == "low_engagement_site" and f.get("site") == site.get("site_id")
        ]
    for story, match in trend_matchers(truth).items():
        hits[story] = [f for f in striking(findings) if f["kind"] == "declining_reach" and match(f)]
    return [
        StoryCheck(name, True, bool(found), tuple(f["id"] for f in found))
        for name, found in hits.items()
    ]


def evaluate_linkage(
    store_links: pd.DataFrame, truth_dir: Path, source_names: dict[str, str]
) -> Any:
    """Linkage quality of a run against the truth, overall and by group.

    ``source_names`` maps the truth's source labels (roles) to the project's source names.
    """
    from everyfamily.linkage.quality import evaluate_against_truth

    truth = pd.read_csv(truth_dir / "records.csv", dtype=str)
    truth = truth[truth["expected_quarantine"].isna()].copy()
    truth["source"] = truth["source"].map(lambda s: source_names.get(s, s))
    children = pd.read_csv(truth_dir / "children.csv", dtype=str)
    groups = children[["child_id", "origin", "parent_sex", "moved"]]
    return evaluate_against_truth(
        store_links, truth[["source", "record_id", "child_id", "family_id"]], groups
    )


def evaluate_demo(out_dir: Path, truth_dir: Path, project: Any) -> dict[str, Any]:
    """Linkage quality and planted-story detection of a finished demo run (aggregates only)."""
    from everyfamily.stores import open_stores

    # links (record ids -> pseudonyms) live in the identifiable store
    engine = open_stores(out_dir, project.privacy, zones=(IDENTIFIABLE,), read_only=True)
    try:
        links = engine.query("SELECT source, record_id, person_id, family_id FROM links")
    finally:
        engine.close()
    quality = evaluate_linkage(
        links.to_pandas(), truth_dir, {s.role: s.name for s in project.sources}
    )
    findings = json.loads((out_dir / "findings.json").read_text(encoding="utf-8"))["findings"]
    truth = json.loads((truth_dir / "stories.json").read_text(encoding="utf-8"))
    checks = check_stories(findings, truth)
    return {
        "linkage": quality.to_dict(),
        "stories": [
            {"story": c.story, "found": c.found, "finding_ids": list(c.finding_ids)} for c in checks
        ],
    }


# --- A generic evaluator (any world whose truth names areas, sites and groups) -------------

#: Group dimensions that describe deprivation (area attributes tested borough-wide).
DEPRIVATION_DIMENSIONS: frozenset[str] = frozenset(
    {"imd_decile", "imd_quintile", "idaci_decile", "idaci_quintile"}
)
#: The story kinds :func:`rank_stories` knows, in report order.
STORY_KINDS: tuple[str, ...] = (
    "unreached_cluster",
    "emerging_community",
    "barrier",
    "low_engagement_site",
    "deprivation_gradient",
)
#: Stories of reach over time (issue 18): ranked only where planted, so worlds without them
#: (the town by default) rank exactly the kinds above.
TREND_STORY_KINDS: tuple[str, ...] = ("declining_reach", "declining_site")


@dataclass(frozen=True)
class StoryRank:
    """Where a planted story first appears in a run's ranked findings.

    ``rank`` is the best (smallest) rank of a finding that names the story, of any severity;
    ``None`` when no finding names it.
    """

    story: str
    planted: bool
    rank: int | None
    severity: str | None
    finding_id: str | None
    kind: str | None

    def found(self, top: int = 5) -> bool:
        """Named by a striking finding ranked within the first ``top``."""
        return self.rank is not None and self.rank <= top and self.severity == STRIKING


def own_group(finding: dict[str, Any]) -> set[tuple[str, str]]:
    """The group a finding is about, without the findings merged into it (the product merges
    findings that share children, so a deprivation finding can carry a language group)."""
    g = finding.get("group")
    return {(g["dimension"], str(g["value"]).lower())} if g else set()


def _codes(levels: dict[str, list[str]]) -> set[str]:
    return {str(c) for codes in levels.values() for c in codes}


def _matchers(truth: dict[str, Any]) -> dict[str, Any]:
    """story -> predicate over one finding, for each planted story of a truth document.

    Matching uses only what a finding says (kind, areas at any level, site, group), never a
    place name: a story is named when a finding of a kind that can describe it touches the
    story's areas (small areas, wards or MSOAs holding them), its site or its group.
    """
    out: dict[str, Any] = {}
    uc = truth.get("unreached_cluster", {})
    if uc.get("enabled"):
        codes = _codes(uc["areas"])
        out["unreached_cluster"] = lambda f, c=codes: (
            f["kind"] == "unreached_area" and bool(c & set(f["areas"]))
        )
    ec = truth.get("emerging_community", {})
    if ec.get("enabled"):
        codes = _codes(ec["areas"])
        groups = community_groups(ec["origin"]) | {("origin_group", ec["origin"])}
        out["emerging_community"] = lambda f, c=codes, g=groups: (
            f["kind"] in {"emerging_community", "unreached_group", "unreached_area"}
            and (
                bool(g & own_group(f))
                or (f["kind"] != "unreached_group" and bool(c & set(f["areas"])))
            )
        )
    b = truth.get("barrier", {})
    if b.get("enabled"):
        codes = _codes(b["far_side_areas"])
        out["barrier"] = lambda f, c=codes: (
            f["kind"] in {"access_barrier", "unreached_area"} and bool(c & set(f["areas"]))
        )
    s = truth.get("low_engagement_site", {})
    if s.get("enabled"):
        out["low_engagement_site"] = lambda f, site=s["site_id"]: (
            f["kind"] == "low_engagement_site" and f.get("site") == site
        )
    out.update(trend_matchers(truth))
    g = truth.get("deprivation_gradient", {})
    if g.get("enabled"):
        deciles = {str(d) for d in g["less_reached_deciles"]}
        quintiles = {str((int(d) + 1) // 2) for d in g["less_reached_deciles"]}

        high = min(int(x) for x in g["less_reached_deciles"]) > 5  # the least deprived end

        def gradient(f: dict[str, Any], d: set[str] = deciles, q: set[str] = quintiles) -> bool:
            if f["kind"] != "unreached_group":
                return False
            for dim, value in own_group(f):
                if dim in DEPRIVATION_DIMENSIONS and value == "gradient":
                    # a gradient finding (SII > 0: the most deprived end reached less)
                    sii = f["evidence"].get("slope_index_of_inequality")
                    if sii is None:
                        continue
                    return (float(sii) < 0) == high
                if dim in DEPRIVATION_DIMENSIONS and value in (
                    q if dim.endswith("quintile") else d
                ):
                    return True
            return False

        out["deprivation_gradient"] = gradient
    return out


def trend_matchers(truth: dict[str, Any]) -> dict[str, Any]:
    """story -> predicate for the declining-reach stories (areas at any level, or the site)."""
    out: dict[str, Any] = {}
    dr = truth.get("declining_reach", {})
    if not dr.get("enabled"):
        return out
    codes = _codes(dr.get("areas") or {"lsoa": dr["lsoas"]})
    # the decline lowers today's reach too, so an unreached area there names it as well
    out["declining_reach"] = lambda f, c=codes: (
        f["kind"] in {"declining_reach", "unreached_area"}
        and not f.get("site")
        and bool(c & set(f["areas"]))
    )
    if dr.get("site_id"):
        out["declining_site"] = lambda f, site=dr["site_id"]: (
            f["kind"] == "declining_reach" and f.get("site") == site
        )
    return out


def rank_stories(findings: list[dict[str, Any]], truth: dict[str, Any]) -> list[StoryRank]:
    """For every story kind, whether planted and the best-ranked finding that names it."""
    matchers = _matchers(truth)
    ranked = sorted(findings, key=lambda f: int(f.get("rank") or 10**9))
    out = []
    planted_trends = tuple(k for k in TREND_STORY_KINDS if k in matchers)
    for story in (*STORY_KINDS, *planted_trends):
        match = matchers.get(story)
        hit = next((f for f in ranked if match(f)), None) if match is not None else None
        out.append(
            StoryRank(
                story=story,
                planted=match is not None,
                rank=int(hit["rank"]) if hit is not None else None,
                severity=hit.get("evidence", {}).get("severity") if hit is not None else None,
                finding_id=hit["id"] if hit is not None else None,
                kind=hit["kind"] if hit is not None else None,
            )
        )
    return out


def evaluate_run(out_dir: Path, truth_dir: Path, top: int = 5) -> dict[str, Any]:
    """Planted stories found (and at which rank) in a finished run, plus the striking
    findings no planted story explains (false alarms on a null world)."""
    findings = json.loads((out_dir / "findings.json").read_text(encoding="utf-8"))["findings"]
    truth = json.loads((truth_dir / "stories.json").read_text(encoding="utf-8"))
    ranks = rank_stories(findings, truth)
    matchers = _matchers(truth)
    unexplained = [
        {"rank": f["rank"], "kind": f["kind"], "id": f["id"]}
        for f in striking(findings)
        if not any(m(f) for m in matchers.values())
    ]
    return {
        "top": top,
        "stories": [{**asdict(r), "found": r.found(top)} for r in ranks if r.planted],
        "n_findings": len(findings),
        "n_striking": len(striking(findings)),
        "striking_not_planted": unexplained,
    }

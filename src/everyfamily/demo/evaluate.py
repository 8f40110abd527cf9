"""Check a demo run against the scenario's ground truth (demo, tests and benchmarks only).

The pipeline never reads the truth; this module does, after the pipeline has finished, to
show how well linkage did and whether the findings name the planted stories. A council's
own run has no truth and never calls this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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
    from everyfamily.stores import IDENTIFIABLE, open_stores

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

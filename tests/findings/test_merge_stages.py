"""Duplicate findings across stages become one (issue 14, defect 9), on small hand-made
candidates: a barrier and the unreached areas behind it; an emerging community and the
language group of the same children."""

from __future__ import annotations

import math

import pandas as pd

from everyfamily.findings.engine import SAME_ISSUE_OVERLAP, merge_across_stages
from everyfamily.findings.model import Finding


def _f(kind: str, areas: tuple[str, ...], score: float, group=None, level="lsoa") -> Finding:  # type: ignore[no-untyped-def]
    return Finding(
        kind=kind,
        areas=areas,
        group=group,
        site=None,
        measure="registered_rate",
        observed=0.4,
        expected=0.7,
        interval=(math.nan, math.nan),
        children_affected=50,
        headline=f"{kind} {areas}",
        evidence={"q_value": 0.001},
        score=score,
        level=level,
    )


def test_barrier_and_unreached_area_over_the_same_areas_are_one_finding() -> None:
    barrier = _f("access_barrier", ("A1", "A2", "A3"), 90.0)
    area = _f("unreached_area", ("A2", "A3"), 120.0)  # 2 of its 2 areas are the barrier's
    other = _f("unreached_area", ("B7",), 30.0)
    out = merge_across_stages([barrier, area, other])
    assert [f.kind for f in out] == ["access_barrier", "unreached_area"]
    lead = out[0]
    # the barrier says why, so it leads, with the higher score of the two
    assert lead.id == barrier.id and lead.score == 120.0
    merged = lead.evidence["merged"]
    assert [(m["id"], m["kind"]) for m in merged] == [(area.id, "unreached_area")]
    assert "100%" in merged[0]["why_merged"]


def test_half_the_areas_is_not_enough() -> None:
    # 1 of the smaller finding's 2 areas shared: 50%, not more than the stated threshold
    assert SAME_ISSUE_OVERLAP == 0.5
    barrier = _f("access_barrier", ("A1", "A2"), 90.0)
    area = _f("unreached_area", ("A2", "A9"), 120.0)
    assert len(merge_across_stages([barrier, area])) == 2


def test_emerging_community_and_its_language_group_are_one_finding() -> None:
    community = _f("emerging_community", ("A1", "A2"), 200.0, group=("origin_group", "romanian"))
    language = _f("unreached_group", (), 80.0, group=("main_language", "Romanian"), level="lsoa")
    language = Finding(**{**language.__dict__, "areas": ("A1", "A2", "A5")})
    polish = _f("unreached_group", ("A1",), 70.0, group=("main_language", "Polish"))
    # restricted children table: the Romanian speakers not registered, mostly in A1/A2
    children = pd.DataFrame(
        {
            "person_id": [f"c{i}" for i in range(6)],
            "area_code": ["A1", "A1", "A2", "A5", "A1", "A1"],
            "registered": [False, False, False, False, False, True],
            "main_language": ["Romanian"] * 4 + ["Polish", "Romanian"],
        }
    )
    out = merge_across_stages([language, community, polish], children=children)
    assert [f.kind for f in out] == ["emerging_community", "unreached_group"]
    assert out[1].group == ("main_language", "Polish")  # a different community stays
    merged = out[0].evidence["merged"]
    assert [m["group"] for m in merged] == [{"dimension": "main_language", "value": "Romanian"}]
    # 3 of the 4 unregistered Romanian speakers live in A1 or A2
    assert merged[0]["why_merged"].startswith("75%")


def test_a_community_elsewhere_is_not_merged_with_the_group() -> None:
    community = _f("emerging_community", ("A1",), 200.0, group=("origin_group", "romanian"))
    language = _f("unreached_group", ("A8", "A9"), 80.0, group=("main_language", "Romanian"))
    assert len(merge_across_stages([community, language])) == 2

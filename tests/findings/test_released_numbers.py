"""Every number a finding shows is disclosure-controlled: counts released by the rules of the
reach release (suppress 7 or fewer, the complement rule, midpoint-6 rounding) and rates
computed from those released counts. Hand-computed with the project defaults.

Midpoint 6: n -> 6 * ceil(n / 6) - 3, so 13 -> 15, 40 -> 39, 27 -> 27, 1200 -> 1197,
1800 -> 1797, 2960 -> 2961, 1795 -> 1797, 2940 -> 2937, 1753 -> 1755.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from everyfamily.findings import stats
from everyfamily.findings.detectors import (
    find_low_engagement_sites,
    find_unreached_areas,
    find_unreached_groups,
)
from everyfamily.findings.engine import p_bound, to_public
from everyfamily.findings.model import FindingsSettings
from everyfamily.findings.text import ReleasedTable
from everyfamily.privacy.disclosure import released_part
from findings.json_pairs import json_pairs
from findings.reach_tables import BOROUGH, Area, reach_table

DEFAULTS = FindingsSettings()  # suppress 7 or fewer, midpoint 6


def flat(n: int = 30) -> list[Area]:
    return [Area(f"A{i:02d}", 100, 60, 30, 105.0, f"Area {i}") for i in range(n)]


def test_released_part_applies_the_complement_rule() -> None:
    assert released_part(13, 40) == (15, 39)  # the defaults: 7, midpoint 6
    assert released_part(5, 40) == (None, 39)
    # 36 of 40: only 4 not in the part, which would disclose something about all 40
    assert released_part(36, 40) == (None, 39)
    # 31 of 39: 8 not in the part, but as released (33 of 39) it would read as 6
    assert released_part(31, 39) == (None, 39)
    assert released_part(13, 40, suppress_at_or_below=0, rounding="none") == (13, 40)


def test_site_with_13_engaged_of_40_shows_rounded_counts_and_their_rate() -> None:
    sites = [("S1", 600, 400), ("S2", 600, 400), ("S3", 600, 400), ("S9", 40, 13)]
    (f,) = find_low_engagement_sites(
        reach_table(flat(), sites=sites), settings=DEFAULTS, site_names={"S9": "Little Centre"}
    )
    # 13 -> 15, 40 -> 39: 15/39 = 38%; other centres 1200 -> 1197 of 1800 -> 1797: 67%
    assert (
        f.headline == "Little Centre: 39 children registered, 15 engaged (38%, other centres 67%)"
    )
    assert f.observed == pytest.approx(15 / 39) and f.expected == pytest.approx(1197 / 1797)
    assert f.interval == pytest.approx(stats.wilson_interval(15, 39))
    assert f.evidence["counts"] == {
        "registered": 39,
        "engaged": 15,
        "rest_registered": 1797,
        "rest_engaged": 1197,
    }
    doc = to_public(f, DEFAULTS)
    assert doc["children_affected"] == 27  # 40 - 13 = 27 -> 27
    assert doc["observed"] == pytest.approx(round(15 / 39, 6))
    # the exact rate 13/40 = 0.325 appears nowhere; nor does z (a finer function of the
    # exact counts than the one-figure p bound)
    pairs = json_pairs(doc)
    assert all(v != 0.325 for _k, v in pairs)
    assert "z" not in {k for k, _v in pairs}
    exact_p = f.evidence["p_value"]
    assert doc["evidence"]["p_value"] == p_bound(exact_p) >= exact_p
    assert doc["evidence"]["p_value"] == float(f"{doc['evidence']['p_value']:.1g}")  # 1 figure


def test_area_with_13_registered_of_40_shows_rounded_counts_and_their_rate() -> None:
    areas = flat()
    areas[5] = Area("A05", 40, 13, 6, 42.0, "Little Area")
    out = find_unreached_areas(reach_table(areas), settings=DEFAULTS)
    (f,) = [f for f in out if f.areas == ("A05",)]
    # borough: 2940 -> 2937 children, 1753 -> 1755 registered: 1755/2937 = 60%
    assert f.headline == (
        "Little Area: 39 under-fives living there, 15 registered with a centre (38%, borough 60%)"
    )
    assert f.observed == pytest.approx(15 / 39)
    assert f.expected == pytest.approx(1755 / 2937)
    (area,) = f.evidence["areas"]
    assert (area["children"], area["registered"]) == (39, 15)
    assert area["rate"] == pytest.approx(round(15 / 39, 6))
    counts = to_public(f, DEFAULTS)["evidence"]["counts"]
    assert counts == {
        "children": 39,
        "registered": 15,
        "borough_children": 2937,
        "borough_registered": 1755,
    }


def test_group_with_a_small_count_shows_no_rate_for_it() -> None:
    groups = [("borough", BOROUGH, "main_language", "romanian", 40, 5)]
    (f,) = find_unreached_groups(reach_table(flat(), groups=groups), settings=DEFAULTS)
    # everyone else: 2960 -> 2961 children, 1795 -> 1797 registered: 61%
    assert f.headline == (
        "Knowsley (borough-wide): 39 under-fives whose family's main language is Romanian, "
        "fewer than 8 registered with a centre (rate not released, everyone else 61%)"
    )
    assert math.isnan(f.observed) and f.expected == pytest.approx(1797 / 2961)
    doc = to_public(f, DEFAULTS)
    json.dumps(doc, allow_nan=False)
    assert doc["observed"] is None and doc["interval"] == [None, None]
    assert doc["evidence"]["counts"] == {
        "children": 39,
        "registered": None,
        "rest_children": 2961,
        "rest_registered": 1797,
    }
    assert doc["evidence"]["share_of_registered"] is None  # would need the suppressed 5
    assert doc["children_affected"] == 33  # 35 -> 33
    # nothing in the document equals the suppressed 5 or a rate made from it
    assert all(v not in (5, 5 / 40, 5 / 1800) for _k, v in json_pairs(doc))


def test_public_score_comes_from_released_numbers() -> None:
    sites = [("S1", 600, 400), ("S2", 600, 400), ("S3", 600, 400), ("S9", 40, 13)]
    (f,) = find_low_engagement_sites(reach_table(flat(), sites=sites), settings=DEFAULTS)
    doc = to_public(f, DEFAULTS)
    ev = doc["evidence"]
    # excess = 40 * 1200/1800 - 13 = 13.67 -> 14 children -> released 15
    assert ev["excess_unreached"] == 15
    assert ev["score"] == pytest.approx(round(15 * ev["strength"], 1))
    assert f"score {ev['score']:.0f}" in ev["why_ranked"]


def test_cells_the_reach_release_suppresses_are_never_shown() -> None:
    """reach.csv suppressed the borough's registered count (say, as a secondary cell): a
    group finding there must not show it, nor 'everyone else' (= total - group), which
    with the group's count would give it back."""
    groups = [("borough", BOROUGH, "main_language", "romanian", 40, 13)]
    table = reach_table(flat(), groups=groups)
    hidden = frozenset({("borough", BOROUGH, "all", "all", "any", "registered")})
    settings = FindingsSettings(withheld=hidden)
    (f,) = find_unreached_groups(table, settings=settings)
    assert f.headline == (
        "Knowsley (borough-wide): 39 under-fives whose family's main language is Romanian, "
        "15 registered with a centre (38%, everyone else rate not released)"
    )
    counts = to_public(f, settings)["evidence"]["counts"]
    assert counts == {
        "children": 39,
        "registered": 15,
        "rest_children": 2961,
        "rest_registered": None,
    }


def test_findings_stage_reads_what_the_release_suppressed() -> None:
    import pandas as pd

    from everyfamily.findings.stage import withheld_cells

    released = pd.DataFrame(
        {
            "level": ["lsoa", "lsoa"],
            "area_code": ["A01", "A02"],
            "dimension": "all",
            "group_value": "all",
            "service": "any",
            "denominator": pd.array([39, 45], dtype="Int64"),
            "known": pd.array([None, 45], dtype="Int64"),
            "registered": pd.array([15, None], dtype="Int64"),
            "engaged": pd.array([9, 21], dtype="Int64"),
        }
    )
    assert withheld_cells(released) == {
        ("lsoa", "A01", "all", "all", "any", "known"),
        ("lsoa", "A02", "all", "all", "any", "registered"),
    }


def test_coarse_rate_of_a_sum_holding_a_suppressed_cell() -> None:
    """A 5% step hides +-2.5% of the whole: over twice the threshold of 7 (16 children)
    needs a whole over 640; a 10% step over 320; below that no rate is shown."""
    from everyfamily.findings.text import coarse_rate

    s = FindingsSettings()
    assert s.suppress_at_or_below == 7
    assert coarse_rate(2561, 3201, 3201, s) == pytest.approx(0.80)  # 80.0% -> 80%
    assert coarse_rate(2630, 3201, 3201, s) == pytest.approx(0.80)  # 82.2% -> 80%
    assert coarse_rate(145, 400, 399, s) == pytest.approx(0.40)  # 36.3%, 10% step -> 40%
    assert math.isnan(coarse_rate(100, 300, 297, s))  # even 10% of 297 hides < 16
    assert math.isnan(coarse_rate(100, 300, None, s))  # the whole itself withheld


# --- findings from the released table (issue 15): sums and differences of released cells ---


def released_copy(
    table: pd.DataFrame, changes: dict[tuple[str, str, str, str, str], dict[str, float | None]]
) -> pd.DataFrame:
    """The table as a release might show it: ``denominator`` = known, and the stated cells
    changed (a perturbation, or None for a withheld cell)."""
    out = table.copy()
    out["denominator"] = out["known"]
    for col in ("denominator", "known", "registered", "engaged"):
        out[col] = pd.array(out[col].round(), dtype="Int64")
    keys = out[["level", "area_code", "dimension", "group_value", "service"]].astype(str)
    for cell, cols in changes.items():
        mask = (keys == pd.Series(cell, index=keys.columns)).all(axis=1)
        assert mask.sum() == 1
        for col, v in cols.items():
            out.loc[mask, col] = pd.NA if v is None else int(v)
    return out


def with_table(released: pd.DataFrame) -> FindingsSettings:
    return FindingsSettings(released_table=ReleasedTable.from_frame(released))


def test_area_finding_shows_the_released_cells_not_the_exact_counts() -> None:
    areas = flat()
    areas[5] = Area("A05", 40, 13, 6, 42.0, "Little Area")
    table = reach_table(areas)
    # a perturbed release: A05 42 children, 12 registered; borough 2943 and 1751
    released = released_copy(
        table,
        {
            ("lsoa", "A05", "all", "all", "any"): {"denominator": 42, "registered": 12},
            ("borough", BOROUGH, "all", "all", "any"): {"denominator": 2943, "registered": 1751},
        },
    )
    s = with_table(released)
    (f,) = [f for f in find_unreached_areas(table, settings=s) if f.areas == ("A05",)]
    assert f.headline == (
        "Little Area: 42 under-fives living there, 12 registered with a centre (29%, borough 59%)"
    )
    assert f.observed == pytest.approx(12 / 42) and f.expected == pytest.approx(1751 / 2943)
    doc = to_public(f, s)
    assert doc["children_affected"] == 42 - 12
    # excess: 42 * 1751/2943 - 12 = 12.99 -> 13, released as it is (not rounded again)
    assert doc["evidence"]["excess_unreached"] == 13
    assert doc["evidence"]["counts"] == {
        "children": 42,
        "registered": 12,
        "borough_children": 2943,
        "borough_registered": 1751,
    }
    # nothing equals the exact 40 or 27 (affected), nor a midpoint-6 rounding of an exact
    # count (39, 15, 27, 2937, 1755)
    values = {v for _k, v in json_pairs(doc) if isinstance(v, int | float)}
    assert not values & {40, 27, 39, 15, 2940, 2937, 1753, 1755}


def test_a_finding_over_two_areas_sums_their_released_cells() -> None:
    areas = flat()
    areas[5] = Area("A05", 40, 10, 6, 42.0, "Little Area")
    areas[6] = Area("A06", 40, 11, 6, 42.0, "Next Area")
    table = reach_table(areas)
    released = released_copy(
        table,
        {
            ("lsoa", "A05", "all", "all", "any"): {"denominator": 41, "registered": 8},
            ("lsoa", "A06", "all", "all", "any"): {"denominator": 38, "registered": 13},
        },
    )
    s = with_table(released)
    found = find_unreached_areas(table, settings=s, neighbours={"A05": {"A06"}, "A06": {"A05"}})
    (f,) = [f for f in found if set(f.areas) == {"A05", "A06"}]
    assert f.evidence["counts"]["children"] == 41 + 38
    assert f.evidence["counts"]["registered"] == 8 + 13
    assert to_public(f, s)["children_affected"] == 79 - 21


def test_everyone_else_is_the_released_total_minus_the_released_group_and_unknowns() -> None:
    groups = [
        ("borough", BOROUGH, "main_language", "romanian", 40, 13),
        ("borough", BOROUGH, "main_language", "unknown", 100, 70),
    ]
    table = reach_table(flat(), groups=groups)
    released = released_copy(
        table,
        {
            ("borough", BOROUGH, "main_language", "romanian", "any"): {
                "denominator": 38,
                "registered": 14,
            },
            ("borough", BOROUGH, "main_language", "unknown", "any"): {
                "denominator": 101,
                "registered": 68,
            },
            ("borough", BOROUGH, "all", "all", "any"): {"denominator": 2998, "registered": 1803},
        },
    )
    s = with_table(released)
    (f,) = find_unreached_groups(table, settings=s)
    rest_children, rest_registered = 2998 - 38 - 101, 1803 - 14 - 68
    assert f.evidence["counts"] == {
        "children": 38,
        "registered": 14,
        "rest_children": rest_children,
        "rest_registered": rest_registered,
    }
    assert f.expected == pytest.approx(rest_registered / rest_children)
    assert f.headline.endswith(f"(37%, everyone else {rest_registered / rest_children:.0%})")
    assert to_public(f, s)["children_affected"] == 38 - 14


def test_other_centres_are_the_sum_of_their_released_cells() -> None:
    sites = [("S1", 600, 400), ("S2", 600, 400), ("S3", 600, 400), ("S9", 40, 13)]
    table = reach_table(flat(), sites=sites)
    released = released_copy(
        table,
        {
            ("borough", BOROUGH, "all", "all", "S1"): {"registered": 598, "engaged": 401},
            ("borough", BOROUGH, "all", "all", "S9"): {"registered": 41, "engaged": 12},
        },
    )
    s = with_table(released)
    (f,) = find_low_engagement_sites(table, settings=s, site_names={"S9": "Little Centre"})
    assert f.evidence["counts"] == {
        "registered": 41,
        "engaged": 12,
        "rest_registered": 598 + 600 + 600,
        "rest_engaged": 401 + 400 + 400,
    }
    assert f.headline == (
        "Little Centre: 41 children registered, 12 engaged (29%, other centres 67%)"
    )
    assert to_public(f, s)["children_affected"] == 41 - 12


def test_a_withheld_cell_withholds_every_number_made_from_it() -> None:
    areas = flat()
    areas[5] = Area("A05", 40, 13, 6, 42.0, "Little Area")
    table = reach_table(areas)
    released = released_copy(table, {("lsoa", "A05", "all", "all", "any"): {"registered": None}})
    s = with_table(released)
    (f,) = [f for f in find_unreached_areas(table, settings=s) if f.areas == ("A05",)]
    doc = to_public(f, s)
    assert doc["children_affected"] is None  # 40 - 13 would give the withheld 13 back
    assert doc["evidence"]["excess_unreached"] is None
    assert "a number not released" in f.headline
    assert all(v not in (13, 15, 27) for _k, v in json_pairs(doc))

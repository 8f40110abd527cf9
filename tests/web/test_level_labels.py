"""Level labels and order for levels of any name (population/levels.py)."""

from __future__ import annotations

from everyfamily.findings.engine import _level_index
from everyfamily.population.levels import level_label, level_noun, ordered_levels, outline_levels


def test_labels_for_any_level() -> None:
    assert level_label("lsoa") == "Small areas (LSOA)"
    assert level_label("neighbourhood") == "Neighbourhoods"
    assert level_label("locality") == "Localities"
    assert level_label("parish") == "Parishes"
    assert level_label("school_catchment") == "School catchments"
    assert level_label("pcn") == "PCNs"  # no vowel, short: an acronym
    assert level_label("locality", {"locality": "Family hub localities"}) == (
        "Family hub localities"
    )
    assert [level_noun(x) for x in ("lsoa", "neighbourhood", "reach_area", "pcn")] == [
        "LSOA",
        "neighbourhood",
        "centre reach area",
        "PCN",
    ]


def test_levels_in_the_order_the_project_lists_them() -> None:
    present = {"borough", "reach_area", "district", "neighbourhood", "locality", "extra"}
    geography = {
        "small_areas": {"levels": {"locality": "LOC"}},
        "hierarchy": {"levels": {"district": "D"}},
    }
    order = ordered_levels(present, "neighbourhood", geography, {"extra": 3})
    assert order == ["neighbourhood", "locality", "district", "extra", "reach_area", "borough"]
    # without settings: the other levels by number of areas, most first
    bare = ordered_levels(present, "neighbourhood", None, {"district": 2, "locality": 5})
    assert bare == ["neighbourhood", "locality", "district", "extra", "reach_area", "borough"]
    assert outline_levels(order, "neighbourhood") == ["locality", "borough"]
    assert outline_levels(["neighbourhood", "reach_area"], "neighbourhood") == []


def test_findings_rank_unknown_levels_by_size() -> None:
    members = {
        "locality": {"L1": {"N1", "N2", "N3", "N4"}},
        "patch": {"P1": {"N1", "N2"}, "P2": {"N3", "N4"}},
    }
    ranks = [_level_index(lv, members) for lv in ("borough", "locality", "patch", "neighbourhood")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4

"""Each detector on hand-made reach tables: planted things are found, flat tables give
nothing, and false findings stay rare on null data (Benjamini-Hochberg control)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from everyfamily.findings import stats
from everyfamily.findings.detectors import (
    find_linkage_quality_gaps,
    find_low_engagement_sites,
    find_unknown_population,
    find_unreached_areas,
    find_unreached_groups,
)
from everyfamily.findings.engine import find
from everyfamily.findings.model import FindingsSettings, finding_id
from findings.reach_tables import BOROUGH, Area, grid_neighbours, null_areas, reach_table

S = FindingsSettings(rounding="none", suppress_at_or_below=0)


def flat(n: int = 30, known: int = 100, registered: int = 60) -> list[Area]:
    return [
        Area(f"A{i:02d}", known, registered, registered // 2, known / 0.95, f"Area {i}")
        for i in range(n)
    ]


# --- statistics -------------------------------------------------------------------------------


def test_bh_matches_hand_computation() -> None:
    # sorted p: .01 .03 .04 .2 -> p*m/i: .04 .06 .0533 .2 -> step-up minimum from the top
    q = stats.bh_adjust([0.01, 0.04, 0.03, 0.2])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_two_proportion_z_matches_hand_computation() -> None:
    # 20/100 vs 60/100: pooled .4, se = sqrt(.4 * .6 * (1/100 + 1/100)) = .069282
    z, p = stats.two_proportion_lower(20, 100, 60, 100)
    assert z == pytest.approx(-0.4 / math.sqrt(0.0048))
    assert p == pytest.approx(0.5 * math.erfc(-z / math.sqrt(2)))


def test_small_counts_use_fishers_exact_test() -> None:
    z, p = stats.two_proportion_lower(0, 4, 10, 12)
    assert math.isnan(z)
    # hypergeometric: P(X = 0) with 16 children, 10 registered, 4 in the group
    assert p == pytest.approx(math.comb(6, 4) / math.comb(16, 4))


def test_family_design_effect_by_hand() -> None:
    # families of 2 (both registered), 2 (neither), 1 (registered): p = 3/5, residuals
    # y - p m = .8, -1.2, .4; Var = 3/2 * 2.24 / 25; binomial .24 / 5: deff = 2.8
    fam = np.array(["a", "a", "b", "b", "c"])
    assert stats.family_design_effect(np.array([1, 1, 0, 0, 1]), fam) == pytest.approx(2.8)
    # every child their own family: no inflation beyond the small-sample factor F / (F - 1)
    rng = np.random.default_rng(5)
    y = rng.random(4000) < 0.7
    alone = stats.family_design_effect(y, np.array([None] * 4000))
    assert alone == pytest.approx(1.0, abs=0.05)
    # siblings registered together: pairs of identical children double the variance
    pairs = np.repeat(y[:2000], 2)
    assert stats.family_design_effect(pairs, np.repeat(np.arange(2000), 2)) == pytest.approx(
        2.0, abs=0.1
    )


def test_group_test_uses_rao_scott_effective_counts_under_family_clustering() -> None:
    # 150 of 300 registered against 1650 of the other 2700; with families of two
    # registering together (design effect 2) the test runs on halved counts
    table = reach_table(flat(), groups=[("borough", BOROUGH, "ethnicity", "white_irish", 300, 150)])
    plain = find_unreached_groups(table, settings=S)
    halved = find_unreached_groups(table, settings=S, design_effect=2.0)
    _z, p1 = stats.two_proportion_lower(150, 300, 1650, 2700)
    _z, p2 = stats.two_proportion_lower(75, 150, 825, 1350)
    assert p1 < p2 < 0.01
    assert plain[0].evidence["p_value"] == pytest.approx(p1, rel=1e-2)
    assert halved[0].evidence["p_value"] == pytest.approx(p2, rel=1e-2)
    assert halved[0].evidence["family_design_effect"] == 2.0


# --- unreached_area ---------------------------------------------------------------------------


def test_area_finding_states_the_reach_tables_funnel_and_the_family_design_effect() -> None:
    # Issue 14: reach.csv's funnel treats children as independent; the finding counts
    # children in families as fewer independent draws (Rao-Scott), so its tau2 and z differ
    # from the table's, and the evidence says so with both numbers. 40 areas whose rates
    # spread beyond chance (planted: 50-90 registered of 120) and one far below (20 of 120);
    # children come in pairs who register together (a design effect of 2).
    from everyfamily.reach import statistics as st
    from everyfamily.reach.measure import funnel_columns

    rng = np.random.default_rng(14)
    areas = [Area(f"A{i:02d}", 120, int(r)) for i, r in enumerate(rng.integers(50, 91, 40))]
    areas[5] = Area("A05", 120, 20)
    table = reach_table(areas)
    keys = table[["level", "area_code", "dimension", "group_value", "service"]]
    reg, known = table["registered"].to_numpy("float64"), table["known"].to_numpy("float64")
    funnel = funnel_columns(keys, reg, known)
    table = table.assign(funnel_z=funnel.z, funnel_tau2=funnel.tau2)
    regs = np.concatenate([[1] * a.registered + [0] * (a.known - a.registered) for a in areas])
    children = pd.DataFrame(
        {"family_id": np.arange(len(regs)) // 2, "registered": regs.astype(bool), "known": True}
    )
    deff = stats.family_design_effect(children["registered"], children["family_id"])
    assert deff > 1.9
    out = [f for f in find(table, settings=S, children=children) if f.kind == "unreached_area"]
    assert [f.areas for f in out] == [("A05",)]
    ev = out[0].evidence
    row = table[(table["level"] == "lsoa") & (table["area_code"] == "A05")].iloc[0]
    assert row["funnel_tau2"] > 0.003  # the planted spread: rates 42-75%
    assert ev["reach_table_tau2"] == pytest.approx(row["funnel_tau2"], abs=1e-6)
    assert ev["family_design_effect"] == pytest.approx(deff, abs=1e-6)
    assert "design effect" in ev["funnel_note"]
    # by hand: the same over-dispersion on counts divided by the design effect
    small = table[table["level"] == "lsoa"]
    x, n = small["registered"].to_numpy("float64"), small["known"].to_numpy("float64")
    p0 = x.sum() / n.sum()
    tau2 = st.proportion_dispersion(x / deff, n / deff, p0).tau2
    assert 0 < tau2 < row["funnel_tau2"]  # families explain part of the spread
    assert ev["overdispersion"]["tau2"] == pytest.approx(tau2, abs=1e-6)
    z = (20 / 120 - p0) / math.sqrt(deff * p0 * (1 - p0) / 120 + tau2)
    assert ev["areas"][0]["z"] == pytest.approx(z, abs=1e-6)
    # without families the finding's funnel IS the table's
    plain = find_unreached_areas(table, settings=S)
    assert plain[0].evidence["overdispersion"]["tau2"] == pytest.approx(
        row["funnel_tau2"], abs=1e-6
    )
    assert plain[0].evidence["areas"][0]["z"] == pytest.approx(row["funnel_z"], abs=1e-6)
    assert "funnel_note" not in plain[0].evidence


def test_planted_low_area_is_found_with_a_plain_english_headline() -> None:
    areas = flat()
    areas[7] = Area("A07", 212, 61, 30, 220.0, "Halewood South")
    out = find_unreached_areas(reach_table(areas), settings=S)
    assert [f.areas for f in out] == [("A07",)]
    f = out[0]
    borough = (29 * 60 + 61) / (29 * 100 + 212)
    assert f.kind == "unreached_area" and f.severity == "striking"
    assert f.observed == pytest.approx(61 / 212) and f.expected == pytest.approx(borough)
    assert f.children_affected == 212 - 61
    assert f.headline == (
        "Halewood South: 212 under-fives living there, 61 registered with a centre "
        f"(29%, borough {100 * borough:.0f}%)"
    )
    assert f.evidence["band"] == "below_998" and f.evidence["q_value"] < 0.05
    lo, hi = f.interval
    assert lo < 61 / 212 < hi


def test_flat_table_gives_no_findings_at_all() -> None:
    assert find(reach_table(flat(), sites=[("S1", 900, 500), ("S2", 900, 500)])) == []


def test_touching_flagged_areas_form_one_finding_and_distant_ones_do_not() -> None:
    areas = flat(36)
    for i in (0, 1, 35):  # 0 and 1 touch on a 6x6 grid; 35 is the far corner
        areas[i] = Area(areas[i].code, 100, 25, 10, 105.0, f"Low {i}")
    nb = grid_neighbours([a.code for a in areas], 6)
    out = find_unreached_areas(reach_table(areas), settings=S, neighbours=nb)
    assert sorted(sorted(f.areas) for f in out) == [["A00", "A01"], ["A35"]]
    pair = next(f for f in out if len(f.areas) == 2)
    assert pair.children_affected == 150
    assert pair.headline.startswith("Low 0 and Low 1: 200 under-fives living there, 50 registered")


def test_area_below_only_the_95_limit_must_still_pass_bh() -> None:
    # One of 40 areas at z ~ -2.4: one-sided p ~ 0.008, BH q ~ 0.008 x 40 ~ 0.33 > 5%, so
    # below the 95% limit alone is not a finding ("watch" does not escape BH; issue 14).
    areas = flat(40, known=100, registered=60)
    areas[3] = Area("A03", 100, 48, 20, 105.0, "Edge")  # z = (0.48 - 0.597) / 0.049 ~ -2.4
    assert find_unreached_areas(reach_table(areas), settings=S) == []


def test_bh_control_on_200_null_areas() -> None:
    """200 areas drawn from the borough rate (fixed seed): at most a handful of striking
    findings across all ten draws, i.e. the false discovery rate is held."""
    striking = 0
    for seed in range(10):
        table = reach_table(null_areas(200, rate=0.64, seed=seed))
        striking += sum(f.severity == "striking" for f in find(table))
    assert striking <= 3


# --- unreached_group --------------------------------------------------------------------------


def test_group_under_reached_borough_wide_absorbs_the_same_group_inside_an_area() -> None:
    areas = flat(20)
    groups = [
        ("borough", BOROUGH, "main_language", "romanian", 140, 20),
        ("borough", BOROUGH, "main_language", "english", 1860, 1180),
        ("lsoa", "A03", "main_language", "romanian", 60, 6),
    ]
    out = find(reach_table(areas, groups=groups), settings=S)
    assert [(f.kind, f.group, f.areas) for f in out] == [
        ("unreached_group", ("main_language", "romanian"), (BOROUGH,))
    ]
    f = out[0]
    assert f.observed == pytest.approx(20 / 140)
    assert f.expected == pytest.approx((1200 - 20) / (2000 - 140))
    assert f.headline == (
        "Knowsley (borough-wide): 140 under-fives whose family's main language is Romanian, "
        "20 registered with a centre (14%, everyone else 63%)"
    )
    assert [m["areas"] for m in f.evidence["merged"]] == [["A03"]]
    assert f.evidence["share_of_known"] == pytest.approx(0.07)
    assert f.evidence["share_of_registered"] == pytest.approx(20 / 1200, abs=1e-6)


def test_group_gap_below_the_minimum_effect_is_not_a_finding() -> None:
    # 5,000 children: a 6-point gap is highly significant but smaller than MIN_RATE_GAP.
    areas = [Area(f"A{i:02d}", 500, 300, 150, 520.0) for i in range(10)]
    groups = [("borough", BOROUGH, "ethnicity", "white_irish", 1000, 552)]
    g = find_unreached_groups(reach_table(areas, groups=groups), settings=S)
    assert g == []


def test_group_smaller_than_the_minimum_count_is_not_tested() -> None:
    areas = flat(10)
    groups = [("lsoa", "A01", "main_language", "polish", 9, 0)]
    assert find_unreached_groups(reach_table(areas, groups=groups), settings=S) == []


def test_unknown_and_age_groups_are_not_findings() -> None:
    areas = flat(10)
    groups = [
        ("borough", BOROUGH, "main_language", "unknown", 200, 10),
        ("borough", BOROUGH, "age_years", "0", 200, 10),
    ]
    assert find_unreached_groups(reach_table(areas, groups=groups), settings=S) == []


def test_fine_and_broad_versions_of_a_group_are_merged() -> None:
    areas = flat(20)
    groups = [
        ("borough", BOROUGH, "ethnicity", "white_other", 150, 20),
        ("borough", BOROUGH, "ethnicity_broad", "white", 400, 140),
    ]
    out = find(reach_table(areas, groups=groups), settings=S)
    assert len(out) == 1
    assert {out[0].group, tuple(out[0].evidence["merged"][0]["group"].values())} == {
        ("ethnicity", "white_other"),
        ("ethnicity_broad", "white"),
    }


def test_same_children_under_two_questions_are_one_finding() -> None:
    areas = flat(20)
    groups = [
        ("borough", BOROUGH, "main_language", "romanian", 100, 10),
        ("borough", BOROUGH, "mother_country_of_birth", "Romania", 110, 12),
    ]
    n = 110
    children = pd.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(n)],
            "area_code": "A01",
            "known": True,
            "registered": [i < 12 for i in range(n)],
            "main_language": ["romanian" if i < 100 else "english" for i in range(n)],
            "mother_country_of_birth": "Romania",
        }
    )
    table = reach_table(areas, groups=groups)
    assert len(find(table, settings=S)) == 2  # without the children table: two findings
    merged = find(table, settings=S, children=children)
    assert len(merged) == 1
    assert "unreached children are in both" in merged[0].evidence["merged"][0]["why_merged"]


# --- low_engagement_site ----------------------------------------------------------------------


def test_site_that_registers_but_does_not_engage_is_found() -> None:
    sites = [("S1", 800, 400), ("S2", 700, 360), ("S3", 600, 70), ("S4", 900, 470)]
    out = find_low_engagement_sites(
        reach_table(flat(), sites=sites), settings=S, site_names={"S3": "Southmead Centre"}
    )
    assert [f.site for f in out] == ["S3"]
    rest = (400 + 360 + 470) / (800 + 700 + 900)
    assert out[0].expected == pytest.approx(rest)
    assert out[0].children_affected == 530
    assert out[0].headline == (
        f"Southmead Centre: 600 children registered, 70 engaged (12%, other centres "
        f"{100 * rest:.0f}%)"
    )


def test_sites_with_chance_variation_give_no_finding() -> None:
    rng = np.random.default_rng(11)
    sites = [(f"S{i}", 500, int(rng.binomial(500, 0.5))) for i in range(12)]
    assert find_low_engagement_sites(reach_table(flat(), sites=sites), settings=S) == []


# --- unknown_population -----------------------------------------------------------------------


def test_area_where_few_children_are_known_against_ons_is_found() -> None:
    areas = [Area(f"A{i:02d}", 95, 57, 20, 100.0, f"Area {i}") for i in range(30)]
    areas[4] = Area("A04", 110, 66, 30, 200.0, "Northwood")
    out = find_unknown_population(reach_table(areas), settings=S)
    assert [f.areas for f in out] == [("A04",)]
    c = (29 * 95 + 110) / (29 * 100 + 200)
    assert out[0].expected == pytest.approx(c)
    assert out[0].children_affected == 90
    assert out[0].headline == (
        f"Northwood: ONS estimates 200 under-fives, 110 known to any service (55%, borough "
        f"{100 * c:.0f}%)"
    )


def test_borough_wide_shortfall_against_ons_is_allowed_for() -> None:
    areas = [Area(f"A{i:02d}", 80, 50, 20, 100.0) for i in range(30)]  # 80% everywhere
    assert find_unknown_population(reach_table(areas), settings=S) == []


# --- linkage_quality_gap ----------------------------------------------------------------------


def test_group_with_low_linkage_recall_is_found() -> None:
    quality = pd.DataFrame(
        {
            "dimension": ["ethnicity"] * 3 + ["sex"] * 2,
            "group_value": ["white_british", "white_other", "asian_chinese", "female", "male"],
            "recall": [0.98, 0.80, 0.97, 0.96, 0.97],
            "precision": [0.99] * 5,
            "n": [5000, 300, 200, 3000, 3000],
        }
    )
    out = find_linkage_quality_gaps(quality, settings=S)
    assert [f.group for f in out] == [("ethnicity", "white_other")]
    assert out[0].observed == pytest.approx(0.80)
    assert out[0].expected == pytest.approx((4900 + 194) / 5200)


def _model_table(var_fn_group: float, dimension: str = "ethnicity") -> pd.DataFrame:
    # linkage.estimated_quality's shape: expected counts and the model's own variances
    return pd.DataFrame(
        {
            "dimension": [dimension] * 2,
            "group_value": ["white_other", "white_british"],
            "true_positives": [90.0, 950.0],
            "false_negatives": [10.0, 10.0],
            "true_links": [100.0, 960.0],
            "recall": [0.9, 950 / 960],
            "true_positives_variance": [0.0, 0.0],
            "false_negatives_variance": [var_fn_group, 2.5],
        }
    )


def test_model_based_recall_gap_is_tested_against_its_own_variance() -> None:
    # delta method: Var R = (FN^2 Var TP + TP^2 Var FN) / (TP + FN)^4
    var_g = 90**2 * 4.0 / 100**4  # 0.000324
    var_r = 950**2 * 2.5 / 960**4
    z = (0.9 - 950 / 960) / math.sqrt(var_g + var_r)  # -4.96
    out = find_linkage_quality_gaps(_model_table(4.0), settings=S)
    assert [f.group for f in out] == [("ethnicity", "white_other")]
    assert out[0].severity == "striking"
    assert out[0].evidence["p_value"] == pytest.approx(float(stats.lower_p_from_z(z)), rel=1e-2)
    # the same 90/100 with a wide interval (many pairs near p = 0.5 left apart): z = -1.28,
    # no finding, where a binomial test on the expected counts (p about 1e-6) would raise one
    assert find_linkage_quality_gaps(_model_table(60.0), settings=S) == []
    _z, p_binomial = stats.two_proportion_lower(90, 100, 950, 960)
    assert p_binomial < 1e-4


def test_a_gap_in_a_pair_level_dimension_is_watch_at_most() -> None:
    out = find_linkage_quality_gaps(_model_table(4.0, dimension="moved"), settings=S)
    assert [(f.group, f.severity) for f in out] == [(("moved", "white_other"), "watch")]


def test_no_quality_table_gives_no_linkage_findings() -> None:
    assert find_linkage_quality_gaps(None, settings=S) == []


# --- ranking ----------------------------------------------------------------------------------


def test_ranking_follows_the_documented_score_and_ids_are_stable() -> None:
    areas = flat(40)
    areas[1] = Area("A01", 300, 60, 30, 310.0, "Big")
    areas[2] = Area("A02", 80, 16, 8, 84.0, "Small")
    out = find(reach_table(areas), settings=S)
    assert [f.areas for f in out] == [("A01",), ("A02",)]
    assert [f.rank for f in out] == [1, 2]
    assert out[0].score > out[1].score
    ev = out[0].evidence
    assert out[0].score == pytest.approx(ev["excess_unreached"] * ev["strength"], rel=1e-5)
    assert out[0].id == finding_id("unreached_area", ["A01"], None, None)
    assert find(reach_table(areas), settings=S)[0].id == out[0].id


def test_linkage_quality_table_as_linkage_writes_it() -> None:
    """everyfamily.linkage.quality names the value column ``group`` and gives pair counts."""
    quality = pd.DataFrame(
        {
            "dimension": ["origin"] * 3,
            "group": ["british_irish", "polish", "romanian"],
            "n_children": [8000, 300, 200],
            "true_positives": [9800, 450, 300],
            "predicted_links": [9810, 452, 301],
            "true_links": [10000, 600, 310],
            "recall": [0.98, 0.75, 300 / 310],
        }
    )
    out = find_linkage_quality_gaps(quality, settings=S)
    assert [f.group for f in out] == [("origin", "polish")]
    assert out[0].observed == pytest.approx(0.75)
    assert out[0].expected == pytest.approx(10100 / 10310)
    assert out[0].headline == (
        "Linkage finds 75% of true matches for under-fives with origin polish "
        "(everyone else 98%): their reach may be understated"
    )


def test_everyone_else_leaves_out_children_whose_value_is_unknown() -> None:
    # Borough: 20 areas x 100 = 2,000 children, 1,200 registered. Romanian main language:
    # 140 children, 20 registered. 300 children have no language recorded and only 30 of
    # them are registered (they come from registration-poor sources). Everyone else with a
    # known language: 2,000 - 140 - 300 = 1,560 children, 1,200 - 20 - 30 = 1,150 registered:
    # 73.7%, not the 63.4% (1,180 / 1,860) the unknowns would drag it down to.
    areas = flat(20)
    groups = [
        ("borough", BOROUGH, "main_language", "romanian", 140, 20),
        ("borough", BOROUGH, "main_language", "unknown", 300, 30),
        ("borough", BOROUGH, "main_language", "english", 1560, 1150),
    ]
    out = find_unreached_groups(reach_table(areas, groups=groups), settings=S)
    assert [(f.group, f.areas) for f in out] == [(("main_language", "romanian"), (BOROUGH,))]
    f = out[0]
    assert f.expected == pytest.approx(1150 / 1560)
    assert f.evidence["counts"] == {
        "children": 140,
        "registered": 20,
        "rest_children": 1560,
        "rest_registered": 1150,
    }
    assert "everyone else 74%" in f.headline

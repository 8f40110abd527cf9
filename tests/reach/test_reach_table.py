"""Child table and reach table on the hand-made fixture (tests/reach/fixtures.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from everyfamily.reach.children import ChildParameters, age_in_years, build_children
from everyfamily.reach.measure import (
    REACH_OUTPUT_COLUMNS,
    ReachInputs,
    assign_reach_areas,
    build_reach,
    membership_table,
)
from everyfamily.reach.stage import not_reached_list
from everyfamily.schema import REACH_COLUMNS

from .fixtures import (
    AREA_XY,
    HIERARCHY,
    ONS,
    REFERENCE_DATE,
    SITES,
    SITES_XY,
    SMALL_AREAS,
    records_and_links,
)

PARAMS = ChildParameters(reference_date=REFERENCE_DATE, min_attendances=3, window_months=12)


@pytest.fixture(scope="module")
def tables():
    records, links = records_and_links()
    return build_children(records, links, PARAMS, sites_xy=SITES_XY, area_xy=AREA_XY)


@pytest.fixture(scope="module")
def reach(tables) -> pd.DataFrame:
    ra = assign_reach_areas(AREA_XY, SITES, SITES_XY)
    membership = membership_table(
        SMALL_AREAS,
        HIERARCHY,
        small_area_level="lsoa",
        borough_code="E08",
        borough_name="Borough",
        reach_areas=ra,
    )
    return build_reach(
        ReachInputs(
            children=tables.children,
            child_sites=tables.child_sites,
            membership=membership,
            ons=ONS,
            sites=("S1", "S2"),
        )
    )


def row(
    reach: pd.DataFrame,
    level: str,
    area: str,
    dim: str = "all",
    group: str = "all",
    service: str = "any",
) -> pd.Series:
    sel = reach[
        (reach["level"] == level)
        & (reach["area_code"] == area)
        & (reach["dimension"] == dim)
        & (reach["group_value"] == group)
        & (reach["service"] == service)
    ]
    assert len(sel) == 1, (level, area, dim, group, service, len(sel))
    return sel.iloc[0]


def counts(r: pd.Series) -> tuple[int, int, int, int]:
    return int(r["denominator"]), int(r["known"]), int(r["registered"]), int(r["engaged"])


# --- children ----------------------------------------------------------------------------
def test_child_table_rules(tables) -> None:
    c = tables.children.set_index("person_id")
    assert list(c.index) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert c.loc["P3", "area_code"] == "A1"  # most recent universal record (h3), not births (A2)
    assert c.loc["P2", "ethnicity"] == "asian_pakistani"  # 2 records of 3
    assert c.loc["P2", "ethnicity_broad"] == "asian"
    # Poland vs PL: a tie, broken by the highest-priority record (h3: universal, most recent)
    assert c.loc["P3", "mother_country_of_birth"] == "PL"
    assert c.loc["P3", "mother_region_of_birth"] == "eu8"
    assert c.loc["P5", "mother_region_of_birth"] == "uk"
    assert c.loc["P4", "mother_region_of_birth"] == "unknown"
    assert c.loc["P7", "mother_region_of_birth"] == "sub_saharan_africa"
    assert list(c["age_years"]) == [2, 2, 3, 0, 4, 6, 3]
    assert list(c["in_age_range"]) == [True, True, True, True, True, False, True]
    assert list(c["known"]) == [True, True, True, True, True, True, False]
    assert list(c["registered"]) == [True, True, False, False, False, True, True]
    # window: after 2024-03-31 and up to 2025-03-31 inclusive
    assert list(c["attendances_in_window"]) == [3, 1, 0, 0, 0, 0, 0]
    assert list(c["engaged"]) == [True, False, False, False, False, False, False]
    assert c.loc["P2", "registered_sites"] == ["S1", "S2"]
    assert c.loc["P1", "engaged_sites"] == ["S1"]
    # nearest site from the area centroid: A1 (1000,1000) -> S1 (1200,1000) 200 m;
    # A2 (5000,1000) -> S2 (4600,1300) 500 m
    assert c.loc["P1", "nearest_site"] == "S1" and c.loc["P1", "nearest_site_distance_m"] == 200.0
    assert c.loc["P4", "nearest_site"] == "S2" and c.loc["P4", "nearest_site_distance_m"] == 500.0
    assert tables.unlinked_records == 0


def test_age_in_years_birthdays() -> None:
    on = REFERENCE_DATE  # 2025-03-31
    dob = pd.Series(pd.to_datetime(["2020-03-31", "2020-04-01", "2024-03-31", "2025-03-31"]))
    assert list(age_in_years(dob, on)) == [5, 4, 1, 0]


def test_unlinked_records_are_counted_not_used() -> None:
    records, links = records_and_links()
    out = build_children(records, links[links["record_id"] != "r7"], PARAMS)
    assert out.unlinked_records == 1
    assert "P7" not in set(out.children["person_id"])


# --- reach -------------------------------------------------------------------------------
def test_columns_are_the_schema(reach) -> None:
    assert tuple(reach.columns) == REACH_OUTPUT_COLUMNS == REACH_COLUMNS


def test_counts_per_level(reach) -> None:
    # denominator, known, registered, engaged
    assert counts(row(reach, "borough", "E08")) == (6, 5, 3, 1)
    assert counts(row(reach, "lsoa", "A1")) == (3, 3, 2, 1)
    assert counts(row(reach, "lsoa", "A2")) == (3, 2, 1, 0)
    assert counts(row(reach, "ward", "W1")) == (3, 3, 2, 1)
    assert counts(row(reach, "msoa", "M1")) == (6, 5, 3, 1)
    assert counts(row(reach, "reach_area", "S1")) == (3, 3, 2, 1)  # A1 is nearest S1
    assert row(reach, "ward", "W2")["area_name"] == "Ward two"
    assert set(reach["level"]) == {"lsoa", "ward", "msoa", "borough", "reach_area"}


def test_counts_per_site(reach) -> None:
    # P2 is registered at S1 and at S2 but counts once for 'any' (3 = P1, P2, P7).
    assert counts(row(reach, "borough", "E08", service="S1")) == (6, 5, 2, 1)
    assert counts(row(reach, "borough", "E08", service="S2")) == (6, 5, 2, 0)  # P6 out of range
    assert counts(row(reach, "lsoa", "A2", service="S1")) == (3, 2, 0, 0)  # zero rows exist
    assert counts(row(reach, "lsoa", "A1", service="S2")) == (3, 3, 1, 0)


def test_groups(reach) -> None:
    b = "E08"
    assert counts(row(reach, "borough", b, "ethnicity", "white_british")) == (2, 2, 1, 1)
    assert counts(row(reach, "borough", b, "ethnicity", "unknown")) == (1, 1, 0, 0)
    assert counts(row(reach, "borough", b, "ethnicity", "black_african")) == (1, 0, 1, 0)
    assert counts(row(reach, "borough", b, "ethnicity_broad", "white")) == (3, 3, 1, 1)
    assert counts(row(reach, "borough", b, "mother_region_of_birth", "uk")) == (2, 2, 1, 1)
    assert counts(row(reach, "borough", b, "age_years", "2")) == (2, 2, 2, 1)
    assert counts(row(reach, "borough", b, "age_years", "3")) == (2, 1, 1, 0)
    assert counts(row(reach, "borough", b, "sex", "female")) == (4, 3, 2, 1)
    # no child aged 1, but the ONS row is there: 3 estimated, nobody known
    one = row(reach, "borough", b, "age_years", "1")
    assert counts(one) == (0, 0, 0, 0) and one["ons_population"] == 3
    assert math.isnan(one["registered_rate"])
    # every group dimension sums to the 'all' row
    dims = reach[(reach["level"] == "borough") & (reach["service"] == "any")]
    assert set(dims.groupby("dimension")["denominator"].sum()) == {6}


def test_rates_and_denominators(reach) -> None:
    b = row(reach, "borough", "E08")
    assert b["ons_population"] == 15
    assert b["known_completeness"] == pytest.approx(5 / 15)
    assert b["registered_rate"] == pytest.approx(0.5)
    assert b["registered_rate_lower"] == pytest.approx(0.18761, abs=1e-4)  # Wilson 3/6
    assert b["engaged_rate"] == pytest.approx(1 / 6)
    assert b["registered_rate_ons"] == pytest.approx(3 / 15)
    assert b["engaged_rate_ons"] == pytest.approx(1 / 15)
    a1 = row(reach, "lsoa", "A1")
    assert a1["ons_population"] == 10 and a1["known_completeness"] == pytest.approx(0.3)
    # ONS has no split by ethnicity
    assert pd.isna(row(reach, "borough", "E08", "ethnicity", "white_british")["ons_population"])
    assert row(reach, "borough", "E08", "age_years", "0")["ons_population"] == 3


def test_funnel_against_borough_rate(reach) -> None:
    # target 3/6 = .5; A1: (2/3 - .5)/sqrt(.25/3) = .57735
    a1 = row(reach, "lsoa", "A1")
    assert a1["funnel_z"] == pytest.approx(0.57735, abs=1e-5) and a1["funnel_band"] == "within"
    assert row(reach, "borough", "E08")["funnel_z"] == pytest.approx(0.0)
    # S1 target 2/6; A2 has 0/3 for S1: (0 - 1/3)/sqrt((1/3)(2/3)/3) = -1.2247
    assert row(reach, "lsoa", "A2", service="S1")["funnel_z"] == pytest.approx(-1.224745, abs=1e-5)


def test_smoothing_only_on_small_areas(reach) -> None:
    # any/all: e = (2, 1), b = (3, 3): s² < 0 -> 0, both shrink to m = .5
    assert row(reach, "lsoa", "A1")["registered_rate_smoothed"] == pytest.approx(0.5)
    assert pd.isna(row(reach, "ward", "W1")["registered_rate_smoothed"])
    assert reach["linkage_shift_upper"].isna().all()  # no linkage quality table given


def test_linkage_shift_from_quality_table(tables) -> None:
    membership = membership_table(
        SMALL_AREAS, HIERARCHY, small_area_level="lsoa", borough_code="E08", borough_name="Borough"
    )
    quality = pd.DataFrame(
        {
            "dimension": ["all", "ethnicity"],
            "group_value": ["all", "black_african"],
            "recall": [0.8, 0.5],
            "precision": [0.9, 1.0],
        }
    )
    reach = build_reach(
        ReachInputs(
            children=tables.children,
            child_sites=tables.child_sites,
            membership=membership,
            ons=ONS,
            sites=("S1", "S2"),
            linkage_quality=quality,
        )
    )
    b = row(reach, "borough", "E08")  # R=3, N=6: up 3*(1/.8-1)/6 = .125, down -3*.1/6 = -.05
    assert b["linkage_shift_upper"] == pytest.approx(0.125)
    assert b["linkage_shift_lower"] == pytest.approx(-0.05)
    ba = row(reach, "borough", "E08", "ethnicity", "black_african")  # 1/1: cannot rise
    assert ba["linkage_shift_upper"] == pytest.approx(0.0) and ba["linkage_shift_lower"] == 0.0
    wb = row(reach, "borough", "E08", "ethnicity", "white_british")  # falls back to all/all
    assert wb["linkage_shift_upper"] == pytest.approx(1 * 0.25 / 2)


def test_reach_areas_nearest_and_given() -> None:
    ra = assign_reach_areas(AREA_XY, SITES, SITES_XY)
    assert dict(zip(ra["small_area"], ra["site_id"], strict=True)) == {"A1": "S1", "A2": "S2"}
    given = SITES.assign(reach_areas=[["A1", "A2"], None])  # S1 claims both; S2 gets none
    ra2 = assign_reach_areas(AREA_XY, given, SITES_XY)
    assert sorted(ra2["small_area"]) == ["A1", "A2"] and set(ra2["site_id"]) == {"S1"}


def test_not_reached_list(tables) -> None:
    nr = not_reached_list(tables.children, SMALL_AREAS)
    assert list(nr["person_id"]) == ["P3", "P4", "P5"]  # P6 out of range, P7 not known
    assert list(nr["area_name"]) == ["Area one", "Area two", "Area two"]


def test_region_of_birth_mapping() -> None:
    from everyfamily.reach.regions import region_of_birth

    got = region_of_birth(
        pd.Series(
            [
                "England",
                "ROU",
                "bg",
                "Republic of Ireland",
                "Czechia",
                "Germany",
                "Nigeria",
                "Syria",
                "Hong Kong",
                "Bangladesh",
                "Ukraine",
                "Brazil",
                None,
                "",
            ]
        )
    )
    assert got.tolist() == [
        "uk",
        "eu2",
        "eu2",
        "ireland",
        "eu8",
        "eu14",
        "sub_saharan_africa",
        "middle_east_north_africa",
        "east_asia",
        "south_asia",
        "other_europe",
        "other",
        "unknown",
        "unknown",
    ]


# --- issue 14: targets per group, age standardisation, over-dispersion ---------------------
def test_each_group_is_compared_with_the_same_group_in_the_borough(reach) -> None:
    # Borough, any service, by age: 0 -> 0/1 (P4), 2 -> 2/2 (P1, P2), 3 -> 1/2 (P3 no, P7 yes),
    # 4 -> 0/1 (P5). A1's age-3 row (P3, not registered) is compared with the borough's
    # age-3 rate .5, not the all-children rate: z = (0 - .5) / sqrt(.25/1) = -1 (two areas in
    # the family: no over-dispersion estimate, tau2 = 0).
    r = row(reach, "lsoa", "A1", "age_years", "3")
    assert r["funnel_target"] == pytest.approx(0.5)
    assert r["funnel_tau2"] == 0.0
    assert r["funnel_z"] == pytest.approx(-1.0)
    # age 2: the borough registered every 2-year-old: p0 = 1, no spread, no z
    r2 = row(reach, "lsoa", "A1", "age_years", "2")
    assert r2["funnel_target"] == pytest.approx(1.0) and math.isnan(r2["funnel_z"])
    # the 'all' row keeps the all-children target 3/6
    assert row(reach, "lsoa", "A1")["funnel_target"] == pytest.approx(0.5)
    # site S2's rows use S2's own borough rate (P7 and P2 registered at S2: 2/6)
    assert row(reach, "lsoa", "A2", service="S2")["funnel_target"] == pytest.approx(2 / 6)


def test_indirect_age_standardisation_by_hand(reach) -> None:
    # expected = Σ over ages of the area's children x the borough's age-specific rate:
    # A1: 2 two-year-olds x 1 + 1 three-year-old x .5 = 2.5; observed 2 -> ratio .8
    # A2: 1 x 0 (age 0) + 1 x .5 (age 3) + 1 x 0 (age 4) = .5; observed 1 -> ratio 2
    a1, a2 = row(reach, "lsoa", "A1"), row(reach, "lsoa", "A2")
    assert a1["registered_expected"] == pytest.approx(2.5)
    assert a1["registered_std_ratio"] == pytest.approx(0.8)
    assert a2["registered_expected"] == pytest.approx(0.5)
    assert a2["registered_std_ratio"] == pytest.approx(2.0)
    # O = 2 < 10: exact Poisson limits 0.2422/2.5 and 7.2247/2.5
    assert a1["registered_std_ratio_lower"] == pytest.approx(0.2422 / 2.5, abs=1e-4)
    assert a1["registered_std_ratio_upper"] == pytest.approx(7.2247 / 2.5, abs=1e-4)
    # standardised rate = ratio x the borough's crude rate 3/6
    assert a1["registered_rate_std"] == pytest.approx(0.4)
    # the borough is its own standard: ratio 1
    assert row(reach, "borough", "E08")["registered_std_ratio"] == pytest.approx(1.0)
    # only 'all' rows carry it
    assert math.isnan(row(reach, "lsoa", "A1", "age_years", "2")["registered_expected"])


def test_released_intervals_allow_for_the_release_error() -> None:
    # A table of 12 small areas x 40 children, registered counts planted; released with
    # midpoint-6 rounding (a shown count may be 3 off): every interval is the union of the
    # Wilson intervals over the counts the shown ones may stand for (max_error = 3).
    from statsmodels.stats.proportion import proportion_confint

    from everyfamily.privacy.release import ReleaseRules, release_reach
    from everyfamily.reach.measure import statistics_columns

    reg = [36, 20, 31, 25, 34, 22, 27, 30, 35, 24, 12, 33]
    rows = [
        {"level": "lsoa", "area_code": f"L{i:02d}", "area_name": f"L{i:02d}", "registered": x}
        for i, x in enumerate(reg)
    ]
    rows.append({"level": "borough", "area_code": "B", "area_name": "B", "registered": sum(reg)})
    t = pd.DataFrame(rows).assign(dimension="all", group_value="all", service="any")
    t["denominator"] = np.where(t["level"] == "borough", 40 * len(reg), 40)
    t["known"] = t["denominator"]
    t["engaged"] = (t["registered"] // 2).astype("int64")
    t["ons_population"] = np.nan
    cols = statistics_columns(
        t[["level", "area_code", "dimension", "group_value", "service"]],
        registered=t["registered"].to_numpy(dtype="float64"),
        engaged=t["engaged"].to_numpy(dtype="float64"),
        denominator=t["denominator"].to_numpy(dtype="float64"),
        ons=t["ons_population"].to_numpy(dtype="float64"),
        small_area_level="lsoa",
    )
    exact = t.assign(**cols, known_completeness=np.nan)
    exact["linkage_shift_lower"] = np.nan
    exact["linkage_shift_upper"] = np.nan
    exact = exact[list(REACH_COLUMNS)]
    rules = ReleaseRules(suppress_at_or_below=7, rounding="midpoint6")
    assert rules.max_error == 3
    rel = release_reach(exact, None, rules, small_area_level="lsoa")
    shown = rel[(rel["level"] == "lsoa") & rel["registered"].notna() & rel["denominator"].notna()]
    assert len(shown) >= 5
    r = shown.iloc[0]
    x, n = int(r["registered"]), int(r["denominator"])  # as shown
    assert r["registered_rate_lower"] == pytest.approx(
        proportion_confint(x - 3, n + 3, method="wilson")[0], abs=1e-4
    )
    assert r["registered_rate_upper"] == pytest.approx(
        proportion_confint(x + 3, n - 3, method="wilson")[1], abs=1e-4
    )
    # the released funnel uses the exact table's over-dispersion (one tau2 everywhere)
    assert rel["funnel_tau2"].to_numpy() == pytest.approx(exact["funnel_tau2"].to_numpy(), abs=1e-8)
    assert (
        exact.loc[exact["level"] == "lsoa", "funnel_tau2"].iloc[0] > 0
    )  # rates 30% to 90% of 40: more spread than chance


def test_cell_keys_sum_exactly_the_children_each_cell_counts(tables, reach) -> None:
    """One grouping (measure.cell_sums) for counts and cell keys: with every record key 1 and
    a modulus above every count, each cell key IS the cell's count, on every row and for
    every protected count (service-free ones on every service's row)."""
    from everyfamily.privacy.cellkey import reach_cell_keys

    ra = assign_reach_areas(AREA_XY, SITES, SITES_XY)
    membership = membership_table(
        SMALL_AREAS,
        HIERARCHY,
        small_area_level="lsoa",
        borough_code="E08",
        borough_name="Borough",
        reach_areas=ra,
    )
    ones = tables.children.assign(record_key=1)
    keys = reach_cell_keys(ones, tables.child_sites, membership, "lsoa", modulus=1 << 20)
    on = ["level", "area_code", "dimension", "group_value", "service"]
    both = reach.astype({c: str for c in on}).merge(keys, on=on, how="left")
    assert len(both) == len(reach)
    # rows with no child (an area's ONS-only age rows) have no key: the release gives a
    # count of 0 the key 0 (the sum of nothing)
    missing = both["ck_known"].isna()
    assert (both.loc[missing, ["denominator", "registered"]] == 0).all().all()
    for c in ("denominator", "known", "registered", "engaged"):
        assert (both[f"ck_{c}"].fillna(0) == both[c]).all(), c
    assert both["denominator"].sum() > 0 and both["registered"].sum() > 0

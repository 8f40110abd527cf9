"""Service overlap on a planted world: the combination counts and contact rates are known."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from everyfamily.errors import DataError
from everyfamily.planning.overlap import compute_overlap, release_overlap, upset_svg
from everyfamily.privacy.release import ReleaseRules

# Planted: area A1 holds 30 children known to health visiting only, 20 known to health
# visiting and registrations, 10 known to all three (with early help, a council's own source);
# area A2 holds 5 known to registrations only. Reach area R covers A1 and A2.
PLANT = (("A1", ("health_visiting",), 30), ("A1", ("health_visiting", "registrations"), 20))
PLANT += (("A1", ("early_help", "health_visiting", "registrations"), 10),)
PLANT += (("A2", ("registrations",), 5),)


def _world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    recs, kids = [], []
    n = 0
    for area, services, count in PLANT:
        for _ in range(count):
            n += 1
            pid = f"P-{n:04d}"
            kids.append({"person_id": pid, "family_id": f"F-{n:04d}", "small_area": area})
            for s in services:
                # health visiting: 3 contacts in the year; registrations: 1 event and one
                # record without a date (known, no contact); early help: 2 contacts
                k = {"health_visiting": 3, "registrations": 1, "early_help": 2}[s]
                recs += [
                    {"person_id": pid, "service": s, "event_date": date(2024, 1 + i, 10)}
                    for i in range(k)
                ]
                if s == "registrations":
                    recs.append({"person_id": pid, "service": s, "event_date": None})
                    # one event outside the window: not counted
                    recs.append({"person_id": pid, "service": s, "event_date": date(2022, 5, 1)})
    loc = pd.DataFrame(
        [
            ("lsoa", "A1", "Area one", "A1"),
            ("lsoa", "A2", "Area two", "A2"),
            ("reach_area", "R", "Centre R", "A1"),
            ("reach_area", "R", "Centre R", "A2"),
        ],
        columns=["level", "area_code", "area_name", "small_area"],
    )
    return pd.DataFrame(recs), pd.DataFrame(kids), loc


YEAR = (date(2024, 1, 1), date(2024, 12, 31))


def _cell(frame: pd.DataFrame, area: str, combo: str, col: str = "children") -> float:
    row = frame[(frame["area_code"] == area) & (frame["combination"] == combo)]
    assert len(row) == 1, (area, combo)
    return float(row[col].iloc[0])


def test_planted_combinations_are_counted_exactly() -> None:
    recs, kids, loc = _world()
    ov = compute_overlap(recs, kids, loc, YEAR)
    assert ov.services == ("early_help", "health_visiting", "registrations")
    c = ov.combinations
    assert _cell(c, "A1", "health_visiting") == 30
    assert _cell(c, "A1", "health_visiting + registrations") == 20
    assert _cell(c, "A1", "early_help + health_visiting + registrations") == 10
    assert _cell(c, "A2", "registrations") == 5
    assert _cell(c, "R", "health_visiting") == 30
    assert _cell(c, "R", "registrations") == 5
    assert set(c.loc[c["area_code"] == "A1", "combination"]) == {
        "health_visiting",
        "health_visiting + registrations",
        "early_help + health_visiting + registrations",
    }
    assert _cell(c, "A1", "early_help + health_visiting + registrations", "n_services") == 3


def test_contacts_per_child_per_year() -> None:
    recs, kids, loc = _world()
    ov = compute_overlap(recs, kids, loc, YEAR)
    assert ov.years == pytest.approx(366 / 365.25)
    t = ov.contacts.set_index(["area_code", "service"])
    # A1: 60 children known to health visiting, 3 contacts each in the window
    assert t.loc[("A1", "health_visiting"), "children"] == 60
    assert t.loc[("A1", "health_visiting"), "contacts"] == 180
    assert t.loc[("A1", "health_visiting"), "contacts_per_child_per_year"] == pytest.approx(
        3 / ov.years
    )
    # registrations: the undated record and the 2022 event are not contacts in 2024
    assert t.loc[("R", "registrations"), "children"] == 35
    assert t.loc[("R", "registrations"), "contacts"] == 35
    assert t.loc[("A1", "early_help"), "contacts"] == 20


def test_families_counted_once_under_union_of_their_childrens_services() -> None:
    recs, kids, loc = _world()
    # siblings: P-0001 (health visiting only) joins the family of P-0031 (HV + registrations)
    kids.loc[kids["person_id"] == "P-0001", "family_id"] = "F-0031"
    ov = compute_overlap(recs, kids, loc, YEAR)
    c = ov.combinations
    assert _cell(c, "A1", "health_visiting", "children") == 30
    assert _cell(c, "A1", "health_visiting", "families") == 29
    assert _cell(c, "A1", "health_visiting + registrations", "families") == 20


def test_release_withholds_small_cells_and_their_rates() -> None:
    recs, kids, loc = _world()
    ov = compute_overlap(recs, kids, loc, YEAR)
    rules = ReleaseRules(method="suppress_round")
    comb, cont = release_overlap(ov, rules)
    assert "children_key" not in comb.columns and "contacts" not in cont.columns
    assert np.isnan(_cell(comb, "A2", "registrations"))  # 5 children: suppressed
    assert _cell(comb, "A1", "health_visiting") == 27  # midpoint6: 6 * ceil(30 / 6) - 3
    small = cont[(cont["area_code"] == "A2") & (cont["service"] == "registrations")]
    assert np.isnan(small["contacts_per_child_per_year"].iloc[0])
    hv = cont[(cont["area_code"] == "A1") & (cont["service"] == "health_visiting")]
    assert hv["contacts_per_child_per_year"].iloc[0] == pytest.approx(round(3 / ov.years, 1))


def test_cell_key_release_stays_within_max_error() -> None:
    recs, kids, loc = _world()
    ov = compute_overlap(recs, kids, loc, YEAR)
    rules = ReleaseRules()
    comb, _ = release_overlap(ov, rules)
    exact = ov.combinations["children"].to_numpy()
    big = exact > rules.suppress_at_or_below
    assert np.all(np.abs(comb["children"].to_numpy()[big] - exact[big]) <= rules.max_error)


def test_upset_chart_has_one_bar_per_combination_and_a_dot_matrix() -> None:
    recs, kids, loc = _world()
    rules = ReleaseRules(method="suppress_round")
    comb, _ = release_overlap(compute_overlap(recs, kids, loc, YEAR), rules)
    svg = upset_svg(comb[comb["area_code"] == "R"], title="Centre R")
    assert svg.startswith("<svg") and svg.count("<rect") == 4  # 3 bars + 1 withheld box
    assert "withheld" in svg
    # 3 services x 4 combinations dots; filled: 1 + 2 + 3 + 1 = 7
    assert svg.count("<circle") == 12 and svg.count('fill="#222"/>') == 7
    assert svg.count("<line") == 2  # combinations of 2 and 3 services


def test_missing_column_is_a_data_error() -> None:
    recs, kids, loc = _world()
    with pytest.raises(DataError, match="no column 'service'"):
        compute_overlap(recs.drop(columns="service"), kids, loc, YEAR)

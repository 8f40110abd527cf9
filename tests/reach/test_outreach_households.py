"""Households and walking order of the outreach list (reach/outreach.py), on hand-made rows."""

from __future__ import annotations

import pandas as pd

from everyfamily.reach.outreach import (
    BABY,
    CUT_OFF,
    EMERGING,
    AddressParts,
    normalise_postcode,
    parse_address,
    plan_visits,
    priority_areas_from_findings,
)


def test_parse_address_numbers_letters_and_flats() -> None:
    assert parse_address("12 High St") == AddressParts("high street", 12, "", "")
    assert parse_address("12A High Street") == AddressParts("high street", 12, "a", "")
    assert parse_address("Flat 3, 12 High Street") == AddressParts("high street", 12, "", "3")
    assert parse_address("Apt 2B 7 Mill Lane") == AddressParts("mill lane", 7, "", "2b")
    assert parse_address("12-14 Mill Lane") == AddressParts("mill lane", 12, "", "")
    assert parse_address("Rose Cottage, Mill Lane") == AddressParts(
        "rose cottage mill lane", None, "", ""
    )
    assert parse_address(None) == AddressParts("", None, "", "")
    assert normalise_postcode(" l369ya ") == "L36 9YA"


def test_walking_order_within_a_postcode() -> None:
    addresses = [
        "Flat 3, 12 High Street",
        "14 High Street",
        "12A High Street",
        "2 High Street",
        "12 High Street",
        "Flat 10, 12 High Street",
        "1 Acacia Avenue",
    ]
    kids = pd.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(len(addresses))],
            "family_id": [f"F{i}" for i in range(len(addresses))],
            "address": addresses,
            "postcode": ["L36 9YA"] * len(addresses),
            "area_code": ["A"] * len(addresses),
            "age_years": [3] * len(addresses),
        }
    )
    got = plan_visits(kids)
    assert list(got["address"]) == [
        "1 Acacia Avenue",
        "2 High Street",
        "12 High Street",
        "Flat 3, 12 High Street",
        "Flat 10, 12 High Street",
        "12A High Street",
        "14 High Street",
    ]
    assert list(got["household"]) == [1, 2, 3, 4, 5, 6, 7]
    assert list(got["visit_order"]) == list(range(1, 8))


def test_siblings_are_one_household_and_priority_comes_first() -> None:
    kids = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            # P1, P2 siblings (same family, same address spelt two ways); P3 same family but
            # another address (a parent who moved out); P4 no family known; P5 baby; P6 in a
            # cut-off area
            "family_id": ["F1", "F1", "F1", "", "F5", "F6"],
            "address": [
                "5 Oak Rd",
                "5 oak road",
                "9 Elm Close",
                "5 Oak Rd",
                "20 Oak Road",
                "1 Far Side",
            ],
            "postcode": ["L1 1AA", "l11aa", "L1 1AB", "L1 1AA", "L1 1AA", "L9 9ZZ"],
            "area_code": ["A", "A", "A", "A", "A", "B"],
            "age_years": [4, 2, 1, 3, 0, 2],
        }
    )
    got = plan_visits(kids, {"B": (CUT_OFF,), "C": (EMERGING,)})
    by = got.set_index("person_id")
    assert by.loc["P1", "household"] == by.loc["P2", "household"]
    assert by.loc["P1", "household_size"] == 2
    assert len(set(got["household"])) == 5  # P3 and P4 stand alone
    # priority first: the baby's household (L1 1AA) and the cut-off one (L9 9ZZ), by postcode
    assert list(got["person_id"][:2]) == ["P5", "P6"]
    assert by.loc["P5", "priority"] == BABY and by.loc["P6", "priority"] == CUT_OFF
    assert (got["priority"][2:] == "").all()
    # within a household the younger child first
    assert list(got[got["household"] == by.loc["P1", "household"]]["person_id"]) == ["P2", "P1"]


def test_pseudonymous_lists_group_by_family_unknown_addresses_never_merge() -> None:
    kids = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "family_id": ["F1", "F1"],
            "area_code": ["A", "A"],
            "age_years": [1, 2],
        }
    )
    assert set(plan_visits(kids)["household"]) == {1}  # pseudonymous: the family
    unknown = kids.assign(address=["", ""], postcode=["", ""])
    assert set(plan_visits(unknown)["household"]) == {1, 2}  # addresses unknown: never merged
    assert plan_visits(kids.iloc[:0]).empty


def test_priority_areas_come_from_findings_of_the_named_kinds() -> None:
    findings = [
        {"kind": "emerging_community", "areas": ["A", "B"]},
        {"kind": "access_barrier", "areas": [{"code": "B"}]},
        {"kind": "unreached_area", "areas": ["C"]},
    ]
    assert priority_areas_from_findings(findings) == {
        "A": (EMERGING,),
        "B": (EMERGING, CUT_OFF),
    }


def test_children_know_which_universal_services_saw_them() -> None:
    """known_by on the hand-made fixture (tests/reach/fixtures.py): P3 has a birth and a
    health-visiting record, P4 only a health-visiting one (born elsewhere: a new arrival),
    P7 only a registration (no universal record)."""
    from everyfamily.reach.children import ChildParameters, build_children

    from .fixtures import REFERENCE_DATE, records_and_links

    records, links = records_and_links()
    params = ChildParameters(reference_date=REFERENCE_DATE, min_attendances=3, window_months=12)
    children = build_children(records, links, params).children.set_index("person_id")
    assert children.loc["P3", "known_by"] == ["births", "health_visiting"]
    assert children.loc["P4", "known_by"] == ["health_visiting"]
    assert children.loc["P1", "known_by"] == ["births"]
    assert children.loc["P7", "known_by"] == [] and not children.loc["P7", "known"]

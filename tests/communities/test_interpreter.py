"""interpreter_needed: carried from records to the child table, and used by the communities
signals as an indirect language signal. Small hand-made tables; answers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from everyfamily.communities.signals import assign_groups
from everyfamily.reach.children import CHILD_COLUMNS, ChildParameters, build_children

NAME_READINGS = {"Nowak": "polish", "Smith": "british_irish", "Jones": "british_irish"}


class _StubModel:
    """A name model answering from a table (the real classifier is tested elsewhere)."""

    def predict_many(self, given: list, surname: list) -> list:
        return [NAME_READINGS.get(s) for s in surname]


def test_interpreter_need_moves_a_child_out_of_british_irish_only() -> None:
    #  person  interpreter  language  country   name reads as   -> group, basis
    #  a       yes          -         -         british_irish   -> other, interpreter
    #  b       yes          -         -         polish          -> polish, name
    #  c       yes          -         -         (nothing)       -> other, interpreter
    #  d       no           -         -         british_irish   -> british_irish, name
    #  e       (unknown)    -         -         british_irish   -> british_irish, name
    #  f       yes          English   -         british_irish   -> british_irish, name
    #  g       yes          -         Romania   british_irish   -> romanian, country
    children = pd.DataFrame(
        {
            "person_id": list("abcdefg"),
            "mother_country_of_birth": [None] * 6 + ["Romania"],
            "main_language": [None] * 5 + ["English", None],
            "interpreter_needed": pd.array(
                [True, True, True, False, None, True, True], dtype="boolean"
            ),
        }
    )
    names = pd.DataFrame(
        {
            "person_id": list("abcdefg"),
            "given_name": ["x"] * 7,
            "surname": ["Smith", "Nowak", "Zzz", "Jones", "Smith", "Smith", "Smith"],
        }
    )
    out = assign_groups(children, names, _StubModel())  # type: ignore[arg-type]
    assert out["origin_group"].tolist() == [
        "other",
        "polish",
        "other",
        "british_irish",
        "british_irish",
        "british_irish",
        "romanian",
    ]
    assert out["basis"].tolist() == [
        "interpreter",
        "name",
        "interpreter",
        "name",
        "name",
        "name",
        "country_of_birth",
    ]
    # without a name model the interpreter signal still says 'not British or Irish'
    bare = assign_groups(children, None, None)
    assert bare["basis"].tolist() == [
        "interpreter",
        "interpreter",
        "interpreter",
        None,
        None,
        None,
        "country_of_birth",
    ]
    # and a council that records no interpreter need is not an error
    same = assign_groups(children.drop(columns="interpreter_needed"), names, _StubModel())  # type: ignore[arg-type]
    assert same["basis"].tolist()[:2] == ["name", "name"]


def test_child_table_carries_interpreter_need_any_record_saying_yes() -> None:
    ref = dt.date(2025, 3, 31)
    records = pd.DataFrame(
        {
            "source": ["hv", "reg", "hv", "reg", "hv"],
            "record_id": ["h1", "r1", "h2", "r2", "h3"],
            "role": ["health_visiting", "registrations", "health_visiting", "registrations",
                     "health_visiting"],
            "service_type": ["universal", "targeted", "universal", "targeted", "universal"],
            "date_of_birth": [dt.date(2023, 1, 1)] * 5,
            "sex": ["female"] * 5,
            "area_code": ["A1"] * 5,
            "ethnicity": [None] * 5,
            "main_language": [None] * 5,
            "mother_country_of_birth": [None] * 5,
            "event_date": [dt.date(2024, 1, 1)] * 5,
            "site": [None, "S1", None, "S1", None],
            # P1: no then yes -> yes; P2: no and unknown -> no; P3: unknown -> unknown
            "interpreter_needed": [False, True, False, None, None],
        }
    )  # fmt: skip
    links = pd.DataFrame(
        {
            "source": ["hv", "reg", "hv", "reg", "hv"],
            "record_id": ["h1", "r1", "h2", "r2", "h3"],
            "person_id": ["P1", "P1", "P2", "P2", "P3"],
        }
    )
    kids = build_children(records, links, ChildParameters(reference_date=ref)).children
    assert "interpreter_needed" in CHILD_COLUMNS
    got = dict(zip(kids["person_id"], kids["interpreter_needed"], strict=True))
    assert got["P1"] == True and got["P2"] == False and pd.isna(got["P3"])  # noqa: E712
    # records from a store made before the field existed carry no such column
    old = build_children(
        records.drop(columns="interpreter_needed"), links, ChildParameters(reference_date=ref)
    ).children
    assert old["interpreter_needed"].isna().all()


def test_a_not_known_country_is_not_a_foreign_country() -> None:
    """Rows stored before ingest read missing values as NULL still hold 'Not known': the
    signals must not read it as a country outside the named groups ('other') and let it
    outrank the language, ethnicity and name."""
    children = pd.DataFrame(
        {
            "person_id": ["a", "b", "c"],
            "mother_country_of_birth": ["Not known", "N/K", "Peru"],
            "main_language": ["Romanian", "Unknown", None],
            "ethnicity": [None, "asian_chinese", None],
        }
    )
    out = assign_groups(children, None, None)
    assert out["origin_group"].tolist() == ["romanian", "chinese", "other"]
    assert out["basis"].tolist() == ["language", "ethnicity", "country_of_birth"]

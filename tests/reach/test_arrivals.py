"""New arrivals against quarantined birth rows (reach/arrivals.py).

Hand-computed Fellegi-Sunter posteriors on made-up Bayes factors, the raw-row reading through
a source's own column names, and, on the real demo run, the new-arrivals list's precision and
recall against the generator's truth (counts only: no name or id is printed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from everyfamily.reach.arrivals import (
    FLAG,
    Evidence,
    evidence_from_weights,
    pair_probability,
    quarantined_birth_matches,
    quarantined_identities,
)

EV = Evidence(
    prior=1e-4,
    nhs=(1e6, 1e-11),
    first_name=(400.0, 1e-5),
    sex=(2.0, 1e-25),
    household=(8000.0, 3.5, 1e-4),
)


def _id(**kw: str) -> dict[str, str]:
    base = dict.fromkeys(
        ("nhs_number", "first_name_match", "last_name_match", "postcode", "sex"), ""
    )
    return {**base, **kw}


def test_posterior_is_the_prior_odds_times_the_bayes_factors() -> None:
    a = _id(nhs_number="9990000018", first_name_match="ANNA", last_name_match="NOWAK",
            postcode="L36 9YA", sex="female")  # fmt: skip
    # everything agrees: odds = 1e-4/(1-1e-4) * 1e6 * 400 * 2 * 8000
    odds = 1e-4 / (1 - 1e-4) * 1e6 * 400 * 2 * 8000
    assert pair_probability(a, dict(a), EV) == pytest.approx(odds / (1 + odds))
    # no NHS number on the quarantined row: name, sex, surname and postcode only
    b = {**a, "nhs_number": ""}
    odds = 1e-4 / (1 - 1e-4) * 400 * 2 * 8000
    assert pair_probability(a, b, EV) == pytest.approx(odds / (1 + odds))
    assert pair_probability(a, b, EV) > 0.998
    # the surname alone (another postcode) is far too little
    c = _id(last_name_match="NOWAK", postcode="L28 1AA")
    odds = 1e-4 / (1 - 1e-4) * 3.5
    assert pair_probability(a, c, EV) == pytest.approx(odds / (1 + odds))
    # a different NHS number rules the pair out whatever else agrees
    d = {**a, "nhs_number": "9990000026"}
    assert pair_probability(a, d, EV) < 1e-6


def test_evidence_is_read_from_the_models_weight_table() -> None:
    rows = [
        ("nhs_number", 0, "nhs_number is NULL", ""),
        ("nhs_number", 1, "Exact match on nhs_number", "1000000"),
        ("nhs_number", 2, "All other comparisons", "1e-11"),
        ("first_name_match", 0, "first_name_match is NULL", ""),
        ("first_name_match", 1, "Exact match on first_name_match", "400"),
        ("first_name_match", 2, "Same formal name (nickname or alias)", "90"),
        ("first_name_match", 3, "All other comparisons", "1e-05"),
        ("sex", 0, "sex is NULL", ""),
        ("sex", 1, "Exact match on sex", "2"),
        ("sex", 2, "All other comparisons", "1e-25"),
        ("household", 0, "Surname, postcode, parent all missing", ""),
        ("household", 1, "Same surname and postcode", "8000"),
        ("household", 2, "Same surname only", "3.5"),
        ("household", 3, "All other comparisons", "0.0001"),
    ]
    table = pd.DataFrame(rows, columns=["comparison", "level", "label", "bayes_factor"])
    assert evidence_from_weights(table, 1e-4) == EV
    # another model without the household comparison: no evidence, the list stays as it was
    assert evidence_from_weights(table[table["comparison"] != "household"], 1e-4) is None
    # the levels are read by position, not by Splink's wording: the name-variant model
    # compares first_name_key at its exact level (a label prefix missed it once and the
    # new-arrivals evidence silently switched off), and another Splink version may word it
    # otherwise
    for label in ("Exact match on first_name_key", "Exact match 'first_name_key'", "Same"):
        variant = table.replace("Exact match on first_name_match", label)
        assert evidence_from_weights(variant, 1e-4) == EV
    # a table without the level column (not linkage/match_weights.csv): no evidence
    assert evidence_from_weights(table.drop(columns="level"), 1e-4) is None


@pytest.mark.parametrize("name_variants", [False, True])
def test_the_exact_levels_are_where_the_linkage_model_puts_them(name_variants: bool) -> None:
    """arrivals.EXACT_LEVEL is each comparison's exact-agreement level as
    linkage.model.comparisons builds it (what match_weights.csv's level column numbers)."""
    from everyfamily.linkage.model import comparisons
    from everyfamily.reach.arrivals import EXACT_LEVEL

    built = {c.output_column_name: c for c in (
        x.get_comparison("duckdb") for x in comparisons(name_variants=name_variants)
    )}  # fmt: skip
    compared = {"first_name_match": "first_name_key" if name_variants else "first_name_match"}
    for name, at in EXACT_LEVEL.items():
        levels = built[name].comparison_levels
        col = compared.get(name, name)
        assert levels[0].is_null_level
        assert levels[at].sql_condition == f'"{col}_l" = "{col}_r"'
        assert levels[-1].sql_condition == "ELSE"


def test_quarantined_rows_are_read_through_the_sources_column_names() -> None:
    raw = {"Forename": "Anna", "Surname": "Nowak", "NHS": "999 000 0018", "PC": "l369ya",
           "Gender": "F", "DOB": "31/02/2024"}  # fmt: skip
    quarantine = pd.DataFrame(
        {
            "source": ["birth_notices", "hv", "birth_notices"],
            "raw": [json.dumps(raw), json.dumps(raw), "not json"],
        }
    )
    columns = {
        "birth_notices": {
            "first_name": "Forename",
            "last_name": "Surname",
            "nhs_number": "NHS",
            "postcode": "PC",
            "sex": "Gender",
            "date_of_birth": "DOB",
        }
    }
    got = quarantined_identities(quarantine, columns, {"birth_notices": {"F": "female"}})
    assert got == [
        {
            "nhs_number": "9990000018",
            "first_name_match": "ANNA",
            "last_name_match": "NOWAK",
            "postcode": "L36 9YA",
            "sex": "female",
        }
    ]
    candidates = pd.DataFrame(
        [
            # the same child's health-visiting record: a match
            {"person_id": "p1", "nhs_number": "9990000018", "first_name_match": "ANNA",
             "last_name_match": "NOWAK", "postcode": "L36 9YA", "sex": "female"},
            # a sibling at the same address: other name, other NHS number
            {"person_id": "p2", "nhs_number": "9990000026", "first_name_match": "OLA",
             "last_name_match": "NOWAK", "postcode": "L36 9YA", "sex": "female"},
            # no shared block at all
            {"person_id": "p3", "nhs_number": "", "first_name_match": "ANNA",
             "last_name_match": "SMITH", "postcode": "L28 1AA", "sex": "female"},
        ]
    )  # fmt: skip
    assert quarantined_birth_matches(candidates, got, EV, 0.9) == {"p1"}


@pytest.mark.slow
def test_the_new_arrivals_list_against_the_demo_truth(knowsley_demo: Path) -> None:
    """Precision and recall of the list against the generator's truth: a child born
    elsewhere, registered nowhere, known to health visiting, in the age range. Before
    the quarantined-birth evidence the list held 86 children of whom 67 right (precision
    0.78, recall 1.0), 17 of the 19 wrong ones with a quarantined birth row."""
    from everyfamily.web.outputs import load_outputs
    from everyfamily.web.pages.outreach import OutreachList
    from everyfamily.web.view import RunView

    outputs = load_outputs(knowsley_demo)
    links = _links(outputs)
    truth_dir = knowsley_demo / "scenario" / "truth"
    records = pd.read_csv(truth_dir / "records.csv", dtype=str)
    kids = pd.read_csv(truth_dir / "children.csv", dtype=str).set_index("child_id")
    linked = links.merge(records[["source", "record_id", "child_id"]], on=["source", "record_id"])
    child_of = linked.groupby("person_id")["child_id"].agg(lambda s: s.mode().iloc[0])

    listed = OutreachList(RunView.build(outputs))
    frame = listed.frame("new_arrivals", None)
    got = set(child_of.reindex(frame["person_id"].astype(str)).dropna())
    children = listed._children.get()
    assert FLAG in children.columns
    in_range = children.loc[children["in_age_range"].astype(str).str.lower() == "true"]
    in_range_kids = set(child_of.reindex(in_range["person_id"].astype(str)).dropna())
    hv = set(records.loc[records["source"] == "health_visiting", "child_id"])
    want = {
        c
        for c in in_range_kids & hv
        if kids.at[c, "born_elsewhere"] == "True" and kids.at[c, "registered"] == "False"
    }
    assert len(want) >= 30  # the demo plants enough arrivals to measure
    precision, recall = len(got & want) / len(got), len(got & want) / len(want)
    assert precision >= 0.95, f"precision {precision:.3f} ({len(got)} listed)"
    assert recall >= 0.98, f"recall {recall:.3f} ({len(want)} arrivals)"
    # every child the evidence took off the list has a birth row in the truth
    births = set(records.loc[records["source"] == "births", "child_id"])
    flagged = children.loc[children[FLAG].astype(str).str.lower() == "true", "person_id"]
    off = set(child_of.reindex(flagged.astype(str)).dropna())
    assert off and off <= births


def _links(outputs: object) -> pd.DataFrame:
    from everyfamily.catalogue import IDENTIFIABLE

    engine = outputs.open_store(IDENTIFIABLE)  # type: ignore[attr-defined]
    try:
        return engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
    finally:
        engine.close()

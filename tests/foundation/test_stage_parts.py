"""Pure parts of the stages, split out of them (issue 19), tested without a store."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from everyfamily.linkage.stable_ids import IdEvent
from everyfamily.linkage.stage import event_counts
from everyfamily.reach.stage import analysis_children


def test_the_analysis_copy_of_a_child_keeps_month_and_year_of_birth_only() -> None:
    kids = pd.DataFrame(
        {
            "person_id": ["P-1", "P-2"],
            "date_of_birth": [dt.date(2023, 5, 17), dt.date(2021, 12, 31)],
        }
    )
    out = analysis_children(kids)
    assert "date_of_birth" not in out.columns
    assert out["month_of_birth"].tolist() == [dt.date(2023, 5, 1), dt.date(2021, 12, 1)]
    assert out["person_id"].tolist() == ["P-1", "P-2"]


def test_id_events_are_counted_by_entity_and_kind() -> None:
    persons = (
        IdEvent("new", "P-1", (), 2),
        IdEvent("new", "P-2", (), 1),
        IdEvent("merge", "P-3", ("P-4",), 3),
    )
    families = (IdEvent("split", "F-1", ("F-0",), 2),)
    assert event_counts(persons, families) == {
        "person_new": 2,
        "person_merge": 1,
        "person_split": 0,
        "family_new": 0,
        "family_merge": 0,
        "family_split": 1,
    }

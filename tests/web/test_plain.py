"""The plain-language layer (issue 16) on the hand-made fixture run: each finding's lead
sentence carries its released numbers, the glossary states the run's own engagement rule,
and a column holding one value in every row is said once instead."""

from __future__ import annotations

from dataclasses import replace

import httpx

from everyfamily.web.outputs import load_outputs
from everyfamily.web.pages.plain import glossary, lead_sentence, shown_columns
from everyfamily.web.service import Dashboard
from everyfamily.web.tables import Column, Table
from everyfamily.web.view import RunView

from .fixture_outputs import Fixture


def test_each_finding_leads_with_its_numbers(fixture_outputs: Fixture) -> None:
    cards = Dashboard(load_outputs(fixture_outputs.out_dir)).findings.cards()
    # the planted area: observed 20 of 60 = 33.3%, expected 67.5%; findings.json says 21
    # children affected (released again with the run's rule: 21 stays 21)
    assert cards[0]["lead"] == (
        "In Knowsley 004B, registered with a centre: 33.3%, against 67.5% expected; "
        "about 21 children affected."
    )
    assert cards[0]["next"].startswith("ask the centres serving these streets")
    assert cards[2]["lead"].startswith("For Asian children, registered with a centre: 60.0%")


def test_a_finding_without_figures_falls_back_to_its_headline() -> None:
    assert lead_sentence({"headline": "Something changed"}) == "Something changed."


def test_the_glossary_states_this_runs_engagement_rule(fixture_outputs: Fixture) -> None:
    outputs = load_outputs(fixture_outputs.out_dir)
    run = dict(outputs.run)
    run["settings"] = {
        **(run.get("settings") or {}),
        "engagement": {"min_attendances": 5, "window_months": 6},
    }
    view = RunView.build(replace(outputs, run=run))
    terms = {t["id"]: t["text"] for t in glossary(view)}
    assert "at least 5 sessions in the 6 months" in terms["engagement"]
    assert {"lsoa", "idaci", "interval", "engagement"} <= set(terms)


def test_a_column_with_one_value_in_every_row_is_said_once() -> None:
    table = Table(
        "t",
        "T",
        (Column("name", "Area"), Column("service", "Service"), Column("n", "Children", "count")),
        (
            {"name": "A", "service": "Any centre", "n": 10},
            {"name": "B", "service": "Any centre", "n": 12},
        ),
    )
    shown = shown_columns(table)
    assert [c.key for c in shown.columns] == ["name", "n"]
    assert [(c.key, v) for c, v in shown.same] == [("service", "Any centre")]
    # one row, or a table a script redraws: kept whole
    assert len(shown_columns(table, collapse=False).columns) == 3
    assert len(shown_columns(replace(table, rows=table.rows[:1])).columns) == 3


def test_glossary_page_is_served(viewer_url: str) -> None:
    page = httpx.get(viewer_url + "/glossary", timeout=30).text
    assert 'id="engagement"' in page and "at least 3 sessions in the 12 months" in page


def test_every_kind_of_finding_has_its_own_next_step() -> None:
    # a kind added to the findings model must say what a team does next, not the default
    from everyfamily.findings.model import KINDS
    from everyfamily.web.pages.plain import DEFAULT_NEXT, NEXT_STEP

    missing = [k for k in KINDS if NEXT_STEP.get(k, DEFAULT_NEXT) == DEFAULT_NEXT]
    assert not missing, f"kinds without a next step: {missing}"
    assert set(NEXT_STEP) <= set(KINDS)

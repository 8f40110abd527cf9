"""Run details in words (issue 16 audit): the seed is an identifier, so it reads as typed
(the demo's run details showed "Seed 2,026")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from everyfamily.report.words import field_words, when_words
from everyfamily.web.pages.run_summary import run_summary

from . import loopback
from .fixture_outputs import Fixture


def _facts(run: dict[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in run_summary(run).values():
        if isinstance(block, list):
            for item in block:
                if isinstance(item, dict) and "label" in item:
                    out[str(item["label"])] = str(item["value"])
    return out


def test_the_seed_reads_as_typed_and_counts_keep_their_commas() -> None:
    facts = _facts({"seed": 2026, "status": "complete", "timings_seconds": {"link": 9.6}})
    assert facts["Seed"] == "2026"
    assert _facts({"status": "complete"})["Seed"] == "not recorded"


def test_the_quality_page_names_sources_and_statuses_in_words(
    demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    """The demo's Data quality page showed health_visiting and already_loaded in its
    reconciliation table: the page says them in words; the API keeps each source's name."""
    url = serve(demo_outputs, "viewer")
    rec = json.loads((demo_outputs / "run.json").read_text())["reconciliation"]
    raw = {s for s in rec if "_" in s} | {str(v.get("status")) for v in rec.values()}
    raw = {r for r in raw if "_" in r}
    assert raw  # the demo has such names: the test can fail
    page = loopback.get(url + "/quality").text
    body = page[page.index('id="table-reconciliation"') :]
    body = body[body.index("<tbody>") : body.index("</table>")]
    for name in raw:
        assert name not in body and field_words(name) in body
    api = loopback.get(url + "/api/quality").json()["reconciliation"]["rows"]
    assert {r["source"] for r in api} == set(rec)


def test_the_plan_page_names_groups_and_its_date_in_words(
    demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    """The demo's Plan page listed gains and losses as 'ethnicity_broad: white' and said
    'Plan made 2026-12-04T20:23:12+00:00': groups by their labels, the date in words."""
    url = serve(demo_outputs, "admin")
    plan = json.loads((demo_outputs / "plan" / "plan.json").read_text())
    items = [i for s in plan["scenarios"] for i in (s.get("gains") or []) + (s.get("losses") or [])]
    dims = {
        str(i["dimension"]) for i in items if i["dimension"] != "area" and "_" in i["dimension"]
    }
    assert dims  # the demo's plan has such groups: the test can fail
    page = loopback.get(url + "/plan").text
    for dim in dims:
        assert f"{dim}:" not in page
    assert str(plan["generated_at"]) not in page
    assert f"Plan made {when_words(plan['generated_at'])}." in page


def test_the_header_says_the_role_in_words(
    fixture_outputs: Fixture, serve: Callable[[Path, str], str]
) -> None:
    """Every page's header said 'viewing as centre_manager': the role in words."""
    page = loopback.get(serve(fixture_outputs.out_dir, "centre_manager") + "/").text
    assert "viewing as <strong>centre manager</strong>" in page
    assert "centre_manager" not in page

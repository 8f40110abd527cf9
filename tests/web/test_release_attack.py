"""The attacker's view of the real Knowsley demo run (issue 15): findings.json, /api/findings
and the report add nothing to what reach.csv releases, and no count of 1-7 appears anywhere.

Under the cell key method (the default) an attacker holding reach.csv can narrow no cell
beyond the ptable's design (tests/privacy/test_attack.py attacks the table itself, one and
two releases). A finding that showed anything else (an exact count rounded, a total minus
its parts) would add a constraint; here every count a reach finding shows is recomputed from
reach.csv alone, so the attack on the table is the attack on everything released.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from everyfamily.findings.engine import COUNT_KEYS
from everyfamily.report.build import TOP_FINDINGS
from privacy.attack import (
    barrier_counts_from_table,
    community_rest_from_table,
    finding_counts_from_table,
)

from . import loopback

pytestmark = pytest.mark.slow

SMALL = 7  # the default suppress_at_or_below: counts of 1-7 never appear
#: evidence keys that count children (the findings engine's list) and children_affected
CHILD_COUNTS = frozenset({*COUNT_KEYS, "children_affected"})
COUNT_COLUMNS = ("denominator", "known", "registered", "engaged")
#: a number of children in a sentence: "5 registered", "3 under-fives", "fewer than 8" is fine
SMALL_IN_TEXT = re.compile(
    r"(?<![\d.,%])([1-7]) (?:under-fives|children|registered|engaged|known|of)\b"
)


def shown(v: int | None) -> int | None:
    """A recomputed count as a finding may show it (1-7 are never shown)."""
    return None if v is None or 1 <= v <= SMALL else v


@pytest.fixture(scope="module")
def run(demo_outputs: Path) -> dict[str, Any]:
    return {
        "reach": pd.read_csv(demo_outputs / "reach.csv", dtype={"group_value": str}),
        "findings": json.loads((demo_outputs / "findings.json").read_text(encoding="utf-8")),
        "run": json.loads((demo_outputs / "run.json").read_text(encoding="utf-8")),
        "report": (demo_outputs / "report.html").read_text(encoding="utf-8"),
    }


def test_the_demo_releases_with_the_cell_key_method(run: dict[str, Any]) -> None:
    assert run["run"]["settings"]["privacy"]["release_method"] == "cell_key"
    reach = run["reach"]
    for c in COUNT_COLUMNS:
        v = pd.to_numeric(reach[c], errors="coerce")
        assert not ((v >= 1) & (v <= SMALL)).any(), c  # counts of 1-7 never appear
        assert v.notna().mean() > 0.99, c  # and almost nothing is withheld


def test_every_reach_finding_count_follows_from_reach_csv(run: dict[str, Any]) -> None:
    checked = 0
    cell_kinds = {"unreached_area", "unreached_group", "low_engagement_site"}
    for f in run["findings"]["findings"]:
        want = finding_counts_from_table(f, run["reach"])
        if want is None:
            # only kinds whose numbers are not reach-table cells may be skipped
            assert f["kind"] not in cell_kinds or f["group"]["value"] == "gradient", f["kind"]
            continue
        counts = {k: shown(v) for k, v in want.items() if k != "children_affected"}
        assert f["evidence"]["counts"] == counts, f["headline"]
        assert f["children_affected"] == shown(want["children_affected"]), f["headline"]
        # rates are ratios of those counts
        part, whole = (
            (counts["engaged"], counts["registered"])
            if f["kind"] == "low_engagement_site"
            else (counts["registered"], counts["children"])
        )
        if part is not None and whole:
            assert f["observed"] == pytest.approx(part / whole, abs=1e-6)
        checked += 1
    # every reach finding was checked; the demo has at least a site and an area or group one
    # (findings about the same children are merged across stages, so there are few)
    assert checked >= 2


def test_barrier_and_community_findings_add_nothing_to_reach_csv(run: dict[str, Any]) -> None:
    """Issue 15: an access_barrier finding's sides are sums of reach.csv's cells, and an
    emerging community's "everyone else" is reach.csv's borough minus the community's own
    counts (cells of their own, by their own cell keys); children affected is a difference
    of shown counts. Checked for every such finding of the demo (it plants both kinds)."""
    kinds: dict[str, int] = {}
    for f in run["findings"]["findings"]:
        ev = f["evidence"]
        if f["kind"] == "access_barrier":
            want = barrier_counts_from_table(f, run["reach"])
            for side, counts in want.items():
                for key, value in counts.items():
                    assert ev[side][key] == shown(value), (side, key, f["headline"])
            cut = want["cut_off_side"]
            affected = None
            if cut["children"] is not None and cut["registered"] is not None:
                affected = cut["children"] - cut["registered"]
        elif f["kind"] == "emerging_community":
            for key, value in community_rest_from_table(f, run["reach"]).items():
                assert ev[key] == shown(value), (key, f["headline"])
            affected = None
            if ev["known"] is not None and ev["registered"] is not None:
                affected = ev["known"] - ev["registered"]
        else:
            continue
        assert f["children_affected"] == shown(affected), f["headline"]
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    assert set(kinds) == {"access_barrier", "emerging_community"}, kinds


def test_no_finding_headline_withholds_a_number_and_no_small_count_appears(
    run: dict[str, Any],
) -> None:
    findings = run["findings"]["findings"]
    assert findings
    for f in findings:
        assert "not released" not in f["headline"], f["headline"]
        assert not SMALL_IN_TEXT.search(f["headline"]), f["headline"]
        if f["evidence"]["severity"] == "striking":  # no striking finding without numbers
            assert f["children_affected"] is not None, f["headline"]
            assert f["observed"] is not None, f["headline"]

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, int) and not isinstance(node, bool) and key in CHILD_COUNTS:
            assert not 1 <= node <= SMALL, (key, node)

    walk(findings)


def test_api_findings_and_the_report_show_the_same_released_numbers(
    run: dict[str, Any], demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    url = serve(demo_outputs, "viewer")
    api = loopback.get(url + "/api/findings").json()["findings"]
    by_id = {f["id"]: f for f in run["findings"]["findings"]}
    assert {c["id"] for c in api} == set(by_id)
    for card in api:
        f = by_id[card["id"]]
        assert card["headline"] == f["headline"]
        # not rounded again: the dashboard shows the released number findings.json holds
        assert card["children_affected"] == f["children_affected"], f["headline"]
        assert card["observed"] == f["observed"]
    # the report lists the top striking findings by headline, as findings.json has them
    report = html.unescape(run["report"])
    striking = [f for f in run["findings"]["findings"] if f["evidence"]["severity"] == "striking"]
    for f in striking[:TOP_FINDINGS]:
        assert f["headline"] in report

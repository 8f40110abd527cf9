"""The findings page: ranked findings as cards and as a table."""

from __future__ import annotations

from typing import Any

from everyfamily.web.pages.plain import plain_card
from everyfamily.web.tables import Column, Table
from everyfamily.web.view import RunView


class FindingsPage:
    """Ranked findings with evidence and links to their areas."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    def cards(self) -> list[dict[str, Any]]:
        return [plain_card(self.view, self.view.finding_card(f)) for f in self.view.findings]

    def table(self) -> Table:
        rows = []
        for c in self.cards():
            rows.append(
                {
                    "rank": c["rank"],
                    "severity": c["severity"],
                    "kind": c["kind_label"],
                    "headline": c["headline"],
                    "measure": c["measure_label"],
                    "observed": c["observed"],
                    "expected": c["expected"],
                    "lower": c["lower"],
                    "upper": c["upper"],
                    "children_affected": c["children_affected"],
                    "q_value": c["q_value"],
                    "areas": "; ".join(a["name"] for a in c["links"]["areas"]),
                    "area_codes": "; ".join(a["code"] for a in c["links"]["areas"]),
                    "lead": c["lead"],
                }
            )
        return Table(
            "findings",
            "Findings, ranked",
            (
                Column("headline", "Finding"),
                Column("lead", "In numbers"),
                Column("rank", "Rank", "number"),
                Column("severity", "Severity"),
                Column("kind", "Kind"),
                Column("measure", "Measure"),
                Column("observed", "Observed", "rate"),
                Column("expected", "Expected", "rate"),
                Column("lower", "95% lower", "rate"),
                Column("upper", "95% upper", "rate"),
                Column("children_affected", "Children affected", "count"),
                Column("q_value", "q-value (FDR)", "number"),
                Column("areas", "Areas"),
                Column("area_codes", "Area codes"),
            ),
            tuple(rows),
            # areas are named on the page (never a bare code); the codes are for joining
            download_only=frozenset({"area_codes"}),
        )

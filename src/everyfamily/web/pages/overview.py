"""The overview page: headline figures, top findings, known-population completeness."""

from __future__ import annotations

from typing import Any

from everyfamily.web.pages.history import history_panel
from everyfamily.web.pages.plain import engagement_rule, plain_card
from everyfamily.web.pages.since import since_panel
from everyfamily.web.release import public_rows
from everyfamily.web.tables import Column, Table
from everyfamily.web.view import RunView


class OverviewPage:
    """Headline figures (borough reach, completeness) and the top findings."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    def overview(self) -> dict[str, Any]:
        v = self.view
        run = v.outputs.run
        reach_meta = run.get("reach") or {}
        return {
            "title": v.title,
            "reference_date": v.reference_date,
            "borough": v.borough_row(),
            "trend": None,  # a run measures one reference date; see the page note
            "population_vintage": reach_meta.get("population_vintage")
            or (run.get("data_vintages") or {}).get("population"),
            "findings_total": len(v.findings),
            "findings_striking": sum(
                1 for f in v.findings if (f.get("evidence") or {}).get("severity") == "striking"
            ),
            "top_findings": [plain_card(v, v.finding_card(f)) for f in v.findings[:5]],
            "children_without_area": v.release.count(reach_meta.get("children_without_area")),
            "completeness": self.completeness_table(),
            "warnings": list(v.outputs.warnings),
            "engagement_rule": engagement_rule(v),
            "has_pack": (v.outputs.out_dir / "report.html").is_file(),
            "since": since_panel(v.outputs.out_dir),
            "history": history_panel(v.outputs.out_dir),
        }

    def completeness_table(self) -> Table:
        """The ten small areas whose known population is the smallest share of the ONS one."""
        g = self.view.by_slice.get((self.view.small_level, "all", "all", "any"))
        rows: list[dict[str, Any]] = []
        if g is not None:
            ratio = g["raw_known"] / g["raw_ons_population"].where(g["raw_ons_population"] > 0)
            frame = g.assign(_ratio=ratio).sort_values(["_ratio", "area_code"])
            for rec in public_rows(frame.head(10)):
                rows.append(
                    {
                        "area": rec["area_name"],
                        "area_code": rec["area_code"],
                        "url": f"/areas/{rec['area_code']}",
                        "ons_population": rec["ons_population"],
                        "known": rec["known"],
                        "known_completeness": rec["known_completeness"],
                    }
                )
        return Table(
            "completeness",
            "Lowest known-population completeness (small areas)",
            (
                Column("area", "Area"),
                Column("ons_population", "ONS estimate", "count"),
                Column("known", "Known to universal services", "count"),
                Column("known_completeness", "Completeness", "rate"),
            ),
            tuple(rows),
            note="Known to a universal service (births, health visiting) as a "
            "share of the ONS estimate; well below 100% means children the council cannot see.",
            links={"area": "url"},
        )

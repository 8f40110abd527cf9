"""The Plan page: scenarios side by side, the marginal curve, service overlap and the offer.

Reads only released files of the run: ``plan/plan.json`` (the planning stage's contract,
issue 17 section 3; numbers already released there), ``overlap.csv``,
``overlap_contacts.csv`` and ``offer.csv`` (the services stage; counts released through
``privacy.release.release_child_counts``). Area codes in gains and losses are shown by name.
A missing file is an empty state, never an error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from everyfamily.planning.overlap import upset_svg
from everyfamily.report.words import when_words
from everyfamily.web.labels import dimension_label, group_label
from everyfamily.web.tables import Column, Table
from everyfamily.web.view import RunView

PLAN_FILE = Path("plan") / "plan.json"
OVERLAP_FILE = "overlap.csv"
CONTACTS_FILE = "overlap_contacts.csv"
OFFER_FILE = "offer.csv"
KIND_LABELS = {"baseline": "Today", "what_if": "What if", "optimised": "Optimised"}


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype={"area_code": str, "site_id": str, "group": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def _one_decimal(v: Any) -> str:
    """A released rate to one decimal; empty where it is withheld."""
    n = _num(v)
    return "withheld" if n is None else f"{n:.1f}"


def marginal_svg(curve: Sequence[Mapping[str, Any]], *, width: int = 600) -> str:
    """Children within 15 minutes against the budget (a step line with a dot per budget),
    axes labelled with their first and last values."""
    pts = [
        (b, c)
        for b, c in ((_num(p.get("budget")), _num(p.get("children_within_15_min"))) for p in curve)
        if b is not None and c is not None
    ]
    if not pts:
        return ""
    pts.sort()
    left, right, top, bottom, height = 70, 20, 14, 40, 240
    bx = [p[0] for p in pts]
    cy = [p[1] for p in pts]
    b0, b1 = min(bx), max(bx)
    c0, c1 = min(0.0, min(cy)), max(cy)
    sx = (width - left - right) / ((b1 - b0) or 1.0)
    sy = (height - top - bottom) / ((c1 - c0) or 1.0)

    def xy(b: float, c: float) -> tuple[float, float]:
        return left + (b - b0) * sx, height - bottom - (c - c0) * sy

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{xy(b, c)[0]:.1f},{xy(b, c)[1]:.1f}"
        for i, (b, c) in enumerate(pts)
    )
    dots = "".join(
        f'<circle cx="{xy(b, c)[0]:.1f}" cy="{xy(b, c)[1]:.1f}" r="3" fill="#3b528b">'
        f"<title>GBP {b:,.0f}: {c:,.0f} children</title></circle>"
        for b, c in pts
    )
    axes = (
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        f'stroke="#444"/><line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" '
        f'stroke="#444"/>'
        f'<text x="{left}" y="{height - bottom + 14}" font-size="10" fill="#222">'
        f"GBP {b0:,.0f}</text>"
        f'<text x="{width - right}" y="{height - bottom + 14}" font-size="10" '
        f'text-anchor="end" fill="#222">GBP {b1:,.0f}</text>'
        f'<text x="{(left + width - right) / 2}" y="{height - 6}" font-size="11" '
        f'text-anchor="middle" fill="#222">Budget per year</text>'
        f'<text x="{left - 6}" y="{top + 8}" font-size="10" text-anchor="end" fill="#222">'
        f"{c1:,.0f}</text>"
        f'<text x="{left - 6}" y="{height - bottom}" font-size="10" text-anchor="end" '
        f'fill="#222">{c0:,.0f}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" '
        f'role="img" aria-label="Children within 15 minutes by budget">{axes}'
        f'<path d="{path}" fill="none" stroke="#3b528b" stroke-width="2"/>{dots}</svg>'
    )


def outreach_plan_priorities(out_dir: Path) -> dict[str, tuple[str, ...]]:
    """Small area -> its reason to be visited first from the run's ranked outreach plan
    (plan.json's ``outreach_plan``, planning/outreach.py: unreached children per hour of
    travel and visit time), for the outreach lists (web/pages/outreach.py): "outreach plan:
    area N of M". Empty without a plan or an outreach plan."""
    try:
        plan = json.loads((out_dir / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    stops = [s for s in plan.get("outreach_plan") or [] if isinstance(s, Mapping)]
    out: dict[str, tuple[str, ...]] = {}
    for s in stops:
        if isinstance(s.get("area"), str) and isinstance(s.get("rank"), int):
            out.setdefault(s["area"], (f"outreach plan: area {s['rank']} of {len(stops)}",))
    return out


class PlanPage:
    """The Plan page's content (see the module docstring)."""

    def __init__(self, view: RunView, plan_file: Path | None = None) -> None:
        self.view = view
        out = view.outputs.out_dir
        # plan_file: a user's own plan made from the page (web/plan_runs.py)
        self.plan = self._read_plan(plan_file if plan_file is not None else out / PLAN_FILE)
        self.overlap = _read_csv(out / OVERLAP_FILE)
        self.contacts = _read_csv(out / CONTACTS_FILE)
        self.offer = _read_csv(out / OFFER_FILE)

    @staticmethod
    def _read_plan(path: Path) -> dict[str, Any] | None:
        if not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def _area(self, item: Mapping[str, Any]) -> str:
        """One gain or loss of plan.json (``{dimension, value, children}``, planning/plan.py)
        as text: an area by its name, a group by its dimension, and the children."""
        n = _num(item.get("children"))
        dim, value = str(item["dimension"]), str(item.get("value", ""))
        label = (
            self.view.area_name(value)
            if dim == "area"
            else f"{dimension_label(dim)}: {group_label(dim, value)}"
        )
        return label + (f": {n:,.0f} children" if n is not None else "")

    def scenarios(self) -> list[dict[str, Any]]:
        """Each scenario of plan.json as the page shows it, in the file's order."""
        if self.plan is None:
            return []
        out = []
        for s in self.plan.get("scenarios") or []:
            if not isinstance(s, Mapping):
                continue
            interval = s.get("expected_registered_interval") or [None, None]
            lo, hi = [*list(interval), None, None][:2]
            sites = s.get("sites_open") or []
            out.append(
                {
                    "id": str(s.get("id", "")),
                    "name": str(s.get("name", s.get("id", ""))),
                    "kind": KIND_LABELS.get(str(s.get("kind")), str(s.get("kind", ""))),
                    "baseline": s.get("id") == self.plan.get("baseline_id"),
                    "sites": [self.view.site_name(str(x)) for x in sites],
                    "cost_per_year": _num(s.get("cost_per_year")),
                    "children_within_15_min": _num(s.get("children_within_15_min")),
                    "expected_registered": _num(s.get("expected_registered")),
                    "registered_lower": _num(lo),
                    "registered_upper": _num(hi),
                    "expected_engaged": _num(s.get("expected_engaged")),
                    "cost_per_child_engaged": _num(s.get("cost_per_child_engaged")),
                    "with_room": _num(s.get("expected_engaged_with_room")),
                    "gains": [self._area(g) for g in s.get("gains") or []],
                    "losses": [self._area(g) for g in s.get("losses") or []],
                }
            )
        return out

    def marginal_chart(self) -> str:
        curve = (self.plan or {}).get("marginal_curve") or []
        return marginal_svg([p for p in curve if isinstance(p, Mapping)])

    def _broadest(self) -> pd.DataFrame | None:
        """The overlap rows of the broadest level with one area (the borough), else of the
        level with fewest areas other than reach areas."""
        ov = self.overlap
        if ov is None or ov.empty:
            return None
        rest = ov[ov["level"] != "reach_area"]
        if rest.empty:
            return None
        sizes = rest.groupby("level")["area_code"].nunique().sort_values()
        level = str(sizes.index[0])
        first = rest[rest["level"] == level]["area_code"].iloc[0]
        chosen: pd.DataFrame = rest[(rest["level"] == level) & (rest["area_code"] == first)]
        return chosen

    def upset_chart(self) -> str:
        rows = self._broadest()
        if rows is None:
            return ""
        name = str(rows["area_name"].iloc[0])
        return upset_svg(rows, title=name)

    def overlap_table(self) -> Table | None:
        """Combinations of services in each centre's reach area."""
        ov = self.overlap
        if ov is None or ov.empty:
            return None
        ra = ov[ov["level"] == "reach_area"]
        rows = ra if not ra.empty else ov
        recs = [
            {
                "area": str(r["area_name"]),
                "combination": str(r["combination"]).replace("_", " "),
                "n_services": int(r["n_services"]),
                "children": r["children"],
                "families": r["families"],
            }
            for r in rows.to_dict("records")
        ]
        return Table(
            "overlap",
            "Children and families known to each combination of services, by reach area",
            (
                Column("area", "Reach area"),
                Column("combination", "Known to exactly"),
                Column("n_services", "Services", "number"),
                Column("children", "Children", "count"),
                Column("families", "Families", "count"),
            ),
            tuple(recs),
        )

    def contacts_table(self) -> Table | None:
        """Contacts per child per year by service, in the broadest area."""
        ct, broad = self.contacts, self._broadest()
        if ct is None or ct.empty or broad is None:
            return None
        code = broad["area_code"].iloc[0]
        rows = ct[ct["area_code"] == code]
        recs = [
            {
                "service": str(r["service"]).replace("_", " "),
                "children": r["children"],
                "rate": _one_decimal(r["contacts_per_child_per_year"]),
            }
            for r in rows.to_dict("records")
        ]
        return Table(
            "overlap_contacts",
            f"Contacts per child per year by service, {broad['area_name'].iloc[0]}",
            (
                Column("service", "Service"),
                Column("children", "Children known", "count"),
                Column("rate", "Contacts per child per year"),
            ),
            tuple(recs),
        )

    def offer_table(self) -> Table | None:
        of = self.offer
        if of is None or of.empty:
            return None
        recs = [
            {
                "centre": str(r["site_name"]),
                "aspect": str(r["aspect"]),
                "group": str(r["group"]),
                "children": r["children"],
                "sessions": r["sessions_per_week"],
                "note": "" if not isinstance(r["mismatch"], str) else str(r["mismatch"]),
            }
            for r in of.to_dict("records")
        ]
        return Table(
            "offer",
            "Children in each centre's reach area and the sessions open to them",
            (
                Column("centre", "Centre"),
                Column("aspect", "Aspect"),
                Column("group", "Group"),
                Column("children", "Children", "count"),
                Column("sessions", "Sessions a week", "number"),
                Column("note", "Mismatch"),
            ),
            tuple(recs),
        )

    def mismatches(self) -> list[str]:
        of = self.offer
        if of is None or of.empty:
            return []
        lines = of["mismatch"].dropna().astype(str)
        return [m for m in lines if m and m != "no session data"]

    def run_choices(self) -> dict[str, Any]:
        """The Plan page's form: the run's sites (to close) and candidate venues (to open),
        by name where the run knows one, and today's cost (a budget to start from)."""
        p = self.view.outputs.settings.get("planning") or {}
        sites = [
            {"id": str(s.get("id")), "label": self.view.site_name(str(s.get("id")))}
            for s in p.get("sites") or []
        ]
        venues = [
            {"id": str(v.get("id")), "label": f"{v.get('id')} ({v.get('kind') or 'venue'})"}
            for v in p.get("venues") or []
        ]
        base = next(
            (s for s in (self.plan or {}).get("scenarios") or [] if s.get("kind") == "baseline"),
            None,
        )
        cost = _num(base.get("cost_per_year")) if isinstance(base, Mapping) else None
        return {"sites": sites, "venues": venues, "today_cost": cost, "enabled": bool(sites)}

    def context(self) -> dict[str, Any]:
        plan = self.plan or {}
        rows = self.scenarios()
        return {
            "has_plan": self.plan is not None,
            "generated_at": escape(when_words(plan.get("generated_at", ""))),
            "scenarios": rows,
            "capacitated": any(r["with_room"] is not None for r in rows),
            "curve_served": plan.get("marginal_curve_basis") == "served",
            "illustrative": plan.get("illustrative") is True,
            "assumptions": [str(a) for a in plan.get("assumptions") or [] if isinstance(a, str)],
            "marginal_svg": self.marginal_chart(),
            "upset_svg": self.upset_chart(),
            "overlap": self.overlap_table(),
            "contacts": self.contacts_table(),
            "offer": self.offer_table(),
            "mismatches": self.mismatches(),
        }

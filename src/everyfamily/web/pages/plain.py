"""The plain-language layer of the pages (issue 16): a finding as one sentence and what to
do next, areas named by their ward and neighbourhood instead of a code, and the glossary.

Everything here reads the released run view (:class:`everyfamily.web.view.RunView`): the
sentences are built from a finding card's released figures, never from exact counts. Plain
English follows the GOV.UK content design guidance (lead with what the user needs, numbers
as numerals, define a term where it is used).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from everyfamily.web.tables import Column, Table, format_value
from everyfamily.web.view import RunView

#: The larger levels an area is named by, most local first (the first that holds it wins).
NAMING_LEVELS = ("ward", "msoa", "locality")

#: What a team can do next, by kind of finding (the ask of a workshop: an action, an owner).
NEXT_STEP: Mapping[str, str] = {
    "unreached_area": (
        "ask the centres serving these streets to check their outreach there, and open the "
        "outreach list for the area"
    ),
    "unreached_group": (
        "talk with families and community organisations of this group about what keeps them "
        "away, and review how services are offered to them"
    ),
    "emerging_community": (
        "find out who the new families are (community groups, schools, health visitors) and "
        "whether services need another language or venue"
    ),
    "access_barrier": (
        "look at the walking routes across the barrier and consider a session on the far side"
    ),
    "low_engagement_site": (
        "ask the centre why registered families do not come back, and follow up those "
        "registered but not seen"
    ),
    "unknown_population": (
        "check that birth and health-visiting records for this area reach the data extract"
    ),
    "linkage_quality_gap": (
        "check how records of this group are linked before reading their reach as low"
    ),
    "declining_reach": (
        "ask what changed when the fall began (a session, a venue, staff, referrals from "
        "health visiting) and open the outreach list for the areas concerned"
    ),
    "improving_reach": (
        "find out what the services did differently here and whether other areas could do it"
    ),
}
DEFAULT_NEXT = "discuss this finding with the services involved and decide who follows it up"


def _ward_index(view: RunView) -> dict[str, tuple[str, str]]:
    """small area code -> (level, code) of the larger area that names it."""
    m = view.outputs.membership
    out: dict[str, tuple[str, str]] = {}
    if m is None or m.empty:
        return out
    for level in NAMING_LEVELS:
        sel = m[m["level"].astype(str) == level]
        for small, code in zip(
            sel["small_area"].astype(str), sel["area_code"].astype(str), strict=True
        ):
            out.setdefault(small, (level, code))
    return out


def ward_of(view: RunView, code: str) -> dict[str, str] | None:
    """The ward (or the first larger naming level) a small area lies in, with its link."""
    hit = _ward_index(view).get(str(code))
    if hit is None:
        return None
    level, ward = hit
    return {
        "code": ward,
        "name": view.area_name(ward),
        "level": level,
        "level_label": _singular(view.level_label(level)),
        "url": f"/areas/{ward}",
    }


def _singular(label: str) -> str:
    low = label.lower()
    return low[:-1] if low.endswith("s") and not low.endswith("ss") else low


def place_name(view: RunView, code: str) -> str:
    """An area as people say it: "Knowsley 004D, in Page Moss ward" (never a bare code)."""
    name = view.area_name(code)
    ward = ward_of(view, code)
    if ward is None or ward["code"] == code:
        return name
    return f"{name}, in {ward['name']} {ward['level_label']}"


def ward_members(view: RunView, code: str) -> list[dict[str, str]]:
    """The small areas of a larger area (a ward, say), by name, each with its link."""
    m = view.outputs.membership
    if m is None or m.empty:
        return []
    sel = m[(m["area_code"].astype(str) == str(code)) & (m["small_area"].astype(str) != code)]
    smalls = sorted(set(sel["small_area"].astype(str)))
    rows = [
        {"code": s, "name": view.area_name(s), "url": f"/areas/{s}"}
        for s in smalls
        if s in view.level_of
    ]
    return sorted(rows, key=lambda r: r["name"])


def lead_sentence(card: Mapping[str, Any]) -> str:
    """One sentence with the finding's numbers: who and where, the rate against what was
    expected, and how many children (all released figures), e.g. "In Knowsley 004B,
    registered with a centre: 33.3%, against 67.5% expected; about 21 children affected."."""
    group = card.get("group") or {}
    if group.get("value") == "gradient":
        # a slope across deciles has no one rate: its headline is the sentence, without the
        # bracketed statistics (they are under "How we know")
        text = re.sub(r"\s*\([^()]*interval[^()]*\)", "", str(card.get("headline") or ""))
        return text.rstrip(". ") + "."
    measure = str(card.get("measure_label") or "the rate").lower()
    observed, expected = card.get("observed"), card.get("expected")
    where = _where(card)
    parts = []
    if observed is not None:
        rate = (
            f"{where}, {measure}: {format_value(observed, 'rate')}"
            if where
            else (f"{measure.capitalize()}: {format_value(observed, 'rate')}")
        )
        if expected is not None:
            rate += f", against {format_value(expected, 'rate')} expected"
        parts.append(rate)
    affected = card.get("children_affected")
    if affected is not None:
        parts.append(f"about {format_value(affected, 'count')} children affected")
    if not parts:
        return str(card.get("headline") or "").rstrip(".") + "."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _where(card: Mapping[str, Any]) -> str:
    """ "For Asian children at Halewood, in Knowsley 004B" (empty when borough-wide)."""
    bits = []
    if card.get("group_label"):
        label = str(card["group_label"])
        bits.append(f"for {label[:1].upper() + label[1:]} children")
    site = (card.get("links") or {}).get("site")
    if site:
        bits.append(f"at {site['name']}")
    areas = (card.get("links") or {}).get("areas") or []
    if len(areas) == 1:
        bits.append(f"in {areas[0]['name']}")
    elif len(areas) > 1:
        bits.append(f"across {len(areas)} areas")
    return " ".join(bits)


def plain_card(view: RunView, card: dict[str, Any]) -> dict[str, Any]:
    """A finding card with its lead sentence, its next step, and its areas named by place."""
    links = dict(card.get("links") or {})
    links["areas"] = [{**a, "name": place_name(view, a["code"])} for a in links.get("areas") or []]
    named = {**card, "links": links}
    return {
        **named,
        "lead": lead_sentence(named),
        "next": NEXT_STEP.get(str(card.get("kind") or ""), DEFAULT_NEXT),
    }


def engagement_rule(view: RunView) -> str:
    """This run's rule for sustained engagement, in words (settings ``engagement:``)."""
    eng = view.outputs.settings.get("engagement") or {}
    n = int(eng.get("min_attendances") or 3)
    months = int(eng.get("window_months") or 12)
    return f"at least {n} sessions in the {months} months up to the reference date"


def glossary(view: RunView) -> list[dict[str, str]]:
    """The words the pages use, defined; sustained engagement with this run's own rule."""
    eng = view.outputs.settings.get("engagement") or {}
    low, high = int(eng.get("min_age_years") or 0), int(eng.get("max_age_years") or 4)
    small = view.level_label(view.small_level)
    return [
        {
            "term": "LSOA (Lower layer Super Output Area)",
            "id": "lsoa",
            "text": "A small area defined by the Office for National Statistics, of about "
            "1,500 residents (about 650 households). Its name is the council's name and a "
            f"code such as 004D. The pages call these {small.lower()} and name each by its "
            "ward.",
        },
        {
            "term": "Ward",
            "id": "ward",
            "text": "An electoral area of the council, holding several small areas.",
        },
        {
            "term": "IMD and IDACI",
            "id": "idaci",
            "text": "The English Indices of Deprivation 2019. IMD ranks every small area in "
            "England by overall deprivation; IDACI (Income Deprivation Affecting Children "
            "Index) by the share of children in income-deprived families. Decile 1 is the "
            "most deprived 10% of areas in England.",
        },
        {
            "term": "Registered",
            "id": "registered",
            "text": "The child is on a centre's register. Registration is not the same as "
            "using a centre.",
        },
        {
            "term": "Sustained engagement",
            "id": "engagement",
            "text": f"In this run: a child aged {low} to {high} who attended "
            f"{engagement_rule(view)} ({view.reference_date or 'the run date'}).",
        },
        {
            "term": "Reach rate",
            "id": "reach",
            "text": "Children registered (or engaged) divided by the children living in the "
            "area: those known to universal services (births, health visiting).",
        },
        {
            "term": "Interval (95% confidence interval)",
            "id": "interval",
            "text": "The range the true rate most likely lies in, given how many children "
            "the rate is based on (Wilson score interval). A small area has a wide interval; "
            "two areas whose intervals overlap may not really differ.",
        },
        {
            "term": "Funnel plot",
            "id": "funnel",
            "text": "A chart of every area's rate against its number of children, with "
            "limits that narrow as areas grow (Spiegelhalter 2005). An area outside the "
            "limits differs from the borough by more than chance.",
        },
        {
            "term": "q-value",
            "id": "q",
            "text": "How likely a finding is to be chance after allowing for the many tests "
            "made (Benjamini-Hochberg false discovery rate). Below 0.05: striking.",
        },
        {
            "term": "Suppressed or withheld",
            "id": "suppressed",
            "text": "A figure not shown because it is too small to publish safely. "
            + view.rule_text,
        },
    ]


@dataclass(frozen=True)
class ShownColumns:
    """The columns a page table shows, and those left out because every row holds the
    same value (said once, under the table)."""

    columns: tuple[Column, ...]
    same: tuple[tuple[Column, Any], ...]


def shown_columns(table: Table, collapse: bool = True) -> ShownColumns:
    """Drop a column whose value is the same in every row (of two or more) and say it once:
    a repeated single value is noise in every row. The first column, linked columns, and
    tables whose columns a script redraws (``collapse=False``) are kept whole; a table's
    ``download_only`` columns are left off the page; the downloads always hold every
    column."""
    columns = tuple(c for c in table.columns if c.key not in table.download_only)
    if not collapse or len(table.rows) < 2:
        return ShownColumns(columns, ())
    keep: list[Column] = []
    same: list[tuple[Column, Any]] = []
    for i, c in enumerate(columns):
        values = {repr(r.get(c.key)) for r in table.rows}
        first = table.rows[0].get(c.key)
        if i > 0 and c.key not in table.links and len(values) == 1 and first not in (None, ""):
            same.append((c, first))
        else:
            keep.append(c)
    return ShownColumns(tuple(keep), tuple(same))

"""Assemble the workshop report: figures, map, funnel, findings, data quality, methods.

Pure apart from template loading: takes aggregate tables and returns one HTML string. Only
aggregates come in (the reach table, the findings document, run metadata, quarantine reason
counts); every count shown passes through :func:`released_count`, the single place a later
privacy step tightens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from everyfamily.findings import model as fm
from everyfamily.population.levels import level_noun
from everyfamily.privacy import disclosure
from everyfamily.reach import methods
from everyfamily.report.funnel import BAND_COLOURS, FunnelPoint, funnel_svg
from everyfamily.report.svg import choropleth_svg
from everyfamily.report.words import field_words, line_words, value_words, when_words

#: How many striking findings the report shows in full (the rest are listed in findings.json).
TOP_FINDINGS = 10
#: How many "worth watching" findings are listed by headline.
TOP_WATCH = 10


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report draws on; all aggregate."""

    reach: pd.DataFrame
    findings: Mapping[str, Any]
    title: str
    reference_date: str
    small_area_level: str = "lsoa"
    small_areas: Any = None  # GeoDataFrame (EPSG:4326) of the small areas, or None
    sites: pd.DataFrame | None = None  # site_id, site_name, latitude, longitude
    sites_illustrative: bool = False
    projected_crs: str = "EPSG:27700"
    reconciliation: Any = None
    quarantine_reasons: Mapping[str, int] = field(default_factory=dict)
    linkage: Any = None
    attribution: Sequence[str] = ()
    suppress_at_or_below: int = disclosure.DEFAULT_SUPPRESS_AT_OR_BELOW
    rounding: disclosure.Rounding = "midpoint6"
    release_method: str = "cell_key"  # privacy.release_method of the run
    generated_at: str = ""
    population_vintage: str = ""
    access: Any = None  # everyfamily.access.report.AccessTables, when the access stage ran
    communities: Any = None  # communities.json of the communities stage, when it ran
    warnings: Sequence[Mapping[str, str]] = ()  # run.json "warnings": {stage, code, message}
    funnel: Mapping[str, Any] | None = None  # run.json "reach.funnel" (over-dispersion used)
    release_max_error: int = 0  # privacy.release.ReleaseRules.max_error of the release
    #: the sections to draw, in order (everyfamily.stage.report_sections(); empty: every
    #: declared stage's), and the lines a stage without a section template left for it
    sections: Sequence[Any] = ()
    section_notes: Mapping[str, Sequence[str]] = field(default_factory=dict)


def released_count(n: float | None, inputs: ReportInputs) -> str:
    """THE function every count in the report goes through (disclosure control)."""
    return disclosure.released_text(
        n, suppress_at_or_below=inputs.suppress_at_or_below, rounding=inputs.rounding
    )


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(f) else f"{100 * f:.0f}%"


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _den(rows: pd.DataFrame) -> pd.Series:
    known = pd.to_numeric(rows["known"], errors="coerce")
    if "denominator" in rows.columns:
        den = pd.to_numeric(rows["denominator"], errors="coerce")
        return den.where(den.notna(), known)
    return known


def table_count(n: float | None, inputs: ReportInputs) -> str:
    """A count read from the RELEASED reach table (or a sum of its cells): under the cell key
    method shown as released (rounding a perturbed count again would only make it disagree
    with reach.csv and the dashboard; a count of 1 to the threshold is still not shown);
    under suppression and rounding, :func:`released_count` (idempotent on its output)."""
    if inputs.release_method != "cell_key":
        return released_count(n, inputs)
    if n is None or not math.isfinite(float(n)):
        return "unknown"
    value = round(float(n))
    if 1 <= value <= inputs.suppress_at_or_below:
        return disclosure.SUPPRESSED_TEXT.format(limit=inputs.suppress_at_or_below + 1)
    return f"{value:,}"


def headline_figures(inputs: ReportInputs) -> list[dict[str, str]]:
    """Borough registered and engaged reach against the children known and ONS."""
    r = inputs.reach
    row = r[(r["level"] == "borough") & (r["dimension"] == "all") & (r["service"] == "any")]
    if row.empty:
        small = r[
            (r["level"] == inputs.small_area_level)
            & (r["dimension"] == "all")
            & (r["service"] == "any")
        ]
        sums = {
            c: pd.to_numeric(small[c], errors="coerce").sum()
            for c in ("known", "registered", "engaged", "ons_population")
        }
        den = _den(small).sum()
    else:
        b = row.iloc[0]
        sums = {c: _num(b[c]) for c in ("known", "registered", "engaged", "ons_population")}
        den = float(_den(row).iloc[0])
    ons, known = sums["ons_population"], sums["known"]
    reg, eng = sums["registered"], sums["engaged"]

    def rate(a: float, b: float) -> str:
        return _pct(a / b) if b and math.isfinite(b) and b > 0 else "n/a"

    return [
        {
            "label": "Under-fives, ONS estimate",
            "value": released_count(ons, inputs),
            "note": inputs.population_vintage,
        },
        {
            "label": "Known to universal services",
            "value": table_count(known, inputs),
            "note": f"{rate(known, ons)} of the ONS estimate",
        },
        {
            "label": "Registered with a centre",
            "value": table_count(reg, inputs),
            "note": f"{rate(reg, den)} of children on our records; {rate(reg, ons)} of ONS",
        },
        {
            "label": "Engaged (sustained use)",
            "value": table_count(eng, inputs),
            "note": f"{rate(eng, den)} of children on our records; {rate(eng, ons)} of ONS",
        },
    ]


def _map(inputs: ReportInputs, highlight: set[str]) -> tuple[str, list[dict[str, Any]]]:
    if inputs.small_areas is None or len(inputs.small_areas) == 0:
        return "", []
    r = inputs.reach
    rows = r[
        (r["level"] == inputs.small_area_level)
        & (r["dimension"] == "all")
        & (r["service"] == "any")
    ].copy()
    rows["den"] = _den(rows)
    reg = pd.to_numeric(rows["registered"], errors="coerce")
    rates = {
        str(c): (float(x) / float(n) if n and n > 0 else None)
        for c, x, n in zip(rows["area_code"], reg, rows["den"], strict=True)
    }
    children = {
        str(c): int(n) if math.isfinite(n) else 0
        for c, n in zip(rows["area_code"], rows["den"], strict=True)
    }
    areas = inputs.small_areas.to_crs(inputs.projected_crs)
    sites: list[dict[str, Any]] = []
    if inputs.sites is not None and len(inputs.sites):
        from pyproj import Transformer

        to_xy = Transformer.from_crs("EPSG:4326", inputs.projected_crs, always_xy=True).transform
        for _, s in inputs.sites.iterrows():
            lon, lat = _num(s.get("longitude")), _num(s.get("latitude"))
            if math.isfinite(lon) and math.isfinite(lat):
                x, y = to_xy(lon, lat)
                sites.append({"x": x, "y": y, "name": str(s.get("site_name", s.get("site_id")))})
    svg, classes = choropleth_svg(
        areas,
        rates,
        children,
        sites=sites,
        highlight=highlight,
        illustrative_sites=inputs.sites_illustrative,
    )
    legend = [
        {
            "colour": c.colour,
            "range": f"{100 * c.lower:.0f}% to {100 * c.upper:.0f}%",
            "areas": c.areas,
            "children": table_count(c.children, inputs),
        }
        for c in classes
    ]
    return svg, legend


def _funnel_rows(inputs: ReportInputs) -> pd.DataFrame:
    r = inputs.reach
    return r[
        (r["level"] == inputs.small_area_level)
        & (r["dimension"] == "all")
        & (r["group_value"] == "all")
        & (r["service"] == "any")
    ].copy()


def funnel_tau2(inputs: ReportInputs) -> float:
    """The over-dispersion tau2 of the plotted funnel: the table's ``funnel_tau2`` (the same
    value as in reach.csv, the dashboard and the findings), 0 for tables without it."""
    rows = _funnel_rows(inputs)
    if "funnel_tau2" not in rows.columns:
        return 0.0
    t = pd.to_numeric(rows["funnel_tau2"], errors="coerce").dropna()
    return float(t.iloc[0]) if len(t) else 0.0


def funnel_withheld(inputs: ReportInputs) -> int:
    """Small areas left out of the funnel plot because their count is withheld (a withheld
    count is unknown, not zero: drawing it as 0% would invent the worst area)."""
    rows = _funnel_rows(inputs)
    if rows.empty:
        return 0
    den = _den(rows)
    reg = pd.to_numeric(rows["registered"], errors="coerce")
    return int(((den > 0) & reg.isna()).sum())


def _funnel(inputs: ReportInputs) -> str:
    r = inputs.reach
    rows = _funnel_rows(inputs)
    if rows.empty:
        return ""
    rows["den"] = _den(rows)
    rows = rows[rows["den"] > 0]
    # withheld counts are left out (funnel_withheld says how many), never drawn as 0%
    rows = rows[pd.to_numeric(rows["registered"], errors="coerce").notna()]
    if rows.empty:
        return ""
    reg = pd.to_numeric(rows["registered"], errors="coerce")
    b = r[(r["level"] == "borough") & (r["dimension"] == "all") & (r["service"] == "any")]
    if len(b):
        target = _num(b.iloc[0]["registered"]) / float(_den(b).iloc[0])
    else:
        target = float(reg.sum() / rows["den"].sum())
    band = (
        rows["funnel_band"] if "funnel_band" in rows.columns else pd.Series(None, index=rows.index)
    )
    points = [
        FunnelPoint(str(code), str(name), float(n), float(x) / float(n), _band(bd))
        for code, n, x, bd, name in zip(
            rows["area_code"], rows["den"], reg, band, rows["area_name"], strict=True
        )
    ]
    title = "Funnel plot of registered reach by small area"
    return funnel_svg(points, target, None, title=title, tau2=funnel_tau2(inputs))


def _band(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _methods_funnel(inputs: ReportInputs) -> Mapping[str, Any]:
    """The funnel's over-dispersion for the methods text: run.json's, else the table's tau2."""
    if inputs.funnel:
        return inputs.funnel
    rows = _funnel_rows(inputs)
    return {"level": inputs.small_area_level, "units": len(rows), "tau2": funnel_tau2(inputs)}


#: Run-metadata entries left out of the report's tables: file fingerprints and timings are
#: for run.json, not for a workshop.
HIDDEN_KEYS = frozenset({"batch_id", "timings_seconds"})


def _table(obj: Any, inputs: ReportInputs) -> dict[str, Any] | None:
    """A dict of dicts / list of dicts as a table; numbers that are counts are released."""
    if not obj:
        return None
    if isinstance(obj, Mapping):
        obj = {
            k: (
                {kk: vv for kk, vv in v.items() if kk not in HIDDEN_KEYS}
                if isinstance(v, Mapping)
                else v
            )
            for k, v in obj.items()
            if k not in HIDDEN_KEYS
        }
    if isinstance(obj, Mapping) and all(isinstance(v, Mapping) for v in obj.values()):
        records = [{"": k, **dict(v)} for k, v in obj.items()]
    elif (
        isinstance(obj, Sequence)
        and not isinstance(obj, str)
        and all(isinstance(v, Mapping) for v in obj)
    ):
        records = [dict(v) for v in obj]
    elif isinstance(obj, Mapping):
        records = [{"": k, "value": v} for k, v in obj.items()]
    else:
        return None
    columns: list[str] = []
    for rec in records:
        for k in rec:
            if k not in columns:
                columns.append(str(k))

    def cell(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return "" if v is None else value_words(v)
        if isinstance(v, int):
            return released_count(v, inputs)
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) <= 1 else released_count(v, inputs)
        if isinstance(v, Mapping | list):
            return (
                ", ".join(f"{field_words(k).lower()}: {cell(x)}" for k, x in v.items())
                if isinstance(v, Mapping)
                else ", ".join(cell(x) for x in v) or "none"
            )
        return str(v)

    return {
        "columns": [field_words(c) if c else "" for c in columns],
        "rows": [
            [field_words(rec.get(c)) if c == "" else cell(rec.get(c)) for c in columns]
            for rec in records
        ],
    }


def _findings(inputs: ReportInputs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = list(inputs.findings.get("findings", []))
    striking: list[dict[str, Any]] = []
    watch: list[dict[str, Any]] = []
    for f in items:
        ev = f.get("evidence", {})
        view = {
            "rank": f.get("rank"),
            "kind": str(f.get("kind", "")).replace("_", " "),
            "headline": f.get("headline", ""),
            "why": ev.get("why_ranked", ""),
            "test": ev.get("test", ""),
            "p": ev.get("p_value"),
            "q": ev.get("q_value"),
            "children": "suppressed"
            if f.get("children_affected") is None
            else f"{f['children_affected']:,}",
            "interval": f.get("interval"),
            "observed": _pct(f.get("observed")),
            "expected": _pct(f.get("expected")),
            "merged": len(ev.get("merged", [])),
        }
        (striking if ev.get("severity", "striking") == "striking" else watch).append(view)
    return striking[:TOP_FINDINGS], watch[:TOP_WATCH]


def _highlight(inputs: ReportInputs) -> set[str]:
    out: set[str] = set()
    for f in inputs.findings.get("findings", []):
        if (
            f.get("kind") == "unreached_area"
            and f.get("evidence", {}).get("severity") == "striking"
        ):
            out.update(str(a) for a in f.get("areas", []))
    return out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("everyfamily.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["words"] = line_words  # codes and bracketed field names as words
    return env


def _disclosure_text(inputs: ReportInputs) -> str:
    from everyfamily.privacy.release import ReleaseRules, rule_text

    rules = ReleaseRules.from_settings(
        {
            "suppress_at_or_below": inputs.suppress_at_or_below,
            "rounding": inputs.rounding,
            "release_method": inputs.release_method,
        }
    )
    return rule_text(rules)


def _withheld(inputs: ReportInputs) -> list[dict[str, str]]:
    """Small areas of the map whose counts are withheld, each with its reason."""
    from everyfamily.privacy.release import WITHHELD_REASON_COLUMN, withheld_text

    r = inputs.reach
    if WITHHELD_REASON_COLUMN not in r.columns:
        return []
    rows = r[
        (r["level"] == inputs.small_area_level)
        & (r["dimension"] == "all")
        & (r["service"] == "any")
        & (r[WITHHELD_REASON_COLUMN].fillna("").astype(str) != "")
    ]
    return [
        {"area": str(name), "reason": withheld_text(str(reason))}
        for name, reason in zip(rows["area_name"], rows[WITHHELD_REASON_COLUMN], strict=True)
    ]


def render_report(inputs: ReportInputs) -> str:
    """The report as one self-contained HTML document."""
    map_svg, legend = _map(inputs, _highlight(inputs))
    striking, watch = _findings(inputs)
    bands = [
        {"colour": c, "label": lab}
        for c, lab in (
            (BAND_COLOURS["below_998"], "below the 99.8% limit"),
            (BAND_COLOURS["below_95"], "below the 95% limit"),
            (BAND_COLOURS["within"], "within the limits"),
            (BAND_COLOURS["above_95"], "above the 95% limit"),
            (BAND_COLOURS["above_998"], "above the 99.8% limit"),
        )
    ]
    context = {
        "title": inputs.title,
        "warnings": [str(w.get("message", "")) for w in inputs.warnings],
        "reference_date": inputs.reference_date,
        "generated_at": when_words(inputs.generated_at),
        "reference_words": when_words(inputs.reference_date),
        "funnel_withheld": funnel_withheld(inputs),
        "figures": headline_figures(inputs),
        "map_svg": map_svg,
        "legend": legend,
        "sites_illustrative": inputs.sites_illustrative,
        "has_sites": inputs.sites is not None and len(inputs.sites) > 0,
        "funnel_svg": _funnel(inputs),
        "bands": bands,
        "striking": striking,
        "watch": watch,
        "n_findings": len(inputs.findings.get("findings", [])),
        "reconciliation": _table(inputs.reconciliation, inputs),
        "quarantine": [
            {"reason": field_words(k), "rows": released_count(v, inputs)}
            for k, v in sorted(inputs.quarantine_reasons.items())
        ],
        "linkage": _table(inputs.linkage, inputs),
        "attribution": list(inputs.attribution),
        "suppress": inputs.suppress_at_or_below,
        "rounding": inputs.rounding,
        "disclosure_text": _disclosure_text(inputs),
        "withheld": _withheld(inputs),
        "fdr": fm.FDR_ALPHA,
        "min_rate_gap": round(100 * fm.MIN_RATE_GAP),
        "min_area_gap": round(100 * fm.MIN_AREA_GAP),
        "min_group": fm.MIN_GROUP_KNOWN,
        "min_unknown": round(100 * fm.MIN_UNKNOWN_SHORTFALL),
        "small_area_level": level_noun(inputs.small_area_level),
        "methods_rates": methods.rates_and_limits(
            _methods_funnel(inputs), max_error=inputs.release_max_error
        ),
        "funnel_caption": methods.funnel_caption(funnel_tau2(inputs)),
    }
    from everyfamily.access.report import access_section

    access = access_section(
        inputs.access,
        inputs.small_areas,
        projected_crs=inputs.projected_crs,
        released=lambda n: released_count(n, inputs),
    )
    if access:
        access["map_svg"] = Markup(access["map_svg"])  # noqa: S704 - escaped in access/report.py
    context["access"] = access
    from everyfamily.communities.report import communities_section

    communities = communities_section(
        inputs.communities, inputs.small_areas, projected_crs=inputs.projected_crs
    )
    if communities:
        communities["map_svg"] = Markup(communities["map_svg"])  # noqa: S704 - escaped in svg.py
    context["communities"] = communities
    # The SVG is built here from escaped strings, so it is marked safe for the template.
    context["map_svg"] = Markup(context["map_svg"])  # noqa: S704 - every text in it is escaped
    context["funnel_svg"] = Markup(context["funnel_svg"])  # noqa: S704 - escaped in svg.py
    context["sections"] = _sections(inputs)
    return _environment().get_template("report.html.j2").render(**context)


#: The four lenses of Radical Efficiency (Nesta / Innovation Unit, 2010) the pack is
#: structured by, in order, with the question each answers.
LENSES: tuple[tuple[str, str, str], ...] = (
    (
        "insight",
        "New insight",
        "What the records show: who is reached, where, and what stands out.",
    ),
    ("customers", "New customers", "Who is missed, and why: places cut off, communities arriving."),
    ("suppliers", "New suppliers", "Venues and partners who could reach the families missed."),
    ("resources", "New resources", "Overlap, outreach and costs: doing more with what exists."),
)
#: The lens of each section key (a section not named here sits with the reference material
#: at the end, after the lenses: data quality, methods). "plan" is the planning section
#: another stage adds (OUT/plan/plan.json); it belongs to new resources.
LENS_OF: Mapping[str, str] = {
    "figures": "insight",
    "map": "insight",
    "funnel": "insight",
    "findings": "insight",
    "trends": "insight",
    "access": "customers",
    "communities": "customers",
    "outreach": "customers",
    "venues": "suppliers",
    "partners": "suppliers",
    "plan": "resources",
    "overlap": "resources",
    "costs": "resources",
}


def _sections(inputs: ReportInputs) -> list[dict[str, Any]]:
    """The sections in the order the stages declare them (everyfamily.stage.ReportSection),
    each with the template that draws it: its own, or the generic heading and notes; then
    grouped by the four lenses (:data:`LENSES`, in their order; "read this first" before
    them and reference sections after). Each section carries its lens, and the first of a
    lens the lens heading."""
    from everyfamily.stage import report_sections

    declared: list[dict[str, Any]] = [
        {
            "key": s.key,
            "title": s.title,
            "template": f"sections/{s.template or '_generic'}.html.j2",
            "notes": [str(x) for x in inputs.section_notes.get(s.key, ())],
            "lens": LENS_OF.get(s.key),
        }
        for s in (inputs.sections or report_sections())
    ]
    order = {key: i for i, (key, _t, _q) in enumerate(LENSES)}
    first = [d for d in declared if d["key"] == "warnings"]
    lensed = sorted((d for d in declared if d["lens"] is not None), key=lambda d: order[d["lens"]])
    rest = [d for d in declared if d["lens"] is None and d["key"] != "warnings"]
    seen: set[str] = set()
    for d in lensed:
        lens = next(x for x in LENSES if x[0] == d["lens"])
        d["lens_heading"] = None if d["lens"] in seen else {"title": lens[1], "question": lens[2]}
        seen.add(d["lens"])
    for d in first + rest:
        d["lens_heading"] = None
    return first + lensed + rest

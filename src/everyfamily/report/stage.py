"""The report stage: write ``report.html``, one self-contained file for planning workshops.

The I/O edge of report/: reads the reach table, the store's ``findings`` table (or computes
the findings when the find stage has not run), the small-area boundaries, the sites file,
quarantine reason counts and the run metadata, then renders
:func:`everyfamily.report.build.render_report`. Its sections, and their order, are the ones
the stages declare (``everyfamily.stage.ReportSection``).
It reads no person-level table, and only the released reach table (``reach_released``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from everyfamily.errors import DataError, EveryfamilyError
from everyfamily.report.build import ReportInputs, render_report
from everyfamily.stage import ReportSection, Stage, discover, report_sections

if TYPE_CHECKING:
    from everyfamily.pipeline import RunContext

REPORT_FILE = "report.html"


#: Rows per quarantine reason, written once (DuckDB's unnest; sqlglot spells it for each
#: engine, Spark's explode); tests/engines runs it on every engine.
QUARANTINE_REASONS_SQL = (
    "SELECT reason, count(*) AS n FROM (SELECT unnest(reasons) AS reason FROM quarantine)"
    " AS reasons GROUP BY reason ORDER BY reason"
)


def quarantine_reason_counts(ctx: RunContext) -> dict[str, int]:
    """Rows set aside per quarantine reason (a row with two reasons counts under both)."""
    if not ctx.engine.has_table("quarantine"):
        return {}
    tab = ctx.engine.query(ctx.engine.dialect.portable(QUARANTINE_REASONS_SQL))
    return {
        str(r): int(n)
        for r, n in zip(tab.column("reason").to_pylist(), tab.column("n").to_pylist(), strict=True)
    }


def _findings(ctx: RunContext, reach: pd.DataFrame) -> dict[str, Any]:
    """The find stage's findings, from its store table (declared in ``STAGE.reads``); when
    the find stage has not run, the findings of the released reach table, computed here."""
    from everyfamily.findings.stage import read_findings_document, run_findings, settings_for

    stored = read_findings_document(ctx)
    if stored is not None:
        return stored

    _f, doc = run_findings(reach, settings=settings_for(ctx.project))
    return doc


def report_inputs(ctx: RunContext) -> ReportInputs:
    """Gather the report's inputs from the store, the output folder and the project."""
    if not ctx.engine.has_table("reach"):
        raise DataError(
            "the store has no 'reach' table", hint="run the measure (reach) stage first"
        )
    p = ctx.project
    # the released table (privacy.release.release_reach), never the exact one; older stores
    # without it are released here with the same function
    method = p.privacy.release_method
    if ctx.engine.has_table("reach_released"):
        reach = ctx.engine.query("SELECT * FROM reach_released").to_pandas()
    else:  # no cell keys either: release_reach suppresses and rounds an exact table
        method = "suppress_round"
        from everyfamily.privacy.release import release_reach

        reach = release_reach(
            ctx.engine.query("SELECT * FROM reach").to_pandas(),
            None,
            p.privacy,
            small_area_level=p.geography.small_area_level,
        )
    small = None
    try:
        from everyfamily.population.geography import load_small_areas

        small = load_small_areas(p)
    except EveryfamilyError as exc:
        ctx.echo(f"  map not drawn: {exc}")
    sites = None
    if p.sites is not None:
        try:
            from everyfamily.population.attributes import load_sites

            sites = load_sites(p.sites)
        except EveryfamilyError as exc:
            ctx.echo(f"  sites not marked: {exc}")
    findings = _findings(ctx, reach)
    from everyfamily.access.report import read_access_tables
    from everyfamily.communities.report import read_layer as read_communities_layer

    access = read_access_tables(
        ctx.engine, findings, (ctx.metadata.get("access") or {}).get("note")
    )
    return ReportInputs(
        reach=reach,
        findings=findings,
        title=p.project.area_name or p.project.name,
        reference_date=p.project.reference_date.isoformat(),
        small_area_level=p.geography.small_area_level,
        small_areas=small,
        sites=sites,
        sites_illustrative=bool(p.sites.illustrative) if p.sites is not None else False,
        projected_crs=p.geography.projected_crs,
        reconciliation=ctx.metadata.get("reconciliation"),
        quarantine_reasons=quarantine_reason_counts(ctx),
        linkage=ctx.metadata.get("linkage"),
        attribution=tuple(p.project.attribution),
        suppress_at_or_below=p.privacy.suppress_at_or_below,
        rounding=p.privacy.rounding,
        release_method=method,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        population_vintage=p.population.vintage,
        access=access,
        communities=read_communities_layer(ctx.out_dir),
        warnings=tuple(ctx.metadata.get("warnings") or ()),
        funnel=(ctx.metadata.get("reach") or {}).get("funnel"),
        release_max_error=_release_max_error(p.privacy),
        sections=report_sections(),
        section_notes=_section_notes(ctx),
    )


def _section_notes(ctx: RunContext) -> dict[str, list[str]]:
    """Lines a stage without a section template left for its section: run.json
    ``<stage>.report`` (released text, written by the stage)."""
    out: dict[str, list[str]] = {}
    for st in discover():
        record = ctx.metadata.get(st.name)
        lines = record.get("report") if isinstance(record, dict) else None
        if isinstance(lines, list | tuple):
            for section in st.sections:
                out[section.key] = [str(x) for x in lines]
    return out


def _release_max_error(privacy: Any) -> int:
    """How far a released count may be from the true one (ReleaseRules.max_error)."""
    from everyfamily.privacy.release import ReleaseRules

    return ReleaseRules.from_settings(privacy).max_error


def report_stage(ctx: RunContext) -> None:
    """Render and write ``report.html`` (see module docstring)."""
    html = render_report(report_inputs(ctx))
    path = ctx.out_dir / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    ctx.metadata["report"] = {"file": REPORT_FILE, "bytes": len(html.encode("utf-8"))}
    ctx.echo(f"  report written: {REPORT_FILE}")


#: The report stage, declared once (everyfamily.stage): it draws every stage's section.
STAGE = Stage(
    name="report",
    zone="analysis",
    order=70,
    run=report_stage,
    reads=(
        "reach",
        "reach_released",
        "findings",
        "quarantine",
        "access_areas",
        "access_bands",
        "access_barriers",
    ),
    sections=(
        ReportSection("warnings", "Read this first: warnings from this run", 0, "warnings"),
        ReportSection("methods", "Methods", 80, template="methods"),
    ),
)

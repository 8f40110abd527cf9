"""The find stage: read the reach table (and, when present, the restricted children table and
linkage quality by group), run the findings engine, write ``findings.json``.

The I/O edge of findings/. The children table is read only as counts the engine makes: the
unregistered children in the age range grouped by small area and group columns
(:func:`overlap_cells_sql`: how many children two group findings share), and the known
children's families by size and registered children (:func:`family_sizes_sql`: the design
effect); no row per child leaves the engine. Nothing person-level reaches findings.json, the
store's ``findings`` table, the console or run.json (headlines carry released counts only).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from everyfamily.engines.base import quote_ident
from everyfamily.errors import DataError, EveryfamilyError
from everyfamily.findings.detectors.trends import attach_trends
from everyfamily.findings.engine import AreaMembers, find, findings_document
from everyfamily.findings.model import Finding, FindingsSettings
from everyfamily.findings.text import ReleasedTable, tag_counts, untag_counts
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.config import Project
    from everyfamily.engines.base import Engine
    from everyfamily.pipeline import RunContext

FINDINGS_FILE = "findings.json"
#: Store table of the ranked findings as released (one row per finding; ``json`` holds the
#: finding as findings.json does): what later stages (the report) read.
FINDINGS_TABLE = "findings"
#: Store table where stages other than find put their findings (columns: stage, json with
#: ``Finding.to_record()``); the find stage ranks them with its own. See write_candidates.
CANDIDATES_TABLE = "candidate_findings"
#: The trends stage's recent-trend tests (read when present, to attach a finding's trend).
TREND_TESTS_TABLE = "trend_tests"
#: Columns of the restricted children table the engine may read (to compare group
#: findings); identifying columns are never selected.
CHILD_FIELDS = (
    "person_id",
    "family_id",  # a pseudonym: only to measure how far families register together
    "area_code",
    "in_age_range",
    "known",
    "registered",
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_country_of_birth",
    "mother_region_of_birth",
    "imd_decile",
    "imd_quintile",
    "idaci_decile",
    "idaci_quintile",
)


def settings_for(project: Project) -> FindingsSettings:
    """Findings settings from the project: small-area level, borough name, privacy rules."""
    return FindingsSettings(
        small_area_level=project.geography.small_area_level,
        borough_name=project.project.area_name or project.project.name,
        suppress_at_or_below=project.privacy.suppress_at_or_below,
        rounding=project.privacy.rounding,
        release_method=project.privacy.release_method,
    )


def withheld_cells(released: pd.DataFrame) -> frozenset[tuple[str, str, str, str, str, str]]:
    """Every count cell the released reach table suppresses, as FindingsSettings.withheld
    keys (level, area_code, dimension, group_value, service, column)."""
    from everyfamily.privacy.release import suppressed_cells

    cells = suppressed_cells(released).astype(str)
    return frozenset(
        (a, b, c, d, e, f) for a, b, c, d, e, f in cells.itertuples(index=False, name=None)
    )


#: The columns of ``children`` the overlap cells are grouped by: the small area and every
#: group dimension of :data:`CHILD_FIELDS` (findings.engine._unreached_ids selects on them).
OVERLAP_FIELDS = tuple(
    c
    for c in CHILD_FIELDS
    if c not in ("person_id", "family_id", "in_age_range", "known", "registered")
)


def _flag(engine: Engine, have: set[str], column: str, missing: str) -> str:
    q = engine.dialect.quote_ident
    return f"coalesce({q(column)}, FALSE)" if column in have else missing


def overlap_cells_sql(engine: Engine, have: set[str]) -> str | None:
    """The unregistered children in the age range (every child when the table has no
    ``in_age_range``), grouped by :data:`OVERLAP_FIELDS` (those the table has), with ``n``
    children in each and ``registered`` FALSE: the cells findings.engine counts overlaps
    on, the same counts as a row per child. None without ``registered`` or ``area_code``
    (no overlap can be told)."""
    if not {"registered", "area_code"} <= have:
        return None
    q = engine.dialect.quote_ident
    cols = ", ".join(q(c) for c in OVERLAP_FIELDS if c in have)
    age = _flag(engine, have, "in_age_range", "TRUE")
    sql = (
        f"SELECT {cols}, FALSE AS {q('registered')}, CAST(count(*) AS BIGINT) AS n "
        f"FROM {q('children')} WHERE {age} AND NOT {_flag(engine, have, 'registered', '')} "
        f"GROUP BY {cols} ORDER BY {cols}"
    )
    return engine.dialect.portable(sql)


def family_sizes_sql(engine: Engine, have: set[str]) -> str | None:
    """The known children in the age range in families: how many families have ``size``
    such children of whom ``registered`` are registered (a child without a family id is
    a family of one). None without ``family_id`` or ``registered`` (design effect 1)."""
    if not {"family_id", "registered"} <= have:
        return None
    q = engine.dialect.quote_ident
    where = " AND ".join(
        _flag(engine, have, c, "TRUE") for c in ("in_age_range", "known") if c in have
    )
    reg = f"CASE WHEN {_flag(engine, have, 'registered', '')} THEN 1 ELSE 0 END"
    fam, pid = q("family_id"), q("person_id")
    single = f"CASE WHEN {fam} IS NULL THEN {pid} END"
    sql = (
        "SELECT size, registered, CAST(count(*) AS BIGINT) AS families FROM ("
        f"SELECT CAST(count(*) AS BIGINT) AS size, CAST(sum({reg}) AS BIGINT) AS registered "
        f"FROM {q('children')}{f' WHERE {where}' if where else ''} "
        f"GROUP BY {fam}, {single}) AS f GROUP BY size, registered ORDER BY size, registered"
    )
    return engine.dialect.portable(sql)


def _read(ctx: RunContext, table: str, fields: tuple[str, ...] | None = None) -> pd.DataFrame:
    if fields is None:
        every: pd.DataFrame = ctx.engine.query(f"SELECT * FROM {quote_ident(table)}").to_pandas()
        return every
    have = set(ctx.engine.columns(table))
    cols = ", ".join(quote_ident(c) for c in fields if c in have)
    some: pd.DataFrame = ctx.engine.query(f"SELECT {cols} FROM {quote_ident(table)}").to_pandas()
    return some


def queen_neighbours(project: Project) -> dict[str, set[str]] | None:
    """Small area -> touching small areas (libpysal Queen contiguity), or None when the
    boundaries cannot be read."""
    try:
        from libpysal.weights import Queen

        from everyfamily.population.geography import load_small_areas

        small = load_small_areas(project)
    except (EveryfamilyError, ImportError):
        return None
    codes = small["area_code"].astype(str).tolist()
    w = Queen.from_dataframe(small.reset_index(drop=True), use_index=False, silence_warnings=True)
    return {codes[i]: {codes[j] for j in w.neighbors[i]} for i in range(len(codes))}


def area_centroids(project: Project) -> dict[str, tuple[float, float]] | None:
    """Small area -> centroid (x, y) in metres (the boundaries' UTM zone), for the spatial
    scan (findings.scan); None when the boundaries cannot be read."""
    try:
        from everyfamily.population.geography import load_small_areas

        small = load_small_areas(project)
        metric = small.to_crs(small.estimate_utm_crs())
    except (EveryfamilyError, ImportError, ValueError):
        return None
    points = metric.geometry.centroid
    return {
        str(code): (float(p.x), float(p.y))
        for code, p in zip(small["area_code"], points, strict=True)
        if p is not None and not p.is_empty
    }


def labels_and_members(
    ctx: RunContext, reach: pd.DataFrame, level: str
) -> tuple[dict[str, str], dict[str, dict[str, set[str]]]]:
    """Readable small-area labels ('Knowsley 006A (Stockbridge)') and, per larger level, the
    small areas in each area: from the project's hierarchy and the store's ``reach_areas``."""
    from everyfamily.population.geography import load_hierarchy, place_names

    names = reach[(reach["level"] == level)].drop_duplicates("area_code")
    labels = {str(c): str(n) for c, n in zip(names["area_code"], names["area_name"], strict=True)}
    members: dict[str, dict[str, set[str]]] = {}
    try:
        h = load_hierarchy(ctx.project)
    except EveryfamilyError:
        h = pd.DataFrame({"area_code": []})
    for col in h.columns:
        if col == "area_code" or col.endswith("_name"):
            continue
        for small, parent in zip(h["area_code"].astype(str), h[col].astype(str), strict=True):
            members.setdefault(col, {}).setdefault(parent, set()).add(small)
    # the first larger level the project lists (e.g. ward, locality) names the small areas
    for code, place in place_names(h).items():
        if code in labels and place not in labels[code]:
            labels[code] = f"{labels[code]} ({place})"
    if ctx.engine.has_table("reach_areas"):
        ra = _read(ctx, "reach_areas", ("site_id", "small_area"))
        if {"site_id", "small_area"} <= set(ra.columns):
            for site, small in zip(
                ra["site_id"].astype(str), ra["small_area"].astype(str), strict=True
            ):
                members.setdefault("reach_area", {}).setdefault(site, set()).add(small)
    return labels, members


def _site_names(project: Project) -> dict[str, str]:
    try:
        from everyfamily.population.attributes import load_sites

        sites = load_sites(project.sites)
    except EveryfamilyError:
        return {}
    return {str(i): str(n) for i, n in zip(sites["site_id"], sites["site_name"], strict=True)}


def _summary(findings: list[Finding]) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for f in findings:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    return {
        "count": len(findings),
        "striking": sum(f.severity == "striking" for f in findings),
        "by_kind": by_kind,
        "file": FINDINGS_FILE,
    }


def write_candidates(ctx: RunContext, stage: str, findings: list[Finding]) -> None:
    """Replace ``stage``'s rows of the candidate-findings table with these findings."""
    import pyarrow as pa

    rows = pd.DataFrame(
        {
            "stage": [stage] * len(findings),
            "json": [json.dumps(tag_counts(f.to_record())) for f in findings],
        },
        columns=["stage", "json"],
    ).astype(str)
    if ctx.engine.has_table(CANDIDATES_TABLE):
        ctx.engine.execute(f"DELETE FROM {quote_ident(CANDIDATES_TABLE)} WHERE stage = ?", [stage])
        mode = "append"
    else:
        mode = "replace"
    # an explicit schema: a stage with no findings first would type the empty columns as
    # null (DuckDB INT32) and the next stage's text would not fit
    schema = pa.schema([("stage", pa.string()), ("json", pa.string())])
    ctx.engine.write_table(
        CANDIDATES_TABLE,
        pa.Table.from_pandas(rows, schema=schema, preserve_index=False),
        mode=mode,
    )


def read_candidates(ctx: RunContext) -> list[Finding]:
    """Findings other stages wrote for ranking (see write_candidates)."""
    if not ctx.engine.has_table(CANDIDATES_TABLE):
        return []
    rows = _read(ctx, CANDIDATES_TABLE)
    return [Finding.from_record(cast(Any, untag_counts(json.loads(j)))) for j in rows["json"]]


def read_findings_document(ctx: RunContext) -> dict[str, Any] | None:
    """The findings document (as in findings.json, without its time stamp) from the store
    table the find stage wrote, in rank order; None when the find stage has not run."""
    from everyfamily.findings.engine import SCHEMA_VERSION

    if not ctx.engine.has_table(FINDINGS_TABLE):
        return None
    rows = ctx.engine.query(f"SELECT json FROM {quote_ident(FINDINGS_TABLE)} ORDER BY rank").column(
        "json"
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "findings": [json.loads(j) for j in rows.to_pylist()],
    }


def run_findings(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings,
    neighbours: Mapping[str, set[str]] | None = None,
    children: pd.DataFrame | None = None,
    linkage_by_group: pd.DataFrame | None = None,
    site_names: Mapping[str, str] | None = None,
    area_labels: Mapping[str, str] | None = None,
    area_members: AreaMembers | None = None,
    generated_at: str | None = None,
    candidates: list[Finding] | None = None,
    centroids: Mapping[str, tuple[float, float]] | None = None,
    trend_tests: pd.DataFrame | None = None,
    families: pd.DataFrame | None = None,
) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and the findings.json document (pure apart from the clock). ``trend_tests``:
    the trends stage's tests; a finding whose own series moved gets ``evidence["trend"]``
    (findings.detectors.trends.attach_trends)."""
    if children is not None and "in_age_range" in children.columns:
        children = children[children["in_age_range"].fillna(False).astype(bool)]
    findings = find(
        reach,
        settings=settings,
        neighbours=neighbours,
        children=children,
        linkage_by_group=linkage_by_group,
        site_names=site_names,
        area_labels=area_labels,
        area_members=area_members,
        candidates=candidates or (),
        centroids=centroids,
        families=families,
    )
    findings = attach_trends(findings, trend_tests)
    stamp = generated_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return findings, findings_document(findings, settings, stamp)


def _child_counts(ctx: RunContext) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The overlap cells and the family sizes, counted in the engine (None for what the
    children table cannot give)."""
    if not ctx.engine.has_table("children"):
        return None, None
    eng = ctx.engine
    have = set(eng.columns("children"))
    cells_sql, sizes_sql = overlap_cells_sql(eng, have), family_sizes_sql(eng, have)
    cells = eng.query(cells_sql).to_pandas() if cells_sql else None
    sizes = eng.query(sizes_sql).to_pandas() if sizes_sql else None
    return cells, sizes


def findings_stage(ctx: RunContext) -> None:
    """Write ``findings.json`` and the store table ``findings`` (see module docstring)."""
    if not ctx.engine.has_table("reach"):
        raise DataError(
            "the store has no 'reach' table", hint="run the measure (reach) stage first"
        )
    project = ctx.project
    settings = settings_for(project)
    if ctx.engine.has_table("reach_released"):
        # what reach.csv suppresses (secondary suppression included), findings never show
        released = _read(ctx, "reach_released")
        settings = dataclasses.replace(
            settings,
            withheld=withheld_cells(released),
            released_table=ReleasedTable.from_frame(released),
        )
    reach = _read(ctx, "reach")
    children, families = _child_counts(ctx)
    quality = (
        _read(ctx, "linkage_quality_by_group")
        if ctx.engine.has_table("linkage_quality_by_group")
        else None
    )
    labels, members = labels_and_members(ctx, reach, settings.small_area_level)
    findings, doc = run_findings(
        reach,
        settings=settings,
        neighbours=queen_neighbours(project),
        children=children,
        families=families,
        linkage_by_group=quality,
        site_names=_site_names(project),
        area_labels=labels,
        area_members=members,
        candidates=read_candidates(ctx),
        centroids=area_centroids(project),
        trend_tests=_read(ctx, TREND_TESTS_TABLE)
        if ctx.engine.has_table(TREND_TESTS_TABLE)
        else None,
    )
    (ctx.out_dir / FINDINGS_FILE).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    table = pd.DataFrame(
        [
            {
                "id": f["id"],
                "rank": f["rank"],
                "kind": f["kind"],
                "severity": f["evidence"]["severity"],
                "headline": f["headline"],
                "json": json.dumps(f),
            }
            for f in doc["findings"]
        ],
        columns=["id", "rank", "kind", "severity", "headline", "json"],
    )
    import pyarrow as pa

    ctx.engine.write_table(FINDINGS_TABLE, pa.Table.from_pandas(table, preserve_index=False))
    summary = _summary(findings)
    ctx.metadata["findings"] = summary
    ctx.echo(f"  {summary['count']} findings ({summary['striking']} striking)")
    for f in findings[:3]:
        ctx.echo(f"  {f.rank}. {f.headline}")


#: The find stage, declared once (everyfamily.stage).
STAGE = Stage(
    name="find",
    zone="analysis",
    order=60,
    run=findings_stage,
    reads=(
        "reach",
        "reach_released",
        "children",
        "linkage_quality_by_group",
        "reach_areas",
        CANDIDATES_TABLE,
        TREND_TESTS_TABLE,
    ),
    writes=(FINDINGS_TABLE,),
    sections=(ReportSection("findings", "What to raise", 40, template="findings"),),
)

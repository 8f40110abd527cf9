"""The trends stage: reach at every quarter end and its recent trend (the I/O edge of trends/).

Reads ``records`` and ``links`` (event dates, areas, sites), ``children`` (month of birth,
groups, record keys), ``area_membership`` and ``reach`` (area names); writes

* store ``trends``: exact counts per period x area x group x service (aggregates, with the
  record-key sums the cell key method needs);
* store ``trend_tests``: the recent-trend test of every series (findings.detectors.trends);
* ``trends.csv`` and a ``trends`` layer in ``reach.gpkg``: the table as released
  (trends.release: the same rules as reach.csv);
* ``declining_reach`` / ``improving_reach`` findings for the find stage to rank
  (``candidate_findings``).

One statement over the store computes every period (trends.periods); the population
estimate is brought to each period end by population.denominators. Nothing person-level
goes to the console or run.json.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from everyfamily.engines.base import quote_ident
from everyfamily.findings.detectors.trends import (
    DECREASING,
    INCREASING,
    NEIGHBOURHOOD,
    TREND_CLUSTER,
    TrendRules,
    find_reach_trends,
    pool_neighbourhoods,
    released_rates,
    trend_tests,
)
from everyfamily.findings.stage import (
    area_centroids,
    labels_and_members,
    queen_neighbours,
    settings_for,
    write_candidates,
)
from everyfamily.population.denominators import (
    check_vintage,
    load_births,
    load_population,
    project_population,
)
from everyfamily.privacy.release import ReleaseRules
from everyfamily.spreadsheet_safe import neutralise_table
from everyfamily.stage import ReportSection, Stage
from everyfamily.trends.compare_stage import report_lines, write_comparisons
from everyfamily.trends.periods import (
    COUNTS,
    PeriodQuery,
    age_band,
    coverage_start,
    periods_sql,
    quarter_ends,
    window_start,
)
from everyfamily.trends.release import RELEASED_COLUMNS, ons_by_period, release_trends
from everyfamily.trends.scan import ScanResult, cluster_tests

if TYPE_CHECKING:
    from everyfamily.config import Project
    from everyfamily.pipeline import RunContext

TRENDS_TABLE = "trends"
TESTS_TABLE = "trend_tests"
TRENDS_FILE = "trends.csv"
NEEDS = ("records", "links", "children", "area_membership")


def trends_stage(ctx: RunContext) -> None:
    """Measure every period, test the trends, release and write (module docstring)."""
    p = ctx.project
    ctx.metadata["compare"] = write_comparisons(ctx)
    if not p.trends.enabled:
        ctx.metadata["trends"] = {"skipped": "trends.enabled is false"}
        return
    missing = [t for t in NEEDS if not ctx.engine.has_table(t)]
    if missing:
        ctx.echo(f"  trends skipped: the store has no {', '.join(missing)} table")
        ctx.metadata["trends"] = {"skipped": f"no {', '.join(missing)} table"}
        return
    started = time.perf_counter()
    plan = _plan(ctx)
    if plan is None:
        return
    exact = measure_periods(ctx, plan)
    rules = ReleaseRules.from_settings(p.privacy)
    released = release_trends(exact, rules)
    tr = p.trends
    trule = TrendRules(tr.test_periods, tr.min_children, tr.min_change)
    pools = _pools(ctx) if tr.pool_neighbours else {}
    pooled = pool_neighbourhoods(exact, p.geography.small_area_level, pools)
    tests = trend_tests(pd.concat([exact, pooled], ignore_index=True), trule)
    released = _with_labels(released, tests)
    scan = _scan(ctx, exact, trule)
    if not scan.tests.empty:
        tests = pd.concat([tests, scan.tests], ignore_index=True)
        pooled = pd.concat([pooled, scan.series], ignore_index=True)
    shown = pd.concat([released, release_trends(pooled, rules)], ignore_index=True)
    tests = released_rates(tests, shown)
    _write(ctx, exact, released, tests)
    findings = _findings(ctx, tests, shown, plan, pools, scan.members)
    write_candidates(ctx, "trends", findings)
    summary = _summary(plan, tests, findings, time.perf_counter() - started, tr.test_periods)
    summary["report"] += report_lines(ctx.metadata["compare"])
    ctx.metadata["trends"] = summary
    ctx.echo(
        f"  trends: {len(plan.query.period_ends)} quarters, ages {plan.band[0]}-{plan.band[1]}, "
        f"{summary['series_tested']} series tested: {summary['decreasing']} falling, "
        f"{summary['increasing']} rising"
    )


class _Plan:
    """The periods, the age band, coverage dates and the group level of one run."""

    def __init__(
        self,
        query: PeriodQuery,
        band: tuple[int, int],
        births_from: dt.date | None,
        attendances_from: dt.date | None,
    ) -> None:
        self.query = query
        self.band = band
        self.births_from = births_from
        self.attendances_from = attendances_from

    def engaged_covered(self, period_end: dt.date) -> bool:
        """Does the attendance extract cover the whole engagement window ending here?"""
        if self.attendances_from is None:
            return False
        first_day = window_start(period_end, self.query.window_months) + dt.timedelta(days=1)
        return first_day >= self.attendances_from


def _monthly(ctx: RunContext, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    raw = ctx.engine.query(ctx.engine.dialect.portable(sql), params).to_pandas()
    if raw.empty:
        return pd.DataFrame({"month": [], "n": []})
    month = pd.to_datetime({"year": raw["y"].astype(int), "month": raw["m"].astype(int), "day": 1})
    return pd.DataFrame({"month": month, "n": raw["n"].astype(int)})


def _plan(ctx: RunContext) -> _Plan | None:
    p = ctx.project
    tr, eng = p.trends, p.engagement
    ends = quarter_ends(p.project.reference_date, tr.periods)
    births = _monthly(
        ctx,
        "SELECT EXTRACT(YEAR FROM month_of_birth) AS y, EXTRACT(MONTH FROM month_of_birth) AS m,"
        " COUNT(*) AS n FROM children WHERE month_of_birth IS NOT NULL GROUP BY 1, 2",
    )
    atts = _monthly(
        ctx,
        "SELECT EXTRACT(YEAR FROM event_date) AS y, EXTRACT(MONTH FROM event_date) AS m,"
        " COUNT(*) AS n FROM records WHERE role = ? AND event_date IS NOT NULL GROUP BY 1, 2",
        ["attendances"],
    )
    births_from = coverage_start(births, tr.coverage_share)
    top = tr.max_age_years if tr.max_age_years is not None else eng.max_age_years
    band = (
        (eng.min_age_years, top)
        if tr.max_age_years is not None
        else age_band(eng.min_age_years, top, ends[0], births_from)
    )
    if band is None:
        reason = "the extracts do not cover the births of any age at the first period"
        ctx.warn("trends", "trends_coverage", f"trends skipped: {reason}")
        ctx.metadata["trends"] = {"skipped": reason}
        return None
    have = set(ctx.engine.columns("children"))
    dims = tuple(d for d in tr.dimensions if d in have and d != "all")
    membership = ctx.engine.query(
        "SELECT level, COUNT(DISTINCT area_code) AS n FROM area_membership GROUP BY level"
    ).to_pandas()
    single = membership.loc[membership["n"] == 1, "level"].astype(str).tolist()
    query = PeriodQuery(
        period_ends=ends,
        window_months=eng.window_months,
        min_attendances=eng.min_attendances,
        min_age=band[0],
        max_age=band[1],
        dimensions=dims,
        group_level=single[0] if single else None,
    )
    return _Plan(query, band, births_from, coverage_start(atts, tr.coverage_share))


def measure_periods(ctx: RunContext, plan: _Plan) -> pd.DataFrame:
    """The exact trends table: the one-pass statement, engaged left out of periods the
    attendances do not cover, the population estimate of each period, area names."""
    q = plan.query
    sql, params = periods_sql(q, ctx.engine.dialect.quote_ident)
    out = ctx.engine.query(ctx.engine.dialect.portable(sql), params).to_pandas()
    for c in COUNTS:
        for col in (c, f"{c}_key"):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    ends = pd.Series(q.period_ends)
    out["period_end"] = out["period_index"].map(ends).astype(str)
    uncovered = [i for i, e in enumerate(q.period_ends) if not plan.engaged_covered(e)]
    off = out["period_index"].isin(uncovered)
    out.loc[off, ["engaged", "engaged_key"]] = float("nan")
    membership = ctx.engine.query("SELECT level, area_code, small_area FROM area_membership")
    ons = ons_by_period(
        q.period_ends, _population_on(ctx.project), plan.band, membership.to_pandas()
    )
    out = out.merge(ons, on=["period_index", "level", "area_code"], how="left")
    any_all = (out["service"] == "any") & (out["dimension"] == "all")
    out.loc[~any_all, "ons_population"] = float("nan")
    if ctx.engine.has_table("reach"):
        names = ctx.engine.query(
            "SELECT DISTINCT level, area_code, area_name FROM reach"
        ).to_pandas()
        out = out.merge(names.drop_duplicates(["level", "area_code"]), how="left")
    else:
        out["area_name"] = None
    out["age_band"] = f"{plan.band[0]}-{plan.band[1]}"
    frame: pd.DataFrame = out
    return frame


def _population_on(project: Project) -> Any:
    ps = project.population
    pop = load_population(project)
    births = load_births(ps.births) if ps.births is not None else None

    def on(date: dt.date) -> pd.DataFrame:
        projected, _info = project_population(
            pop, check_vintage(project, date), method=ps.projection, births=births
        )
        return projected

    return on


def _with_labels(released: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """The Fingertips recent-trend label of each series on its rows (registered_trend,
    engaged_trend: engagement of registered children for a site)."""
    out = released
    keys = ["level", "area_code", "dimension", "group_value", "service"]
    for measure, column in (
        ("registered_rate", "registered_trend"),
        ("engaged_rate", "engaged_trend"),
        ("engaged_of_registered", "engaged_trend"),
    ):
        if tests.empty:
            out[column] = out.get(column)
            continue
        t = tests.loc[tests["measure"] == measure, [*keys, "trend"]]
        merged = out[keys].astype(str).merge(t.astype(str), on=keys, how="left")["trend"]
        if column in out:
            out[column] = out[column].where(out[column].notna(), merged.to_numpy())
        else:
            out[column] = merged.to_numpy()
    return out


def _write(
    ctx: RunContext, exact: pd.DataFrame, released: pd.DataFrame, tests: pd.DataFrame
) -> None:
    store = exact.drop(columns=["period_index"]).assign(
        period_end=pd.to_datetime(exact["period_end"]).dt.date
    )
    public = released[list(RELEASED_COLUMNS)].reset_index(drop=True)
    tests_store = (
        tests.assign(
            first_period=tests["first_period"].astype(str),
            last_period=tests["last_period"].astype(str),
        )
        if not tests.empty
        else pd.DataFrame({"measure": pd.Series([], dtype=str)})
    )
    with ctx.engine.transaction():
        ctx.engine.write_table(TRENDS_TABLE, pa.Table.from_pandas(store, preserve_index=False))
        ctx.engine.write_table(TESTS_TABLE, pa.Table.from_pandas(tests_store, preserve_index=False))
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(public, preserve_index=False)
    pa_csv.write_csv(neutralise_table(table), ctx.out_dir / TRENDS_FILE)
    _write_layer(ctx, public)


def _write_layer(ctx: RunContext, public: pd.DataFrame) -> None:
    """The ``trends`` layer of reach.gpkg: the areas' 'all' / 'any' rows of every period,
    with the areas' shapes (small areas from the boundary file, larger ones dissolved)."""
    import geopandas as gpd

    from everyfamily.population.geography import load_small_areas

    path = ctx.out_dir / "reach.gpkg"
    small = load_small_areas(ctx.project)[["area_code", "geometry"]]
    membership = ctx.engine.query(
        "SELECT level, area_code, small_area FROM area_membership"
    ).to_pandas()
    geo = small.rename(columns={"area_code": "small_area"})
    m = gpd.GeoDataFrame(membership.merge(geo, on="small_area"), geometry="geometry", crs=small.crs)
    shapes = m.dissolve(by=["level", "area_code"], as_index=False)[
        ["level", "area_code", "geometry"]
    ]
    rows = public[(public["dimension"] == "all") & (public["service"] == "any")]
    layer = gpd.GeoDataFrame(
        rows.merge(shapes, on=["level", "area_code"]), geometry="geometry", crs=small.crs
    ).to_crs("EPSG:4326")
    layer.to_file(path, layer="trends", driver="GPKG")


def _scan(ctx: RunContext, exact: pd.DataFrame, rules: TrendRules) -> ScanResult:
    """The trend scan's clusters (trends.scan), when ``trends.scan_clusters`` is on and the
    small areas' centroids can be read (with ``trends.scan_flexible``, their contiguity adds the
    flexibly shaped zones)."""
    p = ctx.project
    if not p.trends.scan_clusters:
        return ScanResult(pd.DataFrame(), exact.iloc[0:0].copy(), {})
    return cluster_tests(
        exact,
        p.geography.small_area_level,
        rules.test_periods,
        rules.min_change,
        area_centroids(p),
        neighbours=queen_neighbours(p) if p.trends.scan_flexible else None,
        null=p.trends.scan_null,
        statistic=p.trends.scan_statistic,
    )


def _pools(ctx: RunContext) -> dict[str, frozenset[str]]:
    """Small area -> itself and its touching neighbours (none when the boundaries cannot
    be read)."""
    neighbours = queen_neighbours(ctx.project) or {}
    return {a: frozenset({a, *n}) for a, n in neighbours.items()}


def _findings(
    ctx: RunContext,
    tests: pd.DataFrame,
    released: pd.DataFrame,
    plan: _Plan,
    pools: dict[str, frozenset[str]],
    clusters: Mapping[str, frozenset[str]],
) -> list[Any]:
    if tests.empty:
        return []
    settings = settings_for(ctx.project)
    reach = (
        ctx.engine.query(
            f"SELECT DISTINCT level, area_code, area_name FROM {quote_ident('reach')}"
        ).to_pandas()
        if ctx.engine.has_table("reach")
        else pd.DataFrame({"level": [], "area_code": [], "area_name": []})
    )
    labels, _members = labels_and_members(ctx, reach, settings.small_area_level)
    membership = ctx.engine.query(
        "SELECT level, area_code, small_area FROM area_membership"
    ).to_pandas()
    by_level: dict[str, dict[str, frozenset[str]]] = {}
    for (level, code), g in membership.groupby(["level", "area_code"]):
        by_level.setdefault(str(level), {})[str(code)] = frozenset(g["small_area"].astype(str))
    by_level[NEIGHBOURHOOD] = pools
    by_level[TREND_CLUSTER] = dict(clusters)
    from everyfamily.population.attributes import load_sites

    names: dict[str, str] = {}
    if ctx.project.sites is not None:
        sites = load_sites(ctx.project.sites)
        names = dict(zip(sites["site_id"].astype(str), sites["site_name"].astype(str), strict=True))
    rel = released.assign(period_end=released["period_end"].astype(str))
    return find_reach_trends(
        tests,
        rel,
        settings=settings,
        age_band=plan.band,
        area_labels=labels,
        site_names=names,
        members=by_level,
    )


def _summary(
    plan: _Plan, tests: pd.DataFrame, findings: list[Any], seconds: float, test_periods: int
) -> dict[str, Any]:
    ends = plan.query.period_ends
    tested = int(tests["p_value"].notna().sum()) if not tests.empty else 0
    engaged_periods = sum(plan.engaged_covered(e) for e in ends)
    kinds = [f.kind for f in findings]
    lines = [
        f"Reach of children aged {plan.band[0]}-{plan.band[1]} at {len(ends)} quarter ends, "
        f"{ends[0].isoformat()} to {ends[-1].isoformat()} (trends.csv).",
        f"Engagement is measured at the {engaged_periods} quarter ends whose 12-month window "
        "the attendance extract covers.",
        f"{tested} series tested for a recent trend (chi-squared test for trend, latest "
        f"{test_periods} quarter ends, Benjamini-Hochberg): "
        f"{kinds.count('declining_reach')} falling and {kinds.count('improving_reach')} rising "
        "after merging areas that overlap.",
    ]
    return {
        "periods": len(ends),
        "first_period": ends[0].isoformat(),
        "last_period": ends[-1].isoformat(),
        "age_band": list(plan.band),
        "births_covered_from": plan.births_from.isoformat() if plan.births_from else None,
        "attendances_covered_from": plan.attendances_from.isoformat()
        if plan.attendances_from
        else None,
        "engaged_periods": engaged_periods,
        "series_tested": tested,
        "decreasing": int((tests["trend"] == DECREASING).sum()) if not tests.empty else 0,
        "increasing": int((tests["trend"] == INCREASING).sum()) if not tests.empty else 0,
        "findings": len(findings),
        "file": TRENDS_FILE,
        "seconds": round(seconds, 2),
        "report": lines,
    }


#: The trends stage, declared once (everyfamily.stage).
STAGE = Stage(
    name="trends",
    zone="analysis",
    order=52,
    run=trends_stage,
    reads=("records", "links", "children", "area_membership", "reach"),
    writes=(TRENDS_TABLE, TESTS_TABLE),
    may_write=("candidate_findings",),
    sections=(ReportSection("trends", "Reach over time", 35),),
)

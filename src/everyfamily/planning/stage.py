"""The planning stage: the costed scenarios of ``planning:`` (the I/O edge of planning/).

Runs after access (it needs the walking network, the children's home points and the access
model). Load: the access stage's geography, sites, network and children
(``access.stage._load``), the candidate venues' file, the walking minutes from every home
point to every site and venue (``access.measures.travel_matrix``), the access model refitted
on the same children (``access.measures.expected_reach``: its walking coefficient and
standard error), the cut-off areas of the access stage's barrier findings. Compute:
:func:`everyfamily.planning.plan.make_plan` (pure). Write OUT/plan/: plan.json (the contract,
docs/plan.schema.json), plan.csv (one row per scenario) and plan.gpkg (per scenario a layer
of the places open and a layer of areas with their children within reach, released).

Skipped with a reason when the project has no ``planning:`` or no ``access:`` block, or when
the access stage withheld its outputs (a network that failed its check).
``everyfamily plan`` runs :func:`replan` on a finished run without running it again.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.errors import ConfigError, InputError
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.config import PlanningSettings, Project
    from everyfamily.pipeline import RunContext
    from everyfamily.planning.plan import Plan, PlanData
    from everyfamily.privacy.release import ReleaseRules

NAME = "planning"
PLAN_DIR = "plan"
CSV_FIELDS = (
    "id",
    "name",
    "kind",
    "sites_open",
    "cost_per_year",
    "children_within_15_min",
    "expected_registered",
    "expected_registered_low",
    "expected_registered_high",
    "expected_engaged",
    "cost_per_child_engaged",
    "outreach_hours",
    "children_gaining",
    "children_losing",
    "expected_engaged_with_room",
    "children_served_within_15_min",
    "sessions_per_week",
    "illustrative_costs",
)


def _venues(p: PlanningSettings, to_xy: Any) -> pd.DataFrame:
    """The candidate venues' ids and projected points (those listed in planning.venues)."""
    if not p.venues:
        return pd.DataFrame({"site_id": [], "x": [], "y": [], "lon": [], "lat": []})
    vf = p.venues_file
    assert vf is not None  # the settings require it with venues
    try:
        raw = pd.read_csv(vf.path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError):
        raise InputError(
            f"{vf.path}: the venues file cannot be read as CSV", hint="check the path"
        ) from None
    for col in (vf.id_column, vf.latitude_column, vf.longitude_column):
        if col not in raw.columns:
            raise InputError(
                f"{vf.path}: no column {col!r}",
                hint="set planning.venues_file.id_column / latitude_column / longitude_column",
            )
    raw = raw.set_index(vf.id_column)
    rows = []
    for k, v in enumerate(p.venues):
        if v.id not in raw.index:
            raise InputError(
                f"{vf.path}: planning.venues[{k}] is {v.id!r}, which is not in column "
                f"{vf.id_column!r}",
                hint="add the venue's row (id, latitude, longitude) to the venues file",
            )
        try:
            lat = float(str(raw.loc[v.id, vf.latitude_column]))
            lon = float(str(raw.loc[v.id, vf.longitude_column]))
        except ValueError:
            lat = lon = math.nan
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise InputError(
                f"{vf.path}: venue {v.id!r} has no numeric latitude and longitude",
                hint="give decimal degrees (WGS84)",
            )
        rows.append((v.id, float(lon), float(lat)))
    lons = np.asarray([r[1] for r in rows])
    lats = np.asarray([r[2] for r in rows])
    x, y = to_xy(lons, lats)
    return pd.DataFrame(
        {
            "site_id": [r[0] for r in rows],
            "x": np.asarray(x),
            "y": np.asarray(y),
            "lon": lons,
            "lat": lats,
        }
    )


def _finding_areas(ctx: RunContext, stage: str, kind: str) -> tuple[str, ...]:
    """Small areas of one stage's candidate findings of one kind (candidate_findings)."""
    if not ctx.engine.has_table("candidate_findings"):
        return ()
    rows = ctx.engine.query(
        "SELECT json FROM candidate_findings WHERE stage = ?", [stage]
    ).to_pandas()
    out: list[str] = []
    for text in rows["json"]:
        f = json.loads(text)
        if f.get("kind") == kind:
            out += [str(a) for a in f.get("areas") or () if str(a) not in out]
    return tuple(out)


def _cut_off_areas(ctx: RunContext) -> tuple[str, ...]:
    """Small areas of the access stage's barrier findings."""
    return _finding_areas(ctx, "access", "access_barrier")


def emerging_areas(ctx: RunContext) -> tuple[str, ...]:
    """Small areas of the communities stage's emerging-community findings: the children
    living there carry ``planning.need_weights.emerging`` (an area-level flag, as the
    communities stage's origin estimate is: never a fact about a child)."""
    return _finding_areas(ctx, "communities", "emerging_community")


def load_plan_data(ctx: RunContext) -> tuple[PlanData, pd.DataFrame, Any] | str:
    """Everything :func:`make_plan` needs, with the places' WGS84 points and the small areas
    (for plan.gpkg); or the reason planning cannot run."""
    from pyproj import Transformer

    from everyfamily.access import measures as ms
    from everyfamily.access.stage import load_inputs
    from everyfamily.planning.plan import PlanData
    from everyfamily.planning.scenarios import WalkEffect

    p = ctx.project.planning
    a = ctx.project.access
    if p is None:
        return "no planning settings"
    if a is None:
        return "no access settings (planning needs the walking network)"
    got = load_inputs(ctx, a)
    if got is None:
        return "no sites"
    if got.check.problems(
        max_share_far=a.max_share_far_from_network,
        max_share_outside_main=a.max_share_outside_main_piece,
    ):
        return "the walking network failed its check (access outputs withheld)"
    file_ids = [str(s) for s in got.sites_xy["site_id"]]
    missing = [s for s in p.site_ids if s not in file_ids]
    extra = [s for s in file_ids if s not in p.site_ids]
    if missing or extra:
        which = missing[0] if missing else extra[0]
        raise ConfigError(
            f"planning.sites: site {which!r} is "
            + ("not in the sites file" if missing else "in the sites file but has no costs"),
            hint="list every site of the sites file under planning.sites, with its costs",
        )
    to_xy = Transformer.from_crs("EPSG:4326", got.crs, always_xy=True).transform
    venues = _venues(p, to_xy)
    sxy = got.sites_xy.set_index("site_id").loc[list(p.site_ids)].reset_index()
    lon, lat = got.to_wgs84(sxy["x"].to_numpy(), sxy["y"].to_numpy())
    sxy["lon"], sxy["lat"] = np.asarray(lon), np.asarray(lat)
    places = pd.concat([sxy, venues], ignore_index=True)
    kids = got.kids
    pts, inv = np.unique(kids[["x", "y"]].to_numpy(dtype="float64"), axis=0, return_inverse=True)
    mat = ms.travel_matrix(
        got.graph, pts[:, 0], pts[:, 1], places["x"], places["y"], places["site_id"]
    )
    minutes = ms.minutes(mat.network_m, a.walking_speed_kmh)
    minutes = np.where(np.isfinite(minutes), minutes, np.inf)
    kids = kids.assign(point=inv.reshape(-1))
    n_sites = len(p.site_ids)
    walk = minutes[kids["point"].to_numpy(), :n_sites].min(axis=1)
    kids["walk_min"] = np.where(np.isfinite(walk), walk, np.nan)
    model = ms.expected_reach(kids, with_access=True)
    coef = model.coefficients.get("log_walk_min")
    se = model.bse.get("log_walk_min")
    if coef is None or se is None:
        return "the access model has no walking-time term (too few children or no variation)"
    kids["expected_registered"] = np.clip(model.expected, 0.0, 1.0)
    kids["engaged"] = kids["engaged"].fillna(False).astype(bool)
    emerging = set(emerging_areas(ctx))
    kids["emerging"] = kids["area_code"].astype("string").isin(emerging).fillna(False)
    small = got.small.to_crs(got.crs)
    area_m2 = dict(
        zip(small["area_code"].astype(str), small.geometry.area.astype(float), strict=True)
    )
    data = PlanData(
        children=kids,
        minutes=minutes,
        place_ids=tuple(str(i) for i in places["site_id"]),
        effect=WalkEffect(float(coef), float(se), p.walk_cap_minutes),
        cut_off_areas=_cut_off_areas(ctx),
        area_m2=area_m2,
        note=got.note,
    )
    return data, places, got.small


def plan_stage(ctx: RunContext) -> None:
    """Run the plan of the project's ``planning:`` block (module docstring)."""
    p = ctx.project.planning
    scen = p.scenarios_path if p is not None else None
    replan(ctx, scen, ctx.out_dir / PLAN_DIR)


def replan(
    ctx: RunContext, scenarios: Path | None, out: Path, step: Callable[[str], Any] | None = None
) -> Plan | None:
    """Load, plan (pure) and write to ``out``; None (and the reason in run.json's
    ``planning``) when planning cannot run. ``step`` hears each step's name (the Plan
    page's progress)."""
    from everyfamily.planning.plan import make_plan
    from everyfamily.planning.scenario_file import read_scenarios
    from everyfamily.privacy.release import ReleaseRules

    console = ctx.progress.steps("planning", 3)  # console only: names and counts

    def tell(message: str) -> None:
        console(message)
        if step is not None:
            step(message)

    tell("loading the walking network, the children's homes and the access model")
    got = load_plan_data(ctx)
    if isinstance(got, str):
        ctx.echo(f"  planning skipped: {got}")
        ctx.metadata[NAME] = {"skipped": got}
        return None
    data, places, small = got
    settings = ctx.project.planning
    assert settings is not None
    spec = read_scenarios(scenarios) if scenarios is not None else None
    rules = ReleaseRules.from_settings(ctx.project.privacy)
    tell(f"solving {len(spec.scenarios) if spec is not None else 'the default'} scenario(s)")
    plan = make_plan(data, settings, spec, rules)
    tell(f"writing {len(plan.scenarios)} scenario(s): plan.json, plan.csv and plan.gpkg")
    write_plan(out, plan, places, small, data, rules)
    ctx.metadata[NAME] = _summary(plan, out, ctx.out_dir)
    ctx.echo(f"  {len(plan.scenarios)} scenarios planned; {plan.keep_check['reason']}")
    return plan


def plan_from_run(
    project: Project,
    run_dir: Path,
    *,
    scenarios: Path | None = None,
    out: Path | None = None,
    echo: Any = print,
    environ: Mapping[str, str] | None = None,
    step: Callable[[str], Any] | None = None,
) -> Path:
    """``everyfamily plan``: plan again from a finished run's stores (read-only), with
    another scenario file, into ``out`` (default RUN/plan). Raises when planning cannot run
    (the reason in one line). ``step`` hears each step's name (the Plan page's progress)."""
    from everyfamily.errors import DataError
    from everyfamily.pipeline import RunContext
    from everyfamily.stores import ZONES, open_run_stores

    if project.planning is None:
        raise ConfigError(
            "the project file has no planning: block",
            hint="add planning: (costs of sites, venues, sessions; docs/planning.md)",
        )
    if not (Path(run_dir) / "run.json").is_file():
        raise InputError(f"{run_dir}: no run.json", hint="give the output folder of a run")
    scen = scenarios if scenarios is not None else project.planning.scenarios_path
    if scen is not None:
        # a bad scenario file fails before any store is opened
        from everyfamily.planning.scenario_file import read_scenarios

        read_scenarios(scen)
    target = Path(out) if out is not None else Path(run_dir) / PLAN_DIR
    engine = open_run_stores(Path(run_dir), zones=ZONES, read_only=True, environ=environ)
    try:
        ctx = RunContext(project, Path(run_dir), engine, echo, environ=environ)
        done = replan(ctx, scen, target, step)
    finally:
        engine.close()
    if done is None:
        raise DataError(
            f"planning cannot run on {run_dir}: {ctx.metadata[NAME]['skipped']}",
            hint="see docs/planning.md (what planning needs)",
        )
    return target


def _summary(plan: Plan, out: Path, run_dir: Path) -> dict[str, Any]:
    """run.json's ``planning``: released figures only, and the report's lines."""
    try:
        where = str(out.relative_to(run_dir))
    except ValueError:
        where = str(out)
    lines = []
    if plan.illustrative:
        lines.append("ILLUSTRATIVE COSTS: the demo's made-up figures, not any council's.")
    lines += [f"Assumption: {a}" for a in plan.assumptions]
    lines.append(f"Cheapest set keeping today's reach: {plan.keep_check['reason']}.")
    lines += _curve_lines(plan)
    room = any("children_served_within_15_min" in s for s in plan.scenarios)
    head = [
        "Scenario",
        "Kind",
        "Places open",
        "Cost a year",
        "Within 15 min",
        *(["Within 15 min with room"] if room else []),
        "Expected registered (95% interval)",
        "Expected engaged",
        "Cost per child engaged",
        "Gain",
        "Lose",
    ]
    table = ["\t".join(head)]
    for s in plan.scenarios:
        lo, hi = s["expected_registered_interval"]
        n15, cpe = s["children_within_15_min"], s["cost_per_child_engaged"]
        table.append(
            "\t".join(
                [
                    s["name"],
                    s["kind"],
                    str(len(s["sites_open"])),
                    f"{s['cost_per_year']:,.0f}",
                    "withheld" if n15 is None else f"{n15:,}",
                    *([_count(s.get("children_served_within_15_min"))] if room else []),
                    f"{s['expected_registered']:,} ({lo:,} to {hi:,})",
                    f"{s['expected_engaged']:,}",
                    "" if cpe is None else f"{cpe:,.0f}",
                    f"{_total(s['gains']):,}",
                    f"{_total(s['losses']):,}",
                ]
            )
        )
    return {
        "dir": where,
        "scenarios": len(plan.scenarios),
        "illustrative": plan.illustrative,
        "keep_check": plan.keep_check,
        "report": lines + table,
    }


def _count(n: Any) -> str:
    return "withheld" if n is None else f"{int(n):,}"


def _curve_lines(plan: Plan) -> list[str]:
    """The report's lines on the optimised sessions and the marginal curve (what its points
    count: plan.json's marginal_curve_basis)."""
    out = []
    for s in plan.scenarios:
        if s.get("sessions_per_week"):
            chosen = ", ".join(f"{k} {v:g}" for k, v in s["sessions_per_week"].items())
            out.append(f"Sessions a week chosen for {s['name']}: {chosen}.")
    if plan.marginal_curve:
        what = (
            "children within 15 minutes the best places and sessions have room for "
            "(the capacitated optimum at each budget)"
            if plan.marginal_curve_basis == "served"
            else "children within 15 minutes of the best places (whether the places have "
            "room is not counted in the curve)"
        )
        points = "; ".join(
            f"{c['budget']:,.0f}: {_count(c['children_within_15_min'])}"
            for c in plan.marginal_curve
        )
        out.append(f"Marginal curve, {what}, by budget a year: {points}.")
    return out


def _total(changes: list[dict[str, Any]]) -> int:
    """Released children gaining (or losing) reach: the sum of the released area counts."""
    return sum(int(c["children"] or 0) for c in changes if c["dimension"] == "area")


def write_plan(
    out: Path, plan: Plan, places: pd.DataFrame, small: Any, data: PlanData, rules: ReleaseRules
) -> None:
    """plan.json, plan.csv and plan.gpkg in ``out`` (each written whole, then moved)."""
    out.mkdir(parents=True, exist_ok=True)
    _atomic_text(out / "plan.json", json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n")
    _write_csv(out / "plan.csv", plan)
    _write_gpkg(out / "plan.gpkg", plan, places, small, data, rules)


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _write_csv(path: Path, plan: Plan) -> None:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n")
    w.writeheader()
    for s in plan.scenarios:
        lo, hi = s["expected_registered_interval"]
        w.writerow(
            {
                "id": s["id"],
                "name": s["name"],
                "kind": s["kind"],
                "sites_open": ";".join(s["sites_open"]),
                "cost_per_year": s["cost_per_year"],
                "children_within_15_min": s["children_within_15_min"],
                "expected_registered": s["expected_registered"],
                "expected_registered_low": lo,
                "expected_registered_high": hi,
                "expected_engaged": s["expected_engaged"],
                "cost_per_child_engaged": s["cost_per_child_engaged"],
                "outreach_hours": s["outreach_hours"],
                "children_gaining": _total(s["gains"]),
                "children_losing": _total(s["losses"]),
                "expected_engaged_with_room": s.get("expected_engaged_with_room"),
                "children_served_within_15_min": s.get("children_served_within_15_min"),
                "sessions_per_week": ";".join(
                    f"{k}={v:g}" for k, v in (s.get("sessions_per_week") or {}).items()
                ),
                "illustrative_costs": plan.illustrative,
            }
        )
    _atomic_text(path, buf.getvalue())


def _write_gpkg(
    path: Path, plan: Plan, places: pd.DataFrame, small: Any, data: PlanData, rules: ReleaseRules
) -> None:
    """Per scenario: ``<id>_places`` (points of the places open) and ``<id>_areas`` (small
    areas with their children within reach, released with record keys)."""
    import geopandas as gpd

    from everyfamily.planning.budgets import released
    from everyfamily.privacy.cellkey import child_record_keys

    kids = data.children.reset_index(drop=True)
    keys = child_record_keys(kids["person_id"]).to_numpy(dtype="int64")
    area = kids["area_code"].astype("string").fillna("").to_numpy(dtype=object)
    codes = [str(c) for c in small["area_code"]]
    by_code = {c: area == c for c in codes}
    tmp = path.with_name(f".{path.stem}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for s in plan.scenarios:
        sid = s["id"]
        open_ = places[places["site_id"].astype(str).isin(s["sites_open"])]
        pts = gpd.GeoDataFrame(
            {
                "place_id": open_["site_id"].astype(str).to_numpy(),
                "illustrative_costs": plan.illustrative,
            },
            geometry=gpd.points_from_xy(open_["lon"], open_["lat"]),
            crs="EPSG:4326",
        )
        pts.to_file(tmp, layer=f"{sid}_places", driver="GPKG")
        within = plan.within[sid]
        masks = [by_code[c] & within for c in codes]
        shown = released(masks, keys, rules)
        areas = gpd.GeoDataFrame(
            {"area_code": codes, "children_within_15_min": pd.array(shown, dtype="Int64")},
            geometry=small.geometry.to_crs("EPSG:4326").to_numpy(),
            crs="EPSG:4326",
        )
        areas.to_file(tmp, layer=f"{sid}_areas", driver="GPKG")
    os.replace(tmp, path)


#: The planning stage, declared once (everyfamily.stage).
STAGE = Stage(
    name=NAME,
    zone="analysis",
    order=55,
    run=plan_stage,
    reads=("children", "records", "links", "candidate_findings"),
    sections=(
        ReportSection("plan", "Plan: the service options side by side", 58, template="plan"),
    ),
)

"""The communities stage: notice emerging communities from the signals councils hold.

Runs after measure (it needs the store's ``children`` table) and before find (which ranks its
findings with the rest). The I/O edge of communities/: it reads the restricted ``children``,
``records`` and ``links`` tables, gives each child an origin group inside this function
(signals.py; never written anywhere), and writes only aggregates:

* candidate findings of kind ``emerging_community`` (findings.stage.write_candidates);
* store table ``community_tests``: every area x group test with its exact counts (restricted:
  small counts, for the analyst; never released as it is);
* ``communities.json``: the emerging-community layer for the dashboard and report, every
  count released through disclosure control;
* run.json ``communities``: how many tests, findings, and how each child's group was known
  (released counts; the smallest q-value as a one-figure upper bound).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.communities import engine_sums
from everyfamily.communities.detect import DEFAULT_GROUPS, Detection, DetectSettings, detect
from everyfamily.communities.groups import GROUP_LABELS, GROUPS
from everyfamily.communities.nameorigin import EVALUATION_FILE, NameOriginModel, load_model
from everyfamily.communities.signals import assign_groups, child_names
from everyfamily.errors import ConfigError, InputError
from everyfamily.findings.stage import (
    CANDIDATES_TABLE,
    labels_and_members,
    queen_neighbours,
    settings_for,
    write_candidates,
)
from everyfamily.findings.text import released
from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.privacy.release import ReleaseRules, release_child_counts
from everyfamily.stage import MapOverlay, ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.config import CensusBaselineSettings, Project
    from everyfamily.findings.model import FindingsSettings
    from everyfamily.pipeline import RunContext

COMMUNITIES_FILE = "communities.json"
TESTS_TABLE = "community_tests"
STAGE_NAME = "communities"
CHILD_COLUMNS = (
    "person_id",
    "area_code",
    "month_of_birth",  # the analysis store keeps the month only; births are counted by year
    "in_age_range",
    "known",
    "registered",
    "engaged",
    "ethnicity",
    "main_language",
    "mother_country_of_birth",
    "interpreter_needed",
)


def load_baseline(settings: CensusBaselineSettings) -> pd.DataFrame:
    """area_code, total and one column per configured group (the sum of its census columns)."""
    path = settings.path
    if not path.is_file():
        raise InputError(
            f"{path}: census baseline file not found",
            hint="fix communities.census_baseline.path in the project file or remove the block",
        )
    from everyfamily.population.tables import read_csv_table

    frame = read_csv_table(path, "census baseline", "communities.census_baseline.path")
    needed = [settings.area_column, settings.total_column] + [
        c for cols in settings.group_columns.values() for c in cols
    ]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: column {missing[0]!r} (communities.census_baseline) is not in the file",
            hint=f"the file's columns are: {', '.join(frame.columns[:20])}",
        )
    unknown = [g for g in settings.group_columns if g not in GROUPS]
    if unknown:
        raise ConfigError(
            f"communities.census_baseline.group_columns: {unknown[0]!r} is not an origin group",
            hint=f"use one of: {', '.join(GROUPS)}",
        )
    out = pd.DataFrame({"area_code": frame[settings.area_column].astype(str)})

    def number(column: str) -> pd.Series:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 2  # header is line 1
            raise InputError(
                f"{path}, line {row}, column {column!r}: expected a count",
                hint="census baseline columns must hold whole numbers",
            )
        return values

    out["total"] = number(settings.total_column)
    for group, columns in settings.group_columns.items():
        out[group] = sum((number(c) for c in columns), pd.Series(0.0, index=frame.index))
    return out


def _read(ctx: RunContext, sql: str) -> pd.DataFrame:
    frame: pd.DataFrame = ctx.engine.query(sql).to_pandas()
    return frame


def _select(ctx: RunContext, have: set[str], wanted: tuple[str, ...], prefix: str = "") -> str:
    q = ctx.engine.dialect.quote_ident
    return ", ".join(f"{prefix}{q(c)}" if c in have else f"NULL AS {q(c)}" for c in wanted)


def detect_settings(project: Project) -> DetectSettings:
    cs = project.communities
    groups = tuple(cs.groups) if cs.groups else DEFAULT_GROUPS
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ConfigError(
            f"communities.groups: {unknown[0]!r} is not an origin group",
            hint=f"use one of: {', '.join(GROUPS)}",
        )
    return DetectSettings(
        reference_date=project.project.reference_date,
        min_recent_births=cs.min_recent_births,
        min_rate_ratio=cs.min_rate_ratio,
        groups=groups,
        findings=settings_for(project),
    )


def _names(ctx: RunContext) -> pd.DataFrame | None:
    """Each child's recorded names (communities/signals.child_names), when the store has
    records with names and their links; in memory only."""
    if not (ctx.engine.has_table("records") and ctx.engine.has_table("links")):
        return None
    have = set(ctx.engine.columns("records"))
    if not {"first_name", "last_name"} & have:
        return None
    cols = _select(ctx, have, ("service_type", "first_name", "last_name"), "r.")
    records = _read(
        ctx,
        f"SELECT l.person_id, {cols} FROM records r JOIN links l "
        "ON r.source = l.source AND r.record_id = l.record_id",
    )
    return child_names(records)


def _assigned(ctx: RunContext, model: NameOriginModel | None, ref: dt.date) -> pd.DataFrame:
    """The children with their origin group and basis. Counted in the engine
    (engine_sums.cells: area x age x flags x group cells with ``n`` and summed
    ``record_key``; names read by the model once per distinct pair); a store whose children
    have no record keys (written before cell keys) still gives a row per child."""
    if "record_key" in ctx.engine.columns("children"):
        return engine_sums.cells(ctx.engine, model, ref)
    cols = _select(ctx, set(ctx.engine.columns("children")), CHILD_COLUMNS)
    children = _read(ctx, f"SELECT {cols} FROM children")
    children = children.rename(columns={"month_of_birth": "date_of_birth"})
    return assign_groups(children, _names(ctx) if model is not None else None, model)


def _released_by_basis(in_age: pd.DataFrame, fs: FindingsSettings) -> dict[str, int | None]:
    """Under-fives by the signal their origin came from, released: under the cell key
    method (the default) each count is perturbed with the cell key of exactly its children
    (privacy.release.release_child_counts, as the findings' counts are), so 1-7 never
    appears; under suppress_round, suppressed and rounded."""
    by = in_age.assign(_basis=in_age["basis"].fillna("none").astype(str))
    if "n" in by.columns:  # cells of children counted in the engine (engine_sums.py)
        by = by.assign(_n=by["n"].astype("int64"), _key=by["record_key"].astype("int64"))
        agg = by.groupby("_basis").agg(size=("_n", "sum"), sum=("_key", "sum"))
        agg = agg.sort_values("size", ascending=False)
        if fs.release_method != "cell_key":
            return {str(k): released(int(v), fs) for k, v in agg["size"].items()}
    elif fs.release_method != "cell_key" or "person_id" not in by.columns:
        return {str(k): released(int(v), fs) for k, v in by["_basis"].value_counts().items()}
    else:
        by = by.assign(_key=child_record_keys(by["person_id"]).to_numpy(dtype="int64"))
        agg = by.groupby("_basis")["_key"].agg(["size", "sum"])
        agg = agg.sort_values("size", ascending=False)
    rules = ReleaseRules(fs.suppress_at_or_below, fs.rounding, "cell_key")
    values = release_child_counts(agg["size"].to_numpy(), agg["sum"].to_numpy(), rules)
    return {
        str(k): (round(float(v)) if np.isfinite(v) else None)
        for k, v in zip(agg.index, values, strict=True)
    }


def communities_document(
    project: Project,
    settings: DetectSettings,
    assigned: pd.DataFrame,
    model: NameOriginModel | None,
    result: Detection,
) -> dict[str, Any]:
    """communities.json (pure apart from the clock and the shipped model's evaluation
    file): the groups, the signals each under-five's origin came from (released counts),
    the classifier's held-out accuracy and the communities found."""
    cs = project.communities
    fs = settings.findings

    in_age = assigned[assigned["in_age_range"].fillna(False).astype(bool)]
    basis = _released_by_basis(in_age, fs)
    evaluation = json.loads(EVALUATION_FILE.read_text(encoding="utf-8"))
    return {
        "schema_version": 1,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "groups": [{"key": g, "label": GROUP_LABELS[g]} for g in settings.groups],
        "baseline": cs.census_baseline.vintage
        if cs.census_baseline
        else "the rest of the borough (no census baseline configured)",
        "signals": {
            "order": ["country_of_birth", "language", "ethnicity", "name"],
            "under_fives_by_signal": basis,
        },
        "classifier": {
            "version": model.version if model is not None else None,
            "used": model is not None,
            "held_out_accuracy": evaluation["overall_accuracy"],
            "held_out_accuracy_by_group": {
                g: v["accuracy"] for g, v in evaluation["per_group"].items()
            },
            "note": "Held-out Faker names, not an independent source (docs/name-origin.md).",
        },
        "note": "Origin is an area-level estimate from recorded signals and names; it is "
        "never shown as a fact about a child.",
        "communities": result.communities,
    }


def communities_stage(ctx: RunContext) -> None:
    """Find emerging communities (see module docstring)."""
    project = ctx.project
    cs = project.communities
    if not cs.enabled:
        ctx.echo("  communities: switched off in the project file")
        ctx.metadata["communities"] = {"skipped": "disabled"}
        return
    if not ctx.engine.has_table("children"):
        ctx.echo("  communities skipped: the store has no 'children' table (run measure first)")
        ctx.metadata["communities"] = {"skipped": "no children table"}
        return
    settings = detect_settings(project)
    if ctx.engine.has_table("reach_released"):
        # what reach.csv suppresses (secondary suppression included), findings never show
        from everyfamily.findings.stage import withheld_cells
        from everyfamily.findings.text import ReleasedTable

        shown = _read(ctx, "SELECT * FROM reach_released")
        # the areas' and everyone else's counts come from these released cells (detect.py)
        fs = dataclasses.replace(
            settings.findings,
            withheld=withheld_cells(shown),
            released_table=ReleasedTable.from_frame(shown),
        )
        settings = dataclasses.replace(settings, findings=fs)
    model = load_model() if cs.use_names else None
    assigned = _assigned(ctx, model, project.project.reference_date)
    baseline = load_baseline(cs.census_baseline) if cs.census_baseline else None
    labels: dict[str, str] = {}
    if ctx.engine.has_table("reach"):
        reach = _read(ctx, "SELECT level, area_code, area_name FROM reach")
        labels, _ = labels_and_members(ctx, reach, settings.findings.small_area_level)
    result = detect(
        assigned,
        settings,
        confusion=model.confusion if model is not None else None,
        neighbours=queen_neighbours(project),
        baseline=baseline,
        area_labels=labels,
    )
    write_candidates(ctx, STAGE_NAME, result.findings)
    import pyarrow as pa

    if not result.tests.empty:
        ctx.engine.write_table(
            TESTS_TABLE, pa.Table.from_pandas(result.tests, preserve_index=False)
        )
    doc = communities_document(project, settings, assigned, model, result)
    basis = doc["signals"]["under_fives_by_signal"]
    (ctx.out_dir / COMMUNITIES_FILE).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    ctx.metadata["communities"] = {
        **result.summary,
        "under_fives_by_signal": basis,
        "file": COMMUNITIES_FILE,
    }
    ctx.echo(
        f"  {result.summary.get('tests', 0)} area x group tests, "
        f"{len(result.findings)} emerging communities"
    )
    for f in result.findings[:3]:
        ctx.echo(f"  {f.headline}")


#: The communities stage, declared once (everyfamily.stage).
STAGE = Stage(
    name="communities",
    zone="analysis",
    order=40,
    run=communities_stage,
    reads=("children", "reach_released", "records", "links", "reach"),
    may_write=("community_tests", CANDIDATES_TABLE),
    sections=(ReportSection("communities", "Emerging communities", 60, template="communities"),),
    overlays=(MapOverlay("communities_emerging", "Emerging communities (areas)"),),
)

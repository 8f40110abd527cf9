"""The ``since`` stage (order 53): what changed since the previous run, and the run history.

I/O edge of :mod:`everyfamily.since.flows`. Reads this run's ``children`` and
``area_membership`` (analysis zone) and, when the project names a previous run
(``project.previous_run_path``, checked by :mod:`everyfamily.since.previous` before the run
starts), that run's ``children`` from its analysis store, opened READ-ONLY. Writes:

- store ``run_history`` (analysis zone, aggregates only): one snapshot per reference date,
  per area of every level: children counted, registered, engaged. The stores are carried
  from run to run, so the history accumulates without keeping any child row of earlier
  runs: a twelfth monthly run reads one previous child table, never eleven;
- store ``since_last_run`` (exact counts and their record-key sums) and
  OUT/since_last_run.csv + since_last_run.json, the counts released by the project's method
  (``privacy.release.release_child_counts``: cell key perturbation with the children's
  record keys, or suppression and rounding), and the report lines of its section.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from everyfamily.privacy.release import ReleaseRules, release_child_counts, rule_text
from everyfamily.since import flows
from everyfamily.spreadsheet_safe import neutralise_table
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine
    from everyfamily.pipeline import RunContext

CHANGES_TABLE = "since_last_run"
HISTORY_TABLE = "run_history"
CHANGES_FILE = "since_last_run.csv"
CHANGES_JSON = "since_last_run.json"
HISTORY_FILE = "run_history.csv"
#: Columns of run_history.csv, in order.
HISTORY_COLUMNS: tuple[str, ...] = (
    "reference_date",
    "level",
    "area_code",
    "area_name",
    *flows.HISTORY_COUNTS,
    "registered_rate",
    "engaged_rate",
)
#: Columns of since_last_run.csv, in order.
RELEASED_COLUMNS: tuple[str, ...] = (
    "previous_reference_date",
    "reference_date",
    "level",
    "area_code",
    "area_name",
    *flows.COUNTS,
)


def _table(engine: Engine, name: str) -> pd.DataFrame:
    frame: pd.DataFrame = engine.query(
        f"SELECT * FROM {engine.dialect.quote_ident(name)}"
    ).to_pandas()
    return frame


def since_stage(ctx: RunContext) -> None:
    """The run history always; the changes since the previous run when one is named."""
    engine = ctx.engine
    if not (engine.has_table("children") and engine.has_table("area_membership")):
        ctx.metadata["since"] = {"skipped": "no children or area_membership table"}
        return
    children = _table(engine, "children")
    membership = _table(engine, "area_membership")
    ref = ctx.project.project.reference_date
    small = set(membership["small_area"].astype(str))
    away_now = flows.moved_away(_latest_universal(engine, ref), small)
    history = _write_history(ctx, flows.history_rows(children, membership, ref, away_now))
    rules = ReleaseRules.from_settings(ctx.project.privacy)
    shown_history = _release_history(ctx, history, rules, _area_names(engine))
    history_lines = _history_lines(shown_history)
    prev_dir = ctx.project.project.previous_run_path
    if prev_dir is None:
        # an empty table: every run's store holds the same tables (catalogue.py)
        empty = flows.change_counts(flows.child_changes(children, children, ref), membership)
        ctx.engine.write_table(
            CHANGES_TABLE,
            pa.Table.from_pandas(
                empty.iloc[:0].assign(reconciles=True, agrees_with_reach=True),
                preserve_index=False,
            ),
        )
        ctx.metadata["since"] = {
            "previous_run": None,
            "report": [
                "No previous run was named (project.previous_run_path, or `everyfamily run "
                "--previous-run DIR`), so nothing is compared with an earlier run.",
                *history_lines,
            ],
        }
        return
    from everyfamily.since.previous import check_previous_run
    from everyfamily.stores import open_run_stores

    prev = check_previous_run(prev_dir, ref)
    old = open_run_stores(prev.path, environ=ctx.environ)
    try:
        previous_children = _table(old, "children")
    finally:
        old.close()
    away_then = flows.moved_away(_latest_universal(engine, prev.reference_date), small)
    changes = flows.child_changes(
        previous_children,
        children,
        prev.reference_date,
        away_then=away_then,
        away_now=away_now,
    )
    exact = flows.change_counts(changes, membership)
    ok = flows.reconciles(exact)
    with_reach = flows.agrees_with_reach(exact)
    released = _released(exact, rules, _area_names(engine))
    released.insert(0, "reference_date", ref.isoformat())
    released.insert(0, "previous_reference_date", prev.reference_date.isoformat())
    _write_changes(
        ctx,
        exact.assign(reconciles=ok, agrees_with_reach=with_reach),
        released[list(RELEASED_COLUMNS)],
    )
    borough = released[released["level"] == "borough"]
    record: dict[str, Any] = {
        "previous_run": str(prev.path),
        "previous_reference_date": prev.reference_date.isoformat(),
        "areas": len(exact),
        "reconciles_exactly": bool(ok.all()),
        "agrees_with_reach_exactly": bool(with_reach.all()),
        "report": [
            *_report_lines(borough, prev.reference_date, ref, bool(ok.all()), rules),
            *history_lines,
        ],
    }
    ctx.metadata["since"] = record
    _write_json(ctx, released, record, rules)
    ctx.echo(
        f"  since {prev.reference_date.isoformat()}: {len(exact)} areas, exact counts "
        f"{'reconcile' if ok.all() else 'DO NOT reconcile'}"
    )


def _latest_universal(engine: Engine, on: dt.date) -> pd.DataFrame:
    """person_id, area_code of each child's latest universal record with a valid postcode
    dated on or before ``on`` (event date, else date of birth), read in the engine: only
    the pseudonym and the small area leave it. The records carried in the store are
    cumulative, so this gives the previous run's answer too, with ``on`` its date."""
    if not (engine.has_table("records") and engine.has_table("links")):
        return pd.DataFrame({"person_id": [], "area_code": []})
    q = engine.dialect.quote_ident
    sql = engine.dialect.portable(
        f"""
        WITH u AS (
          SELECT l.person_id, r.area_code,
                 ROW_NUMBER() OVER (
                   PARTITION BY l.person_id
                   ORDER BY COALESCE(r.event_date, r.date_of_birth) DESC, r.source, r.record_id
                 ) AS rk
          FROM {q("records")} AS r
          JOIN {q("links")} AS l ON l.source = r.source AND l.record_id = r.record_id
          WHERE r.service_type = 'universal' AND r.postcode_valid
            AND COALESCE(r.event_date, r.date_of_birth) <= ?
        )
        SELECT person_id, area_code FROM u WHERE rk = 1
        """
    )
    frame: pd.DataFrame = engine.query(sql, [on]).to_pandas()
    return frame


def _area_names(engine: Engine) -> pd.DataFrame:
    if not engine.has_table("reach"):
        return pd.DataFrame({"level": [], "area_code": [], "area_name": []})
    q = engine.dialect.quote_ident
    frame: pd.DataFrame = engine.query(
        f"SELECT DISTINCT level, area_code, area_name FROM {q('reach')}"
    ).to_pandas()
    return frame.drop_duplicates(["level", "area_code"])


def _released(exact: pd.DataFrame, rules: ReleaseRules, names: pd.DataFrame) -> pd.DataFrame:
    """Every count released through the one path for counts of children
    (``release_child_counts``) with the record-key sum of exactly its children."""
    out = exact[["level", "area_code"]].copy()
    for c in flows.COUNTS:
        n = exact[c].to_numpy(dtype="float64")
        shown = release_child_counts(n, exact[f"{c}_key"].to_numpy(dtype="int64"), rules)
        out[c] = pd.array([None if np.isnan(v) else int(v) for v in shown], dtype="Int64")
    out = out.merge(names, on=["level", "area_code"], how="left")
    return out


def _write_history(ctx: RunContext, rows: pd.DataFrame) -> pd.DataFrame:
    """Replace this reference date's snapshot in ``run_history`` and keep every other; the
    whole history, as written. Snapshots of older stores carry no record-key sums (NA:
    their counts are withheld when released)."""
    engine = ctx.engine
    if engine.has_table(HISTORY_TABLE):
        old = _table(engine, HISTORY_TABLE)
        old = (
            old[old["reference_date"].astype(str) != rows["reference_date"].iloc[0]]
            if len(rows)
            else old
        )
        rows = pd.concat([old, rows], ignore_index=True)
    rows = rows.astype({"known": "int64", "registered": "int64", "engaged": "int64"})
    for c in flows.HISTORY_COUNTS:
        rows[f"{c}_key"] = pd.to_numeric(rows[f"{c}_key"], errors="coerce").astype("Int64")
    rows = rows.sort_values(["reference_date", "level", "area_code"]).reset_index(drop=True)
    engine.write_table(HISTORY_TABLE, pa.Table.from_pandas(rows, preserve_index=False))
    return rows


def _release_history(
    ctx: RunContext, history: pd.DataFrame, rules: ReleaseRules, names: pd.DataFrame
) -> pd.DataFrame:
    """OUT/run_history.csv: every snapshot's counts released by the project's method with
    the record keys of exactly their children (a snapshot without keys is withheld), and
    the rates of known children registered / engaged from the released counts, shown only
    when the release rule allows them."""
    out = history[["reference_date", "level", "area_code"]].copy()
    for c in flows.HISTORY_COUNTS:
        keys = history[f"{c}_key"]
        n = history[c].to_numpy(dtype="float64")
        n = np.where(keys.isna().to_numpy(), np.nan, n)
        shown = release_child_counts(n, keys.fillna(0).to_numpy(dtype="int64"), rules)
        out[c] = pd.array([None if np.isnan(v) else int(v) for v in shown], dtype="Int64")
    for num, rate in (("registered", "registered_rate"), ("engaged", "engaged_rate")):
        out[rate] = [
            round(float(x) / float(n), 4) if rules.rate_allowed(x, n) else None
            for x, n in zip(out[num].astype("float64"), out["known"].astype("float64"), strict=True)
        ]
    out = out.merge(names, on=["level", "area_code"], how="left")[list(HISTORY_COLUMNS)]
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(out.reset_index(drop=True), preserve_index=False)
    pa_csv.write_csv(neutralise_table(table), ctx.out_dir / HISTORY_FILE)
    return out


def _history_lines(shown: pd.DataFrame) -> list[str]:
    """The report's lines on the run history: one per reference date, borough counts as
    released (run_history.csv)."""
    borough = shown[shown["level"] == "borough"].sort_values("reference_date")
    if borough.empty:
        return []

    def n(v: object) -> str:
        return "a few" if pd.isna(v) else f"{int(v):,}"  # type: ignore[call-overload]

    runs = [
        f"{r.reference_date}: {n(r.known)} known, {n(r.registered)} registered, "
        f"{n(r.engaged)} engaged"
        for r in borough.itertuples(index=False)
    ]
    return [
        f"Run history ({len(runs)} reference date{'s' if len(runs) != 1 else ''}, "
        f"run_history.csv): " + "; ".join(runs) + "."
    ]


def _write_changes(ctx: RunContext, exact: pd.DataFrame, public: pd.DataFrame) -> None:
    ctx.engine.write_table(CHANGES_TABLE, pa.Table.from_pandas(exact, preserve_index=False))
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(public.reset_index(drop=True), preserve_index=False)
    pa_csv.write_csv(neutralise_table(table), ctx.out_dir / CHANGES_FILE)


def _write_json(
    ctx: RunContext, released: pd.DataFrame, record: dict[str, Any], rules: ReleaseRules
) -> None:
    def row(r: pd.Series) -> dict[str, Any]:
        out: dict[str, Any] = {k: r[k] for k in ("level", "area_code")}
        out["area_name"] = None if pd.isna(r["area_name"]) else str(r["area_name"])
        for c in flows.COUNTS:
            out[c] = None if pd.isna(r[c]) else int(r[c])
        return out

    doc = {
        "previous_reference_date": record["previous_reference_date"],
        "reference_date": ctx.project.project.reference_date.isoformat(),
        "reconciles_exactly": record["reconciles_exactly"],
        "agrees_with_reach_exactly": record["agrees_with_reach_exactly"],
        "release_rule": rule_text(rules),
        "note": "previous + born + arrived + moved_in - moved_out - aged_out - left - relinked "
        "= current "
        "holds exactly on the exact counts (checked: reconciles_exactly); the counts shown "
        "are released (protected), so they may not add up exactly; current + away = "
        "reach_known (the known population of reach.csv, which places a child who moved out "
        "of the borough at their last record in it) holds exactly too (agrees_with_reach_exactly)",
        "areas": [row(r) for _, r in released.iterrows()],
    }
    (ctx.out_dir / CHANGES_JSON).write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _report_lines(
    borough: pd.DataFrame, prev: dt.date, ref: dt.date, ok: bool, rules: ReleaseRules
) -> list[str]:
    """The section's text, from released borough counts only."""
    if borough.empty:
        return [f"Compared with the run of {prev.isoformat()}: no borough total."]
    b = borough.iloc[0]

    def n(c: str) -> str:
        v = b[c]
        return "a few" if pd.isna(v) else f"{int(v):,}"

    return [
        f"Since the last run ({prev.isoformat()}), to {ref.isoformat()}: {n('current')} "
        f"children known across the borough, against {n('previous')} then.",
        f"Joined: {n('born')} born since, {n('arrived')} arrived or newly known. Left: "
        f"{n('aged_out')} reached the upper age, {n('left')} moved out of the borough or are "
        f"no longer known; {n('relinked')} earlier ids were merged into another child's by "
        "linkage (a correction, not a child leaving).",
        f"{n('newly_registered')} children registered with a centre for the first time; "
        f"{n('lapsed')} who were engaged at the last run are not engaged now.",
        f"Against reach.csv: it counts {n('reach_known')} children known, the {n('current')} "
        f"here and {n('away')} whose latest health visitor or registration record is outside "
        "the borough (reach.csv still places them at their last address in it; here they "
        "have moved out).",
        "Exact counts reconcile (previous + joined - left = current, in every area)."
        if ok
        else "WARNING: the exact counts do not reconcile; please report this.",
        f"How the counts shown are protected: {rule_text(rules)} So the counts shown may "
        "not add up exactly; since_last_run.csv has every area.",
    ]


STAGE = Stage(
    name="since",
    zone="analysis",
    order=53,
    run=since_stage,
    reads=("records", "links", "children", "area_membership", "reach"),
    writes=(HISTORY_TABLE, CHANGES_TABLE),
    sections=(ReportSection("since", "Since the last run", 36),),
)

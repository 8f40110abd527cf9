"""The linkage stage: records -> children (person_id) -> families (family_id), stable ids.

I/O edge of the linkage package. It reads the store table ``records``, runs Splink on the
engine's own connection (in the pipeline the identifiable zone is current, so Splink's
working tables, which hold names, stay in the encrypted identifiable store), and writes:

- identifiable store: ``links`` (every record with its ids), ``id_registry`` (record -> ids,
  carried to the next run), ``id_events`` (new / merge / split, appended per run),
  ``clerical_review`` (a stratified sample of borderline pairs with their identifiers, to
  extract with ``everyfamily extract OUT clerical_review --to FILE``);
- analysis store: ``linkage_quality_by_group`` (model-based precision and recall by group,
  no truth needed; see estimated_quality.py; reach and findings read it);
- linkage/: the trained model and diagnostics an analyst can read without ground truth
  (parameters, match weights, chart specs, cluster sizes, unlinkable records, and
  quality_by_group.csv: the estimated quality by group, small groups left out). Nothing in
  linkage/ holds a value from a person-level record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from everyfamily.config import LinkageSettings
from everyfamily.engines.base import Engine
from everyfamily.errors import DataError, LinkageError
from everyfamily.linkage import anchors, coverage, diagnostics
from everyfamily.linkage import estimated_quality as est_quality
from everyfamily.linkage import model as link_model
from everyfamily.linkage.id_registry import reused_model, stable_ids
from everyfamily.linkage.name_keys import NAME_KEYS
from everyfamily.linkage.nicknames import nickname_map
from everyfamily.linkage.prepare import IDENTITIES, NICKNAMES, RECORD_IDENTITY, prepare_identities
from everyfamily.linkage.stable_ids import IdEvent
from everyfamily.schema import LINKS_COLUMNS
from everyfamily.stage import Stage

if TYPE_CHECKING:
    from everyfamily.pipeline import RunContext

REGISTRY_TABLE = "id_registry"
EVENTS_TABLE = "id_events"
LINKS_TABLE = "links"
REVIEW_TABLE = "clerical_review"
_IDENTITY_CLUSTER = "ef_link_identity_cluster"
_PAIRS = "ef_link_pairs"

#: Probability bands for the clerical-review sample (lower bound inclusive).
REVIEW_BANDS: tuple[tuple[float, float], ...] = (
    (0.05, 0.2),
    (0.2, 0.5),
    (0.5, 0.8),
    (0.8, 0.9),
    (0.9, 0.95),
    (0.95, 0.99),
)


@dataclass(frozen=True)
class LinkageResult:
    """Aggregate facts about a linkage run (no person-level values)."""

    n_records: int
    n_identities: int
    n_persons: int
    n_families: int
    n_pairs_scored: int
    n_links: int
    n_unlinkable_identities: int
    model_source: str
    events: dict[str, int]
    timings_seconds: dict[str, float] = field(default_factory=dict)
    #: Model-based estimates over the scored pairs (no truth; see estimated_quality.py).
    estimated_precision: float | None = None
    estimated_recall: float | None = None
    #: Pairs blocking never compared and their expected links (see coverage.py).
    blocking_coverage: dict[str, Any] = field(default_factory=dict)
    #: Recall by group from pairs sharing an NHS number (see anchors.py).
    anchor_recall: dict[str, Any] = field(default_factory=dict)
    #: A previous run's model reused, or why not (id_registry.reused_model); {} when no
    #: previous run was named.
    model_reuse: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def linkage_stage(ctx: RunContext) -> None:
    """Pipeline stage: link the store's records and record the outcome in run.json."""
    from everyfamily.privacy.pseudonyms import load_key

    key = load_key(ctx.project.privacy, ctx.environ)
    run = str(ctx.metadata.get("started_at") or dt.datetime.now(dt.UTC).isoformat())
    settings, reuse = reused_model(ctx.project.linkage, ctx.project.project.previous_run_path)
    result = link_records(
        ctx.engine,
        settings,
        key=key,
        out_dir=ctx.out_dir,
        run=run,
        seed=ctx.seed,
        echo=ctx.echo,
        step=ctx.progress.steps(
            "link", 4 + link_model.em_session_count(ctx.project.linkage.name_variants)
        ),
        model_reuse=reuse,
    )
    ctx.metadata["linkage"] = result.to_dict()


def _scalar(engine: Engine, sql: str, params: list[Any] | None = None) -> Any:
    return engine.query(sql, params).column(0)[0].as_py()


def link_records(
    engine: Engine,
    settings: LinkageSettings,
    *,
    key: bytes,
    out_dir: Path,
    run: str,
    seed: int | None = None,
    echo: Callable[[str], None] = lambda _m: None,
    records_table: str = "records",
    step: Callable[[str], None] = lambda _m: None,
    model_reuse: dict[str, Any] | None = None,
) -> LinkageResult:
    """Link ``records_table`` in ``engine`` and write every output (see module docstring):
    prepare, train (or load) the model, score and cluster, give stable ids, write."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    diag_dir = out_dir / "linkage"
    diag_dir.mkdir(parents=True, exist_ok=True)
    n_records = _count_records(engine, records_table)
    step(f"preparing {n_records:,} records")
    n_identities = prepare_identities(
        engine,
        nickname_map(multilingual=settings.name_variants),
        records_table,
        name_variants=settings.name_variants,
        address_history=settings.address_history,
    )
    timings["prepare"] = time.perf_counter() - t0

    model_args = (engine, settings, n_identities, seed, echo, diag_dir, timings, step)
    linker, model_source = _model(*model_args)
    step(f"scoring pairs of {n_identities:,} distinct records")
    threshold = settings.match_threshold
    floor = min(settings.review_min_probability, threshold)
    # Scored down to a lower floor than the review needs, so the quality estimate sees the
    # borderline non-links (the expected missed links).
    score_floor = min(floor, est_quality.QUALITY_FLOOR)
    _score(engine, linker, threshold, score_floor, timings)
    t = time.perf_counter()
    probe = coverage.score_unblocked(
        engine, linker, identities_table=IDENTITIES, pairs_table=_PAIRS, floor=score_floor
    )
    timings["blocking_probe"] = time.perf_counter() - t

    unlinkable = _diagnose(linker, threshold, n_identities, diag_dir, timings)

    t = time.perf_counter()
    ids = stable_ids(engine, settings, key, records_table, _IDENTITY_CLUSTER, REGISTRY_TABLE)
    timings["stable_ids"] = time.perf_counter() - t

    t = time.perf_counter()
    links = _links(engine, ids.records, threshold)
    _write_outputs(
        engine,
        links,
        ids.previous,
        ids.persons.events,
        ids.families.events,
        run=run,
        records_table=records_table,
    )
    n_links, n_pairs = _pairs_at_least(engine, threshold), _pairs_at_least(engine, floor)
    _write_clerical_review(
        engine,
        per_band=settings.clerical_review_per_band,
        seed=settings.seed if seed is None else seed,
        floor=floor,
        threshold=threshold,
    )
    diagnostics.cluster_sizes(links).to_csv(diag_dir / "cluster_sizes.csv", index=False)
    events = event_counts(ids.persons.events, ids.families.events)
    timings["outputs"] = time.perf_counter() - t
    t = time.perf_counter()
    estimate, blocking, anchored = _estimate_quality(
        engine, diag_dir, threshold, score_floor, records_table, probe
    )
    timings["quality_estimate"] = time.perf_counter() - t
    _drop_working_tables(engine)
    result = LinkageResult(
        n_records=n_records,
        n_identities=n_identities,
        n_persons=int(links["person_id"].nunique()),
        n_families=int(links["family_id"].nunique()),
        n_pairs_scored=n_pairs,
        n_links=n_links,
        n_unlinkable_identities=unlinkable,
        model_source=model_source,
        events=events,
        timings_seconds={k: round(v, 3) for k, v in timings.items()},
        estimated_precision=round(estimate.precision, 6),
        estimated_recall=round(estimate.recall, 6),
        blocking_coverage=blocking,
        anchor_recall=anchored,
        model_reuse=model_reuse or {},
    )
    _write_summary(diag_dir, result, estimate, threshold, floor, score_floor, run)
    _echo_result(echo, result, estimate)
    return result


def _diagnose(
    linker: Any, threshold: float, n_identities: int, diag_dir: Path, timings: dict[str, float]
) -> int:
    """Write Splink's diagnostics, drop its scratch tables; the unlinkable identities."""
    t = time.perf_counter()
    unlinkable = diagnostics.unlinkables(linker, threshold, n_identities)
    diagnostics.write_diagnostics(linker, diag_dir)
    timings["diagnostics"] = time.perf_counter() - t
    with contextlib.suppress(Exception):  # cleanup of Splink's scratch tables: best effort
        linker.table_management.delete_tables_created_by_splink_from_db()
    return unlinkable


def _count_records(engine: Engine, records_table: str) -> int:
    """Rows to link; none is a one-line DataError (nothing was loaded)."""
    q = engine.dialect.quote_ident
    n = 0
    if engine.has_table(records_table):
        n = int(_scalar(engine, f"SELECT count(*) FROM {q(records_table)}"))
    if n == 0:
        raise DataError("there are no records to link", hint="check the ingest stage loaded rows")
    return n


def _estimate_quality(
    engine: Engine,
    diag_dir: Path,
    threshold: float,
    score_floor: float,
    records_table: str,
    probe: dict[str, Any],
) -> tuple[Any, Any, Any]:
    """The model-based quality estimate, overall and by group, the pairs blocking never
    compared by group (coverage.py) and the recall anchored on NHS numbers (anchors.py),
    all written to ``diag_dir``."""
    estimate = est_quality.write_estimated_quality(
        engine,
        diag_dir,
        threshold=threshold,
        pairs_table=_PAIRS,
        identities_table=IDENTITIES,
        record_identity_table=RECORD_IDENTITY,
        records_table=records_table,
        floor=score_floor,
    )
    blocking = coverage.write_blocking_coverage(
        engine,
        diag_dir,
        threshold=threshold,
        pairs_table=_PAIRS,
        identities_table=IDENTITIES,
        record_identity_table=RECORD_IDENTITY,
        records_table=records_table,
        probe=probe,
    )
    model = json.loads((diag_dir / "model.json").read_text(encoding="utf-8"))
    anchored = anchors.write_anchor_recall(
        engine,
        diag_dir,
        model,
        threshold=threshold,
        pairs_table=_PAIRS,
        identities_table=IDENTITIES,
        record_identity_table=RECORD_IDENTITY,
        records_table=records_table,
    )
    return estimate, blocking, anchored


def _echo_result(echo: Callable[[str], None], result: LinkageResult, estimate: Any) -> None:
    echo(
        f"  {result.n_records:,} records -> {result.n_persons:,} children in "
        f"{result.n_families:,} families"
    )
    echo(
        f"  estimated linkage precision {100 * estimate.precision:.2f}%, recall "
        f"{100 * estimate.recall:.2f}% (from the model's probabilities; no truth)"
    )


def _drop_working_tables(engine: Engine) -> None:
    for name in (
        _PAIRS,
        _IDENTITY_CLUSTER,
        RECORD_IDENTITY,
        IDENTITIES,
        NICKNAMES,
        NAME_KEYS,
        coverage.UNBLOCKED,
        anchors.ANCHORS,
    ):
        engine.drop_table(name)


def _pairs_at_least(engine: Engine, least: float) -> int:
    """Scored pairs with a match probability of at least ``least``."""
    q = engine.dialect.quote_ident
    sql = f"SELECT count(*) FROM {q(_PAIRS)} WHERE match_probability >= ?"
    return int(_scalar(engine, sql, [float(least)]))


def _model(
    engine: Engine,
    settings: LinkageSettings,
    n_identities: int,
    seed: int | None,
    echo: Callable[[str], None],
    diag_dir: Path,
    timings: dict[str, float],
    step: Callable[[str], None] = lambda _m: None,
) -> tuple[Any, str]:
    """The Splink linker, its model trained here (EM, Fellegi-Sunter) or loaded from
    ``linkage.model_path``, saved to linkage/model.json; and where the model came from."""
    api = engine.splink_api()
    linker = link_model.build_linker(
        api,
        IDENTITIES,
        model_path=settings.model_path,
        blocking_rules=settings.blocking_rules,
        name_variants=settings.name_variants,
        address_history=settings.address_history,
    )
    t = time.perf_counter()
    if settings.model_path is None:
        if n_identities < 2:
            raise LinkageError(
                "there is only one distinct record: nothing to link", hint="check the inputs"
            )
        report = link_model.train(
            linker,
            seed=settings.seed if seed is None else seed,
            max_pairs_for_u=settings.max_pairs_for_u,
            max_pairs_for_em=settings.max_pairs_for_em,
            name_variants=settings.name_variants,
            n_identities=n_identities,
            step=step,
        )
        model_source = report.model_source
        echo(f"  trained the linkage model on {n_identities:,} distinct records")
    else:
        model_source = str(settings.model_path)
        echo("  reused the saved linkage model")
    linker.misc.save_model_to_json(str(diag_dir / "model.json"), overwrite=True)
    timings["train"] = time.perf_counter() - t
    return linker, model_source


def _score(
    engine: Engine, linker: Any, threshold: float, score_floor: float, timings: dict[str, float]
) -> None:
    """Score record pairs down to ``score_floor`` and cluster at ``threshold``, into the
    working tables ``ef_link_pairs`` and ``ef_link_identity_cluster``."""
    t = time.perf_counter()
    try:
        predictions = linker.inference.predict(
            threshold_match_probability=score_floor, warning_mode="never"
        )
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
    except Exception as exc:  # Splink/DuckDB errors (e.g. a bad custom blocking rule)
        raise LinkageError(
            f"scoring record pairs failed ({type(exc).__name__})",
            hint="check linkage.blocking_rules and linkage.model_path",
        ) from exc
    # Splink's own tables, named by Splink on this engine's connection
    q = engine.dialect.quote_ident
    engine.replace_table_as(
        _PAIRS,
        "SELECT unique_id_l, unique_id_r, match_probability, match_weight"
        f" FROM {q(predictions.physical_name)}",
    )
    engine.replace_table_as(
        _IDENTITY_CLUSTER, f"SELECT unique_id, cluster_id FROM {q(clusters.physical_name)}"
    )
    timings["predict_cluster"] = time.perf_counter() - t


def _links(engine: Engine, records: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The links table: every record with its ids and its best match probability within
    its cluster (1.0 for a record with an exact duplicate)."""
    q = engine.dialect.quote_ident
    pairs, cl, ri, ids = q(_PAIRS), q(_IDENTITY_CLUSTER), q(RECORD_IDENTITY), q(IDENTITIES)
    best = engine.query(
        f"""
        WITH e AS (
            SELECT p.unique_id_l AS u, p.match_probability AS p FROM {pairs} AS p
            JOIN {cl} AS a ON a.unique_id = p.unique_id_l
            JOIN {cl} AS b ON b.unique_id = p.unique_id_r
            WHERE a.cluster_id = b.cluster_id AND p.match_probability >= ?
            UNION ALL
            SELECT p.unique_id_r, p.match_probability FROM {pairs} AS p
            JOIN {cl} AS a ON a.unique_id = p.unique_id_l
            JOIN {cl} AS b ON b.unique_id = p.unique_id_r
            WHERE a.cluster_id = b.cluster_id AND p.match_probability >= ?)
        SELECT r.source, r.record_id,
               CASE WHEN i.n_records > 1 THEN 1.0 ELSE max(e.p) END AS match_probability
        FROM {ri} AS r
        JOIN {ids} AS i ON i.unique_id = r.identity_id
        LEFT JOIN e ON e.u = r.identity_id
        GROUP BY r.source, r.record_id, i.n_records
    """,
        [threshold, threshold],
    ).to_pandas()
    return records.merge(best, on=["source", "record_id"], how="left")[list(LINKS_COLUMNS)]


def event_counts(
    person_events: tuple[IdEvent, ...], family_events: tuple[IdEvent, ...]
) -> dict[str, int]:
    """How many ids were created, merged and split, for persons and families."""
    events = {
        f"{ent}_{kind}": 0 for ent in ("person", "family") for kind in ("new", "merge", "split")
    }
    for ent, evs in (("person", person_events), ("family", family_events)):
        for e in evs:
            events[f"{ent}_{e.kind}"] += 1
    return events


def _write_summary(
    diag_dir: Path,
    result: LinkageResult,
    estimate: Any,
    threshold: float,
    floor: float,
    score_floor: float,
    run: str,
) -> None:
    """linkage/summary.json: the result, the thresholds and the model-based estimate."""
    summary = {
        **result.to_dict(),
        "match_threshold": threshold,
        "review_min_probability": floor,
        "quality_estimate": {
            "method": est_quality.METHOD,
            "probability_floor": score_floor,
            "expected_true_links_accepted": round(estimate.true_positives, 2),
            "expected_false_links": round(estimate.false_positives, 2),
            "expected_missed_links": round(estimate.false_negatives, 2),
            "note": "model-based (sums of match probabilities), only as good as the model's "
            "calibration; pairs never scored are not counted; see "
            f"linkage/{est_quality.QUALITY_FILE}",
        },
        "run": run,
        "family_rule": "shared (parent formal name, parent surname, postcode) or "
        "(address, postcode, child surname); see linkage/families.py",
    }
    (diag_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


def _write_outputs(
    engine: Engine,
    links: pd.DataFrame,
    previous: pd.DataFrame,
    person_events: tuple[IdEvent, ...],
    family_events: tuple[IdEvent, ...],
    *,
    run: str,
    records_table: str,
) -> None:
    current = links[["source", "record_id", "person_id", "family_id"]].copy()
    current["last_seen_run"] = run
    if len(previous):
        prev = previous.copy()
        if "first_seen_run" not in prev.columns:
            prev["first_seen_run"] = None
        if "last_seen_run" not in prev.columns:
            prev["last_seen_run"] = None
        first = prev.set_index(["source", "record_id"])["first_seen_run"]
        idx = pd.MultiIndex.from_frame(current[["source", "record_id"]])
        current["first_seen_run"] = first.reindex(idx).fillna(run).to_numpy()
        kept = prev.merge(
            current[["source", "record_id"]], how="left", indicator=True, on=["source", "record_id"]
        )
        kept = kept[kept["_merge"] == "left_only"].drop(columns="_merge")
        registry = pd.concat([current, kept[current.columns]], ignore_index=True)
    else:
        current["first_seen_run"] = run
        registry = current
    registry = registry[
        ["source", "record_id", "person_id", "family_id", "first_seen_run", "last_seen_run"]
    ].astype("string")
    rows = [
        {
            "run": run,
            "entity": ent,
            "kind": e.kind,
            "id": e.id,
            "other_ids": list(e.other_ids),
            "n_records": e.n_records,
        }
        for ent, evs in (("person", person_events), ("family", family_events))
        for e in evs
    ]
    events = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("run", pa.string()),
                ("entity", pa.string()),
                ("kind", pa.string()),
                ("id", pa.string()),
                ("other_ids", pa.list_(pa.string())),
                ("n_records", pa.int64()),
            ]
        ),
    )
    links_tbl = pa.Table.from_pandas(
        links,
        preserve_index=False,
        schema=pa.schema(
            [
                ("source", pa.string()),
                ("record_id", pa.string()),
                ("person_id", pa.string()),
                ("family_id", pa.string()),
                ("match_probability", pa.float64()),
            ]
        ),
    )
    registry_tbl = pa.Table.from_pandas(registry, preserve_index=False)
    with engine.transaction():
        engine.write_table(LINKS_TABLE, links_tbl)
        engine.write_table(REGISTRY_TABLE, registry_tbl)
        engine.write_table(EVENTS_TABLE, events, mode="append")


_REVIEW_FIELDS = (
    "nhs_number",
    "first_name_match",
    "last_name_match",
    "date_of_birth",
    "sex",
    "postcode",
    "parent_first_name_match",
    "parent_last_name_match",
)


def _write_clerical_review(
    engine: Engine, *, per_band: int, seed: int, floor: float, threshold: float
) -> None:
    """A stratified sample of borderline pairs: ``per_band`` pairs from each probability
    band, chosen by a seeded hash so the same run samples the same pairs."""
    bands = [(lo, hi) for lo, hi in REVIEW_BANDS if hi > floor]
    case = " ".join(
        f"WHEN p.match_probability >= {lo!r} AND p.match_probability < {hi!r} THEN '{lo:g}-{hi:g}'"
        for lo, hi in bands
    )
    q = engine.dialect.quote_ident
    fields = ", ".join(
        f"l.{q(f)} AS {q(f + '_l')}, r.{q(f)} AS {q(f + '_r')}" for f in _REVIEW_FIELDS
    )
    pairs, ri, ids = q(_PAIRS), q(RECORD_IDENTITY), q(IDENTITIES)
    order = engine.dialect.hash_expr("p.unique_id_l", "p.unique_id_r", "?")
    prob = engine.dialect.round_expr("b.match_probability", 4)
    weight = engine.dialect.round_expr("b.match_weight", 2)
    sql = f"""
        WITH banded AS (
            SELECT p.*, CASE {case} END AS band,
                   row_number() OVER (PARTITION BY CASE {case} END
                                      ORDER BY {order}) AS k
            FROM {pairs} AS p WHERE p.match_probability >= ?)
        SELECT b.band, {prob} AS match_probability, {weight} AS match_weight,
               b.match_probability >= ? AS linked_at_threshold,
               (SELECT min(source || ':' || record_id) FROM {ri}
                 WHERE identity_id = b.unique_id_l) AS example_record_l,
               (SELECT min(source || ':' || record_id) FROM {ri}
                 WHERE identity_id = b.unique_id_r) AS example_record_r,
               {fields},
               '' AS same_child_yes_no, '' AS reviewer_notes
        FROM banded AS b
        JOIN {ids} AS l ON l.unique_id = b.unique_id_l
        JOIN {ids} AS r ON r.unique_id = b.unique_id_r
        WHERE b.band IS NOT NULL AND b.k <= ?
        ORDER BY b.band, b.k
    """
    # standard SQL around the dialect's own fragments (hash, round): already in the engine's
    # dialect, so not transpiled again (sqlglot would read them as DuckDB's)
    sample = engine.query(sql, [seed, floor, threshold, per_band])
    engine.write_table(REVIEW_TABLE, sample)


#: The link stage, declared once (everyfamily.stage).
STAGE = Stage(
    name="link",
    zone="identifiable",
    order=20,
    run=linkage_stage,
    reads=("records", REGISTRY_TABLE),
    writes=(
        LINKS_TABLE,
        REGISTRY_TABLE,
        EVENTS_TABLE,
        REVIEW_TABLE,
        est_quality.QUALITY_TABLE,
    ),
)

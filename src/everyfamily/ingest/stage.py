"""The ingest stage: every source of the project, read, standardised, loaded, reconciled.

For each source: read it as text (readers), recognise a batch already loaded by its content
fingerprint (nothing changes then), standardise and split into records and quarantine
(standardise), and write both in one transaction (store). The console and the run metadata
get, per source, rows read = rows loaded + rows quarantined, with counts by reason and flag;
never a value from a row.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from everyfamily.config import Project, SourceSettings
from everyfamily.engines.base import Engine
from everyfamily.errors import DataError
from everyfamily.ingest.readers import RawBatch, read_source
from everyfamily.ingest.standardise import PostcodePlacer, Standardised, standardise
from everyfamily.ingest.store import BatchOutcome, StepHook, load_batch, previous_batch
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.pipeline import RunContext

Echo = Callable[[str], None]


@dataclass(frozen=True)
class SourceReport:
    outcome: BatchOutcome
    format: str
    encoding: str | None
    delimiter: str | None
    reasons: dict[str, int]
    flags: dict[str, int]


def build_placer(project: Project) -> PostcodePlacer:
    """The postcode placer from the project's geography (boundaries read only if needed)."""
    from everyfamily.population.geography import load_postcode_lookup, load_small_areas

    lookup = load_postcode_lookup(project)
    located = lookup["latitude"].notna() & lookup["longitude"].notna()
    need_pip = bool((lookup["area_code"].isna() & located).any())
    return PostcodePlacer(lookup, load_small_areas(project) if need_pip else None)


def _counts(values: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    flat = pc.list_flatten(values)
    if len(flat) == 0:
        return {}
    vc = pc.value_counts(flat).to_pylist()
    return dict(sorted((str(d["values"]), int(d["counts"])) for d in vc))


def check_quarantined_share(std: Standardised, source: SourceSettings) -> None:
    """Stop before loading when more than ``max_quarantined_share`` of the rows would be
    quarantined: a source that is mostly rejected is almost always misconfigured (a wrong
    column, date format or header row), and loading it would understate the reach silently.
    The message gives counts and the commonest reasons, never a row's values."""
    if std.rows_read == 0 or std.rows_quarantined <= source.max_quarantined_share * std.rows_read:
        return
    reasons = _counts(std.quarantine.column("reasons"))
    top = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    share = std.rows_quarantined / std.rows_read
    raise DataError(
        f"source {source.name!r} ({std.location}): {std.rows_quarantined:,} of "
        f"{std.rows_read:,} rows ({share:.0%}) would be quarantined, more than "
        f"max_quarantined_share {source.max_quarantined_share:.0%}; commonest reasons: {top}",
        hint="check the source's columns, date_formats and options.skip_rows with "
        "'everyfamily validate', or raise max_quarantined_share for this source",
    )


def ingest_source(
    source: SourceSettings,
    project: Project,
    engine: Engine,
    *,
    placer: PostcodePlacer | None,
    hook: StepHook | None = None,
) -> SourceReport:
    """Read, standardise and load one source; returns its reconciliation."""
    raw: RawBatch = read_source(source)
    earlier = previous_batch(engine, source.name, raw.batch_id)
    if earlier is not None:
        return SourceReport(earlier, source.file_format, raw.encoding, raw.delimiter, {}, {})
    std: Standardised = standardise(
        raw,
        source,
        reference_date=project.project.reference_date,
        min_age_years=project.engagement.min_age_years,
        max_age_years=project.engagement.max_age_years,
        placer=placer if "postcode" in source.columns else None,
    )
    check_quarantined_share(std, source)
    outcome = load_batch(engine, std, hook=hook)
    if not outcome.reconciles:  # by construction impossible; checked because it is the promise
        raise DataError(
            f"source {source.name!r}: rows read {outcome.rows_read} != loaded "
            f"{outcome.rows_loaded} + quarantined {outcome.rows_quarantined}"
        )
    return SourceReport(
        outcome,
        source.file_format,
        raw.encoding,
        raw.delimiter,
        _counts(std.quarantine.column("reasons")),
        _counts(std.records.column("flags")),
    )


def ingest_project(
    project: Project, engine: Engine, *, echo: Echo = print, hook: StepHook | None = None
) -> list[SourceReport]:
    """Ingest every source of the project, in the order the project file lists them."""
    placer = (
        build_placer(project) if any("postcode" in s.columns for s in project.sources) else None
    )
    reports: list[SourceReport] = []
    for source in project.sources:
        rep = ingest_source(source, project, engine, placer=placer, hook=hook)
        o = rep.outcome
        note = (
            " (already loaded: same content, nothing changed)"
            if o.status == "already_loaded"
            else ""
        )
        echo(
            f"  {source.name}: read {o.rows_read:,} = loaded {o.rows_loaded:,} + "
            f"quarantined {o.rows_quarantined:,}{note}"
        )
        if rep.reasons:
            echo(
                "    quarantine reasons: " + ", ".join(f"{k} {v:,}" for k, v in rep.reasons.items())
            )
        if rep.flags:
            echo("    quality flags: " + ", ".join(f"{k} {v:,}" for k, v in rep.flags.items()))
        reports.append(rep)
    return reports


def quarantine_rows(engine: Engine, keys: list[tuple[str, str]] | None = None) -> pa.Table:
    """Quarantined rows (restricted: they hold raw values), of the given (source, batch_id)
    batches or of every batch, with the reasons joined by ';' (for a CSV extract)."""
    if keys is None and engine.has_table("quarantine"):
        table = engine.query(
            "SELECT source, row_number, record_id, batch_id, reasons, raw FROM quarantine "
            "ORDER BY source, batch_id, row_number"
        )
    elif keys and engine.has_table("quarantine"):
        where = " OR ".join("(source = ? AND batch_id = ?)" for _ in keys)
        params: list[Any] = [v for k in keys for v in k]
        table = engine.query(
            "SELECT source, row_number, record_id, batch_id, reasons, raw FROM quarantine "
            f"WHERE {where} ORDER BY source, row_number",
            params,
        )
    else:
        table = pa.table(
            {
                c: pa.array([], pa.string())
                for c in ("source", "row_number", "record_id", "batch_id", "reasons", "raw")
            }
        )
    if pa.types.is_list(table.schema.field("reasons").type):
        joined = pc.binary_join(table.column("reasons"), ";")
        table = table.set_column(table.schema.get_field_index("reasons"), "reasons", joined)
    return table


def reconciliation(reports: list[SourceReport]) -> dict[str, dict[str, Any]]:
    return {
        r.outcome.source: {
            "batch_id": r.outcome.batch_id,
            "status": r.outcome.status,
            "rows_read": r.outcome.rows_read,
            "rows_loaded": r.outcome.rows_loaded,
            "rows_quarantined": r.outcome.rows_quarantined,
            "reconciles": r.outcome.reconciles,
        }
        for r in reports
    }


def ingest_stage(ctx: RunContext) -> None:
    """Pipeline stage: ingest every source into the identifiable store, record counts.

    Quarantined rows stay in the encrypted store (table ``quarantine``); an analyst who must
    fix them extracts them on purpose: ``everyfamily extract OUT quarantine --to FILE``."""
    reports = ingest_project(ctx.project, ctx.engine, echo=ctx.echo)
    n_q = quarantine_rows(
        ctx.engine, [(r.outcome.source, r.outcome.batch_id) for r in reports]
    ).num_rows
    totals: collections.Counter[str] = collections.Counter()
    for r in reports:
        totals.update(r.reasons)
    ctx.metadata["reconciliation"] = reconciliation(reports)
    ctx.metadata["ingest"] = {
        "sources": {
            r.outcome.source: {
                "path": r.outcome.path,
                "format": r.format,
                "encoding": r.encoding,
                "delimiter": r.delimiter,
                "quarantine_reasons": r.reasons,
                "quality_flags": r.flags,
            }
            for r in reports
        },
        "quarantine_table": "quarantine (identifiable store)",
        "quarantined_rows_this_run": n_q,
    }
    ctx.echo(
        f"  {n_q:,} quarantined rows kept in the identifiable store "
        "(see them with: everyfamily extract OUT quarantine --to FILE --purpose ...)"
    )


#: The ingest stage, declared once (everyfamily.stage): read every source, standardise,
#: quarantine, load; the data-quality section of the report is drawn from its figures.
STAGE = Stage(
    name="ingest",
    zone="identifiable",
    order=10,
    run=ingest_stage,
    reads=("records", "quarantine", "ingest_batches"),
    writes=("records", "quarantine", "ingest_batches"),
    sections=(ReportSection("quality", "Data quality", 70, template="quality"),),
)

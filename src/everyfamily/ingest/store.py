"""Write a standardised batch to the store: all of it in one transaction, or none of it.

Tables (docs/input-contract.md):

* ``records``: one row per (source, record_id); a later batch of the same source replaces the
  rows whose record ids it carries and adds new ones. Records a later extract does not carry
  stay (extracts may be incremental).
* ``quarantine``: every quarantined row of every batch, with its batch id (history is kept).
* ``ingest_batches``: one row per batch loaded, keyed by (source, batch_id). A batch already
  loaded is skipped: loading the same file twice changes nothing.

The engine is used only through its interface (execute, query, write_table, transaction) and
its dialect (column types, quoting), so another engine carries the same writes: the
conformance suite loads batches into DuckDB, PostgreSQL and Spark.

An engine without transactions (``capabilities.transactions`` False: Spark, whose tables are
Parquet folders) keeps the same promise by another route (:func:`load_batch_staged`): the batch is
first written whole to staging tables that no reader uses; only then is each store table
replaced by a statement that reads the old rows and the staged ones (``replace_table_as``),
and the ``ingest_batches`` row, the commit marker, is written last. A load that fails before
the swap leaves nothing visible; one stopped during the swap has no marker, so the next load
of the same batch runs again, and every step of it is idempotent (records replaced by id,
quarantine rows by batch id): the store converges to the batch loaded once. The pipeline's
staging folder (``everyfamily.pipeline``) adds the run-level guarantee on top: a failed run
never replaces the previous run's stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from everyfamily.engines.base import Engine
from everyfamily.ingest.standardise import Standardised
from everyfamily.schema import QUARANTINE_COLUMNS, RECORDS_COLUMNS

#: Logical column types of the store tables (``everyfamily.engines.dialect.TYPES``; each engine
#: spells them in its dialect: VARCHAR[] in DuckDB, TEXT[] in PostgreSQL).
RECORDS_DDL: dict[str, str] = {
    **dict.fromkeys(RECORDS_COLUMNS, "string"),
    "row_number": "int64",
    "nhs_number_valid": "bool",
    "postcode_valid": "bool",
    "date_of_birth": "date",
    "event_date": "date",
    "latitude": "float64",
    "longitude": "float64",
    "flags": "string_list",
    "interpreter_needed": "bool",
}
QUARANTINE_DDL: dict[str, str] = {
    **dict.fromkeys(QUARANTINE_COLUMNS, "string"),
    "row_number": "int64",
    "reasons": "string_list",
}
BATCHES_DDL: dict[str, str] = {
    "source": "string",
    "batch_id": "string",
    "path": "string",
    "rows_read": "int64",
    "rows_loaded": "int64",
    "rows_quarantined": "int64",
    "loaded_at": "timestamp",
    "status": "string",
}
_STAGING = "_ingest_incoming_ids"
#: Staging tables of the transaction-less route (:func:`load_batch_staged`).
_BATCH_RECORDS = "_ingest_batch_records"
_BATCH_QUARANTINE = "_ingest_batch_quarantine"

#: Arrow types of the logical column types (the tables an engine without ``CREATE TABLE``
#: statements makes from an empty Arrow table).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "string_list": pa.list_(pa.string()),
}

#: Called between the writes of a batch with the name of the step just done. A test seam:
#: tests kill the process or raise here to prove the batch is all-or-nothing.
StepHook = Callable[[str], None]


@dataclass(frozen=True)
class BatchOutcome:
    source: str
    batch_id: str
    path: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    status: str  # "loaded" | "already_loaded"

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def _create(engine: Engine, name: str, ddl: dict[str, str]) -> str:
    d = engine.dialect
    cols = ", ".join(f"{d.quote_ident(c)} {d.type_sql(t)}" for c, t in ddl.items())
    return f"CREATE TABLE IF NOT EXISTS {d.quote_ident(name)} ({cols})"


def ensure_tables(engine: Engine) -> None:
    engine.execute(_create(engine, "records", RECORDS_DDL))
    # A store made before interpreter_needed was a field gains the column (NULL for old rows).
    d = engine.dialect
    engine.execute(
        f"ALTER TABLE records ADD COLUMN IF NOT EXISTS {d.quote_ident('interpreter_needed')} "
        + d.type_sql("bool")
    )
    engine.execute(_create(engine, "quarantine", QUARANTINE_DDL))
    engine.execute(_create(engine, "ingest_batches", BATCHES_DDL))


def arrow_schema(ddl: dict[str, str]) -> pa.Schema:
    """The Arrow schema of a store table's logical columns."""
    return pa.schema([(c, ARROW_TYPES[t]) for c, t in ddl.items()])


def conform(table: pa.Table, ddl: dict[str, str]) -> pa.Table:
    """``table`` with exactly the columns of ``ddl``, in its order and types (a column the
    batch lacks is NULL), so a staged batch lines up with the store table it joins."""
    schema = arrow_schema(ddl)
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def ensure_tables_by_writes(engine: Engine) -> None:
    """:func:`ensure_tables` on an engine whose tables are made by ``write_table`` (no
    ``CREATE TABLE`` or ``ALTER TABLE`` statements: Spark): an empty table of each missing
    store table, and ``interpreter_needed`` added (NULL) to a records table made before it."""
    for name, ddl in (
        ("records", RECORDS_DDL),
        ("quarantine", QUARANTINE_DDL),
        ("ingest_batches", BATCHES_DDL),
    ):
        if not engine.has_table(name):
            engine.write_table(name, arrow_schema(ddl).empty_table())
    if "interpreter_needed" not in engine.columns("records"):
        d = engine.dialect
        engine.replace_table_as(
            "records",
            f"SELECT *, CAST(NULL AS {d.type_sql('bool')}) AS "
            f"{d.quote_ident('interpreter_needed')} FROM records",
        )


def previous_batch(engine: Engine, source: str, batch_id: str) -> BatchOutcome | None:
    """The earlier load of this exact batch, if there was one."""
    if not engine.has_table("ingest_batches"):
        return None
    rows = engine.query(
        "SELECT path, rows_read, rows_loaded, rows_quarantined FROM ingest_batches "
        "WHERE source = ? AND batch_id = ? AND status = 'loaded' LIMIT 1",
        [source, batch_id],
    ).to_pylist()
    if not rows:
        return None
    r = rows[0]
    return BatchOutcome(
        source,
        batch_id,
        str(r["path"]),
        int(r["rows_read"]),
        int(r["rows_loaded"]),
        int(r["rows_quarantined"]),
        "already_loaded",
    )


def load_batch(
    engine: Engine,
    std: Standardised,
    *,
    hook: StepHook | None = None,
    now: dt.datetime | None = None,
) -> BatchOutcome:
    """Write one standardised batch in a single transaction, or, on an engine without
    transactions, staged and swapped in with the batch row written last (see the module
    docstring)."""
    step = hook or (lambda _name: None)
    if not engine.capabilities.transactions:
        return load_batch_staged(engine, std, step, now)
    with engine.transaction():
        ensure_tables(engine)
        earlier = previous_batch(engine, std.source, std.batch_id)
        if earlier is not None:
            return earlier
        existing = (
            engine.query("SELECT count(*) AS n FROM records WHERE source = ?", [std.source])
            .column("n")[0]
            .as_py()
        )
        if existing:
            ids = pa.table({"record_id": std.records.column("record_id")})
            engine.write_table(_STAGING, ids, mode="replace")
            engine.execute(
                f"DELETE FROM records WHERE source = ? AND record_id IN "
                f"(SELECT record_id FROM {engine.dialect.quote_ident(_STAGING)})",
                [std.source],
            )
            engine.drop_table(_STAGING)
            step("replaced")
        if std.records.num_rows:
            engine.write_table("records", std.records, mode="append")
        step("records")
        if std.quarantine.num_rows:
            engine.write_table("quarantine", std.quarantine, mode="append")
        step("quarantine")
        row = _batch_row(std, now)
        marks = ", ".join("?" for _ in row)
        engine.execute(f"INSERT INTO ingest_batches VALUES ({marks})", list(row.values()))
        step("batch")
    return _loaded(std)


def _batch_row(std: Standardised, now: dt.datetime | None) -> dict[str, object]:
    """The batch's ``ingest_batches`` row (the columns of :data:`BATCHES_DDL`, in order):
    the commit marker of both load routes."""
    loaded_at = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    values = (
        std.source,
        std.batch_id,
        std.location,
        std.rows_read,
        std.rows_loaded,
        std.rows_quarantined,
        loaded_at,
        "loaded",
    )
    return dict(zip(BATCHES_DDL, values, strict=True))


def _loaded(std: Standardised) -> BatchOutcome:
    """What loading the batch did: every row loaded or quarantined."""
    return BatchOutcome(
        std.source,
        std.batch_id,
        std.location,
        std.rows_read,
        std.rows_loaded,
        std.rows_quarantined,
        "loaded",
    )


def load_batch_staged(
    engine: Engine, std: Standardised, step: StepHook, now: dt.datetime | None
) -> BatchOutcome:
    """:func:`load_batch` without transactions: stage the batch whole, replace the store
    tables from the old rows and the staged ones, write the batch row (the commit marker)
    last. Every step is idempotent, so a load stopped anywhere is finished by loading the
    batch again (module docstring)."""
    ensure_tables_by_writes(engine)
    earlier = previous_batch(engine, std.source, std.batch_id)
    if earlier is not None:
        return earlier
    q = engine.dialect.quote_ident
    engine.write_table(_BATCH_RECORDS, conform(std.records, RECORDS_DDL))
    step("records")
    engine.write_table(_BATCH_QUARANTINE, conform(std.quarantine, QUARANTINE_DDL))
    step("quarantine")
    rec_cols = ", ".join(q(c) for c in RECORDS_DDL)
    engine.replace_table_as(
        "records",
        f"SELECT {rec_cols} FROM records AS r WHERE r.source <> ? OR NOT EXISTS "
        f"(SELECT 1 FROM {q(_BATCH_RECORDS)} AS b WHERE b.record_id = r.record_id) "
        f"UNION ALL SELECT {rec_cols} FROM {q(_BATCH_RECORDS)}",
        [std.source],
    )
    step("replaced")
    q_cols = ", ".join(q(c) for c in QUARANTINE_DDL)
    engine.replace_table_as(
        "quarantine",
        f"SELECT {q_cols} FROM quarantine WHERE source IS DISTINCT FROM ? "
        f"OR batch_id IS DISTINCT FROM ? UNION ALL SELECT {q_cols} FROM {q(_BATCH_QUARANTINE)}",
        [std.source, std.batch_id],
    )
    marker = {col: [value] for col, value in _batch_row(std, now).items()}
    engine.write_table(
        "ingest_batches", pa.table(marker, schema=arrow_schema(BATCHES_DDL)), mode="append"
    )
    step("batch")
    engine.drop_table(_BATCH_RECORDS)
    engine.drop_table(_BATCH_QUARANTINE)
    return _loaded(std)

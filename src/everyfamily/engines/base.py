"""The engine interface every pipeline stage talks to, and how an engine is opened."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from everyfamily.engines.dialect import DUCKDB, Capabilities, Dialect
from everyfamily.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa
    from splink.internals.database_api import DatabaseAPI

#: The engines :func:`open_engine` knows.
ENGINES: tuple[str, ...] = ("duckdb", "postgres", "spark")


@runtime_checkable
class Engine(Protocol):
    """A store of named tables with SQL over them.

    Values never go into SQL text: pass them as ``params`` (bound parameters, ``?`` in the
    text on every engine); identifiers go through ``engine.dialect.quote_ident``. SQL text is
    in the engine's own dialect (``engine.dialect``); SQL written once in the reference dialect
    runs anywhere through ``engine.dialect.portable``. What the engine supports is declared in
    ``engine.capabilities``.
    """

    name: str
    dialect: Dialect
    capabilities: Capabilities

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    def write_table(self, name: str, data: pa.Table, *, mode: str = "replace") -> None:
        """Store an Arrow table under ``name``; ``mode`` is 'replace' or 'append' (columns
        matched by name)."""

    def replace_table_as(
        self, name: str, select_sql: str, params: Sequence[Any] | None = None
    ) -> None:
        """Make table ``name`` (in the current zone) hold the rows of ``select_sql``."""

    def drop_table(self, name: str) -> None:
        """Drop table ``name`` if it exists."""

    def has_table(self, name: str) -> bool:
        """Whether a table (or view) of that name exists in any open zone."""

    def tables(self, zone: str | None = None) -> list[str]:
        """The table names of one zone (None: of every open zone), sorted."""

    def columns(self, name: str) -> list[str]:
        """The column names of table ``name``, in order; empty when there is no such table."""

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: everything inside commits together or not at all."""

    def zone(self, name: str) -> AbstractContextManager[None]:
        """Inside the block, new tables go to the store of zone ``name`` (``identifiable`` or
        ``analysis``; everyfamily.stores); reads still find tables in every open zone."""

    def splink_api(self) -> DatabaseAPI[Any]:
        """The Splink database API bound to this engine's connection."""

    def close(self) -> None:
        """Release the engine."""


def quote_ident(name: str) -> str:
    """Quote a SQL identifier in the reference dialect (DuckDB's, which PostgreSQL shares).
    Code that may run on another engine uses ``engine.dialect.quote_ident``."""
    return DUCKDB.quote_ident(name)


def open_engine(kind: str = "duckdb", *, path: Path | None = None, **options: Any) -> Engine:
    """Open an engine by name: ``duckdb`` (``path``: the database file; None: in memory),
    ``postgres`` (``dsn=``: a libpq connection string or URL; ``zones=``: the schemas) or
    ``spark`` (``path``: the warehouse folder, one sub-folder per zone; ``zones=``,
    ``master=``, ``config=``: engines/spark_engine.py)."""
    if kind == "duckdb":
        from everyfamily.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(path, **options)
    if kind == "postgres":
        from everyfamily.engines.postgres_engine import PostgresEngine

        return PostgresEngine(**options)
    if kind == "spark":
        from everyfamily.engines.spark_engine import SparkEngine

        if path is None and "warehouse" not in options:
            raise EngineError(
                "the Spark engine needs a warehouse folder for its tables",
                hint="give path= (or warehouse=): a local folder, hdfs:// or s3a:// location",
            )
        return SparkEngine(options.pop("warehouse", path), **options)
    raise EngineError(f"unknown engine {kind!r}", hint="use one of " + ", ".join(ENGINES))


def iter_batches(table: pa.Table, size: int = 100_000) -> Iterator[pa.Table]:
    """Slice an Arrow table into batches (for engines that load in chunks)."""
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)


@contextmanager
def identifiable_zone(engine: Engine) -> Iterator[None]:
    """The identifiable zone when the engine has one open, else the current zone: where a
    stage's working tables that hold names or home coordinates are written (the
    communities and access engine sums)."""
    try:
        zone = engine.zone("identifiable")
        zone.__enter__()
    except EngineError:
        yield
        return
    try:
        yield
    finally:
        zone.__exit__(None, None, None)

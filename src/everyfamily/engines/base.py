"""The engine interface every pipeline stage talks to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from everyfamily.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa


@runtime_checkable
class Engine(Protocol):
    """A store of named tables with SQL over them.

    Values never go into SQL text: pass them as ``params`` (bound parameters); identifiers go
    through :func:`quote_ident`.
    """

    name: str

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    def write_table(self, name: str, data: pa.Table, *, mode: str = "replace") -> None:
        """Store an Arrow table under ``name``; ``mode`` is 'replace' or 'append'."""

    def has_table(self, name: str) -> bool:
        """Whether a table (or view) of that name exists."""

    def columns(self, name: str) -> list[str]:
        """The column names of table ``name``, in order; empty when there is no such table."""

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: everything inside commits together or not at all."""

    def zone(self, name: str) -> AbstractContextManager[None]:
        """Inside the block, new tables go to the store of zone ``name`` (``identifiable`` or
        ``analysis``; everyfamily.stores); reads still find tables in every open zone."""

    def splink_api(self) -> Any:
        """The Splink database API bound to this engine's connection."""

    def close(self) -> None:
        """Release the engine."""


def quote_ident(name: str) -> str:
    """Quote a SQL identifier (table or column name) safely."""
    return '"' + name.replace('"', '""') + '"'


def open_engine(kind: str = "duckdb", *, path: Path | None = None, **options: Any) -> Engine:
    """Open an engine by name. ``path`` is the database file for embedded engines."""
    if kind == "duckdb":
        from everyfamily.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(path, **options)
    if kind == "spark":
        try:
            from everyfamily.engines.spark_engine import SparkEngine
        except ImportError:
            raise EngineError(
                "the Spark engine needs pyspark and Java 17",
                hint="install everyfamily with the 'spark' extra",
            ) from None
        return SparkEngine(**options)
    raise EngineError(f"unknown engine {kind!r}", hint="use 'duckdb' or 'spark'")


def iter_batches(table: pa.Table, size: int = 100_000) -> Iterator[pa.Table]:
    """Slice an Arrow table into batches (for engines that load in chunks)."""
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)

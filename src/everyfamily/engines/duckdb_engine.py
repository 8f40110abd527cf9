"""DuckDB: the embedded default engine (one database file in the output folder).

DuckDB is pinned at 1.5.5 (see docs/decisions.md): its spatial and httpfs extensions come as
PyPI wheels, so they load on a closed network; 2.x can only install extensions online.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from everyfamily.engines.base import quote_ident
from everyfamily.errors import EngineError


class DuckDBEngine:
    name = "duckdb"

    def __init__(
        self,
        path: Path | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        self.path = path
        try:
            self.con = duckdb.connect(str(path) if path else ":memory:")
        except duckdb.Error as exc:
            raise EngineError(
                f"{path}: cannot open the DuckDB store ({type(exc).__name__})",
                hint="is another everyfamily process using it?",
            ) from None
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        self._in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params) if params is not None else self.con.execute(sql)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        rel = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        return rel.fetch_arrow_table()

    def write_table(self, name: str, data: pa.Table, *, mode: str = "replace") -> None:
        if mode not in {"replace", "append"}:
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        self.con.register("__ef_incoming", data)
        try:
            q = quote_ident(name)
            if mode == "replace" or not self.has_table(name):
                self.con.execute(f"CREATE OR REPLACE TABLE {q} AS SELECT * FROM __ef_incoming")
            else:
                self.con.execute(f"INSERT INTO {q} BY NAME SELECT * FROM __ef_incoming")
        finally:
            self.con.unregister("__ef_incoming")

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:  # nested: the outer transaction decides
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._in_transaction = False

    def splink_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

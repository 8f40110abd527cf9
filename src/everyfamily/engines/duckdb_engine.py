"""DuckDB: the embedded default engine, and the reference dialect.

A run keeps its tables in two database files, one per zone (``everyfamily.stores``): both are
attached to one in-memory connection, so a stage can read across them while new tables go to
the zone the stage works in (:meth:`DuckDBEngine.zone`). A single plain file
(``DuckDBEngine(path)``) still works for tools and tests that need no zones.

DuckDB is pinned at 1.5.5 (see docs/decisions.md): its spatial and httpfs extensions come as
PyPI wheels, so they load on a closed network; 2.x can only install extensions online.

Each zone's file is encrypted by DuckDB (AES-GCM, ``ENCRYPTION_KEY`` on ATTACH) with a key
derived from the pseudonymisation key (``everyfamily.privacy.encryption.store_key``); the
attach, which is DuckDB's alone, lives here (:func:`attach_store`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from everyfamily.engines.dialect import DUCKDB, Capabilities
from everyfamily.errors import EngineError, PrivacyError

if TYPE_CHECKING:
    from splink import DuckDBAPI

quote_ident = DUCKDB.quote_ident


@dataclass(frozen=True)
class StoreFile:
    """One database file of a run: its zone name (the SQL alias), path and key (hex; None
    stores it unencrypted)."""

    zone: str
    path: Path
    key: str | None


class DuckDBEngine:
    """The :class:`~everyfamily.engines.base.Engine` on DuckDB: zones are database files."""

    name = "duckdb"
    dialect = DUCKDB
    capabilities = Capabilities(
        transactions=True,
        transactional_ddl=True,
        list_types=True,
        encrypts_at_rest=True,
        zones="files",
        splink=True,
        reference_hash=True,
    )

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
        self._zones: tuple[str, ...] = ()
        self._zone: str | None = None

    @classmethod
    def open_stores(
        cls,
        stores: Sequence[StoreFile],
        *,
        read_only: bool = False,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> DuckDBEngine:
        """Attach every store to one in-memory connection; the first is the current zone."""
        if not stores:
            raise ValueError("open_stores needs at least one store")
        engine = cls(None, threads=threads, memory_limit=memory_limit)
        # An in-memory connection would spill to ./.tmp of whatever folder the user is in;
        # keep spills next to the stores (they are encrypted: temp_file_encryption).
        spill = stores[0].path.parent / ".duckdb_tmp"
        engine.con.execute("SET temp_directory = ?", [str(spill)])
        try:
            for store in stores:
                if not read_only:
                    store.path.parent.mkdir(parents=True, exist_ok=True)
                elif not store.path.is_file():
                    raise EngineError(
                        f"{store.path}: no {store.zone} store",
                        hint="give the output folder of a run that wrote it",
                    )
                attach_store(engine.con, store.path, store.zone, store.key, read_only=read_only)
        except BaseException:
            engine.close()
            raise
        engine._zones = tuple(s.zone for s in stores)
        engine._use(engine._zones[0])
        return engine

    def _use(self, zone: str) -> None:
        # New tables go to the current database; reads find a table in any zone, the
        # current one first.
        order = [zone, *(z for z in self._zones if z != zone)]
        if not all(z.isidentifier() for z in order):  # zone names are ours, never user input
            raise EngineError("zone names must be identifiers", hint="see everyfamily.stores")
        self.con.execute(f"USE {quote_ident(zone)}")
        path = ",".join(f"{z}.main" for z in order)
        self.con.execute(f"SET search_path = '{path}'")
        self._zone = zone

    @contextlib.contextmanager
    def zone(self, name: str) -> Iterator[None]:
        if not self._zones:  # a single plain file: one zone, nothing to switch
            yield
            return
        if name not in self._zones:
            raise EngineError(f"no {name!r} store is open", hint=f"open one of {self._zones}")
        before = self._zone
        self._use(name)
        try:
            yield
        finally:
            if before is not None:
                self._use(before)

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

    def replace_table_as(
        self, name: str, select_sql: str, params: Sequence[Any] | None = None
    ) -> None:
        for statement, bound in self.dialect.replace_table_as(name, select_sql):
            self.execute(statement, params if bound else None)

    def drop_table(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")

    def tables(self, zone: str | None = None) -> list[str]:
        if zone is not None and self._zones and zone not in self._zones:
            raise EngineError(f"no {zone!r} store is open", hint=f"open one of {self._zones}")
        sql = "SELECT DISTINCT table_name FROM information_schema.tables"
        params: list[Any] = []
        if zone is not None and self._zones:
            sql += " WHERE table_catalog = ?"
            params.append(zone)
        elif self._zones:
            sql += " WHERE table_catalog IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(self._zones))
        rows = self.con.execute(sql + " ORDER BY table_name", params).fetchall()
        return [str(r[0]) for r in rows]

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def table_zone(self, name: str) -> str | None:
        """The zone (database) holding ``name``, the current zone first; None when absent."""
        rows = self.con.execute(
            "SELECT table_catalog FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        found = [r[0] for r in rows]
        for zone in (self._zone, *self._zones):
            if zone in found:
                return zone
        return found[0] if found else None

    def columns(self, name: str) -> list[str]:
        # the catalog the name resolves to: with two zones open, a name in both would
        # otherwise mix their columns
        zone = self.table_zone(name)
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND table_catalog = ? ORDER BY ordinal_position",
            [name, zone],
        ).fetchall()
        return [str(r[0]) for r in rows]

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

    def splink_api(self) -> DuckDBAPI:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the encrypted attach of a zone's file ---------------------------------------------


def httpfs_extension_path() -> Path:
    """The httpfs extension file from the duckdb-extension-httpfs wheel."""
    import duckdb

    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise EngineError(
            "the duckdb-extension-httpfs package is not installed",
            hint="it is needed for securely encrypted stores; run scripts/bootstrap",
        ) from None
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.is_file():
        raise EngineError(
            f"{path}: no httpfs extension for duckdb {duckdb.__version__}",
            hint="install duckdb-extension-httpfs of the same version as duckdb",
        )
    return path


def attach_store(
    con: Any, path: Path, alias: str, key: str | None, *, read_only: bool = False
) -> None:
    """Attach ``path`` as ``alias`` (created when absent): encrypted with ``key`` (hex, from
    :func:`store_key`), or plain when ``key`` is None (``privacy.encrypt_at_rest: false``).
    For encryption httpfs is loaded first, so it is the OpenSSL-backed one. The key is never
    logged; a wrong key, or a store written the other way, is a one-line
    :class:`PrivacyError`."""
    if not alias.isidentifier():
        raise ValueError("alias must be an identifier")
    options = ["READ_ONLY"] if read_only else []
    if key is not None:
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute("SET temp_file_encryption = true")
        # ATTACH options cannot be bound parameters; the key is hex (no quotes possible)
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise PrivacyError("the store key must be hex", hint="derive it with store_key()")
        options.insert(0, f"ENCRYPTION_KEY '{key}'")
    clause = f" ({', '.join(options)})" if options else ""
    try:
        con.execute(f"ATTACH '{_sql_path(path)}' AS {alias}{clause}")
    except duckdb.Error as exc:
        # DuckDB's message can quote the statement (and so the key): never pass it on.
        raise _attach_error(exc, path, encrypted=key is not None) from None


def _attach_error(exc: Exception, path: Path, *, encrypted: bool) -> Exception:
    """The one-line error for a failed ATTACH, told from DuckDB's message."""
    text = str(exc).lower()
    if encrypted and "is not encrypted" in text:
        return PrivacyError(
            f"{path}: the store was written without encryption",
            hint="set privacy.encrypt_at_rest to false for this output folder, or write "
            "the run into a new folder",
        )
    if encrypted and ("key" in text or "encrypt" in text or "decrypt" in text):
        return PrivacyError(
            f"{path}: cannot open the encrypted store with this key",
            hint="use the pseudonymisation key of the run that wrote it "
            "(privacy.key_file or privacy.key_env)",
        )
    if not encrypted and ("encrypt" in text or "key" in text):
        return PrivacyError(
            f"{path}: the store is encrypted",
            hint="set privacy.encrypt_at_rest to true and give the run's key",
        )
    return EngineError(
        f"{path}: cannot open the store ({type(exc).__name__})",
        hint="is another everyfamily process writing it?",
    )


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body (ATTACH takes no bound parameters)."""
    return str(path).replace("'", "''")


if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

    def _conforms(engine: DuckDBEngine) -> Engine:
        """mypy proves here that DuckDBEngine implements the Engine protocol."""
        return engine

"""PostgreSQL: the same :class:`~everyfamily.engines.base.Engine` on a server (psycopg 3).

Zones are schemas of one database (``identifiable``, ``analysis``): the current zone is
first on the ``search_path``, so new tables go there and reads find a table in any open
zone, the current one first, as DuckDB's attached files do. Keeping the zones apart on the
server is the database's job (one role per zone with ``GRANT USAGE`` on its schema);
encryption at rest is the server's or the disk's (``capabilities.encrypts_at_rest`` is
False: the engine does not provide it, and the conformance suite shows it).

Arrow in: ``COPY ... FROM STDIN`` with the column types mapped from Arrow (:func:`pg_type`).
Arrow out: rows fetched and built into Arrow arrays typed from the result's type OIDs, so
a DATE comes back as ``date32`` and a ``TEXT[]`` as a list of strings, as from DuckDB.

``read_only`` makes the session refuse writes (``default_transaction_read_only``): a guard
against mistakes, not a permission; a reader that must not write connects as a role granted
only SELECT.

SQL binds ``?`` placeholders like every engine; they become psycopg's ``%s`` here
(``dialect.format_from_qmark``). A server error becomes an :class:`EngineError` naming its
SQLSTATE class only: PostgreSQL's messages can quote values from rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import pyarrow as pa

from everyfamily.engines.dialect import POSTGRES, Capabilities, format_from_qmark
from everyfamily.errors import EngineError

if TYPE_CHECKING:
    import psycopg
    from splink.internals.database_api import DatabaseAPI

quote_ident = POSTGRES.quote_ident

#: The schemas a run's zones live in (everyfamily.stores.ZONES), the first current.
DEFAULT_ZONES: tuple[str, ...] = ("identifiable", "analysis")

#: Arrow types of PostgreSQL result columns, by type name (psycopg's registry).
_ARROW_OF: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "bytea": pa.binary(),
}


def pg_type(t: pa.DataType) -> str:
    """The PostgreSQL column type that stores an Arrow type without loss."""
    if pa.types.is_dictionary(t):
        return pg_type(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = pg_type(t.value_type)
        if inner.endswith("[]"):
            raise EngineError("lists of lists cannot be stored", hint="flatten the column first")
        return inner + "[]"
    checks: tuple[tuple[Any, str], ...] = (
        (pa.types.is_null, "TEXT"),
        (pa.types.is_boolean, "BOOLEAN"),
        (lambda x: pa.types.is_int8(x) or pa.types.is_int16(x) or pa.types.is_uint8(x), "SMALLINT"),
        (lambda x: pa.types.is_int32(x) or pa.types.is_uint16(x), "INTEGER"),
        (lambda x: pa.types.is_int64(x) or pa.types.is_uint32(x), "BIGINT"),
        (pa.types.is_uint64, "NUMERIC(20, 0)"),
        (lambda x: pa.types.is_float16(x) or pa.types.is_float32(x), "REAL"),
        (pa.types.is_float64, "DOUBLE PRECISION"),
        (lambda x: pa.types.is_string(x) or pa.types.is_large_string(x), "TEXT"),
        (lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x), "BYTEA"),
        (pa.types.is_date, "DATE"),
        (pa.types.is_time, "TIME"),
    )
    for check, name in checks:
        if check(t):
            return name
    if pa.types.is_decimal(t):
        return f"NUMERIC({t.precision}, {t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    raise EngineError(f"cannot store a column of Arrow type {t}", hint="cast it to a basic type")


class PostgresEngine:
    """The :class:`~everyfamily.engines.base.Engine` on PostgreSQL: zones are schemas."""

    name = "postgres"
    dialect = POSTGRES
    capabilities = Capabilities(
        transactions=True,
        transactional_ddl=True,
        list_types=True,
        encrypts_at_rest=False,
        zones="schemas",
        splink=False,
    )

    def __init__(
        self,
        dsn: str,
        *,
        zones: Sequence[str] = DEFAULT_ZONES,
        read_only: bool = False,
    ) -> None:
        import psycopg

        if not zones:
            raise ValueError("a PostgreSQL engine needs at least one zone (schema)")
        try:
            self.con: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            # the DSN can hold a password: never repeat it
            raise EngineError(
                f"cannot connect to PostgreSQL ({type(exc).__name__})",
                hint="check the dsn: host, port, user and database, and that the server runs",
            ) from None
        self._zones = tuple(zones)
        self._zone: str | None = None
        self._in_transaction = False
        try:
            if read_only:
                self.con.execute("SET default_transaction_read_only = on")
            else:
                for z in self._zones:
                    self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(z)}")
            self._use(self._zones[0])
        except BaseException:
            self.close()
            raise

    # --- statements -----------------------------------------------------------------------

    def _fail(self, exc: Exception) -> NoReturn:
        state = getattr(exc, "sqlstate", None) or "?"
        raise EngineError(
            f"PostgreSQL refused the statement ({type(exc).__name__}, SQLSTATE {state})",
            hint="the SQL may use a construct PostgreSQL lacks; write it portably",
        ) from None

    def _run(self, sql: str, params: Sequence[Any] | None) -> psycopg.Cursor[tuple[Any, ...]]:
        import psycopg

        try:
            if params is None:
                return self.con.execute(sql)
            return self.con.execute(format_from_qmark(sql), list(params))
        except psycopg.Error as exc:
            self._fail(exc)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        cur = self._run(sql, params)
        if cur.description is None:
            raise EngineError("the statement returned no rows", hint="use execute() for it")
        rows = cur.fetchall()
        names = [d.name for d in cur.description]
        arrays = [
            self._arrow_column([r[j] for r in rows], d.type_code)
            for j, d in enumerate(cur.description)
        ]
        return pa.Table.from_arrays(arrays, names=names)

    def _arrow_column(self, values: list[Any], oid: int) -> pa.Array:
        info = self.con.adapters.types.get(oid)
        typ: pa.DataType | None = None
        if info is not None:
            element = _ARROW_OF.get(info.name)
            if element is not None:
                typ = pa.list_(element) if oid == info.array_oid else element
        if typ is None:  # numeric, uuid, json ...: let Arrow infer from the Python values
            return pa.array(values)
        return pa.array(values, type=typ)

    # --- tables ---------------------------------------------------------------------------

    def _qualified(self, name: str) -> str:
        return f"{quote_ident(self._zone or self._zones[0])}.{quote_ident(name)}"

    def write_table(self, name: str, data: pa.Table, *, mode: str = "replace") -> None:
        if mode not in {"replace", "append"}:
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        types = [pg_type(f.type) for f in data.schema]
        cols = ", ".join(quote_ident(c) for c in data.column_names)
        with self.transaction():
            if mode == "replace" or not self.has_table(name):
                target = self._qualified(name)
                defs = ", ".join(
                    f"{quote_ident(c)} {t}" for c, t in zip(data.column_names, types, strict=True)
                )
                self.execute(f"DROP TABLE IF EXISTS {target}")
                self.execute(f"CREATE TABLE {target} ({defs})")
            else:
                target = quote_ident(name)  # the table the search path finds, as DuckDB
            if data.num_rows:
                self._copy(target, cols, types, data)

    def _copy(self, target: str, cols: str, types: list[str], data: pa.Table) -> None:
        import psycopg

        columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
        try:
            with (
                self.con.cursor() as cur,
                cur.copy(f"COPY {target} ({cols}) FROM STDIN") as cp,
            ):
                cp.set_types([t.split("(")[0].lower() for t in types])
                for row in zip(*columns, strict=True):
                    cp.write_row(row)
        except psycopg.Error as exc:
            self._fail(exc)

    def replace_table_as(
        self, name: str, select_sql: str, params: Sequence[Any] | None = None
    ) -> None:
        zone = self._zone or self._zones[0]
        with self.transaction():
            for statement, bound in self.dialect.replace_table_as(name, select_sql, zone):
                self.execute(statement, params if bound else None)

    def drop_table(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")

    def tables(self, zone: str | None = None) -> list[str]:
        if zone is not None and zone not in self._zones:
            raise EngineError(f"no {zone!r} schema is open", hint=f"open one of {self._zones}")
        rows = self.query(
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(CAST(? AS TEXT[])) ORDER BY table_name",
            [[zone] if zone is not None else list(self._zones)],
        )
        return [str(v) for v in rows.column(0).to_pylist()]

    def table_zone(self, name: str) -> str | None:
        """The zone (schema) holding ``name``, the current zone first; None when absent."""
        rows = self.query(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = ? AND table_schema = ANY(CAST(? AS TEXT[]))",
            [name, list(self._zones)],
        )
        found = set(rows.column(0).to_pylist())
        for zone in (self._zone, *self._zones):
            if zone in found:
                return zone
        return None

    def has_table(self, name: str) -> bool:
        return self.table_zone(name) is not None

    def columns(self, name: str) -> list[str]:
        zone = self.table_zone(name)
        if zone is None:
            return []
        rows = self.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [zone, name],
        )
        return [str(v) for v in rows.column(0).to_pylist()]

    # --- transactions and zones -----------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:  # nested: the outer transaction decides
            yield
            return
        self._in_transaction = True
        try:
            with self.con.transaction():
                yield
        finally:
            self._in_transaction = False

    def _use(self, zone: str) -> None:
        order = [zone, *(z for z in self._zones if z != zone)]
        self.execute("SET search_path TO " + ", ".join(quote_ident(z) for z in order))
        self._zone = zone

    @contextlib.contextmanager
    def zone(self, name: str) -> Iterator[None]:
        from psycopg.pq import TransactionStatus

        if name not in self._zones:
            raise EngineError(f"no {name!r} schema is open", hint=f"open one of {self._zones}")
        before = self._zone
        self._use(name)
        try:
            yield
        finally:
            # in a failed transaction the rollback restores the search path itself
            failed = self.con.info.transaction_status == TransactionStatus.INERROR
            if before is not None and not failed:
                self._use(before)
            elif before is not None:
                self._zone = before

    def splink_api(self) -> DatabaseAPI[Any]:
        raise EngineError(
            "linkage with Splink is not wired to the PostgreSQL engine yet",
            hint="run the link stage on the DuckDB engine (capabilities.splink is False)",
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()

    def __enter__(self) -> PostgresEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

    def _conforms(engine: PostgresEngine) -> Engine:
        """mypy proves here that PostgresEngine implements the Engine protocol."""
        return engine

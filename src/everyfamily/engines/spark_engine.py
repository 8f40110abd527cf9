"""Apache Spark: the same :class:`~everyfamily.engines.base.Engine` on a SparkSession.

The start of the scale path (issue 20): ``local[2]`` in the tests, a cluster's master URL in
production (``engine: spark`` and ``spark: {master, config}`` in the project file).

Zones are separate storage locations: each zone's tables are Parquet directories under
``<warehouse>/<zone>/`` (identifiable and analysis never share a directory), registered as
external tables of one catalog database per zone and engine (``ef_<token>_<zone>``), so two
engines in one SparkSession never see each other's tables. Spark has no search path: a
statement naming a table that is not in the current zone's database is rewritten (sqlglot,
the transpiler Splink's Spark backend uses too) to name the zone that holds it, the current
zone first, as DuckDB's attached files and PostgreSQL's schemas resolve it. Opening an
engine on an existing warehouse registers the tables found there, so a run's store outlives
the session.

What Spark does not give (declared in :attr:`SparkEngine.capabilities`, shown by the
conformance suite as strict expected failures): transactions (Parquet writes are not
atomic across tables: :meth:`SparkEngine.transaction` runs its block without rollback) and
encryption at rest (the cluster's storage encrypts, e.g. S3 SSE-KMS, HDFS transparent
encryption, Databricks' managed keys; documented in docs/scale.md, not enforced here).

Values are bound as Spark's positional parameter markers (``?``, Spark 3.4+); a Python
list binds as one ``ARRAY<...>``. SparkSession is one per JVM: :func:`spark_session` makes
or reuses it; closing an engine unregisters its tables and leaves the session running.
Spark's error messages can quote values from rows: they become an :class:`EngineError`
naming the error class only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, unquote

import pyarrow as pa

from everyfamily.engines.dialect import SPARK, Capabilities
from everyfamily.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from splink.internals.database_api import DatabaseAPI

quote_ident = SPARK.quote_ident

#: The zones of a run (everyfamily.stores.ZONES), the first current.
DEFAULT_ZONES: tuple[str, ...] = ("identifiable", "analysis")

#: Settings every session gets: naive timestamps stay naive (as DuckDB's TIMESTAMP), UTC,
#: Arrow transfer, few shuffle partitions (a council's data is small; a cluster overrides).
BASE_CONFIG: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",
}

#: Spark's session catalog takes table names of word characters only; other names are
#: stored under this prefix and their UTF-8 in hex (``catalog_name``), shown as given.
_ENCODED = "ef__x"
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_]+$")

#: A table made by a statement would live in the catalog's default location, outside its
#: zone's folder: on Spark, tables are made by write_table and replace_table_as only.
_CREATES = re.compile(r"^\s*create\s+(or\s+replace\s+)?(external\s+)?table\b", re.I)

_WRITES = re.compile(r"^\s*(insert|delete|update|merge|create|drop|alter|truncate)\b", re.I)


def splink_jar() -> str | None:
    """The path of Splink's Scala similarity UDF jar for this Spark (None without Splink's
    Spark extra)."""
    try:
        from splink.internals.spark.jar_location import similarity_jar_location
    except ImportError:  # pragma: no cover - Splink always ships it
        return None
    path = similarity_jar_location()
    return path if Path(path).is_file() else None


def spark_session(master: str = "local[2]", config: Mapping[str, str] | None = None) -> Any:
    """The process's SparkSession (made once: a JVM holds one), with Splink's jar on
    ``spark.jars`` so its string similarity UDFs register. ``SPARK_LOCAL_IP`` defaults to
    127.0.0.1 so local mode never binds an external interface."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            "pyspark is not installed",
            hint="run scripts/bootstrap (it syncs the 'spark' extra) and scripts/services (Java)",
        ) from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName("everyfamily")
    settings = dict(BASE_CONFIG)
    # the session's own catalog lives in memory and its scratch in a temporary folder, never
    # in the user's working directory (``spark-warehouse/``); the zones' data are elsewhere
    settings["spark.sql.catalogImplementation"] = "in-memory"
    settings["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="everyfamily-spark-")
    jar = splink_jar()
    if jar:
        settings["spark.jars"] = jar
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
        # Spark's error log quotes statements and can quote values from rows: keep it off
        session.sparkContext.setLogLevel("OFF")
        return session
    except Exception as exc:  # Java missing or too old is the usual cause
        raise EngineError(
            f"cannot start Spark ({type(exc).__name__})",
            hint="Java 17 or newer must be installed (scripts/services installs it)",
        ) from None


def catalog_name(name: str) -> str:
    """The name Spark's catalog holds for table ``name`` (reversible: :func:`logical_name`)."""
    if _PLAIN_NAME.match(name) and not name.lower().startswith(_ENCODED):
        return name
    return _ENCODED + name.encode().hex()


def logical_name(stored: str) -> str:
    """The table name a catalog name stands for."""
    if stored.lower().startswith(_ENCODED):
        return bytes.fromhex(stored[len(_ENCODED) :]).decode()
    return stored


def _nullable(table: pa.Table) -> pa.Table:
    """Spark marks some result columns NOT NULL (count(*)); the other engines do not."""
    fields = [f.with_nullable(True) for f in table.schema]
    return table.cast(pa.schema(fields, metadata=None))


@lru_cache(maxsize=1)
def _reader() -> Any:
    """sqlglot's Spark dialect with one change: a double-quoted name is an identifier, as in
    the reference dialect (DuckDB, PostgreSQL, standard SQL), not a string as in Spark SQL.
    The stages write their SQL once in the reference dialect and quote names with
    ``engines.base.quote_ident`` (double quotes): read as Spark's strings, ``SELECT "person_id"
    FROM linked`` gave the text 'person_id' on every row (the services stage then joined
    every child to every record and ran out of memory)."""
    from sqlglot.dialects.spark import Spark

    class SparkReading(Spark):
        class Tokenizer(Spark.Tokenizer):
            QUOTES = ["'"]  # noqa: RUF012
            IDENTIFIERS = ["`", '"']  # noqa: RUF012
            STRING_ESCAPES = ["\\", "'"]  # noqa: RUF012

    return SparkReading()


@lru_cache(maxsize=1024)
def _parse(sql: str) -> Any:
    import sqlglot

    try:
        return sqlglot.parse(sql, read=_reader())
    except sqlglot.errors.SqlglotError:
        return None


def _rewrite(
    sql: str, current: str, zone_of: Callable[[str], str | None], dbs: Mapping[str, str]
) -> str:
    from sqlglot import exp

    parsed = _parse(sql)
    if not parsed or any(t is None for t in parsed):
        return sql  # let Spark report it
    # the reference engine (DuckDB) sorts NULLs last in every ORDER BY; Spark sorts them
    # first in an ascending one: say NULLS LAST unless the text chose an order itself
    nulls_chosen = re.search(r"\bnulls\s+(first|last)\b", sql, re.I) is not None
    out = []
    for statement in parsed:
        tree = statement.copy()
        if not nulls_chosen:
            for ordered in tree.find_all(exp.Ordered):
                ordered.set("nulls_first", False)
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name
            if table.args.get("db") or not name or name.lower() in ctes:
                continue
            zone = zone_of(name) if len(dbs) > 1 else None
            if zone is not None and zone != current:
                table.set("db", exp.to_identifier(dbs[zone], quoted=True))
            if catalog_name(name) != name:
                table.set("this", exp.to_identifier(catalog_name(name), quoted=True))
        out.append(tree.sql(dialect="spark"))
    return ";\n".join(out)


def _shuffle_partitions(session: Any) -> int:
    """The session's ``spark.sql.shuffle.partitions`` (Spark's default, 200, when unset)."""
    try:
        return max(1, int(session.conf.get("spark.sql.shuffle.partitions", "200")))
    except (TypeError, ValueError):
        return int(BASE_CONFIG["spark.sql.shuffle.partitions"])


class SparkEngine:
    """The :class:`~everyfamily.engines.base.Engine` on Spark: zones are storage locations."""

    name = "spark"
    dialect = SPARK
    capabilities = Capabilities(
        transactions=False,
        transactional_ddl=False,
        list_types=True,
        encrypts_at_rest=False,
        zones="locations",
        splink=True,
    )

    def __init__(
        self,
        warehouse: Path | str,
        *,
        zones: Sequence[str] = DEFAULT_ZONES,
        read_only: bool = False,
        master: str = "local[2]",
        config: Mapping[str, str] | None = None,
        session: Any = None,
        locations: Mapping[str, str] | None = None,
    ) -> None:
        if not zones or not all(z.isidentifier() for z in zones):
            raise ValueError("a Spark engine needs zones named as identifiers")
        self.spark: SparkSession = session or spark_session(master, config)
        self.warehouse = str(warehouse).rstrip("/")
        self.read_only = read_only
        self._zones = tuple(zones)
        where = dict(locations or {})
        self._where = {z: where.get(z, f"{self.warehouse}/{z}").rstrip("/") for z in self._zones}
        token = hashlib.sha256(f"{self.warehouse}|{id(self)}".encode()).hexdigest()[:10]
        self._db = {z: f"ef_{token}_{z}" for z in self._zones}
        self._zone = self._zones[0]
        self._in_transaction = False
        for zone in self._zones:
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_ident(self._db[zone])}")
            self._register_existing(zone)

    # --- storage --------------------------------------------------------------------------

    def _location(self, zone: str, name: str | None = None) -> str:
        base = self._where[zone]
        return base if name is None else f"{base}/{quote(name, safe='')}"

    def _fs(self, path: str) -> tuple[Any, Any]:
        jvm = self.spark._jvm
        assert jvm is not None
        hpath = jvm.org.apache.hadoop.fs.Path(path)
        conf = self.spark._jsc.hadoopConfiguration()
        return hpath.getFileSystem(conf), hpath

    def _register_existing(self, zone: str) -> None:
        fs, base = self._fs(self._location(zone))
        if not fs.exists(base):
            return
        for status in fs.listStatus(base):
            if not status.isDirectory():
                continue
            name = unquote(status.getPath().getName())
            if not name or name.startswith((".", "_")):
                continue
            self.spark.sql(
                f"CREATE TABLE IF NOT EXISTS {self._qualified(name, zone)} USING parquet "
                f"LOCATION '{status.getPath().toString()}'"
            )

    def _qualified(self, name: str, zone: str | None = None) -> str:
        db = quote_ident(self._db[zone or self._zone])
        return f"{db}.{quote_ident(catalog_name(name))}"

    # --- statements -----------------------------------------------------------------------

    def _fail(self, exc: Exception) -> NoReturn:
        kind = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
        try:
            condition = kind() if callable(kind) else None
        except Exception:
            condition = None
        raise EngineError(
            f"Spark refused the statement ({type(exc).__name__}, {condition or 'no class'})",
            hint="the SQL may use a construct Spark lacks; write it portably",
        ) from None

    def _sql(self, sql: str, params: Sequence[Any] | None = None) -> DataFrame:
        from pyspark.errors import PySparkException

        self.spark.catalog.setCurrentDatabase(self._db[self._zone])
        try:
            return self.spark.sql(self._resolve(sql), args=list(params) if params else None)
        except PySparkException as exc:
            self._fail(exc)

    def _resolve(self, sql: str) -> str:
        """``sql`` as Spark runs it: through sqlglot's Spark dialect (so the standard types
        the other engines share, ``VARCHAR`` without a length, become Spark's ``STRING``),
        NULLs sorted last as on the reference engine (unless the text says otherwise),
        each table of another zone named with its zone's database and each table name the
        catalog could not hold (:func:`catalog_name`) encoded."""
        return _rewrite(sql, self._zone, self.table_zone, self._db)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self.read_only and _WRITES.match(sql):
            raise EngineError("the Spark engine is open read-only", hint="open it for writing")
        if _CREATES.match(sql):
            raise EngineError(
                "CREATE TABLE is not run on the Spark engine: the table would sit outside "
                "its zone's folder",
                hint="make tables with engine.write_table or engine.replace_table_as",
            )
        if not self._delete_by_replacing(sql, params):
            self._sql(sql, params).collect()

    def _delete_by_replacing(self, sql: str, params: Sequence[Any] | None) -> bool:
        """Run ``DELETE FROM t [WHERE c]`` (which Spark refuses on Parquet tables) as the
        replacement of ``t`` by its rows for which ``c`` is not true (``replace_table_as``,
        in the zone that holds ``t``); False when ``sql`` is not such a statement."""
        from sqlglot import exp

        parsed = _parse(sql)
        if not parsed or len(parsed) != 1 or not isinstance(parsed[0], exp.Delete):
            return False
        target = parsed[0].this
        where = parsed[0].args.get("where")
        if (
            not isinstance(target, exp.Table)
            or target.args.get("db")
            or parsed[0].args.get("using")
        ):
            return False
        name = target.name
        zone = self.table_zone(name)
        if zone is None:
            self._fail_missing(name)
        keep = "TRUE" if where is None else f"NOT COALESCE(({where.this.sql('spark')}), FALSE)"
        alias = f" AS {quote_ident(target.alias)}" if target.alias else ""
        with self.zone(zone):
            self.replace_table_as(
                name, f"SELECT * FROM {quote_ident(name)}{alias} WHERE {keep}", params
            )
        return True

    def _fail_missing(self, name: str) -> NoReturn:
        raise EngineError(
            f"no table {name!r} to delete from", hint="write the table before deleting rows"
        )

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        from pyspark.errors import PySparkException

        df = self._sql(sql, params)
        try:
            return _nullable(df.toArrow())
        except PySparkException as exc:
            self._fail(exc)

    # --- tables ---------------------------------------------------------------------------

    def _guard(self) -> None:
        if self.read_only:
            raise EngineError("the Spark engine is open read-only", hint="open it for writing")

    def _save(self, name: str, df: DataFrame, mode: str) -> None:
        from pyspark.errors import PySparkException

        self.spark.catalog.setCurrentDatabase(self._db[self._zone])
        # one file per write: Spark reads a table's files largest first, so a table of
        # several files comes back in another order than it was written; DuckDB keeps the
        # order, and stages that read without ORDER BY (the find stage's spatial scan draws
        # its Monte Carlo replicates area by area in the reach table's order) depend on it
        df = df.coalesce(1)
        try:
            (
                df.write.mode(mode)
                .format("parquet")
                .option("path", self._location(self._zone, name))
                .saveAsTable(self._qualified(name))
            )
            self.spark.sql(f"REFRESH TABLE {self._qualified(name)}")
        except PySparkException as exc:
            self._fail(exc)

    def write_table(self, name: str, data: pa.Table, *, mode: str = "replace") -> None:
        if mode not in {"replace", "append"}:
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        self._guard()
        df = self.spark.createDataFrame(data)
        if mode == "append" and self.has_table(name):
            zone = self.table_zone(name)
            target = self.spark.table(self._qualified(name, zone))
            df = df.select(*[df[f.name].cast(f.dataType) for f in target.schema])
            with self.zone(zone or self._zone):
                self._save(name, df, "append")
            return
        self.drop_table(name, zone=self._zone)
        self._save(name, df, "overwrite")

    def replace_table_as(
        self, name: str, select_sql: str, params: Sequence[Any] | None = None
    ) -> None:
        self._guard()
        df = self._sql(select_sql, params)
        # Spark cannot overwrite a table it reads: materialise the rows first
        df = df.localCheckpoint(eager=True)
        self.drop_table(name, zone=self._zone)
        self._save(name, df, "overwrite")

    def drop_table(self, name: str, zone: str | None = None) -> None:
        """Drop table ``name`` (of ``zone``; None: the one reads find) and its files."""
        self._guard()
        target = zone or self._zone
        if not self._catalog_has(name, target):
            zone_found = self.table_zone(name) if zone is None else None
            if zone_found is None:
                return
            target = zone_found
        self.spark.sql(f"DROP TABLE IF EXISTS {self._qualified(name, target)}")
        fs, path = self._fs(self._location(target, name))
        if fs.exists(path):
            fs.delete(path, True)

    def _catalog_has(self, name: str, zone: str) -> bool:
        return bool(self.spark.catalog.tableExists(self._qualified(name, zone)))

    def tables(self, zone: str | None = None) -> list[str]:
        if zone is not None and zone not in self._zones:
            raise EngineError(f"no {zone!r} zone is open", hint=f"open one of {self._zones}")
        names: set[str] = set()
        for z in (zone,) if zone is not None else self._zones:
            for t in self.spark.catalog.listTables(self._db[z]):
                if not t.isTemporary:
                    names.add(logical_name(t.name))
        return sorted(names)

    def table_zone(self, name: str) -> str | None:
        """The zone holding ``name``, the current zone first; None when absent."""
        for zone in (self._zone, *self._zones):
            if self._catalog_has(name, zone):
                return zone
        return None

    def has_table(self, name: str) -> bool:
        return self.table_zone(name) is not None

    def columns(self, name: str) -> list[str]:
        zone = self.table_zone(name)
        if zone is None:
            return []
        return [str(f.name) for f in self.spark.table(self._qualified(name, zone)).schema]

    # --- transactions and zones -----------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Runs the block; Spark has no transactions, so nothing is rolled back on error
        (``capabilities.transactions`` is False)."""
        yield

    @contextlib.contextmanager
    def zone(self, name: str) -> Iterator[None]:
        if name not in self._zones:
            raise EngineError(f"no {name!r} zone is open", hint=f"open one of {self._zones}")
        before = self._zone
        self._zone = name
        try:
            yield
        finally:
            self._zone = before

    def splink_api(self) -> DatabaseAPI[Any]:
        """Splink's SparkAPI on this session, its tables in the current zone's database;
        lineage broken by persisting (no checkpoint directory needed). Splink repartitions
        its working tables into as many partitions as the session shuffles into
        (``spark.sql.shuffle.partitions``: 4 by :data:`BASE_CONFIG`, 1 in the tests, a
        cluster's own setting there)."""
        from splink import SparkAPI

        return SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=self.spark,
            database=self._db[self._zone],
            break_lineage_method="persist",
            num_partitions_on_repartition=_shuffle_partitions(self.spark),
        )

    def close(self) -> None:
        """Unregister this engine's tables (their files stay) and its databases."""
        with contextlib.suppress(Exception):
            for zone in self._zones:
                db = self._db[zone]
                for t in self.spark.catalog.listTables(db):
                    if not t.isTemporary:
                        table = f"{quote_ident(db)}.{quote_ident(t.name)}"
                        self.spark.sql(f"DROP TABLE IF EXISTS {table}")
                self.spark.sql(f"DROP DATABASE IF EXISTS {quote_ident(db)}")

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

    def _conforms(engine: SparkEngine) -> Engine:
        """mypy proves here that SparkEngine implements the Engine protocol."""
        return engine

"""What an engine can do (:class:`Capabilities`) and how it spells SQL (:class:`Dialect`).

Both are data, declared once on each engine class, so the core and the tests ask an engine
what it supports instead of discovering it at run time (Splink's regret, Ibis's practice).

SQL in everyfamily is written in one reference dialect, DuckDB's, and bound with ``?``
placeholders. What differs between engines goes through a :class:`Dialect`:

* identifiers: :meth:`Dialect.quote_ident` (double quotes in DuckDB and PostgreSQL, backticks
  in Spark SQL, which reads double quotes as a string);
* column types of store tables: :meth:`Dialect.type_sql` from a logical type (:data:`TYPES`);
* create-or-replace: :meth:`Dialect.replace_table_as` (DuckDB and Spark have
  ``CREATE OR REPLACE TABLE``; PostgreSQL drops and creates inside one transaction);
* a list bound as one parameter: :meth:`Dialect.in_list`;
* a deterministic hash for seeded sampling: :meth:`Dialect.hash_expr` (its values differ
  between engines; only its determinism is portable);
* rounding a double to some decimals: :meth:`Dialect.round_expr` (PostgreSQL rounds only
  NUMERIC);
* whole statements: :meth:`Dialect.portable`, the reference SQL transpiled with sqlglot
  (Mao et al., the SQL transpiler Splink uses for its DuckDB, Spark and Postgres backends).
  For DuckDB it returns the text unchanged, so the reference engine never pays for, or is
  changed by, a transpilation.

The fragments a Dialect method returns are already in that engine's dialect: put them in
standard SQL that runs as it is, never through :meth:`Dialect.portable` (sqlglot would read
them as DuckDB's: PostgreSQL's ``NUMERIC`` would become DuckDB's ``DECIMAL(18,3)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

#: The dialect everyfamily's SQL is written in (sqlglot's name for it).
REFERENCE_DIALECT = "duckdb"

#: Logical column types of store tables; each dialect maps them to its own type names.
LogicalType = Literal["string", "int64", "float64", "bool", "date", "timestamp", "string_list"]
TYPES: tuple[LogicalType, ...] = (
    "string",
    "int64",
    "float64",
    "bool",
    "date",
    "timestamp",
    "string_list",
)


@dataclass(frozen=True)
class Capabilities:
    """What an engine supports, declared as data (one instance per engine class).

    A conformance test that needs a capability an engine lacks is a strict expected failure
    on that engine (``tests/engines``): when the engine gains it, the test passes and the
    build fails until the declaration here is changed.
    """

    #: all-or-nothing blocks (``Engine.transaction``), rolled back on error
    transactions: bool
    #: CREATE/DROP inside a transaction roll back too
    transactional_ddl: bool
    #: list (array) columns, e.g. ``records.flags``
    list_types: bool
    #: the engine itself encrypts what it writes to disk (DuckDB's AES-GCM store files);
    #: False: at-rest encryption is the server's or the disk's, documented, not enforced here
    encrypts_at_rest: bool
    #: how zones are kept apart: one database file each, one schema each in one database, or
    #: one storage location (directory, bucket prefix) each (Spark)
    zones: Literal["files", "schemas", "locations"]
    #: Splink can run linkage on it (``Engine.splink_api``)
    splink: bool
    #: spatial SQL in the engine; False everywhere today: geometry runs in GeoPandas
    spatial: bool = False
    #: ``dialect.hash_expr`` gives the reference engine's (DuckDB's) values, so a seeded
    #: sample (linkage's clerical review) picks the same rows as on DuckDB; elsewhere the
    #: sample is as deterministic but other rows
    reference_hash: bool = False


@dataclass(frozen=True)
class Dialect:
    """How one engine spells SQL. ``name`` is sqlglot's dialect name."""

    name: str
    ident_quote: str
    types: dict[str, str] = field(hash=False)
    #: ``CREATE OR REPLACE TABLE`` exists
    create_or_replace: bool = True

    def quote_ident(self, name: str) -> str:
        """Quote a SQL identifier (table or column name) safely: the quote character is
        doubled inside, so no name can end the identifier early."""
        q = self.ident_quote
        return q + name.replace(q, q + q) + q

    def type_sql(self, logical: str) -> str:
        """The SQL type of a logical column type (one of :data:`TYPES`)."""
        try:
            return self.types[logical]
        except KeyError:
            raise ValueError(f"unknown logical type {logical!r}; use one of {TYPES}") from None

    def replace_table_as(
        self, name: str, select_sql: str, schema: str | None = None
    ) -> tuple[tuple[str, bool], ...]:
        """Statements that make table ``name`` (of ``schema``, when given) hold the rows of
        ``select_sql``, replacing any table of that name, each with whether it takes the
        query's parameters; run them in one transaction. Without ``CREATE OR REPLACE`` the
        rows go to a new table that is then renamed, so ``select_sql`` may read ``name``."""
        q = self.quote_ident
        prefix = f"{q(schema)}." if schema else ""
        if self.create_or_replace:
            return ((f"CREATE OR REPLACE TABLE {prefix}{q(name)} AS {select_sql}", True),)
        new = f"{prefix}{q(name + '__ef_new')}"
        return (
            (f"DROP TABLE IF EXISTS {new}", False),
            (f"CREATE TABLE {new} AS {select_sql}", True),
            (f"DROP TABLE IF EXISTS {prefix}{q(name)}", False),
            (f"ALTER TABLE {new} RENAME TO {q(name)}", False),
        )

    def in_list(self, expr: str) -> str:
        """A condition true when ``expr`` (text) is in a list of strings bound as ONE ``?``
        parameter (a Python list): no value ever enters the SQL text, however many."""
        if self.name == "duckdb":
            return f"{expr} IN (SELECT unnest(?::VARCHAR[]))"
        if self.name == "postgres":
            return f"{expr} = ANY(CAST(? AS TEXT[]))"
        return f"array_contains(?, {expr})"

    def hash_expr(self, *exprs: str) -> str:
        """A deterministic 64-bit hash of the values of ``exprs`` (for seeded sampling:
        order by it). Deterministic within an engine; the values differ between engines."""
        if not exprs:
            raise ValueError("hash_expr needs at least one expression")
        if self.name == "duckdb":
            return f"hash({', '.join(exprs)})"
        if self.name == "postgres":
            parts = ", ".join(f"CAST({e} AS TEXT)" for e in exprs)
            return f"hashtextextended(concat_ws(chr(31), {parts}), 0)"
        return f"xxhash64({', '.join(exprs)})"

    def round_expr(self, expr: str, digits: int) -> str:
        """``expr`` (a double) rounded to ``digits`` decimal places, still a double.
        PostgreSQL rounds only NUMERIC, so there the value goes through NUMERIC (halves
        away from zero; DuckDB rounds the double itself: a value exactly half-way in binary
        can round the other way, documented as engine-specific)."""
        n = int(digits)
        if self.name == "postgres":
            return f"CAST(round(CAST({expr} AS NUMERIC), {n}) AS DOUBLE PRECISION)"
        return f"round({expr}, {n})"

    def portable(self, sql: str) -> str:
        """``sql``, written in the reference dialect (DuckDB, ``?`` placeholders), in this
        dialect (still with ``?`` placeholders). Unchanged for DuckDB."""
        if self.name == REFERENCE_DIALECT:
            return sql
        return _transpile(sql, self.name)


@lru_cache(maxsize=512)
def _transpile(sql: str, dialect: str) -> str:
    import sqlglot

    if dialect == "spark":  # identifiers quoted for Spark already (engine.dialect.quote_ident)
        sql = double_quoted_from_backticks(sql)
    out = ";\n".join(sqlglot.transpile(sql, read=REFERENCE_DIALECT, write=dialect))
    # sqlglot writes PostgreSQL placeholders as psycopg's %s; the engine interface binds ?
    return qmark_from_format(out) if dialect == "postgres" else out


def _scan(sql: str, on_code: dict[str, str]) -> str:
    """Rewrite ``sql`` outside quoted strings, quoted identifiers and comments: each key of
    ``on_code`` found there is replaced by its value (longest keys first)."""
    keys = sorted(on_code, key=len, reverse=True)
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote stays inside
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1])
            i = j + 1
            continue
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
            continue
        for k in keys:
            if sql.startswith(k, i):
                out.append(on_code[k])
                i += len(k)
                break
        else:
            out.append(c)
            i += 1
    return "".join(out)


def double_quoted_from_backticks(sql: str) -> str:
    """Backtick-quoted identifiers (Spark's, outside strings and comments) in double quotes,
    as the reference dialect reads them."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "`":
            j, name = i + 1, []
            while j < n:
                if sql[j] == "`":
                    if j + 1 < n and sql[j + 1] == "`":
                        name.append("`")
                        j += 2
                        continue
                    break
                name.append(sql[j])
                j += 1
            out.append('"' + "".join(name).replace('"', '""') + '"')
            i = j + 1
            continue
        if c in "'\"":
            j = i + 1
            while j < n and not (sql[j] == c and not sql.startswith(c * 2, j)):
                j += 2 if sql.startswith(c * 2, j) else 1
            out.append(sql[i : j + 1])
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def qmark_from_format(sql: str) -> str:
    """``%s`` placeholders (outside strings) back to ``?``."""
    return _scan(sql, {"%s": "?", "%%": "%"})


def format_from_qmark(sql: str) -> str:
    """``?`` placeholders (outside strings and comments) to psycopg's ``%s``, and every
    other ``%`` doubled, inside strings too, as psycopg requires when parameters are bound."""
    return _scan(sql.replace("%", "%%"), {"?": "%s"})


DUCKDB = Dialect(
    name="duckdb",
    ident_quote='"',
    types={
        "string": "VARCHAR",
        "int64": "BIGINT",
        "float64": "DOUBLE",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "string_list": "VARCHAR[]",
    },
)

POSTGRES = Dialect(
    name="postgres",
    ident_quote='"',
    types={
        "string": "TEXT",
        "int64": "BIGINT",
        "float64": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "string_list": "TEXT[]",
    },
    create_or_replace=False,
)

#: Spark SQL's spelling (engines/spark_engine.py).
SPARK = Dialect(
    name="spark",
    ident_quote="`",
    types={
        "string": "STRING",
        "int64": "BIGINT",
        "float64": "DOUBLE",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "string_list": "ARRAY<STRING>",
    },
)

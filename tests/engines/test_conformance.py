"""The engine conformance suite: the same facts on every engine (DuckDB and PostgreSQL today).

Each test states its data inline and its expected values by hand; gaps are strict expected
failures declared by the engine's capabilities (conftest.requires).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from everyfamily.engines import Engine, open_engine
from everyfamily.engines.dialect import DUCKDB, POSTGRES, SPARK
from everyfamily.errors import EngineError

from .conftest import ZONES, Maker, requires

pytestmark = pytest.mark.postgres

#: Every column type a run's store tables hold (a demo run has VARCHAR, BIGINT, INTEGER, DOUBLE,
#: BOOLEAN, DATE, TIMESTAMP and, in the list test below, VARCHAR[]), each with a NULL.
TYPED = pa.table(
    {
        "s": pa.array(["Zoë", 'O\'Brien "Jr"', None, "100% 'sure'?"], pa.string()),
        "i": pa.array([1, -(2**40), None, 0], pa.int64()),
        "i32": pa.array([7, None, -3, 2**31 - 1], pa.int32()),
        "f": pa.array([0.5, None, -1e-9, 1e300], pa.float64()),
        "b": pa.array([True, False, None, True], pa.bool_()),
        "d": pa.array(
            [dt.date(2024, 2, 29), dt.date(1900, 1, 1), None, dt.date(2099, 12, 31)], pa.date32()
        ),
        "t": pa.array(
            [dt.datetime(2024, 5, 6, 10, 30, 0, 123456), None, dt.datetime(1970, 1, 1), None],
            pa.timestamp("us"),
        ),
    }
)


def _rows(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def test_round_trip_of_every_store_type(engine: Engine) -> None:
    engine.write_table("typed", TYPED)
    back = engine.query("SELECT * FROM typed ORDER BY i32 NULLS FIRST")
    assert back.schema == TYPED.schema
    want = sorted(_rows(TYPED), key=lambda r: (r["i32"] is not None, r["i32"] or 0))
    assert _rows(back) == want


def test_round_trip_of_lists(request: pytest.FixtureRequest, engine: Engine) -> None:
    requires(request, engine, "list_types")
    data = pa.table(
        {
            "k": pa.array([1, 2, 3], pa.int64()),
            "flags": pa.array([["a", "b,c"], [], None], pa.list_(pa.string())),
        }
    )
    engine.write_table("listed", data)
    back = engine.query("SELECT k, flags FROM listed ORDER BY k")
    assert back.column("flags").type == pa.list_(pa.string())
    assert back.column("flags").to_pylist() == [["a", "b,c"], [], None]


def test_append_matches_columns_by_name_and_replace_starts_again(engine: Engine) -> None:
    first = pa.table({"a": pa.array([1, 2], pa.int64()), "b": pa.array(["x", "y"])})
    engine.write_table("t", first)
    later = pa.table({"b": pa.array(["z"]), "a": pa.array([3], pa.int64())})
    engine.write_table("t", later, mode="append")
    rows = engine.query("SELECT a, b FROM t ORDER BY a").to_pylist()
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]
    engine.write_table("t", later, mode="replace")
    assert engine.query("SELECT b, a FROM t").to_pylist() == [{"b": "z", "a": 3}]
    # append to a table that does not exist yet creates it
    engine.write_table("fresh", first, mode="append")
    assert engine.query("SELECT count(*) AS n FROM fresh").column("n").to_pylist() == [2]
    with pytest.raises(ValueError, match="mode"):
        engine.write_table("t", first, mode="upsert")


def test_has_table_columns_tables_and_drop(engine: Engine) -> None:
    assert not engine.has_table("people")
    assert engine.columns("people") == []
    engine.write_table("people", pa.table({"z": [1], "a": ["x"], "m": [True]}))
    assert engine.has_table("people")
    assert engine.columns("people") == ["z", "a", "m"]
    engine.write_table("areas", pa.table({"code": ["E01"]}))
    assert engine.tables() == ["areas", "people"]
    engine.drop_table("people")
    engine.drop_table("people")  # dropping what is not there is no error
    assert engine.tables() == ["areas"]


def test_empty_table_keeps_its_columns(engine: Engine) -> None:
    empty = pa.table({"a": pa.array([], pa.int64()), "d": pa.array([], pa.date32())})
    engine.write_table("empty", empty)
    back = engine.query("SELECT * FROM empty")
    assert back.num_rows == 0 and back.schema == empty.schema


def test_zones_keep_new_tables_apart_and_reads_find_both(maker: Maker) -> None:
    engine = maker.open_zoned(ZONES, False, False)
    kinds = {"duckdb": "files", "postgres": "schemas", "spark": "locations"}
    assert engine.capabilities.zones == kinds[maker.kind]
    with engine.zone("identifiable"):
        engine.write_table("records", pa.table({"nhs": ["943 476 5919"]}))
        engine.write_table("both", pa.table({"only_identifiable": [1]}))
    with engine.zone("analysis"):
        engine.write_table("children", pa.table({"person_id": ["P1", "P2"]}))
        engine.write_table("both", pa.table({"only_analysis": [2]}))
        # reads find a table of the other zone; a name in both resolves to the current zone
        assert engine.query("SELECT count(*) AS n FROM records").column("n").to_pylist() == [1]
        assert engine.columns("both") == ["only_analysis"]
        engine.replace_table_as("derived", "SELECT count(*) AS n FROM children")
    with engine.zone("identifiable"):
        assert engine.columns("both") == ["only_identifiable"]
    assert engine.tables("identifiable") == ["both", "records"]
    assert engine.tables("analysis") == ["both", "children", "derived"]
    assert engine.tables() == ["both", "children", "derived", "records"]
    with pytest.raises(EngineError, match="no 'elsewhere'"):
        engine.tables("elsewhere")
    with pytest.raises(EngineError, match="no 'elsewhere'"), engine.zone("elsewhere"):
        pass


def test_read_only_reads_and_refuses_writes(maker: Maker) -> None:
    writer = maker.open_zoned(ZONES, False, False)
    with writer.zone("analysis"):
        writer.write_table("reach", pa.table({"n": pa.array([5], pa.int64())}))
    writer.close()
    reader = maker.open_zoned(ZONES, False, True)
    assert reader.query("SELECT n FROM reach").column("n").to_pylist() == [5]
    with pytest.raises(Exception):  # noqa: B017 - each engine's own refusal
        reader.write_table("reach", pa.table({"n": pa.array([6], pa.int64())}))
    with pytest.raises(Exception):  # noqa: B017
        reader.execute("DELETE FROM reach")
    reader.close()
    again = maker.open_zoned(ZONES, False, True)
    assert again.query("SELECT n FROM reach").column("n").to_pylist() == [5]


def test_transaction_rolls_back_everything_on_error(
    request: pytest.FixtureRequest, engine: Engine
) -> None:
    requires(request, engine, "transactions")
    engine.write_table("kept", pa.table({"a": pa.array([1], pa.int64())}))
    with pytest.raises(RuntimeError, match="half-way"), engine.transaction():
        engine.write_table("kept", pa.table({"a": pa.array([2], pa.int64())}), mode="append")
        engine.execute("DELETE FROM kept WHERE a = ?", [1])
        engine.write_table("new_table", pa.table({"a": [1]}))
        with engine.transaction():  # nested: the outer one decides
            engine.execute("INSERT INTO kept VALUES (?)", [3])
        raise RuntimeError("half-way")
    assert engine.query("SELECT a FROM kept ORDER BY a").column("a").to_pylist() == [1]
    assert not engine.has_table("new_table")
    with engine.transaction():
        engine.execute("INSERT INTO kept VALUES (?)", [2])
    assert engine.query("SELECT a FROM kept ORDER BY a").column("a").to_pylist() == [1, 2]


def test_a_failed_statement_rolls_back_its_transaction(
    request: pytest.FixtureRequest, engine: Engine
) -> None:
    requires(request, engine, "transactional_ddl")
    with pytest.raises(Exception), engine.transaction():  # noqa: B017 - any engine's error
        engine.replace_table_as("made", "SELECT 1 AS a")
        engine.execute("SELECT * FROM no_such_table")
    assert not engine.has_table("made")
    engine.replace_table_as("made", "SELECT 2 AS a")  # the engine is usable afterwards
    assert engine.query("SELECT a FROM made").column("a").to_pylist() == [2]


HOSTILE = [
    'we"ird; DROP TABLE safe; --',
    "O'Brien",
    "100% ?",
    "Straße 街",
    "select",
]


def test_hostile_identifiers_are_quoted_not_run(engine: Engine) -> None:
    q = engine.dialect.quote_ident
    engine.write_table("safe", pa.table({"a": [1]}))
    data = pa.table({name: pa.array([i], pa.int64()) for i, name in enumerate(HOSTILE)})
    engine.write_table(HOSTILE[0], data)
    assert engine.has_table(HOSTILE[0]) and engine.has_table("safe")
    assert engine.columns(HOSTILE[0]) == HOSTILE
    cols = ", ".join(q(c) for c in HOSTILE)
    row = engine.query(f"SELECT {cols} FROM {q(HOSTILE[0])} WHERE {q('100% ?')} = ?", [2])
    assert row.to_pylist() == [{name: i for i, name in enumerate(HOSTILE)}]
    engine.replace_table_as(HOSTILE[1], f"SELECT {q('select')} AS {q('a b')} FROM {q(HOSTILE[0])}")
    assert engine.query(f"SELECT * FROM {q(HOSTILE[1])}").to_pylist() == [{"a b": 4}]
    engine.drop_table(HOSTILE[0])
    assert not engine.has_table(HOSTILE[0]) and engine.has_table("safe")


def test_quote_ident_per_dialect() -> None:
    assert DUCKDB.quote_ident('a"b') == '"a""b"'
    assert POSTGRES.quote_ident('a"b') == '"a""b"'
    # Spark SQL reads "x" as a string: identifiers take backticks there
    assert SPARK.quote_ident("a`b") == "`a``b`"
    assert SPARK.type_sql("string_list") == "ARRAY<STRING>"
    assert POSTGRES.type_sql("float64") == "DOUBLE PRECISION"
    with pytest.raises(ValueError, match="unknown logical type"):
        DUCKDB.type_sql("geometry")


def test_a_list_binds_as_one_parameter(engine: Engine) -> None:
    names = ["Ann", "O'Brien", "100%", "Zoë", "Bo"]
    engine.write_table("n", pa.table({"name": names, "k": list(range(5))}))
    cond = engine.dialect.in_list("name")
    wanted = ["O'Brien", "100%", "Zoë", "nobody'); DROP TABLE n; --"]
    rows = engine.query(f"SELECT k FROM n WHERE {cond} ORDER BY k", [wanted])
    assert rows.column("k").to_pylist() == [1, 2, 3]
    assert engine.query(f"SELECT k FROM n WHERE {cond}", [[]]).num_rows == 0
    assert engine.has_table("n")


def test_hash_is_deterministic_and_spreads(engine: Engine) -> None:
    engine.write_table("p", pa.table({"l": list(range(50)), "r": list(range(50, 100))}))
    h = engine.dialect.hash_expr("l", "r", "?")
    sql = f"SELECT l, {h} AS h FROM p ORDER BY l"
    first = engine.query(sql, [2026]).column("h").to_pylist()
    assert first == engine.query(sql, [2026]).column("h").to_pylist()
    assert len(set(first)) == 50  # no collisions among 50 pairs
    assert first != engine.query(sql, [7]).column("h").to_pylist()  # the seed matters


#: Children as the measure stage holds them: area, group, month of birth, registered.
CHILDREN = pa.table(
    {
        "area_code": ["E01A", "E01A", "E01A", "E01B", "E01B", "E01B", "E01B", "E01A"],
        "grp": ["Polish", "English", "English", "Polish", "Polish", "English", None, "Polish"],
        "date_of_birth": pa.array(
            [dt.date(2022, m, 1) for m in (1, 1, 2, 2, 2, 3, 3, 1)], pa.date32()
        ),
        "registered": [True, False, True, True, False, True, True, None],
    }
)

#: Written once, in the reference dialect (DuckDB's): count_if, strftime with '%' patterns,
#: :: casts and COALESCE all need translating for PostgreSQL.
REACH_SQL = """
SELECT area_code, COALESCE(grp, 'unknown') AS grp, strftime(date_of_birth, '%Y-%m') AS month,
       count(*)::BIGINT AS children, count_if(registered)::BIGINT AS registered,
       CAST(round(100.0 * count_if(registered) / count(*), 1) AS DOUBLE) AS pct
FROM children
WHERE area_code LIKE ?
GROUP BY area_code, COALESCE(grp, 'unknown'), strftime(date_of_birth, '%Y-%m')
ORDER BY area_code, grp, month
"""

#: By hand from CHILDREN.
REACH_WANT = [
    ("E01A", "English", "2022-01", 1, 0, 0.0),
    ("E01A", "English", "2022-02", 1, 1, 100.0),
    ("E01A", "Polish", "2022-01", 2, 1, 50.0),
    ("E01B", "English", "2022-03", 1, 1, 100.0),
    ("E01B", "Polish", "2022-02", 2, 1, 50.0),
    ("E01B", "unknown", "2022-03", 1, 1, 100.0),
]


def test_portable_reach_aggregation_gives_the_hand_counts(engine: Engine) -> None:
    engine.write_table("children", CHILDREN)
    sql = engine.dialect.portable(REACH_SQL)
    if engine.dialect.name == "duckdb":
        assert sql == REACH_SQL  # the reference engine runs the text as written
    elif engine.dialect.name == "postgres":
        assert "count_if" not in sql.lower() and "strftime" not in sql.lower()
    else:  # Spark has count_if; strftime's pattern becomes date_format's
        assert "strftime" not in sql.lower() and "yyyy-MM" in sql
    got = engine.query(sql, ["E01%"])
    assert got.schema.field("children").type == pa.int64()
    assert got.schema.field("pct").type == pa.float64()
    assert [tuple(r.values()) for r in got.to_pylist()] == REACH_WANT
    engine.replace_table_as("reach_by_month", sql, ["E01B%"])
    n = engine.query("SELECT sum(children)::BIGINT AS n FROM reach_by_month")
    assert engine.query(engine.dialect.portable("SELECT 1::INTEGER AS x")).num_rows == 1
    assert n.column("n").to_pylist() == [4]


def test_portable_statement_runs_on_both_engines_with_the_same_result(
    maker: Maker, tmp_path: Path
) -> None:
    """The same reference SQL, transpiled for PostgreSQL, equals DuckDB's result."""
    reference = open_engine("duckdb", path=tmp_path / "ref.duckdb")
    other = maker.open()
    try:
        results = []
        for e in (reference, other):
            e.write_table("children", CHILDREN)
            results.append(e.query(e.dialect.portable(REACH_SQL), ["E01%"]).to_pylist())
        assert results[0] == results[1]
    finally:
        reference.close()


def test_at_rest_the_disk_never_holds_a_value_in_clear(
    request: pytest.FixtureRequest, maker: Maker
) -> None:
    """A sentinel written to the identifiable zone is not in the engine's files on disk."""
    engine = maker.open_zoned(ZONES, True, False)
    requires(request, engine, "encrypts_at_rest")
    sentinel = "SENTINEL-at-rest-7f3a9c"
    with engine.zone("identifiable"):
        engine.write_table("records", pa.table({"first_name": [sentinel] * 200}))
    if maker.kind == "postgres":
        engine.execute("CHECKPOINT")
    engine.close()
    needle = sentinel.encode()
    found = [
        p.name
        for p in maker.disk.rglob("*")
        if p.is_file() and not p.is_symlink() and needle in p.read_bytes()
    ]
    assert found == []


def test_splink_api_is_bound_to_the_engine(request: pytest.FixtureRequest, engine: Engine) -> None:
    requires(request, engine, "splink")
    from splink.internals.database_api import DatabaseAPI

    assert isinstance(engine.splink_api(), DatabaseAPI)


def test_spark_needs_a_warehouse_and_unknown_engines_are_named() -> None:
    with pytest.raises(EngineError, match="Spark engine needs a warehouse") as err:
        open_engine("spark")
    assert "path=" in str(err.value)
    with pytest.raises(EngineError, match="unknown engine 'oracle'"):
        open_engine("oracle")


def test_postgres_connection_failure_is_one_line_without_the_dsn() -> None:
    with pytest.raises(EngineError) as err:
        open_engine("postgres", dsn="host=127.0.0.1 port=1 user=u password=s3cret dbname=x")
    assert "s3cret" not in str(err.value) and "\n" not in str(err.value)


def test_placeholders_outside_strings_only() -> None:
    from everyfamily.engines.dialect import format_from_qmark, qmark_from_format

    sql = "SELECT '?', \"a?\", x % 2 FROM t -- what?\nWHERE a = ? AND b LIKE '5%' /* ? */ AND c = ?"
    assert format_from_qmark(sql) == (
        "SELECT '?', \"a?\", x %% 2 FROM t -- what?\n"
        "WHERE a = %s AND b LIKE '5%%' /* ? */ AND c = %s"
    )
    assert qmark_from_format("SELECT '%s' FROM t WHERE a = %s AND b = 'it''s %s'") == (
        "SELECT '%s' FROM t WHERE a = ? AND b = 'it''s %s'"
    )


def test_postgres_errors_never_repeat_a_value(postgres_dsn: str) -> None:
    engine = open_engine("postgres", dsn=postgres_dsn)
    try:
        engine.write_table("n", pa.table({"v": pa.array([1], pa.int64())}))
        with pytest.raises(EngineError) as err:
            engine.execute("INSERT INTO n VALUES (CAST(? AS BIGINT))", ["SENTINEL-9434765919"])
        assert "SENTINEL" not in str(err.value) and "InvalidTextRepresentation" in str(err.value)
    finally:
        engine.close()

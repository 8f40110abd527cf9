"""The conformance suite's engines: every test taking ``engine`` runs on DuckDB, on
PostgreSQL (a throwaway server, tests/postgres_server.py) and on Spark (``local[2]``, one
SparkSession for the whole test session, its tests in one xdist group); a test that needs a
capability an engine lacks marks itself a STRICT expected failure there (:func:`requires`),
so a gap that closes fails the build until the engine's declared capabilities say so."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from everyfamily.engines import Engine, open_engine
from everyfamily.engines.duckdb_engine import DuckDBEngine, StoreFile
from postgres_server import PostgresServer

#: Spark's tests share one JVM: they run on one xdist worker, marked ``spark``.
SPARK = pytest.param("spark", marks=(pytest.mark.spark, pytest.mark.xdist_group("spark")))
ENGINES = ("duckdb", "postgres", SPARK)
ZONES = ("identifiable", "analysis")


@dataclass(frozen=True)
class Maker:
    """Opens engines of one kind: plain, or with zones (files or schemas); ``disk`` is where
    the engine's data lives on disk (to look for a value in the raw bytes)."""

    kind: str
    open: Callable[[], Engine]
    open_zoned: Callable[[Sequence[str], bool, bool], Engine]
    disk: Path


def requires(request: pytest.FixtureRequest, engine: Engine, capability: str) -> None:
    """Mark the running test a strict expected failure when ``engine`` lacks ``capability``."""
    if not getattr(engine.capabilities, capability):
        request.applymarker(
            pytest.mark.xfail(strict=True, reason=f"{engine.name} lacks {capability}")
        )


def known_gap(request: pytest.FixtureRequest, engine: Engine, on: str, why: str) -> None:
    """Mark the running test a STRICT expected failure on engine ``on``: a gap measured and
    not yet closed (issue 20), which fails the build the day it closes."""
    if engine.name == on:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"{on}: {why}"))


@pytest.fixture(params=ENGINES)
def maker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Maker]:
    kind: str = request.param
    opened: list[Engine] = []

    def keep(engine: Engine) -> Engine:
        opened.append(engine)
        return engine

    if kind == "duckdb":
        store = tmp_path / "store"
        store.mkdir()

        def plain() -> Engine:
            return keep(open_engine("duckdb", path=store / "plain.duckdb"))

        def zoned(zones: Sequence[str], encrypted: bool, read_only: bool) -> Engine:
            key = "ab" * 32 if encrypted else None
            files = [StoreFile(z, store / f"{z}.duckdb", key) for z in zones]
            return keep(DuckDBEngine.open_stores(files, read_only=read_only))

        yield Maker(kind, plain, zoned, store)
    elif kind == "spark":
        session = request.getfixturevalue("spark_session")
        warehouse = tmp_path / "warehouse"

        def plain_spark() -> Engine:
            return keep(
                open_engine("spark", path=tmp_path / "plain", zones=("main",), session=session)
            )

        def zoned_spark(zones: Sequence[str], encrypted: bool, read_only: bool) -> Engine:
            return keep(
                open_engine(
                    "spark",
                    path=warehouse,
                    zones=tuple(zones),
                    read_only=read_only,
                    session=session,
                )
            )

        yield Maker(kind, plain_spark, zoned_spark, warehouse)
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        dsn = server.dsn(server.create_database("conf"))

        def plain_pg() -> Engine:
            return keep(open_engine("postgres", dsn=dsn, zones=("main",)))

        def zoned_pg(zones: Sequence[str], encrypted: bool, read_only: bool) -> Engine:
            return keep(open_engine("postgres", dsn=dsn, zones=tuple(zones), read_only=read_only))

        yield Maker(kind, plain_pg, zoned_pg, server.data_dir)
    for engine in opened:
        engine.close()


#: Spark for tables of a few hundred rows, where each job's fixed cost is the whole cost:
#: one shuffle partition (and so one partition after Splink's repartitions,
#: SparkEngine.splink_api), no adaptive re-planning, no whole-stage code generation (each
#: distinct query would be compiled by Janino, then by the JIT, for a few rows), and a JVM
#: that compiles with C1 only and collects garbage on one thread (the driver's JVM is
#: started by this fixture, so its options apply). Measured (docs/scale.md, "Measured"):
#: the linkage equality test took 149 s of CPU (JVM included) with one shuffle partition
#: only, 98 s with all of these; every Spark test's equality holds with them.
TEST_SPARK_CONFIG = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


@pytest.fixture(scope="session")
def spark_session() -> object:
    """The one SparkSession of the test session (``local[2]``, Splink's jar loaded)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("pyspark (the project's 'spark' extra) is missing: run scripts/bootstrap")
    from everyfamily.engines.spark_engine import spark_session as make

    return make("local[2]", TEST_SPARK_CONFIG)


@pytest.fixture
def engine(maker: Maker) -> Engine:
    """A fresh, empty engine with one zone."""
    return maker.open()

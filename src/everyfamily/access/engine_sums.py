"""The access stage's reading and counting in the engine (SQL), not in pandas.

1. The reach population (in the age range, with a small area, known to a service or
   registered or engaged) is filtered in the engine and home points read for it only:
   :func:`population_sql` and :func:`homes_sql`, in person order said explicitly (ORDER BY,
   then a stable sort in Python: :func:`in_person_order`; Spark's scan keeps no order).
2. Home points leave the engine as DISTINCT origins (small area, home point's area,
   latitude, longitude) with their children counted: :func:`origins_sql`. The geometry
   stays in Python (access/points.py: each origin placed, the travel-time matrix, nearest
   sites, bands and the two-step floating catchment once per distinct point).
3. The point measures go back as a working table (:func:`point_table`: identifiable zone
   when one is open, since it holds home coordinates; dropped after) joined to the children
   in SQL for ``access_children`` (:func:`children_sql`), the band counts with the sums of
   record keys the cell-key release perturbs with (:func:`band_sums_sql`), the per-area
   cells (:func:`area_cells_sql`) and the reach model's cells (:func:`model_cells_sql`;
   access.measures.expected_reach(cells=True) fits them: the same likelihood as a row per
   child).

4. The barrier side tests (access/barriers.side_tests), the run summary and both reach
   models (with and without access, each fitted once) read the per-area cells; the
   network check weighs each distinct point by its children. No row per child leaves the
   engine in the access stage. Still per child: the planning stage's frame
   (access/stage.load_inputs, access/stage._children), which its plan counts on.

Written once in the reference dialect and run through ``engine.dialect.portable``
(sqlglot); identifiers quoted by the engine's dialect. tests/engines/test_access_sums.py
and test_access_population.py run every query on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from everyfamily.engines.base import identifiable_zone

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine


def _flag(engine: Engine, have: set[str], column: str, alias: str = "") -> str:
    q = engine.dialect.quote_ident
    return f"coalesce({alias}{q(column)}, FALSE)" if column in have else "FALSE"


def population_where(engine: Engine, have: set[str], alias: str | None = None) -> str:
    """The reach population's condition on ``children`` (as ``alias``, when given): in the
    age range, a small area, and known, registered or engaged (missing columns are false)."""
    q = engine.dialect.quote_ident
    a = f"{alias}." if alias else ""
    area = f"{a}{q('area_code')} IS NOT NULL" if "area_code" in have else "FALSE"
    either = " OR ".join(_flag(engine, have, c, a) for c in ("known", "registered", "engaged"))
    return f"{_flag(engine, have, 'in_age_range', a)} AND {area} AND ({either})"


def population_sql(engine: Engine, have: set[str], fields: Iterable[str]) -> str:
    """``fields`` of the reach population's children (NULL for a column the table lacks),
    ordered by person_id: the order the reach stage writes ``children`` in, said explicitly
    (a scan keeps no order on Spark). The stage sorts again in Python
    (:func:`in_person_order`), since an engine's collation may order text otherwise."""
    q = engine.dialect.quote_ident
    cols = ", ".join(q(c) if c in have else f"NULL AS {q(c)}" for c in fields)
    sql = (
        f"SELECT {cols} FROM {q('children')} WHERE {population_where(engine, have)} "
        f"ORDER BY {q('person_id')}"
    )
    return engine.dialect.portable(sql)


def homes_sql(engine: Engine, have: set[str], home_sql: str) -> str:
    """``home_sql`` (person_id, home_area, latitude, longitude; reference dialect) for the
    reach population's children only."""
    q = engine.dialect.quote_ident
    sql = (
        f"SELECT h.person_id, h.home_area, h.latitude, h.longitude FROM ({home_sql}) AS h "
        f"WHERE h.person_id IN (SELECT {q('person_id')} FROM {q('children')} "
        f"WHERE {population_where(engine, have)})"
    )
    return engine.dialect.portable(sql)


def in_person_order(kids: pd.DataFrame) -> pd.DataFrame:
    """``kids`` in person_id order as Python compares text (code points, as the reach stage
    sorts the ids it writes ``children`` in, reach/children.build_children), whatever order
    or collation the engine returned them in; a stable sort, index reset."""
    ordered: pd.DataFrame = kids.sort_values(
        "person_id", kind="mergesort", key=lambda s: s.astype(str)
    ).reset_index(drop=True)
    return ordered


# --- home points out as DISTINCT origins, their measures back as a working table ------------

#: Working table (identifiable zone when one is open: it holds home coordinates; dropped
#: after): each distinct origin (area_code, home_area, latitude, longitude) with its point's
#: measures (access/stage.measure_points).
POINTS = "ef_access_points"
ORIGIN_KEYS = ("area_code", "home_area", "latitude", "longitude")
#: The per-point measures a child's ``access_children`` row takes from its point.
POINT_MEASURES = (
    "nearest_site_walk",
    "walk_m",
    "walk_min",
    "walk_band",
    "nearest_site_straight",
    "straight_m",
    "detour_ratio",
    "access_2sfca_per_1000",
)
#: Text and number types of the origin keys, cast alike on both sides of the join (a
#: column of NULLs only has Spark's void type, which its hash join never matches).
_KEY_TYPES = {
    "area_code": "VARCHAR",
    "home_area": "VARCHAR",
    "latitude": "DOUBLE",
    "longitude": "DOUBLE",
}


def _population_homes(engine: Engine, have: set[str], home_sql: str) -> tuple[str, str]:
    """FROM and WHERE clauses: the reach population's children (``c``) with their home
    points (``h``, left joined: a child without one keeps its row)."""
    q = engine.dialect.quote_ident
    frm = (
        f"FROM {q('children')} AS c LEFT JOIN ({home_sql}) AS h ON h.person_id = c.{q('person_id')}"
    )
    return frm, f"WHERE {population_where(engine, have, 'c')}"


def _origin_cols(engine: Engine) -> list[str]:
    q = engine.dialect.quote_ident
    return [f"c.{q('area_code')}" if k == "area_code" else f"h.{q(k)}" for k in ORIGIN_KEYS]


def origins_sql(engine: Engine, have: set[str], home_sql: str) -> str:
    """The reach population's DISTINCT origins: small area, home point's area, latitude
    and longitude (NULL when no home point), with ``n`` children at each, ordered by the
    keys. What leaves the engine for the travel-time matrix, instead of a row per child."""
    q = engine.dialect.quote_ident
    keys = _origin_cols(engine)
    sql = (
        f"SELECT {', '.join(f'{c} AS {q(k)}' for c, k in zip(keys, ORIGIN_KEYS, strict=True))}, "
        f"CAST(count(*) AS BIGINT) AS n {' '.join(_population_homes(engine, have, home_sql))} "
        f"GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
    )
    return engine.dialect.portable(sql)


def _join_points(engine: Engine) -> str:
    """JOIN of the working point table (``p``) on a child's origin, null-safely."""
    q = engine.dialect.quote_ident
    on = " AND ".join(
        f"CAST(p.{q(k)} AS {t}) IS NOT DISTINCT FROM CAST({c} AS {t})"
        for (k, t), c in zip(_KEY_TYPES.items(), _origin_cols(engine), strict=True)
    )
    return f" JOIN {q(POINTS)} AS p ON {on}"


def children_sql(engine: Engine, have: set[str], home_sql: str, measures: Iterable[str]) -> str:
    """``access_children``'s rows: person_id, area_code and each of ``measures`` from the
    child's point, for every placed child of the reach population, in person order."""
    q = engine.dialect.quote_ident
    cols = ", ".join(f"p.{q(m)} AS {q(m)}" for m in measures)
    frm, where = _population_homes(engine, have, home_sql)
    sql = (
        f"SELECT c.{q('person_id')} AS {q('person_id')}, c.{q('area_code')} AS "
        f"{q('area_code')}, {cols} {frm}{_join_points(engine)} {where} "
        f"ORDER BY c.{q('person_id')}"
    )
    return engine.dialect.portable(sql)


def band_sums_sql(engine: Engine, have: set[str], home_sql: str, band: str) -> str:
    """Per value of the point's ``band`` column (walk_band, drive_band): children, known,
    registered and engaged, and the sums of their record keys (all, registered, engaged:
    the cell keys of the three released counts, privacy.release.release_child_counts)."""
    q = engine.dialect.quote_ident

    def flag(col: str) -> str:
        return f"coalesce(c.{q(col)}, FALSE)" if col in have else "FALSE"

    key = f"c.{q('record_key')}" if "record_key" in have else "CAST(0 AS BIGINT)"
    frm, where = _population_homes(engine, have, home_sql)
    sums = [
        "CAST(count(*) AS BIGINT) AS children",
        *(
            f"CAST(sum(CASE WHEN {flag(f)} THEN 1 ELSE 0 END) AS BIGINT) AS {q(f)}"
            for f in ("known", "registered", "engaged")
        ),
        f"CAST(sum({key}) AS BIGINT) AS key_children",
        *(
            f"CAST(sum(CASE WHEN {flag(f)} THEN {key} ELSE 0 END) AS BIGINT) AS key_{f}"
            for f in ("registered", "engaged")
        ),
    ]
    sql = (
        f"SELECT p.{q(band)} AS band, {', '.join(sums)} {frm}{_join_points(engine)} "
        f"{where} GROUP BY p.{q(band)} ORDER BY p.{q(band)}"
    )
    return engine.dialect.portable(sql)


#: The reach model's covariates on ``children`` (access.measures._design), besides walking.
MODEL_COLUMNS = ("imd_decile", "age_years", "ethnicity_broad", "main_language")


def model_cells_sql(engine: Engine, have: set[str], home_sql: str) -> str:
    """The reach model's cells: the placed children grouped by their point's walking
    minutes and the model's covariates on ``children`` (NULL for a column the table
    lacks), with ``n`` children and how many are ``registered``: the binomial rows
    access.measures.expected_reach(cells=True) fits, the same likelihood as a row per
    child."""
    q = engine.dialect.quote_ident
    keys = [f"p.{q('walk_min')}"] + [
        f"c.{q(col)}" if col in have else "NULL" for col in MODEL_COLUMNS
    ]
    names = ("walk_min", *MODEL_COLUMNS)
    return _cells_sql(engine, have, home_sql, keys, names)


def _cells_sql(
    engine: Engine, have: set[str], home_sql: str, keys: list[str], names: Sequence[str]
) -> str:
    """The placed children grouped by ``keys`` (SQL expressions, "NULL" for a column the
    store lacks; selected as ``names``), with ``n`` children and how many are
    ``registered``, in key order."""
    q = engine.dialect.quote_ident
    reg = f"coalesce(c.{q('registered')}, FALSE)" if "registered" in have else "FALSE"
    frm, where = _population_homes(engine, have, home_sql)
    grouped = [k for k in keys if k != "NULL"]
    sql = (
        f"SELECT {', '.join(f'{k} AS {q(n)}' for k, n in zip(keys, names, strict=True))}, "
        "CAST(count(*) AS BIGINT) AS n, "
        f"CAST(sum(CASE WHEN {reg} THEN 1 ELSE 0 END) AS BIGINT) AS registered "
        f"{frm}{_join_points(engine)} {where} GROUP BY {', '.join(grouped)} "
        f"ORDER BY {', '.join(grouped)}"
    )
    return engine.dialect.portable(sql)


#: The point measures the per-area table summarises (access/tables.area_table).
AREA_MEASURES = (
    "walk_m",
    "walk_min",
    "detour_ratio",
    "nearest_site_walk",
    "access_2sfca_per_1000",
)


def area_cells_sql(engine: Engine, have: set[str], home_sql: str) -> str:
    """The per-area table's cells: the placed children grouped by small area, their point's
    :data:`AREA_MEASURES` and the reach model's covariates, with ``n`` children and how many
    are ``registered``. Medians, the most common site and sums of the model's expectations
    per area are read from these (access/tables.area_table_from_cells)."""
    q = engine.dialect.quote_ident
    keys = (
        [f"c.{q('area_code')}"]
        + [f"p.{q(m)}" for m in AREA_MEASURES]
        + [f"c.{q(col)}" if col in have else "NULL" for col in MODEL_COLUMNS]
    )
    names = ("area_code", *AREA_MEASURES, *MODEL_COLUMNS)
    return _cells_sql(engine, have, home_sql, keys, names)


@contextmanager
def point_table(engine: Engine, origins: pa.Table, measures: pd.DataFrame) -> Iterator[None]:
    """The working point table for the block: the placed ``origins`` (their keys as
    :func:`origins_sql` returned them) with ``measures`` (a row per origin, same order),
    dropped after the block even when it fails. A child whose origin is not in it (no home
    point and no small-area point) is not placed, as the per-child path dropped it."""
    if len(measures) != origins.num_rows:
        raise ValueError("one row of measures per origin")
    table = origins.select(list(ORIGIN_KEYS))
    for col in measures.columns:
        table = table.append_column(col, pa.Array.from_pandas(measures[col]))
    try:
        with identifiable_zone(engine):
            engine.write_table(POINTS, table)
        yield
    finally:
        with identifiable_zone(engine):
            if engine.has_table(POINTS):
                engine.drop_table(POINTS)

"""The reach table's grouped counts, run in the engine (SQL), not in pandas.

:func:`cell_sums_in_engine` returns exactly what :func:`everyfamily.reach.measure.cell_sums`
returns (the same frames, the same index; tests/engines/test_reach_sums.py shows it on every
engine), with the counting done by the engine: the children go in as one narrow table (a
row per child, the group label of each dimension already as text), the GROUP BY over the
small areas and the sums up to every area level through the membership table run in SQL.
Only the per-child labelling (``measure._group_value``) and the statistics on the counted
cells (intervals, funnels, smoothing: ``measure.statistics_columns``) stay in Python.

The SQL is written once in the reference dialect and run through ``engine.dialect.portable``
(sqlglot), identifiers quoted by the engine's dialect; the working tables are dropped after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.reach.measure import (
    DIMENSIONS,
    _group_value,
    _service_flags,
    cell_sums,
    in_reach_population,
)

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

#: Working tables (dropped when the sums are read back).
PEOPLE = "ef_reach_people"
FLAGS = "ef_reach_service_flags"
MEMBERS = "ef_reach_membership"

_LEVEL_KEYS = ["level", "area_code", "dimension", "group_value"]


def _label_column(dim: str) -> str:
    return f"g_{dim}"


def _people(base: pd.DataFrame, weight: str | None) -> pd.DataFrame:
    """One row per counted child: id, small area, known, weight and a text label for each
    dimension ('unknown' for a missing value, as in the pandas grouping)."""
    cols: dict[str, object] = {
        "person_id": base["person_id"].to_numpy(),
        "small_area": base["area_code"].to_numpy(),
        "known": base["known"].to_numpy(dtype=bool),
        "w": (
            np.ones(len(base), dtype=np.int64)
            if weight is None
            else base[weight].to_numpy(dtype=np.int64)
        ),
    }
    for dim, column in DIMENSIONS.items():
        if column is not None:
            cols[_label_column(dim)] = _group_value(base[column]).to_numpy()
    return pd.DataFrame(cols)


def _sums_sql(engine: Engine) -> tuple[str, str]:
    """The two queries: (level, area, dimension, group) -> known, denominator; and the same
    by service -> registered, engaged."""
    q = engine.dialect.quote_ident
    # dimension names are this module's constants (identifiers), never data
    if not all(dim.isidentifier() for dim in DIMENSIONS):
        raise ValueError("dimension names must be identifiers")
    arms = []
    for dim, column in DIMENSIONS.items():
        label = "CAST('all' AS VARCHAR)" if column is None else q(_label_column(dim))
        arms.append(
            f"SELECT {q('person_id')} AS person_id, {q('small_area')} AS small_area,"
            f" {q('known')} AS known, {q('w')} AS w, '{dim}' AS dimension,"
            f" {label} AS group_value FROM {q(PEOPLE)}"
        )
    long = " UNION ALL ".join(arms)
    free = f"""
        WITH long AS ({long}),
        counts AS (
            SELECT small_area, dimension, group_value,
                   sum(CASE WHEN known THEN w ELSE 0 END) AS known, sum(w) AS denominator
            FROM long GROUP BY small_area, dimension, group_value)
        SELECT m.{q("level")} AS level, m.{q("area_code")} AS area_code,
               c.dimension, c.group_value,
               CAST(sum(c.known) AS BIGINT) AS known,
               CAST(sum(c.denominator) AS BIGINT) AS denominator
        FROM counts AS c JOIN {q(MEMBERS)} AS m ON m.{q("small_area")} = c.small_area
        GROUP BY m.{q("level")}, m.{q("area_code")}, c.dimension, c.group_value"""
    by_service = f"""
        WITH long AS ({long}),
        counts AS (
            SELECT l.small_area, l.dimension, l.group_value, f.{q("service")} AS service,
                   sum(CASE WHEN f.{q("registered")} THEN l.w ELSE 0 END) AS registered,
                   sum(CASE WHEN f.{q("engaged")} THEN l.w ELSE 0 END) AS engaged
            FROM long AS l JOIN {q(FLAGS)} AS f ON f.{q("person_id")} = l.person_id
            GROUP BY l.small_area, l.dimension, l.group_value, f.{q("service")})
        SELECT m.{q("level")} AS level, m.{q("area_code")} AS area_code,
               c.dimension, c.group_value, c.service,
               CAST(sum(c.registered) AS BIGINT) AS registered,
               CAST(sum(c.engaged) AS BIGINT) AS engaged
        FROM counts AS c JOIN {q(MEMBERS)} AS m ON m.{q("small_area")} = c.small_area
        GROUP BY m.{q("level")}, m.{q("area_code")}, c.dimension, c.group_value, c.service"""
    return engine.dialect.portable(free), engine.dialect.portable(by_service)


def cell_sums_in_engine(
    engine: Engine,
    children: pd.DataFrame,
    child_sites: pd.DataFrame,
    membership: pd.DataFrame,
    small_area_level: str,
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`everyfamily.reach.measure.cell_sums`, counted by ``engine`` (same arguments,
    same result). With nobody to count it returns the pandas grouping's empty frames."""
    m = membership[["level", "area_code", "small_area"]]
    small = set(m.loc[m["level"] == small_area_level, "small_area"])
    base = in_reach_population(children, small)
    if base.empty:
        return cell_sums(children, child_sites, membership, small_area_level, weight)
    flags = _service_flags(base, child_sites)
    flags = flags.assign(
        registered=flags["registered"].astype(bool), engaged=flags["engaged"].astype(bool)
    )
    free_sql, service_sql = _sums_sql(engine)
    try:
        engine.write_table(
            PEOPLE, pa.Table.from_pandas(_people(base, weight), preserve_index=False)
        )
        engine.write_table(FLAGS, pa.Table.from_pandas(flags, preserve_index=False))
        engine.write_table(MEMBERS, pa.Table.from_pandas(m, preserve_index=False))
        free = engine.query(free_sql).to_pandas()
        by_service = engine.query(service_sql).to_pandas()
    finally:
        for name in (PEOPLE, FLAGS, MEMBERS):
            engine.drop_table(name)
    lc = free.set_index(_LEVEL_KEYS)[["known", "denominator"]]
    ls = by_service.set_index([*_LEVEL_KEYS, "service"])[["registered", "engaged"]]
    return lc, ls

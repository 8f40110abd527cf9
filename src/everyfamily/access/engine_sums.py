"""What the access stage reads, filtered in the engine (SQL), not in pandas.

Before, the stage pulled the whole ``children`` table and every linked person's home point,
then kept the reach population (in the age range, with a small area, known to a service or
registered or engaged) and merged the homes in pandas. Now the engine applies the filter and
reads home points only for the children kept: :func:`population_sql` and :func:`homes_sql`.
The rows and their order are the ones the pandas filter kept (a filtered scan keeps the
table's order), so everything computed from them is unchanged.

Each child's walking time stays per child in Python (access/stage.measure_children: the
travel-time matrix is computed once per distinct home point, the reach model per child), and
so do the per-area and per-band tables (access/tables.py). Next: home points out as DISTINCT
points with their counts, the per-point geometry back as a table, the counts in SQL.

Written once in the reference dialect and run through ``engine.dialect.portable``
(sqlglot); identifiers quoted by the engine's dialect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine


def _flag(engine: Engine, have: set[str], column: str) -> str:
    q = engine.dialect.quote_ident
    return f"coalesce({q(column)}, FALSE)" if column in have else "FALSE"


def population_where(engine: Engine, have: set[str]) -> str:
    """The reach population's condition on ``children``: in the age range, a small area,
    and known, registered or engaged (missing columns are false)."""
    q = engine.dialect.quote_ident
    area = f"{q('area_code')} IS NOT NULL" if "area_code" in have else "FALSE"
    either = " OR ".join(_flag(engine, have, c) for c in ("known", "registered", "engaged"))
    return f"{_flag(engine, have, 'in_age_range')} AND {area} AND ({either})"


def population_sql(engine: Engine, have: set[str], fields: Iterable[str]) -> str:
    """``fields`` of the reach population's children (NULL for a column the table lacks)."""
    q = engine.dialect.quote_ident
    cols = ", ".join(q(c) if c in have else f"NULL AS {q(c)}" for c in fields)
    sql = f"SELECT {cols} FROM {q('children')} WHERE {population_where(engine, have)}"
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

"""The communities stage's counting, run in the engine (SQL), not in pandas.

Before, the stage pulled a row per child (and a row per linked record, for the names) into
pandas. Now the engine does the grouping and only aggregates leave it:

1. each child's given name and surname, the most frequent across the child's linked
   records (universal sources first on ties, then the name's text: a deterministic order,
   where pandas took the order the join happened to return), as CTEs (never stored);
2. the DISTINCT (given name, surname) pairs with how many children hold them go to the
   name-origin model (communities.nameorigin), which reads each pair once; the pair ->
   group lookup goes back to the engine as a small working table (in the identifiable
   zone when one is open: it holds names);
3. the children are grouped by every column the detector reads (small area, month of
   birth, the flags, the recorded signals and the name's group) with ``n`` (children)
   and ``record_key`` (the sum of their cell-key record keys): one row per cell, not per
   child. :func:`cells` returns that frame; signals.assign_groups labels each cell (its
   rules read one row at a time), and detect / finding count with the ``n`` weights.

The SQL is written once in the reference dialect and run through ``engine.dialect.portable``
(sqlglot); identifiers are quoted by the engine's dialect; the working tables are dropped
after. tests/engines/test_community_sums.py shows the cells equal the per-child pandas
grouping on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from everyfamily.communities.nameorigin import NameOriginModel
    from everyfamily.engines.base import Engine

#: Working table: name pair -> the model's group (identifiable zone; dropped after).
NAME_GROUPS = "ef_communities_name_groups"

#: The children's columns the detector reads, grouped by (record_key is summed).
CELL_COLUMNS = (
    "area_code",
    "month_of_birth",
    "in_age_range",
    "known",
    "registered",
    "engaged",
    "ethnicity",
    "main_language",
    "mother_country_of_birth",
    "interpreter_needed",
)


def _modal_name_sql(engine: Engine, column: str, alias: str) -> str:
    """person_id -> the most frequent non-empty ``column`` across the child's records."""
    q = engine.dialect.quote_ident
    universal = f"CASE WHEN CAST(r.{q('service_type')} AS VARCHAR) = 'universal' THEN 1 ELSE 0 END"
    return f"""
        {alias}_r AS (
            SELECT l.{q("person_id")} AS person_id, r.{q(column)} AS v, {universal} AS u
            FROM {q("records")} AS r JOIN {q("links")} AS l
              ON r.{q("source")} = l.{q("source")} AND r.{q("record_id")} = l.{q("record_id")}
            WHERE r.{q(column)} IS NOT NULL AND trim(CAST(r.{q(column)} AS VARCHAR)) <> ''),
        {alias}_c AS (
            SELECT person_id, v, count(*) AS n, max(u) AS u FROM {alias}_r
            GROUP BY person_id, v),
        {alias}_k AS (
            SELECT person_id, v, row_number() OVER (
                PARTITION BY person_id ORDER BY n DESC, u DESC, v) AS k
            FROM {alias}_c),
        {alias} AS (SELECT person_id, v FROM {alias}_k WHERE k = 1)"""


def _names_ctes(engine: Engine, have: set[str]) -> str:
    """CTEs ending in ``names``: one row per linked person, person_id, given_name, surname
    (NULL when no record holds that name). Never materialised: names stay in the
    identifiable tables they are read from."""
    q = engine.dialect.quote_ident
    ctes = []
    given = surname = "CAST(NULL AS VARCHAR)"
    joins = ""
    if "first_name" in have:
        ctes.append(_modal_name_sql(engine, "first_name", "gn"))
        given, joins = "gn.v", joins + " LEFT JOIN gn ON gn.person_id = p.person_id"
    if "last_name" in have:
        ctes.append(_modal_name_sql(engine, "last_name", "sn"))
        surname, joins = "sn.v", joins + " LEFT JOIN sn ON sn.person_id = p.person_id"
    persons = f"p AS (SELECT DISTINCT {q('person_id')} AS person_id FROM {q('links')})"
    names = (
        f"names AS (SELECT p.person_id AS person_id, CAST({given} AS VARCHAR) AS given_name, "
        f"CAST({surname} AS VARCHAR) AS surname FROM p{joins})"
    )
    return f"WITH {', '.join([*ctes, persons, names])} "


def _distinct_pairs_sql(engine: Engine, have: set[str]) -> str:
    q = engine.dialect.quote_ident
    return (
        f"{_names_ctes(engine, have)}"
        "SELECT n.given_name AS given_name, n.surname AS surname, "
        f"CAST(count(*) AS BIGINT) AS children FROM {q('children')} AS c "
        f"JOIN names AS n ON n.person_id = c.{q('person_id')} "
        "GROUP BY n.given_name, n.surname"
    )


def _cells_sql(engine: Engine, have: set[str], records: set[str] | None) -> str:
    """The cells query; ``records``: the records' columns when names are read."""
    q = engine.dialect.quote_ident
    cols = [
        f"c.{q(col)}" if col in have else f"CAST(NULL AS VARCHAR) AS {q(col)}"
        for col in CELL_COLUMNS
    ]
    keys = [f"c.{q(col)}" for col in CELL_COLUMNS if col in have]
    prefix = join = ""
    name_group = "CAST(NULL AS VARCHAR)"
    if records is not None:
        prefix = _names_ctes(engine, records)
        name_group = f"g.{q('name_group')}"
        join = (
            f" LEFT JOIN names AS n ON n.person_id = c.{q('person_id')}"
            f" LEFT JOIN {q(NAME_GROUPS)} AS g"
            f" ON g.{q('given_name')} IS NOT DISTINCT FROM n.given_name"
            f" AND g.{q('surname')} IS NOT DISTINCT FROM n.surname"
        )
        keys.append(name_group)
    key_sum = (
        f"CAST(sum(c.{q('record_key')}) AS BIGINT)" if "record_key" in have else "CAST(0 AS BIGINT)"
    )
    group_by = f" GROUP BY {', '.join(keys)}" if keys else ""
    return (
        f"{prefix}SELECT {', '.join(cols)}, {name_group} AS name_group, "
        f"CAST(count(*) AS BIGINT) AS n, {key_sum} AS record_key "
        f"FROM {q('children')} AS c{join}{group_by}"
    )


def names_available(engine: Engine) -> bool:
    """Whether the store has linked records with a name column."""
    if not (engine.has_table("records") and engine.has_table("links")):
        return False
    return bool({"first_name", "last_name"} & set(engine.columns("records")))


def name_pairs(engine: Engine) -> pd.DataFrame:
    """given_name, surname, children: every distinct pair of the children's names (each
    child's most frequent across its records) and how many children hold it."""
    sql = engine.dialect.portable(_distinct_pairs_sql(engine, set(engine.columns("records"))))
    frame: pd.DataFrame = engine.query(sql).to_pandas()
    return frame


@contextmanager
def _identifiable(engine: Engine) -> Iterator[None]:
    """The identifiable zone when the engine has one open (names belong there), else the
    current zone."""
    from everyfamily.errors import EngineError

    try:
        zone = engine.zone("identifiable")
        zone.__enter__()
    except EngineError:
        yield
        return
    try:
        yield
    finally:
        zone.__exit__(None, None, None)


def cells(engine: Engine, model: NameOriginModel | None) -> pd.DataFrame:
    """The children grouped by :data:`CELL_COLUMNS` and the name-origin model's reading of
    their names (``name_group``; None without a model or names), with ``n`` children and
    ``record_key`` (sum of their record keys) per cell; ``month_of_birth`` renamed
    ``date_of_birth`` as the detector reads it. Sorted by every key, so the frame does not
    depend on the engine's row order."""
    have = set(engine.columns("children"))
    records = set(engine.columns("records")) if model and names_available(engine) else None
    try:
        if records is not None and model is not None:
            pairs = name_pairs(engine)
            groups = model.predict_many(pairs["given_name"].tolist(), pairs["surname"].tolist())
            lookup = pa.table(
                {
                    "given_name": pa.array(pairs["given_name"].tolist(), pa.string()),
                    "surname": pa.array(pairs["surname"].tolist(), pa.string()),
                    "name_group": pa.array(groups, pa.string()),
                }
            )
            with _identifiable(engine):
                engine.write_table(NAME_GROUPS, lookup)
        frame: pd.DataFrame = engine.query(
            engine.dialect.portable(_cells_sql(engine, have, records))
        ).to_pandas()
    finally:
        if engine.has_table(NAME_GROUPS):
            with _identifiable(engine):
                engine.drop_table(NAME_GROUPS)
    keys = [*CELL_COLUMNS, "name_group"]
    frame = frame.sort_values(
        keys, key=lambda s: s.astype(str), kind="mergesort", na_position="first"
    ).reset_index(drop=True)
    return frame.rename(columns={"month_of_birth": "date_of_birth"})

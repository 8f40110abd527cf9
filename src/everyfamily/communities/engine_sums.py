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
3. the distinct months of birth go to Python for each one's age on the reference date
   (reach.children.age_in_years), and the distinct combinations of recorded signals and
   name reading for each one's origin group and basis (signals.assign_groups, whose rules
   read one child at a time); both come back as small lookups;
4. the children are counted by small area, age, the four flags, origin group and basis,
   with ``n`` (children) and ``record_key`` (the sum of their cell-key record keys):
   :func:`cells`, the area x group aggregates detect and finding count with.

The SQL is written once in the reference dialect and run through ``engine.dialect.portable``
(sqlglot); identifiers are quoted by the engine's dialect; the working tables are dropped
after. tests/engines/test_community_sums.py shows the cells equal the per-child pandas
grouping on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from everyfamily.engines.base import identifiable_zone

if TYPE_CHECKING:
    from everyfamily.communities.nameorigin import NameOriginModel
    from everyfamily.engines.base import Engine

#: Working tables (identifiable zone when one is open; dropped after): name pair -> the
#: model's group; month of birth -> age on the reference date; signals -> origin group.
NAME_GROUPS = "ef_communities_name_groups"
MONTH_AGES = "ef_communities_month_ages"
SIGNAL_GROUPS = "ef_communities_signal_groups"


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


SIGNALS = ("ethnicity", "main_language", "mother_country_of_birth", "interpreter_needed")
FLAGS = ("in_age_range", "known", "registered", "engaged")


def _kids_cte(engine: Engine, have: set[str], records: set[str] | None) -> str:
    """CTEs ending in ``kids``: a row per child with the columns the cells are made of and
    ``name_group`` (the model's reading of the child's names; NULL without names)."""
    q = engine.dialect.quote_ident
    cols = [
        f"c.{q(col)} AS {q(col)}" if col in have else f"CAST(NULL AS VARCHAR) AS {q(col)}"
        for col in ("area_code", "month_of_birth", *FLAGS, *SIGNALS)
    ]
    key = f"c.{q('record_key')}" if "record_key" in have else "CAST(0 AS BIGINT)"
    name_group, join, prefix = "CAST(NULL AS VARCHAR)", "", "WITH "
    if records is not None:
        prefix = _names_ctes(engine, records) + ", "
        name_group = f"g.{q('name_group')}"
        join = (
            f" LEFT JOIN names AS n ON n.person_id = c.{q('person_id')}"
            f" LEFT JOIN {q(NAME_GROUPS)} AS g"
            f" ON g.{q('given_name')} IS NOT DISTINCT FROM n.given_name"
            f" AND g.{q('surname')} IS NOT DISTINCT FROM n.surname"
        )
    return (
        f"{prefix}kids AS (SELECT {', '.join(cols)}, {name_group} AS name_group, "
        f"{key} AS record_key FROM {q('children')} AS c{join}) "
    )


def _signals_sql(engine: Engine, have: set[str], records: set[str] | None) -> str:
    q = engine.dialect.quote_ident
    cols = ", ".join(q(c) for c in (*SIGNALS, "name_group"))
    return f"{_kids_cte(engine, have, records)}SELECT DISTINCT {cols} FROM kids"


def _cells_sql(engine: Engine, have: set[str], records: set[str] | None) -> str:
    """The cells query (reads the month and signal lookups)."""
    q = engine.dialect.quote_ident
    # compared as text: a signal column that holds only NULLs has Spark's NULL (void) type,
    # and Spark's hash join never matches void keys, even null-safely (the lookup's values
    # came from the same column, so equal as text is equal)
    on = " AND ".join(
        f"CAST(s.{q(c)} AS VARCHAR) IS NOT DISTINCT FROM CAST(k.{q(c)} AS VARCHAR)"
        for c in (*SIGNALS, "name_group")
    )
    keys = [
        f"k.{q('area_code')}",
        f"a.{q('age_at_reference')}",
        *(f"k.{q(c)}" for c in FLAGS),
        f"s.{q('origin_group')}",
        f"s.{q('basis')}",
    ]
    return (
        f"{_kids_cte(engine, have, records)}"
        f"SELECT {', '.join(keys)}, CAST(count(*) AS BIGINT) AS n, "
        f"CAST(sum(k.record_key) AS BIGINT) AS record_key FROM kids AS k "
        f"LEFT JOIN {q(MONTH_AGES)} AS a ON a.{q('month_of_birth')} = k.{q('month_of_birth')} "
        f"LEFT JOIN {q(SIGNAL_GROUPS)} AS s ON {on} "
        f"GROUP BY {', '.join(keys)}"
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


def _month_ages(engine: Engine, have: set[str], reference_date: dt.date) -> pa.Table:
    """Each distinct month of birth -> whole years of age on the reference date
    (reach.children.age_in_years; -1 for a birth after it): the detector's birth years."""
    from everyfamily.reach.children import age_in_years

    q = engine.dialect.quote_ident
    if "month_of_birth" not in have:
        months = pa.array([], pa.date32())
    else:
        sql = (
            f"SELECT DISTINCT {q('month_of_birth')} AS m FROM {q('children')} "
            f"WHERE {q('month_of_birth')} IS NOT NULL"
        )
        months = engine.query(engine.dialect.portable(sql)).column("m").combine_chunks()
    dob = pd.Series(pd.to_datetime(months.to_pylist()))
    ages = age_in_years(dob, reference_date).astype("int64").clip(lower=-1)
    return pa.table({"month_of_birth": months, "age_at_reference": pa.array(ages, pa.int64())})


def _signal_groups(
    engine: Engine, have: set[str], records: set[str] | None, model: NameOriginModel | None
) -> pa.Table:
    """Each distinct combination of recorded signals and name reading -> origin_group and
    basis (signals.assign_groups, whose rules read one child at a time)."""
    from everyfamily.communities.signals import assign_groups

    combos = engine.query(engine.dialect.portable(_signals_sql(engine, have, records)))
    assigned = assign_groups(combos.to_pandas(), None, model)
    return combos.append_column(
        "origin_group", pa.array(assigned["origin_group"].tolist(), pa.string())
    ).append_column("basis", pa.array(assigned["basis"].tolist(), pa.string()))


def _write_name_groups(engine: Engine, model: NameOriginModel) -> None:
    pairs = name_pairs(engine)
    groups = model.predict_many(pairs["given_name"].tolist(), pairs["surname"].tolist())
    lookup = pa.table(
        {
            "given_name": pa.array(pairs["given_name"].tolist(), pa.string()),
            "surname": pa.array(pairs["surname"].tolist(), pa.string()),
            "name_group": pa.array(groups, pa.string()),
        }
    )
    with identifiable_zone(engine):
        engine.write_table(NAME_GROUPS, lookup)


def cells(engine: Engine, model: NameOriginModel | None, reference_date: dt.date) -> pd.DataFrame:
    """The children counted by small area, age on the reference date (``age_at_reference``:
    whole years, -1 for a birth after it, None without a month of birth), the four flags,
    ``origin_group`` and ``basis`` (signals.assign_groups, the name read by ``model``),
    with ``n`` children and ``record_key`` (the sum of their record keys) per cell. Sorted
    by every key, so the frame does not depend on the engine's row order."""
    have = set(engine.columns("children"))
    records = set(engine.columns("records")) if model and names_available(engine) else None
    try:
        if records is not None and model is not None:
            _write_name_groups(engine, model)
        with identifiable_zone(engine):
            engine.write_table(MONTH_AGES, _month_ages(engine, have, reference_date))
            engine.write_table(SIGNAL_GROUPS, _signal_groups(engine, have, records, model))
        sql = engine.dialect.portable(_cells_sql(engine, have, records))
        frame: pd.DataFrame = engine.query(sql).to_pandas()
    finally:
        with identifiable_zone(engine):
            for name in (NAME_GROUPS, MONTH_AGES, SIGNAL_GROUPS):
                if engine.has_table(name):
                    engine.drop_table(name)
    keys = ["area_code", "age_at_reference", *FLAGS, "origin_group", "basis"]
    return frame.sort_values(
        keys, key=lambda s: s.astype(str), kind="mergesort", na_position="first"
    ).reset_index(drop=True)

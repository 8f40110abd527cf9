"""The name keys table: every distinct name in ``records`` with its comparison keys.

The keys (``everyfamily.names.normalise``) are Python functions (ftfy, anyascii), so they are
computed once per *distinct* name here and joined back in SQL by ``prepare``: a borough's
records hold a few thousand distinct names, so this costs milliseconds and keeps the SQL
engine-portable (no user-defined functions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa

from everyfamily.engines.base import Engine
from everyfamily.names.normalise import cp1252_key, name_key, skeleton

#: Working table written here (identifiable store; dropped with the other working tables).
NAME_KEYS = "ef_link_name_keys"
#: Name columns of ``records`` and the matching-form column used when a raw one is absent.
NAME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("first_name", "first_name_match"),
    ("last_name", "last_name_match"),
    ("parent_first_name", "parent_first_name_match"),
    ("parent_last_name", "parent_last_name_match"),
)
SCHEMA = pa.schema(
    [
        ("raw", pa.string()),
        ("name_key", pa.string()),
        ("cp1252_key", pa.string()),
        ("skeleton", pa.string()),
        ("canonical", pa.string()),
        ("first_part", pa.string()),
        ("last_part", pa.string()),
    ]
)


def key_rows(names: Iterable[str], nicknames: Mapping[str, str]) -> pa.Table:
    """One row per distinct non-empty name: its key, Windows-1252 key, skeleton, formal
    name and the first and last parts of the key (one part: both are the key). The formal
    name (``nicknames`` maps a nickname's key to its formal name's key; the formal name is
    kept as its skeleton, so a diminutive meets its formal name in any romanisation:
    Юрко -> YURIY -> URI = the skeleton of the Ukrainian national "Yurii")."""
    rows: dict[str, tuple[str | None, ...]] = {}
    for raw in names:
        if raw is None or raw in rows:
            continue
        key = name_key(raw)
        formal = skeleton(nicknames.get(key, key)) if key else None
        parts = key.split() if key else [None]
        rows[raw] = (key, cp1252_key(raw), skeleton(key), formal, parts[0], parts[-1])
    cols = list(zip(*rows.values(), strict=True)) if rows else [()] * (len(SCHEMA) - 1)
    return pa.table(
        {"raw": list(rows), **{f: list(c) for f, c in zip(SCHEMA.names[1:], cols, strict=True)}},
        schema=SCHEMA,
    )


def source_columns(engine: Engine, records_table: str) -> dict[str, str]:
    """Name field -> the column of ``records_table`` its keys are made from: the name as
    loaded when the table has it, else its matching form (older stores, small fixtures)."""
    have = set(engine.columns(records_table))
    return {field: field if field in have else match for field, match in NAME_COLUMNS}


def write_name_keys(
    engine: Engine, records_table: str, nicknames: Mapping[str, str]
) -> dict[str, str]:
    """Write :data:`NAME_KEYS` for every distinct name in ``records_table``; returns
    :func:`source_columns` (which column each name field was keyed from)."""
    q = engine.dialect.quote_ident
    cols = source_columns(engine, records_table)
    union = " UNION ".join(
        f"SELECT {q(c)} AS raw FROM {q(records_table)} WHERE {q(c)} IS NOT NULL"
        for c in dict.fromkeys(cols.values())
    )
    names = engine.query(f"SELECT DISTINCT raw FROM ({union}) AS n").column(0).to_pylist()
    engine.write_table(NAME_KEYS, key_rows(names, nicknames))
    return cols

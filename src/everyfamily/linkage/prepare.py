"""Collapse ``records`` into distinct identities: the rows Splink compares.

Attendance registers hold one row per session, so a child seen forty times is forty identical
identities. Linking them pairwise would waste comparisons and distort training, so rows whose
identity fields are all equal become one identity (``identity_id``) and the ids fan back out
after clustering (``ef_link_record_identity``).

The SQL is plain ANSI (EXTRACT, CASE, CAST, window functions), so any engine with SQL can run it
(the conformance suite runs it on DuckDB and PostgreSQL); tables are replaced through the
engine (``Engine.replace_table_as``), identifiers are quoted in the engine's dialect and no
value is ever pasted into the text.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from everyfamily.engines.base import Engine
from everyfamily.errors import DataError
from everyfamily.linkage.moves import add_moves
from everyfamily.linkage.name_keys import NAME_KEYS, write_name_keys

#: Tables written by this module (temporary working tables of the linkage stage).
IDENTITIES = "ef_link_identities"
RECORD_IDENTITY = "ef_link_record_identity"
NICKNAMES = "ef_link_nicknames"

#: The fields Splink compares, as read from ``records`` (after validity filtering).
IDENTITY_FIELDS: tuple[str, ...] = (
    "nhs_number",
    "first_name_match",
    "last_name_match",
    "date_of_birth",
    "sex",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "parent_first_name_match",
    "parent_last_name_match",
)
#: Name keys (``names.normalise``) added to the identity fields when ``name_variants`` is on:
#: export, mojibake and transliteration variants of a name share them (issue 21).
KEY_FIELDS: tuple[str, ...] = (
    "first_name_key",
    "last_name_key",
    "parent_first_name_key",
    "parent_last_name_key",
    "first_name_cp1252",
    "last_name_cp1252",
    "first_name_skeleton",
    "last_name_skeleton",
    "first_name_formal",
    "parent_first_name_formal",
    "last_name_first_part",
    "last_name_last_part",
)


def _key_joins(cols: dict[str, str], rec: str, quote: Any) -> tuple[str, str]:
    """The SELECT list and LEFT JOINs that bring each name's keys from ``NAME_KEYS``."""
    alias = {"first_name": "kf", "last_name": "kl", "parent_first_name": "kpf",
             "parent_last_name": "kpl"}  # fmt: skip
    joins = " ".join(
        f"LEFT JOIN {NAME_KEYS} AS {a} ON {a}.raw = {rec}.{quote(cols[f])}"
        for f, a in alias.items()
    )
    select = (
        "kf.name_key AS first_name_key, kl.name_key AS last_name_key, "
        "kpf.name_key AS parent_first_name_key, kpl.name_key AS parent_last_name_key, "
        "kf.cp1252_key AS first_name_cp1252, kl.cp1252_key AS last_name_cp1252, "
        "kf.skeleton AS first_name_skeleton, kl.skeleton AS last_name_skeleton, "
        "kf.canonical AS first_name_formal, kpf.canonical AS parent_first_name_formal, "
        "kl.first_part AS last_name_first_part, kl.last_part AS last_name_last_part"
    )
    return select, joins


def prepare_identities(
    engine: Engine,
    nicknames: dict[str, str],
    records_table: str = "records",
    *,
    name_variants: bool = False,
    address_history: bool = False,
) -> int:
    """Build the identity table and the record -> identity map; returns the identity count.

    Invalid NHS numbers and postcodes become NULL (a typo should not count as disagreement
    with weight; it is missing evidence). ``*_canonical`` maps nicknames to a formal name;
    ``dob_year/month/day`` and ``dob_text`` let comparisons spot day/month swaps and digit slips
    without engine-specific date functions in the Splink settings.

    ``name_variants``: also carry the name keys of :data:`KEY_FIELDS` (computed per distinct
    name in ``name_keys``), which ``model.comparisons(name_variants=True)`` compares.

    ``address_history``: also each identity's household's postcode before and after its
    own (``moves.add_moves``), which ``model.comparisons(address_history=True)`` compares.
    """
    if not engine.has_table(records_table):
        raise DataError(
            f"the store has no {records_table!r} table to link", hint="run the ingest stage first"
        )
    nick = pa.table(
        {"nickname": list(nicknames), "canonical": list(nicknames.values())},
        schema=pa.schema([("nickname", pa.string()), ("canonical", pa.string())]),
    )
    engine.write_table(NICKNAMES, nick)
    quote_ident = engine.dialect.quote_ident
    rec = quote_ident(records_table)
    key_select, key_joins, id_fields = "", "", IDENTITY_FIELDS
    if name_variants:
        cols = write_name_keys(engine, records_table, nicknames)
        sel, key_joins = _key_joins(cols, rec, quote_ident)
        key_select, id_fields = f", {sel}", IDENTITY_FIELDS + KEY_FIELDS
    cleaned = f"""
        SELECT source, record_id,
               CASE WHEN nhs_number_valid THEN nhs_number END AS nhs_number,
               NULLIF(first_name_match, '') AS first_name_match,
               NULLIF(last_name_match, '') AS last_name_match,
               date_of_birth,
               CASE WHEN sex IN ('female', 'male') THEN sex END AS sex,
               CASE WHEN postcode_valid THEN postcode END AS postcode,
               CASE WHEN postcode_valid THEN postcode_sector END AS postcode_sector,
               CASE WHEN postcode_valid THEN postcode_district END AS postcode_district,
               NULLIF(parent_first_name_match, '') AS parent_first_name_match,
               NULLIF(parent_last_name_match, '') AS parent_last_name_match{key_select}
        FROM {rec} {key_joins}
    """
    fields = ", ".join(id_fields)
    engine.replace_table_as(
        RECORD_IDENTITY,
        f"""
        SELECT source, record_id,
               DENSE_RANK() OVER (ORDER BY {fields}) AS identity_id,
               {fields}
        FROM ({cleaned}) AS c
    """,
    )
    n_dup = (
        engine.query(f"""
        SELECT count(*) FROM (SELECT source, record_id FROM {RECORD_IDENTITY}
                              GROUP BY source, record_id HAVING count(*) > 1) AS d
    """)
        .column(0)[0]
        .as_py()
    )
    if n_dup:
        raise DataError(
            f"{n_dup} record ids occur more than once within their source in {records_table!r}",
            hint="record ids must be unique within a source",
        )
    engine.replace_table_as(
        IDENTITIES,
        f"""
        SELECT i.identity_id AS unique_id, {", ".join("i." + f for f in id_fields)},
               COALESCE(n1.canonical, i.first_name_match) AS first_name_canonical,
               COALESCE(n2.canonical, i.parent_first_name_match) AS parent_first_name_canonical,
               CAST(EXTRACT(year FROM i.date_of_birth) AS INTEGER) AS dob_year,
               CAST(EXTRACT(month FROM i.date_of_birth) AS INTEGER) AS dob_month,
               CAST(EXTRACT(day FROM i.date_of_birth) AS INTEGER) AS dob_day,
               CAST(i.date_of_birth AS VARCHAR) AS dob_text,
               i.n_records
        FROM (SELECT identity_id, {fields}, count(*) AS n_records
              FROM {RECORD_IDENTITY} GROUP BY identity_id, {fields}) AS i
        LEFT JOIN {NICKNAMES} AS n1 ON n1.nickname = i.first_name_match
        LEFT JOIN {NICKNAMES} AS n2 ON n2.nickname = i.parent_first_name_match
        ORDER BY unique_id
    """,
    )
    engine.replace_table_as(
        RECORD_IDENTITY, f"SELECT source, record_id, identity_id FROM {RECORD_IDENTITY}"
    )
    if address_history:
        add_moves(engine, IDENTITIES, RECORD_IDENTITY, records_table, name_variants=name_variants)
    return int(engine.query(f"SELECT count(*) FROM {IDENTITIES}").column(0)[0].as_py())

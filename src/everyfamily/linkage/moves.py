"""Address history of households across sources, with dates: a move is evidence (issue 21).

A family that moved is recorded at its old postcode by one service and at its new one by
another. Compared record by record that is a disagreement on the postcode, and the pair
rests on the child's name and date of birth alone: movers' true matches were the most often
missed (issue 21). But the sources together hold the household's address history: the
records of one household (the parent's given and family name, as ``prepare`` keys them)
at each postcode, with the dates the records were made (``event_date``). Where every record
at postcode A is dated no later than every record at B, the household *moved* from A to B,
and two records of that household, one at A and one at B, agree with that history rather
than disagree with each other.

:func:`add_moves` gives every identity the postcode its household lived at just before the
identity's own (``postcode_before``: of the moves into it, the one whose old address was
seen last) and just after it (``postcode_after``: the move out of it whose new address was
seen first), from the household's dated postcodes. The household comparison's "moved"
level (``model._household_comparison(address_history=True)``) asks for the other record's
postcode to be one of these; its u comes from random sampling like every other level's, so
two households sharing a parent's name count only for what they are worth. Households seen
at more than :data:`MAX_POSTCODES` postcodes are left out: more moves than that within the
under-fives' years is rarer than two families sharing a parent's name. Records without a
date (``event_date`` missing) are not part of the history.

Plain ANSI SQL (GROUP BY, joins, ROW_NUMBER), so every engine runs it.
"""

from __future__ import annotations

from everyfamily.engines.base import Engine

#: Working tables (dropped with the stage's other working tables' prefix ``ef_link_``).
TIMELINE = "ef_link_postcode_timeline"
MOVES = "ef_link_moves"
_COPY = "ef_link_identities_before_moves"
#: Households seen at more postcodes than this have no history (see module docstring).
MAX_POSTCODES = 3
#: The columns :func:`add_moves` adds to the identities.
MOVE_FIELDS = ("postcode_before", "postcode_after")


def household_columns(name_variants: bool) -> tuple[str, str]:
    """The identity columns naming a household: the parent's given name (formal) and
    family name, as the household comparison compares them."""
    if name_variants:
        return "parent_first_name_formal", "parent_last_name_key"
    return "parent_first_name_canonical", "parent_last_name_match"


def add_moves(
    engine: Engine,
    identities: str,
    record_identity: str,
    records_table: str,
    *,
    name_variants: bool,
) -> int:
    """Add ``postcode_before`` and ``postcode_after`` (module docstring) to ``identities``;
    returns the number of moves the households' histories show."""
    q = engine.dialect.quote_ident
    hf, hl = (q(c) for c in household_columns(name_variants))
    ident, rec, ri = q(identities), q(records_table), q(record_identity)
    engine.replace_table_as(
        TIMELINE,
        f"""
        SELECT t.hf, t.hl, t.pc, t.first_seen, t.last_seen
        FROM (SELECT i.{hf} AS hf, i.{hl} AS hl, i.postcode AS pc,
                     MIN(r.event_date) AS first_seen, MAX(r.event_date) AS last_seen
              FROM {ri} AS ri
              JOIN {rec} AS r ON r.source = ri.source AND r.record_id = ri.record_id
              JOIN {ident} AS i ON i.unique_id = ri.identity_id
              WHERE i.postcode IS NOT NULL AND i.{hf} IS NOT NULL AND i.{hl} IS NOT NULL
                AND r.event_date IS NOT NULL
              GROUP BY i.{hf}, i.{hl}, i.postcode) AS t
        JOIN (SELECT i.{hf} AS hf, i.{hl} AS hl
              FROM {ident} AS i WHERE i.postcode IS NOT NULL
              GROUP BY i.{hf}, i.{hl}
              HAVING COUNT(DISTINCT i.postcode) BETWEEN 2 AND {MAX_POSTCODES}) AS h
          ON h.hf = t.hf AND h.hl = t.hl
        """,
    )
    engine.replace_table_as(
        MOVES,
        f"""
        SELECT a.hf, a.hl, a.pc AS from_pc, b.pc AS to_pc,
               ROW_NUMBER() OVER (PARTITION BY a.hf, a.hl, b.pc
                                  ORDER BY a.last_seen DESC, a.pc) AS into_rank,
               ROW_NUMBER() OVER (PARTITION BY a.hf, a.hl, a.pc
                                  ORDER BY b.first_seen, b.pc) AS out_rank
        FROM {q(TIMELINE)} AS a
        JOIN {q(TIMELINE)} AS b
          ON a.hf = b.hf AND a.hl = b.hl AND a.pc <> b.pc AND a.last_seen <= b.first_seen
        """,
    )
    engine.replace_table_as(_COPY, f"SELECT * FROM {ident}")
    engine.replace_table_as(
        identities,
        f"""
        SELECT i.*, bf.from_pc AS postcode_before, af.to_pc AS postcode_after
        FROM {q(_COPY)} AS i
        LEFT JOIN {q(MOVES)} AS bf
          ON bf.into_rank = 1 AND bf.hf = i.{hf} AND bf.hl = i.{hl} AND bf.to_pc = i.postcode
        LEFT JOIN {q(MOVES)} AS af
          ON af.out_rank = 1 AND af.hf = i.{hf} AND af.hl = i.{hl} AND af.from_pc = i.postcode
        ORDER BY i.unique_id
        """,
    )
    n = int(engine.query(f"SELECT count(*) FROM {q(MOVES)}").column(0)[0].as_py())
    for table in (TIMELINE, MOVES, _COPY):
        engine.drop_table(table)
    return n

"""Households' dated address history (linkage/moves.py): a move is evidence (issue 21)."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa

from everyfamily.engines import open_engine
from everyfamily.linkage.moves import MAX_POSTCODES
from everyfamily.linkage.nicknames import nickname_map
from everyfamily.linkage.prepare import IDENTITIES, RECORD_IDENTITY, prepare_identities

from .helpers import population, record, table


def _at(rid: str, first: str, last: str, postcode: str, day: str, parent: str) -> dict[str, Any]:
    row = record("registrations", rid, first, last, "2022-03-04", postcode=postcode,
                 parent_first=parent, parent_last=last)  # fmt: skip
    row["event_date"] = dt.date.fromisoformat(day)
    return row


#: Household A moved from L33 1AA to L33 2BB (every record at 1AA dated before every record
#: at 2BB); household B (another parent name) is seen at two postcodes at the same time (no
#: move); household C at four postcodes (more than MAX_POSTCODES: no history).
PLANTED = [
    _at("A1", "Quillon", "Zzqmover", "L33 1AA", "2022-05-01", "Maureen"),
    _at("A2", "Quillon", "Zzqmover", "L33 1AA", "2022-09-01", "Maureen"),
    _at("A3", "Quillon", "Zzqmover", "L33 2BB", "2023-01-10", "Maureen"),
    _at("A4", "Ysolde", "Zzqmover", "L33 2BB", "2023-06-01", "Maureen"),
    _at("B1", "Tamsin", "Zzqstay", "L33 3CC", "2022-05-01", "Ruth"),
    _at("B2", "Tamsin", "Zzqstay", "L33 4DD", "2022-07-01", "Ruth"),
    _at("B3", "Tamsin", "Zzqstay", "L33 3CC", "2022-09-01", "Ruth"),
] + [_at(f"C{k}", "Orla", "Zzqroam", f"L34 {k}EE", f"2021-0{k}-01", "Greta") for k in range(1, 5)]


def test_moves_from_the_dated_history(tmp_path: Path) -> None:
    assert MAX_POSTCODES == 3
    data = population(300, seed=2)
    records = pa.concat_tables([data.records, table(PLANTED, data.records)])
    with closing(open_engine("duckdb", path=tmp_path / "s.duckdb")) as engine:
        engine.write_table("records", records)
        prepare_identities(
            engine, nickname_map(multilingual=True), name_variants=True, address_history=True
        )
        got = engine.query(
            f"""SELECT ri.record_id, i.postcode, i.postcode_before, i.postcode_after
                FROM {RECORD_IDENTITY} AS ri JOIN {IDENTITIES} AS i ON i.unique_id = ri.identity_id
                WHERE ri.source = 'registrations' AND ri.record_id IN
                      ('A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3', 'C4')"""
        ).to_pandas()
    moves = {r.record_id: (r.postcode_before, r.postcode_after) for r in got.itertuples()}
    # A: at 1AA then 2BB, a move; the sibling at 2BB shares the household's history
    assert moves["A1"] == moves["A2"] == (None, "L33 2BB")
    assert moves["A3"] == moves["A4"] == ("L33 1AA", None)
    # B: 3CC and 4DD at the same time is no move; C: too many postcodes to be one household
    assert all(moves[k] == (None, None) for k in ("B1", "B2", "B3", "C1", "C2", "C3", "C4"))

"""The catalogue (``everyfamily.catalogue``) against the stores of a real run.

Uses the session's demo run (``demo_outputs`` in conftest.py, shared with the other demo
tests; no run of its own): every table each store holds is in the catalogue with that zone,
every catalogue table is there, no identifiable table is in the analysis store, the schema
columns the catalogue gives are the stored ones, and in the analysis store the person-level
tables are exactly those keyed by a person pseudonym.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from everyfamily import catalogue as cat
from everyfamily.stores import ANALYSIS, IDENTIFIABLE, ZONES, open_run_stores


@pytest.fixture(scope="module")
def stored(demo_outputs: Path) -> dict[str, dict[str, list[str]]]:
    """zone -> table -> columns, read from both stores of the demo run."""
    engine = open_run_stores(demo_outputs, zones=ZONES)
    try:
        rows = engine.query(
            "SELECT table_catalog AS zone, table_name AS t, column_name AS c "
            "FROM information_schema.columns WHERE table_catalog IN (?, ?) "
            "ORDER BY table_catalog, table_name, ordinal_position",
            [IDENTIFIABLE, ANALYSIS],
        ).to_pylist()
    finally:
        engine.close()
    out: dict[str, dict[str, list[str]]] = {z: {} for z in ZONES}
    for r in rows:
        out[r["zone"]].setdefault(r["t"], []).append(r["c"])
    return out


def test_each_store_holds_exactly_the_catalogue_tables_of_its_zone(
    stored: dict[str, dict[str, list[str]]],
) -> None:
    for zone in ZONES:
        assert sorted(stored[zone]) == sorted(cat.tables_in(zone)), zone


def test_no_identifiable_table_is_in_the_analysis_store(
    stored: dict[str, dict[str, list[str]]],
) -> None:
    assert set(stored[IDENTIFIABLE]) >= {"records", "links", "quarantine"}
    assert set(cat.tables_in(IDENTIFIABLE)).isdisjoint(stored[ANALYSIS])


def test_catalogue_columns_are_the_stored_columns(
    stored: dict[str, dict[str, list[str]]],
) -> None:
    for t in cat.STORE_TABLES:
        if t.columns:
            assert stored[t.zone][t.name] == list(t.columns), t.name


def test_analysis_person_level_tables_are_those_keyed_by_person(
    stored: dict[str, dict[str, list[str]]],
) -> None:
    keyed = {name for name, cols in stored[ANALYSIS].items() if "person_id" in cols}
    marked = {t.name for t in cat.STORE_TABLES if t.zone == ANALYSIS and t.person_level}
    assert keyed == marked

"""The catalogue of store tables and reach dimensions (``everyfamily.catalogue``).

Checked here without a pipeline run: the constants derived from it keep the values they had
when they were hand-written, the modules that still spell dimensions themselves agree with
it, and docs/architecture.md shows it. Its match with a real run's stores is checked in
tests/web/test_catalogue_stores.py (on the session's demo run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from everyfamily import catalogue as cat
from everyfamily.privacy.release import WITHHELD_REASON_COLUMN
from everyfamily.schema import LINKS_COLUMNS, QUARANTINE_COLUMNS, REACH_COLUMNS, RECORDS_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def test_stores_constants_keep_their_hand_written_values() -> None:
    from everyfamily.stores import ANALYSIS, EXTRACTABLE, IDENTIFIABLE, IDENTIFIABLE_TABLES

    assert (IDENTIFIABLE, ANALYSIS) == ("identifiable", "analysis")
    assert IDENTIFIABLE_TABLES == (
        "records",
        "quarantine",
        "ingest_batches",
        "links",
        "id_registry",
        "id_events",
        "clerical_review",
    )
    assert EXTRACTABLE == {
        "quarantine": "identifiable",
        "clerical_review": "identifiable",
        "id_registry": "identifiable",
        "children": "analysis",
        "not_reached": "analysis",
    }


def test_extract_refuses_a_table_the_catalogue_does_not_mark_extractable(
    tmp_path: Path,
) -> None:
    from everyfamily.errors import EveryfamilyError
    from everyfamily.privacy.extract import extract_table

    assert not cat.TABLES["records"].extractable
    with pytest.raises(EveryfamilyError) as err:
        extract_table(
            tmp_path,
            "records",
            tmp_path / "x.csv",
            purpose="checking the refusal",
            audit=None,  # refused before anything is audited or opened
            who="tester",
        )
    assert "records" in str(err.value) and "not_reached" in str(err.value)


def test_tables_are_named_once_and_every_zone_is_a_store_zone() -> None:
    from everyfamily.stores import STORE_PATHS

    names = [t.name for t in cat.STORE_TABLES]
    assert len(names) == len(set(names)) == len(cat.TABLES)
    assert {t.zone for t in cat.STORE_TABLES} == set(STORE_PATHS)
    # Identifiable tables are the ingest and linkage tables; nothing later writes there.
    assert {t.written_by for t in cat.STORE_TABLES if t.identifiable} == {"ingest", "link"}


def test_schema_columns_are_the_contract_of_schema_py() -> None:
    given = {t.name: t.columns for t in cat.STORE_TABLES if t.columns}
    assert given == {
        "records": RECORDS_COLUMNS,
        "quarantine": QUARANTINE_COLUMNS,
        "links": LINKS_COLUMNS,
        "reach": REACH_COLUMNS,
        "reach_released": (*REACH_COLUMNS, WITHHELD_REASON_COLUMN),
    }


def test_person_level_tables_are_the_ones_privacy_lists() -> None:
    # Person-level tables outside the identifiable zone hold pseudonyms only: the three the
    # architecture names (children, the outreach list, access per child).
    analysis_people = {t.name for t in cat.STORE_TABLES if t.person_level and not t.identifiable}
    assert analysis_people == {"children", "not_reached", "access_children"}
    assert not cat.TABLES["ingest_batches"].person_level  # counts per file


def test_dimensions_match_the_reach_table_and_its_readers() -> None:
    from everyfamily.findings.model import AREA_ATTRIBUTE_DIMENSIONS, NESTED_DIMENSIONS
    from everyfamily.population.attributes import DEPRIVATION_COLUMNS
    from everyfamily.reach.children import CHILD_COLUMNS
    from everyfamily.reach.measure import DIMENSIONS as MEASURED
    from everyfamily.web.labels import DIMENSIONS as LABELS

    keys = [d.key for d in cat.DIMENSIONS]
    assert keys == list(MEASURED)  # same dimensions, same output order
    assert {d.key: d.label for d in cat.DIMENSIONS} == LABELS
    assert cat.nested_dimensions() == NESTED_DIMENSIONS
    assert cat.area_level_dimensions() == AREA_ATTRIBUTE_DIMENSIONS
    assert cat.area_level_dimensions() == set(DEPRIVATION_COLUMNS) - {"area_code"}
    assert set(keys) - {cat.ALL} <= set(CHILD_COLUMNS)
    # a parent is itself a dimension of the same level, and has no parent of its own
    for d in cat.DIMENSIONS:
        if d.parent is not None:
            parent = cat.DIMENSION_BY_KEY[d.parent]
            assert parent.level == d.level and parent.parent is None


def test_dimension_names_are_the_keys() -> None:
    named = {v for k, v in vars(cat).items() if k.isupper() and isinstance(v, str) and v in keys()}
    assert named == set(keys())


def keys() -> set[str]:
    return {d.key for d in cat.DIMENSIONS}


def test_architecture_doc_shows_the_catalogue() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert cat.architecture_doc(doc) == doc, (
        "docs/architecture.md is stale: run `.venv/bin/python -m everyfamily.catalogue`"
    )
    for t in cat.STORE_TABLES:
        assert f"| `{t.name}` | {t.zone} |" in doc


def test_architecture_doc_needs_its_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        cat.architecture_doc("# Architecture\n\nno generated section here\n")
    stale = f"before\n{cat.DOC_START}\n| `old` | table |\n{cat.DOC_END}\nafter\n"
    fresh = cat.architecture_doc(stale)
    assert "`old`" not in fresh and "| `children` | analysis |" in fresh
    assert fresh.startswith("before\n") and fresh.endswith(f"{cat.DOC_END}\nafter\n")


def test_extract_help_names_every_extractable_table(capsys: pytest.CaptureFixture[str]) -> None:
    from everyfamily.cli import main

    assert main(["extract", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "quarantine, id_registry, clerical_review, children, not_reached." in shown


def test_table_names_the_stages_spell_are_in_the_catalogue() -> None:
    from everyfamily.communities.stage import TESTS_TABLE
    from everyfamily.findings.stage import CANDIDATES_TABLE
    from everyfamily.linkage.estimated_quality import QUALITY_TABLE
    from everyfamily.linkage.stage import EVENTS_TABLE, LINKS_TABLE, REGISTRY_TABLE, REVIEW_TABLE
    from everyfamily.reach.stage import NOT_REACHED_TABLE

    zones = {
        name: cat.TABLES[name].zone if name in cat.TABLES else None
        for name in (
            REGISTRY_TABLE,
            EVENTS_TABLE,
            LINKS_TABLE,
            REVIEW_TABLE,
            QUALITY_TABLE,
            NOT_REACHED_TABLE,
            TESTS_TABLE,
            CANDIDATES_TABLE,
        )
    }
    assert zones == {
        "id_registry": "identifiable",
        "id_events": "identifiable",
        "links": "identifiable",
        "clerical_review": "identifiable",
        "linkage_quality_by_group": "analysis",
        "not_reached": "analysis",
        "community_tests": "analysis",
        "candidate_findings": "analysis",
    }

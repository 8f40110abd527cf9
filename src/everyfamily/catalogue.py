"""One catalogue, as data: every store table a run leaves and every reach dimension.

A run keeps its tables in two stores (``everyfamily.stores``): the **identifiable** zone
(names, NHS numbers, exact dates of birth, postcodes, addresses and the keys back to source
records) and the **analysis** zone (pseudonyms, month and year of birth, small areas, groups
and aggregates). :data:`STORE_TABLES` says, for each table, which zone holds it, whether it
has one row per person (or record) or holds aggregates, whether ``everyfamily extract`` may
write it to a file, which stage writes it and what it is for; the columns are given where
``schema.py`` defines them (the public contract). ``stores.IDENTIFIABLE_TABLES`` and
``stores.EXTRACTABLE`` are derived from it, a test checks it against the stores of a real
run, and the table in docs/architecture.md is generated from it (:func:`architecture_doc`).

:data:`DIMENSIONS` lists the group dimensions of the reach table (``reach.dimension``): key,
readable label, the broader dimension it rolls up into, and whether it describes the child
or the small area the child lives in (deprivation deciles are the area's, not the child's).

Like ehrQL's table schemas and datasette's settings, the catalogue is plain frozen data: no
I/O, no imports of the stages, so any module may read it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from everyfamily.schema import LINKS_COLUMNS, QUARANTINE_COLUMNS, REACH_COLUMNS, RECORDS_COLUMNS

#: The zone of direct identifiers (``OUT/restricted/identifiable.duckdb``).
IDENTIFIABLE = "identifiable"
#: The zone of pseudonymised and aggregate tables (``OUT/everyfamily.duckdb``).
ANALYSIS = "analysis"

#: Dimension kinds: a property of the child, or of the small area the child lives in.
CHILD_LEVEL = "child"
AREA_LEVEL = "area"


@dataclass(frozen=True)
class StoreTable:
    """One table of a run's stores.

    ``person_level``: one row per person or per source record (pseudonymous or not), as
    opposed to aggregates, geography and run bookkeeping. ``columns``: the contract of
    ``schema.py`` where it defines one, else empty (the writing stage decides).
    """

    name: str
    zone: str
    written_by: str
    person_level: bool
    extractable: bool
    purpose: str
    columns: tuple[str, ...] = ()

    @property
    def identifiable(self) -> bool:
        return self.zone == IDENTIFIABLE


@dataclass(frozen=True)
class Dimension:
    """One group dimension of the reach table: ``key`` is the value of ``reach.dimension``
    and the column of ``children`` it is read from (``all`` has none); ``parent`` the broader
    dimension it rolls up into; ``level`` :data:`CHILD_LEVEL` or :data:`AREA_LEVEL`."""

    key: str
    label: str
    parent: str | None
    level: str

    @property
    def area_level(self) -> bool:
        return self.level == AREA_LEVEL


def _t(
    name: str,
    zone: str,
    written_by: str,
    person_level: bool,
    purpose: str,
    *,
    extractable: bool = False,
    columns: tuple[str, ...] = (),
) -> StoreTable:
    return StoreTable(name, zone, written_by, person_level, extractable, purpose, columns)


#: Every table a finished run leaves in its stores, in pipeline order (the demo's run leaves
#: all of them; a run without an ``access:`` block, or with no community tests, has no access
#: tables or ``community_tests``). Working tables
#: (linkage's ``ef_link_*``, Splink's ``__splink__*``, ingest's ``_ingest_incoming_ids``)
#: live in the identifiable zone while a stage runs and are dropped before it ends.
STORE_TABLES: tuple[StoreTable, ...] = (
    _t(
        "records",
        IDENTIFIABLE,
        "ingest",
        True,
        "every loaded input row, standardised",
        columns=RECORDS_COLUMNS,
    ),
    _t(
        "quarantine",
        IDENTIFIABLE,
        "ingest",
        True,
        "rows that could not be used, with reasons and the raw row",
        extractable=True,
        columns=QUARANTINE_COLUMNS,
    ),
    _t(
        "ingest_batches",
        IDENTIFIABLE,
        "ingest",
        False,
        "one row per input file loaded: counts that reconcile",
    ),
    _t(
        "links",
        IDENTIFIABLE,
        "link",
        True,
        "each record's person and family pseudonyms",
        columns=LINKS_COLUMNS,
    ),
    _t(
        "id_registry",
        IDENTIFIABLE,
        "link",
        True,
        "stable ids: which record has carried which pseudonym, run to run",
        extractable=True,
    ),
    _t("id_events", IDENTIFIABLE, "link", True, "pseudonyms created, merged or split, per run"),
    _t(
        "clerical_review",
        IDENTIFIABLE,
        "link",
        True,
        "a sample of record pairs for a person to judge",
        extractable=True,
    ),
    _t(
        "linkage_quality_by_group",
        ANALYSIS,
        "link",
        False,
        "estimated linkage precision and recall by group",
    ),
    _t(
        "children",
        ANALYSIS,
        "measure",
        True,
        "one row per child: pseudonym, month of birth, area, groups, known/registered/engaged",
        extractable=True,
    ),
    _t(
        "reach_areas",
        ANALYSIS,
        "measure",
        False,
        "which small areas each centre's reach area holds",
    ),
    _t(
        "area_membership",
        ANALYSIS,
        "measure",
        False,
        "which small areas each area of each level holds",
    ),
    _t(
        "reach",
        ANALYSIS,
        "measure",
        False,
        "reach by area, group and service, exact (before disclosure control)",
        columns=REACH_COLUMNS,
    ),
    _t(
        "reach_dispersion",
        ANALYSIS,
        "measure",
        False,
        "over-dispersion (Spiegelhalter tau2) of each funnel family of areas",
    ),
    _t(
        "reach_released",
        ANALYSIS,
        "measure",
        False,
        "the reach table as released (cell key perturbation by default, or suppressed and "
        "rounded), with the reason of every withheld count",
        # privacy.release.WITHHELD_REASON_COLUMN (not imported: the catalogue is schema only)
        columns=(*REACH_COLUMNS, "withheld_reason"),
    ),
    _t(
        "reach_cell_keys",
        ANALYSIS,
        "measure",
        False,
        "cell keys of the reach cells (cell key method)",
    ),
    _t(
        "release_registry",
        ANALYSIS,
        "measure",
        False,
        "cells suppressed in earlier releases, kept suppressed",
    ),
    _t(
        "not_reached",
        ANALYSIS,
        "measure",
        True,
        "the outreach list, pseudonymised (names joined only on demand)",
        extractable=True,
    ),
    _t(
        "community_tests",
        ANALYSIS,
        "communities",
        False,
        "emerging-community tests by area and group",
    ),
    _t("access_children", ANALYSIS, "access", True, "nearest centre and walk per child"),
    _t("access_areas", ANALYSIS, "access", False, "walking access by small area"),
    _t("access_bands", ANALYSIS, "access", False, "reach by walking-time band"),
    _t(
        "access_barriers",
        ANALYSIS,
        "access",
        False,
        "candidate barriers (railways, roads, rivers) and their crossings",
    ),
    _t(
        "trends",
        ANALYSIS,
        "trends",
        False,
        "reach at every quarter end by area, group and service, exact (trends.csv is as released)",
    ),
    _t(
        "trend_tests",
        ANALYSIS,
        "trends",
        False,
        "the recent-trend test (chi-squared test for trend) of every series of trends",
    ),
    _t(
        "run_history",
        ANALYSIS,
        "since",
        False,
        "one snapshot per run's reference date: children counted, registered and engaged by "
        "area (aggregates; carried from run to run)",
    ),
    _t(
        "since_last_run",
        ANALYSIS,
        "since",
        False,
        "changes since the previous run by area (born, arrived, moved, left, newly registered, "
        "lapsed), exact (since_last_run.csv is as released)",
    ),
    _t(
        "candidate_findings",
        ANALYSIS,
        "communities, access, trends",
        False,
        "findings other stages propose, for the find stage to rank",
    ),
    _t("findings", ANALYSIS, "find", False, "the ranked findings, as released"),
)

#: The group dimensions of the reach table, in output order.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("all", "Everyone", None, CHILD_LEVEL),
    Dimension("ethnicity", "Ethnic group", "ethnicity_broad", CHILD_LEVEL),
    Dimension("ethnicity_broad", "Ethnic group (broad)", None, CHILD_LEVEL),
    Dimension("main_language", "Main language", None, CHILD_LEVEL),
    Dimension(
        "mother_country_of_birth",
        "Mother's country of birth",
        "mother_region_of_birth",
        CHILD_LEVEL,
    ),
    Dimension("mother_region_of_birth", "Mother's region of birth", None, CHILD_LEVEL),
    Dimension("imd_decile", "Deprivation (IMD decile)", "imd_quintile", AREA_LEVEL),
    Dimension("imd_quintile", "Deprivation (IMD quintile)", None, AREA_LEVEL),
    Dimension(
        "idaci_decile",
        "Income deprivation affecting children (IDACI decile)",
        "idaci_quintile",
        AREA_LEVEL,
    ),
    Dimension(
        "idaci_quintile",
        "Income deprivation affecting children (IDACI quintile)",
        None,
        AREA_LEVEL,
    ),
    Dimension("age_years", "Age (years)", None, CHILD_LEVEL),
    Dimension("sex", "Sex", None, CHILD_LEVEL),
)

TABLES: dict[str, StoreTable] = {t.name: t for t in STORE_TABLES}
DIMENSION_BY_KEY: dict[str, Dimension] = {d.key: d for d in DIMENSIONS}

# Dimension keys as names, for modules that would otherwise spell them as literals.
ALL = "all"
ETHNICITY = "ethnicity"
ETHNICITY_BROAD = "ethnicity_broad"
MAIN_LANGUAGE = "main_language"
MOTHER_COUNTRY_OF_BIRTH = "mother_country_of_birth"
MOTHER_REGION_OF_BIRTH = "mother_region_of_birth"
IMD_DECILE = "imd_decile"
IMD_QUINTILE = "imd_quintile"
IDACI_DECILE = "idaci_decile"
IDACI_QUINTILE = "idaci_quintile"
AGE_YEARS = "age_years"
SEX = "sex"


def tables_in(zone: str) -> tuple[str, ...]:
    """Names of the catalogue's tables in ``zone``, in pipeline order."""
    return tuple(t.name for t in STORE_TABLES if t.zone == zone)


def extractable() -> dict[str, str]:
    """Tables ``everyfamily extract`` may write to a file, with the zone holding each."""
    return {t.name: t.zone for t in STORE_TABLES if t.extractable}


def area_level_dimensions() -> frozenset[str]:
    """Dimensions that describe the child's small area, not the child (deprivation)."""
    return frozenset(d.key for d in DIMENSIONS if d.area_level)


def nested_dimensions() -> dict[str, str]:
    """Finer dimension -> the broader one it rolls up into."""
    return {d.key: d.parent for d in DIMENSIONS if d.parent is not None}


# --- the generated section of docs/architecture.md ------------------------------------------
DOC_START = "<!-- catalogue:start (generated by `python -m everyfamily.catalogue`; do not edit) -->"
DOC_END = "<!-- catalogue:end -->"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def catalogue_markdown() -> str:
    """The store-table and dimension tables of docs/architecture.md, as Markdown."""
    lines = [
        "| table | zone | written by | person-level | extractable | what it holds |",
        "|---|---|---|---|---|---|",
    ]
    for t in STORE_TABLES:
        lines.append(
            f"| `{t.name}` | {t.zone} | {t.written_by} | {_yes(t.person_level)} "
            f"| {_yes(t.extractable)} | {t.purpose} |"
        )
    lines += [
        "",
        "Reach dimensions (`reach.dimension`; each but `all` is a column of `children`; an",
        "area-level one describes the child's small area, not the child):",
        "",
        "| dimension | label | rolls up into | level |",
        "|---|---|---|---|",
    ]
    for d in DIMENSIONS:
        parent = f"`{d.parent}`" if d.parent else ""
        lines.append(f"| `{d.key}` | {d.label} | {parent} | {d.level} |")
    return "\n".join(lines) + "\n"


def architecture_doc(text: str) -> str:
    """``text`` (docs/architecture.md) with its generated section replaced by the current
    catalogue; raises ValueError when the markers are missing."""
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start < 0 or end < start:
        raise ValueError(f"the generated section's markers are missing: {DOC_START} ... {DOC_END}")
    return text[: start + len(DOC_START)] + "\n" + catalogue_markdown() + text[end:]


def write_architecture_doc(path: Path) -> bool:
    """Regenerate the catalogue section of ``path``; True when the file changed."""
    old = path.read_text(encoding="utf-8")
    new = architecture_doc(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


if __name__ == "__main__":  # pragma: no cover - a developer's command
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/architecture.md")
    print(f"{target}: {'updated' if write_architecture_doc(target) else 'up to date'}")

"""The find stage's reading of the children table as counts the engine makes
(findings/stage.py): the unregistered children in the age range grouped by small area and
group columns (``overlap_cells_sql``: how many children two group findings share) and the
known children's families by size and registered children (``family_sizes_sql``: the
family design effect). Planted children, hand-counted; the findings equal those from a row
per child. On DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.engines import Engine
from everyfamily.findings import stats
from everyfamily.findings.engine import find
from everyfamily.findings.model import FindingsSettings
from everyfamily.findings.stage import CHILD_FIELDS, family_sizes_sql, overlap_cells_sql
from findings.reach_tables import BOROUGH, Area, reach_table

pytestmark = pytest.mark.postgres

S = FindingsSettings(rounding="none", suppress_at_or_below=0)
N = 110  # children in the age range: 100 Romanian-speaking, 12 registered, all born in Romania


def _children() -> pd.DataFrame:
    """110 children in the age range in A01 (P000-P109) and 5 out of it (not counted);
    families of two (P000+P001 ...), the last 10 children without a family id."""
    n = N + 5
    family = [None if 100 <= i < N else f"F{i // 2:03d}" for i in range(n)]
    return pd.DataFrame(
        {
            "person_id": [f"P{i:03d}" for i in range(n)],
            "family_id": family,
            "area_code": ["A01"] * N + ["A02"] * 5,
            "in_age_range": [i < N for i in range(n)],
            "known": [i != 50 for i in range(n)],  # P050 known to no service
            "registered": [i < 12 or i >= N for i in range(n)],
            "main_language": ["romanian" if i < 100 else "english" for i in range(n)],
            "mother_country_of_birth": "Romania",
            "imd_decile": [float(1 + i % 3) for i in range(n)],
        }
    )


def _store(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    kids = _children()
    engine.write_table("children", pa.Table.from_pandas(kids, preserve_index=False))
    have = set(engine.columns("children"))
    cells_sql, sizes_sql = overlap_cells_sql(engine, have), family_sizes_sql(engine, have)
    assert cells_sql is not None and sizes_sql is not None
    cells = engine.query(cells_sql).to_pandas()
    sizes = engine.query(sizes_sql).to_pandas()
    per_child = kids[[c for c in CHILD_FIELDS if c in kids.columns]]
    return per_child[per_child["in_age_range"]], cells, sizes


def test_overlap_cells_count_the_unregistered_children_by_area_and_group(engine: Engine) -> None:
    _kids, cells, _sizes = _store(engine)
    assert cells is not None
    assert "person_id" not in cells.columns and "family_id" not in cells.columns
    # 98 unregistered in the age range (P012-P109); the 5 out of it are not counted
    assert int(cells["n"].sum()) == N - 12
    by = cells.groupby(["main_language", "imd_decile"])["n"].sum().to_dict()
    # Romanian-speaking P012-P099 (88), deciles 1 + i % 3: i % 3 == 0 for 30 of them (12, 15
    # ... 99), 1 for 29, 2 for 29; English-speaking P100-P109: 4, 3, 3
    assert by == {
        ("english", 1.0): 3,
        ("english", 2.0): 4,
        ("english", 3.0): 3,
        ("romanian", 1.0): 30,
        ("romanian", 2.0): 29,
        ("romanian", 3.0): 29,
    }
    assert not cells["registered"].astype(bool).any()


def test_family_sizes_give_the_per_child_design_effect(engine: Engine) -> None:
    kids, _cells, sizes = _store(engine)
    assert sizes is not None
    # known children in the age range: families of two P000+P001 ... P098+P099, but P050's
    # family has one known child; P100-P109 without a family id are families of one
    counted = {
        (int(m), int(y)): int(f)
        for m, y, f in sizes[["size", "registered", "families"]].itertuples(index=False)
    }
    assert counted == {(2, 2): 6, (2, 0): 43, (1, 0): 11}
    known = kids[kids["known"]]
    per_child = stats.family_design_effect(
        known["registered"].to_numpy(), known["family_id"].to_numpy()
    )
    from_sizes = stats.family_design_effect_from_sizes(
        sizes["size"].to_numpy(), sizes["registered"].to_numpy(), sizes["families"].to_numpy()
    )
    assert from_sizes == pytest.approx(per_child, rel=1e-12)
    assert per_child > 1.5  # pairs register together


def test_findings_from_the_engines_counts_are_the_per_child_findings(engine: Engine) -> None:
    """The same children under two questions (language, country of birth) are one finding
    on the cells as on a row per child (findings/engine.merge_group_findings)."""
    kids, cells, sizes = _store(engine)
    areas = [Area(f"A{i:02d}", 100, 60, 30, 100 / 0.95, f"Area {i}") for i in range(20)]
    groups = [
        ("borough", BOROUGH, "main_language", "romanian", 100, 10),
        ("borough", BOROUGH, "mother_country_of_birth", "Romania", 110, 12),
    ]
    table = reach_table(areas, groups=groups)
    assert len(find(table, settings=S)) == 2  # without the children: two findings
    per_child = find(table, settings=S, children=kids)
    from_counts = find(table, settings=S, children=cells, families=sizes)
    assert len(from_counts) == 1
    assert from_counts == per_child
    why = from_counts[0].evidence["merged"][0]["why_merged"]
    # 88 unreached Romanian speakers, all 98 unreached born in Romania: 88 / 88 in both
    assert why.startswith("100% of the smaller group's unreached children are in both")
    assert np.isclose(from_counts[0].score, per_child[0].score)

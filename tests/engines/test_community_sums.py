"""The communities stage's counting run in the engine (communities.engine_sums) gives the
same as the per-child pandas path it replaced, on every engine: cells hand-counted on a
tiny store, then a planted emerging community detected the same way (tests, findings,
signals) from cells as from a row per child."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.communities import engine_sums
from everyfamily.communities.detect import DetectSettings, detect
from everyfamily.communities.growth import _births
from everyfamily.communities.nameorigin import load_model
from everyfamily.communities.signals import assign_groups, child_names
from everyfamily.communities.stage import _released_by_basis
from everyfamily.engines import Engine
from everyfamily.findings.model import FindingsSettings
from everyfamily.privacy.cellkey import child_record_keys

pytestmark = pytest.mark.postgres

REF = dt.date(2026, 3, 31)


def _write(engine: Engine, children: pd.DataFrame, records: pd.DataFrame) -> None:
    engine.write_table("children", pa.Table.from_pandas(children, preserve_index=False))
    links = records[["source", "record_id", "person_id"]]
    engine.write_table("links", pa.Table.from_pandas(links, preserve_index=False))
    engine.write_table(
        "records", pa.Table.from_pandas(records.drop(columns="person_id"), preserve_index=False)
    )


def _child(pid: str, area: str, month: str, country: str | None, key: int) -> dict[str, object]:
    return {
        "person_id": pid,
        "area_code": area,
        "month_of_birth": dt.date.fromisoformat(month),
        "in_age_range": True,
        "known": True,
        "registered": pid in {"P1", "P2"},
        "engaged": pid == "P1",
        "ethnicity": None,
        "main_language": None,
        "mother_country_of_birth": country,
        "interpreter_needed": None,
        "record_key": key,
    }


def _record(pid: str, n: int, service: str, first: str | None, last: str) -> dict[str, object]:
    return {
        "source": service,
        "record_id": f"{pid}-{n}",
        "person_id": pid,
        "service_type": service,
        "first_name": first,
        "last_name": last,
    }


def test_cells_are_the_hand_counts(engine: Engine) -> None:
    children = pd.DataFrame(
        [
            _child("P1", "A1", "2025-01-01", "Romania", 10),
            _child("P2", "A1", "2025-01-01", "Romania", 20),
            _child("P3", "A1", "2025-01-01", None, 40),
            _child("P4", "A2", "2024-06-01", None, 80),
        ]
    )
    records = pd.DataFrame(
        [
            # P3: 'Jack' twice (targeted), 'John' once (universal): the most frequent wins
            _record("P3", 1, "targeted", "Jack", "Smith"),
            _record("P3", 2, "targeted", "Jack", "Smith"),
            _record("P3", 3, "universal", "John", "Smith"),
            # P4: a tie, one each: the universal record's name wins
            _record("P4", 1, "targeted", "Zoe", "Jones"),
            _record("P4", 2, "universal", "Amy", "Jones"),
            _record("P1", 1, "universal", "Ana", "Pop"),
            _record("P2", 1, "universal", "Ana", "Pop"),
        ]
    )
    _write(engine, children, records)
    pairs = engine_sums.name_pairs(engine).sort_values("given_name").reset_index(drop=True)
    assert pairs.to_dict("records") == [
        {"given_name": "Amy", "surname": "Jones", "children": 1},
        {"given_name": "Ana", "surname": "Pop", "children": 2},
        {"given_name": "Jack", "surname": "Smith", "children": 1},
    ]
    cells = engine_sums.cells(engine, None, REF)
    # without the model: P1, P2 Romanian by the country (apart: registered, engaged differ);
    # P3 and P4 have no group; ages on 31 March 2026: born Jan 2025 -> 1, June 2024 -> 1
    assert cells[["area_code", "age_at_reference", "registered", "origin_group", "n"]].astype(
        str
    ).values.tolist() == [
        ["A1", "1", "False", "None", "1"],
        ["A1", "1", "True", "romanian", "1"],
        ["A1", "1", "True", "romanian", "1"],
        ["A2", "1", "False", "None", "1"],
    ]
    assert cells["record_key"].tolist() == [40, 20, 10, 80]  # P2 (not engaged) before P1
    named = engine_sums.cells(engine, load_model(), REF)
    assert named["n"].sum() == 4 and set(named["basis"].dropna()) <= {"country_of_birth", "name"}
    assert named.loc[named["origin_group"] == "romanian", "record_key"].sum() == 30  # P1, P2
    assert not any(
        engine.has_table(t)
        for t in (engine_sums.NAME_GROUPS, engine_sums.MONTH_AGES, engine_sums.SIGNAL_GROUPS)
    )


def _planted(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four areas, 5 birth years of 60 children; in A3 births of mothers born in Romania
    appear in the last two years only; names decide the group of the rest (no ties)."""
    rng = np.random.default_rng(seed)
    kids, recs = [], []
    names = [("Jack", "Smith"), ("Piotr", "Kowalski"), ("Mohammed", "Khan"), ("Wei", "Zhang")]
    i = 0
    for area in ("A1", "A2", "A3", "A4"):
        for year in range(5):
            for _ in range(60):
                i += 1
                pid = f"P{i:04d}"
                planted = area == "A3" and year < 2 and rng.random() < 0.6
                registered = bool(rng.random() < 0.6)
                kids.append(
                    {
                        "person_id": pid,
                        "area_code": area,
                        "month_of_birth": dt.date(REF.year - year - 1, 7, 1),
                        "in_age_range": True,
                        "known": bool(rng.random() < 0.95),
                        "registered": registered,
                        "engaged": registered and bool(rng.random() < 0.5),
                        "ethnicity": None,
                        "main_language": "Polish" if rng.random() < 0.05 else None,
                        "mother_country_of_birth": "Romania" if planted else None,
                        "interpreter_needed": "Yes" if rng.random() < 0.05 else None,
                    }
                )
                first, last = names[int(rng.integers(0, len(names)))]
                for n in range(int(rng.integers(1, 3))):  # the same name on every record
                    recs.append(_record(pid, n, rng.choice(["universal", "targeted"]), first, last))
    frame = pd.DataFrame(kids)
    # the store's record keys are the cell-key keys of the person ids (reach/stage.py)
    frame["record_key"] = child_record_keys(frame["person_id"]).to_numpy()
    return frame, pd.DataFrame(recs)


def _frame(found: list[object]) -> list[dict[str, object]]:
    return [f.__dict__ for f in found]


def test_detection_from_engine_cells_equals_the_per_child_path(engine: Engine) -> None:
    children, records = _planted()
    _write(engine, children, records)
    model = load_model()
    settings = DetectSettings(
        reference_date=REF, findings=FindingsSettings(small_area_level="lsoa")
    )

    per_child = children.rename(columns={"month_of_birth": "date_of_birth"})
    old = assign_groups(per_child, child_names(records), model)
    new = engine_sums.cells(engine, model, REF)
    assert int(new["n"].sum()) == len(children) and len(new) < len(children) / 3

    # the births by area, year, group and basis: counts and record-key sums
    b_old, b_new = _births(old, REF, 5), _births(new, REF, 5)
    assert b_old.areas == b_new.areas
    for field in ("total", "group", "named", "total_keys", "group_keys", "named_keys"):
        np.testing.assert_array_equal(getattr(b_old, field), getattr(b_new, field))
    assert b_new.group.sum() > 0 and b_new.named.sum() > 0  # both bases are exercised

    d_old, d_new = detect(old, settings), detect(new, settings)
    pd.testing.assert_frame_equal(d_old.tests, d_new.tests)
    assert d_old.summary == d_new.summary
    assert d_old.communities == d_new.communities
    assert _frame(d_old.findings) == _frame(d_new.findings)
    assert d_new.findings, "the planted Romanian community is found"

    in_age_old = old[old["in_age_range"]]
    in_age_new = new[new["in_age_range"]]
    for method in ("cell_key", "suppress_round"):
        fs = FindingsSettings(release_method=method)
        assert _released_by_basis(in_age_old, fs) == _released_by_basis(in_age_new, fs)

"""The SQL the stages now write once (portable through the dialect) gives the same answer
on every engine: linkage's clerical-review sample (hash_expr, round_expr), access's home
point (an aliased subquery whose NULL ordering sqlglot spells out), the report's quarantine
reasons (unnest of a list column). Inline data; expected values by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from everyfamily.access.stage import HOME_SQL
from everyfamily.engines import Engine, open_engine
from everyfamily.linkage.prepare import IDENTITIES, RECORD_IDENTITY
from everyfamily.linkage.stage import REVIEW_TABLE, _write_clerical_review
from everyfamily.report.stage import QUARANTINE_REASONS_SQL

from .conftest import Maker, requires

pytestmark = pytest.mark.postgres

D = dt.date


def test_round_expr_rounds_a_double_and_keeps_it_a_double(engine: Engine) -> None:
    engine.write_table("v", pa.table({"x": [0.123456, 2.71828, -1.23449, None]}))
    r4 = engine.dialect.round_expr("x", 4)
    r2 = engine.dialect.round_expr("x", 2)
    got = engine.query(f"SELECT {r4} AS a, {r2} AS b FROM v")
    assert got.schema.field("a").type == pa.float64()
    assert got.column("a").to_pylist() == [0.1235, 2.7183, -1.2345, None]
    assert got.column("b").to_pylist() == [0.12, 2.72, -1.23, None]


def test_quarantine_reasons_count_each_reason_of_a_row(engine: Engine) -> None:
    reasons = [["missing_date_of_birth", "bad_postcode"], ["bad_postcode"], [], ["x"]]
    engine.write_table(
        "quarantine",
        pa.table({"row_number": [1, 2, 3, 4], "reasons": pa.array(reasons, pa.list_(pa.string()))}),
    )
    got = engine.query(engine.dialect.portable(QUARANTINE_REASONS_SQL)).to_pylist()
    assert [(r["reason"], r["n"]) for r in got] == [
        ("bad_postcode", 2),
        ("missing_date_of_birth", 1),
        ("x", 1),
    ]


def test_home_point_prefers_universal_then_recent_and_sorts_nulls_last(engine: Engine) -> None:
    # P1: the universal record wins over a later targeted one; a NULL service type sorts
    # after both (DuckDB's NULLS LAST, spelled out for PostgreSQL). P2: no universal record,
    # the most recent wins; its undated record (event and birth NULL) sorts last.
    # P3: its only record has no small area: no home point.
    n = 6
    engine.write_table(
        "records",
        pa.table(
            {
                "source": ["a", "b", "c", "a", "b", "a"],
                "record_id": ["1", "1", "1", "2", "2", "3"],
                "service_type": ["universal", "targeted", None, "targeted", "targeted", "x"],
                "event_date": pa.array(
                    [D(2023, 1, 1), D(2024, 1, 1), D(2025, 1, 1), D(2024, 5, 1), None, None],
                    pa.date32(),
                ),
                "date_of_birth": pa.array([D(2022, 1, 1)] * 4 + [None, None], pa.date32()),
                "area_code": ["A", "B", "C", "D", "E", None],
                "latitude": [53.0 + i for i in range(n)],
                "longitude": [-2.0] * n,
            }
        ),
    )
    engine.write_table(
        "links",
        pa.table(
            {
                "source": ["a", "b", "c", "a", "b", "a"],
                "record_id": ["1", "1", "1", "2", "2", "3"],
                "person_id": ["P1", "P1", "P1", "P2", "P2", "P3"],
            }
        ),
    )
    got = engine.query(engine.dialect.portable(HOME_SQL)).to_pylist()
    assert sorted((r["person_id"], r["home_area"], r["latitude"]) for r in got) == [
        ("P1", "A", 53.0),
        ("P2", "D", 56.0),
    ]


def _review_inputs(engine: Engine) -> None:
    fields = {
        "nhs_number": None,
        "first_name_match": "ANN",
        "last_name_match": "LI",
        "date_of_birth": D(2023, 1, 1),
        "sex": "female",
        "postcode": "L36 9YA",
        "parent_first_name_match": None,
        "parent_last_name_match": None,
    }
    ids = list(range(1, 21))
    engine.write_table(
        IDENTITIES,
        pa.table({"unique_id": ids, **{k: [v] * len(ids) for k, v in fields.items()}}),
    )
    engine.write_table(
        RECORD_IDENTITY,
        pa.table(
            {
                "source": ["s"] * len(ids),
                "record_id": [str(i) for i in ids],
                "identity_id": ids,
            }
        ),
    )
    # ten pairs in 0.5-0.8, four in 0.9-0.95, one below the floor
    probs = [0.5 + 0.01 * i for i in range(10)] + [0.91, 0.92, 0.93, 0.949] + [0.01]
    engine.write_table(
        "ef_link_pairs",
        pa.table(
            {
                "unique_id_l": [1] * len(probs),
                "unique_id_r": list(range(2, 2 + len(probs))),
                "match_probability": probs,
                "match_weight": [1.23456] * len(probs),
            }
        ),
    )


def _review(engine: Engine) -> list[dict[str, object]]:
    _review_inputs(engine)
    _write_clerical_review(engine, per_band=3, seed=2026, floor=0.05, threshold=0.92)
    return engine.query(
        f"SELECT band, match_probability, match_weight, linked_at_threshold, example_record_r,"
        f" sex_l FROM {REVIEW_TABLE} ORDER BY band, example_record_r"
    ).to_pylist()


def test_clerical_review_samples_per_band_on_every_engine(engine: Engine) -> None:
    rows = _review(engine)
    bands = [r["band"] for r in rows]
    assert bands == ["0.5-0.8"] * 3 + ["0.9-0.95"] * 3  # three of each band, none below
    assert {r["match_weight"] for r in rows} == {1.23}
    assert all(r["sex_l"] == "female" for r in rows)
    for r in rows:  # linked at the threshold 0.92 or not
        assert r["linked_at_threshold"] == (r["match_probability"] >= 0.92)
    # the same seed samples the same pairs again
    assert _review(engine) == rows


def test_the_sample_is_the_reference_engines_sample(
    request: pytest.FixtureRequest, maker: Maker, tmp_path: Path
) -> None:
    """Where hash_expr is not DuckDB's hash the sample differs (a strict expected failure:
    ``Capabilities.reference_hash``)."""
    reference = open_engine("duckdb", path=tmp_path / "ref.duckdb")
    other = maker.open()
    requires(request, other, "reference_hash")
    try:
        assert _review(other) == _review(reference)
    finally:
        reference.close()

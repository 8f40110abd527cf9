"""The modules that write through the engine seam give the same results on every engine:
ingest's all-or-nothing batches, linkage's identity collapse, re-identification's contact
choice. Inline data; expected values by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from everyfamily.engines import Engine
from everyfamily.ingest.standardise import Standardised
from everyfamily.ingest.store import load_batch
from everyfamily.ingest.store import load_batch_staged as load_staged
from everyfamily.linkage.prepare import IDENTITIES, RECORD_IDENTITY, prepare_identities
from everyfamily.privacy.reidentify import contact_details

pytestmark = pytest.mark.postgres

D = dt.date


def test_replace_table_as_may_read_the_table_it_replaces(engine: Engine) -> None:
    engine.write_table("t", pa.table({"a": pa.array([1, 2, 3], pa.int64())}))
    engine.replace_table_as("t", "SELECT a * 10 AS b FROM t WHERE a > ?", [1])
    assert engine.query("SELECT b FROM t ORDER BY b").column("b").to_pylist() == [20, 30]
    assert engine.tables() == ["t"]  # no working table left behind


def _batch(batch_id: str, ids: list[str], names: list[str], bad: list[str]) -> Standardised:
    n = len(ids)
    records = pa.table(
        {
            "source": ["births"] * n,
            "record_id": ids,
            "row_number": pa.array(range(1, n + 1), pa.int64()),
            "batch_id": [batch_id] * n,
            "first_name": names,
            "date_of_birth": pa.array([D(2023, 1, 1 + i) for i in range(n)], pa.date32()),
            "nhs_number_valid": [True] * n,
            "flags": pa.array([["postcode_invalid"]] + [[]] * (n - 1), pa.list_(pa.string())),
        }
    )
    quarantine = pa.table(
        {
            "source": ["births"] * len(bad),
            "row_number": pa.array([n + 1 + i for i in range(len(bad))], pa.int64()),
            "record_id": bad,
            "batch_id": [batch_id] * len(bad),
            "reasons": pa.array([["missing_date_of_birth"]] * len(bad), pa.list_(pa.string())),
            "raw": ["{}"] * len(bad),
        }
    )
    return Standardised("births", batch_id, "births.csv", n + len(bad), records, quarantine)


def test_ingest_batches_load_once_replace_by_id_and_roll_back(engine: Engine) -> None:
    # a killed load must leave nothing behind: in a transaction, or (no transactions: Spark)
    # staged and swapped in with the batch row written last (ingest/store.py)
    first = load_batch(engine, _batch("b1", ["1", "2"], ["Ann", "Bo"], ["3"]))
    assert (first.status, first.rows_loaded, first.rows_quarantined) == ("loaded", 2, 1)
    again = load_batch(engine, _batch("b1", ["1", "2"], ["Ann", "Bo"], ["3"]))
    assert again.status == "already_loaded"
    # a later extract carries record 2 again (renamed) and a new record 4
    load_batch(engine, _batch("b2", ["2", "4"], ["Bea", "Di"], []))
    rows = engine.query("SELECT record_id, first_name, flags FROM records ORDER BY record_id")
    assert rows.to_pylist() == [
        {"record_id": "1", "first_name": "Ann", "flags": ["postcode_invalid"]},
        {"record_id": "2", "first_name": "Bea", "flags": ["postcode_invalid"]},
        {"record_id": "4", "first_name": "Di", "flags": []},
    ]
    q = engine.query("SELECT record_id, reasons FROM quarantine").to_pylist()
    assert q == [{"record_id": "3", "reasons": ["missing_date_of_birth"]}]
    assert "interpreter_needed" in engine.columns("records")

    def boom(step: str) -> None:
        if step == "records":
            raise RuntimeError("killed mid-load")

    with pytest.raises(RuntimeError, match="mid-load"):
        load_batch(engine, _batch("b3", ["5"], ["Eve"], []), hook=boom)
    n = engine.query("SELECT count(*) AS n FROM records").column("n").to_pylist()
    assert n == [3]
    batches = engine.query("SELECT batch_id FROM ingest_batches ORDER BY batch_id")
    assert batches.column("batch_id").to_pylist() == ["b1", "b2"]


def test_a_staged_load_stopped_before_its_batch_row_is_finished_by_loading_it_again(
    engine: Engine,
) -> None:
    """The route without transactions (ingest.store.load_batch_staged, Spark's), on every engine:
    a load stopped after the records were swapped in but before the batch row (the commit
    marker) is loaded again whole, and the store holds the batch once."""
    load_staged(engine, _batch("b1", ["1", "2"], ["Ann", "Bo"], ["3"]), lambda _s: None, None)

    def stop(step: str) -> None:
        if step == "replaced":
            raise RuntimeError("stopped before the marker")

    b2 = _batch("b2", ["2", "4"], ["Bea", "Di"], ["5"])
    with pytest.raises(RuntimeError, match="marker"):
        load_staged(engine, b2, stop, None)
    assert engine.query("SELECT batch_id FROM ingest_batches").column(0).to_pylist() == ["b1"]
    again = load_staged(engine, b2, lambda _s: None, None)
    assert (again.status, again.rows_loaded, again.rows_quarantined) == ("loaded", 2, 1)
    rows = engine.query("SELECT record_id, first_name FROM records ORDER BY record_id")
    assert rows.to_pylist() == [
        {"record_id": "1", "first_name": "Ann"},
        {"record_id": "2", "first_name": "Bea"},
        {"record_id": "4", "first_name": "Di"},
    ]
    q = engine.query("SELECT record_id, batch_id FROM quarantine ORDER BY record_id")
    assert q.to_pylist() == [
        {"record_id": "3", "batch_id": "b1"},
        {"record_id": "5", "batch_id": "b2"},
    ]
    batches = engine.query("SELECT batch_id FROM ingest_batches ORDER BY batch_id")
    assert batches.column(0).to_pylist() == ["b1", "b2"]
    assert not [t for t in engine.tables() if t.startswith("_ingest")]


def _records() -> pa.Table:
    """Five records, four identities: rows 1 and 2 are the same identity (a register
    repeating a child); row 3 differs only by an invalid NHS number, which becomes NULL
    and so differs from row 1's valid one; row 5 has an invalid postcode (NULLed)."""
    return pa.table(
        {
            "source": ["reg", "reg", "hv", "hv", "hv"],
            "record_id": ["r1", "r2", "h1", "h2", "h3"],
            "nhs_number": ["9434765919", "9434765919", "9434765919", None, None],
            "nhs_number_valid": [True, True, False, False, False],
            "first_name_match": ["BOBBY", "BOBBY", "BOBBY", "ANN", ""],
            "last_name_match": ["LI", "LI", "LI", "NG", "NG"],
            "date_of_birth": pa.array([D(2023, 4, 5)] * 3 + [D(2022, 12, 31)] * 2, pa.date32()),
            "sex": ["male", "male", "male", "F", "female"],
            "postcode": ["L36 9YA"] * 4 + ["NFA"],
            "postcode_valid": [True, True, True, True, False],
            "postcode_sector": ["L36 9"] * 5,
            "postcode_district": ["L36"] * 5,
            "parent_first_name_match": ["ROBERT", "ROBERT", "ROBERT", None, None],
            "parent_last_name_match": ["LI", "LI", "LI", None, None],
        }
    )


def test_identity_collapse_is_the_same_on_every_engine(engine: Engine) -> None:
    engine.write_table("records", _records())
    n = prepare_identities(engine, {"BOBBY": "ROBERT"})
    assert n == 4
    ids = engine.query(
        f"SELECT unique_id, first_name_match, first_name_canonical, parent_first_name_canonical,"
        f" sex, postcode, dob_year, dob_month, dob_day, dob_text, n_records"
        f" FROM {IDENTITIES} ORDER BY unique_id"
    ).to_pylist()
    # DENSE_RANK over the identity fields, NULLs last: NHS NULL sorts after the valid one
    assert ids == [
        {
            "unique_id": 1,
            "first_name_match": "BOBBY",
            "first_name_canonical": "ROBERT",
            "parent_first_name_canonical": "ROBERT",
            "sex": "male",
            "postcode": "L36 9YA",
            "dob_year": 2023,
            "dob_month": 4,
            "dob_day": 5,
            "dob_text": "2023-04-05",
            "n_records": 2,
        },
        {
            "unique_id": 2,
            "first_name_match": "ANN",
            "first_name_canonical": "ANN",
            "parent_first_name_canonical": None,
            "sex": None,
            "postcode": "L36 9YA",
            "dob_year": 2022,
            "dob_month": 12,
            "dob_day": 31,
            "dob_text": "2022-12-31",
            "n_records": 1,
        },
        {
            "unique_id": 3,
            "first_name_match": "BOBBY",
            "first_name_canonical": "ROBERT",
            "parent_first_name_canonical": "ROBERT",
            "sex": "male",
            "postcode": "L36 9YA",
            "dob_year": 2023,
            "dob_month": 4,
            "dob_day": 5,
            "dob_text": "2023-04-05",
            "n_records": 1,
        },
        {
            "unique_id": 4,
            "first_name_match": None,
            "first_name_canonical": None,
            "parent_first_name_canonical": None,
            "sex": "female",
            "postcode": None,
            "dob_year": 2022,
            "dob_month": 12,
            "dob_day": 31,
            "dob_text": "2022-12-31",
            "n_records": 1,
        },
    ]
    fan = engine.query(
        f"SELECT source, record_id, identity_id FROM {RECORD_IDENTITY} ORDER BY source, record_id"
    ).to_pylist()
    assert [(r["record_id"], r["identity_id"]) for r in fan] == [
        ("h1", 3),
        ("h2", 2),
        ("h3", 4),
        ("r1", 1),
        ("r2", 1),
    ]


def test_contact_details_choose_the_same_record_on_every_engine(engine: Engine) -> None:
    engine.write_table(
        "links",
        pa.table(
            {
                "source": ["a", "b", "a", "b"],
                "record_id": ["1", "1", "2", "2"],
                "person_id": ["P-1", "P-1", "P-2", "P-3"],
            }
        ),
    )
    n = 4
    engine.write_table(
        "records",
        pa.table(
            {
                "source": ["a", "b", "a", "b"],
                "record_id": ["1", "1", "2", "2"],
                "first_name": ["Old", "New", "Cy", "Di"],
                "last_name": ["Li"] * n,
                "date_of_birth": pa.array([D(2023, 1, 1)] * n, pa.date32()),
                "parent_first_name": [None] * n,
                "parent_last_name": [None] * n,
                "address": ["1 Old Rd", "2 New St", None, "3 O'Hare Way"],
                "postcode": ["L36 9YA", "L36 9YB", None, None],
                "event_date": pa.array(
                    [D(2024, 1, 1), D(2024, 6, 1), D(2024, 2, 2), None], pa.date32()
                ),
            }
        ),
    )
    got = contact_details(engine, ["P-1", "P-2", "P-9", "x'); DROP TABLE links; --"])
    picked = got[["person_id", "first_name", "address", "contact_source", "contact_as_of"]]
    # P-1: both records have an address, the most recent event wins; P-2 has no address
    # but is the only record; P-9 is unknown
    assert picked.to_dict("records") == [
        {
            "person_id": "P-1",
            "first_name": "New",
            "address": "2 New St",
            "contact_source": "b",
            "contact_as_of": "2024-06-01",
        },
        {
            "person_id": "P-2",
            "first_name": "Cy",
            "address": "",
            "contact_source": "a",
            "contact_as_of": "2024-02-02",
        },
    ]
    assert engine.has_table("links")


def test_linkage_quality_inputs_are_the_same_on_every_engine(engine: Engine) -> None:
    from everyfamily.linkage.estimated_quality import read_inputs

    engine.write_table(
        "pairs",
        pa.table(
            {
                "unique_id_l": pa.array([1, 1], pa.int64()),
                "unique_id_r": pa.array([2, 3], pa.int64()),
                "match_probability": [0.99, 0.4],
            }
        ),
    )
    engine.write_table(
        "ids",
        pa.table({"unique_id": pa.array([1, 2, 3], pa.int64()), "postcode": ["A", "A", None]}),
    )
    engine.write_table(
        "rid",
        pa.table(
            {
                "source": ["s", "s", "s", "t"],
                "record_id": ["1", "2", "3", "4"],
                "identity_id": pa.array([1, 2, 3, 3], pa.int64()),
            }
        ),
    )
    engine.write_table(
        "recs",
        pa.table(
            {
                "source": ["s", "s", "s", "t"],
                "record_id": ["1", "2", "3", "4"],
                "sex": ["female", "F", None, "male"],
                "main_language": [" Polish ", "", None, None],
            }
        ),
    )
    pairs, values = read_inputs(
        engine,
        pairs_table="pairs",
        identities_table="ids",
        record_identity_table="rid",
        records_table="recs",
    )
    assert pairs.sort_values("unique_id_r")["moved"].tolist() == ["no", "unknown"]
    got = sorted(
        (int(r.identity_id), r.dimension, r.group_value) for r in values.itertuples(index=False)
    )
    # trimmed text; '' and NULL are unknown; 'F' is not a sex code (unknown)
    assert got == [
        (1, "main_language", "Polish"),
        (1, "sex", "female"),
        (2, "main_language", "unknown"),
        (2, "sex", "unknown"),
        (3, "main_language", "unknown"),
        (3, "sex", "male"),
    ]

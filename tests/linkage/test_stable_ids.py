"""The id carry-forward rule on hand-made clusters (exact ids and events)."""

from __future__ import annotations

import pandas as pd

from everyfamily.linkage.stable_ids import IdEvent, resolve_stable_ids


def _cur(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [("s", rid, c) for rid, c in rows], columns=["source", "record_id", "cluster"]
    )


def _prev(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([("s", rid, i) for rid, i in rows], columns=["source", "record_id", "id"])


def mint(source: str, record_id: str, attempt: int) -> str:
    return f"NEW-{record_id}" + (f"-{attempt}" if attempt else "")


def test_first_run_mints_from_founding_record() -> None:
    res = resolve_stable_ids(_cur([("r2", 1), ("r1", 1), ("r3", 2)]), _prev([]), mint)
    assert res.ids == {1: "NEW-r1", 2: "NEW-r3"}
    assert res.events == (IdEvent("new", "NEW-r1", (), 2), IdEvent("new", "NEW-r3", (), 1))


def test_unchanged_and_joining_records_keep_ids() -> None:
    prev = _prev([("r1", "P-A"), ("r2", "P-A"), ("r3", "P-B")])
    res = resolve_stable_ids(_cur([("r1", 7), ("r2", 7), ("r4", 7), ("r3", 8)]), prev, mint)
    assert res.ids == {7: "P-A", 8: "P-B"}
    assert res.events == ()


def test_merge_keeps_the_id_most_members_held_and_records_it() -> None:
    prev = _prev([("r1", "P-B"), ("r2", "P-B"), ("r3", "P-A")])
    res = resolve_stable_ids(_cur([("r1", 1), ("r2", 1), ("r3", 1)]), prev, mint)
    assert res.ids == {1: "P-B"}  # two members held P-B, one held P-A
    assert res.events == (IdEvent("merge", "P-B", ("P-A",), 3),)


def test_merge_tie_goes_to_the_smallest_id() -> None:
    prev = _prev([("r1", "P-B"), ("r2", "P-A")])
    res = resolve_stable_ids(_cur([("r1", 1), ("r2", 1)]), prev, mint)
    assert res.ids == {1: "P-A"}
    assert res.events == (IdEvent("merge", "P-A", ("P-B",), 2),)


def test_split_keeps_id_where_most_members_went_and_mints_the_rest() -> None:
    prev = _prev([("r1", "P-A"), ("r2", "P-A"), ("r3", "P-A")])
    res = resolve_stable_ids(_cur([("r1", 1), ("r2", 2), ("r3", 2)]), prev, mint)
    assert res.ids == {2: "P-A", 1: "NEW-r1"}
    assert res.events == (IdEvent("split", "P-A", ("NEW-r1",), 3),)


def test_resolution_is_deterministic_under_row_order() -> None:
    prev = _prev([("r1", "P-A"), ("r2", "P-A"), ("r3", "P-B"), ("r4", "P-B")])
    rows = [("r1", 1), ("r3", 1), ("r2", 2), ("r4", 2), ("r5", 3)]
    a = resolve_stable_ids(_cur(rows), prev, mint)
    b = resolve_stable_ids(_cur(list(reversed(rows))), prev, mint)
    assert a == b
    # clusters 1 and 2 each hold one P-A and one P-B: P-A (smaller id) goes to the cluster
    # with the smaller founding record (r1), P-B to the other
    assert a.ids == {1: "P-A", 2: "P-B", 3: "NEW-r5"}


def test_colliding_new_id_is_reminted_deterministically() -> None:
    prev = _prev([("old", "NEW-r1")])  # an id already held by a record elsewhere
    res = resolve_stable_ids(_cur([("r1", 1)]), prev, mint)
    assert res.ids == {1: "NEW-r1-1"}


def test_the_fast_minter_makes_the_same_pseudonyms() -> None:
    from everyfamily.privacy.pseudonyms import pseudonym, pseudonym_maker

    key = b"test-key-0123456789abcdef"
    make = pseudonym_maker(key, "P")
    for parts in (("person", "births", "B1"), ("person", "hv", "Zoë-7", "2"), ("x",)):
        assert make(*parts) == pseudonym(key, *parts, prefix="P")
    assert make("a", "bc") != make("ab", "c")

"""End to end on real DuckDB + Splink: planted cases inside a seeded synthetic population."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.config import LinkageSettings
from everyfamily.errors import LinkageError
from everyfamily.linkage.quality import evaluate_against_truth
from everyfamily.schema import LINKS_COLUMNS

from .helpers import SENTINEL, population, record, run_link, table

S = SENTINEL
PLANTED = [
    # a nickname pair (JW of WILLIAM/BILLY is low: only the nickname list links them)
    record("attendances", "N1", "William", S, "2023-02-14", sex="male"),
    record("registrations", "N2", "Billy", S, "2023-02-14", sex="male"),
    # a day/month swap, another household
    record(
        "attendances",
        "D1",
        "Ophelia",
        S,
        "2022-03-07",
        postcode="L34 9ZY",
        parent_first="Gwendolyn",
        address="2 Sentinel Row",
    ),
    record(
        "registrations",
        "D2",
        "Ophelia",
        S,
        "2022-07-03",
        postcode="L34 9ZY",
        parent_first="Gwendolyn",
        address="2 Sentinel Row",
    ),
    # twins (same birthday, surname, home and parent; different given names) and a sibling
    record(
        "attendances",
        "T1",
        "Amber",
        S,
        "2023-06-01",
        postcode="L33 9ZX",
        parent_first="Ruth",
        address="3 Sentinel Row",
    ),
    record(
        "registrations",
        "T2",
        "Amber",
        S,
        "2023-06-01",
        postcode="L33 9ZX",
        parent_first="Ruth",
        address="3 Sentinel Row",
    ),
    record(
        "attendances",
        "T3",
        "Jasmine",
        S,
        "2023-06-01",
        postcode="L33 9ZX",
        parent_first="Ruth",
        address="3 Sentinel Row",
    ),
    record(
        "registrations",
        "T4",
        "Jasmine",
        S,
        "2023-06-01",
        postcode="L33 9ZX",
        parent_first="Ruth",
        address="3 Sentinel Row",
    ),
    record(
        "attendances",
        "T5",
        "Oscar",
        S,
        "2021-01-20",
        sex="male",
        postcode="L33 9ZX",
        parent_first="Ruth",
        address="3 Sentinel Row",
    ),
]


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("link1")
    data = population()
    records = pa.concat_tables([data.records, table(PLANTED, data.records)])
    eng, result, links = run_link(records, out)
    yield {
        "engine": eng,
        "result": result,
        "links": links,
        "out": out,
        "data": data,
        "records": records,
    }
    eng.close()


def _ids(links: pd.DataFrame, col: str) -> dict[str, str]:
    sub = links[links["record_id"].isin([r["record_id"] for r in PLANTED])]
    return dict(zip(sub["record_id"], sub[col], strict=True))


def test_planted_cases(linked: dict[str, Any]) -> None:
    person = _ids(linked["links"], "person_id")
    family = _ids(linked["links"], "family_id")
    assert person["N1"] == person["N2"], "a nickname pair links"
    assert person["D1"] == person["D2"], "a day/month swap links"
    assert person["T1"] == person["T2"] and person["T3"] == person["T4"]
    assert person["T1"] != person["T3"], "twins stay two children"
    assert len({person["T1"], person["T3"], person["T5"]}) == 3
    assert family["T1"] == family["T3"] == family["T5"], "siblings share a family"
    assert family["N1"] != family["T1"] and family["D1"] != family["T1"]
    assert all(p.startswith("P-") and len(p) == 14 for p in person.values())
    assert all(f.startswith("F-") for f in family.values())


def test_links_cover_every_record_and_quality_on_planted_truth(linked: dict[str, Any]) -> None:
    links, data = linked["links"], linked["data"]
    assert list(links.columns) == list(LINKS_COLUMNS)
    assert len(links) == linked["records"].num_rows
    assert links["person_id"].notna().all() and links["family_id"].notna().all()
    q = evaluate_against_truth(
        links, data.truth, data.children[["child_id", "origin", "parent_sex", "moved"]]
    )
    assert q.children.pairwise.f1 >= 0.98
    assert q.children.pairwise.precision >= 0.99
    assert q.families is not None and q.families.pairwise.f1 >= 0.95
    assert {g.dimension for g in q.by_group} == {"origin", "parent_sex", "moved"}
    assert all(g.pairwise.recall >= 0.95 for g in q.by_group)


def test_outputs_and_no_person_values_outside_the_store(linked: dict[str, Any]) -> None:
    out: Path = linked["out"]
    diag = out / "linkage"
    for name in (
        "model.json",
        "match_weights.csv",
        "parameters.json",
        "summary.json",
        "cluster_sizes.csv",
        "match_weights_chart.json",
        "m_u_parameters_chart.json",
        "quality_by_group.csv",
    ):
        assert (diag / name).is_file(), name
    for f in diag.iterdir():
        assert SENTINEL.upper() not in f.read_text(encoding="utf-8").upper(), f.name
    weights = pd.read_csv(diag / "match_weights.csv")
    assert {"nhs_number", "first_name_match", "date_of_birth", "household"} <= set(
        weights["comparison"]
    )
    summary = json.loads((diag / "summary.json").read_text())
    assert summary["n_records"] == linked["records"].num_rows
    assert summary["events"]["person_new"] == summary["n_persons"]
    sizes = pd.read_csv(diag / "cluster_sizes.csv")
    person_sizes = sizes[sizes["entity"] == "person"]
    assert (person_sizes["size"] * person_sizes["clusters"]).sum() == summary["n_records"]
    assert not (out / "restricted").exists()  # identifiable outputs stay in the store
    review = linked["engine"].query("SELECT * FROM clerical_review").to_pandas()
    assert {"band", "match_probability", "same_child_yes_no"} <= set(review.columns)
    assert review.groupby("band").size().max() <= 20
    assert review["match_probability"].between(0.05, 0.99).all()
    ev = linked["engine"].query("SELECT kind, count(*) AS n FROM id_events GROUP BY kind")
    assert ev.to_pydict()["kind"] == ["new"]


def test_second_extract_keeps_ids_joins_new_records_and_reuses_model(
    linked: dict[str, Any], tmp_path: Path
) -> None:
    first = linked["links"].set_index(["source", "record_id"])["person_id"]
    extra = [
        record(
            "health_visiting",
            "X1",
            "Oscar",
            S,
            "2021-01-20",
            sex="male",
            postcode="L33 9ZX",
            parent_first="Ruth",
            address="3 Sentinel Row",
        ),
        record(
            "health_visiting",
            "X2",
            "Peregrine",
            S,
            "2024-09-09",
            sex="male",
            postcode="L31 9ZW",
            parent_first="Ada",
            address="4 Sentinel Row",
        ),
    ]
    records = pa.concat_tables([linked["records"], table(extra, linked["records"])])
    # the same store (its id_registry carries the ids) and the saved model
    settings = LinkageSettings(model_path=linked["out"] / "linkage" / "model.json")
    eng, result, links = run_link(
        records, tmp_path, run="run-2", engine=linked["engine"], settings=settings
    )
    assert result.model_source.endswith("model.json")
    second = links.set_index(["source", "record_id"])["person_id"]
    assert (second.loc[first.index] == first).all(), "known children keep their ids"
    assert second[("health_visiting", "X1")] == first[("attendances", "T5")]
    assert second[("health_visiting", "X2")] not in set(first)
    ev = eng.query("SELECT kind, id FROM id_events WHERE run = 'run-2' AND entity = 'person'")
    assert ev.to_pydict() == {"kind": ["new"], "id": [second[("health_visiting", "X2")]]}


def test_merge_and_split_against_the_registry(linked: dict[str, Any], tmp_path: Path) -> None:
    eng = linked["engine"]
    links = linked["links"].set_index("record_id")
    amber, william, oscar = (
        links.loc["T1", "person_id"],
        links.loc["N1", "person_id"],
        links.loc["T5", "person_id"],
    )
    # Last month's registry (edited): Amber's two records had two ids (now one child: merge);
    # Oscar shared William's id (now two children: split).
    eng.execute("UPDATE id_registry SET person_id = 'P-000000000000' WHERE record_id = 'T2'")
    eng.execute("UPDATE id_registry SET person_id = ? WHERE record_id IN ('T5', 'X1')", [william])
    settings = LinkageSettings(model_path=linked["out"] / "linkage" / "model.json")
    records = eng.query("SELECT * FROM records")
    _, _, new_links = run_link(records, tmp_path, run="run-3", engine=eng, settings=settings)
    got = new_links.set_index("record_id")["person_id"]
    # merge: one record each held amber's id and P-000...: tie -> the smaller id is kept
    assert got["T1"] == got["T2"] == "P-000000000000"
    # split: William's id had 2 records of William and 2 of Oscar: the tie goes to the
    # cluster with the smaller founding record (attendances N1 < attendances T5); Oscar's
    # cluster gets a fresh id minted from its founding record T5, i.e. his first-run id
    assert got["N1"] == got["N2"] == william
    assert got["T5"] == got["X1"] == oscar
    ev = eng.query(
        "SELECT kind, id, other_ids FROM id_events WHERE run = 'run-3' AND "
        "entity = 'person' ORDER BY kind"
    ).to_pylist()
    merges = [e for e in ev if e["kind"] == "merge"]
    splits = [e for e in ev if e["kind"] == "split"]
    assert merges == [{"kind": "merge", "id": "P-000000000000", "other_ids": [amber]}]
    assert len(splits) == 1 and splits[0]["id"] == william
    assert splits[0]["other_ids"] == [oscar]


def test_missing_saved_model_is_a_linkage_error(tmp_path: Path) -> None:
    data = population(600, seed=3)
    with pytest.raises(LinkageError, match="saved linkage model was not found"):
        run_link(
            data.records, tmp_path, settings=LinkageSettings(model_path=tmp_path / "absent.json")
        )

"""A monthly run reuses the previous run's linkage model (linkage.reuse_previous_model),
retrains it every linkage.retrain_every_runs runs, and never when the settings the model
depends on changed (id_registry.reused_model, on hand-made run folders)."""

from __future__ import annotations

import json
from pathlib import Path

from everyfamily.config import LinkageSettings
from everyfamily.linkage.id_registry import model_fingerprint, reused_model


def _run(folder: Path, reuse: dict | None, model: bool = True) -> Path:
    (folder / "linkage").mkdir(parents=True)
    if model:
        (folder / "linkage" / "model.json").write_text("{}", encoding="utf-8")
    linkage = {} if reuse is None else {"model_reuse": reuse}
    (folder / "run.json").write_text(json.dumps({"linkage": linkage}), encoding="utf-8")
    return folder


def test_no_previous_run_or_an_own_model_decides_nothing(tmp_path: Path) -> None:
    settings = LinkageSettings()
    assert reused_model(settings, None) == (settings, {})
    own = LinkageSettings(model_path=tmp_path / "m.json")
    assert reused_model(own, _run(tmp_path / "prev", None)) == (own, {})


def test_the_previous_models_is_reused_and_its_age_counted(tmp_path: Path) -> None:
    settings = LinkageSettings()
    prev = _run(
        tmp_path / "prev", {"reused": True, "age": 2, "fingerprint": model_fingerprint(settings)}
    )
    used, record = reused_model(settings, prev)
    assert used.model_path == prev / "linkage" / "model.json"
    assert record["reused"] is True and record["age"] == 3
    first = _run(tmp_path / "first", None)  # a run before the setting existed: trained there
    assert reused_model(settings, first)[1]["age"] == 1


def test_retrained_after_retrain_every_runs(tmp_path: Path) -> None:
    settings = LinkageSettings(retrain_every_runs=2)
    fp = model_fingerprint(settings)
    prev = _run(tmp_path / "prev", {"reused": True, "age": 2, "fingerprint": fp})
    used, record = reused_model(settings, prev)
    assert used.model_path is None
    assert record["reused"] is False and record["age"] == 0
    assert "retrain_every_runs" in record["reason"]


def test_not_reused_when_off_missing_or_made_under_other_settings(tmp_path: Path) -> None:
    on = LinkageSettings()
    off = LinkageSettings(reuse_previous_model=False)
    prev = _run(
        tmp_path / "prev", {"reused": False, "age": 0, "fingerprint": model_fingerprint(on)}
    )
    assert reused_model(off, prev)[0].model_path is None
    no_model = _run(tmp_path / "nomodel", None, model=False)
    assert reused_model(on, no_model)[1]["reason"] == "the previous run saved no model"
    other = LinkageSettings(name_variants=False)
    used, record = reused_model(other, prev)
    assert used.model_path is None and "changed" in record["reason"]


def test_a_second_run_reuses_the_model_keeps_ids_and_says_so(tmp_path: Path) -> None:
    """Two runs of link_records as the link stage makes them: the second names the first as
    its previous run, trains nothing, keeps every unchanged record's ids (planted: the same
    records again, plus none) and records the reuse in linkage/summary.json."""
    from everyfamily.engines import open_engine
    from everyfamily.linkage.stage import link_records
    from everyfamily.linkage.synthetic import build_records

    records = build_records(1500, seed=5).records
    engine = open_engine("duckdb", path=tmp_path / "store.duckdb")
    engine.write_table("records", records)
    key = b"test-key-0123456789abcdef"
    first = link_records(engine, LinkageSettings(), key=key, out_dir=tmp_path / "a", run="a")
    (tmp_path / "a" / "run.json").write_text(
        json.dumps({"linkage": first.to_dict()}), encoding="utf-8"
    )
    ids_a = engine.query("SELECT source, record_id, person_id, family_id FROM links").to_pylist()
    settings, reuse = reused_model(LinkageSettings(), tmp_path / "a")
    second = link_records(
        engine, settings, key=key, out_dir=tmp_path / "b", run="b", model_reuse=reuse
    )
    ids_b = engine.query("SELECT source, record_id, person_id, family_id FROM links").to_pylist()
    engine.close()
    key_of = lambda r: (r["source"], r["record_id"])  # noqa: E731
    assert sorted(ids_b, key=key_of) == sorted(ids_a, key=key_of)
    assert second.events == dict.fromkeys(second.events, 0)  # nothing new, merged, split
    assert first.events["person_new"] == first.n_persons > 0
    assert second.model_source == str(tmp_path / "a" / "linkage" / "model.json")
    summary = json.loads((tmp_path / "b" / "linkage" / "summary.json").read_text("utf-8"))
    assert summary["model_reuse"]["reused"] is True and summary["model_reuse"]["age"] == 1
    assert second.timings_seconds["train"] < first.timings_seconds["train"]

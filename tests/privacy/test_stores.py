"""The two stores of a run: what goes where, encrypted, and the one audited way out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest

from everyfamily.config import PrivacySettings
from everyfamily.errors import ConfigError, EngineError, PrivacyError
from everyfamily.privacy.extract import extract_table
from everyfamily.privacy.reidentify import contact_details
from everyfamily.stores import ANALYSIS, IDENTIFIABLE, STORE_PATHS, open_stores
from everyfamily.web.auth import UserStore

NAME = "Qzvellithorne"
KEY = "stores-test-key-not-secret-0123456789"


def _privacy(tmp_path: Path, *, encrypt: bool = True, key: str = KEY) -> PrivacySettings:
    key_file = tmp_path / f"key-{len(key)}-{key[:3]}"
    key_file.write_text(key, encoding="utf-8")
    return PrivacySettings(key_file=key_file, encrypt_at_rest=encrypt)


def _fill(out: Path, privacy: PrivacySettings) -> None:
    """What a run does in miniature: identifiers in, pseudonymised rows out."""
    engine = open_stores(out, privacy)
    try:
        records = pa.table(
            {
                "source": ["births", "hv", "hv"],
                "record_id": ["B1", "H1", "H2"],
                "first_name": [NAME, NAME, "Ann"],
                "last_name": ["Smith", "Smith", "Jones"],
                "date_of_birth": pa.array([19000, 19000, 19100], pa.date32()),
                "parent_first_name": ["Mo", "Mo", None],
                "parent_last_name": ["Smith", "Smith", None],
                "address": [None, "1 High St", None],
                "postcode": ["L36 9YA", "L36 9YA", None],
                "event_date": pa.array([19001, 19300, None], pa.date32()),
            }
        )
        links = pa.table(
            {
                "source": ["births", "hv", "hv"],
                "record_id": ["B1", "H1", "H2"],
                "person_id": ["P-1", "P-1", "P-2"],
            }
        )
        with engine.zone(IDENTIFIABLE):
            engine.write_table("records", records)
            engine.write_table("links", links)
        with engine.zone(ANALYSIS):
            # a later stage reads the identifiable zone and writes pseudonymised rows
            engine.execute(
                "CREATE TABLE not_reached AS SELECT DISTINCT person_id, 'E01' AS area_code "
                "FROM links ORDER BY person_id"
            )
        assert engine.table_zone("records") == IDENTIFIABLE
        assert engine.table_zone("not_reached") == ANALYSIS
    finally:
        engine.close()
    (out / "run.json").write_text(
        '{"settings": {"privacy": ' + privacy.model_dump_json() + "}}", encoding="utf-8"
    )


def test_each_zone_gets_its_tables_and_no_file_shows_a_name(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fill(out, _privacy(tmp_path))
    ident, analysis = (out / STORE_PATHS[z] for z in (IDENTIFIABLE, ANALYSIS))
    assert ident.parent.name == "restricted" and analysis.parent == out
    for path in (ident, analysis):
        data = path.read_bytes()
        assert NAME.encode() not in data
    engine = open_stores(out, _privacy(tmp_path), zones=(ANALYSIS,), read_only=True)
    try:
        assert engine.query("SELECT person_id FROM not_reached").column(0).to_pylist() == [
            "P-1",
            "P-2",
        ]
        assert not engine.has_table("records")  # the analysis store alone has no identifiers
        # spills go next to the stores (encrypted), not to the user's working folder
        spill = engine.con.execute("SELECT current_setting('temp_directory')").fetchone()
        assert spill == (str(out / ".duckdb_tmp"),)
    finally:
        engine.close()


def test_the_same_run_unencrypted_shows_the_name(tmp_path: Path) -> None:
    # the control: the byte check above can fail
    out = tmp_path / "out"
    _fill(out, _privacy(tmp_path, encrypt=False))
    assert NAME.encode() in (out / STORE_PATHS[IDENTIFIABLE]).read_bytes()
    assert NAME.encode() not in (out / STORE_PATHS[ANALYSIS]).read_bytes()


def test_wrong_key_is_one_line_and_never_shows_a_key(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fill(out, _privacy(tmp_path))
    wrong = _privacy(tmp_path, key="another-key-entirely-0123456789")
    with pytest.raises(PrivacyError) as info:
        open_stores(out, wrong, zones=(IDENTIFIABLE,), read_only=True)
    text = info.value.one_line()
    assert "cannot open the encrypted store with this key" in text and "\n" not in text
    assert KEY not in text and "another-key" not in text
    with pytest.raises(PrivacyError, match="encrypted"):
        open_stores(out, _privacy(tmp_path, encrypt=False), zones=(ANALYSIS,), read_only=True)
    plain = tmp_path / "plain"
    _fill(plain, _privacy(tmp_path, encrypt=False))
    with pytest.raises(PrivacyError, match="written without encryption"):
        open_stores(plain, _privacy(tmp_path), zones=(ANALYSIS,), read_only=True)
    with pytest.raises(EngineError, match="no identifiable store"):
        open_stores(tmp_path / "nowhere", _privacy(tmp_path), read_only=True)


def test_reidentification_picks_the_record_with_an_address(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fill(out, _privacy(tmp_path))
    engine = open_stores(out, _privacy(tmp_path), zones=(IDENTIFIABLE,), read_only=True)
    try:
        got = contact_details(engine, ["P-1", "P-2", "P-9"]).to_dict("records")
        assert contact_details(engine, []).empty
    finally:
        engine.close()
    assert [r["person_id"] for r in got] == ["P-1", "P-2"]  # an unknown id finds nothing
    p1 = got[0]
    # P-1 has two records; only the health-visiting one has an address, and it is newer
    assert (p1["first_name"], p1["address"], p1["contact_source"]) == (NAME, "1 High St", "hv")
    assert p1["date_of_birth"] == "2022-01-08" and p1["contact_as_of"] == "2022-11-04"
    assert got[1]["address"] == "" and got[1]["first_name"] == "Ann"


def test_extract_is_audited_before_it_writes_and_refuses_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fill(out, _privacy(tmp_path))
    audit = UserStore(out / "users.sqlite")
    to = tmp_path / "nr.csv"
    n = extract_table(
        out, "not_reached", to, purpose="outreach planning, ticket 7", audit=audit, who="amy"
    )
    assert n == 2 and to.read_text(encoding="utf-8").splitlines()[1] == '"P-1","E01"'
    rows = sqlite3.connect(out / "users.sqlite").execute(
        "SELECT username, action, detail, purpose FROM audit WHERE action = 'extract'"
    )
    assert rows.fetchall() == [
        ("amy", "extract", "not_reached: 2 rows to nr.csv", "outreach planning, ticket 7")
    ]
    for table, purpose, target, message in (
        ("records", "a good long purpose", "r.csv", "not an extractable table"),
        ("not_reached", "short", "x.csv", "--purpose"),
        ("not_reached", "a good long purpose", "x.json", ".csv or .parquet"),
        ("not_reached", "a good long purpose", "nr.csv", "exists"),
        ("clerical_review", "a good long purpose", "c.csv", "no clerical_review table"),
    ):
        with pytest.raises(ConfigError, match=message):
            extract_table(out, table, tmp_path / target, purpose=purpose, audit=audit, who="x")
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "x.json").exists()

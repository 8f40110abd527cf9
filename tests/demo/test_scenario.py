"""The synthetic Knowsley scenario, checked against its own truth and the real open data."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from everyfamily.config import load_project
from everyfamily.demo import REFERENCE_DATE, Scenario, check_digit, is_valid
from everyfamily.demo.opendata_io import OPENDATA_DIR, POPULATION, POSTCODES, SCHOOLS
from everyfamily.schema import ETHNICITY_2021, QUALITY_FLAGS, QUARANTINE_REASONS

ONS = pd.read_csv(OPENDATA_DIR / POPULATION, dtype={"lsoa11_code": str})


def _children(s: Scenario) -> pd.DataFrame:
    return pd.read_csv(s.truth_dir / "children.csv", dtype=str, keep_default_na=False)


def _records(s: Scenario) -> pd.DataFrame:
    return pd.read_csv(s.truth_dir / "records.csv", dtype=str, keep_default_na=False)


def _stories(s: Scenario) -> dict:
    return json.loads(s.stories_file.read_text(encoding="utf-8"))


def _age(dob: str) -> int:
    d = dt.date.fromisoformat(dob)
    r = REFERENCE_DATE
    return r.year - d.year - ((r.month, r.day) < (d.month, d.day))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- population --------------------------------------------------------------------------------


def test_children_per_lsoa_and_single_year_match_ons_mid2020(knowsley_scenario: Scenario) -> None:
    kids = _children(knowsley_scenario)
    kids["age"] = kids["date_of_birth"].map(_age)
    got = kids.groupby(["lsoa", "age"]).size().unstack(fill_value=0)
    ons = ONS.set_index("lsoa11_code")
    assert set(got.index) == set(ons.index)  # all 98 LSOAs, none extra
    for a in range(5):
        expected = ons[f"age_{a}"]
        diff = (got[a].reindex(expected.index, fill_value=0) - expected).abs()
        assert (diff <= 0.05 * expected).all(), f"age {a}"
    total = got.sum(axis=1).reindex(ons.index)
    assert ((total - ons["age_0_4"]).abs() <= 0.05 * ons["age_0_4"]).all()
    assert len(kids) == int(ons["age_0_4"].sum()) == knowsley_scenario.n_children


def test_births_spread_over_five_cohorts(knowsley_scenario: Scenario) -> None:
    kids = _children(knowsley_scenario)
    dob = pd.to_datetime(kids["date_of_birth"])
    assert dob.min() > pd.Timestamp("2021-03-31") and dob.max() <= pd.Timestamp("2026-03-31")
    shares = kids["date_of_birth"].map(_age).value_counts(normalize=True).sort_index()
    assert list(shares.index) == [0, 1, 2, 3, 4]
    assert shares.between(0.17, 0.23).all()


def test_families_siblings_and_real_postcodes(knowsley_scenario: Scenario) -> None:
    kids = _children(knowsley_scenario)
    sizes = kids.groupby("family_id").size()
    assert sizes.max() <= 3
    assert 0.12 < (sizes >= 2).mean() < 0.4  # some families have 2-3 under-fives
    assert (kids.groupby("family_id")["lsoa"].nunique() == 1).all()
    assert (kids.groupby("family_id")["postcode"].nunique() == 1).all()
    pcs = pd.read_csv(OPENDATA_DIR / POSTCODES, dtype=str).set_index("postcode")
    assert kids["postcode"].isin(pcs.index).all()
    assert (pcs.loc[kids["postcode"], "lsoa11cd_spatial"].to_numpy() == kids["lsoa"]).all()
    # siblings are at least 11 months apart (no twins planted)
    for _, g in kids[kids["family_id"].isin(sizes[sizes > 1].index[:200])].groupby("family_id"):
        d = sorted(pd.to_datetime(g["date_of_birth"]))
        assert all((b - a).days >= 335 for a, b in itertools.pairwise(d))


def test_child_attributes_use_contract_codes(knowsley_scenario: Scenario) -> None:
    kids = _children(knowsley_scenario)
    assert set(kids["ethnicity"]) <= set(ETHNICITY_2021)
    assert set(kids["sex"]) == {"female", "male"}
    assert set(kids["parent_sex"]) == {"female", "male"}
    assert kids["nhs_number"].map(is_valid).all() and kids["nhs_number"].is_unique
    assert kids["nhs_number"].str.startswith("999").all()  # the NHS test range
    assert (kids["moved"] == "True").mean() > 0.02
    # census-shaped: mostly white British, with minorities and other languages present
    assert 0.85 < (kids["ethnicity"] == "white_british").mean() < 0.97
    assert (kids["main_language"] != "English").sum() > 100
    assert kids["origin"].nunique() == 10


# --- determinism and the project file ----------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs_and_overwrite(
    knowsley_scenario: Scenario, make_scenario
) -> None:
    again = make_scenario(seed=2026)
    assert _hashes(again.out_dir) == _hashes(knowsley_scenario.out_dir)
    # regenerate into the same folder with another seed: it overwrites cleanly and differs
    from everyfamily.demo import generate_scenario

    other = generate_scenario(again.out_dir, seed=7)
    h_other = _hashes(other.out_dir)
    assert set(h_other) == set(_hashes(knowsley_scenario.out_dir))  # no stray files
    for name in (
        "extracts/births_notifications.csv",
        "extracts/health_visiting_contacts.xlsx",
        "extracts/centre_registrations.csv",
        "extracts/centre_attendances.parquet",
        "truth/children.csv",
        "secrets/pseudonymisation.key",
    ):
        assert h_other[name] != _hashes(knowsley_scenario.out_dir)[name], name


def test_xlsx_has_fixed_timestamps(knowsley_scenario: Scenario) -> None:
    with zipfile.ZipFile(knowsley_scenario.extracts["health_visiting"]) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_project_file_validates_and_is_self_contained(knowsley_scenario: Scenario) -> None:
    project = load_project(knowsley_scenario.project_file)
    root = knowsley_scenario.out_dir.resolve()
    assert project.project.reference_date == dt.date(2026, 3, 31)
    assert any("Open Government Licence" in a for a in project.project.attribution)
    paths = [
        project.geography.small_areas.path,
        project.geography.postcode_lookup.path,
        project.population.path,
        project.sites.path,
        project.privacy.key_file,
    ]
    assert project.geography.hierarchy is not None and project.deprivation is not None
    paths += [project.geography.hierarchy.path, project.deprivation.path]
    paths += [s.path for s in project.sources]
    for p in paths:
        assert p is not None and p.is_file() and root in p.resolve().parents
    assert set(project.geography.hierarchy.levels) == {"ward", "msoa"}
    assert project.population.age_columns == {a: f"age_{a}" for a in range(5)}
    assert project.sites.illustrative is True
    text = knowsley_scenario.project_file.read_text(encoding="utf-8")
    assert "truth" not in text.replace("ground truth", "")
    # the key lives apart from the extracts and the truth
    key = project.privacy.key_file
    assert key.parent.name == "secrets" and len(key.read_text().strip()) == 64
    hier = pd.read_csv(project.geography.hierarchy.path, dtype=str)
    assert len(hier) == 98 and hier["MSOA11CD"].notna().all() and hier["WD19CD"].nunique() == 15


def test_sites_are_twelve_primary_schools_spread_out(knowsley_scenario: Scenario) -> None:
    sites = pd.read_csv(knowsley_scenario.sites_file, dtype={"school_urn": str})
    assert list(sites.columns[:5]) == ["site_id", "name", "lat", "lon", "capacity"]
    assert len(sites) == 12 and sites["site_id"].is_unique and sites["name"].is_unique
    schools = pd.read_csv(OPENDATA_DIR / SCHOOLS, dtype={"urn": str}).set_index("urn")
    placed = schools.loc[sites["school_urn"]]
    assert placed["is_primary_phase"].all()
    assert (abs(placed["lat"].to_numpy() - sites["lat"].to_numpy()) < 1e-6).all()
    assert placed["ward19nm_spatial"].nunique() >= 9  # spread across the borough's 15 wards
    assert sites["note"].str.contains("illustrative").all()


# --- the extracts, as each system writes them --------------------------------------------------


def test_births_csv_is_windows_1252_with_accented_names(knowsley_scenario: Scenario) -> None:
    raw = knowsley_scenario.extracts["births"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert any(ord(ch) > 127 for ch in text)
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert (
        df["Date of Birth"].str.fullmatch(r"\d\d/\d\d/\d{4}")
        | (df["Date of Birth"] == "")
        | df["Date of Birth"].str.contains(r"/(?:02|13)/")
    ).all()
    assert (df["NHS Number"] != "").all()  # births always carry the NHS number


def test_hv_xlsx_has_the_named_sheet(knowsley_scenario: Scenario) -> None:
    project = load_project(knowsley_scenario.project_file)
    hv = project.source("health_visiting")
    wb = openpyxl.load_workbook(knowsley_scenario.extracts["health_visiting"], read_only=True)
    assert wb.sheetnames == [hv.options.sheet]
    df = pd.read_excel(
        knowsley_scenario.extracts["health_visiting"],
        sheet_name=hv.options.sheet,
        dtype=str,
        engine="calamine",
    ).fillna("")
    assert set(hv.columns.values()) <= set(df.columns)
    kinds = df["Contact Type"].map(hv.value_maps["event_type"])
    assert set(kinds) == {"new_birth_visit", "6_8_week", "1_year", "2_year"}
    # NHS number mostly present, but not always
    assert 0.9 < (df["NHS No"] != "").mean() < 0.995
    # new birth visits: about 85% within 14 days of birth (HV 2024/25)
    nbv = df[kinds == "new_birth_visit"]
    born = pd.to_datetime(nbv["DOB"], format="%d-%b-%Y", errors="coerce")
    seen = pd.to_datetime(nbv["Contact Date"], format="%d-%b-%Y", errors="coerce")
    days = (seen - born).dt.days.dropna()
    assert 0.8 < (days <= 14).mean() < 0.9 and (days <= 30).mean() > 0.95


def test_registrations_csv_bom_semicolons_and_local_codes(knowsley_scenario: Scenario) -> None:
    raw = knowsley_scenario.extracts["registrations"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    project = load_project(knowsley_scenario.project_file)
    src = project.source("centre_registrations")
    assert src.options.delimiter == ";" and src.options.encoding == "utf-8-sig"
    df = pd.read_csv(
        knowsley_scenario.extracts["registrations"],
        sep=";",
        encoding="utf-8-sig",
        dtype=str,
        keep_default_na=False,
    )
    assert set(src.columns.values()) <= set(df.columns)
    for field in ("sex", "ethnicity", "main_language", "site"):
        values = set(df[src.columns[field]]) - {""}
        assert values <= set(src.value_maps[field]), field
    assert set(src.value_maps["ethnicity"].values()) <= set(ETHNICITY_2021)
    assert set(df["Sex"]) == {"F", "M", "U"}
    assert 0.05 < (df["NHS Number"] != "").mean() < 0.2  # centres rarely hold it
    assert any(ord(ch) > 127 for ch in "".join(df["Child Last Name"]))  # ș, ł ... kept


def test_attendances_parquet_yyyymmdd_and_mapped_venues(knowsley_scenario: Scenario) -> None:
    project = load_project(knowsley_scenario.project_file)
    src = project.source("centre_attendances")
    df = pd.read_parquet(knowsley_scenario.extracts["attendances"])
    assert len(df) > 20_000
    assert set(df["venue_code"]) <= set(src.value_maps["site"])
    ok = df["session_date"].str.fullmatch(r"20\d{6}")
    assert ok.mean() > 0.99
    births = pd.read_csv(knowsley_scenario.extracts["births"], dtype=str, encoding="cp1252")
    assert len(df) > 2 * len(births)  # attendances are the biggest extract


# --- truth of records and planted errors -------------------------------------------------------


def test_every_extract_row_is_in_the_records_truth(knowsley_scenario: Scenario) -> None:
    rec = _records(knowsley_scenario)
    project = load_project(knowsley_scenario.project_file)
    reads = {
        "births": pd.read_csv(knowsley_scenario.extracts["births"], encoding="cp1252", dtype=str),
        "health_visiting": pd.read_excel(
            knowsley_scenario.extracts["health_visiting"],
            sheet_name="HV Contacts",
            dtype=str,
            engine="calamine",
        ),
        "registrations": pd.read_csv(
            knowsley_scenario.extracts["registrations"], sep=";", encoding="utf-8-sig", dtype=str
        ),
        "attendances": pd.read_parquet(knowsley_scenario.extracts["attendances"]),
    }
    names = {
        "births": "births",
        "health_visiting": "health_visiting",
        "registrations": "centre_registrations",
        "attendances": "centre_attendances",
    }
    for key, df in reads.items():
        id_col = project.source(names[key]).columns["record_id"]
        got = rec[rec["source"] == key]
        assert list(got["record_id"]) == list(df[id_col]), key
        assert list(got["row_number"].astype(int)) == list(range(1, len(df) + 1))
    kids = _children(knowsley_scenario)
    assert set(rec["child_id"]) <= set(kids["child_id"])


def test_broken_rows_and_errors_are_present_with_contract_codes(
    knowsley_scenario: Scenario,
) -> None:
    rec = _records(knowsley_scenario)
    reasons = rec["expected_quarantine"].str.split(";").explode()
    flags = rec["expected_flags"].str.split(";").explode()
    assert set(reasons) - {""} <= set(QUARANTINE_REASONS)
    assert set(flags) - {""} <= set(QUALITY_FLAGS)
    counts = reasons.value_counts()
    for code in (
        "missing_date_of_birth",
        "invalid_date_of_birth",
        "date_of_birth_in_future",
        "date_of_birth_out_of_range",
        "missing_identity",
        "invalid_event_date",
    ):
        assert counts.get(code, 0) >= 5, code
    flag_counts = flags.value_counts()
    for code in (
        "nhs_number_invalid",
        "postcode_invalid",
        "outside_age_range",
        "event_before_birth",
    ):
        assert flag_counts.get(code, 0) >= 1, code
    errors = rec["errors"].str.split(";").explode().value_counts()
    for kind in (
        "first_name_typo",
        "nickname",
        "surname_change",
        "dob_day_month_swap",
        "nhs_number_missing",
        "nhs_number_mistyped",
        "postcode_variant",
        "postcode_malformed",
        "moved",
        "duplicate_registration",
        "accents_lost",
    ):
        assert errors.get(kind, 0) >= 5, kind
    # realistic low rates: under 1% of rows are quarantined
    assert 0.0005 < (rec["expected_quarantine"] != "").mean() < 0.01
    # malformed postcodes load with a flag; they are never a reason to quarantine
    malformed = rec["errors"].str.contains("postcode_malformed")
    bad_pc = rec[malformed & (rec["expected_quarantine"] == "")]
    assert len(bad_pc) > 0 and bad_pc["expected_flags"].str.contains("postcode_invalid").all()


def test_planted_row_faults_are_in_the_written_rows(knowsley_scenario: Scenario) -> None:
    rec = _records(knowsley_scenario).query("source == 'births'").reset_index(drop=True)
    births = pd.read_csv(
        knowsley_scenario.extracts["births"], encoding="cp1252", dtype=str, keep_default_na=False
    )
    missing = rec["expected_quarantine"] == "missing_date_of_birth"
    assert missing.sum() > 0 and (births.loc[missing, "Date of Birth"] == "").all()
    future = rec["expected_quarantine"] == "date_of_birth_in_future"
    assert (
        pd.to_datetime(births.loc[future, "Date of Birth"], format="%d/%m/%Y")
        > pd.Timestamp("2026-03-31")
    ).all()
    dup = _records(knowsley_scenario).query("source == 'registrations'")
    dup_children = dup[dup["errors"].str.contains("duplicate_registration")]["child_id"]
    per_child = dup[dup["child_id"].isin(dup_children)].groupby("child_id")["record_id"].nunique()
    assert (per_child >= 2).all()  # the same child under two record ids


def test_nhs_check_digit_helper() -> None:
    assert check_digit("943476591") == 9  # the NHS Data Dictionary's worked example 943 476 5919
    assert is_valid("9434765919") and not is_valid("9434765918") and not is_valid("94347659")
    # weights give remainder 1 -> check 10: no valid number exists
    assert check_digit("000000006") is None


def test_nicknames_list() -> None:
    from everyfamily.names import nickname_pairs, nicknames

    nick = nicknames()
    assert "Katie" in nick["Katherine"] and "Katie" in nick["Kathryn"]
    assert len(nick) >= 150 and len(nickname_pairs()) == len(set(nickname_pairs()))


def test_the_demo_key_is_readable_by_its_owner_only(knowsley_scenario: Scenario) -> None:
    import stat

    key = knowsley_scenario.out_dir / "secrets" / "pseudonymisation.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

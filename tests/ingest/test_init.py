"""`everyfamily init`: a drafted project file from the council's extracts.

Truth: the demo's hand-written project file (its four extracts must be mapped exactly as it
maps them, without being told), and hand-made extracts with other names, layouts,
encodings and date formats.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from everyfamily.cli import main
from everyfamily.config import load_project
from everyfamily.demo import Scenario
from everyfamily.ingest import guess
from everyfamily.ingest.draft import draft_sources, render_project
from everyfamily.ingest.profile import profile_source

# --- pure guesses ----------------------------------------------------------------------------


def test_header_spellings_map_to_fields() -> None:
    assert guess.normalise_header("Child_DOB") == "child dob"
    assert guess.normalise_header("childForename") == "child forename"
    assert guess.name_score("D.O.B.", "date_of_birth") == 1.0
    assert guess.name_score("Mother Forename", "parent_first_name") == 1.0
    # the mother's forename is not the child's
    assert guess.name_score("Mother Forename", "first_name") < 0.5
    assert guess.name_score("Parent/Carer Surname", "last_name") < 0.5


def test_date_format_is_the_one_that_reads_most_values() -> None:
    assert guess.guess_date_format(["03/04/2024", "25/12/2023", ""]) == ("%d/%m/%Y", 1.0)
    # only a month-first reading fits 12/25
    assert guess.guess_date_format(["12/25/2023", "01/30/2024"]) == ("%m/%d/%Y", 1.0)
    assert guess.guess_date_format(["20240131", "20231201"]) == ("%Y%m%d", 1.0)
    fmt, share = guess.guess_date_format(["2024-01-31", "not a date", "2024-02-01", "x"])
    assert (fmt, share) == ("%Y-%m-%d", 0.5)
    assert guess.guess_date_format(["abc", "def"]) == (None, 0.0)


def test_value_shapes_veto_a_misleading_name() -> None:
    # a column named like a date of birth that holds no dates is not the date of birth
    cols = ["DOB", "Born"]
    samples = {"DOB": ["n/a", "see notes", "n/a"], "Born": ["01/02/2023", "05/06/2022", ""]}
    guesses, _ = guess.guess_columns(cols, samples, fields=("date_of_birth",))
    assert guesses[0].column == "Born"


def test_site_values_match_ids_names_and_near_names() -> None:
    ids, names = ["S1", "S2", "S3"], ["Oak Tree Family Hub", "Riverside Centre", "Hilltop"]
    got = guess.match_sites(
        ["s1", "Riverside Centre", "Oak Tree Family Hub.", "Elsewhere"], ids, names
    )
    assert got == {
        "Elsewhere": None,
        "Oak Tree Family Hub.": "S1",
        "Riverside Centre": "S2",
        "s1": "S1",
    }


# --- a council whose files the demo never wrote --------------------------------------------


def _synthetic_nhs(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)


FIRST = ["Amelia", "Oliver", "Zofia", "Ionut", "Aisha", "Kwame", "Ruby", "Leo", "Maja", "Omar"]
LAST = ["Smith", "Nowak", "Popescu", "Khan", "Mensah", "Jones", "Brown", "Kowalska", "Ali"]
POSTCODES = ["L36 9XA", "L34 2RE", "L28 1AB", "L32 0TQ", "L35 3SZ"]


def _children(n: int, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    born = [dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(1400)) for _ in range(n)]
    return pd.DataFrame(
        {
            "first": [rng.choice(FIRST) for _ in range(n)],
            "last": [rng.choice(LAST) for _ in range(n)],
            "born": born,
            "sex": [rng.choice(["Girl", "Boy"]) for _ in range(n)],
            "nhs": [_synthetic_nhs(rng) for _ in range(n)],
            "postcode": [rng.choice(POSTCODES) for _ in range(n)],
            "venue": [rng.choice(["Oak Tree Family Hub", "Riverside Centre"]) for _ in range(n)],
        }
    )


@pytest.fixture(scope="module")
def council_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("council")
    kids = _children(120)
    # a tab-delimited Windows-1252 file with dotted dates and run-together headers
    hv = pd.DataFrame(
        {
            "ContactRef": [f"HV{i:05d}" for i in range(len(kids))],
            "NHSNo": kids["nhs"],
            "ChildForename": kids["first"],
            "ChildSurname": kids["last"],
            "BirthDate": [d.strftime("%d.%m.%Y") for d in kids["born"]],
            "Gender": kids["sex"],
            "PCode": kids["postcode"],
            "VisitDate": [(d + dt.timedelta(days=12)).strftime("%d.%m.%Y") for d in kids["born"]],
            "VisitType": "Primary birth visit",
        }
    )
    hv_path = folder / "HV extract Q3.txt"
    hv.to_csv(hv_path, sep="\t", index=False, encoding="cp1252")
    # a workbook whose first sheet is notes; registrations on the second
    reg = pd.DataFrame(
        {
            "Unique ID": range(1, len(kids) + 1),
            "Forename(s)": kids["first"],
            "Family Name": kids["last"],
            "D.O.B.": [d.strftime("%d %b %Y") for d in kids["born"]],
            "Post code": kids["postcode"],
            "Family Hub": kids["venue"],
            "Date Registered": "03 Mar 2025",
            "Mum's forename": "Anna",
        }
    )
    reg_path = folder / "hub_register.xlsx"
    with pd.ExcelWriter(reg_path) as xl:
        pd.DataFrame({"About": ["Exported from the hub system"]}).to_excel(
            xl, sheet_name="Read me", index=False
        )
        reg.to_excel(xl, sheet_name="Registrations", index=False)
    return {"hv": hv_path, "reg": reg_path}


def test_unseen_layouts_are_mapped(council_files: dict[str, Path]) -> None:
    drafted = {
        d.path.name: d
        for d in draft_sources(
            list(council_files.values()),
            sites=(["OT", "RS"], ["Oak Tree Family Hub", "Riverside Centre"]),
        )
    }
    hv = drafted["HV extract Q3.txt"]
    assert hv.options == {"encoding": "utf-8", "delimiter": "\t"}  # ASCII-only text reads as UTF-8
    assert hv.guess.role == "health_visiting"
    assert hv.guess.columns == {
        "record_id": "ContactRef",
        "nhs_number": "NHSNo",
        "first_name": "ChildForename",
        "last_name": "ChildSurname",
        "date_of_birth": "BirthDate",
        "sex": "Gender",
        "postcode": "PCode",
        "event_date": "VisitDate",
        "event_type": "VisitType",
    }
    assert hv.guess.date_formats["date_of_birth"] == ("%d.%m.%Y", 1.0)

    reg = drafted["hub_register.xlsx"]
    assert reg.options == {"sheet": "Registrations"}
    assert reg.guess.role == "registrations"
    assert reg.guess.columns == {
        "record_id": "Unique ID",
        "first_name": "Forename(s)",
        "last_name": "Family Name",
        "date_of_birth": "D.O.B.",
        "postcode": "Post code",
        "parent_first_name": "Mum's forename",
        "event_date": "Date Registered",
        "site": "Family Hub",
    }
    assert reg.guess.date_formats["date_of_birth"] == ("%d %b %Y", 1.0)
    assert {v: sid for v, (sid, _) in reg.site_map.items()} == {
        "Oak Tree Family Hub": "OT",
        "Riverside Centre": "RS",
    }


def test_drafted_file_carries_no_personal_values(
    council_files: dict[str, Path], tmp_path: Path
) -> None:
    drafted = draft_sources(list(council_files.values()))
    text = render_project(drafted, tmp_path / "project.yaml", None)
    kids = _children(120)
    for value in [*FIRST, *LAST, *POSTCODES, *kids["nhs"].head(20)]:
        assert value not in text
    yaml.safe_load(text)  # the draft is valid YAML


# --- the demo's four extracts, without being told ---------------------------------------------


@pytest.fixture(scope="module")
def drafted_demo(knowsley_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a private copy: the shared scenario folder is read, never written (tests/conftest.py)
    folder = tmp_path_factory.mktemp("drafted") / "scenario"
    shutil.copytree(knowsley_scenario.project_file.parent, folder)
    out = folder / "drafted.yaml"
    files = sorted((folder / "extracts").iterdir())
    argv = ["init", *map(str, files), "--out", str(out)]
    assert main([*argv, "--base", str(folder / knowsley_scenario.project_file.name)]) == 0
    return out


def test_init_maps_the_demo_extracts_as_the_hand_written_project_does(
    knowsley_scenario: Scenario, drafted_demo: Path
) -> None:
    hand = {s.path.name: s for s in load_project(knowsley_scenario.project_file).sources}
    drafted = {s.path.name: s for s in load_project(drafted_demo).sources}
    assert set(drafted) == set(hand)
    for name, want in hand.items():
        got = drafted[name]
        assert got.role == want.role, name
        assert got.columns == want.columns, name
        assert got.date_formats == want.date_formats, name
        assert got.options == want.options, name
        # site values: names matched to the sites file, venue codes inferred from children
        # seen in two sources: exactly the hand-written map
        assert got.value_maps.get("site") == want.value_maps.get("site"), name


def test_drafted_demo_validates_and_loads_like_the_hand_written_one(
    knowsley_scenario: Scenario, drafted_demo: Path
) -> None:
    assert main(["validate", str(drafted_demo), "--sample-rows", "2000"]) == 0
    hand = {s.path.name: s for s in load_project(knowsley_scenario.project_file).sources}
    project = load_project(drafted_demo)
    for source in project.sources:
        kw = {"reference_date": project.project.reference_date, "sample_rows": 2000}
        got = profile_source(source, **kw)
        want = profile_source(hand[source.path.name], **kw)
        assert got.rows_loadable == want.rows_loadable, source.name
        assert dict(got.quarantine_reasons) == dict(want.quarantine_reasons), source.name


def test_init_refuses_to_overwrite(
    tmp_path: Path, council_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.yaml"
    out.write_text("keep me", encoding="utf-8")
    assert main(["init", str(council_files["hv"]), "--out", str(out)]) == 2
    assert "the file exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"

"""Field values as councils record them, through the whole standardisation, on small inline
extracts with column names, codes and layouts the Knowsley demo never produces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from everyfamily.config import Project, SourceOptions
from everyfamily.errors import ConfigError
from everyfamily.ingest.readers import read_csv
from everyfamily.ingest.standardise import Standardised, standardise

from .conftest import REFERENCE_DATE, source_dict, write_csv


def _run(
    tmp_path: Path,
    make_project: Callable[..., Project],
    header: list[str],
    rows: list[list[str]],
    **source: Any,
) -> Standardised:
    path = write_csv(tmp_path / "extract.csv", header, rows)
    project = make_project(source_dict(path, **source))
    return standardise(
        read_csv(path, SourceOptions()), project.sources[0], reference_date=REFERENCE_DATE
    )


def _by_id(std: Standardised) -> dict[str, dict[str, Any]]:
    return {r["record_id"]: r for r in std.records.to_pylist()}


def test_ethnicity_as_ons_nhs_and_dfe_record_it_without_a_value_map(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["Ref", "Given", "Family", "Born", "Ethnic Origin"]
    values = [
        "Asian, Asian British or Asian Welsh: Indian",
        "N",
        "Black/African/Caribbean/Black British: Caribbean",
        "Other ethnic group: Arab",
        "WROM",
        "Z",
        "99",
        "Not Known",
        "Polish",
    ]
    rows = [[f"r{i}", "Ada", "Moss", "2023-05-01", v] for i, v in enumerate(values)]
    std = _run(
        tmp_path,
        make_project,
        header,
        rows,
        columns={
            "record_id": "Ref",
            "first_name": "Given",
            "last_name": "Family",
            "date_of_birth": "Born",
            "ethnicity": "Ethnic Origin",
        },
        date_formats={},
    )
    got = {k: (r["ethnicity"], r["flags"]) for k, r in _by_id(std).items()}
    assert got == {
        "r0": ("asian_indian", []),
        "r1": ("black_african", []),
        "r2": ("black_caribbean", []),
        "r3": ("other_arab", []),
        "r4": ("white_roma", []),
        "r5": (None, []),  # NHS Z: not stated, missing, not unmapped
        "r6": (None, []),  # NHS 99: not known
        "r7": (None, []),
        "r8": (None, ["unmapped_value"]),  # a nationality, not an ethnic category
    }


def test_not_known_is_missing_in_every_coded_field(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    """Each coded field gets a missing-value spelling; none becomes a category, none is
    reported unmapped, and real values alongside are kept."""
    header = ["Id", "Fn", "Sn", "Dob", "Sex", "Eth", "Mum born", "Lang", "Type", "Venue", "Interp"]
    rows = [
        ["a", "Ola", "Nowak", "01/02/2023", "Not known", "Not stated", "Not known", "Unknown",
         "N/K", "Refused", "Prefer not to say"],
        ["b", "Ola", "Nowak", "01/02/2023", "-", "REFUSED", "NK", "not stated", "unknown",
         "u/k", "not recorded"],
        ["c", "Ola", "Nowak", "01/02/2023", "F", "White: Other White", "Romania", "Romanian",
         "Stay and play", "Hub 1", "Y"],
    ]  # fmt: skip
    std = _run(
        tmp_path,
        make_project,
        header,
        rows,
        columns={
            "record_id": "Id",
            "first_name": "Fn",
            "last_name": "Sn",
            "date_of_birth": "Dob",
            "sex": "Sex",
            "ethnicity": "Eth",
            "mother_country_of_birth": "Mum born",
            "main_language": "Lang",
            "event_type": "Type",
            "site": "Venue",
            "interpreter_needed": "Interp",
        },
    )
    rec = _by_id(std)
    fields = (
        "sex",
        "ethnicity",
        "mother_country_of_birth",
        "main_language",
        "event_type",
        "site",
        "interpreter_needed",
    )
    for rid in ("a", "b"):
        assert {f: rec[rid][f] for f in fields} == {
            "sex": "unknown",  # the contract's own value for a sex not recorded
            "ethnicity": None,
            "mother_country_of_birth": None,
            "main_language": None,
            "event_type": None,
            "site": None,
            "interpreter_needed": None,
        }, rid
        assert rec[rid]["flags"] == [], rid
    assert {f: rec["c"][f] for f in fields} == {
        "sex": "female",
        "ethnicity": "white_other",
        "mother_country_of_birth": "Romania",
        "main_language": "Romanian",
        "event_type": "Stay and play",
        "site": "Hub 1",
        "interpreter_needed": True,
    }


def test_a_sources_extra_missing_values_extend_the_built_in_list(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["ID", "Forename", "Surname", "DOB", "Country"]
    rows = [
        ["1", "Ana", "Pop", "01/02/2023", "Not asked yet"],
        ["2", "Ana", "Pop", "01/02/2023", "Not known"],  # built-in still applies
        ["3", "Ana", "Pop", "01/02/2023", "Moldova"],
    ]
    columns = {
        "record_id": "ID",
        "first_name": "Forename",
        "last_name": "Surname",
        "date_of_birth": "DOB",
        "mother_country_of_birth": "Country",
    }
    plain = _by_id(_run(tmp_path, make_project, header, rows, columns=columns))
    assert plain["1"]["mother_country_of_birth"] == "Not asked yet"  # a value, as given
    extended = _by_id(
        _run(
            tmp_path,
            make_project,
            header,
            rows,
            columns=columns,
            extra_missing_values=["Not asked yet"],
        )
    )
    assert [extended[k]["mother_country_of_birth"] for k in "123"] == [None, None, "Moldova"]


def test_interpreter_needed_in_its_many_forms(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["ID", "Forename", "Surname", "DOB", "Interpreter?"]
    forms = {
        "Y": True, "Yes": True, "TRUE": True, "1": True, "Interpreter required": True,
        "N": False, "no": False, "False": False, "0": False, "Not required": False,
        "": None, "Unknown": None, "Maybe": None,
    }  # fmt: skip
    rows = [[str(i), "Ali", "Khan", "01/02/2023", v] for i, v in enumerate(forms)]
    std = _run(
        tmp_path,
        make_project,
        header,
        rows,
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
            "interpreter_needed": "Interpreter?",
        },
    )
    rec = _by_id(std)
    got = {v: rec[str(i)]["interpreter_needed"] for i, v in enumerate(forms)}
    assert got == forms
    assert rec[str(list(forms).index("Maybe"))]["flags"] == ["unmapped_value"]
    # a source's map reads its own codes
    std = _run(
        tmp_path,
        make_project,
        header,
        [["1", "Ali", "Khan", "01/02/2023", "Req"]],
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
            "interpreter_needed": "Interpreter?",
        },
        value_maps={"interpreter_needed": {"Req": "yes"}},
    )
    assert std.records.column("interpreter_needed").to_pylist() == [True]


def test_placeholder_names_neither_identify_nor_count_as_names(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["Child Ref", "First", "Last", "Birth", "NHS No", "Mum First"]
    rows = [
        ["p1", "BABY", "Kowalska", "10/03/2025", "9434765919", "Marta"],  # named by NHS no
        ["p2", "Twin 1", "Obi", "10/03/2025", "", "Ngozi"],  # no name, no NHS number
        ["p3", "Baby of Ngozi Obi", "Obi", "10/03/2025", "", "Ngozi"],
        ["p4", "Amara", "Baby", "10/03/2025", "", "UNKNOWN"],  # Baby: a real family name
        ["p5", "Bebe", "Ionescu", "10/03/2025", "", "Ioana"],  # a source's own placeholder
        ["p6", "Zofia", "NK", "10/03/2025", "", "Marta"],
    ]
    std = _run(
        tmp_path,
        make_project,
        header,
        rows,
        columns={
            "record_id": "Child Ref",
            "first_name": "First",
            "last_name": "Last",
            "date_of_birth": "Birth",
            "nhs_number": "NHS No",
            "parent_first_name": "Mum First",
        },
        extra_placeholder_names=["bebe"],
    )
    rec = _by_id(std)
    assert sorted(rec) == ["p1", "p4"]
    assert rec["p1"]["first_name"] is None and rec["p1"]["first_name_match"] is None
    assert rec["p1"]["last_name"] == "Kowalska"
    assert rec["p1"]["flags"] == ["placeholder_name"]
    assert rec["p4"]["last_name"] == "Baby" and rec["p4"]["first_name"] == "Amara"
    assert rec["p4"]["parent_first_name"] is None
    assert rec["p4"]["flags"] == ["placeholder_name"]
    q = {r["record_id"]: r["reasons"] for r in std.quarantine.to_pylist()}
    assert q == {
        "p2": ["missing_identity"],
        "p3": ["missing_identity"],
        "p5": ["missing_identity"],
        "p6": ["missing_identity"],
    }


def test_constants_fill_a_field_the_export_does_not_have(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["ID", "Forename", "Surname", "DOB"]
    rows = [["1", "Jo", "Roe", "01/02/2023"], ["2", "Al", "Poe", "02/02/2023"]]
    std = _run(
        tmp_path,
        make_project,
        header,
        rows,
        role="registrations",
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
        },
        constants={"event_type": "registration", "site": "Oak Hub", "event_date": "01/04/2024"},
        date_formats={"date_of_birth": "%d/%m/%Y", "event_date": "%d/%m/%Y"},
        value_maps={"site": {"Oak Hub": "S07"}},
    )
    recs = std.records.to_pylist()
    assert [r["event_type"] for r in recs] == ["registration", "registration"]
    assert [r["site"] for r in recs] == ["S07", "S07"]
    assert [str(r["event_date"]) for r in recs] == ["2024-04-01", "2024-04-01"]
    assert [r["flags"] for r in recs] == [[], []]


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        ({"record_id": "1"}, "identifies a person or a row"),
        ({"postcode": "L1 1AA"}, "identifies a person or a row"),
        ({"event_typ": "x"}, "not a canonical field"),
        ({"sex": "F"}, "also mapped in columns"),
        ({"event_type": " "}, "is empty"),
    ],
)
def test_constants_are_validated_against_canonical_fields(
    tmp_path: Path,
    make_project: Callable[..., Project],
    constants: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_project(source_dict(tmp_path / "x.csv", constants=constants))


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        ({"ethnicity": "Martian"}, "constants.ethnicity = 'Martian' is not a recognised value"),
        ({"ethnicity": "Not stated"}, "a missing value"),
        ({"interpreter_needed": "perhaps"}, "constants.interpreter_needed"),
        ({"event_date": "April 2024"}, "is not a date in the format"),
    ],
)
def test_a_constant_that_reads_as_nothing_is_a_config_error(
    tmp_path: Path,
    make_project: Callable[..., Project],
    constants: dict[str, str],
    message: str,
) -> None:
    header = ["ID", "Forename", "Surname", "DOB", "Gender", "NHS", "Postcode"]
    with pytest.raises(ConfigError, match=message):
        _run(
            tmp_path,
            make_project,
            header,
            [["1", "Jo", "Roe", "01/02/2023", "F", "", ""]],
            constants=constants,
        )


def test_interpreter_need_reaches_the_store_even_one_made_before_the_field(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    from everyfamily.engines.base import open_engine
    from everyfamily.ingest.store import RECORDS_DDL, load_batch

    header = ["ID", "Forename", "Surname", "DOB", "Interpreter"]
    std = _run(
        tmp_path,
        make_project,
        header,
        [["1", "Ana", "Pop", "01/02/2023", "Yes"], ["2", "Tom", "Lee", "01/02/2023", "No"]],
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
            "interpreter_needed": "Interpreter",
        },
    )
    engine = open_engine("duckdb", path=tmp_path / "old.duckdb")
    old_columns = ", ".join(
        f'"{c}" {engine.dialect.type_sql(t)}'
        for c, t in RECORDS_DDL.items()
        if c != "interpreter_needed"
    )
    engine.execute(f"CREATE TABLE records ({old_columns})")  # a store from before the field
    load_batch(engine, std)
    rows = engine.query(
        "SELECT record_id, interpreter_needed FROM records ORDER BY record_id"
    ).to_pylist()
    assert rows == [
        {"record_id": "1", "interpreter_needed": True},
        {"record_id": "2", "interpreter_needed": False},
    ]
    engine.close()

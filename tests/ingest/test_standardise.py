"""The rules applied to a hand-made extract: what loads, with which flags, and what is
quarantined, with which reasons. Plus the reconciliation property on arbitrary rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everyfamily.config import Project, SourceOptions
from everyfamily.errors import ConfigError, InputError
from everyfamily.ingest.readers import RawBatch, read_csv
from everyfamily.ingest.stage import build_placer
from everyfamily.ingest.standardise import PostcodePlacer, Standardised, standardise
from everyfamily.schema import QUALITY_FLAGS, QUARANTINE_REASONS, RECORDS_COLUMNS

from .conftest import HEADER, REFERENCE_DATE, source_dict, write_csv

GOOD = ["1", "zoë", "o'BRIEN", "01/02/2024", "F", "943 476 5919", "l36 9ya"]
# (row, expected reasons) for rows that must be quarantined; (row, expected flags) otherwise.
CASES: list[tuple[list[str], tuple[str, ...], tuple[str, ...]]] = [
    (GOOD, (), ()),
    (["2", "Łukasz", "Nowak", "31/02/2024", "M", "", "L36 9YB"], ("invalid_date_of_birth",), ()),
    (["3", "Ann", "Lee", "01/02/2030", "F", "", ""], ("date_of_birth_in_future",), ()),
    (["4", "Ann", "Lee", "01/01/1990", "F", "", ""], ("date_of_birth_out_of_range",), ()),
    (["5", "Ann", "Lee", "", "F", "", ""], ("missing_date_of_birth",), ()),
    (["6", "", "", "01/01/2024", "F", "", "L36 9YA"], ("missing_identity",), ()),
    (["7", "", "", "01/01/2024", "M", "9434765919", ""], (), ()),  # identified by NHS number
    (["8", "Bo", "Li", "01/01/2024", "M", "9434765918", ""], (), ("nhs_number_invalid",)),
    (["9", "Bo", "Li", "01/01/2024", "M", "12345", ""], (), ("nhs_number_invalid",)),
    (["10", "Bo", "Li", "01/01/2024", "M", "", "NFA"], (), ("postcode_invalid",)),
    (["11", "Bo", "Li", "01/01/2024", "M", "", "SW1A 1AA"], (), ("postcode_unknown",)),
    (["12", "Bo", "Li", "01/01/2019", "M", "", ""], (), ("outside_age_range",)),
    (["", "Bo", "Li", "01/01/2024", "M", "", ""], ("missing_record_id",), ()),
    (["1", "Zoe", "O'Brien", "01/02/2024", "F", "", ""], ("duplicate_record_id",), ()),
    (GOOD, ("duplicate_row",), ()),
    (["16", "Bo", "Li", "01/01/2024", "Q", "", ""], (), ("unmapped_value",)),
    (["17", "Bo", "Li", "01/01/2024", "M", "", "L26 6ZZ"], (), ("postcode_placed_by_sector",)),
    (["18", "", "", "", "", "", ""], ("missing_date_of_birth", "missing_identity"), ()),
    (["19", "Bo", "Li", "31/03/2020", "M", "", ""], (), ("outside_age_range",)),  # 5 today
    (["20", "Bo", "Li", "01/04/2020", "M", "", ""], (), ()),  # 4 until tomorrow
]


@pytest.fixture
def outcome(tmp_path: Path, make_project: Callable[..., Project]) -> tuple[Standardised, Project]:
    path = write_csv(tmp_path / "births.csv", HEADER, [c[0] for c in CASES])
    project = make_project(source_dict(path))
    raw = read_csv(path, SourceOptions())
    std = standardise(
        raw, project.sources[0], reference_date=REFERENCE_DATE, placer=build_placer(project)
    )
    return std, project


def test_every_row_lands_with_the_expected_codes(outcome: tuple[Standardised, Project]) -> None:
    std, _ = outcome
    assert std.rows_read == len(CASES)
    assert std.rows_loaded + std.rows_quarantined == std.rows_read
    quarantined = {r["row_number"]: tuple(r["reasons"]) for r in std.quarantine.to_pylist()}
    loaded = {r["row_number"]: tuple(r["flags"]) for r in std.records.to_pylist()}
    for i, (_row, reasons, flags) in enumerate(CASES, start=1):
        if reasons:
            assert quarantined.get(i) == reasons, f"row {i}"
        else:
            assert loaded.get(i) == flags, f"row {i}"


def test_loaded_values_are_standardised(outcome: tuple[Standardised, Project]) -> None:
    std, _ = outcome
    assert std.records.column_names == list(RECORDS_COLUMNS)
    rows = {r["row_number"]: r for r in std.records.to_pylist()}
    first = rows[1]
    assert first["source"] == "births" and first["role"] == "births"
    assert first["service_type"] == "universal"
    assert first["first_name"] == "Zoë" and first["first_name_match"] == "ZOE"
    assert first["last_name"] == "O'Brien" and first["last_name_match"] == "OBRIEN"
    assert first["nhs_number"] == "9434765919" and first["nhs_number_valid"] is True
    assert str(first["date_of_birth"]) == "2024-02-01"
    assert first["sex"] == "female"
    assert first["postcode"] == "L36 9YA" and first["postcode_valid"] is True
    assert (first["postcode_sector"], first["postcode_district"]) == ("L36 9", "L36")
    assert first["area_code"] == "E01006481"  # from the ONS lookup row for L36 9YA
    assert first["latitude"] == pytest.approx(53.41132)
    assert first["longitude"] == pytest.approx(-2.83903)
    assert first["extra"] is None
    assert rows[8]["nhs_number"] == "9434765918" and rows[8]["nhs_number_valid"] is False
    assert rows[9]["nhs_number"] is None and rows[9]["nhs_number_valid"] is False
    assert rows[10]["postcode"] is None and rows[10]["postcode_valid"] is False
    assert rows[11]["postcode"] == "SW1A 1AA" and rows[11]["area_code"] is None
    assert rows[16]["sex"] == "unknown"
    assert rows[17]["area_code"] == "E01006420"  # every lookup postcode of L26 6 is there
    assert rows[7]["nhs_number_valid"] is True and rows[12]["nhs_number_valid"] is None


def test_quarantine_keeps_the_raw_row(outcome: tuple[Standardised, Project]) -> None:
    std, _ = outcome
    q = {r["row_number"]: r for r in std.quarantine.to_pylist()}
    raw = json.loads(q[2]["raw"])
    assert raw == dict(zip(HEADER, CASES[1][0], strict=True))
    assert q[2]["record_id"] == "2" and q[2]["source"] == "births"
    assert q[13]["record_id"] is None


def test_codes_are_in_the_contract(outcome: tuple[Standardised, Project]) -> None:
    std, _ = outcome
    for r in std.quarantine.to_pylist():
        assert set(r["reasons"]) <= set(QUARANTINE_REASONS)
    for r in std.records.to_pylist():
        assert set(r["flags"]) <= set(QUALITY_FLAGS)


def _std(
    tmp_path: Path,
    make_project: Callable[..., Project],
    header: list[str],
    rows: list[list[str]],
    **src: Any,
) -> Standardised:
    path = write_csv(tmp_path / "s.csv", header, rows)
    project = make_project(source_dict(path, **src))
    return standardise(
        read_csv(path, SourceOptions()), project.sources[0], reference_date=REFERENCE_DATE
    )


def test_value_maps_ethnicity_site_and_keep_columns(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    header = ["ID", "Forename", "Surname", "DOB", "Eth", "Centre", "When", "GP"]
    rows = [
        ["1", "A", "B", "01/01/2024", "A", "Southmead CC", "2024-06-01", "Dr X"],
        ["2", "A", "C", "01/01/2024", "Not stated", "Elsewhere", "15/05/2024", ""],
        ["3", "A", "D", "01/01/2024", "ZZ", "southmead cc", "30/02/2024", ""],
        ["4", "A", "E", "01/01/2024", "black_african", "", "01/12/2023", ""],
        ["5", "A", "F", "01/01/2024", "", "", "01/05/2025", ""],
    ]
    std = _std(
        tmp_path,
        make_project,
        header,
        rows,
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
            "ethnicity": "Eth",
            "site": "Centre",
            "event_date": "When",
        },
        date_formats={"date_of_birth": "%d/%m/%Y", "event_date": "%d/%m/%Y"},
        value_maps={"ethnicity": {"A": "white_british"}, "site": {"Southmead CC": "S01"}},
        keep_columns=["GP"],
    )
    rec = {r["record_id"]: r for r in std.records.to_pylist()}
    assert rec["1"]["ethnicity"] == "white_british" and rec["1"]["site"] == "S01"
    assert str(rec["1"]["event_date"]) == "2024-06-01"  # ISO accepted whatever the format
    assert json.loads(rec["1"]["extra"]) == {"GP": "Dr X"}
    assert json.loads(rec["2"]["extra"]) == {"GP": None}
    assert rec["2"]["ethnicity"] is None and rec["2"]["site"] == "Elsewhere"
    assert rec["2"]["flags"] == ["unmapped_value"]  # the site, not 'Not stated'
    assert rec["4"]["ethnicity"] == "black_african" and rec["4"]["flags"] == ["event_before_birth"]
    assert rec["5"]["flags"] == ["event_date_in_future"]
    q = {r["record_id"]: r["reasons"] for r in std.quarantine.to_pylist()}
    assert q == {"3": ["invalid_event_date"]}


def test_mapped_column_missing_names_it_and_lists_columns(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    with pytest.raises(InputError) as err:
        _std(
            tmp_path,
            make_project,
            ["ID", "Forename", "Surname", "Birth"],
            [["1", "a", "b", "01/01/2024"]],
            columns={
                "record_id": "ID",
                "first_name": "Forename",
                "last_name": "Surname",
                "date_of_birth": "DOB",
            },
        )
    msg = str(err.value)
    assert "\n" not in msg
    assert "s.csv: column 'DOB' (columns.date_of_birth) is not in the file" in msg
    assert "its columns are: 'ID', 'Forename', 'Surname', 'Birth'" in msg


def test_mapped_column_matches_ignoring_case_and_spaces(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    std = _std(
        tmp_path,
        make_project,
        ["id ", "FORENAME", "Surname", "dob"],
        [["1", "a", "b", "01/01/2024"]],
        columns={
            "record_id": "ID",
            "first_name": "Forename",
            "last_name": "Surname",
            "date_of_birth": "DOB",
        },
    )
    assert std.rows_loaded == 1


def test_keep_column_missing(tmp_path: Path, make_project: Callable[..., Project]) -> None:
    with pytest.raises(InputError, match="column 'GP' \\(keep_columns\\) is not in the file"):
        _std(tmp_path, make_project, HEADER, [GOOD], keep_columns=["GP"])


def test_value_map_on_unsupported_field(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    with pytest.raises(ConfigError, match=r"value_maps\.last_name is not supported"):
        _std(tmp_path, make_project, HEADER, [GOOD], value_maps={"last_name": {"a": "b"}})


def test_unreadable_rows_are_quarantined(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(GOOD) + "\n2,too,few\n", encoding="utf-8")
    project = make_project(source_dict(path))
    std = standardise(
        read_csv(path, SourceOptions()), project.sources[0], reference_date=REFERENCE_DATE
    )
    assert (std.rows_read, std.rows_loaded, std.rows_quarantined) == (2, 1, 1)
    q = std.quarantine.to_pylist()[0]
    assert q["row_number"] == 2 and q["reasons"] == ["unreadable_row"]
    assert json.loads(q["raw"]) == {"_unreadable_row": "2,too,few"}


# --- Property: every row is accounted for ----------------------------------------------------

cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "01/02/2024", "31/02/2024", "9434765919", "L36 9YA", "NFA", "1"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=7, max_size=7), min_size=1, max_size=25))
def test_every_row_is_accounted_for(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    table = pa.table({h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(HEADER)})
    raw = RawBatch("mem.csv", tuple(HEADER), table, "b" * 64)
    project_src = source_dict(None, url="sqlite://")
    from everyfamily.config import SourceSettings

    src = SourceSettings.model_validate(project_src)
    std = standardise(raw, src, reference_date=REFERENCE_DATE, placer=None)
    assert std.rows_read == len(rows)
    assert std.rows_loaded + std.rows_quarantined == len(rows)
    numbers = sorted(
        std.records.column("row_number").to_pylist()
        + std.quarantine.column("row_number").to_pylist()
    )
    assert numbers == list(range(1, len(rows) + 1))
    assert all(r["reasons"] for r in std.quarantine.to_pylist())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.lists(cell, min_size=7, max_size=7), min_size=1, max_size=15),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_csv_files_reconcile(
    tmp_path: Path, rows: list[list[str]], delim: str, encoding: str
) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(
        [HEADER, *rows]
    )
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # text cp1252 cannot hold
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    raw = read_csv(path, SourceOptions(encoding=encoding, delimiter=delim))
    from everyfamily.config import SourceSettings

    src = SourceSettings.model_validate(source_dict(path))
    std = standardise(raw, src, reference_date=REFERENCE_DATE)
    assert std.rows_read == len(rows)
    assert std.rows_loaded + std.rows_quarantined == std.rows_read


def test_placer_prefers_the_lookup(tmp_path: Path) -> None:
    import pandas as pd

    lookup = pd.DataFrame(
        {"postcode": ["L36 9YA"], "area_code": ["E01"], "latitude": [53.4], "longitude": [-2.8]}
    )
    placer = PostcodePlacer(lookup)
    hit = placer.place("L36 9YA")
    assert hit is not None and hit.area_code == "E01" and not hit.by_sector
    assert placer.place("L36 9YB") is None  # one postcode is too few to vouch for a sector


def test_a_file_without_a_header_row_never_has_its_first_record_printed(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    # The "header" pandas reads is a synthetic record: NHS number, names, date, postcode and
    # address. The error must name the file and the missing column, and show none of them.
    record = ["9434765919", "Zofia", "Kowalczyk", "01/02/2024", "L36 9YA", "12 Sentinel Road"]
    with pytest.raises(InputError) as err:
        _std(
            tmp_path,
            make_project,
            record,
            [["9434765870", "Ann", "Lee", "02/03/2024", "L36 9YB", "3 Other Street"]],
            columns={
                "record_id": "ID",
                "first_name": "Forename",
                "last_name": "Surname",
                "date_of_birth": "DOB",
            },
        )
    msg = str(err.value)
    assert "\n" not in msg
    assert "s.csv: column 'DOB' (columns.date_of_birth) is not in the file" in msg
    assert "first row looks like data, not a header row (6 columns)" in msg
    for value in record:
        assert value not in msg


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["ID", "Forename", "Surname", "Birth", "Unnamed: 4"], True),
        (["Child NHS No.", "D.O.B", "Post code", "Ethnicity (ONS 2021)"], True),
        (["9434765919", "Ann", "Lee"], False),  # NHS number
        (["ID", "Ann", "01/02/2024"], False),  # a date
        (["ID", "Ann", "L36 9YA"], False),  # a postcode
        (["ID", "12 High Street"], False),  # an address
        (["ID", "ann.lee@example.org"], False),  # an e-mail address
    ],
)
def test_what_counts_as_a_header_row(columns: list[str], expected: bool) -> None:
    from everyfamily.ingest.standardise import columns_look_like_headers

    assert columns_look_like_headers(columns) is expected

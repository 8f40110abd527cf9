"""Errors about missing columns never echo a file's data (issue 13, part 6).

A file without a header, or whose header sits below a few preamble lines, makes the reader
take a person's record (or the preamble) as the column names; the error must then say the
header row looks like data and how to fix it, without printing any of those values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from everyfamily.config import Project, SourceOptions
from everyfamily.errors import InputError
from everyfamily.ingest.readers import describe_columns, looks_like_header_name, read_csv
from everyfamily.ingest.standardise import standardise

from .conftest import HEADER, REFERENCE_DATE, source_dict, write_csv

# Synthetic person: a valid-checksum NHS number and an invented name.
NHS = "9434765919"
FORENAME, SURNAME = "Zebedee", "Quillfeather"
RECORD = ["1", FORENAME, SURNAME, "01/02/2024", "F", NHS, "L36 9YA"]


def _error(tmp_path: Path, make_project: Callable[..., Project], path: Path) -> str:
    project = make_project(source_dict(path))
    with pytest.raises(InputError) as err:
        standardise(
            read_csv(path, SourceOptions()), project.sources[0], reference_date=REFERENCE_DATE
        )
    return str(err.value)


def test_headerless_file_error_shows_no_values(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    # The first record stands where the header should be.
    path = write_csv(tmp_path / "noheader.csv", RECORD, [["2", "Ann", "Lee", "01/01/2024"]])
    msg = _error(tmp_path, make_project, path)
    assert "\n" not in msg
    assert "noheader.csv: column " in msg and "is not in the file" in msg
    assert "header row (7 columns) looks like data" in msg
    assert "skip_rows" in msg
    for value in (NHS, "943 476 5919", FORENAME, SURNAME, "01/02/2024", "L36 9YA"):
        assert value not in msg


def test_shifted_header_error_shows_no_values(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    # A preamble line above the real header; its text (with a date) becomes the header.
    path = tmp_path / "shifted.csv"
    body = write_csv(tmp_path / "body.csv", HEADER, [RECORD]).read_text()
    path.write_text(f"Extract for {FORENAME} {SURNAME} run 01/12/2024,{NHS}\n" + body)
    msg = _error(tmp_path, make_project, path)
    assert "looks like data" in msg
    for value in (NHS, FORENAME, SURNAME, "01/12/2024"):
        assert value not in msg


def test_real_header_is_still_listed() -> None:
    assert describe_columns(["ID", "Forename", "Child DOB", "NHS_No", "Post code"]) == (
        "its columns are: 'ID', 'Forename', 'Child DOB', 'NHS_No', 'Post code'"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Date of birth", True),
        ("NHS No.", True),
        ("Ward (2022)", True),
        (NHS, False),
        ("943 476 5919", False),  # no letter
        ("01/02/2024", False),
        ("L36 9YA", True),  # a postcode reads like a title; the row rule catches the record
        ("a@b.org", False),
        ("", False),
        ("x" * 41, False),
    ],
)
def test_looks_like_header_name(name: str, expected: bool) -> None:
    assert looks_like_header_name(name) is expected

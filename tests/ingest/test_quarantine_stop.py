"""A source that would be mostly quarantined stops the run (issue 13, part 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from everyfamily.config import Project, SourceOptions
from everyfamily.errors import DataError
from everyfamily.ingest.readers import read_csv
from everyfamily.ingest.stage import check_quarantined_share
from everyfamily.ingest.standardise import standardise

from .conftest import HEADER, REFERENCE_DATE, source_dict, write_csv

NHS = "9434765919"


def _rows(n_good: int, n_bad: int) -> list[list[str]]:
    good = [[str(i), "Zebedee", "Quillfeather", "01/02/2024", "F", "", ""] for i in range(n_good)]
    # 31 February: every one is an invalid date of birth.
    bad = [
        [str(100 + i), "Zebedee", "Quillfeather", "31/02/2024", "F", NHS, "L36 9YA"]
        for i in range(n_bad)
    ]
    return good + bad


def _check(tmp_path: Path, make_project: Callable[..., Project], good: int, bad: int, **kw: float):
    path = write_csv(tmp_path / "s.csv", HEADER, _rows(good, bad))
    project = make_project(source_dict(path, **kw))
    src = project.sources[0]
    std = standardise(read_csv(path, SourceOptions()), src, reference_date=REFERENCE_DATE)
    assert (std.rows_read, std.rows_quarantined) == (good + bad, bad)
    check_quarantined_share(std, src)


def test_mostly_quarantined_source_stops_with_counts_only(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    with pytest.raises(DataError) as err:
        _check(tmp_path, make_project, 1, 3)
    msg = str(err.value)
    assert "\n" not in msg
    assert "3 of 4 rows (75%) would be quarantined" in msg
    assert "max_quarantined_share 50%" in msg
    assert "invalid_date_of_birth 3" in msg
    for value in (NHS, "Zebedee", "Quillfeather", "31/02/2024", "L36 9YA"):
        assert value not in msg
    assert err.value.exit_code == 2


def test_half_quarantined_is_not_more_than_default(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    _check(tmp_path, make_project, 2, 2)  # exactly 50%: allowed


def test_share_is_configurable_per_source(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    _check(tmp_path, make_project, 1, 3, max_quarantined_share=0.8)
    with pytest.raises(DataError):
        _check(tmp_path, make_project, 3, 1, max_quarantined_share=0.2)

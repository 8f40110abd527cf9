"""``everyfamily validate`` opens the sources and prints a mapping report (issue 13, part 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from everyfamily.cli import main
from everyfamily.config import Project, load_project
from everyfamily.demo import Scenario
from everyfamily.errors import ConfigError, DataError
from everyfamily.ingest.profile import check_site_codes, profile_source
from everyfamily.ingest.readers import read_source

from .conftest import HEADER, REFERENCE_DATE, source_dict, write_csv

NHS = "9434765919"


def test_profile_counts_and_codes_only(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    rows = [
        ["1", "Zebedee", "Quillfeather", "01/02/2024", "F", NHS, ""],
        ["2", "Zebedee", "Quillfeather", "01/02/2024", "Q", "", ""],
        ["3", "Zebedee", "Quillfeather", "31/02/2024", "M", "", ""],
    ]
    path = write_csv(tmp_path / "s.csv", HEADER, rows)
    src = make_project(source_dict(path)).sources[0]
    prof = profile_source(src, reference_date=REFERENCE_DATE)
    assert (prof.rows_sampled, prof.rows_loadable) == (3, 2)
    assert prof.quarantine_reasons == {"invalid_date_of_birth": 1}
    assert prof.flags.get("unmapped_value") == 1
    assert prof.mapping["date_of_birth"] == "DOB"
    text = "\n".join(prof.lines())
    assert "2 of 3 sampled rows load (67%)" in text
    for value in (NHS, "Zebedee", "Quillfeather", "31/02/2024"):
        assert value not in text


def test_profile_samples_and_stops_on_a_wrong_date_format(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    rows = [[str(i), "Ann", "Lee", "01/02/2024", "F", "", ""] for i in range(10)]
    path = write_csv(tmp_path / "s.csv", HEADER, rows)
    src = make_project(source_dict(path)).sources[0]
    assert profile_source(src, reference_date=REFERENCE_DATE, sample_rows=4).rows_sampled == 4
    wrong = make_project(source_dict(path, date_formats={"date_of_birth": "%Y-%m-%d"}))
    with pytest.raises(DataError) as err:
        profile_source(wrong.sources[0], reference_date=REFERENCE_DATE)
    msg = str(err.value)
    assert "column 'DOB' (date_of_birth): date format '%Y-%m-%d' reads 0% of 10" in msg
    assert "set date_formats.date_of_birth: '%d/%m/%Y' (it reads 100%)" in msg
    assert "01/02/2024" not in msg


def test_validate_names_file_column_and_share_of_a_wrong_demo_date_format(
    knowsley_scenario_copy: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13, must show: a wrong births date format is exit 2, naming the file, the column
    and the share of rows that parse (the hand-written file says '%d/%m/%Y')."""
    text = knowsley_scenario_copy.project_file.read_text(encoding="utf-8")
    births = text.index("- name: births")
    wrong = text[:births] + text[births:].replace("'%d/%m/%Y'", "'%Y-%m-%d'", 1)
    bad = knowsley_scenario_copy.project_file.parent / "wrong_births_date.yaml"
    bad.write_text(wrong, encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "births_notifications.csv" in err
    assert "column 'Date of Birth' (date_of_birth): date format '%Y-%m-%d' reads 0%" in err
    assert len(err.strip().splitlines()) == 1


def test_validate_demo_prints_mapping_report(
    knowsley_scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    # its time is measured in bench/bench_onboarding.py, not asserted here (shared machines)
    code = main(["validate", str(knowsley_scenario.project_file)])
    out = capsys.readouterr().out
    assert code == 0, out
    project = load_project(knowsley_scenario.project_file)
    for source in project.sources:
        assert f"source {source.name!r}" in out
        n = min(read_source(source).rows_read, 5000)
        assert f"of {n:,} sampled rows load" in out
    assert "date_of_birth <- " in out


def test_site_map_to_unknown_id_and_unsupported_map_are_errors(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = write_csv(tmp_path / "s.csv", HEADER, [["1", "Ann", "Lee", "01/02/2024", "F", "", ""]])
    src = make_project(source_dict(path, value_maps={"site": {"Hub A": "S01"}})).sources[0]
    check_site_codes(src, frozenset({"S01", "S02"}))
    with pytest.raises(ConfigError) as err:
        check_site_codes(src, frozenset({"S02"}))
    assert "value_maps.site maps 'Hub A' to 'S01'" in str(err.value)
    bad = make_project(source_dict(path, value_maps={"first_name": {"A": "B"}})).sources[0]
    with pytest.raises(ConfigError, match=r"value_maps\.first_name is not supported"):
        profile_source(bad, reference_date=REFERENCE_DATE)


def test_a_constant_is_reported_and_not_listed_as_missing(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = write_csv(tmp_path / "s.csv", HEADER, [["1", "Ann", "Lee", "01/02/2024", "F", "", ""]])
    src = make_project(source_dict(path, constants={"event_type": "registration"})).sources[0]
    prof = profile_source(src, reference_date=REFERENCE_DATE)
    assert "event_type" not in prof.missing_fields
    assert "    event_type = 'registration' (constant)" in prof.lines()


def test_postcode_placing_flags_are_not_reported_without_the_lookup(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    rows = [["1", "Ann", "Lee", "01/02/2024", "F", "", "L36 9XA"]]
    path = write_csv(tmp_path / "s.csv", HEADER, rows)
    prof = profile_source(make_project(source_dict(path)).sources[0], reference_date=REFERENCE_DATE)
    assert "postcode_unknown" not in prof.flags  # a valid postcode, not placed by validate
    assert prof.rows_loadable == 1

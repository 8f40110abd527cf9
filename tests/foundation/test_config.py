"""The project file: valid files load; unknown, misspelt or bad keys fail naming file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from everyfamily.config import load_project, parse_project
from everyfamily.errors import ConfigError

MINIMAL = textwrap.dedent(
    """\
    project:
      name: Testshire
      reference_date: 2026-03-31
    geography:
      small_areas: {path: areas.geojson, code_column: code}
      postcode_lookup: {path: postcodes.csv, area_column: lsoa}
    population:
      path: pop.csv
      area_column: area
      age_columns: {0: age_0, 1: age_1, 2: age_2, 3: age_3, 4: age_4}
      vintage: test
    sources:
      - name: births
        role: births
        path: extracts/births.csv
        columns: {record_id: id, date_of_birth: dob, nhs_number: nhs}
      - name: library
        role: library_rhyme_time
        service_type: targeted
        path: extracts/library.xlsx
        columns: {record_id: id, date_of_birth: dob, first_name: fn, last_name: ln}
    """
)


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_project(text, filename="council.yaml")
    return str(info.value)


def test_minimal_project_loads_with_defaults() -> None:
    p = parse_project(MINIMAL)
    assert p.project.name == "Testshire"
    assert p.engagement.min_attendances == 3 and p.engagement.window_months == 12
    assert p.privacy.suppress_at_or_below == 7 and p.privacy.rounding == "midpoint6"
    assert p.source("births").kind == "universal"
    assert p.source("library").kind == "targeted"
    assert p.source("library").file_format == "excel"
    assert p.population.age_columns[4] == "age_4"


def test_relative_paths_resolve_against_the_project_folder(tmp_path: Path) -> None:
    f = tmp_path / "proj" / "council.yaml"
    f.parent.mkdir()
    f.write_text(MINIMAL, encoding="utf-8")
    p = load_project(f)
    assert p.source("births").path == (f.parent / "extracts/births.csv").resolve()
    assert p.geography.small_areas.path == (f.parent / "areas.geojson").resolve()


def test_misspelt_top_level_key_is_named_with_line_and_suggestion() -> None:
    msg = _error(MINIMAL.replace("population:", "populaton:"))
    assert msg.startswith("council.yaml, line 7: unknown setting 'populaton'")
    assert "did you mean 'population'" in msg


def test_misspelt_nested_key_in_a_list_item_names_its_line() -> None:
    text = MINIMAL.replace("    role: births\n", "    role: births\n    colums: {}\n")
    msg = _error(text)
    assert "line 15" in msg and "'sources.0.colums'" in msg and "'columns'" in msg


def test_unknown_canonical_field_in_column_map() -> None:
    msg = _error(MINIMAL.replace("nhs_number: nhs", "nhs_numbr: nhs"))
    assert "'nhs_numbr' is not a canonical field" in msg and "nhs_number" in msg
    assert "council.yaml, line 16" in msg


def test_missing_required_mapping_and_identity() -> None:
    assert "'date_of_birth' is not mapped" in _error(
        MINIMAL.replace(", date_of_birth: dob, nhs", ", nhs")
    )
    msg = _error(MINIMAL.replace(", nhs_number: nhs}", "}"))
    assert "first_name and last_name, or nhs_number" in msg


def test_custom_role_needs_a_service_type() -> None:
    msg = _error(MINIMAL.replace("    service_type: targeted\n", ""))
    assert "library_rhyme_time" in msg and "service_type" in msg


def test_bad_value_names_the_setting_and_line() -> None:
    msg = _error(MINIMAL.replace("reference_date: 2026-03-31", "reference_date: soon"))
    assert msg.startswith("council.yaml, line 3: project.reference_date:")


def test_privacy_rounding_must_be_a_known_rule() -> None:
    msg = _error(MINIMAL + "privacy:\n  rounding: nearest10\n")
    assert "privacy.rounding" in msg and "line 23" in msg


def test_duplicate_source_names_rejected() -> None:
    msg = _error(MINIMAL.replace("name: library", "name: births"))
    assert "two sources are named 'births'" in msg


def test_yaml_syntax_error_names_the_line() -> None:
    msg = _error("project:\n  name: [unclosed\n")
    assert msg.startswith("council.yaml, line")


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    assert "must be a YAML mapping" in _error("- just\n- a list\n")
    with pytest.raises(ConfigError, match="project file not found"):
        load_project(tmp_path / "nope.yaml")


def test_error_message_is_one_line() -> None:
    msg = _error(MINIMAL.replace("population:", "populaton:"))
    assert "\n" not in msg


def test_billion_laughs_and_deep_nesting_are_refused_in_one_line_quickly() -> None:
    from everyfamily.config import MAX_YAML_NODES

    # Seven levels of ten aliases each expand to 10**7 values from a dozen lines.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("project: *a7")
    with pytest.raises(ConfigError) as err:  # refused by counting, before anything expands
        parse_project("\n".join(lines), filename="bomb.yaml")
    msg = str(err.value)
    assert msg.startswith("bomb.yaml, line ") and f"more than {MAX_YAML_NODES:,} values" in msg
    assert "\n" not in msg
    deep = "project: " + "[" * 2000 + "]" * 2000
    with pytest.raises(ConfigError, match=r"deep\.yaml, .*nested .*deep"):
        parse_project(deep, filename="deep.yaml")

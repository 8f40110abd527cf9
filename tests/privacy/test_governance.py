"""Governance artefacts from the project file (data-flow register, DPIA draft)."""

from __future__ import annotations

import csv
from pathlib import Path

from everyfamily.cli import main
from everyfamily.config import parse_project

PROJECT = """
project: {name: Testshire, reference_date: 2025-03-31}
geography:
  small_areas: {path: a.geojson, code_column: code}
  postcode_lookup: {path: pc.csv, area_column: lsoa}
population: {path: pop.csv, area_column: lsoa, age_columns: {0: a0}, vintage: ONS 2020}
privacy: {suppress_at_or_below: 10, rounding: nearest5}
sources:
  - name: births
    role: births
    path: births.csv
    columns: {record_id: id, date_of_birth: dob, nhs_number: nhs, postcode: pc}
    purpose: count every child born in the borough
    lawful_basis: "UK GDPR 6(1)(e) public task; 9(2)(h) health or social care"
    retention: 2 years after the reference date
  - name: visits
    role: health_visiting
    path: hv.csv
    columns: {record_id: id, date_of_birth: dob, first_name: f, last_name: l, ethnicity: e}
"""


def test_register_and_dpia(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    parse_project(PROJECT)  # valid: the governance settings are known keys
    assert main(["governance", str(tmp_path / "project.yaml"), "--out", str(tmp_path / "g")]) == 0
    rows = list(csv.DictReader((tmp_path / "g" / "data-flow-register.csv").open()))
    assert [r["source"] for r in rows] == ["births", "visits"]
    births, visits = rows
    assert births["purpose"] == "count every child born in the borough"
    assert births["lawful_basis"].startswith("UK GDPR 6(1)(e)")
    assert births["direct_identifiers"] == "date_of_birth; nhs_number; postcode"
    assert visits["retention"] == "NOT RECORDED: the DPO to complete"
    assert "ethnicity" in visits["special_category"]
    assert "health data" in visits["special_category"]
    dpia = (tmp_path / "g" / "dpia-draft.md").read_text(encoding="utf-8")
    assert "Testshire" in dpia and "counts of 10 or fewer suppressed" in dpia
    assert "nearest5 rounding" in dpia
    # visits records none of the three
    flat = " ".join(dpia.split())
    assert "3 purpose, lawful-basis or retention entries are not recorded" in flat
    md = (tmp_path / "g" / "data-flow-register.md").read_text(encoding="utf-8")
    assert md.count("\n| births |") == 1

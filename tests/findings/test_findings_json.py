"""findings.json: the public contract, validated against docs/findings.schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd

from everyfamily.findings.model import KINDS, FindingsSettings
from everyfamily.findings.stage import run_findings
from findings.reach_tables import BOROUGH, Area, reach_table

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "findings.schema.json").read_text("utf-8")
)


def rich_table() -> pd.DataFrame:
    areas = [Area(f"A{i:02d}", 95, 57, 28, 100.0, f"Area {i}") for i in range(30)]
    areas[3] = Area("A03", 200, 40, 20, 210.0, "Low reach")
    areas[9] = Area("A09", 60, 36, 18, 150.0, "Unknown children")
    groups = [("borough", BOROUGH, "main_language", "romanian", 140, 20)]
    sites = [("S1", 800, 400), ("S2", 700, 360), ("S3", 600, 70)]
    return reach_table(areas, groups=groups, sites=sites)


def quality() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": ["ethnicity", "ethnicity"],
            "group_value": ["white_british", "white_other"],
            "recall": [0.98, 0.82],
            "n": [2500, 300],
        }
    )


def test_findings_document_validates_and_covers_every_detector() -> None:
    findings, doc = run_findings(
        rich_table(),
        settings=FindingsSettings(),
        linkage_by_group=quality(),
        generated_at="2026-01-01T00:00:00+00:00",
    )
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(doc)
    kinds = {f["kind"] for f in doc["findings"]}
    assert kinds == {
        "unreached_area",
        "unreached_group",
        "low_engagement_site",
        "unknown_population",
        "linkage_quality_gap",
    }
    assert kinds <= set(KINDS)
    assert [f["rank"] for f in doc["findings"]] == list(range(1, len(findings) + 1))
    assert len({f["id"] for f in doc["findings"]}) == len(findings)
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN anywhere


def test_counts_in_findings_json_are_released() -> None:
    findings, doc = run_findings(rich_table(), settings=FindingsSettings())
    area = next(f for f in doc["findings"] if f["kind"] == "unreached_area")
    raw = next(f for f in findings if f.kind == "unreached_area")
    assert raw.children_affected == 160
    assert area["children_affected"] == 159  # midpoint 6: 157-162 -> 159
    assert area["evidence"]["counts"]["registered"] == 39  # 40 -> 39 (37-42)
    assert area["headline"].startswith("Low reach: 201 under-fives living there, 39 registered")


def test_schema_rejects_an_unknown_kind() -> None:
    _f, doc = run_findings(rich_table(), settings=FindingsSettings())
    doc["findings"][0]["kind"] = "something_else"
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not validator.is_valid(doc)

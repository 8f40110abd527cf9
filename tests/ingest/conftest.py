"""Fixtures for the ingest tests: tiny projects written into a temp folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from everyfamily.config import Project, parse_project

OPENDATA = Path(__file__).resolve().parents[2] / "src/everyfamily/demo/opendata/knowsley"
LOOKUP = OPENDATA / "postcodes/knowsley_postcode_centroids_nspl_may2025.csv"
AREAS = OPENDATA / "boundaries/knowsley_lsoa2011_bgc.geojson"
REFERENCE_DATE = dt.date(2025, 3, 31)

#: Columns of the hand-made test extract and the project column map onto them.
COLUMN_MAP = {
    "record_id": "ID",
    "first_name": "Forename",
    "last_name": "Surname",
    "date_of_birth": "DOB",
    "sex": "Gender",
    "nhs_number": "NHS",
    "postcode": "Postcode",
}


def project_dict(tmp: Path, sources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project": {"name": "Test", "reference_date": REFERENCE_DATE.isoformat()},
        "geography": {
            "small_areas": {
                "path": str(AREAS),
                "code_column": "lsoa11cd",
                "name_column": "lsoa11nm",
            },
            "postcode_lookup": {"path": str(LOOKUP), "area_column": "lsoa11cd_spatial"},
        },
        "population": {
            "path": str(tmp / "pop.csv"),
            "area_column": "a",
            "age_columns": {0: "age_0"},
            "vintage": "test",
        },
        "sources": sources,
    }
    data.update(extra)
    return data


def source_dict(
    path: Path | str | None = None, *, name: str = "births", **kw: Any
) -> dict[str, Any]:
    src: dict[str, Any] = {
        "name": name,
        "role": kw.pop("role", "births"),
        "columns": kw.pop("columns", dict(COLUMN_MAP)),
        "date_formats": kw.pop("date_formats", {"date_of_birth": "%d/%m/%Y"}),
    }
    if path is not None:
        src["path"] = str(path)
    src.update(kw)
    return src


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """Build a validated Project from source dicts (paths are absolute)."""

    def build(*sources: dict[str, Any], **extra: Any) -> Project:
        text = yaml.safe_dump(project_dict(tmp_path, list(sources), **extra), allow_unicode=True)
        return parse_project(text, base_dir=tmp_path)

    return build


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


HEADER = ["ID", "Forename", "Surname", "DOB", "Gender", "NHS", "Postcode"]

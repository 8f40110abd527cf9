"""``sources:``: each council extract, its columns, formats and value maps."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from everyfamily.config.base import Strict, _did_you_mean
from everyfamily.schema import (
    CANONICAL_NAMES,
    CONSTANT_FIELDS,
    IDENTITY_ALTERNATIVES,
    KNOWN_ROLES,
    ServiceType,
)

FileFormat = Literal["csv", "excel", "parquet", "database"]


class SourceOptions(Strict):
    encoding: str | None = Field(
        None, description="CSV text encoding (e.g. utf-8, cp1252); detected when absent."
    )
    delimiter: str | None = Field(None, description="CSV delimiter; sniffed when absent.")
    sheet: str | None = Field(None, description="Excel sheet name; the first sheet when absent.")
    table: str | None = Field(None, description="Database table to read.")
    query: str | None = Field(None, description="Database SQL query to read (instead of table).")
    skip_rows: int = Field(0, ge=0, description="Lines to skip before the header row.")


class SourceSettings(Strict):
    name: str = Field(description="Short unique name of the source, e.g. 'births'.")
    role: str = Field(
        description="births, health_visiting, registrations, attendances, or another role "
        "(then give service_type)."
    )
    service_type: ServiceType | None = Field(
        None, description="universal or targeted; implied by the built-in roles."
    )
    max_quarantined_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Stop the run (before loading anything of this source) when more than "
        "this share of its rows would be quarantined: a wrong date format or column map, "
        "not bad data. 1.0 never stops.",
    )
    path: Path | None = Field(None, description="File to read (CSV, Excel, Parquet).")
    url: str | None = Field(
        None, description="Database connection URL (SQLAlchemy), for format 'database'."
    )
    format: FileFormat | None = Field(
        None, description="csv, excel, parquet or database; from the file name when absent."
    )
    options: SourceOptions = Field(default_factory=SourceOptions, description="Reading options.")
    columns: dict[str, str] = Field(
        description="Canonical field -> the source's column name (docs/input-contract.md)."
    )
    date_formats: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical date field -> strptime format, e.g. date_of_birth: '%d/%m/%Y'.",
    )
    value_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Canonical field -> {source value: canonical value}, e.g. sex codes, "
        "ethnicity codes onto ONS 2021, site names onto site ids.",
    )
    keep_columns: list[str] = Field(
        default_factory=list,
        description="Extra source columns to keep (stored as JSON); default none.",
    )
    constants: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical field -> one value for every row of this source, for a field "
        "the export has no column for, e.g. event_type: registration. Read like a column "
        "(value maps, date formats). Allowed: sex, mother_country_of_birth, main_language, "
        "ethnicity, interpreter_needed, event_date, event_type, site.",
    )
    extra_missing_values: list[str] = Field(
        default_factory=list,
        description="More values meaning 'not recorded' in this source's coded fields. "
        "EXTENDS the built-in list (Not known, Not stated, Unknown, Refused, N/K ...: "
        "docs/code-lists.md); it does not replace it.",
    )
    extra_placeholder_names: list[str] = Field(
        default_factory=list,
        description="More placeholder names read as missing (a trailing * matches any name "
        "starting with the words before it). EXTENDS the built-in list (BABY, UNNAMED, "
        "TWIN 1, BABY OF* ...: docs/code-lists.md); it does not replace it.",
    )
    purpose: str | None = Field(
        None,
        description="Governance: why this source is used (data-flow register, DPIA draft).",
    )
    lawful_basis: str | None = Field(
        None,
        description="Governance: the UK GDPR Article 6 (and Article 9, if health data) basis, "
        "as the council's DPO records it.",
    )
    retention: str | None = Field(
        None, description="Governance: how long extracts of this source are kept, and why."
    )

    @model_validator(mode="after")
    def _check(self) -> SourceSettings:
        unknown = sorted(set(self.columns) - set(CANONICAL_NAMES))
        if unknown:
            raise ValueError(
                f"columns: {unknown[0]!r} is not a canonical field"
                f"{_did_you_mean(unknown[0], CANONICAL_NAMES)}"
            )
        for required in ("record_id", "date_of_birth"):
            if required not in self.columns:
                raise ValueError(f"columns: the required field {required!r} is not mapped")
        if not any(all(f in self.columns for f in alt) for alt in IDENTITY_ALTERNATIVES):
            raise ValueError("columns: map first_name and last_name, or nhs_number")
        for field in self.constants:
            if field not in CANONICAL_NAMES:
                raise ValueError(
                    f"constants: {field!r} is not a canonical field"
                    f"{_did_you_mean(field, CONSTANT_FIELDS)}"
                )
            if field not in CONSTANT_FIELDS:
                raise ValueError(
                    f"constants: {field!r} identifies a person or a row and cannot be a "
                    f"constant (allowed: {', '.join(CONSTANT_FIELDS)})"
                )
            if field in self.columns:
                raise ValueError(
                    f"constants: {field!r} is also mapped in columns; keep one of the two"
                )
            if not self.constants[field].strip():
                raise ValueError(f"constants: {field!r} is empty; give a value or remove it")
        if self.role not in KNOWN_ROLES and self.service_type is None:
            raise ValueError(
                f"role {self.role!r} is not built in: give service_type universal or targeted"
            )
        if self.path is None and self.url is None:
            raise ValueError("give a path (file) or a url (database)")
        return self

    @property
    def kind(self) -> ServiceType:
        return self.service_type or KNOWN_ROLES[self.role]

    @property
    def file_format(self) -> FileFormat:
        if self.format is not None:
            return self.format
        if self.url is not None:
            return "database"
        suffix = (self.path.suffix if self.path else "").lower()
        by_suffix: dict[str, FileFormat] = {
            ".xlsx": "excel",
            ".xlsm": "excel",
            ".parquet": "parquet",
            ".pq": "parquet",
        }
        return by_suffix.get(suffix, "csv")

"""Profile each source against its settings without loading anything (``everyfamily validate``).

The profile reuses the ingest code path: :func:`readers.read_source` opens the file (any
encoding, delimiter, sheet, Parquet or database), :func:`standardise.standardise` applies the
column map, date formats and value maps to a sample of rows, and
:func:`stage.check_quarantined_share` gives the same one-line error ``run`` would. Postcodes
are not placed (no geography is loaded), so postcode flags are not profiled.

Only counts, column names and reason/flag codes are reported, never a value from a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from everyfamily.config import SourceSettings
from everyfamily.errors import ConfigError, DataError
from everyfamily.ingest import rules
from everyfamily.ingest.guess import guess_date_format
from everyfamily.ingest.readers import RawBatch, read_source
from everyfamily.ingest.stage import _counts, check_quarantined_share
from everyfamily.ingest.standardise import standardise
from everyfamily.schema import CANONICAL_NAMES

DEFAULT_SAMPLE_ROWS = 5000
#: Quality flags that need the postcode lookup, which ``validate`` does not load.
_PLACING_FLAGS = frozenset({"postcode_unknown", "postcode_placed_by_sector"})


@dataclass(frozen=True)
class SourceProfile:
    """What a sample of one source looks like once standardised (counts and codes only)."""

    name: str
    location: str
    file_format: str
    encoding: str | None
    delimiter: str | None
    rows_sampled: int
    rows_loadable: int
    mapping: Mapping[str, str]  # canonical field -> source column
    constants: Mapping[str, str]  # canonical field -> the value every row takes (settings)
    missing_fields: tuple[str, ...]  # canonical fields the source does not map
    quarantine_reasons: Mapping[str, int]
    flags: Mapping[str, int]

    def lines(self) -> list[str]:
        """The mapping report, one line per item, for the command line."""
        share = self.rows_loadable / self.rows_sampled if self.rows_sampled else 0.0
        out = [
            f"source {self.name!r} ({self.location}, {self.file_format}"
            + (f", encoding {self.encoding}" if self.encoding else "")
            + (f", delimiter {self.delimiter!r}" if self.delimiter else "")
            + f"): {self.rows_loadable:,} of {self.rows_sampled:,} sampled rows load ({share:.0%})"
        ]
        out += [f"    {field} <- {col!r}" for field, col in self.mapping.items()]
        out += [f"    {field} = {v!r} (constant)" for field, v in self.constants.items()]
        if self.quarantine_reasons:
            out.append(
                "    would quarantine: "
                + ", ".join(f"{k} {v:,}" for k, v in self.quarantine_reasons.items())
            )
        if self.flags:
            out.append("    flags: " + ", ".join(f"{k} {v:,}" for k, v in self.flags.items()))
        if self.missing_fields:
            out.append("    not in this source: " + ", ".join(self.missing_fields))
        return out


def profile_source(
    source: SourceSettings,
    *,
    reference_date: dt.date,
    min_age_years: int = 0,
    max_age_years: int = 4,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> SourceProfile:
    """Read ``source`` and standardise its first ``sample_rows`` rows; raises the same
    one-line errors as ``run`` (missing column, unreadable file, mostly quarantined)."""
    raw = read_source(source)
    if raw.rows_read > sample_rows:
        unreadable = raw.unreadable.slice(0, sample_rows) if raw.unreadable is not None else None
        raw = replace(raw, table=raw.table.slice(0, sample_rows), unreadable=unreadable)
    check_date_formats(raw, source)
    std = standardise(
        raw,
        source,
        reference_date=reference_date,
        min_age_years=min_age_years,
        max_age_years=max_age_years,
        placer=None,
    )
    check_quarantined_share(std, source)
    return SourceProfile(
        name=source.name,
        location=raw.location,
        file_format=source.file_format,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        rows_sampled=std.rows_read,
        rows_loadable=std.rows_loaded,
        mapping=dict(source.columns),
        constants=dict(source.constants),
        missing_fields=tuple(
            f for f in CANONICAL_NAMES if f not in source.columns and f not in source.constants
        ),
        quarantine_reasons=_counts(std.quarantine.column("reasons")),
        # postcodes are not placed here (no geography is loaded), so the placing flags would
        # say "unknown" of nearly every row: left out; `run` reports them
        flags={
            k: v for k, v in _counts(std.records.column("flags")).items() if k not in _PLACING_FLAGS
        },
    )


#: A date column whose format reads fewer of its non-blank values than this is a wrong
#: ``date_formats`` entry, not bad data (the run would quarantine most of the source).
MIN_DATE_SHARE = 0.5
_DATE_FIELDS = ("date_of_birth", "event_date")


def check_date_formats(raw: RawBatch, source: SourceSettings) -> None:
    """Each mapped date column must be readable with its configured format (or the default
    ones): raise a one-line error naming the file, column, format and share that parse, with
    the format that would read the values (:func:`guess.guess_date_format`). Only formats
    and shares are reported, never a value."""
    for field in _DATE_FIELDS:
        column = source.columns.get(field)
        if column is None or column not in raw.columns:
            continue  # a missing column gets its own error from standardise
        values = [v for v in raw.table.column(column).to_pylist() if v and v.strip()]
        if not values:
            continue
        fmt = source.date_formats.get(field)
        formats = (fmt,) if fmt else rules.DEFAULT_DATE_FORMATS
        share = sum(rules.parse_date(v, formats) is not None for v in values) / len(values)
        if share >= MIN_DATE_SHARE:
            continue
        better, better_share = guess_date_format(values)
        said = f"date format {fmt!r}" if fmt else "the default date formats (ISO, %d/%m/%Y)"
        hint = (
            f"set date_formats.{field}: {better!r} (it reads {better_share:.0%})"
            if better is not None and better_share > share
            else f"set date_formats.{field} to the column's strptime format"
        )
        raise DataError(
            f"source {source.name!r} ({raw.location}), column {column!r} ({field}): "
            f"{said} reads {share:.0%} of {len(values):,} sampled values",
            hint=hint,
        )


def check_site_codes(source: SourceSettings, site_ids: frozenset[str]) -> None:
    """Every target of ``value_maps.site`` must be a site id of the sites file; a typo would
    otherwise send a service's events to no site. Site ids are the council's codes, not
    personal data, so the message names the unknown one."""
    for key, target in source.value_maps.get("site", {}).items():
        if target not in site_ids:
            raise ConfigError(
                f"source {source.name!r}: value_maps.site maps {key!r} to {target!r}, "
                "which is not a site id of the sites file",
                hint="use one of the ids in the sites file's id column",
            )

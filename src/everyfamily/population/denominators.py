"""Official population denominators: small-area estimates by single year of age.

An I/O edge: reads the CSV named in the project's ``population`` block (e.g. ONS mid-2020
small-area population estimates, SAPE23DT2, on 2011 LSOAs) and returns a tidy long frame
``area_code, age, population``. Nothing downstream sees the publisher's column names.

Caveat carried into docs/measures.md: the ONS mid-2020 series is based on the 2011 Census
and published on 2011 LSOAs; it is an estimate, not a count, and for 0-4s in small areas it
can be off by more than the reach gaps being measured.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from everyfamily.config import Project
from everyfamily.errors import ConfigError, InputError
from everyfamily.population.tables import read_csv_table

if TYPE_CHECKING:
    from everyfamily.config import BirthsSettings, PopulationSettings


def _pop(settings: PopulationSettings | Project) -> PopulationSettings:
    return settings.population if isinstance(settings, Project) else settings


def _read_csv(path: Path, what: str, setting: str) -> pd.DataFrame:
    """A UTF-8 CSV as strings, with one-line errors naming the file and the setting (a
    GeoJSON, workbook ... given instead is named as such: population.tables)."""
    return read_csv_table(path, what, setting)


def _check_non_negative(
    values: pd.Series, path: str, column: str, *, expected: str, hint: str
) -> None:
    """Raise naming the first row (1-based, after the header) whose value did not parse as a
    number of 0 or more; the message shows the column, never the value."""
    bad = values.isna() | (values < 0)
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 1
        raise InputError(f"{path}, row {row}, column {column!r}: expected {expected}", hint=hint)


def load_population(settings: PopulationSettings | Project) -> pd.DataFrame:
    """Population by small area and single year of age: ``area_code``, ``age`` (int),
    ``population`` (float; the estimates are whole numbers but may be apportioned)."""
    ps = _pop(settings)
    raw = _read_csv(ps.path, "population", "population.path")
    wanted = [ps.area_column, *ps.age_columns.values()]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise InputError(
            f"{ps.path}: the population file has no column {missing[0]!r}",
            hint="fix population.area_column / population.age_columns in the project file",
        )
    frames = []
    for age, column in sorted(ps.age_columns.items()):
        text = raw[column].str.replace(",", "", regex=False).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        _check_non_negative(
            values,
            f"{ps.path}",
            column,
            expected="a count of people (a whole number of 0 or more)",
            hint="fix the value or map another column in population.age_columns",
        )
        frames.append(
            pd.DataFrame(
                {
                    "area_code": raw[ps.area_column].str.strip(),
                    "age": int(age),
                    "population": values.astype("float64"),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.groupby(["area_code", "age"], as_index=False).agg(population=("population", "sum"))


def check_ages(settings: PopulationSettings | Project, min_age: int, max_age: int) -> None:
    """Raise :class:`ConfigError` unless every age in [min_age, max_age] has a column."""
    ps = _pop(settings)
    missing = [a for a in range(min_age, max_age + 1) if a not in ps.age_columns]
    if missing:
        raise ConfigError(
            f"population.age_columns: no column for age {missing[0]}",
            hint=f"map every age from {min_age} to {max_age} (engagement.min/max_age_years)",
        )


def population_in_range(population: pd.DataFrame, min_age: int, max_age: int) -> pd.DataFrame:
    """Sum the long frame over ages min_age..max_age: ``area_code, population``."""
    sel = population[(population["age"] >= min_age) & (population["age"] <= max_age)]
    return sel.groupby("area_code", as_index=False).agg(population=("population", "sum"))


# --- vintage: how old the estimate is, and bringing it to the reference date ---------------

_MID_YEAR = re.compile(r"\bmid[- ]?(\d{4})\b", re.IGNORECASE)


@dataclass(frozen=True)
class VintageCheck:
    """How far the population estimate is from the date reach is measured on.

    ``as_at`` is the date the estimate describes (``None`` when it could not be known);
    ``how`` says where it came from ('as_at' setting, 'vintage' text, or 'unknown').
    """

    as_at: dt.date | None
    reference_date: dt.date
    how: str

    @property
    def gap_years(self) -> float | None:
        if self.as_at is None:
            return None
        return (self.reference_date - self.as_at).days / 365.25

    @property
    def shift_years(self) -> int:
        """Whole years to age the estimate's cohorts forward (nearest whole year, >= 0)."""
        gap = self.gap_years
        return max(round(gap), 0) if gap is not None else 0

    def warning(self, max_age: int = 4) -> str | None:
        """A one-line warning when the gap is over a year (or unknown), else ``None``."""
        if self.as_at is None:
            return (
                "population estimate: its date is not known (set population.as_at), so its "
                "age against the reference date cannot be checked"
            )
        gap = (self.reference_date - self.as_at).days / 365.25
        if abs(gap) <= 1.0:
            return None
        when = "before" if gap > 0 else "after"
        text = (
            f"population estimate dated {self.as_at.isoformat()} is {abs(gap):.1f} years "
            f"{when} the reference date {self.reference_date.isoformat()}"
        )
        if gap >= max_age + 1:
            text += ": it shares no birth cohort with the children measured"
        return text + " (use newer estimates or population.projection: age_forward)"


def check_vintage(settings: PopulationSettings | Project, reference_date: dt.date) -> VintageCheck:
    """The estimate's date from ``as_at``, else from 'mid-YYYY' in ``vintage`` (ONS mid-year
    estimates describe 30 June), else unknown."""
    ps = _pop(settings)
    if ps.as_at is not None:
        return VintageCheck(ps.as_at, reference_date, "as_at")
    m = _MID_YEAR.search(ps.vintage)
    if m:
        return VintageCheck(dt.date(int(m.group(1)), 6, 30), reference_date, "vintage")
    return VintageCheck(None, reference_date, "unknown")


def load_births(settings: BirthsSettings) -> pd.DataFrame:
    """Births by small area and calendar year: ``area_code``, ``year`` (int), ``births``."""
    raw = _read_csv(settings.path, "births", "population.births.path")
    cols = {
        "area_column": settings.area_column,
        "year_column": settings.year_column,
        "births_column": settings.births_column,
    }
    for key, column in cols.items():
        if column not in raw.columns:
            raise InputError(
                f"{settings.path}: the births file has no column {column!r}",
                hint=f"fix population.births.{key} in the project file",
            )
    year = pd.to_numeric(raw[settings.year_column].str.strip(), errors="coerce")
    births = pd.to_numeric(
        raw[settings.births_column].str.replace(",", "", regex=False).str.strip(),
        errors="coerce",
    )
    for column, values in ((settings.year_column, year), (settings.births_column, births)):
        _check_non_negative(
            values,
            f"{settings.path}",
            column,
            expected="a whole number of 0 or more",
            hint="fix the value in the births file",
        )
    out = pd.DataFrame(
        {
            "area_code": raw[settings.area_column].str.strip(),
            "year": year.astype(int),
            "births": births.astype("float64"),
        }
    )
    return out.groupby(["area_code", "year"], as_index=False).agg(births=("births", "sum"))


def _cohort_births(births: pd.DataFrame, reference_date: dt.date, age: int) -> pd.DataFrame:
    """Births of the cohort aged ``age`` on the reference date (born in the year ending
    ``age`` years before it), apportioned from calendar-year counts by the share of each
    year inside that window (births assumed spread evenly over a year)."""
    end = _years_before(reference_date, age)
    start = _years_before(reference_date, age + 1)
    parts = []
    for year in range(start.year, end.year + 1):
        y0, y1 = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        overlap = min(y1, end + dt.timedelta(days=1)) - max(y0, start + dt.timedelta(days=1))
        share = max(overlap.days, 0) / (y1 - y0).days
        if share > 0:
            sel = births[births["year"] == year]
            parts.append(pd.DataFrame({"area_code": sel["area_code"], "b": sel["births"] * share}))
    if not parts:
        return pd.DataFrame({"area_code": [], "population": []})
    out = pd.concat(parts).groupby("area_code", as_index=False).agg(population=("b", "sum"))
    return out


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Projection:
    """What :func:`project_population` did, for run.json and the methods text."""

    method: str
    shift_years: int
    ages_from_estimate: tuple[int, ...]
    ages_from_births: tuple[int, ...]
    ages_from_youngest_cohort: tuple[int, ...]

    def describe(self) -> str:
        if self.method == "none" or self.shift_years == 0:
            return "population estimates used as published (no projection)"
        parts = [f"cohorts aged forward {self.shift_years} year(s)"]
        if self.ages_from_births:
            parts.append(f"ages {list(self.ages_from_births)} from registered births")
        if self.ages_from_youngest_cohort:
            parts.append(
                f"ages {list(self.ages_from_youngest_cohort)} assumed the size of the "
                "estimate's youngest cohort"
            )
        return "; ".join(parts)


def project_population(
    population: pd.DataFrame,
    vintage: VintageCheck,
    *,
    method: str = "age_forward",
    births: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, Projection]:
    """Bring a single-year-of-age estimate to the reference date by ageing its cohorts.

    A simple cohort (ageing-on) projection without migration or mortality, in the spirit of
    the cohort-component method (ONS, *Subnational population projections methodology*,
    where components are unknown here): with a shift of ``s`` whole years, the children aged
    ``a >= s + youngest`` on the reference date are the estimate's cohort aged ``a - s``;
    younger cohorts were born after the estimate and come from ``births`` (calendar-year
    births per area apportioned to the cohort's birth window) when given, else are assumed
    the size of the estimate's youngest cohort in the area. Under-five mortality in England
    is about 4 per 1,000, so ignoring it moves counts by well under 1%; net migration of
    young families is the real error and is not modelled (docs/measures.md says so).

    ``population``: ``area_code, age, population``. Returns the projected frame with the same
    columns (ages as in the input) and a :class:`Projection` record.
    """
    ages = sorted(int(a) for a in population["age"].unique())
    shift = vintage.shift_years
    if method == "none" or shift == 0 or not ages:
        none = Projection("none", 0, tuple(ages), (), ())
        return population.copy(), none
    youngest = ages[0]
    by_age = {a: population[population["age"] == a][["area_code", "population"]] for a in ages}
    areas = pd.Index(sorted(population["area_code"].unique()), name="area_code")
    frames = []
    from_est: list[int] = []
    from_births: list[int] = []
    from_young: list[int] = []
    for a in ages:
        if a - shift in by_age:
            src = by_age[a - shift]
            from_est.append(a)
        elif births is not None:
            src = _cohort_births(births, vintage.reference_date, a)
            from_births.append(a)
        else:
            src = by_age[youngest]
            from_young.append(a)
        col = src.set_index("area_code")["population"].groupby(level=0).sum()
        frames.append(
            pd.DataFrame(
                {
                    "area_code": areas,
                    "age": a,
                    "population": col.reindex(areas).fillna(0.0).to_numpy(dtype="float64"),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    info = Projection(method, shift, tuple(from_est), tuple(from_births), tuple(from_young))
    return out, info


# --- area codes that do not match the geography -------------------------------------------


@dataclass(frozen=True)
class AreaCodeCheck:
    """Codes in the population file that the geography lacks, and the reverse (codes are
    official area codes, never personal data, so a few are shown as examples)."""

    n_geography: int
    n_population: int
    not_in_geography: tuple[str, ...]
    not_in_population: tuple[str, ...]

    def messages(self, path: object) -> list[str]:
        out = []
        if self.not_in_population:
            out.append(
                f"{path}: {len(self.not_in_population)} of {self.n_geography} small areas "
                f"have no population estimate (e.g. {', '.join(self.not_in_population[:3])}); "
                "their ONS-based rates are not computed and larger areas holding them are "
                "left without an ONS rate"
            )
        if self.not_in_geography:
            out.append(
                f"{path}: {len(self.not_in_geography)} area codes in the population file are "
                f"not in the geography (e.g. {', '.join(self.not_in_geography[:3])}); they "
                "are ignored (check the estimates are on the same area vintage, e.g. LSOA "
                "2011 vs 2021)"
            )
        return out


def check_area_codes(population: pd.DataFrame, geography_codes: Iterable[str]) -> AreaCodeCheck:
    """Compare the population file's area codes with the geography's small areas.

    Raises :class:`InputError` when none match at all (a wrong column or area vintage).
    """
    geo = {str(c) for c in geography_codes}
    pop = {str(c) for c in population["area_code"].unique()}
    check = AreaCodeCheck(
        n_geography=len(geo),
        n_population=len(pop),
        not_in_geography=tuple(sorted(pop - geo)),
        not_in_population=tuple(sorted(geo - pop)),
    )
    if geo and pop and not (geo & pop):
        raise InputError(
            "population file: none of its area codes match the geography's small areas",
            hint="check population.area_column and that both use the same area vintage",
        )
    return check

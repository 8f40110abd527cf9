"""Official population denominators: small-area estimates by single year of age.

An I/O edge: reads the CSV named in the project's ``population`` block (e.g. ONS mid-2020
small-area population estimates, SAPE23DT2, on 2011 LSOAs) and returns a tidy long frame
``area_code, age, population``. Nothing downstream sees the publisher's column names.

Caveat carried into docs/measures.md: the ONS mid-2020 series is based on the 2011 Census
and published on 2011 LSOAs; it is an estimate, not a count, and for 0-4s in small areas it
can be off by more than the reach gaps being measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from everyfamily.errors import ConfigError, InputError

if TYPE_CHECKING:
    from everyfamily.config import PopulationSettings, Project


def _pop(settings: PopulationSettings | Project) -> PopulationSettings:
    from everyfamily.config import Project

    return settings.population if isinstance(settings, Project) else settings


def load_population(settings: PopulationSettings | Project) -> pd.DataFrame:
    """Population by small area and single year of age: ``area_code``, ``age`` (int),
    ``population`` (float; the estimates are whole numbers but may be apportioned)."""
    ps = _pop(settings)
    if not ps.path.is_file():
        raise InputError(
            f"{ps.path}: population file not found",
            hint="check population.path in the project file",
        )
    try:
        raw = pd.read_csv(ps.path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{ps.path}: cannot read the population file ({type(exc).__name__})",
            hint="give a UTF-8 CSV with a header row",
        ) from None
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
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 1
            raise InputError(
                f"{ps.path}, row {row}, column {column!r}: expected a count of people "
                "(a whole number of 0 or more)",
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

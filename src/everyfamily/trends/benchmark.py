"""The borough against other places: a benchmark file the council supplies (pure core + reader).

The file is a CSV, one row per indicator x place x period, as Fingertips exports it:

    indicator, geography, period, value, lower, upper[, count, denominator]

``indicator`` is one of :data:`INDICATORS` (the reach rates of reach.csv); ``geography`` the
place's name (England, North West, a statistical neighbour ...); ``period`` free text
("2025/26", "2026-03-31"); ``value``, ``lower``, ``upper`` the rate and its 95% interval, in
percent (or as proportions, ``trends.benchmark.values: proportion``); ``lower``/``upper``,
``count`` and ``denominator`` may be blank.

Comparison, as Fingertips' "compared with benchmark" for proportions (Public Health England,
Fingertips technical guidance, "Benchmarking"): the borough's own 95% interval (Wilson, from
its RELEASED counts, reach.csv) is set against the other place's value:

* ``better``: the borough's lower limit is above the place's value (higher reach is better);
* ``worse``: the borough's upper limit is below it;
* ``similar``: the interval contains it;
* ``not compared``: the borough's rate is withheld or the row's value is blank.

A different period from the borough's reference date is shown with its period; the file's
periods are not matched to ours (a council's benchmark is usually last year's published one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from everyfamily.errors import InputError
from everyfamily.population.tables import read_csv_table
from everyfamily.trends.compare import BETTER, NOT_COMPARED, SIMILAR, WORSE

#: Indicators a benchmark row may name -> plain label.
INDICATORS: dict[str, str] = {
    "registered_rate": "Registered with a centre",
    "engaged_rate": "Sustained engagement",
}
REQUIRED: tuple[str, ...] = ("indicator", "geography", "period", "value", "lower", "upper")
OPTIONAL: tuple[str, ...] = ("count", "denominator")
SETTING = "trends.benchmark.path"


@dataclass(frozen=True)
class BoroughValue:
    """The borough's released rate of one indicator and its 95% interval (0-1)."""

    value: float | None
    lower: float | None
    upper: float | None


def read_benchmark(path: Path, values: str = "percent") -> pd.DataFrame:
    """The benchmark file as a validated frame (rates on the 0-1 scale), or a one-line
    :class:`InputError` naming the file, row, column, what was expected and how to fix it.
    Rows are numbered as a spreadsheet shows them (the header is row 1)."""
    raw = read_csv_table(path, "benchmark", SETTING)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputError(
            f"{path}: no column {missing[0]!r}; columns are: {', '.join(raw.columns)}",
            hint=f"the benchmark file needs the columns {', '.join(REQUIRED)}",
        )
    if raw.empty:
        raise InputError(f"{path}: the benchmark file has no rows", hint="add rows or unset it")
    out = pd.DataFrame({c: raw[c].astype(str).str.strip() for c in ("indicator", "geography")})
    out["period"] = raw["period"].astype(str).str.strip()
    _check_text(out, path)
    scale = 100.0 if values == "percent" else 1.0
    top = "0-100 (percent)" if values == "percent" else "0-1 (a proportion)"
    for col in ("value", "lower", "upper"):
        out[col] = (_numbers(raw[col], path, col, f"a rate {top}", high=scale) / scale).round(6)
    for col in OPTIONAL:
        if col in raw.columns:
            out[col] = _numbers(raw[col], path, col, "a whole number of children", whole=True)
        else:
            out[col] = np.nan
    _check_order(out, path)
    return out


def _check_text(out: pd.DataFrame, path: Path) -> None:
    for i, (ind, geo, per) in enumerate(
        zip(out["indicator"], out["geography"], out["period"], strict=True)
    ):
        row = i + 2
        if ind not in INDICATORS:
            raise InputError(
                f"{path}, row {row}, column 'indicator': expected one of "
                f"{', '.join(INDICATORS)}, found an unknown indicator",
                hint="name the indicator as reach.csv names its rate",
            )
        for col, v in (("geography", geo), ("period", per)):
            if not v:
                raise InputError(
                    f"{path}, row {row}, column {col!r}: expected a {col}, found a blank",
                    hint="fill it in or delete the row",
                )


def _numbers(
    text: pd.Series, path: Path, column: str, expected: str, *, high: float = 0, whole: bool = False
) -> pd.Series:
    s = text.astype(str).str.strip()
    v = pd.to_numeric(s, errors="coerce")
    bad = v.isna() & (s != "")
    bad |= v < 0
    if high:
        bad |= v > high
    if whole:
        bad |= v.notna() & (v != np.floor(v))
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 2
        raise InputError(
            f"{path}, row {row}, column {column!r}: expected {expected} or a blank",
            hint="fix the value in the file",
        )
    return v.astype("float64")


def _check_order(out: pd.DataFrame, path: Path) -> None:
    blank_value = out["value"].isna()
    if blank_value.any():
        row = int(blank_value.to_numpy().argmax()) + 2
        raise InputError(
            f"{path}, row {row}, column 'value': expected a rate, found a blank",
            hint="give the value or delete the row",
        )
    lo, v, hi = out["lower"], out["value"], out["upper"]
    wrong = (lo.notna() & (lo > v)) | (hi.notna() & (hi < v))
    if wrong.any():
        row = int(wrong.to_numpy().argmax()) + 2
        raise InputError(
            f"{path}, row {row}, columns 'lower', 'upper': expected lower <= value <= upper",
            hint="check that the interval columns are not swapped",
        )
    dup = out.duplicated(["indicator", "geography", "period"])
    if dup.any():
        row = int(dup.to_numpy().argmax()) + 2
        raise InputError(
            f"{path}, row {row}: the indicator, geography and period repeat an earlier row",
            hint="keep one row per indicator, place and period",
        )


def compare_with_borough(value: BoroughValue, others: np.ndarray) -> np.ndarray:
    """Fingertips' label of the borough against each other place's value (module docstring)."""
    v = np.asarray(others, dtype="float64")
    out = np.full(v.shape, NOT_COMPARED, dtype=object)
    if value.lower is None or value.upper is None or value.value is None:
        return out
    ok = np.isfinite(v)
    out[ok] = SIMILAR
    out[ok & (value.lower > v)] = BETTER
    out[ok & (value.upper < v)] = WORSE
    return out


def benchmark_table(bench: pd.DataFrame, borough: Mapping[str, BoroughValue]) -> pd.DataFrame:
    """Each benchmark row with the borough's value and the label; ``borough`` maps an
    indicator to the borough's released rate (missing: not compared)."""
    parts = []
    for ind, rows in bench.groupby("indicator", sort=False):
        b = borough.get(str(ind), BoroughValue(None, None, None))
        parts.append(
            rows.assign(
                indicator_label=INDICATORS[str(ind)],
                borough_value=_num(b.value),
                borough_lower=_num(b.lower),
                borough_upper=_num(b.upper),
                compared=compare_with_borough(b, rows["value"].to_numpy()),
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else bench.assign(compared=[])


def _num(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def borough_values(released_reach: pd.DataFrame) -> dict[str, BoroughValue]:
    """The borough's released rates (reach.csv's borough / all / any row)."""
    r = released_reach
    row = r[(r["level"] == "borough") & (r["dimension"] == "all") & (r["service"] == "any")]
    if row.empty:
        return {}
    first = row.iloc[0]

    def num(col: str) -> float | None:
        v = pd.to_numeric(pd.Series([first.get(col)]), errors="coerce").iloc[0]
        return float(v) if np.isfinite(v) else None

    return {
        ind: BoroughValue(num(ind), num(f"{ind}_lower"), num(f"{ind}_upper")) for ind in INDICATORS
    }

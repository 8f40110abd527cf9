"""The areas a dashboard user may see, as an admin types them: codes or names, checked.

``everyfamily users add|set-areas --areas`` take a comma-separated list of area codes or
names at any level; this resolves them against a finished run so a typo cannot give an
outreach worker no area, or the wrong one, without anyone noticing.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from everyfamily.errors import ConfigError


def resolve_areas(text: str, out_dir: Path | None = None) -> tuple[str, ...]:
    """Area codes from a comma-separated list of codes or names (any level), checked against
    the run in ``out_dir`` (its reach.csv): an unknown or ambiguous area is a one-line error,
    so a typo cannot give a worker no area, or the wrong one, without anyone noticing."""
    given = tuple(a.strip() for a in text.split(",") if a.strip())
    if not given or out_dir is None:
        return given
    reach_csv = out_dir / "reach.csv"
    if not reach_csv.is_file():
        raise ConfigError(
            f"{out_dir}: no finished run (reach.csv) to check the areas against",
            hint="run the pipeline into this folder first, then give users their areas",
        )
    known = pd.read_csv(reach_csv, usecols=["level", "area_code", "area_name"], dtype=str)
    known = known.drop_duplicates()
    codes = set(known["area_code"].dropna())
    by_name: dict[str, set[str]] = {}
    for code, name in zip(known["area_code"], known["area_name"], strict=True):
        if isinstance(name, str) and name.strip():
            by_name.setdefault(name.strip().casefold(), set()).add(str(code))
    out: list[str] = []
    for area in given:
        if area in codes:
            out.append(area)
            continue
        matches = by_name.get(area.casefold(), set())
        if len(matches) == 1:
            out.append(next(iter(matches)))
            continue
        if len(matches) > 1:
            raise ConfigError(
                f"--areas: {area!r} names {len(matches)} areas ({', '.join(sorted(matches))})",
                hint="give the area code instead",
            )
        names = dict.fromkeys([*codes, *known["area_name"].dropna().astype(str)])
        close = [repr(c) for c in difflib.get_close_matches(area, list(names), n=3)]
        listed = close[0] if len(close) == 1 else ", ".join(close[:-1]) + f" or {close[-1]}"
        suggestion = f" (did you mean {listed}?)" if close else ""
        raise ConfigError(
            f"--areas: no area {area!r} in this run{suggestion}",
            hint="give area codes or names as the dashboard shows them (ward, LSOA ...)",
        )
    return tuple(dict.fromkeys(out))

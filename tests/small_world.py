"""What the shared quarter-size run (tests/conftest.py ``knowsley_small_run``) plants in its
copy of the small scenario before `everyfamily run` reads it, so that one run serves the
tests of the command line, the sentinel and the hostile names:

- the sentinel: a unique synthetic given name and NHS number on the first birth notification
  (tests/security/test_sentinel.py: they must never leave the identifiable store);
- hostile prefixes (= + - @, tab, carriage return) on every fifth record's names and address
  in both extracts and on a centre's name, and an impossible date of birth on every hundredth
  registration, whose raw row goes to quarantine
  (tests/security/test_hostile_names_scenario.py: every CSV and export is neutralised).

Both touch only names, addresses and a few dates of birth: the plumbing the other tests of
the run check (stages, reconciliation, stores, extracts, ids) does not depend on them. The
planted names are synthetic and never printed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from everyfamily.config import load_project
from everyfamily.demo.nhs import check_digit

SENTINEL_NAME = "Zyxqvorthwen"


def _sentinel_nhs() -> str:
    for n in range(100_000_000, 100_001_000):
        nine = f"999{n % 1_000_000:06d}"
        digit = check_digit(nine)
        if digit is not None:
            return nine + str(digit)
    raise RuntimeError("no valid NHS number found")


SENTINEL_NHS = _sentinel_nhs()

#: Synthetic hostile prefixes, as a council system might let them through.
HOSTILE = ('=HYPERLINK("http://example.invalid","x")&', "+", "-", "@", "\t=", "\r=")
#: The registrations extract's identifying columns (semicolon-separated, UTF-8 with BOM).
REG_COLUMNS = ("Child First Name", "Child Last Name", "Address", "Parent First Name")
#: The births extract's (comma-separated).
BIRTH_COLUMNS = ("Baby Surname", "Mother Forename", "Mother Surname", "Address Line 1")


def poison(
    path: Path, sep: str, columns: tuple[str, ...], encoding: str, dob: str | None = None
) -> None:
    """Hostile prefixes on every fifth record's ``columns``; with ``dob``, every hundredth
    record also gets an impossible date of birth, so its raw row (names and all) goes to
    quarantine, which `everyfamily extract` may write out."""
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
    for i in range(0, len(frame), 5):  # every fifth record
        for j, col in enumerate(columns):
            if frame.at[i, col]:
                frame.at[i, col] = HOSTILE[(i + j) % len(HOSTILE)] + frame.at[i, col]
        if dob is not None and i % 100 == 0:
            frame.at[i, dob] = "2021-02-31"
    frame.to_csv(path, sep=sep, index=False, encoding=encoding, quoting=csv.QUOTE_MINIMAL)


def plant_hostile(folder: Path) -> None:
    """The hostile names, addresses, dates and centre name in the scenario ``folder``."""
    poison(folder / "extracts/centre_registrations.csv", ";", REG_COLUMNS, "utf-8-sig", "DOB")
    poison(folder / "extracts/births_notifications.csv", ",", BIRTH_COLUMNS, "cp1252")
    sites = pd.read_csv(folder / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[0, "name"] = "=cmd|' /C calc'!A0 " + sites.loc[0, "name"]  # a centre's name
    sites.to_csv(folder / "sites.csv", index=False)


def plant_sentinel(project_file: Path) -> None:
    """The sentinel's given name and NHS number on the first row of the births source,
    found through the project file (its columns, delimiter)."""
    project = load_project(project_file)
    births = project.source("births")
    assert births.path is not None
    # latin-1 reads and writes any bytes back unchanged (the extract may be cp1252)
    sep = births.options.delimiter or ","
    frame = pd.read_csv(births.path, dtype=str, keep_default_na=False, encoding="latin-1", sep=sep)
    frame.loc[0, births.columns["first_name"]] = SENTINEL_NAME
    frame.loc[0, births.columns["nhs_number"]] = SENTINEL_NHS
    frame.to_csv(births.path, index=False, encoding="latin-1", sep=sep)


@dataclass(frozen=True)
class SmallRun:
    """The shared quarter-size run: `everyfamily run PROJECT --out OUT` on a planted copy of
    the small scenario (tests/small_world.py: the sentinel and the hostile names)."""

    #: the run's output folder (the scenario is not inside it)
    out: Path
    #: the planted project file the command read
    project_file: Path
    #: what the command printed (stdout, then stderr)
    console: str
    #: every log record emitted while it ran, DEBUG and up (``logger: message`` lines)
    logs: str

"""The previous run a monthly run names (``project.previous_run_path``): checked once, at the
edge, before anything is written.

A previous run is a folder holding a COMPLETE everyfamily run: run.json with status
``complete`` and a reference date, and the run's analysis store. Anything else is a one-line
``ConfigError`` naming the folder and what to do. The previous run's stores are only ever
read (opened read-only), never written.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from everyfamily.engines.layout import DUCKDB_ZONE_FILES
from everyfamily.errors import ConfigError

_HINT = "give the output folder of a finished everyfamily run (the one run.json is in)"


@dataclass(frozen=True)
class PreviousRun:
    """A complete earlier run: its folder and its reference date."""

    path: Path
    reference_date: dt.date


def check_previous_run(path: Path, reference_date: dt.date | None = None) -> PreviousRun:
    """The previous run in ``path``, or a one-line ConfigError. ``reference_date``: this
    run's; the previous run's must not be later."""
    path = Path(path)
    where = f"project.previous_run_path {path}"
    if not path.is_dir():
        raise ConfigError(f"{where}: not a folder", hint=_HINT)
    try:
        meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no run.json, so not an everyfamily run", hint=_HINT) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConfigError(f"{where}: run.json is not valid JSON", hint=_HINT) from None
    status = meta.get("status", "complete") if isinstance(meta, dict) else "unknown"
    if status != "complete":
        raise ConfigError(
            f"{where}: the run there is not complete (status {status!r})",
            hint="name the folder of the last run that finished",
        )
    try:
        ref = dt.date.fromisoformat(str(meta["reference_date"]))
    except (KeyError, ValueError):
        raise ConfigError(f"{where}: run.json has no valid reference_date", hint=_HINT) from None
    stores = meta.get("stores") if isinstance(meta.get("stores"), dict) else {}
    analysis = str(stores.get("analysis") or DUCKDB_ZONE_FILES["analysis"])
    if not (path / analysis).is_file():
        raise ConfigError(f"{where}: the run's analysis store {analysis} is missing", hint=_HINT)
    if reference_date is not None and ref > reference_date:
        raise ConfigError(
            f"{where}: its reference date {ref.isoformat()} is after this run's "
            f"({reference_date.isoformat()})",
            hint="name an earlier run, or check project.reference_date",
        )
    return PreviousRun(path, ref)

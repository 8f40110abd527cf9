"""The run-history panel of the overview: the borough's known, registered and engaged
children at the reference date of every run so far, read from run_history.csv (written by
the ``since`` stage from the store's ``run_history``, counts already released)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

HISTORY_FILE = "run_history.csv"


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def history_panel(out_dir: Path) -> dict[str, Any] | None:
    """The borough's rows of run_history.csv, oldest first, or None when the file is
    missing or holds fewer than two reference dates (one run is the page itself)."""
    try:
        with (Path(out_dir) / HISTORY_FILE).open(encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("level") == "borough"]
    except (OSError, csv.Error):
        return None
    rows.sort(key=lambda r: r.get("reference_date") or "")
    if len(rows) < 2:
        return None
    return {
        "runs": [
            {
                "reference_date": r.get("reference_date"),
                "known": _number(r.get("known")),
                "registered": _number(r.get("registered")),
                "engaged": _number(r.get("engaged")),
                "registered_rate": _number(r.get("registered_rate")),
                "engaged_rate": _number(r.get("engaged_rate")),
            }
            for r in rows
        ]
    }

"""The "since last run" panel of the overview: the borough's changes since the previous run,
read from since_last_run.json (written by the ``since`` stage, counts already released)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The panel's lines: (count, label), in order.
PANEL_ROWS: tuple[tuple[str, str], ...] = (
    ("born", "born since"),
    ("arrived", "moved in or newly known"),
    ("left", "moved out of the borough or no longer known"),
    ("aged_out", "reached the upper age"),
    ("newly_registered", "registered with a centre for the first time"),
    ("lapsed", "engaged at the last run, not now"),
)


def since_panel(out_dir: Path) -> dict[str, Any] | None:
    """The borough row of since_last_run.json with its dates, or None when the run named no
    previous run (or the file cannot be read)."""
    try:
        doc = json.loads((Path(out_dir) / "since_last_run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rows = [a for a in doc.get("areas") or [] if a.get("level") == "borough"]
    if not rows:
        return None
    b = rows[0]
    return {
        "previous_reference_date": doc.get("previous_reference_date"),
        "previous": b.get("previous"),
        "current": b.get("current"),
        "rows": [{"label": label, "count": b.get(key)} for key, label in PANEL_ROWS],
        "reconciles": bool(doc.get("reconciles_exactly")),
        "rule": doc.get("release_rule"),
    }

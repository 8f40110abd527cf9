"""The run details page's readable summary (issue 16): sources, rows, linkage, stage times
and warnings in words, above the run's metadata as JSON (admin only; run.json holds no
person-level value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from everyfamily.report.words import field_words, seconds_words, value_words, when_words


def _rows(block: Any, keys: tuple[str, ...]) -> list[dict[str, str]]:
    if not isinstance(block, Mapping):
        return []
    return [
        {"label": field_words(k), "value": _value(block[k])}
        for k in keys
        if k in block and not isinstance(block[k], Mapping | list)
    ]


def _value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return value_words(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1 else f"{v:,.0f}"
    return str(v)


def run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """What an admin reads first about a run, in words."""
    timings = run.get("timings_seconds") or {}
    total = sum(float(t) for t in timings.values() if isinstance(t, int | float))
    sources = []
    for name, rec in (run.get("reconciliation") or {}).items():
        if isinstance(rec, Mapping):
            sources.append(
                {
                    "name": field_words(name),
                    "read": _value(rec.get("rows_read")),
                    "loaded": _value(rec.get("rows_loaded")),
                    "quarantined": _value(rec.get("rows_quarantined")),
                    "adds_up": value_words(rec.get("reconciles")),
                }
            )
    linkage = run.get("linkage") or {}
    events = linkage.get("events") if isinstance(linkage, Mapping) else None
    return {
        "run": [
            {"label": "Project", "value": str(run.get("project") or "")},
            {"label": "Status", "value": str(run.get("status") or "not recorded")},
            {"label": "Reference date", "value": when_words(run.get("reference_date"))},
            {"label": "Started", "value": when_words(run.get("started_at"))},
            {"label": "Finished", "value": when_words(run.get("finished_at"))},
            # an identifier, not a quantity: 2026, never "2,026"
            {
                "label": "Seed",
                "value": value_words(run.get("seed"))
                if run.get("seed") is None
                else str(run["seed"]),
            },
            {
                "label": "everyfamily version",
                "value": str((run.get("versions") or {}).get("everyfamily") or ""),
            },
        ],
        "sources": sources,
        "linkage": _rows(
            linkage,
            ("n_records", "n_persons", "n_families", "n_pairs_scored", "n_links", "model_source"),
        ),
        "events": ", ".join(
            f"{_value(n)} {field_words(k)}" for k, n in events.items() if isinstance(n, int)
        )
        if isinstance(events, Mapping)
        else "",
        "stages": [{"name": field_words(k), "time": seconds_words(t)} for k, t in timings.items()],
        "total": seconds_words(total) if timings else "",
        "warnings": [
            str(w.get("message") if isinstance(w, Mapping) else w)
            for w in run.get("warnings") or []
        ],
        "vintages": [
            {"label": field_words(k), "value": str(v)}
            for k, v in (run.get("data_vintages") or {}).items()
        ],
    }

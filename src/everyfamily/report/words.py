"""Words instead of field names: how the report and the dashboard say a run's metadata to
people (issue 16: "raw field names (``n_identities``, ``True``) and unformatted timestamps
become words"). Pure functions of values; no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Field names of run metadata as a reader says them (anything else: underscores to spaces).
FIELD_WORDS: dict[str, str] = {
    "n_records": "Records read into linkage",
    "n_identities": "Distinct identities (one person as one source records them)",
    "n_persons": "Children after linkage",
    "n_families": "Families after linkage",
    "n_pairs_scored": "Record pairs compared",
    "n_links": "Links accepted",
    "n_unlinkable_identities": "Identities that could not be linked",
    "model_source": "Linkage model",
    "rows_read": "Rows read",
    "rows_loaded": "Rows loaded",
    "rows_quarantined": "Rows set aside (quarantined)",
    "reconciles": "Rows add up",
    "status": "Status",
    "events": "Changes since the last run",
    "person_new": "new children",
    "person_merge": "children merged",
    "person_split": "children split",
    "family_new": "new families",
    "family_merge": "families merged",
    "family_split": "families split",
    "health_visiting": "Health visiting",
    "births": "Birth notifications",
    "registrations": "Centre registrations",
    "attendances": "Centre attendances",
    "threshold": "Match threshold",
    "recall": "Share of true links found",
    "precision": "Share of links that are right",
}


def field_words(name: Any) -> str:
    """A field name as words: the table above, else ``some_field`` -> "Some field"."""
    key = str(name)
    if key in FIELD_WORDS:
        return FIELD_WORDS[key]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


#: Codes a stage leaves in its report lines, as a reader says them (the Plan page's words).
CODE_WORDS: dict[str, str] = {"baseline": "Today", "what_if": "What if", "optimised": "Optimised"}
#: A field name in brackets inside a sentence: "(expected_engaged_with_room)".
_BRACKETED_FIELD = re.compile(r"\(([a-z]+(?:_[a-z]+)+)\)")


def line_words(text: Any) -> str:
    """A stage's report line or table cell for people: a known code as its word
    (:data:`CODE_WORDS`), a field name in brackets as words ("(expected engaged with
    room)"); file names, settings and commands are left as they are."""
    line = str(text)
    if line in CODE_WORDS:
        return CODE_WORDS[line]
    return _BRACKETED_FIELD.sub(lambda m: f"({field_words(m.group(1)).lower()})", line)


def value_words(value: Any) -> str:
    """True/False as yes/no, None as "not recorded", anything else as it is."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "not recorded"
    return str(value)


def when_words(stamp: Any) -> str:
    """An ISO timestamp as people write it: "4 December 2026 at 11:46 UTC" (a plain date
    as "31 March 2026"); anything unreadable as it is."""
    text = str(stamp or "")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    day = f"{when.day} {when:%B %Y}"
    if len(text) <= 10:
        return day
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{day} at {when:%H:%M} UTC"


def seconds_words(seconds: Any) -> str:
    """A duration: "7.4 seconds", "2 min 5 s"."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return value_words(seconds)
    if s < 60:
        return f"{s:.1f} seconds"
    return f"{int(s // 60)} min {round(s % 60)} s"

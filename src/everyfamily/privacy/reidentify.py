"""Re-identification for the outreach list: pseudonyms back to names and addresses.

The one place person_ids are turned back into contact details. It reads the identifiable
store (``records`` joined to ``links``), so it needs the run's key; callers must have checked
the role, scoped the ids to the user's areas and written the audit entry *before* calling
(everyfamily.web does). Nothing here logs a value.

For each child the contact details come from one record: the one with an address, most
recent event first (an outreach worker needs where the family lives now), then the first by
source and record id so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from everyfamily.engines.base import Engine

#: The identifying fields re-identification adds to the outreach list, in display order.
CONTACT_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "date_of_birth",
    "parent_first_name",
    "parent_last_name",
    "address",
    "postcode",
)


def contact_details(engine: Engine, person_ids: Iterable[str]) -> pd.DataFrame:
    """person_id plus :data:`CONTACT_COLUMNS` and ``contact_source``/``contact_as_of`` (the
    source and event date of the record the details come from), one row per id found."""
    ids = sorted({str(p) for p in person_ids})
    cols = ["person_id", *CONTACT_COLUMNS, "contact_source", "contact_as_of"]
    if not ids:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    fields = ", ".join(f"r.{c}" for c in CONTACT_COLUMNS)
    # The ids go in as one bound list parameter (the store is opened read-only), in the
    # engine's dialect; the SQL is otherwise portable (the conformance suite runs it).
    table = engine.query(
        f"""
            SELECT person_id, {", ".join(CONTACT_COLUMNS)}, contact_source, contact_as_of
            FROM (
                SELECT l.person_id, {fields}, r.source AS contact_source,
                       r.event_date AS contact_as_of,
                       row_number() OVER (
                           PARTITION BY l.person_id
                           ORDER BY (r.address IS NOT NULL OR r.postcode IS NOT NULL) DESC,
                                    r.event_date DESC NULLS LAST, r.source, r.record_id
                       ) AS k
                FROM links AS l
                JOIN records AS r ON r.source = l.source AND r.record_id = l.record_id
                WHERE {engine.dialect.in_list("l.person_id")}
            ) AS c WHERE k = 1
            ORDER BY person_id
        """,
        [ids],
    )
    frame = table.to_pandas()
    for c in ("date_of_birth", "contact_as_of"):
        frame[c] = pd.to_datetime(frame[c]).dt.strftime("%Y-%m-%d")
    out: pd.DataFrame = frame[cols].astype("string").fillna("")
    return out

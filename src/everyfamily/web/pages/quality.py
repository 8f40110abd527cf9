"""Data quality: rows read, loaded and set aside, why, quality flags, record linkage and its
quality by group. Every count is released (ReleaseRules.count)."""

from __future__ import annotations

from typing import Any

from everyfamily.report.words import field_words
from everyfamily.schema import QUALITY_FLAGS, QUARANTINE_REASONS
from everyfamily.web.labels import dimension_label, group_label
from everyfamily.web.tables import Column, Table, clean
from everyfamily.web.view import RunView

#: The tables of the quality page that the generic export serves.
QUALITY_TABLES = ("reconciliation", "quarantine", "flags", "linkage")


class QualityPage:
    """What the data-quality page shows."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    def quality(self, completeness: Table) -> dict[str, Any]:
        return {
            "reconciliation": self.reconciliation_table(),
            "quarantine": self.quarantine_table(),
            "flags": self.flags_table(),
            "linkage": self.linkage_table(),
            "linkage_by_group": self.linkage_by_group_table(),
            "completeness": completeness,
            "borough": self.view.borough_row(),
        }

    def table(self, table_id: str) -> Table:
        """One of :data:`QUALITY_TABLES`."""
        return {
            "reconciliation": self.reconciliation_table,
            "quarantine": self.quarantine_table,
            "flags": self.flags_table,
            "linkage": self.linkage_table,
        }[table_id]()

    def reconciliation_table(self) -> Table:
        r = self.view.release
        rec = self.view.outputs.run.get("reconciliation") or {}
        return Table(
            "reconciliation",
            "Rows read, loaded and set aside, by source",
            (
                Column("source_words", "Source"),
                Column("source", "Source"),
                Column("status", "Status"),
                Column("rows_read", "Rows read", "count"),
                Column("rows_loaded", "Loaded", "count"),
                Column("rows_quarantined", "Quarantined", "count"),
                Column("reconciles", "Read = loaded + quarantined"),
            ),
            tuple(
                {
                    "source_words": field_words(s),  # the page says it in words
                    "source": s,
                    "status": field_words(v.get("status")) if v.get("status") else None,
                    "rows_read": r.count(v.get("rows_read")),
                    "rows_loaded": r.count(v.get("rows_loaded")),
                    "rows_quarantined": r.count(v.get("rows_quarantined")),
                    "reconciles": "yes" if v.get("reconciles") else "NO",
                }
                for s, v in rec.items()
            ),
            note="Counts are rounded, so parts need not add up to totals exactly; the last "
            "column is checked on the exact counts.",
            # the page names each source in words, the downloads and the API by its name
            page_only=frozenset({"source_words"}),
            download_only=frozenset({"source"}),
        )

    def _sources(self) -> dict[str, Any]:
        sources: dict[str, Any] = (self.view.outputs.run.get("ingest") or {}).get("sources") or {}
        return sources

    def quarantine_table(self) -> Table:
        r = self.view.release
        return Table(
            "quarantine",
            "Why rows were set aside (quarantine reasons)",
            (
                Column("source", "Source"),
                Column("reason", "Reason"),
                Column("meaning", "Meaning"),
                Column("rows", "Rows", "count"),
            ),
            tuple(
                {
                    "source": s,
                    "reason": k,
                    "meaning": QUARANTINE_REASONS.get(k, ""),
                    "rows": r.count(n),
                }
                for s, v in self._sources().items()
                for k, n in sorted((v.get("quarantine_reasons") or {}).items())
            ),
            note="A row with two reasons counts under both.",
        )

    def flags_table(self) -> Table:
        r = self.view.release
        return Table(
            "flags",
            "Quality flags on rows that loaded",
            (
                Column("source", "Source"),
                Column("flag", "Flag"),
                Column("meaning", "Meaning"),
                Column("rows", "Rows", "count"),
            ),
            tuple(
                {"source": s, "flag": k, "meaning": QUALITY_FLAGS.get(k, ""), "rows": r.count(n)}
                for s, v in self._sources().items()
                for k, n in sorted((v.get("quality_flags") or {}).items())
            ),
        )

    def linkage_table(self) -> Table:
        run = self.view.outputs.run
        link = run.get("linkage") or {}
        reach = run.get("reach") or {}
        link_rows = [
            ("Records linked", link.get("n_records")),
            ("Children (distinct people)", link.get("n_persons")),
            ("Families", link.get("n_families")),
            ("Record pairs scored", link.get("n_pairs_scored")),
            ("Identities that could not be linked", link.get("n_unlinkable_identities")),
            ("Records without a link (left out of reach)", reach.get("unlinked_records")),
            ("Children with no home area (left out of reach)", reach.get("children_without_area")),
        ]
        return Table(
            "linkage",
            "Record linkage",
            (Column("what", "What"), Column("count", "Count", "count")),
            tuple(
                {"what": w, "count": self.view.release.count(n)}
                for w, n in link_rows
                if n is not None
            ),
            note=f"Model: {link.get('model_source', 'unknown')}.",
        )

    def linkage_by_group_table(self) -> Table | None:
        frame = self.view.outputs.linkage_by_group
        if frame is None or frame.empty:
            return None
        if "suppressed" in frame:  # too few pairs for a figure: not shown
            frame = frame[~frame["suppressed"].fillna(False).astype(bool)]
        value_col = "group_value" if "group_value" in frame else "group"
        size_col = next((c for c in ("n_children", "n_pairs") if c in frame), None)
        size_label = "Children" if size_col == "n_children" else "Record pairs"
        rows = []
        for rec in frame.to_dict("records"):
            dim = str(rec.get("dimension", ""))
            rows.append(
                {
                    "dimension": dimension_label(dim),
                    "group": group_label(dim, str(rec.get(value_col, ""))),
                    "size": self.view.release.count(rec.get(size_col)) if size_col else None,
                    "precision": clean(rec.get("precision")),
                    "recall": clean(rec.get("recall")),
                }
            )
        method = str(frame["method"].iloc[0]) if "method" in frame and len(frame) else ""
        note = "A group that links worse can look less reached than it is."
        if method == "model_estimate":
            note += (
                " Estimated from the linkage model's match probabilities (no ground truth):"
                " a floor on the errors, useful for comparing groups."
            )
        return Table(
            "linkage_by_group",
            "Linkage quality by group",
            (
                Column("dimension", "Grouped by"),
                Column("group", "Group"),
                Column("size", size_label, "count"),
                Column("precision", "Precision", "rate"),
                Column("recall", "Recall", "rate"),
            ),
            tuple(rows),
            note=note,
        )

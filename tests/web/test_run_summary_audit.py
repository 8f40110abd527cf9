"""Run details in words (issue 16 audit): the seed is an identifier, so it reads as typed
(the demo's run details showed "Seed 2,026")."""

from __future__ import annotations

from everyfamily.web.pages.run_summary import run_summary


def _facts(run: dict[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in run_summary(run).values():
        if isinstance(block, list):
            for item in block:
                if isinstance(item, dict) and "label" in item:
                    out[str(item["label"])] = str(item["value"])
    return out


def test_the_seed_reads_as_typed_and_counts_keep_their_commas() -> None:
    facts = _facts({"seed": 2026, "status": "complete", "timings_seconds": {"link": 9.6}})
    assert facts["Seed"] == "2026"
    assert _facts({"status": "complete"})["Seed"] == "not recorded"

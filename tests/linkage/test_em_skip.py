"""A skipped EM session leaves the model whole (linkage.model.train).

On the quarter-size world one EM session drives a level's m to 0, which Splink refuses; the
session is skipped. Splink 5 takes the comparisons a session's blocking rule uses out of the
linker's own settings before it trains and puts the trained copy back only when the session
succeeds, so before the fix the skipped session left the saved model without its name and
household comparisons (nhs_number, date_of_birth and sex only), and the run linked on those.
"""

from __future__ import annotations

import json
from pathlib import Path

EXPECTED = ["nhs_number", "first_name_match", "date_of_birth", "sex", "household"]


def test_the_quarter_size_world_keeps_every_comparison(knowsley_small_run: Path) -> None:
    linkage = knowsley_small_run / "linkage"
    model = json.loads((linkage / "model.json").read_text(encoding="utf-8"))
    assert [c["output_column_name"] for c in model["comparisons"]] == EXPECTED
    weights = (linkage / "match_weights.csv").read_text(encoding="utf-8")
    assert {line.split(",")[0] for line in weights.splitlines()[1:]} == set(EXPECTED)

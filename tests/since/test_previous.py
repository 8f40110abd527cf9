"""The previous run a monthly run names (since.previous): anything but a complete run is a
one-line ConfigError, before anything is written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from everyfamily.errors import ConfigError
from everyfamily.since.previous import check_previous_run

D = dt.date


def _run(folder: Path, *, status: str = "complete", ref: str = "2026-02-28") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"everyfamily_run": 1, "status": status, "reference_date": ref}
    (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "everyfamily.duckdb").write_bytes(b"")
    return folder


def _one_line(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    text = exc.value.one_line()
    assert "\n" not in text
    return text


def test_a_complete_run_is_accepted_with_its_reference_date(tmp_path: Path) -> None:
    prev = check_previous_run(_run(tmp_path / "feb"), D(2026, 3, 31))
    assert prev.reference_date == D(2026, 2, 28)
    assert prev.path == tmp_path / "feb"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p, "not a folder"),
        (lambda p: (p.mkdir(), p)[1], "no run.json"),
        (lambda p: _run(p, status="running"), "not complete"),
        (lambda p: _run(p, status="failed"), "not complete"),
        (lambda p: _run(p, ref="2026-04-30"), "after this run's"),
        (lambda p: (_run(p), (p / "everyfamily.duckdb").unlink(), p)[2], "analysis store"),
        (lambda p: (_run(p), (p / "run.json").write_text("{", encoding="utf-8"), p)[2], "JSON"),
    ],
)
def test_anything_but_a_complete_earlier_run_is_a_one_line_error(
    tmp_path: Path, make: object, expected: str
) -> None:
    folder = make(tmp_path / "prev")  # type: ignore[operator]
    with pytest.raises(ConfigError) as exc:
        check_previous_run(folder, D(2026, 3, 31))
    line = _one_line(exc)
    assert expected in line
    assert str(tmp_path / "prev") in line

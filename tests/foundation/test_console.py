"""The console's progress bar (everyfamily/console.py): drawn only on a terminal."""

from __future__ import annotations

import io

from everyfamily.console import run_progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_quiet_when_not_a_terminal() -> None:
    out = io.StringIO()
    with run_progress(3, stream=_Tty()) as p:  # standard output (captured) is no terminal
        assert not p.enabled
    with run_progress(3, stream=out) as p:
        p.stage("ingest")
        advance = p.task("files read", 2)
        advance(1)
        advance(1)
        p.stage_done()
    assert not p.enabled and out.getvalue() == ""


def test_progress_on_a_terminal_shows_the_stage_its_count_and_elapsed_time() -> None:
    out = _Tty()
    with run_progress(3, stream=out, enabled=True) as p:
        assert p.enabled
        p.stage("ingest")
        p.stage_done()
        p.stage("link")
        advance = p.task("pairs scored", 10)
        advance(4)
        p._bar.refresh()  # draw now (the live display refreshes on a timer)
    text = out.getvalue()
    assert "stage 2 of 3: link" in text
    assert "1/3" in text and "4/10" in text and "pairs scored" in text
    assert "0:00:0" in text  # elapsed time column

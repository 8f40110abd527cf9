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
        step = p.steps("ingest", 2)
        step("reading")
        step("checking")
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


def test_steps_within_a_stage_show_their_name_and_count_and_go_with_the_stage() -> None:
    out = _Tty()
    with run_progress(2, stream=out, enabled=True) as p:
        p.stage("access")
        step = p.steps("access", 3)
        step("checking the network")
        step("travel times: 1,204 home points x 14 sites")
        p._bar.refresh()
        shown = out.getvalue()
        # the second of three steps is running: one done
        assert "access: travel times: 1,204 home points x 14 sites" in shown
        assert "1/3" in shown
        assert len(p._bar.tasks) == 2  # the stages bar and the steps line
        p.stage_done()
        assert len(p._bar.tasks) == 1  # the steps line went with its stage

"""Progress of a run on the console: a rich progress bar over the stages (how many are done,
which one runs, elapsed time), drawn on standard error only when it is a terminal, so logs,
pipes and tests see just the plain lines the stages print.

Stages may show counts of their own through :meth:`RunProgress.task` (e.g. files read, pairs
scored) and name their steps through :meth:`RunProgress.steps` (linkage training: the prior,
u, each EM session; access: the network check, travel times, barriers; planning: the
scenarios); on a non-terminal the returned callbacks do nothing. Nothing here sees a record:
descriptions are stage names, step names and counts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any


def _progress(stream: IO[str]) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(file=stream, force_terminal=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


class RunProgress:
    """One bar over a run's stages, and optional counted tasks within a stage. Disabled (every
    method a no-op) unless ``enabled``."""

    def __init__(self, total_stages: int, progress: Any = None) -> None:
        self._bar = progress
        self._run = (
            progress.add_task("stages", total=total_stages) if progress is not None else None
        )
        self._done = 0
        self._total = total_stages
        self._steps: list[Any] = []

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def stage(self, name: str) -> None:
        """A stage starts."""
        if self._bar is not None:
            label = f"stage {self._done + 1} of {self._total}: {name}"
            self._bar.update(self._run, description=label)

    def stage_done(self) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update(self._run, completed=self._done)
            for task in self._steps:
                if task in [t.id for t in self._bar.tasks]:
                    self._bar.remove_task(task)
        self._steps = []

    def steps(self, stage: str, total: int) -> Callable[[str], None]:
        """Named steps within a stage: returns ``step(text)``, which shows "stage: text"
        with how many of ``total`` steps are done and the time since the stage's first
        step. The line goes when the stage is done. ``text`` must hold no personal data
        (step names and counts only)."""
        if self._bar is None:
            return lambda _text: None
        bar = self._bar
        task = bar.add_task(f"{stage}: starting", total=max(total, 1))
        self._steps.append(task)
        started = [False]

        def step(text: str) -> None:
            if started[0]:
                bar.advance(task, 1)
            started[0] = True
            bar.update(task, description=f"{stage}: {text}")

        return step

    def task(self, description: str, total: int | None) -> Callable[[int], None]:
        """A counted step within a stage: returns ``advance(n)``; the task ends with the stage
        (it is removed when it reaches its total)."""
        if self._bar is None:
            return lambda _n: None
        bar, task = self._bar, self._bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)
            t = bar.tasks[[x.id for x in bar.tasks].index(task)]
            if t.total is not None and t.completed >= t.total:
                bar.remove_task(task)

        return advance


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


@contextmanager
def run_progress(
    total_stages: int, *, stream: IO[str] | None = None, enabled: bool | None = None
) -> Iterator[RunProgress]:
    """A :class:`RunProgress` for the ``with`` block: drawn on ``stream`` (standard error)
    when ``enabled``, by default when that stream and standard output are both terminals
    (lines printed meanwhile go above the bar, on the bar's stream)."""
    stream = stream if stream is not None else sys.stderr
    if enabled is None:
        # both: the bar moves the stages' printed lines above itself, onto its own stream
        enabled = _is_tty(stream) and _is_tty(sys.stdout)
    if not enabled:
        yield RunProgress(total_stages)
        return
    bar = _progress(stream)
    with bar:
        yield RunProgress(total_stages, bar)

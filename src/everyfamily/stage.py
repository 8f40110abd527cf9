"""The stage contract: what a stage is, declared once, in its own package.

A :class:`Stage` is plain frozen data (like ehrQL's query model and datasette's settings):
its name, the zone it works in, the store tables it reads and writes (names from
``catalogue.py``), the report section it contributes, the map overlays it draws and the
function that runs it. Each stage declares itself once, in its package's ``stage.py``
(``STAGE = Stage(...)``); declaring it registers it, so

* the pipeline (``pipeline.run_pipeline``) runs every registered stage in ``order``, and
  checks after each stage that it wrote the tables it declared (:func:`missing_writes`);
* the report (``report/stage.py``) draws its sections in the order the declarations give
  (:func:`report_sections`);
* the dashboard labels the map overlays from the declarations (:func:`map_overlays`).

Adding a stage is one declaration: ``tests/foundation/test_stage_contract.py`` declares a
toy stage in the test and finds it run by the pipeline and its section in the report.

The built-in stages are found by importing every ``everyfamily.<package>.stage`` module
(:func:`discover`); this module imports no stage itself, so any module may read it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from everyfamily.pipeline import RunContext

#: The zone of direct identifiers and the zone of pseudonymised and aggregate tables
#: (catalogue.IDENTIFIABLE / catalogue.ANALYSIS, repeated to keep this module import-free).
ZONES = ("identifiable", "analysis")


@dataclass(frozen=True)
class ReportSection:
    """A section of report.html: ``key`` is its HTML id; ``order`` places it among the
    sections of every stage (smaller first); ``template`` names the report template that
    draws it (``report/templates/sections/<template>``). A section without a template is
    drawn by the generic one: its ``title`` and the lines the stage left in run.json under
    ``<stage name>.report`` (text the stage wrote for release: no value from a record)."""

    key: str
    title: str
    order: int
    template: str | None = None


@dataclass(frozen=True)
class MapOverlay:
    """A layer the dashboard's map can draw over the areas: ``key`` is the overlay's name
    (a ``reach.gpkg`` layer, or one built from a stage's output) and ``label`` its legend."""

    key: str
    label: str


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline (see the module docstring).

    ``reads``: store tables the stage reads when they exist (a missing one makes the stage
    skip or do less: it never fails for want of an optional input). ``writes``: tables the
    stage must have written when it ran (the pipeline checks); ``may_write``: tables it
    writes only in some runs (an ``access:`` block, a community found). A stage that did not
    run records ``{"skipped": reason}`` under its name in run.json and is not checked.
    ``order``: where it runs (smaller first). ``run``: the stage's entry point."""

    name: str
    zone: str
    order: int
    run: Callable[[RunContext], None]
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    may_write: tuple[str, ...] = ()
    sections: tuple[ReportSection, ...] = ()
    overlays: tuple[MapOverlay, ...] = ()

    def __post_init__(self) -> None:
        if self.zone not in ZONES:
            raise ValueError(f"stage {self.name!r}: zone must be one of {ZONES}, not {self.zone!r}")
        both = set(self.writes) & set(self.may_write)
        if both:
            raise ValueError(f"stage {self.name!r}: {sorted(both)} both in writes and may_write")
        register(self)

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the stage reads or writes."""
        return (*self.reads, *self.writes, *self.may_write)


_REGISTRY: dict[str, Stage] = {}


def register(stage: Stage) -> None:
    """Add ``stage`` to the registry (its declaration calls this). Declaring a stage again
    from the same module (a reload) replaces it; the same name from two places is an error."""
    old = _REGISTRY.get(stage.name)
    if old is not None and _origin(old) != _origin(stage):
        raise ValueError(
            f"two stages are named {stage.name!r} ({_origin(old)} and {_origin(stage)})"
        )
    _REGISTRY[stage.name] = stage


def unregister(name: str) -> None:
    """Remove a stage from the registry (tests that declare a toy stage clean up with it)."""
    _REGISTRY.pop(name, None)


@contextmanager
def declared(stage: Stage) -> Iterator[Stage]:
    """``stage`` registered for the ``with`` block only (tests)."""
    try:
        yield stage
    finally:
        unregister(stage.name)


def _origin(stage: Stage) -> str:
    return f"{getattr(stage.run, '__module__', '?')}.{getattr(stage.run, '__qualname__', '?')}"


def discover() -> tuple[Stage, ...]:
    """Every registered stage, in order, after importing the built-in ones (every
    ``everyfamily.<package>.stage`` module). Imported lazily so ``--help`` stays fast."""
    import everyfamily

    for info in pkgutil.iter_modules(everyfamily.__path__):
        if not info.ispkg:
            continue
        name = f"everyfamily.{info.name}.stage"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return tuple(sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name)))


def report_sections(stages: tuple[Stage, ...] | None = None) -> tuple[ReportSection, ...]:
    """The report's sections, from every stage's declaration, in ``order``."""
    chosen = discover() if stages is None else stages
    return tuple(sorted((s for st in chosen for s in st.sections), key=lambda s: s.order))


def map_overlays(stages: tuple[Stage, ...] | None = None) -> tuple[MapOverlay, ...]:
    """The dashboard's map overlays, from every stage's declaration, in stage order."""
    chosen = discover() if stages is None else stages
    return tuple(o for st in chosen for o in st.overlays)


def missing_writes(stage: Stage, has_table: Callable[[str], bool], record: object) -> list[str]:
    """Tables ``stage`` declared in ``writes`` that do not exist after it ran (none when it
    recorded ``{"skipped": ...}`` in run.json: ``record`` is ``metadata.get(stage.name)``)."""
    if isinstance(record, dict) and "skipped" in record:
        return []
    return [t for t in stage.writes if not has_table(t)]


def subset(stages: tuple[Stage, ...], names: Collection[str]) -> tuple[Stage, ...]:
    """The stages named in ``names``, in run order: a narrow run for tests and developers
    (``run_pipeline(..., stages=...)``), which skips the stages it does not name.

    Refused with one ConfigError: a name that is no stage, and a subset in which a stage
    reads a table (its ``reads``) that a left-out earlier stage must write (its ``writes``),
    since the stage would then read nothing or a stale copy carried from the previous run.
    Tables a stage only ``may_write`` (candidate findings, access tables) are optional
    inputs by the contract, so leaving their writer out is allowed: e.g. ``find`` without
    ``communities`` reports no community findings."""
    from everyfamily.errors import ConfigError

    known = [s.name for s in stages]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(
            f"stages {', '.join(map(repr, unknown))}: not a stage of the pipeline",
            hint=f"name stages among {', '.join(known)}",
        )
    chosen = tuple(s for s in stages if s.name in set(names))
    for stage in chosen:
        for table in stage.reads:
            writer = next(
                (
                    w
                    for w in stages
                    if w.order < stage.order and table in w.writes and w.name not in names
                ),
                None,
            )
            if writer is not None:
                raise ConfigError(
                    f"stages {', '.join(s.name for s in chosen)}: {stage.name!r} reads the "
                    f"table {table!r}, which the left-out stage {writer.name!r} writes",
                    hint=f"add {writer.name!r} to the stages, or leave the stages out to run "
                    "them all",
                )
    return chosen

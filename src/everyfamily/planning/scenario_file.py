"""The scenario file: what-if and optimised scenarios, validated with one-line errors.

A YAML mapping with one key, ``scenarios``, a list of scenarios (docs/planning.md)::

    scenarios:
      - id: close_least_used
        name: Close the least-used site
        close: [least_used]          # site ids, or the selector least_used (from the data)
      - id: optimised_today
        name: Best sites at today's cost
        optimise: {budget_share: 1.0}  # or budget: 1200000 (a year)
      - id: outreach_cut_off
        name: Outreach in the cut-off areas
        outreach: {areas: cut_off, hours: 400}   # area codes, or cut_off (barrier findings)
      - id: move_a
        name: Move site A to the library
        move: {from: A, to: LIB1}
        open: [SCHOOL3]
        sessions: {B: {stay and play: 4}}

Selectors are resolved against the run's data by the planning stage, never by name:
``least_used`` is the site with the fewest registered children nearest to it on foot;
``cut_off`` the small areas of the access stage's barrier findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from everyfamily.config.base import Strict
from everyfamily.config.planning import validate_file_text
from everyfamily.errors import ConfigError

#: Selectors a scenario may use in place of ids (resolved from the run's data).
LEAST_USED = "least_used"
CUT_OFF = "cut_off"


class Move(Strict):
    from_: str = Field(alias="from", min_length=1, description="Site to close.")
    to: str = Field(min_length=1, description="Site or venue to open instead.")


class OutreachSpec(Strict):
    areas: list[str] | str = Field(description="Area codes, or 'cut_off'.")
    hours: float = Field(gt=0, description="Outreach hours a year, shared over the areas.")

    @model_validator(mode="after")
    def _selector(self) -> OutreachSpec:
        if isinstance(self.areas, str) and self.areas != CUT_OFF:
            raise ValueError(f"areas: expected a list of area codes or {CUT_OFF!r}")
        return self


class OptimiseSpec(Strict):
    budget: float | None = Field(None, gt=0, description="Budget a year.")
    budget_share: float | None = Field(None, gt=0, description="Share of today's cost.")
    keep_sites: bool = Field(False, description="Keep every site open today (fixed).")

    @model_validator(mode="after")
    def _one(self) -> OptimiseSpec:
        if (self.budget is None) == (self.budget_share is None):
            raise ValueError("budget: give exactly one of budget or budget_share")
        return self


class ScenarioSpec(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1)
    close: list[str] = Field(default_factory=list)
    open: list[str] = Field(default_factory=list)
    move: Move | None = None
    sessions: dict[str, dict[str, float]] = Field(default_factory=dict)
    outreach: OutreachSpec | None = None
    optimise: OptimiseSpec | None = None

    @model_validator(mode="after")
    def _optimise_alone(self) -> ScenarioSpec:
        if self.optimise is not None and (self.close or self.open or self.move):
            raise ValueError("optimise: an optimised scenario chooses its own sites")
        return self


class ScenarioFile(Strict):
    scenarios: list[ScenarioSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScenarioFile:
        seen: set[str] = set()
        for s in self.scenarios:
            if s.id in seen or s.id == "baseline":
                raise ValueError(f"scenarios: the id {s.id!r} is used twice (or is 'baseline')")
            seen.add(s.id)
        return self


def parse_scenarios(text: str, *, filename: str = "scenarios.yaml") -> ScenarioFile:
    """Validate a scenario file's text: a one-line :class:`ConfigError` with the file, the
    line, the key and what was expected."""
    hint = "see docs/planning.md (the scenario file)"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None  # validate_file_text says where
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{filename}: expected a mapping with a 'scenarios' list", hint=hint)
    return validate_file_text(text, ScenarioFile, filename=filename, hint=hint)


def read_scenarios(path: Path) -> ScenarioFile:
    """Read and validate a scenario file (one-line errors naming it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(
            f"{path}: the scenario file cannot be read", hint="check the path"
        ) from None
    return parse_scenarios(text, filename=str(path))


def spec_dict(spec: ScenarioSpec) -> dict[str, Any]:
    """The spec as plain data (for run.json)."""
    return spec.model_dump(by_alias=True, exclude_defaults=True)

"""The costed service model: what each site, venue, session and outreach hour costs.

Validated like the project's other settings (unknown keys refused, values immutable, one-line
errors). It is the project file's ``planning:`` block (config/planning.py, where the model
now lives; re-exported here); :func:`parse_service_model` validates a bare mapping of it.

Every number carries where it came from: ``source: council`` (the council's own accounts or
outcomes), ``assumption`` (a documented guess, with its ``basis``) or ``illustrative`` (the
demo's made-up figures). Outputs show any figure that is not the council's as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from everyfamily.config.planning import (
    Outreach,
    ServiceModel,
    SessionType,
    Site,
    Source,
    Venue,
)
from everyfamily.errors import ConfigError

__all__ = [
    "Outreach",
    "ServiceModel",
    "SessionType",
    "Site",
    "Source",
    "Venue",
    "parse_service_model",
]


def parse_service_model(data: Mapping[str, Any], *, where: str = "planning") -> ServiceModel:
    """Validate a costed service model. Raises a one-line :class:`ConfigError` naming the
    setting (e.g. ``planning.sites[2].running_cost_per_year``), what was expected and where
    the settings are documented."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of planning settings")
    try:
        return ServiceModel.model_validate(dict(data))
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        parts: list[str] = [where]
        for p in err["loc"]:
            if isinstance(p, int):
                parts[-1] += f"[{p}]"
            else:
                parts.append(str(p))
        dotted = ".".join(parts)
        detail = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"{dotted}: unknown setting"
        elif err["type"] == "missing":
            msg = f"{dotted}: this setting is required"
        else:
            msg = f"{dotted}: {detail}"
        more = len(exc.errors()) - 1
        raise ConfigError(
            msg,
            hint=(f"{more} more problem(s) after this one; " if more else "")
            + "see docs/planning.md",
        ) from None

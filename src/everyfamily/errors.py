"""The one exception family.

Every error a user can cause is an :class:`EveryfamilyError`. The command line prints its
message on one line and exits with its ``exit_code``; ``--debug`` shows the traceback.

Messages say *where* (file, row, column, setting) and *what was expected*; they never hold a
value read from a person-level record (names, NHS numbers, dates of birth, postcodes), so an
error can be pasted into a ticket without a data breach.
"""

from __future__ import annotations


class EveryfamilyError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is the one-line message."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = self.message if self.hint is None else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class ConfigError(EveryfamilyError):
    """The project file is missing, malformed or has an invalid or unknown setting."""


class InputError(EveryfamilyError):
    """A data file cannot be read as configured (missing, unreadable, empty, wrong encoding,
    a mapped column that is not there)."""


class DataError(EveryfamilyError):
    """The data were read but cannot support the requested step (e.g. no universal source)."""


class EngineError(EveryfamilyError):
    """The store or compute engine is unavailable or misconfigured."""


class LinkageError(EveryfamilyError):
    """Record linkage could not be trained or applied."""


class PrivacyError(EveryfamilyError):
    """A privacy safeguard refused an operation (missing key, disclosure rule)."""


class AccessDenied(EveryfamilyError):
    """The user's role does not allow this."""

    exit_code = 3


class PlanningError(EveryfamilyError):
    """A plan cannot be made as asked (the solver failed, timed out or found no feasible
    site set); the message says what to relax."""

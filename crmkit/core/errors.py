"""Errors crmkit raises for input it cannot use.

Every error message names the thing (file, table, column, parameter), what was found and what
was expected, so the person reading it can fix the input without reading code.
"""

from __future__ import annotations


class CrmkitError(ValueError):
    """Base class for errors about input crmkit cannot use."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback, so a notebook on bad data prints one
        # clear message (and papermill records it as the run's failure reason).
        return [f"{type(self).__name__}: {self}"]


class DataError(CrmkitError):
    """A source table cannot be used: the unit's run stops with this message."""


class ParameterError(CrmkitError):
    """A parameter (YAML file, CLI option or function argument) is not valid."""


def require_columns(frame, columns: list[str], name: str, caller: str) -> None:
    """Raise :class:`ParameterError` naming the missing columns, the caller and what is there."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"Column(s) {missing} required by {caller}() are missing from {name}; "
            f"present: {list(frame.columns)}."
        )

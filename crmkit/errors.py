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

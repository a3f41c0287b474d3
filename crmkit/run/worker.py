"""Set-up for crmkit's own processes (the CLI and the report workers), not for library use."""

from __future__ import annotations

import sys


def skip_slow_optional_imports() -> None:
    """jsonschema imports ``rfc3987_syntax`` when it is installed (jupyterlab brings it),
    which builds a grammar at import and costs ~1.4 s in every process that reads a notebook.
    nbformat never validates IRIs, so our processes mark it as absent."""
    sys.modules.setdefault("rfc3987_syntax", None)


skip_slow_optional_imports()

# Imported once in the fork server; every worker forked from it starts with them loaded.
import nbconvert.exporters.html  # noqa: E402, F401
import nbformat  # noqa: E402, F401
import papermill  # noqa: E402, F401

import crmkit.run.report  # noqa: E402, F401

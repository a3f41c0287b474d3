"""The fork server's preload for ``crmkit run``'s worker processes; not for library use.

Imported once in the fork server (:func:`crmkit.run.fleet.run_jobs`): every worker forked from
it starts with papermill, nbconvert and nbformat loaded instead of paying ~1 s each to import
them. Only this module and ``crmkit run`` import them: ``crmkit sample`` and ``crmkit validate``
start without.
"""

from __future__ import annotations

import sys

# As crmkit.run.cli.skip_slow_optional_imports, without importing the command-line module:
# a worker of `python -m crmkit.run.cli run` re-imports it as its __main__, and would warn
# that it found it imported already.
sys.modules.setdefault("rfc3987_syntax", None)

import nbconvert.exporters.html  # noqa: E402, F401
import nbformat  # noqa: E402, F401
import papermill  # noqa: E402, F401

import crmkit.run.execute  # noqa: E402, F401

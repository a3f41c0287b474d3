"""The fork server's preload for ``crmkit run``'s worker processes; not for library use.

Imported once in the fork server (:func:`crmkit.run.fleet.run_jobs`): every worker forked from
it starts with papermill, nbconvert and nbformat loaded instead of paying ~1 s each to import
them. Only this module and ``crmkit run`` import them: ``crmkit sample`` and ``crmkit validate``
start without.
"""

from __future__ import annotations

from crmkit.run.cli import skip_slow_optional_imports

skip_slow_optional_imports()

import nbconvert.exporters.html  # noqa: E402, F401
import nbformat  # noqa: E402, F401
import papermill  # noqa: E402, F401

import crmkit.run.execute  # noqa: E402, F401

"""crmkit: CRM metrics for analysts, run per business unit and period, read as offline HTML.

``import crmkit as ck`` gives what a notebook's set-up needs: ``ck.open_unit`` (theme and
unit in one call), ``ck.load_unit``, and the presentation modules ``ck.nb`` (tables,
findings, published results) and ``ck.plots`` (charts). The statistics are
``crmkit.metrics.<topic>``, each report's words ``crmkit.topics.<topic>``; the layers are
described in ``docs/architecture.md``. Modules load on first use, so the command line does not
pay for matplotlib and seaborn.
"""

from __future__ import annotations

import importlib
from typing import Any

from crmkit.core.errors import CrmkitError, DataError, ParameterError
from crmkit.load.unit import CRMData, load_unit

_MODULES = {
    "nb": "crmkit.present.notebook",
    "plots": "crmkit.present.plots",
    "periods": "crmkit.core.periods",
    "schema": "crmkit.core.schema",
    "stats": "crmkit.metrics.stats",
}

__all__ = [
    "CRMData",
    "CrmkitError",
    "DataError",
    "ParameterError",
    "load_unit",
    "open_unit",
    *_MODULES,
]
__version__ = "0.1.0"


def open_unit(namespace: dict[str, Any]) -> CRMData:
    """A notebook's set-up cell: ``unit = ck.open_unit(globals())`` (the chart theme, and the
    unit loaded with the parameters cell's values); see :func:`crmkit.present.notebook.open_unit`.
    """
    from crmkit.present.notebook import open_unit as _open_unit

    return _open_unit(namespace)


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crmkit' has no attribute {name!r}")

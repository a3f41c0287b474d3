"""crmkit: CRM metrics for analysts, run per business unit and period, read as offline HTML.

``import crmkit as ck`` gives the notebook-facing API: ``ck.load_unit`` and the modules
``ck.quality``, ``ck.segmentation``, ``ck.clv``, ``ck.funnel``, ``ck.satisfaction``,
``ck.stats``, ``ck.plots``, ``ck.periods``, ``ck.schema`` and ``ck.nb`` (presentation
helpers). The modules load on first use, so the command line and report workers do not pay
for matplotlib and seaborn.
"""

from __future__ import annotations

import importlib
from typing import Any

from crmkit.core.errors import CrmkitError, DataError, ParameterError
from crmkit.load.unit import CRMData, load_unit


def open_unit(namespace):
    """The notebook set-up cell: ``unit = ck.open_unit(globals())``."""
    from crmkit.present.notebook import open_unit as _open_unit

    return _open_unit(namespace)


_MODULES = {
    "clv": "crmkit.metrics.clv",
    "funnel": "crmkit.metrics.funnel",
    "satisfaction": "crmkit.metrics.satisfaction",
    "segmentation": "crmkit.metrics.segmentation",
    "stats": "crmkit.metrics.stats",
    "nb": "crmkit.present.notebook",
    "periods": "crmkit.core.periods",
    "plots": "crmkit.present.plots",
    "quality": "crmkit.metrics.quality",
    "schema": "crmkit.core.schema",
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


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crmkit' has no attribute {name!r}")

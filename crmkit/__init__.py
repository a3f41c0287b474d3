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

from crmkit.errors import CrmkitError, DataError, ParameterError
from crmkit.io import CRMData, load_unit

_MODULES = {
    "clv": "crmkit.clv",
    "funnel": "crmkit.funnel",
    "satisfaction": "crmkit.satisfaction",
    "segmentation": "crmkit.segmentation",
    "stats": "crmkit.stats",
    "nb": "crmkit.notebook",
    "periods": "crmkit.periods",
    "plots": "crmkit.plots",
    "quality": "crmkit.quality",
    "schema": "crmkit.schema",
}

__all__ = ["CRMData", "CrmkitError", "DataError", "ParameterError", "load_unit", *_MODULES]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crmkit' has no attribute {name!r}")

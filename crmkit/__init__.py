"""crmkit: CRM metrics for analysts, run per business unit and period, read as offline HTML.

``import crmkit as ck`` gives the notebook-facing API: ``ck.load_unit`` and the modules
``ck.quality``, ``ck.plots``, ``ck.periods`` and ``ck.nb`` (presentation helpers).
"""

from crmkit import notebook as nb
from crmkit import periods, plots, quality, schema
from crmkit.errors import CrmkitError, DataError, ParameterError
from crmkit.io import CRMData, load_unit

__all__ = [
    "CRMData",
    "CrmkitError",
    "DataError",
    "ParameterError",
    "load_unit",
    "nb",
    "periods",
    "plots",
    "quality",
    "schema",
]
__version__ = "0.1.0"

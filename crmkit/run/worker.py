"""The fork server's preload for ``crmkit run``'s worker processes; not for library use.

Imported once in the fork server (:func:`crmkit.run.fleet.run_jobs`): every worker forked from
it starts with papermill, nbconvert and nbformat loaded instead of paying ~1 s each to import
them, and with the report template compiled. Only this module and ``crmkit run`` import them:
``crmkit sample`` and ``crmkit validate`` start without.

It also imports what the notebooks import (IPython's kernel, crmkit's analyses, pandas,
matplotlib, seaborn, SciPy, scikit-learn, lifetimes): a worker forks its kernels
(:mod:`crmkit.run.forked_kernel`), which start with them loaded, ~1.5 s sooner each.
"""

from __future__ import annotations

import os
import sys

# As crmkit.run.cli.skip_slow_optional_imports, without importing the command-line module:
# a worker of `python -m crmkit.run.cli run` re-imports it as its __main__, and would warn
# that it found it imported already.
sys.modules.setdefault("rfc3987_syntax", None)

import nbconvert.exporters.html  # noqa: E402, F401
import nbformat  # noqa: E402
import papermill  # noqa: E402, F401

import crmkit.run.execute  # noqa: E402
from crmkit.run.html import render_html  # noqa: E402

# The report template compiled once (~0.3 s), not in every worker's first page.
render_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# crmkit")]))

# What every kernel imports, for kernels forked from the worker (crmkit.run.forked_kernel).
# matplotlib resolves its backend at the first figure, in the kernel: the inline one.
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

import contextlib  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402

import crmkit  # noqa: E402


def _preload(names) -> None:
    for name in names:
        with contextlib.suppress(Exception):  # a kernel that needs it says why it cannot
            importlib.import_module(name)


_preload(["ipykernel.kernelapp"])
_preload(
    module.name
    for module in pkgutil.walk_packages(crmkit.__path__, "crmkit.")
    if not module.name.startswith(("crmkit.run", "crmkit.notebooks"))
)
# what the analyses import where they are used
_preload(
    [
        "lifetimes",
        "pyarrow.compute",
        "pyarrow.parquet",
        "sklearn.cluster",
        "sklearn.ensemble",
        "sklearn.feature_extraction.text",
        "sklearn.inspection",
        "sklearn.linear_model",
        "sklearn.metrics",
        "sklearn.model_selection",
        "sklearn.preprocessing",
    ]
)

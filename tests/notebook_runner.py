"""Run a packaged notebook in this process, through its own code, and collect what it shows.

Not a test file: tests import it with ``from notebook_runner import run_notebook``.

Papermill starts a kernel per run (~3 s before the first cell); the contract matrix runs
every topic on every variant, so it executes the notebook's code cells here instead, much as
a kernel would:

- each run gets a fresh namespace; the ``parameters`` cell runs first, then the given
  parameters replace the names it declares (as papermill's injected cell does; names it does
  not declare are ignored, as ``crmkit run`` passes a notebook only what it declares);
- ``IPython.display.display`` is replaced for the run by a collector, so ``display(...)``,
  ``ck.nb.show`` and ``ck.nb.publish_results`` are recorded; a cell's last expression is
  displayed when it is not ``None``, as IPython does;
- what is displayed is rendered the way a report renders it: Markdown kept as text, a pandas
  Styler or DataFrame to HTML (its formatters run), a figure drawn (matplotlib Agg); figures
  left open at the end of a cell are drawn and closed, as the inline backend does;
- printed text and warnings are recorded as outputs too;
- an exception propagates unchanged, with a note naming the cell and its first line.

The cells are the notebook file's own source, so a bug in a notebook is found here as it
would be under papermill.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import IPython.display
import matplotlib.pyplot as plt
import nbformat
import pandas as pd

from crmkit.present import notebook as notebook_helpers
from crmkit.present.notebook import RESULTS_MIMETYPE

NOTEBOOKS = Path(__file__).resolve().parents[1] / "crmkit" / "notebooks"


@dataclass(frozen=True)
class Output:
    """One thing a run showed: ``kind`` is markdown, html, text, figure, stream or warning;
    ``text`` what a reader would read (a figure's titles and labels)."""

    cell: int
    kind: str
    text: str


@dataclass
class NotebookRun:
    """What a run showed, in order, and the results it published (``None`` if it did not)."""

    notebook: str
    outputs: list[Output] = field(default_factory=list)
    results: dict[str, Any] | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)

    def texts(self, kind: str | None = None) -> list[str]:
        """The text of every output (of one kind)."""
        return [o.text for o in self.outputs if kind is None or o.kind == kind]

    @property
    def markdown(self) -> str:
        """All Markdown shown, one block per output."""
        return "\n\n".join(self.texts("markdown"))


@dataclass(frozen=True)
class _Cell:
    index: int
    source: str
    body: Any  # compiled statements before the last expression
    last: Any  # compiled last expression, or None


def _compile(index: int, source: str, filename: str) -> _Cell:
    tree = ast.parse(source, filename=filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
    return _Cell(index, source, compile(tree, filename, "exec"), last)


@cache
def _cells(path: Path, mtime: float) -> tuple[_Cell | None, tuple[_Cell, ...]]:
    """The parameters cell and the other code cells of a notebook, compiled once."""
    notebook = nbformat.read(path, as_version=4)
    parameters, cells = None, []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        compiled = _compile(index, cell.source, f"<{path.stem}.ipynb cell {index}>")
        if "parameters" in cell.metadata.get("tags", []):
            parameters = compiled
        else:
            cells.append(compiled)
    return parameters, tuple(cells)


def _figure_text(figure, *, draw: bool) -> str:
    """A figure's words (titles, axis labels, tick labels), drawn first if ``draw``."""
    if draw:
        figure.canvas.draw()
    words = [figure._suptitle.get_text()] if figure._suptitle else []
    for axes in figure.axes:
        words += [axes.get_title(), axes.get_xlabel(), axes.get_ylabel()]
        words += [t.get_text() for t in (*axes.get_xticklabels(), *axes.get_yticklabels())]
        legend = axes.get_legend()
        if legend is not None:
            words += [t.get_text() for t in legend.get_texts()]
    return "\n".join(w for w in words if w)


class _Collector:
    """Stands in for ``IPython.display.display`` during a run."""

    def __init__(self, run: NotebookRun, *, draw: bool) -> None:
        self.run = run
        self.draw = draw
        self.cell = -1

    def add(self, kind: str, text: str) -> None:
        self.run.outputs.append(Output(self.cell, kind, text))

    def __call__(self, *objects: Any, raw: bool = False, **_: Any) -> None:
        for obj in objects:
            self.show(obj, raw=raw)

    def show(self, obj: Any, *, raw: bool = False) -> None:
        from matplotlib.figure import Figure
        from pandas.io.formats.style import Styler

        if raw and isinstance(obj, dict):
            if RESULTS_MIMETYPE in obj:
                self.run.results = obj[RESULTS_MIMETYPE]["results"]
                self.run.flags = obj[RESULTS_MIMETYPE]["flags"]
            for mime, data in obj.items():
                if mime != RESULTS_MIMETYPE:
                    self.add("text", str(data))
        elif isinstance(obj, IPython.display.Markdown):
            self.add("markdown", obj.data)
        elif isinstance(obj, IPython.display.HTML):
            self.add("html", obj.data)
        elif isinstance(obj, Styler | pd.DataFrame):
            self.add("html", obj.to_html())
        elif isinstance(obj, Figure):
            self.add("figure", _figure_text(obj, draw=self.draw))
        elif hasattr(obj, "figure") and isinstance(obj.figure, Figure):
            self.add("figure", _figure_text(obj.figure, draw=self.draw))
        elif hasattr(obj, "_repr_html_"):
            self.add("html", obj._repr_html_() or "")
        else:
            self.add("text", repr(obj))

    def flush_figures(self) -> None:
        """Draw and close the figures a cell left open, as the inline backend does."""
        for number in plt.get_fignums():
            self.add("figure", _figure_text(plt.figure(number), draw=self.draw))
        plt.close("all")


class LoadCache:
    """Loads each unit once for several runs: ``crmkit.present.notebook.load_unit`` is
    replaced during a run by a version that remembers its result per arguments and hands
    each run a deep copy. ``open_unit`` and everything after loading still run for real;
    only the repeated reading of the same files is saved."""

    def __init__(self) -> None:
        self.units: dict[str, Any] = {}

    def wrap(self, load: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(load)
        def cached(*args: Any, **kwargs: Any) -> Any:
            key = repr((args, sorted(kwargs.items())))
            if key not in self.units:
                self.units[key] = load(*args, **kwargs)
            return copy.deepcopy(self.units[key])

        return cached


@contextlib.contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def run_notebook(
    notebook: str | Path,
    parameters: dict[str, Any],
    *,
    draw: bool = True,
    load_cache: LoadCache | None = None,
) -> NotebookRun:
    """Execute ``notebook`` (a packaged topic's name, or a path) with ``parameters`` and return
    what it showed and published.

    ``draw=False`` makes the figures but does not draw them (drawing is most of a small run's
    time; what fails at drawing shows in the runs that draw). ``load_cache`` shares loading
    between runs on the same data.

    Raises whatever a cell raises, with a note naming the cell.
    """
    path = Path(notebook) if str(notebook).endswith(".ipynb") else NOTEBOOKS / f"{notebook}.ipynb"
    parameters_cell, cells = _cells(path, path.stat().st_mtime)
    run = NotebookRun(path.stem)
    collector = _Collector(run, draw=draw)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    if parameters_cell is not None:
        exec(parameters_cell.body, namespace)
    declared = {k for k in namespace if not k.startswith("__")}
    namespace.update({k: v for k, v in parameters.items() if k in declared})
    stdout = io.StringIO()
    plt.close("all")
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(IPython.display, "display", collector))
        if load_cache is not None:
            loader = load_cache.wrap(notebook_helpers.load_unit)
            stack.enter_context(_patched(notebook_helpers, "load_unit", loader))
        stack.callback(plt.close, "all")
        stack.enter_context(contextlib.redirect_stdout(stdout))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        for cell in cells:
            collector.cell = cell.index
            try:
                exec(cell.body, namespace)
                if cell.last is not None:
                    value = eval(cell.last, namespace)
                    if value is not None:
                        collector.show(value)
                collector.flush_figures()
            except BaseException as exc:
                first = cell.source.strip().splitlines()[0]
                exc.add_note(f"in {path.name}, cell {cell.index}: {first} ...")
                raise
            if stdout.tell():
                collector.add("stream", stdout.getvalue())
                stdout.seek(0)
                stdout.truncate()
            for warning in caught:
                collector.add("warning", f"{warning.category.__name__}: {warning.message}")
            caught.clear()
    return run

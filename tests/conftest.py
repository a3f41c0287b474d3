from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_finish(session):
    """The contract matrix's runs start now, in the background (``tests/matrix_runs.py``)."""
    import matrix_runs

    if not session.config.option.collectonly:
        matrix_runs.start(session.items)


def pytest_sessionfinish(session):
    import matrix_runs

    matrix_runs.stop()


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test starts from matplotlib's settings as the session began: a notebook run in
    this process applies the crmkit theme (titles on the left, among others) for good."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two units, a handful of rows each, every value chosen so answers can be hand-counted."""
    customers = pd.DataFrame(
        {
            "customer_id": ["A1", "A2", "A3", "B1"],
            "business_unit": ["alpha", "alpha", "alpha", "beta"],
            "signup_date": ["2026-01-05", "2026-02-10", "2026-08-01", "2026-03-01"],
            "region": ["East", "East", "West", "East"],
            "name": ["Ann Alpha", "Al Alpha", "Ada Alpha", "Ben Beta"],
            "email": ["ann@a.com", "al@a.com", "ada@a.com", "ben@b.com"],
        }
    )
    transactions = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["A1", "A1", "A2", "A3", "B1"],
            "business_unit": ["alpha", "alpha", "alpha", "alpha", "beta"],
            "order_date": ["2026-01-05", "2026-07-15", "2026-08-20", "2026-09-01", "2026-08-01"],
            "amount": ["10.00", "20.50", "5", "7.25", "99"],
        }
    )
    return {"customers": customers, "transactions": transactions}


def write_folder(
    folder: Path, tables: dict[str, pd.DataFrame], *, encoding: str = "utf-8", suffix: str = ".csv"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = folder / f"{name}{suffix}"
        if suffix == ".csv":
            frame.to_csv(path, index=False, encoding=encoding)
        elif suffix == ".parquet":
            frame.to_parquet(path, index=False)
        elif suffix == ".xlsx":
            frame.to_excel(path, index=False)
    return folder


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "data", tiny_tables())


def pipeline_opportunities() -> pd.DataFrame:
    """Seven opportunities of 2026-Q3 whose funnel is counted by hand in the funnel tests."""
    return pd.DataFrame(
        {
            "opportunity_id": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"],
            "created_at": pd.to_datetime(
                [
                    "2026-07-01",
                    "2026-07-02",
                    "2026-07-03",
                    "2026-07-04",
                    "2026-07-05",
                    "2026-07-06",
                    "2026-07-07",
                ]
            ),
            "outcome": ["won", "lost", "lost", "open", "open", "won", "lost"],
            "closed_at": pd.to_datetime(
                ["2026-08-01", "2026-07-20", "2026-07-10", None, None, "2026-10-05", "2026-07-08"]
            ),
            "source": ["web", "web", "fair", "fair", "web", "web", "fair"],
            "owner": ["Ann", "Bo", "Ann", "Bo", "Ann", "Bo", "Ann"],
            "amount": [1000.0, 10.0, 20.0, 30.0, 40.0, 500.0, 60.0],
        }
    )


def pipeline_history() -> pd.DataFrame:
    """Their stage history: skipped stages, a mis-cased stage, an unknown one, a late win."""
    rows = [
        ("p1", "lead", "2026-07-01"),
        ("p1", "intent", "2026-07-05"),
        ("p1", "negotiation", "2026-07-15"),
        ("p1", "won", "2026-08-01"),
        ("p2", "lead", "2026-07-02"),
        ("p2", "Intent", "2026-07-06"),  # lost at intent
        ("p3", "lead", "2026-07-03"),  # lost at lead
        ("p4", "lead", "2026-07-04"),
        ("p4", "negotiation", "2026-07-20"),  # skipped intent, open
        ("p5", "lead", "2026-07-05"),  # open at lead
        ("p6", "lead", "2026-07-06"),
        ("p6", "intent", "2026-07-09"),
        ("p6", "negotiation", "2026-09-01"),
        ("p6", "won", "2026-10-05"),  # won after as_of
        ("p7", "unknown stage", "2026-07-07"),  # only an unknown stage: still a lead
    ]
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"]).assign(
        entered_at=lambda d: pd.to_datetime(d["entered_at"])
    )


def segment_orders() -> pd.DataFrame:
    """Six orders of three customers, for segmentation counted by hand."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c"],
            "order_date": pd.to_datetime(
                ["2026-01-01", "2026-06-01", "2026-09-20", "2026-03-01", "2026-09-01", "2026-09-29"]
            ),
            "amount": [100.0, 50.0, 50.0, 10.0, 20.0, 30.0],
            "channel": ["store", "store", "online", "online", "online", "online"],
        }
    )


def segment_people() -> pd.DataFrame:
    """Four customers: three buyers and one who never bought."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_date": pd.to_datetime(["2025-12-01", "2026-02-01", "2026-08-15", "2026-09-01"]),
            "region": ["East", "West", "East", None],
            "age": [23, 40, 67, 35],
        }
    )


def tiny_unit(folder: Path):
    """Unit alpha of :func:`tiny_tables`, one region left blank, loaded for 2026-Q3."""
    from crmkit.load.unit import load_unit

    tables = tiny_tables()
    tables["customers"].loc[1, "region"] = ""
    write_folder(folder, tables)
    return load_unit("alpha", data_source=str(folder), period="2026-Q3", as_of="2026-10-15")


def sample_funnel(name: str, period: str = "2026-Q3"):
    """A sample unit, its funnel stages and its funnel analysis, with the unit's parameters."""
    from crmkit.load.unit import load_unit
    from crmkit.metrics import funnel
    from crmkit.run.params import load_params

    params = load_params(ROOT / "parameters" / f"{name}.yaml")
    unit = load_unit(name, data_source=ROOT / "sample_data", period=period, as_of="2026-10-15")
    analysis = funnel.analyse(
        unit["opportunities"],
        unit["stage_history"],
        stages=params["funnel_stages"],
        period=unit.period,
        window_days=params["conversion_window_days"],
        breakdown_columns=params["funnel_breakdowns"],
        costs=unit.tables.get("costs"),
    )
    return unit, params["funnel_stages"], analysis


def write_notebook(path: Path, *cells: str) -> None:
    """A notebook of the given code cells after a parameters cell, for the runner's tests."""
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('business_unit = "x"', metadata={"tags": ["parameters"]}),
            *[nbformat.v4.new_code_cell(source) for source in cells],
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@pytest.fixture(scope="session")
def sample_fleet(tmp_path_factory) -> dict:
    """`crmkit run --period 2026-Q3` over every sample unit (the repository's unit files: east
    in Chinese) and one unit whose data is broken (customers without signup_date): the one
    end-to-end fleet run the slow tests share."""
    import shutil

    from crmkit.run.cli import main

    sample = ROOT / "sample_data"
    base = tmp_path_factory.mktemp("project")
    params = base / "parameters"
    params.mkdir()
    for unit in ("east", "north", "south", "west"):
        shutil.copy(ROOT / "parameters" / f"{unit}.yaml", params)
    (params / "defaults.yaml").write_text(f"data_source: {sample}\n", encoding="utf-8")
    broken = base / "broken_data"
    broken.mkdir()
    customers = pd.read_csv(sample / "customers.csv", nrows=50).drop(columns="signup_date")
    customers["business_unit"] = "broken"
    customers.to_csv(broken / "customers.csv", index=False)
    shutil.copy(sample / "transactions.csv", broken)
    (params / "broken.yaml").write_text(
        f"business_unit: broken\ndisplay_name: Broken Unit\ncurrency: USD\ndata_source: {broken}\n"
    )
    out = base / "reports"
    argv = ["run", "--period", "2026-Q3", "--params", str(params), "--out", str(out)]
    status = main([*argv, "--jobs", "2", "--no-progress"])
    return {"status": status, "out": out, "period_dir": out / "2026-Q3"}


def assert_same_result(a, b, where: str = "result") -> None:
    """Two analyses are equal in every field, down to their frames, arrays and fitted
    models (compared by their attributes): what a report could show of either is the same.
    Numbers agree to 1e-12 relative: a sum over a column held in another memory layout
    (a table's column alone, or beside others) can differ in its last bit."""
    import dataclasses
    import math

    import numpy as np

    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, pd.DataFrame | pd.Series | pd.Index):
        assert a.equals(b) or _frames_equal(a, b), where
    elif isinstance(a, np.ndarray):
        if a.dtype.kind in "fc":
            same = a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
            assert same, where
        else:
            assert np.array_equal(a, b), where
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            name = field.name
            assert_same_result(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same_result(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_result(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b)), (where, a, b)
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert_same_result(vars(a), vars(b), where)
    else:
        assert a == b, (where, a, b)


def _frames_equal(a, b) -> bool:
    try:
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0)
        elif isinstance(a, pd.Series):
            pd.testing.assert_series_equal(a, b, check_exact=False, rtol=1e-12, atol=0)
        else:
            pd.testing.assert_index_equal(a, b, exact=True)
    except AssertionError:
        return False
    return True

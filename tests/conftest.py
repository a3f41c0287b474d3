from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
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

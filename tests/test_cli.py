from pathlib import Path

import pandas as pd
from conftest import tiny_tables, write_folder

from crmkit.run.cli import main


def make_params(tmp_path: Path, tables: dict) -> Path:
    data = write_folder(tmp_path / "data", tables)
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "alpha.yaml").write_text(f"business_unit: alpha\ndata_source: {data}\n")
    return params


def test_validate_prints_the_log(tmp_path: Path, capsys):
    tables = tiny_tables()
    tables["transactions"] = pd.concat([tables["transactions"]] * 2)
    params = make_params(tmp_path, tables)
    status = main(
        [
            "validate",
            "--params",
            str(params / "alpha.yaml"),
            "--period",
            "2026-Q3",
            "--as-of",
            "2026-10-15",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "✓ alpha" in out and "dropped 4" in out
    assert "transactions: exact duplicate row: dropped 4 e.g. o1, o2, o3, o4\n" in out
    assert "o5" not in out  # beta's row is not alpha's concern


def test_validate_exits_1_on_unusable_data(tmp_path: Path, capsys):
    tables = tiny_tables()
    tables["customers"] = tables["customers"].drop(columns="signup_date")
    params = make_params(tmp_path, tables)
    status = main(["validate", "--params-dir", str(params), "--period", "2026-Q3"])
    out = capsys.readouterr().out
    assert status == 1
    assert "✗ alpha" in out and "missing required column(s) ['signup_date']" in out


def test_run_rejects_unknown_unit_and_notebook(tmp_path: Path, capsys):
    params = make_params(tmp_path, tiny_tables())
    assert (
        main(["run", "--params", str(params), "--unit", "gamma", "--out", str(tmp_path / "r")]) == 2
    )
    assert "Unit(s) ['gamma'] have no parameter file" in capsys.readouterr().err
    assert (
        main(["run", "--params", str(params), "--notebook", "nps", "--out", str(tmp_path / "r")])
        == 2
    )
    assert "Unknown notebook(s) ['nps']" in capsys.readouterr().err


def test_bad_period_is_a_clear_error(tmp_path: Path, capsys):
    params = make_params(tmp_path, tiny_tables())
    assert main(["run", "--params", str(params), "--period", "Q9"]) == 2
    assert "Period 'Q9' is not understood" in capsys.readouterr().err


def test_sample_command_writes_a_smaller_set(tmp_path: Path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s"), "--customers", "150", "--seed", "3"]) == 0
    customers = pd.read_csv(tmp_path / "s" / "customers.csv")
    assert customers.groupby("business_unit").size().tolist() == [150, 150, 150, 150 + 10]

"""Configuration mistakes are refused before anything runs: values read as written, unit ids
that are safe folder names, one file per unit, periods that have started, a stated currency."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import ParameterError
from crmkit.core.periods import check_period_started, parse_period
from crmkit.run.cli import main
from crmkit.run.params import load_params, read_unit_file, unit_id_problem
from crmkit.run.plan import plan_jobs

REQUIRED = "currency: USD\ndata_source: data\n"


def unit_file(tmp_path: Path, text: str, name: str = "u.yaml") -> Path:
    folder = tmp_path / "parameters"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- read as written


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("NO", "NO"),  # YAML 1.1: False
        ("no", "no"),
        ("yes", "yes"),  # True
        ("0101", "0101"),  # the octal 65
        ("007", "007"),  # 7
        ("1.0", "1.0"),  # 1.0
        ("1e3", "1e3"),  # 1000.0 in YAML 1.2 readers
        ("2026-10-15", "2026-10-15"),  # a date
        ("0x1F", "0x1F"),  # 31
        ("1_000", "1_000"),  # 1000
        ("'0101'", "0101"),
        ('"NO"', "NO"),
        ("华东", "华东"),
    ],
)
def test_business_unit_is_the_text_written(tmp_path: Path, written: str, read: str):
    params = load_params(unit_file(tmp_path, f"business_unit: {written}\n{REQUIRED}"))
    assert params["business_unit"] == read


def test_names_lists_and_mappings_are_text(tmp_path: Path):
    path = unit_file(
        tmp_path,
        "business_unit: NO\n"
        "display_name: 2026\n"
        "currency: NOK\n"
        "data_source: 2026-10\n"
        "as_of: 2026-10-15\n"
        "funnel_stages: [yes, no, 1.0, on, 2026-01-01]\n"
        "funnel_breakdowns: [true, 007]\n"
        "satisfaction_breakdowns: [null_region, '1']\n"
        "pii_columns: [0123]\n"
        "column_map: {0101: customer_id, yes: amount, Kunde: 1.5}\n"
        "tables: {customers: 2024, transactions: off}\n"
        "segment_actions: {champions: no}\n",
    )
    params = load_params(path)
    assert params["business_unit"] == "NO"
    assert params["display_name"] == "2026"
    assert params["as_of"] == "2026-10-15"
    assert params["funnel_stages"] == ["yes", "no", "1.0", "on", "2026-01-01"]
    assert params["funnel_breakdowns"] == ["true", "007"]
    assert params["satisfaction_breakdowns"] == ["null_region", "1"]
    assert params["pii_columns"] == ["0123"]
    assert params["column_map"] == {"0101": "customer_id", "yes": "amount", "Kunde": "1.5"}
    assert params["tables"] == {"customers": "2024", "transactions": "off"}
    assert params["segment_actions"] == {"champions": "no"}
    assert params["data_source"] == str((tmp_path / "2026-10").resolve())


def test_numeric_parameters_stay_numbers_read_as_decimals(tmp_path: Path):
    path = unit_file(
        tmp_path,
        f"business_unit: u\n{REQUIRED}"
        "conversion_window_days: 060\n"  # YAML 1.1 would read the octal 48
        "clv_horizon_months: 24\n"
        "clv_discount_rate: 0.015\n"
        "clv_holdout_weeks: 1_0\n"
        "lifecycle_rules: {new_days: 30, active_days: 180.5}\n",
    )
    params = load_params(path)
    assert params["conversion_window_days"] == 60 and isinstance(
        params["conversion_window_days"], int
    )
    assert params["clv_horizon_months"] == 24
    assert params["clv_discount_rate"] == pytest.approx(0.015)
    assert params["clv_holdout_weeks"] == 10
    assert params["lifecycle_rules"] == {"new_days": 30, "active_days": 180.5}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("conversion_window_days: 90 days", r"'conversion_window_days' must be a number"),
        ("clv_discount_rate: 1%", r"'clv_discount_rate' must be a number \(default: 0\.01\)"),
        ("clv_horizon_months: .nan", r"'clv_horizon_months' must be a number"),
        (
            "clv_horizon_months:",
            r"'clv_horizon_months' must be a number \(default: 12\); got nothing\.",
        ),
        ("funnel_stages: lead, won", r"'funnel_stages' must be a list of names, like \[a, b\]"),
        ("funnel_stages: [lead, [a, b]]", r"'funnel_stages' must be a list of names"),
        ("display_name: [a, b]", r"'display_name' must be a single value"),
        ("business_unit: {a: b}", r"'business_unit' must be a single value"),
        ("column_map: [a, b]", r"'column_map' must be a mapping of names to values"),
        ("lifecycle_rules: {new_days: soon}", r"mapping of names to numbers \('new_days'"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(tmp_path: Path, line: str, message: str):
    own_unit = line.startswith("business_unit")
    path = unit_file(
        tmp_path, f"{line}\n{REQUIRED}" if own_unit else f"business_unit: u\n{REQUIRED}{line}\n"
    )
    with pytest.raises(ParameterError, match=message) as raised:
        read_unit_file(path)
    assert str(path) in str(raised.value)


def test_an_empty_list_or_mapping_is_empty(tmp_path: Path):
    # every entry commented out leaves the key with nothing: an empty list / mapping
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}pii_columns:\ncolumn_map:\n")
    params = load_params(path)
    assert params["pii_columns"] == [] and params["column_map"] == {}


def test_a_key_set_twice_is_refused_with_its_lines(tmp_path: Path):
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}currency: EUR\n")
    with pytest.raises(ParameterError, match=r"'currency' is set twice \(lines 2 and 4\)"):
        load_params(path)
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}column_map: {{a: x, a: y}}\n")
    with pytest.raises(ParameterError, match=r"'a' is set twice"):
        load_params(path)


def test_unknown_keys_are_named_as_written(tmp_path: Path):
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}yes: 1\n")
    with pytest.raises(ParameterError, match=r"unknown parameter 'yes'"):
        load_params(path)


def test_defaults_file_is_read_the_same_way(tmp_path: Path):
    defaults = "display_name: 0101\ncurrency: usd\nfunnel_stages: [no, yes]\n"
    unit_file(tmp_path, defaults, name="defaults.yaml")
    params = load_params(unit_file(tmp_path, "business_unit: u\ndata_source: d\n"))
    assert params["display_name"] == "0101" and params["funnel_stages"] == ["no", "yes"]
    assert params["currency"] == "USD"


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path):
    path = unit_file(tmp_path, "")
    path.write_bytes("business_unit: 华东\n".encode("gbk"))
    with pytest.raises(ParameterError, match="is not UTF-8 text"):
        load_params(path)


# ----------------------------------------------------------------------------- currency


def test_currency_is_required_and_never_guessed(tmp_path: Path):
    path = unit_file(tmp_path, "business_unit: u\ndata_source: d\n")
    with pytest.raises(ParameterError, match=r"does not set \['currency'\]") as raised:
        load_params(path)
    message = str(raised.value)
    assert "`currency: <ISO code: CNY, USD, EUR ...>`" in message
    assert "or to defaults.yaml beside it" in message and "never guesses it" in message
    unit_file(tmp_path, "currency: EUR\n", name="defaults.yaml")
    assert load_params(path)["currency"] == "EUR"  # stated once for all units
    for empty in ("''", "", "~"):  # the unit's own empty value does not fall back
        path.write_text(f"business_unit: u\ndata_source: d\ncurrency: {empty}\n")
        with pytest.raises(ParameterError, match=r"does not set \['currency'\]"):
            load_params(path)


# ----------------------------------------------------------------------------- unit ids


@pytest.mark.parametrize(
    ("unit", "problem"),
    [
        ("''", "it is empty"),
        ("../x", "path separator"),
        ("a/b", "path separator"),
        ("'a\\b'", "path separator"),
        ("..", "starts with '.'"),
        (".hidden", "starts with '.'"),
        ('"a\\tb"', "control character '\\t'"),
        ('"a\\x00b"', "control character"),
        ('"a\\u200bb"', "control character"),  # a zero-width space
        ("CON", "device name on Windows"),
        ("aux", "device name on Windows"),
        ("com1.east", "device name on Windows"),
        ("LPT9", "device name on Windows"),
        ("'a:b'", "which Windows file names cannot"),
        ("'a?'", "which Windows file names cannot"),
        ("'east.'", "ends with a dot or a space"),
    ],
)
def test_unit_ids_that_cannot_be_a_folder_are_refused(tmp_path: Path, unit: str, problem: str):
    path = unit_file(tmp_path, f"business_unit: {unit}\n{REQUIRED}")
    with pytest.raises(ParameterError) as raised:
        load_params(path)
    message = str(raised.value)
    assert str(path.resolve()) in message
    if unit == "''":
        assert "must name its unit" in message
    else:
        assert "cannot name the unit's reports folder" in message and problem in message


@pytest.mark.parametrize(
    "unit", ["east", "华东事业部", "north-1", "unit_2", "a.b", "CONSOLE", "0101"]
)
def test_ordinary_unit_ids_are_fine(unit: str):
    assert unit_id_problem(unit) == ""


def test_a_unit_id_cannot_write_outside_out(tmp_path: Path, capsys):
    data = write_folder(tmp_path / "data", tiny_tables())
    params = tmp_path / "project" / "parameters"
    params.mkdir(parents=True)
    (params / "evil.yaml").write_text(f"business_unit: ../x\ncurrency: USD\ndata_source: {data}\n")
    out = tmp_path / "project" / "reports"
    before = sorted(tmp_path.rglob("*"))
    argv = ["run", "--params", str(params), "--out", str(out), "--period", "2026-Q3"]
    assert main([*argv, "--notebook", "data_quality", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"Parameter file {params / 'evil.yaml'}: business_unit '../x' cannot name" in err
    assert "it contains a path separator" in err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, inside --out or out of it


def test_two_files_for_one_unit_are_refused(tmp_path: Path):
    unit_file(tmp_path, f"business_unit: east\n{REQUIRED}", name="east.yaml")
    unit_file(tmp_path, f"business_unit: East\n{REQUIRED}", name="east_copy.yaml")
    with pytest.raises(ParameterError, match="which differ only in case") as raised:
        plan_jobs(parse_period("2026-Q3"), params_dir=tmp_path / "parameters", out=tmp_path / "r")
    assert "east.yaml" in str(raised.value) and "east_copy.yaml" in str(raised.value)
    unit_file(tmp_path, f"business_unit: east\n{REQUIRED}", name="east_copy.yaml")
    with pytest.raises(ParameterError, match="name the same unit 'east': their reports would"):
        plan_jobs(parse_period("2026-Q3"), params_dir=tmp_path / "parameters", out=tmp_path / "r")


# ----------------------------------------------------------------------------- periods


def test_a_period_after_as_of_is_refused_with_the_dates():
    period = parse_period("2027-Q2")
    with pytest.raises(
        ParameterError,
        match=r"^Period 2027-Q2 starts on 2027-04-01, after --as-of \(2026-12-01\): "
        r"no data can exist for it yet\.$",
    ):
        check_period_started(period, as_of=date(2026, 12, 1), source="--as-of")
    check_period_started(period, as_of=date(2027, 4, 1), source="--as-of")  # its first day: ok
    with pytest.raises(ParameterError, match=r"after today \(\d{4}-\d\d-\d\d\)"):
        check_period_started(parse_period("2999-Q1"))


@pytest.mark.parametrize("command", ["run", "validate"])
def test_run_and_validate_refuse_a_future_period(tmp_path: Path, capsys, command: str):
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}")
    where = ["--params", str(tmp_path / "parameters")] if command == "run" else []
    where += ["--out", str(tmp_path / "r")] if command == "run" else ["--params", str(path)]
    assert main([command, *where, "--period", "2027-Q2", "--as-of", "2026-12-01"]) == 2
    assert capsys.readouterr().err == (
        "crmkit: Period 2027-Q2 starts on 2027-04-01, after --as-of (2026-12-01): "
        "no data can exist for it yet.\n"
    )
    assert main([command, *where, "--period", "2999-01"]) == 2
    today = date.today().isoformat()
    assert f"starts on 2999-01-01, after today ({today})" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_units_as_of_must_be_a_date(tmp_path: Path):
    unit_file(tmp_path, f"business_unit: u\n{REQUIRED}as_of: last week\n")
    with pytest.raises(ParameterError, match=r"as_of in .*u\.yaml must be an ISO date"):
        plan_jobs(parse_period("2026-Q3"), params_dir=tmp_path / "parameters", out=tmp_path / "r")


def test_a_true_or_false_parameter_reads_yaml_words(tmp_path: Path, monkeypatch):
    from crmkit.run import params as params_module
    from crmkit.topics.registry import Parameter

    known = {**params_module.unit_parameters(), "show_x": Parameter("show_x", False, "x")}
    monkeypatch.setattr(params_module, "unit_parameters", lambda: known)
    monkeypatch.setattr(params_module, "check_unit_keys", lambda content, where: None)
    for written, read in (("yes", True), ("Off", False), ("true", True)):
        path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}show_x: {written}\n")
        assert read_unit_file(path)["show_x"] is read
    path = unit_file(tmp_path, f"business_unit: u\n{REQUIRED}show_x: maybe\n")
    with pytest.raises(
        ParameterError, match=r"'show_x' must be true or false \(default: False\); got 'maybe'"
    ):
        read_unit_file(path)


def test_other_text_parameters_may_be_a_mapping_read_as_written(tmp_path: Path, monkeypatch):
    # date_format and decimal: one value, or one per table or column (loading checks them)
    from crmkit.run import params as params_module
    from crmkit.topics.registry import Parameter

    known = {**params_module.unit_parameters(), "x_format": Parameter("x_format", "", "x")}
    monkeypatch.setattr(params_module, "unit_parameters", lambda: known)
    monkeypatch.setattr(params_module, "check_unit_keys", lambda content, where: None)
    path = unit_file(
        tmp_path, f"business_unit: u\n{REQUIRED}x_format: {{orders: {{day: 01.09, n: no}}}}\n"
    )
    assert read_unit_file(path)["x_format"] == {"orders": {"day": "01.09", "n": "no"}}


def test_a_period_not_over_on_as_of_is_refused_for_reports():
    # part of a quarter against the whole previous one reads as a fall of everything
    from crmkit.core.periods import check_period_ended

    period = parse_period("2026-Q3")
    with pytest.raises(
        ParameterError,
        match=r"^Period 2026-Q3 ends on 2026-09-30, after --as-of \(2026-09-15\): its reports "
        r"would show part of the period",
    ):
        check_period_ended(period, as_of=date(2026, 9, 15), source="--as-of")
    check_period_ended(period, as_of=date(2026, 9, 30), source="--as-of")  # its last day: ok
    with pytest.raises(ParameterError, match="starts on"):  # not started: said so first
        check_period_ended(period, as_of=date(2026, 6, 1))


def test_run_and_a_notebook_alone_refuse_a_period_not_over(tmp_path: Path, capsys):
    from crmkit.present.notebook import open_unit

    params = tmp_path / "parameters"
    params.mkdir()
    (params / "a.yaml").write_text(
        f"business_unit: a\ncurrency: USD\ndata_source: {tmp_path}\n", encoding="utf-8"
    )
    argv = ["run", "--period", "2026-Q3", "--as-of", "2026-08-01", "--params", str(params)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "ends on 2026-09-30, after --as-of (2026-08-01)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    namespace = {"period_start": "2026-07-01", "period_end": "2026-09-30", "as_of": "2026-08-01"}
    with pytest.raises(ParameterError, match=r"ends on 2026-09-30, after as_of \(2026-08-01\)"):
        open_unit(namespace)


@pytest.mark.parametrize(("written", "read"), [("CNY", "CNY"), ("usd", "USD"), (" EUR ", "EUR")])
def test_currency_is_an_iso_code(tmp_path: Path, written: str, read: str):
    path = unit_file(tmp_path, f"business_unit: u\ncurrency: '{written}'\ndata_source: d\n")
    assert load_params(path)["currency"] == read


@pytest.mark.parametrize("written", ["123", "US Dollar", "RMB", "$"])
def test_a_currency_that_is_not_an_iso_code_is_refused(tmp_path: Path, written: str):
    # "123" printed every amount as "123541,744"
    path = unit_file(tmp_path, f"business_unit: u\ncurrency: '{written}'\ndata_source: d\n")
    with pytest.raises(ParameterError, match=r"'currency' must be an ISO 4217 code"):
        load_params(path)


def test_out_that_is_a_file_or_read_only_is_refused_before_any_work(tmp_path: Path, capsys):
    from crmkit.run.plan import check_writable_folder

    a_file = tmp_path / "reports.txt"
    a_file.write_text("", encoding="utf-8")
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "a.yaml").write_text(
        f"business_unit: a\ncurrency: USD\ndata_source: {tmp_path}\n", encoding="utf-8"
    )
    for argv in (
        ["run", "--period", "2026-Q3", "--params", str(params), "--out", str(a_file)],
        ["stage", "--period", "2026-Q3", "--params", str(params), "--out", str(a_file / "x")],
        ["sample", "--out", str(a_file / "x")],
    ):
        assert main(argv) == 2, argv
        assert f"{a_file} is a file, not a folder" in capsys.readouterr().err
    check_writable_folder(tmp_path / "new" / "folder")  # made when needed: fine
    assert not (tmp_path / "new").exists()


def test_index_refuses_a_parameters_folder_that_does_not_exist(tmp_path: Path, capsys):
    (tmp_path / "out" / "2026-Q3").mkdir(parents=True)
    argv = ["index", "--period", "2026-Q3", "--out", str(tmp_path / "out")]
    assert main([*argv, "--params", str(tmp_path / "nowhere")]) == 2
    assert "Parameters folder" in capsys.readouterr().err

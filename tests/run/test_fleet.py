"""End to end: `crmkit run` over the packaged notebooks, the way a scheduler calls it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT

from crmkit.run.cli import main
from crmkit.run.plan import packaged_notebooks
from crmkit.topics.registry import TOPICS

pytestmark = pytest.mark.slow
SAMPLE = ROOT / "sample_data"
# The JSON `results` keys each notebook promises (the registry is the contract's one list).
RESULT_KEYS = {name: set(topic.results) for name, topic in TOPICS.items()}


@pytest.fixture(scope="module")
def fleet(sample_fleet) -> dict:
    """Every sample unit (east in Chinese, west with defects) and a unit whose data is broken,
    run by `crmkit run` (the session's one fleet run, shared with the sample-report tests)."""
    return sample_fleet


def unit_files(fleet: dict, unit: str) -> list[Path]:
    return sorted((fleet["period_dir"] / unit).glob("*.*"))


def test_a_broken_unit_fails_alone_and_the_exit_status_says_so(fleet):
    assert fleet["status"] == 1
    period_dir = fleet["period_dir"]
    for unit in ("east", "west"):
        record = json.loads((period_dir / unit / "data_quality.json").read_text())
        assert record["status"] == "ok", record["reason"]
    broken = json.loads((period_dir / "broken" / "data_quality.json").read_text())
    assert broken["status"] == "failed"
    assert "missing required column(s) ['signup_date']" in broken["reason"]
    assert "Traceback" not in broken["reason"]
    # the executed notebook keeps the error for an analyst
    executed = nbformat.read(period_dir / "broken" / "data_quality.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "DataError"


def test_portfolio_page_shows_figures_status_and_reason(fleet):
    index = (fleet["period_dir"] / "index.html").read_text(encoding="utf-8")
    assert "华东事业部" in index and "Broken Unit" in index
    notebooks = len(list(packaged_notebooks().glob("*.ipynb")))
    assert f"{notebooks} report(s) failed" in index  # every notebook of the broken unit
    assert "missing required column(s) [&#39;signup_date&#39;]" in index
    assert 'href="2026-Q3/index.html"' in (fleet["out"] / "index.html").read_text().replace(
        "'", '"'
    )


def test_results_json_contract(fleet):
    record = json.loads((fleet["period_dir"] / "west" / "data_quality.json").read_text())
    assert {"notebook", "business_unit", "period_start", "period_end", "status", "results"} <= set(
        record
    )
    assert (record["period_start"], record["period_end"]) == ("2026-07-01", "2026-09-30")
    results = record["results"]
    assert {"tables", "rows_dropped", "rows_repaired", "issues"} <= set(results)
    truth = json.loads((SAMPLE / "_truth" / "planted.json").read_text())["units"]["west"]
    planted = truth["defects_planted"]
    issues = {(i["table"], i["rule"]): i["rows"] for i in results["issues"]}
    assert (
        issues[("transactions", "exact duplicate row")] == planted["transactions exact duplicates"]
    )
    assert issues[("transactions", "negative 'amount'")] == planted["transactions negative amounts"]
    assert (
        issues[("surveys", "'nps' outside 0-10 (set missing)")]
        == planted["surveys nps out of range"]
    )
    assert results["rows_dropped"] == sum(
        i["rows"] for i in results["issues"] if i["action"] == "dropped"
    )
    # the orders table, counted independently from the raw file
    raw = pd.read_csv(SAMPLE / "transactions.csv", dtype=str)
    assert results["tables"]["transactions"] < (raw["business_unit"] == "west").sum()


def test_html_has_no_code_no_parameters_no_network(fleet):
    page = (fleet["period_dir"] / "west" / "data_quality.html").read_text(encoding="utf-8")
    assert "West · Data quality" in page and "2026-Q3" in page
    assert "ck.load_unit" not in page and "import crmkit" not in page
    assert "business_unit = " not in page and "period_start = " not in page
    assert 'class="jp-CodeMirrorEditor' not in page and 'class="highlight' not in page
    assert "Traceback" not in page and 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    assert not re.search(r"\b\w*Warning:", page)
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page) == []
    assert "url(http" not in page and "@import" not in page
    assert "data:image/png;base64," in page  # charts embedded
    assert 'class="crmkit-toc"' in page and "Repairs and drops" in page


def test_no_personal_data_in_any_output(fleet):
    customers = pd.read_csv(SAMPLE / "customers.csv", dtype=str)
    secrets = set(customers["email"]) | set(customers["phone"])
    secrets |= set(customers.loc[customers["business_unit"] != "east", "name"])
    # Every secret is an email, a phone number or a two-word name: the page's candidates of
    # those shapes are looked up in the secrets (one pass over a page, not one per secret).
    # (a lookahead, so that "Dear Jamie Johnson" yields "Jamie Johnson" too)
    shapes = re.compile(
        r"(?=([\w.+-]+@[\w.-]+|\+1-555-[A-Z]\d{5}|1[3-9]\d{9}|[A-Z][a-z]+ [A-Z][a-z]+))"
    )
    assert all(shapes.match(s).group(1) == s for s in secrets)  # no secret slips past
    for path in fleet["period_dir"].rglob("*"):
        if path.suffix in (".html", ".json"):
            text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", path.read_text(encoding="utf-8"))
            found = {m.group(1) for m in shapes.finditer(text)} & secrets
            leaked = sorted(found)
            # survey comments carry their own: user123@example.com, 1390000xxxx
            leaked += re.findall(r"user\d+@example\.com|1390000\d{4}", text)
            assert leaked == [], f"{path.name} shows {leaked[:3]}"


def test_a_unit_shows_only_its_own_ids(fleet):
    pattern = re.compile(r"\b([NSEW])(?:C|O|OF|OX|P|R|RX|I|T|X)\d{4,6}\b")
    for unit, prefix in (("east", "E"), ("west", "W")):
        for path in unit_files(fleet, unit):
            # embedded charts and fonts are base64, where such a pattern can occur by chance
            text = re.sub(r"[A-Za-z0-9+/]{100,}=*", "", path.read_text(encoding="utf-8"))
            found = {m.group(1) for m in pattern.finditer(text)}
            assert found <= {prefix}, f"{path} mentions ids of units {found - {prefix}}"


def test_no_partial_files_left(fleet):
    leftovers = [
        p for p in fleet["out"].rglob("*") if ".partial" in p.name or p.name.endswith(".tmp")
    ]
    assert leftovers == []


def test_portfolio_shows_money_in_each_units_currency(fleet):
    index = (fleet["period_dir"] / "index.html").read_text(encoding="utf-8")
    for unit, currency in (("east", "CNY"), ("west", "USD")):
        record = json.loads((fleet["period_dir"] / unit / "clv.json").read_text())
        assert record["currency"] == currency
        results = record["results"]
        symbol = {"CNY": "CN¥", "USD": "$"}[currency]  # the portfolio is in English
        shown = f"{symbol}{results['mean_clv']:,.0f}"
        assert "horizon_months" in results, "the clv notebook does not publish horizon_months"
        detail = f'<span class="detail">over {results["horizon_months"]} months'
        assert f'<td class="num"><span class="value">{shown}</span>{detail}' in index


def test_customised_notebooks_run_in_the_project_root(tmp_path: Path):
    """`--notebooks DIR` runs customised copies; a relative path in one is read from the
    project root (the folder holding the parameters folder), as in JupyterLab opened there."""
    params = tmp_path / "parameters"
    params.mkdir()
    (params / "north.yaml").write_text(
        "business_unit: north\ncurrency: USD\ndata_source: sample_data\n"
    )
    (tmp_path / "sample_data").symlink_to(SAMPLE)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "north.md").write_text("Our own note on the north unit.")
    notebook = nbformat.read(packaged_notebooks() / "data_quality.ipynb", as_version=4)
    notebook.cells.insert(
        3,
        nbformat.v4.new_code_cell(
            "from pathlib import Path\n"
            "from IPython.display import Markdown\n"
            "Markdown(Path(f'notes/{business_unit}.md').read_text())"
        ),
    )
    mine = tmp_path / "notebooks"
    mine.mkdir()
    nbformat.write(notebook, mine / "data_quality.ipynb")
    out = tmp_path / "reports"
    argv = ["run", "--period", "2026-Q3", "--params", str(params), "--notebooks", str(mine)]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    page = (out / "2026-Q3" / "north" / "data_quality.html").read_text(encoding="utf-8")
    assert "Our own note on the north unit." in page
    assert sorted(p.name for p in (out / "2026-Q3" / "north").iterdir()) == [
        "data_quality.html",
        "data_quality.ipynb",
        "data_quality.json",
        "snapshot",
    ]


def test_plain_papermill_run_with_unit_file(tmp_path: Path):
    out = tmp_path / "out.ipynb"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "notebooks/data_quality.ipynb",
            str(out),
            "-f",
            "parameters/east.yaml",
            "-p",
            "period_start",
            "2026-07-01",
            "-p",
            "period_end",
            "2026-09-30",
            "--no-progress-bar",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    executed = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "application/vnd.crmkit.results+json" in text


@pytest.mark.parametrize("notebook", sorted(RESULT_KEYS))
def test_topic_reports_publish_their_results(fleet, notebook):
    for unit in ("east", "west"):
        record = json.loads((fleet["period_dir"] / unit / f"{notebook}.json").read_text())
        assert record["status"] == "ok", record["reason"]
        assert set(record["results"]) == RESULT_KEYS[notebook]  # exactly the registry's
    east = json.loads((fleet["period_dir"] / "east" / f"{notebook}.json").read_text())["results"]
    if notebook == "satisfaction":
        surveys = pd.read_csv(SAMPLE / "surveys.csv", dtype=str)
        east_surveys = surveys.loc[surveys["business_unit"] == "east", "responded_at"]
        assert east["n_responses"] == east_surveys.between("2026-07-01", "2026-09-30").sum()
        assert east["top_driver"] == "dim_delivery_speed"
        assert sum(east["driver_weights"].values()) == pytest.approx(1)
        assert set(east["nps_change"]) == {"delta", "ci", "p_value"}
        assert all(len(word) > 1 for word in east["detractor_themes"])
    elif notebook == "funnel":
        stages = ["潜在客户", "意向客户", "洽谈客户", "成交客户"]
        assert east["stages"] == stages and set(east["stage_counts"]) == set(stages)
        opportunities = pd.read_csv(SAMPLE / "opportunities.csv", dtype=str)
        created = opportunities.loc[opportunities["business_unit"] == "east", "created_at"]
        assert east["stage_counts"]["潜在客户"] == created.between("2026-07-01", "2026-09-30").sum()
        assert set(east["stage_conversion"]) == {
            "潜在客户->意向客户",
            "意向客户->洽谈客户",
            "洽谈客户->成交客户",
        }
        assert 0 <= east["overall_conversion"] <= east["win_rate"] <= 1
    elif notebook == "segmentation":
        customers = pd.read_csv(SAMPLE / "customers.csv", dtype=str)
        assert east["n_customers"] == (customers["business_unit"] == "east").sum()
        assert sum(east["lifecycle"].values()) == east["n_customers"]
        assert 0.5 < east["top20_revenue_share"] <= 1
    elif notebook == "clv":
        assert set(east["holdout"]) >= {
            "weeks",
            "calibration_end",
            "actual",
            "predicted",
            "mae_per_customer",
            "bgnbd",
        }
        lo, hi = east["mean_clv_ci"]
        assert lo < east["mean_clv"] < hi
        assert set(east["ltv_cac"]) == {"搜索广告", "社交媒体", "转介绍", "门店", "合作伙伴"}

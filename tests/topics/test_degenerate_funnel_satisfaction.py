"""The funnel and satisfaction reports on data that meets the contract but lacks something:
each section that cannot run says so in one sentence naming what is missing, the published
results are null where the truth is "no data", and the notebooks run top to bottom."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import pipeline_history, pipeline_opportunities, tiny_tables, write_folder
from notebook_runner import run_notebook

from crmkit.core.periods import parse_period
from crmkit.metrics import funnel
from crmkit.metrics import satisfaction as sat
from crmkit.present.plots import funnel as funnel_plots
from crmkit.topics import funnel as funnel_report
from crmkit.topics import funnel_tables as funnel_views
from crmkit.topics import satisfaction as sat_report
from crmkit.topics.registry import TOPICS

STAGES = ["lead", "intent", "negotiation", "won"]
Q3 = parse_period("2026-Q3")


def _funnel(opportunities=None, history=None, **kwargs) -> funnel.FunnelAnalysis:
    return funnel.analyse(
        pipeline_opportunities() if opportunities is None else opportunities,
        pipeline_history() if history is None else history,
        stages=kwargs.pop("stages", STAGES),
        period=Q3,
        window_days=90,
        **kwargs,
    )


# ----------------------------------------------------------------------------- funnel


def test_funnel_without_closed_at_says_so_in_each_section():
    analysis = _funnel(pipeline_opportunities().drop(columns="closed_at"))
    skipped = funnel_report.skipped(analysis)
    assert skipped["window"] == (
        "Skipped: no `closed_at` dates on opportunities, so conversion within the window "
        "cannot be measured."
    )
    assert skipped["cycle"] == (
        "Skipped: no `closed_at` dates on opportunities, so the sales cycle cannot be measured."
    )
    assert skipped["comparison"].startswith("Skipped: no `closed_at` dates on opportunities")
    assert skipped["velocity"].startswith("Pipeline velocity skipped: no `closed_at` dates")
    assert funnel_report.bottleneck_sentence(analysis) == skipped["comparison"]
    found = funnel_report.key_findings(analysis)
    assert not any(f.startswith(("Deals won", "Bottleneck", "No step")) for f in found)
    assert (
        "Previous-period comparison, sales cycle and conversion in the window skipped: "
        "opportunities carry no closed_at." in found
    )
    assert "previous_reached" not in funnel_views.funnel_view(analysis).columns
    results = funnel_report.results(analysis)
    assert results["median_cycle_days"] != results["median_cycle_days"]  # NaN: null in JSON
    assert results["cycle_lengthened"] is None and results["bottleneck_significant"] is None
    assert results["bottleneck_summary"] == "no comparison"


def test_funnel_without_amount_source_costs_or_breakdowns():
    bare = pipeline_opportunities().drop(columns=["amount", "source"])
    skipped = funnel_report.skipped(_funnel(bare, breakdown_columns=["source", "owner"]))
    assert skipped["velocity"] == (
        "Pipeline velocity skipped: no `amount` values on opportunities, so the value of won "
        "deals is unknown."
    )
    assert skipped["breakdowns"] == "Skipped: this period's opportunities carry no lead source."
    assert skipped["roi"] == (
        "Skipped: no `costs` rows with acquisition spend by channel and no `source` values on "
        "opportunities, so spend cannot be matched to the leads and deals of each source."
    )
    costs = pd.DataFrame({"month": [pd.Timestamp("2026-07-01")], "amount": [1.0]})
    assert funnel_report.skipped(_funnel(costs=costs))["roi"].startswith(
        "Skipped: no `channel` on the `costs` table"
    )
    assert funnel_report.skipped(_funnel())["breakdowns"] == (
        "Skipped: no breakdown columns were asked for (`funnel_breakdowns`)."
    )
    one_owner = _funnel(pipeline_opportunities().assign(owner="Ann"), breakdown_columns=["owner"])
    assert funnel_report.skipped(one_owner)["breakdowns"] == (
        "Breakdown by owner skipped: every opportunity of this period has the same owner (Ann), "
        "so there is nothing to compare."
    )


def test_funnel_of_a_unit_without_opportunities():
    analysis = _funnel(
        pipeline_opportunities().iloc[:0],
        pipeline_history().iloc[:0],
        breakdown_columns=["source", "owner"],
    )
    skipped = funnel_report.skipped(analysis)
    assert skipped["funnel"] == (
        "Skipped: no opportunities were created in this period or the previous one, so there "
        "is no funnel to draw."
    )
    assert skipped["breakdowns"] == (
        "Skipped: no opportunities were created in this period, so there is nothing to break "
        "down by lead source or owner."
    )
    assert skipped["durations"].startswith("Skipped: no opportunity had moved on")
    assert skipped["comparison"] == "Skipped: no opportunities were created by the period end."
    assert funnel_report.notes(analysis)[-1] == "No opportunities were created in this period."
    results = funnel_report.results(analysis)
    assert set(results) == set(TOPICS["funnel"].results)
    assert results["opportunities_created"] == 0 and results["stuck_open"] == 0
    assert np.isnan(results["win_rate"]) and np.isnan(results["stage_conversion"]["lead->won"])


def test_funnel_whose_middle_stages_are_not_recorded():
    history = pipeline_history()
    analysis = _funnel(history=history.loc[history["stage"] == "lead"])  # one stage
    assert funnel_report.notes(analysis)[-1] == (
        "No stage-history row names intent or negotiation by the period end, so the funnel "
        "runs lead → won."
    )
    results = funnel_report.results(analysis)
    assert results["stages"] == ["lead", "won"]
    assert list(results["stage_conversion"]) == ["lead->won"]
    # nobody is recorded moving on from lead, and p4 p5 p6 are open: stalled is unknown
    assert results["stuck_open"] is None
    # one step: no Holm's correction to speak of
    comparison = pd.DataFrame(
        {"step": ["a->b"], "now": [0.2], "before": [0.5], "delta": [-0.3], "p_value": [0.01]}
    )
    fake = type("Analysis", (), {"comparison": comparison})()
    fake.bottleneck = funnel.find_bottleneck(comparison)
    assert funnel_report.bottleneck_sentence(fake) == (
        "Bottleneck: step conversion a → b fell from 50.0% to 20.0% (−30.0 points, p = 0.010) — "
        "a significant fall."
    )


def test_funnel_chart_without_a_comparable_previous_period():
    analysis = _funnel(pipeline_opportunities().drop(columns="closed_at"))
    ax = funnel_plots.plot_funnel(analysis.current, None)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["this period"]
    assert len(ax.patches) == len(analysis.stages)
    empty = _funnel(pipeline_opportunities().iloc[:0])
    ax = funnel_plots.plot_conversion_window(empty.window, window_days=90)  # draws, no error
    ax.figure.canvas.draw()


# ----------------------------------------------------------------------------- satisfaction


def _surveys() -> pd.DataFrame:
    """Q2: 10 responses; Q3: 10 responses with comments, two touchpoints."""
    return pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(20)],
            "customer_id": [f"c{k % 7}" for k in range(20)],
            "responded_at": [
                *pd.date_range("2026-04-02", periods=10, freq="7D"),
                *pd.date_range("2026-07-02", periods=10, freq="9D"),
            ],
            "nps": [10] * 4 + [8] * 4 + [3] * 2 + [10] * 6 + [7] * 3 + [2],
            "csat": [5] * 8 + [2] * 2 + [5] * 9 + [1],
            "comment": ["Great staff"] * 20,
            "touchpoint": ["web", "store"] * 10,
        }
    )


def _sat(surveys: pd.DataFrame, **kwargs) -> sat.SatisfactionAnalysis:
    kwargs.setdefault("breakdown_columns", ["touchpoint"])
    return sat.analyse(surveys, period=Q3, **kwargs)


def test_satisfaction_without_nps_says_so_and_publishes_nulls():
    analysis = _sat(_surveys().drop(columns="nps"))
    skipped = sat_report.skipped(analysis)
    assert (
        skipped["nps"]
        == "Skipped: surveys have no `nps` column, so there is no Net Promoter Score."
    )
    assert skipped["nps_trend"] == skipped["nps"]
    assert skipped["themes"] == (
        "Skipped: surveys have no `nps` column, so comments cannot be split into promoters' and "
        "detractors'."
    )
    assert "csat" not in skipped and "breakdowns" not in skipped
    results = sat_report.results(analysis)
    assert set(results) == set(TOPICS["satisfaction"].results)
    assert json.loads(json.dumps(_ready(results)))["nps"] is None
    no_csat = sat_report.skipped(_sat(_surveys().drop(columns="csat")))
    assert no_csat["csat"] == "Skipped: surveys have no `csat` column, so there is no CSAT."
    neither = sat_report.skipped(_sat(_surveys().drop(columns=["nps", "csat"])))
    assert neither["breakdowns"] == (
        "Skipped: surveys have neither `nps` nor `csat`, so there is no score to break down."
    )


def test_satisfaction_of_a_period_without_responses():
    surveys = _surveys()
    analysis = _sat(surveys.loc[surveys["responded_at"] < "2026-07-01"])
    skipped = sat_report.skipped(analysis)
    assert skipped["nps"] == (
        "Skipped: no survey responses in this period (10 in the previous period), so there is "
        "no Net Promoter Score (`nps`)."
    )
    assert skipped["breakdowns"].endswith("so there is nothing to break down by touchpoint.")
    assert skipped["themes"].endswith("so there are no comments to read.")
    assert "nps_trend" not in skipped  # the months before are still drawn
    assert sat_report.key_findings(analysis)[0] == (
        "No survey responses in this period (10 in the previous period)."
    )
    header_only = sat_report.skipped(_sat(surveys.iloc[:0]))
    assert header_only["nps_trend"] and header_only["drivers"].endswith(
        "`dim_*` scores to analyse."
    )


def test_satisfaction_comments_dimensions_and_single_groups():
    blank = sat_report.skipped(_sat(_surveys().assign(comment=" ")))
    assert blank["themes"] == "Skipped: none of this period's 10 responses has a comment."
    no_column = sat_report.skipped(_sat(_surveys().drop(columns="comment")))
    assert no_column["themes"] == (
        "Skipped: surveys have no `comment` column, so there is nothing to read."
    )
    assert (
        no_column["drivers"]
        == no_column["dimensions"]
        == (
            "Skipped: surveys have no `dim_*` columns, so dimension scores and key drivers cannot "
            "be measured."
        )
    )
    one = sat_report.skipped(_sat(_surveys().assign(touchpoint="web")))
    assert one["breakdowns"] == (
        "Breakdown by touchpoint skipped: every response of this period has the same touchpoint "
        "(web), so there is nothing to compare."
    )
    few = _sat(_surveys().assign(dim_speed=[1, 2, 3, 4, 5] * 3 + [None] * 5))  # 5 in Q3
    assert sat_report.skipped(few)["drivers"] == (
        "Key drivers skipped: 10 complete responses are needed for 1 dimensions; this period has 5."
    )
    assert "dimensions" not in sat_report.skipped(few)  # their scores are still shown


def test_satisfaction_loyalty_without_matching_orders():
    strangers = pd.DataFrame(
        {"customer_id": ["x9"], "order_date": [pd.Timestamp("2026-08-01")], "amount": [5.0]}
    )
    analysis = _sat(_surveys(), transactions=strangers)
    skipped = sat_report.skipped(analysis)
    assert (
        skipped["loyalty"]
        == skipped["spend"]
        == (
            "Skipped: none of this period's 10 respondents has an order in `transactions` by the "
            "period end, so repeat purchasing and spend after responding cannot be measured."
        )
    )
    assert sat_report.results(analysis)["repeat_rate"] is None
    assert sat_report.skipped(_sat(_surveys()))["loyalty"].startswith("Skipped: no `transactions`")


def _ready(results: dict) -> dict:
    from crmkit.present.notebook import to_json_ready

    return to_json_ready(results)


# ----------------------------------------------------------------------------- notebooks


@pytest.fixture
def degenerate_folder(tmp_path):
    """Unit alpha of the tiny tables with every opportunity closed (no open one), a stage
    history of one stage, surveys without nps, their comments blank, one touchpoint."""
    tables = tiny_tables()
    tables["opportunities"] = pd.DataFrame(
        {
            "opportunity_id": ["q1", "q2", "q3"],
            "business_unit": ["alpha"] * 3,
            "created_at": ["2026-07-01", "2026-07-10", "2026-08-01"],
            "outcome": ["won", "lost", "lost"],
            "closed_at": ["2026-08-01", "2026-07-20", "2026-08-15"],
        }
    )
    tables["stage_history"] = pd.DataFrame(
        {
            "opportunity_id": ["q1", "q2", "q3"],
            "stage": ["lead"] * 3,
            "entered_at": ["2026-07-01", "2026-07-10", "2026-08-01"],
        }
    )
    tables["surveys"] = pd.DataFrame(
        {
            "response_id": ["s1", "s2", "s3", "s4", "s5"],
            "customer_id": ["A1", "A2", "A3", "A1", "A2"],
            "business_unit": ["alpha"] * 5,
            "responded_at": ["2026-07-02", "2026-07-20", "2026-08-05", "2026-09-01", "2026-09-10"],
            "csat": [5, 4, 2, 5, 3],
            "comment": ["", "", "", "", ""],
            "touchpoint": ["web"] * 5,
        }
    )
    return write_folder(tmp_path / "data", tables)


@pytest.mark.parametrize("topic", ["funnel", "satisfaction"])
def test_notebooks_run_on_degenerate_data(topic, degenerate_folder):
    run = run_notebook(
        topic,
        {
            "business_unit": "alpha",
            "data_source": str(degenerate_folder),
            "currency": "USD",
            "period_start": "2026-07-01",
            "period_end": "2026-09-30",
            "as_of": "2026-10-15",
        },
        draw=False,
    )
    assert set(run.results) == set(TOPICS[topic].results)
    json.dumps(run.results, allow_nan=False)
    if topic == "funnel":
        assert run.results["stages"] == ["lead", "won"]
        assert run.results["win_rate"] == pytest.approx(1 / 3)  # q1 won, q2 q3 lost
        assert "Skipped: no opportunity had moved on" in run.markdown
        assert "opportunities carry no lead source or owner" in run.markdown
    else:
        assert run.results["nps"] is None and run.results["csat"] == pytest.approx(3 / 5)
        assert "surveys have no `nps` column" in run.markdown
        assert "none of this period's 5 responses has a comment" in run.markdown
        assert "the same touchpoint (web)" in run.markdown
    assert not run.texts("warning"), run.texts("warning")

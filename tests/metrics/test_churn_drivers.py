import numpy as np
import pandas as pd
import pytest

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_drivers import (
    auc_falls,
    category_cohorts,
    drivers_analysis,
    metric_cohorts,
)
from crmkit.metrics.churn_status import ChurnDefinition, choose_definition
from crmkit.metrics.stats import wilson_interval

PERIOD = parse_period("2026-Q3")  # cuts: 31 Mar (backtest), 30 Jun (drivers), 30 Sep (risk)
EVENTS = ChurnDefinition("events", None, "events")
ARROW = pd.StringDtype("pyarrow")


def planted(
    n: int = 3000,
    *,
    seed: int = 0,
    base: float = 0.04,
    lift: float = 0.35,
    previous_churn: bool = True,
    complaint_share: float = 0.3,
) -> dict[str, pd.DataFrame]:
    """A unit whose churn depends on complaints, and on nothing else.

    Customers sign up in 2024–mid 2025 and order about monthly. Before each of the three
    cut days (31 Mar, 30 Jun, 30 Sep 2026) a random 30% of the customers still there files a
    complaint ticket within the 90 days to the cut; in the quarter after a cut a customer
    leaves (a churn event, orders stop) with probability ``base``, plus ``lift`` after a
    complaint. ``previous_churn=False``: nobody leaves in 2026-Q2 (too few churns for a
    backtest). Region and plan are drawn at random: they drive nothing.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{k:05d}" for k in range(n)])
    signup = np.datetime64("2024-01-01") + rng.integers(0, 540, n).astype("timedelta64[D]")
    churn = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    ticket_who, ticket_day, ticket_flag = [], [], []
    for q, cut in enumerate(np.array(["2026-03-31", "2026-06-30", "2026-09-30"], "datetime64[D]")):
        here = np.isnat(churn)
        complained = here & (rng.random(n) < complaint_share)
        ticket_who.append(np.flatnonzero(complained))
        ticket_day.append(cut - rng.integers(0, 90, complained.sum()).astype("timedelta64[D]"))
        ticket_flag.append(np.ones(complained.sum(), dtype=bool))
        if q == 2:
            break
        p = (base + lift * complained) * (previous_churn or q > 0)
        leaves = here & (rng.random(n) < p)
        churn[leaves] = cut + rng.integers(1, 91, leaves.sum()).astype("timedelta64[D]")
    other = np.flatnonzero(rng.random(n) < 0.2)  # ordinary tickets, any time
    ticket_who.append(other)
    ticket_day.append(signup[other] + rng.integers(0, 800, len(other)).astype("timedelta64[D]"))
    ticket_flag.append(np.zeros(len(other), dtype=bool))
    stop = np.where(np.isnat(churn), np.datetime64("2026-10-15"), churn)
    k = np.maximum((stop - signup).astype(int) // 30, 0)
    who = np.repeat(np.arange(n), k)
    step = np.arange(len(who)) - np.repeat(np.cumsum(k) - k, k)
    day = signup[who] + (step * 30 + rng.integers(0, 25, len(who))).astype("timedelta64[D]")
    keep = day < stop[who]
    who, day = who[keep], day[keep]
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype=ARROW),
            "business_unit": "u",
            "signup_date": signup.astype("datetime64[ns]"),
            "region": pd.array(rng.choice(["East", "West", "North"], n), dtype=ARROW),
            "plan": pd.array(rng.choice(["basic", "pro"], n), dtype=ARROW),
        }
    )
    transactions = pd.DataFrame(
        {
            "order_id": [f"o{j}" for j in range(len(who))],
            "customer_id": pd.array(ids[who], dtype=ARROW),
            "order_date": day.astype("datetime64[ns]"),
            "amount": np.round(rng.gamma(2.0, 50.0, len(who)), 2),
        }
    )
    tk_who = np.concatenate(ticket_who)
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"t{j}" for j in range(len(tk_who))],
            "customer_id": pd.array(ids[tk_who], dtype=ARROW),
            "opened_at": np.concatenate(ticket_day).astype("datetime64[ns]"),
            "is_complaint": pd.array(np.concatenate(ticket_flag), dtype="boolean"),
        }
    )
    left = ~np.isnat(churn)
    churn_events = pd.DataFrame(
        {
            "customer_id": pd.array(ids[left], dtype=ARROW),
            "churned_at": churn[left].astype("datetime64[ns]"),
        }
    )
    return {
        "customers": customers,
        "transactions": transactions,
        "tickets": tickets,
        "churn_events": churn_events,
    }


def analyse(tables, **options):
    return drivers_analysis(
        tables["customers"],
        tables["transactions"],
        tables.get("churn_events"),
        period=PERIOD,
        definition=options.pop("definition", EVENTS),
        tickets=tables.get("tickets"),
        **options,
    )


@pytest.fixture(scope="module")
def world():
    tables = planted()
    return tables, analyse(tables)


# ----------------------------------------------------------------------------- cohorts


def test_metric_cohorts_by_hand():
    # seven zeros tie: they are one cohort (the first decile's), then 1, 2 and 3 alone
    training = pd.DataFrame(
        {
            "x": [0, 0, 0, 0, 0, 0, 0, 1, 2, 3, np.nan, np.nan],
            "churned": [0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0],
        }
    ).astype({"churned": bool})
    table = metric_cohorts(training, features=["x"])
    assert table["cohort"].tolist() == [1, 2, 3, 4, 0]
    assert table["customers"].tolist() == [7, 1, 1, 1, 2]
    assert table["churned"].tolist() == [1, 1, 0, 1, 1]
    assert table["mean"].tolist()[:4] == [0, 1, 2, 3]
    assert table["missing"].tolist() == [False] * 4 + [True]
    first = wilson_interval(1, 7)
    assert table.loc[0, ["churn_rate", "churn_low", "churn_high"]].tolist() == pytest.approx(
        [1 / 7, first.low, first.high]
    )


def test_metric_cohorts_are_deciles_without_ties():
    training = pd.DataFrame({"x": np.arange(100.0), "churned": np.arange(100) >= 90})
    table = metric_cohorts(training, features=["x"])
    assert table["customers"].tolist() == [10] * 10
    assert table["low"].tolist() == list(range(0, 100, 10))
    assert table["churned"].tolist() == [0] * 9 + [10]


def test_category_cohorts_merge_small_groups_into_other():
    values = ["basic"] * 40 + ["pro"] * 35 + ["gold"] * 3 + ["silver"] * 2 + [None] * 30
    churned = [True] * 4 + [False] * 36 + [True] * 7 + [False] * 28 + [True] * 5
    churned += [False] * 30
    table = category_cohorts(
        pd.DataFrame({"plan": values, "churned": churned}), columns=["plan"], min_group=30
    )
    assert table["value"].tolist() == ["basic", "pro", "(none)", "other"]
    assert table["customers"].tolist() == [40, 35, 30, 5]
    assert table["churned"].tolist() == [4, 7, 0, 5]
    assert table["churn_rate"].tolist() == pytest.approx([0.1, 0.2, 0.0, 1.0])
    assert table.loc[3, "churn_low"] == pytest.approx(wilson_interval(5, 5).low)


# ----------------------------------------------------------------------------- planted driver


def test_the_planted_driver_is_found_by_cohorts_and_model(world):
    _, found = world
    assert found.top_drivers[0] == "complaints_90d"
    top = found.coefficients.iloc[0]
    assert (top["term"], top["direction"]) == ("complaints_90d", "raises")
    # a complaint raises churn 35 points over a 4% base: +1 SD (~0.46 complaints) at the
    # mean adds well over 5 points; nothing planted elsewhere comes near
    assert top["retention_impact"] > 0.05
    assert found.coefficients["retention_impact"].iloc[1:].abs().max() < 0.02
    assert found.importance["feature"].iloc[0] == "complaints_90d"
    cohorts = found.cohorts.loc[found.cohorts["feature"] == "complaints_90d"]
    none, some = cohorts.iloc[0], cohorts.iloc[1]
    assert (none["mean"], some["mean"]) == (0, 1)
    assert some["churn_low"] > none["churn_high"]  # intervals apart
    assert none["churn_rate"] == pytest.approx(0.04, abs=0.015)
    assert some["churn_rate"] == pytest.approx(0.39, abs=0.05)


def test_labels_are_the_period_churn_of_customers_active_the_day_before(world):
    tables, found = world
    events = tables["churn_events"]
    before = set(events.loc[events["churned_at"] <= "2026-06-30", "customer_id"])
    signed = tables["customers"]["signup_date"] <= "2026-06-30"
    active = set(tables["customers"].loc[signed, "customer_id"]) - before
    churned = events.loc[events["churned_at"].between("2026-07-01", "2026-09-30")]
    assert found.customers == len(active)
    assert found.churned == len(set(churned["customer_id"]))
    assert found.cut == PERIOD.previous_end


def test_backtest_is_judged_on_the_period(world):
    _, found = world
    e = found.evaluation
    assert e.method == "backtest"
    assert e.train_cut == parse_period("2026-Q2").previous_end  # 31 March
    assert e.customers == found.customers and e.churned == found.churned
    assert 0.75 < e.auc.low < e.auc.value < e.auc.high < 0.9
    assert 2.0 < e.top_decile_lift < 4.0
    assert not e.weak
    assert len(e.calibration) == 10
    # calibrated: the riskiest decile's predicted and observed churn within 10 points
    last = e.calibration.iloc[-1]
    assert abs(last["predicted"] - last["observed"]) < 0.1
    assert e.boosting_auc > 0.75


def test_backtest_scores_never_see_the_period(world):
    tables, found = world
    rng = np.random.default_rng(5)
    changed = dict(tables)
    for name, column in (
        ("transactions", "order_date"),
        ("tickets", "opened_at"),
        ("churn_events", "churned_at"),
    ):
        frame = tables[name]
        late = frame[column] >= pd.Timestamp(PERIOD.start)
        moved = frame.loc[late].copy()
        moved["customer_id"] = rng.permutation(np.array(moved["customer_id"], dtype=object))
        moved["customer_id"] = moved["customer_id"].astype(ARROW)
        changed[name] = pd.concat([frame.loc[~late], moved]).sample(frac=1, random_state=2)
    again = analyse(changed)
    pd.testing.assert_frame_equal(
        found.evaluation.scores[["customer_id", "predicted"]],
        again.evaluation.scores[["customer_id", "predicted"]],
    )
    pd.testing.assert_frame_equal(found.training.drop(columns="churned"),
                                  again.training.drop(columns="churned"))  # fmt: skip
    assert found.evaluation.auc.value != again.evaluation.auc.value  # the labels moved


def test_too_few_churns_before_the_period_cross_validates_within_it():
    found = analyse(planted(1500, previous_churn=False, seed=3))
    e = found.evaluation
    assert e.method == "cross-validation" and e.folds == 5
    assert e.train_customers == found.customers and e.train_cut is None
    assert len(e.scores) == found.customers and e.scores["predicted"].notna().all()
    assert e.auc.value > 0.75
    assert found.top_drivers[0] == "complaints_90d"


def test_too_few_churns_in_the_period_fits_no_model():
    found = analyse(planted(200, base=0.0, lift=0.1, complaint_share=0.2, seed=4))
    assert found.churned < 10
    assert found.evaluation.method == "too few churns"
    assert found.model is None and found.top_drivers == () and found.coefficients.empty
    assert np.isnan(found.evaluation.auc.value)
    assert not found.cohorts.empty  # the cohorts still describe who left


def test_a_tiny_unit_without_orders_or_churn_is_described_not_refused():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-08-01"]),
        }
    )
    orders = pd.DataFrame(columns=["customer_id", "order_date", "amount"]).astype(
        {"order_date": "datetime64[ns]", "amount": float}
    )
    definition = choose_definition(orders, None, period=PERIOD)
    found = drivers_analysis(customers, orders, None, period=PERIOD, definition=definition)
    # 180 days of silence: a left on 30 Jun (before the period), b on 31 Jul (during it)
    assert definition.inactivity_days == 180
    assert found.customers == 1 and found.churned == 1
    assert found.evaluation.method == "too few churns"
    assert found.absent == (
        "interactions_per_month",
        "complaints_90d",
        "tickets_90d",
        "latest_nps",
        "latest_csat",
        "days_since_contact",
    )
    assert found.current["customer_id"].tolist() == ["c"]  # the one still there at the end


def test_a_period_that_is_not_a_period_is_refused(world):
    tables, _ = world
    with pytest.raises(ParameterError, match=r"needs period as a crmkit\.core\.periods\.Period"):
        drivers_analysis(
            tables["customers"], tables["transactions"], None, period="2026-Q3",
            definition=EVENTS,
        )  # fmt: skip


@pytest.mark.parametrize("random_state", [0, 7])
def test_auc_falls_are_scikit_learns_permutation_importance(random_state):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 6))
    x[:, :5][rng.random((600, 5)) < 0.05] = np.nan
    x[:, 5] = rng.integers(0, 4, 600)
    y = x[:, 0] + rng.normal(size=600) > 0
    model = HistGradientBoostingClassifier(
        max_iter=50, categorical_features=[False] * 5 + [True], random_state=0
    ).fit(x[:400], y[:400])
    expected = permutation_importance(
        model, x[400:], y[400:], scoring="roc_auc", n_repeats=5, random_state=random_state
    ).importances
    falls = auc_falls(model, x[400:], y[400:], repeats=5, random_state=random_state)
    np.testing.assert_allclose(falls, expected, rtol=0, atol=1e-12)
    assert falls[0].mean() > 0.1  # the one column the outcome depends on


def test_a_feature_with_no_values_is_left_out_of_the_model():
    # all of a unit's orders on one day leave features such as the gap between orders empty
    from crmkit.metrics.churn_drivers import boosting_importance

    rng = np.random.default_rng(3)
    n = 400
    driver = rng.normal(size=n)
    training = pd.DataFrame(
        {
            "driver": driver,
            "never_known": np.full(n, np.nan),
            "channel": rng.choice(["web", "shop", "phone"], n),
            "churned": driver + rng.normal(scale=0.5, size=n) > 0.5,
        }
    )
    table, auc = boosting_importance(
        training, numeric=["driver", "never_known"], categorical=["channel"]
    )
    assert sorted(table["feature"]) == ["channel", "driver"]
    assert table["feature"].iloc[0] == "driver" and auc > 0.75

"""Segmentation statistics on small frames with hand-computed answers."""

import numpy as np
import pandas as pd
import pytest
from conftest import segment_orders, segment_people

from crmkit.core.errors import ParameterError
from crmkit.core.periods import parse_period, range_period
from crmkit.metrics import lifecycle, segment_changes
from crmkit.metrics import segmentation as sg
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.metrics.customer_orders import order_totals


@pytest.fixture
def orders() -> pd.DataFrame:
    return segment_orders()


@pytest.fixture
def people() -> pd.DataFrame:
    return segment_people()


def test_rfm_by_hand(orders):
    table = sg.rfm(orders, as_of="2026-09-30").set_index("customer_id")
    assert table.loc["a"].tolist() == [10, 3, 200.0]
    assert table.loc["b"].tolist() == [213, 1, 10.0]
    assert table.loc["c"].tolist() == [1, 2, 50.0]


def test_quintile_scores_give_ties_one_score():
    values = pd.Series([1, 1, 1, 1, 2, 3, 4, 5, 6, 7])
    scores = sg.quintile_scores(values)
    assert scores.tolist() == [2, 2, 2, 2, 3, 3, 4, 4, 5, 5]
    recency = sg.quintile_scores(pd.Series([1, 10, 100, 1000, 5000]), higher_is_better=False)
    assert recency.tolist() == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal"),
        (3, 4, "loyal"),
        (5, 2, "potential_loyalists"),
        (4, 3, "potential_loyalists"),
        (5, 1, "new"),
        (4, 1, "promising"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (3, 2, "about_to_sleep"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (1, 5, "cant_lose"),
        (2, 2, "hibernating"),
        (1, 1, "hibernating"),
    ],
)
def test_rfm_grid(r, f, segment):
    assert sg.segment_of(r, f) == segment


def test_grid_covers_every_score_pair_once():
    hits = [(r, f) for name, rs, fs in sg.RFM_GRID for r in rs for f in fs]
    assert sorted(hits) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    with pytest.raises(ParameterError, match="R and F scores must be 1-5"):
        sg.segment_of(6, 1)


def test_profile_by_region(orders, people):
    q3 = parse_period("2026-Q3")
    table = sg.profile(people, orders, by="region", period=q3).set_index("region")
    # East: a (50 in Q3) and c (50); West: b (none in Q3); unknown: d
    assert table.loc[
        "East", ["customers", "revenue", "revenue_per_customer", "active_share"]
    ].tolist() == [2, 100.0, 50.0, 1.0]
    assert table.loc["West", "active_share"] == 0.0
    assert table.loc["unknown", "customers"] == 1
    ages = sg.profile(people, orders, by="age_band", period=q3)
    assert set(ages["age_band"]) == {"under 25", "35-44", "65+"}
    with pytest.raises(ParameterError, match=r"Column\(s\) \['income_band'\] required by profile"):
        sg.profile(people, orders, by="income_band", period=q3)


def test_behaviour_features_by_hand(orders, people):
    touches = pd.DataFrame(
        {
            "customer_id": ["a", "a", "c"],
            "occurred_at": pd.to_datetime(["2026-01-02", "2026-02-02", "2026-10-05"]),
        }
    )
    features = sg.behaviour_features(orders, people, as_of="2026-09-30", interactions=touches)
    assert features.loc["a", "average_order_value"] == pytest.approx(200 / 3)
    assert features.loc["a", "tenure_days"] == 303
    assert features.loc["a", "interactions"] == 2 and features.loc["c", "interactions"] == 0
    assert features.loc["a", "channel_store"] == pytest.approx(2 / 3)
    assert "d" not in features.index


def test_value_tiers_and_top_share():
    value = pd.Series([100.0, 50, 20, 10, 10, 5, 2, 1, 1, 1])
    assert sg.top_share(value, top=0.2) == pytest.approx(150 / 200)
    tiers = sg.value_tiers(value)
    assert tiers.tolist()[:2] == ["high", "high"] and tiers.iloc[2] == "middle"
    assert tiers.iloc[-1] == "low"
    curve = sg.lorenz_curve(value)
    assert curve.iloc[-1].tolist() == [1.0, 1.0] and curve.iloc[1, 1] == pytest.approx(0.5)


SILENT_365 = ChurnDefinition("inactivity", 365, "parameter")
EVENTS = ChurnDefinition("events", None, "events")


def test_lifecycle_by_hand(orders, people):
    stages = lifecycle.lifecycle_stages(
        people, orders, as_of="2026-09-30", definition=SILENT_365,
        new_days=90, active_days=180, loyal_orders=3,
    )  # fmt: skip
    # a: 3 orders, last 10 days ago -> repeat; b: last order 213 days ago -> lapsing;
    # c: first order 29 days ago -> new; d: no order -> prospect
    assert stages.to_dict() == {"a": "repeat", "b": "lapsing", "c": "new", "d": "prospect"}
    # churned is the churn definition's: b silent 213 days churns at 200 days of silence, and
    # d, who signed up 29 days ago without ordering, at 20
    for days, churned in ((200, {"b"}), (20, {"b", "d"})):
        silent = ChurnDefinition("inactivity", days, "parameter")
        found = lifecycle.lifecycle_stages(people, orders, as_of="2026-09-30", definition=silent)
        assert set(found.index[found == "churned"]) == churned, days
    # events: a's cancellation after her last order churns her; c's before his last order
    # does not (won back); d cancelled without ever ordering: churned, not a prospect
    gone = pd.DataFrame(
        {
            "customer_id": ["a", "c", "d"],
            "churned_at": pd.to_datetime(["2026-09-25", "2026-09-10", "2026-09-05"]),
        }
    )
    by_events = lifecycle.lifecycle_stages(
        people, orders, as_of="2026-09-30", definition=EVENTS, churn_events=gone
    )
    assert by_events.to_dict() == {"a": "churned", "b": "lapsing", "c": "new", "d": "churned"}
    before = lifecycle.lifecycle_stages(people, orders, as_of="2026-06-30", definition=SILENT_365)
    matrix = lifecycle.transition_matrix(before, stages)
    assert matrix.loc["not yet signed up", "new"] == 1  # c signed up in August
    assert matrix.to_numpy().sum() == 4


def test_clustering_separates_two_obvious_groups():
    rng = np.random.default_rng(1)
    n = 200
    features = pd.DataFrame(
        {
            "recency_days": np.r_[rng.integers(1, 20, n), rng.integers(200, 400, n)],
            "frequency": np.r_[rng.integers(8, 15, n), rng.integers(1, 3, n)],
            "monetary": np.r_[rng.uniform(1000, 2000, n), rng.uniform(10, 50, n)],
        },
        index=[f"c{i}" for i in range(2 * n)],
    )
    result = sg.cluster_customers(features, k_range=range(2, 5))
    assert result.k == 2 and result.stability_ari > 0.99
    assert (result.labels.iloc[:n] == 0).all() and (result.labels.iloc[n:] == 1).all()
    assert result.profiles["customers"].tolist() == [n, n]


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["north", "south", "east", "west"])
def test_finds_the_planted_segments(unit):
    """k chosen by silhouette; the clusters match the generator's planted behavioural
    segments with an adjusted Rand index of at least 0.6."""
    from conftest import ROOT
    from sklearn.metrics import adjusted_rand_score

    from crmkit.load.unit import load_unit

    data = load_unit(
        unit, data_source=str(ROOT / "sample_data"), period="2026-Q3", as_of="2026-10-15"
    )
    features = sg.behaviour_features(
        data["transactions"],
        data["customers"],
        as_of="2026-09-30",
        interactions=data["interactions"],
    )
    result = sg.cluster_customers(features)
    planted = pd.read_csv(ROOT / "sample_data" / "_truth" / "customer_segments.csv")
    planted = planted.set_index("customer_id")["segment"].loc[features.index]
    assert adjusted_rand_score(planted, result.labels) >= 0.6
    assert result.stability_ari > 0.9
    # the highest-value cluster is mostly the planted high-value segment
    top = planted[result.labels == 0]
    assert (top == "high_value").mean() > 0.7


def test_analyse_small_unit_says_what_it_skipped(orders, people):
    analysis = sg.analyse(people, orders, period=parse_period("2026-Q3"))
    assert analysis.clustering is None
    assert analysis.clustering_skipped == "too_few_buyers"
    assert analysis.min_cluster_customers == 35 and len(analysis.features) == 3
    assert "customers.psy_*" in analysis.missing and "interactions" in analysis.missing
    # no churn events and too few gaps between orders: the churn report's 180 days of silence
    definition = analysis.churn_definition
    assert (definition.kind, definition.inactivity_days, definition.basis) == (
        "inactivity", 180, "fallback"
    )  # fmt: skip
    assert analysis.lifecycle_rules == lifecycle.LIFECYCLE_RULES
    assert analysis.psychographic.empty and analysis.demographic
    assert list(analysis.geographic) == ["region"]
    assert list(analysis.demographic) == ["age_band"]
    assert analysis.n_customers == 4 and len(analysis.rfm) == 3
    # previous segments are scored at 30 June: a and b had bought by then
    assert analysis.segments["previous_customers"].sum() == 2
    # b, silent 213 days, has churned by that definition
    assert analysis.lifecycle.to_dict() == {
        "a": "repeat",
        "b": "churned",
        "c": "new",
        "d": "prospect",
    }
    with_days = sg.analyse(
        people, orders, period=parse_period("2026-Q3"), churn_inactivity_days=365
    )
    assert with_days.lifecycle["b"] == "lapsing"


def test_a_whole_day_counts_whatever_its_time(orders, people):
    """Orders late on the last day are in; at midnight after it, out. Times on ``as_of`` are
    dropped, so 17:45 on 30 September means the whole of 30 September."""
    late = pd.DataFrame(
        {
            "customer_id": ["b", "b"],
            "order_date": pd.to_datetime(["2026-09-30 23:59", "2026-10-01 00:00"]),
            "amount": [1.0, 1000.0],
            "channel": ["online", "online"],
        }
    )
    both = pd.concat([orders, late], ignore_index=True)
    for as_of in ("2026-09-30", "2026-09-30 17:45", pd.Timestamp("2026-09-30 08:00")):
        table = sg.rfm(both, as_of=as_of).set_index("customer_id")
        assert table.loc["b"].tolist() == [0, 2, 11.0]
        stages = lifecycle.lifecycle_stages(people, both, as_of=as_of, definition=SILENT_365)
        assert stages["b"] == "active"
        features = sg.behaviour_features(both, people, as_of=as_of)
        assert features.loc["a", "tenure_days"] == 303
    profile = sg.profile(people, both, by="region", period=parse_period("2026-Q3"))
    assert profile.set_index("region").loc["West", "revenue"] == 1.0
    days = range_period(pd.Timestamp("2026-09-30").date(), pd.Timestamp("2026-09-30").date())
    assert sg.profile(people, both, by="region", period=days)["revenue"].sum() == 1.0


def alike(n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` customers who signed up and bought on the same days for the same amount."""
    ids = [f"c{i}" for i in range(n)]
    people = pd.DataFrame({"customer_id": ids, "signup_date": pd.Timestamp("2026-01-01")})
    orders = pd.DataFrame(
        {
            "customer_id": ids,
            "order_date": pd.Timestamp("2026-09-01"),
            "amount": 10.0,
        }
    )
    return people, orders


def test_customers_who_behave_alike_are_not_clustered():
    people, orders = alike()
    features = sg.behaviour_features(orders, people, as_of="2026-09-30")
    with pytest.raises(ParameterError, match=r"whose behaviour differs; got 1 distinct"):
        sg.cluster_customers(features)
    analysis = sg.analyse(people, orders, period=parse_period("2026-Q3"))
    assert analysis.clustering is None and analysis.clustering_skipped == "too_alike"


def test_lifecycle_rules_are_checked():
    people, orders = alike(3)
    with pytest.raises(ParameterError, match=r"unknown rule\(s\) \['churn_day'\]; the rules are"):
        sg.analyse(
            people, orders, period=parse_period("2026-Q3"), lifecycle_rules={"churn_day": 90}
        )
    with pytest.raises(ParameterError, match="churn_days is no longer a lifecycle rule"):
        sg.analyse(
            people, orders, period=parse_period("2026-Q3"), lifecycle_rules={"churn_days": 200}
        )
    analysis = sg.analyse(
        people, orders, period=parse_period("2026-Q3"), lifecycle_rules={"active_days": 200}
    )
    assert analysis.lifecycle_rules == {**lifecycle.LIFECYCLE_RULES, "active_days": 200}


def test_lifecycle_rule_defaults_are_the_functions():
    import inspect

    rules = lifecycle.LIFECYCLE_RULES
    defaults = inspect.signature(lifecycle.lifecycle_stages).parameters
    assert {name: defaults[name].default for name in rules} == rules


def test_missing_inputs_by_hand(people):
    customers = people.assign(city=None, psy_price=[1, 2, 3, 4])
    touches = pd.DataFrame(columns=["interaction_id", "customer_id", "occurred_at", "channel"])
    missing = sg.missing_inputs(customers, interactions=touches, churn_events=None)
    assert missing == (
        "customers.city",  # a column with no value is as good as absent
        "customers.gender",
        "customers.income_band",
        "customers.occupation",
        "customers.industry",
        "interactions",  # a header only
        "churn_events",
    )


def scored(segments: dict[str, str]) -> pd.DataFrame:
    """An :func:`rfm_scores`-shaped table with only what the moves read."""
    return pd.DataFrame({"customer_id": list(segments), "segment": list(segments.values())})


def test_segment_moves_by_hand():
    before = scored(
        {"a": "at_risk", "b": "at_risk", "c": "loyal", "d": "hibernating", "e": "cant_lose"}
    )
    now = scored({"a": "hibernating", "b": "at_risk", "c": "at_risk", "d": "champions", "f": "new"})
    moves = segment_changes.segment_moves(now, before).set_index(["previous_segment", "segment"])
    # a: at_risk -> hibernating is worse (level 1 -> 2); c: loyal -> at_risk worse (0 -> 1);
    # d: hibernating -> champions better; b stays. Only customers scored at both ends move:
    # not e (absent now) nor f (first bought in between).
    assert moves["direction"].to_dict() == {
        ("at_risk", "hibernating"): "worse",
        ("at_risk", "at_risk"): "level",
        ("hibernating", "champions"): "better",
        ("loyal", "at_risk"): "worse",
    }
    assert moves["customers"].sum() == 4
    m = segment_changes.movement(segment_changes.segment_moves(now, before), now, before)
    assert (m.worse, m.better, m.scored_before) == (2, 1, 4)
    assert (m.lapsed_now, m.lapsed_before) == (3, 4)  # a b c now; a b d e before
    assert m.worse_share == 0.5
    assert segment_changes.segment_moves(now, None).empty


def test_period_spend_and_buying_customers_by_hand(orders, people):
    q3 = parse_period("2026-Q3")
    # Q3: a 50 (20 Sep), c 20 + 30; b nothing; d signed up 1 Sep, no order
    assert segment_changes.period_spend(people, orders, period=q3).to_dict() == {
        "a": 50.0,
        "b": 0.0,
        "c": 50.0,
        "d": 0.0,
    }
    # Q2: a 50 (1 Jun); c and d had not signed up by 30 June
    assert segment_changes.period_spend(people, orders, period=q3.previous()).to_dict() == {
        "a": 50.0,
        "b": 0.0,
    }
    assert segment_changes.buying_customers(orders, period=q3) == 2
    assert segment_changes.buying_customers(orders, period=q3.previous()) == 1


def test_total_change_by_hand():
    now = pd.Series([10.0, 0.0, 20.0])  # total 30, variance 100
    before = pd.Series([5.0, 5.0])  # total 10, variance 0
    change = segment_changes.total_change(now, before)
    se = (3 * 100 + 2 * 0) ** 0.5
    assert change.delta == 20.0
    assert (change.low, change.high) == pytest.approx((20 - 1.959964 * se, 20 + 1.959964 * se))
    from scipy.stats import norm

    assert change.p_value == pytest.approx(2 * norm.sf(20 / se))
    flat = segment_changes.total_change(pd.Series([1.0, 1.0]), pd.Series([1.0, 1.0]))
    assert flat.as_dict() == {"delta": 0.0, "ci": None, "p_value": None}  # no spread to test


@pytest.mark.slow
def test_clustering_a_sample_agrees_with_clustering_everyone():
    """North's buyers twenty times over (each copy's features scaled by noise of ±3%, so no
    two rows are equal): 44,580 customers, clustered from the default sample of 20,000 and
    from all of them. Stated tolerance: the same k, silhouettes within 0.01 at every k, labels
    agreeing with an adjusted Rand index of at least 0.99; the planted segments found as
    well (ARI ≥ 0.6)."""
    from conftest import ROOT
    from sklearn.metrics import adjusted_rand_score

    from crmkit.load.unit import load_unit

    data = load_unit(
        "north", data_source=str(ROOT / "sample_data"), period="2026-Q3", as_of="2026-10-15"
    )
    features = sg.behaviour_features(
        data["transactions"],
        data["customers"],
        as_of="2026-09-30",
        interactions=data["interactions"],
    )
    rng = np.random.default_rng(0)
    copies = [
        features.set_axis([f"{c}_{i}" for i in features.index])
        * rng.lognormal(0, 0.03, features.shape)
        for c in range(20)
    ]
    many = pd.concat(copies)
    assert len(many) > 2 * sg.CLUSTER_SAMPLE
    everyone = sg.cluster_customers(many, fit_sample=len(many))
    sampled = sg.cluster_customers(many)
    assert sampled.k == everyone.k
    assert sampled.silhouettes == pytest.approx(everyone.silhouettes, abs=0.01)
    assert adjusted_rand_score(everyone.labels, sampled.labels) >= 0.99
    planted = pd.read_csv(ROOT / "sample_data" / "_truth" / "customer_segments.csv")
    planted = planted.set_index("customer_id")["segment"].loc[features.index]
    assert adjusted_rand_score(np.tile(planted.to_numpy(), 20), sampled.labels) >= 0.6


@pytest.mark.parametrize(
    "typed",
    [
        lambda dates: dates.astype("datetime64[us]"),
        lambda dates: dates.astype("datetime64[ns]"),
        lambda dates: dates.dt.tz_localize("UTC"),
    ],
)
def test_first_last_and_count_per_customer_are_pandas_groupby(typed):
    """What lifecycle stages read of the orders (the engine's order totals) is pandas'
    groupby, for days in microseconds, nanoseconds and with a zone (UTC)."""
    rng = np.random.default_rng(7)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, 5000), "D")
    orders = pd.DataFrame(
        {
            "customer_id": pd.array(rng.choice([*"abcdefgh", None], 5000), dtype="string"),
            "order_date": typed(pd.Series(days)),
            "amount": 1.0,
        }
    )
    expected = orders.groupby("customer_id")["order_date"].agg(["min", "max", "size"])
    found = order_totals(orders, through="2026-12-31").set_index("customer_id")
    assert found["orders"].tolist() == expected["size"].tolist()
    for ours, theirs in (("first_order", "min"), ("last_order", "max")):
        assert found[ours].tolist() == expected[theirs].dt.tz_localize(None).tolist()


def test_behaviour_features_read_a_loaded_channel_column_with_blanks(orders, people):
    # as loading gives it: a categorical column, here with one order's channel blank
    orders["channel"] = pd.Categorical(["store", "store", "online", None, "online", "online"])
    features = sg.behaviour_features(orders, people, as_of="2026-09-30")
    assert features.loc["a", "channel_store"] == pytest.approx(2 / 3)
    assert features.loc["b", "channel_unknown"] == pytest.approx(1.0)


def test_psychographic_profile_by_hand():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            # digits as a category (as the loader types them): the mean of the numbers
            "psy_price": pd.Categorical(["1", "2", "5", "4", "4"]),
            # numbers as text: numbers; with one of five missing (not over 90% numbers): words
            "psy_score": pd.Series(["1.5", "2", "2.5", "3", "3"], dtype="string"),
            "psy_level": pd.Series(["1", None, "2", "2", "3"], dtype="string"),
            # words: the most common value
            "psy_interest": pd.Categorical(["home", "home", "outdoors", "tech", "tech"]),
            "age": [30, 40, 50, 60, 70],
        }
    )
    labels = pd.Series([0, 0, 1, 1, 1], index=list("abcde"), name="cluster")
    table = sg.psychographic_profile(customers, labels).set_index("cluster")
    assert list(table.columns) == ["psy_price", "psy_score", "psy_level", "psy_interest"]
    assert table["psy_price"].tolist() == [1.5, 4.33]  # (1+2)/2, (5+4+4)/3 rounded
    assert table["psy_score"].tolist() == [1.75, 2.83]  # (1.5+2)/2, (2.5+3+3)/3
    assert table["psy_level"].tolist() == ["1", "2"]
    assert table["psy_interest"].tolist() == ["home", "tech"]


@pytest.mark.parametrize("unit", ["north", "west"])  # churn events; inactivity
def test_lifecycle_churned_are_the_churn_reports_churned_to_date(unit):
    from conftest import ROOT

    from crmkit.load.unit import load_unit
    from crmkit.metrics.churn_lifetimes import lifetimes_analysis
    from crmkit.metrics.churn_status import choose_definition

    data = load_unit(unit, data_source=ROOT / "sample_data", period="2026-Q3", as_of="2026-10-15")
    customers, orders = data["customers"], data["transactions"]
    events = data.tables.get("churn_events")
    events = events if events is not None and len(events) else None
    period = data.period
    definition = choose_definition(orders, events, period=period)
    assert definition.kind == ("events" if unit == "north" else "inactivity")
    churn_report = lifetimes_analysis(
        customers, orders, events, period=period, definition=definition, breakdowns=()
    )
    analysis = sg.analyse(customers, orders, period=period, churn_events=events)
    assert analysis.churn_definition == definition
    assert (analysis.lifecycle == "churned").sum() == churn_report.churned > 0

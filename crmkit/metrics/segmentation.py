"""Customer segmentation: profiles by attribute, RFM with named segments, k-means clusters,
value tiers, and the analysis that gathers every section for one unit and period.

Lifecycle stages are in :mod:`crmkit.metrics.lifecycle`; moves between segments and the
period's changes in :mod:`crmkit.metrics.segment_changes`. Every function takes tidy frames
with the contract's column names and returns a new frame. The report's words, views and
suggested actions are in ``topics/segmentation.py`` and ``topics/segmentation_tables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import Period, require_period, rows_through
from crmkit.metrics.churn_status import ChurnDefinition, choose_definition
from crmkit.metrics.customer_orders import Orders, channel_orders, order_totals
from crmkit.metrics.customer_positions import positions
from crmkit.metrics.lifecycle import (
    lifecycle_rules_with_defaults,
    stages_from_totals,
    transition_matrix,
)
from crmkit.metrics.psychographic import psychographic_profile
from crmkit.metrics.segment_changes import (
    Change,
    Movement,
    count_change,
    movement,
    period_totals,
    segment_moves,
    spend_of,
    total_change,
)

AGE_BANDS = [0, 25, 35, 45, 55, 65, 200]
AGE_LABELS = ["under 25", "25-34", "35-44", "45-54", "55-64", "65+"]

# The ten named segments of the R×F grid (scores 1-5; R high = bought recently), by code;
# the report names them in its language (the glossary terms ``rfm_<code>``).
RFM_GRID: list[tuple[str, range, range]] = [
    ("champions", range(5, 6), range(4, 6)),
    ("loyal", range(3, 5), range(4, 6)),
    ("potential_loyalists", range(4, 6), range(2, 4)),
    ("new", range(5, 6), range(1, 2)),
    ("promising", range(4, 5), range(1, 2)),
    ("need_attention", range(3, 4), range(3, 4)),
    ("about_to_sleep", range(3, 4), range(1, 3)),
    ("at_risk", range(1, 3), range(3, 5)),
    ("cant_lose", range(1, 3), range(5, 6)),
    ("hibernating", range(1, 3), range(1, 3)),
]
SEGMENT_ORDER = [name for name, _, _ in RFM_GRID]


def age_band(age: pd.Series) -> pd.Series:
    """Ages in bands: under 25, 25-34, 35-44, 45-54, 55-64, 65+."""
    return pd.cut(age, AGE_BANDS, right=False, labels=AGE_LABELS)


def profile(
    customers: pd.DataFrame,
    transactions: Orders,
    *,
    by: str,
    period: Period,
) -> pd.DataFrame:
    """Customers, revenue in ``period``, revenue per customer and active share per group.

    ``by`` is a customers column (``region``, ``city``, ``gender``, ``income_band`` ...) or
    ``age_band``. Active = at least one order in the period. Customers without a value in
    ``by`` form the group "unknown".

    Returns
    -------
    pandas.DataFrame
        One row per group, largest revenue first: ``<by>, customers, revenue,
        revenue_per_customer, active_share, revenue_share``.
    """
    groups = _profile_groups(customers, by)
    revenue, active = _period_revenue(customers, period_totals(transactions, period=period))
    return _profile_table(groups, revenue, active, by)


def _profile_groups(customers: pd.DataFrame, by: str) -> np.ndarray:
    if by == "age_band":
        require_columns(customers, ["age"], "customers", "profile")
        groups = age_band(customers["age"]).astype("string")
    else:
        require_columns(customers, [by], "customers", "profile")
        groups = customers[by].astype("string")
    return groups.fillna("unknown").to_numpy()


def _period_revenue(customers: pd.DataFrame, totals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Revenue in the period per customer on record (0 without orders) and whether they
    ordered, in the order of ``customers``, from the period's
    :func:`~crmkit.metrics.segment_changes.period_totals`."""
    revenue = totals.set_index("customer_id")["revenue"]
    position = revenue.index.get_indexer(customers["customer_id"])
    ordered = position >= 0
    spent = np.zeros(len(position))
    spent[ordered] = revenue.to_numpy()[position[ordered]]
    return spent, ordered


def _profile_table(groups: np.ndarray, revenue: np.ndarray, active: np.ndarray, by: str):
    frame = pd.DataFrame({by: groups, "revenue": revenue, "active": active})
    table = frame.groupby(by).agg(
        customers=("revenue", "size"), revenue=("revenue", "sum"), active_share=("active", "mean")
    )
    table["revenue_per_customer"] = table["revenue"] / table["customers"]
    total = table["revenue"].sum()
    table["revenue_share"] = table["revenue"] / total if total else np.nan
    columns = ["customers", "revenue", "revenue_per_customer", "active_share", "revenue_share"]
    return table[columns].sort_values("revenue", ascending=False).reset_index()


def rfm(transactions: Orders, *, as_of: date | str | pd.Timestamp) -> pd.DataFrame:
    """Recency (days since the last order), frequency (orders) and monetary (revenue) per
    customer, over the history up to ``as_of``. Customers without orders are absent.

    Returns
    -------
    pandas.DataFrame
        One row per customer, sorted by id: ``customer_id, recency_days, frequency,
        monetary``.
    """
    require_columns(transactions, ["customer_id", "order_date", "amount"], "transactions", "rfm")
    return rfm_from_totals(order_totals(transactions, through=as_of), as_of=as_of)


def rfm_from_totals(totals: pd.DataFrame, *, as_of: date | str | pd.Timestamp) -> pd.DataFrame:
    """:func:`rfm` from the orders' :func:`~crmkit.metrics.customer_orders.order_totals` up to
    ``as_of``, for a caller that has them already."""
    today = pd.Timestamp(as_of).normalize()
    return pd.DataFrame(
        {
            "customer_id": totals["customer_id"],
            "recency_days": (today - totals["last_order"].dt.normalize()).dt.days,
            "frequency": totals["orders"],
            "monetary": totals["revenue"],
        }
    )


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1-5 by quintile of rank. Ties share the average of their ranks, so equal values
    always get equal scores (many customers with one order all score the same)."""
    ranks = (values if higher_is_better else -values).rank(method="average", pct=True)
    return np.ceil((ranks * 5).round(9)).clip(1, 5).astype(int)


def rfm_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``r, f, m`` quintile scores (recent = 5) and the named ``segment`` to an
    :func:`rfm` table.

    Segment rule (the common R×F grid), by code: champions R5 F4-5; loyal R3-4 F4-5;
    potential_loyalists R4-5 F2-3; new R5 F1; promising R4 F1; need_attention R3 F3;
    about_to_sleep R3 F1-2; at_risk R1-2 F3-4; cant_lose R1-2 F5; hibernating R1-2 F1-2.
    """
    require_columns(table, ["recency_days", "frequency", "monetary"], "table", "rfm_scores")
    scored = table.copy()
    scored["r"] = quintile_scores(-scored["recency_days"].astype(float))
    scored["f"] = quintile_scores(scored["frequency"].astype(float))
    scored["m"] = quintile_scores(scored["monetary"].astype(float))
    grid = np.array([[segment_of(r, f) for f in range(1, 6)] for r in range(1, 6)])
    scored["segment"] = grid[scored["r"].to_numpy() - 1, scored["f"].to_numpy() - 1]
    return scored


def segment_of(r: int, f: int) -> str:
    """The segment code of an R and F score."""
    for name, rs, fs in RFM_GRID:
        if r in rs and f in fs:
            return name
    raise ParameterError(f"R and F scores must be 1-5; got r={r}, f={f}.")


def segment_summary(current: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Customers, share, revenue share per named segment, and change against a previous
    scoring. One row per segment in grid order."""

    def tally(scored):
        table = scored.groupby("segment").agg(
            customers=("customer_id", "size"), revenue=("monetary", "sum")
        )
        return table.reindex(SEGMENT_ORDER, fill_value=0)

    now = tally(current)
    now["customer_share"] = now["customers"] / now["customers"].sum()
    now["revenue_share"] = now["revenue"] / now["revenue"].sum()
    if previous is not None:
        now["previous_customers"] = tally(previous)["customers"]
        now["change"] = now["customers"] - now["previous_customers"]
    now.index.name = "segment"
    return now.reset_index()


# ----------------------------------------------------------------------------- clusters


def behaviour_features(
    transactions: Orders,
    customers: pd.DataFrame,
    *,
    as_of: date | str | pd.Timestamp,
    interactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Behavioural features per buying customer at ``as_of``: recency, frequency, monetary,
    average order value, tenure (days since signup), interactions, and the share of orders
    per channel (``channel_<name>``) where transactions carry a channel.

    Returns one row per customer with at least one order, indexed by ``customer_id``.
    """
    return _behaviour_features(
        rfm(transactions, as_of=as_of), transactions, customers, as_of=as_of,
        interactions=interactions,
    )  # fmt: skip


def _behaviour_features(
    scored: pd.DataFrame,
    transactions: Orders,
    customers: pd.DataFrame,
    *,
    as_of: date | str | pd.Timestamp,
    interactions: pd.DataFrame | None,
) -> pd.DataFrame:
    """:func:`behaviour_features` from the :func:`rfm` table at ``as_of`` (``scored``)."""
    table = scored[["customer_id", "recency_days", "frequency", "monetary"]].set_index(
        "customer_id"
    )
    table["average_order_value"] = table["monetary"] / table["frequency"]
    ids = table.index.to_series()  # found by position: reindexing by a million ids cost 1 s
    signup = np.append(customers["signup_date"].to_numpy("datetime64[ns]"), np.datetime64("NaT"))
    signup = pd.Series(signup[positions(customers["customer_id"], ids)[0]], index=table.index)
    today = pd.Timestamp(as_of).normalize()
    table["tenure_days"] = (today - signup.dt.normalize()).dt.days.clip(lower=0)
    if interactions is not None and len(interactions):
        at = positions(ids, rows_through(interactions, "occurred_at", as_of)["customer_id"])[0]
        table["interactions"] = np.bincount(at[at >= 0], minlength=len(table)).astype("int64")
    if "channel" in transactions.columns:
        counts = channel_orders(transactions, through=as_of)
        row = positions(ids, counts["customer_id"])[0]
        channel, names = pd.factorize(counts["channel"], sort=True)
        orders = np.zeros((len(table), len(names)))
        np.add.at(orders, (row, channel), counts["orders"].to_numpy(dtype=float))
        shares = orders / orders.sum(axis=1, keepdims=True)
        for column, name in enumerate(names):
            table[f"channel_{name}"] = shares[:, column]
    return table


def min_customers_to_cluster(k_range: range) -> int:
    """Buying customers :func:`cluster_customers` needs for ``k_range``: five per cluster of
    the largest k tried."""
    return max(k_range) * 5


@dataclass(frozen=True)
class Clustering:
    """k-means on log-transformed, standardised behavioural features.

    ``labels`` (one per customer, 0..k-1 ordered by mean monetary value, highest first),
    ``silhouettes`` ({k: score}), ``stability_ari`` (mean adjusted Rand index between the
    chosen solution and refits with other seeds) and ``profiles`` (median features per
    cluster, with ``customers``; the segmentation topic's ``describe_clusters`` puts them in
    words).
    """

    k: int
    labels: pd.Series
    silhouette: float
    silhouettes: dict[int, float]
    stability_ari: float
    profiles: pd.DataFrame


CLUSTER_SAMPLE = 20_000
"""Above this many customers, :func:`cluster_customers` searches k and checks stability on
a seeded random sample of this many, then clusters everyone from the sample's centres."""


def cluster_customers(
    features: pd.DataFrame,
    *,
    k_range: range = range(2, 8),
    random_state: int = 0,
    stability_seeds: int = 5,
    sample_size: int = 4000,
    fit_sample: int = CLUSTER_SAMPLE,
) -> Clustering:
    """Choose k by silhouette over ``k_range``, cluster, and check stability across seeds.

    Counts and money are log1p-transformed, channel shares kept (less the commonest and the
    rare ones), all standardised. Silhouettes are computed on a sample of ``sample_size``
    customers for speed. k stays below the number of distinct feature rows (customers who
    behave identically are one point).

    With more than ``fit_sample`` customers, the search for k (k-means with 10 starts per k)
    and the stability refits run on a seeded random sample of ``fit_sample`` customers, and
    k-means on all customers then starts from the chosen solution's centres and iterates to
    convergence (Lloyd's algorithm, as every k-means start does), so every customer is
    assigned by centres fitted to all of them. Silhouettes and stability are of the sample.

    Raises
    ------
    ParameterError
        Fewer than ``5 × max(k_range)`` customers (:func:`min_customers_to_cluster`), or
        fewer than three distinct feature rows.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    if len(features) < min_customers_to_cluster(k_range):
        raise ParameterError(
            f"cluster_customers needs at least {min_customers_to_cluster(k_range)} customers; "
            f"got {len(features)}."
        )
    numbers = features.astype(float)
    # Distinct rows decide only whether there are fewer than k_range.stop: count them in a
    # first slice, and in all rows only when that slice has too few.
    distinct = len(numbers.iloc[:fit_sample].drop_duplicates())
    if distinct < k_range.stop:
        distinct = len(numbers.drop_duplicates())
    k_range = range(k_range.start, min(k_range.stop, distinct))  # k below the distinct points
    if not len(k_range):
        raise ParameterError(
            f"cluster_customers needs customers whose behaviour differs; got {distinct} "
            f"distinct feature row(s) among {len(features)} customers."
        )
    x = _cluster_matrix(numbers)
    sampled = len(x) > fit_sample
    rng = np.random.default_rng(random_state)
    fit_rows = np.sort(rng.choice(len(x), fit_sample, replace=False)) if sampled else slice(None)
    # The silhouette's points are the ones silhouette_score would draw from all customers.
    scored = np.random.RandomState(random_state).permutation(len(x))[:sample_size]
    silhouettes, models = {}, {}
    for k in k_range:
        model = KMeans(k, n_init=10, random_state=random_state).fit(x[fit_rows])
        models[k] = model
        points = x[scored]
        labelled = model.predict(points) if sampled else model.labels_[scored]
        silhouettes[k] = float(silhouette_score(points, labelled))
    k = max(silhouettes, key=silhouettes.get)
    chosen = models[k].labels_
    others = [
        KMeans(k, n_init=10, random_state=random_state + s + 1).fit(x[fit_rows]).labels_
        for s in range(stability_seeds)
    ]
    ari = float(np.mean([adjusted_rand_score(chosen, o) for o in others]))
    labels = chosen
    if sampled:
        start = models[k].cluster_centers_
        labels = KMeans(k, init=start, n_init=1, random_state=random_state).fit(x).labels_
    order = (
        pd.Series(features["monetary"].to_numpy())
        .groupby(labels)
        .mean()
        .sort_values(ascending=False)
        .index
    )
    relabel = np.empty(k, dtype=int)
    relabel[order.to_numpy()] = np.arange(len(order))
    labels = pd.Series(relabel[labels], index=features.index, name="cluster")
    profiles = features.assign(cluster=labels).groupby("cluster").median()
    profiles.insert(0, "customers", labels.value_counts().sort_index())
    return Clustering(k, labels, silhouettes[k], silhouettes, ari, profiles)


def _cluster_matrix(numbers: pd.DataFrame) -> np.ndarray:
    """The standardised matrix k-means runs on (see :func:`cluster_customers`)."""
    from sklearn.preprocessing import StandardScaler

    matrix = numbers.copy()
    shares = [c for c in matrix.columns if c.startswith("channel_")]
    if shares:
        # Shares sum to one: keeping all would weigh the channel mix twice, so the commonest
        # channel is dropped as the reference. Channels with under 10% of the average mix are
        # dropped too: one stray order there makes a customer look unlike their peers.
        mix = matrix[shares].mean()
        matrix = matrix.drop(columns=[mix.idxmax(), *mix.index[mix < 0.1]])
    for column in matrix.columns:
        if not column.startswith("channel_"):
            matrix[column] = np.log1p(matrix[column].clip(lower=0))
    return StandardScaler().fit_transform(matrix.fillna(0.0))


# ----------------------------------------------------------------------------- value


def value_tiers(monetary: pd.Series, *, high: float = 0.2, middle: float = 0.5) -> pd.Series:
    """'high' for the top ``high`` share of customers by value, 'middle' for the next up to
    ``middle``, 'low' for the rest (ranks, ties averaged)."""
    from_top = monetary.rank(ascending=False, method="average") / len(monetary)
    tiers = np.where(from_top <= high, "high", np.where(from_top <= middle, "middle", "low"))
    return pd.Series(tiers, index=monetary.index, name="value_tier")


def top_share(monetary: pd.Series, *, top: float = 0.2) -> float:
    """Share of value held by the top ``top`` fraction of customers (the "top 20% bring X%")."""
    values = np.sort(monetary.to_numpy(dtype=float))[::-1]
    if not len(values) or values.sum() <= 0:
        return float("nan")
    n = max(1, round(top * len(values)))
    return float(values[:n].sum() / values.sum())


def lorenz_curve(monetary: pd.Series) -> pd.DataFrame:
    """Cumulative share of value against cumulative share of customers, largest first."""
    values = np.sort(monetary.to_numpy(dtype=float))[::-1]
    total = values.sum() or 1.0
    return pd.DataFrame(
        {
            "customer_share": np.arange(0, len(values) + 1) / max(len(values), 1),
            "value_share": np.concatenate([[0.0], np.cumsum(values) / total]),
        }
    )


@dataclass(frozen=True)
class SegmentationAnalysis:
    """Everything the segmentation report shows for one unit and period.

    Sections without their data are empty (``geographic``, ``demographic``,
    ``psychographic``) or ``None`` (``clustering``). ``clustering_skipped`` says why there
    are no clusters: ``"too_few_buyers"`` (fewer than ``min_cluster_customers`` customers
    have bought) or ``"too_alike"`` (their behaviour does not differ); empty when clustered.
    ``missing`` names the optional inputs absent, as the registry spells them
    (:data:`OPTIONAL_INPUTS`); ``lifecycle_rules`` are the stage rules used, defaults
    included (:data:`crmkit.metrics.lifecycle.LIFECYCLE_RULES`); ``churn_definition`` the
    unit's churn definition, which sets the churned stage; ``orders_in_period`` the orders the
    profiles' revenue comes from.

    This period against the previous one: ``moves`` and ``movement`` between RFM segments
    (:func:`segment_moves`, :func:`movement`; ``None`` without orders before the previous
    period end), ``buying_customers`` (:func:`buying_customers`) and ``period_revenue``
    with their previous values and changes (:func:`count_change`, :func:`total_change`);
    all from :mod:`crmkit.metrics.segment_changes`.
    """

    n_customers: int
    geographic: dict[str, pd.DataFrame]
    demographic: dict[str, pd.DataFrame]
    rfm: pd.DataFrame
    segments: pd.DataFrame
    features: pd.DataFrame
    clustering: Clustering | None
    psychographic: pd.DataFrame
    monetary: pd.Series
    top20_share: float
    lifecycle: pd.Series
    transitions: pd.DataFrame
    clustering_skipped: str = ""
    min_cluster_customers: int = 0
    missing: tuple[str, ...] = ()
    lifecycle_rules: dict[str, int] = field(default_factory=dict)
    churn_definition: ChurnDefinition | None = None
    orders_in_period: int = 0
    moves: pd.DataFrame = field(default_factory=pd.DataFrame)
    movement: Movement | None = None
    buying_customers: int = 0
    previous_buying_customers: int = 0
    buying_change: Change | None = None
    period_revenue: float = 0.0
    previous_period_revenue: float = 0.0
    revenue_change: Change | None = None


GEOGRAPHIC = ("region", "city")
DEMOGRAPHIC = ("age_band", "gender", "income_band", "occupation", "industry")
OPTIONAL_INPUTS = (
    *(f"customers.{c}" for c in ("region", "city", "age", *DEMOGRAPHIC[1:])),
    "customers.psy_*",
    "interactions",
    "churn_events",
)
"""What the segmentation uses when present: profile attributes, psychographic attributes,
contacts (clusters) and churn events (lifecycle)."""


def missing_inputs(
    customers: pd.DataFrame,
    *,
    interactions: pd.DataFrame | None = None,
    churn_events: pd.DataFrame | None = None,
) -> tuple[str, ...]:
    """The :data:`OPTIONAL_INPUTS` absent: a customer column absent or without any value,
    a ``psy_*`` family with no column, a table absent or without rows."""
    found = []
    for need in OPTIONAL_INPUTS:
        table, _, column = need.partition(".")
        if table == "customers" and column.endswith("*"):
            present = any(c.startswith(column[:-1]) for c in customers.columns)
        elif table == "customers":
            present = column in customers.columns and customers[column].notna().any()
        else:
            frame = interactions if table == "interactions" else churn_events
            present = frame is not None and not frame.empty
        if not present:
            found.append(need)
    return tuple(found)


REQUIRED = ("customers", "transactions")
READS: dict[str, tuple[str, ...] | None] = {
    "customers": None,
    "transactions": ("customer_id", "order_date", "amount", "channel"),
    "interactions": ("customer_id", "occurred_at"),
    "churn_events": None,
}
"""The columns :func:`analyse` reads of each table (None: all of them), for
:meth:`crmkit.load.unit.CRMData.read`."""
ON_DISK = ("transactions",)
"""The tables the segmentation report leaves on disk in a run: :func:`analyse` takes only
per-customer figures of the orders, computed by the engine."""


def analyse(
    customers: pd.DataFrame,
    transactions: Orders,
    *,
    period: Period,
    interactions: pd.DataFrame | None = None,
    churn_events: pd.DataFrame | None = None,
    lifecycle_rules: dict | None = None,
    churn_inactivity_days: int = 0,
    k_range: range = range(2, 8),
) -> SegmentationAnalysis:
    """All segmentation sections for one unit and ``period``.

    Profiles count revenue within the period; RFM scores, clusters and lifecycle stages are
    taken at the period's last day, and RFM segments and stages again at the previous
    period's last day for the change; buying customers and period revenue of the period
    and of the previous one. Sections without their data are left empty. The churned stage
    is the unit's churn definition (the churn report's, ``churn_inactivity_days``).
    """
    require_period(period, caller="segmentation.analyse")
    rules = lifecycle_rules_with_defaults(lifecycle_rules)
    definition = choose_definition(
        transactions, churn_events, period=period, inactivity_days=churn_inactivity_days
    )
    missing = missing_inputs(customers, interactions=interactions, churn_events=churn_events)
    in_period = period_totals(transactions, period=period)
    in_previous = period_totals(transactions, period=period.previous())
    revenue, active = _period_revenue(customers, in_period)
    geographic = {
        by: _profile_table(_profile_groups(customers, by), revenue, active, by)
        for by in GEOGRAPHIC
        if f"customers.{by}" not in missing
    }
    demographic = {
        by: _profile_table(_profile_groups(customers, by), revenue, active, by)
        for by in DEMOGRAPHIC
        if f"customers.{'age' if by == 'age_band' else by}" not in missing
    }
    # the orders' totals at each end, taken once: RFM, behaviour and lifecycle read them
    totals = order_totals(transactions, through=period.end)
    totals_before = order_totals(transactions, through=period.previous_end)
    scored = rfm_scores(rfm_from_totals(totals, as_of=period.end))
    before = rfm_from_totals(totals_before, as_of=period.previous_end)
    previous = rfm_scores(before) if len(before) else None
    segments = segment_summary(scored, previous)
    features = _behaviour_features(
        scored, transactions, customers, as_of=period.end, interactions=interactions
    )
    clustering, skipped = None, ""
    needed = min_customers_to_cluster(k_range)
    if len(features) < needed:
        skipped = "too_few_buyers"
    else:
        try:
            clustering = cluster_customers(features, k_range=k_range)
        except ParameterError:
            skipped = "too_alike"
    psychographic = pd.DataFrame()
    if clustering is not None:
        psychographic = psychographic_profile(customers, clustering.labels)
    monetary = scored.set_index("customer_id")["monetary"]
    stages, before_stages = (
        stages_from_totals(
            customers, them, rules, as_of=day, churn_events=churn_events, definition=definition
        )
        for them, day in ((totals, period.end), (totals_before, period.previous_end))
    )
    moves = segment_moves(scored, previous)
    spend = spend_of(customers, in_period, period=period)
    spend_before = spend_of(customers, in_previous, period=period.previous())
    buyers, buyers_before = len(in_period), len(in_previous)
    return SegmentationAnalysis(
        n_customers=len(customers),
        geographic=geographic,
        demographic=demographic,
        rfm=scored,
        segments=segments,
        features=features,
        clustering=clustering,
        psychographic=psychographic,
        monetary=monetary,
        top20_share=top_share(monetary),
        lifecycle=stages,
        transitions=transition_matrix(before_stages, stages),
        clustering_skipped=skipped,
        min_cluster_customers=needed,
        missing=missing,
        lifecycle_rules=rules,
        churn_definition=definition,
        orders_in_period=int(in_period["orders"].sum()),
        moves=moves,
        movement=None if previous is None else movement(moves, scored, previous),
        buying_customers=buyers,
        previous_buying_customers=buyers_before,
        buying_change=count_change(buyers, buyers_before),
        period_revenue=float(spend.sum()),
        previous_period_revenue=float(spend_before.sum()),
        revenue_change=total_change(spend, spend_before),
    )

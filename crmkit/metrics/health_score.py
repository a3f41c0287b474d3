"""The customer health score: 0–100, higher is healthier, from five weighted components.

Each customer active at a cut day (not churned by it, by :func:`crmkit.metrics.churn_status.
churn_dates`, and signed up by it) gets points 0–100 on each component for which they have
data, from piecewise-linear grids (``np.interp``, flat beyond the ends) or points per group,
all in the parameters (:data:`HEALTH_DEFAULTS`). Only rows dated on or before the cut are
read (point in time), so a score at a past period end can be tested against the churn that
followed it (:mod:`crmkit.metrics.health_validation`).

Components (windows are whole days ending on the cut day, as in
:mod:`crmkit.metrics.churn_features`):

``engagement``
    Interactions per month in the last 90 days ÷ interactions per month in the 365 days before
    those (the customer's own baseline; the days of it after sign-up when the customer is
    younger): ``engagement_ratio``, points from the grid ``engagement_ratio``. Needs 2
    interactions or more in the baseline and 180 days of tenure or more; missing without an
    ``interactions`` table.
``value``
    The mean of the parts available: the spend trend ``(s1 − s0) / (s1 + s0)`` of the last 90
    days against the 90 before (missing without spend in either; grid ``spend_trend``), and the
    CLV tier — the top :data:`TOP_SHARE` of the scored customers' predicted CLV, the next
    :data:`MIDDLE_SHARE`, the rest (points ``clv_tier``).
``sentiment``
    The mean of the parts available: the latest NPS answer of the last 365 days as its group
    (promoter 9–10, passive 7–8, detractor 0–6; Reichheld 2003; points ``nps_group``) and the
    latest CSAT of the last 365 days (grid ``csat``, 1 → 0 … 5 → 100).
``service``
    The mean of the parts available: complaints opened in the last 90 days (the one-source
    complaint rule of :mod:`crmkit.metrics.churn_features`; grid ``complaints_90d``, 0 → 100,
    1 → 40, 2 or more → 0) and tickets opened in the last 90 days still open at the cut
    (``resolved_at`` missing or after the cut; grid ``open_tickets``, 0 → 100, 1 or more → 50),
    the latter only where ``resolved_at`` holds values. Missing without either source.
``purchasing``
    Days since the last order ÷ the customer's expected purchase cycle (their mean gap between
    consecutive order days with 2 order days or more, else the unit's median gap between
    consecutive order days before the cut; at least :data:`MIN_CYCLE_DAYS`), grid
    ``cycle_ratio``. Missing for a customer who never ordered.

The score is Σ wₖ·pₖ ÷ Σ wₖ over the components the customer has (renormalised: missing data
is left out, never scored as zero), the colour band red below ``red_below``, green from
``green_from``, amber between; with ``cap_at_amber`` a customer with any component below
``poor_below`` is amber at best. Weighted-component health scores are the industry's form
(Gainsight, Totango, ChurnZero; Hochstein, *The Customer Success Professional's Handbook*,
2020); the weights are checked against churn in every report.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError, require_columns
from crmkit.core.periods import day_after
from crmkit.metrics.churn_features import CustomerTables, encode
from crmkit.metrics.customer_positions import NAT, nanoseconds, positions

COMPONENTS: tuple[str, ...] = ("engagement", "value", "sentiment", "service", "purchasing")
"""The components, in the order the report lists them."""

BANDS: tuple[str, ...] = ("red", "amber", "green")
"""The colour bands, worst first."""

TOP_SHARE, MIDDLE_SHARE = 0.2, 0.3
"""CLV tiers: the top 20% of the scored customers' predicted CLV, the next 30%, the rest."""

MIN_CYCLE_DAYS = 7
"""The shortest expected purchase cycle: a week (orders a day apart say little of a rhythm)."""

ENGAGEMENT_RECENT_DAYS, ENGAGEMENT_BASELINE_DAYS = 90, 365
MIN_BASELINE_INTERACTIONS, MIN_ENGAGEMENT_TENURE_DAYS = 2, 180
SENTIMENT_DAYS = 365
SERVICE_DAYS = 90

HEALTH_DEFAULTS: dict[str, Any] = {
    # Complaints and open tickets weigh most: the clearest warning signs a customer gives
    # (Reichheld 2003; the seed's "complaints and support requests as warning signs").
    "health_weights": {
        "engagement": 20,
        "value": 15,
        "sentiment": 20,
        "service": 25,
        "purchasing": 20,
    },
    "health_bands": {"red_below": 50, "green_from": 75, "poor_below": 25},
    "health_points": {
        "engagement_ratio": {"x": [0, 0.25, 0.5, 0.8], "points": [0, 25, 60, 100]},
        # a falling spend warns; a rising one is no healthier than a steady one
        "spend_trend": {"x": [-1, -0.5, 0], "points": [0, 40, 100]},
        "clv_tier": {"top": 100, "middle": 60, "rest": 20},
        "nps_group": {"promoter": 100, "passive": 60, "detractor": 0},
        "csat": {"x": [1, 5], "points": [0, 100]},
        "complaints_90d": {"x": [0, 1, 2], "points": [100, 40, 0]},
        "open_tickets": {"x": [0, 1], "points": [100, 50]},
        # points fall steadily as the silence grows past half the customer's usual gap
        "cycle_ratio": {"x": [0, 0.5, 1, 2, 4], "points": [100, 90, 70, 30, 0]},
    },
    "health_cap_at_amber": True,
}
"""The defaults of the health parameters, in one place (the registry reads them from here)."""

_CATEGORIES = {
    "clv_tier": ("top", "middle", "rest"),
    "nps_group": ("promoter", "passive", "detractor"),
}
_DAY = np.int64(86_400_000_000_000)


def _check_points(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 100:
        raise ParameterError(f"{name} must be points between 0 and 100; got {value!r}.")
    return float(value)


def _check_grid(key: str, grid: object) -> dict[str, tuple[float, ...]]:
    where = f"health_points.{key}"
    if not isinstance(grid, Mapping) or set(grid) != {"x", "points"}:
        raise ParameterError(
            f"{where} must be {{x: [...], points: [...]}} (a piecewise-linear grid); got {grid!r}."
        )
    x, points = list(grid["x"]), list(grid["points"])
    if len(x) < 2 or len(x) != len(points):
        raise ParameterError(
            f"{where} needs x and points of the same length, 2 or more; got {len(x)} x and "
            f"{len(points)} points."
        )
    bad = [v for v in x if isinstance(v, bool) or not isinstance(v, numbers.Real)]
    if bad or any(b <= a for a, b in itertools.pairwise(x)):
        raise ParameterError(f"{where}.x must be numbers in increasing order; got {x!r}.")
    return {
        "x": tuple(float(v) for v in x),
        "points": tuple(_check_points(p, f"{where}.points") for p in points),
    }


@dataclass(frozen=True)
class HealthSettings:
    """How the health score is computed: the parameters ``health_weights``, ``health_bands``,
    ``health_points`` and ``health_cap_at_amber``, checked. Build it with
    :meth:`from_parameters` (the registry's values, None for a default).

    ``weights`` holds every component (0 for one left out) and sums to 100; ``points`` maps
    each input to its grid ``{x, points}`` or, for ``clv_tier`` and ``nps_group``, points per
    group.
    """

    weights: dict[str, float] = field(
        default_factory=lambda: dict(HEALTH_DEFAULTS["health_weights"])
    )
    red_below: float = 50.0
    green_from: float = 75.0
    poor_below: float = 25.0
    cap_at_amber: bool = True
    points: dict[str, dict] = field(default_factory=lambda: dict(HEALTH_DEFAULTS["health_points"]))

    def __post_init__(self) -> None:
        weights = self.weights
        if not isinstance(weights, Mapping):
            raise ParameterError(f"health_weights must be {{component: weight}}; got {weights!r}.")
        unknown = sorted(set(weights) - set(COMPONENTS))
        if unknown:
            raise ParameterError(
                f"health_weights names unknown component(s) {unknown}; the components are "
                f"{list(COMPONENTS)}."
            )
        checked = {}
        for name in COMPONENTS:
            w = weights.get(name, 0)
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or w < 0 or math.isnan(w):
                raise ParameterError(
                    f"health_weights.{name} must be a number of 0 or more; got {w!r}."
                )
            checked[name] = float(w)
        if abs(sum(checked.values()) - 100) > 1e-6:
            raise ParameterError(
                f"health_weights must sum to 100; got {sum(checked.values()):g} from {checked}."
            )
        object.__setattr__(self, "weights", checked)
        for name in ("red_below", "green_from", "poor_below"):
            _check_points(getattr(self, name), f"health_bands.{name}")
        if not self.red_below < self.green_from:
            raise ParameterError(
                "health_bands.red_below must be below health_bands.green_from; got "
                f"red_below={self.red_below:g}, green_from={self.green_from:g}."
            )
        if not isinstance(self.cap_at_amber, bool):
            raise ParameterError(
                f"health_cap_at_amber must be true or false; got {self.cap_at_amber!r}."
            )
        points = {**HEALTH_DEFAULTS["health_points"], **dict(self.points)}
        unknown = sorted(set(points) - set(HEALTH_DEFAULTS["health_points"]))
        if unknown:
            raise ParameterError(
                f"health_points names unknown input(s) {unknown}; the inputs are "
                f"{sorted(HEALTH_DEFAULTS['health_points'])}."
            )
        checked_points: dict[str, dict] = {}
        for key, grid in points.items():
            if key in _CATEGORIES:
                groups = _CATEGORIES[key]
                if not isinstance(grid, Mapping) or set(grid) != set(groups):
                    raise ParameterError(
                        f"health_points.{key} must give points to each of {list(groups)}; "
                        f"got {grid!r}."
                    )
                checked_points[key] = {
                    g: _check_points(grid[g], f"health_points.{key}.{g}") for g in groups
                }
            else:
                checked_points[key] = _check_grid(key, grid)
        object.__setattr__(self, "points", checked_points)

    @classmethod
    def from_parameters(
        cls,
        *,
        weights: Mapping | None = None,
        bands: Mapping | None = None,
        points: Mapping | None = None,
        cap_at_amber: bool | None = None,
    ) -> HealthSettings:
        """Settings from the registry parameters ``health_weights`` (replaces the default
        weights whole), ``health_bands`` (``red_below``, ``green_from``, ``poor_below``, each
        over its default), ``health_points`` (each input's grid over its default) and
        ``health_cap_at_amber``; None or empty keeps a default."""
        bands = dict(bands or {})
        unknown = sorted(set(bands) - set(HEALTH_DEFAULTS["health_bands"]))
        if unknown:
            raise ParameterError(
                f"health_bands names unknown key(s) {unknown}; the keys are "
                f"{sorted(HEALTH_DEFAULTS['health_bands'])}."
            )
        full_bands = {**HEALTH_DEFAULTS["health_bands"], **bands}
        return cls(
            weights=dict(weights) if weights else dict(HEALTH_DEFAULTS["health_weights"]),
            red_below=full_bands["red_below"],
            green_from=full_bands["green_from"],
            poor_below=full_bands["poor_below"],
            cap_at_amber=(
                HEALTH_DEFAULTS["health_cap_at_amber"] if cap_at_amber is None else cap_at_amber
            ),
            points=dict(points or {}),
        )

    def grid(self, key: str, values: np.ndarray) -> np.ndarray:
        """Points of ``values`` on the grid ``key`` (flat beyond its ends; NaN stays NaN)."""
        grid = self.points[key]
        found = np.interp(values, grid["x"], grid["points"])
        return np.where(np.isnan(values), np.nan, found)


# ----------------------------------------------------------------------------- components


def _count(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, minlength=n).astype(float)


def _latest(rows, n: int) -> np.ndarray:
    """Each customer's value at their latest time (rows in time order; ties: the last)."""
    found = np.full(n, np.nan)
    if len(rows.code):
        codes, first = np.unique(rows.code[::-1], return_index=True)
        found[codes] = rows.value[::-1][first]
    return found


def _nanmean(*parts: np.ndarray) -> np.ndarray:
    stack = np.vstack(parts)
    have = ~np.isnan(stack)
    total = np.where(have, stack, 0.0).sum(axis=0)
    count = have.sum(axis=0)
    return np.divide(total, count, out=np.full(stack.shape[1], np.nan), where=count > 0)


def clv_tiers(clv: pd.Series | None, customer_ids: pd.Series) -> pd.Series:
    """Each customer's CLV tier among ``customer_ids`` with a predicted CLV: ``top`` (the
    highest :data:`TOP_SHARE`), ``middle`` (the next :data:`MIDDLE_SHARE`), ``rest``; missing
    without a CLV. Ties share the better tier."""
    ids = pd.Index(customer_ids.to_numpy(dtype=object))
    if clv is None or not len(clv):
        return pd.Series(pd.NA, index=ids, dtype="string")
    values = pd.to_numeric(clv, errors="coerce")
    values = values[~values.index.duplicated()].reindex(ids)
    return pd.Series(_tiers(values.to_numpy(float)), index=ids, dtype="string")


def _tiers(values: np.ndarray) -> np.ndarray:
    """:func:`clv_tiers` of CLV values (NaN: none), as an object array (None: no tier)."""
    share = pd.Series(values).rank(ascending=False, method="min") / max(
        int((~np.isnan(values)).sum()), 1
    )
    tier = np.select([share <= TOP_SHARE, share <= TOP_SHARE + MIDDLE_SHARE], ["top", "middle"],
                     "rest").astype(object)  # fmt: skip
    tier[np.isnan(values)] = None
    return tier


def _per_position(clv: pd.Series, ids: pd.Series) -> np.ndarray:
    """The CLV of each of ``ids`` (unique), NaN where it has none; the first of an id given
    twice. Ids matched by :func:`positions`, not as a million Python strings."""
    values = pd.to_numeric(clv, errors="coerce")
    values = values[~values.index.duplicated()]
    at = positions(ids, pd.Series(values.index))[0]
    found = at >= 0
    out = np.full(len(ids), np.nan)
    out[at[found]] = values.to_numpy(float)[found]
    return out


def _open_tickets(
    tickets: pd.DataFrame | None, ids: pd.Series, bound: np.int64
) -> np.ndarray | None:
    """Tickets opened in the last :data:`SERVICE_DAYS` days still open at the cut, per customer
    position; None where tickets carry no resolution times (no source)."""
    if tickets is None or not len(tickets):
        return None
    if not {"customer_id", "opened_at", "resolved_at"} <= set(tickets.columns):
        return None
    if tickets["resolved_at"].notna().sum() == 0:
        return None  # an empty column knows nothing of resolutions
    opened = nanoseconds(tickets["opened_at"])
    resolved = nanoseconds(tickets["resolved_at"])
    code = positions(ids, tickets["customer_id"])[0]
    keep = (code >= 0) & (opened != NAT) & (opened >= bound - SERVICE_DAYS * _DAY)
    keep &= (opened < bound) & ((resolved == NAT) | (resolved >= bound))
    return _count(code[keep], len(ids))


def _purchasing(tables: CustomerTables, bound: np.int64, n: int) -> dict[str, np.ndarray]:
    orders = tables.orders.within(None, bound)
    keys = orders.code.astype(np.int64)  # (code, day) as one integer, built in place:
    keys <<= 24  # ten million orders' temporaries were ~0.4 GB
    keys += orders.time // _DAY
    keys.sort()
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # distinct order days
    code = keys >> 24
    keys &= (1 << 24) - 1
    day = keys
    order_days = _count(code, n)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, code, day)
    np.maximum.at(last, code, day)
    same = code[1:] == code[:-1]
    gaps = (day[1:] - day[:-1])[same]
    unit_gap = float(np.median(gaps)) if len(gaps) else np.nan
    own = np.divide(
        (last - first).astype(float),
        order_days - 1,
        out=np.full(n, np.nan),
        where=order_days >= 2,
    )
    cycle = np.where(order_days >= 2, own, unit_gap)
    cycle = np.where(np.isnan(cycle), np.nan, np.maximum(cycle, MIN_CYCLE_DAYS))
    recency = np.where(order_days > 0, (bound // _DAY - 1 - last).astype(float), np.nan)
    return {
        "order_days": order_days,
        "recency_days": recency,
        "expected_cycle_days": cycle,
        "cycle_ratio": recency / cycle,
    }


def component_points(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    cut: date | str | pd.Timestamp,
    status: pd.DataFrame,
    clv: pd.Series | None = None,
    interactions: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    settings: HealthSettings | None = None,
    tables: CustomerTables | None = None,
) -> pd.DataFrame:
    """Each active customer's inputs and points per component at the end of day ``cut``.

    Parameters
    ----------
    customers, transactions
        The unit's customers and orders.
    cut
        The day the score stands at; only rows dated on or before it are read.
    status
        :func:`crmkit.metrics.churn_status.churn_dates` at ``cut``: the customers scored are
        those with ``churned_at`` missing (active at the cut).
    clv
        Predicted CLV per customer (a Series indexed by ``customer_id``) for the CLV tier;
        None leaves that part of ``value`` out.
    interactions, tickets, surveys
        Optional tables (None or empty: their parts are missing).
    settings
        :class:`HealthSettings` (default: the defaults).
    tables
        The tables already encoded by :func:`crmkit.metrics.churn_features.encode` (to score
        several cuts without encoding twice); built here when None.

    Returns
    -------
    pandas.DataFrame
        One row per active customer: ``customer_id``, the inputs (``engagement_ratio``,
        ``interactions_recent_per_month``, ``interactions_baseline_per_month``,
        ``spend_trend``, ``clv``, ``clv_tier``, ``nps_last_year``, ``nps_group``,
        ``csat_last_year``, ``complaints_90d``, ``days_since_complaint``, ``open_tickets``,
        ``order_days``, ``recency_days``, ``expected_cycle_days``, ``cycle_ratio``) and the
        points 0–100 of each of :data:`COMPONENTS` (NaN where the customer has no data).

    Raises
    ------
    ParameterError
        A required column is missing.
    """
    settings = settings or HealthSettings()
    require_columns(status, ["customer_id", "churned_at"], "status", "component_points")
    if tables is None:
        tables = encode(
            customers, transactions, interactions=interactions, tickets=tickets, surveys=surveys
        )
    bound = np.int64(day_after(cut).value)
    cut_day = bound // _DAY - 1
    n = len(tables.ids)
    active = status.loc[status["churned_at"].isna(), "customer_id"]
    # (positions() of an empty Arrow column has no chunk to join: nobody active, no lookup)
    where = positions(tables.ids, active)[0] if len(active) else np.empty(0, np.int64)
    where = np.flatnonzero(np.bincount(where[where >= 0], minlength=n) > 0)
    where = where[(tables.signup[where] != NAT) & (tables.signup[where] < bound)]
    tenure = (cut_day - np.floor_divide(tables.signup, _DAY)).astype(float)
    out: dict[str, np.ndarray] = {}

    # engagement: the last 90 days against the customer's own 365 days before them
    nan = np.full(n, np.nan)
    ratio = recent_pm = base_pm = nan
    if tables.interactions is not None:
        contacts = tables.interactions
        start = bound - ENGAGEMENT_RECENT_DAYS * _DAY
        recent = _count(contacts.within(start, bound).code, n)
        base_start = start - ENGAGEMENT_BASELINE_DAYS * _DAY
        base = _count(contacts.within(base_start, start).code, n)
        observed = np.clip(tenure + 1 - ENGAGEMENT_RECENT_DAYS, 0, ENGAGEMENT_BASELINE_DAYS)
        ok = (base >= MIN_BASELINE_INTERACTIONS) & (tenure >= MIN_ENGAGEMENT_TENURE_DAYS)
        ok &= observed > 0
        month = 30.4375
        recent_pm = recent / (ENGAGEMENT_RECENT_DAYS / month)
        base_pm = np.divide(base, observed / month, out=np.full(n, np.nan), where=observed > 0)
        ratio = np.where(ok, np.divide(recent_pm, base_pm, out=np.full(n, np.nan),
                                       where=base_pm > 0), np.nan)  # fmt: skip
    out["interactions_recent_per_month"] = recent_pm
    out["interactions_baseline_per_month"] = base_pm
    out["engagement_ratio"] = ratio
    engagement = settings.grid("engagement_ratio", ratio)

    # value: spend trend and CLV tier
    orders = tables.orders
    s1_rows = orders.within(bound - 90 * _DAY, bound)
    s0_rows = orders.within(bound - 180 * _DAY, bound - 90 * _DAY)
    s1 = np.bincount(s1_rows.code, weights=s1_rows.value, minlength=n)
    s0 = np.bincount(s0_rows.code, weights=s0_rows.value, minlength=n)
    total = s1 + s0
    trend = np.divide(s1 - s0, total, out=np.full(n, np.nan), where=total > 0)
    out["spend_trend"] = trend
    ids = tables.ids.reset_index(drop=True)
    tier = np.full(n, None, dtype=object)
    clv_values = np.full(n, np.nan)
    if clv is not None and len(clv):
        clv_values = _per_position(clv, ids)
        tier[where] = _tiers(clv_values[where])  # as clv_tiers(clv, ids.take(where))
    out["clv"] = clv_values
    out["clv_tier"] = tier
    lookup = settings.points["clv_tier"]
    clv_points = np.full(n, np.nan)
    for name, value in lookup.items():  # three tiers, not customers
        clv_points[tier == name] = value
    value_points = _nanmean(settings.grid("spend_trend", trend), clv_points)

    # sentiment: latest NPS group and CSAT of the last 365 days
    since = bound - SENTIMENT_DAYS * _DAY
    nps = _latest(tables.nps.within(since, bound), n) if tables.nps is not None else nan
    csat = _latest(tables.csat.within(since, bound), n) if tables.csat is not None else nan
    group = np.select([nps >= 9, nps >= 7, nps >= 0], ["promoter", "passive", "detractor"], "")
    group = np.where(np.isnan(nps), None, group).astype(object)
    nps_points = np.full(n, np.nan)
    for name, value in settings.points["nps_group"].items():
        nps_points[group == name] = value
    out["nps_last_year"], out["nps_group"], out["csat_last_year"] = nps, group, csat
    sentiment = _nanmean(nps_points, settings.grid("csat", csat))

    # service: complaints and open tickets of the last 90 days
    complaints = days_since = nan
    if tables.complaints is not None:
        to_cut = tables.complaints.within(None, bound)
        complaints = _count(to_cut.within(bound - SERVICE_DAYS * _DAY, bound).code, n)
        latest = np.full(n, NAT, dtype=np.int64)
        np.maximum.at(latest, to_cut.code, to_cut.time)
        days_since = np.where(latest == NAT, np.nan, (cut_day - latest // _DAY).astype(float))
    open_count = _open_tickets(tickets, tables.ids, bound)
    open_count = nan if open_count is None else open_count
    out["complaints_90d"], out["days_since_complaint"] = complaints, days_since
    out["open_tickets"] = open_count
    service = _nanmean(
        settings.grid("complaints_90d", complaints), settings.grid("open_tickets", open_count)
    )

    # purchasing: recency against the expected purchase cycle
    buying = _purchasing(tables, bound, n)
    out.update(buying)
    purchasing = settings.grid("cycle_ratio", buying["cycle_ratio"])

    frame = pd.DataFrame({"customer_id": ids.take(where).reset_index(drop=True)})
    for name, values in out.items():
        frame[name] = values[where]
    for name, values in zip(
        COMPONENTS, (engagement, value_points, sentiment, service, purchasing), strict=True
    ):
        frame[name] = values[where]
    return frame


# ----------------------------------------------------------------------------- the score


def weighted_score(points: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Σ wₖ·pₖ ÷ Σ wₖ over each row's available components with a weight (NaN when none)."""
    names = [c for c in COMPONENTS if weights.get(c, 0) > 0 and c in points.columns]
    if not names:
        return np.full(len(points), np.nan)
    p = points[names].to_numpy(dtype=float)
    w = np.array([weights[c] for c in names], dtype=float)
    have = ~np.isnan(p)
    top = np.where(have, p, 0.0) @ w
    bottom = have @ w
    return np.divide(top, bottom, out=np.full(len(points), np.nan), where=bottom > 0)


def health_scores(points: pd.DataFrame, settings: HealthSettings | None = None) -> pd.DataFrame:
    """The health score of each customer of :func:`component_points`.

    Returns
    -------
    pandas.DataFrame
        ``points`` with ``score`` (0–100, rounded to 1e-6 so band edges are exact; NaN without
        a weighted component), ``band`` (``red`` below ``red_below``, ``green`` from
        ``green_from``, else ``amber``; missing without a score), ``capped`` (True where a
        component below ``poor_below`` held a green score at amber) and ``components_used``.

    Examples
    --------
    >>> points = pd.DataFrame({"customer_id": ["a"], "engagement": [100.0], "value": [np.nan],
    ...     "sentiment": [20.0], "service": [np.nan], "purchasing": [np.nan]})
    >>> row = health_scores(points).iloc[0]
    >>> float(row["score"]), row["band"], bool(row["capped"])
    (60.0, 'amber', False)
    """
    settings = settings or HealthSettings()
    require_columns(points, ["customer_id", *COMPONENTS], "points", "health_scores")
    score = np.round(weighted_score(points, settings.weights), 6)
    band = np.select(
        [score < settings.red_below, score >= settings.green_from], ["red", "amber"], "amber"
    ).astype(object)
    band[score >= settings.green_from] = "green"
    weighted = [c for c in COMPONENTS if settings.weights[c] > 0]
    p = points[weighted].to_numpy(dtype=float)
    poor = (np.where(np.isnan(p), np.inf, p) < settings.poor_below).any(axis=1)
    capped = settings.cap_at_amber & (band == "green") & poor
    band[capped] = "amber"
    band[np.isnan(score)] = None
    scored = points.copy()
    scored["score"] = score
    scored["band"] = pd.Series(band, index=points.index, dtype="string")
    scored["capped"] = capped
    scored["components_used"] = (~np.isnan(p)).sum(axis=1)
    return scored


def score_change(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Each customer scored at both days: ``customer_id, score, previous_score, change, band,
    previous_band`` (``change`` = score − previous_score)."""
    left = now.loc[now["score"].notna(), ["customer_id", "score", "band"]]
    right = before.loc[before["score"].notna(), ["customer_id", "score", "band"]]
    right = right.rename(columns={"score": "previous_score", "band": "previous_band"})
    both = left.merge(right, on="customer_id", how="inner")
    both["change"] = both["score"] - both["previous_score"]
    return both[["customer_id", "score", "previous_score", "change", "band", "previous_band"]]


def health_bands(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers per colour band of the scored customers: ``band`` (red, amber, green),
    ``customers``, ``share`` (of customers with a score; NaN when none)."""
    counts = scores["band"].value_counts().reindex(list(BANDS), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "band": list(BANDS),
            "customers": counts.to_numpy(dtype=int),
            "share": counts.to_numpy() / total if total else np.full(3, np.nan),
        }
    )

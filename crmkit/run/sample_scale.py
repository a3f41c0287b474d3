"""The sample generator at scale: ``crmkit sample --customers N``, vectorised, a unit at a time.

The committed sample (``crmkit/run/sample.py``) draws customer by customer in Python loops, in
an order its byte-identical files depend on; that costs ~10 s and ~1 GB per 100,000 customers
and gives about five orders a customer. This module draws the same story — the units' plans,
the segments' BG/NBD and Gamma-Gamma processes, the word lists and the planted effects — with
whole-array NumPy draws, so one unit of a million customers and ten million orders takes a
few minutes and a few GB. Purchases are denser: every segment's α is divided by
``ORDER_DENSITY`` (about ten orders per customer at every size, so growth benchmarks compare
like with like). Tables are built as Arrow tables, which ``crmkit/run/sample_files.py`` writes
a unit at a time as CSV or typed Parquet. What differs from the committed sample is listed in
``docs/sample_data.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmkit.run.sample import (
    BOTTLENECK_RATE,
    CANCEL_AFTER,
    COMMENTS,
    DIMENSIONS,
    DORMANT_DAYS,
    FIRST_NAMES,
    FUNNEL_STEPS,
    HISTORY_START,
    HORIZON_DAYS,
    LABELS,
    LAST_NAMES,
    LAST_QUARTER_START,
    LATE_DIP,
    PROSPECT_SHARE,
    QUIET_DAYS,
    QUIET_KEPT,
    REASON_SHARES,
    SOURCE_LIFT,
    SOURCE_SHARE,
    STATED_SHARE,
    Segment,
    UnitPlan,
    _churn_rise,
    segments_for,
    unit_truth,
)

ORDER_DENSITY = 3.0  # every segment's α ÷ this: ~10 orders a customer in north (~5 committed)
SAMPLE_UNIT_SIZE = 2400  # customers of a committed unit; per-unit volumes scale from it
OPPORTUNITIES_PER_MONTH = 80  # per SAMPLE_UNIT_SIZE customers
END = HORIZON_DAYS + 0.999  # the last instant of the history, in days from its start
START_OF_QUARTER = (LAST_QUARTER_START - HISTORY_START).days
BASE_MS = np.datetime64(HISTORY_START.isoformat(), "ms").astype("int64")
MS_PER_DAY = 86_400_000


def scaled_segments(plan: UnitPlan) -> tuple[Segment, ...]:
    """The unit's segments with purchases ``ORDER_DENSITY`` times as frequent (α divided)."""
    return tuple(replace(s, alpha=s.alpha / ORDER_DENSITY) for s in segments_for(plan))


@dataclass
class UnitDraws:
    """One unit's per-customer and per-order draws, from which its tables are built."""

    segments: tuple[Segment, ...]
    seg: np.ndarray  # each customer's segment (index into segments)
    prospect: np.ndarray
    signup: np.ndarray  # day of signup, from the start of history
    acq: np.ndarray  # acquisition channel (index)
    acq_cost: np.ndarray
    ids: pa.Array
    order_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    order_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dropout_day: np.ndarray = field(default_factory=lambda: np.zeros(0))  # inf: none
    forced_day: np.ndarray = field(default_factory=lambda: np.zeros(0))  # planted churn rise
    nu: np.ndarray = field(default_factory=lambda: np.zeros(0))  # Gamma-Gamma spend rate

    def per_segment(self, attribute: str) -> np.ndarray:
        """The segment parameter ``attribute`` of every customer."""
        return np.array([getattr(s, attribute) for s in self.segments])[self.seg]


def _ids(prefix: str, count: int, width: int) -> pa.Array:
    """``prefix`` followed by 1..count zero-padded to at least ``width`` digits."""
    width = max(width, len(str(count)))
    numbers = pc.cast(pa.array(np.arange(1, count + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def _words(pool: list[str], index: np.ndarray) -> pa.Array:
    return pa.array(pool, pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def _where(keep: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``keep``, null elsewhere."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))


def _days(days: np.ndarray) -> pa.Array:
    """Days from the start of history, as timestamps at midnight (NaN or inf: null)."""
    days = np.asarray(days, dtype=float)
    ms = BASE_MS + np.floor(np.where(np.isfinite(days), days, 0)).astype(np.int64) * MS_PER_DAY
    return pa.array(ms, pa.timestamp("ms"), mask=~np.isfinite(days))


def _minutes(days: np.ndarray, *, missing: np.ndarray | None = None) -> pa.Array:
    ms = BASE_MS + np.floor(np.asarray(days) * 1440).astype(np.int64) * 60_000
    return pa.array(ms, pa.timestamp("ms"), mask=missing)


def _pick(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One category per row, row ``i`` drawn with the probabilities ``probabilities[i]``."""
    cumulative = np.cumsum(probabilities, axis=1)
    drawn = (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1)
    return np.minimum(drawn, probabilities.shape[1] - 1)


def _per_row(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per owner: each row's owner and its position (1..count) among its rows."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner] + 1


def customers_table(plan: UnitPlan, rng: np.random.Generator, n: int) -> tuple[pa.Table, UnitDraws]:
    """The unit's customers and the per-customer draws the other tables are made from."""
    labels, segments, prefix = LABELS[plan.language], scaled_segments(plan), plan.prefix
    seg = rng.choice(len(segments), size=n, p=[s.share for s in segments])
    prospect = rng.random(n) < PROSPECT_SHARE
    shape = np.array([(1.0, 2.2), (1.3, 1.3), (2.2, 1.0)])[seg]
    signup = rng.beta(shape[:, 0], shape[:, 1]) * (HORIZON_DAYS + 1)
    order = np.argsort(signup, kind="stable")
    signup, seg, prospect = signup[order], seg[order], prospect[order]
    regions = list(labels["regions"])
    cities = [c for r in regions for c in labels["regions"][r]]
    per_region = np.array([len(labels["regions"][r]) for r in regions])
    region = rng.choice(len(regions), size=n, p=[0.45, 0.25, 0.30])
    city = (np.cumsum(per_region) - per_region)[region] + (
        rng.random(n) * per_region[region]
    ).astype(int)
    income_p = np.array([[0.1, 0.4, 0.5], [0.3, 0.5, 0.2], [0.5, 0.4, 0.1]])
    acq_p = np.array(
        [[0.1, 0.1, 0.4, 0.3, 0.1], [0.25, 0.25, 0.2, 0.2, 0.1], [0.35, 0.4, 0.05, 0.1, 0.1]]
    )
    acq = _pick(rng, acq_p[seg])
    money = 7.0 if plan.currency == "CNY" else 1.0
    cac = np.array([60.0, 45.0, 25.0, 35.0, 50.0]) * money
    acq_cost = np.round(cac[acq] * rng.lognormal(0, 0.25, n), 2)
    price_sens = np.clip(np.round(rng.normal(np.array([2.0, 3.0, 4.2])[seg], 0.8)), 1, 5)
    brand_aff = np.clip(np.round(rng.normal(np.array([4.3, 3.2, 2.2])[seg], 0.8)), 1, 5)
    first, last = FIRST_NAMES[plan.language], LAST_NAMES[plan.language]
    joiner = "{l}{f}" if plan.language == "zh" else "{f} {l}"
    names = [joiner.format(f=f, l=la) for f in first for la in last]  # index first × 8 + last
    customer_ids = _ids(f"{prefix}C", n, 5)
    numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), 5, "0")
    if plan.language == "en":
        phone = pc.binary_join_element_wise(f"+1-555-{prefix}", numbers, "")
    else:
        phone = pc.binary_join_element_wise("138", pc.utf8_lpad(numbers, 8, "0"), "")
    table = pa.table(
        {
            "customer_id": customer_ids,
            "business_unit": pa.array([plan.business_unit] * n, pa.string()),
            "signup_date": _days(signup),
            "region": _words(regions, region),
            "city": _words(cities, city),
            "age": np.clip(np.round(rng.normal(41, 12, n)), 18, 85).astype(np.int64),
            "gender": _words(labels["gender"], rng.integers(0, 2, n)),
            "income_band": _words(labels["income"], _pick(rng, income_p[seg])),
            "occupation": _words(labels["occupation"], rng.integers(0, 6, n)),
            "industry": _words(labels["industry"], rng.integers(0, 5, n)),
            "psy_price_sensitivity": price_sens.astype(np.int64),
            "psy_brand_affinity": brand_aff.astype(np.int64),
            "psy_interest": _words(labels["interest"], rng.integers(0, 4, n)),
            "acquisition_channel": _words(labels["acquisition"], acq),
            "acquisition_cost": acq_cost,
            "name": _words(names, rng.integers(0, 8, n) * 8 + rng.integers(0, 8, n)),
            "email": pc.binary_join_element_wise(
                f"user{prefix.lower()}", numbers, "@example.com", ""
            ),
            "phone": phone,
        }
    )
    draws = UnitDraws(segments, seg, prospect, signup, acq, acq_cost, customer_ids)
    return table, draws


def purchases(
    segments: tuple[Segment, ...],
    rng: np.random.Generator,
    *,
    seg: np.ndarray,
    prospect: np.ndarray,
    signup: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every order's customer and day, and each customer's dropout day (inf: none), drawn
    from BG/NBD without a loop over customers.

    A buyer's first order is on the signup day. Repeat orders are a Poisson process of rate λ
    over the rest of the history, and the customer drops out after the K-th repeat, K ~
    Geometric(p): so the orders are the first min(K, M) of the M ~ Poisson(λ·T) arrivals, and
    the customer dropped out when K ≤ M. The first c of M sorted uniforms are drawn directly,
    U₍ⱼ₎ = 1 − ∏ₖ≤ⱼ Vₖ^(1/(M−k+1)), so the draws number the orders, not the arrivals.
    """
    n = len(seg)
    pick = {f: np.array([getattr(s, f) for s in segments])[seg] for f in ("r", "alpha", "a", "b")}
    rate = rng.gamma(pick["r"], 1.0 / pick["alpha"]) / 7.0  # per day
    dropout_p = rng.beta(pick["a"], pick["b"])
    span = HORIZON_DAYS + 1 - signup
    arrivals = rng.poisson(rate * span)
    dropout_after = rng.geometric(dropout_p)
    repeats = np.where(prospect, 0, np.minimum(arrivals, dropout_after))
    who, k = _per_row(repeats)
    steps = np.log(rng.random(len(who))) / (arrivals[who] - k + 1)
    running = np.cumsum(steps)
    starts = np.cumsum(repeats) - repeats
    before = np.where(starts > 0, running[np.maximum(starts - 1, 0)], 0.0)
    uniform = -np.expm1(running - before[who])
    repeat_day = signup[who] + uniform * span[who]
    counts = np.where(prospect, 0, 1 + repeats)
    order_customer, position = _per_row(counts)
    order_day = signup[order_customer].copy()
    is_repeat = position > 1
    order_day[is_repeat] = repeat_day  # both in customer order, repeats in time order
    dropped = ~prospect & (dropout_after <= arrivals)
    last = np.cumsum(counts) - 1
    dropout_day = np.full(n, np.inf)
    dropout_day[dropped] = order_day[last[dropped]]
    return order_customer, order_day, dropout_day


def transactions_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Orders with Gamma-Gamma amounts, categories, channels and margins."""
    order_customer, segments = d.order_customer, d.segments
    labels = LABELS[plan.language]
    count = len(order_customer)
    order_seg = d.seg[order_customer]
    shape_p = np.array([s.p for s in segments])[order_seg]
    money = 7.0 if plan.currency == "CNY" else 1.0
    amounts = np.maximum(np.round(rng.gamma(shape_p, 1.0 / d.nu[order_customer]) * money, 2), 0.01)
    store = rng.random(count) < np.array([s.store_share for s in segments])[order_seg]
    channel = np.where(store, 1, np.where(rng.random(count) < 0.97, 0, 2))
    category = _pick(rng, np.broadcast_to([0.3, 0.25, 0.25, 0.2], (count, 4)))
    margin = np.round(amounts * np.array([0.18, 0.32, 0.45, 0.22])[category], 2)
    return pa.table(
        {
            "order_id": _ids(f"{plan.prefix}O", count, 6),
            "customer_id": d.ids.take(pa.array(order_customer)),
            "business_unit": pa.array([plan.business_unit] * count, pa.string()),
            "order_date": _days(d.order_day),
            "amount": amounts,
            "product_category": _words(labels["category"], category),
            "channel": _words(labels["order_channel"], channel),
            "margin": margin,
        }
    )


def tickets_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Tickets at a base rate, an extra complaint before half of the dropouts, a billing
    complaint before each planted extra churner leaves, and the planted slow-down."""
    dropout_day = d.dropout_day
    signup, n = d.signup, len(d.signup)
    end = np.minimum(END, dropout_day + 60)
    span = np.maximum(end - signup, 0)
    per_year = np.where(d.seg == 0, 0.5, 0.3)
    who, _ = _per_row(rng.poisson(per_year / 365 * span))
    day = signup[who] + rng.random(len(who)) * span[who]
    complaint = rng.random(len(who)) < 0.12
    category = rng.integers(0, 5, len(who))
    extra = np.isfinite(dropout_day) & (rng.random(n) < 0.5)
    extra_day = dropout_day - rng.uniform(0, 60, n)
    extra &= (extra_day >= signup) & (extra_day <= HORIZON_DAYS)
    leavers = np.flatnonzero(np.isfinite(d.forced_day))
    warning_day = START_OF_QUARTER - rng.uniform(1, 90, len(leavers))
    extra_who = np.flatnonzero(extra)
    who = np.concatenate([who, extra_who, leavers])
    day = np.concatenate([day, extra_day[extra_who], warning_day])
    complaint = np.concatenate([complaint, np.ones(len(extra_who) + len(leavers), bool)])
    category = np.concatenate(
        [category, rng.integers(0, 5, len(extra_who)), np.full(len(leavers), 1)]
    )
    order = np.lexsort((who, day))
    who, day, complaint, category = who[order], day[order], complaint[order], category[order]
    response_hours = rng.gamma(2.0, np.where(complaint, 10.0, 4.0))
    resolve_days = rng.gamma(2.0, np.where(complaint, 3.0, 1.0))
    first_response = day + response_hours / 24
    slower = np.where(day >= START_OF_QUARTER, plan.resolution_slowdown_last_quarter, 1.0)
    resolved = first_response + resolve_days * slower
    count = len(who)
    return pa.table(
        {
            "ticket_id": _ids(f"{plan.prefix}T", count, 5),
            "customer_id": d.ids.take(pa.array(who)),
            "business_unit": pa.array([plan.business_unit] * count, pa.string()),
            "opened_at": _minutes(day),
            "first_response_at": _minutes(first_response, missing=first_response > END + 0.001),
            "resolved_at": _minutes(resolved, missing=resolved > END + 0.001),
            "category": _words(LABELS[plan.language]["ticket_category"], category),
            "is_complaint": pa.array(complaint),
        }
    )


def churn_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Cancellations CANCEL_AFTER days after a dropout (STATED_SHARE with a reason; planted
    extra churners on their day, with one) and closures DORMANT_DAYS after a last order."""
    dropout_day, forced = d.dropout_day, d.forced_day
    n = len(dropout_day)
    dropped = np.flatnonzero(np.isfinite(dropout_day))
    is_forced = np.isfinite(forced[dropped])
    day = np.where(
        is_forced,
        forced[dropped],
        dropout_day[dropped] + rng.uniform(CANCEL_AFTER[0], CANCEL_AFTER[1], len(dropped)),
    )
    stated = is_forced | (rng.random(len(dropped)) < STATED_SHARE)
    reason = rng.choice(len(REASON_SHARES), size=len(dropped), p=REASON_SHARES)
    recorded = day <= HORIZON_DAYS
    cancelled = np.zeros(n, bool)
    cancelled[dropped[recorded]] = True
    final_order = np.full(n, -np.inf)
    np.maximum.at(final_order, d.order_customer, d.order_day)
    closes = final_order + DORMANT_DAYS
    closed = np.flatnonzero(np.isfinite(final_order) & (closes <= HORIZON_DAYS) & ~cancelled)
    who = np.concatenate([dropped[recorded], closed])
    day = np.concatenate([day[recorded], closes[closed]])
    has_reason = np.concatenate([stated[recorded], np.zeros(len(closed), bool)])
    reason = np.concatenate([reason[recorded], np.zeros(len(closed), int)])
    if not plan.records_churn:
        who, day, has_reason, reason = who[:0], day[:0], has_reason[:0], reason[:0]
    order = np.lexsort((who, np.floor(day)))
    who, day, has_reason, reason = who[order], day[order], has_reason[order], reason[order]
    words = LABELS[plan.language]["reason"]
    texts = [f"离开原因：{w}" if plan.language == "zh" else f"Left because of {w}." for w in words]
    return pa.table(
        {
            "customer_id": d.ids.take(pa.array(who, pa.int64())),
            "business_unit": pa.array([plan.business_unit] * len(who), pa.string()),
            "churned_at": _days(day),
            "reason": _where(has_reason, _words(words, reason)),
            "reason_text": _where(has_reason, _words(texts, reason)),
        }
    )


def surveys_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Responses after 35% of orders: five dimension scores drive a latent satisfaction;
    scores dip before a dropout and, in south, in the last quarter; comments name the best
    (promoters) or worst (detractors) dimension, 2% with contact details to mask."""
    order_customer, order_day, dropout_day = d.order_customer, d.order_day, d.dropout_day
    n = len(dropout_day)
    asked = np.flatnonzero(rng.random(len(order_customer)) < 0.35)
    day = order_day[asked] + rng.uniform(1, 8, len(asked))
    keep = day <= END
    who, day = order_customer[asked[keep]], day[keep]
    m = len(who)
    mood = rng.normal(0, 0.5, n)
    dims = np.clip(
        np.round(
            np.array([3.9, 3.8, 3.4, 3.6, 3.7]) + mood[who, None] + rng.normal(0, 0.9, (m, 5))
        ),
        1,
        5,
    ).astype(np.int8)
    weights = np.array(plan.driver_weights)
    near = (dropout_day[who] - day < 120) & (dropout_day[who] >= day - 30)
    latent = (dims - 3.0) @ weights * 2.2 + rng.normal(0, 0.9, m) - 1.2 * near
    latent += plan.nps_shift_last_quarter * (day >= START_OF_QUARTER)
    written_nps = np.clip(np.round(7.3 + 1.5 * latent), 0, 10)
    com = COMMENTS[plan.language]
    pool = [t for d in DIMENSIONS for t in com["good"][d]]
    pool += [t for d in DIMENSIONS for t in com["bad"][d]] + com["neutral"]
    best = np.argmax(dims + rng.random((m, 5)) * 0.1, axis=1)
    worst = np.argmin(dims - weights * 2 + rng.random((m, 5)) * 0.1, axis=1)
    variant = rng.integers(0, 2, m)
    text = np.where(
        written_nps >= 9,
        best * 2 + variant,
        np.where(written_nps <= 6, 10 + worst * 2 + variant, 20 + rng.integers(0, 3, m)),
    )
    commented = rng.random(m) < 0.6
    contact = np.flatnonzero(commented & (rng.random(m) < 0.02))
    latent -= LATE_DIP * near
    nps = np.clip(np.round(7.3 + 1.5 * latent), 0, 10).astype(np.int64)
    csat = np.clip(
        np.round(3.9 + 0.9 * (dims - 3.0).mean(axis=1) + 0.35 * latent + rng.normal(0, 0.5, m)),
        1,
        5,
    ).astype(np.int64)
    comment = _where(commented, _words(pool, text))
    if len(contact):
        extra = [
            f"{pool[text[j]]} Contact me at user{j}@example.com."
            if plan.language == "en"
            else f"{pool[text[j]]} 请联系我 1390000{j:04d}。"
            for j in contact
        ]
        mask = np.zeros(m, bool)
        mask[contact] = True
        comment = pc.replace_with_mask(comment, pa.array(mask), pa.array(extra, pa.string()))
    order = np.argsort(day, kind="stable")
    touchpoint = _pick(rng, np.broadcast_to([0.4, 0.3, 0.2, 0.1], (m, 4)))
    return pa.table(
        {
            "response_id": _ids(f"{plan.prefix}R", m, 5),
            "customer_id": d.ids.take(pa.array(who[order])),
            "business_unit": pa.array([plan.business_unit] * m, pa.string()),
            "responded_at": _days(day[order]),
            "nps": nps[order],
            "csat": csat[order],
            **{f"dim_{d}": dims[order, k].astype(np.int64) for k, d in enumerate(DIMENSIONS)},
            "comment": comment.take(pa.array(order)),
            "touchpoint": _words(LABELS[plan.language]["touchpoint"], touchpoint[order]),
        }
    )


def interactions_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Contacts at each segment's yearly rate from signup to 90 days after a dropout, only
    QUIET_KEPT of them in the QUIET_DAYS before it (customers go quiet before leaving)."""
    signup, dropout_day = d.signup, d.dropout_day
    span = np.maximum(np.minimum(END, dropout_day + 90) - signup, 0)
    per_year = d.per_segment("interactions_per_year")
    who, _ = _per_row(rng.poisson(per_year / 365 * span))
    day = signup[who] + rng.random(len(who)) * span[who]
    before_dropout = dropout_day[who] - day
    quiet = (before_dropout >= 0) & (before_dropout < QUIET_DAYS)
    kept = (before_dropout >= QUIET_DAYS) | (quiet & (rng.random(len(who)) < QUIET_KEPT))
    who, day = who[kept], day[kept]
    order = np.lexsort((who, day))
    who, day = who[order], day[order]
    k = len(who)
    labels = LABELS[plan.language]
    return pa.table(
        {
            "interaction_id": _ids(f"{plan.prefix}I", k, 6),
            "customer_id": d.ids.take(pa.array(who)),
            "occurred_at": _days(day),
            "channel": _words(
                labels["touch_channel"], _pick(rng, np.broadcast_to([0.4, 0.25, 0.25, 0.1], (k, 4)))
            ),
            "direction": _words(labels["direction"], (rng.random(k) >= 0.4).astype(int)),
            "kind": _words(
                labels["kind"],
                _pick(rng, np.broadcast_to([0.4, 0.25, 0.2, 0.1, 0.05], (k, 5))),
            ),
        }
    )


def funnel_tables(
    plan: UnitPlan, rng: np.random.Generator, d: UnitDraws
) -> tuple[pa.Table, pa.Table]:
    """Opportunities (OPPORTUNITIES_PER_MONTH per SAMPLE_UNIT_SIZE customers) moving lead →
    intent → negotiation → won, every opportunity a step at a time; north's bottleneck."""
    n = len(d.signup)
    labels = LABELS[plan.language]
    months = np.arange("2023-10", "2026-10", dtype="datetime64[M]")
    month_start = (months.astype("datetime64[D]") - np.datetime64(HISTORY_START)).astype(int)
    month_days = np.diff(np.append(month_start, HORIZON_DAYS + 1))
    per_month = rng.poisson(OPPORTUNITIES_PER_MONTH * n / SAMPLE_UNIT_SIZE, len(months))
    month, _ = _per_row(per_month)
    created = np.sort(month_start[month] + rng.random(len(month)) * month_days[month])
    count = len(created)
    source = rng.choice(5, size=count, p=SOURCE_SHARE)
    lift = np.array(SOURCE_LIFT)[source]
    money = 7.0 if plan.currency == "CNY" else 1.0
    amount = np.round(rng.lognormal(8.0, 0.6, count) * money, 2)
    outcome = np.zeros(count, np.int8)  # 0 open, 1 won, 2 lost
    closed = np.full(count, np.nan)
    moving = np.ones(count, bool)
    t = created.copy()
    stage_rows = [(np.arange(count), created, np.zeros(count, int))]
    dwell = [(2.0, 5.0), (2.0, 8.0), (2.0, 12.0)]
    for step, (name, stage) in enumerate(zip(FUNNEL_STEPS, (1, 2, 3), strict=True)):
        t = t + rng.gamma(*dwell[step], count)
        moving &= t <= END
        rate = np.minimum(FUNNEL_STEPS[name] * lift, 0.95)
        if plan.bottleneck_last_quarter and name == "intent->negotiation":
            rate = np.where(created >= START_OF_QUARTER, BOTTLENECK_RATE, rate)
        lost = moving & (rng.random(count) >= rate)
        outcome[lost], closed[lost] = 2, t[lost]
        moving &= ~lost
        shown = moving & ~((stage == 1) & (rng.random(count) < 0.05))
        stage_rows.append((np.flatnonzero(shown), t[shown], np.full(shown.sum(), stage)))
    outcome[moving], closed[moving] = 1, t[moving]
    matched = np.searchsorted(d.signup, np.where(moving, t, np.inf))
    linked = moving & (matched < n) & (rng.random(count) < 0.5)
    ids = _ids(f"{plan.prefix}P", count, 5)
    customer = d.ids.take(pa.array(np.where(linked, matched, 0)))
    opportunities = pa.table(
        {
            "opportunity_id": ids,
            "business_unit": pa.array([plan.business_unit] * count, pa.string()),
            "created_at": _days(created),
            "outcome": _words(["open", "won", "lost"], outcome),
            "customer_id": _where(linked, customer),
            "source": _words(labels["source"], source),
            "owner": _words(labels["owners"], rng.integers(0, 6, count)),
            "amount": amount,
            "closed_at": _days(closed),
        }
    )
    which = np.concatenate([r[0] for r in stage_rows])
    when = np.concatenate([r[1] for r in stage_rows])
    stage = np.concatenate([r[2] for r in stage_rows])
    order = np.lexsort((stage, which))
    stage_history = pa.table(
        {
            "opportunity_id": ids.take(pa.array(which[order])),
            "stage": _words(labels["stages"], stage[order]),
            "entered_at": _days(when[order]),
        }
    )
    return opportunities, stage_history


def costs_table(plan: UnitPlan, rng: np.random.Generator, d: UnitDraws) -> pa.Table:
    """Monthly acquisition spend per channel (the month's new customers' costs) and retention
    and service lines in proportion to the unit's size."""
    n = len(d.signup)
    labels = LABELS[plan.language]
    signup_day = np.floor(d.signup).astype("timedelta64[D]") + np.datetime64(HISTORY_START)
    month = (signup_day.astype("datetime64[M]") - np.datetime64("2023-10", "M")).astype(int)
    channels = len(labels["acquisition"])
    spend = np.bincount(month * channels + d.acq, d.acq_cost, 36 * channels)
    scale = (7.0 if plan.currency == "CNY" else 1.0) * n / SAMPLE_UNIT_SIZE
    retention = np.round(rng.normal(3000, 300, 36) * scale, 2)
    service = np.round(rng.normal(5000, 400, 36) * scale, 2)
    per_month = channels + 2
    amounts = np.column_stack([np.round(spend.reshape(36, channels), 2), retention, service])
    month_days = (
        np.arange("2023-10", "2026-10", dtype="datetime64[M]").astype("datetime64[D]")
        - np.datetime64(HISTORY_START)
    ).astype(float)
    category = [*["acquisition"] * channels, "retention", "service"]
    return pa.table(
        {
            "business_unit": pa.array([plan.business_unit] * 36 * per_month, pa.string()),
            "month": _days(np.repeat(month_days, per_month)),
            "category": pa.array(category * 36, pa.string()),
            "amount": amounts.ravel(),
            "channel": pa.array([*labels["acquisition"], None, None] * 36, pa.string()),
        }
    )


def generate_scaled_unit(
    plan: UnitPlan, *, seed: int, index: int
) -> tuple[dict[str, pa.Table], dict, pa.Table]:
    """One unit's nine tables (Arrow), its planted truth and its customers' planted segments.

    ``index`` is the unit's place in the plan: each unit draws on its own streams, so a unit's
    data does not depend on how many units are written.
    """
    rng = np.random.default_rng([seed, index, 1])
    customers, d = customers_table(plan, rng, plan.n_customers)
    d.nu = rng.gamma(d.per_segment("q"), 1.0 / d.per_segment("gamma"))
    d.order_customer, d.order_day, d.dropout_day = purchases(
        d.segments, rng, seg=d.seg, prospect=d.prospect, signup=d.signup
    )
    d.forced_day = np.full(plan.n_customers, np.inf)
    if plan.churn_rise_last_quarter:
        d.forced_day = _churn_rise(
            plan.churn_rise_last_quarter,
            np.random.default_rng([seed, index, 13]),
            signup=d.signup,
            prospect=d.prospect,
            dropout_day=d.dropout_day,
            order_customer=d.order_customer,
            order_day=d.order_day,
        )
        keep = d.order_day <= d.forced_day[d.order_customer]  # their orders stop when they go
        d.order_customer, d.order_day = d.order_customer[keep], d.order_day[keep]
        d.dropout_day = np.minimum(d.dropout_day, d.forced_day)
    tables = {"customers": customers}
    for name, build in (
        ("transactions", transactions_table),
        ("tickets", tickets_table),
        ("churn_events", churn_table),
        ("surveys", surveys_table),
        ("interactions", interactions_table),
    ):
        tables[name] = build(plan, rng, d)
    tables["opportunities"], tables["stage_history"] = funnel_tables(plan, rng, d)
    tables["costs"] = costs_table(plan, rng, d)
    truth = unit_truth(plan, d.segments, extra_churners=int(np.isfinite(d.forced_day).sum()))
    truth["generator"] = {"vectorised": True, "order_density": ORDER_DENSITY}
    truth["defects"] = False  # the loader's defect counts are a committed-sample check
    names = np.array([s.name for s in d.segments], dtype=object)
    labels = pa.table(
        {
            "customer_id": d.ids,
            "business_unit": pa.array([plan.business_unit] * plan.n_customers, pa.string()),
            "segment": np.where(d.prospect, "prospect", names[d.seg]).astype(str),
            "dropped_out": np.isfinite(d.dropout_day),
        }
    )
    return tables, truth, labels

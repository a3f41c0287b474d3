"""The sample-data generator: four business units, 36 months, all nine tables, planted effects.

Everything is drawn from a seeded NumPy generator, so ``crmkit sample`` rewrites the committed
``sample_data/`` byte for byte. What is planted, with the exact parameters, is documented in
``docs/sample_data.md`` and written to ``sample_data/_truth/planted.json`` so tests can check
that analyses recover it. ``crmkit sample --customers N`` draws the same story at any size
with the vectorised generator in ``crmkit/run/sample_scale.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from crmkit.core.errors import ParameterError

HISTORY_START = date(2023, 10, 1)
HISTORY_END = date(2026, 9, 30)
LAST_QUARTER_START = date(2026, 7, 1)
DIMENSIONS = ("product_quality", "service_quality", "price", "delivery_speed", "after_sales")


@dataclass(frozen=True)
class Segment:
    """A behavioural segment: its own BG/NBD (purchases) and Gamma-Gamma (spend) process.

    BG/NBD (Fader, Hardie & Lee 2005): purchase rate λ ~ Gamma(r, rate α) per week, dropout
    probability after each repeat purchase p ~ Beta(a, b). Gamma-Gamma (Fader, Hardie & Lee
    2005b; Colombo & Jiang 1999): order value ~ Gamma(p, rate ν) with ν ~ Gamma(q, rate γ).
    """

    name: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    interactions_per_year: float
    store_share: float  # share of orders in the physical store channel


BASE_SEGMENTS = (
    Segment("high_value", 0.15, 2.0, 6.0, 0.5, 8.0, 12.0, 30.0, 1933.0, 10.0, 0.9),
    Segment("regular", 0.50, 1.5, 25.0, 0.8, 4.0, 12.0, 30.0, 362.5, 3.0, 0.1),
    Segment("occasional", 0.35, 1.0, 60.0, 1.0, 2.5, 12.0, 30.0, 36.0, 0.1, 0.03),
)


@dataclass(frozen=True)
class UnitPlan:
    business_unit: str
    display_name: str
    currency: str
    prefix: str
    language: str
    n_customers: int
    alpha_scale: float  # unit-level scaling of the purchase-rate parameter α
    driver_weights: tuple[float, ...]  # weight of each DIMENSIONS score in the NPS latent
    nps_shift_last_quarter: float = 0.0
    bottleneck_last_quarter: bool = False
    defects: bool = False
    churn_rise_last_quarter: float = 0.0  # share of active customers made to leave in 2026-Q3
    records_churn: bool = True  # False: no churn_events rows (churn inferred from inactivity)
    resolution_slowdown_last_quarter: float = 1.0  # × resolution time of tickets opened in 2026-Q3


UNITS = (
    UnitPlan(
        "north",
        "North",
        "USD",
        "N",
        "en",
        2400,
        1.0,
        (0.30, 0.25, 0.20, 0.15, 0.10),
        bottleneck_last_quarter=True,
    ),
    UnitPlan(
        "south",
        "South",
        "USD",
        "S",
        "en",
        2400,
        1.2,
        (0.30, 0.25, 0.20, 0.15, 0.10),
        nps_shift_last_quarter=-1.6,
        churn_rise_last_quarter=0.10,
    ),
    UnitPlan(
        "east",
        "华东事业部",
        "CNY",
        "E",
        "zh",
        2400,
        0.9,
        (0.06, 0.06, 0.06, 0.76, 0.06),
        resolution_slowdown_last_quarter=2.5,
    ),
    UnitPlan(
        "west",
        "West",
        "USD",
        "W",
        "en",
        2000,
        1.1,
        (0.30, 0.25, 0.20, 0.15, 0.10),
        defects=True,
        records_churn=False,
    ),
)

FUNNEL_STEPS = {"lead->intent": 0.60, "intent->negotiation": 0.55, "negotiation->won": 0.50}
BOTTLENECK_RATE = 0.20  # intent->negotiation for north's opportunities created in 2026-Q3
SOURCE_SHARE = [0.35, 0.2, 0.15, 0.2, 0.1]  # opportunities per source (labels["source"] order)
SOURCE_LIFT = [1.0, 1.15, 0.95, 0.85, 1.0]  # every step's conversion × this, per source
PROSPECT_SHARE = 0.08  # customers who signed up but never bought
# Stated exit reasons (labels["reason"] order), the same for every recorded churn.
REASON_SHARES = (0.30, 0.25, 0.20, 0.15, 0.10)
STATED_SHARE = 0.6  # cancellations with a stated reason (the others leave it blank)
CANCEL_AFTER = (0, 30)  # days from the last order to the cancellation
DORMANT_DAYS = 365  # units that record churn close an account this long after its last order
# Satisfaction before a dropout: responses in the 120 days before are 1.2 points lower on the
# latent in what they write and 1.2 + LATE_DIP in the scores they give (the churn drivers must
# find low scores before leaving).
LATE_DIP = 1.8
# Interactions before a dropout: in the QUIET_DAYS before it only QUIET_KEPT of them happen
# (the health score's engagement component must see customers go quiet before leaving).
QUIET_DAYS = 120
QUIET_KEPT = 0.25
MIN_CUSTOMERS = 60  # per unit: fewer cannot carry the planted defects (50 rows in west)

LABELS = {
    "en": {
        "regions": {
            "North": ["Boston", "Chicago", "Detroit"],
            "Central": ["Denver", "Dallas"],
            "Coast": ["Seattle", "San Diego", "Miami"],
        },
        "gender": ["female", "male"],
        "income": ["low", "middle", "high"],
        "occupation": [
            "professional",
            "manager",
            "clerical",
            "student",
            "retired",
            "self-employed",
        ],
        "industry": ["retail", "manufacturing", "services", "public sector", "technology"],
        "interest": ["technology", "home", "fashion", "outdoors"],
        "acquisition": ["search ads", "social media", "referral", "store", "partner"],
        "order_channel": ["online", "store", "phone"],
        "category": ["electronics", "home", "apparel", "grocery"],
        "touch_channel": ["email", "phone", "chat", "visit"],
        "direction": ["inbound", "outbound"],
        "kind": ["marketing", "sales", "support", "feedback", "complaint"],
        "touchpoint": ["purchase", "delivery", "support", "website"],
        "ticket_category": ["delivery", "billing", "product defect", "account", "returns"],
        "source": ["search ads", "referral", "social media", "store", "partner"],
        "stages": ["lead", "intent", "negotiation", "won"],
        "reason": ["price", "service", "product quality", "competitor", "no longer needed"],
        "owners": ["Avery", "Blake", "Casey", "Drew", "Emery", "Finley"],
    },
    "zh": {
        "regions": {
            "华东": ["上海", "杭州", "南京"],
            "华中": ["武汉", "长沙"],
            "华南": ["广州", "深圳", "厦门"],
        },
        "gender": ["女", "男"],
        "income": ["低", "中", "高"],
        "occupation": ["专业人员", "管理者", "职员", "学生", "退休", "个体经营"],
        "industry": ["零售", "制造", "服务业", "公共部门", "科技"],
        "interest": ["科技", "家居", "时尚", "户外"],
        "acquisition": ["搜索广告", "社交媒体", "转介绍", "门店", "合作伙伴"],
        "order_channel": ["线上商城", "门店", "电话"],
        "category": ["数码家电", "家居", "服饰", "食品"],
        "touch_channel": ["邮件", "电话", "微信", "到店"],
        "direction": ["呼入", "呼出"],
        "kind": ["营销", "销售", "服务", "反馈", "投诉"],
        "touchpoint": ["购买", "配送", "客服", "官网"],
        "ticket_category": ["物流", "账单", "产品故障", "账户", "退换货"],
        "source": ["搜索广告", "转介绍", "社交媒体", "门店", "合作伙伴"],
        "stages": ["潜在客户", "意向客户", "洽谈客户", "成交客户"],
        "reason": ["价格", "服务", "产品质量", "竞争对手", "不再需要"],
        "owners": ["王芳", "李强", "张敏", "刘洋", "陈静", "赵磊"],
    },
}

# Comments by sentiment and by the dimension a respondent rated lowest (detractors) or
# highest (promoters).
COMMENTS = {
    "en": {
        "good": {
            "product_quality": [
                "Great product quality, works perfectly.",
                "Excellent build quality and it lasts.",
            ],
            "service_quality": [
                "Friendly staff and very helpful service.",
                "The service team was professional and kind.",
            ],
            "price": [
                "Good value for money, fair prices.",
                "Prices are reasonable for the quality.",
            ],
            "delivery_speed": [
                "Fast delivery, arrived the next day.",
                "Quick shipping and well packed.",
            ],
            "after_sales": [
                "After-sales support solved my issue quickly.",
                "Easy returns and helpful after-sales team.",
            ],
        },
        "bad": {
            "product_quality": [
                "The product broke after a week, poor quality.",
                "Quality is disappointing, feels cheap.",
            ],
            "service_quality": [
                "Rude staff and slow service.",
                "Customer service ignored my questions.",
            ],
            "price": [
                "Too expensive compared with other shops.",
                "Prices went up again, not worth it.",
            ],
            "delivery_speed": [
                "Delivery was late again, waited two weeks.",
                "Slow shipping and the parcel arrived late.",
            ],
            "after_sales": [
                "Returns are a nightmare, refund still missing.",
                "After-sales support never called back.",
            ],
        },
        "neutral": ["It was fine.", "Nothing special.", "OK overall."],
    },
    "zh": {
        "good": {
            "product_quality": ["产品质量很好，用起来很放心。", "做工精细，质量过硬。"],
            "service_quality": ["客服态度很好，耐心解答问题。", "服务人员专业又热情。"],
            "price": ["价格实惠，性价比很高。", "价格合理，物有所值。"],
            "delivery_speed": ["物流速度很快，第二天就到了。", "发货及时，包装完好。"],
            "after_sales": ["售后处理很及时，问题很快解决。", "退换货方便，售后服务周到。"],
        },
        "bad": {
            "product_quality": ["产品质量太差，用了一周就坏了。", "做工粗糙，质量让人失望。"],
            "service_quality": ["客服态度很差，等了很久没人回复。", "服务人员不耐烦，体验很差。"],
            "price": ["价格太贵了，比别家贵很多。", "又涨价了，性价比太低。"],
            "delivery_speed": ["物流太慢了，等了两个星期才到货。", "发货延迟，快递速度太慢。"],
            "after_sales": ["售后服务太差，退款一直没有到账。", "退换货很麻烦，售后不回电话。"],
        },
        "neutral": ["还可以。", "一般般吧。", "整体还行。"],
    },
}

FIRST_NAMES = {
    "en": ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Jamie", "Chris"],
    "zh": ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"],
}
LAST_NAMES = {
    "en": ["Smith", "Johnson", "Lee", "Brown", "Garcia", "Miller", "Davis", "Wilson"],
    "zh": ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"],
}


def segments_for(plan: UnitPlan) -> tuple[Segment, ...]:
    """The unit's segments: the base segments with α scaled by the unit's factor."""
    return tuple(
        Segment(**{**s.__dict__, "alpha": s.alpha * plan.alpha_scale}) for s in BASE_SEGMENTS
    )


def _day(offset_days: float) -> date:
    return HISTORY_START + timedelta(days=int(offset_days))


HORIZON_DAYS = (HISTORY_END - HISTORY_START).days  # last day of history = day HORIZON_DAYS


def _fmt_days(days: np.ndarray) -> list[str]:
    base = np.datetime64(HISTORY_START.isoformat())
    return np.datetime_as_string(
        base + np.floor(days).astype("int64").astype("timedelta64[D]"), unit="D"
    ).tolist()


def _fmt_minutes(days: np.ndarray) -> list[str]:
    base = np.datetime64(HISTORY_START.isoformat() + "T00:00")
    minutes = np.floor(np.asarray(days) * 1440).astype("int64").astype("timedelta64[m]")
    return [s.replace("T", " ") for s in np.datetime_as_string(base + minutes, unit="m")]


def generate_unit(
    plan: UnitPlan,
    rng: np.random.Generator,
    planted_rng: np.random.Generator | None = None,
    thinning_rng: np.random.Generator | None = None,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All nine tables for one unit, plus the truth about what was planted.

    ``planted_rng`` draws the churn rise of the last quarter and ``thinning_rng`` the
    cancellations that state no reason and which interactions fall silent before a dropout,
    apart from ``rng`` so that the other tables do not move when those effects are tuned.
    """
    labels = LABELS[plan.language]
    segments = segments_for(plan)
    n = plan.n_customers
    P = plan.prefix

    # --- customers ------------------------------------------------------------------
    seg_index = rng.choice(len(segments), size=n, p=[s.share for s in segments])
    prospect = rng.random(n) < PROSPECT_SHARE
    # Tenure differs by segment: high-value customers have mostly been with us longer,
    # occasional buyers are mostly recent (Beta-shaped signup times over the history).
    shape = np.array([(1.0, 2.2), (1.3, 1.3), (2.2, 1.0)])[seg_index]
    signup = rng.beta(shape[:, 0], shape[:, 1]) * (HORIZON_DAYS + 1)
    order = np.argsort(signup, kind="stable")
    signup, seg_index, prospect = signup[order], seg_index[order], prospect[order]
    customer_ids = np.array([f"{P}C{i:05d}" for i in range(1, n + 1)])
    regions = list(labels["regions"])
    region = rng.choice(len(regions), size=n, p=[0.45, 0.25, 0.30])
    city = [
        labels["regions"][regions[r]][rng.integers(len(labels["regions"][regions[r]]))]
        for r in region
    ]
    income_p = np.array([[0.1, 0.4, 0.5], [0.3, 0.5, 0.2], [0.5, 0.4, 0.1]])
    income = [labels["income"][rng.choice(3, p=income_p[s])] for s in seg_index]
    acq_channels = labels["acquisition"]
    acq_p = np.array(
        [[0.1, 0.1, 0.4, 0.3, 0.1], [0.25, 0.25, 0.2, 0.2, 0.1], [0.35, 0.4, 0.05, 0.1, 0.1]]
    )
    acq = np.array([rng.choice(5, p=acq_p[s]) for s in seg_index])
    cac_by_channel = np.array([60.0, 45.0, 25.0, 35.0, 50.0]) * (
        7.0 if plan.currency == "CNY" else 1.0
    )
    acq_cost = np.round(cac_by_channel[acq] * rng.lognormal(0, 0.25, n), 2)
    price_sens = np.clip(np.round(rng.normal(np.array([2.0, 3.0, 4.2])[seg_index], 0.8)), 1, 5)
    brand_aff = np.clip(np.round(rng.normal(np.array([4.3, 3.2, 2.2])[seg_index], 0.8)), 1, 5)
    first = FIRST_NAMES[plan.language]
    last = LAST_NAMES[plan.language]
    if plan.language == "zh":
        names = [f"{last[rng.integers(8)]}{first[rng.integers(8)]}" for _ in range(n)]
    else:
        names = [f"{first[rng.integers(8)]} {last[rng.integers(8)]}" for _ in range(n)]
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "business_unit": plan.business_unit,
            "signup_date": _fmt_days(signup),
            "region": [regions[r] for r in region],
            "city": city,
            "age": np.clip(np.round(rng.normal(41, 12, n)), 18, 85).astype(int),
            "gender": rng.choice(labels["gender"], size=n),
            "income_band": income,
            "occupation": rng.choice(labels["occupation"], size=n),
            "industry": rng.choice(labels["industry"], size=n),
            "psy_price_sensitivity": price_sens.astype(int),
            "psy_brand_affinity": brand_aff.astype(int),
            "psy_interest": rng.choice(labels["interest"], size=n),
            "acquisition_channel": [acq_channels[a] for a in acq],
            "acquisition_cost": acq_cost,
            "name": names,
            "email": [f"user{P.lower()}{i:05d}@example.com" for i in range(1, n + 1)],
            "phone": [
                f"+1-555-{P}{i:05d}" if plan.language == "en" else f"138{i:08d}"
                for i in range(1, n + 1)
            ],
        }
    )

    # --- purchases: BG/NBD, spend: Gamma-Gamma ----------------------------------------
    orders: list[tuple[int, float]] = []  # (customer index, day)
    dropout_day = np.full(n, np.inf)
    nu = np.empty(n)
    for i in range(n):
        s = segments[seg_index[i]]
        nu[i] = rng.gamma(s.q, 1.0 / s.gamma)
        if prospect[i]:
            continue
        lam = rng.gamma(s.r, 1.0 / s.alpha) / 7.0  # per day
        p = rng.beta(s.a, s.b)
        t = signup[i]
        orders.append((i, t))
        while True:
            t += rng.exponential(1.0 / lam)
            if t >= HORIZON_DAYS + 1:
                break
            orders.append((i, t))
            if rng.random() < p:
                dropout_day[i] = t
                break
    order_customer = np.array([o[0] for o in orders])
    order_day = np.array([o[1] for o in orders])
    forced_churn_day = np.full(n, np.inf)
    if plan.churn_rise_last_quarter:
        forced_churn_day = _churn_rise(
            plan.churn_rise_last_quarter,
            planted_rng or np.random.default_rng(0),
            signup=signup,
            prospect=prospect,
            dropout_day=dropout_day,
            order_customer=order_customer,
            order_day=order_day,
        )
        # Their orders stop when they leave; the dropout drives complaints and surveys below.
        keep = order_day <= forced_churn_day[order_customer]
        order_customer, order_day = order_customer[keep], order_day[keep]
        orders = [orders[j] for j in np.flatnonzero(keep)]
        dropout_day = np.minimum(dropout_day, forced_churn_day)
    order_seg = seg_index[order_customer]
    store_share = np.array([s.store_share for s in segments])[order_seg]
    shape_p = np.array([s.p for s in segments])[order_seg]
    # Order values in the unit's currency, on the same scale as its acquisition costs and
    # deals (CNY: 7 to the dollar); the Gamma-Gamma parameters are per dollar.
    money_scale = 7.0 if plan.currency == "CNY" else 1.0
    amounts = np.round(rng.gamma(shape_p, 1.0 / nu[order_customer]) * money_scale, 2)
    amounts = np.maximum(amounts, 0.01)
    channel_idx = np.where(
        rng.random(len(orders)) < store_share,
        1,
        rng.choice([0, 2], size=len(orders), p=[0.97, 0.03]),
    )
    category_idx = rng.choice(4, size=len(orders), p=[0.3, 0.25, 0.25, 0.2])
    margin_rate = np.array([0.18, 0.32, 0.45, 0.22])[category_idx]
    transactions = pd.DataFrame(
        {
            "order_id": [f"{P}O{k:06d}" for k in range(1, len(orders) + 1)],
            "customer_id": customer_ids[order_customer],
            "business_unit": plan.business_unit,
            "order_date": _fmt_days(order_day),
            "amount": amounts,
            "product_category": np.array(labels["category"])[category_idx],
            "channel": np.array(labels["order_channel"])[channel_idx],
            "margin": np.round(amounts * margin_rate, 2),
        }
    )

    # --- churn: dropouts, told us (exit survey) for 60% of them ---------------------------
    dropped = np.isfinite(dropout_day)
    # Complaints: a base rate for everyone, and extra in the 60 days before a dropout, so
    # churn is more likely after complaints (the effect the churn analysis should find).
    tickets_rows = []
    complaint_before_dropout = np.zeros(n, dtype=bool)
    for i in range(n):
        start = signup[i]
        end = min(HORIZON_DAYS + 0.999, dropout_day[i] + 60)
        if end <= start:
            continue
        rate = 0.5 / 365 if seg_index[i] == 0 else 0.3 / 365
        k = rng.poisson(rate * (end - start))
        for t in np.sort(rng.uniform(start, end, size=k)):
            tickets_rows.append((i, t, rng.random() < 0.12))
        if dropped[i] and rng.random() < 0.5:
            t = dropout_day[i] - rng.uniform(0, 60)
            if start <= t <= HORIZON_DAYS:
                tickets_rows.append((i, t, True))
                complaint_before_dropout[i] = True
    tickets_rows.sort(key=lambda r: (r[1], r[0]))
    tk_customer = np.array([r[0] for r in tickets_rows], dtype=int)
    tk_day = np.array([r[1] for r in tickets_rows])
    tk_complaint = np.array([r[2] for r in tickets_rows], dtype=bool)
    response_hours = rng.gamma(2.0, np.where(tk_complaint, 10.0, 4.0))
    resolve_days = rng.gamma(2.0, np.where(tk_complaint, 3.0, 1.0))
    first_response = tk_day + response_hours / 24
    # A planted service slow-down: tickets opened in the last quarter take longer to resolve.
    slower = np.where(
        tk_day >= (LAST_QUARTER_START - HISTORY_START).days,
        plan.resolution_slowdown_last_quarter,
        1.0,
    )
    resolved = first_response + resolve_days * slower
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"{P}T{k:05d}" for k in range(1, len(tickets_rows) + 1)],
            "customer_id": customer_ids[tk_customer],
            "business_unit": plan.business_unit,
            "opened_at": _fmt_minutes(tk_day),
            "first_response_at": [
                s if d <= HORIZON_DAYS + 1 else ""
                for s, d in zip(_fmt_minutes(first_response), first_response, strict=True)
            ],
            "resolved_at": [
                s if d <= HORIZON_DAYS + 1 else ""
                for s, d in zip(_fmt_minutes(resolved), resolved, strict=True)
            ],
            "category": np.array(labels["ticket_category"])[rng.integers(0, 5, len(tickets_rows))],
            "is_complaint": np.where(tk_complaint, "true", "false"),
        }
    )
    if np.isfinite(forced_churn_day).any():
        tickets = _warning_complaints(
            tickets, np.flatnonzero(np.isfinite(forced_churn_day)), planted_rng, labels, plan
        )
        tickets["customer_id"] = tickets["customer_id"].replace(
            {str(k): customer_ids[k] for k in np.flatnonzero(np.isfinite(forced_churn_day))}
        )

    # Every dropout cancels 30–120 days after the last order; STATED_SHARE of them state a
    # reason. The cancellations without one draw on ``silent_rng``, so the tables drawn from
    # ``rng`` below are the same as when only the stated ones were recorded.
    silent_rng = thinning_rng or np.random.default_rng(0)
    churn_rows = []
    for i in np.flatnonzero(dropped):
        # The draws keep the order they have always had, so units without a planted churn
        # rise keep their data.
        forced = bool(np.isfinite(forced_churn_day[i]))
        if rng.random() >= STATED_SHARE and not forced:
            # Cancelled without stating a reason; drawn on its own stream (see above).
            t = dropout_day[i] + silent_rng.uniform(CANCEL_AFTER[0], CANCEL_AFTER[1])
            if t <= HORIZON_DAYS:
                churn_rows.append((i, t, ""))
            continue
        # The draw and the skip it has always had keep the stream (and every table drawn
        # after it) as it was; the draw is mapped onto CANCEL_AFTER.
        u = rng.uniform(30, 120)
        first, last = CANCEL_AFTER
        t = dropout_day[i] + first + (u - 30) / 90 * (last - first)
        if dropout_day[i] + u > HORIZON_DAYS and not forced:
            if t <= HORIZON_DAYS:
                churn_rows.append((i, t, ""))
            continue
        reason = labels["reason"][rng.choice(5, p=REASON_SHARES)]
        churn_rows.append((i, forced_churn_day[i] if forced else t, reason))
    # The business closes an account after DORMANT_DAYS without an order (no reason stated):
    # customers who bought once and never again, or stopped without cancelling, leave too.
    cancelled = {r[0] for r in churn_rows}
    final_order = np.full(n, -np.inf)
    np.maximum.at(final_order, order_customer, order_day)
    closes = final_order + DORMANT_DAYS
    for i in np.flatnonzero(np.isfinite(final_order) & (closes <= HORIZON_DAYS)):
        if i not in cancelled:
            churn_rows.append((i, closes[i], ""))
    if not plan.records_churn:
        churn_rows = []
    churn_events = pd.DataFrame(
        {
            "customer_id": [customer_ids[r[0]] for r in churn_rows],
            "business_unit": plan.business_unit,
            "churned_at": _fmt_days(np.array([r[1] for r in churn_rows])),
            "reason": [r[2] for r in churn_rows],
            "reason_text": [_exit_text(plan.language, r[2]) if r[2] else "" for r in churn_rows],
        }
    ).sort_values(["churned_at", "customer_id"], ignore_index=True)

    # --- surveys: after 35% of orders ----------------------------------------------------
    asked = rng.random(len(orders)) < 0.35
    sv_order = np.flatnonzero(asked)
    sv_day = order_day[sv_order] + rng.uniform(1, 8, size=len(sv_order))
    keep = sv_day <= HORIZON_DAYS + 0.999
    sv_order, sv_day = sv_order[keep], sv_day[keep]
    sv_customer = order_customer[sv_order]
    m = len(sv_order)
    customer_mood = rng.normal(0, 0.5, n)
    dim_means = np.array([3.9, 3.8, 3.4, 3.6, 3.7])
    dims = np.clip(
        np.round(dim_means + customer_mood[sv_customer, None] + rng.normal(0, 0.9, (m, 5))), 1, 5
    )
    weights = np.array(plan.driver_weights)
    near_dropout = (dropout_day[sv_customer] - sv_day < 120) & (
        dropout_day[sv_customer] >= sv_day - 30
    )
    latent = (dims - 3.0) @ weights * 2.2 + rng.normal(0, 0.9, m) - 1.2 * near_dropout
    in_last_quarter = sv_day >= (LAST_QUARTER_START - HISTORY_START).days
    latent += plan.nps_shift_last_quarter * in_last_quarter
    nps = np.clip(np.round(7.3 + 1.5 * latent), 0, 10).astype(int)
    csat_noise = rng.normal(0, 0.5, m)
    comments = []
    com = COMMENTS[plan.language]
    for j in range(m):
        if rng.random() > 0.6:
            comments.append("")
            continue
        if nps[j] >= 9:
            dim = DIMENSIONS[int(np.argmax(dims[j] + rng.random(5) * 0.1))]
            text = com["good"][dim][rng.integers(2)]
        elif nps[j] <= 6:
            dim = DIMENSIONS[int(np.argmin(dims[j] - weights * 2 + rng.random(5) * 0.1))]
            text = com["bad"][dim][rng.integers(2)]
        else:
            text = com["neutral"][rng.integers(3)]
        if rng.random() < 0.02:
            text += (
                f" Contact me at user{j}@example.com."
                if plan.language == "en"
                else f" 请联系我 1390000{j:04d}。"
            )
        comments.append(text)
    # Scores before a dropout fall LATE_DIP further than the comments written above show; the
    # comments keep the first dip, so the draws after them (and the data they make) stay.
    latent -= LATE_DIP * near_dropout
    nps = np.clip(np.round(7.3 + 1.5 * latent), 0, 10).astype(int)
    csat = np.clip(
        np.round(3.9 + 0.45 * (dims - 3.0).mean(axis=1) * 2 + 0.35 * latent + csat_noise), 1, 5
    ).astype(int)
    order_sort = np.argsort(sv_day, kind="stable")
    surveys = pd.DataFrame(
        {
            "response_id": [f"{P}R{k:05d}" for k in range(1, m + 1)],
            "customer_id": customer_ids[sv_customer][order_sort],
            "business_unit": plan.business_unit,
            "responded_at": np.array(_fmt_days(sv_day), dtype=object)[order_sort],
            "nps": nps[order_sort],
            "csat": csat[order_sort],
            **{f"dim_{d}": dims[order_sort, k].astype(int) for k, d in enumerate(DIMENSIONS)},
            "comment": np.array(comments, dtype=object)[order_sort],
            "touchpoint": np.array(labels["touchpoint"])[
                rng.choice(4, size=m, p=[0.4, 0.3, 0.2, 0.1])
            ],
        }
    )

    # --- interactions (no business_unit column: attributed through the customer) ---------
    it_rows = []
    for i in range(n):
        start = signup[i]
        end = min(HORIZON_DAYS + 0.999, dropout_day[i] + 90)
        rate = segments[seg_index[i]].interactions_per_year / 365
        k = rng.poisson(rate * max(end - start, 0))
        it_rows.extend((i, t) for t in rng.uniform(start, end, size=k))
    it_rows.sort(key=lambda r: (r[1], r[0]))
    k = len(it_rows)
    it_customer = np.array([r[0] for r in it_rows], dtype=int)
    it_day = np.array([r[1] for r in it_rows])
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"{P}I{j:06d}" for j in range(1, k + 1)],
            "customer_id": customer_ids[it_customer],
            "occurred_at": _fmt_days(it_day),
            "channel": np.array(labels["touch_channel"])[
                rng.choice(4, size=k, p=[0.4, 0.25, 0.25, 0.1])
            ],
            "direction": np.array(labels["direction"])[rng.choice(2, size=k, p=[0.4, 0.6])],
            "kind": np.array(labels["kind"])[rng.choice(5, size=k, p=[0.4, 0.25, 0.2, 0.1, 0.05])],
        }
    )
    # Customers go quiet before they leave: in the QUIET_DAYS before a dropout only
    # QUIET_KEPT of their interactions happen, and none after it. Drawn on its own stream
    # after every draw above, so the tables drawn from ``rng`` below do not move.
    before_dropout = dropout_day[it_customer] - it_day
    quiet = (before_dropout >= 0) & (before_dropout < QUIET_DAYS)
    kept = (before_dropout >= QUIET_DAYS) | (quiet & (silent_rng.random(k) < QUIET_KEPT))
    interactions = interactions.loc[kept].reset_index(drop=True)
    interactions["interaction_id"] = [f"{P}I{j:06d}" for j in range(1, len(interactions) + 1)]

    opportunities, stage_history = _funnel(plan, labels, rng, signup, customer_ids)
    costs = _costs(plan, labels, rng, customers, signup, acq)

    truth = unit_truth(plan, segments, extra_churners=int(np.isfinite(forced_churn_day).sum()))
    segment_labels = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "business_unit": plan.business_unit,
            "segment": np.where(
                prospect, "prospect", np.array([s.name for s in segments])[seg_index]
            ),
            "dropped_out": dropped,
        }
    )
    tables = {
        "customers": customers,
        "transactions": transactions,
        "opportunities": opportunities,
        "stage_history": stage_history,
        "surveys": surveys,
        "interactions": interactions,
        "tickets": tickets,
        "churn_events": churn_events,
        "costs": costs,
    }
    return tables, {"truth": truth, "segments": segment_labels}


def unit_truth(plan: UnitPlan, segments: tuple[Segment, ...], *, extra_churners: int) -> dict:
    """What was planted in one unit, as ``_truth/planted.json`` records it."""
    labels = LABELS[plan.language]
    return {
        "display_name": plan.display_name,
        "currency": plan.currency,
        "segments": {
            s.name: {
                "share": s.share,
                "bgnbd": {"r": s.r, "alpha": s.alpha, "a": s.a, "b": s.b},
                "gamma_gamma": {"p": s.p, "q": s.q, "v": s.gamma},
            }
            for s in segments
        },
        "prospect_share": PROSPECT_SHARE,
        "nps_driver_weights": {
            f"dim_{d}": w for d, w in zip(DIMENSIONS, plan.driver_weights, strict=True)
        },
        "nps_shift_last_quarter": plan.nps_shift_last_quarter,
        "funnel_stages": labels["stages"],
        "source_lift": dict(zip(labels["source"], SOURCE_LIFT, strict=True)),
        "bottleneck": (
            {
                "step": "intent->negotiation",
                "from_rate": FUNNEL_STEPS["intent->negotiation"],
                "to_rate": BOTTLENECK_RATE,
                "cohort": "created 2026-Q3",
            }
            if plan.bottleneck_last_quarter
            else None
        ),
        "defects": plan.defects,
        "churn": {
            "definition": "events" if plan.records_churn else "inactivity",
            "recorded_share": 1.0 if plan.records_churn else 0.0,
            "stated_reason_share": STATED_SHARE if plan.records_churn else 0.0,
            "reason_shares": dict(zip(labels["reason"], REASON_SHARES, strict=True)),
            "rise_last_quarter": plan.churn_rise_last_quarter,
            "extra_churners_last_quarter": extra_churners,
        },
        "health": {
            "resolution_slowdown_last_quarter": plan.resolution_slowdown_last_quarter,
            "quiet_days_before_dropout": QUIET_DAYS,
            "interactions_kept_when_quiet": QUIET_KEPT,
        },
    }


def _churn_rise(
    share: float,
    rng: np.random.Generator,
    *,
    signup: np.ndarray,
    prospect: np.ndarray,
    dropout_day: np.ndarray,
    order_customer: np.ndarray,
    order_day: np.ndarray,
) -> np.ndarray:
    """Per customer, the day a planted extra churn makes them leave in the last quarter (inf
    for everyone else): ``share`` of the customers still buying at its start (an order in the
    180 days before, not dropped out), each cancelling on a uniform day of the quarter."""
    start = (LAST_QUARTER_START - HISTORY_START).days
    recent = order_customer[(order_day < start) & (order_day >= start - 180)]
    buying = np.zeros(len(signup), dtype=bool)
    buying[recent] = True
    candidates = np.flatnonzero(buying & ~prospect & (dropout_day >= start) & (signup < start))
    chosen = rng.choice(candidates, size=round(share * len(candidates)), replace=False)
    days = np.full(len(signup), np.inf)
    days[chosen] = rng.uniform(start, HORIZON_DAYS + 0.999, size=len(chosen))
    return days


def _warning_complaints(
    tickets: pd.DataFrame,
    leavers: np.ndarray,
    rng: np.random.Generator | None,
    labels: dict,
    plan: UnitPlan,
) -> pd.DataFrame:
    """The planted churn rise's early warning: each extra leaver complains about billing once
    in the 90 days before the last quarter starts (a rival's lower prices, complained of before
    they go). Drawn on the planted stream and added after the other tickets, so the tables
    drawn after them do not move; ids are renumbered in order of opening."""
    rng = rng or np.random.default_rng(0)
    start = (LAST_QUARTER_START - HISTORY_START).days
    day = start - rng.uniform(1, 90, size=len(leavers))
    answered = day + rng.gamma(2.0, 10.0, size=len(leavers)) / 24
    resolved = answered + rng.gamma(2.0, 3.0, size=len(leavers))
    extra = pd.DataFrame(
        {
            "customer_id": leavers.astype(str),  # the caller puts the customer ids in
            "business_unit": plan.business_unit,
            "opened_at": _fmt_minutes(day),
            "first_response_at": _fmt_minutes(answered),
            "resolved_at": _fmt_minutes(resolved),
            "category": labels["ticket_category"][1],
            "is_complaint": "true",
        }
    )
    merged = pd.concat([tickets, extra], ignore_index=True)
    merged = merged.sort_values("opened_at", kind="stable", ignore_index=True)
    merged["ticket_id"] = [f"{plan.prefix}T{k:05d}" for k in range(1, len(merged) + 1)]
    return merged


def _exit_text(language: str, reason: str) -> str:
    if language == "zh":
        return f"离开原因：{reason}"
    return f"Left because of {reason}."


def _funnel(
    plan: UnitPlan,
    labels: dict,
    rng: np.random.Generator,
    signup: np.ndarray,
    customer_ids: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Opportunities moving lead → intent → negotiation → won, lost at any step."""
    per_month = 80
    months = pd.period_range(HISTORY_START, HISTORY_END, freq="M")
    created = []
    for month in months:
        k = rng.poisson(per_month)
        first = (month.start_time.date() - HISTORY_START).days
        created.extend(first + rng.uniform(0, month.days_in_month, size=k))
    created = np.sort(np.array(created))
    bottleneck_from = (LAST_QUARTER_START - HISTORY_START).days
    dwell = {"lead": (2.0, 5.0), "intent": (2.0, 8.0), "negotiation": (2.0, 12.0)}
    stage_label = dict(zip(["lead", "intent", "negotiation", "won"], labels["stages"], strict=True))
    opp_rows, history_rows = [], []
    for j, t0 in enumerate(created, start=1):
        oid = f"{plan.prefix}P{j:05d}"
        source = int(rng.choice(5, p=SOURCE_SHARE))
        owner = labels["owners"][rng.integers(6)]
        amount = round(float(rng.lognormal(8.0, 0.6)) * (7.0 if plan.currency == "CNY" else 1), 2)
        t = t0
        history_rows.append((oid, stage_label["lead"], t))
        outcome, closed = "open", None
        for step, stage in (
            ("lead->intent", "intent"),
            ("intent->negotiation", "negotiation"),
            ("negotiation->won", "won"),
        ):
            current = step.split("->")[0]
            t = t + rng.gamma(*dwell[current])
            if t > HORIZON_DAYS + 0.999:
                break  # still open at the end of history
            rate = min(FUNNEL_STEPS[step] * SOURCE_LIFT[source], 0.95)
            if (
                plan.bottleneck_last_quarter
                and step == "intent->negotiation"
                and t0 >= bottleneck_from
            ):
                rate = BOTTLENECK_RATE
            if rng.random() >= rate:
                outcome, closed = "lost", t
                break
            if not (stage == "intent" and rng.random() < 0.05):  # 5% skip the intent stage
                history_rows.append((oid, stage_label[stage], t))
            if stage == "won":
                outcome, closed = "won", t
        customer = ""
        if outcome == "won":
            k = int(np.searchsorted(signup, closed))
            if k < len(signup) and rng.random() < 0.5:
                customer = customer_ids[k]
        opp_rows.append(
            (oid, t0, outcome, customer, labels["source"][source], owner, amount, closed)
        )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in opp_rows],
            "business_unit": plan.business_unit,
            "created_at": _fmt_days(np.array([r[1] for r in opp_rows])),
            "outcome": [r[2] for r in opp_rows],
            "customer_id": [r[3] for r in opp_rows],
            "source": [r[4] for r in opp_rows],
            "owner": [r[5] for r in opp_rows],
            "amount": [r[6] for r in opp_rows],
            "closed_at": ["" if r[7] is None else _fmt_days(np.array([r[7]]))[0] for r in opp_rows],
        }
    )
    stage_history = pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in history_rows],
            "stage": [r[1] for r in history_rows],
            "entered_at": _fmt_days(np.array([r[2] for r in history_rows])),
        }
    )
    return opportunities, stage_history


def _costs(
    plan: UnitPlan,
    labels: dict,
    rng: np.random.Generator,
    customers: pd.DataFrame,
    signup: np.ndarray,
    acq: np.ndarray,
) -> pd.DataFrame:
    """Monthly spend: acquisition by channel (what the customers cost), retention, service."""
    months = pd.period_range(HISTORY_START, HISTORY_END, freq="M")
    signup_month = pd.to_datetime(customers["signup_date"]).dt.to_period("M")
    rows = []
    scale = 7.0 if plan.currency == "CNY" else 1.0
    for month in months:
        this = signup_month == month
        for c, channel in enumerate(labels["acquisition"]):
            spend = customers.loc[this & (acq == c), "acquisition_cost"].sum()
            rows.append((month, "acquisition", round(float(spend), 2), channel))
        rows.append((month, "retention", round(float(rng.normal(3000, 300) * scale), 2), ""))
        rows.append((month, "service", round(float(rng.normal(5000, 400) * scale), 2), ""))
    return pd.DataFrame(
        {
            "business_unit": plan.business_unit,
            "month": [r[0].start_time.strftime("%Y-%m-%d") for r in rows],
            "category": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
            "channel": [r[3] for r in rows],
        }
    )


def plant_defects(
    tables: dict[str, pd.DataFrame], rng: np.random.Generator, prefix: str
) -> dict[str, int]:
    """Damage a unit's tables with the defects the loader must catch; return their counts."""
    planted: dict[str, int] = {}
    tx = tables["transactions"].astype(object)
    # Each defect hits its own rows, so the loader's counts equal the planted counts.
    rows = rng.permutation(len(tx))
    bad_amount, negative = rows[:12], rows[12:22]
    dup = tx.iloc[rows[22:62]]
    conflict = tx.iloc[rows[62:77]].copy()
    conflict["amount"] = (conflict["amount"].astype(float) * 1.5).round(2)
    orphans = tx.iloc[rows[77:85]].copy()
    orphans["customer_id"] = [f"{prefix}X{k:04d}" for k in range(8)]
    orphans["order_id"] = [f"{prefix}OX{k:04d}" for k in range(8)]
    future = tx.iloc[rows[85:91]].copy()
    future["order_id"] = [f"{prefix}OF{k:04d}" for k in range(6)]
    future["order_date"] = [f"2027-0{k + 1}-15" for k in range(6)]
    tx.loc[bad_amount, "amount"] = rng.choice(["12,3O", "abc", "1.2.3", "?"], size=12)
    tx.loc[negative, "amount"] = -tx.loc[negative, "amount"].astype(float)
    tables["transactions"] = pd.concat([tx, dup, conflict, orphans, future], ignore_index=True)
    planted.update(
        {
            "transactions exact duplicates": 40,
            "transactions conflicting ids": 15,
            "transactions unparseable amounts": 12,
            "transactions negative amounts": 10,
            "transactions orphan customer ids": 8,
            "transactions future dates": 6,
        }
    )

    cu = tables["customers"].astype(object)
    variants = ["  {} ", "{}  ", "upper", "lower"]
    rows = rng.choice(len(cu), 50, replace=False)
    for k, row in enumerate(rows):
        value = str(cu.loc[row, "region"])
        form = variants[k % 4]
        cu.loc[row, "region"] = (
            value.upper()
            if form == "upper"
            else value.lower()
            if form == "lower"
            else form.format(value)
        )
    cost_rows = rng.choice(np.setdiff1d(np.arange(len(cu)), rows), 5, replace=False)
    cu.loc[cost_rows, "acquisition_cost"] = "unknown"
    tables["customers"] = pd.concat(
        [cu, cu.sample(10, random_state=rng.integers(2**31))], ignore_index=True
    )
    planted.update(
        {
            "customers exact duplicates": 10,
            "customers region case/whitespace": 50,
            "customers unparseable acquisition_cost": 5,
        }
    )

    sv = tables["surveys"].astype(object)
    nps_rows = rng.choice(len(sv), 12, replace=False)
    sv.loc[nps_rows, "nps"] = rng.choice([11, 12, -1], size=12)
    csat_rows = rng.choice(np.setdiff1d(np.arange(len(sv)), nps_rows), 8, replace=False)
    sv.loc[csat_rows, "csat"] = rng.choice([0, 6], size=8)
    orphan_sv = sv.sample(5, random_state=rng.integers(2**31)).copy()
    orphan_sv["customer_id"] = [f"{prefix}X{k:04d}" for k in range(10, 15)]
    orphan_sv["response_id"] = [f"{prefix}RX{k:04d}" for k in range(5)]
    tables["surveys"] = pd.concat([sv, orphan_sv], ignore_index=True)
    planted.update(
        {
            "surveys nps out of range": 12,
            "surveys csat out of range": 8,
            "surveys orphan customer ids": 5,
        }
    )

    op = tables["opportunities"].astype(object)
    won = np.flatnonzero(op["outcome"].eq("won").to_numpy())[:20]
    op.loc[won[:10], "outcome"] = "Won "
    op.loc[won[10:], "outcome"] = "WON"
    pending = np.flatnonzero(op["outcome"].eq("open").to_numpy())[:3]
    op.loc[pending, "outcome"] = "pending"
    tables["opportunities"] = op
    planted.update(
        {"opportunities outcome case/whitespace": 20, "opportunities unknown outcome": 3}
    )

    tk = tables["tickets"].astype(object)
    maybe = rng.choice(len(tk), 5, replace=False)
    tk.loc[maybe, "is_complaint"] = "maybe"
    tables["tickets"] = tk
    planted["tickets unparseable is_complaint"] = 5
    return planted


FORMATS = ("csv", "parquet")


def check_sample_size(*, customers: int | None, units: int, fmt: str = "csv") -> None:
    """Refuse sizes and formats the sample cannot be made in, naming the option and the value.

    Raises
    ------
    ParameterError
        ``customers`` is too small to plant the sample's defects and effects, ``units`` is
        not between 1 and the number of units in the plan, or ``fmt`` is not in ``FORMATS``.
    """
    if customers is not None and customers < MIN_CUSTOMERS:
        raise ParameterError(
            f"--customers must be at least {MIN_CUSTOMERS} (the sample plants defects and "
            f"effects that need that many customers per unit); got {customers}."
        )
    if not 1 <= units <= len(UNITS):
        raise ParameterError(
            f"--units must be between 1 and {len(UNITS)} (the first units of the plan: "
            f"{', '.join(p.business_unit for p in UNITS)}); got {units}."
        )
    if fmt not in FORMATS:
        raise ParameterError(f"--format must be one of {list(FORMATS)}; got {fmt!r}.")


def generate(
    *, seed: int = 2026, customers: int | None = None, units: int = len(UNITS)
) -> tuple[dict[str, pd.DataFrame], dict, pd.DataFrame]:
    """The first ``units`` units' tables (concatenated per table), the planted truth and
    segment labels. Each unit draws on its own streams, so fewer units leave the first ones'
    data as it is in the whole sample.

    Raises
    ------
    ParameterError
        ``customers`` is too small to plant the sample's defects and effects, or ``units`` is
        out of range.
    """
    check_sample_size(customers=customers, units=units)
    all_tables: dict[str, list[pd.DataFrame]] = {}
    truth: dict = {
        "seed": seed,
        "history": [HISTORY_START.isoformat(), HISTORY_END.isoformat()],
        "units": {},
    }
    labels = []
    for k, plan in enumerate(UNITS[:units]):
        if customers:
            plan = UnitPlan(**{**plan.__dict__, "n_customers": customers})
        rng = np.random.default_rng([seed, k])
        tables, planted = generate_unit(
            plan, rng, np.random.default_rng([seed, k, 13]), np.random.default_rng([seed, k, 14])
        )
        unit_truth = planted["truth"]
        if plan.defects:
            unit_truth["defects_planted"] = plant_defects(tables, rng, plan.prefix)
        truth["units"][plan.business_unit] = unit_truth
        labels.append(planted["segments"])
        for name, table in tables.items():
            all_tables.setdefault(name, []).append(table)
    merged = {name: pd.concat(parts, ignore_index=True) for name, parts in all_tables.items()}
    return merged, truth, pd.concat(labels, ignore_index=True)


def _as_parquet_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table with columns of mixed Python types (the defects planted in west: text in a
    number column) as text, which Parquet, unlike CSV, needs to hold them."""
    mixed = [
        c
        for c in table.columns
        if table[c].dtype == object and pd.api.types.infer_dtype(table[c]) != "string"
    ]
    return table.astype(dict.fromkeys(mixed, str)) if mixed else table


def write_sample(
    out: Path,
    *,
    seed: int = 2026,
    customers: int | None = None,
    units: int = len(UNITS),
    fmt: str = "csv",
) -> list[Path]:
    """Write the sample tables (the first ``units`` units, in ``fmt``) and the truth files;
    return the files written. Byte-identical for the same seed and size: without ``customers``
    it is the committed sample. (``crmkit sample --customers N`` uses the vectorised generator
    instead, through ``crmkit.run.sample_files.write_sample_files``.)

    Raises
    ------
    ParameterError
        ``customers`` or ``units`` out of range, or ``fmt`` not one of ``FORMATS``.
    """
    check_sample_size(customers=customers, units=units, fmt=fmt)
    out = Path(out)
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    tables, truth, labels = generate(seed=seed, customers=customers, units=units)
    written = []
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        else:
            _as_parquet_columns(table).to_parquet(path, index=False)
        written.append(path)
    path = out / "_truth" / "planted.json"
    path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    path = out / "_truth" / "customer_segments.csv"
    labels.to_csv(path, index=False, lineterminator="\n")
    written.append(path)
    return written

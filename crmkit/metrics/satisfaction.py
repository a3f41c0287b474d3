"""Customer satisfaction: CSAT, NPS with intervals and change tests, breakdowns, key drivers,
verbatim themes (Chinese and English) and loyalty.

Definitions (with sources) are in each function's docstring and in ``docs/methods.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.core.errors import ParameterError, require_columns
from crmkit.metrics.stats import holm, two_proportion_test, verdicts, wilson_interval, z_value
from crmkit.present.format import p_text

DIMENSION_PREFIX = "dim_"


@dataclass(frozen=True)
class NPS:
    """A Net Promoter Score with its adjusted-Wald interval (both on −100..100)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    score: float
    low: float
    high: float

    def share(self, kind: str) -> float:
        """Share (0–1) of ``promoters``, ``passives`` or ``detractors``."""
        return getattr(self, kind) / self.n if self.n else float("nan")


def _adjusted(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """Rocks (2016) adjusted-Wald: the adjusted NPS (fraction) and its variance."""
    n_adj = n + 3
    p = (promoters + 0.75) / n_adj
    d = (detractors + 0.75) / n_adj
    return p - d, (p + d - (p - d) ** 2) / n_adj


def nps(scores: pd.Series, *, level: float = 0.95) -> NPS:
    """Net Promoter Score (Reichheld 2003): % promoters (9–10) − % detractors (0–6).

    The interval is the adjusted-Wald interval that Rocks (2016, *The American Statistician*
    70(4)) found to have the best coverage: with n′ = n + 3, p′ = (promoters + ¾) / n′ and
    d′ = (detractors + ¾) / n′, NPS′ = p′ − d′ and Var = (p′ + d′ − NPS′²) / n′; the interval
    is NPS′ ± z·√Var, clipped to −100..100. The point estimate stays the plain NPS.

    Examples
    --------
    >>> result = nps(pd.Series([10] * 6 + [8] * 2 + [3] * 2))
    >>> result.score, round(result.low, 1), round(result.high, 1)
    (40.0, -12.6, 74.1)
    """
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    n = len(valid)
    promoters = int((valid >= 9).sum())
    detractors = int((valid <= 6).sum())
    if not n:
        return NPS(0, 0, 0, 0, float("nan"), float("nan"), float("nan"))
    centre, variance = _adjusted(promoters, detractors, n)
    half = z_value(level) * np.sqrt(variance)
    return NPS(
        n,
        promoters,
        n - promoters - detractors,
        detractors,
        100 * (promoters - detractors) / n,
        float(max(-100.0, 100 * (centre - half))),
        float(min(100.0, 100 * (centre + half))),
    )


@dataclass(frozen=True)
class Change:
    """This period minus the previous one: difference, its interval, two-sided p-value."""

    delta: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 0.05)

    def as_dict(self) -> dict:
        return {"delta": self.delta, "ci": [self.low, self.high], "p_value": self.p_value}


def nps_change(current: NPS, previous: NPS, *, level: float = 0.95) -> Change:
    """Difference of two independent NPS (points), adjusted-Wald as in :func:`nps`.

    The interval and z test use the adjusted estimates and the sum of their variances (Rocks
    2016, section 4); the reported delta is the difference of the plain scores.
    """
    if not current.n or not previous.n:
        return Change(float("nan"), float("nan"), float("nan"), float("nan"))
    c1, v1 = _adjusted(current.promoters, current.detractors, current.n)
    c2, v2 = _adjusted(previous.promoters, previous.detractors, previous.n)
    se = np.sqrt(v1 + v2)
    half = z_value(level) * se
    p_value = float(2 * stats.norm.sf(abs(c1 - c2) / se))
    return Change(
        current.score - previous.score, 100 * (c1 - c2 - half), 100 * (c1 - c2 + half), p_value
    )


@dataclass(frozen=True)
class CSAT:
    """Share of responses scoring 4 or 5 (of 5), its Wilson interval, and the mean score."""

    n: int
    satisfied: int
    value: float
    low: float
    high: float
    mean: float


def csat(scores: pd.Series, *, level: float = 0.95) -> CSAT:
    """CSAT = share of responses scoring 4 or 5 on the 5-point scale (top-2-box), with the
    Wilson score interval (Wilson 1927); the mean score is kept for reference."""
    valid = pd.to_numeric(scores, errors="coerce").dropna()
    satisfied = int((valid >= 4).sum())
    share = wilson_interval(satisfied, len(valid), level=level)
    mean = float(valid.mean()) if len(valid) else float("nan")
    return CSAT(len(valid), satisfied, share.value, share.low, share.high, mean)


def csat_change(current: CSAT, previous: CSAT) -> Change:
    """Difference of two CSAT shares: Wald interval, pooled two-proportion z test."""
    test = two_proportion_test(current.satisfied, current.n, previous.satisfied, previous.n)
    return Change(test.delta, test.low, test.high, test.p_value)


def distribution(scores: pd.Series, *, values: range) -> pd.DataFrame:
    """Responses per score: ``score, responses, share``."""
    valid = pd.to_numeric(scores, errors="coerce").dropna().astype(int)
    counts = valid.value_counts().reindex(list(values), fill_value=0)
    return pd.DataFrame(
        {
            "score": counts.index,
            "responses": counts.to_numpy(),
            "share": counts.to_numpy() / max(len(valid), 1),
        }
    )


def monthly(responses: pd.DataFrame, *, months: int = 18, as_of: date | str) -> pd.DataFrame:
    """NPS and CSAT per month with their intervals, for the trend charts.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month, responses, nps, nps_low, nps_high, csat, csat_low,
        csat_high``.
    """
    last = pd.Timestamp(as_of).normalize()
    first = (last.to_period("M") - (months - 1)).start_time
    recent = responses.loc[responses["responded_at"] >= first]
    rows = []
    for month, group in recent.groupby(recent["responded_at"].dt.to_period("M")):
        score = nps(group["nps"]) if "nps" in group else None
        share = csat(group["csat"]) if "csat" in group else None
        rows.append(
            {
                "month": month.start_time,
                "responses": len(group),
                "nps": score.score if score else np.nan,
                "nps_low": score.low if score else np.nan,
                "nps_high": score.high if score else np.nan,
                "csat": share.value if share else np.nan,
                "csat_low": share.low if share else np.nan,
                "csat_high": share.high if share else np.nan,
            }
        )
    columns = ["month", "responses", "nps", "nps_low", "nps_high", "csat", "csat_low"]
    return pd.DataFrame(rows, columns=[*columns, "csat_high"])


def breakdown(responses: pd.DataFrame, *, by: str, min_group: int = 30) -> pd.DataFrame:
    """NPS and CSAT per group of ``by``, each NPS tested against all other responses.

    Groups with fewer than ``min_group`` responses are shown as "too few to judge" and not
    tested; the tests' p-values are Holm-adjusted over the table. Missing values are grouped
    as "(none)".

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group, responses, nps, nps_low, nps_high, csat, csat_low,
        csat_high, p_adjusted, verdict``; largest groups first.
    """
    require_columns(responses, [by], "surveys", "breakdown")
    groups = responses[by].astype("string").fillna("(none)")
    rows = []
    for group, members in responses.groupby(groups.to_numpy()):
        rest = responses.loc[(groups != group).to_numpy()]
        score = nps(members["nps"]) if "nps" in members else nps(pd.Series(dtype=float))
        share = csat(members["csat"]) if "csat" in members else csat(pd.Series(dtype=float))
        p_value = float("nan")
        if len(members) >= min_group and score.n and "nps" in rest:
            p_value = nps_change(score, nps(rest["nps"])).p_value
        rows.append(
            {
                "group": group,
                "responses": len(members),
                "nps": score.score,
                "nps_low": score.low,
                "nps_high": score.high,
                "csat": share.value,
                "csat_low": share.low,
                "csat_high": share.high,
                "p_value": p_value,
                "rest_nps": nps(rest["nps"]).score if "nps" in rest else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = holm(table["p_value"].to_numpy())
    table["verdict"] = verdicts(
        table["responses"],
        table["nps"],
        table["rest_nps"],
        table["p_adjusted"],
        min_group=min_group,
        what="NPS",
    )
    return (
        table.drop(columns=["p_value", "rest_nps"])
        .sort_values("responses", ascending=False)
        .reset_index(drop=True)
    )


def dimension_columns(responses: pd.DataFrame) -> list[str]:
    """The ``dim_*`` score columns present."""
    return [c for c in responses.columns if c.startswith(DIMENSION_PREFIX)]


def dimension_label(column: str) -> str:
    """``dim_delivery_speed`` → ``delivery speed``."""
    return column.removeprefix(DIMENSION_PREFIX).replace("_", " ")


def dimension_scores(responses: pd.DataFrame) -> pd.DataFrame:
    """Mean score and share satisfied (4–5) per dimension: ``dimension, responses, mean,
    satisfied``."""
    rows = []
    for column in dimension_columns(responses):
        values = pd.to_numeric(responses[column], errors="coerce").dropna()
        rows.append(
            {
                "dimension": column,
                "responses": len(values),
                "mean": float(values.mean()) if len(values) else np.nan,
                "satisfied": float((values >= 4).mean()) if len(values) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "responses", "mean", "satisfied"])


@dataclass(frozen=True)
class DriverWeights:
    """Relative weights of the dimensions for one outcome.

    ``table``: ``dimension, correlation, raw_weight, weight`` (raw weights sum to R²;
    ``weight`` is the share of R², summing to 1); largest first.
    """

    outcome: str
    table: pd.DataFrame
    r_squared: float
    n: int

    @property
    def top(self) -> str | None:
        return None if self.table.empty else str(self.table["dimension"].iloc[0])


def relative_weights(
    responses: pd.DataFrame, *, outcome: str, dimensions: list[str] | None = None
) -> DriverWeights:
    """Johnson's relative weights (Johnson 2000, *Multivariate Behavioral Research* 35(1)).

    The predictors are replaced by their closest orthogonal counterparts Z (R = VΛV′,
    Λ* = VΛ^½V′); the outcome is regressed on Z (β = Λ*⁻¹ r_xy), and each predictor's raw
    weight is Σ_k Λ*_jk² β_k². Raw weights are non-negative and sum to the model's R², so
    correlated drivers share credit instead of one taking it all, as in OLS coefficients.
    With uncorrelated predictors the raw weights are the squared correlations.

    Raises
    ------
    ParameterError
        Fewer complete responses than three per dimension, or a dimension without variance.
    """
    dimensions = dimensions or dimension_columns(responses)
    require_columns(responses, [outcome, *dimensions], "surveys", "relative_weights")
    data = responses[[outcome, *dimensions]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(data) < max(3 * len(dimensions), 10):
        raise ParameterError(
            f"relative_weights needs at least {max(3 * len(dimensions), 10)} complete "
            f"responses for {len(dimensions)} dimensions; got {len(data)}."
        )
    flat = [c for c in data.columns if data[c].std() == 0]
    if flat:
        raise ParameterError(f"Column(s) {flat} have no variance; drop them from the drivers.")
    correlations = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    r_xx, r_xy = correlations[1:, 1:], correlations[1:, 0]
    eigenvalues, eigenvectors = np.linalg.eigh(r_xx)
    lam = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    beta = np.linalg.solve(lam, r_xy)
    raw = (lam**2) @ (beta**2)
    r_squared = float((beta**2).sum())
    table = pd.DataFrame(
        {
            "dimension": dimensions,
            "correlation": r_xy,
            "raw_weight": raw,
            "weight": raw / r_squared if r_squared > 0 else np.nan,
        }
    ).sort_values("raw_weight", ascending=False, ignore_index=True)
    return DriverWeights(outcome, table, r_squared, len(data))


def importance_performance(weights: DriverWeights, scores: pd.DataFrame) -> pd.DataFrame:
    """Importance (share of R²) against performance (mean score) per dimension, with the
    quadrant each falls in, split at the means of both (Martilla & James 1977).

    Quadrants: *fix first* (important, scoring low), *keep it up* (important, scoring high),
    *low priority* (less important, low), *possible overkill* (less important, high).
    """
    table = weights.table[["dimension", "weight"]].merge(
        scores[["dimension", "mean", "satisfied"]], on="dimension"
    )
    important = table["weight"] >= table["weight"].mean()
    strong = table["mean"] >= table["mean"].mean()
    table["quadrant"] = np.select(
        [important & ~strong, important & strong, ~important & ~strong],
        ["fix first", "keep it up", "low priority"],
        "possible overkill",
    )
    return table.rename(columns={"weight": "importance", "mean": "performance"})


# --- verbatims --------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\d+])\+?\d[\d\s().-]{6,}\d(?!\d)")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
WORD_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Za-z][A-Za-z'-]*")

# Function words and fillers of customer comments; jieba's segmentation keeps them as words.
_CHINESE_STOP_TEXT = """
    的 了 和 是 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 她们 它们 我 你 他 她 它 这 那
    这个 那个 这次 那次 也 还 又 很 太 非常 比较 真的 有点 一下 一直 已经 还是 但是 可是 因为
    所以 如果 虽然 然后 而且 不过 只是 就是 什么 怎么 这么 那么 这样 那样 还有 觉得 感觉 吧 呢
    吗 啊 呀 哦 嗯 在 对 把 被 让 给 从 到 向 为 以 于 用 等 之 其 再 才 会 能 要 想 去 来 说
    有 没 不 上 下 里 中 后 前 时 个 次 天 点 多 少 好 大 小 得 地 之后 之前
一周 第二天 一次"""
CHINESE_STOP_WORDS = frozenset(_CHINESE_STOP_TEXT.split())


@lru_cache(maxsize=1)
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | {"it's", "i'm", "don't", "didn't", "got", "get"}


@lru_cache(maxsize=200_000)
def _chinese_words(run: str) -> tuple[str, ...]:
    """jieba's words of one run of Chinese characters, stop words and single characters
    dropped. Cached: comments repeat phrases ("物流太慢") far more than whole comments."""
    return tuple(w for w in _jieba().lcut(run) if len(w) > 1 and w not in CHINESE_STOP_WORDS)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)  # its "Building prefix dict" messages would reach the report
    return jieba


def mask_pii(comments: pd.Series) -> pd.Series:
    """Comments with email addresses replaced by ``[email]`` and phone numbers (7 or more
    digits, with spaces, dots, dashes, brackets or a leading +) by ``[phone]``."""
    text = comments.astype("string")
    text = text.str.replace(EMAIL, "[email]", regex=True)
    return text.str.replace(PHONE, "[phone]", regex=True)


def tokenize(text: str) -> list[str]:
    """Words of a comment, for theme extraction: Chinese runs segmented by jieba (Sun 2012),
    Latin words lower-cased; stop words of both languages, single characters, numbers and
    the ``[email]``/``[phone]`` masks removed."""
    english = _english_stop_words()
    words: list[str] = []
    for match in WORD_RUN.finditer(text):
        chunk = match.group()
        if CJK.fullmatch(chunk):
            words += _chinese_words(chunk)
        else:
            word = chunk.lower().strip("'-")
            if len(word) > 2 and word not in english and word not in {"email", "phone"}:
                words.append(word)
    return words


THEME_COLUMNS = ["group", "keyword", "keywords", "score", "mentions", "examples"]


def themes(
    comments: pd.Series,
    groups: pd.Series,
    *,
    top: int = 8,
    min_mentions: int = 3,
    examples: int = 3,
    together: float = 0.5,
) -> pd.DataFrame:
    """Themes that set each group's comments apart (e.g. promoters vs detractors).

    Each comment is a document: TF-IDF (sklearn's smooth idf, l2-normalised rows) over the
    words of :func:`tokenize`. A keyword's score in a group is its mean TF-IDF in the group's
    comments minus its mean in all other comments. Keywords with at least ``min_mentions``
    mentions in the group are taken best first; one that is mostly said in the same comments
    as a theme's leading keyword (weighted Jaccard of the group's comments holding each,
    at least ``together``) joins that theme — "expensive", "compared", "shops" from one
    complaint are one theme, not three. The first ``top`` themes are kept, each with a few
    example comments holding its leading keyword, no two nearly the same. Comments are
    masked by :func:`mask_pii` first; identical comments are tokenised once.

    Returns
    -------
    pandas.DataFrame
        ``group, keyword`` (the leading one), ``keywords`` (list, leading first), ``score``
        (the leading keyword's), ``mentions`` (the group's comments holding any of the
        keywords), ``examples`` (list of comments).
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    columns = THEME_COLUMNS
    text = mask_pii(comments)
    keep = text.notna() & (text.str.strip() != "") & groups.notna()
    text, groups = text[keep], groups[keep].astype(str)
    if text.empty:
        return pd.DataFrame(columns=columns)
    codes, unique_text = pd.factorize(text)
    vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None)
    try:
        counts = vectorizer.fit_transform(list(unique_text))
    except ValueError:  # no words at all
        return pd.DataFrame(columns=columns)
    terms = vectorizer.get_feature_names_out()
    n_docs = len(text)
    # documents per unique comment, overall and per group
    multiplicity = np.bincount(codes, minlength=len(unique_text))
    present = (counts > 0).astype(np.float64).tocsc()
    document_frequency = np.asarray(present.T @ multiplicity).ravel()
    idf = np.log((1 + n_docs) / (1 + document_frequency)) + 1
    tfidf = counts.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
    tfidf = sparse.diags(1 / np.where(norms > 0, norms, 1)) @ tfidf
    rows = []
    group_values = groups.to_numpy()
    for group in sorted(pd.unique(group_values)):
        inside = np.bincount(codes[group_values == group], minlength=len(unique_text))
        outside = multiplicity - inside
        n_in, n_out = inside.sum(), outside.sum()
        mean_in = np.asarray(tfidf.T @ inside).ravel() / max(n_in, 1)
        mean_out = np.asarray(tfidf.T @ outside).ravel() / max(n_out, 1)
        mentions = np.asarray(present.T @ inside).ravel()
        score = mean_in - mean_out
        order = [k for k in np.argsort(-score) if mentions[k] >= min_mentions and score[k] > 0]
        order = order[: top * 5]  # a theme's words rank close together; this bounds the work
        found_themes: list[dict] = []
        for k in order:
            comments_k = present.indices[present.indptr[k] : present.indptr[k + 1]]
            comments_k = comments_k[inside[comments_k] > 0]  # the group's comments holding k
            weight_k = inside[comments_k].sum()
            for theme in found_themes:
                both = inside[comments_k[theme["lead_holds"][comments_k]]].sum()
                if both >= together * (weight_k + theme["lead_weight"] - both):
                    theme["keywords"].append(terms[k])
                    theme["any_holds"][comments_k] = True
                    break
            else:
                if len(found_themes) == top:
                    continue
                holds = np.zeros(len(unique_text), dtype=bool)
                holds[comments_k] = True
                found_themes.append(
                    {
                        "lead": k,
                        "keywords": [terms[k]],
                        "lead_comments": comments_k,
                        "lead_weight": weight_k,
                        "lead_holds": holds,
                        "any_holds": holds.copy(),
                    }
                )
        for theme in found_themes:
            rows.append(
                {
                    "group": group,
                    "keyword": terms[theme["lead"]],
                    "keywords": theme["keywords"],
                    "score": float(score[theme["lead"]]),
                    "mentions": int(inside[theme["any_holds"]].sum()),
                    "examples": _distinct_examples(unique_text, theme["lead_comments"], examples),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _distinct_examples(unique_text, candidates: np.ndarray, wanted: int) -> list[str]:
    """Up to ``wanted`` comments from the first few hundred ``candidates``, skipping any
    whose words mostly repeat an example already chosen (a template with a name or a mask
    added)."""
    chosen: list[str] = []
    chosen_words: list[set[str]] = []
    for i in candidates[:300]:
        comment = str(unique_text[i])
        words = set(tokenize(comment))
        if any(
            len(words & other) >= 0.8 * max(1, min(len(words), len(other)))
            for other in chosen_words
        ):
            continue
        chosen.append(comment)
        chosen_words.append(words)
        if len(chosen) == wanted:
            break
    return chosen


# --- loyalty ----------------------------------------------------------------------------


def nps_group(scores: pd.Series) -> pd.Series:
    """``promoter`` (9–10), ``passive`` (7–8), ``detractor`` (0–6), or missing."""
    values = pd.to_numeric(scores, errors="coerce")
    group = pd.Series(pd.NA, index=scores.index, dtype="string")
    group[values >= 9] = "promoter"
    group[(values >= 7) & (values <= 8)] = "passive"
    group[values <= 6] = "detractor"
    return group


def loyalty(
    responses: pd.DataFrame, transactions: pd.DataFrame, *, as_of: date | str | pd.Timestamp
) -> pd.DataFrame:
    """One row per responding customer (their latest response): satisfaction, willingness
    to recommend, repeat purchasing, and a loyalty score.

    ``repeat`` is True for a customer with two or more orders by ``as_of``. The **loyalty
    score** (0–100) is the mean of three parts, each scaled to 0–1: CSAT (score − 1) / 4,
    likelihood to recommend nps / 10, and repeat (1 or 0); parts a customer lacks are left
    out of the mean.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, nps_group, csat, nps, orders, repeat, loyalty_score``.
    """
    require_columns(transactions, ["customer_id", "order_date"], "transactions", "loyalty")
    last = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    latest = responses.sort_values("responded_at").drop_duplicates("customer_id", keep="last")
    orders = transactions.loc[transactions["order_date"] < last, "customer_id"].value_counts()
    table = pd.DataFrame({"customer_id": latest["customer_id"].to_numpy()})
    table["nps_group"] = nps_group(latest["nps"]).to_numpy() if "nps" in latest else pd.NA
    for column in ("csat", "nps"):
        table[column] = (
            pd.to_numeric(latest[column], errors="coerce").to_numpy()
            if column in latest
            else np.nan
        )
    table["orders"] = table["customer_id"].map(orders).fillna(0).astype(int)
    table["repeat"] = table["orders"] >= 2
    parts = pd.DataFrame(
        {
            "csat": (table["csat"] - 1) / 4,
            "nps": table["nps"] / 10,
            "repeat": table["repeat"].astype(float),
        }
    )
    table["loyalty_score"] = 100 * parts.mean(axis=1, skipna=True)
    return table


def repeat_rate(loyalty_table: pd.DataFrame) -> float:
    """Share of responding customers with two or more orders."""
    return float(loyalty_table["repeat"].mean()) if len(loyalty_table) else float("nan")


def spend_after(
    responses: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: date | str | pd.Timestamp,
    days: int = 90,
    lookback_days: int = 365,
) -> pd.DataFrame:
    """Actual spend in the ``days`` after a response, by NPS group.

    Uses the responses of the ``lookback_days`` before ``as_of − days`` (so every one has its
    full follow-up), and sums each respondent's orders dated after the response and within
    ``days``. Promoters are compared with detractors by a Mann–Whitney test.

    Returns
    -------
    pandas.DataFrame
        One row per NPS group: ``nps_group, responses, buying_share, mean_spend,
        median_spend``; ``attrs["p_value"]`` holds the promoter–detractor test.
    """
    last_response = pd.Timestamp(as_of).normalize() - pd.Timedelta(days=days)
    first_response = last_response - pd.Timedelta(days=lookback_days)
    window = responses.loc[
        (responses["responded_at"] >= first_response)
        & (responses["responded_at"] < last_response + pd.Timedelta(days=1))
        & responses["nps"].notna()
    ]
    columns = ["nps_group", "responses", "buying_share", "mean_spend", "median_spend"]
    if window.empty:
        table = pd.DataFrame(columns=columns)
        table.attrs["p_value"] = float("nan")
        return table
    orders = transactions[["customer_id", "order_date", "amount"]]
    joined = window[["response_id", "customer_id", "responded_at", "nps"]].merge(
        orders, on="customer_id", how="left"
    )
    within = (joined["order_date"] > joined["responded_at"]) & (
        joined["order_date"] <= joined["responded_at"] + pd.Timedelta(days=days)
    )
    spend = joined["amount"].where(within, 0.0).groupby(joined["response_id"]).sum()
    frame = window.assign(
        spend=window["response_id"].map(spend).fillna(0.0).to_numpy(),
        nps_group=nps_group(window["nps"]).to_numpy(),
    )
    table = (
        frame.groupby("nps_group")["spend"]
        .agg(
            responses="size",
            buying_share=lambda s: (s > 0).mean(),
            mean_spend="mean",
            median_spend="median",
        )
        .reindex(["promoter", "passive", "detractor"])
        .dropna(how="all")
        .rename_axis("nps_group")
        .reset_index()
    )
    promoters = frame.loc[frame["nps_group"] == "promoter", "spend"]
    detractors = frame.loc[frame["nps_group"] == "detractor", "spend"]
    p_value = float("nan")
    if len(promoters) and len(detractors):
        p_value = float(stats.mannwhitneyu(promoters, detractors).pvalue)
    table.attrs["p_value"] = p_value
    return table


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class SatisfactionAnalysis:
    """Everything the satisfaction report shows, for one unit and period."""

    n_responses: int
    nps: NPS
    previous_nps: NPS
    nps_change: Change
    csat: CSAT
    previous_csat: CSAT
    csat_change: Change
    nps_distribution: pd.DataFrame
    csat_distribution: pd.DataFrame
    trend: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]
    dimensions: pd.DataFrame
    nps_drivers: DriverWeights | None
    csat_drivers: DriverWeights | None
    quadrants: pd.DataFrame | None
    themes: pd.DataFrame
    loyalty: pd.DataFrame | None
    spend_after: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)


def analyse(
    surveys: pd.DataFrame,
    *,
    period_start: date | str,
    period_end: date | str,
    previous_start: date | str,
    previous_end: date | str,
    customers: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    breakdown_columns: list[str] | tuple[str, ...] = ("region", "segment", "touchpoint"),
    min_group: int = 30,
) -> SatisfactionAnalysis:
    """The whole satisfaction report for one period against the previous one.

    Breakdown columns are looked up on the responses, then on the customers (``region``,
    ``city``, ...); ``segment`` is the customer's RFM segment at the period end (needs
    transactions). Columns found nowhere are skipped with a note.
    """
    require_columns(surveys, ["response_id", "customer_id", "responded_at"], "surveys", "analyse")
    notes: list[str] = []
    end = pd.Timestamp(period_end).normalize() + pd.Timedelta(days=1)
    previous_last = pd.Timestamp(previous_end).normalize() + pd.Timedelta(days=1)
    when = surveys["responded_at"]
    current = surveys.loc[(when >= pd.Timestamp(period_start)) & (when < end)]
    previous = surveys.loc[(when >= pd.Timestamp(previous_start)) & (when < previous_last)]
    has_nps, has_csat = "nps" in surveys, "csat" in surveys
    empty = pd.Series(dtype=float)
    score_now = nps(current["nps"] if has_nps else empty)
    score_before = nps(previous["nps"] if has_nps else empty)
    share_now = csat(current["csat"] if has_csat else empty)
    share_before = csat(previous["csat"] if has_csat else empty)
    if not has_nps:
        notes.append("NPS sections skipped: surveys carry no nps column.")
    if not has_csat:
        notes.append("CSAT sections skipped: surveys carry no csat column.")
    enriched = _with_customer_columns(current, customers, transactions, period_end)
    breakdowns = {}
    for column in breakdown_columns:
        if column in enriched.columns and enriched[column].notna().any():
            breakdowns[column] = breakdown(enriched, by=column, min_group=min_group)
        else:
            notes.append(f"Breakdown by {column} skipped: no {column} for the respondents.")
    dimensions = dimension_scores(current)
    nps_drivers = csat_drivers = quadrants = None
    if len(dimensions):
        try:
            if has_nps:
                nps_drivers = relative_weights(current, outcome="nps")
                quadrants = importance_performance(nps_drivers, dimensions)
            if has_csat:
                csat_drivers = relative_weights(current, outcome="csat")
        except ParameterError as exc:
            notes.append(f"Key-driver analysis skipped: {exc}")
    else:
        notes.append("Dimension scores and key drivers skipped: surveys carry no dim_* columns.")
    found_themes = pd.DataFrame(columns=THEME_COLUMNS)
    if "comment" in current and has_nps:
        found_themes = themes(current["comment"], nps_group(current["nps"]))
    loyal = spent = None
    if transactions is not None and not current.empty:
        loyal = loyalty(current, transactions, as_of=period_end)
        if has_nps:
            spent = spend_after(surveys, transactions, as_of=period_end)
    return SatisfactionAnalysis(
        n_responses=len(current),
        nps=score_now,
        previous_nps=score_before,
        nps_change=nps_change(score_now, score_before),
        csat=share_now,
        previous_csat=share_before,
        csat_change=csat_change(share_now, share_before),
        nps_distribution=distribution(current["nps"], values=range(11))
        if has_nps
        else pd.DataFrame(),
        csat_distribution=distribution(current["csat"], values=range(1, 6))
        if has_csat
        else pd.DataFrame(),
        trend=monthly(surveys, as_of=period_end),
        breakdowns=breakdowns,
        dimensions=dimensions,
        nps_drivers=nps_drivers,
        csat_drivers=csat_drivers,
        quadrants=quadrants,
        themes=found_themes,
        loyalty=loyal,
        spend_after=spent,
        notes=notes,
    )


def _with_customer_columns(
    responses: pd.DataFrame,
    customers: pd.DataFrame | None,
    transactions: pd.DataFrame | None,
    period_end: date | str,
) -> pd.DataFrame:
    enriched = responses
    if customers is not None:
        extra = [c for c in customers.columns if c not in responses.columns and c != "signup_date"]
        enriched = enriched.merge(customers[["customer_id", *extra]], on="customer_id", how="left")
    if transactions is not None and "segment" not in enriched.columns and len(transactions):
        from crmkit.metrics.segmentation import rfm, rfm_scores

        scores = rfm_scores(rfm(transactions, as_of=period_end))
        segments = scores.set_index("customer_id")["segment"]
        enriched = enriched.assign(segment=enriched["customer_id"].map(segments))
    return enriched


def change_sentence(name: str, change: Change, *, points: bool) -> str:
    """``NPS fell 12.0 points (95% interval …; p = …): a significant change`` or ``no
    significant change``."""
    if not np.isfinite(change.delta):
        return f"{name}: no previous period to compare with."
    scale, unit = (1, " points") if points else (100, " points")
    verdict = "a significant change" if change.significant else "no significant change"
    direction = "rose" if change.delta > 0 else "fell" if change.delta < 0 else "held"
    return (
        f"{name} {direction} {abs(change.delta) * scale:.1f}{unit} on the previous period "
        f"(95% interval {change.low * scale:+.1f} to {change.high * scale:+.1f}; "
        f"{p_text(change.p_value)}): {verdict}."
    )


def key_findings(analysis: SatisfactionAnalysis) -> list[str]:
    """The sentences at the top of the satisfaction report, each with its number."""
    from crmkit.present.format import pct

    found = []
    s = analysis.nps
    if s.n:
        found.append(
            f"NPS {s.score:.0f} (95% interval {s.low:.0f} to {s.high:.0f}) from {s.n:,} "
            f"responses: {pct(s.share('promoters'))} promoters, {pct(s.share('passives'))} "
            f"passives, {pct(s.share('detractors'))} detractors."
        )
        found.append(change_sentence("NPS", analysis.nps_change, points=True))
    c = analysis.csat
    if c.n:
        found.append(
            f"CSAT {pct(c.value)} scored 4 or 5 (95% interval {pct(c.low)}–{pct(c.high)}; "
            f"mean {c.mean:.2f} of 5)."
        )
        found.append(change_sentence("CSAT", analysis.csat_change, points=False))
    if analysis.nps_drivers is not None:
        top = analysis.nps_drivers.table.iloc[0]
        found.append(
            f"The strongest driver of NPS is {dimension_label(top['dimension'])}: "
            f"{pct(top['weight'])} of the explained variance (relative weights; the dimensions "
            f"explain R² = {analysis.nps_drivers.r_squared:.2f})."
        )
    if analysis.quadrants is not None:
        fix = analysis.quadrants.loc[analysis.quadrants["quadrant"] == "fix first"]
        if len(fix):
            names = ", ".join(dimension_label(d) for d in fix["dimension"])
            found.append(f"Fix first (important, scoring below the others): {names}.")
    detractor = analysis.themes.loc[analysis.themes["group"] == "detractor", "keywords"]
    if len(detractor):
        labels = "; ".join(theme_label(words) for words in detractor.head(3))
        found.append(f"What sets detractors' comments apart: {labels}.")
    if analysis.loyalty is not None:
        found.append(
            f"{pct(repeat_rate(analysis.loyalty))} of responding customers have bought more "
            f"than once; mean loyalty score {analysis.loyalty['loyalty_score'].mean():.0f} of 100."
        )
    found += analysis.notes
    return found


def results(analysis: SatisfactionAnalysis) -> dict:
    """The satisfaction report's key results for ``<notebook>.json`` (keys of issue #5)."""
    s, c = analysis.nps, analysis.csat
    drivers = analysis.nps_drivers
    return {
        "n_responses": analysis.n_responses,
        "nps": s.score,
        "nps_ci": [s.low, s.high],
        "promoters": s.share("promoters"),
        "passives": s.share("passives"),
        "detractors": s.share("detractors"),
        "csat": c.value,
        "csat_ci": [c.low, c.high],
        "csat_mean": c.mean,
        "nps_change": analysis.nps_change.as_dict(),
        "csat_change": analysis.csat_change.as_dict(),
        "top_driver": drivers.top if drivers else None,
        "driver_weights": (
            dict(zip(drivers.table["dimension"], drivers.table["weight"], strict=True))
            if drivers
            else {}
        ),
        "driver_r_squared": drivers.r_squared if drivers else None,
        "detractor_themes": theme_keywords(analysis.themes, "detractor"),
        "promoter_themes": theme_keywords(analysis.themes, "promoter"),
        "repeat_rate": repeat_rate(analysis.loyalty) if analysis.loyalty is not None else None,
    }


def theme_keywords(found: pd.DataFrame, group: str) -> list[str]:
    """A group's theme keywords as one list: best theme first, its leading keyword first."""
    return [word for words in found.loc[found["group"] == group, "keywords"] for word in words]


def theme_label(keywords: list[str], most: int = 3) -> str:
    """``['expensive', 'compared', 'shops', 'price']`` → ``'expensive · compared · shops'``."""
    return " · ".join(keywords[:most])


def themes_view(analysis: SatisfactionAnalysis, group: str) -> pd.DataFrame:
    """One group's themes for reading: its keywords, mentions, two example comments."""
    rows = analysis.themes.loc[analysis.themes["group"] == group]
    return pd.DataFrame(
        {
            "theme": [theme_label(words, most=4) for words in rows["keywords"]],
            "mentions": rows["mentions"],
            "example_comments": [" · ".join(f"“{c}”" for c in e[:2]) for e in rows["examples"]],
        }
    ).reset_index(drop=True)


def drivers_view(analysis: SatisfactionAnalysis) -> pd.DataFrame:
    """NPS and CSAT relative weights side by side, with the dimension scores."""
    table = analysis.dimensions.copy()
    for name, drivers in (("nps", analysis.nps_drivers), ("csat", analysis.csat_drivers)):
        if drivers is not None:
            weights = drivers.table.set_index("dimension")["weight"]
            table[f"{name}_weight"] = table["dimension"].map(weights)
    if analysis.quadrants is not None:
        table["quadrant"] = table["dimension"].map(
            analysis.quadrants.set_index("dimension")["quadrant"]
        )
    table["dimension"] = table["dimension"].map(dimension_label)
    return table


def spend_sentence(analysis: SatisfactionAnalysis, *, currency: str = "") -> str:
    """Promoters against detractors in what they actually spent afterwards."""
    from crmkit.present.format import money

    table = analysis.spend_after
    if table is None or table.empty:
        return "Spend after responding: not enough history before the period end."
    by_group = table.set_index("nps_group")
    if not {"promoter", "detractor"} <= set(by_group.index):
        return "Spend after responding: promoters or detractors are missing."
    p, d = by_group.loc["promoter"], by_group.loc["detractor"]
    verdict = (
        "a significant difference" if table.attrs["p_value"] < 0.05 else "no significant difference"
    )
    return (
        f"In the 90 days after responding, promoters spent a median of "
        f"{money(p['median_spend'], currency)} and detractors "
        f"{money(d['median_spend'], currency)} ({p_text(table.attrs['p_value'])}, "
        f"Mann–Whitney): {verdict}."
    )

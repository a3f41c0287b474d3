"""Themes in free text (survey comments, churn reasons), Chinese and English: personal data
masked, words found (jieba for Chinese), and the keywords that set one group's texts apart
from the others', grouped into themes with example texts.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from crmkit.core.privacy import mask_contacts

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
WORD_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Za-z][A-Za-z'-]*")

# Function words and fillers of customer comments; jieba's segmentation keeps them as words.
_CHINESE_STOP_TEXT = """
    的 了 和 是 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 她们 它们 我 你 他 她 它 这 那
    这个 那个 这次 那次 也 还 又 很 太 非常 比较 真的 有点 一下 一直 已经 还是 但是 可是 因为
    所以 如果 虽然 然后 而且 不过 只是 就是 什么 怎么 这么 那么 这样 那样 还有 觉得 感觉 吧 呢
    吗 啊 呀 哦 嗯 在 对 把 被 让 给 从 到 向 为 以 于 用 等 之 其 再 才 会 能 要 想 去 来 说
    有 没 不 上 下 里 中 后 前 时 个 次 天 点 多 少 好 大 小 得 地 之后 之前
    起来 东西 一点 一些 有些 这些 那些 每次 终于 总是 居然 竟然 结果 现在 以后 以前
    一个 两个 三个 几个 好几个 几次 好几次 一周 两周 星期 礼拜 一个月 两个月 一个多月
    一天 两天 三天 几天 当天 今天 昨天 明天 第二天 第三天 时候 时间 一次 两次 三次"""
CHINESE_STOP_WORDS = frozenset(_CHINESE_STOP_TEXT.split())
"""Chinese words that never make a theme: function words, fillers, and measure and time words
(两个, 星期, 三天), which say how long or how often, never what about."""

_ENGLISH_FILLER_TEXT = """
    it's i'm don't didn't doesn't won't can't got get gets getting went go goes going gone
    come came make made say said want wanted really thing things stuff lot lots bit way worth
    day days week weeks month months year years time times today yesterday"""
ENGLISH_FILLERS = frozenset(_ENGLISH_FILLER_TEXT.split())
"""English fillers and time words added to scikit-learn's stop words for the same reason."""


@lru_cache(maxsize=1)
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | ENGLISH_FILLERS


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
    digits, with spaces, dots, dashes, brackets or a leading +) by ``[phone]``
    (:func:`crmkit.core.privacy.mask_contacts`)."""
    return comments.astype("string").map(mask_contacts, na_action="ignore").astype("string")


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


THEME_COLUMNS = ["group", "keyword", "keywords", "score", "lift", "mentions", "examples"]

MIN_MENTIONS = 5
"""Fewest of a group's comments that must mention a theme for it to be shown."""
MIN_LIFT = 2.0
"""Least lift (see :func:`lift`) a theme's words need over the other groups' comments."""


def lift(inside: np.ndarray, n_inside: int, outside: np.ndarray, n_outside: int) -> np.ndarray:
    """How many times as common a word is in a group's comments as in the others':
    ``(inside + 1) / (n_inside + 2)`` over ``(outside + 1) / (n_outside + 2)``, where
    ``inside`` and ``outside`` count the comments holding the word. The add-one (Laplace)
    smoothing keeps the lift of a word the others never use finite, and small for a word
    said in only a few comments.

    Examples
    --------
    >>> lift(np.array([8, 3]), 18, np.array([0, 9]), 38).round(2).tolist()
    [18.0, 0.8]
    """
    share_in = (np.asarray(inside, dtype=float) + 1) / (n_inside + 2)
    share_out = (np.asarray(outside, dtype=float) + 1) / (n_outside + 2)
    return share_in / share_out


def themes(
    comments: pd.Series,
    groups: pd.Series,
    *,
    top: int = 8,
    min_mentions: int = MIN_MENTIONS,
    min_lift: float = MIN_LIFT,
    examples: int = 3,
    together: float = 0.5,
) -> pd.DataFrame:
    """Themes that set each group's comments apart (e.g. promoters vs detractors), strong
    enough to show.

    Each comment is a document: TF-IDF (sklearn's smooth idf, l2-normalised rows) over the
    words of :func:`tokenize` (stop words, fillers and time words of both languages left
    out, so no theme is made of them). A keyword's score in a group is its mean TF-IDF in
    the group's comments minus its mean in all other comments.

    **Theme strength.** A word can make or join a theme only when it is distinctive and
    recurring: at least ``min_mentions`` of the group's comments hold it, its score is
    positive, and its :func:`lift` over the other comments is at least ``min_lift``. Words
    said in all groups alike ("product", "delivery" when praised and blamed alike) and
    words of a handful of comments are thus never shown as a theme.

    Keywords are taken best score first; one that is mostly said in the same comments as a
    theme's leading keyword (weighted Jaccard of the group's comments holding each, at
    least ``together``) joins that theme — "expensive", "compared", "shops" from one
    complaint are one theme, not three. The first ``top`` themes are kept, each with a few
    example comments holding its leading keyword, no two nearly the same. Comments are
    masked by :func:`mask_pii` first; identical comments are tokenised once.

    Returns
    -------
    pandas.DataFrame
        One row per theme: ``group, keyword`` (the leading one), ``keywords`` (list, leading
        first), ``score`` and ``lift`` (the leading keyword's), ``mentions`` (the group's
        comments holding any of the keywords), ``examples`` (list of comments).
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
        lifts = lift(mentions, n_in, document_frequency - mentions, n_out)
        score = mean_in - mean_out
        strong = (mentions >= min_mentions) & (score > 0) & (lifts >= min_lift)
        order = [k for k in np.argsort(-score) if strong[k]]
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
                    "lift": float(lifts[theme["lead"]]),
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

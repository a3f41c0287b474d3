"""Comment themes: PII masked, word-level Chinese, words said together make one theme."""

import pandas as pd

from crmkit.metrics import themes as th
from crmkit.topics.satisfaction import theme_keywords


def test_pii_in_comments_is_masked():
    comments = pd.Series(
        [
            "Call me on +1 (415) 555-0134 or mail jane.doe@example.co.uk please",
            "请联系我13900000115，谢谢",
            "Delivered in 2 days, paid 199.",
            None,
        ]
    )
    masked = th.mask_pii(comments)
    assert masked[0] == "Call me on [phone] or mail [email] please"
    assert masked[1] == "请联系我[phone]，谢谢"
    assert masked[2] == "Delivered in 2 days, paid 199."
    assert pd.isna(masked[3])


def test_chinese_comments_give_word_level_themes():
    comments = pd.Series(
        [
            "物流太慢了，等了两个星期才到货。",
            "发货延迟，快递速度太慢。",
            "物流太慢，客服也不回复。",
            "快递太慢了，包装还破了。",
            "产品质量很好，用起来很放心。",
            "做工精细，质量过硬。",
            "质量很好，价格实惠。",
            "客服态度很好，质量也好。",
        ]
    )
    groups = pd.Series(["detractor"] * 4 + ["promoter"] * 4)
    found = th.themes(comments, groups, min_mentions=2)
    detractor = theme_keywords(found, "detractor")
    promoter = theme_keywords(found, "promoter")
    # 物流 and 快递 are each said in 2 of the 4 comments saying 太慢 (Jaccard 0.5): one theme
    first = found.iloc[0]
    assert first["keyword"] == "太慢" and set(first["keywords"]) == {"太慢", "物流", "快递"}
    assert first["mentions"] == 4
    assert promoter[0] == "质量"
    assert all(len(word) > 1 for word in detractor + promoter)  # words, never characters
    assert not {"了", "的", "很", "也"} & set(detractor + promoter)
    assert first["examples"][0] == "物流太慢了，等了两个星期才到货。"


def test_words_said_together_make_one_theme_with_distinct_examples():
    complaint = "Too expensive compared with other shops"
    comments = pd.Series(
        [
            f"{complaint}.",
            f"{complaint}. Contact me at a@b.com",
            f"{complaint}, sadly",
            "Parcel arrived broken",
            "Parcel arrived broken again",
            "Parcel broken, expensive too",
            "Lovely staff",
            "Lovely staff, great",
            "Great service",
        ]
    )
    groups = pd.Series(["detractor"] * 6 + ["promoter"] * 3)
    found = th.themes(comments, groups, min_mentions=2)

    def theme_with(word: str) -> pd.Series:
        return found.loc[found["keywords"].map(lambda words: word in words)].iloc[0]

    # expensive: comments 1,2,3,6; compared, shops: 1,2,3 (Jaccard 3/4); parcel: 4,5,6 (1/6)
    pricey, parcel = theme_with("shops"), theme_with("parcel")
    assert set(pricey["keywords"]) == {"expensive", "compared", "shops"}
    assert set(parcel["keywords"]) == {"parcel", "broken", "arrived"}
    assert (pricey["mentions"], parcel["mentions"]) == (4, 3)
    assert (found["group"] == "detractor").sum() == 2
    # the three versions of the same complaint give one example, not three
    assert sum(example.startswith(complaint) for example in pricey["examples"]) == 1
    # lovely, staff: comments 7, 8; great: 8, 9 (Jaccard 1/3): two themes
    assert set(theme_with("lovely")["keywords"]) == {"lovely", "staff"}
    assert theme_with("great")["keywords"] == ["great"]
    assert theme_with("lovely")["examples"] == ["Lovely staff"]  # "…, great" repeats it


def test_english_themes_drop_stop_words_and_masks():
    comments = pd.Series(
        [
            "Delivery was late again, write to me@example.com",
            "The delivery was late and the parcel was damaged",
            "Late delivery, again",
            "Great quality and it lasts",
            "Great quality, works perfectly",
        ]
    )
    groups = pd.Series(["detractor"] * 3 + ["promoter"] * 2)
    found = th.themes(comments, groups, min_mentions=2)
    detractor = theme_keywords(found, "detractor")
    assert set(detractor) == {"late", "delivery"}  # "again" is an English stop word
    assert len(found.loc[found["group"] == "detractor"]) == 1  # said together: one theme
    assert not found["examples"].explode().str.contains("@").any()
    assert set(theme_keywords(found, "promoter")) == {"great", "quality"}


def test_tokenize_drops_stop_words_masks_numbers_and_single_characters():
    # "the", "was", "or", "call", "on" are stop words; the masks and digits are not words
    assert th.tokenize("The parcel was late, mail [email] or call [phone] on 13900000115") == [
        "parcel",
        "late",
        "mail",
    ]
    # jieba's words; 了, 也, 不 are stop words; "OK" is too short
    assert th.tokenize("物流太慢了，客服也不回复。OK") == ["物流", "太慢", "客服", "回复"]

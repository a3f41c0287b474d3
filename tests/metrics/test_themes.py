"""Comment themes: PII masked, word-level Chinese, words said together make one theme, and
only themes of a documented strength shown."""

import numpy as np
import pandas as pd
import pytest

from crmkit.metrics import themes as th
from crmkit.topics.satisfaction import theme_keywords


def test_pii_in_comments_is_masked():
    comments = pd.Series(
        [
            "Call me on +1 (415) 555-0134 or mail jane.doe@example.co.uk please",
            "请联系我13900000115，谢谢",
            "Delivered in 2 days, paid 199.",
            None,
            "my number is 5551234, order 123456",  # a local number has seven digits
        ]
    )
    masked = th.mask_pii(comments)
    assert masked[0] == "Call me on [phone] or mail [email] please"
    assert masked[1] == "请联系我[phone]，谢谢"
    assert masked[2] == "Delivered in 2 days, paid 199."
    assert pd.isna(masked[3])
    assert masked[4] == "my number is [phone], order 123456"


def test_contacts_typed_in_full_width_are_masked_and_give_no_theme_words():
    # a Chinese keyboard in full-width mode types －, ＠, ．, （）, ＋ and full-width digits
    comments = pd.Series(
        [
            "物流太慢，请打电话135－0528－3696",
            "回信到 chenjing528＠qq.com",
            "电话 （０２１）６２３４－５６７８ 或 ＋86 135 0528 3696",
            "2026－07－03 下单，12.50元",
        ]
    )
    masked = th.mask_pii(comments)
    assert masked[0] == "物流太慢，请打电话[phone]"
    assert masked[1] == "回信到 [email]"
    assert "６２３４" not in masked[2] and "135" not in masked[2]
    assert masked[3] == "2026－07－03 下单，12.50元"  # a date is not a phone number
    words = {w for text in masked[:3] for w in th.tokenize(text)}
    assert not words & {"chenjing528", "chenjing", "qq", "com"}


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
    found = th.themes(comments, groups, min_mentions=2, min_lift=1)  # grouping, not strength

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


def test_lift_is_laplace_smoothed_share_over_share():
    # 8 of 18 comments against 0 of 38: (9/20) / (1/40) = 18; 3 of 18 vs 9 of 38: 0.8
    assert th.lift(np.array([8, 3]), 18, np.array([0, 9]), 38) == pytest.approx([18.0, 0.8])


def test_only_themes_of_the_documented_strength_are_shown():
    """Detractors: a real complaint (rude staff, 8 of 20 comments, never said by promoters);
    a word both groups use alike (parcel, 6 and 6: lift 1); a word of three comments (broken:
    under the 5 mentions); fillers and time words (went, worth, 两个, 星期: stop words)."""
    detractors = (
        ["Rude staff at the desk"] * 8
        + ["The parcel came"] * 6
        + ["Broken hinge"] * 3
        + ["Prices went up, not worth it"]
        + ["等了两个星期", "两个星期才到"]
    )
    promoters = ["The parcel came"] * 6 + ["Lovely"] * 14
    comments = pd.Series(detractors + promoters)
    groups = pd.Series(["detractor"] * 20 + ["promoter"] * 20)
    found = th.themes(comments, groups)
    detractor = found.loc[found["group"] == "detractor"]
    assert len(detractor) == 1 and set(detractor["keywords"].iloc[0]) == {"rude", "staff", "desk"}
    assert detractor["mentions"].tolist() == [8]
    # its lift: (8 + 1) / 22 over (0 + 1) / 22 = 9
    assert detractor["lift"].tolist() == pytest.approx([9.0])
    everything = set(found["keywords"].explode())
    assert not {"parcel", "broken", "went", "worth", "两个", "星期"} & everything
    # the same comments with the strength rule switched off: the noise would be shown
    weak = th.themes(comments, groups, min_mentions=1, min_lift=0)
    assert {"broken", "prices"} <= set(weak["keywords"].explode())
    assert th.tokenize("Prices went up, not worth it; 等了两个星期") == ["prices"]

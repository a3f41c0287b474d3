"""Flags: when a change or a figure is raised, and the ranking rule."""

from __future__ import annotations

import math

import pytest

from crmkit.present.language import language
from crmkit.topics.flags import (
    ALERT,
    CHANGE,
    alert_flag,
    anchor,
    change_flag,
    flags_markdown,
    rank_flags,
)

WORDS = {
    "message": "common.change_up",
    "action": "common.flag_link",
    "section": "common.findings_title",
}


def change(delta, low, high, p, good_when="up", key="k"):
    return change_flag(
        "t", key, delta=delta, low=low, high=high, p_value=p, good_when=good_when,
        values={"size": lambda: "5%"}, **WORDS,
    )  # fmt: skip


def test_a_change_is_flagged_only_when_significant_and_measurable():
    assert change(-10, -15, -5, 0.2) is None
    assert change(float("nan"), -1, 1, 0.001) is None
    assert change(-10, -15, -5, None) is None
    flag = change(-10, -15, -5, 0.001)
    assert flag.kind == CHANGE and flag.bad
    # z = |delta| / se, se from the 95% interval: (high - low) / (2 × 1.96)
    assert flag.strength == pytest.approx(10 / (10 / 3.919928))
    assert flag.message == {"en": "up 5% on the previous period", "zh": "较上期增长 5%"}
    assert flag.section == {"en": "Key findings", "zh": "主要发现"}
    assert not change(10, 5, 15, 0.001).bad
    assert change(10, 5, 15, 0.001, good_when="down").bad  # churn rising is bad news
    with pytest.raises(ValueError, match="good_when"):
        change(1, 0, 2, 0.01, good_when="sideways")


def test_ranking_bad_before_good_changes_before_alerts_stronger_first():
    big_fall = change(-30, -35, -25, 1e-9, key="big_fall")  # z ≈ 11.8
    small_fall = change(-5, -9, -1, 0.02, key="small_fall")  # z ≈ 2.45
    rise = change(40, 35, 45, 1e-12, key="rise")  # strongest, but good news
    alert = alert_flag("t", "alert", excess=3.0, **WORDS)
    weak_alert = alert_flag("t", "weak_alert", excess=0.1, **WORDS)
    ranked = rank_flags([rise, weak_alert, None, small_fall, alert, big_fall])
    assert [f.key for f in ranked] == ["big_fall", "small_fall", "alert", "weak_alert", "rise"]
    assert alert.kind == ALERT and math.isclose(alert.strength, 3.0)
    # the same rule on JSON records (the portfolio ranks a unit's records from all topics)
    records = [f.to_record() for f in (rise, alert, big_fall)]
    assert [r["key"] for r in rank_flags(records)] == ["big_fall", "alert", "rise"]
    assert len(rank_flags([big_fall] * 9)) == 5


def test_flags_block_links_each_flag_to_its_section_in_the_language():
    flag = change(-10, -15, -5, 0.001)
    with language("zh"):
        block = flags_markdown([flag])
    assert block.startswith("## 本期变化与建议")
    assert "较上期增长 5%" in block and "(#%E4%B8%BB%E8%A6%81%E5%8F%91%E7%8E%B0)" in block
    assert "(#Key-findings)" in flags_markdown([flag], "en")
    assert "Nothing changed significantly" in flags_markdown([], "en")
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    for heading in ("Net Promoter Score", "净推荐值", "Can the forecast be trusted?"):
        assert f'id="{anchor(heading)}"' in markdown2html_mistune(f"## {heading}")

"""Reading tables and number formats: what a stakeholder sees in every report's tables."""

import re

import pandas as pd

from crmkit.present.language import language
from crmkit.present.notebook import table


def test_reading_table_formats():
    frame = pd.DataFrame(
        {
            "share_won": [0.1234, None],
            "revenue": [1234567.8, 5.0],
            "ok": [True, False],
            "day": pd.to_datetime(["2026-09-30 10:00", None]),
        }
    )
    styler = table(
        frame, percent=["share_won"], money_columns=["revenue"], dates=["day"], currency="CNY"
    )
    html = styler.to_html()
    for text in ("12.3%", "CN¥1,234,568", "yes", "no", "Sep\u00a030,\u00a02026", "share won", "–"):
        assert text in html
    assert "10:00" not in html
    assert "text-align: left" not in html  # numbers, yes/no and dates stay right-aligned
    with language("zh"):
        html = table(frame, money_columns=["revenue"], dates=["day"], currency="CNY").to_html()
    for text in ("¥1,234,568", "是", "否", "2026年9月30日"):
        assert text in html
    # a count no one declared is still thousands separated (health's 1383 customers)
    assert "1,383" in table(pd.DataFrame({"customers": [1383]})).to_html()
    # medians of counts: whole ones without ".0" (the groups table read "29.0 orders")
    medians = table(
        pd.DataFrame({"orders_to_date": [29.0, 4.5, 1234.0]}), counts=["orders_to_date"]
    )
    cells = re.findall(r">([^<>]+)</td>", medians.to_html())
    assert cells == ["29", "4.5", "1,234"]
    # a change carries its sign
    moved = table(pd.DataFrame({"customers_change": [16, -24, 0]}), changes=["customers_change"])
    assert re.findall(r">([^<>]+)</td>", moved.to_html()) == ["+16", "−24", "0"]
    # a glossary key is shown by its name; a column named by the data by its label
    named = pd.DataFrame({"period_revenue": [1.0], "plan": ["gold"]})
    html = table(named, labels={"plan": "contract plan"}).to_html()
    assert "period revenue" in html and "contract plan" in html


def test_reading_table_aligns_words_left_and_numbers_right():
    frame = pd.DataFrame(
        {
            "owner": ["Blake", "Casey"],
            "interval": ["44–58%", "-2.1 to +3 points"],
            "reached": [223, 103],
            "comment": ["太慢了", None],
        }
    )
    html = table(frame).to_html()
    left = set(re.findall(r"td\.col(\d+) \{\s*text-align: left", html))
    assert left == {"0", "3"}

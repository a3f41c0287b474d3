"""Reading tables and number formats: what a stakeholder sees in every report's tables."""

import re

import pandas as pd

from crmkit.present.format import change, money, pct
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
    html = table(frame, percent=["share_won"], money_columns=["revenue"], dates=["day"]).to_html()
    for text in ("12.3%", "1,234,568", "yes", "no", "2026-09-30", "share won", "–"):
        assert text in html
    assert "10:00" not in html
    assert "text-align: left" not in html  # numbers, yes/no and dates stay right-aligned
    assert pct(0.5) == "50.0%" and money(1234.5, "CNY") == "1,234 CNY"
    assert change(110, 100) == "up 10.0% on the previous period"
    assert change(90, 100) == "down 10.0% on the previous period"
    assert change(5, 0) == "no comparable previous period"


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

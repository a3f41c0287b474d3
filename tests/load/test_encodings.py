"""Text encodings told apart: UTF-8 (BOM or not), UTF-16 with a BOM, GBK/GB18030 and
Windows-1252; an encoding that cannot be told is refused with the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import tiny_tables, write_folder

from crmkit.core.errors import DataError
from crmkit.load.encodings import decode_text
from crmkit.load.unit import load_unit

Q3 = {"period": "2026-Q3", "as_of": "2026-10-15"}
LATIN = ["Montréal", "São Paulo", "Zürich", "Århus – “centre”"]
LATIN_1 = ["Montréal", "São Paulo", "Zürich", "Århus"]
CHINESE = ["华东", "华南，广州", "北京市朝阳区", "男"]
MIXED = ["Montréal", "华南，广州", "Århus – “centre”", "男"]


def folder_with_regions(tmp_path: Path, regions: list[str], encoding: str) -> Path:
    tables = tiny_tables()
    tables["customers"]["region"] = regions
    folder = write_folder(tmp_path / "d", tables)
    tables["customers"].to_csv(folder / "customers.csv", index=False, encoding=encoding)
    return folder


@pytest.mark.parametrize(
    ("regions", "encoding", "label"),
    [
        (LATIN, "cp1252", "Windows-1252 (Latin-1)"),
        (LATIN_1, "latin-1", "Windows-1252 (Latin-1)"),
        (CHINESE, "gbk", "GBK/GB18030"),
        (CHINESE, "gb18030", "GBK/GB18030"),
        (MIXED, "utf-16-le", "UTF-16 LE"),
        (MIXED, "utf-16-be", "UTF-16 BE"),
        (MIXED, "utf-8-sig", "UTF-8 with BOM"),
        (MIXED, "utf-8", "UTF-8"),
    ],
)
def test_encodings_are_told_apart(tmp_path: Path, regions, encoding, label):
    if encoding.startswith("utf-16"):  # as Excel writes "Unicode text": a BOM, then UTF-16
        folder = folder_with_regions(tmp_path, regions, "utf-8")
        text = (folder / "customers.csv").read_text(encoding="utf-8")
        bom = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
        (folder / "customers.csv").write_bytes(bom + text.encode(encoding))
    else:
        folder = folder_with_regions(tmp_path, regions, encoding)
    data = load_unit("alpha", data_source=str(folder), **Q3)
    assert data["customers"]["region"].tolist() == regions[:3]
    assert data.sources["customers"].endswith(f"({label})")


def test_montreal_in_windows_1252_is_not_read_as_gbk():
    text, label = decode_text("city\nMontréal\n".encode("cp1252"), where="c.csv")
    assert (text, label) == ("city\nMontréal\n", "Windows-1252 (Latin-1)")
    # the bytes would decode as GBK, to "Montr閍l": a rare character made of é and an ASCII a
    assert "city\nMontréal\n".encode("cp1252").decode("gb18030") == "city\nMontr閍l\n"


def test_chinese_in_gbk_is_not_read_as_windows_1252():
    data = "region,comment\n华东,产品质量很好，物流很快。\n华南,价格太贵了\n".encode("gbk")
    assert decode_text(data, where="c.csv")[1] == "GBK/GB18030"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("city\nМосква\nСанкт-Петербург\n", "cp1251"), ("city\n東京\n京都、カタカナ\n", "shift_jis")],
)
def test_an_encoding_that_cannot_be_told_is_refused(tmp_path: Path, text, encoding):
    folder = write_folder(tmp_path / "d", tiny_tables())
    (folder / "customers.csv").write_bytes(text.encode(encoding))
    with pytest.raises(
        DataError,
        match=re.escape(
            "customers.csv: the text encoding cannot be told with confidence (it is not UTF-8, "
            "UTF-16, and reads neither as Chinese GBK/GB18030 nor as Western Windows-1252); "
            "open it in Excel and save it as 'CSV UTF-8 (comma delimited)'"
        ),
    ):
        load_unit("alpha", data_source=str(folder), **Q3)


def test_broken_utf16_after_a_bom_is_refused():
    with pytest.raises(DataError, match=r"c\.csv: starts with a UTF-16 LE byte-order mark"):
        decode_text(b"\xff\xfea\x00b", where="c.csv")

"""Sector codes have names in both languages: the page scripts show ``GP.label('sector', code)``."""

from __future__ import annotations

import json

from greenpark.i18n import labels
from greenpark.services.carbon.inventory import SECTOR_LABELS, SECTORS
from greenpark.web.pages import messages_script


def test_every_sector_has_a_chinese_and_an_english_name() -> None:
    zh, en = labels.tables("zh")["sector"], labels.tables("en")["sector"]
    assert set(zh) == set(en) == set(SECTORS)
    assert zh == {"industry": "工业", "transport": "交通", "commercial": "商业", "residential": "居民"}
    assert en == {"industry": "industry", "transport": "transport", "commercial": "commercial",
                  "residential": "residential"}  # fmt: skip
    # the lineage records and the inventory's by-sector table name a sector alike
    assert all(zh[s] == SECTOR_LABELS[s][0] for s in SECTORS)
    assert labels.label(labels.SECTOR, "agriculture", "zh") == "agriculture"  # unknown: the code itself


def test_page_scripts_get_the_sector_table() -> None:
    body = bytes(messages_script("zh").body).decode("utf-8")
    line = next(x for x in body.splitlines() if x.startswith("window.GP_LABELS = "))
    tables = json.loads(line.removeprefix("window.GP_LABELS = ").rstrip(";"))
    assert tables["sector"]["industry"] == "工业"

"""A bureau watches its parks (issue 12 §2), in Chromium: signs in through the login page, opens
the overview from the menu, reads the table and the chart in Chinese and in English, and opens a
park's cockpit from its name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from tests.browser_helpers import DemoServer, demo_server, open_menu, sign_in
from tests.language import problems
from tests.test_browser_pages import READ_TEXT
from tests.test_parks_overview import EMPTY, TEST, add_parks

pytestmark = pytest.mark.browser

#: A park's name is data: shown as text, never as markup.
PAYLOAD = '<img src=x onerror="window.__xss=1" data-xss>'


def _two_more_parks(db: Path) -> None:
    url = f"sqlite:///{db}"
    with session_scope(url) as s:
        add_parks(s)
        empty = s.scalars(select(m.Park).where(m.Park.code == EMPTY)).one()
        empty.name_en += PAYLOAD  # read on the English page
    dispose_engine(url)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("parks"), prepare=_two_more_parks) as srv:
        yield srv


def _read(page: Any, lang: str, shot: Path) -> None:
    page.wait_for_selector("body[data-ready='1']")
    page.screenshot(path=str(shot), full_page=True)
    found = problems(lang, page.evaluate(READ_TEXT))
    assert not found, f"{len(found)} texts in the wrong language ({lang}):\n" + "\n".join(found)
    assert page.evaluate("window.__xss") is None
    assert page.locator("[data-xss]").count() == 0
    assert page.locator("#parks-table tbody tr[data-park]").count() == 3
    chart = page.evaluate("GP.charts['chart-parks'].getOption()")
    assert len(chart["yAxis"][0]["data"]) == 2  # the parks with an intensity or a target
    assert page.locator("#chart-parks canvas").count() == 1


def test_a_bureau_reads_every_park_and_opens_one(site: DemoServer, page: Any, tmp_path: Path) -> None:
    sign_in(page, site, "bureau")
    open_menu(page, "管理", "园区总览")
    assert page.url.endswith("/parks")
    _read(page, "zh", tmp_path / "parks-zh.png")
    demo = page.locator("#parks-table tr[data-park='xianning-htz']")
    assert "咸宁高新技术产业开发区" in demo.inner_text() and "2025*" in demo.inner_text()
    test = page.locator(f"#parks-table tr[data-park='{TEST}']")
    assert "测试园区" in test.inner_text() and "达标" in test.inner_text()
    assert "严重 1" in test.inner_text()  # its open critical alarm
    assert "当年没有能源数据" in page.locator(f"#parks-table tr[data-park='{EMPTY}']").inner_text()

    page.click("#lang-switch")
    page.wait_for_url(re.compile(r".*/parks\?lang=en$"))
    _read(page, "en", tmp_path / "parks-en.png")
    assert page.inner_text("h1") == "Parks overview"
    assert "Test Park" in page.locator(f"#parks-table tr[data-park='{TEST}']").inner_text()
    assert (
        "no energy data for that year" in page.locator(f"#parks-table tr[data-park='{EMPTY}']").inner_text()
    )
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(300)  # the chart redraws at the new width
    page.screenshot(path=str(tmp_path / "parks-en-1920.png"), full_page=True)

    # a name opens that park's cockpit through the park switcher: from the test park (chosen with
    # the header's switcher, which comes back here) to the demo park
    link = page.get_attribute(f"#parks-table tr[data-park='{TEST}'] a.park-link", "href")
    assert link == f"/park?park={TEST}&next=%2F%3Fscope%3Dpark"
    with page.expect_navigation():
        page.select_option("#park-switch", TEST)  # choosing a park is enough (the page submits it)
    page.wait_for_selector("body[data-ready='1'][data-park='test-park']")
    assert page.url.endswith("/parks")
    page.click("#parks-table tr[data-park='xianning-htz'] a.park-link")
    page.wait_for_url(site.base + "/?scope=park")
    page.wait_for_selector("body[data-ready='1']")
    assert page.get_attribute("body", "data-park") == "xianning-htz"
    assert "Xianning" in page.inner_text("#park-name")
    page.screenshot(path=str(tmp_path / "cockpit-of-the-demo-park.png"), full_page=True)

"""An admin onboards a park from the administration page (issue 12 §1), in Chromium, in Chinese and
in English: signs in through the login page, opens Administration from the menu, downloads the blank
workbook, uploads a filled one through the visible file input, sees the new park in the table and in
the header's park switcher, gives the new park's zone an officer, then uploads a bad workbook and
sees the bad cell named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from greenpark.services.portfolio.onboarding import write_workbook
from tests.browser_helpers import DemoServer, demo_server, open_menu, sign_in
from tests.language import problems
from tests.parks import second_park_rows
from tests.test_browser_pages import READ_TEXT

pytestmark = pytest.mark.browser

DEMO = "xianning-htz"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("parks-admin")) as srv:
        yield srv


def _read(page: Any, lang: str) -> None:
    found = problems(lang, page.evaluate(READ_TEXT))
    assert not found, f"{len(found)} texts in the wrong language ({lang}):\n" + "\n".join(found)


def _shot(page: Any, path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the header stays on top, not across the middle
    page.screenshot(path=str(path), full_page=True)


def _upload(page: Any, path: Path) -> None:
    page.set_input_files("#adm-park-file", str(path))
    page.click("#adm-park-form button")


def _onboard(page: Any, tmp: Path, lang: str, code: str, name_zh: str, name_en: str) -> None:
    """The admin page is open (in ``lang``): a park ``code`` from the blank workbook's sheets."""
    with page.expect_download() as dl:
        page.click("#adm-park-template")
    blank = tmp / f"blank-{lang}.xlsx"
    dl.value.save_as(blank)
    sheets = load_workbook(blank, read_only=True).sheetnames
    assert ("园区" if lang == "zh" else "park") in sheets
    # the park's officer fills it in (the rows of tests/parks.py, under the sheets' names of ``lang``)
    filled = tmp / f"{code}.xlsx"
    rows = second_park_rows(code)
    rows["park"][0].update(name_zh=name_zh, name_en=name_en)
    filled.write_bytes(write_workbook(rows, lang))
    _upload(page, filled)
    page.wait_for_selector("#adm-park-result .card.ok")
    said = page.inner_text("#adm-park-result")
    assert (f"已新建园区“{name_zh}”" if lang == "zh" else f"Park {name_en} created") in said, said
    assert ("分园：2" if lang == "zh" else "Zone: 2") in said, said  # what it created, by kind
    row = page.locator(f"#adm-parks tr[data-park='{code}']")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == [code, "2", "2"], cells  # code, zones, enterprises
    with page.expect_download() as dl:
        row.locator("a.workbook").click()
    assert dl.value.suggested_filename == f"greenpark-park-{code}.xlsx"
    own = tmp / dl.value.suggested_filename
    dl.value.save_as(own)
    assert load_workbook(own, read_only=True).sheetnames == sheets


def _bad_workbook(page: Any, tmp: Path, lang: str) -> None:
    rows = second_park_rows("bad-park")
    rows["enterprises"][1]["land_area_mu"] = -3  # the second enterprise, row 3 of its sheet
    bad = tmp / f"bad-{lang}.xlsx"
    bad.write_bytes(write_workbook(rows, lang))
    _upload(page, bad)
    page.wait_for_selector("#adm-park-errors")
    cells = page.locator("#adm-park-errors tbody tr").first.locator("td").all_inner_texts()
    sheet = "企业" if lang == "zh" else "enterprises"
    assert cells[:3] == [bad.name, sheet, "3"], cells
    assert "land_area_mu" in cells[3] and "-3" in cells[4], cells
    refused = page.inner_text("#adm-park-result p.bad")
    assert ("未做任何更改" if lang == "zh" else "nothing was changed") in refused, refused
    assert page.locator("#adm-parks tr[data-park='bad-park']").count() == 0


def test_an_admin_onboards_a_park_from_the_admin_page(site: DemoServer, page: Any, tmp_path: Path) -> None:
    sign_in(page, site, "admin")
    open_menu(page, "管理", "系统管理")
    assert page.url.endswith("/admin")
    assert page.locator("#park-switch").count() == 0  # one park: nothing to switch
    _onboard(page, tmp_path, "zh", "lakeside-eco", "湖滨生态工业园", "Lakeside Eco-industrial Park")
    _shot(page, tmp_path / "admin-zh-created.png")
    _read(page, "zh")

    # the new park in the header's switcher: the page's link works on it
    page.click("#adm-park-open")
    page.wait_for_selector("body[data-ready='1'][data-park='lakeside-eco']")
    assert page.url.endswith("/admin")
    options = page.locator("#park-switch option").evaluate_all("os => os.map((o) => [o.value, o.selected])")
    assert options == [[DEMO, False], ["lakeside-eco", True]]
    # a zone officer of the new park: the form offers its zones
    page.fill("#adm-user-form input[name=username]", "north.officer")
    page.select_option("#adm-role", "zone_staff")
    assert page.is_visible("#adm-zone") and not page.is_visible("#adm-enterprise")
    assert page.locator("#adm-zone option").evaluate_all("os => os.map((o) => o.value)") == ["north", "south"]
    page.select_option("#adm-zone", "south")
    page.click("#adm-user-form button")
    page.wait_for_selector("#adm-user-result code.secret")
    officer = page.locator("#adm-users tr[data-user='north.officer']").inner_text()
    assert "分园工作人员" in officer and "湖滨生态工业园" in officer and "南区" in officer, officer

    _bad_workbook(page, tmp_path, "zh")
    _shot(page, tmp_path / "admin-zh-refused.png")
    _read(page, "zh")

    page.click("#lang-switch")
    page.wait_for_url(re.compile(r".*/admin\?lang=en$"))
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("h1") == "Administration"
    _onboard(page, tmp_path, "en", "hillside-eco", "山麓循环经济园", "Hillside Circular Economy Park")
    _shot(page, tmp_path / "admin-en-created.png")
    _read(page, "en")
    page.click("#adm-park-open")
    page.wait_for_selector("body[data-ready='1'][data-park='hillside-eco']")
    assert page.locator("#park-switch option").count() == 3
    _bad_workbook(page, tmp_path, "en")
    _shot(page, tmp_path / "admin-en-refused.png")
    _read(page, "en")

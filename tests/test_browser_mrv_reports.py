"""The annual GHG report page (/mrv/reports) in Chromium, as people use it (issue 13 §2–3): the
enterprise fills the form (a fuel with a measured calorific value and default factors, purchased
electricity, output) and sees the checks; downloads the Excel form, fills it with one bad cell and
uploads it: the error names the file, sheet, row and column and nothing is stored; the park officer
(in English) returns the report with a comment; the enterprise reads the comment from its inbox and
answers with the corrected form, version 2, while version 1 stays listed. Only the visible page:
clicks, typing, the file input and the download link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in_as
from tests.language import problems
from tests.test_browser_pages import READ_TEXT

pytestmark = pytest.mark.browser
YEAR = 2025
COMMENT = "外购电力缺少供电公司结算单，请核对电量后重新提交"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("mrv-reports")) as srv:
        yield srv


def _reads(page: Any, lang: str) -> None:
    found = problems(lang, page.evaluate(READ_TEXT))
    assert not found, "\n".join(found)


def _rows(page: Any) -> list[str]:
    """The report list's rows as a person reads them (the empty row excluded)."""
    return [r.inner_text() for r in page.locator("#reports-table tbody tr:not(.empty)").all()]


def _tonnes(text: str) -> int:
    found = re.search(r"([\d,]+) 吨二氧化碳", text)
    assert found is not None, text
    return int(found[1].replace(",", ""))


def _set_year(page: Any, selector: str, year: int) -> None:
    page.fill(selector, str(year))
    page.press(selector, "Tab")  # leaving the field is what tells the page (its change event)


def test_report_form_excel_review_and_correction(site: DemoServer, page: Any, tmp_path: Path) -> None:
    # ------------------------------------------------------------ the enterprise, in Chinese
    sign_in_as(page, site, "enterprise")
    open_menu(page, "报告与核查", "年度排放报告")
    assert page.inner_text("h1") == "年度排放报告"
    assert page.is_visible("text=填报年度报告")
    _set_year(page, "#form-year", YEAR)
    page.wait_for_selector("#form-defaults span[translate=no]")
    assert _rows(page) == []

    page.click("button.add-row[data-section=combustion]")
    fuel = page.locator("#sec-combustion tbody tr").last
    fuel.locator("select[name=carrier]").select_option("raw_coal")
    fuel.locator("input[name=quantity]").fill("12000")
    # a default shows the library's value, read-only; measured takes the enterprise's own
    ncv = fuel.locator("input[name=ncv_gj_per_unit]")
    assert ncv.input_value() != "" and ncv.get_attribute("readonly") is not None
    fuel.locator("select[name=ncv_source]").select_option("measured")
    assert ncv.get_attribute("readonly") is None
    ncv.fill("21.5")
    page.click("button.add-row[data-section=electricity]")
    el = page.locator("#sec-electricity tbody tr").last
    el.locator("input[name=item]").fill("国网咸宁供电公司")
    el.locator("input[name=quantity]").fill("8500")
    page.click("button.add-row[data-section=output]")
    out = page.locator("#sec-output tbody tr").last
    out.locator("input[name=product]").fill("水泥熟料")
    out.locator("input[name=quantity]").fill("300000")
    out.locator("input[name=unit]").fill("t")
    page.fill("#form-contact", "张工 0715-8888888")
    page.click("#report-submit")
    page.wait_for_selector("#submit-ok")
    assert page.inner_text("#submit-ok").startswith("已提交：第1版")

    detail = page.locator("#report-detail")
    detail.wait_for(state="visible")
    text = detail.inner_text()
    assert f"{YEAR}年度温室气体排放报告，第1版" in page.inner_text("#report-title")
    # the checks stay on the report: the months' sum, the previous year, metered energy
    assert "数据一致性检查" in text and "年度量与月度合计核对" in text and "与上年核对" in text
    # the coal line says which parameter is measured and which default
    coal = detail.locator("tr:has-text('原煤')").first.inner_text()
    assert "21.500 实测" in coal and "缺省值" in coal
    assert int(page.inner_text("#report-total").replace(",", "")) > 0
    ent_code = page.inner_text("#report-title span.note")  # the enterprise's code, as the title shows it
    rows = _rows(page)
    assert len(rows) == 1 and "已提交" in rows[0]
    _reads(page, "zh")
    shot(page, "mrv-report-submitted")

    # ------------------------------------------------------------ the Excel form, one bad cell
    with page.expect_download() as dl:
        page.click("#excel-template")
    assert dl.value.suggested_filename.endswith(".xlsx")
    form = tmp_path / f"{YEAR}年度排放报告.xlsx"
    dl.value.save_as(form)
    wb = load_workbook(form)
    ws = wb["化石燃料燃烧"]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("carrier") + 1).value == "raw_coal"  # prefilled with version 1
    ws.cell(2, head.index("quantity") + 1).value = "一万二千"
    wb.save(form)
    page.set_input_files("#excel-file", str(form))
    page.click("#excel-upload button")
    err = page.locator("#excel-result .bad")
    err.wait_for()
    said = err.inner_text()
    for part in (form.name, "化石燃料燃烧", "2", "quantity", "未保存任何内容"):
        assert part in said, (part, said)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert len(_rows(page)) == 1  # nothing was stored: still version 1 alone

    # ------------------------------------------------------------ the park officer, in English
    sign_in_as(page, site, "staff")
    page.goto(site.base + "/mrv/reports")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#lang-switch")
    page.wait_for_selector("body[data-lang='en'][data-ready='1']")
    assert page.inner_text("h1") == "Annual GHG reports"
    # the list's search box narrows it (the walkthrough found it did nothing)
    search = page.locator("#reports-table").locator(
        "xpath=preceding-sibling::div[contains(@class,'table-bar')][1]//input"
    )
    shown = page.locator("#reports-table tbody tr:visible")
    before = shown.count()
    assert before >= 2  # the demo's E04 and this enterprise
    search.fill(ent_code)
    expect(shown).to_have_count(1)
    search.fill("")
    expect(shown).to_have_count(before)
    mine = page.locator("#reports-table tbody tr", has_text=ent_code).filter(has_text=str(YEAR))
    mine.locator("button.open-report").click()
    page.wait_for_selector("#review-form:not([hidden])")
    assert page.is_visible("text=Return with comment")
    page.fill("#review-comment", COMMENT)
    page.click("#review-return")
    page.wait_for_selector("#report-title:has-text('returned')")
    _reads(page, "en")
    shot(page, "mrv-report-returned")

    # ------------------------------------------------------------ the enterprise answers: version 2
    sign_in_as(page, site, "enterprise")
    open_menu(page, "报告与核查", "我的待办")
    task = page.locator("#inbox-tasks tbody tr", has_text=f"您的{YEAR}年度报告（第1版）已被退回")
    assert "已退回" in task.inner_text()  # its kind
    task.locator("a").click()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#report-detail:not([hidden])")
    assert COMMENT in page.inner_text("#report-detail")

    wb = load_workbook(form)
    ws = wb["化石燃料燃烧"]
    ws.cell(2, head.index("quantity") + 1).value = 12000
    ws = wb["购入电力热力"]
    phead = [c.value for c in ws[1]]
    ws.cell(2, phead.index("quantity") + 1).value = 8620
    wb.save(form)
    page.set_input_files("#excel-file", str(form))
    page.click("#excel-upload button")
    page.wait_for_selector("#excel-result #submit-ok")
    page.wait_for_selector("#report-title:has-text('第2版')")
    assert "已提交：第2版" in page.inner_text("#excel-result")
    rows = [r.split("\t") for r in _rows(page)]
    assert sorted((r[2], r[3]) for r in rows) == [("1", "已被取代"), ("2", "已提交")], rows  # version 1 stays
    versions = page.locator("#report-body h3:has-text('版本') + ul li").all_inner_texts()
    assert [v.split(":")[0] for v in versions] == ["第1版", "第2版"], versions
    assert "已被取代" in versions[0] and "已提交" in versions[1]
    # the correction counts: 120 MWh more purchased electricity
    v1, v2 = (_tonnes(v) for v in versions)
    assert v2 > v1, versions
    shot(page, "mrv-report-v2")

    # … and the next version can start on the page from the one opened (the walkthrough found only a
    # blank form); the form is emptied once it is sent, so a second click sends nothing twice
    page.click("#copy-to-form")
    expect(page.locator("#sec-combustion tbody tr")).to_have_count(1)
    assert float(page.input_value("#sec-combustion tbody tr [name=quantity]")) == 12000
    page.fill("#sec-electricity tbody tr [name=quantity]", "8700")
    page.click("#report-submit")
    page.wait_for_selector("#report-title:has-text('第3版')")
    expect(page.locator("#sec-combustion tbody tr")).to_have_count(0)

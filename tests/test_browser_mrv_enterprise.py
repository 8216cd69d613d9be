"""An enterprise files its data quality control plan and a month's evidence with a file, and a
park officer designates a key unit with a reason (issue 13 §1–2), in Chromium, through the menus
and forms only; the pages read in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in
from tests.language import problems
from tests.test_browser_pages import READ_TEXT

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("mrv-enterprise")) as srv:
        yield srv


def _reads_chinese(page: Any) -> None:
    found = problems("zh", page.evaluate(READ_TEXT))
    assert not found, "\n".join(found)


def test_enterprise_files_its_plan_and_a_month(site: DemoServer, page: Any, tmp_path: Path) -> None:
    sign_in(page, site, "enterprise")
    open_menu(page, "报告与核查", "监测计划与月度存证")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#page-error").is_hidden()
    assert page.locator("#ev-grid [data-month]").count() == 12
    _reads_chinese(page)
    # the plan: version 1, one parameter (its missing-data rule is required by the service)
    row = page.locator("#dqcp-edit tbody tr").first
    row.locator("select[name=parameter]").select_option("fuel_quantity")
    row.locator("input[name=item]").fill("raw_coal")
    row.locator("input[name=unit]").fill("t")
    row.locator("select[name=method]").select_option("measured")
    row.locator("input[name=missing_data_rule]").fill("取前后两月最大值")
    page.fill("#dqcp-form textarea[name=boundary]", "厂区燃煤锅炉与外购电力")
    page.click("#dqcp-submit")
    page.wait_for_selector("#dqcp-result .good")
    page.wait_for_selector("#dqcp-versions tbody tr")
    assert page.locator("#dqcp-versions tbody tr").count() == 1
    assert "取前后两月最大值" in page.locator("#dqcp-params").inner_text()
    # January of this year, with a receipt: past its due date, so late
    receipt = tmp_path / "电费发票.pdf"
    receipt.write_bytes(PDF)
    page.select_option("#ev-month", "1")
    page.fill("#ev-energy input[data-carrier=electricity]", "1234.5")
    page.set_input_files("#ev-files", str(receipt))
    page.click("#ev-submit")
    page.wait_for_selector("#ev-result .good")
    page.wait_for_selector("#ev-grid [data-month='1'][data-status='late']")
    page.wait_for_selector("#ev-table a[download]")
    assert page.locator("#ev-table a[download]").inner_text() == "电费发票.pdf"
    shot(page, "mrv-enterprise")


def test_officer_designates_with_a_reason(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "报告与核查", "重点单位名录")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#page-error").is_hidden()
    _reads_chinese(page)
    rows = page.locator("#decisions-table tbody tr")
    before = rows.count()  # the demo designates two units of its own
    page.fill("#decide-reason", "省节能主管部门确定")
    page.click("#decide-form button")
    page.wait_for_selector("#decide-result .good")
    expect(rows).to_have_count(before + 1)
    assert "省节能主管部门确定" in page.locator("#decisions-table").inner_text()
    shot(page, "mrv-units")

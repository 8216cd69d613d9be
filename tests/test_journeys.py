"""What each kind of user comes to do, done as they do it (issue 11): in Chromium, signing in
through the login page, clicking, typing and uploading through the visible page — no injected
header, no call to the API behind the page's back."""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in

pytestmark = pytest.mark.browser


def _an_open_alarm(db: Path) -> None:
    """An exceedance alarm, as the ingestion server would have opened it."""
    c = sqlite3.connect(db)
    with c:
        point = c.execute("SELECT id FROM source_point ORDER BY id LIMIT 1").fetchone()[0]
        c.execute(
            "INSERT INTO alarm (point_id, code, rule, severity, status, opened_utc, last_fired_utc, message, "
            "detail_json, ack_by, ack_note, closed_by, close_note, value, threshold) VALUES (?, 'w01018', "
            "'exceedance', 'critical', 'open', datetime('now'), datetime('now'), 'hourly mean 120 exceeds the limit 100', "
            '\'{"_message": {"msgid": "hourly mean {value} exceeds the limit {limit} ({times}×)", '
            '"params": {"value": "120", "limit": "100", "times": "1.20"}}}\', \'\', \'\', \'\', \'\', 120, 100)',
            (point,),
        )
    c.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("journeys"), prepare=_an_open_alarm) as srv:
        yield srv


def _workbook(year: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "activity"
    ws.append(["entity", "year", "boundary", "carrier", "quantity", "unit", "source_ref"])
    ws.append(["zone:core", 2025, "all", "natural_gas", 12.5, "10^4 m3", "燃气公司抄表"])
    ws.append(["zone:core", year, "all", "diesel", 300, "t", "油品台账"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_staff_imports_a_workbook_reads_the_error_fixes_it_and_imports(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "管理", "数据导入")
    page.set_input_files(
        "#import-form input[type=file]",
        {"name": "燃料台账.xlsx", "mimeType": "application/octet-stream", "buffer": _workbook("2O25")},
    )
    page.click("#import-form button")
    page.wait_for_selector("#import-errors")
    row = page.inner_text("#import-errors tbody tr")
    # file, sheet, row, column and the reason, in Chinese
    assert (
        "燃料台账.xlsx" in row and "activity" in row and "3" in row and "年份" in row and "不是数字" in row
    ), row
    assert "未导入" in page.inner_text("#import-errors h2")
    shot(page, "staff-import-refused")
    page.set_input_files(
        "#import-form input[type=file]",
        {"name": "燃料台账.xlsx", "mimeType": "application/octet-stream", "buffer": _workbook(2025)},
    )
    page.click("#import-form button")
    page.wait_for_selector("#import-result")
    assert "导入成功" in page.inner_text("#import-result") and "能源消费 2 行" in page.inner_text(
        "#import-result"
    )
    assert "燃料台账.xlsx" in page.inner_text("#import-history")
    shot(page, "staff-import-done")


def test_an_enterprise_imports_its_month_and_sees_its_inventory_change(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "enterprise")
    open_menu(page, "碳与能源", "能源与碳排放清单")
    own = page.eval_on_selector_all("#inv-scope option", "os => os.map(o => [o.value, o.textContent])")
    code, name = next((v, t) for v, t in own if re.fullmatch(r"E\d+", v))  # its own enterprise
    page.select_option("#inv-scope", code)
    page.wait_for_selector("body[data-ready='1']")
    years = page.eval_on_selector_all("#inv-year option", "os => os.map(o => o.value)")
    year = "2025" if "2025" in years else years[-1]
    page.select_option("#inv-year", year)
    page.wait_for_load_state("networkidle")
    before = page.inner_text("#inv-totals")
    open_menu(page, "管理", "数据导入")
    csv = f"entity,year,month,boundary,carrier,quantity,unit,source_ref\nenterprise:{code},{year},11,all,electricity,36.5,10^4 kWh,电费单 11 月\n"
    page.set_input_files(
        "#import-form input[type=file]",
        {"name": "11月用电-activity.csv", "mimeType": "text/csv", "buffer": csv.encode()},
    )
    page.click("#import-form button")
    page.wait_for_selector("#import-result")
    open_menu(page, "碳与能源", "能源与碳排放清单")
    page.select_option("#inv-scope", code)
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#inv-year", year)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#inv-table tbody tr[data-carrier='electricity']")
    after = page.inner_text("#inv-totals")
    assert before != after, (name, before, after)
    page.click("#inv-table tbody tr[data-carrier='electricity']")
    page.wait_for_selector("#lineage-records")
    assert "电费单 11 月" in page.inner_text("#lineage-records")
    shot(page, "enterprise-inventory-after-import")


def test_staff_acknowledges_and_closes_an_alarm_with_a_note(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "污染源", "预警中心")
    first = page.locator("#al-table tbody tr").first
    assert "超过限值" in first.inner_text()  # the message reads in Chinese
    first.locator("button.ack").click()
    page.fill("tr.alarm-form textarea[name=note]", "已电话通知企业环保负责人核查")
    page.click("tr.alarm-form button:not(.cancel)")
    page.wait_for_selector("#al-table tbody tr:first-child:has-text('已确认')")
    page.locator("#al-table tbody tr").first.locator("button.close").click()
    page.click("tr.alarm-form button:not(.cancel)")  # without a note: the page asks for one
    assert "说明" in page.inner_text("tr.alarm-form .result") or page.eval_on_selector(
        "tr.alarm-form textarea", "t => !t.checkValidity()"
    )
    page.fill("tr.alarm-form textarea[name=note]", "采样管路堵塞致读数偏高，已疏通并复核")
    page.click("tr.alarm-form button:not(.cancel)")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#al-status", "closed")
    page.wait_for_selector("#al-table tbody tr:has-text('采样管路堵塞')")
    shot(page, "staff-alarm-closed")


def test_admin_creates_a_user_and_an_api_token(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "admin")
    open_menu(page, "管理", "系统管理")
    page.fill("#adm-user-form input[name=username]", "wang.li")
    page.fill("#adm-user-form input[name=display_name]", "王丽（园区环保科）")
    page.select_option("#adm-role", "park_staff")
    page.click("#adm-user-form button")
    page.wait_for_selector("#adm-user-result code.secret")  # the first password, shown once
    page.wait_for_selector("#adm-users >> text=wang.li")
    page.select_option("#adm-token-user", "wang.li")
    page.fill("#adm-token-form input[name=name]", "数采网关")
    page.click("#adm-token-form button")
    page.wait_for_selector("#adm-token-result code.secret")
    token = page.inner_text("#adm-token-result code.secret")
    assert token.startswith("gp_")
    page.wait_for_selector("#adm-tokens >> text=数采网关")
    shot(page, "admin-user-and-token")


def test_the_public_reads_the_indicators(site: DemoServer, page: Any) -> None:
    page.goto(site.base + "/")
    open_menu(page, "规划与指标", "指标与可达性")
    cards = page.locator("#ind-grid .ind")
    assert cards.count() >= 12
    colours = set(page.eval_on_selector_all("#ind-grid .ind", "cs => cs.map(c => c.dataset.status)"))
    assert colours - {"no_data"}, colours  # the lights are lit, not all grey
    cards.first.click()
    page.wait_for_selector("#ind-detail:not([hidden])")
    assert "可达性" in page.inner_text("#ind-detail")
    shot(page, "public-indicators")


def test_a_verifier_lands_on_what_it_can_do(site: DemoServer, page: Any) -> None:
    sign_in(page, site, "verifier")
    links = set(page.eval_on_selector_all("nav a", "as => as.map(a => new URL(a.href).pathname)"))
    assert {"/inventory", "/monitoring", "/enterprises", "/land"} <= links and "/import" not in links
    page.goto(site.base + "/import")
    assert page.is_visible("#error-page") and "无权" in page.inner_text("#error-page")
    page.click("#error-page a[href='/']")
    page.wait_for_selector("body[data-ready='1']")
    shot(page, "verifier-home")

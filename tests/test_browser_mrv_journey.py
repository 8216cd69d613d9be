"""One year of the reporting and verification cycle, end to end, in Chromium (issue 13, "done when"):
the park officer puts the demo enterprise on the year's register; the enterprise files its data
quality control plan and a month of evidence, then its annual report; the officer accepts it and
assigns a verification body; the verifier declares no conflict of interest, reviews the documents,
visits the site and raises a non-conformity; the enterprise answers it with a file; the verifier
closes it, concludes 通过 with the verified total and signs the statement; the officer notifies;
the enterprise sees the result and downloads the statement; and the park inventory then shows the
enterprise's verified figure with its lineage. Each person finds the next step in their inbox
(/inbox) and follows its link. Only the visible pages: menus, links, forms, the file input and
downloads — no API call and no database behind the pages' backs."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from greenpark.services.mrv.evidence import beijing_today
from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in_as

pytestmark = pytest.mark.browser
YEAR = 2025  # the demo's last full year of data (as the verification test)
#: The demo ships this body with the demo verifier as its member; without it the officer registers one.
DEMO_BODY = "DEMO-VB"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("mrv-journey")) as srv:
        yield srv


def _task(page: Any, text: str) -> Any:
    """Open the inbox through the menu and return the one task whose title holds ``text``."""
    open_menu(page, "报告与核查", "我的待办")
    page.wait_for_selector("#inbox-tasks tbody tr")
    task = page.locator("#inbox-tasks tbody tr", has_text=text)
    expect(task).to_have_count(1)
    return task


def _follow(page: Any, task: Any) -> None:
    """Follow a task's link to the page where it is done."""
    task.locator("a").click()
    page.wait_for_selector("body[data-ready='1']")


def _tasks(page: Any) -> str:
    open_menu(page, "报告与核查", "我的待办")
    page.wait_for_selector("#inbox-tasks tbody tr")
    return str(page.inner_text("#inbox-tasks tbody"))


def _pick(page: Any, select: str, text: str) -> None:
    """Choose the one option of ``select`` that reads ``text`` (among other words)."""
    option = page.locator(f"{select} option", has_text=text)
    expect(option).to_have_count(1)
    page.select_option(select, option.get_attribute("value"))


def _verification(page: Any) -> None:
    page.wait_for_selector("#ver-detail:not([hidden]) h2")
    assert page.locator("#ver-error").is_hidden()


def _inventory(page: Any) -> tuple[str, str]:
    """The enterprise's own inventory of the year: its name (the chosen scope) and the CO₂ total."""
    open_menu(page, "碳与能源", "能源与碳排放清单")
    page.select_option("#inv-year", str(YEAR))
    page.wait_for_selector("#inv-totals .kpi")
    name = page.locator("#inv-scope option:checked").inner_text()
    return name, page.locator("#inv-totals .kpi .value").nth(2).inner_text()


def test_one_year_end_to_end(site: DemoServer, page: Any, tmp_path: Path) -> None:
    # ---------------------------------------------------------------- the enterprise before the year
    sign_in_as(page, site, "enterprise")
    ent, co2_before = _inventory(page)
    assert "经第三方核查" not in page.inner_text("#inv-checks")

    # ---------------------------------------------------------------- the officer: the register
    sign_in_as(page, site, "staff")
    open_menu(page, "报告与核查", "重点单位名录")
    page.fill("#units-year", str(YEAR))
    page.press("#units-year", "Tab")
    page.wait_for_selector(f"#units-table tbody tr:has-text('{ent}')")
    _pick(page, "#decide-enterprise", ent)
    page.select_option("#decide-form select[name=kind]", "key_carbon_emitter")  # reports, is verified
    page.select_option("#decide-form select[name=decision]", "designate")
    page.fill("#decide-reason", "年排放量约 2.8 万吨二氧化碳，园区确定为重点碳排放单位")
    page.click("#decide-form button")
    page.wait_for_selector("#decide-result .good")

    # ---------------------------------------------------------------- the enterprise: plan, evidence
    sign_in_as(page, site, "enterprise")
    report_due = _task(page, f"{YEAR}年度温室气体排放报告")
    assert "超期" in report_due.inner_text()  # the report was due in the spring
    _follow(page, _task(page, f"{YEAR}-01月度存证"))  # → the plan and evidence page of that year
    assert page.input_value("#ent-year") == str(YEAR)
    assert page.locator("#page-error").is_hidden()
    rows = page.locator("#dqcp-edit tbody tr")
    rows.first.locator("select[name=parameter]").select_option("fuel_quantity")
    rows.first.locator("input[name=item]").fill("raw_coal")
    rows.first.locator("input[name=unit]").fill("t")
    rows.first.locator("select[name=method]").select_option("measured")
    rows.first.locator("input[name=meter]").fill("入厂汽车衡 1#")
    rows.first.locator("input[name=missing_data_rule]").fill("取前后两月最大值")
    page.click("#dqcp-add")
    rows.nth(1).locator("select[name=parameter]").select_option("ncv")
    rows.nth(1).locator("input[name=item]").fill("raw_coal")
    rows.nth(1).locator("input[name=unit]").fill("GJ/t")
    rows.nth(1).locator("select[name=method]").select_option("measured")
    rows.nth(1).locator("input[name=missing_data_rule]").fill("取缺省值与实测最大值中的较大者")
    page.fill("#dqcp-form textarea[name=boundary]", "厂区燃煤锅炉与外购电力")
    page.click("#dqcp-submit")
    page.wait_for_selector("#dqcp-result .good")
    expect(page.locator("#dqcp-versions tbody tr")).to_have_count(1)

    receipt = tmp_path / "一月电费发票.pdf"
    receipt.write_bytes(PDF)
    page.select_option("#ev-month", "1")
    page.fill("#ev-energy input[data-carrier=raw_coal]", "1000")
    page.fill("#ev-energy input[data-carrier=electricity]", "70")
    page.set_input_files("#ev-files", str(receipt))
    page.click("#ev-submit")
    page.wait_for_selector("#ev-result .good")
    page.wait_for_selector("#ev-grid [data-month='1'][data-status='late']")
    assert page.locator("#ev-table a[download]").inner_text() == receipt.name

    # ---------------------------------------------------------------- the enterprise: the annual report
    open_menu(page, "报告与核查", "年度排放报告")
    page.fill("#form-year", str(YEAR))
    page.press("#form-year", "Tab")
    page.wait_for_selector("#form-defaults span[translate=no]")
    page.click("button.add-row[data-section=combustion]")
    fuel = page.locator("#sec-combustion tbody tr").last
    fuel.locator("select[name=carrier]").select_option("raw_coal")
    fuel.locator("input[name=quantity]").fill("12000")
    fuel.locator("select[name=ncv_source]").select_option("measured")
    fuel.locator("input[name=ncv_gj_per_unit]").fill("21.5")
    page.click("button.add-row[data-section=electricity]")
    el = page.locator("#sec-electricity tbody tr").last
    el.locator("input[name=item]").fill("国网咸宁供电公司")
    el.locator("input[name=quantity]").fill("8500")
    page.click("button.add-row[data-section=output]")
    out = page.locator("#sec-output tbody tr").last
    out.locator("input[name=product]").fill("中成药")
    out.locator("input[name=quantity]").fill("1800")
    out.locator("input[name=unit]").fill("t")
    page.click("#report-submit")
    page.wait_for_selector("#submit-ok")
    page.wait_for_selector("#report-detail:not([hidden])")
    assert ent in page.inner_text("#report-title")
    reported = int(page.inner_text("#report-total").replace(",", ""))
    checks = page.inner_text("#report-body h3:has-text('数据一致性检查') + table")
    assert "年度量与月度合计核对" in checks and "有存证的月份" in checks  # against the month given
    shot(page, "mrv-journey-report")
    left = _tasks(page)
    assert f"{YEAR}年度温室气体排放报告" not in left and f"{YEAR}-01月度存证" not in left
    assert f"{YEAR}-02月度存证" in left  # the other months are still asked for

    # ---------------------------------------------------------------- the officer accepts
    sign_in_as(page, site, "staff")
    _follow(page, _task(page, f"审核{ent}的{YEAR}年度报告（第1版）"))
    page.wait_for_selector("#review-form:not([hidden])")
    assert ent in page.inner_text("#report-title")
    assert page.input_value("#filter-year") == str(YEAR)  # the task's link chose the year
    page.click("#review-accept")
    page.wait_for_selector("#report-title:has-text('已受理')")

    # ---------------------------------------------------------------- the officer assigns a body
    _follow(page, _task(page, f"为{ent}的{YEAR}年度报告指派核查机构"))
    bodies = page.locator("#ver-bodies tbody tr")
    demo = bodies.filter(has=page.locator(f"td:text-is('{DEMO_BODY}')"))
    if demo.count() and "verifier" in demo.inner_text():
        code = DEMO_BODY
        body_name = demo.locator("td").nth(1).inner_text()
    else:  # no demo body: register one and make the demo verifier its member, on this page
        code, body_name = "JOURNEY-VB", "旅程测试核查机构（虚构）"
        f = page.locator("#ver-body-form")
        f.locator("input[name=code]").fill(code)
        f.locator("input[name=name]").fill(body_name)
        f.locator("input[name=accreditation]").fill("CNCA-V-0000")
        f.locator("button").click()
        page.wait_for_selector(f"#ver-bodies td:text-is('{code}')")
        page.select_option("#ver-member-body", code)
        page.fill("#ver-member-form input[name=username]", "verifier")
        page.click("#ver-member-form button")
        expect(bodies.filter(has=page.locator(f"td:text-is('{code}')"))).to_contain_text("verifier")
    assert page.input_value("#ver-year") == str(YEAR)  # the task's link chose the year
    _pick(page, "#ver-assign-ent", ent)  # offered: its latest report of the year is accepted
    page.select_option("#ver-assign-body", code)
    page.click("#ver-assign-form button")
    ours = page.locator("#ver-table tbody tr", has_text=ent)
    expect(ours).to_have_count(1)
    assert body_name in ours.inner_text()

    # ---------------------------------------------------------------- the verifier works it through
    sign_in_as(page, site, "verifier")
    _follow(page, _task(page, f"声明核查{ent}（{YEAR}年度）的利益冲突情况"))
    _verification(page)
    assert ent in page.inner_text("#ver-detail h2")
    page.fill("#ver-declare textarea[name=statement]", "本机构及核查组成员与受核查企业无利益冲突。")
    page.click("#ver-declare button[name=ok]")
    page.wait_for_selector("#ver-review")
    page.locator("#ver-review select").first.select_option("conforms")
    page.click("#ver-review button")
    page.wait_for_selector("#ver-visit")
    page.fill("#ver-visit input[name=date]", beijing_today().isoformat())  # after the declaration
    page.fill("#ver-visit input[name=team]", "核查员甲、核查员乙")
    page.fill("#ver-visit textarea[name=record]", "查阅能源台账与结算单，查看汽车衡与电能表。")
    page.click("#ver-visit button")
    page.wait_for_selector("#ver-conclude")
    page.fill("#ver-ncr input[name=clause]", "数据质量控制计划 3.2")
    page.fill("#ver-ncr input[name=description]", "外购电力缺少供电公司结算单")
    page.click("#ver-ncr button")
    page.wait_for_selector("li.ncr")
    assert "待整改" in page.inner_text("li.ncr")

    # ---------------------------------------------------------------- the enterprise answers
    sign_in_as(page, site, "enterprise")
    _follow(page, _task(page, f"{YEAR}年度核查的第1项不符合项待您答复"))
    _verification(page)
    settlement = tmp_path / "供电公司结算单.pdf"
    settlement.write_bytes(PDF)
    page.fill("form.ncr-answer textarea[name=response]", "补充供电公司全年电费结算单，电量与报告一致")
    page.set_input_files("form.ncr-answer input[type=file]", str(settlement))
    page.click("form.ncr-answer button")
    page.wait_for_selector(f"li.ncr a[download]:has-text('{settlement.name}')")

    # ---------------------------------------------------------------- the verifier closes and concludes
    sign_in_as(page, site, "verifier")
    _follow(page, _task(page, f"{ent}的第1项不符合项已答复"))
    _verification(page)
    page.fill("form.ncr-close input[name=note]", "结算单电量与报告一致，予以关闭")
    page.click("form.ncr-close button")
    page.wait_for_selector("li.ncr:has-text('已关闭')")
    verified = reported + 12
    page.select_option("#ver-conclude select[name=conclusion]", "pass")
    page.fill("#ver-conclude input[name=verified_total_co2_t]", str(verified))
    page.click("#ver-add-diff")
    diff = page.locator("#ver-diffs tr.diff").last
    diff.locator("input[name=item]").fill("净购入电力")
    diff.locator("input[name=reported_t]").fill("4848")
    diff.locator("input[name=verified_t]").fill("4860")
    diff.locator("input[name=reason]").fill("按结算单电量 8521 兆瓦时核定")
    page.click("#ver-conclude button:not([type=button])")
    page.wait_for_selector("#ver-docx")
    concl = page.inner_text("#ver-detail")
    assert "通过" in concl and f"{verified:,}" in concl
    shot(page, "mrv-journey-concluded")

    # ---------------------------------------------------------------- the officer notifies
    sign_in_as(page, site, "staff")
    _follow(page, _task(page, f"向{ent}告知其{YEAR}年度核查结果"))
    _verification(page)
    page.click("#ver-notify")
    page.wait_for_selector("#ver-detail:has-text('已告知')")

    # ---------------------------------------------------------------- the enterprise sees the result
    sign_in_as(page, site, "enterprise")
    appeal = _task(page, f"对{YEAR}年度核查结果申请复核")
    until = re.search(r"\d{4}-\d{2}-\d{2}", appeal.inner_text())
    assert until is not None
    _follow(page, appeal)
    _verification(page)
    seen = page.inner_text("#ver-detail")
    assert "通过" in seen and f"{verified:,}" in seen and until[0] in seen
    with page.expect_download() as dl:
        page.click("#ver-docx")
    assert dl.value.suggested_filename.endswith(".docx")
    with zipfile.ZipFile(dl.value.path()) as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    assert ent in body and body_name in body
    shot(page, "mrv-journey-notified")

    # ---------------------------------------------------------------- the inventory now holds the verified figure
    name, co2_after = _inventory(page)
    assert name == ent and co2_after != co2_before
    said = page.inner_text("#inv-checks")
    assert f"{YEAR}年数据经第三方核查（核查机构{body_name}，核查声明" in said, said
    assert f"核查排放量 {verified:,} 吨二氧化碳" in said, said
    page.click("#inv-table tbody tr[data-carrier=electricity]")
    records = page.locator("#lineage-records tbody tr")
    expect(records).to_have_count(1)
    assert f"verified: {body_name}" in records.inner_text() and "经第三方核查" in records.inner_text()
    shot(page, "mrv-journey-inventory")

"""The pages in a real browser: Debian's chromium driven by Playwright against a real server."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.browser_helpers import ARTIFACTS, demo_server, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("srv")) as srv:
        os.environ["_GP_STAFF_PASSWORD"] = srv.logins["staff"]
        yield srv.base


def _digits(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_cockpit_renders_charts_and_matches_api(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    page.on("requestfailed", lambda r: errors.append("request failed: " + r.url))
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    api = httpx.get(server + "/api/cockpit?scope=core").json()
    co2_api = api["current"]["totals"]["co2_t"]
    shown = page.inner_text("#kpi-co2")
    assert _digits(shown) == round(co2_api)  # the number a person reads is the API's
    assert float(page.get_attribute("#kpi-co2", "data-value") or 0) == pytest.approx(co2_api)
    assert _digits(page.inner_text("#kpi-iva")) == pytest.approx(
        round(api["series"][-1]["energy_per_iva"], 3)
    )
    for chart_id in (
        "chart-years",
        "chart-carriers",
        "chart-sectors",
        "chart-co2",
        "chart-target",
        "chart-sankey",
    ):
        assert page.evaluate(
            f"!!(window.GP.charts['{chart_id}'] && document.querySelector('#{chart_id} canvas'))"
        ), chart_id
        assert page.evaluate(f"window.GP.charts['{chart_id}'].getOption().series.length") >= 1
    # every asset came from our own server (offline rule)
    hosts = page.evaluate("performance.getEntriesByType('resource').map(e => new URL(e.name).host)")
    assert set(hosts) <= {server.removeprefix("http://")}
    assert "二氧化碳排放" in page.inner_text("body")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cockpit.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_english_switch_and_sankey(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server + "/sankey?lang=en")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert page.text_content("nav a[href='/sankey']") == "Energy flow"  # in the "Carbon and energy" menu
    nodes = page.evaluate("window.GP.charts['chart-sankey'].getOption().series[0].data.map(d => d.name)")
    assert "Natural gas" in nodes and "Industry" in nodes
    page.close()


def test_inventory_lineage_drilldown_after_login(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1400})  # type: ignore[attr-defined]
    page.goto(server + "/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", os.environ["_GP_STAFF_PASSWORD"])
    page.click("form.stack button")
    page.wait_for_url(server + "/")
    page.goto(server + "/inventory")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.select_option("#inv-year", "2020")  # the plan's own year (the page opens on the latest)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("tr[data-carrier='electricity']")
    page.click("tr[data-carrier='electricity']")
    page.wait_for_selector("#lineage-records tbody tr", timeout=10_000)
    box = page.inner_text("#inv-lineage")
    assert "grid-ndrc-2011-2012" in box and "0.5257" in box and "方案2.4" in box
    assert "电网平均排放因子" in box and "when only tce" not in box  # the method reads in Chinese
    page.screenshot(path=str(ARTIFACTS / "inventory-lineage.png"), full_page=True)
    page.close()


def test_api_docs_work_offline(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server + "/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    # a long document is drawn as the reader scrolls; the filter box finds a section by its tag
    for tag, path in (("inventory", "/api/inventory"), ("mrv", "/api/mrv/reports")):
        page.fill(".swagger-ui .filter input", tag)
        page.locator(".opblock-summary-path", has_text=path).first.wait_for(timeout=10_000)
        assert path in page.inner_text("body")
    assert not outside, outside
    page.close()


def test_environment_page(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1300})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    page.goto(server + "/environment")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    stations = httpx.get(server + "/api/env/stations").json()
    st = stations[0]
    api = httpx.get(
        server + "/api/env/air/annual", params={"station": st["station"], "year": st["years"][-1]}
    ).json()
    assert float(page.get_attribute("#env-index", "data-value") or 0) == pytest.approx(
        api["evaluation"]["composite_index"]
    )
    days = page.evaluate("window.GP.charts['chart-calendar'].getOption().series[0].data.length")
    year = int(st["years"][-1])
    assert days == len(api["daily"]) == (366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365)
    assert not st["decommissioned"]  # the page opens on an operating station
    assert "模拟数据" in page.inner_text("#env-source")  # synthetic data are labelled
    assert page.locator("#env-water tbody tr").count() == 11  # Table 1.5.1 + 3 横沟河 stations (project 11)
    page.screenshot(path=str(ARTIFACTS / "environment.png"), full_page=True)
    assert not errors, errors
    page.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What `make run` starts: the web app, the HJ 212 server and the simulated data loggers."""
    with demo_server(
        tmp_path_factory.mktemp("live"), serve=["--hj212-port", str(free_port()), "--simulate", "14"]
    ) as srv:
        base, data, logins = srv.base, srv.data, srv.logins
        os.environ["_GP_LIVE_STAFF"] = logins["staff"]
        c = httpx.Client(base_url=base, timeout=5)
        c.post("/api/auth/login", json={"username": "staff", "password": logins["staff"]})
        # wait until every registered logger has sent its backlog and the alarms have been evaluated
        for _ in range(240):
            d = c.get("/api/sources/overview").json()
            if (
                d["counts"]["never"] == 0
                and all(p["latest_hour_utc"] for p in d["points"])
                and c.get("/api/alarms").json()
            ):
                break
            time.sleep(0.5)
        else:
            pytest.fail(
                "the simulation did not fill the monitoring pages: "
                + (data / "server.log").read_text()[-3000:]
            )
        c.close()
        yield base


def _login(page: object, base: str) -> None:
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", "staff")  # type: ignore[attr-defined]
    page.fill("input[name=password]", os.environ["_GP_LIVE_STAFF"])  # type: ignore[attr-defined]
    page.click("form.stack button")  # type: ignore[attr-defined]
    page.wait_for_url(base + "/")  # type: ignore[attr-defined]


def test_monitoring_pages_with_the_running_server_and_simulator(live: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    _login(page, live)
    page.goto(live + "/monitoring")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("a.point").count() == 14
    assert page.evaluate("window.GP.charts['chart-map'].getOption().series[0].data.length") == 14
    assert "模拟" in page.inner_text("body")  # the demo says its data are simulated
    # the simulator's extra logger is unknown to the park: listed for adoption, then adopted
    row = page.locator("#unknown-table tr", has_text="SIM00000000014")
    assert row.count() == 1
    free = row.locator("select[name=outlet] option:not([disabled])").first.get_attribute("value")
    row.locator("select[name=outlet]").select_option(free)
    row.locator("form.adopt button").click()  # asks once more
    assert "再点一次" in row.locator("form.adopt button").inner_text()
    row.locator("form.adopt button").click()
    page.wait_for_selector("#unknown-table >> text=已认领", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "monitoring.png"), full_page=True)
    # an outlet: hourly series with the permit limit drawn
    page.locator("a.point").first.click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    limits = page.evaluate(
        "Object.values(window.GP.charts).flatMap(c => (c.getOption().series[0].markLine || {data: []}).data.map(d => d.yAxis))"
    )
    assert 100 in limits  # 福人金身药业 COD limit (illustrative GB 21904)
    page.click("button.time-sync")
    page.wait_for_selector("button.time-sync >> text=QN", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "outlet.png"), full_page=True)
    # alarm centre: acknowledge the first open alarm with a note
    page.goto(live + "/alarms")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    n = int(page.inner_text("#al-count"))
    assert n >= 1
    page.locator("#al-table button.ack").first.click()  # a small form opens under the alarm
    page.fill("tr.alarm-form textarea[name=note]", "已电话通知企业")
    page.click("tr.alarm-form button:not(.cancel)")
    page.wait_for_selector("#al-table >> text=已电话通知企业", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "alarms.png"), full_page=True)
    # enterprise file and river tracing
    page.goto(live + "/enterprises")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("table.channels").count() >= 1 and "GB 21904-2008" in page.inner_text("#ent-file")
    page.select_option("#ent-kind", "contacts")
    page.fill("#ent-fields input[name=name]", "张工")
    page.fill("#ent-fields input[name=phone]", "0715-8888888")
    page.click("#ent-form button")
    page.wait_for_selector("#ent-form-result >> text=已保存", timeout=10_000)
    page.wait_for_selector("#ent-file >> text=0715-8888888", timeout=10_000)  # the file shows the new contact
    assert page.locator("#set-fields input[name=missing_hours]").input_value() == "2"
    assert "数据缺失判定" in page.inner_text("#set-fields")  # each setting by its name (from the spec)
    page.goto(live + "/tracing?lang=en")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert "横沟河入湖口" in page.inner_text("#tr-change") and page.locator("#tr-table tbody tr").count() == 5
    page.screenshot(path=str(ARTIFACTS / "tracing.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_indicator_scorecard_and_reachability_text(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1800})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    page.goto(server + "/indicators?code=1a")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    api = httpx.get(server + "/api/indicators/scorecard").json()
    assert page.locator(".ind.card").count() == len(api["indicators"]) == 14
    one = next(c for c in api["indicators"] if c["code"] == "1a")
    card = page.locator(".ind.card[data-code='1a']")
    assert card.get_attribute("data-verdict") == one["reachability"]["verdict"]
    text = page.inner_text("#ind-text")  # the plan's 3.4 sentence, with greenpark's numbers
    assert "2025年目标为0.3" in text and "吨标准煤/万元" in text and "10^4" not in text
    assert "0.276" in page.inner_text(".ind.card[data-code='1c']")  # the plan's inconsistency is flagged
    page.screenshot(path=str(ARTIFACTS / "indicators.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_projects_and_land_pages(live: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    _login(page, live)
    page.goto(live + "/projects")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("#pj-table tbody tr").count() == 20
    assert "重复" in page.inner_text("#pj-table")  # the plan's duplicate projects are flagged
    page.locator("#pj-table tr[data-seq='11']").click()
    page.wait_for_selector("#pj-form", timeout=10_000)
    page.select_option("#pj-form select[name=status]", "in_progress")
    page.fill("#pj-form input[name=percent]", "35")
    page.fill("#pj-form input[name=on]", "2022-01-10")
    page.fill("#pj-form input[name=milestone]", "湿地开工")
    page.click("#pj-form button")
    page.wait_for_selector("#pj-history >> text=湿地开工", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "projects.png"), full_page=True)
    page.goto(live + "/land")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("#ld-table tbody tr").count() == 14
    assert "三年清零" in page.inner_text("#ld-idle-title")
    page.screenshot(path=str(ARTIFACTS / "land.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_indicator_values_reported_from_the_page(live: str, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1800})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    _login(page, live)
    page.goto(live + "/indicators?code=11")
    page.wait_for_selector("#ind-value-form", timeout=30_000)
    page.fill("#ind-value-form input[name=year]", "2021")
    page.fill("#ind-value-form input[name=value]", "301")
    page.fill("#ind-value-form input[name=source]", "科技局")
    page.click("#ind-value-form button")
    page.wait_for_selector("#ind-detail table.data >> text=301", timeout=10_000)
    # an Excel file with one bad cell: nothing imported, the cell named
    from openpyxl import Workbook

    before = httpx.get(live + "/api/indicators/9").json()["history"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "year", "value", "source"])
    ws.append(["9", 2021, 31.5, "科技局"])
    ws.append(["9", 2022, "三十五", "科技局"])
    bad = tmp_path / "values.xlsx"
    wb.save(bad)
    page.click("#ind-import summary")
    page.set_input_files("#ind-import-form input[type=file]", str(bad))
    page.click("#ind-import-form button")
    page.wait_for_selector("#ind-import-result .bad", timeout=10_000)
    assert "第 3 行，value 列" in page.inner_text("#ind-import-result")  # the bad cell, named in Chinese
    assert "不是数字" in page.inner_text("#ind-import-result")
    assert httpx.get(live + "/api/indicators/9").json()["history"] == before  # nothing imported
    page.screenshot(path=str(ARTIFACTS / "indicator-values.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_roadmap_page_scenarios_bands_editor_and_sinks(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 2000})  # type: ignore[attr-defined]
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(e.stack or str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server + "/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", os.environ["_GP_STAFF_PASSWORD"])
    page.click("form.stack button")
    page.wait_for_url(server + "/")
    page.goto(server + "/roadmap")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_selector("body[data-mc-ready='1']", timeout=120_000)
    api = {
        c: httpx.get(f"{server}/api/scenarios/{c}/run", timeout=60).json()
        for c in ("baseline", "peak-2030", "peak-2025")
    }
    rows = page.locator("#rm-table tbody tr")
    assert rows.count() == 3
    for code, r in api.items():
        cells = page.locator(f"#rm-table tr[data-code='{code}'] td").all_inner_texts()
        assert cells[1].startswith(str(r["peak_year"])) and cells[4] == str(r["neutral_year"] or "–")
    assert page.inner_text("#rm-table tr[data-code='peak-2030']").count("✓") == 6
    chart = page.evaluate("() => GP.charts['chart-roadmap'].getOption().series.map((s) => s.name)")
    assert (
        any("区间" in n for n in chart) and "林业碳汇" in chart and "净排放" in chart
    )  # bands, sinks and net line
    assert page.locator("#rm-projects tbody tr").count() == 3 and "示意" in page.inner_text("#rm-sink-note")
    # the editor: change a driver, re-run, see the new line, save under a new code
    page.fill("#rm-form input[name=ccus60]", "60")
    page.click("#rm-preview")
    page.wait_for_selector("#rm-table tr[data-code='preview']", timeout=30_000)
    assert "试算完成" in page.inner_text("#rm-form-result")
    page.fill("#rm-form input[name=code]", "ccus-60")
    page.fill("#rm-form input[name=name_zh]", "CCUS 60%")
    page.click("#rm-save")
    try:
        page.wait_for_selector("#rm-table tr[data-code='ccus-60']", timeout=60_000)
    except Exception:
        raise AssertionError(
            page.inner_text("#rm-form-result") + " | " + page.inner_text("#page-error") + " | " + str(errors)
        ) from None
    saved = httpx.get(f"{server}/api/scenarios/ccus-60", timeout=30).json()
    assert (
        saved["parent"] == "peak-2030"
        and saved["own"]["drivers"]["ccus"]["industry"]["targets"]["2060"] == 0.6
    )
    page.screenshot(path=str(ARTIFACTS / "roadmap.png"), full_page=True)
    page.goto(server + "/roadmap?lang=en")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    assert "Carbon-peak roadmap" in page.inner_text("h1") and "forest sink" in page.evaluate(
        "() => GP.charts['chart-roadmap'].getOption().series.map((s) => s.name).join('|')"
    )
    page.screenshot(path=str(ARTIFACTS / "roadmap-en.png"), full_page=True)
    assert not errors, errors
    assert not outside, outside
    page.close()

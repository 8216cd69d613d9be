"""The pages in a real browser: Debian's chromium driven by Playwright against a real server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

CHROMIUM = os.environ.get("GREENPARK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("GREENPARK_TEST_ARTIFACTS", "test-artifacts"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("GREENPARK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"chromium required but not found at {CHROMIUM}")
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM})")
    data = tmp_path_factory.mktemp("srv")
    env = {**os.environ, "GREENPARK_DATA_DIR": str(data), "GREENPARK_ENV": "development"}
    env.pop("GREENPARK_DATABASE_URL", None)
    gp = [sys.executable, "-m", "greenpark.cli.main"]
    subprocess.run([*gp, "demo"], env=env, check=True, capture_output=True)
    logins = dict(line.split("\t")[:2] for line in (data / "demo-logins.txt").read_text().splitlines()[1:])
    port = _free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [*gp, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        log.close()
        pytest.fail("server did not start: " + (data / "server.log").read_text())
    os.environ["_GP_STAFF_PASSWORD"] = logins["staff"]
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


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
    assert "Energy flow" in page.inner_text("header")
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
    page.click("tr[data-carrier='electricity']")
    page.wait_for_selector("#lineage-records tbody tr", timeout=10_000)
    box = page.inner_text("#inv-lineage")
    assert "grid-ndrc-2011-2012" in box and "0.5257" in box and "方案2.4" in box
    page.screenshot(path=str(ARTIFACTS / "inventory-lineage.png"), full_page=True)
    page.close()


def test_api_docs_work_offline(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server + "/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert "/api/inventory" in page.inner_text("body")
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
    assert days == len(api["daily"]) == 366
    assert "模拟数据" in page.inner_text("#env-source")  # synthetic data are labelled
    assert page.locator("#env-water tbody tr").count() == 11  # Table 1.5.1 + 3 横沟河 stations (project 11)
    page.screenshot(path=str(ARTIFACTS / "environment.png"), full_page=True)
    assert not errors, errors
    page.close()

"""The energy platform's page (issue 14 §7) in Chromium, as its users reach it: the enterprise sees
its own meters and opens a load curve; the park officer sees every meter, finds the one whose data
had faults and reads what happened; in Chinese and in English, through the menus only. A gateway
pushes a reading over HTTP first (a machine, as in the field) and the page shows it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from greenpark.services.energy.meters import token_sha256
from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in, sign_in_as
from tests.language import problems
from tests.test_browser_pages import READ_TEXT

pytestmark = pytest.mark.browser
TOKEN = "gpg_test-token-of-the-E01-gateway-0123456789"


def _known_token(db: Path) -> None:
    """The demo shows a gateway's token only when it is made; the test gives E01's a known one."""
    with sqlite3.connect(db) as c:
        c.execute("UPDATE energy_gateway SET token_sha256 = ? WHERE code = 'GW-E01'", (token_sha256(TOKEN),))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("energy"), prepare=_known_token) as srv:
        yield srv


def _reads(page: Any, lang: str) -> None:
    found = problems(lang, page.evaluate(READ_TEXT))
    assert not found, "\n".join(found)


def test_enterprise_and_officer_read_their_meters(site: DemoServer, page: Any) -> None:
    # the field: E01's gateway pushes its incomer's reading of now
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    r = httpx.post(site.base + "/api/energy/readings", headers={"Authorization": f"Bearer {TOKEN}"},
                   json={"readings": [{"meter": "E01-EL-IN", "t": now, "v": 99_999_999.0}]})  # fmt: skip
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text

    sign_in(page, site, "enterprise")
    open_menu(page, "碳与能源", "计量与能耗")
    page.wait_for_selector("body[data-ready='1']")
    rows = page.locator("#en-meters tbody tr[data-meter]")
    assert rows.count() == 3 and set(rows.evaluate_all("rs => rs.map(r => r.dataset.meter)")) == {
        "E01-EL-IN", "E01-EL-AIR", "E01-NG-01"}  # fmt: skip
    _reads(page, "zh")
    # the pushed reading is the incomer's last one (Beijing time on the page)
    bj = datetime.fromisoformat(now).astimezone(UTC).timestamp() + 8 * 3600
    shown = datetime.fromtimestamp(bj, UTC).strftime("%Y-%m-%d %H:%M")
    assert shown in page.locator("#en-meters tr[data-meter='E01-EL-IN']").inner_text()
    page.click("#en-meters tr[data-meter='E01-NG-01'] a.en-open")
    page.wait_for_selector("#en-chart canvas")
    page.select_option("#en-days", "7")
    page.select_option("#en-step", "day")
    page.click("#en-meter-card summary")
    # days, not hours, once both choices have loaded (each reloads the curve)
    for _ in range(100):
        if page.locator("#en-series tbody tr").count() <= 8:
            break
        page.wait_for_timeout(100)
    assert page.locator("#en-series tbody tr").count() <= 8
    # the demo's gas totaliser wraps at 1 000 000 m³ within the week: that day says so, nothing lost
    expect(page.locator("#en-series")).to_contain_text("计数器溢出回零")
    shot(page, "energy-enterprise-zh")

    sign_in_as(page, site, "staff")
    page.goto(site.base + "/?lang=en")
    open_menu(page, "Carbon and energy", "Meters and energy")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#en-meters tbody tr[data-meter]").count() == 12
    _reads(page, "en")
    page.fill("#en-filter", "E03-EL-IN")
    assert page.locator("#en-meters tbody tr[data-meter]").count() == 1
    faulty = page.locator("#en-meters tr[data-meter='E03-EL-IN']").inner_text()
    assert "spread over an outage" in faulty or "skipped" in faulty or "rejected" in faulty, faulty
    page.click("#en-meters tr[data-meter='E03-EL-IN'] a.en-open")
    page.wait_for_selector("#en-meter-card[data-drawn='1']")
    shot(page, "energy-staff-en")

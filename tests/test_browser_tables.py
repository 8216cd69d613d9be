"""Tables that grow (issue 11): in Chromium, an officer signed in through the login page searches,
sorts, pages and exports to Excel the enterprises of the file and the hourly data of an outlet —
typing and clicking on the visible page, then opening the downloaded workbook."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in

pytestmark = pytest.mark.browser

EXTRA = 30  # enterprises added to the demo's 14: more than a page (25 rows)
HOURS = 60  # hours of data at the first outlet (the page shows the last 48: more than a page)


def _cod(i: int) -> float:
    """The COD hourly mean i hours before the latest hour: each one different."""
    return round(40.0 + 1.25 * (HOURS - i), 2)


def _more_enterprises_and_hourly_data(db: Path) -> None:
    """A larger park: more enterprises in the file, and the hourly means the ingestion server would
    have rolled up for the first outlet's logger (one hour flagged M)."""
    c = sqlite3.connect(db)
    with c:
        park = c.execute("SELECT park_id FROM enterprise ORDER BY id LIMIT 1").fetchone()[0]
        for k in range(1, EXTRA + 1):
            c.execute(
                "INSERT INTO enterprise (park_id, code, name, uscc, industry_code, tags, note) "
                "VALUES (?, ?, ?, '', '', '', '')",
                (park, f"T{k:02d}", f"测试企业{k:02d}号有限公司"),
            )
        point = c.execute(
            "SELECT sp.id FROM source_point sp JOIN outlet o ON o.id = sp.outlet_id ORDER BY o.id LIMIT 1"
        ).fetchone()[0]
        now = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        latest = now - timedelta(hours=1)
        for i in range(HOURS):
            t = (latest - timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S.000000")
            for code, value in (("w00000", 5.0 + i % 3), ("w01018", _cod(i)), ("w21003", 2.5)):
                flags = "M" if (i == 7 and code == "w01018") else "N"
                c.execute(
                    "INSERT INTO source_rollup (point_id, period, start_utc, code, avg, min_value, max_value, "
                    "zs_avg, n, flags, origin) VALUES (?, 'hour', ?, ?, ?, ?, ?, NULL, 60, ?, 'live')",
                    (point, t, code, value, value, value, flags),
                )
    c.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("tables"), prepare=_more_enterprises_and_hourly_data) as srv:
        yield srv


def body_rows(p: Any, table: str) -> list[list[str]]:
    return p.eval_on_selector_all(
        f"{table} tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


def export(p: Any, table: str, tmp: Path) -> list[tuple[Any, ...]]:
    """Click the table's "export to Excel" and open what the browser downloaded."""
    with p.expect_download() as info:
        bar(p, table).locator("button.export").click()
    d = info.value
    assert d.suggested_filename.endswith(".xlsx")
    path = tmp / d.suggested_filename
    d.save_as(str(path))
    ws = load_workbook(path).active
    assert ws is not None
    return list(ws.iter_rows(values_only=True))


def bar(p: Any, table: str) -> Any:
    return p.locator(table).locator("xpath=preceding-sibling::div[contains(@class,'table-bar')][1]")


def pager(p: Any, table: str) -> Any:
    return p.locator(table).locator("xpath=following-sibling::div[contains(@class,'pager')][1]")


def test_staff_finds_sorts_pages_and_exports_the_enterprises(
    site: DemoServer, page: Any, tmp_path: Path
) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "污染源", "一企一档")
    t = "#ent-table"
    total = 14 + EXTRA
    assert f"{total}" in bar(page, t).locator(".count").inner_text()
    assert len(body_rows(page, t)) == 25  # the first page
    pager(page, t).locator("button", has_text="下一页").click()
    assert len(body_rows(page, t)) == total - 25
    assert "2" in pager(page, t).inner_text()
    # search: the added enterprises whose name has 测试企业0 (01–09)
    bar(page, t).locator("input[type=search]").fill("测试企业0")
    rows = body_rows(page, t)
    assert len(rows) == 9 and all("测试企业0" in r[1] for r in rows), rows
    assert "9" in bar(page, t).locator(".count").inner_text()
    # sort by code, then descending
    page.click(f"{t} thead th:has-text('编码')")
    assert [r[0] for r in body_rows(page, t)] == [f"T{k:02d}" for k in range(1, 10)]
    page.click(f"{t} thead th:has-text('编码')")
    assert [r[0] for r in body_rows(page, t)] == [f"T{k:02d}" for k in range(9, 0, -1)]
    assert page.get_attribute(f"{t} thead th:has-text('编码')", "aria-sort") == "descending"
    # a name opens its file, the table still there
    page.click(f"{t} a:has-text('测试企业09号有限公司')")
    page.wait_for_selector("body[data-ready='1']")
    assert "测试企业09号有限公司" in page.inner_text("#ent-file h2")
    assert page.locator(f"{t} tr.active").count() == 1
    shot(page, "staff-enterprises-table")
    # the export holds the whole table (every row, the columns as the page names them)
    sheet = export(page, t, tmp_path)
    assert sheet[0] == ("编码", "企业", "排口")
    assert len(sheet) == 1 + total
    assert ("T09", "测试企业09号有限公司", 0) in sheet
    assert ("E01", "湖北福人金身药业有限公司", 1) in sheet


def test_staff_reads_an_outlets_hourly_data_as_a_table_and_exports_it(
    site: DemoServer, page: Any, tmp_path: Path
) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "污染源", "污染源监控")
    # the outlet cards: the officer finds the outlet by its MN
    page.fill("#mon-search", "42120100101001")
    assert page.locator("a.point:visible").count() == 1
    assert "14" in page.inner_text("#mon-shown")
    page.locator("a.point:visible").click()
    page.wait_for_selector("body[data-ready='1']")
    t = "#out-history-table"
    heads = page.eval_on_selector_all(f"{t} thead th", "hs => hs.map(h => h.textContent.trim())")
    assert (
        heads[0] == "时间" and any("化学需氧量" in h and "mg/L" in h for h in heads) and "标记" in heads[-1]
    ), heads
    cod = next(i for i, h in enumerate(heads) if "化学需氧量" in h)
    assert "48" in bar(page, t).locator(".count").inner_text()  # the 48 hours chosen
    rows = body_rows(page, t)
    assert len(rows) == 25 and rows[0][cod] == f"{_cod(0):.3f}"  # newest first
    pager(page, t).locator("button", has_text="下一页").click()
    assert len(body_rows(page, t)) == 48 - 25
    # the M-flagged hour is listed by channel
    bar(page, t).locator("input[type=search]").fill(f"{_cod(7):.3f}")
    rows = body_rows(page, t)
    assert len(rows) == 1 and "化学需氧量" in rows[0][-1] and "M" in rows[0][-1], rows
    bar(page, t).locator("input[type=search]").fill("")
    # sort by COD: the lowest first, then the highest
    page.locator(f"{t} thead th").nth(cod).click()
    assert body_rows(page, t)[0][cod] == f"{_cod(47):.3f}"
    page.locator(f"{t} thead th").nth(cod).click()
    assert body_rows(page, t)[0][cod] == f"{_cod(0):.3f}"
    # over the limit (100 mg/L) in red
    assert page.locator(f"{t} tbody td.bad").count() >= 1
    shot(page, "staff-outlet-history-table")
    sheet = export(page, t, tmp_path)
    assert sheet[0][0] == "时间" and "化学需氧量" in str(sheet[0][cod]) and len(sheet) == 1 + 48
    values = sorted(r[cod] for r in sheet[1:])
    assert values == sorted(_cod(i) for i in range(48))  # numbers, not text
    assert sum(1 for r in sheet[1:] if r[-1] and "M" in str(r[-1])) == 1


def test_staff_reads_a_sections_samples_sorts_them_by_class_and_exports_them(
    site: DemoServer, page: Any, tmp_path: Path
) -> None:
    sign_in(page, site, "staff")
    open_menu(page, "污染源", "排口溯源")
    t = "#tr-samples-table"
    page.wait_for_selector(t)
    heads = page.eval_on_selector_all(f"{t} thead th", "hs => hs.map(h => h.textContent.trim())")
    assert heads[:2] == ["日期", "水质类别"] and any("氨氮" in h and "mg/L" in h for h in heads), heads
    rows = body_rows(page, t)
    days = [r[0] for r in rows]
    assert len(rows) >= 2 and days == sorted(days, reverse=True)  # newest first
    # the worst class first, then the best
    page.click(f"{t} thead th:has-text('水质类别')")
    page.click(f"{t} thead th:has-text('水质类别')")
    order = ["I", "II", "III", "IV", "V", "劣V"]
    classes = [r[1] for r in body_rows(page, t)]
    assert classes == sorted(classes, key=order.index, reverse=True), classes
    assert classes[0] == "劣V"  # the demo's latest sample at the Henggou mouth is worse than V
    # a day found by its date
    bar(page, t).locator("input[type=search]").fill(days[-1])
    assert [r[0] for r in body_rows(page, t)] == [days[-1]]
    sheet = export(page, t, tmp_path)
    assert sheet[0][:2] == ("日期", "水质类别") and len(sheet) == 1 + len(rows)
    assert all(isinstance(v, float | int) for v in sheet[1][2:] if v is not None), sheet[1]

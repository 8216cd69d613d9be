"""Keep what was changed (issue 12 §3): every record an import, a form or an API call changes keeps
its history — who, when, from what, to what, which batch — readable beside the record by those who
may read the record, and exportable; an unchanged re-import adds nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.services.carbon.io import import_file
from greenpark.services.park import audit
from greenpark.services.plan import indicators
from greenpark.services.pollution import sources
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.browser_helpers import DemoServer, demo_server, open_menu, shot, sign_in
from tests.conftest import demo_logins

#: The record the tests change: enterprise E03's diesel of 2024 (E03 is not the demo enterprise
#: user's own enterprise, E01).
KEY = "enterprise:E03|2024||industry|all|diesel|油品台账"


def _activity(quantity: float, note: str = "") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "activity"
    ws.append(["entity", "year", "sector", "boundary", "carrier", "quantity", "unit", "source_ref", "note"])
    ws.append(["enterprise:E03", 2024, "industry", "all", "diesel", quantity, "t", "油品台账", note or None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _events(s: Any) -> int:
    return int(s.scalar(select(func.count(m.AuditEvent.id))) or 0)


def _user(s: Any, name: str) -> m.AppUser:
    return s.scalars(select(m.AppUser).where(m.AppUser.username == name)).one()


def test_a_reimport_keeps_old_and_new_with_who_and_batch(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        import_file(s, "柴油台账.xlsx", _activity(300), user=_user(s, "staff"))
    with session_scope(fresh_demo_url) as s:
        park_id = s.scalars(select(m.Park.id)).one()
        (created,) = audit.history(s, "activity_record", KEY, park_id)
        assert created["action"] == "create" and created["old"] is None
        assert created["new"]["quantity"] == 300 and created["new"]["unit"] == "t"
        assert created["actor"] == "staff" and created["batch"].startswith("柴油台账.xlsx sha256:")
        e03 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E03")).one()
        assert created["enterprise_id"] == e03.id
        # the import's real 2024 figures of E03 superseded its illustrative ones: each kept as removed
        gone = audit.history(s, "activity_record", park_id=park_id, batch=created["batch"])
        removed = [r for r in gone if r["action"] == "delete"]
        assert removed and all(r["new"] is None and "illustrative" in r["old"]["source_ref"] for r in removed)
        assert all(r["key"].startswith("enterprise:E03|2024|") for r in removed)
        before = _events(s)

    with session_scope(fresh_demo_url) as s:  # the same file again: nothing changes, nothing is added
        import_file(s, "柴油台账.xlsx", _activity(300), user=_user(s, "staff"))
    with session_scope(fresh_demo_url) as s:
        assert _events(s) == before

    with session_scope(fresh_demo_url) as s:  # a corrected file: one event per changed field
        import_file(s, "柴油台账-更正.xlsx", _activity(320.5, "更正"), user=_user(s, "admin"))
    with session_scope(fresh_demo_url) as s:
        rows = audit.history(s, "activity_record", KEY, park_id)
        assert [r["action"] for r in rows] == ["change", "change", "create"]  # newest first
        by_field = {r["field"]: r for r in rows[:2]}
        assert (by_field["quantity"]["old"], by_field["quantity"]["new"]) == (300, 320.5)
        assert (by_field["note"]["old"], by_field["note"]["new"]) == ("", "更正")
        assert {r["actor"] for r in rows[:2]} == {"admin"}
        assert all(r["batch"].startswith("柴油台账-更正.xlsx sha256:") for r in rows[:2])
        assert _events(s) == before + 2


def test_indicator_values_and_the_enterprise_file_keep_their_history(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        park_id = s.scalars(select(m.Park.id)).one()
        old = s.scalars(
            select(m.IndicatorValue)
            .join(m.Indicator)
            .where(m.Indicator.code == "10", m.IndicatorValue.year == 2019)
        ).one()
        indicators.report(s, "10", 2019, 70_000, source=old.source, by="staff", batch="form")
        n = _events(s)
        # the same again
        indicators.report(s, "10", 2019, 70_000, source=old.source, by="staff", batch="form")
        assert _events(s) == n
        changed = audit.history(s, "indicator_value", "10|2019", park_id)[0]
        assert (changed["field"], changed["old"], changed["new"]) == ("value", 69_000, 70_000)
        assert (changed["actor"], changed["batch"]) == ("staff", "form")

        # a row of the enterprise file through the form: a changed limit, and a PW kept only as changed
        point = s.scalars(select(m.SourcePoint).order_by(m.SourcePoint.id)).first()
        assert point is not None
        outlet = s.get(m.Outlet, point.outlet_id)
        assert outlet is not None
        ent = s.get(m.Enterprise, outlet.enterprise_id)
        assert ent is not None
        row = {"enterprise": ent.code, "outlet": outlet.code, "mn": point.mn, "pw": "new-secret-9",
               "edition": point.edition, "maker": point.maker, "model": point.model}  # fmt: skip
        sources.save_rows(s, "points", [row], source="form", by="staff")
        (pw,) = [r for r in audit.history(s, "source_point", point.mn, park_id) if r["field"] == "pw"]
        assert pw["old"] == pw["new"] == audit.HIDDEN and pw["enterprise_id"] == ent.id
        stored = s.scalars(select(m.AuditEvent.new_json).where(m.AuditEvent.entity == "source_point"))
        assert not any("new-secret-9" in j for j in stored)
        assert any(
            r["entity"] == "source_point" for r in audit.history(s, park_id=park_id, enterprise_id=ent.id)
        )


@pytest.fixture
def client(fresh_demo_url: str) -> Iterator[TestClient]:
    with session_scope(fresh_demo_url) as s:
        import_file(s, "柴油台账.xlsx", _activity(300), user=_user(s, "staff"))
        import_file(s, "柴油台账-更正.xlsx", _activity(320.5), user=_user(s, "staff"))
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        c.url = fresh_demo_url  # type: ignore[attr-defined]
        yield c


def _login(c: TestClient, user: str) -> None:
    r = c.post("/api/auth/login", json={"username": user, "password": demo_logins[c.url][user]})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text


def _q(**kw: Any) -> str:
    return urlencode(kw)


def test_an_enterprise_user_cannot_read_another_enterprises_history(client: TestClient) -> None:
    one = _q(entity="activity_record", key=KEY)
    assert client.get("/api/history?" + one).status_code == 401
    _login(client, "enterprise")  # E01's user
    with session_scope(client.url) as s:  # type: ignore[attr-defined]
        e03 = s.scalars(select(m.Enterprise.id).where(m.Enterprise.code == "E03")).one()
        e01 = s.scalars(select(m.Enterprise.id).where(m.Enterprise.code == "E01")).one()
    assert client.get("/api/history?" + one).status_code == 403
    assert client.get("/api/history.xlsx?" + one).status_code == 403
    assert client.get("/api/history?" + _q(enterprise_id=e03)).status_code == 403
    park_record = _q(entity="indicator_value", key="10|2019")  # the park's, not an enterprise's
    assert client.get("/api/history?" + park_record).status_code == 403
    mine = client.get("/api/history").json()  # the park-wide list: only E01's records
    assert mine and {r["enterprise_id"] for r in mine} == {e01}
    assert client.get("/api/history?" + _q(enterprise_id=e01)).status_code == 200
    _login(client, "staff")
    rows = client.get("/api/history?" + one, headers={"Accept-Language": "zh"}).json()
    assert [r["field"] for r in rows[:1]] == ["quantity"] and rows[0]["field_label"] == "实物量"
    assert (rows[0]["old_text"], rows[0]["new_text"]) == ("300", "320.5")


def test_the_history_exports_as_xlsx_and_csv(client: TestClient) -> None:
    _login(client, "staff")
    r = client.get("/api/history.xlsx?" + _q(entity="activity_record", key=KEY, lang="zh"))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["时间（UTC）", "修改人", "操作", "记录类型", "记录", "字段", "原值", "新值", "批次"]
    assert rows[1][1:8] == ["staff", "修改", "活动数据记录", KEY, "实物量", "300", "320.5"]
    assert rows[1][8].startswith("柴油台账-更正.xlsx sha256:")
    assert rows[2][2] == "新建" and "实物量: 300" in rows[2][7]
    text = client.get("/api/history.csv?" + _q(batch=rows[1][8], lang="en")).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["Time (UTC)", "Who", "Action"] and lines[1][5:8] == ["Quantity", "300", "320.5"]


def test_the_command_lists_and_exports_a_records_history(fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:  # fmt: skip
    from greenpark.cli.main import app

    with session_scope(fresh_demo_url) as s:
        import_file(s, "柴油台账.xlsx", _activity(300), user=_user(s, "staff"))
        import_file(s, "柴油台账-更正.xlsx", _activity(320.5), user=_user(s, "staff"))
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    runner = CliRunner()
    res = runner.invoke(app, ["history", "--entity", "activity_record", "--key", KEY, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [(r["field"], r["old"], r["new"]) for r in rows[:1]] == [("quantity", 300, 320.5)]
    out = tmp_path / "h.xlsx"
    res = runner.invoke(app, ["history", "--entity", "activity_record", "--key", KEY, "-o", str(out)])
    assert res.exit_code == 0 and "2 change(s)" in res.stdout, res.output
    ws = load_workbook(out).active
    assert ws is not None and ws.max_row == 3
    res = runner.invoke(app, ["history", "--enterprise", "E99"])
    assert res.exit_code == 2


# ------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("history")) as srv:
        yield srv


@pytest.mark.browser
def test_staff_changes_a_value_on_the_page_and_reads_its_history_beside_it(
    site: DemoServer, page: Any
) -> None:
    """Park staff sign in, report a corrected figure of indicator 10 for 2019 through the
    indicator's form, open the year's history and see the old and the new value, who and how."""
    from playwright.sync_api import expect

    sign_in(page, site, "staff")
    open_menu(page, "规划与指标", "指标与可达性")
    page.click(".ind.card[data-code='10']")
    page.wait_for_selector("#ind-value-form")
    page.fill("#ind-value-form input[name=year]", "2019")
    page.fill("#ind-value-form input[name=value]", "71500")
    page.fill("#ind-value-form input[name=note]", "统计局更正")
    page.click("#ind-value-form button")
    row = page.locator("#ind-values tr[data-year='2019']")
    expect(row).to_contain_text("71,500")  # the page shows the value it saved
    row.locator("button.history-btn").click()
    history = page.locator("#ind-values tr.history-row")
    history.locator("table.history-table").wait_for()
    first = history.locator("tbody tr").first.inner_text()  # the newest change, its first field: the value
    assert "staff" in first and "修改" in first and "69000" in first and "71500" in first, first
    assert "页面表单" in first  # the batch: a form on a page
    assert "统计局更正" in history.inner_text()  # the note changed with it
    assert re.search(r"新建", history.inner_text())  # the value as it came first, from the plan
    link = history.locator("a[href*='history.xlsx']")
    assert "indicator_value" in (link.get_attribute("href") or "")
    shot(page, "staff-indicator-history")
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
    assert ws is not None and ws.cell(2, 7).value == "69000" and ws.cell(2, 8).value == "71500"

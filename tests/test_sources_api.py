"""The pollution-source API: who may see and change what, enterprise isolation, CSRF, and each
route doing its job against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from greenpark.services.pollution import alarms, ingest
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.hj212_helpers import upload
from tests.test_api import login


@pytest.fixture
def client(fresh_demo_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        yield c


def _exceedance(url: str, mn: str) -> int:
    t = datetime(2026, 10, 1, 8)
    f = upload(mn, "2061", t.strftime("%Y%m%d%H%M%S"), {"w01018": {"Avg": "150", "Flag": "N"}})
    with session_scope(url) as s:
        items = [ingest.classify(f, b"", "t", t, ingest.load_registry(s))]
        ingest.write_batch(s.connection(), items)
        ingest.rollup(s, ingest.touched_hours(items))
        alarms.evaluate(s, now=t - timedelta(hours=8) + timedelta(hours=1, minutes=5))
        pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        return int(
            s.scalars(select(m.Alarm.id).where(m.Alarm.point_id == pid, m.Alarm.rule == "exceedance")).one()
        )


def test_monitoring_is_for_signed_in_users_and_enterprises_see_their_own(
    client: TestClient, fresh_demo_url: str
) -> None:
    assert client.get("/api/sources/overview").status_code == 401
    login(client, fresh_demo_url, "staff")
    d = client.get("/api/sources/overview").json()
    assert len(d["points"]) == 14 and d["counts"]["never"] == 14 and d["unknown_pending"] == 0
    ents = {e["name"]: e["id"] for e in client.get("/api/sources/enterprises").json()}
    client.post("/api/auth/logout")
    login(client, fresh_demo_url, "enterprise")
    with session_scope(fresh_demo_url) as s:
        own = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one().enterprise_id
    mine = client.get("/api/sources/overview").json()
    assert {p["enterprise_id"] for p in mine["points"]} <= {own} and mine["unknown_pending"] is None
    other = next(i for i in ents.values() if i != own)
    assert client.get(f"/api/sources/enterprises/{other}").status_code == 403
    assert client.get(f"/api/sources/enterprises/{own}").status_code == 200
    assert [e["id"] for e in client.get("/api/sources/enterprises").json()] == [own]
    assert client.get("/api/tracing", params={"section": "横沟河入湖口"}).status_code == 403
    assert client.get("/api/sources/unknown").status_code == 403


def test_alarm_ack_and_close_by_staff_with_csrf(client: TestClient, fresh_demo_url: str) -> None:
    aid = _exceedance(fresh_demo_url, "42120100101001")
    csrf = login(client, fresh_demo_url, "staff")
    rows = client.get("/api/alarms").json()
    assert [a["id"] for a in rows if a["rule"] == "exceedance"] == [aid]
    assert client.post(f"/api/alarms/{aid}/ack", json={"note": "x"}).status_code == 403  # no CSRF token
    h = {"X-CSRF-Token": csrf}
    r = client.post(f"/api/alarms/{aid}/ack", json={"note": "phoned the plant"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["ack_by"] == "staff"
    assert client.post(f"/api/alarms/{aid}/ack", json={}, headers=h).status_code == 409
    assert (
        client.post(f"/api/alarms/{aid}/close", json={"note": ""}, headers=h).status_code == 422
    )  # a closing note is required
    r = client.post(f"/api/alarms/{aid}/close", json={"note": "valve fixed"}, headers=h)
    assert r.json()["status"] == "closed" and [x["action"] for x in r.json()["log"]] == [
        "open",
        "ack",
        "close",
    ]
    assert client.get("/api/alarms", params={"status": "closed"}).json()[0]["id"] == aid
    assert client.post("/api/alarms/999999/ack", json={}, headers=h).status_code == 404


def test_enterprise_user_cannot_ack(client: TestClient, fresh_demo_url: str) -> None:
    aid = _exceedance(fresh_demo_url, "42120100301001")
    csrf = login(client, fresh_demo_url, "enterprise")
    r = client.post(f"/api/alarms/{aid}/ack", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403


def test_channel_edit_import_export_and_settings(client: TestClient, fresh_demo_url: str) -> None:
    csrf = login(client, fresh_demo_url, "staff")
    h = {"X-CSRF-Token": csrf}
    ents = client.get("/api/sources/enterprises").json()
    f = client.get(f"/api/sources/enterprises/{ents[0]['id']}").json()
    ch = next(c for c in f["outlets"][0]["points"][0]["channels"] if c["code"] == "w01018")
    r = client.patch(
        f"/api/sources/channels/{ch['id']}",
        json={"limit_value": 90, "limit_standard": "DB (illustr.)"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["limit_value"] == 90
    r = client.patch(
        f"/api/sources/channels/{ch['id']}", json={"limit_value": 90, "limit_standard": ""}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "limit_standard"
    x = client.get("/api/sources/export.xlsx")
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).sheetnames[:3] == [
        "rivers",
        "sections",
        "outlets",
    ]
    bad = "enterprise,code,name,medium\n无此企业,DW9,x,water\n".encode()
    r = client.post("/api/sources/import", files={"file": ("outlets.csv", bad, "text/csv")}, headers=h)
    assert r.status_code == 422 and {k: v for k, v in r.json()["errors"][0].items() if k not in ("text", "column_label")} == {
        "file": "outlets.csv", "sheet": "", "row": 2, "column": "enterprise",
        "reason": "unknown enterprise '无此企业' (add it to the park first)",
    }  # fmt: skip
    r = client.post("/api/sources/import", files={"file": ("export.xlsx", x.content)}, headers=h)
    assert r.status_code == 200 and r.json()["imported"]["channels"] == 71
    assert client.get("/api/settings/monitoring").json()["missing_hours"] == 2
    assert (
        client.put("/api/settings/monitoring", json={"missing_hours": 3}, headers=h).json()["missing_hours"]
        == 3
    )
    assert client.put("/api/settings/monitoring", json={"missing_hours": "x"}, headers=h).status_code == 422
    p = client.get("/api/sources/overview").json()["points"][0]
    r = client.post(f"/api/sources/points/{p['point_id']}/time-sync", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "pending" and len(r.json()["qn"]) == 17


def test_tracing_api(client: TestClient, fresh_demo_url: str) -> None:
    login(client, fresh_demo_url, "verifier")
    secs = client.get("/api/tracing/sections").json()
    assert [s["name"] for s in secs if s["river"] == "横沟河"] == ["横沟河上游", "横沟河中游", "横沟河入湖口"]
    d = client.get("/api/tracing", params={"section": "横沟河入湖口"}).json()
    assert d["change"]["worsened"] and len(d["ranking"]) == 5
    assert client.get("/api/tracing", params={"section": "南川水库"}).status_code == 404


def test_rows_added_and_changed_through_the_api_with_the_import_checks(
    client: TestClient, fresh_demo_url: str
) -> None:
    csrf = login(client, fresh_demo_url, "staff")
    h = {"X-CSRF-Token": csrf}
    assert "outlets" in client.get("/api/sources/schema").json()
    row = {"enterprise": "湖北智莱科技有限公司", "code": "YS001", "name": "雨水排口", "medium": "water",
           "river": "gan", "river_km": "17.2"}  # fmt: skip
    r = client.put("/api/sources/outlets", json=[row], headers=h)
    assert r.status_code == 200 and r.json()["saved"] == 1
    r = client.put("/api/sources/outlets", json=[{**row, "medium": "air"}], headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "medium"
    r = client.put("/api/sources/permits", json=[{"enterprise": "湖北智莱科技有限公司", "number": "P-1",
                                                  "valid_from": "2026-01-01", "valid_to": "2025-01-01"}], headers=h)  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "valid_to"
    ent = next(
        e for e in client.get("/api/sources/enterprises").json() if e["name"] == "湖北智莱科技有限公司"
    )
    outlets = client.get(f"/api/sources/enterprises/{ent['id']}").json()["outlets"]
    assert [o["code"] for o in outlets] == ["DW001", "YS001"] and outlets[1]["river_km"] == 17.2
    assert client.put("/api/sources/nope", json=[{}], headers=h).status_code == 404

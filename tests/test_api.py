"""The JSON API: roles on every route, enterprise isolation, CSRF, tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenpark.services.park import auth
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.conftest import demo_logins


@pytest.fixture
def client(demo_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(), database_url=demo_url)
    with TestClient(app) as c:
        yield c


def login(c: TestClient, url: str, user: str) -> str:
    r = c.post("/api/auth/login", json={"username": user, "password": demo_logins[url][user]})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def _codes(url: str) -> tuple[str, str]:
    with session_scope(url) as s:
        u = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one()
        own = s.get(m.Enterprise, u.enterprise_id)
        other = s.scalars(select(m.Enterprise).where(m.Enterprise.id != u.enterprise_id)).first()
        assert own is not None and other is not None
        return own.code, other.code


def test_public_reads_park_figures(client: TestClient) -> None:
    r = client.get("/api/cockpit?scope=core&year=2020")
    assert r.status_code == 200
    assert r.json()["current"]["totals"]["co2_t"] == pytest.approx(513_765, abs=1)
    assert client.get("/api/factor-sets").status_code == 200
    assert client.get("/api/reproduce").json()["ok"] is True
    assert client.get("/api/enterprises").status_code == 401
    assert client.get("/api/inventory/records?scope=core&year=2020").status_code == 401


def test_enterprise_user_cannot_read_another_enterprise(client: TestClient, demo_url: str) -> None:
    own, other = _codes(demo_url)
    login(client, demo_url, "enterprise")
    assert client.get(f"/api/enterprises/{own}").status_code == 200
    assert client.get(f"/api/enterprises/{other}").status_code == 403
    assert client.get(f"/api/enterprises/{other}/activity").status_code == 403
    assert client.get(f"/api/inventory?scope={other}&year=2020").status_code == 403
    assert client.get(f"/api/inventory/records?scope={other}&year=2020").status_code == 403
    assert client.get(f"/api/inventory/export.xlsx?scope={other}&year=2020").status_code == 403
    assert client.get("/api/inventory?scope=park&year=2020&by=enterprise").status_code == 403
    assert [e["code"] for e in client.get("/api/enterprises").json()] == [own]


def test_readers_see_all_enterprises(client: TestClient, demo_url: str) -> None:
    _own, other = _codes(demo_url)
    login(client, demo_url, "verifier")
    assert client.get(f"/api/enterprises/{other}").status_code == 200
    assert len(client.get("/api/enterprises").json()) >= 14


def test_csrf_required_for_cookie_writes(client: TestClient, demo_url: str) -> None:
    token = login(client, demo_url, "staff")
    files = {
        "file": (
            "x-activity.csv",
            b"entity,year,boundary,carrier,energy_tce\nzone:core,2030,all,diesel,1\n",
            "text/csv",
        )
    }
    assert client.post("/api/import", files=files).status_code == 403
    r = client.post("/api/import", files=files, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text


def test_public_and_verifier_cannot_import(client: TestClient, demo_url: str) -> None:
    files = {"file": ("x-activity.csv", b"entity,year,boundary\n", "text/csv")}
    assert client.post("/api/import", files=files).status_code == 401
    token = login(client, demo_url, "verifier")
    assert client.post("/api/import", files=files, headers={"X-CSRF-Token": token}).status_code == 403


def test_import_errors_as_json(client: TestClient, demo_url: str) -> None:
    token = login(client, demo_url, "admin")
    files = {
        "file": (
            "bad-activity.csv",
            b"entity,year,boundary,carrier,energy_tce\nzone:core,20x0,all,diesel,1\n",
            "text/csv",
        )
    }
    r = client.post("/api/import", files=files, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert (err["file"], err["row"], err["column"]) == ("bad-activity.csv", 2, "year")


def test_api_token(client: TestClient, demo_url: str) -> None:
    with session_scope(demo_url) as s:
        user = s.scalars(select(m.AppUser).where(m.AppUser.username == "verifier")).one()
        token = auth.create_api_token(s, user, "test")
    c = TestClient(client.app)
    assert c.get("/api/enterprises", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert c.get("/api/enterprises", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_wrong_password(client: TestClient) -> None:
    assert (
        client.post("/api/auth/login", json={"username": "admin", "password": "wrong-password"}).status_code
        == 401
    )


def test_pages_render_in_both_languages(client: TestClient) -> None:
    for path in ("/", "/sankey", "/inventory", "/factors", "/reproduce", "/login", "/api/docs"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "cdn" not in r.text.lower() or path == "/api/docs"
    # a page for signed-in users is a page with the way in, not JSON
    r = client.get("/import")
    assert r.status_code == 401 and 'id="error-login"' in r.text and "/login?next=/import" in r.text
    r = client.get("/nope")
    assert (
        r.status_code == 404 and "页面不存在" in r.text and r.headers["content-type"].startswith("text/html")
    )
    assert client.get("/api/nope").headers["content-type"].startswith("application/json")
    assert "驾驶舱" in client.get("/").text
    assert "Cockpit" in client.get("/?lang=en").text
    assert "Cockpit" in client.get("/").text  # the language choice sticks (cookie)


def test_openapi_documents_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "/api/inventory" in spec["paths"] and "/api/import" in spec["paths"]


def test_results_change_when_data_change(fresh_demo_url: str) -> None:
    app = create_app(Settings(), database_url=fresh_demo_url)
    with TestClient(app) as c:
        before = c.get("/api/cockpit?scope=core&year=2020").json()["current"]["totals"]["co2_t"]
        assert (
            c.get("/api/cockpit?scope=core&year=2020").json()["current"]["totals"]["co2_t"] == before
        )  # cached
        token = login(c, fresh_demo_url, "staff")
        body = b"entity,year,boundary,carrier,quantity,unit\nzone:core,2020,all,heat,1000,GJ\n"
        r = c.post(
            "/api/import",
            files={"file": ("heat-activity.csv", body, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 200, r.text
        after = c.get("/api/cockpit?scope=core&year=2020").json()["current"]["totals"]["co2_t"]
    # 1 000 GJ of purchased heat at the NDRC default 0.11 tCO2/GJ
    assert after - before == pytest.approx(110.0)


def test_cockpit_required_reduction(client: TestClient) -> None:
    d = client.get("/api/cockpit?scope=core&year=2020").json()
    req = d["indicator"]["required_reduction"]
    # from 0.396 (2020) to the plan's 0.3 in 2025: about 5.4 %/yr (the plan says "at least 5.5 %")
    assert req["to_year"] == 2025 and req["target"] == 0.3
    assert req["rate_per_year"] == pytest.approx(0.0538, abs=5e-4)


def test_environment_api(client: TestClient) -> None:
    r = client.get(
        "/api/env/aqi", params={"pm25": 75.5, "pm10": 150.9, "co": 3.9, "date": "2020-06-01"}
    ).json()
    assert r["aqi"] == 101 and r["edition"] == "HJ 633-2012"
    assert (
        client.get("/api/env/aqi", params={"pm25": 75.5, "date": "2026-06-01"}).json()["edition"]
        == "HJ 633-2026"
    )
    assert client.get("/api/env/aqi", params={"pm25": 10, "period": "week"}).status_code == 422
    assert (
        client.get("/api/env/water-class", params={"codmn": 5.8, "nh3n": 0.9, "tp": 0.12}).json()["class"]
        == "III"
    )
    assert client.get("/api/env/noise", params={"zone_class": "3", "leq": 66}).json()["complies"] is False
    # Table 1.5.1 (8) and the three 横沟河 stations of project 11 (illustrative)
    assert len(client.get("/api/env/water-sections").json()) == 11
    zones = client.get("/api/env/noise-zones").json()
    assert {z["zone_class"] for z in zones} == {"2", "3", "4a", "4b"}
    stations = client.get("/api/env/stations").json()
    # the operating station with the latest data first (illustrative 2021-2025), the decommissioned after
    assert [s["station"] for s in stations] == ["高新区省控站(示意)", "长江产业园(停用)"]
    st = stations[1]
    assert st["years"] == [2016, 2017, 2018, 2019, 2020]
    ev = client.get("/api/env/air/annual", params={"station": st["station"], "year": 2016}).json()[
        "evaluation"
    ]
    # the station table's 2016 values: PM2.5 48 > 35, so the year is not attained
    assert ev["statistics"]["pm25"]["annual_mean"] == pytest.approx(48) and not ev["attained"]


def test_environment_imports_need_staff(fresh_demo_url: str) -> None:
    app = create_app(Settings(), database_url=fresh_demo_url)
    body = b"section,date,item,value\nws05,2024-05-10,nh3n,1.2\n"
    with TestClient(app) as c:
        assert c.post("/api/env/water/import", files={"file": ("w.csv", body, "text/csv")}).status_code == 401
        token = login(c, fresh_demo_url, "staff")
        r = c.post(
            "/api/env/water/import",
            files={"file": ("w.csv", body, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 200 and r.json()["changed"] == 1
        bad = b"point,date,period,leq_db\nnoise-2,2024-06-01,day,loud\n"
        r = c.post(
            "/api/env/noise/import",
            files={"file": ("n.csv", bad, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 422 and r.json()["errors"][0]["column"] == "leq_db"
        hourly = b"time,so2,no2,co,o3,pm10,pm25\n2021-01-01 00:00,5,10,0.5,30,40,20\n"
        r = c.post(
            "/api/env/air/import",
            params={"station": "air01"},
            files={"file": ("a.csv", hourly, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 200 and r.json()["hours_changed"] == 1

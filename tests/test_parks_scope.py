"""Park and zone scope on every route: two parks (the demo and a second park created from its
workbook), two zones of the second park with an enterprise each, and their users walk every GET
route of the API aimed at the objects of the other park, the other zone and the other enterprise.
No answer is a 5xx, no answer names what lies outside the caller's scope, and the owners and
readers of the whole park get their own (the control)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenpark.demo import load_demo
from greenpark.services.energy import meters
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE, NORTH_NAME, SOUTH_NAME, SecondPark, add_second_park
from tests.routes import api_routes, dependencies


@dataclass
class Houses:
    url: str
    logins: dict[str, str]
    lake: SecondPark
    #: names of the demo park's enterprises (none may show in the second park's answers)
    demo_names: list[str]
    demo_alarm: int


@pytest.fixture(scope="module")
def houses(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Houses]:
    url = new_database(backend, tmp_path_factory.mktemp("parks"))
    with session_scope(url) as s:
        report = load_demo(s, synthetic_air=False)
        logins = {u: p for u, p, _r in report.logins}
        names = list(s.scalars(select(m.Enterprise.name).order_by(m.Enterprise.id)))
        e03 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E03")).one()
        outlet = s.scalars(select(m.Outlet).where(m.Outlet.enterprise_id == e03.id)).first()
        point = s.scalars(select(m.SourcePoint).where(m.SourcePoint.outlet_id == outlet.id)).first()  # type: ignore[union-attr]
        assert point is not None
        now = m.utcnow()
        alarm = m.Alarm(point_id=point.id, code="w01018", rule="exceedance", severity="critical",
                        opened_utc=now, last_fired_utc=now, message=f"{e03.name} over the limit")  # fmt: skip
        s.add(alarm)
        s.flush()
        demo_alarm = alarm.id
    lake = add_second_park(url)
    logins.update(lake.logins)
    with session_scope(url) as s:  # a meter of each of the second park's enterprises (the energy routes)
        for target in ("N1", "S1"):
            ent = s.get(m.Enterprise, lake.ids[f"{target}.enterprise"])
            assert ent is not None
            meters.add_meter(s, ent, meters.MeterFields(code=f"{target}-EL-01", name=f"{ent.name} 进线",
                                                        carrier="electricity", unit="kWh"))  # fmt: skip
    yield Houses(url, logins, lake, names, demo_alarm)
    dispose_engine(url)


def _login(c: TestClient, h: Houses, user: str) -> None:
    r = c.post("/api/auth/login", json={"username": user, "password": h.logins[user]})
    assert r.status_code == 200, r.text


def _get_routes() -> list[APIRoute]:
    app = create_app(Settings(), database_url="sqlite://")
    return [r for r in api_routes(app) if "GET" in r.methods]


def _url(route: APIRoute, h: Houses, target: str) -> str:
    """The route aimed at enterprise ``target`` (N1 or S1) of the second park and its objects."""
    ids = h.lake.ids
    path = route.path.format(
        code=target, enterprise_id=ids[f"{target}.enterprise"], outlet_id=ids[f"{target}.outlet"],
        alarm_id=ids[f"{target}.alarm"], point_id=ids[f"{target}.point"], seq=1, update_id=1, table="water_use",
        fmt="xlsx", channel_id=1, username="staff2", report_id=1, verification_id=1, meter_code=f"{target}-EL-01",
    )  # fmt: skip
    names = {p.name for p in route.dependant.query_params}
    for d in dependencies(route.dependant):
        names |= {p.name for p in d.query_params}
    query = {"scope": target, "enterprise_id": ids[f"{target}.enterprise"], "year": 2023, "entity": "enterprise",
             "key": target}  # fmt: skip
    q = "&".join(f"{k}={v}" for k, v in query.items() if k in names)
    return path + ("?" + q if q else "")


#: Who may see what: the names that must never appear in a user's answers.
DEMO = "DEMO"  # stands for every demo enterprise's name
HIDDEN: dict[str, tuple[str, ...]] = {
    "staff": (NORTH_NAME, SOUTH_NAME),  # the demo park's staff: nothing of the other park
    "zone": (NORTH_NAME, SOUTH_NAME),
    "enterprise": (NORTH_NAME, SOUTH_NAME),
    "staff2": (DEMO,),
    "zone_north": (SOUTH_NAME, DEMO),
    "zone_south": (NORTH_NAME, DEMO),
    "ent_north": (SOUTH_NAME, DEMO),
    "ent_south": (NORTH_NAME, DEMO),
}


def _hidden(h: Houses, user: str) -> list[str]:
    out: list[str] = []
    for name in HIDDEN[user]:
        out += h.demo_names if name == DEMO else [name]
    return out


@pytest.mark.parametrize("user", list(HIDDEN))
def test_every_get_route_keeps_to_the_callers_park_and_zone(houses: Houses, user: str) -> None:
    routes = _get_routes()
    assert len(routes) >= 60
    hidden = _hidden(houses, user)
    walked = 0
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, user)
        for route in routes:
            if route.path in ("/api/docs", "/api/openapi.json") or route.path.endswith("/attachment"):
                continue
            for target in ("N1", "S1"):
                url = _url(route, houses, target)
                r = c.get(url)
                walked += 1
                assert r.status_code < 500, (user, url, r.status_code, r.text[:300])
                body = r.content.decode("utf-8", "replace") if not r.headers.get("content-type", "").startswith(
                    "application/vnd.openxmlformats") else ""  # fmt: skip
                leaked = [n for n in hidden if n in body]
                assert not leaked, (user, url, r.status_code, leaked[:3])
    assert walked >= 120


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        ("staff2", {NORTH_NAME, SOUTH_NAME}),
        ("zone_north", {NORTH_NAME}),
        ("zone_south", {SOUTH_NAME}),
        ("ent_north", {NORTH_NAME}),
        ("ent_south", {SOUTH_NAME}),
    ],
)
def test_the_owners_get_their_own(houses: Houses, user: str, sees: set[str]) -> None:
    """The control: the same listings name what the caller may see."""
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, user)
        for path in ("/api/enterprises", "/api/sources/enterprises", "/api/alarms"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:200])
            assert {n for n in (NORTH_NAME, SOUTH_NAME) if n in r.text} == sees, (user, path)
        own = "N1" if NORTH_NAME in sees and len(sees) == 1 else "S1"
        r = c.get(f"/api/inventory/records?scope={own}&year=2023")
        assert r.status_code == 200 and len(r.json()) == 1, r.text[:200]


def test_a_zone_officer_changes_only_the_zone(houses: Houses) -> None:
    lake = houses.lake.ids
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, "zone_north")
        csrf = {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}
        assert (
            c.post(f"/api/alarms/{lake['S1.alarm']}/ack", json={"note": "x"}, headers=csrf).status_code == 403
        )
        r = c.post(f"/api/alarms/{lake['N1.alarm']}/ack", json={"note": "seen"}, headers=csrf)
        assert r.status_code == 200, r.text
        assert (
            c.post(f"/api/alarms/{houses.demo_alarm}/ack", json={"note": "x"}, headers=csrf).status_code
            == 404
        )
        # imports: the zone's enterprises yes, the other zone's and the whole park's no (cell named)
        header = "entity,year,sector,boundary,carrier,quantity,unit,source_ref\n"
        ok = header + "enterprise:N1,2024,industry,all,electricity,1000,MWh,meter\n"
        r = c.post("/api/import", files={"file": ("north.csv", ok.encode(), "text/csv")}, headers=csrf)
        assert r.status_code == 200, r.text
        bad = (
            header
            + "enterprise:S1,2024,industry,all,electricity,1000,MWh,x\npark,2024,,all,electricity,5,MWh,x\n"
        )
        r = c.post("/api/import", files={"file": ("south.csv", bad.encode(), "text/csv")}, headers=csrf)
        assert r.status_code == 422, r.text
        cells = {(e["row"], e["column"]) for e in r.json()["errors"]}
        assert cells == {(2, "entity"), (3, "entity")}, r.text
    with session_scope(houses.url) as s:
        assert not s.scalars(select(m.ActivityRecord).where(m.ActivityRecord.source_ref == "x")).first()


def test_park_staff_cannot_reach_the_other_park(houses: Houses) -> None:
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, "staff2")
        csrf = {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}
        assert c.get(f"/api/alarms/{houses.demo_alarm}").status_code == 404
        assert (
            c.post(f"/api/alarms/{houses.demo_alarm}/close", json={"note": "x"}, headers=csrf).status_code
            == 404
        )
        assert c.get("/api/enterprises/E03").status_code == 404
        # the monitoring settings hold for every park's devices: not one park's staff's to change
        r = c.put("/api/settings/monitoring", json={"missing_hours": 5}, headers=csrf)
        assert r.status_code == 403, r.text
        # the park's own figures are the second park's, whatever ?park= says (a park's user stays in it)
        r = c.get("/api/cockpit?park=xianning-htz")
        assert r.status_code == 200 and r.json()["park"]["code"] == CODE


def test_house_wide_users_switch_parks(houses: Houses) -> None:
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, "bureau")
        assert c.get("/api/cockpit").json()["park"]["code"] == "xianning-htz"  # the house's first park
        r = c.get(f"/api/enterprises?park={CODE}")
        assert r.status_code == 200 and {NORTH_NAME, SOUTH_NAME} <= {e["name"] for e in r.json()}
        assert not re.search("|".join(map(re.escape, houses.demo_names[:3])), r.text)
        # the page's switcher keeps the choice for the next requests
        r = c.get(f"/park?park={CODE}&next=/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert c.get("/api/cockpit").json()["park"]["code"] == CODE
        assert c.get("/park?park=nowhere&next=/", follow_redirects=False).status_code == 404
        csrf = {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}
        lake = houses.lake.ids
        # a bureau reads; it does not act
        assert (
            c.post(f"/api/alarms/{lake['N1.alarm']}/close", json={"note": "x"}, headers=csrf).status_code
            == 403
        )
    with TestClient(create_app(Settings(), database_url=houses.url)) as c:
        _login(c, houses, "staff")
        assert c.get(f"/park?park={CODE}&next=/", follow_redirects=False).status_code == 403

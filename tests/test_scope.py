"""The scope rule, in one place and on every route: every API route declares who may call it; no
route reads a scope or an enterprise's id itself (it gets them resolved and checked by a
``web/scope.py`` dependency); and every route that takes one refuses the anonymous, a signed-in
public user and another enterprise's user, while the owner and readers of the whole park get in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

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
from tests.conftest import demo_logins, new_database
from tests.routes import api_routes, guarded_by

#: Parameters that name an enterprise's data; a route must take them through a scope dependency.
SCOPED_NAMES = {"scope", "enterprise_id", "outlet_id", "point_id", "channel_id", "alarm_id", "meter_code"}


def test_every_api_route_declares_roles() -> None:
    app = create_app(Settings(), database_url="sqlite://")
    for route in api_routes(app):
        if route.path == "/api/auth/login":
            continue
        assert guarded_by(route, "allowed_roles"), f"{route.path} declares no roles"


def test_no_route_reads_a_scope_itself() -> None:
    app = create_app(Settings(), database_url="sqlite://")
    checked = 0
    for route in api_routes(app):
        own = {p.name for p in route.dependant.query_params + route.dependant.path_params}
        assert not own & SCOPED_NAMES, (
            f"{route.path} reads {own & SCOPED_NAMES} itself, not through web/scope.py"
        )
        if route.path.startswith("/api/enterprises/{code}"):
            assert "code" not in own, f"{route.path} reads the enterprise code itself"
        checked += bool(guarded_by(route, "scope_guard"))
    assert checked >= 12  # inventory, records, export, cockpit, history, enterprises, sources, alarms…


@dataclass
class World:
    url: str
    own_code: str
    other_code: str
    other_id: int
    other_name: str
    other_outlet: int
    other_alarm: int
    #: One of the other enterprise's records with a history (entity, key): the history routes' record.
    other_record: tuple[str, str] = ("", "")
    #: A meter of the other enterprise (the energy platform's meter routes).
    other_meter: str = "E03-EL-SCOPE"


@pytest.fixture(scope="module")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = new_database(backend, tmp_path_factory.mktemp("scope"))
    with session_scope(url) as s:
        report = load_demo(s, synthetic_air=False)
        demo_logins[url] = {u: p for u, p, _r in report.logins}
        user = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one()
        own = s.get(m.Enterprise, user.enterprise_id)
        other = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E03")).one()
        assert own is not None and own.id != other.id
        outlet = s.scalars(select(m.Outlet).where(m.Outlet.enterprise_id == other.id)).first()
        assert outlet is not None
        point = s.scalars(select(m.SourcePoint).where(m.SourcePoint.outlet_id == outlet.id)).first()
        assert point is not None
        now = m.utcnow()
        alarm = m.Alarm(point_id=point.id, code="w01018", rule="exceedance", severity="critical",
                        opened_utc=now, last_fired_utc=now, message=f"{other.name} over the limit")  # fmt: skip
        s.add(alarm)
        s.flush()
        record = s.execute(
            select(m.AuditEvent.entity, m.AuditEvent.entity_key).where(m.AuditEvent.enterprise_id == other.id)
        ).first()
        assert record is not None
        meters.add_meter(
            s,
            other,
            meters.MeterFields(code="E03-EL-SCOPE", name="总进线", carrier="electricity", unit="kWh"),
        )
        w = World(url, own.code, other.code, other.id, other.name, outlet.id, alarm.id, tuple(record))
    yield w
    dispose_engine(url)


def _url(route: APIRoute, w: World, target: str, target_id: int) -> str:
    path = route.path.format(
        code=target,
        enterprise_id=target_id,
        outlet_id=w.other_outlet,
        alarm_id=w.other_alarm,
        meter_code=w.other_meter,
    )
    names = {p.name for d in [route.dependant] for p in d.query_params}
    for d in _all(route):
        names |= {p.name for p in d.query_params}
    query = {"scope": target, "enterprise_id": target_id, "year": 2020, "entity": w.other_record[0],
             "key": w.other_record[1]}  # fmt: skip
    q = urlencode({k: v for k, v in query.items() if k in names})
    return path + ("?" + q if q else "")


def _all(route: APIRoute) -> list[object]:
    from tests.routes import dependencies

    return list(dependencies(route.dependant))


def _scoped_get_routes() -> list[APIRoute]:
    app = create_app(Settings(), database_url="sqlite://")
    return [r for r in api_routes(app) if guarded_by(r, "scope_guard") and "GET" in r.methods]


def _login(c: TestClient, url: str, user: str) -> None:
    r = c.post("/api/auth/login", json={"username": user, "password": demo_logins[url][user]})
    assert r.status_code == 200, r.text


def _leaks(body: str, w: World) -> bool:
    return w.other_name in body or re.search(rf'"{w.other_code}"', body) is not None


@pytest.mark.parametrize("who", ["anonymous", "public", "enterprise"])
def test_every_scoped_route_refuses_strangers(world: World, who: str) -> None:
    routes = _scoped_get_routes()
    assert len(routes) >= 12
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        if who != "anonymous":
            _login(c, world.url, who)
        for route in routes:
            url = _url(route, world, world.other_code, world.other_id)
            r = c.get(url)
            assert r.status_code < 500, (url, r.status_code, r.text[:300])
            if r.status_code == 200:
                # a listing limited to the caller's own enterprise: nothing of the other's in it
                assert who == "enterprise", (who, url, "answered 200")
                assert not _leaks(r.text, world), (url, "shows another enterprise's data")
            else:
                assert r.status_code in (401, 403, 404), (url, r.status_code)
                if who == "anonymous" and route.path.startswith(
                    ("/api/sources", "/api/alarms", "/api/enterprises")
                ):
                    assert r.status_code == 401, (url, r.status_code)


@pytest.mark.parametrize("who", ["verifier", "staff", "admin"])
def test_readers_of_the_park_get_every_scoped_route(world: World, who: str) -> None:
    """The control: the same calls succeed for those allowed, so the refusals above are the rule's."""
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        _login(c, world.url, who)
        for route in _scoped_get_routes():
            if route.path == "/api/cockpit":  # the cockpit is for the park and its zones only
                continue
            url = _url(route, world, world.other_code, world.other_id)
            r = c.get(url)
            assert r.status_code == 200, (url, r.status_code, r.text[:300])


def test_enterprise_user_gets_its_own_scope(world: World) -> None:
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        _login(c, world.url, "enterprise")
        for path in (f"/api/inventory?scope={world.own_code}&year=2020", f"/api/scenarios/history?scope={world.own_code}",
                     f"/api/enterprises/{world.own_code}", f"/api/inventory/records?scope={world.own_code}&year=2020"):  # fmt: skip
            assert c.get(path).status_code == 200, path
        # the leak the probe found: an enterprise's history for anyone
        c.post("/api/auth/logout", headers={"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"] or ""})
        assert c.get(f"/api/scenarios/history?scope={world.other_code}").status_code == 401


def _mrv_get_routes() -> list[APIRoute]:
    app = create_app(Settings(), database_url="sqlite://")
    return [r for r in api_routes(app) if guarded_by(r, "mrv_guard") and "GET" in r.methods]


@pytest.mark.parametrize("who", ["anonymous", "public", "enterprise", "verifier"])
def test_the_reporting_cycle_refuses_strangers(world: World, who: str) -> None:
    """The cycle's narrower rule (a verifier: only the enterprises its body was assigned) on every
    cycle route that names an enterprise: another enterprise is not shown to exist."""
    routes = _mrv_get_routes()
    assert len(routes) >= 6
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        if who != "anonymous":
            _login(c, world.url, who)
        for route in routes:
            for named in ({"enterprise_id": world.other_id}, {"enterprise": world.other_code}):
                r = c.get(route.path, params={**named, "year": 2020, "old": 1, "new": 1})
                assert r.status_code in (401, 403, 404), (who, route.path, named, r.status_code, r.text[:200])
                assert not _leaks(r.text, world), (route.path, "shows another enterprise's data")


def test_park_staff_reach_every_enterprise_of_the_cycle(world: World) -> None:
    """The control: park staff get the same calls (the diff of versions that do not exist is 404)."""
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        _login(c, world.url, "staff")
        for route in _mrv_get_routes():
            r = c.get(route.path, params={"enterprise": world.other_code, "year": 2020, "old": 1, "new": 1})
            expected = 404 if route.path.endswith("/diff") else 200
            assert r.status_code == expected, (route.path, r.status_code, r.text[:300])

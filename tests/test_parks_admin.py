"""The administration page's API for several parks (issue 12 §1 "the same from an admin page", §2
users carrying a scope): an admin of the whole house creates a park from its onboarding workbook
and gives users a park, a zone or an enterprise of it; an admin of one park manages that park only —
its workbook, its users, their tokens, sessions and logins, its part of the audit trail."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from greenpark.demo import load_demo
from greenpark.services.park import auth
from greenpark.services.portfolio.onboarding import write_workbook
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import demo_logins, new_database
from tests.parks import CODE, NORTH_NAME, add_second_park, second_park_rows, second_park_workbook

DEMO = "xianning-htz"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The second park's own admin (created in the fixture beside the users tests/parks.py makes).
LAKE_ADMIN, LAKE_PASSWORD = "lake_admin", "lake-admin-password-1"


def _client(url: str, user: str, password: str) -> tuple[TestClient, dict[str, str]]:
    c = TestClient(create_app(Settings(), database_url=url))
    r = c.post("/api/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}


def _upload(c: TestClient, h: dict[str, str], name: str, content: bytes) -> Any:
    return c.post("/api/parks", files={"file": (name, content, XLSX)}, headers=h)


def _parks(url: str) -> int:
    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(m.Park)) or 0)


# ------------------------------------------------------------------ parks from workbooks


def test_an_admin_of_the_house_creates_a_park_from_a_workbook(fresh_demo_url: str) -> None:
    c, h = _client(fresh_demo_url, "admin", demo_logins[fresh_demo_url]["admin"])
    with c:
        blank = c.get("/api/parks/template.xlsx?lang=en")
        assert blank.status_code == 200 and blank.headers["content-type"] == XLSX
        sheets = load_workbook(io.BytesIO(blank.content), read_only=True).sheetnames
        assert {"park", "zones", "enterprises", "indicators"} <= set(sheets)
        assert (
            "园区"
            in load_workbook(io.BytesIO(c.get("/api/parks/template.xlsx").content), read_only=True).sheetnames
        )

        r = _upload(c, h, "lakeside.xlsx", second_park_workbook())
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["ok"] and d["created"] and d["park"] == CODE and not d["unchanged"]
        assert d["changed"]["zone"] == 2 and d["changed"]["enterprise"] == 2
        assert set(d["changed_labels"]) == set(d["changed"])
        listed = {p["code"]: p for p in c.get("/api/parks").json()}
        assert set(listed) == {DEMO, CODE}
        assert (listed[CODE]["zones"], listed[CODE]["enterprises"]) == (2, 2)
        assert [z["code"] for z in listed[CODE]["zone_list"]] == ["north", "south"]

        # the same workbook again changes nothing; the park's own workbook, imported again, neither
        again = _upload(c, h, "lakeside.xlsx", second_park_workbook()).json()
        assert again["ok"] and not again["created"] and again["unchanged"], again
        own = c.get(f"/api/parks/{CODE}/workbook.xlsx")
        assert own.status_code == 200 and own.headers["content-type"] == XLSX
        assert _upload(c, h, "exported.xlsx", own.content).json()["unchanged"]
        assert c.get("/api/parks/no-such-park/workbook.xlsx").status_code == 404

        # the new park's zones and enterprises take users at once
        r = c.post("/api/admin/users", json={"username": "north_officer", "role": "zone_staff", "park": CODE,
                                             "zone": "north"}, headers=h)  # fmt: skip
        assert r.status_code == 200, r.text


def test_a_bad_cell_is_named_and_nothing_is_created(fresh_demo_url: str) -> None:
    rows = second_park_rows("bad-park")
    rows["enterprises"][1]["land_area_mu"] = -3  # the second enterprise: its row 3 on the sheet
    c, h = _client(fresh_demo_url, "admin", demo_logins[fresh_demo_url]["admin"])
    with c:
        r = c.post("/api/parks?lang=zh", files={"file": ("bad.xlsx", write_workbook(rows), XLSX)}, headers=h)
        assert r.status_code == 422, r.text
        d = r.json()
        assert d["ok"] is False and d["file"] == "bad.xlsx" and d["errors_total"] == 1
        (e,) = d["errors"]
        assert (e["file"], e["sheet"], e["row"], e["column"]) == ("bad.xlsx", "企业", 3, "land_area_mu")
        assert "企业" in e["text"] and "land_area_mu" in e["text"] and "-3" in e["reason"]
        assert "column_label" in e
    assert _parks(fresh_demo_url) == 1


# ------------------------------------------------------------------ two parks and their admins


@dataclass
class Houses:
    url: str
    logins: dict[str, str]


@pytest.fixture(scope="module")
def houses(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Houses]:
    """The demo (its house-wide admin and bureau, its park's users) and the second park with its
    users, its own admin, and a token and a session of each park's staff."""
    url = new_database(backend, tmp_path_factory.mktemp("parks-admin"))
    with session_scope(url) as s:
        logins = {u: p for u, p, _r in load_demo(s, synthetic_air=False).logins}
    lake = add_second_park(url)
    logins.update(lake.logins)
    with session_scope(url) as s:
        park = s.scalars(select(m.Park).where(m.Park.code == CODE)).one()
        auth.create_user(s, LAKE_ADMIN, LAKE_PASSWORD, auth.Role.ADMIN, park_id=park.id, by="test")
        for name in ("staff", "staff2"):
            auth.create_api_token(s, auth.get_user(s, name), f"{name} gateway", by="test")
    logins[LAKE_ADMIN] = LAKE_PASSWORD
    for name in ("staff", "staff2"):  # a live session and a login each
        _client(url, name, logins[name])[0].close()
    yield Houses(url, logins)
    dispose_engine(url)


def _as(houses: Houses, user: str) -> tuple[TestClient, dict[str, str]]:
    return _client(houses.url, user, houses.logins[user])


def test_an_admin_of_one_park_updates_only_that_park(houses: Houses) -> None:
    c, h = _as(houses, LAKE_ADMIN)
    with c:
        assert [p["code"] for p in c.get("/api/parks").json()] == [CODE]
        # another park: refused, the cell named and why
        r = _upload(c, h, "other.xlsx", second_park_workbook("another-park"))
        assert r.status_code == 422, r.text
        (e,) = r.json()["errors"]
        assert (e["sheet"], e["row"], e["column"]) == ("园区", 2, "code") and CODE in e["reason"]
        assert _parks(houses.url) == 2
        # the demo park's workbook is none of its business (and its code is not told)
        r = c.get(f"/api/parks/{DEMO}/workbook.xlsx")
        assert r.status_code == 404 and r.json()["detail"] == f"no park {DEMO!r}"
        assert c.get(f"/api/parks/{CODE}/workbook.xlsx").status_code == 200
        # its own park: updated from an edited workbook
        rows = second_park_rows()
        rows["park"][0]["name_en"] = "Lakeside Eco-industrial Park (renamed)"
        r = _upload(c, h, "lake-renamed.xlsx", write_workbook(rows))
        assert r.status_code == 200, r.text
        assert r.json()["changed"] == {"park": 1} and not r.json()["created"]
        assert c.get("/api/parks").json()[0]["name_en"].endswith("(renamed)")
        # the trail it sees is its park's: the rename is there, the demo's records are not
        trail = c.get("/api/admin/audit?limit=1000").json()
        assert trail and {e["park_id"] for e in trail} == {houses_park_id(houses, CODE)}
        assert any(e["entity"] == "park" and e["field"] == "name_en" for e in trail)


def houses_park_id(houses: Houses, code: str) -> int:
    with session_scope(houses.url) as s:
        return int(s.scalars(select(m.Park.id).where(m.Park.code == code)).one())


def test_each_admin_lists_the_users_of_its_parks(houses: Houses) -> None:
    c, _h = _as(houses, LAKE_ADMIN)
    with c:
        users = {u["username"]: u for u in c.get("/api/admin/users").json()}
        assert set(users) == {LAKE_ADMIN, "staff2", "zone_north", "zone_south", "ent_north", "ent_south"}
        north = users["zone_north"]
        assert (north["park"], north["zone"], north["zone_name_zh"]) == (CODE, "north", "北区")
        assert (users["ent_north"]["enterprise"], users["ent_north"]["enterprise_code"]) == (NORTH_NAME, "N1")
        # tokens, sessions and logins: of its park's users only
        assert {t["username"] for t in c.get("/api/admin/tokens").json()} == {"staff2"}
        assert {x["username"] for x in c.get("/api/admin/sessions").json()} == {"staff2", LAKE_ADMIN}
        assert {x["username"] for x in c.get("/api/admin/logins").json()} == {"staff2", LAKE_ADMIN}
    c, _h = _as(houses, "admin")
    with c:
        users = {u["username"]: u for u in c.get("/api/admin/users").json()}
        assert {"admin", "bureau", "staff", "staff2", LAKE_ADMIN} <= set(users)
        assert (
            users["admin"]["park"] == ""
            and users["staff"]["park"] == DEMO
            and users["staff2"]["park"] == CODE
        )
        assert {"staff", "staff2"} <= {t["username"] for t in c.get("/api/admin/tokens").json()}
        parks = {e["park_id"] for e in c.get("/api/admin/audit?limit=1000").json()}
        assert houses_park_id(houses, DEMO) in parks and houses_park_id(houses, CODE) in parks


def test_an_admin_of_one_park_cannot_touch_other_parks_accounts(houses: Houses) -> None:
    c, h = _as(houses, LAKE_ADMIN)
    with c:
        # the house's admin and the demo park's staff are "no user" to it
        assert c.post("/api/admin/users/admin/password", headers=h).status_code == 404
        assert c.post("/api/admin/users/staff/active", json={"active": False}, headers=h).status_code == 404
        assert c.put("/api/admin/users/staff/role", json={"role": "verifier"}, headers=h).status_code == 404
        r = c.post("/api/admin/tokens", json={"username": "staff", "name": "x", "days": 1}, headers=h)
        assert r.status_code == 422
        with session_scope(houses.url) as s:
            token = s.scalars(select(m.ApiToken.id).join(m.AppUser, m.AppUser.id == m.ApiToken.user_id)
                              .where(m.AppUser.username == "staff")).first()  # fmt: skip
            session = s.scalars(select(m.UserSession.id).join(m.AppUser, m.AppUser.id == m.UserSession.user_id)
                                .where(m.AppUser.username == "staff")).first()  # fmt: skip
        assert c.delete(f"/api/admin/tokens/{token}", headers=h).status_code == 404
        assert c.delete(f"/api/admin/sessions/{session}", headers=h).status_code == 404
        # users of every park or of another park it cannot make
        for park in ("*", DEMO):
            r = c.post(
                "/api/admin/users",
                json={"username": f"bureau_{len(park)}", "role": "bureau", "park": park},
                headers=h,
            )
            assert r.status_code == 403, r.text
        # its own park's users it makes and changes ("" is its park)
        r = c.post("/api/admin/users", json={"username": "lake_verifier", "role": "verifier"}, headers=h)
        assert r.status_code == 200, r.text
        r = c.put(
            "/api/admin/users/lake_verifier/role", json={"role": "zone_staff", "zone": "south"}, headers=h
        )
        assert r.status_code == 200, r.text
    with session_scope(houses.url) as s:
        staff = auth.get_user(s, "staff")
        assert staff.active and staff.role == "park_staff"
        assert s.scalars(select(m.ApiToken.revoked_utc).where(m.ApiToken.id == token)).one() is None
        v = auth.get_user(s, "lake_verifier")
        zone = s.get(m.Zone, v.zone_id)
        assert v.role == "zone_staff" and zone is not None and zone.code == "south"


def test_users_carry_a_park_a_zone_or_an_enterprise(houses: Houses) -> None:
    c, h = _as(houses, "admin")

    def create(username: str, **body: str) -> Any:
        return c.post("/api/admin/users", json={"username": username, **body}, headers=h)

    with c:
        r = create("north_two", role="zone_staff", park=CODE, zone="north")
        assert r.status_code == 200, r.text
        # a zone or an enterprise is looked up in the user's park only
        r = create("wrong_zone", role="zone_staff", park=CODE, zone="core")  # the demo's zone
        assert r.status_code == 422 and "core" in r.json()["detail"]
        r = create("wrong_ent", role="enterprise", park=CODE, enterprise="E01")  # the demo's enterprise
        assert r.status_code == 422 and "E01" in r.json()["detail"]
        assert create("no_zone", role="zone_staff", park=CODE).status_code == 422
        r = create("ent_two", role="enterprise", park=CODE, enterprise="S1")
        assert r.status_code == 200, r.text
        # every park: an admin or a bureau only
        assert create("bureau_two", role="bureau", park="*").status_code == 200
        assert create("staff_all", role="park_staff", park="*").status_code == 422
        assert create("staff_nowhere", role="park_staff", park="no-such-park").status_code == 422
        # a role change is checked the same way (set_role through check_user_scope)
        assert c.put("/api/admin/users/ent_two/role", json={"role": "enterprise", "park": CODE, "enterprise": "E01"},
                     headers=h).status_code == 422  # fmt: skip
        assert c.put("/api/admin/users/ent_two/role", json={"role": "zone_staff", "park": CODE},
                     headers=h).status_code == 422  # fmt: skip
        assert c.put("/api/admin/users/ent_two/role", json={"role": "park_staff", "park": "*"},
                     headers=h).status_code == 422  # fmt: skip
        r = c.put(
            "/api/admin/users/ent_two/role",
            json={"role": "enterprise", "park": CODE, "enterprise": "N1"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        users = {u["username"]: u for u in c.get("/api/admin/users").json()}
    assert (users["north_two"]["park"], users["north_two"]["zone"]) == (CODE, "north")
    assert (users["ent_two"]["park"], users["ent_two"]["enterprise_code"], users["ent_two"]["zone"]) == (
        CODE,
        "N1",
        "north",
    )
    assert users["bureau_two"]["park"] == ""


def test_every_event_of_the_trail_is_labelled(houses: Houses) -> None:
    """The page shows the trail's labels: every action and kind of record the demo, a park's
    workbook and the account changes leave has words in Chinese and in English."""
    c, _h = _as(houses, "admin")
    with c:
        zh = c.get("/api/admin/audit?limit=1000", headers={"Accept-Language": "zh"}).json()
        en = c.get("/api/admin/audit?limit=1000", headers={"Accept-Language": "en"}).json()
    kinds = {e["entity"] for e in zh} | {e["action"] for e in zh}
    assert {"park", "zone", "enterprise", "create_user", "create_token", "app_user"} <= kinds
    for e in zh:
        assert e["entity_label"] != e["entity"] and e["action_label"] != e["action"], e
    for e in en:
        assert e["entity_label"] != e["entity"] and e["action_label"] != e["action"], e
    # every code the services record has a label, whether this trail holds it yet or not
    for code in ("rekey", "adopt", "create_user", "set_role", "create_token", "revoke_token", "end_session"):
        assert auth.action_label(code) != code
    for code in ("plan_measure", "monitoring_point", "published_table", "indicator_target", "mrv_body",
                 "mrv_body_member", "mrv_dqcp", "mrv_evidence", "mrv_unit_decision", "mrv_deadlines"):  # fmt: skip
        assert auth.entity_label(code) != code

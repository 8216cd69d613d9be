"""Regression tests for the security probe's findings on the web server (issue 10): headers, body
and URL limits at the edge, server-side sessions, tokens that expire and can be revoked, login
throttling, settings with ranges and history, commit before answering, formula injection and
control characters in exports, upload limits (zip bomb, rows, fields, error lists), and inputs that
used to give 5xx. The browser XSS test is in test_browser_security.py; the HJ 212 and webhook
findings in test_hj212_admission.py and test_webhooks.py."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, select, text, update

from greenpark.services.park import auth
from greenpark.services.tabular import MAX_REPORTED_ERRORS, MAX_ROWS, MAX_UNPACKED_BYTES
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.store.guard import FieldRejected
from greenpark.web.app import create_app
from greenpark.web.security import MAX_JSON_BYTES, MAX_MULTIPART_BYTES
from tests.conftest import demo_logins

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def app_url(fresh_demo_url: str) -> str:
    return fresh_demo_url


@pytest.fixture
def client(app_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), database_url=app_url)) as c:
        yield c


def login(c: TestClient, url: str, user: str) -> dict[str, str]:
    r = c.post("/api/auth/login", json={"username": user, "password": demo_logins[url][user]})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


# ------------------------------------------------------------------------------------- the edge


def test_security_headers_on_every_kind_of_response(client: TestClient) -> None:
    for path in ("/", "/api/health", "/static/app.js", "/api/nope", "/login"):
        h = client.get(path).headers
        csp = h["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, path
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "same-origin", path


def test_pages_have_no_inline_script(client: TestClient, app_url: str) -> None:
    login(client, app_url, "admin")
    for path in ("/", "/indicators", "/roadmap", "/projects", "/land", "/sankey", "/inventory", "/environment",
                 "/monitoring", "/alarms", "/enterprises", "/tracing", "/import", "/factors", "/reproduce",
                 "/api/docs", "/admin"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 200, path
        body = r.text
        assert "<script>" not in body and " onclick=" not in body and " onload=" not in body, path


def test_body_limits_before_reading(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    # declared too large: refused from the header alone
    r = client.post("/api/import", headers={**h, "Content-Length": str(MAX_MULTIPART_BYTES + 1),
                                            "Content-Type": "multipart/form-data; boundary=x"}, content=b"--x--")  # fmt: skip
    assert r.status_code == 413 and "MiB" in r.json()["detail"]
    # a JSON body over its limit, streamed without a length
    big = json.dumps({"note": "x" * (MAX_JSON_BYTES + 10)}).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = client.put(
        "/api/settings/monitoring", headers={**h, "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413


def test_urls_with_control_characters_or_too_long(client: TestClient) -> None:
    assert client.get("/api/inventory?scope=park%00&year=2020").status_code == 400
    assert client.get("/api/scenarios/base%01line").status_code == 400
    assert client.get("/api/health?" + "a=1&" * 3000).status_code == 414


# ----------------------------------------------------------------------------- sessions, tokens


def test_a_cookie_replayed_after_logout_is_worthless(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "admin")
    cookie = client.cookies.get("greenpark_session")
    assert client.get("/api/admin/users").status_code == 200
    assert client.post("/api/auth/logout", headers=h).status_code == 200
    with TestClient(client.app) as thief:
        thief.cookies.set("greenpark_session", cookie)
        assert thief.get("/api/auth/me").json()["role"] == "public"
        assert thief.get("/api/admin/users").status_code == 401


def test_deactivation_and_password_reset_end_sessions(client: TestClient, app_url: str) -> None:
    with TestClient(client.app) as staff:
        login(staff, app_url, "staff")
        assert staff.get("/api/enterprises").status_code == 200
        h = login(client, app_url, "admin")
        assert (
            client.post("/api/admin/users/staff/active", json={"active": False}, headers=h).status_code == 200
        )
        assert staff.get("/api/enterprises").status_code == 401
        assert (
            client.post("/api/admin/users/staff/active", json={"active": True}, headers=h).status_code == 200
        )
        r = client.post("/api/admin/users/staff/password", headers=h)
        new = r.json()["password"]
        assert staff.post("/api/auth/login", json={"username": "staff", "password": new}).status_code == 200
        assert staff.get("/api/enterprises").status_code == 200
        client.post("/api/admin/users/staff/password", headers=h)
        assert staff.get("/api/enterprises").status_code == 401  # the reset ended that session too
    with session_scope(app_url) as s:
        actions = [
            e.action for e in s.scalars(select(m.AuditEvent).where(m.AuditEvent.entity_key == "staff"))
        ]
    assert {"deactivate", "activate", "reset_password"} <= set(actions)


def test_tokens_expire_and_can_be_revoked(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "verifier")
    r = client.post("/api/auth/tokens", json={"name": "script", "days": 30}, headers=h)
    token = r.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(client.app) as machine:
        assert machine.get("/api/enterprises", headers=bearer).status_code == 200
        mine = client.get("/api/auth/tokens").json()
        assert mine[0]["name"] == "script" and mine[0]["state"] == "active" and "token" not in mine[0]
        assert client.delete(f"/api/auth/tokens/{mine[0]['id']}", headers=h).status_code == 200
        assert machine.get("/api/enterprises", headers=bearer).status_code == 401
        # an expired token
        token2 = client.post("/api/auth/tokens", json={"name": "old"}, headers=h).json()["token"]
        with session_scope(app_url) as s:
            s.execute(
                update(m.ApiToken)
                .where(m.ApiToken.name == "old")
                .values(expires_utc=m.utcnow() - timedelta(seconds=1))
            )
        assert (
            machine.get("/api/enterprises", headers={"Authorization": f"Bearer {token2}"}).status_code == 401
        )
    assert (
        client.post("/api/auth/tokens", json={"name": "forever", "days": 100000}, headers=h).status_code
        == 422
    )
    # another user's token cannot be revoked by this one
    other = client.post("/api/auth/tokens", json={"name": "mine"}, headers=h).json()
    with TestClient(client.app) as staff:
        hs = login(staff, app_url, "staff")
        ids = [t["id"] for t in client.get("/api/auth/tokens").json() if t["name"] == "mine"]
        assert staff.delete(f"/api/auth/tokens/{ids[0]}", headers=hs).status_code == 404
    assert other["days"] == auth.DEFAULT_TOKEN_DAYS


def test_login_throttled_per_user_and_per_address(client: TestClient, app_url: str) -> None:
    for _ in range(auth.MAX_FAILURES_PER_USER):
        assert (
            client.post("/api/auth/login", json={"username": "staff", "password": "wrong-wrong"}).status_code
            == 401
        )
    r = client.post("/api/auth/login", json={"username": "staff", "password": demo_logins[app_url]["staff"]})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0  # even the right password waits
    with session_scope(app_url) as s:  # the refused attempt is kept too, without extending the wait
        results = [
            a.result for a in s.scalars(select(m.LoginAttempt).where(m.LoginAttempt.username == "staff"))
        ]
    assert results.count("failed") == auth.MAX_FAILURES_PER_USER and results[-1] == "throttled"
    # the same address trying other names is stopped too
    for i in range(auth.MAX_FAILURES_PER_ADDRESS):
        client.post("/api/auth/login", json={"username": f"nobody{i}", "password": "wrong-wrong"})
    r = client.post("/api/auth/login", json={"username": "admin", "password": demo_logins[app_url]["admin"]})
    assert r.status_code == 429
    # the page says so in the page's language
    page = client.post(
        "/login", data={"username": "admin", "password": "x", "csrf_token": _form_csrf(client)}
    )
    assert page.status_code == 429 and "分钟" in page.text


def _form_csrf(c: TestClient) -> str:
    html = c.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_page_forms_post_with_their_own_token(client: TestClient, app_url: str) -> None:
    """The import page's form cannot send the API's header: it must work with the form's token,
    and fail without it."""
    token = _form_csrf(client)
    r = client.post("/login", data={"username": "staff", "password": demo_logins[app_url]["staff"], "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = client.get("/import").text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert form_token
    body = b"entity,year,boundary,carrier,energy_tce\nzone:core,2030,all,diesel,1\n"
    files = {"file": ("x-activity.csv", body, "text/csv")}
    ok = client.post("/import", data={"csrf_token": form_token.group(1)}, files=files)
    assert ok.status_code == 200 and "x-activity.csv" in ok.text
    assert client.post("/import", data={"csrf_token": "forged"}, files=files).status_code == 403


# ------------------------------------------------------------------------------------ settings


def test_settings_ranges_finite_numbers_and_history(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    put = lambda body: client.put("/api/settings/monitoring", headers={**h, "Content-Type": "application/json"},  # noqa: E731
                                  content=body)  # fmt: skip
    assert put('{"raw_retention_days": 0}').status_code == 422
    assert put('{"pre_alarm_ratio": NaN}').status_code == 422
    assert put('{"offline_minutes": Infinity}').status_code == 422
    assert put('{"missing_hours": 2.5}').status_code == 422
    assert put('{"webhook_url": "file:///etc/passwd"}').status_code == 422
    assert put('{"webhook_allow_private": true}').status_code == 403  # admins only
    assert put('{"raw_retention_days": 90, "offline_minutes": 45}').status_code == 200
    hist = client.get("/api/settings/monitoring/history").json()
    mine = {e["key"]: e for e in hist if e["actor"] == "staff"}
    assert mine["raw_retention_days"]["old"] == 180 and mine["raw_retention_days"]["new"] == 90
    assert mine["offline_minutes"]["old"] == 30 and mine["offline_minutes"]["new"] == 45


def test_every_write_is_committed_before_the_answer(app_url: str) -> None:
    """The probe saw 14 of 30 writes invisible to another connection when their 200 arrived. Here
    another connection reads the setting at the moment the response starts, 30 times."""
    app = create_app(Settings(), database_url=app_url)
    other = create_engine(app_url)
    seen: list[Any] = []

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def send2(message: Any) -> None:
            if (
                message["type"] == "http.response.start"
                and scope["path"] == "/api/settings/monitoring"
                and scope["method"] == "PUT"
            ):
                with other.connect() as c:
                    seen.append(
                        c.execute(
                            text("SELECT value_json FROM setting WHERE key = 'offline_minutes'")
                        ).scalar()
                    )
            await send(message)

        await app(scope, receive, send2)

    with TestClient(watching) as c:  # type: ignore[arg-type]
        h = login(c, app_url, "staff")
        for i in range(30):
            assert (
                c.put("/api/settings/monitoring", json={"offline_minutes": 31 + i}, headers=h).status_code
                == 200
            )
    other.dispose()
    assert seen == [str(31 + i) for i in range(30)]


def test_channel_limit_edits_keep_who_when_and_old_value(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    ch = client.get("/api/sources/enterprises/2").json()["outlets"][0]["points"][0]["channels"][0]
    old = ch["limit_value"]
    r = client.patch(
        f"/api/sources/channels/{ch['id']}",
        json={"limit_value": 77.5, "limit_standard": "GB 18918-2002 表1"},
        headers=h,
    )
    assert r.status_code == 200
    hist = [e for e in client.get("/api/settings/monitoring/history").json() if e["entity"] == "channel"]
    assert hist[0]["field"] in ("limit_value", "limit_standard") and hist[0]["actor"] == "staff"
    assert any(e["field"] == "limit_value" and e["old"] == old and e["new"] == 77.5 for e in hist)


# ------------------------------------------------------------------------------ exports, imports


def _plant(url: str, value: str) -> None:
    """Write a value into free-text columns directly, as old data or another writer might have."""
    with session_scope(url) as s:
        rec = s.scalars(select(m.ActivityRecord).order_by(m.ActivityRecord.id)).first()
        assert rec is not None
        rec.note, rec.source_ref = value, value
        contact = s.scalars(select(m.Contact)).first()
        assert contact is not None
        contact.name = value[:100]


def _formula_cells(content: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(content))
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def test_formula_injection_is_exported_as_text(client: TestClient, app_url: str) -> None:
    _plant(app_url, FORMULA)
    login(client, app_url, "admin")
    with session_scope(app_url) as s:
        rec = s.scalars(select(m.ActivityRecord).where(m.ActivityRecord.note == FORMULA)).one()
        zone = s.get(m.Zone, rec.zone_id) if rec.zone_id else None
        ent = s.get(m.Enterprise, rec.enterprise_id) if rec.enterprise_id else None
        scope, year, boundary = ent.code if ent else zone.code if zone else "park", rec.year, rec.boundary
    for url in (
        f"/api/inventory/export.xlsx?scope={scope}&year={year}&boundary={boundary}",
        "/api/sources/export.xlsx",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert _formula_cells(r.content) == [], url
        wb = load_workbook(io.BytesIO(r.content))
        texts = [
            c
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("=cmd")
        ]
        assert texts and all(c.data_type == "s" and c.quotePrefix for c in texts), url


def test_control_characters_in_stored_text_do_not_break_exports(client: TestClient, app_url: str) -> None:
    _plant(app_url, "bad\x01\x1fnote")
    login(client, app_url, "admin")
    r = client.get("/api/sources/export.xlsx")
    assert r.status_code == 200
    names = [c.value for c in load_workbook(io.BytesIO(r.content))["contacts"]["B"]]
    assert "badnote" in names


def test_control_characters_refused_at_the_edge(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    r = client.put("/api/sources/contacts", json=[{"enterprise": "E02", "name": "x\x01y"}], headers=h)
    assert r.status_code == 422 and "U+0001" in r.text
    bad = b"entity,year,boundary,carrier,energy_tce,note\nzone:core,2030,all,diesel,1,a\x02b\n"
    r = client.post("/api/import", files={"file": ("c-activity.csv", bad, "text/csv")}, headers=h)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert (err["row"], err["column"]) == (2, "note") and "U+0002" in err["reason"]


def _zip_bomb() -> bytes:
    """A valid-looking .xlsx whose worksheet unpacks to more than the limit (a few hundred KB packed)."""
    buf = io.BytesIO()
    wb = Workbook()
    wb.active.append(["entity", "year"])  # type: ignore[union-attr]
    plain = io.BytesIO()
    wb.save(plain)
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, src.read(item))
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(MAX_UNPACKED_BYTES // (1 << 20) + 8):
                f.write(chunk)
    return buf.getvalue()


def test_zip_bomb_refused_without_unpacking(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    bomb = _zip_bomb()
    assert len(bomb) < 2 << 20
    r = client.post(
        "/api/import", files={"file": ("bomb-activity.xlsx", bomb, "application/octet-stream")}, headers=h
    )
    assert r.status_code == 422 and "unpacks to" in r.json()["errors"][0]["reason"]


def test_row_field_and_error_limits(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    many = (
        "entity,year,boundary,carrier,energy_tce\n" + "zone:core,2030,all,diesel,1\n" * (MAX_ROWS + 1)
    ).encode()
    r = client.post("/api/import", files={"file": ("many-activity.csv", many, "text/csv")}, headers=h)
    assert r.status_code == 422 and f"more than {MAX_ROWS} rows" in r.json()["errors"][0]["reason"]
    wide = ("entity,year,boundary,note\nzone:core,2030,all," + "y" * 200_000 + "\n").encode()
    r = client.post("/api/import", files={"file": ("wide-activity.csv", wide, "text/csv")}, headers=h)
    assert r.status_code == 422
    bad = ("entity,year,boundary,carrier,energy_tce\n" + "zone:core,20x0,all,diesel,1\n" * 1000).encode()
    r = client.post("/api/import", files={"file": ("bad-activity.csv", bad, "text/csv")}, headers=h)
    d = r.json()
    assert r.status_code == 422 and d["errors_total"] == 1000 and len(d["errors"]) == MAX_REPORTED_ERRORS + 1
    assert "900 more errors" in d["errors"][-1]["reason"]
    # the LMDI upload of a read-only verifier obeys the same limits
    hv = login(client, app_url, "verifier")
    r = client.post("/api/lmdi", data={"year_from": "2019", "year_to": "2020"},
                    files={"file": ("t.csv", many, "text/csv")}, headers=hv)  # fmt: skip
    assert r.status_code == 422


def test_gb18030_csv_as_excel_saves_it_in_china(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    body = "entity,year,boundary,carrier,energy_tce,note\nzone:core,2030,all,diesel,1,中文备注\n".encode(
        "gb18030"
    )
    r = client.post("/api/import", files={"file": ("gbk-activity.csv", body, "text/csv")}, headers=h)
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------------------ 5xx of the probe


@pytest.mark.parametrize(
    "path",
    [
        "/api/inventory?year=18446744073709551617",
        "/api/inventory?year=1099511627776",
        "/api/sources/enterprises/9223372036854775808",
        "/api/sources/outlets/4294967296/series",
        "/api/alarms/99999999999",
        "/api/projects/9223372036854775807/history",
        "/api/scenarios/peak-2030/decompose?against=",
        "/api/scenarios/peak-2030/wedge?against=",
        "/api/env/aqi?pm25=nan",
        "/api/env/aqi?pm25=inf",
        "/api/env/noise?zone_class=3&leq=1e400",
        "/api/scenarios/peak-2030/montecarlo?seed=99999999999999999999",
    ],
)
def test_bad_parameters_are_4xx(client: TestClient, app_url: str, path: str) -> None:
    login(client, app_url, "admin")
    r = client.get(path)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


def test_nul_and_overlong_text_refused_on_both_databases(client: TestClient, app_url: str) -> None:
    h = login(client, app_url, "staff")
    r = client.put("/api/scenarios/x1", json={"name_zh": "a\x00b", "parent": "baseline"}, headers=h)
    assert r.status_code == 422
    r = client.put("/api/scenarios/x2", json={"name_zh": "名" * 5000, "parent": "baseline"}, headers=h)
    assert r.status_code == 422
    r = client.post(
        "/api/indicators/1/values", json={"year": 2021, "value": 1, "source": "s" * 5000}, headers=h
    )
    assert r.status_code == 422
    # whatever slips past a route's checks is stopped by the store, not by a server error
    with pytest.raises(FieldRejected, match=r"contact\.phone"), session_scope(app_url) as s:
        c = s.scalars(select(m.Contact)).first()
        assert c is not None
        c.phone = "1" * 100
        s.flush()


SRC = Path(__file__).resolve().parent.parent / "src" / "greenpark"


def test_markup_reaches_the_dom_only_through_the_escaping_helper() -> None:
    """One escaping rule: the only innerHTML / insertAdjacentHTML / outerHTML / document.write in the
    page scripts are the two inside GP.setHTML and GP.addHTML, and no template has inline script."""
    sinks = re.compile(r"\.innerHTML\s*=|insertAdjacentHTML|outerHTML|document\.write")
    found = [
        f"{js.name}:{i}"
        for js in sorted((SRC / "web" / "static").glob("*.js"))
        for i, line in enumerate(js.read_text(encoding="utf-8").splitlines(), 1)
        if sinks.search(line)
    ]
    assert len(found) == 2 and all(f.startswith("app.js:") for f in found), found
    for tpl in (SRC / "web" / "templates").glob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        assert "<script>" not in text and not re.search(r"\son[a-z]+=", text), tpl.name


def test_workbooks_are_saved_only_through_the_safe_writer() -> None:
    for py in (SRC / "services").glob("*.py"):
        text = py.read_text(encoding="utf-8")
        if "Workbook()" in text and py.name != "tabular.py":  # the writer itself
            assert "workbook_bytes(wb)" in text and ".save(buf)" not in text.replace("doc.save(buf)", ""), (
                py.name
            )


def test_upload_routes_are_parsed_off_the_event_loop() -> None:
    """An upload route that is a coroutine parses on the event loop and freezes every other request
    while it does (the probe's 100 000-row CSV stalled /api/health for 10 s). Every route that takes a
    file is a plain function, which FastAPI runs in its thread pool."""
    import inspect

    from fastapi.routing import APIRoute

    app = create_app(Settings(), database_url="sqlite://")
    uploads = []

    def walk(routes: Any) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)

    for route in walk(app.router.routes):
        if any(
            "UploadFile" in str(p.annotation) for p in inspect.signature(route.endpoint).parameters.values()
        ):
            uploads.append(route.path)
            assert not inspect.iscoroutinefunction(route.endpoint), f"{route.path} parses on the event loop"
    assert len(uploads) >= 10, uploads


def test_workbooks_are_parsed_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight uploads at once wait for a parsing slot instead of taking the server's memory (the
    issue-13 probe: eight small zip bombs took 3 GiB)."""
    import threading
    import time

    from greenpark.services import tabular

    running, most = 0, 0
    lock = threading.Lock()

    def parse(filename: str, content: bytes, exc: type[Exception]) -> list[object]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return []

    monkeypatch.setattr(tabular, "_xlsx_parsed", parse)
    threads = [
        threading.Thread(target=tabular._xlsx, args=("f.xlsx", b"", tabular.TableRejected)) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2

"""Stored XSS, end to end (issue 10): markup goes into every free-text field — through the routes
its users have (an enterprise's import, staff's enterprise file, indicators, projects, scenarios,
forest parameters, alarm notes; an admin's users and tokens) and, where no route writes a field,
straight into the database as old data would be — then an admin opens every page in Chromium and
clicks what shows those fields. No script may run, no element may come out of the markup, and the
Content-Security-Policy may not have to stop anything (it is the second line, not the first)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.browser_helpers import ARGS, ARTIFACTS, CHROMIUM, demo_server

pytestmark = pytest.mark.browser

#: Runs script three ways and marks any element it manages to create.
PAYLOAD = (
    '<img src=x onerror="window.__xss=(window.__xss||0)+1" data-xss=1>'
    "<script>window.__xss=(window.__xss||0)+1</script>"
    '"\'><svg onload="window.__xss=(window.__xss||0)+1" data-xss=1></svg>'
)
#: For columns of 32 to 64 characters.
SHORT = "<b data-xss=1 onclick=alert(1)>x</b>"

WATCH = """
window.__xss = 0; window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with demo_server(tmp_path_factory.mktemp("xss"), prepare=_plant_in_database) as srv:
        _plant_through_routes(srv.base, srv.logins)
        yield {"base": srv.base, "logins": srv.logins}


def _plant_in_database(db: Path) -> None:
    """Fields no route writes (names from the plan's tables, set by the park's loader)."""
    c = sqlite3.connect(db)
    with c:
        c.execute("UPDATE enterprise SET name = ? WHERE code = 'E02'", ("浦华" + PAYLOAD,))
        c.execute("UPDATE monitoring_point SET name = name || ? WHERE kind IN ('water', 'noise')", (PAYLOAD,))
        c.execute(
            "UPDATE project SET name = name || ?, content = ?, benefit = ? WHERE seq = 1",
            (PAYLOAD, PAYLOAD, PAYLOAD),
        )
        c.execute("UPDATE idle_parcel SET location = ?, disposal_plan = ?", (PAYLOAD, PAYLOAD))
        c.execute("UPDATE sink_project SET name = name || ?", (PAYLOAD,))
        c.execute(
            "UPDATE plan_measure SET measure = measure || ?, text = ?, task_group = task_group || ?",
            (PAYLOAD, PAYLOAD, PAYLOAD),
        )
        point = c.execute("SELECT id FROM source_point ORDER BY id LIMIT 1").fetchone()[0]
        c.execute(
            "INSERT INTO alarm (point_id, code, rule, severity, status, opened_utc, last_fired_utc, message, "
            "detail_json, ack_by, ack_note, closed_by, close_note) VALUES (?, 'w01018', 'exceedance', 'critical', "
            "'open', datetime('now'), datetime('now'), ?, '{}', '', '', '', '')",
            (point, PAYLOAD),
        )
    c.close()


def _login(base: str, user: str, password: str) -> tuple[httpx.Client, dict[str, str]]:
    c = httpx.Client(base_url=base, timeout=60)
    r = c.post("/api/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def _ok(r: httpx.Response) -> None:
    assert r.status_code == 200, (str(r.request.url), r.status_code, r.text[:500])


def _plant_through_routes(base: str, logins: dict[str, str]) -> None:
    clients: list[httpx.Client] = []
    try:
        _plant(base, logins, clients)
    finally:
        for c in clients:
            c.close()


def _plant(base: str, logins: dict[str, str], clients: list[httpx.Client]) -> None:
    # an enterprise user imports its own month with markup in source and note
    ent, h = _login(base, "enterprise", logins["enterprise"])
    clients.append(ent)
    own = ent.get("/api/enterprises").json()[0]["code"]
    cell = '"' + PAYLOAD.replace('"', '""') + '"'
    csv = f"entity,year,month,boundary,carrier,quantity,unit,source_ref,note\nenterprise:{own},2020,3,all,diesel,12,t,{cell},{cell}\n"
    _ok(ent.post("/api/import", files={"file": ("month-activity.csv", csv.encode(), "text/csv")}, headers=h))
    # park staff: the enterprise file, a reported value, a custom indicator, a project report,
    # a scenario, forest parameters, an alarm note
    staff, h = _login(base, "staff", logins["staff"])
    clients.append(staff)
    rows = {
        "rivers": [{"code": "xr1", "name": PAYLOAD[:100], "note": PAYLOAD}],
        "outlets": [{"enterprise": "E03", "code": "DWX", "name": SHORT, "medium": "water", "receiving_water": SHORT,
                     "discharge_rule": SHORT, "note": PAYLOAD}],
        "points": [{"enterprise": "E03", "outlet": "DWX", "mn": "XSS0000000001", "pw": "123456", "maker": SHORT,
                    "model": SHORT}],
        "channels": [{"mn": "XSS0000000001", "code": "w01018", "name": SHORT, "unit": "mg/L", "limit_value": 50,
                      "limit_standard": PAYLOAD[:200]}],
        "permits": [{"enterprise": "E03", "number": "XSS-1", "issuer": PAYLOAD[:200], "note": PAYLOAD}],
        "contacts": [{"enterprise": "E03", "name": SHORT, "role": SHORT, "phone": "1", "email": SHORT}],
    }  # fmt: skip
    for kind, body in rows.items():
        _ok(staff.put(f"/api/sources/{kind}", json=body, headers=h))
    _ok(
        staff.post(
            "/api/indicators/3/values",
            json={"year": 2020, "value": 55, "source": PAYLOAD[:200], "note": PAYLOAD},
            headers=h,
        )
    )
    _ok(staff.post("/api/indicators", json={"code": "X1", "name_zh": PAYLOAD[:200], "name_en": PAYLOAD[:200], "unit": "<b data-xss=1>u</b>",
                                            "direction": "higher", "kind": "expected", "department": PAYLOAD[:200],
                                            "targets": {"2025": "10"}, "note": PAYLOAD}, headers=h))  # fmt: skip
    _ok(staff.post("/api/projects/1/updates", data={"status": "in_progress", "percent": "30", "milestone": PAYLOAD[:200],
                                                    "note": PAYLOAD, "on": "2021-06-30"},
                   files={"attachment": (SHORT + ".pdf", b"%PDF-1.4", "application/pdf")}, headers=h))  # fmt: skip
    _ok(staff.put("/api/scenarios/xss-1", json={"name_zh": PAYLOAD[:200], "name_en": PAYLOAD[:200], "note": PAYLOAD,
                                                 "parent": "baseline", "drivers": {}}, headers=h))  # fmt: skip
    params = staff.get("/api/sinks/parameters").json()["rows"][0]
    _ok(staff.put("/api/sinks/parameters", json={"changes": [{"forest_type": params["forest_type"], "parameter": params["parameter"],
                  "value": params["value"], "status": "secondary", "source_table": PAYLOAD[:200]}]}, headers=h))  # fmt: skip
    alarm = staff.get("/api/alarms").json()[0]["id"]
    _ok(staff.post(f"/api/alarms/{alarm}/ack", json={"note": PAYLOAD}, headers=h))
    # an admin: a user whose display name is markup, a token named with markup
    admin, h = _login(base, "admin", logins["admin"])
    clients.append(admin)
    _ok(
        admin.post(
            "/api/admin/users",
            json={"username": "xss-user", "display_name": PAYLOAD[:200], "role": "park_staff"},
            headers=h,
        )
    )
    _ok(
        admin.post(
            "/api/admin/tokens", json={"username": "xss-user", "name": PAYLOAD[:200], "days": 5}, headers=h
        )
    )


PAGES = [
    "/", "/sankey", "/indicators", "/roadmap", "/projects", "/land", "/environment", "/monitoring", "/alarms",
    "/enterprises", "/enterprises?id=3", "/tracing", "/import", "/factors", "/reproduce", "/admin", "/api/docs",
    "/inventory",
]  # fmt: skip


def _check(page: Any, where: str, errors: list[str]) -> None:
    page.wait_for_timeout(300)  # an onerror fires a moment after the element would exist
    assert page.evaluate("window.__xss") == 0, f"{where}: script ran"
    assert page.evaluate("document.querySelectorAll('[data-xss]').length") == 0, (
        f"{where}: markup became elements"
    )
    assert page.evaluate("window.__csp") == [], (
        f"{where}: the CSP had to stop something: {page.evaluate('window.__csp')}"
    )
    assert not errors, f"{where}: {errors}"


def test_no_markup_runs_on_any_page_as_admin(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base = site["base"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1800})
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
        # sign in through the page, as a person does
        page.goto(base + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", site["logins"]["admin"])
        page.click("form.stack button")
        page.wait_for_url(base + "/")
        shown_somewhere = 0
        for path in PAGES:
            page.goto(base + path)
            page.wait_for_selector(
                "body[data-ready='1']", timeout=30_000
            ) if path != "/api/docs" else page.wait_for_timeout(1500)
            _check(page, path, errors)
            shown_somewhere += "data-xss" in page.inner_text("body")
        assert shown_somewhere >= 8  # the values are there, as text
        # what is only shown after a click: the inventory's lineage of the enterprise's records
        page.goto(base + "/inventory")
        page.wait_for_selector("body[data-ready='1']")
        page.select_option(
            "#inv-scope",
            label=next(
                o
                for o in page.eval_on_selector_all("#inv-scope option", "os => os.map(o => o.textContent)")
                if "金身" in o
            ),
        )
        page.select_option("#inv-year", "2020")
        page.wait_for_selector("#inv-table tbody tr[data-carrier='diesel']")
        page.click("#inv-table tbody tr[data-carrier='diesel']")
        page.wait_for_selector("#lineage-records")
        assert "data-xss" in page.inner_text("#lineage-records")
        _check(page, "inventory lineage", errors)
        # an indicator's detail, a project's detail, an outlet, an alarm's history
        page.goto(base + "/indicators?code=X1")
        page.wait_for_selector("#ind-detail:not([hidden])")
        _check(page, "indicator detail", errors)
        page.goto(base + "/projects")
        page.wait_for_selector("body[data-ready='1']")
        page.click("#pj-table tbody tr[data-seq='1']")
        page.wait_for_selector("#pj-history")
        assert "data-xss" in page.inner_text("#pj-detail")
        _check(page, "project detail", errors)
        page.goto(base + "/enterprises?id=3")
        page.wait_for_selector("body[data-ready='1']")
        outlet = page.get_attribute("#ent-file h3 a", "href")
        page.goto(base + str(outlet))
        page.wait_for_selector("body[data-ready='1']")
        _check(page, "outlet", errors)
        # an import refused for a cell whose value is markup: the reason quotes it, as text
        page.goto(base + "/import")
        bad = (
            'entity,year,boundary,carrier,quantity,unit\nzone:core,2020,all,diesel,"'
            + PAYLOAD.replace('"', '""')
            + '",t\n'
        )
        page.set_input_files(
            "#import-form input[type=file]",
            {"name": "bad-activity.csv", "mimeType": "text/csv", "buffer": bad.encode()},
        )
        page.click("#import-form button")
        page.wait_for_load_state()
        assert "data-xss" in page.inner_text("body")
        _check(page, "import refusal", errors)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "xss-import-refusal.png"), full_page=True)
        browser.close()

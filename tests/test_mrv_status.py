"""The officers' status board (issue 13 §5): key units × months (on time, late, missing, not due) and
× report stages with overdue flags; zone staff see their zone, enterprises and verifiers none;
the API, its workbook and CSV, the page and ``greenpark mrv status --json``. Both databases; every
deadline judged on a given day."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.demo import load_reference
from greenpark.i18n import render, tr
from greenpark.services.mrv import status
from greenpark.services.mrv.access import AccessDenied, Actor, actor_for_user
from greenpark.services.park import auth
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE, add_second_park

#: The day the tests look at the cycle from: 2025's reports are due on 31 March 2026.
TODAY = date(2026, 3, 10)


@dataclass
class Cycle:
    """The second park with a year of the cycle: N1 (key carbon emitter, north zone) handed in
    January–October 2025 (March late) and its 2025 report was returned; its 2024 verification was
    notified (appeal window open until 12 March). S1 (key energy user, south zone) handed in
    nothing, submitted its 2025 report, and its 2024 verification is in document review past its
    due date with an answered non-conformity."""

    url: str
    park_id: int = 0
    logins: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def build_cycle(url: str) -> Cycle:
    with session_scope(url) as s:
        load_reference(s)
    lake = add_second_park(url)
    c = Cycle(url, logins=dict(lake.logins))
    with session_scope(url) as s:
        park = s.scalars(select(m.Park).where(m.Park.code == CODE)).one()
        c.park_id = park.id
        n1, s1 = lake.ids["N1.enterprise"], lake.ids["S1.enterprise"]
        c.ids.update(N1=n1, S1=s1)
        s.get(m.Enterprise, n1).tags = "key_carbon_emitter"  # type: ignore[union-attr]
        s.get(m.Enterprise, s1).tags = "key_energy_user"  # type: ignore[union-attr]
        for name, role in (("verifier1", auth.Role.VERIFIER), ("admin2", auth.Role.ADMIN)):
            auth.create_user(s, name, f"{name}-password-1", role, park_id=park.id, by="test")
            c.logins[name] = f"{name}-password-1"
        for mo in range(1, 11):
            s.add(m.MrvEvidence(park_id=park.id, enterprise_id=n1, year=2025, month=mo, version=1,
                                due_date=date(2025, mo + 1, 20), submitted_by="ent_north", late=mo == 3,
                                submitted_utc=datetime(2025, mo + 1, 10)))  # fmt: skip
        reports = {}
        for key, ent, year, st in (("N1.2024", n1, 2024, "accepted"), ("N1.2025", n1, 2025, "returned"),
                                   ("S1.2024", s1, 2024, "accepted"), ("S1.2025", s1, 2025, "submitted")):  # fmt: skip
            r = m.MrvReport(park_id=park.id, enterprise_id=ent, year=year, version=1, status=st, submitted_by="t",
                            total_co2_t=30_000.0)  # fmt: skip
            s.add(r)
            s.flush()
            reports[key] = r.id
        body = m.MrvBody(park_id=park.id, code="B1", name="湖北核查机构")
        s.add(body)
        s.flush()
        s.add(m.MrvBodyMember(body_id=body.id, user_id=auth.get_user(s, "verifier1").id))
        v1 = m.MrvVerification(park_id=park.id, enterprise_id=n1, year=2024, body_id=body.id,
                               initial_report_id=reports["N1.2024"], stage="notified", assigned_by="staff2",
                               appeal_due_date=date(2026, 3, 12), conclusion="pass")  # fmt: skip
        v2 = m.MrvVerification(park_id=park.id, enterprise_id=s1, year=2024, body_id=body.id,
                               initial_report_id=reports["S1.2024"], stage="doc_review", assigned_by="staff2",
                               due_date=date(2026, 2, 28))  # fmt: skip
        s.add_all([v1, v2])
        s.flush()
        s.add(m.MrvNonConformity(verification_id=v2.id, number=1, description="燃料计量", opened_by="verifier1",
                                 status="answered", response="已补充"))  # fmt: skip
        c.ids.update(v1=v1.id, v2=v2.id, body=body.id, **{f"report.{k}": v for k, v in reports.items()})
    return c


@pytest.fixture(scope="module")
def cycle(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    url = new_database(backend, tmp_path_factory.mktemp("mrv-status"))
    yield build_cycle(url)
    dispose_engine(url)


def actor(s, c: Cycle, username: str) -> Actor:  # type: ignore[no-untyped-def]
    return actor_for_user(auth.get_user(s, username), c.park_id)


def login(client: TestClient, c: Cycle, user: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": user, "password": c.logins[user]})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": client.get("/api/auth/me").json()["csrf_token"]}


def by_code(rows: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["code"]: r for r in rows}


def test_months_on_time_late_missing_and_not_due(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        board = status.status(s, actor(s, cycle, "staff2"), 2025, TODAY)
    months = by_code(board["months"])
    n1 = [c["state"] for c in months["N1"]["cells"]]
    # Jan–Oct handed in (March late); Nov due 20 Dec, Dec due 20 Jan 2026: both past → missing
    assert n1 == ["on_time", "on_time", "late", *["on_time"] * 7, "missing", "missing"]
    assert (months["N1"]["late"], months["N1"]["missing"]) == (1, 2)
    assert [c["state"] for c in months["S1"]["cells"]] == ["missing"] * 12
    assert months["N1"]["cells"][11]["due"] == "2026-01-20"
    # seen from mid-December 2025, November's evidence is not yet due
    with session_scope(cycle.url) as s:
        early = status.status(s, actor(s, cycle, "staff2"), 2025, date(2025, 12, 15))
    assert [c["state"] for c in by_code(early["months"])["N1"]["cells"]][-2:] == ["not_due", "not_due"]
    assert board["counts"]["months"] == {"on_time": 9, "late": 1, "missing": 14, "not_due": 0}


def test_report_stages_and_overdue_flags(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        b25 = status.status(s, actor(s, cycle, "staff2"), 2025, TODAY)
        b24 = status.status(s, actor(s, cycle, "staff2"), 2024, TODAY)
        late = status.status(s, actor(s, cycle, "staff2"), 2025, date(2026, 4, 1))
    r25 = by_code(b25["reports"])
    assert (r25["N1"]["stage"], r25["N1"]["overdue"], r25["N1"]["due"]) == ("returned", False, "2026-03-31")
    assert (r25["S1"]["stage"], r25["S1"]["overdue"]) == ("submitted", False)
    r24 = by_code(b24["reports"])
    assert (r24["N1"]["stage"], r24["N1"]["overdue"]) == ("notified", False)
    assert (r24["S1"]["stage"], r24["S1"]["overdue"], r24["S1"]["why"]) == (
        "doc_review",
        True,
        "verification_overdue",
    )
    assert r24["S1"]["verification_id"] == cycle.ids["v2"]
    # after 31 March the returned report is overdue
    assert by_code(late["reports"])["N1"]["why"] == "report_overdue"
    assert b25["counts"]["stages"]["returned"] == 1 and b24["counts"]["overdue"] >= 1


def test_zone_staff_see_their_zone_and_others_may_not_read_the_board(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        north = status.status(s, actor(s, cycle, "zone_north"), 2025, TODAY)
        assert {r["code"] for r in north["months"]} == {"N1"} and {r["code"] for r in north["reports"]} == {
            "N1"
        }
        # the zone by its names, for people (the walkthrough found the code "core" on the board)
        assert north["months"][0]["zone_name"] == {"zh": "北区", "en": "North zone"}
        for user in ("ent_north", "verifier1"):
            with pytest.raises(AccessDenied):
                status.status(s, actor(s, cycle, user), 2025, TODAY)


@pytest.fixture(scope="module")
def client(cycle: Cycle) -> Iterator[TestClient]:
    app = create_app(Settings(env="test", secret_key="x" * 40), database_url=cycle.url)
    with TestClient(app) as c:
        yield c


def test_the_api_its_exports_and_the_page(cycle: Cycle, client: TestClient) -> None:
    login(client, cycle, "staff2")
    r = client.get("/api/mrv/status", params={"year": 2025, "today": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    board = r.json()
    assert by_code(board["months"])["N1"]["missing"] == 2
    assert by_code(board["reports"])["N1"]["stage_label"]  # in the reader's language
    x = client.get("/api/mrv/status.xlsx", params={"year": 2025, "today": TODAY.isoformat()})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(x.content))
    months, reports = wb.worksheets
    rows = {row[0]: row for row in months.iter_rows(min_row=2, values_only=True)}
    assert len(rows["N1"]) == 15  # code, name, zone and 12 months
    n1_nov = [c for c in months[list(rows).index("N1") + 2]][3 + 10]
    assert n1_nov.fill.fgColor.rgb.endswith("E6B0AA")  # missing: red
    assert {row[0] for row in reports.iter_rows(min_row=2, values_only=True)} == {"N1", "S1"}
    csv = client.get("/api/mrv/status.csv", params={"year": 2025, "today": TODAY.isoformat()})
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert "N1" in csv.content.decode("utf-8")
    page = client.get("/mrv/status")
    assert page.status_code == 200 and "mrv_status.js" in page.text
    client.post("/api/auth/logout", headers={"X-CSRF-Token": client.get("/api/auth/me").json()["csrf_token"]})
    login(client, cycle, "ent_north")
    assert client.get("/api/mrv/status", params={"year": 2025}).status_code == 403
    assert client.get("/mrv/status").status_code == 403
    client.post("/api/auth/logout", headers={"X-CSRF-Token": client.get("/api/auth/me").json()["csrf_token"]})
    assert client.get("/api/mrv/status", params={"year": 2025}).status_code == 401


def test_the_command_line_board(cycle: Cycle, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GREENPARK_DATABASE_URL", cycle.url)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["mrv", "status", "--park", CODE, "--year", "2025", "--today", TODAY.isoformat(), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    board = json.loads(res.output)
    assert by_code(board["reports"])["N1"]["stage"] == "returned"
    res = runner.invoke(cli_app, ["mrv", "status", "--park", CODE, "--year", "2025", "--by", "zone_north", "--json",
                                  "--today", TODAY.isoformat()])  # fmt: skip
    assert {r["code"] for r in json.loads(res.output)["months"]} == {"N1"}
    res = runner.invoke(cli_app, ["mrv", "status", "--park", CODE, "--year", "2025", "--by", "ent_north"])
    assert res.exit_code == 2
    out = tmp_path / "board.xlsx"
    res = runner.invoke(cli_app, ["mrv", "status", "--park", CODE, "--year", "2025", "-o", str(out)])
    assert res.exit_code == 0 and out.stat().st_size > 0
    res = runner.invoke(
        cli_app, ["mrv", "status", "--park", CODE, "--year", "2025", "--today", TODAY.isoformat()]
    )
    assert res.exit_code == 0 and "N1" in res.output


def test_the_board_as_json_has_its_labels_in_the_readers_language(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        board = status.status(s, actor(s, cycle, "staff2"), 2025, TODAY)
    for lang in ("zh", "en"):
        got = json.loads(status.board_json(board, lang))
        assert got == json.loads(
            json.dumps(render(board, lang), ensure_ascii=False)
        )  # what LocalizedJSON writes
        assert by_code(got["reports"])["N1"]["stage_label"] == tr(status.STAGE_LABELS["returned"], lang)
    assert tr(status.STAGE_LABELS["returned"], "zh") != "returned"


def test_a_report_handed_in_after_its_deadline_is_marked_late(cycle: Cycle) -> None:
    """The walkthrough: a report sent in December for a 31 March deadline showed nothing."""
    with session_scope(cycle.url) as s:
        s.get(m.MrvReport, cycle.ids["report.N1.2025"]).submitted_utc = datetime(2026, 2, 1)  # type: ignore[union-attr]
        s.get(m.MrvReport, cycle.ids["report.S1.2025"]).submitted_utc = datetime(2026, 4, 2)  # type: ignore[union-attr]
    with session_scope(cycle.url) as s:
        rows = by_code(status.status(s, actor(s, cycle, "staff2"), 2025, date(2026, 4, 10))["reports"])
    assert (rows["N1"]["submitted_late"], rows["S1"]["submitted_late"]) == (False, True)

"""Each user's inbox (issue 13 §5): the tasks the cycle's state asks of an enterprise, an officer and a
verifier on a given day; stored messages (own only, mark read); reminders before deadlines and
notices of deadlines passed, made once each. Both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.services.mrv import inbox
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE
from tests.test_mrv_status import TODAY, Cycle, actor, build_cycle, login


@pytest.fixture(scope="module")
def cycle(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    """The cycle, for tests that only read it."""
    url = new_database(backend, tmp_path_factory.mktemp("mrv-inbox"))
    yield build_cycle(url)
    dispose_engine(url)


@pytest.fixture
def fresh(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    """The cycle, for a test that makes messages."""
    url = new_database(backend, tmp_path_factory.mktemp("mrv-inbox"))
    yield build_cycle(url)
    dispose_engine(url)


def titles(ts: list[dict]) -> list[tuple[str, str, bool]]:  # type: ignore[type-arg]
    return [(t["kind"], t["msgid"], t["overdue"]) for t in ts]


def test_an_enterprise_sees_evidence_due_a_returned_report_and_its_appeal_window(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        ts = inbox.tasks(s, actor(s, cycle, "ent_north"), TODAY)
    got = {(t["msgid"], t["params"].get("period")): t for t in ts}
    # November and December 2025 were due on 20 Dec and 20 Jan; January 2026 on 20 Feb; February 2026
    # is due on 20 March (not yet overdue)
    assert got[(inbox.T_EVIDENCE_LATE, "2025-11")]["overdue"] is True
    assert got[(inbox.T_EVIDENCE_LATE, "2026-01")]["due"] == "2026-02-20"
    assert got[(inbox.T_EVIDENCE, "2026-02")]["overdue"] is False
    assert (inbox.T_EVIDENCE_LATE, "2025-10") not in got  # handed in
    returned = [t for t in ts if t["kind"] == "returned"]
    assert len(returned) == 1 and returned[0]["params"] == {"year": 2025, "version": 1}
    appeal = next(t for t in ts if t["msgid"] == inbox.T_APPEAL_WINDOW)
    assert appeal["due"] == "2026-03-12" and appeal["link"] == f"/mrv/verification?id={cycle.ids['v1']}"
    assert ts[0]["overdue"] and not ts[-1]["overdue"]  # overdue first
    # the annual report is not asked for: one exists (returned, so the returned task says what to do)
    assert inbox.T_REPORT not in {t["msgid"] for t in ts}
    with session_scope(cycle.url) as s:
        after = inbox.tasks(s, actor(s, cycle, "ent_north"), date(2026, 3, 13))
    assert inbox.T_APPEAL_WINDOW not in {t["msgid"] for t in after}  # the window closed on 12 March


def test_an_officer_and_a_verifier_see_their_work(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        staff = inbox.tasks(s, actor(s, cycle, "staff2"), TODAY)
        north = inbox.tasks(s, actor(s, cycle, "zone_north"), TODAY)
        verifier = inbox.tasks(s, actor(s, cycle, "verifier1"), TODAY)
        bureau_like = inbox.tasks(s, actor(s, cycle, "ent_south"), TODAY)
    review = [t for t in staff if t["msgid"] == inbox.T_REVIEW]
    assert [t["enterprise_id"] for t in review] == [cycle.ids["S1"]]
    overdue = next(t for t in staff if t["msgid"] == inbox.T_OVERDUE)
    assert overdue["overdue"] and overdue["params"]["n"] == 2
    # the north zone officer does not see the south enterprise's report to review
    assert inbox.T_REVIEW not in {t["msgid"] for t in north}
    assert {t["msgid"] for t in verifier} == {inbox.T_DOC_REVIEW, inbox.T_CLOSE_NCR}
    doc = next(t for t in verifier if t["msgid"] == inbox.T_DOC_REVIEW)
    assert doc["overdue"] and doc["due"] == "2026-02-28"
    # S1 must give monthly evidence (key energy user) but no annual report
    assert {t["msgid"] for t in bureau_like} == {inbox.T_EVIDENCE_LATE, inbox.T_EVIDENCE}


def test_reminders_are_made_once_before_the_deadline_and_when_it_passes(fresh: Cycle) -> None:
    cycle = fresh
    # 13 March: February 2026's evidence is due in 7 days; January's passed on 20 February
    with session_scope(cycle.url) as s:
        first = inbox.remind(s, date(2026, 3, 13), cycle.park_id)
        again = inbox.remind(s, date(2026, 3, 13), cycle.park_id)
        later = inbox.remind(s, date(2026, 3, 15), cycle.park_id)  # still the 7-day reminder: nothing new
        last = inbox.remind(s, date(2026, 3, 19), cycle.park_id)  # one day before
        passed = inbox.remind(s, date(2026, 3, 21), cycle.park_id)
    assert first == {"reminders": 2, "overdue": 2}  # ent_north and ent_south, each
    assert again == later == {"reminders": 0, "overdue": 0}
    assert last == {"reminders": 2, "overdue": 0}
    assert passed == {"reminders": 0, "overdue": 2}
    with session_scope(cycle.url) as s:
        msgs = inbox.messages(s, actor(s, cycle, "ent_north"))
        keys = sorted(k for (k,) in s.execute(select(m.Notification.key).where(m.Notification.user_id == auth_id(s, "ent_north"))))  # fmt: skip
    assert keys == [f"overdue.evidence.{cycle.ids['N1']}.2026-01", f"overdue.evidence.{cycle.ids['N1']}.2026-02",
                    f"remind.evidence.{cycle.ids['N1']}.2026-02.d1", f"remind.evidence.{cycle.ids['N1']}.2026-02.d7"]  # fmt: skip
    assert all(x["read"] is False for x in msgs) and msgs[0]["kind"] == "overdue"
    assert "2026-02" in str(msgs[0]["title"])


def auth_id(s, username: str) -> int:  # type: ignore[no-untyped-def]
    return int(s.scalar(select(m.AppUser.id).where(m.AppUser.username == username)))


def test_messages_are_each_users_own_and_marked_read(fresh: Cycle) -> None:
    cycle = fresh
    with session_scope(cycle.url) as s:
        inbox.remind(s, date(2026, 3, 13), cycle.park_id)
    app = create_app(Settings(env="test", secret_key="x" * 40), database_url=cycle.url)
    with TestClient(app) as c:
        h = login(c, cycle, "ent_north")
        d = c.get("/api/inbox", params={"today": TODAY.isoformat()}).json()
        assert d["unread"] == 2 and {t["kind"] for t in d["tasks"]} >= {"overdue", "due", "returned"}
        assert all(isinstance(t["title"], str) and t["title"] for t in d["tasks"])
        with session_scope(cycle.url) as s:
            south_ids = [i for (i,) in s.execute(select(m.Notification.id).where(m.Notification.user_id == auth_id(s, "ent_south")))]  # fmt: skip
        # another user's ids are ignored
        assert c.post("/api/inbox/read", json={"ids": south_ids}, headers=h).json() == {"marked": 0}
        one = d["messages"][0]["id"]
        assert c.post("/api/inbox/read", json={"ids": [one]}, headers=h).json() == {"marked": 1}
        assert c.get("/api/inbox").json()["unread"] == 1
        assert c.post("/api/inbox/read", json={"ids": None}, headers=h).json() == {"marked": 1}
        assert c.post("/api/inbox/read", json={"ids": [0]}, headers=h).status_code == 422
        page = c.get("/inbox")
        assert page.status_code == 200 and "inbox.js" in page.text and "smtp-form" not in page.text
    with session_scope(cycle.url) as s:
        unread = s.scalar(select(func.count()).select_from(m.Notification).where(
            m.Notification.user_id == auth_id(s, "ent_south"), m.Notification.read_utc.is_(None)))  # fmt: skip
    assert unread == 2


def test_the_command_line_inbox_and_remind(fresh: Cycle, monkeypatch: pytest.MonkeyPatch) -> None:
    cycle = fresh
    monkeypatch.setenv("GREENPARK_DATABASE_URL", cycle.url)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["mrv", "inbox", "--park", CODE, "--by", "verifier1", "--today", TODAY.isoformat(), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert {t["msgid"] for t in json.loads(res.output)["tasks"]} == {inbox.T_DOC_REVIEW, inbox.T_CLOSE_NCR}
    res = runner.invoke(cli_app, ["mrv", "inbox", "--park", CODE, "--by", "nobody"])
    assert res.exit_code == 2
    res = runner.invoke(cli_app, ["mrv", "remind", "--park", CODE, "--today", "2026-03-13", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["reminders"], out["overdue"]) == (2, 2)
    assert out["email_sent"] == 0 and out["robot_sent"] == 0  # nothing set up: recorded as off
    res = runner.invoke(
        cli_app, ["mrv", "inbox", "--park", CODE, "--by", "ent_north", "--today", TODAY.isoformat()]
    )
    assert res.exit_code == 0 and "OVERDUE" in res.output and "unread" in res.output

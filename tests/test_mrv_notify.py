"""People get told (issue 13 §5): messages are delivered by e-mail through a real SMTP server the test
starts (aiosmtpd) and to WeCom / DingTalk group robots on a real local HTTP server (the JSON of each
format and DingTalk's signature checked); a server that is down is recorded and retried later, never
a crash; private robot URLs need the admins' ``webhook_allow_private``; the settings API never gives
the password or a robot secret back. Both databases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenpark.services.mrv import inbox
from greenpark.services.notifications import email, robots
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, engine_for, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.test_mrv_status import Cycle, build_cycle, login

SECRET = "SECtest-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                envelope.rcpt_tos,
                message_from_bytes(envelope.original_content or envelope.content, policy=policy.default),
            )
        )
        return "250 OK"


class Robots:
    """A local HTTP server standing in for both robots: it keeps each request's path and JSON."""

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        seen, body = self.seen, json.dumps(answer or {"errcode": 0, "errmsg": "ok"}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                seen.append((self.path, json.loads(self.rfile.read(n))))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cycle(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cycle]:
    url = new_database(backend, tmp_path_factory.mktemp("mrv-notify"))
    c = build_cycle(url)
    with session_scope(url) as s:
        for name, addr in (("ent_north", "north@example.com"), ("staff2", "staff@example.com")):
            s.scalars(select(m.AppUser).where(m.AppUser.username == name)).one().email = addr
        inbox.remind(s, date(2026, 3, 13), c.park_id)  # 2 reminders, 2 overdue notices (N1 and S1)
    yield c
    dispose_engine(url)


@pytest.fixture
def robot_server() -> Iterator[Robots]:
    r = Robots()
    yield r
    r.close()


def set_private(url: str, allowed: bool) -> None:
    with session_scope(url) as s:
        row = s.get(m.Setting, "webhook_allow_private")
        if row is None:
            s.add(m.Setting(key="webhook_allow_private", value_json=json.dumps(allowed)))
        else:
            row.value_json = json.dumps(allowed)


def statuses(url: str, column: str) -> dict[str, list[str]]:
    with session_scope(url) as s:
        rows = s.execute(select(m.AppUser.username, getattr(m.Notification, column))
                         .join(m.AppUser, m.AppUser.id == m.Notification.user_id).order_by(m.Notification.id)).all()  # fmt: skip
    out: dict[str, list[str]] = {}
    for user, st in rows:
        out.setdefault(user, []).append(st)
    return out


def test_email_through_a_real_smtp_server_and_a_failure_retried(cycle: Cycle) -> None:
    port = free_port()
    with session_scope(cycle.url) as s:
        email.set_smtp_settings(s, {"host": "127.0.0.1", "port": port, "security": "none",
                                    "from_addr": "greenpark@park.example.cn"}, by="admin2")  # fmt: skip
    engine = engine_for(cycle.url)
    # the server is down: recorded, nothing raised, robots "off" (none set)
    counts = inbox.deliver(engine, timeout_s=2)
    assert counts["email_failed"] == 2 and counts["email_sent"] == 0
    st = statuses(cycle.url, "email_status")
    assert all(x.startswith("failed#1: ") for x in st["ent_north"]) and st["ent_south"] == ["off", "off"]
    assert set(statuses(cycle.url, "robot_status")["ent_north"]) == {"off"}
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        counts = inbox.deliver(engine, timeout_s=5)  # retried
    finally:
        controller.stop()
    assert counts["email_sent"] == 2
    assert statuses(cycle.url, "email_status")["ent_north"] == ["sent", "sent"]
    assert inbox.deliver(engine)["email_sent"] == 0  # sent once
    assert len(box.messages) == 2
    rcpt, msg = box.messages[0]
    assert rcpt == ["north@example.com"]
    subject = str(msg["Subject"])
    body = msg.get_content()
    assert "2026-01" in subject and "月度存证" in subject  # Chinese first
    assert "Monthly evidence for 2026-01 is overdue (due 2026-02-20)" in body  # then English
    assert "/mrv/enterprise?year=2026&month=1" in body
    assert msg["From"].endswith("<greenpark@park.example.cn>")


def test_gives_up_after_the_last_attempt(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        email.set_smtp_settings(s, {"host": "127.0.0.1", "port": free_port(), "security": "none",
                                    "from_addr": "gp@park.example.cn"}, by="admin2")  # fmt: skip
    engine = engine_for(cycle.url)
    for _ in range(inbox.MAX_ATTEMPTS):
        inbox.deliver(engine, timeout_s=1)
    assert all(x.startswith("gave up: ") for x in statuses(cycle.url, "email_status")["ent_north"])
    assert inbox.deliver(engine, timeout_s=1)["email_failed"] == 0


def test_wecom_and_signed_dingtalk_robots_on_a_real_http_server(cycle: Cycle, robot_server: Robots) -> None:
    wecom, ding = (
        f"{robot_server.base}/cgi-bin/webhook/send?key=k1",
        f"{robot_server.base}/robot/send?access_token=t1",
    )
    with session_scope(cycle.url) as s, pytest.raises(ValueError, match="private addresses"):
        robots.set_robots(s, cycle.park_id, [{"kind": "wecom", "url": wecom}], by="staff2")
    set_private(cycle.url, True)
    with session_scope(cycle.url) as s:
        shown = robots.set_robots(s, cycle.park_id, [{"kind": "wecom", "url": wecom},
                                                     {"kind": "dingtalk", "url": ding, "secret": SECRET}], by="staff2")  # fmt: skip
    assert shown[1] == {"kind": "dingtalk", "url": ding, "has_secret": True}
    counts = inbox.deliver(engine_for(cycle.url))
    # four messages but three events: the two overdue notices of January are one event per enterprise
    # (one user each), and each event goes to the group once per robot
    assert counts["robot_sent"] == 4 and len(robot_server.seen) == 8
    assert set(statuses(cycle.url, "robot_status")["ent_north"]) == {"sent"}
    wecom_posts = [b for p, b in robot_server.seen if p.startswith("/cgi-bin/")]
    ding_posts = [(p, b) for p, b in robot_server.seen if p.startswith("/robot/")]
    assert all(b["msgtype"] == "markdown" and set(b["markdown"]) == {"content"} for b in wecom_posts)
    assert any("2026-02" in b["markdown"]["content"] for b in wecom_posts)
    path, body = ding_posts[0]
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    q = parse_qs(urlsplit(path).query)
    assert q["access_token"] == ["t1"]
    ts = q["timestamp"][0]
    # DingTalk's rule, computed here independently of robots.dingtalk_sign
    want = base64.b64encode(
        hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert q["sign"] == [want]
    # turning private addresses off stops the next attempt
    set_private(cycle.url, False)
    with session_scope(cycle.url) as s:
        inbox.remind(s, date(2026, 3, 19), cycle.park_id)
    counts = inbox.deliver(engine_for(cycle.url))
    assert counts["robot_failed"] == 2 and len(robot_server.seen) == 8
    assert all(
        x.startswith("failed#1: refused") for x in statuses(cycle.url, "robot_status")["ent_north"][-1:]
    )


def test_a_robot_that_refuses_is_a_failure(cycle: Cycle) -> None:
    server = Robots(answer={"errcode": 310000, "errmsg": "sign not match"})
    try:
        ok, result = robots.send({"kind": "dingtalk", "url": f"{server.base}/robot/send?access_token=x", "secret": "s"},
                                 "标题", "正文", allow_private=True)  # fmt: skip
    finally:
        server.close()
    assert not ok and "310000" in result


def test_wecom_content_is_cut_to_its_byte_limit() -> None:
    content = robots.wecom_payload("标题", "碳" * 3000)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= robots.WECOM_MAX_BYTES


def test_settings_api_hides_secrets_and_sends_a_test(cycle: Cycle, robot_server: Robots) -> None:
    set_private(cycle.url, True)
    port = free_port()
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(Settings(env="test", secret_key="x" * 40), database_url=cycle.url)
    try:
        with TestClient(app) as c:
            h = login(c, cycle, "admin2")
            r = c.put("/api/mrv/notify-settings", headers=h, json={
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "username": "",
                         "password": "s3cret-pass", "from_addr": "gp@park.example.cn"},
                "robots": [{"kind": "dingtalk", "url": f"{robot_server.base}/robot/send?access_token=t", "secret": SECRET}],
            })  # fmt: skip
            assert r.status_code == 200, r.text
            text = r.text + c.get("/api/mrv/notify-settings").text
            assert "s3cret-pass" not in text and SECRET not in text
            got = c.get("/api/mrv/notify-settings").json()
            assert got["smtp"]["has_password"] is True and got["robots"][0]["has_secret"] is True
            r = c.post(
                "/api/mrv/notify-settings/test", headers=h, json={"channel": "email", "to": "me@example.com"}
            )
            assert r.status_code == 200 and r.json()["results"][0]["ok"] is True
            r = c.post("/api/mrv/notify-settings/test", headers=h, json={"channel": "robots"})
            assert r.json()["results"][0]["ok"] is True and len(robot_server.seen) == 1
            # a password left out keeps the stored one
            c.put("/api/mrv/notify-settings", headers=h, json={"smtp": {"host": "127.0.0.1", "port": port,
                  "security": "none", "from_addr": "gp@park.example.cn"}})  # fmt: skip
            with session_scope(cycle.url) as s:
                assert email.smtp_settings(s).password == "s3cret-pass"  # type: ignore[union-attr]
                assert "s3cret-pass" not in s.get(m.Setting, "smtp").value_json  # type: ignore[union-attr]
            assert (
                c.put(
                    "/api/mrv/notify-settings", headers=h, json={"smtp": {"host": "x", "port": 0}}
                ).status_code
                == 422
            )
            r = c.put("/api/mrv/notify-settings", headers=h, json={"robots": [{"kind": "wecom", "url": "http://169.254.169.254/x"}]})  # fmt: skip
            assert r.status_code == 422 and "link-local" in r.text
            assert "smtp-form" in c.get("/inbox").text
            c.post("/api/auth/logout", headers=h)
            h = login(c, cycle, "staff2")
            assert c.get("/api/mrv/notify-settings").json()["smtp"] is None
            assert (
                c.put("/api/mrv/notify-settings", headers=h, json={"smtp": {"host": "evil"}}).status_code
                == 403
            )
            assert (
                c.post("/api/mrv/notify-settings/test", headers=h, json={"channel": "email"}).status_code
                == 403
            )
            c.post("/api/auth/logout", headers=h)
            login(c, cycle, "ent_north")
            assert c.get("/api/mrv/notify-settings").status_code == 403
    finally:
        controller.stop()
    assert len(box.messages) == 1 and box.messages[0][0] == ["me@example.com"]

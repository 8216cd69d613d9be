"""Alarm webhooks: the URL policy (offline: names are resolved by a stand-in), the outbox (the
notification is part of the alarm's transaction and is sent only after its commit), retries with
backoff, a timeout, no redirects, the address pinned between check and connection, and — over
real TCP with the ingestion server — a listener that never answers does not delay any device's
acknowledgement. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.demo import load_demo
from greenpark.hj212.codec import Frame
from greenpark.services.notifications import webhooks
from greenpark.services.pollution import alarms, ingest
from greenpark.services.pollution.sources import set_setting
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, engine_for, session_scope
from tests.conftest import new_database
from tests.hj212_helpers import Device, serving, upload, wait_for

PUBLIC = "93.184.215.14"  # a public unicast address (no connection is made to it here)


# the URL policy


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve from this table (and only from it): the tests stay offline."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(-2, "Name or service not known")
        return table[host]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return table


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "http:// or https://"),
        (f"ftp://{PUBLIC}/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://100.64.0.1/hook", "private"),
        ("http://[::1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fd00::1]/hook", "private"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://240.0.0.1/hook", "reserved"),
        (f"http://user:pass@{PUBLIC}/hook", "user name or password"),
        (f"http://token@{PUBLIC}/hook", "user name or password"),
        ("http:///hook", "needs a host"),
        (f"http://{PUBLIC}:99999/hook", "port"),
        (f"http://{PUBLIC}/a b", "control characters"),
        ("http://intranet.example/hook", "10.1.2.3, which is a private address"),
        ("http://mixed.example/hook", "192.168.0.9, which is a private address"),
        ("http://rebound.example/hook", "loopback"),
        ("http://nowhere.example/hook", "cannot resolve"),
    ],
)
def test_validate_url_refuses(url: str, why: str, dns: dict[str, list[str]]) -> None:
    dns.update({"intranet.example": ["10.1.2.3"], "mixed.example": [PUBLIC, "192.168.0.9"],
                "rebound.example": ["::ffff:127.0.0.1"]})  # fmt: skip
    with pytest.raises(ValueError, match=why):
        webhooks.validate_url(url)


def test_validate_url_accepts_public_addresses_and_normalises(dns: dict[str, list[str]]) -> None:
    dns["hooks.example.org"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert webhooks.validate_url(f"http://{PUBLIC}/hook") == f"http://{PUBLIC}/hook"
    assert (
        webhooks.validate_url(" HTTPS://Hooks.Example.ORG:443/a?x=1#frag ")
        == "https://hooks.example.org/a?x=1"
    )
    assert webhooks.validate_url("http://hooks.example.org:8080") == "http://hooks.example.org:8080/"
    # an admin may allow private networks and loopback; link-local (cloud metadata) stays refused
    assert webhooks.validate_url("http://10.0.0.1/h", allow_private=True) == "http://10.0.0.1/h"
    assert webhooks.validate_url("http://[::1]:81/h", allow_private=True) == "http://[::1]:81/h"
    with pytest.raises(ValueError, match="link-local"):
        webhooks.validate_url("http://169.254.169.254/", allow_private=True)


# delivery


class Hook:
    """A local webhook listener: answers with ``statuses`` in turn (then 200); with ``hold`` it
    keeps the first request open until :attr:`release` is set."""

    def __init__(self, statuses: tuple[int, ...] = (), hold: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses)
        self.hold = hold
        self.arrived = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append(
                    {"path": self.path, "host": self.headers["Host"], "body": json.loads(body)}
                )
                if hook.hold and not hook.release.is_set():
                    hook.arrived.set()
                    hook.release.wait(120)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/alarm"

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    u = new_database(backend, tmp_path_factory.mktemp("webhooks"))
    with session_scope(u) as s:
        load_demo(s, synthetic_air=False)
    yield u
    dispose_engine(u)


def use_hook(url: str, hook_url: str, allow_private: bool = True) -> None:
    with session_scope(url) as s:
        set_setting(s, "webhook_allow_private", True, "admin")
        set_setting(s, "webhook_url", hook_url, "admin")
        set_setting(s, "webhook_allow_private", allow_private, "admin")


def exceedance(url: str, mn: str, beijing: datetime, session: Session | None = None) -> None:
    """Store an hour of COD 150 (limit 100) for ``mn`` and evaluate: an exceedance alarm opens.
    With ``session`` it all happens in that (uncommitted) transaction."""
    frame: Frame = upload(mn, "2061", beijing.strftime("%Y%m%d%H%M%S"),
                          {"w01018": {"Avg": "150", "Flag": "N"}, "w00000": {"Avg": "5", "Flag": "N"}})  # fmt: skip

    def run(s: Session) -> None:
        items = [ingest.classify(frame, b"", "test", beijing, ingest.load_registry(s))]
        ingest.write_batch(s.connection(), items)
        ingest.rollup(s, ingest.touched_hours(items))
        alarms.evaluate(s, now=beijing - timedelta(hours=7), device_rules=False)

    if session is not None:
        run(session)
    else:
        with session_scope(url) as s:
            run(s)


def deliveries(url: str, mn: str) -> list[m.WebhookDelivery]:
    with session_scope(url) as s:
        pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        rows = list(
            s.scalars(
                select(m.WebhookDelivery)
                .join(m.Alarm, m.Alarm.id == m.WebhookDelivery.alarm_id)
                .where(m.Alarm.point_id == pid)
                .order_by(m.WebhookDelivery.id)
            )
        )
        s.expunge_all()
        return rows


def webhook_log(url: str, alarm_id: int | None) -> list[str]:
    with session_scope(url) as s:
        return list(
            s.scalars(
                select(m.AlarmLog.note)
                .where(m.AlarmLog.alarm_id == alarm_id, m.AlarmLog.action == "webhook")
                .order_by(m.AlarmLog.id)
            )
        )


def test_sent_from_the_outbox_only_after_the_alarm_commits_with_retries(url: str) -> None:
    mn, t = "42120100701001", datetime(2026, 10, 5, 9)
    engine = engine_for(url)
    with Hook(statuses=(500,)) as hook:
        use_hook(url, hook.url)
        with Session(engine) as s:  # an alarm whose transaction rolls back notifies nobody
            exceedance(url, mn, t, session=s)
            assert s.scalars(select(m.WebhookDelivery)).all() and hook.requests == []
            s.rollback()
        assert webhooks.deliver_due(engine)["delivered"] == 0 and hook.requests == []
        exceedance(url, mn, t)  # committed
        assert hook.requests == []  # nothing is sent inside the alarm's transaction
        assert webhooks.deliver_due(engine) == {"delivered": 0, "retrying": 1, "failed": 0}
        (d,) = deliveries(url, mn)
        assert (d.status, d.attempts, d.last_result) == (
            "pending",
            1,
            "HTTP 500 (attempt 1 of 5); next attempt in 1 min",
        )
        assert webhooks.deliver_due(engine)["retrying"] == 0 and len(hook.requests) == 1  # not due yet
        later = m.utcnow() + timedelta(minutes=2)
        assert webhooks.deliver_due(engine, now=later) == {"delivered": 1, "retrying": 0, "failed": 0}
        assert webhooks.deliver_due(engine, now=later + timedelta(days=1))["delivered"] == 0  # once only
    body = hook.requests[-1]["body"]
    assert (body["mn"], body["rule"], body["value"]) == (mn, "exceedance", 150.0)
    (d,) = deliveries(url, mn)
    assert (d.status, d.attempts) == ("delivered", 2) and d.delivered_utc is not None
    assert webhook_log(url, d.alarm_id) == [
        "HTTP 500 (attempt 1 of 5); next attempt in 1 min",
        "HTTP 200 (attempt 2 of 5)",
    ]


def test_gives_up_after_the_last_attempt_and_never_follows_a_redirect(url: str) -> None:
    mn, t = "42120100801001", datetime(2026, 10, 6, 9)
    engine = engine_for(url)
    with Hook(statuses=(302, 503, 503, 503, 503, 503)) as hook:
        use_hook(url, hook.url)
        exceedance(url, mn, t)
        for k in range(webhooks.MAX_ATTEMPTS + 1):
            webhooks.deliver_due(engine, now=m.utcnow() + timedelta(hours=2 * k))
    assert len(hook.requests) == webhooks.MAX_ATTEMPTS  # and none to the redirect's Location
    (d,) = deliveries(url, mn)
    assert (d.status, d.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    log = webhook_log(url, d.alarm_id)
    assert log[0].startswith("HTTP 302 (redirects are not followed)") and log[-1].endswith("gave up")
    assert [n.rpartition("next attempt in ")[2] for n in log[:-1]] == ["1 min", "5 min", "15 min", "60 min"]


def test_a_silent_listener_times_out_and_the_url_is_checked_again_before_each_attempt(
    url: str, dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    mn, t = "42120100901001", datetime(2026, 10, 7, 9)
    engine = engine_for(url)
    with Hook(hold=True) as hook:
        use_hook(url, hook.url)
        exceedance(url, mn, t)
        assert webhooks.deliver_due(engine, timeout_s=0.5)["retrying"] == 1
        (d,) = deliveries(url, mn)
        assert "timed out" in d.last_result and d.status == "pending"
        hook.release.set()
        with session_scope(url) as s:  # the admin withdraws private addresses meanwhile
            set_setting(s, "webhook_allow_private", False, "admin")
        webhooks.deliver_due(engine, now=m.utcnow() + timedelta(hours=1))
        (d,) = deliveries(url, mn)
        assert (
            d.last_result.startswith("refused: 127.0.0.1 is a loopback address") and len(hook.requests) == 1
        )
        # a name is resolved once per attempt and the connection goes to the address checked,
        # with the name in the Host header (a changed DNS answer cannot redirect it)
        calls: list[str] = []
        dns["hooks.example"] = ["127.0.0.1"]
        resolve = webhooks.resolve

        def once(host: str, port: int) -> list[str]:
            calls.append(host)
            return resolve(host, port)

        monkeypatch.setattr(webhooks, "resolve", once)
        target = webhooks.check_url(f"http://hooks.example:{hook.server.server_port}/x", allow_private=True)
        dns["hooks.example"] = [PUBLIC]  # rebinding after the check changes nothing
        assert webhooks.post(target, b"{}", timeout_s=10) == 200
        assert (
            calls == ["hooks.example"]
            and hook.requests[-1]["host"] == f"hooks.example:{hook.server.server_port}"
        )


def test_a_listener_that_never_answers_does_not_delay_device_acknowledgements(url: str) -> None:
    """The alarm opens in the server's housekeeping; its webhook goes to a listener that holds
    the request; meanwhile the device's next frame is acknowledged, and the attempt is still in
    flight then (it used to run inside the alarm's transaction and hold up the writer)."""
    mn = "42120101101001"  # COD limit 100
    now_bj = (m.utcnow() + timedelta(hours=8)).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with Hook(hold=True) as hook:
        use_hook(url, hook.url)
        with serving(url, alarms=True, housekeeping_s=0.3, webhook_timeout_s=120) as srv:
            dev = Device(srv.port)
            dev.send(upload(mn, "2061", now_bj.strftime("%Y%m%d%H%M%S"),
                            {"w01018": {"Avg": "150", "Flag": "N"}, "w00000": {"Avg": "5", "Flag": "N"}}))  # fmt: skip
            assert dev.receive(1)[0].cn == "9014"
            wait_for(hook.arrived.is_set, "the webhook request reached the listener", timeout=60)
            later = now_bj + timedelta(minutes=10)
            dev.send(
                upload(mn, "2051", later.strftime("%Y%m%d%H%M%S"), {"w01018": {"Avg": "40", "Flag": "N"}})
            )
            assert dev.receive(1, timeout=60)[0].cn == "9014"
            # acknowledged while the listener still holds the request: no attempt has ended yet
            assert not hook.release.is_set()
            with session_scope(url) as s:
                pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
                alarm_id = s.scalar(
                    select(m.Alarm.id).where(m.Alarm.point_id == pid, m.Alarm.rule == "exceedance")
                )
            assert alarm_id is not None and webhook_log(url, alarm_id) == []
            (d,) = [x for x in deliveries(url, mn) if x.status == "pending"]
            assert d.attempts == 0 and d.alarm_id == alarm_id
            hook.release.set()
            wait_for(
                lambda: deliveries(url, mn)[0].status == "delivered", "delivered once released", timeout=60
            )
        assert srv.stats.webhooks_delivered >= 1
    assert webhook_log(url, d.alarm_id) == ["HTTP 200 (attempt 1 of 5)"]


def test_alarms_deliver_from_the_command_line(url: str) -> None:
    mn, t = "42120101001001", datetime(2026, 10, 8, 9)
    with Hook() as hook:
        use_hook(url, hook.url)
        exceedance(url, mn, t)
        res = CliRunner().invoke(app, ["alarms", "deliver", "--json"], env={"GREENPARK_DATABASE_URL": url})
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["delivered"] >= 1
    assert [r["body"]["mn"] for r in hook.requests] == [mn]
    assert deliveries(url, mn)[0].status == "delivered"

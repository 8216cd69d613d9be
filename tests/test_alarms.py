"""Early warning on stored data (SQLite and PostgreSQL): each rule fires on the data it is meant
for and not otherwise, one alarm per episode, the lifecycle with its history, and the webhook
(queued with the alarm, sent after the commit: more in tests/test_webhooks.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from greenpark.demo import load_demo
from greenpark.hj212.codec import Frame
from greenpark.services.notifications import webhooks
from greenpark.services.pollution import alarms, ingest
from greenpark.services.pollution.sources import set_setting
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, engine_for, session_scope
from tests.conftest import new_database
from tests.hj212_helpers import upload

T0 = datetime(2026, 10, 1, 0, 0)  # Beijing time of the first data hour


@pytest.fixture(scope="module")
def url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    u = new_database(backend, tmp_path_factory.mktemp("alarms"))
    with session_scope(u) as s:
        load_demo(s, synthetic_air=False)
    yield u
    dispose_engine(u)


def feed(url: str, frames: list[Frame]) -> None:
    """Store frames through the server's own write path (classify, write_batch, roll-up)."""
    with session_scope(url) as s:
        registry = ingest.load_registry(s)
        items = [ingest.classify(f, b"", "test", T0, registry) for f in frames]
        assert all(i.status == "stored" for i in items), [i.reason for i in items]
        ingest.write_batch(s.connection(), items)
        ingest.rollup(s, ingest.touched_hours(items))


def hourly(mn: str, start: datetime, values: list[dict[str, dict[str, str]]]) -> list[Frame]:
    return [
        upload(mn, "2061", (start + timedelta(hours=k)).strftime("%Y%m%d%H%M%S"), v)
        for k, v in enumerate(values)
    ]


def utc(beijing: datetime) -> datetime:
    return beijing - timedelta(hours=8)


def open_alarms(url: str, mn: str) -> dict[tuple[str, str], m.Alarm]:
    with session_scope(url) as s:
        pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        return {(a.rule, a.code): a for a in s.scalars(select(m.Alarm).where(m.Alarm.point_id == pid))}


def evaluate(url: str, now_beijing: datetime) -> None:
    with session_scope(url) as s:
        alarms.evaluate(s, now=utc(now_beijing))


def cod(v: float, flag: str = "N", flow: float = 5.0) -> dict[str, dict[str, str]]:
    return {"w01018": {"Avg": str(v), "Flag": flag}, "w00000": {"Avg": str(flow), "Flag": "N"}}


def test_exceedance_episode_lifecycle(url: str) -> None:
    mn = "42120100101001"  # COD limit 100 mg/L (illustrative GB 21904 direct discharge)
    feed(url, hourly(mn, T0, [cod(60), cod(120)]))
    evaluate(url, T0 + timedelta(hours=2, minutes=5))
    a = open_alarms(url, mn)[("exceedance", "w01018")]
    assert (a.status, a.severity, a.value, a.threshold) == ("open", "critical", 120.0, 100.0)
    evaluate(url, T0 + timedelta(hours=2, minutes=20))  # still the same hour: same episode, no duplicate
    assert len([k for k in open_alarms(url, mn) if k[0] == "exceedance"]) == 1
    feed(url, hourly(mn, T0 + timedelta(hours=2), [cod(50)]))
    evaluate(url, T0 + timedelta(hours=3, minutes=5))
    a = open_alarms(url, mn)[("exceedance", "w01018")]
    assert a.cleared_utc is not None and a.status == "open"  # cleared, but an officer closes it
    with session_scope(url) as s:
        alarms.acknowledge(s, a.id, "officer", "called the enterprise")
        with pytest.raises(alarms.AlarmError, match="needs a note"):
            alarms.close(s, a.id, "officer", " ")
        alarms.close(s, a.id, "officer", "analyser drift; recalibrated")
        out = alarms.alarm_dict(s, s.get(m.Alarm, a.id), with_log=True)
    assert [x["action"] for x in out["log"]] == ["open", "clear", "ack", "close"]
    assert out["ack_by"] == "officer" and out["close_note"] == "analyser drift; recalibrated"
    feed(url, hourly(mn, T0 + timedelta(hours=3), [cod(130)]))
    evaluate(url, T0 + timedelta(hours=4, minutes=5))
    with session_scope(url) as s:
        n = len(alarms.list_alarms(s, status=None, rule="exceedance"))
    assert n == 2  # a new episode after the closed one


def test_pre_alarm_at_the_channel_ratio(url: str) -> None:
    mn = "42120100301001"
    feed(url, hourly(mn, T0, [cod(85)]))
    evaluate(url, T0 + timedelta(hours=1, minutes=5))
    found = open_alarms(url, mn)
    assert ("pre_alarm", "w01018") in found and ("exceedance", "w01018") not in found


def test_converted_value_is_judged_when_the_permit_says_so(url: str) -> None:
    mn = "42120101201001"  # glass furnace: SO2 limit 400 mg/m3 on the converted value
    feed(
        url,
        hourly(mn, T0, [{"a21026": {"Avg": "380", "ZsAvg": "450", "Flag": "N"}, "a00000": {"Avg": "20"}}]),
    )
    evaluate(url, T0 + timedelta(hours=1, minutes=5))
    a = open_alarms(url, mn)[("exceedance", "a21026")]
    assert a.value == 450.0


def test_missing_data_and_offline(url: str) -> None:
    mn = "42120100401001"
    feed(url, hourly(mn, T0, [cod(30)]))
    with session_scope(url) as s:
        p = s.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == mn)).one()
        p.last_seen_utc = utc(T0 + timedelta(hours=1))
    evaluate(url, T0 + timedelta(hours=1, minutes=10))
    assert ("missing_data", "") not in open_alarms(url, mn) and ("offline", "") not in open_alarms(url, mn)
    evaluate(url, T0 + timedelta(hours=5, minutes=10))
    found = open_alarms(url, mn)
    assert found[("missing_data", "")].value == 4.0  # hours 01..04 complete without data
    assert found[("offline", "")].severity == "critical"


def test_a_restart_is_not_a_flood_of_missing_data(url: str) -> None:
    """Just after the ingestion server starts, devices are still reconnecting and resending: the
    device rules wait offline_minutes (30) before judging a gap."""
    mn = "42120100901001"
    feed(url, hourly(mn, T0, [cod(30)]))
    start = utc(T0 + timedelta(hours=5))
    with session_scope(url) as s:
        alarms.evaluate(s, now=start + timedelta(minutes=10), listening_since=start)
    assert ("missing_data", "") not in open_alarms(url, mn)
    with session_scope(url) as s:
        alarms.evaluate(s, now=start + timedelta(minutes=31), listening_since=start)
    assert open_alarms(url, mn)[("missing_data", "")].value >= 4.0


def test_abnormal_flags_and_long_maintenance(url: str) -> None:
    mn = "42120100501001"
    feed(url, hourly(mn, T0, [cod(30)] * 2 + [cod(30, "M")] * 12))
    evaluate(url, T0 + timedelta(hours=14, minutes=5))
    found = open_alarms(url, mn)
    assert found[("abnormal_flag", "w01018")].value == 12.0
    assert found[("long_maintenance", "w01018")].value == 12.0


def test_flat_line_only_while_the_process_runs(url: str) -> None:
    mn = "42120100601001"
    t = T0
    frames = [
        upload(
            mn,
            "2051",
            (t + timedelta(minutes=10 * k)).strftime("%Y%m%d%H%M%S"),
            cod(42.0, flow=4.0 if k < 12 else 0),
        )
        for k in range(12)
    ]
    feed(url, frames)
    evaluate(url, T0 + timedelta(hours=2, minutes=5))
    assert ("flat_line", "w01018") in open_alarms(url, mn)
    assert ("flat_line", "w00000") in open_alarms(url, mn)  # a stuck flow meter too


def test_concentration_collapse_at_steady_flow(url: str) -> None:
    mn = "42120100701001"
    feed(url, hourly(mn, T0, [cod(80 + (k % 3)) for k in range(24)] + [cod(9.0)]))
    evaluate(url, T0 + timedelta(hours=25, minutes=5))
    a = open_alarms(url, mn)[("concentration_collapse", "w01018")]
    assert a.value == 9.0 and json.loads(a.detail_json)["flow_mean_before"] == 5.0


def test_values_held_just_under_the_limit(url: str) -> None:
    mn = "42120100801001"  # COD limit 100
    feed(url, hourly(mn, T0, [cod(95 + 0.5 * (k % 3)) for k in range(24)]))
    evaluate(url, T0 + timedelta(hours=24, minutes=5))
    assert ("held_below_limit", "w01018") in open_alarms(url, mn)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_webhook_gets_each_new_alarm_after_its_commit(url: str) -> None:
    _Hook.received.clear()
    srv = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        with session_scope(url) as s:
            set_setting(s, "webhook_allow_private", True, "admin")
            set_setting(s, "webhook_url", f"http://127.0.0.1:{srv.server_port}/alarm", "admin")
        mn = "42120101001001"
        feed(url, hourly(mn, T0, [cod(150)]))
        evaluate(url, T0 + timedelta(hours=1, minutes=5))
        assert _Hook.received == []  # queued with the alarm, not sent inside its transaction
        assert webhooks.deliver_due(engine_for(url))["delivered"] == 1
        mine = [x for x in _Hook.received if x["mn"] == mn]
        assert [(x["rule"], x["code"], x["value"]) for x in mine] == [("exceedance", "w01018", 150.0)]
        with session_scope(url) as s:
            a = open_alarms(url, mn)[("exceedance", "w01018")]
            log = alarms.alarm_dict(s, s.get(m.Alarm, a.id), with_log=True)["log"]
        assert [x["note"] for x in log if x["action"] == "webhook"] == ["HTTP 200 (attempt 1 of 5)"]
    finally:
        with session_scope(url) as s:
            set_setting(s, "webhook_url", "", "admin")
            set_setting(s, "webhook_allow_private", False, "admin")
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def test_settings_are_validated(url: str) -> None:
    with session_scope(url) as s:
        with pytest.raises(ValueError, match="unknown setting"):
            set_setting(s, "nope", 1)
        with pytest.raises(ValueError, match="Missing data after must be"):  # (its range: services.sources)
            set_setting(s, "missing_hours", -1)
        with pytest.raises(ValueError, match="true or false"):
            set_setting(s, "auto_close", 1)


def test_an_exceedance_inside_a_backlog_is_not_missed(url: str) -> None:
    mn = "42120101101001"  # COD limit 100
    feed(url, hourly(mn, T0, [cod(40), cod(160), cod(40)]))  # sent late, all at once
    with session_scope(url) as s:
        pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        assert pid is not None
        hours = {pid: {utc(T0 + timedelta(hours=k)) for k in range(3)}}
        alarms.evaluate(s, now=utc(T0 + timedelta(hours=3, minutes=5)), hours=hours)
    a = open_alarms(url, mn)[("exceedance", "w01018")]
    assert a.value == 160.0 and a.cleared_utc is not None  # opened for the hour that exceeded, then cleared
    assert (
        a.message.startswith("2026-10-01 01:00")
        and json.loads(a.detail_json)["hour_beijing"] == "2026-10-01 01:00"
    )

"""The energy platform's way in (issue 14 §1–2, §7): meters and gateways, readings pushed over HTTP
with a gateway token and over MQTT through a real broker (acknowledged after commit, persistent
session), cleaned series read back within the caller's scope, and the CLI."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli
from greenpark.services.energy import meters
from greenpark.services.energy.mqtt import MqttSubscriber, readings_topic
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.conftest import demo_logins

MQTT_HOST, MQTT_PORT = "127.0.0.1", int(os.environ.get("GREENPARK_TEST_MQTT_PORT", "1883"))
REQUIRE_MQTT = os.environ.get("GREENPARK_REQUIRE_MQTT") == "1"


def _broker() -> None:
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
    except OSError as exc:
        if REQUIRE_MQTT:
            pytest.fail(
                f"the MQTT broker is required (GREENPARK_REQUIRE_MQTT=1) but {MQTT_HOST}:{MQTT_PORT} is unreachable: {exc}"
            )
        pytest.skip(f"MQTT broker not reachable at {MQTT_HOST}:{MQTT_PORT}: {exc}")


def _setup(url: str) -> tuple[str, str, str]:
    """Two meters of E01 and one of E03, a gateway of E01; returns (park code, E01 token, E03 meter)."""
    with session_scope(url) as s:
        e01 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E01")).one()
        e03 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E03")).one()
        _gw, token = meters.add_gateway(s, e01, "GW-T01", "一号网关")
        meters.add_meter(s, e01, meters.MeterFields(code="E01-T-01", name="总进线", carrier="electricity", unit="kWh",
                                                    multiplier=40, max_rate_per_h=2000 * 40, reading_interval_s=60,
                                                    gateway="GW-T01"))  # fmt: skip
        meters.add_meter(s, e01, meters.MeterFields(code="E01-T-02", name="空压机", carrier="electricity", unit="kWh",
                                                    level="equipment", parent="E01-T-01"))  # fmt: skip
        meters.add_meter(
            s, e03, meters.MeterFields(code="E03-T-01", name="总进线", carrier="electricity", unit="kWh")
        )
        park = s.scalars(select(m.Park)).one().code
    return park, token, "E03-T-01"


def _batch(
    meter: str, start: datetime, values: list[float], step_s: int = 60
) -> dict[str, list[dict[str, object]]]:
    return {"readings": [{"meter": meter, "t": (start + timedelta(seconds=step_s * k)).isoformat(), "v": v}
                         for k, v in enumerate(values)]}  # fmt: skip


BJ = timedelta(hours=8)


def _hour_ago() -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return (now - timedelta(hours=2)).replace(minute=0).astimezone(UTC)


def test_a_gateway_pushes_over_http_and_staff_read_the_cleaned_series(fresh_demo_url: str) -> None:
    _park, token, other = _setup(fresh_demo_url)
    start = _hour_ago()
    values = [1000.0 + k for k in range(60)]
    values[30] = 0.0  # a glitch: a momentary zero
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        r = c.post("/api/energy/readings", json=_batch("E01-T-01", start, values), headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == {"stored": 60, "repeated": 0, "refused": []}
        # a resend after an outage stores nothing twice
        again = c.post(
            "/api/energy/readings", json=_batch("E01-T-01", start, values[:10]), headers=auth
        ).json()
        assert again == {"stored": 0, "repeated": 10, "refused": []}
        # another enterprise's meter, a virtual time, a bad value: each named; the good one stored
        mixed = {"readings": [
            {"meter": other, "t": start.isoformat(), "v": 1},
            {"meter": "E01-T-02", "t": "2026-01-01T00:00:00", "v": 1},
            {"meter": "E01-T-02", "t": start.isoformat(), "v": "many"},
            {"meter": "E01-T-02", "t": start.isoformat(), "v": 7},
        ]}  # fmt: skip
        out = c.post("/api/energy/readings", json=mixed, headers=auth).json()
        assert out["stored"] == 1 and [x["index"] for x in out["refused"]] == [1, 2, 0]
        assert (
            "no zone" in out["refused"][0]["reason"]
            and "not a meter of this gateway" in out["refused"][2]["reason"]
        )
        # no token, a wrong token, and a body that is not the shape: refused with the reason
        assert c.post("/api/energy/readings", json=_batch("E01-T-01", start, [1.0])).status_code == 401
        assert (
            c.post("/api/energy/readings", json={}, headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        bad = c.post("/api/energy/readings", content=b"[1,2", headers=auth)
        assert bad.status_code == 422 and "not JSON" in bad.text

        login = c.post(
            "/api/auth/login", json={"username": "staff", "password": demo_logins[fresh_demo_url]["staff"]}
        )
        assert login.status_code == 200
        local = (start + BJ).replace(tzinfo=None)
        q = {"step": "hour", "start": local.isoformat(), "end": (local + timedelta(hours=2)).isoformat()}
        s = c.get("/api/energy/meters/E01-T-01/series", params=q).json()
        first = s["series"][0]
        # 59 counts in the hour × multiplier 40; the zero skipped, not re-based (no 1030 × 40 booked)
        assert first["energy"] == pytest.approx(59 * 40) and "GLITCH" in first["flags"]
        assert first["coverage_pct"] == pytest.approx(100.0 * 59 / 60, abs=0.1)
        codes = [r["code"] for r in c.get("/api/energy/meters").json()]
        assert {"E01-T-01", "E01-T-02", "E03-T-01"} <= set(codes)


def test_an_enterprise_reads_only_its_own_meters(fresh_demo_url: str) -> None:
    _setup(fresh_demo_url)
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        pw = demo_logins[fresh_demo_url]["enterprise"]
        assert c.post("/api/auth/login", json={"username": "enterprise", "password": pw}).status_code == 200
        codes = {r["code"] for r in c.get("/api/energy/meters").json()}
        assert {"E01-T-01", "E01-T-02"} <= codes and all(c.startswith("E01-") for c in codes)
        assert c.get("/api/energy/meters/E03-T-01/series").status_code == 404
        assert c.get("/api/energy/meters/E01-T-01/series").status_code == 200
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as anon:
        assert anon.get("/api/energy/meters/E01-T-01/series").status_code == 401


@pytest.fixture
def broker() -> Iterator[None]:
    _broker()
    yield


def _publish(topic: str, payloads: list[bytes]) -> None:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gp-test-pub-{uuid.uuid4().hex[:8]}")
    pub.connect(MQTT_HOST, MQTT_PORT)
    pub.loop_start()
    try:
        for p in payloads:
            pub.publish(topic, p, qos=1).wait_for_publish(5)
    finally:
        pub.disconnect()
        pub.loop_stop()


def _stored(url: str) -> int:
    with session_scope(url) as s:
        return int(
            s.scalar(select(func.count()).select_from(m.MeterReading).where(m.MeterReading.source == "mqtt"))
            or 0
        )


def _wait(url: str, n: int, timeout: float = 15) -> int:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if (got := _stored(url)) >= n:
            return got
        time.sleep(0.1)
    return _stored(url)


def test_mqtt_readings_are_stored_and_the_broker_keeps_them_while_greenpark_is_down(
    fresh_demo_url: str, broker: None
) -> None:
    park, _token, _other = _setup(fresh_demo_url)
    cid = f"greenpark-test-{uuid.uuid4().hex[:8]}"  # its own persistent session on the shared broker
    sub = MqttSubscriber(fresh_demo_url, park, MQTT_HOST, MQTT_PORT, client_id=cid)
    sub.start()
    start = _hour_ago()
    topic = readings_topic(park, "GW-T01")
    try:
        _publish(topic, [json.dumps(_batch("E01-T-01", start, [100.0 + k for k in range(30)])).encode(),
                         b"not json", json.dumps(_batch("E01-T-01", start, [100.0])).encode()])  # fmt: skip
        assert _wait(fresh_demo_url, 30) == 30
        t0 = time.monotonic()
        while sub.counts["messages"] < 3 and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        assert sub.counts["rejected"] == 1 and sub.counts["repeated"] == 1
    finally:
        sub.stop()
    # greenpark is down: the broker holds the QoS 1 messages for the persistent session
    later = start + timedelta(minutes=30)
    _publish(topic, [json.dumps(_batch("E01-T-01", later, [130.0 + k for k in range(30)])).encode()])
    time.sleep(0.5)
    assert _stored(fresh_demo_url) == 30
    back = MqttSubscriber(fresh_demo_url, park, MQTT_HOST, MQTT_PORT, client_id=cid)
    back.start()
    try:
        assert _wait(fresh_demo_url, 60) == 60
    finally:
        back.stop()


def test_unknown_gateway_and_other_enterprises_meters_over_mqtt(fresh_demo_url: str, broker: None) -> None:
    park, _token, other = _setup(fresh_demo_url)
    sub = MqttSubscriber(
        fresh_demo_url, park, MQTT_HOST, MQTT_PORT, client_id=f"greenpark-test-{uuid.uuid4().hex[:8]}"
    )
    # handle() is what the network thread calls for each message; called here it needs no broker
    start = _hour_ago()
    payload = json.dumps(_batch(other, start, [1.0])).encode()
    assert "no active gateway" in sub.handle(readings_topic(park, "GW-NONE"), payload)["rejected"]
    out = sub.handle(readings_topic(park, "GW-T01"), payload)
    assert out["stored"] == 0 and "not a meter of this gateway" in out["refused"][0]["reason"]
    assert "rejected" in sub.handle("greenpark/OTHER/GW-T01/readings", payload)


def test_cli_meters_gateway_and_rollup(fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    run = CliRunner()
    r = run.invoke(cli, ["energy", "meter-add", "--enterprise", "E02", "--code", "E02-GAS-01", "--name", "天然气总表",
                         "--carrier", "natural_gas", "--unit", "m3", "--rollover", "1000000", "--max-rate", "500",
                         "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    bad = run.invoke(cli, ["energy", "meter-add", "--enterprise", "E02", "--code", "E02-X", "--name", "x",
                           "--carrier", "natural_gas", "--unit", "m3", "--multiplier", "0"])  # fmt: skip
    assert bad.exit_code == 2 and "multiplier" in bad.output
    r = run.invoke(
        cli,
        ["energy", "gateway-add", "--enterprise", "E02", "--code", "GW-T02", "--name", "燃气网关", "--json"],
    )
    token = json.loads(r.output)["token"]
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        start = _hour_ago()
        values = [999_900.0 + 20 * k for k in range(4)] + [40.0 + 20 * k for k in range(4)]  # wraps at 10^6
        body = _batch("E02-GAS-01", start, values, step_s=900)
        got = c.post("/api/energy/readings", json=body, headers={"Authorization": f"Bearer {token}"}).json()
        assert got["stored"] == 8
    local = (start + BJ).replace(tzinfo=None)
    r = run.invoke(cli, ["energy", "rollup", "--meter", "E02-GAS-01", "--step", "hour", "--from", local.isoformat(),
                         "--to", (local + timedelta(hours=2)).isoformat(), "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    # 3 × 20, then the wrap (10^6 − 999 960 + 40 = 80), then 3 × 20
    assert sum(x["energy"] for x in out["series"]) == pytest.approx(60 + 80 + 60)
    assert any("WRAP" in x["flags"] for x in out["series"])
    listing = json.loads(run.invoke(cli, ["energy", "meters", "--enterprise", "E02", "--json"]).output)
    gas = [x for x in listing if x["code"] == "E02-GAS-01"]
    assert gas and gas[0]["rollover"] == 1_000_000 and all(x["enterprise"] == "E02" for x in listing)


def test_simulate_publishes_over_mqtt_and_every_reading_is_stored(
    fresh_demo_url: str, broker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    with session_scope(fresh_demo_url) as s:
        park = s.scalars(select(m.Park)).one().code
    sub = MqttSubscriber(
        fresh_demo_url, park, MQTT_HOST, MQTT_PORT, client_id=f"greenpark-test-{uuid.uuid4().hex[:8]}"
    )
    sub.start()
    try:
        before = _stored(fresh_demo_url)
        r = CliRunner().invoke(cli, ["energy", "simulate", "--meters", "5", "--rate", "500", "--duration", "1",
                                     "--faults", "--json"])  # fmt: skip
        assert r.exit_code == 0, r.output
        out = json.loads(r.output)
        assert out["readings"] > 0 and out["synthetic"] is True
        assert _wait(fresh_demo_url, before + out["readings"]) == before + out["readings"]
    finally:
        sub.stop()
    with session_scope(fresh_demo_url) as s:
        sims = s.scalars(select(m.EnergyMeter).where(m.EnergyMeter.code.like("SIM-%"))).all()
        assert len(sims) == 5 and all(x.synthetic for x in sims)


def test_what_the_security_probe_found_is_refused_reading_by_reading(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe's requests: a time that overflows (year 1 at +14:00) and a 400-digit value gave a
    422 for the whole batch (and over MQTT stopped the park's ingestion: no acknowledgement, ever);
    a different value at a stored time was counted a repeat; a gateway stored into another gateway's
    meter and into a retired one; a zoned series range was read as Beijing time; a rotated token
    kept working."""
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    park, token, _other = _setup(fresh_demo_url)
    with session_scope(fresh_demo_url) as s:  # a retired meter of E01, bound to no gateway
        e01 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E01")).one()
        meters.add_meter(
            s, e01, meters.MeterFields(code="E01-T-OLD", name="旧表", carrier="electricity", unit="kWh")
        )
        s.scalars(select(m.EnergyMeter).where(m.EnergyMeter.code == "E01-T-OLD")).one().active = False
    start = _hour_ago()
    auth = {"Authorization": f"Bearer {token}"}
    big = int("9" * 400)
    body = json.dumps({"readings": [
        {"meter": "E01-T-01", "t": start.isoformat(), "v": 1.0},
        {"meter": "E01-T-01", "t": "0001-01-01T00:00:00+14:00", "v": 1},
        {"meter": "E01-T-02", "t": start.isoformat(), "v": big},
        {"meter": "E01-T-02", "t": start.isoformat(), "v": -5},
        {"meter": "E01-EL-IN", "t": start.isoformat(), "v": 1.0},  # the demo's GW-E01 reads it
        {"meter": "E01-T-OLD", "t": start.isoformat(), "v": 1.0},
    ]})  # fmt: skip
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        out = c.post("/api/energy/readings", content=body, headers=auth).json()
        assert out["stored"] == 1, out
        reasons = {x["index"]: x["reason"] for x in out["refused"]}
        assert set(reasons) == {1, 2, 3, 4, 5}
        assert "out of range" in reasons[1] and "at most 10^15" in reasons[2] and "not negative" in reasons[3]
        assert "another gateway" in reasons[4] and "retired" in reasons[5]
        # the same time with another value: a conflict, said; the stored value stays
        again = c.post("/api/energy/readings", json={"readings": [{"meter": "E01-T-01", "t": start.isoformat(), "v": 99999}]},
                       headers=auth).json()  # fmt: skip
        assert (
            again["stored"] == 0
            and again["repeated"] == 0
            and "different value (1)" in again["refused"][0]["reason"]
        )
        # a zoned range means what it says
        pw = demo_logins[fresh_demo_url]["staff"]
        assert c.post("/api/auth/login", json={"username": "staff", "password": pw}).status_code == 200
        utc = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        z = c.get(
            "/api/energy/meters/E01-T-01/series",
            params={"step": "hour", "start": utc, "end": utc.replace(":00:00Z", ":59:00Z")},
        ).json()
        assert [x["start"] for x in z["series"]] == [(start + BJ).strftime("%Y-%m-%d %H:%M")]
        # a whole-park reader narrows the listing to one enterprise when asked
        e03 = c.get("/api/energy/meters", params={"enterprise_id": _id(fresh_demo_url, "E03")}).json()
        assert e03 and {x["enterprise"] for x in e03} == {"E03"}
    # over MQTT the overflowing reading is refused by itself and the message is acknowledged
    sub = MqttSubscriber(fresh_demo_url, park, client_id=f"greenpark-test-{uuid.uuid4().hex[:8]}")
    res = sub.handle(readings_topic(park, "GW-T01"), body.encode())
    assert (res["stored"], res["repeated"], len(res["refused"])) == (
        0,
        1,
        5,
    )  # the good one is stored already
    # a rotated token is refused at once
    r = CliRunner().invoke(cli, ["energy", "gateway-token", "--gateway", "GW-T01", "--json"])
    assert r.exit_code == 0, r.output
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        assert c.post("/api/energy/readings", content=body, headers=auth).status_code == 401


def _id(url: str, code: str) -> int:
    with session_scope(url) as s:
        return int(s.scalars(select(m.Enterprise.id).where(m.Enterprise.code == code)).one())


def test_a_batch_larger_than_a_querys_parameters_is_stored(fresh_demo_url: str) -> None:
    """The benchmark's find: the MQTT writer merges a batch's messages (up to 100 000 readings) and
    PostgreSQL binds at most 65 535 parameters a query; the batch failed for ever. Chunked now."""
    from greenpark.services.energy.readings import ReadingIn, store_readings

    _setup(fresh_demo_url)
    start = datetime(2026, 1, 1)
    batch = [ReadingIn("E01-T-01", start + timedelta(minutes=k), float(k)) for k in range(40_000)]
    with session_scope(fresh_demo_url) as s:
        park_id = s.scalars(select(m.Park.id)).one()
        assert store_readings(s, park_id, batch, "mqtt", now=start + timedelta(days=40)).stored == 40_000
    with session_scope(fresh_demo_url) as s:
        again = store_readings(s, park_id, batch, "mqtt", now=start + timedelta(days=40))
        assert (again.stored, again.repeated) == (0, 40_000)

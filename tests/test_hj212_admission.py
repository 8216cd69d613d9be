"""Who may hold a connection to the HJ 212 server and what strangers can make it store, over real
TCP on SQLite and PostgreSQL: idle sockets from other addresses cannot lock registered devices
out, a silent connection meets its first-frame deadline, a megabyte of garbage leaves a few
samples and one summary, unknown-MN frames are capped per connection and per MN, and a wrong PW
for a registered MN is an alarm — never an adoption — with a confirmed, audited re-key.

Other "hosts" are other loopback addresses (127.0.0.2, 127.0.0.3, …): Linux routes all of
127/8 to the loopback interface.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.demo import load_demo
from greenpark.ingest.server import Admission, ServerConfig, peer_key
from greenpark.services.park import audit
from greenpark.services.pollution import alarms, devices
from greenpark.services.pollution.sources import DeviceConflict
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from tests.conftest import new_database
from tests.hj212_helpers import PW, Device, serving, upload, wait_for

#: Registered demo devices used only by this module (data/demo/xianning/sources/points.csv).
MN_A = "42120100301001"
MN_B = "42120100401001"
MN_C = "42120100501001"
MN_D = "42120100601001"


@pytest.fixture(scope="module")
def url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    u = new_database(backend, tmp_path_factory.mktemp("admission"))
    with session_scope(u) as s:
        load_demo(s, synthetic_air=False)
    yield u
    dispose_engine(u)


def minute(mn: str, k: int, pw: str = PW) -> bytes:
    """The k-th minute upload of a device, as bytes (each test uses its own days)."""
    from greenpark.hj212.codec import build

    t = datetime(2026, 11, 20) + timedelta(minutes=k)
    return build(
        upload(mn, "2051", t.strftime("%Y%m%d%H%M%S"), {"w01018": {"Avg": "12.5", "Flag": "N"}}, pw=pw)
    )


def raw_rows(url: str, **where: object) -> list[m.RawFrame]:
    with session_scope(url) as s:
        stmt = select(m.RawFrame)
        for k, v in where.items():
            stmt = stmt.where(getattr(m.RawFrame, k) == v)
        rows = list(s.scalars(stmt.order_by(m.RawFrame.id)))
        s.expunge_all()
        return rows


def point(url: str, mn: str) -> m.SourcePoint:
    with session_scope(url) as s:
        p = s.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == mn)).one()
        s.expunge(p)
        return p


def unknown_frames(url: str, mn: str) -> int | None:
    with session_scope(url) as s:
        return s.scalar(select(m.UnknownDevice.frames).where(m.UnknownDevice.mn == mn))


def hold(port: int, source: str, n: int) -> list[socket.socket]:
    """``n`` idle TCP connections from ``source`` (the attack: connect, say nothing)."""
    out = []
    for _ in range(n):
        out.append(socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)))
    return out


# the policy alone


def test_admission_evicts_the_oldest_unproven_of_the_busiest_address() -> None:
    cfg = ServerConfig(
        max_connections=10, max_connections_per_peer=8, max_unproven=4, max_unproven_per_peer=3
    )
    a: Admission[str] = Admission(cfg)
    assert [a.admit(c, "X", t) for t, c in enumerate(("x1", "x2", "x3"))] == [[], [], []]
    assert a.admit("x4", "X", 3) == ["x1"]  # its own address holds 3 unproven: its oldest goes
    assert a.admit("y1", "Y", 4) == []
    assert a.admit("z1", "Z", 5) == ["x2"]  # the 4 unproven places are taken: the busiest address loses
    a.prove("y1")  # a registered device: no longer counted, never evicted
    assert (a.n_unproven, a.connections, a.is_unproven("y1")) == (3, 4, False)
    assert a.expired(2.5 + cfg.first_frame_timeout_s) == ["x3"]  # arrived at 2, the deadline is 60 s
    a.release("x3")
    a.release("x3")  # idempotent
    assert (a.n_unproven, a.connections) == (2, 3)
    # with every place held by proven devices a newcomer is refused
    b: Admission[str] = Admission(ServerConfig(max_connections=2, max_unproven=1))
    for c in ("p1", "p2"):
        assert b.admit(c, "P", 0) == []
        b.prove(c)
    assert b.admit("p3", "Q", 0) is None
    assert peer_key("2001:db8:1:2::5") == peer_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert peer_key("::ffff:10.1.2.3") == "10.1.2.3" and peer_key("127.0.0.2") == "127.0.0.2"
    with pytest.raises(ValueError, match="below max_connections"):
        ServerConfig(max_connections=100, max_unproven=100).check()


# over TCP


def test_idle_sockets_from_two_addresses_cannot_lock_out_registered_devices(url: str) -> None:
    """400 idle sockets from 127.0.0.2 and 127.0.0.3 against room for 300: the unproven pool (100)
    churns, the registered devices from 127.0.0.1 — one already connected, one new — are served."""
    with serving(url, max_connections=300, max_connections_per_peer=200, max_unproven=100,
                 max_unproven_per_peer=50) as srv:  # fmt: skip
        old = Device(srv.port)
        old.send(minute(MN_A, 0))
        assert old.receive(1)[0].cn == "9014"
        flood: list[socket.socket] = []
        try:
            for source in ("127.0.0.2", "127.0.0.3"):
                flood += hold(srv.port, source, 200)
            st = srv.stats
            wait_for(
                lambda: st.connections_total + st.refused_connections >= 401,
                "the server saw every connection",
            )
            new = Device(srv.port)
            new.send(minute(MN_B, 0))
            assert new.receive(1)[0].cn == "9014"
            old.send(minute(MN_A, 1))
            assert old.receive(1)[0].cn == "9014"
            st = srv.stats
            assert st.refused_connections == 0 and st.unproven <= 100
            assert (
                st.evicted_unproven >= 401 - 100
            )  # every stranger beyond the pool, and the new device's place
        finally:
            for sock in flood:
                sock.close()
    with session_scope(url) as s:  # the evictions are summarised per address, not row by row
        summaries = {
            r.peer: json.loads(r.reason)
            for r in s.scalars(select(m.RawFrame).where(m.RawFrame.status == "summary"))
        }
    assert summaries["127.0.0.2"]["closed"]["evicted"] + summaries["127.0.0.3"]["closed"]["evicted"] >= 300


def test_a_silent_connection_is_closed_at_the_first_frame_deadline(url: str) -> None:
    with serving(url, first_frame_timeout_s=1.0) as srv:
        device = Device(srv.port)
        device.send(minute(MN_C, 0))
        assert device.receive(1)[0].cn == "9014"
        silent = Device(srv.port, source="127.0.0.2")
        assert silent.closed_by_server(10.0)
        assert srv.stats.first_frame_closed == 1
        device.send(minute(MN_C, 1))  # a proven connection has no such deadline
        assert device.receive(1)[0].cn == "9014"


def test_a_megabyte_of_garbage_leaves_samples_and_one_summary(url: str) -> None:
    """Unproven: closed at its budget; proven (a registered device whose line goes bad): every
    chunk counted exactly, three samples and one summary row; the server serves on."""
    garbage = b"##AB" * (1 << 18)  # 1 MiB
    t0 = m.utcnow()
    with serving(url) as srv:
        stranger = Device(srv.port, source="127.0.0.2")
        with pytest.raises(OSError):  # reset by the server, which closes it at its budget
            stranger.send(garbage)
            stranger.receive(1)
        device = Device(srv.port, source="127.0.0.4")
        device.send(minute(MN_D, 0))
        assert device.receive(1)[0].cn == "9014"
        device.send(garbage + minute(MN_D, 1))
        assert device.receive(1)[0].qn == "20261120000100000"
        assert srv.stats.budget_closed == 1
    rows = [r for r in raw_rows(url) if r.received_utc >= t0]
    by_peer: dict[str, list[m.RawFrame]] = {}
    for r in rows:
        by_peer.setdefault(r.peer.rpartition(":")[0] if r.status != "summary" else r.peer, []).append(r)
    stranger_rows, device_rows = by_peer["127.0.0.2"], by_peer["127.0.0.4"]
    assert [r.status for r in stranger_rows].count("rejected") <= 3
    assert [r.status for r in device_rows].count("rejected") == 3
    (s2,) = [json.loads(r.reason) for r in stranger_rows if r.status == "summary"]
    (s4,) = [json.loads(r.reason) for r in device_rows if r.status == "summary"]
    assert s2["closed"]["budget"] == 1 and 32 < s2["rejected"] < 4096 and s2["stored_rows"] <= 3
    # "##AB" is reported twice per 4 bytes: as a header whose length is not decimal, then as 2
    # bytes before the next "##" — so 2 × 2^18 chunks; every byte of the MiB is refused bytes
    assert (s4["rejected"], s4["rejected_bytes"], s4["stored_rows"]) == (2 * (1 << 18), 1 << 20, 3)
    assert s4["not_stored"] == 2 * (1 << 18) - 3 and any("not decimal" in x for x in s4["first_reasons"])
    assert srv.stats.rejected_bytes >= (1 << 20) + s2["rejected_bytes"]


def test_summaries_are_written_periodically_for_a_long_lived_connection(url: str) -> None:
    with serving(url, summary_every_s=0.5) as srv:
        device = Device(srv.port, source="127.0.0.5")
        device.send(minute(MN_D, 10))
        device.receive(1)
        device.send(b"##XY" * 10 + minute(MN_D, 11))  # 20 rejected chunks (see the megabyte test)
        device.receive(1)

        def summary() -> list[m.RawFrame]:
            return [r for r in raw_rows(url, status="summary") if r.peer == "127.0.0.5"]

        wait_for(summary, "a summary while the connection is open")
        assert json.loads(summary()[0].reason)["rejected"] == 20


def test_unknown_frames_are_capped_per_connection_and_per_mn_and_still_adoptable(url: str) -> None:
    mn = "SIM00000000042"
    with serving(url, unknown_raw_per_connection=2, unknown_raw_per_mn=3) as srv:
        for conn_no in range(2):
            d = Device(srv.port, source="127.0.0.6")
            for k in range(5):
                d.send(minute(mn, 100 + 5 * conn_no + k))
            assert d.nothing_within(0.3)

            def seen(n: int = 5 * (conn_no + 1)) -> bool:
                with session_scope(url) as s:
                    return s.scalar(select(m.UnknownDevice.frames).where(m.UnknownDevice.mn == mn)) == n

            wait_for(seen, "the unknown device counted")
            d.close()
        assert srv.stats.unknown == 10
    kept = raw_rows(url, mn=mn)
    assert len(kept) == 3  # 2 from the first connection, 1 more until the MN's cap of 3
    with session_scope(url) as s:
        outlet = s.scalars(select(m.Outlet).where(m.Outlet.code == "DW001")).first()
        assert outlet is not None
        assert devices.adopt(s, mn, outlet.id, "officer") == (3, 0)


def test_a_wrong_password_is_an_alarm_not_an_adoption_and_rekey_is_confirmed_and_audited(url: str) -> None:
    mn = MN_B
    with serving(url) as srv:
        device = Device(srv.port)  # the real logger, from its usual address
        device.send(minute(mn, 200))
        assert device.receive(1)[0].cn == "9014"
        wait_for(lambda: point(url, mn).last_peer.startswith("127.0.0.1:"), "the device's address recorded")
        intruder = Device(srv.port, source="127.0.0.7")
        for k in range(6):
            intruder.send(minute(mn, 300 + k, pw="hijack1"))
        assert intruder.nothing_within(0.3)
        wait_for(lambda: point(url, mn).pw_failures == 6 or unknown_frames(url, mn) == 6, "the frames stored")
        assert unknown_frames(url, mn) is None  # not a device to adopt ...
        assert point(url, mn).pw_failures == 6  # ... but counted on the registered one
        device.send(minute(mn, 201))  # the real device is not disturbed
        assert device.receive(1)[0].cn == "9014"
        assert srv.stats.bad_pw == 6 and srv.stats.unknown == 0
    p = point(url, mn)
    assert p.pw == PW and p.pw_failure_peer.startswith("127.0.0.7:")
    assert len(raw_rows(url, mn=mn, status="bad_pw")) == 3  # a sample per connection, not every frame
    with session_scope(url) as s:
        assert (
            s.scalar(select(func.count()).select_from(m.UnknownDevice).where(m.UnknownDevice.mn == mn)) == 0
        )
        alarms.evaluate(s)
        (a,) = s.scalars(select(m.Alarm).where(m.Alarm.point_id == p.id, m.Alarm.rule == "wrong_password"))
        assert a.status == "open" and a.severity == "critical"  # from another address than the device's
        assert a.message.startswith("6 frame(s) with a wrong PW, the last from 127.0.0.7:")
        outlet_id = s.scalars(select(m.Outlet.id)).first()
        assert outlet_id is not None
        with pytest.raises(DeviceConflict, match="already registered"):
            devices.adopt(s, mn, outlet_id, "officer")
        with pytest.raises(ValueError, match="confirm"):
            devices.rekey_device(s, p.id, "n3wPW", confirm_mn="42120100000000", by="officer")
        for bad in ("", "has space", "a;b", "x=1", "a&b", "a,b", "1234567890abcdefg", "密码"):
            with pytest.raises(ValueError, match="PW has"):
                devices.rekey_device(s, p.id, bad, confirm_mn=mn, by="officer")
        assert s.get(m.SourcePoint, p.id).pw == PW  # type: ignore[union-attr]
        out = devices.rekey_device(s, p.id, "n3wPW", confirm_mn=mn, by="officer")
        assert (out.pw, out.pw_failures, out.pw_failure_utc) == ("n3wPW", 0, None)
        # newest first: the re-key, then the point's row of the enterprise file (its PW hidden)
        ev, *before = audit.changes(s, entity="source_point", key=mn)
        assert [e["action"] for e in before] == ["create"] and before[0]["new"]["pw"] == audit.HIDDEN
        assert (ev["action"], ev["actor"], ev["field"], ev["old"], ev["new"]) == (
            "rekey",
            "officer",
            "pw",
            "(hidden)",
            "(hidden)",
        )
        stored = s.scalars(select(m.AuditEvent)).all()
        assert not any("n3wPW" in (e.old_json + e.new_json + e.note) for e in stored)
        assert not any("hijack1" in (e.old_json + e.new_json + e.note) for e in stored)
        alarms.evaluate(s)
        assert s.get(m.Alarm, a.id).cleared_utc is not None  # type: ignore[union-attr]
        with pytest.raises(LookupError):
            devices.rekey_device(s, 999_999, "n3wPW", confirm_mn=mn, by="officer")
        devices.rekey_device(s, p.id, PW, confirm_mn=mn, by="officer")  # back, for the other tests


def test_a_wrong_password_alarm_clears_when_they_stop(url: str) -> None:
    mn = MN_C
    with session_scope(url) as s:
        p = s.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == mn)).one()
        p.last_peer, p.pw_failures, p.pw_failure_peer = "127.0.0.1:5000", 2, "127.0.0.1:5001"
        p.pw_failure_utc = t = datetime(2026, 11, 21, 8)
        alarms.evaluate(s, now=t + timedelta(minutes=5))
        (a,) = s.scalars(select(m.Alarm).where(m.Alarm.point_id == p.id, m.Alarm.rule == "wrong_password"))
        assert a.severity == "warning"  # from the device's own address: a logger with a changed PW
        alarms.evaluate(s, now=t + timedelta(minutes=alarms.WRONG_PW_QUIET_MINUTES + 1))
        assert a.cleared_utc is not None


def test_rekey_and_adopt_from_the_command_line(url: str) -> None:
    runner = CliRunner()
    env = {"GREENPARK_DATABASE_URL": url}
    mn = MN_D
    res = runner.invoke(app, ["sources", "rekey", "--mn", mn, "--pw", "abc123", "--confirm", "nope"], env=env)
    assert res.exit_code == 2 and "confirm" in res.output
    res = runner.invoke(
        app, ["sources", "rekey", "--mn", mn, "--pw", "abc123", "--confirm", mn, "--by", "li"], env=env
    )
    assert res.exit_code == 0 and "abc123" not in res.output, res.output
    assert point(url, mn).pw == "abc123"
    res = runner.invoke(app, ["sources", "adopt", mn, "--outlet", "1"], env=env)
    assert res.exit_code == 2 and "already registered" in res.output
    runner.invoke(app, ["sources", "rekey", "--mn", mn, "--pw", PW, "--confirm", mn], env=env)
    assert point(url, mn).pw == PW


def test_an_overlong_unknown_mn_neither_fails_the_batch_nor_escapes_its_cap(url: str) -> None:
    """An MN longer than the column (32) used to make PostgreSQL refuse the whole batch, twice,
    holding up the acknowledgements of every frame in it."""
    mn = "X" * 40
    with serving(url, unknown_raw_per_mn=2) as srv:
        stranger = Device(srv.port, source="127.0.0.8")
        for k in range(4):
            stranger.send(minute(mn, 400 + k))
        device = Device(srv.port)
        device.send(minute(MN_A, 400))
        assert device.receive(1)[0].cn == "9014"
        wait_for(lambda: unknown_frames(url, mn[:32]) == 4, "the unknown device counted")
        assert srv.stats.write_errors == 0
    assert len(raw_rows(url, mn=mn[:32])) == 2

"""The HJ 212 ingestion server over real TCP sockets, on SQLite and PostgreSQL: acknowledged only
after the commit, stored once, framing trouble handled per connection, unknown devices recorded and
adopted, subpackets, limits, time sync, 2005 codes, roll-ups. Admission of unproven connections,
refused traffic and wrong PWs: tests/test_hj212_admission.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from greenpark.demo import load_demo
from greenpark.hj212.codec import build, make_frame
from greenpark.services.pollution import devices, ingest
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from tests.conftest import new_database
from tests.hj212_helpers import GAS_MN, OLD_MN, PW, WATER_MN, WWTP_MN, Device, serving, upload


@pytest.fixture(scope="module")
def src_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One demo park (with its enterprise file) per backend for this module; tests use their own
    devices or their own DataTimes so they do not see each other's data."""
    url = new_database(backend, tmp_path_factory.mktemp("hj212"))
    with session_scope(url) as s:
        load_demo(s, synthetic_air=False)
    yield url
    dispose_engine(url)


def readings(url: str, mn: str, **where: object) -> list[m.SourceReading]:
    with session_scope(url) as s:
        pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        stmt = select(m.SourceReading).where(m.SourceReading.point_id == pid)
        for k, v in where.items():
            stmt = stmt.where(getattr(m.SourceReading, k) == v)
        return list(s.scalars(stmt.order_by(m.SourceReading.time_utc, m.SourceReading.code)))


def test_ack_only_after_store_with_same_qn_and_beijing_time_in_utc(src_url: str) -> None:
    f = upload(WATER_MN, "2061", "20261101080000", {"w01018": {"Avg": "56.2", "Flag": "N"},
                                                   "w00000": {"Avg": "6.1", "Cou": "21.96", "Flag": "N"}})  # fmt: skip
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(f)
        (ack,) = dev.receive(1)
        # the reply is 9014, ST=91, same QN, PW and MN, Flag=4 (HJ 212-2017 Appendix C.14)
        assert (ack.cn, ack.st, ack.qn, ack.mn, ack.pw, ack.flag) == ("9014", "91", f.qn, WATER_MN, PW, 4)
        # when the reply is on the wire the data are already committed: visible to another connection
        rows = readings(src_url, WATER_MN, kind="hour")
        assert {(r.code, r.value, r.flag) for r in rows} >= {("w01018", 56.2, "N"), ("w00000", 6.1, "N")}
        assert rows[0].time_utc == datetime(2026, 11, 1, 0, 0)  # 08:00 Beijing = 00:00 UTC
        assert next(r for r in rows if r.code == "w00000").cou == 21.96
        dev.close()


def test_resent_upload_is_stored_once_and_acknowledged_again(src_url: str) -> None:
    f = upload(WWTP_MN, "2051", "20261101091000", {"w01018": {"Avg": "20.5", "Flag": "N"}})
    with serving(src_url) as srv:
        dev = Device(srv.port)
        for _ in range(3):
            dev.send(f)
        acks = dev.receive(3)
        assert [a.qn for a in acks] == [f.qn] * 3
    rows = readings(src_url, WWTP_MN, kind="min", time_utc=datetime(2026, 11, 1, 1, 10))
    assert len(rows) == 1 and rows[0].value == 20.5


def test_split_joined_garbage_and_oversize_on_one_connection(src_url: str) -> None:
    frames = [
        upload(WATER_MN, "2051", f"202611020{h}0000", {"w21003": {"Avg": str(h), "Flag": "N"}})
        for h in range(4)
    ]
    with serving(src_url) as srv:
        dev = Device(srv.port)
        one = build(frames[0])
        for i in range(len(one)):  # one byte at a time
            dev.send(one[i : i + 1])
        dev.send(
            b"\x00\xffnoise" + build(frames[1]) + b"junk\r\n" + build(frames[2])
        )  # garbage between frames
        dev.send(b"##9999" + b"x" * 50 + b"\r\n")  # a length no frame may have
        dev.send(build(frames[3]))
        acks = dev.receive(4)
        assert [a.qn for a in acks] == [f.qn for f in frames]
    with session_scope(src_url) as s:
        rejected = {
            r.raw[:6]: r.reason for r in s.scalars(select(m.RawFrame).where(m.RawFrame.status == "rejected"))
        }
    assert any("before '##'" in r for r in rejected.values())
    assert "CRC" in rejected["##9999"]  # kept for audit with the reason


def test_many_devices_at_once_and_one_bad_device_hurts_nobody(src_url: str) -> None:
    with serving(src_url, frame_timeout_s=1.5) as srv:
        slow = Device(srv.port)
        slow.send(b"##0200QN=1;ST=32")  # a frame that never completes
        devs = [Device(srv.port) for _ in range(20)]
        for k, d in enumerate(devs):
            d.send(upload(GAS_MN, "2051", f"20261103{k:02d}0000", {"a21026": {"Avg": "100", "ZsAvg": "120", "Flag": "N"}},
                          st="31", flag=9))  # fmt: skip
        for d in devs:
            assert d.receive(1)[0].cn == "9014"
        assert slow.closed_by_server(5.0)  # closed for not finishing its frame in time
        assert srv.stats.slow_closed >= 1
    assert len(readings(src_url, GAS_MN, kind="min", code="a21026")) >= 20
    assert readings(src_url, GAS_MN, kind="min", code="a21026")[0].zs_value == 120.0


def test_idle_connections_are_closed(src_url: str) -> None:
    with serving(src_url, idle_timeout_s=1.0) as srv:
        dev = Device(srv.port)
        assert dev.closed_by_server(5.0)
        assert srv.stats.idle_closed == 1


def test_connection_limits(src_url: str) -> None:
    """With every place of an address held by proven devices, a newcomer is refused (unproven
    ones would be evicted instead: test_hj212_admission)."""
    with serving(src_url, max_connections_per_peer=2) as srv:
        a, b = Device(srv.port), Device(srv.port)
        for k, d in enumerate((a, b)):
            d.send(upload(WATER_MN, "2051", f"2026110400{k}000", {"w01018": {"Avg": "1", "Flag": "N"}}))
            assert d.receive(1)[0].cn == "9014"
        c = Device(srv.port)
        assert c.closed_by_server(3.0)
        a.send(upload(WATER_MN, "2051", "20261104002000", {"w01018": {"Avg": "1", "Flag": "N"}}))
        assert a.receive(1)[0].cn == "9014"
        assert srv.stats.refused_connections == 1 and srv.stats.evicted_unproven == 0
        b.close()


def test_unknown_device_recorded_not_acknowledged_then_adopted_and_wrong_password_counted(
    src_url: str,
) -> None:
    stranger = "SIM00000000777"
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(upload(stranger, "2061", "20261105100000", {"w01018": {"Avg": "33.3", "Flag": "N"}}))
        dev.send(
            upload(WWTP_MN, "2061", "20261105100000", {"w01018": {"Avg": "44.4", "Flag": "N"}}, pw="wrong")
        )
        assert dev.nothing_within(1.0)
    with session_scope(src_url) as s:
        unknown = {u["mn"]: u for u in devices.unknown_devices(s)}
        assert unknown[stranger]["reason"] == "unknown_mn" and unknown[stranger]["frames"] == 1
        # a registered MN with a wrong PW is not a device to adopt: it is counted on the point
        assert WWTP_MN not in unknown
        wwtp = s.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == WWTP_MN)).one()
        assert (wwtp.pw_failures, wwtp.pw) == (1, PW)
        outlet = s.scalars(select(m.Outlet).where(m.Outlet.code == "DW001")).first()
        assert outlet is not None
        stored, refused = devices.adopt(s, stranger, outlet.id, "officer")
        assert (stored, refused) == (1, 0)
    rows = readings(src_url, stranger)
    assert [(r.code, r.value) for r in rows] == [("w01018", 33.3)]
    with serving(src_url) as srv:  # from now on its frames are accepted
        dev = Device(srv.port)
        dev.send(upload(stranger, "2061", "20261105110000", {"w01018": {"Avg": "30", "Flag": "N"}}))
        assert dev.receive(1)[0].cn == "9014"


def test_subpackets_are_acknowledged_after_the_whole_message_is_stored(src_url: str) -> None:
    p1 = upload(
        WATER_MN, "2061", "20261106100000", {"w01018": {"Avg": "50", "Flag": "N"}}, qn="1", pnum=2, pno=1
    )
    p2 = upload(
        WATER_MN, "2061", "20261106100000", {"w21003": {"Avg": "5", "Flag": "N"}}, qn="2", pnum=2, pno=2
    )
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(p1)
        assert dev.nothing_within(0.8)  # nothing acknowledged while half the message is missing
        dev.send(p2)
        assert sorted(a.qn or "" for a in dev.receive(2)) == ["1", "2"]
    rows = readings(src_url, WATER_MN, kind="hour", time_utc=datetime(2026, 11, 6, 2))
    assert {(r.code, r.value) for r in rows} == {("w01018", 50.0), ("w21003", 5.0)}


def test_2005_logger_codes_are_stored_as_2017_codes(src_url: str) -> None:
    f = make_frame(qn="20261107080000000", st="32", cn="2061", pw=PW, mn=OLD_MN, flag=1,
                   cp=[("DataTime", "20261107080000"), ("011-Avg", "77.7"), ("B01-Avg", "3.2")])  # fmt: skip
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(f)
        assert dev.receive(1)[0].cn == "9014"
    assert {(r.code, r.value) for r in readings(src_url, OLD_MN)} >= {("w01018", 77.7), ("w00000", 3.2)}


def test_a_bad_value_refuses_the_frame_and_is_not_acknowledged(src_url: str) -> None:
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(upload(WATER_MN, "2061", "20261108080000", {"w01018": {"Avg": "abc", "Flag": "N"}}))
        dev.send(upload(WATER_MN, "2061", "20261108250000", {"w01018": {"Avg": "1", "Flag": "N"}}))  # hour 25
        assert dev.nothing_within(1.0)
    with session_scope(src_url) as s:
        reasons = s.scalars(
            select(m.RawFrame.reason).where(m.RawFrame.mn == WATER_MN, m.RawFrame.status == "rejected")
        )
        text = " ".join(reasons)
    assert "not a number" in text and "not a valid date" in text


def test_time_sync_is_sent_to_the_connected_device_and_its_result_recorded(src_url: str) -> None:
    with serving(src_url) as srv:
        dev = Device(srv.port)
        dev.send(upload(WWTP_MN, "2011", "20261109080000", {"w01018": {"Rtd": "20", "Flag": "N"}}))
        dev.receive(1)
        with session_scope(src_url) as s:
            cmd = devices.request_command(s, WWTP_MN, "1012", "officer")
            qn = cmd.qn
        (req,) = dev.receive(1)
        assert (req.cn, req.qn, req.mn) == ("1012", qn, WWTP_MN) and len(req.cp.get("SystemTime") or "") == 14
        dev.send(make_frame(qn=qn, st="91", cn="9011", pw=PW, mn=WWTP_MN, flag=4, cp=[("QnRtn", "1")]))
        dev.send(make_frame(qn=qn, st="91", cn="9012", pw=PW, mn=WWTP_MN, flag=4, cp=[("ExeRtn", "1")]))
        end = time.monotonic() + 10
        status = ""
        while time.monotonic() < end and status != "done":
            time.sleep(0.1)
            with session_scope(src_url) as s:
                status = s.scalar(select(m.DeviceCommand.status).where(m.DeviceCommand.qn == qn)) or ""
        assert status == "done"


def test_hourly_rollup_from_minute_data_and_device_hour_wins(src_url: str, tmp_path: Path) -> None:
    mins = [upload(WWTP_MN, "2051", f"2026111010{k}000", {"w21011": {"Avg": str(0.1 * (k + 1)), "Flag": "N"}})
            for k in range(6)]  # 10:00..10:50 Beijing  # fmt: skip
    with serving(src_url) as srv:
        dev = Device(srv.port)
        for f in mins:
            dev.send(f)
        dev.receive(6)
        srv.run_housekeeping()
        with session_scope(src_url) as s:
            pid = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == WWTP_MN))
            r = s.scalars(select(m.SourceRollup).where(m.SourceRollup.point_id == pid, m.SourceRollup.code == "w21011",
                                                       m.SourceRollup.period == "hour")).one()  # fmt: skip
            assert (r.origin, r.n, round(r.avg or 0, 6), r.start_utc) == (
                "computed",
                6,
                0.35,
                datetime(2026, 11, 10, 2),
            )
            day = s.scalars(select(m.SourceRollup).where(m.SourceRollup.point_id == pid, m.SourceRollup.code == "w21011",
                                                         m.SourceRollup.period == "day")).one()  # fmt: skip
            assert day.start_utc == datetime(2026, 11, 9, 16)  # Beijing midnight of 11-10 in UTC
        dev.send(upload(WWTP_MN, "2061", "20261110100000", {"w21011": {"Avg": "0.4", "Flag": "N"}}))
        dev.receive(1)
        srv.run_housekeeping()
    with session_scope(src_url) as s:
        r = s.scalars(select(m.SourceRollup).where(m.SourceRollup.point_id == pid, m.SourceRollup.code == "w21011",
                                                   m.SourceRollup.period == "hour")).one()  # fmt: skip
        assert (r.origin, r.avg) == ("device", 0.4)


def test_raw_frames_kept_then_pruned_by_retention(src_url: str) -> None:
    with session_scope(src_url) as s:
        n = s.scalar(select(func.count(m.RawFrame.id))) or 0
        assert n > 0
        for days in (0, 0.5, -1, float("nan")):  # 0 used to delete every raw frame at once
            with pytest.raises(ValueError, match="at least 1 day"):
                ingest.prune_raw_frames(s, days)
        assert (s.scalar(select(func.count(m.RawFrame.id))) or 0) == n
        assert ingest.prune_raw_frames(s, 1, now_utc=datetime(2100, 1, 1)) == n
        assert (s.scalar(select(func.count(m.RawFrame.id))) or 0) == 0
        assert (s.scalar(select(func.count()).select_from(m.SourceReading)) or 0) > 0  # readings are kept

"""``greenpark hj212 …``, ``alarms``, ``sources`` and ``trace`` as a user runs them; the server and
the simulator as real processes over real TCP; and the kill test: SIGKILL the server under load,
restart it, and every acknowledged packet is stored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.hj212.codec import build
from greenpark.ingest.simulator import SimStats, devices_from_store, simulate
from greenpark.services.pollution import alarms, ingest
from greenpark.store import models as m
from greenpark.store.db import session_scope
from tests.hj212_helpers import upload

runner = CliRunner()
OWN = upload("42120100101001", "2061", "20261125080000", {"w01018": {"Avg": "106.8", "Flag": "N"},
                                                          "w00000": {"Avg": "5.2", "Cou": "18.72", "Flag": "N"}})  # fmt: skip


def run(url: str, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args), env={"GREENPARK_DATABASE_URL": url})
    return res.exit_code, res.output


def test_decode_json_shape_and_invalid_exit_code() -> None:
    packet = build(OWN).decode().rstrip()
    res = runner.invoke(app, ["hj212", "decode", packet, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["crc_ok"] is True and (d["edition"], d["st"], d["cn"], d["mn"]) == (
        "2017",
        "32",
        "2061",
        "42120100101001",
    )
    assert d["flag"] == {"value": 5, "edition": "2017", "ack_wanted": True, "subpacketed": False}
    assert d["data_time"] == "20261125080000" and d["values"]["w01018"] == {"Avg": 106.8, "Flag": "N"}
    assert d["values"]["w00000"]["Cou"] == 18.72 and d["deviations"] == []
    bad = packet[:-4] + ("0000" if not packet.endswith("0000") else "1111")
    res = runner.invoke(app, ["hj212", "decode", bad])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "CRC mismatch" in res.output
    lower = packet[:-4] + packet[-4:].lower()
    if lower != packet:
        assert runner.invoke(app, ["hj212", "decode", lower]).exit_code == 2  # strict by default
        res = runner.invoke(app, ["hj212", "decode", lower, "--lenient", "--json"])
        assert [x["code"] for x in json.loads(res.output)["deviations"]] == ["crc_lowercase"]


def test_encode_round_trips_through_decode() -> None:
    res = runner.invoke(app, ["hj212", "encode", "--cn", "2051", "--mn", "ABC123", "--flag", "9",
                              "DataTime=20261125081000", "w21003-Avg=0.52", "w21003-Flag=N"])  # fmt: skip
    assert res.exit_code == 0
    d = json.loads(runner.invoke(app, ["hj212", "decode", res.output.strip(), "--json"]).output)
    assert d["edition"] == "2025" and d["values"] == {"w21003": {"Avg": 0.52, "Flag": "N"}}
    assert runner.invoke(app, ["hj212", "encode", "--cn", "2051", "--mn", "A", "novalue"]).exit_code == 2


def test_alarms_and_sources_commands(fresh_demo_url: str, tmp_path: Path) -> None:
    t = datetime(2026, 10, 2, 8)
    with session_scope(fresh_demo_url) as s:
        f = upload(
            "42120100201001", "2061", t.strftime("%Y%m%d%H%M%S"), {"w21003": {"Avg": "9.5", "Flag": "N"}}
        )
        items = [ingest.classify(f, b"", "t", t, ingest.load_registry(s))]
        ingest.write_batch(s.connection(), items)
        ingest.rollup(s, ingest.touched_hours(items))
        alarms.evaluate(s, now=t - timedelta(hours=7))
    code, out = run(fresh_demo_url, "alarms", "list", "--json")
    rows = [a for a in json.loads(out) if a["rule"] == "exceedance"]
    assert (
        code == 0 and rows[0]["value"] == 9.5 and rows[0]["threshold"] == 5.0
    )  # GB 18918 一级A NH3-N 5 mg/L
    aid = str(rows[0]["id"])
    assert run(fresh_demo_url, "alarms", "ack", aid, "--by", "wang", "--note", "called")[0] == 0
    assert run(fresh_demo_url, "alarms", "ack", aid, "--by", "wang")[0] == 2  # already acknowledged
    assert run(fresh_demo_url, "alarms", "close", aid, "--by", "wang", "--note", "aeration restored")[0] == 0
    code, out = run(fresh_demo_url, "alarms", "list", "--status", "closed")
    assert f"#{aid}" in out and "closed" in out
    code, out = run(fresh_demo_url, "sources", "show", "咸宁浦华高新水务有限公司", "--json")
    assert json.loads(out)["outlets"][0]["points"][0]["mn"] == "42120100201001"
    book = tmp_path / "file.xlsx"
    assert run(fresh_demo_url, "sources", "export", str(book))[0] == 0
    code, out = run(fresh_demo_url, "sources", "import", str(book))
    assert code == 0 and "channels 71" in out
    bad = tmp_path / "outlets.csv"
    bad.write_text("enterprise,code,name,medium\n无此企业,DW1,x,water\n", encoding="utf-8")
    code, out = run(fresh_demo_url, "sources", "import", str(bad))
    assert code == 2 and "row 2, column enterprise" in out
    code, out = run(fresh_demo_url, "trace", "横沟河入湖口", "--json")
    assert code == 0 and json.loads(out)["change"]["items_over_target"] == ["nh3n"]
    assert run(fresh_demo_url, "trace", "南川水库")[0] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "greenpark.cli.main", "hj212", "serve", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start: " + log.read_text())


Server = tuple[str, int, Path, list[subprocess.Popen[bytes]]]


@pytest.fixture
def server_proc(fresh_demo_url: str, tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    log = tmp_path / "hj212.log"
    procs = [_start_server(fresh_demo_url, port, log)]
    yield fresh_demo_url, port, log, procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(20)


def test_serve_and_simulate_as_processes(server_proc: Server) -> None:
    url, port, _log, _procs = server_proc
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    res = subprocess.run([sys.executable, "-m", "greenpark.cli.main", "hj212", "simulate", "--devices", "4",
                          "--rate", "20", "--duration", "3", "--port", str(port), "--json"],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["unacked"] == 0 and out["acked"] > 100 and out["reply_latency_ms_p99"] is not None
    with session_scope(url) as s:
        stored = s.scalar(select(func.count()).select_from(
            select(m.SourceReading.point_id, m.SourceReading.kind, m.SourceReading.time_utc).distinct().subquery()))  # fmt: skip
    assert stored == out["acked"]  # every acknowledged upload is there, once


def test_sigkill_under_load_loses_no_acknowledged_packet(server_proc: Server) -> None:
    url, port, log, procs = server_proc
    devs = devices_from_store(url, 12)

    stats = SimStats()
    at_kill: list[int] = []

    async def chaos() -> None:
        while stats.acked < 1000:  # under load
            await asyncio.sleep(0.005)
        os.kill(procs[0].pid, signal.SIGKILL)
        at_kill.append(stats.acked)
        procs[0].wait()
        await asyncio.sleep(0.5)
        procs.append(await asyncio.to_thread(_start_server, url, port, log))

    async def main() -> None:
        task = asyncio.create_task(chaos())
        await simulate("127.0.0.1", port, devs, duration_s=8.0, rate=500.0, ack_timeout=2.0, retries=5,
                       start=datetime(2026, 9, 1), stats=stats)  # fmt: skip
        await task

    asyncio.run(main())
    assert procs[0].returncode == -signal.SIGKILL and len(procs) == 2
    assert stats.acked > at_kill[0] + 500  # the devices went on with the restarted server
    with session_scope(url) as s:
        ids = {p.mn: p.id for p in s.scalars(select(m.SourcePoint))}
        rows = s.execute(select(m.SourceReading.point_id, m.SourceReading.kind, m.SourceReading.time_utc,
                                m.SourceReading.code)).all()  # fmt: skip
    per_packet: dict[tuple[int, str, datetime], int] = {}
    for pid, kind, t, _code in rows:
        per_packet[(pid, kind, t)] = per_packet.get((pid, kind, t), 0) + 1
    kinds = {"2051": "min", "2061": "hour"}
    channels = {d.mn: len(d.channels) for d in devs}
    missing = []
    for mn, cn, dt in stats.acked_keys:
        key = (ids[mn], kinds[cn], datetime.strptime(dt, "%Y%m%d%H%M%S") - timedelta(hours=8))
        if per_packet.get(key) != channels[mn]:  # each value of the packet stored, exactly once
            missing.append((mn, cn, dt, per_packet.get(key)))
    assert not missing, missing[:5]
    assert len(stats.acked_keys) == stats.acked

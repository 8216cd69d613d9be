"""HJ 212 ingestion benchmark (issue 4): `.venv/bin/python benchmarks/hj212_ingest.py`.

1. the codec alone: parse + CRC + 9014 reply of a typical minute-data frame, frames/s;
2. sustained ingestion through the real server process (`greenpark hj212 serve`) on loopback:
   N simulated data loggers (default 1 000), each a TCP connection that sends its next minute-data
   packet (2051, 4 pollutants, Flag=5) when the 9014 of the previous one arrives — as loggers do —
   for a fixed time. Every packet is parsed, CRC-checked, validated against the MN/PW registry,
   durably committed (SQLite synchronous=FULL / PostgreSQL COMMIT) and only then acknowledged.
   Reports acknowledged packets/s and reply latency percentiles, and checks that every
   acknowledged packet is in the database;
3. `--kill`: the same load, SIGKILL the server mid-run, restart it, and check that every
   acknowledged packet is stored exactly once.

`--database-url postgresql+psycopg://…` runs against PostgreSQL (a fresh database is created).
All loggers connect from one address (127.0.0.1) at once, as many loggers behind one NAT gateway
would, so the server's per-address cap on unproven connections (64 by default: a connection is
unproven until its first frame of a registered device) is raised to the number of loggers.
Writes benchmarks/out/hj212.json. Nothing here is a test; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, func, insert, select, text

from greenpark.demo import load_reference
from greenpark.hj212.codec import build, crc16, make_frame, parse
from greenpark.hj212.protocol import data_reply
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"
CODES = [("w00000", 5.2), ("w01018", 45.1), ("w21003", 2.31), ("w21011", 0.21)]
START = datetime(2030, 1, 1)


def frame_bytes(mn: str, k: int) -> tuple[bytes, bytes]:
    """The k-th minute packet of a device and its QN (built with the codec)."""
    t = START + timedelta(minutes=k)
    cp = [("DataTime", t.strftime("%Y%m%d%H%M%S"))]
    for code, v in CODES:
        cp += [(f"{code}-Min", f"{v * 0.97:.3f}"), (f"{code}-Avg", f"{v:.3f}"), (f"{code}-Max", f"{v * 1.03:.3f}"),
               (f"{code}-Flag", "N")]  # fmt: skip
    qn = t.strftime("%Y%m%d%H%M%S") + "000"
    return build(make_frame(qn=qn, st="32", cn="2051", pw="123456", mn=mn, flag=5, cp=cp)), qn.encode()


class Template:
    """A device's packets differ only in DataTime (and the QN made from it): splice and CRC.
    Equal to :func:`frame_bytes` byte for byte (checked at start)."""

    def __init__(self, mn: str) -> None:
        raw, qn = frame_bytes(mn, 0)
        seg = raw[6:-6]
        self.mn = mn
        self.dt0 = qn[:14]
        self.parts = seg.split(self.dt0)
        assert len(self.parts) == 3, "DataTime must appear in QN and CP only"
        assert self.packet(0) == (raw, qn) and self.packet(777) == frame_bytes(mn, 777)

    def packet(self, k: int) -> tuple[bytes, bytes]:
        dt = (START + timedelta(minutes=k)).strftime("%Y%m%d%H%M%S").encode()
        seg = dt.join(self.parts)
        return b"##%04d%s%04X\r\n" % (len(seg), seg, crc16(seg)), dt + b"000"


def codec_bench(n: int = 50_000) -> dict[str, float]:
    raw, _ = frame_bytes("BENCH0000000001", 1)
    t = time.perf_counter()
    for _ in range(n):
        build(data_reply(parse(raw)))
    dt = time.perf_counter() - t
    return {"frames": n, "seconds": round(dt, 3), "frames_per_s": round(n / dt), "frame_bytes": len(raw)}


def prepare(url: str, devices: int) -> list[str]:
    upgrade(url)
    with session_scope(url) as s:
        load_reference(s)
        park = m.Park(code="bench", name_zh="基准园区", name_en="bench park")
        s.add(park)
        s.flush()
        e = m.Enterprise(park_id=park.id, code="B1", name="bench enterprise")
        s.add(e)
        s.flush()
        o = m.Outlet(enterprise_id=e.id, code="DW001", name="bench outlet", medium="water")
        s.add(o)
        s.flush()
        mns = [f"BENCH{i:010d}" for i in range(devices)]
        s.execute(insert(m.SourcePoint), [{"outlet_id": o.id, "mn": mn, "pw": "123456", "edition": "2017",
                                           "data_note": "benchmark"} for mn in mns])  # fmt: skip
    dispose_engine(url)
    return mns


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKERS = 1
SERVER_ARGS: list[str] = []


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "greenpark.cli.main", "hj212", "serve", "--port", str(port),
                                 "--workers", str(WORKERS), *SERVER_ARGS],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start: " + log.read_text())


class Logger(asyncio.Protocol):
    """One device: sends packet k+1 when the reply to packet k arrives (stop-and-wait)."""

    def __init__(self, bench: Load, mn: str) -> None:
        self.bench, self.mn, self.k = bench, mn, 0
        self.template = bench.templates[mn]
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.qn = b""
        self.sent_at = 0.0
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.send()

    def send(self) -> None:
        if self.bench.stopping or self.transport is None or self.transport.is_closing():
            return
        raw, self.qn = self.template.packet(self.k)
        self.sent_at = time.perf_counter()
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n" in self.buf:
            reply, _, self.buf = self.buf.partition(b"\r\n")
            if b"CN=9014" in reply and b"QN=" + self.qn in reply:
                now = time.perf_counter()
                self.bench.acked.append((self.mn, self.k))
                if self.bench.measuring:
                    self.bench.latencies.append(now - self.sent_at)
                self.k += 1
                self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class Load:
    def __init__(self, port: int, mns: list[str]) -> None:
        self.port, self.mns = port, mns
        self.acked: list[tuple[str, int]] = []
        self.latencies: list[float] = []
        self.measuring = False
        self.stopping = False
        self.loggers: dict[str, Logger] = {}
        self.templates = {mn: Template(mn) for mn in mns}

    async def connect(self, mn: str) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(200):
            try:
                prev = self.loggers.get(mn)
                logger = Logger(self, mn)
                if prev is not None:
                    logger.k = prev.k  # resend the packet that was not acknowledged
                await loop.create_connection(lambda lg=logger: lg, "127.0.0.1", self.port)  # type: ignore[misc]
                self.loggers[mn] = logger
                return
            except OSError:
                await asyncio.sleep(min(0.05 * (attempt + 1), 1.0))

    async def keep_connected(self, mn: str) -> None:
        await self.connect(mn)
        while not self.stopping:
            await self.loggers[mn].lost
            if not self.stopping:
                await self.connect(mn)

    async def run(self, warmup: float, seconds: float, on_time: float | None = None,
                  action: object = None) -> dict[str, float]:  # fmt: skip
        tasks = [asyncio.create_task(self.keep_connected(mn)) for mn in self.mns]
        await asyncio.sleep(warmup)
        self.measuring = True
        n0, t0 = len(self.acked), time.perf_counter()
        if on_time is not None and callable(action):
            await asyncio.sleep(on_time)
            await action()
            await asyncio.sleep(seconds - on_time)
        else:
            await asyncio.sleep(seconds)
        n1, t1 = len(self.acked), time.perf_counter()
        self.measuring = False
        self.stopping = True
        for lg in self.loggers.values():
            if lg.transport:
                lg.transport.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        lat = sorted(self.latencies)

        def pct(q: float) -> float:
            return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1) if lat else float("nan")

        return {"acked_in_window": n1 - n0, "window_s": round(t1 - t0, 2), "packets_per_s": round((n1 - n0) / (t1 - t0)),
                "latency_ms_p50": pct(0.5), "latency_ms_p99": pct(0.99), "latency_ms_max": pct(1.0)}  # fmt: skip


def verify(url: str, acked: list[tuple[str, int]]) -> dict[str, int]:
    """Every acknowledged packet stored, each value exactly once."""
    eng = create_engine(url)
    with eng.connect() as c:
        ids = dict(c.execute(select(m.SourcePoint.mn, m.SourcePoint.id)).all())
        rows = c.execute(select(m.SourceReading.point_id, m.SourceReading.time_utc, func.count())
                         .group_by(m.SourceReading.point_id, m.SourceReading.time_utc)).all()  # fmt: skip
    eng.dispose()
    stored = {(p, t): n for p, t, n in rows}
    missing = wrong = 0
    for mn, k in set(acked):
        n = stored.get((ids[mn], START + timedelta(minutes=k) - timedelta(hours=8)))
        if n is None:
            missing += 1
        elif n != len(CODES):
            wrong += 1
    return {"acknowledged": len(set(acked)), "missing": missing, "wrong_count": wrong,
            "duplicate_acks": len(acked) - len(set(acked))}  # fmt: skip


def _run(coro: Any) -> Any:
    """The load generator on uvloop where installed (less CPU taken from the server under test)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def fresh_url(base: str | None, tmp: Path) -> str:
    if not base:
        return f"sqlite:///{tmp / 'bench-hj212.sqlite'}"
    name = "gp_bench_" + uuid.uuid4().hex[:8]
    eng = create_engine(base, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: a SQLite file)")
    ap.add_argument("--kill", action="store_true", help="SIGKILL the server mid-run, restart, verify")
    ap.add_argument("--skip-codec", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes (SO_REUSEPORT)")
    ap.add_argument("--batch-window-ms", type=float, default=None, help="server group-commit window")
    args = ap.parse_args()
    global WORKERS
    WORKERS = args.workers
    # every logger is unproven until its first acknowledged packet, and all share one address
    unproven = args.devices + 16
    SERVER_ARGS.extend(["--max-unproven-per-peer", str(unproven), "--max-unproven", str(max(unproven, 1024))])
    if args.batch_window_ms is not None:
        SERVER_ARGS.extend(["--batch-window-ms", str(args.batch_window_ms)])
    OUT.mkdir(exist_ok=True)
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, {platform.system()} {platform.release()}, "
                   f"Python {platform.python_version()}",
        "date": datetime.now().isoformat(timespec="seconds"),
    }  # fmt: skip
    if not args.skip_codec:
        result["codec"] = codec_bench()
        print("codec:", result["codec"])
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        url = fresh_url(args.database_url, tmp)
        result["database"] = url.split("://")[0]
        mns = prepare(url, args.devices)
        port = free_port()
        log = tmp / "server.log"
        procs = [start_server(url, port, log)]
        load = Load(port, mns)

        async def kill_and_restart() -> None:
            os.killpg(procs[-1].pid, signal.SIGKILL)  # the server and its workers
            procs[-1].wait()
            result["killed_at_acked"] = len(load.acked)
            await asyncio.sleep(0.5)
            procs.append(await asyncio.to_thread(start_server, url, port, log))

        try:
            run = _run(load.run(args.warmup, args.seconds, args.seconds / 2 if args.kill else None,
                                       kill_and_restart if args.kill else None))  # fmt: skip
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(60)
        stopped = [
            json.loads(ln.split("stopped: ", 1)[1])
            for ln in log.read_text().splitlines()
            if "stopped: " in ln
        ]
        if stopped:
            result["server"] = stopped[-WORKERS:]
            print("server:", [{k: x[k] for k in ("frames", "stored", "acked", "batches", "batched_frames")}
                              for x in stopped[-WORKERS:]])  # fmt: skip
        result["devices"] = args.devices
        result["workers"] = args.workers
        result["ingest"] = run
        result["verify"] = verify(url, load.acked)
        result["kill"] = args.kill
        print("ingest:", run)
        print("verify:", result["verify"])
    name = f"hj212-{result['database']}{'-kill' if args.kill else ''}.json"
    (OUT / name).write_text(json.dumps(result, indent=2))
    if result["verify"]["missing"] or result["verify"]["wrong_count"]:  # type: ignore[index]
        raise SystemExit("acknowledged data missing or stored more than once")


if __name__ == "__main__":
    main()

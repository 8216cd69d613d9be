"""HJ 212 device simulator: real TCP clients that behave like data loggers (数采仪).

Each device sends minute data (2051) and, at the end of each hour, hourly data (2061) whose values
follow a daily cycle with noise; waste-water points send a flow, flue-gas points flow and oxygen
with converted (折算) values. A device waits for the 9014 reply to each upload (Flag A = 1) and
resends after a timeout, as the standard's retry rule says. It answers time requests (1011/1012)
with 9011 and 9012, and 2025 devices send heartbeats (9015).

With ``faults``: occasional exceedances, stuck sensors (flat line), maintenance flags, outages
(disconnect and come back) and malformed frames (bad CRC, garbage, wrong length). A device whose
connection the server closes connects again before its next upload (unregistered devices are
closed at the server's first-frame deadline).

Time: ``backfill_hours`` of history are sent as fast as replies come, then the device follows the
wall clock (one 2051 a minute). With ``rate`` set, the simulated clock advances one minute per
packet at that many packets per second (load tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from greenpark.hj212.codec import Frame, FrameSplitter, HJ212Error, build, make_frame
from greenpark.hj212.codes import pollutant_codes
from greenpark.hj212.protocol import execution_result, request_reply

BEIJING = timedelta(hours=8)


def _beijing_now() -> datetime:
    """The device clock: Beijing time, naive."""
    return datetime.now(UTC).replace(tzinfo=None) + BEIJING


FLAG = {"2005": 1, "2017": 5, "2025": 9}  # version bits + A (reply wanted)

#: Typical levels by code (concentration) used when a channel has no limit to scale from.
TYPICAL = {
    "w00000": 6.0, "w01001": 7.2, "w01018": 45.0, "w21003": 3.5, "w21011": 0.25, "w21001": 9.0,
    "a00000": 25.0, "a19001": 9.5, "a21026": 120.0, "a21002": 260.0, "a34013": 12.0, "a01012": 140.0,
}  # fmt: skip


@dataclass
class SimChannel:
    code: str
    limit: float | None = None
    use_zs: bool = False
    is_flow: bool = False


@dataclass
class SimDevice:
    mn: str
    pw: str
    edition: str = "2017"
    medium: str = "water"
    channels: list[SimChannel] = field(default_factory=list)
    flow_scale: float = 1.0  # the outlet's size: multiplies the typical flow

    @staticmethod
    def synthetic(i: int, edition: str, medium: str = "water") -> SimDevice:
        """A device that is not in the registry (it will be recorded for adoption)."""
        chans = (
            [SimChannel("w00000", is_flow=True), SimChannel("w01018", 100), SimChannel("w21003", 15),
             SimChannel("w21011", 0.5)]
            if medium == "water"
            else [SimChannel("a00000", is_flow=True), SimChannel("a19001"), SimChannel("a21026", 400, True),
                  SimChannel("a21002", 700, True), SimChannel("a34013", 50, True)]
        )  # fmt: skip
        return SimDevice(f"SIM{i:011d}", "123456", edition, medium, chans)


@dataclass
class SimStats:
    sent: int = 0
    acked: int = 0
    resent: int = 0
    unacked: int = 0
    malformed_sent: int = 0
    outages: int = 0
    commands_answered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    acked_keys: set[tuple[str, str, str]] = field(default_factory=set)  # (MN, CN, DataTime) acknowledged


_CODE_2005 = {c.code_2017: c.code_2005 for c in pollutant_codes() if c.code_2005}


class _Client(asyncio.Protocol):
    def __init__(self, sim: _DeviceRun) -> None:
        self.sim = sim
        self.splitter = FrameSplitter(strict=False)
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        for ev in self.splitter.feed(data):
            if isinstance(ev, Frame):
                self.sim.on_frame(ev)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class _DeviceRun:
    def __init__(self, dev: SimDevice, host: str, port: int, stats: SimStats, rng: random.Random, faults: bool,
                 ack_timeout: float, retries: int) -> None:  # fmt: skip
        self.dev, self.host, self.port, self.stats, self.rng = dev, host, port, stats, rng
        self.faults, self.ack_timeout, self.retries = faults, ack_timeout, retries
        self.client: _Client | None = None
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self.stuck: dict[str, float] = {}
        self.excess_until: datetime | None = None
        self.maintenance_until: datetime | None = None
        self.qn_seq = 0
        self.hour_values: dict[str, list[float]] = {}
        self.hour_zs: dict[str, list[float]] = {}
        self.hour_flags: set[str] = set()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(50):
            try:
                _t, self.client = await loop.create_connection(lambda: _Client(self), self.host, self.port)
                return
            except OSError:
                await asyncio.sleep(min(0.1 * (attempt + 1), 2.0))
        raise ConnectionError(f"{self.dev.mn}: cannot connect to {self.host}:{self.port}")

    def close(self) -> None:
        if self.client and self.client.transport:
            self.client.transport.close()

    def on_frame(self, f: Frame) -> None:
        if f.cn == "9014":
            fut = self.waiting.pop(f.qn or "", None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif f.cn in ("1012", "1011"):
            self.stats.commands_answered += 1
            self._write(build(request_reply(f, 1)))
            if f.cn == "1011":
                now = _beijing_now()
                self._write(build(make_frame(qn=f.qn, st="32", cn="1011", pw=self.dev.pw, mn=self.dev.mn, flag=4,
                                             cp=[("SystemTime", now.strftime("%Y%m%d%H%M%S"))])))  # fmt: skip
            self._write(build(execution_result(f, 1)))

    def _write(self, data: bytes) -> None:
        if self.client and self.client.transport and not self.client.transport.is_closing():
            self.client.transport.write(data)

    def _qn(self, t: datetime) -> str:
        self.qn_seq = (self.qn_seq + 1) % 1000
        return t.strftime("%Y%m%d%H%M%S") + f"{self.qn_seq:03d}"

    def _value(self, ch: SimChannel, t: datetime) -> float:
        base = ch.limit * 0.45 if ch.limit else TYPICAL.get(ch.code, 10.0)
        if ch.is_flow:
            base *= self.dev.flow_scale
        hour = t.hour + t.minute / 60
        cycle = 1 + 0.25 * math.sin((hour - 9) / 24 * 2 * math.pi)
        v = base * cycle * (1 + self.rng.gauss(0, 0.06))
        if ch.code == "w01001":
            v = 7.2 + self.rng.gauss(0, 0.1)
        if ch.limit and self.excess_until and t < self.excess_until:
            v = ch.limit * (1.15 + 0.1 * self.rng.random())
        if ch.code in self.stuck:
            v = self.stuck[ch.code]
        return max(v, 0.0)

    def _hour_cp(self, hour: datetime) -> list[tuple[str, str]]:
        """2061: the mean, min and max of the hour's minute values (as a logger computes them)."""
        cp = [("DataTime", hour.strftime("%Y%m%d%H%M%S"))]
        flag = "M" if "M" in self.hour_flags else "N"
        for ch in self.dev.channels:
            vals = self.hour_values.get(ch.code) or [self._value(ch, hour)]
            code = _CODE_2005.get(ch.code, ch.code) if self.dev.edition == "2005" else ch.code
            avg = sum(vals) / len(vals)
            cp += [(f"{code}-Min", f"{min(vals):.3f}"), (f"{code}-Avg", f"{avg:.3f}"),
                   (f"{code}-Max", f"{max(vals):.3f}")]  # fmt: skip
            zs = self.hour_zs.get(ch.code)
            if ch.use_zs and zs:
                cp.append((f"{code}-ZsAvg", f"{sum(zs) / len(zs):.3f}"))
            cp.append((f"{code}-Flag", flag))
        self.hour_values, self.hour_zs, self.hour_flags = {}, {}, set()
        return cp

    def _cp(self, t: datetime, interval: bool) -> list[tuple[str, str]]:
        cp = [("DataTime", t.strftime("%Y%m%d%H%M%S"))]
        o2 = 9.5 + self.rng.gauss(0, 0.4)
        flag = "M" if self.maintenance_until and t < self.maintenance_until else "N"
        if interval:
            self.hour_flags.add(flag)
        for ch in self.dev.channels:
            v = self._value(ch, t)
            code = _CODE_2005.get(ch.code, ch.code) if self.dev.edition == "2005" else ch.code
            if ch.code == "a19001":
                v = o2
            if interval:
                self.hour_values.setdefault(ch.code, []).append(v)
                spread = 0 if ch.code in self.stuck else 0.05
                cp += [(f"{code}-Min", f"{v * (1 - spread):.3f}"), (f"{code}-Avg", f"{v:.3f}"),
                       (f"{code}-Max", f"{v * (1 + spread):.3f}")]  # fmt: skip
                if ch.use_zs:
                    zs = v * (21 - 8) / max(21 - o2, 1.0)  # converted to 8 % O2 (GB 26453 style)
                    cp.append((f"{code}-ZsAvg", f"{zs:.3f}"))
                    self.hour_zs.setdefault(ch.code, []).append(zs)
            else:
                cp.append((f"{code}-Rtd", f"{v:.3f}"))
            cp.append((f"{code}-Flag", flag))
        return cp

    def _maybe_faults(self, t: datetime) -> None:
        if not self.faults:
            return
        r = self.rng.random()
        if r < 0.0003 and self.excess_until is None:
            self.excess_until = t + timedelta(minutes=self.rng.randint(60, 150))
        elif r < 0.0005 and not self.stuck and self.dev.channels:
            ch = self.rng.choice([c for c in self.dev.channels if not c.is_flow] or self.dev.channels)
            self.stuck[ch.code] = round(self._value(ch, t), 2)
        elif r < 0.0007:
            self.maintenance_until = t + timedelta(hours=self.rng.randint(2, 8))
        if self.excess_until and t >= self.excess_until:
            self.excess_until = None
        if self.stuck and self.rng.random() < 0.005:
            self.stuck.clear()

    async def upload(self, cn: str, t: datetime, cp: list[tuple[str, str]]) -> bool:
        flag = FLAG.get(self.dev.edition, 5)
        st = "32" if self.dev.medium == "water" else "31"
        frame = make_frame(qn=self._qn(t), st=st, cn=cn, pw=self.dev.pw, mn=self.dev.mn, flag=flag, cp=cp)
        data = build(frame)
        for attempt in range(self.retries + 1):
            if self.client is None or self.client.lost.done():
                await self.connect()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting[frame.qn or ""] = fut
            t0 = time.perf_counter()
            self._write(data)
            self.stats.sent += 1
            if attempt:
                self.stats.resent += 1
            try:
                await asyncio.wait_for(fut, self.ack_timeout)
            except TimeoutError:
                self.waiting.pop(frame.qn or "", None)
                continue
            self.stats.acked += 1
            self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
            self.stats.acked_keys.add((self.dev.mn, cn, cp[0][1]))
            return True
        self.stats.unacked += 1
        return False

    async def send_malformed(self) -> None:
        good = build(make_frame(qn="1", st="32", cn="2011", pw=self.dev.pw, mn=self.dev.mn, flag=4,
                                cp=[("DataTime", "20260101000000")]))  # fmt: skip
        bad = self.rng.choice([good[:-6] + b"0000\r\n", b"garbage\r\n", b"##99" + good[6:], good[:40]])
        self._write(bad if bad.endswith(b"\n") else bad + b"\r\n")
        self.stats.malformed_sent += 1


async def _run_device(run: _DeviceRun, start: datetime, until_wall: float, rate: float | None,
                      heartbeat_s: float, stop: asyncio.Event) -> None:  # fmt: skip
    """One device's life: backfill from ``start`` (Beijing), then real time (or ``rate`` packets/s)."""
    await run.connect()
    t = start.replace(second=0, microsecond=0)
    last_hb = time.monotonic()
    while not stop.is_set() and time.monotonic() < until_wall:
        now_bj = _beijing_now()
        if rate is None and t > now_bj - timedelta(minutes=1):
            # caught up: real-time value now and then, next minute record when its minute is over;
            # a connection the server closed is opened again (an unknown device's is closed at the
            # server's first-frame deadline, as it never sends a frame the server accepts)
            await run.upload("2011", now_bj.replace(microsecond=0), run._cp(now_bj, interval=False))
            if run.dev.edition == "2025" and time.monotonic() - last_hb > heartbeat_s:
                run._write(build(make_frame(qn=run._qn(now_bj), st="32", cn="9015", pw=run.dev.pw, mn=run.dev.mn,
                                            flag=8)))  # fmt: skip
                last_hb = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 30)
            continue
        run._maybe_faults(t)
        if run.faults and run.rng.random() < 0.0005:
            await run.send_malformed()
        if run.faults and run.rng.random() < 0.0003:
            run.stats.outages += 1
            run.close()
            await asyncio.sleep(run.rng.uniform(1, 5))
        await run.upload("2051", t, run._cp(t, interval=True))
        if t.minute == 59:
            hour = t.replace(minute=0)
            await run.upload("2061", hour, run._hour_cp(hour))
        t += timedelta(minutes=1)
        if rate is not None:
            await asyncio.sleep(1.0 / rate)
    run.close()


async def simulate(host: str, port: int, devices: list[SimDevice], *, duration_s: float = 60.0,
                   rate: float | None = None, backfill_hours: float = 0.0, faults: bool = False, seed: int = 1,
                   ack_timeout: float = 10.0, retries: int = 3, start: datetime | None = None,
                   stop: asyncio.Event | None = None, heartbeat_s: float = 60.0,
                   progress: Callable[[SimStats], None] | None = None, stats: SimStats | None = None) -> SimStats:  # fmt: skip
    """Run the devices until ``duration_s`` has passed (or ``stop`` is set) and return the counts
    (into ``stats`` if given, so that a caller can watch them while it runs)."""
    stats = stats if stats is not None else SimStats()
    stop = stop or asyncio.Event()
    now_bj = _beijing_now()
    begin = start or (now_bj - timedelta(hours=backfill_hours))
    until = time.monotonic() + duration_s
    runs = [
        _DeviceRun(d, host, port, stats, random.Random(seed * 100003 + i), faults, ack_timeout, retries)  # noqa: S311
        for i, d in enumerate(devices)
    ]
    tasks = [asyncio.create_task(_run_device(r, begin, until, rate, heartbeat_s, stop)) for r in runs]
    reporter = None
    if progress is not None:

        async def report() -> None:
            while True:
                await asyncio.sleep(5)
                progress(stats)

        reporter = asyncio.create_task(report())
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if reporter:
            reporter.cancel()
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError | HJ212Error):
            raise r
    return stats


def devices_from_store(url: str, n: int | None = None, edition: str | None = None) -> list[SimDevice]:
    """The registered points of the park as simulated devices (limits and converted-value rules
    from their channels)."""
    from sqlalchemy import select

    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    out = []
    with session_scope(url) as s:
        for p in s.scalars(
            select(m.SourcePoint).where(m.SourcePoint.active.is_(True)).order_by(m.SourcePoint.id)
        ):
            outlet = s.get(m.Outlet, p.outlet_id)
            chans = [
                SimChannel(c.code, c.limit_value, c.use_zs, c.is_flow)
                for c in s.scalars(select(m.Channel).where(m.Channel.point_id == p.id).order_by(m.Channel.id))
            ]
            out.append(
                SimDevice(p.mn, p.pw, edition or p.edition, outlet.medium if outlet else "water", chans)
            )
    return out[:n] if n is not None else out

"""The HJ 212 ingestion server: asyncio TCP for many data loggers, one writer thread that stores
frames in batches (group commit) and acknowledges them only after the commit, and a housekeeping
thread for roll-ups, alarms, device commands and retention.

Data path: bytes -> FrameSplitter (frames split across reads, several per read, garbage skipped)
-> parse (lenient, deviations kept in the raw log) -> classify against the MN/PW registry ->
subpacket reassembly -> writer queue -> one transaction per batch (raw frames, readings stored once,
unknown devices) -> COMMIT -> 9014 replies written back on the loop. A frame is acknowledged only
when the transaction holding it has committed, so an acknowledged value is never lost; a resent
frame is stored once (unique point/kind/time/code) and acknowledged again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import queue
import signal
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, select, update

from greenpark.hj212.codec import Frame, FrameSplitter, HJ212Error, build, make_frame
from greenpark.hj212.protocol import data_reply_bytes, needs_reply, notice_reply
from greenpark.services import ingest
from greenpark.services.ingest import Device, Inbound
from greenpark.store import models as m
from greenpark.store.db import make_engine, wal_checkpoint

log = logging.getLogger("greenpark.hj212")

#: Flag for requests the platform sends to a 2017/2025 device asking for a reply (V=1 or 2, A=1).
REQUEST_FLAG = {"2005": 1, "2017": 5, "2025": 9}


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 9212
    strict: bool = False  # lenient by default: the field's deviations are accepted and logged
    max_connections: int = 10000
    max_connections_per_peer: int = 5000  # simulators and NAT gateways share one address
    idle_timeout_s: float = 900.0  # no byte for this long: the connection is closed
    frame_timeout_s: float = (
        120.0  # a frame must complete within this (slow senders may be slow, not endless)
    )
    max_pending: int = 50000  # frames waiting for the writer before reading is paused (back-pressure)
    batch_max: int = 4000
    batch_window_s: float = 0.025  # after the first frame of a batch, wait this long for more (group commit)
    keep_raw: bool = True
    housekeeping_s: float = 15.0  # roll-ups and alarms
    command_poll_s: float = 2.0
    retention_every_s: float = 3600.0
    alarms: bool = True
    reuse_port: bool = False  # several worker processes share the port (the kernel spreads connections)
    worker: int = 0  # worker 0 also evaluates alarms and prunes raw frames


@dataclass
class Stats:
    connections: int = 0
    connections_total: int = 0
    refused_connections: int = 0
    frames: int = 0
    stored: int = 0
    acked: int = 0
    rejected: int = 0
    unknown: int = 0
    idle_closed: int = 0
    slow_closed: int = 0
    batches: int = 0
    batched_frames: int = 0
    write_errors: int = 0
    started: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_STOP = object()


class _Connection(asyncio.Protocol):
    def __init__(self, server: IngestServer) -> None:
        self.server = server
        self.splitter = FrameSplitter(strict=server.config.strict)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.host = ""
        self.last_activity = 0.0
        self.partial_since: float | None = None
        self.mns: set[str] = set()
        self.pending_parts: dict[tuple[str, str, str], dict[int, tuple[Inbound, list[bytes]]]] = {}
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername") or ("?", 0)
        self.host = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}"
        self.last_activity = self.server.loop.time()
        if not self.server._admit(self):
            transport.close()
            return
        self.open = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open:
            self.server._release(self)
        self.open = False

    def data_received(self, data: bytes) -> None:
        if not self.open:
            return
        now = self.server.loop.time()
        self.last_activity = now
        received = m.utcnow()
        for raw, event in self.splitter.feed_raw(data):
            self.server._on_event(self, raw, event, received)
        if self.splitter.buffer:
            if self.partial_since is None:
                self.partial_since = now
        else:
            self.partial_since = None

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class IngestServer:
    """Run with ``await server.start()`` then ``await server.serve_forever()``; ``await server.stop()``
    flushes the queue (committing and acknowledging what arrived) before it returns."""

    def __init__(self, url: str, config: ServerConfig | None = None) -> None:
        self.url = url
        self.config = config or ServerConfig()
        self.stats = Stats()
        self.registry: dict[str, Device] = {}
        self.queue: queue.Queue[Any] = queue.Queue()
        self.connections: set[_Connection] = set()
        self.per_host: dict[str, int] = defaultdict(int)
        self.by_mn: dict[str, _Connection] = {}
        self.paused: set[_Connection] = set()
        self.last_seen: dict[int, tuple[datetime, str]] = {}
        self.touched: set[tuple[int, datetime]] = set()
        self.touched_lock = threading.Lock()
        self.engine: Engine | None = None
        self._server: asyncio.Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._sweeper: asyncio.Task[None] | None = None
        self._lock_file: Any = None

    # lifecycle

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.engine = make_engine(self.url, durable=True)
        if self.config.reuse_port and self.engine.dialect.name == "sqlite" and sys.platform != "win32":
            db = self.engine.url.database or ""
            self._lock_file = Path(f"{db}.hj212-writers.lock").open("a+b")  # noqa: SIM115 - held while serving
        self._reload_registry()
        # Frames make many short-lived, acyclic objects: move what exists now out of the collector's
        # way and let generation 0 grow before a collection (fewer pauses at high frame rates).
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        self._threads = [
            threading.Thread(target=self._writer, name="hj212-writer", daemon=True),
            threading.Thread(target=self._housekeeping, name="hj212-housekeeping", daemon=True),
        ]
        if self.config.worker == 0:
            self._threads.append(
                threading.Thread(target=self._checkpointer, name="hj212-checkpoint", daemon=True)
            )
        for t in self._threads:
            t.start()
        self._server = await self.loop.create_server(
            lambda: _Connection(self), self.config.host, self.config.port, backlog=2048, reuse_address=True,
            reuse_port=self.config.reuse_port or None,
        )  # fmt: skip
        self._sweeper = asyncio.create_task(self._sweep())
        log.info("HJ 212 server listening on %s:%s", self.config.host, self.port)

    @property
    def port(self) -> int:
        if self._server and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self.config.port

    async def serve_forever(self) -> None:
        assert self._server is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for c in list(self.connections):
            if c.transport is not None:
                c.transport.pause_reading()
        self.queue.put(_STOP)
        await asyncio.to_thread(self._threads[0].join)
        await asyncio.sleep(0)  # let the final acknowledgements go out
        self._stop.set()
        for t in self._threads[1:]:
            await asyncio.to_thread(t.join)
        for c in list(self.connections):
            if c.transport is not None:
                c.transport.close()
        if self._sweeper:
            self._sweeper.cancel()
        if self.engine is not None:
            self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
        log.info("stopped: %s", json.dumps(self.stats.as_dict()))

    # connections

    def _admit(self, conn: _Connection) -> bool:
        if len(self.connections) >= self.config.max_connections or (
            self.per_host[conn.host] >= self.config.max_connections_per_peer
        ):
            self.stats.refused_connections += 1
            return False
        self.connections.add(conn)
        self.per_host[conn.host] += 1
        self.stats.connections = len(self.connections)
        self.stats.connections_total += 1
        return True

    def _release(self, conn: _Connection) -> None:
        self.connections.discard(conn)
        self.paused.discard(conn)
        self.per_host[conn.host] -= 1
        if self.per_host[conn.host] <= 0:
            del self.per_host[conn.host]
        for mn in conn.mns:
            if self.by_mn.get(mn) is conn:
                del self.by_mn[mn]
        self.stats.connections = len(self.connections)

    async def _sweep(self) -> None:
        """Close idle connections and connections whose frame does not complete in time."""
        while True:
            await asyncio.sleep(1.0)
            now = self.loop.time()
            for c in list(self.connections):
                if c.transport is None or c.transport.is_closing():
                    continue
                if c in self.paused:
                    continue
                if now - c.last_activity > self.config.idle_timeout_s:
                    self.stats.idle_closed += 1
                    c.transport.close()
                elif c.partial_since is not None and now - c.partial_since > self.config.frame_timeout_s:
                    self.stats.slow_closed += 1
                    c.transport.close()

    # frames

    def _on_event(self, conn: _Connection, raw: bytes, event: Frame | HJ212Error, now: datetime) -> None:
        self.stats.frames += 1
        if isinstance(event, HJ212Error):
            self.stats.rejected += 1
            reason = f"{event.reason}" + (f" (byte {event.position})" if event.position is not None else "")
            self._enqueue(Inbound(raw[:4096], conn.peer, now, "rejected", reason=reason), [], conn=conn)
            return
        frame = event
        item = ingest.classify(frame, raw, conn.peer, now, self.registry)
        if frame.deviations:
            item.reason = "; ".join(f"{d.code}: {d.detail}" for d in frame.deviations)[:2000]
        if item.status in ("unknown_mn", "bad_pw"):
            self.stats.unknown += 1
            self._enqueue(item, [], conn=conn)
            return
        if item.status == "rejected":
            self.stats.rejected += 1
            self._enqueue(item, [], conn=conn)
            return
        assert item.point_id is not None
        conn.mns.add(item.mn)
        self.by_mn[item.mn] = conn
        self.last_seen[item.point_id] = (now, conn.peer)
        acks: list[bytes] = []
        cn = frame.cn or ""
        reply = needs_reply(frame)
        if reply == "9014" or (cn == "9015" and frame.ack_wanted):
            acks.append(data_reply_bytes(frame))
        elif reply == "9013":
            acks.append(build(notice_reply(frame)))
        if cn in ("9011", "9012"):
            item.reason = json.dumps({"command_reply": cn, "cp": frame.cp.text()})
        if frame.subpacketed:
            self._add_part(conn, frame, item, acks)
            return
        self._enqueue(item, acks, conn=conn)

    def _add_part(self, conn: _Connection, frame: Frame, item: Inbound, acks: list[bytes]) -> None:
        """Keep a subpacket until all of its message is in; then store every part in one batch and
        acknowledge each part (acknowledging a part before its message is stored could lose it)."""
        key = (frame.mn or "", frame.cn or "", frame.cp.get("DataTime") or "")
        parts = conn.pending_parts.setdefault(key, {})
        parts[frame.pno or 1] = (item, acks)
        total = frame.pnum or 1
        if any(n not in parts for n in range(1, total + 1)):
            return
        del conn.pending_parts[key]
        for n in range(1, total + 1):
            self._enqueue(*parts[n], conn=conn)

    def _enqueue(self, item: Inbound, acks: list[bytes], *, conn: _Connection) -> None:
        self.queue.put((item, conn, acks))
        if (
            self.queue.qsize() > self.config.max_pending
            and conn.transport is not None
            and conn not in self.paused
        ):
            conn.transport.pause_reading()
            self.paused.add(conn)

    def _deliver(self, done: list[tuple[Inbound, _Connection, list[bytes]]]) -> None:
        """On the loop, after a commit: send the replies of the committed frames."""
        for item, conn, acks in done:
            if item.status == "stored":
                self.stats.stored += 1
            for a in acks:
                conn.write(a)
                self.stats.acked += 1
        if self.paused and self.queue.qsize() < self.config.max_pending // 2:
            for c in list(self.paused):
                if c.transport is not None and not c.transport.is_closing():
                    c.transport.resume_reading()
            self.paused.clear()

    # writer thread

    def _reload_registry(self) -> None:
        assert self.engine is not None
        from sqlalchemy.orm import Session

        with Session(self.engine) as s:
            self.registry = ingest.load_registry(s)

    def _writer(self) -> None:
        assert self.engine is not None
        last_refresh = last_seen_flush = time.monotonic()
        stopping = False
        last_size = 0
        while not stopping:
            try:
                first = self.queue.get(timeout=1.0)
            except queue.Empty:
                first = None
            batch: list[tuple[Inbound, _Connection, list[bytes]]] = []
            if first is _STOP:
                stopping = True
            elif first is not None:
                batch.append(first)
            # group commit: under load (the last batch was large) wait a little for more frames to
            # share the commit; when it is quiet, commit at once (low latency for a lone device)
            window = self.config.batch_window_s if last_size >= 32 else 0.0
            deadline = time.monotonic() + window
            while batch and len(batch) < self.config.batch_max and not stopping:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        nxt = self.queue.get(timeout=left)
                    except queue.Empty:
                        break
                if nxt is _STOP:
                    stopping = True
                    continue
                batch.append(nxt)
            if batch:
                self._commit(batch)
            last_size = len(batch)
            now = time.monotonic()
            if now - last_seen_flush > 2.0 or stopping:
                seen, self.last_seen = self.last_seen, {}
                if seen:
                    with contextlib.suppress(Exception), self.engine.begin() as conn:
                        ingest.flush_last_seen(conn, seen)
                last_seen_flush = now
            if now - last_refresh > 5.0:
                with contextlib.suppress(Exception):
                    self._reload_registry()
                last_refresh = now

    def _commit(self, batch: list[tuple[Inbound, _Connection, list[bytes]]]) -> None:
        """Store a batch in one transaction, then hand it to the loop for the replies. If the batch
        fails twice, store its frames one by one so that one bad frame cannot hold up the others;
        what still fails is not acknowledged (the device resends it)."""
        for attempt in range(2):
            try:
                self._write([b[0] for b in batch])
                break
            except Exception:
                self.stats.write_errors += 1
                log.exception("batch of %d frames not stored (attempt %d)", len(batch), attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        else:
            stored = []
            for b in batch:
                try:
                    self._write([b[0]])
                    stored.append(b)
                except Exception:
                    self.stats.write_errors += 1
                    log.exception("frame from %s not stored; not acknowledged", b[0].peer)
            batch = stored
        self.stats.batches += 1
        self.stats.batched_frames += len(batch)
        touched = ingest.touched_hours(b[0] for b in batch)
        if touched:
            with self.touched_lock:
                self.touched |= touched
        self.loop.call_soon_threadsafe(self._deliver, batch)

    def _write(self, items: list[Inbound]) -> None:
        assert self.engine is not None
        with self._write_lock(), self.engine.begin() as conn:
            ingest.write_batch(conn, items, keep_raw=self.config.keep_raw)
            _command_replies(conn, items)

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """With several workers on one SQLite file, take turns through a file lock: a waiting writer
        wakes as soon as the other commits, instead of SQLite's busy loop (which sleeps up to 100 ms
        at a time and can starve a worker for seconds)."""
        if self._lock_file is None:
            yield
            return
        import fcntl

        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    # housekeeping thread

    def _housekeeping(self) -> None:
        assert self.engine is not None
        from sqlalchemy.orm import Session

        last_work = last_retention = time.monotonic()
        while not self._stop.wait(self.config.command_poll_s):
            try:
                with Session(self.engine) as s:
                    self._send_commands(s)
                    s.commit()
                now = time.monotonic()
                if now - last_work >= self.config.housekeeping_s:
                    self.run_housekeeping()
                    last_work = now
                if self.config.worker == 0 and now - last_retention >= self.config.retention_every_s:
                    with Session(self.engine) as s:
                        from greenpark.services.sources import settings

                        ingest.prune_raw_frames(s, float(settings(s)["raw_retention_days"]))
                        s.commit()
                    last_retention = now
            except Exception:
                log.exception("housekeeping failed; will retry")
        with contextlib.suppress(Exception):
            self.run_housekeeping()

    def _checkpointer(self) -> None:
        """Keep SQLite's write-ahead log short, outside the commits (see store.db.wal_checkpoint)."""
        assert self.engine is not None
        while not self._stop.wait(0.5):
            try:
                wal_checkpoint(self.engine)
            except Exception:
                log.exception("WAL checkpoint failed; will retry")

    def run_housekeeping(self) -> None:
        """Roll up the hours touched since the last run, then (worker 0) evaluate the alarm rules.
        If the roll-up fails (another worker wrote the same row a moment before), the hours are kept
        for the next run."""
        assert self.engine is not None
        from sqlalchemy.orm import Session

        with self.touched_lock:
            touched, self.touched = self.touched, set()
        try:
            with Session(self.engine) as s:
                ingest.rollup(s, touched)
                s.commit()
        except Exception:
            with self.touched_lock:
                self.touched |= touched
            raise
        if self.config.alarms:
            from greenpark.services import alarms

            by_point: dict[int, set[datetime]] = defaultdict(set)
            for point_id, hour in touched:
                by_point[point_id].add(hour)
            # each worker judges the data it received; worker 0 also the device rules (offline, missing)
            with Session(self.engine) as s:
                alarms.evaluate(s, points=set(by_point), hours=by_point, device_rules=self.config.worker == 0)
                s.commit()

    def _send_commands(self, session: Any) -> None:
        """Send queued commands to devices connected here; a command is claimed atomically, so with
        several workers it is sent once."""
        pending = session.scalars(select(m.DeviceCommand).where(m.DeviceCommand.status == "pending")).all()
        for cmd in pending:
            point = session.get(m.SourcePoint, cmd.point_id)
            conn = self.by_mn.get(point.mn) if point else None
            if point is None or conn is None:
                continue
            frame = _command_frame(cmd, point)
            if frame is None:
                cmd.status, cmd.result = "failed", f"greenpark cannot send CN {cmd.cn}"
                continue
            claimed = session.execute(
                update(m.DeviceCommand)
                .where(m.DeviceCommand.id == cmd.id, m.DeviceCommand.status == "pending")
                .values(status="sent", sent_utc=m.utcnow())
            )
            if getattr(claimed, "rowcount", 0) == 1:
                self.loop.call_soon_threadsafe(conn.write, build(frame))


def _command_frame(cmd: m.DeviceCommand, point: m.SourcePoint) -> Frame | None:
    flag = REQUEST_FLAG.get(point.edition, 5)
    if cmd.cn == "1012":
        now_bj = m.utcnow() + timedelta(hours=8)
        return make_frame(qn=cmd.qn, st="91" if point.edition != "2005" else "32", cn="1012", pw=point.pw,
                          mn=point.mn, flag=flag, cp=[("SystemTime", now_bj.strftime("%Y%m%d%H%M%S"))])  # fmt: skip
    if cmd.cn == "1011":
        return make_frame(qn=cmd.qn, st="91", cn="1011", pw=point.pw, mn=point.mn, flag=flag, cp=[])
    return None


def _command_replies(conn: Any, items: list[Inbound]) -> None:
    """Record the device's 9011 (request reply) and 9012 (execution result) to our commands."""
    t = m.DeviceCommand
    for i in items:
        if i.cn not in ("9011", "9012") or not i.qn or i.point_id is None:
            continue
        cp = json.loads(i.reason).get("cp", "") if i.reason.startswith("{") else ""
        if i.cn == "9011":
            ok = "QnRtn=1" in cp
            status = "accepted" if ok else "failed"
        else:
            ok = "ExeRtn=1" in cp
            status = "done" if ok else "failed"
        conn.execute(
            update(t).where(t.qn == i.qn, t.point_id == i.point_id).values(status=status, result=cp[:500])
        )


def notify_webhook(url: str, payload: dict[str, Any], timeout: float = 5.0) -> str:
    """POST an alarm as JSON; returns a one-line result for the alarm log (never raises)."""
    if not url.startswith(("http://", "https://")):
        return "failed: the webhook URL must start with http:// or https://"
    try:
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - officer-configured http(s) URL
            return f"HTTP {resp.status}"
    except Exception as exc:
        return f"failed: {exc.__class__.__name__}: {exc}"[:300]


def run(
    url: str, config: ServerConfig, ready: threading.Event | None = None, handle_signals: bool = False
) -> None:
    """Run the server in this thread's own event loop (uvloop where installed, else asyncio)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows, or uvloop not installed
        asyncio.run(run_server(url, config, ready, handle_signals))
    else:
        uvloop.run(run_server(url, config, ready, handle_signals))


async def run_server(url: str, config: ServerConfig, ready: threading.Event | None = None,
                     handle_signals: bool = False) -> None:  # fmt: skip
    """Serve until cancelled (or SIGINT/SIGTERM with ``handle_signals``), then stop cleanly: what
    has arrived is stored and acknowledged before the process ends."""
    server = IngestServer(url, config)
    await server.start()
    stop = asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await server.stop()

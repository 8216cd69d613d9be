"""The HJ 212 ingestion server: asyncio TCP for many data loggers, one writer thread that stores
frames in batches (group commit) and acknowledges them only after the commit, and a housekeeping
thread for roll-ups, alarms, device commands and retention.

Data path: bytes -> FrameSplitter (frames split across reads, several per read, garbage skipped)
-> parse (lenient, deviations kept in the raw log) -> classify against the MN/PW registry ->
subpacket reassembly -> writer queue -> one transaction per batch (raw frames, readings stored once,
unknown devices) -> COMMIT -> 9014 replies written back on the loop. A frame is acknowledged only
when the transaction holding it has committed, so an acknowledged value is never lost; a resent
frame is stored once (unique point/kind/time/code) and acknowledged again.

Admission (:class:`Admission`, the one place that decides who may hold a connection): a connection
is *unproven* until it sends a frame of a registered, active MN with that device's PW. Unproven
connections have a deadline for that frame, caps per address and in all that keep the rest of
``max_connections`` for proven devices (a newcomer evicts the oldest unproven connection of the
address holding most of them rather than being refused), and a budget of rejected or unknown
bytes and frames after which they are closed. What any connection sends that is refused is
counted per address and written as a few sample rows plus one summary row per address and
period, never row by row. Frames of unknown MNs are kept for adoption within caps per connection,
per address and per MN; frames naming a registered MN with a wrong PW are counted on the point
(the ``wrong_password`` alarm), never listed for adoption. Queued alarm webhooks are delivered by
worker 0's own thread, outside every transaction the ingestion path waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import json
import logging
import queue
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Engine, select, update

from greenpark.hj212.codec import Frame, FrameSplitter, HJ212Error, build, make_frame
from greenpark.hj212.protocol import data_reply_bytes, needs_reply, notice_reply
from greenpark.services.pollution import ingest
from greenpark.services.pollution.ingest import Device, Inbound
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
    # admission of unproven connections (no frame of a registered device with its PW yet)
    first_frame_timeout_s: float = 60.0  # an unproven connection is closed after this
    max_unproven: int = 1024  # unproven connections in all (the rest of max_connections: proven devices)
    max_unproven_per_peer: int = 64  # unproven connections per address (IPv6: per /64)
    unproven_max_bytes: int = 65536  # refused bytes (garbage, unknown or wrong-PW frames) before closing
    unproven_max_frames: int = 32  # refused chunks and frames before closing
    # what is stored of refused traffic (per summary period; the rest is counted in a summary row)
    summary_every_s: float = 300.0  # one summary row per address with refused traffic, this often
    samples_per_connection: int = 3  # rejected chunks kept as raw frames, per connection ...
    samples_per_peer: int = 10  # ... and per address
    strangers_per_peer: int = 200  # unknown-MN and wrong-PW frames per address passed to the store
    unknown_raw_per_connection: int = 16  # of which unknown-MN frames kept as raw frames per connection
    bad_pw_raw_per_connection: int = 3  # and wrong-PW frames
    unknown_raw_per_mn: int = ingest.UNKNOWN_RAW_PER_MN  # raw frames kept per unknown MN in all
    bad_pw_raw_per_mn: int = ingest.BAD_PW_RAW_PER_MN  # raw frames kept per registered MN with a wrong PW
    max_pending: int = 50000  # frames waiting for the writer before reading is paused (back-pressure)
    batch_max: int = 4000
    batch_window_s: float = 0.025  # after the first frame of a batch, wait this long for more (group commit)
    keep_raw: bool = True
    housekeeping_s: float = 15.0  # roll-ups and alarms
    command_poll_s: float = 2.0
    retention_every_s: float = 3600.0
    alarms: bool = True
    webhooks: bool = True  # worker 0 delivers queued alarm webhooks in a thread of its own
    webhook_poll_s: float = 5.0  # look for due deliveries this often (and at once after an alarm opens)
    webhook_timeout_s: float = 5.0  # connect and read timeout of one delivery attempt
    reuse_port: bool = False  # several worker processes share the port (the kernel spreads connections)
    worker: int = 0  # worker 0 also evaluates alarms, delivers webhooks and prunes raw frames

    def check(self) -> None:
        """Refuse limits that would lock every device out or let strangers hold all the room."""
        for name in ("max_connections", "max_connections_per_peer", "max_unproven", "max_unproven_per_peer",
                     "unproven_max_bytes", "unproven_max_frames"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("first_frame_timeout_s", "idle_timeout_s", "frame_timeout_s", "summary_every_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0 s")
        if self.max_unproven >= self.max_connections:
            raise ValueError(
                "max_unproven must be below max_connections (the rest is kept for proven devices)"
            )


@dataclass
class Stats:
    connections: int = 0
    unproven: int = 0  # connections without a frame of a registered device yet
    connections_total: int = 0
    refused_connections: int = 0  # no room and no unproven connection to evict
    evicted_unproven: int = 0  # the oldest unproven connection of the busiest address, for a newcomer
    first_frame_closed: int = 0  # unproven past first_frame_timeout_s
    budget_closed: int = 0  # unproven past its refused-bytes or refused-frames budget
    frames: int = 0  # frames and rejected chunks
    stored: int = 0
    acked: int = 0
    rejected: int = 0
    rejected_bytes: int = 0
    unknown: int = 0  # frames of unregistered (or disabled) MNs
    unknown_bytes: int = 0
    bad_pw: int = 0  # frames of registered MNs with a wrong PW
    bad_pw_bytes: int = 0
    not_stored: int = 0  # refused chunks and frames counted in a summary only
    summaries: int = 0
    idle_closed: int = 0
    slow_closed: int = 0
    batches: int = 0
    batched_frames: int = 0
    write_errors: int = 0
    webhooks_delivered: int = 0
    webhooks_retrying: int = 0
    webhooks_failed: int = 0
    started: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def peer_key(host: str) -> str:
    """The address a connection counts against: IPv4 as is, IPv6 by its /64 (one subscriber's
    network; a host has billions of addresses in it), IPv4-mapped IPv6 as IPv4."""
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return host


C = TypeVar("C", bound=Hashable)


class Admission(Generic[C]):
    """Who may hold a connection — the admission policy, in one place (no I/O: the server closes
    what it is told to).

    A connection is *unproven* from its arrival until :meth:`prove` (its first frame of a
    registered, active MN with the right PW). Limits, with ``peer`` the address (:func:`peer_key`):

    - all connections: ``max_connections``, per address ``max_connections_per_peer``;
    - unproven ones: ``max_unproven``, per address ``max_unproven_per_peer``.

    A newcomer over a per-address limit takes the place of the oldest unproven connection of its
    own address; over a global limit, of the oldest unproven connection of the address holding the
    most of them. It is refused only when there is no unproven connection to evict (everything is
    held by proven devices). So idle or noisy strangers can never hold more than the unproven
    share, and a registered device always finds room. Unproven connections are also closed at
    ``first_frame_timeout_s`` (:meth:`expired`) and when they exceed their budget of refused bytes
    or frames (:meth:`over_budget`).
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.peer_of: dict[C, str] = {}
        self.per_peer: dict[str, int] = defaultdict(int)
        self.unproven: dict[str, dict[C, float]] = {}  # peer -> connection -> arrival, oldest first
        self.n_unproven = 0

    def admit(self, conn: C, peer: str, now: float) -> list[C] | None:
        """Take a new connection: None if it must be refused, else the unproven connections to
        close to make room (already forgotten here)."""
        cfg = self.config
        victims: list[C] = []
        own = self.unproven.get(peer, {})
        if len(own) >= cfg.max_unproven_per_peer or self.per_peer[peer] >= cfg.max_connections_per_peer:
            if not own:
                return None
            victims.append(next(iter(own)))
            self.release(victims[-1])
        if self.n_unproven >= cfg.max_unproven or len(self.peer_of) >= cfg.max_connections:
            if not self.unproven:  # (never after an eviction above: that made room)
                return None
            busiest = max(self.unproven.values(), key=len)
            victims.append(next(iter(busiest)))
            self.release(victims[-1])
        self.peer_of[conn] = peer
        self.per_peer[peer] += 1
        self.unproven.setdefault(peer, {})[conn] = now
        self.n_unproven += 1
        return victims

    def is_unproven(self, conn: C) -> bool:
        peer = self.peer_of.get(conn)
        return peer is not None and conn in self.unproven.get(peer, {})

    def prove(self, conn: C) -> None:
        """The connection sent a frame of a registered device with its PW: no longer limited."""
        peer = self.peer_of.get(conn)
        if peer is not None:
            self._forget_unproven(conn, peer)

    def release(self, conn: C) -> None:
        """The connection is gone (idempotent)."""
        peer = self.peer_of.pop(conn, None)
        if peer is None:
            return
        self._forget_unproven(conn, peer)
        self.per_peer[peer] -= 1
        if self.per_peer[peer] <= 0:
            del self.per_peer[peer]

    def _forget_unproven(self, conn: C, peer: str) -> None:
        own = self.unproven.get(peer)
        if own is not None and own.pop(conn, None) is not None:
            self.n_unproven -= 1
            if not own:
                del self.unproven[peer]

    def expired(self, now: float) -> list[C]:
        """Unproven connections past their deadline for a first valid frame."""
        limit = now - self.config.first_frame_timeout_s
        out: list[C] = []
        for own in self.unproven.values():
            for conn, since in own.items():
                if since > limit:
                    break
                out.append(conn)
        return out

    def over_budget(self, refused_frames: int, refused_bytes: int) -> bool:
        """Has an unproven connection sent more refused frames or bytes than it may?"""
        return (
            refused_frames > self.config.unproven_max_frames or refused_bytes > self.config.unproven_max_bytes
        )

    @property
    def connections(self) -> int:
        return len(self.peer_of)


#: Addresses tallied separately per summary period; refused traffic of any further ones is
#: summed under :data:`OTHER_PEERS` (so a spread-out flood cannot grow memory or rows).
TALLY_PEERS_MAX = 4096
OTHER_PEERS = "(other addresses)"
CLOSE_REASONS = ("refused", "evicted", "first_frame", "budget")


@dataclass
class _Tally:
    """What one address sent in one summary period that was refused (rejected chunks, unknown-MN
    and wrong-PW frames) and what became of its connections; written as one ``summary`` row."""

    since_utc: datetime
    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    closed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stored_rows: int = 0
    not_stored: int = 0
    samples: int = 0
    strangers: int = 0
    reasons: list[str] = field(default_factory=list)
    mns: list[str] = field(default_factory=list)
    peers: list[str] = field(default_factory=list)

    def add(self, status: str, reason: str, peer: str, mn: str = "", stored: bool = False) -> None:
        self.events[status] += 1
        if stored:
            self.stored_rows += 1
        else:
            self.not_stored += 1
        if len(self.reasons) < 5 and reason and reason not in self.reasons:
            self.reasons.append(reason[:200])
        if len(self.mns) < 5 and mn and mn not in self.mns:
            self.mns.append(mn[:32])
        self.seen(peer)

    def seen(self, peer: str) -> None:
        if len(self.peers) < 5 and peer not in self.peers:
            self.peers.append(peer)

    def worth_a_row(self) -> bool:
        """Something was not stored row by row, or a connection was cut short."""
        return self.not_stored > 0 or any(self.closed.values())

    def summary(self, address: str, until_utc: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"address": address, "since_utc": self.since_utc.isoformat() + "Z",
                               "until_utc": until_utc.isoformat() + "Z"}  # fmt: skip
        for status in ("rejected", "unknown_mn", "bad_pw"):
            out[status] = self.events.get(status, 0)
            out[f"{status}_bytes"] = self.bytes.get(status, 0)
        out.update(stored_rows=self.stored_rows, not_stored=self.not_stored,
                   closed={k: self.closed.get(k, 0) for k in CLOSE_REASONS}, first_reasons=self.reasons,
                   mns=self.mns, peers=self.peers)  # fmt: skip
        return out


#: An unproven connection's bytes are examined this many at a time, so that it is closed as soon
#: as it is over its budget rather than after a whole read of garbage.
UNPROVEN_READ = 4096


_STOP = object()


class _Connection(asyncio.Protocol):
    def __init__(self, server: IngestServer) -> None:
        self.server = server
        self.splitter = FrameSplitter(strict=server.config.strict)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.host = ""
        self.key = ""
        self.last_activity = 0.0
        self.partial_since: float | None = None
        self.mns: set[str] = set()
        self.pending_parts: dict[tuple[str, str, str], dict[int, tuple[Inbound, list[bytes]]]] = {}
        self.open = False
        self.proven = False
        self.refused_frames = 0  # while unproven: its budget
        self.refused_bytes = 0
        self.kept: dict[str, int] = defaultdict(int)  # raw rows kept per status this summary period

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername") or ("?", 0)
        self.host = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}"
        self.key = peer_key(self.host)
        self.last_activity = self.server.loop.time()
        if not self.server._admit(self):
            transport.close()
            return
        self.open = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open:
            self.server._release(self)

    def data_received(self, data: bytes) -> None:
        if not self.open:
            return
        now = self.server.loop.time()
        self.last_activity = now
        received = m.utcnow()
        step = max(len(data), 1) if self.proven else UNPROVEN_READ
        for at in range(0, len(data), step):
            self.server._feed(self, data[at : at + step], received)
            if not self.open:  # closed for its budget: the rest of this read is refused unread
                self.server._refused_bytes(self, "rejected", len(data) - at - step)
                return
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
        self.listening_since = m.utcnow()  # the device rules wait for reconnections after a start
        self.config = config or ServerConfig()
        self.config.check()
        self.stats = Stats()
        self.registry: dict[str, Device] = {}
        self.queue: queue.Queue[Any] = queue.Queue()
        self.connections: set[_Connection] = set()
        self.admission: Admission[_Connection] = Admission(self.config)
        self.tallies: dict[str, _Tally] = {}
        self._last_summary = 0.0
        self.by_mn: dict[str, _Connection] = {}
        self.paused: set[_Connection] = set()
        self.last_seen: dict[int, tuple[datetime, str]] = {}
        self.touched: set[tuple[int, datetime]] = set()
        self.touched_lock = threading.Lock()
        self.engine: Engine | None = None
        self._server: asyncio.Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._webhooks_due = threading.Event()
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
            if self.config.webhooks:
                self._threads.append(
                    threading.Thread(target=self._webhooks, name="hj212-webhooks", daemon=True)
                )
        for t in self._threads:
            t.start()
        self._server = await self.loop.create_server(
            lambda: _Connection(self), self.config.host, self.config.port, backlog=2048, reuse_address=True,
            reuse_port=self.config.reuse_port or None,
        )  # fmt: skip
        self._last_summary = self.loop.time()
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
        if self._sweeper:
            self._sweeper.cancel()  # (no summary may follow the writer's stop marker)
        self._summarise()
        self.queue.put(_STOP)
        await asyncio.to_thread(self._threads[0].join)
        await asyncio.sleep(0)  # let the final acknowledgements go out
        self._stop.set()
        self._webhooks_due.set()
        for t in self._threads[1:]:
            await asyncio.to_thread(t.join)
        for c in list(self.connections):
            if c.transport is not None:
                c.transport.close()
        if self.engine is not None:
            self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
        log.info("stopped: %s", json.dumps(self.stats.as_dict()))

    # connections

    def _admit(self, conn: _Connection) -> bool:
        victims = self.admission.admit(conn, conn.key, self.loop.time())
        if victims is None:
            self.stats.refused_connections += 1
            self._tally(conn).closed["refused"] += 1
            return False
        for v in victims:
            self._drop(v, "evicted")
        self.connections.add(conn)
        self.stats.connections_total += 1
        self._gauges()
        return True

    def _release(self, conn: _Connection) -> None:
        conn.open = False
        self.connections.discard(conn)
        self.paused.discard(conn)
        self.admission.release(conn)
        for mn in conn.mns:
            if self.by_mn.get(mn) is conn:
                del self.by_mn[mn]
        self._gauges()

    def _drop(self, conn: _Connection, why: str) -> None:
        """Close an unproven connection at once (evicted, past its deadline or its budget)."""
        if not conn.open:
            return
        counter = {
            "evicted": "evicted_unproven",
            "first_frame": "first_frame_closed",
            "budget": "budget_closed",
        }[why]
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        self._tally(conn).closed[why] += 1
        self._release(conn)
        if conn.transport is not None:
            conn.transport.abort()

    def _prove(self, conn: _Connection) -> None:
        conn.proven = True
        self.admission.prove(conn)
        self._gauges()

    def _gauges(self) -> None:
        self.stats.connections = self.admission.connections
        self.stats.unproven = self.admission.n_unproven

    async def _sweep(self) -> None:
        """Close unproven connections past their first-frame deadline, idle connections and
        connections whose frame does not complete in time; write the summaries when due."""
        cfg = self.config
        every = max(0.05, min(1.0, cfg.first_frame_timeout_s / 2, cfg.summary_every_s / 2))
        while True:
            await asyncio.sleep(every)
            now = self.loop.time()
            for c in self.admission.expired(now):
                self._drop(c, "first_frame")
            for c in list(self.connections):
                if c.transport is None or c.transport.is_closing():
                    continue
                if c in self.paused:
                    continue
                if now - c.last_activity > cfg.idle_timeout_s:
                    self.stats.idle_closed += 1
                    c.transport.close()
                elif c.partial_since is not None and now - c.partial_since > cfg.frame_timeout_s:
                    self.stats.slow_closed += 1
                    c.transport.close()
            if now - self._last_summary >= cfg.summary_every_s:
                self._summarise()
                self._last_summary = now

    # refused traffic: counted per address, a few samples, one summary row per period

    def _tally(self, conn: _Connection) -> _Tally:
        key = conn.key
        t = self.tallies.get(key)
        if t is None:
            if len(self.tallies) >= TALLY_PEERS_MAX:
                key = OTHER_PEERS
                t = self.tallies.get(key)
            if t is None:
                t = self.tallies[key] = _Tally(m.utcnow())
        t.seen(conn.peer)
        return t

    def _summarise(self) -> None:
        """Queue one summary row per address whose refused traffic was not all stored (or whose
        connections were cut short) since the last summary; start a new period everywhere."""
        tallies, self.tallies = self.tallies, {}
        for c in self.connections:
            c.kept.clear()
        until = m.utcnow()
        for address, t in tallies.items():
            if not t.worth_a_row():
                continue
            reason = json.dumps(t.summary(address, until), ensure_ascii=False)
            self.queue.put((Inbound(b"", address, until, "summary", reason=reason), None, []))
            self.stats.summaries += 1

    def _refused_bytes(self, conn: _Connection, status: str, n: int) -> None:
        if n <= 0:
            return
        counter = {"rejected": "rejected_bytes", "unknown_mn": "unknown_bytes", "bad_pw": "bad_pw_bytes"}[
            status
        ]
        setattr(self.stats, counter, getattr(self.stats, counter) + n)
        self._tally(conn).bytes[status] += n
        if not conn.proven:
            conn.refused_bytes += n

    # frames

    def _feed(self, conn: _Connection, chunk: bytes, received: datetime) -> None:
        """Split and handle a piece of a connection's stream; bytes that ended up in no frame are
        refused bytes; an unproven connection over its budget is closed."""
        before = len(conn.splitter.buffer)
        events = conn.splitter.feed_raw(chunk)
        consumed = before + len(chunk) - len(conn.splitter.buffer)
        framed = 0
        for raw, event in events:
            if isinstance(event, Frame):
                framed += len(raw)
            self._on_event(conn, raw, event, received)
        self._refused_bytes(conn, "rejected", consumed - framed)
        if (
            not conn.proven
            and conn.open
            and self.admission.over_budget(conn.refused_frames, conn.refused_bytes)
        ):
            self._drop(conn, "budget")

    def _on_event(self, conn: _Connection, raw: bytes, event: Frame | HJ212Error, now: datetime) -> None:
        self.stats.frames += 1
        if isinstance(event, HJ212Error):
            self.stats.rejected += 1
            reason = f"{event.reason}" + (f" (byte {event.position})" if event.position is not None else "")
            tally = self._tally(conn)
            keep = (
                conn.kept["rejected"] < self.config.samples_per_connection
                and tally.samples < self.config.samples_per_peer
            )
            tally.add("rejected", reason, conn.peer, stored=keep)
            if not conn.proven:
                conn.refused_frames += 1
            if keep:
                conn.kept["rejected"] += 1
                tally.samples += 1
                self._enqueue(Inbound(raw[:4096], conn.peer, now, "rejected", reason=reason), [], conn=conn)
            else:
                self.stats.not_stored += 1
            return
        frame = event
        item = ingest.classify(frame, raw, conn.peer, now, self.registry)
        if frame.deviations:
            item.reason = "; ".join(f"{d.code}: {d.detail}" for d in frame.deviations)[:2000]
        if item.status in ("unknown_mn", "bad_pw"):
            self._stranger(conn, item, len(raw))
            return
        assert item.point_id is not None
        if not conn.proven:  # a registered, active device with its PW
            self._prove(conn)
        if item.status == "rejected":
            self.stats.rejected += 1
            self._enqueue(item, [], conn=conn)
            return
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

    def _stranger(self, conn: _Connection, item: Inbound, nbytes: int) -> None:
        """A frame of an unknown MN (kept for adoption) or of a registered MN with a wrong PW
        (counted on the point): passed to the store within the address's allowance, kept as a raw
        frame within the per-connection caps (the store adds the per-MN caps); never acknowledged."""
        cfg, status = self.config, item.status
        if status == "bad_pw":
            self.stats.bad_pw += 1
        else:
            self.stats.unknown += 1
        self._refused_bytes(conn, status, nbytes)
        if not conn.proven:
            conn.refused_frames += 1
        tally = self._tally(conn)
        passed = tally.strangers < cfg.strangers_per_peer
        if passed:
            tally.strangers += 1
            cap = cfg.bad_pw_raw_per_connection if status == "bad_pw" else cfg.unknown_raw_per_connection
            item.keep_raw = conn.kept[status] < cap
            conn.kept[status] += int(item.keep_raw)
            self._enqueue(item, [], conn=conn)
        tally.add(status, item.reason, conn.peer, item.mn, stored=passed and item.keep_raw)
        if not (passed and item.keep_raw):
            self.stats.not_stored += 1

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

    def _deliver(self, done: list[tuple[Inbound, _Connection | None, list[bytes]]]) -> None:
        """On the loop, after a commit: send the replies of the committed frames."""
        for item, conn, acks in done:
            if item.status == "stored":
                self.stats.stored += 1
            for a in acks:
                assert conn is not None
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
            batch: list[tuple[Inbound, _Connection | None, list[bytes]]] = []
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

    def _commit(self, batch: list[tuple[Inbound, _Connection | None, list[bytes]]]) -> None:
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
        cfg = self.config
        with self._write_lock(), self.engine.begin() as conn:
            ingest.write_batch(conn, items, keep_raw=cfg.keep_raw, unknown_raw_per_mn=cfg.unknown_raw_per_mn,
                               bad_pw_raw_per_mn=cfg.bad_pw_raw_per_mn)  # fmt: skip
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
                    last_retention = now
                    with Session(self.engine) as s:
                        from greenpark.services.pollution.sources import settings

                        try:
                            ingest.prune_raw_frames(s, float(settings(s)["raw_retention_days"]))
                        except ValueError as exc:
                            log.warning("raw frames not pruned: %s", exc)
                        s.commit()
            except Exception:
                log.exception("housekeeping failed; will retry")
        with contextlib.suppress(Exception):
            self.run_housekeeping()

    def _webhooks(self) -> None:
        """Deliver queued alarm webhooks (worker 0), after their alarms' commits and outside every
        transaction: a listener that never answers delays only other webhooks."""
        from greenpark.services.notifications import webhooks

        assert self.engine is not None
        while not self._stop.is_set():
            self._webhooks_due.wait(self.config.webhook_poll_s)
            self._webhooks_due.clear()
            if self._stop.is_set():
                break
            try:
                counts = webhooks.deliver_due(self.engine, timeout_s=self.config.webhook_timeout_s)
            except Exception:
                log.exception("webhook delivery failed; will retry")
                continue
            self.stats.webhooks_delivered += counts["delivered"]
            self.stats.webhooks_retrying += counts["retrying"]
            self.stats.webhooks_failed += counts["failed"]

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
            from greenpark.services.pollution import alarms

            by_point: dict[int, set[datetime]] = defaultdict(set)
            for point_id, hour in touched:
                by_point[point_id].add(hour)
            # each worker judges the data it received; worker 0 also the device rules (offline, missing)
            with Session(self.engine) as s:
                counts = alarms.evaluate(
                    s,
                    points=set(by_point),
                    hours=by_point,
                    device_rules=self.config.worker == 0,
                    listening_since=self.listening_since,
                )
                s.commit()
            if counts["opened"]:
                self._webhooks_due.set()  # their notifications are committed: deliver them now

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

"""The MQTT subscriber: readings from the park's broker, acknowledged only once committed.

Topic scheme: ``greenpark/<park code>/<gateway code>/readings``, payload as in
:mod:`greenpark.services.energy.readings`. The subscriber connects with a client id of its own
(``greenpark-<park>-<8 hex of the database URL's hash>``, or the one given: two installs must not
share one) and a persistent session (clean_session false), and subscribes at QoS 1, so the broker
keeps what arrives while greenpark is down. Messages are queued by the network thread and written by
one writer thread in batches (up to :data:`BATCH_MESSAGES` messages or :data:`BATCH_WAIT_S`), one
transaction a batch; each message is acknowledged (PUBACK, paho-mqtt's manual_ack) only after its
batch is committed. When the database cannot be written the batch is tried again until it can:
nothing is acknowledged that is not stored. A message that cannot be read (not JSON, unknown
gateway, a reading out of range) is acknowledged and counted with its reason: it would never become
readable. A bad reading is refused by itself; the good readings of its message are stored.

Who may publish on a gateway's topic is the broker's business: give each gateway its own broker user
and an ACL, and let the broker keep enough messages for a subscriber that is down (docs/energy.md:
Mosquitto's ``max_queued_messages``, which drops beyond 1 000 by default).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from greenpark.services.energy.readings import (
    PayloadError,
    ReadingIn,
    parse_payload,
    store_readings,
    touch_gateway,
)
from greenpark.store import models as m
from greenpark.store.db import session_scope

log = logging.getLogger(__name__)
TOPIC_ROOT = "greenpark"
BATCH_MESSAGES = 200
BATCH_WAIT_S = 0.05
RETRY_S = 2.0


def readings_topic(park_code: str, gateway_code: str) -> str:
    return f"{TOPIC_ROOT}/{park_code}/{gateway_code}/readings"


def default_client_id(park_code: str, db_url: str) -> str:
    """The subscriber's client id: the park and a short hash of the database it writes to, so that
    two installs (or a test and a server) never take each other's session."""
    return f"greenpark-{park_code}-{hashlib.sha256(db_url.encode()).hexdigest()[:8]}"[:64]


@dataclass
class Incoming:
    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 0


@dataclass
class MqttSubscriber:
    """Subscribe to one park's gateway topics on ``host:port`` and store what arrives in ``db_url``."""

    db_url: str
    park_code: str
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    _client: mqtt.Client | None = None
    _connected: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _queue: queue.Queue[Incoming] = field(default_factory=queue.Queue)
    _writer: threading.Thread | None = None

    def start(self, timeout_s: float = 5.0) -> None:
        """Connect, subscribe, and run the network loop and the writer in background threads (raises
        OSError when the broker does not answer)."""
        cid = self.client_id or default_client_id(self.park_code, self.db_url)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False, manual_ack=True)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        self._stop.clear()
        self._writer = threading.Thread(
            target=self._write_loop, name=f"mqtt-writer-{self.park_code}", daemon=True
        )
        self._writer.start()
        c.connect(self.host, self.port, keepalive=30)
        self._client = c
        c.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise OSError(f"MQTT broker {self.host}:{self.port} did not accept the subscription")

    def stop(self) -> None:
        """Stop taking messages, write what was taken, then disconnect. The subscription stays with
        the broker (persistent session): what arrives meanwhile, and any message taken but not yet
        acknowledged, is delivered at the next start."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(30)
            self._writer = None
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._connected.clear()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"broker refused the connection: {reason}"
            return
        client.subscribe(readings_topic(self.park_code, "+"), qos=1)
        self._connected.set()

    def _on_message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if not self._stop.is_set():  # when stopping, left unacknowledged: the broker sends it again
            self._queue.put(Incoming(msg.topic, bytes(msg.payload), msg.mid, msg.qos))

    def _write_loop(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            until = time.monotonic() + BATCH_WAIT_S
            while len(batch) < BATCH_MESSAGES:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            self._write(batch)
            client = self._client
            if client is not None:
                for msg in batch:
                    if msg.qos:
                        client.ack(msg.mid, msg.qos)

    def _write(self, batch: list[Incoming]) -> None:
        """Store a batch; returns once every message of it is stored or refused. The database away
        (an operational error): kept and tried again, nothing acknowledged meanwhile. Any other error
        of a batch: its messages are tried one by one; a single message that still fails is refused
        (logged, counted) and acknowledged — it would fail for ever, and hold every message after it."""
        while True:
            try:
                self.handle_batch(batch)
                return
            except (OperationalError, OSError) as exc:  # the database is away: keep them, try again
                self.counts["retries"] += 1
                self.last_error = f"{exc.__class__.__name__}: {exc}"[:400]
                log.warning("MQTT batch of %d not stored yet: %s", len(batch), self.last_error)
                if self._stop.is_set() and self._client is None:
                    return
                time.sleep(RETRY_S)
            except SQLAlchemyError as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"[:400]
                if len(batch) > 1:
                    for msg in batch:
                        self._write([msg])
                    return
                self.counts["failed"] += 1
                log.error("MQTT message on %s refused: %s", batch[0].topic, self.last_error)
                return

    def handle(self, topic: str, payload: bytes) -> dict[str, Any]:
        """Store one message's readings and commit; returns what became of them."""
        return self.handle_batch([Incoming(topic, payload)])[0]

    def handle_batch(self, batch: list[Incoming]) -> list[dict[str, Any]]:
        """Store a batch of messages in one transaction; one result per message. Raises only when the
        database cannot be written (then nothing of the batch is acknowledged)."""
        results: list[dict[str, Any]] = [{} for _ in batch]
        by_gateway: dict[str, list[tuple[int, list[ReadingIn], list[dict[str, Any]]]]] = defaultdict(list)
        for i, msg in enumerate(batch):
            self.counts["messages"] += 1
            parts = msg.topic.split("/")
            if (
                len(parts) != 4
                or parts[0] != TOPIC_ROOT
                or parts[1] != self.park_code
                or parts[3] != "readings"
            ):
                results[i] = {"rejected": f"topic {msg.topic!r} is not greenpark/<park>/<gateway>/readings"}
                continue
            try:
                good, bad = parse_payload(msg.payload)
            except PayloadError as exc:
                results[i] = {"rejected": str(exc)}
                self.last_error = str(exc)
                continue
            by_gateway[parts[2]].append((i, good, bad))
        if by_gateway:
            with session_scope(self.db_url) as s:
                gws = {
                    g.code: g
                    for g in s.scalars(
                        select(m.EnergyGateway)
                        .join(m.Park, m.Park.id == m.EnergyGateway.park_id)
                        .where(m.Park.code == self.park_code, m.EnergyGateway.code.in_(list(by_gateway)))
                    )
                }
                for code, items in by_gateway.items():
                    gw = gws.get(code)
                    if gw is None or not gw.active:
                        for i, _good, _bad in items:
                            results[i] = {"rejected": f"no active gateway {code!r} in park {self.park_code}"}
                        continue
                    if len(items) == 1:
                        i, good, bad = items[0]
                        out = store_readings(s, gw.park_id, good, "mqtt", enterprise_id=gw.enterprise_id,
                                             gateway_id=gw.id, refused=bad)  # fmt: skip
                        results[i] = out.as_dict()
                    else:  # one gateway's messages of the batch in one call (their results as one)
                        merged = [r for _i, good, _bad in items for r in good]
                        bad_all = [b for _i, _good, bad in items for b in bad]
                        out = store_readings(s, gw.park_id, merged, "mqtt", enterprise_id=gw.enterprise_id,
                                             gateway_id=gw.id, refused=bad_all)  # fmt: skip
                        results[items[0][0]] = out.as_dict()
                        for i, _good, _bad in items[1:]:
                            results[i] = {
                                "stored": 0,
                                "repeated": 0,
                                "refused": [],
                                "merged_into": items[0][0],
                            }
                    touch_gateway(s, gw.id)
        for r in results:
            if "rejected" in r:
                self.counts["rejected"] += 1
            else:
                self.counts["stored"] += r["stored"]
                self.counts["repeated"] += r["repeated"]
                self.counts["refused"] += len(r["refused"])
        return results

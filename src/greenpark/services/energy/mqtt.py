"""The MQTT subscriber: readings from the park's broker, acknowledged only once committed.

Topic scheme: ``greenpark/<park code>/<gateway code>/readings``, payload as in
:mod:`greenpark.services.energy.readings`. The subscriber connects with a fixed client id and a
persistent session (clean_session false) and subscribes at QoS 1, so the broker keeps what arrives
while greenpark is down; it acknowledges a message (PUBACK) only after the message's readings are
committed (paho-mqtt's manual_ack), so a crash between receipt and commit makes the broker send it
again — and a repeat is stored once. A message the subscriber cannot read is acknowledged (it would
never become readable) and counted with its reason.

Who may publish to a gateway's topic is the broker's business: give each gateway its own broker
user and an ACL such as Mosquitto's ``pattern write greenpark/+/%u/readings`` (docs/energy.md).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from greenpark.services.energy.readings import PayloadError, parse_payload, store_readings, touch_gateway
from greenpark.store import models as m
from greenpark.store.db import session_scope

log = logging.getLogger(__name__)
TOPIC_ROOT = "greenpark"


def readings_topic(park_code: str, gateway_code: str) -> str:
    return f"{TOPIC_ROOT}/{park_code}/{gateway_code}/readings"


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

    def start(self, timeout_s: float = 5.0) -> None:
        """Connect, subscribe and run the network loop in a background thread (raises OSError when
        the broker does not answer)."""
        cid = self.client_id or f"greenpark-energy-{self.park_code}"
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False, manual_ack=True)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.connect(self.host, self.port, keepalive=30)
        self._client = c
        c.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise OSError(f"MQTT broker {self.host}:{self.port} did not accept the subscription")

    def stop(self) -> None:
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

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Exception as exc:  # the database is away: do not acknowledge; the broker resends
            self.counts["not_stored"] += 1
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.warning("MQTT message on %s not stored: %s", msg.topic, self.last_error)
            return
        client.ack(msg.mid, msg.qos)

    def handle(self, topic: str, payload: bytes) -> dict[str, Any]:
        """Store one message's readings and commit; returns what became of them. Raises only when
        the database cannot be written (the message is then not acknowledged)."""
        parts = topic.split("/")
        self.counts["messages"] += 1
        if len(parts) != 4 or parts[0] != TOPIC_ROOT or parts[1] != self.park_code or parts[3] != "readings":
            self.counts["rejected"] += 1
            return {"rejected": f"topic {topic!r} is not greenpark/<park>/<gateway>/readings"}
        try:
            good, bad = parse_payload(payload)
        except PayloadError as exc:
            self.counts["rejected"] += 1
            self.last_error = str(exc)
            return {"rejected": str(exc)}
        with session_scope(self.db_url) as s:
            gw = s.scalars(
                select(m.EnergyGateway)
                .join(m.Park, m.Park.id == m.EnergyGateway.park_id)
                .where(m.Park.code == self.park_code, m.EnergyGateway.code == parts[2])
            ).first()
            if gw is None or not gw.active:
                self.counts["rejected"] += 1
                return {"rejected": f"no active gateway {parts[2]!r} in park {self.park_code}"}
            out = store_readings(s, gw.park_id, good, "mqtt", enterprise_id=gw.enterprise_id, refused=bad)
            touch_gateway(s, gw.id)
        self.counts["stored"] += out.stored
        self.counts["repeated"] += out.repeated
        self.counts["refused"] += len(out.refused)
        return out.as_dict()

"""Readings in: one payload shape for MQTT and HTTP, validated at the edge, stored once.

Payload (JSON, UTF-8), the same on MQTT topic ``greenpark/<park>/<gateway>/readings`` and in
``POST /api/energy/readings`` (header ``Authorization: Bearer <gateway token>``)::

    {"readings": [{"meter": "E01-EL-01", "t": "2026-03-01T08:15:00+08:00", "v": 123456.7}, ...]}

``t`` is ISO 8601 with its zone (or epoch seconds); ``v`` the counter value (counter meters) or
the period's quantity labelled with the period's start (interval meters), in the meter's unit
before its multiplier. At most :data:`MAX_READINGS` per message. A reading of a meter and time that
is stored already is a repeat (counted, not stored twice): a gateway may resend after an outage.
Each bad reading is named with its reason; the good ones of the same message are stored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from greenpark.store import models as m
from greenpark.store.bulk import insert_many

MAX_READINGS = 5000
MAX_PAYLOAD_BYTES = 1_000_000
#: A reading dated further ahead than this is refused (a logger with a wrong clock).
MAX_FUTURE = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1)
MAX_VALUE = 1e15


class PayloadError(ValueError):
    """A message that cannot be read at all (the reason is for the sender)."""


@dataclass(frozen=True)
class ReadingIn:
    meter: str
    at_utc: datetime  # naive UTC
    value: float


@dataclass
class Stored:
    """What became of one message: stored, repeats of stored readings, refused with reasons."""

    stored: int = 0
    repeated: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "repeated": self.repeated, "refused": self.refused}


def _time(raw: object) -> datetime:
    if isinstance(raw, bool):
        raise ValueError("time is not a time")
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not 946684800 <= raw <= 32503680000:
            raise ValueError("epoch seconds out of range")
        return datetime.fromtimestamp(raw, UTC).replace(tzinfo=None)
    if not isinstance(raw, str) or len(raw) > 40:
        raise ValueError("time: ISO 8601 with zone, or epoch seconds")
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"time {raw!r} is not ISO 8601") from None
    if t.tzinfo is None:
        raise ValueError(f"time {raw!r} has no zone (write +08:00 or Z)")
    return t.astimezone(UTC).replace(tzinfo=None)


def parse_payload(body: bytes | str) -> tuple[list[ReadingIn], list[dict[str, Any]]]:
    """The readings of one message and the refused ones (index, reason). A message that is not
    JSON of the documented shape raises :class:`PayloadError`."""
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"message larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("message is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("readings"), list):
        raise PayloadError('message must be {"readings": [{"meter", "t", "v"}, …]}')
    items = doc["readings"]
    if len(items) > MAX_READINGS:
        raise PayloadError(f"more than {MAX_READINGS} readings in one message")
    good: list[ReadingIn] = []
    bad: list[dict[str, Any]] = []
    for i, it in enumerate(items):
        try:
            if not isinstance(it, dict):
                raise ValueError("a reading is an object with meter, t and v")
            code = it.get("meter")
            if not isinstance(code, str) or not 0 < len(code) <= 64 or not code.isprintable():
                raise ValueError("meter: the meter's code (1–64 printable characters)")
            v = it.get("v")
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not math.isfinite(v)
                or abs(v) > MAX_VALUE
            ):
                raise ValueError("v: a finite number of at most 10^15")
            good.append(ReadingIn(code, _time(it.get("t")), float(v)))
        except ValueError as exc:
            bad.append({"index": i, "reason": str(exc)})
    return good, bad


def store_readings(
    session: Session,
    park_id: int,
    readings: list[ReadingIn],
    source: str,
    *,
    enterprise_id: int | None = None,
    refused: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> Stored:
    """Store readings of the park's meters (of ``enterprise_id`` only, for a gateway). The caller
    commits; a reading is acknowledged to its sender only after that commit."""
    now = now or m.utcnow()
    out = Stored(refused=list(refused or []))
    codes = {r.meter for r in readings}
    q = select(m.EnergyMeter.code, m.EnergyMeter.id, m.EnergyMeter.enterprise_id, m.EnergyMeter.kind).where(
        m.EnergyMeter.park_id == park_id, m.EnergyMeter.code.in_(codes)
    )
    meters = {c: (i, e, k) for c, i, e, k in session.execute(q)} if codes else {}
    rows: dict[tuple[int, datetime], float] = {}
    for idx, r in enumerate(readings):
        meter = meters.get(r.meter)
        reason = None
        if meter is None or (enterprise_id is not None and meter[1] != enterprise_id):
            reason = (
                f"meter {r.meter} is not a meter of this gateway's enterprise"
                if enterprise_id
                else f"no meter {r.meter} in this park"
            )
        elif meter is not None and meter[2] == "virtual":
            reason = f"meter {r.meter} is virtual: it is computed, not read"
        elif r.at_utc > now + MAX_FUTURE:
            reason = "time is in the future"
        elif r.at_utc < EARLIEST:
            reason = "time before 2000"
        if reason or meter is None:
            out.refused.append({"index": idx, "meter": r.meter, "reason": reason})
            continue
        key = (meter[0], r.at_utc.replace(microsecond=0))
        if key in rows:
            out.repeated += 1
            continue
        rows[key] = r.value
    if rows:
        have = set(
            session.execute(
                select(m.MeterReading.meter_id, m.MeterReading.at_utc).where(
                    tuple_(m.MeterReading.meter_id, m.MeterReading.at_utc).in_(list(rows))
                )
            )
        )
        new = [(mid, at, v, source, now) for (mid, at), v in rows.items() if (mid, at) not in have]
        out.repeated += len(rows) - len(new)
        columns = ("meter_id", "at_utc", "value", "source", "received_utc")
        insert_many(session.connection(), m.MeterReading.__table__, columns, new, ignore_conflicts=True)  # type: ignore[arg-type]
        out.stored = len(new)
    return out


def touch_gateway(session: Session, gateway_id: int, now: datetime | None = None) -> None:
    session.execute(
        update(m.EnergyGateway)
        .where(m.EnergyGateway.id == gateway_id)
        .values(last_seen_utc=now or m.utcnow())
    )

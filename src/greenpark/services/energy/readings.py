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
#: Parameters bound in one query at most (PostgreSQL's protocol allows 65 535; SQLite builds vary).
CHUNK = 10_000


class PayloadError(ValueError):
    """A message that cannot be read at all (the reason is for the sender)."""


@dataclass(frozen=True)
class ReadingIn:
    meter: str
    at_utc: datetime  # naive UTC
    value: float
    index: int = -1  # its place in the message (refusals name it); -1: its place in the list


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
    try:
        return t.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"time {raw!r} is out of range") from None


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
                or not -MAX_VALUE <= v <= MAX_VALUE
                or v != v
            ):
                raise ValueError("v: a finite number of at most 10^15")
            if v < 0:
                raise ValueError("v: a meter's reading is not negative")
            good.append(ReadingIn(code, _time(it.get("t")), float(v), i))
        except (ValueError, OverflowError, TypeError) as exc:  # each bad reading by itself, never the message
            bad.append(
                {
                    "index": i,
                    "reason": str(exc) if isinstance(exc, ValueError) else "a number or time out of range",
                }
            )
    return good, bad


def store_readings(
    session: Session,
    park_id: int,
    readings: list[ReadingIn],
    source: str,
    *,
    enterprise_id: int | None = None,
    gateway_id: int | None = None,
    refused: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> Stored:
    """Store readings of the park's meters (for a gateway: only its enterprise's meters, and of those
    bound to a gateway only its own; never a retired or virtual meter). A reading at a time stored
    already is a repeat when its value is the same, else refused as a conflict (never overwritten).
    The caller commits; a reading is acknowledged to its sender only after that commit."""
    now = now or m.utcnow()
    out = Stored(refused=list(refused or []))
    codes = {r.meter for r in readings}
    em = m.EnergyMeter
    q = select(em.code, em.id, em.enterprise_id, em.kind, em.gateway_id, em.active).where(
        em.park_id == park_id
    )
    meters: dict[str, tuple[int, int, str, int | None, bool]] = {}
    code_list = sorted(codes)
    for i in range(0, len(code_list), CHUNK):  # bound parameters: PostgreSQL takes at most 65 535
        part = q.where(em.code.in_(code_list[i : i + CHUNK]))
        meters.update({c: (mid, e, k, g, a) for c, mid, e, k, g, a in session.execute(part)})
    rows: dict[tuple[int, datetime], float] = {}
    where: dict[tuple[int, datetime], int] = {}
    for pos, r in enumerate(readings):
        idx = r.index if r.index >= 0 else pos
        meter = meters.get(r.meter)
        reason = None
        if meter is None or (enterprise_id is not None and meter[1] != enterprise_id):
            reason = (
                f"meter {r.meter} is not a meter of this gateway's enterprise"
                if enterprise_id
                else f"no meter {r.meter} in this park"
            )
        elif gateway_id is not None and meter[3] is not None and meter[3] != gateway_id:
            reason = f"meter {r.meter} reports through another gateway"
        elif not meter[4]:
            reason = f"meter {r.meter} is retired (inactive)"
        elif meter[2] == "virtual":
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
            if rows[key] == r.value:
                out.repeated += 1
            else:
                out.refused.append({"index": idx, "meter": r.meter,
                                    "reason": f"another value ({rows[key]:g}) for this meter and second is in the message"})  # fmt: skip
            continue
        rows[key] = r.value
        where[key] = idx
    if rows:
        have: dict[tuple[int, datetime], float] = {}
        keys = list(rows)
        for i in range(0, len(keys), CHUNK // 2):  # two parameters a pair
            have.update(
                {
                    (mid, at): v
                    for mid, at, v in session.execute(
                        select(m.MeterReading.meter_id, m.MeterReading.at_utc, m.MeterReading.value).where(
                            tuple_(m.MeterReading.meter_id, m.MeterReading.at_utc).in_(
                                keys[i : i + CHUNK // 2]
                            )
                        )
                    )
                }
            )
        code_of = {v[0]: c for c, v in meters.items()}
        for key, stored in have.items():
            if stored == rows[key]:
                out.repeated += 1
            else:  # a different value at a stored time: said, never dropped silently or overwritten
                out.refused.append({"index": where[key], "meter": code_of.get(key[0], ""),
                                    "reason": f"a different value ({stored:g}) is stored for this meter and time"})  # fmt: skip
        new = [(mid, at, v, source, now) for (mid, at), v in rows.items() if (mid, at) not in have]
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

"""From HJ 212 frames to stored data: the device registry, the durable batch write (raw frames,
readings stored once per point/kind/time/code, unknown devices, wrong-PW counts on the point),
replay of an adopted device's frames, hourly and daily roll-ups, last-seen and retention. Used by
the ingestion server (one writer thread) and by tests; all database work goes through SQLAlchemy
so SQLite and PostgreSQL behave the same.

What a stranger can make us store is bounded here: raw frames of an unknown MN are kept up to
:data:`UNKNOWN_RAW_PER_MN`, frames that name a registered MN with a wrong PW up to
:data:`BAD_PW_RAW_PER_MN` (they are counted on the point, never listed for adoption); the server
adds per-connection caps and writes one summary row for what it did not store row by row."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from greenpark.hj212.codec import Frame, HJ212Error, parse
from greenpark.hj212.codes import upgrade_codes
from greenpark.hj212.data import KIND_BY_CN, flat_values
from greenpark.store import models as m
from greenpark.store.bulk import insert_many, update_many, upsert_many

BEIJING = timedelta(hours=8)
ROLLUP_KINDS = ("hour", "min", "rtd")  # preference order for an hourly statistic
#: Raw frames kept per unregistered MN (for adoption: about a day of minute data); later frames
#: of that MN are only counted on its unknown-device row until retention makes room again.
UNKNOWN_RAW_PER_MN = 2000
#: Raw frames kept per registered MN that arrived with a wrong PW (evidence for the alarm).
BAD_PW_RAW_PER_MN = 20
#: The predicate of the partial index ``ix_raw_frame_unknown_mn``, written as literals so that
#: SQLite (and a generic PostgreSQL plan) can use the index; with bound parameters they scan.
STRANGER_FRAMES = text("raw_frame.status IN ('unknown_mn', 'bad_pw')")
#: The shortest raw-frame retention :func:`prune_raw_frames` accepts [d].
MIN_RAW_RETENTION_DAYS = 1.0


def beijing_to_utc(t: datetime) -> datetime:
    return t - BEIJING


def hour_start(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def beijing_day_start_utc(t_utc: datetime) -> datetime:
    """Start (UTC) of the Beijing day containing ``t_utc``."""
    local = t_utc + BEIJING
    return datetime(local.year, local.month, local.day) - BEIJING


@dataclass(frozen=True)
class Device:
    point_id: int
    pw: str
    active: bool


def load_registry(session: Session) -> dict[str, Device]:
    """MN -> registered device."""
    return {p.mn: Device(p.id, p.pw, p.active) for p in session.scalars(select(m.SourcePoint))}


@dataclass(slots=True)
class Inbound:
    """One received frame (or rejected chunk, or a connection's summary) on its way to the store.
    ``keep_raw`` False: count it (unknown device, wrong-PW counter) without a raw-frame row."""

    raw: bytes
    peer: str
    received_utc: datetime
    status: str  # stored | unknown_mn | bad_pw | rejected | other | summary
    mn: str = ""
    cn: str = ""
    qn: str = ""
    pw: str = ""
    reason: str = ""
    point_id: int | None = None
    rows: list[Reading] = field(default_factory=list)
    keep_raw: bool = True


#: Columns of a reading row, in the order :func:`reading_rows` gives them.
READING_COLUMNS = (
    "point_id",
    "kind",
    "time_utc",
    "code",
    "value",
    "min_value",
    "max_value",
    "cou",
    "zs_value",
    "flag",
)
Reading = tuple[
    int, str, datetime, str, float | None, float | None, float | None, float | None, float | None, str
]


def reading_rows(frame: Frame, point_id: int) -> list[Reading]:
    """Rows of ``source_reading`` (columns :data:`READING_COLUMNS`) for an upload; DataTime is
    Beijing time and becomes UTC; 2005 pollutant codes become 2017 codes.

    Raises
    ------
    HJ212Error  when DataTime or a value is malformed (nothing of the frame is stored).
    """
    kind = KIND_BY_CN.get(frame.cn or "")
    if kind is None:
        return []
    if frame.edition == "2005":
        frame, _ = upgrade_codes(frame)
    return [
        (point_id, kind, t - BEIJING, code[:16], value, lo, hi, cou, zs, flag)
        for t, code, value, lo, hi, cou, zs, flag in flat_values(frame)
    ]


def classify(
    frame: Frame, raw: bytes, peer: str, received_utc: datetime, registry: dict[str, Device]
) -> Inbound:
    """Decide what becomes of a parsed frame: stored (registered MN, right PW), unknown_mn, bad_pw
    (a registered MN with a wrong PW: counted on the point and alarmed, never an adoption
    candidate), rejected (bad values), or other (a frame that carries no readings)."""
    mn, cn = frame.mn or "", frame.cn or ""
    item = Inbound(raw, peer, received_utc, "other", mn=mn, cn=cn, qn=frame.qn or "", pw=frame.pw or "")
    dev = registry.get(mn)
    if dev is None or not dev.active:
        item.status, item.reason = "unknown_mn", "MN not registered" if dev is None else "device disabled"
        return item
    if frame.pw != dev.pw:
        item.status, item.reason = "bad_pw", "PW does not match the registered one"
        return item
    item.point_id = dev.point_id
    try:
        item.rows = reading_rows(frame, dev.point_id)
    except HJ212Error as exc:
        item.status, item.reason = "rejected", exc.reason
        return item
    item.status = "stored" if item.rows else "other"
    return item


RAW_COLUMNS = ("received_utc", "peer", "mn", "cn", "qn", "status", "reason", "raw")


def write_batch(conn: Connection, items: list[Inbound], keep_raw: bool = True,
                unknown_raw_per_mn: int = UNKNOWN_RAW_PER_MN, bad_pw_raw_per_mn: int = BAD_PW_RAW_PER_MN) -> None:  # fmt: skip
    """Store a batch in the caller's transaction: raw frames, readings (a repeat of the same point,
    kind, time and code is ignored, so resent uploads are stored once), unknown devices and the
    wrong-PW counters of registered points. Raw frames of an unknown MN are kept up to
    ``unknown_raw_per_mn`` per MN, wrong-PW frames up to ``bad_pw_raw_per_mn`` per MN; the rest
    are counted only. The caller commits; only then may the frames be acknowledged."""
    strangers = [i for i in items if i.status in ("unknown_mn", "bad_pw") and i.mn]
    for i in strangers:
        i.mn = i.mn[:32]  # as stored (an overlong MN must neither escape its cap nor fail the batch)
    if keep_raw and items:
        room = _raw_room(conn, strangers, unknown_raw_per_mn, bad_pw_raw_per_mn)
        rows = []
        for i in items:
            if not i.keep_raw:
                continue
            if i.status in ("unknown_mn", "bad_pw") and i.mn:
                if room[(i.mn, i.status)] <= 0:
                    continue
                room[(i.mn, i.status)] -= 1
            rows.append((i.received_utc, i.peer[:64], i.mn[:32], i.cn[:8], i.qn[:20], i.status, i.reason,
                         raw_text(i.raw)))  # fmt: skip
        insert_many(conn, m.RawFrame.__table__, RAW_COLUMNS, rows)  # type: ignore[arg-type]
    readings = [r for i in items if i.status == "stored" for r in i.rows]
    insert_many(conn, m.SourceReading.__table__, READING_COLUMNS, readings, ignore_conflicts=True)  # type: ignore[arg-type]
    last: dict[tuple[str, str], Inbound] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for i in strangers:
        last[(i.mn, i.status)] = i
        counts[(i.mn, i.status)] += 1
    for (mn, status), i in last.items():
        if status == "bad_pw":
            _count_wrong_pw(conn, i, counts[(mn, status)])
        else:
            _note_unknown(conn, i, counts[(mn, status)])


def _raw_room(conn: Connection, strangers: list[Inbound], unknown_cap: int, bad_pw_cap: int) -> dict[tuple[str, str], int]:  # fmt: skip
    """How many more raw frames each (MN, unknown_mn | bad_pw) of the batch may keep (one query on
    the partial index of such frames)."""
    keys = {(i.mn, i.status) for i in strangers if i.keep_raw}
    room = defaultdict(int, {k: unknown_cap if k[1] == "unknown_mn" else bad_pw_cap for k in keys})
    if keys:
        t = m.RawFrame
        for mn, status, n in conn.execute(
            select(t.mn, t.status, func.count())
            .where(t.mn.in_(sorted({mn for mn, _ in keys})), STRANGER_FRAMES)
            .group_by(t.mn, t.status)
        ):
            if (mn, status) in room:
                room[(mn, status)] -= n
    return room


def _note_unknown(conn: Connection, i: Inbound, frames: int) -> None:
    """Create or update the unknown-device row of an unregistered (or disabled) MN."""
    t = m.UnknownDevice
    row = conn.execute(select(t.id, t.frames).where(t.mn == i.mn)).first()
    if row is None:
        conn.execute(
            insert(t).values(
                mn=i.mn[:32], reason=i.status, pw_seen=i.pw[:16], first_seen_utc=i.received_utc,
                last_seen_utc=i.received_utc, frames=frames, last_peer=i.peer[:64], last_cn=i.cn[:8],
                status="pending",
            )
        )  # fmt: skip
    else:
        conn.execute(
            update(t)
            .where(t.id == row.id)
            .values(reason=i.status, pw_seen=i.pw[:16], last_seen_utc=i.received_utc,
                    frames=row.frames + frames, last_peer=i.peer[:64], last_cn=i.cn[:8])
        )  # fmt: skip


def _count_wrong_pw(conn: Connection, i: Inbound, frames: int) -> None:
    """Count frames that named a registered MN with a wrong PW on the point (the ``wrong_password``
    alarm reads these); the PW they used is not kept anywhere."""
    t = m.SourcePoint
    conn.execute(
        update(t)
        .where(t.mn == i.mn)
        .values(
            pw_failures=t.pw_failures + frames, pw_failure_utc=i.received_utc, pw_failure_peer=i.peer[:64]
        )
    )


def raw_text(raw: bytes) -> str:
    """Bytes as storable text: UTF-8 as is, anything else (and NUL, which PostgreSQL text refuses)
    as backslash escapes, so the audit log shows exactly what arrived."""
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def touched_hours(items: Iterable[Inbound]) -> set[tuple[int, datetime]]:
    """(point, hour start UTC) whose roll-ups a batch changes (a daily upload: its day start)."""
    out: set[tuple[int, datetime]] = set()
    last: tuple[int, datetime] | None = None
    for i in items:
        for r in i.rows:
            key = (r[0], r[2])
            if key == last:  # the other values of the same group
                continue
            last = key
            if r[1] in ROLLUP_KINDS:
                out.add((r[0], r[2].replace(minute=0, second=0, microsecond=0)))
            elif r[1] == "day":
                out.add(key)
    return out


def flush_last_seen(conn: Connection, seen: dict[int, tuple[datetime, str]]) -> None:
    """Record when each device was last heard from (one executemany)."""
    update_many(conn, m.SourcePoint.__table__, "id", ("last_seen_utc", "last_peer"),  # type: ignore[arg-type]
                [(when, peer[:64], point_id) for point_id, (when, peer) in seen.items()])  # fmt: skip


# Roll-ups


def _stats(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    return math.fsum(values) / len(values), min(values), max(values)


ROLLUP_COLUMNS = ("point_id", "period", "start_utc", "code", "avg", "min_value", "max_value", "zs_avg", "n",
                  "flags", "origin")  # fmt: skip
Rollup = tuple[int, str, datetime, str, float | None, float | None, float | None, float | None, int, str, str]


def rollup(session: Session, touched: set[tuple[int, datetime]]) -> int:
    """Recompute the hourly roll-ups of the touched (point, hour) and the daily roll-ups of their
    Beijing days. An hour uses the device's own hourly upload (2061) when there is one, else the
    mean of its minute data, else of its real-time data; a day uses the daily upload (2031), else
    the mean of its hours. One query per distinct hour and day, one upsert for all (the server
    calls this every few seconds for everything that arrived). Returns the rows written."""
    by_hour: dict[datetime, set[int]] = defaultdict(set)
    for point_id, hour in touched:
        by_hour[hour].add(point_id)
    rows: list[Rollup] = []
    days: dict[datetime, set[int]] = defaultdict(set)
    for hour, pts in by_hour.items():
        cells: dict[tuple[int, str], dict[str, list[tuple[float | None, float | None, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for pid, kind, code, value, zs, flag in session.execute(
            select(m.SourceReading.point_id, m.SourceReading.kind, m.SourceReading.code, m.SourceReading.value,
                   m.SourceReading.zs_value, m.SourceReading.flag)
            .where(m.SourceReading.point_id.in_(pts), m.SourceReading.kind.in_(ROLLUP_KINDS),
                   m.SourceReading.time_utc >= hour, m.SourceReading.time_utc < hour + timedelta(hours=1))
        ):  # fmt: skip
            cells[(pid, code)][kind].append((value, zs, flag))
        for (pid, code), kinds in cells.items():
            kind = next(k for k in ROLLUP_KINDS if kinds.get(k))
            vals = kinds[kind]
            avg, lo, hi = _stats([v for v, _z, _f in vals if v is not None])
            zs_vals = [z for _v, z, _f in vals if z is not None]
            flags = "".join(sorted({f for _v, _z, f in vals if f}))[:16]
            rows.append((pid, "hour", hour, code, avg, lo, hi, math.fsum(zs_vals) / len(zs_vals) if zs_vals else None,
                         len(vals), flags, "device" if kind == "hour" else "computed"))  # fmt: skip
        day = beijing_day_start_utc(hour)
        days[day] |= pts
    _upsert_rollups(session, rows)
    written = len(rows)
    for day, pts in days.items():
        day_rows = _day_rollups(session, day, pts)
        _upsert_rollups(session, day_rows)
        written += len(day_rows)
    return written


def _day_rollups(session: Session, day: datetime, pts: set[int]) -> list[Rollup]:
    end = day + timedelta(days=1)
    out: list[Rollup] = []
    done: set[tuple[int, str]] = set()
    for pid, code, value, lo, hi, zs, flag in session.execute(
        select(m.SourceReading.point_id, m.SourceReading.code, m.SourceReading.value, m.SourceReading.min_value,
               m.SourceReading.max_value, m.SourceReading.zs_value, m.SourceReading.flag)
        .where(m.SourceReading.point_id.in_(pts), m.SourceReading.kind == "day", m.SourceReading.time_utc == day)
    ):  # fmt: skip
        out.append((pid, "day", day, code, value, lo, hi, zs, 1, flag or "", "device"))
        done.add((pid, code))
    per: dict[tuple[int, str], list[tuple[float | None, float | None, str]]] = defaultdict(list)
    for pid, code, avg, zs, flags in session.execute(
        select(m.SourceRollup.point_id, m.SourceRollup.code, m.SourceRollup.avg, m.SourceRollup.zs_avg,
               m.SourceRollup.flags)
        .where(m.SourceRollup.point_id.in_(pts), m.SourceRollup.period == "hour",
               m.SourceRollup.start_utc >= day, m.SourceRollup.start_utc < end)
    ):  # fmt: skip
        if (pid, code) not in done:
            per[(pid, code)].append((avg, zs, flags))
    for (pid, code), vals in per.items():
        avg, lo_v, hi_v = _stats([v for v, _z, _f in vals if v is not None])
        zs_vals = [z for _v, z, _f in vals if z is not None]
        flags = "".join(sorted({c for _v, _z, f in vals for c in f}))[:16]
        out.append((pid, "day", day, code, avg, lo_v, hi_v, math.fsum(zs_vals) / len(zs_vals) if zs_vals else None,
                    len(vals), flags, "computed"))  # fmt: skip
    return out


def _upsert_rollups(session: Session, rows: list[Rollup]) -> None:
    session.flush()
    upsert_many(session.connection(), m.SourceRollup.__table__, ROLLUP_COLUMNS, rows,  # type: ignore[arg-type]
                key=("point_id", "period", "start_utc", "code"))  # fmt: skip
    session.expire_all()


# Adoption and housekeeping


def replay_frames(session: Session, mn: str) -> tuple[int, int]:
    """Store the readings of frames recorded while ``mn`` was unknown, now that it is registered.
    Frames that named a registered MN with a wrong PW are evidence, not data: never replayed.
    Returns (frames replayed, frames still refused)."""
    registry = load_registry(session)
    frames = session.scalars(
        select(m.RawFrame).where(
            m.RawFrame.mn == mn,
            STRANGER_FRAMES,
            m.RawFrame.status == "unknown_mn",
        )
    ).all()
    ok = refused = 0
    items = []
    touched: set[tuple[int, datetime]] = set()
    for rf in frames:
        try:
            frame = parse(rf.raw.encode("utf-8"), strict=False)
        except HJ212Error as exc:
            rf.status, rf.reason = "rejected", exc.reason
            refused += 1
            continue
        item = classify(frame, b"", rf.peer, rf.received_utc, registry)
        rf.status, rf.reason = item.status, item.reason or "replayed after adoption"
        if item.status in ("stored", "other"):
            ok += 1
            items.append(item)
        else:
            refused += 1
    if items:
        write_batch(session.connection(), items, keep_raw=False)
        touched = touched_hours(items)
        session.flush()
        rollup(session, touched)
    return ok, refused


def prune_raw_frames(session: Session, retention_days: float, now_utc: datetime | None = None) -> int:
    """Delete raw frames older than ``retention_days`` [d] (readings are kept); returns the rows
    deleted.

    Raises
    ------
    ValueError  when the retention is shorter than :data:`MIN_RAW_RETENTION_DAYS` (0 would delete
                every raw frame, the audit trail of what arrived, at once).
    """
    if not retention_days >= MIN_RAW_RETENTION_DAYS:  # also refuses NaN
        raise ValueError(
            f"raw-frame retention must be at least {MIN_RAW_RETENTION_DAYS:g} day; got {retention_days!r}"
        )
    cutoff = (now_utc or m.utcnow()) - timedelta(days=retention_days)
    result = session.execute(delete(m.RawFrame).where(m.RawFrame.received_utc < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def recent_hours(
    session: Session, hours: int = 48, now_utc: datetime | None = None
) -> set[tuple[int, datetime]]:
    """(point, hour) of every hour with readings in the last ``hours`` (to rebuild their roll-ups)."""
    since = (now_utc or m.utcnow()) - timedelta(hours=hours)
    out: set[tuple[int, datetime]] = set()
    for point_id, t in session.execute(
        select(m.SourceReading.point_id, m.SourceReading.time_utc)
        .where(m.SourceReading.time_utc >= since, m.SourceReading.kind.in_(ROLLUP_KINDS))
        .distinct()
    ):
        out.add((point_id, hour_start(t)))
    return out

"""The cycle's tamper-evident log: every state change, submission, upload, comment and figure is
appended as an entry carrying the hash of the one before (:func:`greenpark.core.mrv.log_entry_sha256`);
the head is signed with the house key (:mod:`.keys`) at every entry (the newest signature replaces
the one before it; every :data:`SIGN_EVERY`-th is kept), so no entry is outside a signed head. :func:`verify` walks the chain: an edited, deleted or reordered row breaks it, and a
chain recomputed after an edit no longer matches the signed heads. It hashes every entry again —
a million in a few seconds: the canonical bytes are written out directly (:func:`entry_sha256`,
the same bytes as the reference), the rows read with the driver's cursor, and a long log split
into ranges of seq walked by one process a core, whose ends are then linked.

Entries are kept for at least the retention the rules give (``retention_years``, ≥ 5 years under
部令第19号); nothing in greenpark deletes them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring as _quote
from typing import Any

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from greenpark.core.mrv import log_entry_sha256
from greenpark.i18n import N_, Msg
from greenpark.services.mrv import keys
from greenpark.store import models as m
from greenpark.store.db import make_engine
from greenpark.store.models import utcnow

GENESIS = "0" * 64
#: The head is signed when this many entries were appended since the last signed head.
SIGN_EVERY = 100
_PG_LOCK = 713_212_013  # pg_advisory_xact_lock key: one appender at a time


def _fields(
    seq: int, at_utc: datetime, park_id: int | None, enterprise_id: int | None, actor: str,
    action: str, entity: str, entity_id: int | None, payload_json: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "seq": seq, "at_utc": at_utc.isoformat(timespec="microseconds"), "park_id": park_id,
        "enterprise_id": enterprise_id, "actor": actor, "action": action, "entity": entity,
        "entity_id": entity_id, "payload": payload_json,
    }  # fmt: skip


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None = None,
    park_id: int | None = None,
    enterprise_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> m.MrvLogEntry:
    """Append one entry (in the caller's transaction: it commits with the change it records)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    last = session.execute(select(m.MrvLogEntry.seq, m.MrvLogEntry.sha256).order_by(m.MrvLogEntry.seq.desc()).limit(1)).first()  # fmt: skip
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    payload_json = json.dumps(payload or {}, sort_keys=True, ensure_ascii=False, default=str)
    digest = log_entry_sha256(
        prev, _fields(seq, at, park_id, enterprise_id, actor, action, entity, entity_id, payload_json)
    )
    entry = m.MrvLogEntry(
        seq=seq, at_utc=at, park_id=park_id, enterprise_id=enterprise_id, actor=actor, action=action,
        entity=entity, entity_id=entity_id, payload_json=payload_json, prev_sha256=prev, sha256=digest,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    # the head is signed at every entry: the tip's signature replaces the one before it, but every
    # SIGN_EVERY-th stays (so the newest entries cannot be rewritten or cut off unseen)
    if (seq - 1) % SIGN_EVERY:
        session.execute(delete(m.MrvLogHead).where(m.MrvLogHead.seq == seq - 1))
    sign_head(session)
    return entry


def sign_head(session: Session) -> m.MrvLogHead | None:
    """Sign the current head (seq and hash) with the house key (the head already signed, if it is);
    None for an empty log."""
    last = session.execute(select(m.MrvLogEntry.seq, m.MrvLogEntry.sha256).order_by(m.MrvLogEntry.seq.desc()).limit(1)).first()  # fmt: skip
    if last is None:
        return None
    signed = session.scalars(
        select(m.MrvLogHead).where(m.MrvLogHead.seq == last[0], m.MrvLogHead.sha256 == last[1])
    ).first()
    if signed is not None:
        return signed
    key = keys.house_key()
    head = m.MrvLogHead(
        seq=last[0], sha256=last[1], public_key_pem=keys.public_pem(key),
        signature_b64=keys.sign_b64(key, _head_message(last[0], last[1])),
    )  # fmt: skip
    session.add(head)
    session.flush()
    return head


def _head_message(seq: int, sha256: str) -> bytes:
    return f"greenpark-mrv-log-head\n{seq}\n{sha256}".encode("ascii")


#: The columns of an entry :func:`verify` reads, in this order (the row's id only when it is bad).
_COLUMNS = (
    "seq, at_utc, park_id, enterprise_id, actor, action, entity, entity_id, payload_json, prev_sha256, sha256"
)
#: A log at least this long is verified by several processes (each walks a range of entries).
PARALLEL_FROM = 200_000
_FETCH = 20_000


def _time_text(at_utc: Any) -> str | None:
    """An entry's time as :func:`_fields` writes it (``isoformat``, microseconds), or None when it is
    not a time. SQLite hands the stored text (``YYYY-MM-DD HH:MM:SS.ffffff``, as SQLAlchemy writes
    it: only the separator differs), PostgreSQL a datetime."""
    if type(at_utc) is str:
        if len(at_utc) == 26 and at_utc[10] == " ":
            return f"{at_utc[:10]}T{at_utc[11:]}"
        try:
            at_utc = datetime.fromisoformat(at_utc)
        except ValueError:
            return None
    return at_utc.isoformat(timespec="microseconds") if isinstance(at_utc, datetime) else None


def entry_sha256(
    prev_sha256: str, seq: Any, at_utc: Any, park_id: Any, enterprise_id: Any, actor: Any, action: Any,
    entity: Any, entity_id: Any, payload_json: Any,
) -> str | None:  # fmt: skip
    """The hash of a stored entry: the same bytes as :func:`greenpark.core.mrv.log_entry_sha256`
    over :func:`_fields` (canonical JSON: sorted keys, no spaces, UTF-8), written out directly —
    several times faster, which a walk of a million entries needs (``tests/test_mrv_log.py`` holds
    the two equal). Values of other types than the columns' (an int or None, text) go through the
    reference function; a time that cannot be read gives None (the entry cannot match its hash)."""
    at = _time_text(at_utc)
    if at is None:
        return None
    if not (
        type(seq) is int
        and (park_id is None or type(park_id) is int)
        and (enterprise_id is None or type(enterprise_id) is int)
        and (entity_id is None or type(entity_id) is int)
        and type(actor) is str
        and type(action) is str
        and type(entity) is str
        and type(payload_json) is str
    ):
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            return None
        fields = _fields(seq, when, park_id, enterprise_id, actor, action, entity, entity_id, payload_json)
        return log_entry_sha256(prev_sha256, fields)
    # the keys in sorted order; encode_basestring is json.dumps' own quoting with ensure_ascii=False,
    # and an int is written as repr() writes it
    body = (
        f'{prev_sha256}{{"action":{_quote(action)},"actor":{_quote(actor)},"at_utc":"{at}",'
        f'"enterprise_id":{"null" if enterprise_id is None else enterprise_id},"entity":{_quote(entity)},'
        f'"entity_id":{"null" if entity_id is None else entity_id},"park_id":{"null" if park_id is None else park_id},'
        f'"payload":{_quote(payload_json)},"seq":{seq}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass
class _Walk:
    """What one walk over a range of entries found: its first entry (seq, stored link), its last
    (seq, hash), the number of good entries, the first bad one ``(index, seq, seq of the row,
    reason)`` — the link and sequence number of the first entry are the caller's to check — and the
    hashes at the signed heads' seqs."""

    first: tuple[int, str] | None = None
    last: tuple[int, str] | None = None
    good: int = 0
    bad: tuple[int, int, int, str] | None = None
    at_heads: dict[int, str] = field(default_factory=dict)


def _walk(rows: Iterable[tuple[Any, ...]], head_seqs: frozenset[int]) -> _Walk:
    w = _Walk()
    prev_seq, prev = 0, ""
    for seq, at, park, ent, actor, action, entity, entity_id, payload, prev_sha, sha in rows:
        if w.first is None:
            w.first = (seq, prev_sha)
        elif seq != prev_seq + 1:
            w.bad = (w.good, prev_seq + 1, seq, f"entry {prev_seq + 1} is missing (found {seq} next)")
            break
        elif prev_sha != prev:
            w.bad = (w.good, seq, seq, "the link to the previous entry is broken")
            break
        if entry_sha256(prev_sha, seq, at, park, ent, actor, action, entity, entity_id, payload) != sha:
            w.bad = (w.good, seq, seq, "the entry's content does not match its hash")
            break
        if seq in head_seqs:
            w.at_heads[seq] = sha
        prev_seq, prev = seq, sha
        w.good += 1
    if w.good:
        w.last = (prev_seq, prev)
    return w


def _range_sql(lo: int | None, hi: int | None) -> str:
    """The entries with ``lo < seq <= hi`` (an open end when None), in seq order."""
    where = [f"seq > {int(lo)}"] if lo is not None else []
    where += [f"seq <= {int(hi)}"] if hi is not None else []
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {_COLUMNS} FROM {m.MrvLogEntry.__tablename__}{cond} ORDER BY seq"


def _walk_range(conn: Connection, lo: int | None, hi: int | None, head_seqs: frozenset[int]) -> _Walk:
    """:func:`_walk` over a range, read with the driver's own cursor (the rows as the driver gives
    them: a third of the time of a SQLAlchemy result), streamed — server-side on PostgreSQL."""
    raw = conn.connection.driver_connection
    assert raw is not None
    pg = conn.dialect.name == "postgresql"
    cur = raw.cursor(name=f"gp_log_verify_{os.getpid()}") if pg else raw.cursor()
    try:
        cur.execute(_range_sql(lo, hi))

        def rows() -> Iterator[tuple[Any, ...]]:
            while batch := cur.fetchmany(_FETCH):
                yield from batch

        return _walk(rows(), head_seqs)
    finally:
        cur.close()


def _walk_range_in_child(url: str, lo: int | None, hi: int | None, head_seqs: frozenset[int]) -> _Walk:
    """:func:`_walk_range` in a process of its own (its own connection)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _walk_range(conn, lo, hi, head_seqs)
    finally:
        engine.dispose()


def _processes(session: Session, last_seq: int, wanted: int | None) -> int:
    """How many processes walk the log: ``wanted``, or by default one for a short log
    (:data:`PARALLEL_FROM`) and for a long one a process a core (at most 4) — on PostgreSQL a process
    every two cores, for each walk keeps a server process as busy (measured on 2 cores: one walk
    5.8 s, two 7.2 s); always one for an in-memory database (no other process can open it)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return 1
    if wanted is not None:
        return max(1, wanted)
    if last_seq < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cores if url.get_backend_name() == "sqlite" else cores // 2))


def verify(session: Session, *, processes: int | None = None) -> dict[str, Any]:
    """Walk the chain and the signed heads. Every entry is read and hashed again; with a long log
    (:data:`PARALLEL_FROM`) the entries are split by seq into ranges walked by ``processes`` processes
    at once (default: one a core on SQLite, one every two cores on PostgreSQL), and the ranges' ends
    are then linked here — the same answer as one walk.

    Returns ``{"ok": bool, "entries": n, "signed_heads": k, "first_bad": None | {"seq", "id",
    "reason"}}``: the first entry whose stored hash, link or sequence number is wrong, or the first
    signed head the chain no longer matches (or whose signature is not the house key's)."""
    heads = session.execute(select(m.MrvLogHead.seq, m.MrvLogHead.sha256, m.MrvLogHead.public_key_pem, m.MrvLogHead.signature_b64, m.MrvLogHead.id).order_by(m.MrvLogHead.seq)).all()  # fmt: skip
    head_seqs = frozenset(h[0] for h in heads)
    house_pem = keys.public_pem(keys.house_key())
    last_seq = session.scalar(select(func.max(m.MrvLogEntry.seq))) or 0
    k = _processes(session, last_seq, processes)
    # ranges lo < seq <= hi; the first and the last are open, so that no row is left out
    cuts: list[int | None] = [None, *(last_seq * i // k for i in range(1, k)), None]
    walks = _walks(session, list(itertools.pairwise(cuts)), head_seqs)

    n, prev, expected_seq = 0, GENESIS, 1
    hashes_at: dict[int, str] = {}

    def bad(seq: int | None, row_seq: int | None, reason: str) -> dict[str, Any]:
        row_id = None if row_seq is None else session.scalar(select(m.MrvLogEntry.id).where(m.MrvLogEntry.seq == row_seq))  # fmt: skip
        return {"ok": False, "entries": n, "signed_heads": len(heads),
                "first_bad": {"seq": seq, "id": row_id, "reason": reason}}  # fmt: skip

    for w in walks:
        if w.first is None:
            continue
        seq, link = w.first
        n += 1
        if seq != expected_seq:
            return bad(expected_seq, seq, f"entry {expected_seq} is missing (found {seq} next)")
        if link != prev:
            return bad(seq, seq, "the link to the previous entry is broken")
        if w.bad is not None:
            index, seq, row_seq, reason = w.bad
            n += index
            return bad(seq, row_seq, reason)
        assert w.last is not None
        n += w.good - 1
        end, prev = w.last
        expected_seq = end + 1
        hashes_at.update(w.at_heads)
    for seq, sha, pem, sig, head_id in heads:
        if pem != house_pem or not keys.signature_ok(pem, _head_message(seq, sha), sig):
            return bad(seq, None, f"signed head {head_id} does not carry the house key's signature")
        if seq not in hashes_at:
            return bad(seq, None, f"the log was signed up to entry {seq} but ends at {expected_seq - 1}")
        if hashes_at[seq] != sha:
            return bad(seq, None, f"the chain no longer matches the head signed at entry {seq}")
    newest = heads[-1][0] if heads else 0
    if expected_seq - 1 > newest:  # greenpark signs the head at every entry it appends
        return bad(newest + 1, newest + 1,
                   f"entries {newest + 1}–{expected_seq - 1} are not covered by a signed head (written outside greenpark?)")  # fmt: skip
    return {"ok": True, "entries": n, "signed_heads": len(heads), "first_bad": None}


def _walks(
    session: Session, ranges: list[tuple[int | None, int | None]], head_seqs: frozenset[int]
) -> list[_Walk]:
    """The walks of the ranges, in order: the first in this process (on the session's connection),
    the others each in a process of its own, at the same time."""
    conn = session.connection()
    if len(ranges) == 1:
        return [_walk_range(conn, *ranges[0], head_seqs)]
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    # fork when this process has no other thread (the command line): a spawned child first spends a
    # second importing greenpark; with threads (a server), fork is unsafe. The child opens its own
    # connection and never touches the ones it inherits.
    ctx = multiprocessing.get_context(
        "fork" if threading.active_count() == 1 and hasattr(os, "fork") else "spawn"
    )
    try:
        with ProcessPoolExecutor(max_workers=len(ranges) - 1, mp_context=ctx) as pool:
            others = [pool.submit(_walk_range_in_child, url, lo, hi, head_seqs) for lo, hi in ranges[1:]]
            first = _walk_range(conn, *ranges[0], head_seqs)
            return [first, *(f.result() for f in others)]
    except BrokenProcessPool:  # a child could not start (e.g. a main script without a __main__ guard)
        return [_walk_range(conn, lo, hi, head_seqs) for lo, hi in ranges]


#: What each action of the cycle is called where people read the log (the code stays in the entry).
ACTION_LABELS: dict[str, str] = {
    "appeal.decide": N_("Appeal decided"),
    "appeal.file": N_("Appeal filed"),
    "attachment.upload": N_("File uploaded"),
    "body.add": N_("Verification body added"),
    "body.manage": N_("Verification body changed"),
    "body.member": N_("Verifier added to the body"),
    "dqcp.file": N_("Data quality control plan filed"),
    "evidence.submit": N_("Monthly evidence submitted"),
    "inventory.apply_verified": N_("Verified figures entered in the inventory"),
    "ncr.answer": N_("Non-conformity answered"),
    "ncr.respond": N_("Non-conformity answered"),
    "ncr.close": N_("Non-conformity closed"),
    "ncr.estimate": N_("Conservative estimate recorded"),
    "ncr.open": N_("Non-conformity opened"),
    "register.decide": N_("Key-unit designation decided"),
    "report.accept": N_("Report accepted"),
    "report.return": N_("Report returned"),
    "report.review": N_("Report reviewed"),
    "report.submit": N_("Report submitted"),
    "settings.deadlines": N_("Deadlines changed"),
    "verification.assign": N_("Verification assigned"),
    "verification.close": N_("Verification closed"),
    "verification.conclude": N_("Verification concluded"),
    "verification.declare": N_("Conflict of interest declared"),
    "verification.doc_review": N_("Document review recorded"),
    "verification.notify": N_("Enterprise notified"),
    "verification.site_visit": N_("Site visit recorded"),
    "verification.work": N_("Verification work recorded"),
}


def action_label(action: str) -> Msg | str:
    """The action as people read it (its code when no label is known)."""
    label = ACTION_LABELS.get(action)
    return Msg(label) if label else action


def entries(session: Session, *, park_id: int | None = None, enterprise_id: int | None = None,
            entity: str | None = None, entity_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:  # fmt: skip
    """Entries of the log (newest first) for a park, an enterprise or one object."""
    q = select(m.MrvLogEntry).order_by(m.MrvLogEntry.seq.desc()).limit(limit)
    if park_id is not None:
        q = q.where(m.MrvLogEntry.park_id == park_id)
    if enterprise_id is not None:
        q = q.where(m.MrvLogEntry.enterprise_id == enterprise_id)
    if entity is not None:
        q = q.where(m.MrvLogEntry.entity == entity)
    if entity_id is not None:
        q = q.where(m.MrvLogEntry.entity_id == entity_id)
    return [
        {"seq": e.seq, "at_utc": e.at_utc.isoformat(timespec="seconds") + "Z", "actor": e.actor,
         "action": e.action, "action_label": action_label(e.action), "entity": e.entity, "entity_id": e.entity_id,
         "payload": json.loads(e.payload_json), "sha256": e.sha256}
        for e in session.scalars(q)
    ]  # fmt: skip

"""The cycle's tamper-evident log: every state change, submission, upload, comment and figure is
appended as an entry carrying the hash of the one before (:func:`greenpark.core.mrv.log_entry_sha256`);
the head is signed with the house key (:mod:`.keys`) every :data:`SIGN_EVERY` entries and on
demand. :func:`verify` walks the chain: an edited, deleted or reordered row breaks it, and a
chain recomputed after an edit no longer matches the signed heads.

Entries are kept for at least the retention the rules give (``retention_years``, ≥ 5 years under
部令第19号); nothing in greenpark deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from greenpark.core.mrv import log_entry_sha256
from greenpark.services.mrv import keys
from greenpark.store import models as m
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
    last_head = session.scalar(select(func.max(m.MrvLogHead.seq))) or 0
    if seq - last_head >= SIGN_EVERY:
        sign_head(session)
    return entry


def sign_head(session: Session) -> m.MrvLogHead | None:
    """Sign the current head (seq and hash) with the house key; None for an empty log."""
    last = session.execute(select(m.MrvLogEntry.seq, m.MrvLogEntry.sha256).order_by(m.MrvLogEntry.seq.desc()).limit(1)).first()  # fmt: skip
    if last is None:
        return None
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


def _rows(session: Session) -> Iterator[tuple[Any, ...]]:
    c = m.MrvLogEntry
    q = select(c.id, c.seq, c.at_utc, c.park_id, c.enterprise_id, c.actor, c.action, c.entity,
               c.entity_id, c.payload_json, c.prev_sha256, c.sha256).order_by(c.seq)  # fmt: skip
    # closed when the walk stops early too (a PostgreSQL server-side cursor must not be left open)
    with session.execute(q.execution_options(yield_per=20_000)) as result:
        yield from result


def verify(session: Session) -> dict[str, Any]:
    """Walk the chain and the signed heads.

    Returns ``{"ok": bool, "entries": n, "signed_heads": k, "first_bad": None | {"seq", "id",
    "reason"}}``: the first entry whose stored hash, link or sequence number is wrong, or the first
    signed head the chain no longer matches (or whose signature is not the house key's)."""
    n, prev, expected_seq = 0, GENESIS, 1
    hashes_at: dict[int, str] = {}
    heads = session.execute(select(m.MrvLogHead.seq, m.MrvLogHead.sha256, m.MrvLogHead.public_key_pem, m.MrvLogHead.signature_b64, m.MrvLogHead.id).order_by(m.MrvLogHead.seq)).all()  # fmt: skip
    head_seqs = {h[0] for h in heads}
    house_pem = keys.public_pem(keys.house_key())

    def bad(seq: int | None, row_id: int | None, reason: str) -> dict[str, Any]:
        return {"ok": False, "entries": n, "signed_heads": len(heads),
                "first_bad": {"seq": seq, "id": row_id, "reason": reason}}  # fmt: skip

    for row_id, seq, at, park, ent, actor, action, entity, entity_id, payload, prev_sha, sha in _rows(
        session
    ):
        n += 1
        if seq != expected_seq:
            return bad(expected_seq, row_id, f"entry {expected_seq} is missing (found {seq} next)")
        if prev_sha != prev:
            return bad(seq, row_id, "the link to the previous entry is broken")
        digest = log_entry_sha256(
            prev, _fields(seq, at, park, ent, actor, action, entity, entity_id, payload)
        )
        if digest != sha:
            return bad(seq, row_id, "the entry's content does not match its hash")
        if seq in head_seqs:
            hashes_at[seq] = sha
        prev, expected_seq = sha, seq + 1
    for seq, sha, pem, sig, head_id in heads:
        if pem != house_pem or not keys.signature_ok(pem, _head_message(seq, sha), sig):
            return bad(seq, None, f"signed head {head_id} does not carry the house key's signature")
        if seq not in hashes_at:
            return bad(seq, None, f"the log was signed up to entry {seq} but ends at {expected_seq - 1}")
        if hashes_at[seq] != sha:
            return bad(seq, None, f"the chain no longer matches the head signed at entry {seq}")
    return {"ok": True, "entries": n, "signed_heads": len(heads), "first_bad": None}


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
         "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
         "payload": json.loads(e.payload_json), "sha256": e.sha256}
        for e in session.scalars(q)
    ]  # fmt: skip

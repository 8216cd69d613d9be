"""The audit trail: who changed what, when, and from which value to which.

Every officer's change to a setting, a channel's limit, a device's key, a user or a token is
appended here in the same transaction as the change itself, so the history can never be out of
step with the data. Nothing here is ever updated or deleted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.store import models as m


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    key: str = "",
    field: str = "",
    old: Any = None,
    new: Any = None,
    note: str = "",
) -> m.AuditEvent:
    """Append one event (in the caller's transaction). ``old``/``new`` are stored as JSON; pass
    None for "nothing" (a created or a removed thing) and never pass a secret."""
    ev = m.AuditEvent(
        actor=actor[:100],
        action=action[:32],
        entity=entity[:64],
        entity_key=str(key)[:200],
        field=field[:64],
        old_json=_json(old),
        new_json=_json(new),
        note=note,
    )
    session.add(ev)
    return ev


def changes(
    session: Session,
    entity: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The newest events first, optionally of one entity (and one key of it)."""
    t = m.AuditEvent
    stmt = select(t).order_by(t.id.desc()).limit(limit)
    if entity is not None:
        stmt = stmt.where(t.entity == entity)
    if key is not None:
        stmt = stmt.where(t.entity_key == key)
    if since is not None:
        stmt = stmt.where(t.at_utc >= since)
    return [event_dict(e) for e in session.scalars(stmt)]


def event_dict(e: m.AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at_utc": e.at_utc.isoformat() + "Z",
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "key": e.entity_key,
        "field": e.field,
        "old": json.loads(e.old_json) if e.old_json else None,
        "new": json.loads(e.new_json) if e.new_json else None,
        "note": e.note,
    }

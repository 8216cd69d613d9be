"""Who is told what in the cycle: the recipients of an event and their inbox messages.

A message is stored as a message id and its parameters (rendered in the reader's language); its
``key`` makes it idempotent (the same reminder is not created twice). Delivery by e-mail and group
robot is :mod:`greenpark.services.notifications`' job (see :mod:`.inbox`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.park.auth import Role
from greenpark.store import models as m


def officers(session: Session, park_id: int, zone_id: int | None = None) -> list[m.AppUser]:
    """The park's active staff and admins (and the zone's staff when ``zone_id`` is given)."""
    q = select(m.AppUser).where(m.AppUser.active.is_(True), m.AppUser.park_id == park_id,
                                m.AppUser.role.in_((Role.ADMIN.value, Role.PARK_STAFF.value)))  # fmt: skip
    users = list(session.scalars(q))
    if zone_id is not None:
        zone_q = select(m.AppUser).where(m.AppUser.active.is_(True), m.AppUser.park_id == park_id,
                                         m.AppUser.role == Role.ZONE_STAFF.value, m.AppUser.zone_id == zone_id)  # fmt: skip
        users += session.scalars(zone_q)
    return users


def enterprise_users(session: Session, enterprise_id: int) -> list[m.AppUser]:
    q = select(m.AppUser).where(m.AppUser.active.is_(True), m.AppUser.enterprise_id == enterprise_id,
                                m.AppUser.role == Role.ENTERPRISE.value)  # fmt: skip
    return list(session.scalars(q))


def body_users(session: Session, body_id: int) -> list[m.AppUser]:
    q = (select(m.AppUser).join(m.MrvBodyMember, m.MrvBodyMember.user_id == m.AppUser.id)
         .where(m.MrvBodyMember.body_id == body_id, m.AppUser.active.is_(True)))  # fmt: skip
    return list(session.scalars(q))


def notify(
    session: Session,
    users: Iterable[m.AppUser],
    *,
    park_id: int,
    key: str,
    kind: str,
    msgid: str,
    params: dict[str, Any] | None = None,
    link: str = "",
) -> list[m.Notification]:
    """Put a message in each user's inbox, once per ``key`` (returns the new ones).

    ``msgid`` is an English message id of the catalogue (mark it with ``N_`` where it is written)
    and ``params`` its placeholders; ``kind`` is due | returned | assigned | overdue | reminder |
    notice."""
    made = []
    seen: set[int] = set()
    for u in users:
        if u.id in seen:
            continue
        seen.add(u.id)
        exists = session.scalar(select(m.Notification.id).where(m.Notification.user_id == u.id, m.Notification.key == key))  # fmt: skip
        if exists is not None:
            continue
        n = m.Notification(
            user_id=u.id, park_id=park_id, key=key[:200], kind=kind, link=link[:300],
            subject_json=json.dumps({"msgid": msgid, "params": params or {}}, ensure_ascii=False),
        )  # fmt: skip
        session.add(n)
        made.append(n)
    session.flush()
    return made

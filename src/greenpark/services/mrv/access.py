"""Who may read and do what in the reporting and verification cycle — the one place it is said.

An :class:`Actor` is a user seen by the cycle (the web builds it from the signed-in principal, the
CLI from ``--by USER``). Reads: park staff, admins and a bureau see the park; zone staff their
zone; an enterprise its own; a verifier only the enterprises whose verification is assigned to a
body they belong to; the public nothing. Acts: :data:`ACTS` names the roles of each act, and
:func:`require` checks the role and the enterprise together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.park.auth import Role
from greenpark.store import models as m


class AccessDenied(PermissionError):
    """The actor may not do this (the web answers 403, or 404 for an object outside its reach)."""


class NotFound(LookupError):
    """No such object in the actor's reach."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    park_id: int
    user_id: int | None = None
    zone_id: int | None = None
    enterprise_id: int | None = None


OFFICERS = frozenset({Role.ADMIN, Role.PARK_STAFF})
#: Every act of the cycle and the roles that may do it (the enterprise must also be in reach).
ACTS: dict[str, frozenset[Role]] = {
    "register.decide": OFFICERS,
    "settings.deadlines": OFFICERS,
    "dqcp.file": OFFICERS | {Role.ENTERPRISE},
    "evidence.submit": OFFICERS | {Role.ENTERPRISE},
    "report.submit": OFFICERS | {Role.ENTERPRISE},
    "report.review": OFFICERS | {Role.ZONE_STAFF},
    "body.manage": OFFICERS,
    "verification.assign": OFFICERS,
    "verification.work": frozenset({Role.VERIFIER}),
    "verification.notify": OFFICERS,
    "ncr.respond": OFFICERS | {Role.ENTERPRISE},
    "appeal.file": frozenset({Role.ENTERPRISE}) | OFFICERS,
    "appeal.decide": OFFICERS,
}


def actor_for_user(user: m.AppUser, park_id: int) -> Actor:
    """The cycle's view of a user working on ``park_id`` (a house-wide user works on the park named)."""
    if user.park_id is not None and user.park_id != park_id:
        raise AccessDenied(f"user {user.username!r} does not belong to this park")
    return Actor(username=user.username, role=Role(user.role), park_id=park_id, user_id=user.id,
                 zone_id=user.zone_id, enterprise_id=user.enterprise_id)  # fmt: skip


def body_ids(session: Session, actor: Actor) -> frozenset[int]:
    """The verification bodies the actor belongs to (in the actor's park)."""
    if actor.role != Role.VERIFIER or actor.user_id is None:
        return frozenset()
    q = (select(m.MrvBodyMember.body_id).join(m.MrvBody, m.MrvBody.id == m.MrvBodyMember.body_id)
         .where(m.MrvBodyMember.user_id == actor.user_id, m.MrvBody.park_id == actor.park_id))  # fmt: skip
    return frozenset(session.scalars(q))


def readable_enterprises(session: Session, actor: Actor) -> frozenset[int]:
    """The enterprises whose cycle records the actor may read."""
    ents = select(m.Enterprise.id).where(m.Enterprise.park_id == actor.park_id)
    if actor.role in (Role.ADMIN, Role.PARK_STAFF, Role.BUREAU):
        return frozenset(session.scalars(ents))
    if actor.role == Role.ZONE_STAFF:
        return frozenset(session.scalars(ents.where(m.Enterprise.zone_id == actor.zone_id)))
    if actor.role == Role.ENTERPRISE:
        return frozenset({actor.enterprise_id}) if actor.enterprise_id is not None else frozenset()
    if actor.role == Role.VERIFIER:
        bodies = body_ids(session, actor)
        if not bodies:
            return frozenset()
        q = select(m.MrvVerification.enterprise_id).where(
            m.MrvVerification.park_id == actor.park_id, m.MrvVerification.body_id.in_(bodies),
            m.MrvVerification.stage != "withdrawn",
        )  # fmt: skip
        return frozenset(session.scalars(q))
    return frozenset()


def assigned_years(session: Session, actor: Actor) -> frozenset[tuple[int, int]] | None:
    """A verifier's reach in time: the (enterprise, year) pairs assigned to its bodies; ``None``
    for every other role (its reach is whole enterprises)."""
    if actor.role != Role.VERIFIER:
        return None
    bodies = body_ids(session, actor)
    if not bodies:
        return frozenset()
    q = select(m.MrvVerification.enterprise_id, m.MrvVerification.year).where(
        m.MrvVerification.park_id == actor.park_id, m.MrvVerification.body_id.in_(bodies),
        m.MrvVerification.stage != "withdrawn",
    )  # fmt: skip
    return frozenset((e, y) for e, y in session.execute(q))


def enterprise_in_reach(session: Session, actor: Actor, enterprise_id: int) -> m.Enterprise:
    """The enterprise, if the actor may read its cycle records; :class:`NotFound` otherwise (an
    enterprise of another park, zone or owner is not shown to exist)."""
    ent = session.get(m.Enterprise, enterprise_id)
    if (
        ent is None
        or ent.park_id != actor.park_id
        or enterprise_id not in readable_enterprises(session, actor)
    ):
        raise NotFound("no such enterprise")
    return ent


def require(session: Session, actor: Actor, act: str, enterprise_id: int | None = None) -> None:
    """Raise unless the actor's role may do ``act`` and (when given) the enterprise is in reach."""
    roles = ACTS[act]
    if actor.role not in roles:
        raise AccessDenied(f"the role {actor.role.value} may not do {act}")
    if enterprise_id is not None:
        enterprise_in_reach(session, actor, enterprise_id)


def verification_in_reach(session: Session, actor: Actor, verification_id: int) -> m.MrvVerification:
    """A verification the actor may read (a verifier: only one assigned to their body)."""
    v = session.get(m.MrvVerification, verification_id)
    if v is None or v.park_id != actor.park_id:
        raise NotFound("no such verification")
    if actor.role == Role.VERIFIER and v.body_id not in body_ids(session, actor):
        raise NotFound("no such verification")
    try:
        enterprise_in_reach(session, actor, v.enterprise_id)
    except NotFound:  # the same words as for an id that does not exist
        raise NotFound("no such verification") from None
    return v

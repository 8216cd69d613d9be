"""Users, roles, password hashing (argon2) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from greenpark.i18n import Msg
from greenpark.services.park import audit
from greenpark.services.park.parks import all_parks, park_summaries
from greenpark.store import models as m

_hasher = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"
    PARK_STAFF = "park_staff"
    #: An officer of one zone (一区四园's 分园): that zone's enterprises, records, outlets, alarms.
    ZONE_STAFF = "zone_staff"
    ENTERPRISE = "enterprise"
    VERIFIER = "verifier"
    #: A city or provincial bureau watching many parks: reads every park it is given, changes none.
    BUREAU = "bureau"
    PUBLIC = "public"

    @property
    def label_zh(self) -> str:
        return {
            "admin": "管理员",
            "park_staff": "园区工作人员",
            "zone_staff": "分园工作人员",
            "enterprise": "企业用户",
            "verifier": "第三方核查机构",
            "bureau": "主管部门",
            "public": "公众",
        }[self.value]

    @property
    def label_en(self) -> str:
        return {
            "admin": "Administrator",
            "park_staff": "Park staff",
            "zone_staff": "Zone staff",
            "enterprise": "Enterprise user",
            "verifier": "Verifier",
            "bureau": "Bureau (many parks)",
            "public": "Public",
        }[self.value]


#: Who may read data below park/zone level (enterprise records, drill-down to records).
READ_ALL = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER, Role.BUREAU})
#: Who may import or change data for any entity.
WRITE_ALL = frozenset({Role.ADMIN, Role.PARK_STAFF})


class AuthError(Exception):
    pass


def entity_label(entity: str) -> Msg | str:
    """A kind of record in the trail, for people (its code when greenpark has no label)."""
    label = audit.ENTITY_LABELS.get(entity)
    return Msg(label) if label else entity


def action_label(action: str) -> Msg | str:
    """An action in the trail, for people (its code when greenpark has no label)."""
    label = audit.ACTION_LABELS.get(action)
    return Msg(label) if label else action


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    park_id: int | None = None,
    zone_id: int | None = None,
    enterprise_id: int | None = None,
    display_name: str = "",
    by: str = "",
) -> m.AppUser:
    park_id, zone_id, enterprise_id = check_user_scope(session, role, park_id, zone_id, enterprise_id)
    if len(password) < 10:
        raise AuthError("passwords need at least 10 characters")
    if session.scalars(select(m.AppUser.id).where(m.AppUser.username == username)).first() is not None:
        raise AuthError(f"user {username!r} exists")
    user = m.AppUser(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        park_id=park_id,
        zone_id=zone_id,
        enterprise_id=enterprise_id,
        display_name=display_name or username,
    )
    session.add(user)
    session.flush()
    audit.record(session, by, "create_user", "app_user", key=username, park_id=park_id,
                 new={"role": role.value, "park_id": park_id, "zone_id": zone_id,
                      "enterprise_id": enterprise_id})  # fmt: skip
    return user


def check_user_scope(
    session: Session, role: Role, park_id: int | None, zone_id: int | None, enterprise_id: int | None
) -> tuple[int | None, int | None, int | None]:
    """A user's scope as it will be stored, or :class:`AuthError` saying why it is refused.

    An enterprise user belongs to one enterprise (and so to its park and zone); a zone officer to
    one zone (and its park); park staff and verifiers to one park; an admin or a bureau to one park
    or, with none, to every park.
    """
    if role is Role.ENTERPRISE:
        ent = session.get(m.Enterprise, enterprise_id) if enterprise_id is not None else None
        if ent is None:
            raise AuthError("an enterprise user must belong to an enterprise")
        if park_id is not None and park_id != ent.park_id:
            raise AuthError("the enterprise is not in the user's park")
        return ent.park_id, ent.zone_id, ent.id
    if enterprise_id is not None:
        raise AuthError("only an enterprise user belongs to an enterprise")
    if role is Role.ZONE_STAFF:
        zone = session.get(m.Zone, zone_id) if zone_id is not None else None
        if zone is None:
            raise AuthError("a zone officer must belong to a zone")
        if park_id is not None and park_id != zone.park_id:
            raise AuthError("the zone is not in the user's park")
        return zone.park_id, zone.id, None
    if zone_id is not None:
        raise AuthError("only a zone officer belongs to a zone")
    if park_id is not None and session.get(m.Park, park_id) is None:
        raise AuthError(f"no park {park_id}")
    if park_id is None and role in (Role.PARK_STAFF, Role.VERIFIER):
        raise AuthError("park staff and verifiers belong to a park")
    return park_id, None, None


def authenticate(session: Session, username: str, password: str) -> m.AppUser | None:
    """The user if the password is right and the account active (same work either way)."""
    user = session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
    if user is None or not user.active:
        hash_password(password)  # same work either way: no timing hint about which usernames exist
        return None
    return user if verify_password(user.password_hash, password) else None


# ---------------------------------------------------------------------------- login throttling

#: Failed logins counted over this window for the limits below.
THROTTLE_WINDOW = timedelta(minutes=15)
#: Failures of one username in the window before its logins wait (doubling from 30 s to 15 min).
MAX_FAILURES_PER_USER = 5
#: Failures from one address in the window before its logins are refused until the window passes.
MAX_FAILURES_PER_ADDRESS = 20
#: Password checks (argon2, ~50 ms of CPU and 64 MiB each) running at once in one process; more
#: wait up to HASH_WAIT_S and are then refused, so a burst of logins cannot stall the server.
MAX_CONCURRENT_HASHES = 2
HASH_WAIT_S = 5.0
_HASHING = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


class LoginThrottled(AuthError):
    """Too many failed or simultaneous logins; ``retry_after_s`` says when to try again."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def check_login_allowed(session: Session, username: str, address: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled when this username or address has failed too often recently."""
    now = now or m.utcnow()
    t = m.LoginAttempt
    since = now - THROTTLE_WINDOW
    by_address = session.scalar(
        select(func.count(t.id)).where(t.address == address, t.at_utc >= since, t.result == "failed")
    )
    if (by_address or 0) >= MAX_FAILURES_PER_ADDRESS:
        raise LoginThrottled("address", int(THROTTLE_WINDOW.total_seconds()))
    failures = session.execute(
        select(t.at_utc).where(t.username == username[:64], t.at_utc >= since, t.result == "failed").order_by(t.at_utc.desc())
    ).scalars().all()  # fmt: skip
    if len(failures) >= MAX_FAILURES_PER_USER:
        wait = min(30 * 2 ** (len(failures) - MAX_FAILURES_PER_USER), 15 * 60)
        left = (failures[0] + timedelta(seconds=wait) - now).total_seconds()
        if left > 0:
            raise LoginThrottled("user", int(left) + 1)


def login(session: Session, username: str, password: str, address: str) -> m.AppUser | None:
    """Check throttling, then the password, and record the attempt. Returns the user or None;
    raises LoginThrottled (before any hashing) when this user or address must wait."""
    try:
        check_login_allowed(session, username, address)
        if not _HASHING.acquire(timeout=HASH_WAIT_S):
            raise LoginThrottled("busy", 5)
    except LoginThrottled:
        # kept for the record (and shown on /admin), but not counted against the user
        session.add(
            m.LoginAttempt(username=username[:64], address=address[:64], ok=False, result="throttled")
        )
        session.flush()
        raise
    try:
        user = authenticate(session, username, password)
    finally:
        _HASHING.release()
    session.add(m.LoginAttempt(username=username[:64], address=address[:64], ok=user is not None,
                               result="ok" if user is not None else "failed"))  # fmt: skip
    session.flush()
    return user


# ---------------------------------------------------------------------------- browser sessions


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def start_session(
    session: Session, user: m.AppUser, max_age_s: int, address: str = "", user_agent: str = ""
) -> str:
    """A new server-side session for ``user``; returns its id (only its hash is stored)."""
    sid = secrets.token_urlsafe(32)
    now = m.utcnow()
    session.add(
        m.UserSession(
            sid_sha256=_sha(sid), user_id=user.id, created_utc=now, last_seen_utc=now,
            expires_utc=now + timedelta(seconds=max_age_s), address=address[:64], user_agent=user_agent[:200],
        )
    )  # fmt: skip
    session.flush()
    return sid


def session_user(session: Session, sid: str) -> m.AppUser | None:
    """The user of a live session (not ended, not expired, account active), else None."""
    row = session.scalars(select(m.UserSession).where(m.UserSession.sid_sha256 == _sha(sid))).first()
    now = m.utcnow()
    if row is None or row.ended_utc is not None or row.expires_utc <= now:
        return None
    user = session.get(m.AppUser, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_utc > timedelta(minutes=1):
        row.last_seen_utc = now
    return user


def end_session(session: Session, sid: str, reason: str = "logout") -> None:
    row = session.scalars(select(m.UserSession).where(m.UserSession.sid_sha256 == _sha(sid))).first()
    if row is not None and row.ended_utc is None:
        row.ended_utc, row.ended_reason = m.utcnow(), reason


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every live session of a user; returns how many."""
    t = m.UserSession
    res = session.execute(
        update(t).where(t.user_id == user_id, t.ended_utc.is_(None)).values(ended_utc=m.utcnow(), ended_reason=reason)
    )  # fmt: skip
    return int(getattr(res, "rowcount", 0) or 0)


def live_sessions(
    session: Session, user_id: int | None = None, within: int | None = None
) -> list[dict[str, Any]]:
    """Live sessions, the latest seen first (``within``: of the users of that park only)."""
    t = m.UserSession
    now = m.utcnow()
    stmt = (
        select(t, m.AppUser.username)
        .join(m.AppUser, m.AppUser.id == t.user_id)
        .where(t.ended_utc.is_(None), t.expires_utc > now)
        .order_by(t.last_seen_utc.desc())
    )
    if user_id is not None:
        stmt = stmt.where(t.user_id == user_id)
    if within is not None:
        stmt = stmt.where(m.AppUser.park_id == within)
    return [
        {"id": r.id, "username": name, "created_utc": _iso(r.created_utc), "last_seen_utc": _iso(r.last_seen_utc),
         "expires_utc": _iso(r.expires_utc), "address": r.address, "user_agent": r.user_agent}
        for r, name in session.execute(stmt)
    ]  # fmt: skip


def end_session_by_id(session: Session, session_id: int, by: str, within: int | None = None) -> None:
    """End a session at once (``within``: only a session of a user of that park)."""
    row = session.get(m.UserSession, session_id)
    user = session.get(m.AppUser, row.user_id) if row is not None else None
    if row is None or user is None or not _in_park(user, within):
        raise AuthError(f"no session {session_id}")
    if row.ended_utc is None:
        row.ended_utc, row.ended_reason = m.utcnow(), "revoked"
        audit.record(session, by, "end_session", "user_session", key=str(session_id), park_id=user.park_id)


# ---------------------------------------------------------------------------- API tokens

#: Tokens expire after this many days unless another lifetime is asked for (at most MAX_TOKEN_DAYS).
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


def _token_hash(token: str) -> str:
    return _sha(token)


def create_api_token(
    session: Session, user: m.AppUser, name: str, days: int = DEFAULT_TOKEN_DAYS, by: str = ""
) -> str:
    """Create a token for machine clients, valid ``days`` days; only its hash is stored, the token
    is shown once."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AuthError(f"a token lives 1 to {MAX_TOKEN_DAYS} days")
    token = "gp_" + secrets.token_urlsafe(32)
    row = m.ApiToken(
        user_id=user.id, name=name[:200], token_sha256=_token_hash(token),
        expires_utc=m.utcnow() + timedelta(days=days),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, by or user.username, "create_token", "api_token", key=str(row.id), park_id=user.park_id,
                 new={"user": user.username, "name": row.name, "expires_utc": row.expires_utc})  # fmt: skip
    return token


def user_for_token(session: Session, token: str) -> m.AppUser | None:
    """The user of a live token (not revoked, not expired, account active), else None."""
    row = session.scalars(select(m.ApiToken).where(m.ApiToken.token_sha256 == _token_hash(token))).first()
    now = m.utcnow()
    if row is None or row.revoked_utc is not None or (row.expires_utc is not None and row.expires_utc <= now):
        return None
    user = session.get(m.AppUser, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return user


def tokens(session: Session, user_id: int | None = None, within: int | None = None) -> list[dict[str, Any]]:
    """Tokens (never the secret), newest first, with their state (``within``: of the users of
    that park only)."""
    t = m.ApiToken
    now = m.utcnow()
    stmt = select(t, m.AppUser.username).join(m.AppUser, m.AppUser.id == t.user_id).order_by(t.id.desc())
    if user_id is not None:
        stmt = stmt.where(t.user_id == user_id)
    if within is not None:
        stmt = stmt.where(m.AppUser.park_id == within)
    out = []
    for r, name in session.execute(stmt):
        state = (
            "revoked"
            if r.revoked_utc
            else "expired"
            if r.expires_utc is not None and r.expires_utc <= now
            else "active"
        )
        out.append({"id": r.id, "username": name, "name": r.name, "created_utc": _iso(r.created_at),
                    "last_used_utc": _iso(r.last_used_at), "expires_utc": _iso(r.expires_utc),
                    "revoked_utc": _iso(r.revoked_utc), "revoked_by": r.revoked_by, "state": state})  # fmt: skip
    return out


def revoke_token(
    session: Session, token_id: int, by: str, user_id: int | None = None, within: int | None = None
) -> m.ApiToken:
    """Revoke a token (``user_id``: only if it belongs to that user; ``within``: to a user of
    that park)."""
    row = session.get(m.ApiToken, token_id)
    owner = session.get(m.AppUser, row.user_id) if row is not None else None
    if (
        row is None
        or owner is None
        or (user_id is not None and row.user_id != user_id)
        or not _in_park(owner, within)
    ):
        raise AuthError(f"no token {token_id}")
    if row.revoked_utc is None:
        row.revoked_utc, row.revoked_by = m.utcnow(), by[:100]
        audit.record(session, by, "revoke_token", "api_token", key=str(token_id), park_id=owner.park_id)
    return row


# ---------------------------------------------------------------------------- accounts


def _in_park(user: m.AppUser, within: int | None) -> bool:
    """Whether an admin of park ``within`` (None: of every park) manages ``user``: the users of
    that park, never an account of every park."""
    return within is None or user.park_id == within


def get_user(session: Session, username: str, within: int | None = None) -> m.AppUser:
    """The user (``within``: only a user of that park; another park's is "no user")."""
    user = session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
    if user is None or not _in_park(user, within):
        raise AuthError(f"no user {username!r}")
    return user


def set_active(
    session: Session, username: str, active: bool, by: str, within: int | None = None
) -> m.AppUser:
    """Deactivate (every session ends, tokens stop working) or reactivate an account."""
    user = get_user(session, username, within)
    if user.active != active:
        audit.record(session, by, "activate" if active else "deactivate", "app_user", key=username,
                     field="active", old=user.active, new=active, park_id=user.park_id)  # fmt: skip
        user.active = active
    if not active:
        end_user_sessions(session, user.id, "deactivated")
    return user


def reset_password(
    session: Session, username: str, by: str, password: str | None = None, within: int | None = None
) -> str:
    """Set a new password (a random one unless given), end the user's sessions; returns it."""
    user = get_user(session, username, within)
    password = password or new_password()
    if len(password) < 10:
        raise AuthError("passwords need at least 10 characters")
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id, "password")
    audit.record(
        session, by, "reset_password", "app_user", key=username, field="password", park_id=user.park_id
    )
    return password


def set_role(
    session: Session,
    username: str,
    role: Role,
    by: str,
    enterprise_id: int | None = None,
    *,
    park_id: int | None = None,
    zone_id: int | None = None,
    within: int | None = None,
) -> m.AppUser:
    """Give an account another role and scope (checked as :func:`check_user_scope` checks a new
    one); its sessions end. ``within``: only a user of that park (a park's own admin)."""
    user = get_user(session, username, within)
    park_id, zone_id, enterprise_id = check_user_scope(session, role, park_id, zone_id, enterprise_id)
    if within is not None and park_id != within:
        raise AuthError("a park's admin keeps users in that park")
    old = _scope_of(user)
    user.role, user.park_id, user.zone_id, user.enterprise_id = role.value, park_id, zone_id, enterprise_id
    new = _scope_of(user)
    if new != old:
        audit.record(session, by, "set_role", "app_user", key=username, field="role", old=old, new=new,
                     park_id=park_id if park_id is not None else old["park_id"])  # fmt: skip
        end_user_sessions(session, user.id, "role")
    return user


def _scope_of(user: m.AppUser) -> dict[str, Any]:
    return {
        "role": user.role,
        "park_id": user.park_id,
        "zone_id": user.zone_id,
        "enterprise_id": user.enterprise_id,
    }


def user_scope_ids(
    session: Session, role: Role, park: m.Park | None, zone: str = "", enterprise: str = ""
) -> tuple[int | None, int | None, int | None]:
    """The ids of a user's scope named by codes: ``park`` (None: every park), a zone's and an
    enterprise's code looked up within that park only; :class:`AuthError` when one is unknown
    there. (:func:`check_user_scope` then says whether the role may have that scope.)"""
    zone_id = enterprise_id = None
    if role is Role.ZONE_STAFF:
        if park is None or not zone:
            raise AuthError("a zone officer must belong to a zone of a park")
        zone_id = session.scalars(
            select(m.Zone.id).where(m.Zone.park_id == park.id, m.Zone.code == zone)
        ).first()
        if zone_id is None:
            raise AuthError(f"no zone {zone!r} in park {park.code}")
    if role is Role.ENTERPRISE:
        if park is None or not enterprise:
            raise AuthError("an enterprise user must belong to an enterprise of a park")
        enterprise_id = session.scalars(
            select(m.Enterprise.id).where(m.Enterprise.park_id == park.id, m.Enterprise.code == enterprise)
        ).first()
        if enterprise_id is None:
            raise AuthError(f"no enterprise {enterprise!r} in park {park.code}")
    return (park.id if park is not None else None), zone_id, enterprise_id


def users(session: Session, within: int | None = None) -> list[dict[str, Any]]:
    """Every account (``within``: the users of that park only) with its role, its park and zone
    or enterprise (``park`` empty: every park), its state and last login."""
    last_login = dict(
        session.execute(
            select(m.LoginAttempt.username, func.max(m.LoginAttempt.at_utc))
            .where(m.LoginAttempt.ok)
            .group_by(m.LoginAttempt.username)
        ).all()
    )
    parks = {p.id: p for p in all_parks(session)}
    zones = {z.id: z for z in session.scalars(select(m.Zone))}
    stmt = (
        select(m.AppUser, m.Enterprise)
        .outerjoin(m.Enterprise, m.Enterprise.id == m.AppUser.enterprise_id)
        .order_by(m.AppUser.username)
    )
    if within is not None:
        stmt = stmt.where(m.AppUser.park_id == within)
    out = []
    for u, ent in session.execute(stmt):
        park = parks.get(u.park_id) if u.park_id is not None else None
        zone = zones.get(u.zone_id) if u.zone_id is not None else None
        out.append({
            "username": u.username, "display_name": u.display_name, "role": u.role,
            "enterprise_id": u.enterprise_id, "enterprise": ent.name if ent else "",
            "enterprise_code": ent.code if ent else "", "active": u.active,
            "created_utc": _iso(u.created_at), "last_login_utc": _iso(last_login.get(u.username)),
            "park_id": u.park_id, "park": park.code if park else "",
            "park_name_zh": park.name_zh if park else "", "park_name_en": park.name_en if park else "",
            "zone_id": u.zone_id, "zone": zone.code if zone else "",
            "zone_name_zh": zone.name_zh if zone else "", "zone_name_en": zone.name_en if zone else "",
        })  # fmt: skip
    return out


def login_attempts(session: Session, limit: int = 200, within: int | None = None) -> list[dict[str, Any]]:
    """Recent login attempts, failed ones included, newest first (``within``: of the usernames of
    that park's users only; attempts with names no account has are the house's)."""
    t = m.LoginAttempt
    stmt = select(t).order_by(t.id.desc()).limit(limit)
    if within is not None:
        stmt = stmt.where(t.username.in_(select(m.AppUser.username).where(m.AppUser.park_id == within)))
    return [
        {
            "at_utc": _iso(r.at_utc),
            "username": r.username,
            "address": r.address,
            "ok": r.ok,
            "result": r.result,
        }
        for r in session.scalars(stmt)
    ]


def admin_parks(session: Session, within: int | None = None) -> list[dict[str, Any]]:
    """The parks an admin manages (``within``: that one; None: every park) as
    :func:`park_summaries` lists them, each with its ``id`` and ``zone_list``: its zones' ids,
    codes and names."""
    zones: dict[int, list[dict[str, Any]]] = {}
    for z in session.scalars(select(m.Zone).order_by(m.Zone.park_id, m.Zone.id)):
        zones.setdefault(z.park_id, []).append(
            {"id": z.id, "code": z.code, "name_zh": z.name_zh, "name_en": z.name_en}
        )
    ids = {p.code: p.id for p in all_parks(session)}
    return [
        r | {"id": ids[r["code"]], "zone_list": zones.get(ids[r["code"]], [])}
        for r in park_summaries(session)
        if within is None or ids[r["code"]] == within
    ]


def admin_trail(
    session: Session, within: int | None = None, entity: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The audit trail, newest first (``within``: the events of that park only — its records and
    its users' accounts), each event with the labels people read (``action_label``,
    ``entity_label``, ``field_label``) beside its codes."""
    rows = audit.find(session, audit.HistoryQuery(park_id=within, entity=entity), limit)
    for r in rows:
        r["action_label"], r["entity_label"] = action_label(r["action"]), entity_label(r["entity"])
    return rows


def new_password() -> str:
    return secrets.token_urlsafe(12)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() + "Z" if t else None

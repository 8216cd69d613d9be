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

from greenpark.services import audit
from greenpark.store import models as m

_hasher = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"
    PARK_STAFF = "park_staff"
    ENTERPRISE = "enterprise"
    VERIFIER = "verifier"
    PUBLIC = "public"

    @property
    def label_zh(self) -> str:
        return {
            "admin": "管理员",
            "park_staff": "园区工作人员",
            "enterprise": "企业用户",
            "verifier": "第三方核查机构",
            "public": "公众",
        }[self.value]

    @property
    def label_en(self) -> str:
        return {
            "admin": "Administrator",
            "park_staff": "Park staff",
            "enterprise": "Enterprise user",
            "verifier": "Verifier",
            "public": "Public",
        }[self.value]


#: Who may read data below park/zone level (enterprise records, drill-down to records).
READ_ALL = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER})
#: Who may import or change data for any entity.
WRITE_ALL = frozenset({Role.ADMIN, Role.PARK_STAFF})


class AuthError(Exception):
    pass


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
    enterprise_id: int | None = None,
    display_name: str = "",
    by: str = "",
) -> m.AppUser:
    if role is Role.ENTERPRISE and enterprise_id is None:
        raise AuthError("an enterprise user must belong to an enterprise")
    if len(password) < 10:
        raise AuthError("passwords need at least 10 characters")
    if session.scalars(select(m.AppUser.id).where(m.AppUser.username == username)).first() is not None:
        raise AuthError(f"user {username!r} exists")
    user = m.AppUser(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        park_id=park_id,
        enterprise_id=enterprise_id,
        display_name=display_name or username,
    )
    session.add(user)
    session.flush()
    audit.record(session, by, "create_user", "app_user", key=username,
                 new={"role": role.value, "enterprise_id": enterprise_id})  # fmt: skip
    return user


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


def live_sessions(session: Session, user_id: int | None = None) -> list[dict[str, Any]]:
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
    return [
        {"id": r.id, "username": name, "created_utc": _iso(r.created_utc), "last_seen_utc": _iso(r.last_seen_utc),
         "expires_utc": _iso(r.expires_utc), "address": r.address, "user_agent": r.user_agent}
        for r, name in session.execute(stmt)
    ]  # fmt: skip


def end_session_by_id(session: Session, session_id: int, by: str) -> None:
    row = session.get(m.UserSession, session_id)
    if row is None:
        raise AuthError(f"no session {session_id}")
    if row.ended_utc is None:
        row.ended_utc, row.ended_reason = m.utcnow(), "revoked"
        audit.record(session, by, "end_session", "user_session", key=str(session_id))


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
    audit.record(session, by or user.username, "create_token", "api_token", key=str(row.id),
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


def tokens(session: Session, user_id: int | None = None) -> list[dict[str, Any]]:
    """Tokens (never the secret), newest first, with their state."""
    t = m.ApiToken
    now = m.utcnow()
    stmt = select(t, m.AppUser.username).join(m.AppUser, m.AppUser.id == t.user_id).order_by(t.id.desc())
    if user_id is not None:
        stmt = stmt.where(t.user_id == user_id)
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


def revoke_token(session: Session, token_id: int, by: str, user_id: int | None = None) -> m.ApiToken:
    """Revoke a token (``user_id``: only if it belongs to that user)."""
    row = session.get(m.ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise AuthError(f"no token {token_id}")
    if row.revoked_utc is None:
        row.revoked_utc, row.revoked_by = m.utcnow(), by[:100]
        audit.record(session, by, "revoke_token", "api_token", key=str(token_id))
    return row


# ---------------------------------------------------------------------------- accounts


def get_user(session: Session, username: str) -> m.AppUser:
    user = session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
    if user is None:
        raise AuthError(f"no user {username!r}")
    return user


def set_active(session: Session, username: str, active: bool, by: str) -> m.AppUser:
    """Deactivate (every session ends, tokens stop working) or reactivate an account."""
    user = get_user(session, username)
    if user.active != active:
        audit.record(session, by, "activate" if active else "deactivate", "app_user", key=username,
                     field="active", old=user.active, new=active)  # fmt: skip
        user.active = active
    if not active:
        end_user_sessions(session, user.id, "deactivated")
    return user


def reset_password(session: Session, username: str, by: str, password: str | None = None) -> str:
    """Set a new password (a random one unless given), end the user's sessions; returns it."""
    user = get_user(session, username)
    password = password or new_password()
    if len(password) < 10:
        raise AuthError("passwords need at least 10 characters")
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id, "password")
    audit.record(session, by, "reset_password", "app_user", key=username, field="password")
    return password


def set_role(
    session: Session, username: str, role: Role, by: str, enterprise_id: int | None = None
) -> m.AppUser:
    user = get_user(session, username)
    if role is Role.ENTERPRISE and enterprise_id is None:
        raise AuthError("an enterprise user must belong to an enterprise")
    old = {"role": user.role, "enterprise_id": user.enterprise_id}
    user.role, user.enterprise_id = role.value, enterprise_id if role is Role.ENTERPRISE else None
    audit.record(session, by, "set_role", "app_user", key=username, field="role", old=old,
                 new={"role": user.role, "enterprise_id": user.enterprise_id})  # fmt: skip
    end_user_sessions(session, user.id, "role")
    return user


def users(session: Session) -> list[dict[str, Any]]:
    out = []
    for u, ent in session.execute(
        select(m.AppUser, m.Enterprise.name).outerjoin(m.Enterprise, m.Enterprise.id == m.AppUser.enterprise_id)
        .order_by(m.AppUser.username)
    ):  # fmt: skip
        last = session.scalar(
            select(func.max(m.LoginAttempt.at_utc)).where(
                m.LoginAttempt.username == u.username, m.LoginAttempt.ok
            )
        )
        out.append({"username": u.username, "display_name": u.display_name, "role": u.role,
                    "enterprise_id": u.enterprise_id, "enterprise": ent or "", "active": u.active,
                    "created_utc": _iso(u.created_at), "last_login_utc": _iso(last)})  # fmt: skip
    return out


def new_password() -> str:
    return secrets.token_urlsafe(12)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() + "Z" if t else None

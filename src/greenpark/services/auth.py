"""Users, roles, password hashing (argon2) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

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
) -> m.AppUser:
    if role is Role.ENTERPRISE and enterprise_id is None:
        raise AuthError("an enterprise user must belong to an enterprise")
    if len(password) < 10:
        raise AuthError("passwords need at least 10 characters")
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
    return user


def authenticate(session: Session, username: str, password: str) -> m.AppUser | None:
    user = session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
    if user is None or not user.active:
        hash_password(password)  # same work either way: no timing hint about which usernames exist
        return None
    return user if verify_password(user.password_hash, password) else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: m.AppUser, name: str) -> str:
    """Create a token for machine clients; only its hash is stored, the token is shown once."""
    token = "gp_" + secrets.token_urlsafe(32)
    session.add(m.ApiToken(user_id=user.id, name=name, token_sha256=_token_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> m.AppUser | None:
    row = session.scalars(select(m.ApiToken).where(m.ApiToken.token_sha256 == _token_hash(token))).first()
    if row is None:
        return None
    user = session.get(m.AppUser, row.user_id)
    return user if user is not None and user.active else None


def new_password() -> str:
    return secrets.token_urlsafe(12)

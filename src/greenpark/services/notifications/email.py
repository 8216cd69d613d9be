"""E-mail over SMTP: the house's SMTP settings and one message's delivery.

The settings (host, port, security ``none`` | ``starttls`` | ``ssl``, user, password, From
address) are one :class:`~greenpark.store.models.Setting` row for the whole house, set by an admin.
The password is stored encrypted with a key derived from the house secret and is never given back
(:func:`public_settings` says only whether one is set). Sending uses the standard library
(:mod:`smtplib`, :mod:`email.message`) with a timeout; :func:`attempt` never raises for what the
network or the server does, it answers ``(sent, one-line result)`` for the caller to record and
retry.
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from greenpark.settings import get_settings
from greenpark.store import models as m

SETTING_KEY = "smtp"
SECURITY = ("none", "starttls", "ssl")
#: Connect and each read/write [s].
TIMEOUT_S = 10.0
MAX_ADDRESS_CHARS = 254


def _fernet() -> Fernet:
    """The key that keeps stored secrets (the SMTP password, robot secrets) unreadable in the
    database; derived from the house secret."""
    secret = get_settings().secret_key.get_secret_value().encode("utf-8")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"greenpark-notify", info=b"secret-settings"
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    """A secret made unreadable for storage (empty stays empty)."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii") if text else ""


def unseal(token: str) -> str:
    """The stored secret; empty if there is none or the house secret changed since."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return ""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # none | starttls | ssl
    username: str
    password: str
    from_addr: str
    from_name: str = "greenpark"


def _check_address(addr: str, what: str) -> str:
    addr = addr.strip()
    if (
        not addr
        or len(addr) > MAX_ADDRESS_CHARS
        or addr.count("@") != 1
        or any(c.isspace() or ord(c) < 0x20 for c in addr)
    ):
        raise ValueError(f"{what} {addr!r} is not an e-mail address")
    local, _, domain = addr.partition("@")
    if not local or "." not in domain.strip(".") or any(c in addr for c in '<>,;"()'):
        raise ValueError(f"{what} {addr!r} is not an e-mail address")
    return addr


def check_address(addr: str) -> str:
    """A recipient address, trimmed; ValueError if it is not one (one ``@``, a dotted domain, no
    spaces, no header syntax)."""
    return _check_address(addr, "the address")


def smtp_settings(session: Session) -> SmtpSettings | None:
    """The house's SMTP settings, or None when e-mail is not set up."""
    row = session.get(m.Setting, SETTING_KEY)
    if row is None:
        return None
    v = json.loads(row.value_json)
    if not v.get("host") or not v.get("from_addr"):
        return None
    return SmtpSettings(host=v["host"], port=int(v.get("port") or 25), security=v.get("security", "none"),
                        username=v.get("username", ""), password=unseal(v.get("password_sealed", "")),
                        from_addr=v["from_addr"], from_name=v.get("from_name") or "greenpark")  # fmt: skip


def public_settings(session: Session) -> dict[str, Any]:
    """The settings as the settings page shows them: everything but the password (``has_password``
    says whether one is stored)."""
    row = session.get(m.Setting, SETTING_KEY)
    v = json.loads(row.value_json) if row is not None else {}
    return {"host": v.get("host", ""), "port": int(v.get("port") or 587), "security": v.get("security", "starttls"),
            "username": v.get("username", ""), "has_password": bool(v.get("password_sealed")),
            "from_addr": v.get("from_addr", ""), "from_name": v.get("from_name", "greenpark")}  # fmt: skip


def set_smtp_settings(session: Session, values: dict[str, Any], by: str) -> dict[str, Any]:
    """Store the SMTP settings (admins). A ``password`` of None (or absent) keeps the stored one;
    an empty string removes it. An empty ``host`` turns e-mail off. Returns :func:`public_settings`.

    Raises ValueError with the reason for a bad port, security mode, host or address."""
    row = session.get(m.Setting, SETTING_KEY)
    current = json.loads(row.value_json) if row is not None else {}
    host = str(values.get("host", current.get("host", ""))).strip()
    if host and (len(host) > 253 or any(c.isspace() or c in "/@:" for c in host)):
        raise ValueError(f"{host!r} is not a host name or address")
    try:
        port = int(values.get("port", current.get("port", 587)))
    except (TypeError, ValueError):
        raise ValueError("the SMTP port is not a number") from None
    if not 1 <= port <= 65535:
        raise ValueError("the SMTP port is a number from 1 to 65535")
    security = str(values.get("security", current.get("security", "starttls")))
    if security not in SECURITY:
        raise ValueError(f"security is one of {', '.join(SECURITY)}")
    from_addr = str(values.get("from_addr", current.get("from_addr", ""))).strip()
    if host:
        from_addr = _check_address(from_addr, "the From address")
    username = str(values.get("username", current.get("username", ""))).strip()[:200]
    from_name = (
        str(values.get("from_name", current.get("from_name", "greenpark"))).strip()[:100] or "greenpark"
    )
    sealed = current.get("password_sealed", "")
    if values.get("password") is not None:
        sealed = seal(str(values["password"]))
    new = {"host": host, "port": port, "security": security, "username": username, "password_sealed": sealed,
           "from_addr": from_addr, "from_name": from_name}  # fmt: skip
    if row is None:
        row = m.Setting(key=SETTING_KEY, value_json="{}")
        session.add(row)
    row.value_json, row.updated_by, row.updated_utc = json.dumps(new, ensure_ascii=False), by, m.utcnow()
    session.flush()
    return public_settings(session)


def message(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message (headers encoded as RFC 2047 where they are not ASCII)."""
    msg = EmailMessage()
    msg["From"] = formataddr((settings.from_name, settings.from_addr))
    msg["To"] = to
    msg["Subject"] = " ".join(subject.split())[:200]
    msg["Message-ID"] = make_msgid(domain=settings.from_addr.partition("@")[2] or None)
    msg.set_content(body)
    return msg


def send(settings: SmtpSettings, msg: EmailMessage, timeout_s: float = TIMEOUT_S) -> None:
    """Send one message. Raises OSError or :class:`smtplib.SMTPException` on failure."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout_s, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout_s)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(msg)


def attempt(settings: SmtpSettings, to: str, subject: str, body: str, timeout_s: float = TIMEOUT_S) -> tuple[bool, str]:  # fmt: skip
    """Try to send one message: (sent, a one-line result). Never raises for what the network or
    the server does."""
    try:
        addr = check_address(to)
    except ValueError as exc:
        return False, f"refused: {exc}"[:60]
    try:
        send(settings, message(settings, addr, subject, body), timeout_s)
    except (OSError, smtplib.SMTPException) as exc:
        return False, f"failed: {exc.__class__.__name__}: {exc}"[:60]
    return True, "sent"

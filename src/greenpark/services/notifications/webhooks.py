"""Alarm webhooks: a transactional outbox, its deliverer, and the URL policy.

An alarm that opens adds a :class:`~greenpark.store.models.WebhookDelivery` row in the alarm's own
transaction (:func:`enqueue`): nothing is sent then, so a slow or silent listener can never hold a
transaction open that the ingestion path waits for, and a notification exists exactly when its
alarm does. After the commit a deliverer — the ingestion server's worker-0 thread, or
``greenpark alarms deliver`` — claims the due rows (:func:`deliver_due`), POSTs each outside any
transaction with a timeout and without following redirects, and records every attempt in the
alarm's log (action ``webhook``). A failed attempt is retried after :data:`RETRY_MINUTES`; after
:data:`MAX_ATTEMPTS` the delivery is ``failed``.

URL policy (:func:`validate_url`, checked when the URL is set and again before every attempt):
http or https, a host, no credentials, and every address the host resolves to public. With
``allow_private`` (the admin setting ``webhook_allow_private``) private networks and loopback are
allowed too; link-local (where cloud metadata services answer), multicast, unspecified and
reserved addresses never are. The deliverer connects to the very address it checked (the Host
header and the TLS server name stay the host's name), so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from greenpark.store import models as m

#: Minutes to wait after a failed attempt 1, 2, 3, 4; attempt 5 is the last.
RETRY_MINUTES = (1, 5, 15, 60)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
#: Connect and read timeout of one attempt [s].
TIMEOUT_S = 5.0
#: A claimed delivery whose deliverer died is tried again after this [min] (the claim's lease).
CLAIM_MINUTES = 10
MAX_URL_CHARS = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Allowed only with ``allow_private``: RFC 1918, RFC 6598 shared (carrier-grade NAT), RFC 4193
#: unique-local, loopback.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "fc00::/7",
        "::1/128",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: where to connect (``addresses``) and what to ask for."""

    url: str  # normalised
    scheme: str
    host: str  # the name, for the Host header and the TLS server name
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (tests replace this to stay offline)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_class(ip: IPAddress) -> tuple[str, bool] | None:
    """Why ``ip`` is not a public unicast address, and whether ``allow_private`` admits it;
    None for a public address. Embedded IPv4 (mapped, 6to4, NAT64) is judged as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_class(inner)
    if ip.is_unspecified:
        return "unspecified", False
    if ip.is_multicast:
        return "multicast", False
    if ip.is_link_local:
        return "link-local", False
    if ip.is_loopback:
        return "loopback", True
    if any(ip in net for net in PRIVATE_NETWORKS):
        return "private", True
    if ip.is_reserved or not ip.is_global:
        return "reserved", False
    return None


def check_url(url: str, allow_private: bool = False) -> Target:
    """Parse, normalise and resolve a webhook URL and check every address (see the module).

    Raises
    ------
    ValueError  with a reason a person can act on.
    """
    url = url.strip()
    if not url:
        raise ValueError("the webhook URL is empty")
    if len(url) > MAX_URL_CHARS or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise ValueError(
            f"a webhook URL has at most {MAX_URL_CHARS} characters and no spaces or control characters"
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"a webhook URL must start with http:// or https:// (not {scheme or 'no scheme'})")
    if "@" in parts.netloc:
        raise ValueError("a webhook URL must not carry a user name or password")
    host = parts.hostname or ""
    if not host:
        raise ValueError("a webhook URL needs a host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise ValueError("the webhook URL's port is not a number from 1 to 65535") from None
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{host!r} is not a valid host name") from None
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise ValueError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        if not addresses:
            raise ValueError(f"{host} resolves to no address")
    else:
        host = str(literal)
        addresses = [host]
    for a in addresses:
        kind = address_class(ipaddress.ip_address(a.partition("%")[0]))
        if kind is not None and not (allow_private and kind[1]):
            what = host if a == host else f"{host} resolves to {a}, which"
            allowed = " (an admin may allow private addresses)" if kind[1] else ""
            raise ValueError(f"{what} is a {kind[0]} address; webhooks go to public addresses only{allowed}")
    netloc = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(f"{scheme}://{netloc}{path}", scheme, host, port, path, tuple(addresses))


def validate_url(url: str, allow_private: bool = False) -> str:
    """The normalised webhook URL (scheme and host in lower case, default port and fragment
    dropped) if it may be used; else ValueError with the reason (see :func:`check_url`).

    >>> validate_url("HTTPS://93.184.215.14:443/hook#x")
    'https://93.184.215.14/hook'
    >>> validate_url("http://169.254.169.254/latest/meta-data/")
    Traceback (most recent call last):
    ...
    ValueError: 169.254.169.254 is a link-local address; webhooks go to public addresses only
    """
    return check_url(url, allow_private).url


# delivery


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to one of the checked addresses, whatever DNS says now; Host stays the name."""

    def __init__(self, target: Target, timeout_s: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout_s)
        self.addresses = target.addresses

    def _open(self) -> socket.socket:
        error: OSError | None = None
        for a in self.addresses:
            try:
                return socket.create_connection((a, self.port), self.timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to a checked address; the certificate is verified against the host's name (SNI)."""

    default_port = 443

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, body: bytes, timeout_s: float = TIMEOUT_S) -> int:
    """POST ``body`` (JSON) to a checked target; the HTTP status (a redirect is not followed).

    Raises
    ------
    OSError, http.client.HTTPException  when the listener cannot be reached or does not answer
                                        within ``timeout_s`` [s] (connect, and each read).
    """
    conn = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout_s)
    try:
        conn.request("POST", target.path, body=body,
                     headers={"Content-Type": "application/json", "User-Agent": "greenpark-webhook"})  # fmt: skip
        resp = conn.getresponse()
        resp.read(4096)
        return int(resp.status)
    finally:
        conn.close()


def attempt(url: str, payload_json: str, allow_private: bool = False, timeout_s: float = TIMEOUT_S) -> tuple[bool, str]:  # fmt: skip
    """One delivery attempt: (delivered, a one-line result for the alarm log). Never raises for
    what the network or the listener does; the URL is checked again first."""
    try:
        target = check_url(url, allow_private)
    except ValueError as exc:
        return False, f"refused: {exc}"
    try:
        status = post(target, payload_json.encode("utf-8"), timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"failed: {exc.__class__.__name__}: {exc}"[:300]
    if 200 <= status < 300:
        return True, f"HTTP {status}"
    if 300 <= status < 400:
        return False, f"HTTP {status} (redirects are not followed)"
    return False, f"HTTP {status}"


def enqueue(session: Session, alarm: m.Alarm, url: str, payload: dict[str, Any]) -> m.WebhookDelivery:
    """Queue the notification of ``alarm`` in the caller's transaction (the outbox): it exists if
    and only if the alarm is committed, and is sent afterwards by :func:`deliver_due`."""
    now = m.utcnow()
    d = m.WebhookDelivery(alarm_id=alarm.id, url=url, status="pending", attempts=0, created_utc=now,
                          next_attempt_utc=now, last_result="",
                          payload_json=json.dumps(payload, ensure_ascii=False, default=str))  # fmt: skip
    session.add(d)
    return d


def private_allowed(session: Session) -> bool:
    """The officers' ``webhook_allow_private`` setting (one of the park settings the monitoring
    services define; unset means no), read at each delivery so that turning it off stops the next
    attempt."""
    row = session.get(m.Setting, "webhook_allow_private")
    return bool(row is not None and json.loads(row.value_json) is True)


def deliver_due(engine: Engine, timeout_s: float = TIMEOUT_S, limit: int = 50,
                now: datetime | None = None) -> dict[str, int]:  # fmt: skip
    """Send the deliveries that are due, each outside any transaction: claim them (a short
    transaction that moves their next attempt a lease ahead, so that two deliverers never send the
    same one at once), POST, then record the attempt (another short transaction). Returns counts
    of deliveries ``delivered``, ``retrying`` and ``failed`` in this pass."""
    t = m.WebhookDelivery
    now = now or m.utcnow()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    with Session(engine) as s:
        allow_private = private_allowed(s)
        due = s.execute(
            select(t.id, t.attempts)
            .where(t.status == "pending", t.next_attempt_utc <= now)
            .order_by(t.next_attempt_utc, t.id)
            .limit(limit)
        ).all()
        claimed = []
        for id_, attempts in due:
            res = s.execute(
                update(t)
                .where(t.id == id_, t.status == "pending", t.attempts == attempts, t.next_attempt_utc <= now)
                .values(next_attempt_utc=now + timedelta(minutes=CLAIM_MINUTES))
            )
            if getattr(res, "rowcount", 0) == 1:
                claimed.append(id_)
        jobs = [
            (d.id, d.url, d.payload_json)
            for d in s.scalars(select(t).where(t.id.in_(claimed)).order_by(t.id))
        ]
        s.commit()
    for id_, url, payload_json in jobs:
        ok, result = attempt(url, payload_json, allow_private, timeout_s)
        counts[_record(engine, id_, ok, result)] += 1
    return counts


def _record(engine: Engine, delivery_id: int, ok: bool, result: str) -> str:
    """Write one attempt's outcome on the delivery and in its alarm's log; returns its state."""
    with Session(engine) as s:
        d = s.get(m.WebhookDelivery, delivery_id)
        if d is None:  # pragma: no cover - deleted meanwhile
            return "failed"
        at = m.utcnow()
        d.attempts += 1
        note = f"{result} (attempt {d.attempts} of {MAX_ATTEMPTS})"
        if ok:
            d.status, d.delivered_utc = "delivered", at
            state = "delivered"
        elif d.attempts >= MAX_ATTEMPTS:
            d.status = "failed"
            note += "; gave up"
            state = "failed"
        else:
            wait = RETRY_MINUTES[d.attempts - 1]
            d.next_attempt_utc = at + timedelta(minutes=wait)
            note += f"; next attempt in {wait} min"
            state = "retrying"
        d.last_result = note
        if d.alarm_id is not None:
            s.add(m.AlarmLog(alarm_id=d.alarm_id, at_utc=at, actor="system", action="webhook", note=note))
        s.commit()
    return state

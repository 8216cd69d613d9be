"""Group robots: a park's WeCom (企业微信) and DingTalk (钉钉) group-robot webhooks.

Message formats, as the vendors document them:

- WeCom group robot — POST JSON ``{"msgtype": "markdown", "markdown": {"content": …}}`` (content at
  most 4096 bytes, UTF-8) to ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``; the answer
  is ``{"errcode": 0, "errmsg": "ok"}`` (企业微信开发者中心《群机器人配置说明》, reproduced at
  https://cnblogs.com/tiandi/p/17768525.html and https://blog.csdn.net/liuxingxing_star/article/details/128659150).
- DingTalk custom robot — POST JSON ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``
  to ``https://oapi.dingtalk.com/robot/send?access_token=…``; with 加签 (signing) the URL also
  carries ``&timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(key=secret, msg=timestamp + "\\n" +
  secret)))>`` (https://open.dingtalk.com/document/group/custom-robot-access, its Python sample
  reproduced at https://blog.csdn.net/weixin_31560545/article/details/116255918); the answer is
  ``{"errcode": 0, "errmsg": "ok"}``.

URLs follow the webhook policy of :mod:`.webhooks` (checked when set and before every post; private
and loopback addresses only with the admins' ``webhook_allow_private``), and a post goes to the very
address that was checked. The robots of a park are one :class:`~greenpark.store.models.Setting`
row; a DingTalk secret is stored sealed (:func:`.email.seal`) and never given back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy.orm import Session

from greenpark.services.notifications import webhooks
from greenpark.services.notifications.email import seal, unseal
from greenpark.store import models as m

KINDS = ("wecom", "dingtalk")
#: WeCom: a markdown message's content is at most 4096 bytes.
WECOM_MAX_BYTES = 4096
MAX_ROBOTS = 5


def _key(park_id: int) -> str:
    return f"robots.{park_id}"


def robots(session: Session, park_id: int) -> list[dict[str, str]]:
    """The park's robots with their secrets (for sending): ``[{"kind", "url", "secret"}]``."""
    row = session.get(m.Setting, _key(park_id))
    items = json.loads(row.value_json) if row is not None else []
    return [{"kind": r["kind"], "url": r["url"], "secret": unseal(r.get("secret_sealed", ""))} for r in items]


def public_robots(session: Session, park_id: int) -> list[dict[str, Any]]:
    """The park's robots as the settings page shows them (``has_secret`` instead of the secret)."""
    return [
        {"kind": r["kind"], "url": r["url"], "has_secret": bool(r["secret"])}
        for r in robots(session, park_id)
    ]


def set_robots(session: Session, park_id: int, items: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Replace the park's robots (officers). Each item: ``kind`` (wecom | dingtalk), ``url`` and,
    for DingTalk, an optional ``secret`` (None keeps the one stored for the same URL, "" removes
    it). Every URL is checked against the webhook policy. Raises ValueError with the reason."""
    if len(items) > MAX_ROBOTS:
        raise ValueError(f"at most {MAX_ROBOTS} robots per park")
    allow_private = webhooks.private_allowed(session)
    old = {r["url"]: r for r in robots(session, park_id)}
    out = []
    for it in items:
        kind = str(it.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"a robot is one of {', '.join(KINDS)}")
        url = webhooks.validate_url(str(it.get("url", "")), allow_private)
        secret = it.get("secret")
        if secret is None:
            secret = old.get(url, {}).get("secret", "")
        secret = str(secret).strip()
        if secret and kind != "dingtalk":
            raise ValueError("only a DingTalk robot is signed with a secret")
        if len(secret) > 200:
            raise ValueError("the robot's secret has at most 200 characters")
        out.append({"kind": kind, "url": url, "secret_sealed": seal(secret)})
    row = session.get(m.Setting, _key(park_id))
    if row is None:
        row = m.Setting(key=_key(park_id), value_json="[]")
        session.add(row)
    row.value_json, row.updated_by, row.updated_utc = json.dumps(out), by, m.utcnow()
    session.flush()
    return public_robots(session, park_id)


def wecom_payload(title: str, text: str) -> dict[str, Any]:
    """A WeCom markdown message (cut to the 4096-byte limit on a character boundary)."""
    content = f"**{title}**\n{text}"
    raw = content.encode("utf-8")
    if len(raw) > WECOM_MAX_BYTES:
        content = raw[: WECOM_MAX_BYTES - 3].decode("utf-8", "ignore") + "…"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_payload(title: str, text: str) -> dict[str, Any]:
    """A DingTalk markdown message (``title`` shows in the conversation list)."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n{text}"}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64 of HMAC-SHA256 keyed with the secret over ``timestamp + "\\n" +
    secret`` (not yet URL-encoded).

    >>> dingtalk_sign("this is secret", 1700000000000)
    'sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0='
    """
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot's URL with ``timestamp`` and ``sign`` added (URL-encoded)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"


def _post(target: webhooks.Target, body: bytes, timeout_s: float) -> tuple[int, bytes]:
    """POST JSON to the checked address (as :func:`.webhooks.post`, keeping the answer's body:
    both robots answer HTTP 200 with an ``errcode`` when they refuse a message)."""
    conn = (webhooks._PinnedHTTPS if target.scheme == "https" else webhooks._PinnedHTTP)(target, timeout_s)
    try:
        conn.request("POST", target.path, body=body,
                     headers={"Content-Type": "application/json", "User-Agent": "greenpark-robot"})  # fmt: skip
        resp = conn.getresponse()
        return int(resp.status), resp.read(4096)
    finally:
        conn.close()


def send(robot: dict[str, str], title: str, text: str, allow_private: bool = False,
         timeout_s: float = webhooks.TIMEOUT_S, now_ms: int | None = None) -> tuple[bool, str]:  # fmt: skip
    """Post one message to one robot: (delivered, a one-line result). Never raises for what the
    network or the robot does; the URL is checked again first."""
    kind, url = robot["kind"], robot["url"]
    payload = wecom_payload(title, text) if kind == "wecom" else dingtalk_payload(title, text)
    try:
        target = webhooks.check_url(url, allow_private)
        if kind == "dingtalk" and robot.get("secret"):
            ts = now_ms if now_ms is not None else int(time.time() * 1000)
            target = webhooks.check_url(dingtalk_signed_url(target.url, robot["secret"], ts), allow_private)
    except ValueError as exc:
        return False, f"refused: {exc}"
    try:
        status, answer = _post(target, json.dumps(payload, ensure_ascii=False).encode("utf-8"), timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"failed: {exc.__class__.__name__}: {exc}"
    if not 200 <= status < 300:
        return False, f"HTTP {status}"
    try:
        errcode = json.loads(answer or b"{}").get("errcode", 0)
    except (ValueError, AttributeError):
        errcode = 0
    if errcode not in (0, None):
        return False, f"refused by the robot: errcode {errcode}"
    return True, "sent"

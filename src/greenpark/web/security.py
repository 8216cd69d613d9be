"""The web server's edge, in one ASGI middleware: a request's URL and body size are checked before
anything reads them, and every response carries the security headers.

- URL: no control characters once decoded, query string at most 8 KiB (400/414).
- Body: at most ``MAX_JSON_BYTES`` for JSON and forms, ``MAX_MULTIPART_BYTES`` for file uploads;
  refused from Content-Length before reading, and counted while streaming (413 with the limit).
- Headers: a Content-Security-Policy without inline script (every page script is a file under
  /static), no framing, no MIME sniffing, no referrer to other sites.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenpark.services.tabular import MAX_UPLOAD_BYTES
from greenpark.web.validation import url_problem

#: JSON bodies and url-encoded forms.
MAX_JSON_BYTES = 1 << 20
#: A multipart upload: the largest accepted file plus room for the form's other fields.
MAX_MULTIPART_BYTES = MAX_UPLOAD_BYTES + (1 << 20)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


class BodyTooLarge(HTTPException):
    """Raised while the app reads a body past the limit; an HTTPException, so that whoever reads
    the body (a form parser, a JSON decoder) passes it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {_mib(limit)}")


def body_limit(headers: dict[bytes, bytes]) -> int:
    ctype = headers.get(b"content-type", b"").lower()
    return MAX_MULTIPART_BYTES if ctype.startswith(b"multipart/") else MAX_JSON_BYTES


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


class EdgeGuard:
    """See the module docstring. ``hsts``: also send Strict-Transport-Security (production)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = HEADERS + ([HSTS] if hsts else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                have = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((k, v) for k, v in self.headers if k not in have)]}  # fmt: skip
            await send(message)

        problem = url_problem(scope.get("path", ""), scope.get("query_string", b"").decode("latin-1"))
        if problem is not None:
            await _refuse(send_with_headers, *problem)
            return
        headers = dict(scope.get("headers", []))
        limit = body_limit(headers)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _refuse(send_with_headers, 400, "Content-Length is not a number")
                return
            if too_big:
                await _refuse(send_with_headers, 413, f"request body larger than {_mib(limit)}")
                return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _refuse(send_with_headers, 413, f"request body larger than {_mib(limit)}")


async def _refuse(send: Any, status: int, reason: str) -> None:
    body = json.dumps({"detail": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})

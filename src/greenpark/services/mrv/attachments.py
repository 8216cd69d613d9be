"""Supporting files of the cycle (invoices, meter photos, lab reports, declarations…): kept in the
database with their SHA-256, each upload logged.

Limits: :data:`MAX_BYTES` per file, the types of :data:`ALLOWED` (by extension, and the content must
look like it: a PDF starts with ``%PDF``, a PNG with its signature, a JPEG with ``FF D8 FF``, an
.xlsx or .docx is a zip, a .csv is UTF-8 or GB18030 text).

Who may: a file is read by whoever may read its enterprise's cycle records
(:func:`~greenpark.services.mrv.access.enterprise_in_reach`); it is added by the service that
owns it (evidence, report, non-conformity…), which checks the act first.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.mrv import log
from greenpark.services.mrv.access import Actor, NotFound, enterprise_in_reach
from greenpark.store import models as m

MAX_BYTES = 10 * 1024 * 1024
#: Extension → the content type the file is served with.
ALLOWED: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".csv": "text/csv",
}
MAX_FILES = 20


def _looks_like(ext: str, content: bytes) -> bool:
    if ext == ".pdf":
        return content.startswith(b"%PDF")
    if ext == ".png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if ext in (".xlsx", ".docx"):
        return content.startswith(b"PK\x03\x04")
    if ext == ".csv":
        for enc in ("utf-8-sig", "gb18030"):
            try:
                content.decode(enc)
                return b"\x00" not in content
            except UnicodeDecodeError:
                continue
        return False
    return False


def check_file(filename: str, content: bytes) -> tuple[str, str]:
    """The file's base name and content type, or ValueError saying why it is refused."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("a file needs a name of at most 200 characters without control characters")
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED:
        raise ValueError(
            f"{name}: only {', '.join(sorted({e.lstrip('.') for e in ALLOWED}))} files are accepted"
        )
    if len(content) > MAX_BYTES:
        raise ValueError(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if not content:
        raise ValueError(f"{name}: the file is empty")
    if not _looks_like(ext, content):
        raise ValueError(f"{name}: the content is not a {ext.lstrip('.')} file")
    return name, ALLOWED[ext]


def attachment_dict(a: m.MrvAttachment) -> dict[str, Any]:
    return {
        "id": a.id, "owner_kind": a.owner_kind, "owner_id": a.owner_id, "enterprise_id": a.enterprise_id,
        "filename": a.filename, "content_type": a.content_type, "size_bytes": a.size_bytes, "sha256": a.sha256,
        "uploaded_by": a.uploaded_by, "uploaded_utc": a.uploaded_utc.isoformat(timespec="seconds"),
        "url": f"/api/mrv/attachments/{a.id}/attachment",
    }  # fmt: skip


def add(
    session: Session, actor: Actor, *, enterprise_id: int | None, owner_kind: str, owner_id: int,
    filename: str, content: bytes,
) -> m.MrvAttachment:  # fmt: skip
    """Keep one file for an owner (the caller has checked the act); logged with its digest."""
    name, content_type = check_file(filename, content)
    digest = hashlib.sha256(content).hexdigest()
    row = m.MrvAttachment(
        park_id=actor.park_id, enterprise_id=enterprise_id, owner_kind=owner_kind, owner_id=owner_id,
        filename=name, content_type=content_type, size_bytes=len(content), sha256=digest, content=content,
        uploaded_by=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    log.append(session, actor=actor.username, action="attachment.upload", entity="mrv_attachment",
               entity_id=row.id, park_id=actor.park_id, enterprise_id=enterprise_id,
               payload={"owner_kind": owner_kind, "owner_id": owner_id, "filename": name,
                        "size_bytes": len(content), "sha256": digest})  # fmt: skip
    return row


def of_owner(session: Session, owner_kind: str, owner_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The files of owners (unscoped: the caller read the owners), without their content."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in owner_ids}
    if not owner_ids:
        return out
    a = m.MrvAttachment
    q = (select(a.id, a.owner_kind, a.owner_id, a.enterprise_id, a.filename, a.content_type, a.size_bytes,
                a.sha256, a.uploaded_by, a.uploaded_utc)
         .where(a.owner_kind == owner_kind, a.owner_id.in_(owner_ids)).order_by(a.id))  # fmt: skip
    for row in session.execute(q):
        out[row.owner_id].append(attachment_dict(row))  # type: ignore[arg-type]
    return out


def get(session: Session, actor: Actor, attachment_id: int) -> m.MrvAttachment:
    """A file the actor may read (its enterprise in reach, its park the actor's); NotFound otherwise."""
    row = session.get(m.MrvAttachment, attachment_id)
    if row is None or row.park_id != actor.park_id:
        raise NotFound("no such file")
    if row.enterprise_id is not None:
        try:
            enterprise_in_reach(session, actor, row.enterprise_id)
        except NotFound:
            raise NotFound("no such file") from None
    elif actor.role.value not in ("admin", "park_staff"):
        raise NotFound("no such file")
    return row

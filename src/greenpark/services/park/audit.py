"""The audit trail: who changed what, when, and from which value to which.

Every officer's change to a setting, a channel's limit, a device's key, a user or a token is
appended here in the same transaction as the change itself, so the history can never be out of
step with the data. Nothing here is ever updated or deleted.

Records keep their history here too (:class:`Changes`): every activity or economic record,
indicator value, project, land-use record, idle parcel, forest stand, sink project, period or
parameter and every row of the enterprise file that an import, a form or an API call creates,
changes or removes gets its events — one per changed field with the old and the new value (a
created record one event with its values, a removed one one event with what it held) — with who,
when and which batch (a file's name and digest, ``form``, ``api``). A re-import that changes
nothing adds nothing. Each record is named by a stable key a person can read (``entity`` and
``key``: ``activity_record`` ``enterprise:E01|2020||industry|all|electricity|表6.1.1``), so
:func:`history` answers "what happened to this record", and the enterprise and zone it belongs
to say who may read it (``web/scope.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from greenpark.i18n import N_, Msg
from greenpark.store import models as m


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    key: str = "",
    field: str = "",
    old: Any = None,
    new: Any = None,
    note: str = "",
    *,
    park_id: int | None = None,
    batch: str = "",
    enterprise_id: int | None = None,
    zone_id: int | None = None,
) -> m.AuditEvent:
    """Append one event (in the caller's transaction). ``old``/``new`` are stored as JSON; pass
    None for "nothing" (a created or a removed thing) and never pass a secret. ``enterprise_id``
    and ``zone_id``: whose record it is (who may read its history)."""
    ev = m.AuditEvent(
        actor=actor[:100],
        action=action[:32],
        entity=entity[:64],
        entity_key=str(key)[:200],
        field=field[:64],
        old_json=_json(old),
        new_json=_json(new),
        note=note,
        park_id=park_id,
        batch=batch[:200],
        enterprise_id=enterprise_id,
        zone_id=zone_id,
    )
    session.add(ev)
    return ev


def enterprise_of_outlet(session: Session, outlet_id: int | None) -> m.Enterprise | None:
    """The enterprise an outlet (and its monitoring points) belongs to: whose history a change is."""
    outlet = session.get(m.Outlet, outlet_id) if outlet_id is not None else None
    return session.get(m.Enterprise, outlet.enterprise_id) if outlet is not None else None


def changes(
    session: Session,
    entity: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The newest events first, optionally of one entity (and one key of it)."""
    t = m.AuditEvent
    stmt = select(t).order_by(t.id.desc()).limit(limit)
    if entity is not None:
        stmt = stmt.where(t.entity == entity)
    if key is not None:
        stmt = stmt.where(t.entity_key == key)
    if since is not None:
        stmt = stmt.where(t.at_utc >= since)
    return [event_dict(e) for e in session.scalars(stmt)]


def event_dict(e: m.AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at_utc": e.at_utc.isoformat() + "Z",
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "key": e.entity_key,
        "field": e.field,
        "old": json.loads(e.old_json) if e.old_json else None,
        "new": json.loads(e.new_json) if e.new_json else None,
        "note": e.note,
        "batch": e.batch,
        "park_id": e.park_id,
        "enterprise_id": e.enterprise_id,
    }


# ------------------------------------------------------------------------------ record history

#: The actor of a change no person made (a loader, a rule of greenpark's) when none is named.
SYSTEM = "greenpark"
#: What the trail holds instead of a secret's value (a data logger's PW): that it changed, never what to.
HIDDEN = "(hidden)"
#: Most events one history answer lists (an export of a park's whole history takes more).
HISTORY_LIMIT = 1_000
EXPORT_LIMIT = 100_000

#: The kinds of record that keep their history, for people (the codes are the events' ``entity``).
ENTITY_LABELS: dict[str, str] = {
    "activity_record": N_("Activity record"), "economic_record": N_("Economic record"),
    "indicator": N_("Indicator"), "indicator_target": N_("Indicator target"),
    "indicator_value": N_("Indicator value"), "project": N_("Project"), "project_effect": N_("Project effect"),
    "land_use": N_("Land-use record"), "idle_parcel": N_("Idle parcel"), "forest_stand": N_("Forest land"),
    "sink_project": N_("Sink project"), "sink_period": N_("Sink monitoring period"),
    "sink_parameter": N_("Forest parameter"), "river": N_("River"), "section": N_("Water section"),
    "outlet": N_("Outlet"), "source_point": N_("Monitoring point"), "channel": N_("Monitoring factor"),
    "permit": N_("Discharge permit"), "contact": N_("Contact"), "setting": N_("Setting"),
    "app_user": N_("User"), "api_token": N_("API token"), "user_session": N_("Session"), "park": N_("Park"),
    "zone": N_("Zone"), "enterprise": N_("Enterprise"), "monitoring_point": N_("Environmental monitoring point"),
    "plan_measure": N_("Plan measure"), "published_table": N_("Published table"),
    # the reporting and verification cycle (services/mrv)
    "mrv_body": N_("Verification body"), "mrv_body_member": N_("Verifier of a body"),
    "mrv_dqcp": N_("Data quality control plan"), "mrv_evidence": N_("Monthly evidence"),
    "mrv_unit_decision": N_("Key-unit decision"), "mrv_deadlines": N_("Reporting deadlines"),
}  # fmt: skip
#: Longest record key kept (the column's length); a longer key is kept, and asked for, cut to it.
KEY_MAX = 200
ACTION_LABELS: dict[str, str] = {
    "create": N_("created"), "change": N_("changed"), "delete": N_("removed"),
    "rekey": N_("device re-keyed"), "adopt": N_("device registered"),  # a monitoring point's PW (in its history)
    # the account events of services/park/auth.py
    "create_user": N_("user created"), "activate": N_("account activated"),
    "deactivate": N_("account deactivated"), "reset_password": N_("password reset"),
    "set_role": N_("role changed"), "create_token": N_("token created"), "revoke_token": N_("token revoked"),
    "end_session": N_("session ended"),
}  # fmt: skip
#: The batches that are greenpark's words, not a file's name: a change made on a page, or by an API call.
BATCH_LABELS: dict[str, str] = {
    "form": N_("form on a page"), "api": N_("API call"), "mrv": N_("reporting and verification cycle"),
}  # fmt: skip
#: The columns of a history export, in order (message ids).
EXPORT_COLUMNS = (
    ("at_utc", N_("Time (UTC)")), ("actor", N_("Who")), ("action_label", N_("Action")),
    ("entity_label", N_("Record kind")), ("key", N_("Record")), ("field_label", N_("Field")),
    ("old_text", N_("From")), ("new_text", N_("To")), ("batch_label", N_("Batch")),
)  # fmt: skip


def file_batch(filename: str, content: bytes) -> str:
    """The batch of an imported file: its name and the start of its SHA-256 digest (the same file
    imported twice is the same batch)."""
    return f"{Path(filename).name[:160]} sha256:{hashlib.sha256(content).hexdigest()[:16]}"


def values(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """A record's values of ``fields`` as they are now (what :meth:`Changes.record` compares)."""
    return {f: getattr(obj, f) for f in fields}


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


class Changes:
    """The history of one import, form or API call: who (``by``), which batch, which park.

    ``record`` compares a record's values before and after the change and keeps one event per
    changed field (a created record: one event with its values; a removed one: one event with
    what it held); ``write`` adds them to the caller's session in one ``add_all`` (the context
    manager writes on a clean exit). Nothing is kept when nothing changed.
    """

    def __init__(self, session: Session, by: str = "", batch: str = "", park_id: int | None = None) -> None:
        self.session = session
        self.actor = (by or SYSTEM)[:100]
        self.batch = batch[:200]
        self.park_id = park_id
        self.events: list[m.AuditEvent] = []
        self.records = 0  # records with at least one event

    def __enter__(self) -> Changes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.write()

    def _event(self, action: str, entity: str, key: str, fld: str, old: Any, new: Any, owner: tuple[int | None, int | None],
               note: str) -> None:  # fmt: skip
        self.events.append(m.AuditEvent(
            actor=self.actor, action=action, entity=entity[:64], entity_key=key[:KEY_MAX], field=fld[:64],
            old_json=_json(_plain(old)), new_json=_json(_plain(new)), note=note, park_id=self.park_id,
            batch=self.batch, enterprise_id=owner[0], zone_id=owner[1],
        ))  # fmt: skip

    def record(
        self,
        entity: str,
        key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        enterprise_id: int | None = None,
        zone_id: int | None = None,
        secret: Iterable[str] = (),
        note: str = "",
    ) -> int:
        """Keep what changed in one record (``before`` None: created; ``after`` None: removed);
        ``secret`` fields are kept as changed, never with their values. Returns the events added."""
        hidden = set(secret)
        owner = (enterprise_id, zone_id)
        n = len(self.events)

        def shown(vals: dict[str, Any]) -> dict[str, Any]:
            return {
                k: HIDDEN if k in hidden else _plain(v) for k, v in vals.items() if v is not None and v != ""
            }

        if before is None and after is not None:
            self._event("create", entity, key, "", None, shown(after), owner, note)
        elif after is None and before is not None:
            self._event("delete", entity, key, "", shown(before), None, owner, note)
        elif before is not None and after is not None:
            for k, new in after.items():
                old = before.get(k)
                if old == new:
                    continue
                if k in hidden:
                    self._event("change", entity, key, k, HIDDEN, HIDDEN, owner, note)
                else:
                    self._event("change", entity, key, k, old, new, owner, note)
        added = len(self.events) - n
        self.records += bool(added)
        return added

    def write(self) -> int:
        """Add the collected events to the session (one ``add_all``); returns how many."""
        n = len(self.events)
        if n:
            at = m.utcnow()
            for ev in self.events:
                ev.at_utc = at
            self.session.add_all(self.events)
            self.events = []
        return n


@dataclass(frozen=True)
class Reach:
    """Whose records' history a reader may see in a park: every record (``whole_park``), or those
    of some enterprises and, for a zone's officer, the zone's own records (the rule itself is in
    ``web/scope.py``)."""

    whole_park: bool = False
    enterprise_ids: frozenset[int] = frozenset()
    zone_id: int | None = None

    def clause(self) -> ColumnElement[bool]:
        t = m.AuditEvent
        if self.whole_park:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.enterprise_ids:
            parts.append(t.enterprise_id.in_(sorted(self.enterprise_ids)))
        if self.zone_id is not None:
            parts.append(t.zone_id == self.zone_id)
        return or_(*parts) if parts else false()


EVERY_RECORD = Reach(whole_park=True)


@dataclass(frozen=True)
class HistoryQuery:
    """Which events to list: of one park, optionally of one kind of record (and one record of it),
    one batch, since a day, one enterprise's records; within what the reader may see."""

    park_id: int | None
    entity: str | None = None
    key: str | None = None
    batch: str | None = None
    since: datetime | None = None
    enterprise_id: int | None = None
    reach: Reach = field(default=EVERY_RECORD)

    def record_clause(self) -> ColumnElement[bool]:
        """The events of the park, kind, record, batch, time and enterprise asked for."""
        t = m.AuditEvent
        parts: list[ColumnElement[bool]] = []
        if self.park_id is not None:
            parts.append(t.park_id == self.park_id)
        if self.entity is not None:
            parts.append(t.entity == self.entity)
        if self.key is not None:
            parts.append(t.entity_key == self.key[:KEY_MAX])
        if self.batch is not None:
            parts.append(t.batch == self.batch)
        if self.since is not None:
            parts.append(t.at_utc >= self.since)
        if self.enterprise_id is not None:
            parts.append(t.enterprise_id == self.enterprise_id)
        return and_(true(), *parts)


def find(session: Session, q: HistoryQuery, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The events ``q`` asks for that its reader may see, newest first, with labels and texts."""
    t = m.AuditEvent
    # newest change first; the fields of one change in the record's order
    stmt = select(t).where(q.record_clause(), q.reach.clause()).order_by(t.at_utc.desc(), t.id).limit(limit)
    return [history_dict(e) for e in session.scalars(stmt)]


def history(
    session: Session,
    entity: str | None = None,
    key: str | None = None,
    park_id: int | None = None,
    *,
    batch: str | None = None,
    since: datetime | None = None,
    enterprise_id: int | None = None,
    reach: Reach = EVERY_RECORD,
    limit: int = HISTORY_LIMIT,
) -> list[dict[str, Any]]:
    """The history of one record (``entity`` and ``key``), of a kind of record, a batch or a whole
    park, newest first: who, when, which field, from what, to what, which batch."""
    return find(session, HistoryQuery(park_id, entity, key, batch, since, enterprise_id, reach), limit)


def outside_reach(session: Session, q: HistoryQuery) -> bool:
    """Whether the records ``q`` names have events its reader may not see (another enterprise's)."""
    t = m.AuditEvent
    # counted, not negated: NOT (enterprise_id IN …) is NULL, not true, for a park's own records
    every = session.scalar(select(func.count(t.id)).where(q.record_clause())) or 0
    seen = session.scalar(select(func.count(t.id)).where(q.record_clause(), q.reach.clause())) or 0
    return every > seen


def field_label(name: str) -> str:
    """A field's name for people (the import's column label; its own name when there is none)."""
    from greenpark.services.tabular import column_label

    return column_label(name)


def _value_labels() -> dict[str, dict[str, str]]:
    from greenpark.i18n import labels

    return {"sector": labels.SECTOR, "boundary": labels.BOUNDARY, "unit": labels.UNIT}


def value_text(v: Any, name: str = "") -> str:
    """A recorded value as a person reads it: a code greenpark names (a sector, a boundary, a unit)
    by its name, a created record's values as 'label: value; …'."""
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return Msg("yes") if v else Msg("no")
    if isinstance(v, float):
        return f"{v:.12g}"
    if isinstance(v, dict):
        return "; ".join(f"{field_label(k)}: {value_text(x, k)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(value_text(x, name) for x in v)
    names = _value_labels().get(name, {})
    return Msg(names[v]) if isinstance(v, str) and names.get(v) else str(v)


def history_dict(e: m.AuditEvent) -> dict[str, Any]:
    """An event as the history shows it: its values and their labels and texts for people."""
    d = event_dict(e)
    d["entity_label"] = Msg(ENTITY_LABELS[e.entity]) if e.entity in ENTITY_LABELS else e.entity
    d["action_label"] = Msg(ACTION_LABELS[e.action]) if e.action in ACTION_LABELS else e.action
    d["field_label"] = field_label(e.field) if e.field else ""
    d["old_text"] = value_text(d["old"], e.field)
    d["new_text"] = value_text(d["new"], e.field)
    d["batch_label"] = Msg(BATCH_LABELS[e.batch]) if e.batch in BATCH_LABELS else e.batch
    return d


def _export_cell(row: dict[str, Any], col: str) -> Any:
    v = row.get(col)
    return str(v) if isinstance(v, Msg) else v


def history_workbook(rows: list[dict[str, Any]]) -> bytes:
    """History rows (:func:`history`) as an xlsx workbook, headers in the language of the answer."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from greenpark.services.tabular import export_text, workbook_bytes

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "history"
    ws.append([str(Msg(label)) for _c, label in EXPORT_COLUMNS])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([export_text(_export_cell(r, c)) for c, _label in EXPORT_COLUMNS])
    for letter, width in zip("ABCDEFGHI", (22, 16, 10, 16, 40, 18, 30, 30, 40), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)


def history_csv(rows: list[dict[str, Any]]) -> bytes:
    """History rows as CSV (UTF-8 with a byte-order mark, as Excel in China opens it)."""
    from greenpark.services.tabular import csv_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([str(Msg(label)) for _c, label in EXPORT_COLUMNS])
    for r in rows:
        w.writerow([csv_text(_export_cell(r, c)) for c, _label in EXPORT_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")

"""The data quality control plan (数据质量控制计划, DQCP) of an enterprise, in versions.

A version says the enterprise's boundary and emission facilities and, for every parameter (fuel
quantity, NCV, carbon content, oxidation rate, purchased electricity and heat, output, process
inputs — ``rules.yaml`` ``dqcp_parameters``), how it is determined: method (measured, default,
calculated, supplier), meter, accuracy, calibration, monitoring and recording frequency, the
missing-data rule (required: conservative, never underestimating emissions) and the responsible
department (2021 verification guide 4.2.1.6 d).

Version 1 needs no trigger; every later one names one of the guide's five revision triggers
(``dqcp_revision_triggers``, 4.2.1.6 a) and a note, and the version before becomes ``superseded``.
A filed version is never edited.

Who may: whoever may read the enterprise's cycle records reads its plans; the enterprise's own
users, park staff and admins file them (``dqcp.file``).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.mrv import log, rules
from greenpark.services.mrv.access import Actor, NotFound, enterprise_in_reach, require
from greenpark.services.park.audit import Changes
from greenpark.store import models as m

METHODS = ("measured", "default", "calculated", "supplier")
#: The fields of a parameter row, with their longest text (the table's column widths).
PARAMETER_FIELDS: dict[str, int] = {
    "parameter": 32, "item": 64, "unit": 32, "method": 32, "meter": 200, "accuracy": 64, "calibration": 200,
    "monitoring_frequency": 64, "recording_frequency": 64, "missing_data_rule": 2_000, "department": 200,
}  # fmt: skip
FACILITY_FIELDS = ("code", "name", "location", "sources")
MAX_PARAMETERS = 200
MAX_FACILITIES = 200


def triggers() -> list[str]:
    return list(rules.shipped_rules()["dqcp_revision_triggers"])


def parameters() -> list[str]:
    return list(rules.shipped_rules()["dqcp_parameters"])


def _text(d: dict[str, Any], key: str, max_len: int, where: str) -> str:
    v = d.get(key, "")
    if v is None:
        v = ""
    if not isinstance(v, str | int | float) or isinstance(v, bool):
        raise ValueError(f"{where}: {key} must be text")
    v = str(v).strip()
    if len(v) > max_len:
        raise ValueError(f"{where}: {key} is longer than {max_len} characters")
    return v


def check_plan(data: dict[str, Any]) -> dict[str, Any]:
    """The plan's content, checked and normalised (ValueError naming the field otherwise)."""
    if not isinstance(data, dict):
        raise ValueError("the plan must be an object")
    allowed_params = parameters()
    out: dict[str, Any] = {
        "guideline": _text(data, "guideline", 64, "plan"),
        "boundary": _text(data, "boundary", 20_000, "plan"),
        "revision_trigger": _text(data, "revision_trigger", 32, "plan"),
        "revision_note": _text(data, "revision_note", 20_000, "plan"),
    }
    vf = data.get("valid_from")
    try:
        out["valid_from"] = date.fromisoformat(str(vf)) if vf else None
    except ValueError:
        raise ValueError("plan: valid_from must be a date (YYYY-MM-DD)") from None
    facilities = data.get("facilities") or []
    if not isinstance(facilities, list) or len(facilities) > MAX_FACILITIES:
        raise ValueError(f"plan: facilities must be a list of at most {MAX_FACILITIES}")
    out["facilities"] = []
    for i, f in enumerate(facilities, 1):
        if not isinstance(f, dict):
            raise ValueError(f"facility {i}: must be an object")
        row = {k: _text(f, k, 400, f"facility {i}") for k in FACILITY_FIELDS}
        if not row["code"] and not row["name"]:
            raise ValueError(f"facility {i}: give its code or name")
        out["facilities"].append(row)
    params = data.get("parameters") or []
    if not isinstance(params, list) or not params:
        raise ValueError("plan: list at least one parameter and how it is determined")
    if len(params) > MAX_PARAMETERS:
        raise ValueError(f"plan: at most {MAX_PARAMETERS} parameters")
    out["parameters"] = []
    seen: set[tuple[str, str]] = set()
    for i, p in enumerate(params, 1):
        if not isinstance(p, dict):
            raise ValueError(f"parameter {i}: must be an object")
        row = {k: _text(p, k, n, f"parameter {i}") for k, n in PARAMETER_FIELDS.items()}
        if row["parameter"] not in allowed_params:
            raise ValueError(f"parameter {i}: {row['parameter']!r} is not one of {', '.join(allowed_params)}")
        if row["method"] not in METHODS:
            raise ValueError(f"parameter {i}: method must be one of {', '.join(METHODS)}")
        if not row["missing_data_rule"]:
            raise ValueError(
                f"parameter {i}: the missing-data rule is required (conservative: never underestimate emissions)"
            )
        key = (row["parameter"], row["item"])
        if key in seen:
            raise ValueError(f"parameter {i}: {row['parameter']} {row['item']} is listed twice")
        seen.add(key)
        out["parameters"].append(row)
    return out


def _param_dict(p: m.MrvDqcpParameter) -> dict[str, Any]:
    return {k: getattr(p, k) for k in PARAMETER_FIELDS}


def plan_dict(d: m.MrvDqcp, code: str = "", with_parameters: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id, "enterprise_id": d.enterprise_id, "enterprise": code, "version": d.version, "status": d.status,
        "revision_trigger": d.revision_trigger, "revision_note": d.revision_note, "guideline": d.guideline,
        "boundary": d.boundary, "facilities": json.loads(d.facilities_json or "[]"),
        "valid_from": d.valid_from.isoformat(), "filed_by": d.filed_by,
        "filed_utc": d.filed_utc.isoformat(timespec="seconds"), "parameter_count": len(d.parameters),
    }  # fmt: skip
    if with_parameters:
        out["parameters"] = [_param_dict(p) for p in d.parameters]
    return out


def current_plan(session: Session, enterprise_id: int) -> m.MrvDqcp | None:
    """The enterprise's filed (current) version, unscoped (callers check the reader first)."""
    q = select(m.MrvDqcp).where(m.MrvDqcp.enterprise_id == enterprise_id).order_by(m.MrvDqcp.version.desc())
    return session.scalars(q.limit(1)).first()


def file_plan(
    session: Session, actor: Actor, enterprise_id: int, data: dict[str, Any], today: date | None = None
) -> dict[str, Any]:
    """File a new version of the enterprise's plan (see the module). Returns the version filed."""
    require(session, actor, "dqcp.file", enterprise_id)
    ent = enterprise_in_reach(session, actor, enterprise_id)
    plan = check_plan(data)
    prev = current_plan(session, enterprise_id)
    version = 1 if prev is None else prev.version + 1
    if version > 1:
        if plan["revision_trigger"] not in triggers():
            raise ValueError(
                f"version {version} is a revision: name its trigger, one of {', '.join(triggers())}"
            )
        if not plan["revision_note"]:
            raise ValueError(f"version {version} is a revision: say what changed and why (revision_note)")
    else:
        plan["revision_trigger"] = ""
    row = m.MrvDqcp(
        enterprise_id=enterprise_id, version=version, status="filed", revision_trigger=plan["revision_trigger"],
        revision_note=plan["revision_note"], guideline=plan["guideline"], boundary=plan["boundary"],
        facilities_json=json.dumps(plan["facilities"], ensure_ascii=False),
        valid_from=plan["valid_from"] or today or m.utcnow().date(), filed_by=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    for p in plan["parameters"]:
        session.add(m.MrvDqcpParameter(dqcp_id=row.id, **p))
    with Changes(session, by=actor.username, batch="mrv", park_id=actor.park_id) as ch:
        if prev is not None:
            prev.status = "superseded"
            ch.record("mrv_dqcp", f"{ent.code}|v{prev.version}", {"status": "filed"}, {"status": "superseded"},
                      enterprise_id=enterprise_id, zone_id=ent.zone_id)  # fmt: skip
        ch.record("mrv_dqcp", f"{ent.code}|v{version}", None,
                  {"version": version, "revision_trigger": row.revision_trigger, "parameters": len(plan["parameters"])},
                  enterprise_id=enterprise_id, zone_id=ent.zone_id)  # fmt: skip
    session.flush()
    session.refresh(row)
    out = plan_dict(row, ent.code)
    log.append(session, actor=actor.username, action="dqcp.file", entity="mrv_dqcp", entity_id=row.id,
               park_id=actor.park_id, enterprise_id=enterprise_id,
               payload={k: v for k, v in out.items() if k not in ("filed_utc", "id")})  # fmt: skip
    return out


def list_plans(session: Session, actor: Actor, enterprise_id: int) -> list[dict[str, Any]]:
    """Every version of the enterprise's plan, newest first (without their parameter tables)."""
    ent = enterprise_in_reach(session, actor, enterprise_id)
    q = select(m.MrvDqcp).where(m.MrvDqcp.enterprise_id == enterprise_id).order_by(m.MrvDqcp.version.desc())
    return [plan_dict(d, ent.code, with_parameters=False) for d in session.scalars(q)]


def show_plan(
    session: Session, actor: Actor, enterprise_id: int, version: int | None = None
) -> dict[str, Any]:
    """One version (default: the current one) with its parameters; NotFound when there is none."""
    ent = enterprise_in_reach(session, actor, enterprise_id)
    if version is None:
        d = current_plan(session, enterprise_id)
    else:
        q = select(m.MrvDqcp).where(m.MrvDqcp.enterprise_id == enterprise_id, m.MrvDqcp.version == version)
        d = session.scalars(q).first()
    if d is None:
        raise NotFound("no such plan version")
    return plan_dict(d, ent.code)


def diff_plans(session: Session, actor: Actor, enterprise_id: int, old: int, new: int) -> dict[str, Any]:
    """What changed from version ``old`` to ``new``: the plan's fields, and the parameters added,
    removed and changed (a parameter is known by its parameter and item)."""
    a, b = (show_plan(session, actor, enterprise_id, v) for v in (old, new))
    fields = [k for k in ("guideline", "boundary", "facilities", "valid_from") if a[k] != b[k]]
    pa = {(p["parameter"], p["item"]): p for p in a["parameters"]}
    pb = {(p["parameter"], p["item"]): p for p in b["parameters"]}
    changed = []
    for key in sorted(pa.keys() & pb.keys()):
        diffs = {
            f: {"old": pa[key][f], "new": pb[key][f]} for f in PARAMETER_FIELDS if pa[key][f] != pb[key][f]
        }
        if diffs:
            changed.append({"parameter": key[0], "item": key[1], "fields": diffs})
    return {
        "enterprise_id": enterprise_id, "old": old, "new": new, "revision_trigger": b["revision_trigger"],
        "revision_note": b["revision_note"], "fields": fields,
        "added": [pb[k] for k in sorted(pb.keys() - pa.keys())],
        "removed": [pa[k] for k in sorted(pa.keys() - pb.keys())], "changed": changed,
    }  # fmt: skip


# --------------------------------------------------------------------------- the Excel form

PLAN_KEYS = ("guideline", "boundary", "valid_from", "revision_trigger", "revision_note")


def plan_workbook(plan: dict[str, Any] | None = None) -> bytes:
    """The plan as an Excel form: sheets ``plan`` (key, value), ``facilities`` and ``parameters``
    (one column per field), filled in with ``plan`` (e.g. the current version, to revise) or empty;
    a ``help`` sheet lists the parameters, methods and revision triggers allowed."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from greenpark.services.tabular import export_text, workbook_bytes

    plan = plan or {}
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "plan"
    ws.append(["key", "value"])
    for k in PLAN_KEYS:
        ws.append([k, export_text(str(plan.get(k) or "")) if k != "revision_trigger" else ""])
    sheets = (
        ("facilities", list(FACILITY_FIELDS), plan.get("facilities") or []),
        ("parameters", list(PARAMETER_FIELDS), plan.get("parameters") or []),
    )
    for title, cols, rows in sheets:
        sh = wb.create_sheet(title)
        sh.append(cols)
        for r in rows:
            sh.append([export_text(str(r.get(c) or "")) for c in cols])
    helper = wb.create_sheet("help")
    helper.append(["field", "allowed values"])
    helper.append(["parameters.parameter", ", ".join(parameters())])
    helper.append(["parameters.method", ", ".join(METHODS)])
    helper.append(["parameters.missing_data_rule", "required; conservative: never underestimate emissions"])
    helper.append(["plan.revision_trigger", "version 2 on: " + ", ".join(triggers())])
    for sh in wb.worksheets:
        for c in sh[1]:
            c.font = Font(bold=True)
    return workbook_bytes(wb)


def plan_from_workbook(filename: str, content: bytes) -> dict[str, Any]:
    """The plan of an Excel form (:func:`plan_workbook`), not yet checked (:func:`file_plan`
    checks it: "parameter i" is row i + 1 of the ``parameters`` sheet). ValueError for a file that
    is not such a form."""
    from greenpark.services.tabular import TableRejected, read_sheets

    try:
        sheets = {s.title.strip().lower(): s for s in read_sheets(filename, content)}
    except TableRejected as exc:
        raise ValueError(str(exc)) from None
    if "plan" not in sheets or "parameters" not in sheets:
        raise ValueError(
            f"{filename}: not a plan form (sheets plan and parameters, see `greenpark mrv dqcp template`)"
        )

    def text(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return v.isoformat()[:10] if isinstance(v, date) else str(v).strip()

    out: dict[str, Any] = {}
    for _row, rec in sheets["plan"].records():
        key = text(rec.get("key"))
        if key in PLAN_KEYS:
            out[key] = text(rec.get("value"))
    out["facilities"] = [
        {c: text(rec.get(c)) for c in FACILITY_FIELDS}
        for _row, rec in (sheets["facilities"].records() if "facilities" in sheets else [])
    ]
    out["parameters"] = [
        {c: text(rec.get(c)) for c in PARAMETER_FIELDS} for _row, rec in sheets["parameters"].records()
    ]
    return out

"""The enterprise file (一企一档): rivers and sections, outlets, monitoring points (data loggers with
MN/PW), channels with limits, permits and contacts; its Excel/CSV import (all or nothing, errors by
file, sheet, row and column) and the demo file; park settings for ingestion and alarms."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypedDict

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.hj212.codes import code_info
from greenpark.i18n import N_, Msg, catalogue
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.services.tabular import (
    CellError,
    TableRejected,
    column_label,
    export_text,
    read_sheets,
    workbook_bytes,
)
from greenpark.store import models as m

#: Sheets of the enterprise-file workbook in import order: name -> (zh alias, columns, required).
SHEETS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "rivers": ("河流", ("code", "name", "parent", "confluence_km", "note"), ("code", "name")),
    "sections": (
        "断面",
        ("section", "river", "km", "target_class", "water_body", "note"),
        ("section", "river", "km"),
    ),
    "outlets": (
        "排口",
        (
            "enterprise",
            "code",
            "name",
            "medium",
            "latitude",
            "longitude",
            "receiving_water",
            "river",
            "river_km",
            "discharge_rule",
            "note",
        ),
        ("enterprise", "code", "name", "medium"),
    ),
    "points": (
        "监测点",
        ("enterprise", "outlet", "mn", "pw", "edition", "maker", "model"),
        ("enterprise", "outlet", "mn", "pw"),
    ),
    "channels": (
        "监测因子",
        (
            "mn",
            "code",
            "name",
            "unit",
            "limit_value",
            "limit_standard",
            "pre_alarm_ratio",
            "use_zs",
            "is_flow",
            "flat_line_readings",
        ),
        ("mn", "code"),
    ),
    "permits": (
        "许可证",
        ("enterprise", "number", "management", "issuer", "valid_from", "valid_to", "note"),
        ("enterprise", "number"),
    ),
    "contacts": ("联系人", ("enterprise", "name", "role", "phone", "email"), ("enterprise", "name")),
}
#: What each sheet of the file holds, for people (a sheet keeps its English and Chinese names above).
SHEET_LABELS = {
    "rivers": N_("Rivers"), "sections": N_("Water sections"), "outlets": N_("Outlets"),
    "points": N_("Monitoring points"), "channels": N_("Monitoring factors"), "permits": N_("Discharge permits"),
    "contacts": N_("Contacts"),
}  # fmt: skip
#: The pollutants of HJ 212-2017 Appendix B (Tables B.1 water, B.2 flue gas) by code, as message ids:
#: the catalogue's Chinese is the standard's name (the flows as 污水流量/废气流量, a34013 as GB
#: emission standards name it, 颗粒物). A channel is shown by this name in the reader's language; the
#: name its row of the file gives is kept as it was typed.
POLLUTANT_NAMES = {
    "w00000": N_("Waste water flow"), "w01001": N_("pH"), "w01009": N_("Dissolved oxygen"),
    "w01010": N_("Water temperature"), "w01012": N_("Suspended solids"), "w01014": N_("Conductivity"),
    "w01017": N_("BOD₅"), "w01018": N_("COD"), "w01019": N_("Permanganate index"),
    "w01020": N_("Total organic carbon"), "w21001": N_("Total nitrogen"), "w21003": N_("Ammonia nitrogen"),
    "w21011": N_("Total phosphorus"), "w21016": N_("Cyanide"), "w22001": N_("Petroleum"),
    "w23002": N_("Volatile phenols"), "w20116": N_("Total chromium"), "w20117": N_("Hexavalent chromium"),
    "w20111": N_("Total mercury"), "w20115": N_("Total cadmium"), "w20119": N_("Total arsenic"),
    "w20120": N_("Total lead"), "w20121": N_("Total nickel"), "w20122": N_("Total copper"),
    "w20123": N_("Total zinc"), "a00000": N_("Flue gas flow"), "a01011": N_("Flue gas velocity"),
    "a01012": N_("Flue gas temperature"), "a01013": N_("Flue gas pressure"), "a01014": N_("Flue gas humidity"),
    "a01015": N_("Cooler temperature"), "a01016": N_("Flue cross-section"), "a01017": N_("Flue gas dynamic pressure"),
    "a19001": N_("Oxygen content"), "a21002": N_("Nitrogen oxides"), "a21005": N_("Carbon monoxide"),
    "a21018": N_("Fluoride"), "a21024": N_("Hydrogen chloride"), "a21026": N_("Sulphur dioxide"),
    "a21028": N_("Hydrogen sulphide"), "a34013": N_("Particulate matter"),
}  # fmt: skip


def note_label(note: str | None) -> Msg | None:
    """A note greenpark itself wrote on a record (a message of its catalogue), as a message for
    any language; None for a note someone typed (data)."""
    return Msg(note) if note and note in catalogue("zh") else None


def pollutant_name(code: str) -> Msg | None:
    """The name of the pollutant of an HJ 212-2017 code, in the language of the answer (None for a
    code outside Appendix B, e.g. a maker's own: its name in the file is then all there is)."""
    msgid = POLLUTANT_NAMES.get(code)
    return Msg(msgid) if msgid else None


EDITIONS = ("2005", "2017", "2025")
MEDIA = ("water", "gas")
CLASSES = ("I", "II", "III", "IV", "V")

#: Park settings with defaults (thresholds of the early-warning rules, ingestion housekeeping).
SETTINGS_DEFAULTS: dict[str, Any] = {
    "pre_alarm_ratio": 0.8,  # pre-alarm when the hourly value reaches this share of the limit
    "missing_hours": 2,  # no hourly data for this many complete hours
    "offline_minutes": 30,  # no frame at all for this long
    "abnormal_flag_hours": 4,  # F, M, D, C, T or B flags lasting this long
    "flat_line_readings": 12,  # the same value this many readings in a row while the process runs
    "collapse_ratio": 0.3,  # concentration falls below this share of the previous day's mean ...
    "collapse_flow_tolerance": 0.2,  # ... while the flow stays within ± this share
    "near_limit_low": 0.9,  # values held in [low × limit, limit) ...
    "near_limit_share": 0.8,  # ... for at least this share of the hours ...
    "near_limit_hours": 24,  # ... of this many hours
    "near_limit_max_cv": 0.05,  # ... with a coefficient of variation at most this
    "maintenance_hours": 12,  # hours flagged M within maintenance_window_hours
    "maintenance_window_hours": 48,
    "auto_close": False,  # close alarms by themselves once the condition has cleared
    "webhook_url": "",  # POST every new alarm as JSON here (empty: none)
    "webhook_allow_private": False,  # admins only: allow a webhook on a private or loopback address
    "raw_retention_days": 180,  # raw frames older than this are deleted
    "wrong_pw_quiet_minutes": 60,  # a wrong-PW alarm clears after this long without a wrong-PW frame
}


#: Each setting's name and unit as the settings form and its error messages show them (catalogue ids).
SETTING_LABELS: dict[str, tuple[str, str]] = {
    "pre_alarm_ratio": (N_("Pre-alarm at this share of the limit"), ""),
    "missing_hours": (N_("Missing data after"), N_("hours")),
    "offline_minutes": (N_("Offline after"), N_("minutes")),
    "abnormal_flag_hours": (N_("Abnormal flags lasting"), N_("hours")),
    "flat_line_readings": (N_("Flat line after this many readings in a row"), N_("readings")),
    "collapse_ratio": (N_("Concentration collapse below this share of the day before"), ""),
    "collapse_flow_tolerance": (N_("while the flow stays within ±"), ""),
    "near_limit_low": (N_("Held under the limit: from this share of it"), ""),
    "near_limit_share": (N_("… for this share of the hours"), ""),
    "near_limit_hours": (N_("… of this many hours"), N_("hours")),
    "near_limit_max_cv": (N_("… with a variation coefficient at most"), ""),
    "maintenance_hours": (N_("Long maintenance: M-flagged hours"), N_("hours")),
    "maintenance_window_hours": (N_("… within"), N_("hours")),
    "auto_close": (N_("Close alarms by themselves once cleared"), ""),
    "webhook_url": (N_("Alarm webhook (http/https, public address)"), ""),
    "webhook_allow_private": (N_("Allow webhooks to private addresses (admins only)"), ""),
    "raw_retention_days": (N_("Keep raw frames for"), N_("days")),
    "wrong_pw_quiet_minutes": (N_("Wrong-password alarm clears after quiet"), N_("minutes")),
}


def setting_label(key: str) -> str:
    """A setting's name in the language of the answer (its key when it has none)."""
    return Msg(SETTING_LABELS[key][0]) if key in SETTING_LABELS else key


class SourceFileRejected(TableRejected):
    """An enterprise-file upload was refused; nothing was imported."""


# Settings


def settings(session: Session) -> dict[str, Any]:
    out = dict(SETTINGS_DEFAULTS)
    for s in session.scalars(select(m.Setting)):
        if s.key in out:
            out[s.key] = json.loads(s.value_json)
    return out


#: The range of each numeric setting: (smallest, largest, whole numbers only). A setting outside its
#: range is refused (a retention of 0 days would delete every raw frame).
SETTING_RANGES: dict[str, tuple[float, float, bool]] = {
    "pre_alarm_ratio": (0.01, 1.0, False),
    "missing_hours": (1, 168, True),
    "offline_minutes": (1, 10_080, True),
    "abnormal_flag_hours": (1, 168, True),
    "flat_line_readings": (2, 10_000, True),
    "collapse_ratio": (0.01, 0.99, False),
    "collapse_flow_tolerance": (0.0, 1.0, False),
    "near_limit_low": (0.01, 0.99, False),
    "near_limit_share": (0.01, 1.0, False),
    "near_limit_hours": (1, 2_160, True),
    "near_limit_max_cv": (0.0, 1.0, False),
    "maintenance_hours": (1, 720, True),
    "maintenance_window_hours": (1, 2_160, True),
    "raw_retention_days": (1, 3_650, True),
    "wrong_pw_quiet_minutes": (1, 1_440, True),
}


def settings_spec(session: Session) -> list[dict[str, Any]]:
    """Each setting with its current value, kind and range (for forms)."""
    current = settings(session)
    out = []
    for key, default in SETTINGS_DEFAULTS.items():
        kind = (
            "bool" if isinstance(default, bool) else "number" if isinstance(default, int | float) else "text"
        )
        lo, hi, whole = SETTING_RANGES.get(key, (None, None, False))
        name, unit = SETTING_LABELS.get(key, (key, ""))
        out.append({"key": key, "value": current[key], "default": default, "kind": kind, "min": lo, "max": hi,
                    "whole": whole, "label": Msg(name), "unit": Msg(unit) if unit else ""})  # fmt: skip
    return out


def check_setting(key: str, value: Any, allow_private_webhook: bool = False) -> Any:
    """The value as it will be stored, or ValueError saying why it is refused."""
    if key not in SETTINGS_DEFAULTS:
        raise ValueError(
            Msg("unknown setting {key}; known: {known}", key=repr(key), known=", ".join(SETTINGS_DEFAULTS))
        )
    default = SETTINGS_DEFAULTS[key]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(Msg("{key} must be true or false", key=setting_label(key)))
        return value
    if isinstance(default, int | float):
        lo, hi, whole = SETTING_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(Msg("{key} must be a number", key=setting_label(key)))
        if not lo <= value <= hi:
            raise ValueError(
                Msg("{key} must be between {lo} and {hi}", key=setting_label(key), lo=f"{lo:g}", hi=f"{hi:g}")
            )
        if whole:
            if value != int(value):
                raise ValueError(Msg("{key} must be a whole number", key=setting_label(key)))
            return int(value)
        return float(value)
    if not isinstance(value, str):
        raise ValueError(Msg("{key} must be text", key=setting_label(key)))
    if key == "webhook_url" and value.strip():
        from greenpark.services.notifications.webhooks import validate_url

        return validate_url(value.strip(), allow_private=allow_private_webhook)
    return value.strip()


def set_setting(session: Session, key: str, value: Any, by: str = "") -> None:
    """Change one setting (checked against its range); the change is kept in the audit trail."""
    set_settings(session, {key: value}, by)


def set_settings(session: Session, changes: dict[str, Any], by: str = "") -> dict[str, Any]:
    """Change several settings at once, all or none; each change is appended to the audit trail
    with who, when, the old and the new value. Returns what changed."""
    current = settings(session)
    allow = changes.get("webhook_allow_private", current["webhook_allow_private"])
    clean = {k: check_setting(k, v, allow_private_webhook=bool(allow)) for k, v in changes.items()}
    merged = {**current, **clean}
    if merged["maintenance_window_hours"] < merged["maintenance_hours"]:
        raise ValueError(Msg("maintenance_window_hours must be at least maintenance_hours"))
    changed = {}
    for key, value in clean.items():
        if current[key] == value and session.get(m.Setting, key) is not None:
            continue
        row = session.get(m.Setting, key) or m.Setting(key=key)
        row.value_json, row.updated_by, row.updated_utc = json.dumps(value), by[:100], m.utcnow()
        session.add(row)
        audit.record(session, by, "change", "setting", key=key, field=key, old=current[key], new=value)
        changed[key] = value
    session.flush()
    return changed


# Reading and validating the file


@dataclass
class _Sheet:
    file: str
    sheet: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def read_source_file(filename: str, content: bytes) -> dict[str, _Sheet]:
    """Sheets of an enterprise-file workbook (xlsx: one sheet per table, English or Chinese name;
    csv: one table named by the file stem, e.g. ``outlets.csv``)."""
    out: dict[str, _Sheet] = {}
    alias = {zh: en for en, (zh, _c, _r) in SHEETS.items()}
    if Path(filename).suffix.lower() == ".csv":
        kind = alias.get(Path(filename).stem, Path(filename).stem.lower())
        if kind not in SHEETS:
            raise SourceFileRejected(
                [
                    CellError(
                        filename,
                        "",
                        0,
                        "",
                        Msg("name the CSV file after its table: {tables}", tables=", ".join(SHEETS)),
                    )
                ]
            )
    for sh in read_sheets(filename, content, SourceFileRejected):
        name = sh.title.strip() or Path(filename).stem
        kind = alias.get(name, name.lower())
        if kind not in SHEETS:
            continue
        out[kind] = _Sheet(filename, sh.title, sh.records())
    if not out:
        raise SourceFileRejected(
            [
                CellError(
                    filename,
                    "",
                    0,
                    "",
                    Msg(
                        "no sheet named {tables} (or {aliases}, …)",
                        tables=", ".join(SHEETS),
                        aliases="排口, 监测点",
                    ),
                )
            ]
        )
    return out


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


class _Checker:
    def __init__(self, sheet: _Sheet, row: int, values: dict[str, Any], errors: list[CellError]) -> None:
        self.sheet, self.row, self.values, self.errors = sheet, row, values, errors

    def fail(self, column: str, reason: Msg) -> None:
        self.errors.append(CellError(self.sheet.file, self.sheet.sheet, self.row, column, reason))

    def text(self, column: str, required: bool = False, choices: tuple[str, ...] = ()) -> str:
        v = _text(self.values.get(column))
        if required and not v:
            self.fail(column, Msg("is required"))
        elif v and choices and v not in choices:
            self.fail(
                column, Msg("{value} is not one of {choices}", value=repr(v), choices=", ".join(choices))
            )
        return v

    def number(self, column: str, lo: float | None = None, hi: float | None = None) -> float | None:
        v = self.values.get(column)
        if v is None or _text(v) == "":
            return None
        try:
            x = float(v)
        except (TypeError, ValueError):
            self.fail(column, Msg("{value} is not a number", value=repr(v)))
            return None
        if x != x or (lo is not None and x < lo) or (hi is not None and x > hi):
            self.fail(column, Msg("{value} is out of range [{lo}, {hi}]", value=x, lo=lo, hi=hi))
            return None
        return x

    def flag(self, column: str) -> bool:
        v = _text(self.values.get(column)).lower()
        if v in ("", "0", "false", "no", "否"):
            return False
        if v in ("1", "true", "yes", "是"):
            return True
        self.fail(column, Msg("{value} is not 0/1", value=repr(v)))
        return False

    def day(self, column: str) -> date | None:
        v = self.values.get(column)
        if v is None or _text(v) == "":
            return None
        if isinstance(v, datetime):
            return v.date()
        if isinstance(v, date):
            return v
        try:
            return date.fromisoformat(_text(v))
        except ValueError:
            self.fail(column, Msg("{value} is not a date (YYYY-MM-DD)", value=repr(v)))
            return None


def import_sources(session: Session, filename: str, content: bytes, by: str = "") -> dict[str, int]:
    """Import an enterprise-file workbook or CSV: validates every cell first and writes nothing
    unless all are right. Rows are matched on their natural keys (idempotent); what changes is
    kept in the rows' history (``by``, the file as the batch)."""
    sheets = read_source_file(filename, content)
    return apply_sources(session, sheets, by, audit.file_batch(filename, content))


#: The fields of the file's rows that their history keeps (a point's PW only as "changed").
CHANNEL_FIELDS = ("name", "unit", "limit_value", "limit_standard", "pre_alarm_ratio", "use_zs", "is_flow",
                  "flat_line_readings")  # fmt: skip
PERMIT_FIELDS = ("management", "issuer", "valid_from", "valid_to", "note")
CONTACT_FIELDS = ("role", "phone", "email")


def _river_codes(rivers: dict[str, m.River]) -> dict[int | None, str]:
    return {r.id: code for code, r in rivers.items()}


def _kept_river(r: m.River, rivers: dict[str, m.River]) -> dict[str, Any]:
    return {"name": r.name, "parent": _river_codes(rivers).get(r.parent_id), "confluence_km": r.confluence_km,
            "note": r.note}  # fmt: skip


def _kept_section(
    p: m.MonitoringPoint, s: m.RiverSection | None, rivers: dict[str, m.River]
) -> dict[str, Any]:
    return {"river": _river_codes(rivers).get(s.river_id) if s else None, "km": s.km if s else None,
            "target_class": p.target_class, "water_body": p.water_body, "note": p.source_ref}  # fmt: skip


def _kept_outlet(o: m.Outlet, rivers: dict[str, m.River]) -> dict[str, Any]:
    return {"name": o.name, "medium": o.medium, "latitude": o.latitude, "longitude": o.longitude,
            "receiving_water": o.receiving_water, "river": _river_codes(rivers).get(o.river_id),
            "river_km": o.river_km, "discharge_rule": o.discharge_rule, "note": o.note}  # fmt: skip


def _kept_point(session: Session, sp: m.SourcePoint) -> dict[str, Any]:
    outlet = session.get(m.Outlet, sp.outlet_id) if sp.outlet_id else None
    return {"outlet": outlet.code if outlet else None, "pw": sp.pw, "edition": sp.edition, "maker": sp.maker,
            "model": sp.model}  # fmt: skip


class _Owner(TypedDict, total=False):
    enterprise_id: int | None
    zone_id: int | None


def _owner(e: m.Enterprise | None) -> _Owner:
    """The enterprise (and its zone) whose row changed: who may read its history."""
    return {"enterprise_id": e.id, "zone_id": e.zone_id} if e is not None else {}


def apply_sources(
    session: Session, sheets: dict[str, _Sheet], by: str = "", batch: str = ""
) -> dict[str, int]:
    park = get_park(session)
    errors: list[CellError] = []
    counts = dict.fromkeys(SHEETS, 0)
    enterprises = {
        e.name: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))
    }
    enterprises.update({e.code: e for e in list(enterprises.values())})
    rivers = {r.code: r for r in session.scalars(select(m.River).where(m.River.park_id == park.id))}
    water_points = {
        key: p
        for p in session.scalars(
            select(m.MonitoringPoint).where(
                m.MonitoringPoint.park_id == park.id, m.MonitoringPoint.kind == "water"
            )
        )
        for key in (p.code, p.name)
    }
    plans: list[tuple[str, dict[str, Any]]] = []
    # pass 1: validate every row against the store and the rows before it
    new_rivers: set[str] = set()
    new_outlets: set[tuple[int, str]] = set()
    new_mns: set[str] = set()
    known_outlets: set[tuple[int, str]] = {
        (eid, code) for eid, code in session.execute(select(m.Outlet.enterprise_id, m.Outlet.code))
    }
    known_mns = set(session.scalars(select(m.SourcePoint.mn)))
    for kind, (_zh, _columns, required) in SHEETS.items():
        sheet = sheets.get(kind)
        if sheet is None:
            continue
        header = set().union(*(r.keys() for _i, r in sheet.rows)) if sheet.rows else set()
        missing = [c for c in required if c not in header]
        for col in missing:
            errors.append(CellError(sheet.file, sheet.sheet, 1, col, Msg("required column is missing")))
        if missing:
            continue
        for row_no, values in sheet.rows:
            c = _Checker(sheet, row_no, values, errors)
            before = len(errors)
            rec: dict[str, Any] = {}
            for col in required:
                rec[col] = c.text(col, required=True)
            if kind == "rivers":
                rec["parent"] = c.text("parent")
                if rec["parent"] and rec["parent"] not in rivers and rec["parent"] not in new_rivers:
                    c.fail(
                        "parent",
                        Msg("unknown river {river} (list it in an earlier row)", river=repr(rec["parent"])),
                    )
                rec["confluence_km"] = c.number("confluence_km", 0)
                rec["note"] = c.text("note")
                new_rivers.add(rec["code"])
            elif kind == "sections":
                if rec["river"] and rec["river"] not in rivers and rec["river"] not in new_rivers:
                    c.fail("river", Msg("unknown river {river}", river=repr(rec["river"])))
                rec["km"] = c.number("km", 0)
                rec["target_class"] = c.text("target_class", choices=CLASSES)
                rec["water_body"] = c.text("water_body", choices=("river", "lake"))
                rec["note"] = c.text("note")
                if rec["section"] not in water_points and not rec["target_class"]:
                    c.fail("target_class", Msg("a new section needs its target class (I–V)"))
            elif kind in ("outlets", "points", "permits", "contacts"):
                e = enterprises.get(rec["enterprise"])
                if rec["enterprise"] and e is None:
                    c.fail(
                        "enterprise",
                        Msg(
                            "unknown enterprise {name} (add it to the park first)",
                            name=repr(rec["enterprise"]),
                        ),
                    )
                rec["enterprise_id"] = e.id if e else None
                if kind == "outlets":
                    c.text("medium", required=True, choices=MEDIA)
                    rec["latitude"] = c.number("latitude", -90, 90)
                    rec["longitude"] = c.number("longitude", -180, 180)
                    rec["receiving_water"] = c.text("receiving_water")
                    rec["river"] = c.text("river")
                    if rec["river"] and rec["river"] not in rivers and rec["river"] not in new_rivers:
                        c.fail("river", Msg("unknown river {river}", river=repr(rec["river"])))
                    rec["river_km"] = c.number("river_km", 0)
                    if (
                        rec["river"]
                        and rec["river_km"] is None
                        and "river_km" not in [e.column for e in errors[before:]]
                    ):
                        c.fail("river_km", Msg("an outlet on a river needs its position (km)"))
                    rec["discharge_rule"] = c.text("discharge_rule")
                    rec["note"] = c.text("note")
                    if e:
                        new_outlets.add((e.id, rec["code"]))
                elif kind == "points":
                    if e and (e.id, rec["outlet"]) not in known_outlets | new_outlets:
                        c.fail(
                            "outlet",
                            Msg(
                                "unknown outlet {outlet} of {enterprise}",
                                outlet=repr(rec["outlet"]),
                                enterprise=rec["enterprise"],
                            ),
                        )
                    if rec["mn"] and not rec["mn"].isalnum():
                        c.fail("mn", Msg("MN has letters and digits only"))
                    if len(rec["mn"]) > 24:
                        c.fail("mn", Msg("MN has at most 24 characters"))
                    if len(rec["pw"]) > 16 or any(ch in rec["pw"] for ch in ";,=&"):
                        c.fail("pw", Msg("PW has at most 16 characters and none of ; , = &"))
                    rec["edition"] = c.text("edition", choices=EDITIONS) or "2017"
                    rec["maker"], rec["model"] = c.text("maker"), c.text("model")
                    new_mns.add(rec["mn"])
                elif kind == "permits":
                    rec["management"] = c.text("management", choices=("重点管理", "简化管理", "登记管理"))
                    rec["issuer"], rec["note"] = c.text("issuer"), c.text("note")
                    rec["valid_from"], rec["valid_to"] = c.day("valid_from"), c.day("valid_to")
                    if rec["valid_from"] and rec["valid_to"] and rec["valid_to"] < rec["valid_from"]:
                        c.fail("valid_to", Msg("ends before it starts"))
                else:
                    rec["role"], rec["phone"], rec["email"] = c.text("role"), c.text("phone"), c.text("email")
            elif kind == "channels":
                if rec["mn"] and rec["mn"] not in known_mns and rec["mn"] not in new_mns:
                    c.fail("mn", Msg("unknown monitoring point MN {mn}", mn=repr(rec["mn"])))
                info = code_info(rec["code"]) if rec["code"] else None
                if rec["code"] and info is None:
                    c.fail("code", Msg("{code} is not an HJ 212-2017 pollutant code", code=repr(rec["code"])))
                rec["name"] = c.text("name") or (info.name_zh if info else "")
                rec["unit"] = c.text("unit") or (info.conc_unit if info else "")
                rec["limit_value"] = c.number("limit_value", 0)
                rec["limit_standard"] = c.text("limit_standard")
                if rec["limit_value"] is not None and not rec["limit_standard"]:
                    c.fail("limit_standard", Msg("a limit needs the standard (and table) it comes from"))
                rec["pre_alarm_ratio"] = c.number("pre_alarm_ratio", 0, 1)
                rec["use_zs"], rec["is_flow"] = c.flag("use_zs"), c.flag("is_flow")
                n = c.number("flat_line_readings", 2, 10000)
                rec["flat_line_readings"] = int(n) if n is not None else None
            if len(errors) == before:
                plans.append((kind, rec))
    if errors:
        raise SourceFileRejected(errors)
    # pass 2: write, keeping each row's changes in its history
    hist = audit.Changes(session, by, batch, park.id)
    by_id = {e.id: e for e in enterprises.values()}
    for kind, rec in plans:
        counts[kind] += 1
        ent = by_id.get(rec.get("enterprise_id") or 0)
        if kind == "rivers":
            r = rivers.get(rec["code"]) or m.River(park_id=park.id, code=rec["code"])
            was: dict[str, Any] | None = _kept_river(r, rivers) if r.id is not None else None
            r.name, r.note, r.confluence_km = rec["name"], rec["note"], rec["confluence_km"]
            r.parent_id = rivers[rec["parent"]].id if rec["parent"] else None
            session.add(r)
            session.flush()
            rivers[r.code] = r
            hist.record("river", r.code, was, _kept_river(r, rivers))
        elif kind == "sections":
            p = water_points.get(rec["section"])
            old_s = (
                session.scalars(select(m.RiverSection).where(m.RiverSection.point_id == p.id)).first()
                if p is not None
                else None
            )
            was = _kept_section(p, old_s, rivers) if p is not None else None
            if p is None:
                code = f"ws-{rec['river']}-{rec['km']:g}"
                p = m.MonitoringPoint(park_id=park.id, code=code, name=rec["section"], kind="water")
                session.add(p)
            if rec["target_class"]:
                p.target_class = rec["target_class"]
            p.water_body = rec["water_body"] or p.water_body or "river"
            if rec["note"]:
                p.source_ref = rec["note"][:200]
            session.flush()
            water_points[p.name] = water_points[p.code] = p
            s = session.scalars(select(m.RiverSection).where(m.RiverSection.point_id == p.id)).first()
            s = s or m.RiverSection(point_id=p.id)
            s.river_id, s.km = rivers[rec["river"]].id, rec["km"]
            session.add(s)
            hist.record("section", p.name, was, _kept_section(p, s, rivers))
        elif kind == "outlets":
            o = session.scalars(
                select(m.Outlet).where(
                    m.Outlet.enterprise_id == rec["enterprise_id"], m.Outlet.code == rec["code"]
                )
            ).first() or m.Outlet(enterprise_id=rec["enterprise_id"], code=rec["code"])
            was = _kept_outlet(o, rivers) if o.id is not None else None
            o.name, o.medium = rec["name"], rec["medium"]
            o.latitude, o.longitude, o.receiving_water = (
                rec["latitude"],
                rec["longitude"],
                rec["receiving_water"],
            )
            o.river_id = rivers[rec["river"]].id if rec["river"] else None
            o.river_km, o.discharge_rule, o.note = rec["river_km"], rec["discharge_rule"], rec["note"]
            session.add(o)
            session.flush()
            hist.record("outlet", f"{ent.code if ent else rec['enterprise']}|{o.code}", was,
                        _kept_outlet(o, rivers), **_owner(ent))  # fmt: skip
        elif kind == "points":
            outlet = session.scalars(
                select(m.Outlet).where(
                    m.Outlet.enterprise_id == rec["enterprise_id"], m.Outlet.code == rec["outlet"]
                )
            ).one()
            sp = session.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == rec["mn"])).first()
            was = _kept_point(session, sp) if sp is not None else None
            sp = sp or m.SourcePoint(mn=rec["mn"])
            sp.outlet_id, sp.pw, sp.edition, sp.maker, sp.model = (
                outlet.id, rec["pw"], rec["edition"], rec["maker"], rec["model"],
            )  # fmt: skip
            session.add(sp)
            session.flush()
            hist.record("source_point", sp.mn, was, _kept_point(session, sp), secret=("pw",), **_owner(ent))
        elif kind == "channels":
            point = session.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == rec["mn"])).one()
            ch = session.scalars(
                select(m.Channel).where(m.Channel.point_id == point.id, m.Channel.code == rec["code"])
            ).first() or m.Channel(point_id=point.id, code=rec["code"])
            was = audit.values(ch, CHANNEL_FIELDS) if ch.id is not None else None
            for k in CHANNEL_FIELDS:
                setattr(ch, k, rec[k])
            session.add(ch)
            at = session.get(m.Outlet, point.outlet_id)
            hist.record("channel", f"{point.mn}/{ch.code}", was, audit.values(ch, CHANNEL_FIELDS),
                        **_owner(by_id.get(at.enterprise_id) if at else None))  # fmt: skip
        elif kind == "permits":
            pm = session.scalars(
                select(m.Permit).where(
                    m.Permit.enterprise_id == rec["enterprise_id"], m.Permit.number == rec["number"]
                )
            ).first() or m.Permit(enterprise_id=rec["enterprise_id"], number=rec["number"])
            was = audit.values(pm, PERMIT_FIELDS) if pm.id is not None else None
            for k in PERMIT_FIELDS:
                setattr(pm, k, rec[k])
            session.add(pm)
            hist.record("permit", f"{ent.code if ent else rec['enterprise']}|{pm.number}", was,
                        audit.values(pm, PERMIT_FIELDS), **_owner(ent))  # fmt: skip
        else:
            ct = session.scalars(
                select(m.Contact).where(
                    m.Contact.enterprise_id == rec["enterprise_id"], m.Contact.name == rec["name"]
                )
            ).first() or m.Contact(enterprise_id=rec["enterprise_id"], name=rec["name"])
            was = audit.values(ct, CONTACT_FIELDS) if ct.id is not None else None
            ct.role, ct.phone, ct.email = rec["role"], rec["phone"], rec["email"]
            session.add(ct)
            hist.record("contact", f"{ent.code if ent else rec['enterprise']}|{ct.name}", was,
                        audit.values(ct, CONTACT_FIELDS), **_owner(ent))  # fmt: skip
    hist.write()
    session.flush()
    return counts


def save_rows(
    session: Session, kind: str, rows: list[dict[str, Any]], source: str = "form", by: str = ""
) -> dict[str, int]:
    """Add or change rows of one table of the file (from a form or the API), with exactly the
    import's validation: all or nothing, errors by row and column; what changes is kept in the
    rows' history (``by``; ``source``, form or api, as the batch)."""
    if kind not in SHEETS:
        raise ValueError(f"unknown table {kind!r}; known: {', '.join(SHEETS)}")
    sheet = _Sheet(source, kind, [(i, dict(r)) for i, r in enumerate(rows, start=1)])
    return apply_sources(session, {kind: sheet}, by, source)


def schema() -> dict[str, dict[str, Any]]:
    """The tables of the file with their columns (for forms): each table's and column's label in
    the language of the answer beside the names the file uses."""
    return {
        k: {"zh": zh, "label": Msg(SHEET_LABELS[k]), "columns": list(cols), "required": list(req),
            "labels": {c: column_label(c) for c in cols}}
        for k, (zh, cols, req) in SHEETS.items()
    }  # fmt: skip


def source_workbook(session: Session) -> bytes:
    """The park's enterprise file as an xlsx in the import format (also the blank template)."""
    wb = Workbook()
    wb.remove(wb.active)
    rows = export_rows(session)
    for kind, (_zh, columns, _req) in SHEETS.items():
        ws = wb.create_sheet(kind)
        ws.append(list(columns))
        for r in rows[kind]:
            ws.append([export_text(r.get(c)) for c in columns])
    return workbook_bytes(wb)


def export_rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    park = get_park(session)
    rivers = {r.id: r for r in session.scalars(select(m.River).where(m.River.park_id == park.id))}
    ents = {e.id: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))}
    outlets = {o.id: o for o in session.scalars(select(m.Outlet)) if o.enterprise_id in ents}
    points = {p.id: p for p in session.scalars(select(m.SourcePoint)) if p.outlet_id in outlets}
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in SHEETS}
    for r in rivers.values():
        parent = rivers.get(r.parent_id) if r.parent_id else None
        out["rivers"].append({"code": r.code, "name": r.name, "parent": parent.code if parent else "",
                              "confluence_km": r.confluence_km, "note": r.note})  # fmt: skip
    for s, p in session.execute(
        select(m.RiverSection, m.MonitoringPoint).join(
            m.MonitoringPoint, m.MonitoringPoint.id == m.RiverSection.point_id
        )
    ):
        if s.river_id in rivers:
            out["sections"].append({"section": p.name, "river": rivers[s.river_id].code, "km": s.km,
                                    "target_class": p.target_class, "water_body": p.water_body,
                                    "note": p.source_ref})  # fmt: skip
    for o in outlets.values():
        river = rivers.get(o.river_id) if o.river_id else None
        out["outlets"].append({"enterprise": ents[o.enterprise_id].name, "code": o.code, "name": o.name,
                               "medium": o.medium, "latitude": o.latitude, "longitude": o.longitude,
                               "receiving_water": o.receiving_water, "river": river.code if river else "",
                               "river_km": o.river_km, "discharge_rule": o.discharge_rule, "note": o.note})  # fmt: skip
    for sp in points.values():
        o = outlets[sp.outlet_id]
        out["points"].append({"enterprise": ents[o.enterprise_id].name, "outlet": o.code, "mn": sp.mn, "pw": sp.pw,
                              "edition": sp.edition, "maker": sp.maker, "model": sp.model})  # fmt: skip
    for ch in session.scalars(select(m.Channel).order_by(m.Channel.point_id, m.Channel.id)):
        if ch.point_id in points:
            out["channels"].append({"mn": points[ch.point_id].mn, "code": ch.code, "name": ch.name, "unit": ch.unit,
                                    "limit_value": ch.limit_value, "limit_standard": ch.limit_standard,
                                    "pre_alarm_ratio": ch.pre_alarm_ratio, "use_zs": int(ch.use_zs),
                                    "is_flow": int(ch.is_flow), "flat_line_readings": ch.flat_line_readings})  # fmt: skip
    for pm in session.scalars(select(m.Permit)):
        if pm.enterprise_id in ents:
            out["permits"].append({"enterprise": ents[pm.enterprise_id].name, "number": pm.number,
                                   "management": pm.management, "issuer": pm.issuer,
                                   "valid_from": pm.valid_from.isoformat() if pm.valid_from else "",
                                   "valid_to": pm.valid_to.isoformat() if pm.valid_to else "", "note": pm.note})  # fmt: skip
    for ct in session.scalars(select(m.Contact)):
        if ct.enterprise_id in ents:
            out["contacts"].append({"enterprise": ents[ct.enterprise_id].name, "name": ct.name, "role": ct.role,
                                    "phone": ct.phone, "email": ct.email})  # fmt: skip
    return out


# Views


def enterprise_file(session: Session, enterprise_id: int) -> dict[str, Any]:
    """One enterprise's whole file: outlets with points and channels, permits, contacts."""
    e = session.get(m.Enterprise, enterprise_id)
    if e is None:
        raise LookupError(f"no enterprise {enterprise_id}")
    rivers = {r.id: r.name for r in session.scalars(select(m.River))}
    outlets = []
    for o in session.scalars(select(m.Outlet).where(m.Outlet.enterprise_id == e.id).order_by(m.Outlet.code)):
        pts = []
        for p in session.scalars(select(m.SourcePoint).where(m.SourcePoint.outlet_id == o.id)):
            chans = session.scalars(
                select(m.Channel).where(m.Channel.point_id == p.id).order_by(m.Channel.id)
            )
            pts.append(point_dict(p) | {"channels": [channel_dict(c) for c in chans]})
        outlets.append(
            {
                "id": o.id, "code": o.code, "name": o.name, "medium": o.medium, "latitude": o.latitude,
                "longitude": o.longitude, "receiving_water": o.receiving_water,
                "river": rivers.get(o.river_id) if o.river_id else None, "river_km": o.river_km,
                "discharge_rule": o.discharge_rule, "note": o.note, "points": pts,
            }
        )  # fmt: skip
    permits = [
        {"number": p.number, "management": p.management, "issuer": p.issuer,
         "valid_from": p.valid_from.isoformat() if p.valid_from else None,
         "valid_to": p.valid_to.isoformat() if p.valid_to else None, "note": p.note}
        for p in session.scalars(select(m.Permit).where(m.Permit.enterprise_id == e.id))
    ]  # fmt: skip
    contacts = [
        {"name": c.name, "role": c.role, "phone": c.phone, "email": c.email}
        for c in session.scalars(select(m.Contact).where(m.Contact.enterprise_id == e.id))
    ]
    return {"id": e.id, "code": e.code, "name": e.name, "uscc": e.uscc, "industry_code": e.industry_code,
            "tags": [t for t in e.tags.split(",") if t], "note": e.note, "outlets": outlets,
            "permits": permits, "contacts": contacts}  # fmt: skip


def point_dict(p: m.SourcePoint) -> dict[str, Any]:
    return {
        "id": p.id, "mn": p.mn, "edition": p.edition, "maker": p.maker, "model": p.model, "active": p.active,
        "last_seen_utc": p.last_seen_utc.isoformat() + "Z" if p.last_seen_utc else None,
        "last_peer": p.last_peer, "data_note": p.data_note, "data_note_label": note_label(p.data_note),
    }  # fmt: skip


def channel_dict(c: m.Channel) -> dict[str, Any]:
    return {
        "id": c.id, "code": c.code, "name": c.name, "label": pollutant_name(c.code), "unit": c.unit,
        "limit_value": c.limit_value, "limit_standard": c.limit_standard, "pre_alarm_ratio": c.pre_alarm_ratio,
        "use_zs": c.use_zs, "is_flow": c.is_flow, "flat_line_readings": c.flat_line_readings,
    }  # fmt: skip


CHANNEL_EDITABLE = (
    "limit_value",
    "limit_standard",
    "pre_alarm_ratio",
    "use_zs",
    "flat_line_readings",
    "name",
    "unit",
)


def update_channel(session: Session, channel_id: int, changes: dict[str, Any], by: str = "",
                   batch: str = "") -> m.Channel:  # fmt: skip
    """Edit a channel's limit and alarm settings (validated like the import); every changed field
    is appended to the audit trail with who, when, the old and the new value."""
    ch = session.get(m.Channel, channel_id)
    if ch is None:
        raise LookupError(f"no channel {channel_id}")
    bad = set(changes) - set(CHANNEL_EDITABLE)
    if bad:
        raise ValueError(f"cannot change {', '.join(sorted(bad))}; editable: {', '.join(CHANNEL_EDITABLE)}")
    sheet = _Sheet("form", "channel")
    errors: list[CellError] = []
    c = _Checker(sheet, ch.id, changes, errors)
    vals: dict[str, Any] = {}
    for k in changes:
        if k == "limit_value":
            vals[k] = c.number(k, 0)
        elif k == "pre_alarm_ratio":
            vals[k] = c.number(k, 0, 1)
        elif k == "flat_line_readings":
            n = c.number(k, 2, 10000)
            vals[k] = int(n) if n is not None else None
        elif k == "use_zs":
            vals[k] = c.flag(k) if not isinstance(changes[k], bool) else changes[k]
        else:
            vals[k] = c.text(k)
    limit = vals.get("limit_value", ch.limit_value)
    standard = vals.get("limit_standard", ch.limit_standard)
    if limit is not None and not standard:
        c.fail("limit_standard", Msg("a limit needs the standard (and table) it comes from"))
    if errors:
        raise SourceFileRejected(errors)
    point = session.get(m.SourcePoint, ch.point_id)
    outlet = session.get(m.Outlet, point.outlet_id) if point else None
    ent = session.get(m.Enterprise, outlet.enterprise_id) if outlet else None
    key = f"{point.mn if point else ch.point_id}/{ch.code}"
    before = {k: getattr(ch, k) for k in vals}
    for k, v in vals.items():
        setattr(ch, k, v)
    with audit.Changes(session, by, batch, ent.park_id if ent else None) as hist:
        hist.record("channel", key, before, vals, **_owner(ent))
    session.flush()
    return ch


class DeviceConflict(Exception):
    """A device action that the device's registration forbids: adopting an MN that is already
    registered (the API answers 409)."""


def adopt_device(session: Session, mn: str, outlet_id: int, by: str = "") -> m.SourcePoint:
    """Register an unknown device under an outlet with the MN and PW it used; its recorded frames
    are then replayed into readings by :func:`greenpark.services.pollution.ingest.replay_frames`.

    Raises
    ------
    DeviceConflict  the MN is already registered: frames naming it with a wrong PW are an alarm
                    (``wrong_password``), never a new device; its PW changes only through
                    :func:`greenpark.services.pollution.devices.rekey_device` (confirmed, audited).
    LookupError     no unknown device with this MN, or no outlet ``outlet_id``.
    """
    if session.scalars(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn)).first() is not None:
        raise DeviceConflict(
            Msg("MN {mn} is already registered: frames with a wrong PW for it are an alarm, not a new device "
                "(to change its PW, re-key the device with confirmation)", mn=mn)
        )  # fmt: skip
    u = session.scalars(select(m.UnknownDevice).where(m.UnknownDevice.mn == mn)).first()
    if u is None:
        raise LookupError(f"no unknown device with MN {mn}")
    if session.get(m.Outlet, outlet_id) is None:
        raise LookupError(f"no outlet {outlet_id}")
    sp = m.SourcePoint(mn=mn, pw=u.pw_seen, outlet_id=outlet_id, data_note=f"adopted by {by or 'officer'}")
    session.add(sp)
    u.status = "adopted"
    e = audit.enterprise_of_outlet(session, outlet_id)
    audit.record(session, by or "officer", "adopt", "source_point", key=mn, field="pw", old=None, new=audit.HIDDEN,
                 note=f"registered under outlet {outlet_id} with the PW it used; {u.frames} frame(s) seen while unknown",
                 park_id=e.park_id if e else None, enterprise_id=e.id if e else None, zone_id=e.zone_id if e else None)  # fmt: skip
    session.flush()
    return sp


def find_enterprise(session: Session, key: str) -> m.Enterprise:
    """An enterprise of the park by code, name or id."""
    park = get_park(session)
    for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id)):
        if key in (e.code, e.name, str(e.id)):
            return e
    raise LookupError(f"no enterprise {key!r}")

"""Activity and economic records: validation of incoming rows and idempotent upsert.

Used by the demo loader and by the Excel/CSV import alike, so both obey the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core.units import UNITS, UnitError, dimension
from greenpark.i18n import Msg, message_of
from greenpark.services.carbon.inventory import BOUNDARIES, ECONOMIC_INDICATORS, SECTORS
from greenpark.services.park import audit
from greenpark.services.tabular import CellError
from greenpark.store import models as m

ACTIVITY_COLUMNS = (
    "entity",
    "year",
    "month",
    "sector",
    "boundary",
    "carrier",
    "quantity",
    "unit",
    "energy_tce",
    "tce_basis",
    "source_ref",
    "quality",
    "note",
)
ECONOMIC_COLUMNS = ("entity", "year", "indicator", "value_10k_yuan", "price_basis", "source_ref", "note")
REQUIRED = {
    "activity": ("entity", "year", "boundary"),
    "economic": ("entity", "year", "indicator", "value_10k_yuan"),
}
QUALITY = ("reported", "measured", "estimated", "derived")
TCE_BASES = ("calorific", "equal_value")
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass
class EntityRef:
    zone_id: int | None
    enterprise_id: int | None
    key: str


class EntityResolver:
    """Turns ``park`` / ``zone:CODE`` / ``enterprise:CODE`` into ids for one park — or, for a
    zone's officer (``zone_id``), for that zone and its enterprises only."""

    def __init__(self, session: Session, park: m.Park, zone_id: int | None = None) -> None:
        self.park = park
        self.zone_id = zone_id
        zones = select(m.Zone).where(m.Zone.park_id == park.id)
        enterprises = select(m.Enterprise).where(m.Enterprise.park_id == park.id)
        if zone_id is not None:
            zones = zones.where(m.Zone.id == zone_id)
            enterprises = enterprises.where(m.Enterprise.zone_id == zone_id)
        self.zones = {z.code: z.id for z in session.scalars(zones)}
        self.enterprises = {e.code: (e.id, e.zone_id) for e in session.scalars(enterprises)}

    def resolve(self, text: str) -> EntityRef:
        t = text.strip()
        if t in ("park", self.park.code):
            if self.zone_id is not None:
                raise ValueError(
                    Msg("a zone's officer reports for the zone and its enterprises, not the whole park")
                )
            return EntityRef(None, None, "park")
        kind, _, code = t.partition(":")
        if kind == "zone" and code in self.zones:
            return EntityRef(self.zones[code], None, f"zone:{code}")
        if kind == "enterprise" and code in self.enterprises:
            eid, zid = self.enterprises[code]
            return EntityRef(zid, eid, f"enterprise:{code}")
        if not code:
            raise ValueError(
                Msg("entity {value} must be 'park', 'zone:CODE' or 'enterprise:CODE'", value=repr(t))
            )
        if kind == "zone":
            raise ValueError(
                Msg("zone {code} is not yours", code=repr(code))
                if self.zone_id is not None
                else Msg("unknown zone {code}", code=repr(code))
            )
        if kind == "enterprise":
            raise ValueError(
                Msg("unknown enterprise {code} in your zone", code=repr(code))
                if self.zone_id is not None
                else Msg("unknown enterprise {code}", code=repr(code))
            )
        raise ValueError(Msg("unknown entity {code}", code=repr(t)))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _number(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        raise ValueError(Msg("is not a number"))
    try:
        x = float(str(v).replace(",", "").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise ValueError(Msg("{value} is not a number", value=repr(v))) from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(Msg("{value} is not a finite number", value=repr(v)))
    return x


def _int(v: Any) -> int | None:
    x = _number(v)
    if x is None:
        return None
    if not float(x).is_integer():
        raise ValueError(Msg("{value} is not a whole number", value=repr(v)))
    return int(x)


class _RowCheck:
    """Collects the errors of one row and checks the cells every record kind shares."""

    def __init__(self, kind: str, raw: dict[str, Any], where: tuple[str, str, int]) -> None:
        self.raw = raw
        self.where = where
        self.errors: list[CellError] = []
        self.out: dict[str, Any] = {}
        for col in REQUIRED[kind]:
            if not _text(raw.get(col)):
                self.err(col, Msg("is required"))

    def err(self, col: str, reason: str) -> None:
        file, sheet, row = self.where
        self.errors.append(CellError(file, sheet, row, col, reason))

    def text(self, col: str) -> str:
        return _text(self.raw.get(col))

    def entity(self, resolver: EntityResolver, allowed_enterprise_id: int | None) -> None:
        try:
            ent = resolver.resolve(self.text("entity"))
            if allowed_enterprise_id is not None and ent.enterprise_id != allowed_enterprise_id:
                self.err("entity", Msg("an enterprise user may only import data of their own enterprise"))
            self.out["entity"] = ent
        except ValueError as exc:
            if self.text("entity"):
                self.err("entity", message_of(exc))

    def whole(self, col: str, lo: int, hi: int) -> None:
        try:
            v = _int(self.raw.get(col))
            if v is not None and not lo <= v <= hi:
                self.err(col, Msg("{value} is outside {lo}–{hi}", value=v, lo=lo, hi=hi))
            self.out[col] = v
        except ValueError as exc:
            self.err(col, message_of(exc))

    def non_negative(self, col: str) -> float | None:
        try:
            v = _number(self.raw.get(col))
        except ValueError as exc:
            self.err(col, message_of(exc))
            return None
        if v is not None and v < 0:
            self.err(col, Msg("must not be negative"))
        self.out[col] = v
        return v

    def choice(
        self, col: str, allowed: tuple[str, ...], default: str | None, empty_ok: bool = False
    ) -> str | None:
        v = self.text(col) or default
        if v is not None and v not in allowed:
            if empty_ok:
                self.err(col, Msg("{value} is not one of {allowed} (leave it empty for all)", value=repr(v),
                                  allowed=", ".join(allowed)))  # fmt: skip
            else:
                self.err(
                    col, Msg("{value} is not one of {allowed}", value=repr(v), allowed=", ".join(allowed))
                )
        self.out[col] = v
        return v

    def result(self) -> tuple[dict[str, Any] | None, list[CellError]]:
        self.out["source_ref"] = self.text("source_ref")[:300]
        self.out["note"] = self.text("note")
        return (None, self.errors) if self.errors else (self.out, [])


def validate_activity(
    raw: dict[str, Any],
    resolver: EntityResolver,
    carriers: dict[str, m.Carrier],
    where: tuple[str, str, int],
    allowed_enterprise_id: int | None = None,
) -> tuple[dict[str, Any] | None, list[CellError]]:
    """Check one activity row; return the clean values or the errors (one per bad cell)."""
    c = _RowCheck("activity", raw, where)
    c.entity(resolver, allowed_enterprise_id)
    c.whole("year", MIN_YEAR, MAX_YEAR)
    c.whole("month", 1, 12)
    c.choice("sector", SECTORS, None, empty_ok=True)
    c.choice("boundary", BOUNDARIES, "all")
    carrier = c.text("carrier") or None
    if carrier is not None and carrier not in carriers:
        c.err(
            "carrier",
            Msg("unknown carrier {value}; known: {known}", value=repr(carrier), known=", ".join(carriers)),
        )
    c.out["carrier"] = carrier
    q = c.non_negative("quantity")
    t = c.non_negative("energy_tce")
    unit = c.text("unit") or None
    if q is None and t is None and not any(e.column in ("quantity", "energy_tce") for e in c.errors):
        c.err("quantity", Msg("give a quantity (with its unit) or energy_tce"))
    if q is not None:
        if carrier is None:
            c.err("carrier", Msg("a physical quantity needs its carrier"))
        if unit is None:
            c.err("unit", Msg("a quantity needs its unit"))
        elif unit not in UNITS:
            c.err("unit", Msg("unknown unit {value}", value=repr(unit)))
        elif carrier in carriers:
            try:
                if dimension(unit) != dimension(carriers[carrier].unit):
                    c.err("unit", Msg("{value} does not measure {carrier} (recorded in {unit})", value=repr(unit),
                                      carrier=carrier, unit=carriers[carrier].unit))  # fmt: skip
            except UnitError as exc:
                c.err("unit", str(exc))
    c.out["unit"] = unit if q is not None else None
    c.choice("tce_basis", TCE_BASES, "calorific")
    c.choice("quality", QUALITY, "reported")
    return c.result()


def validate_economic(
    raw: dict[str, Any],
    resolver: EntityResolver,
    where: tuple[str, str, int],
    allowed_enterprise_id: int | None = None,
) -> tuple[dict[str, Any] | None, list[CellError]]:
    """Check one economic row; return the clean values or the errors (one per bad cell)."""
    c = _RowCheck("economic", raw, where)
    c.entity(resolver, allowed_enterprise_id)
    c.whole("year", MIN_YEAR, MAX_YEAR)
    c.choice("indicator", ECONOMIC_INDICATORS, None)
    c.non_negative("value_10k_yuan")
    c.out["price_basis"] = c.text("price_basis") or "current"
    return c.result()


def activity_key(park_id: int, v: dict[str, Any]) -> str:
    e: EntityRef = v["entity"]
    return "|".join(
        str(x if x is not None else "")
        for x in (
            park_id,
            e.key,
            v["year"],
            v["month"],
            v["sector"],
            v["boundary"],
            v["carrier"],
            v["source_ref"],
        )
    )


def economic_key(park_id: int, v: dict[str, Any]) -> str:
    e: EntityRef = v["entity"]
    return "|".join(str(x) for x in (park_id, e.key, v["year"], v["indicator"], v["price_basis"]))


def _activity_fields(park: m.Park, v: dict[str, Any]) -> dict[str, Any]:
    e: EntityRef = v["entity"]
    return {
        "park_id": park.id, "zone_id": e.zone_id, "enterprise_id": e.enterprise_id, "year": v["year"],
        "month": v["month"], "sector": v["sector"], "boundary": v["boundary"], "carrier_code": v["carrier"],
        "quantity": v["quantity"], "unit": v["unit"], "energy_tce": v["energy_tce"], "tce_basis": v["tce_basis"],
        "source_ref": v["source_ref"], "quality": v["quality"], "note": v["note"],
    }  # fmt: skip


def _economic_fields(park: m.Park, v: dict[str, Any]) -> dict[str, Any]:
    e: EntityRef = v["entity"]
    return {
        "park_id": park.id, "zone_id": e.zone_id, "enterprise_id": e.enterprise_id, "year": v["year"],
        "indicator": v["indicator"], "value_10k_yuan": v["value_10k_yuan"], "price_basis": v["price_basis"],
        "source_ref": v["source_ref"], "note": v["note"],
    }  # fmt: skip


#: Fields of a record that name it (its key): not compared, not listed in its history.
_OWNER_FIELDS = ("park_id", "zone_id", "enterprise_id")
#: The history names a record's fields as the import's columns.
_COLUMN_OF = {"carrier_code": "carrier"}


def record_key(natural_key: str) -> str:
    """A record's key in the history (``audit.history``): its natural key without the park's id,
    which every event carries itself — ``enterprise:E01|2020||industry|all|electricity|表6.1.1``."""
    return natural_key.partition("|")[2]


def _kept(values: dict[str, Any]) -> dict[str, Any]:
    return {_COLUMN_OF.get(k, k): v for k, v in values.items() if k not in _OWNER_FIELDS}


def _upsert(
    session: Session,
    park: m.Park,
    model: Any,
    keys: list[str],
    fields: list[dict[str, Any]],
    batch_id: int | None,
    history: audit.Changes,
    entity: str,
) -> int:
    """Insert or update records by natural key; return how many changed (and bump the park's
    data revision when any did, which invalidates cached results). Every change is kept in the
    record's history (``history``): old and new value of each changed field."""
    existing = {r.natural_key: r for r in _by_keys(session, model, keys)}
    changed = 0
    for key, values in zip(keys, fields, strict=True):
        rec = existing.get(key)
        owner = {"enterprise_id": values["enterprise_id"], "zone_id": values["zone_id"]}
        if rec is None:
            session.add(model(natural_key=key, import_batch_id=batch_id, **values))
            history.record(entity, record_key(key), None, _kept(values), **owner)
            changed += 1
        elif any(getattr(rec, k) != val for k, val in values.items()):
            before = _kept({k: getattr(rec, k) for k in values})
            for k, val in values.items():
                setattr(rec, k, val)
            rec.import_batch_id = batch_id
            history.record(entity, record_key(key), before, _kept(values), **owner)
            changed += 1
    if changed:
        park.data_revision = (park.data_revision or 0) + 1
    history.write()
    session.flush()
    return changed


def upsert_activity(session: Session, park: m.Park, rows: list[dict[str, Any]], batch_id: int | None,
                    *, by: str = "", batch: str = "") -> int:  # fmt: skip
    """Insert or update activity records by natural key; return how many changed. ``by`` and
    ``batch``: who made the change and through what (a file, a form), for the records' history."""
    keys = [activity_key(park.id, v) for v in rows]
    return _upsert(session, park, m.ActivityRecord, keys, [_activity_fields(park, v) for v in rows], batch_id,
                   audit.Changes(session, by, batch, park.id), "activity_record")  # fmt: skip


def upsert_economic(session: Session, park: m.Park, rows: list[dict[str, Any]], batch_id: int | None,
                    *, by: str = "", batch: str = "") -> int:  # fmt: skip
    """Insert or update economic records by natural key; return how many changed (kept in their
    history as :func:`upsert_activity`)."""
    keys = [economic_key(park.id, v) for v in rows]
    return _upsert(session, park, m.EconomicRecord, keys, [_economic_fields(park, v) for v in rows], batch_id,
                   audit.Changes(session, by, batch, park.id), "economic_record")  # fmt: skip


def _by_keys(session: Session, model: Any, keys: list[str]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(keys), 500):
        out += session.scalars(select(model).where(model.natural_key.in_(keys[i : i + 500]))).all()
    return out

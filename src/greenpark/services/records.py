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
from greenpark.services.inventory import BOUNDARIES, ECONOMIC_INDICATORS, SECTORS
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


@dataclass(frozen=True)
class CellError:
    """One bad cell: where it is and why it is refused."""

    file: str
    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        sheet = f", sheet {self.sheet}" if self.sheet else ""
        return f"{self.file}{sheet}, row {self.row}, column {self.column}: {self.reason}"


@dataclass
class EntityRef:
    zone_id: int | None
    enterprise_id: int | None
    key: str


class EntityResolver:
    """Turns ``park`` / ``zone:CODE`` / ``enterprise:CODE`` into ids for one park."""

    def __init__(self, session: Session, park: m.Park) -> None:
        self.park = park
        self.zones = {z.code: z.id for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
        self.enterprises = {
            e.code: (e.id, e.zone_id)
            for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))
        }

    def resolve(self, text: str) -> EntityRef:
        t = text.strip()
        if t in ("park", self.park.code):
            return EntityRef(None, None, "park")
        kind, _, code = t.partition(":")
        if kind == "zone" and code in self.zones:
            return EntityRef(self.zones[code], None, f"zone:{code}")
        if kind == "enterprise" and code in self.enterprises:
            eid, zid = self.enterprises[code]
            return EntityRef(zid, eid, f"enterprise:{code}")
        if not code:
            raise ValueError(f"entity {t!r} must be 'park', 'zone:CODE' or 'enterprise:CODE'")
        raise ValueError(f"unknown {kind or 'entity'} {code!r}")


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
        raise ValueError("is not a number")
    try:
        x = float(str(v).replace(",", "").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{v!r} is not a number") from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{v!r} is not a finite number")
    return x


def _int(v: Any) -> int | None:
    x = _number(v)
    if x is None:
        return None
    if not float(x).is_integer():
        raise ValueError(f"{v!r} is not a whole number")
    return int(x)


def validate_activity(
    raw: dict[str, Any],
    resolver: EntityResolver,
    carriers: dict[str, m.Carrier],
    where: tuple[str, str, int],
    allowed_enterprise_id: int | None = None,
) -> tuple[dict[str, Any] | None, list[CellError]]:
    """Check one activity row; return the clean values or the errors (one per bad cell)."""
    file, sheet, row = where
    errs: list[CellError] = []

    def err(col: str, reason: str) -> None:
        errs.append(CellError(file, sheet, row, col, reason))

    for col in REQUIRED["activity"]:
        if not _text(raw.get(col)):
            err(col, "is required")
    out: dict[str, Any] = {}
    try:
        ent = resolver.resolve(_text(raw.get("entity")))
        if allowed_enterprise_id is not None and ent.enterprise_id != allowed_enterprise_id:
            err("entity", "an enterprise user may only import data of their own enterprise")
        out["entity"] = ent
    except ValueError as exc:
        if _text(raw.get("entity")):
            err("entity", str(exc))
    for col, lo, hi in (("year", MIN_YEAR, MAX_YEAR), ("month", 1, 12)):
        try:
            v = _int(raw.get(col))
            if v is not None and not lo <= v <= hi:
                err(col, f"{v} is outside {lo}-{hi}")
            out[col] = v
        except ValueError as exc:
            err(col, str(exc))
    sector = _text(raw.get("sector")) or None
    if sector is not None and sector not in SECTORS:
        err("sector", f"{sector!r} is not one of {', '.join(SECTORS)} (leave empty for all sectors)")
    out["sector"] = sector
    boundary = _text(raw.get("boundary")) or "all"
    if boundary not in BOUNDARIES:
        err("boundary", f"{boundary!r} is not one of {', '.join(BOUNDARIES)}")
    out["boundary"] = boundary
    carrier = _text(raw.get("carrier")) or None
    if carrier is not None and carrier not in carriers:
        err("carrier", f"unknown carrier {carrier!r}; known: {', '.join(carriers)}")
    out["carrier"] = carrier
    q = t = None
    try:
        q = _number(raw.get("quantity"))
        if q is not None and q < 0:
            err("quantity", "must not be negative")
    except ValueError as exc:
        err("quantity", str(exc))
    try:
        t = _number(raw.get("energy_tce"))
        if t is not None and t < 0:
            err("energy_tce", "must not be negative")
    except ValueError as exc:
        err("energy_tce", str(exc))
    unit = _text(raw.get("unit")) or None
    if q is None and t is None and not any(e.column in ("quantity", "energy_tce") for e in errs):
        err("quantity", "give a quantity (with its unit) or energy_tce")
    if q is not None:
        if carrier is None:
            err("carrier", "a physical quantity needs its carrier")
        if unit is None:
            err("unit", "a quantity needs its unit")
        elif unit not in UNITS:
            err("unit", f"unknown unit {unit!r}")
        elif carrier in carriers:
            try:
                if dimension(unit) != dimension(carriers[carrier].unit):
                    err("unit", f"{unit!r} does not measure {carrier} (recorded in {carriers[carrier].unit})")
            except UnitError as exc:
                err("unit", str(exc))
    out.update(quantity=q, unit=unit if q is not None else None, energy_tce=t)
    basis = _text(raw.get("tce_basis")) or "calorific"
    if basis not in TCE_BASES:
        err("tce_basis", f"{basis!r} is not one of {', '.join(TCE_BASES)}")
    out["tce_basis"] = basis
    quality = _text(raw.get("quality")) or "reported"
    if quality not in QUALITY:
        err("quality", f"{quality!r} is not one of {', '.join(QUALITY)}")
    out["quality"] = quality
    out["source_ref"] = _text(raw.get("source_ref"))[:300]
    out["note"] = _text(raw.get("note"))
    return (None, errs) if errs else (out, [])


def validate_economic(
    raw: dict[str, Any],
    resolver: EntityResolver,
    where: tuple[str, str, int],
    allowed_enterprise_id: int | None = None,
) -> tuple[dict[str, Any] | None, list[CellError]]:
    file, sheet, row = where
    errs: list[CellError] = []

    def err(col: str, reason: str) -> None:
        errs.append(CellError(file, sheet, row, col, reason))

    for col in REQUIRED["economic"]:
        if not _text(raw.get(col)):
            err(col, "is required")
    out: dict[str, Any] = {}
    try:
        ent = resolver.resolve(_text(raw.get("entity")))
        if allowed_enterprise_id is not None and ent.enterprise_id != allowed_enterprise_id:
            err("entity", "an enterprise user may only import data of their own enterprise")
        out["entity"] = ent
    except ValueError as exc:
        if _text(raw.get("entity")):
            err("entity", str(exc))
    try:
        y = _int(raw.get("year"))
        if y is not None and not MIN_YEAR <= y <= MAX_YEAR:
            err("year", f"{y} is outside {MIN_YEAR}-{MAX_YEAR}")
        out["year"] = y
    except ValueError as exc:
        err("year", str(exc))
    ind = _text(raw.get("indicator"))
    if ind and ind not in ECONOMIC_INDICATORS:
        err("indicator", f"{ind!r} is not one of {', '.join(ECONOMIC_INDICATORS)}")
    out["indicator"] = ind
    try:
        v = _number(raw.get("value_10k_yuan"))
        if v is not None and v < 0:
            err("value_10k_yuan", "must not be negative")
        out["value_10k_yuan"] = v
    except ValueError as exc:
        err("value_10k_yuan", str(exc))
    out["price_basis"] = _text(raw.get("price_basis")) or "current"
    out["source_ref"] = _text(raw.get("source_ref"))[:300]
    out["note"] = _text(raw.get("note"))
    return (None, errs) if errs else (out, [])


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


def upsert_activity(session: Session, park: m.Park, rows: list[dict[str, Any]], batch_id: int | None) -> int:
    """Insert or update activity records by natural key; return how many changed."""
    keys = [activity_key(park.id, v) for v in rows]
    existing = {r.natural_key: r for r in _by_keys(session, m.ActivityRecord, keys)}
    changed = 0
    for key, v in zip(keys, rows, strict=True):
        e: EntityRef = v["entity"]
        fields = {
            "park_id": park.id,
            "zone_id": e.zone_id,
            "enterprise_id": e.enterprise_id,
            "year": v["year"],
            "month": v["month"],
            "sector": v["sector"],
            "boundary": v["boundary"],
            "carrier_code": v["carrier"],
            "quantity": v["quantity"],
            "unit": v["unit"],
            "energy_tce": v["energy_tce"],
            "tce_basis": v["tce_basis"],
            "source_ref": v["source_ref"],
            "quality": v["quality"],
            "note": v["note"],
        }
        rec = existing.get(key)
        if rec is None:
            session.add(m.ActivityRecord(natural_key=key, import_batch_id=batch_id, **fields))
            changed += 1
        elif any(getattr(rec, k) != val for k, val in fields.items()):
            for k, val in fields.items():
                setattr(rec, k, val)
            rec.import_batch_id = batch_id
            changed += 1
    if changed:
        park.data_revision = (park.data_revision or 0) + 1
    session.flush()
    return changed


def upsert_economic(session: Session, park: m.Park, rows: list[dict[str, Any]], batch_id: int | None) -> int:
    keys = [economic_key(park.id, v) for v in rows]
    existing = {r.natural_key: r for r in _by_keys(session, m.EconomicRecord, keys)}
    changed = 0
    for key, v in zip(keys, rows, strict=True):
        e: EntityRef = v["entity"]
        fields = {
            "park_id": park.id,
            "zone_id": e.zone_id,
            "enterprise_id": e.enterprise_id,
            "year": v["year"],
            "indicator": v["indicator"],
            "value_10k_yuan": v["value_10k_yuan"],
            "price_basis": v["price_basis"],
            "source_ref": v["source_ref"],
            "note": v["note"],
        }
        rec = existing.get(key)
        if rec is None:
            session.add(m.EconomicRecord(natural_key=key, import_batch_id=batch_id, **fields))
            changed += 1
        elif any(getattr(rec, k) != val for k, val in fields.items()):
            for k, val in fields.items():
                setattr(rec, k, val)
            rec.import_batch_id = batch_id
            changed += 1
    if changed:
        park.data_revision = (park.data_revision or 0) + 1
    session.flush()
    return changed


def _by_keys(session: Session, model: Any, keys: list[str]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(keys), 500):
        out += session.scalars(select(model).where(model.natural_key.in_(keys[i : i + 500]))).all()
    return out

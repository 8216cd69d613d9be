"""Land-use intensity (亩均效益): enterprise records, per-mu evaluation against the plan's
thresholds with an A–D class and a ranking by zone; the idle-land register and its "三年清零"
countdown. Imports check every cell (file, row, column) and write nothing on an error."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.core import landuse as core
from greenpark.i18n import Msg
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.services.tabular import CellError, TableRejected
from greenpark.store import models as m

#: "三年清零" counted from the plan's first year: idle land cleared by the end of 2023 (the plan
#: gives no date; this reading is an assumption and shown as such).
CLEAR_BY = date(2023, 12, 31)
KINDS = ("unsupplied", "idle")
STATUSES = ("pending", "in_progress", "disposed")


class LandImportRejected(TableRejected):
    """A land-use upload was refused; nothing was imported."""


def _num(raw: str, file: str, row: int, col: str, errors: list[CellError], required: bool = False,
         positive: bool = False) -> float | None:  # fmt: skip
    t = (raw or "").strip()
    if not t:
        if required:
            errors.append(CellError(file, "", row, col, Msg("is required")))
        return None
    try:
        x = float(t)
    except ValueError:
        errors.append(CellError(file, "", row, col, Msg("{value} is not a number", value=repr(t))))
        return None
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        errors.append(
            CellError(file, "", row, col, Msg("must be positive") if positive else Msg("must be ≥ 0"))
        )
        return None
    return x


def _rows(filename: str, content: bytes, required: tuple[str, ...]) -> list[tuple[str, int, dict[str, str]]]:
    from greenpark.services.carbon.io import ImportRejected, read_simple_table

    try:
        return read_simple_table(filename, content, required)
    except ImportRejected as exc:
        raise LandImportRejected(exc.errors) from None


LAND_USE_FIELDS = ("land_mu", "investment_10k_yuan", "tax_10k_yuan", "output_10k_yuan", "energy_tce",
                   "in_production", "source")  # fmt: skip
PARCEL_FIELDS = ("zone_id", "location", "kind", "area_mu", "status", "since", "disposed_on", "disposal_plan",
                 "note")  # fmt: skip


def import_land_use(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """CSV ``enterprise,year,land_mu,investment_10k_yuan,tax_10k_yuan,output_10k_yuan,energy_tce,
    in_production,source``; all or nothing; rows matched on (enterprise, year). What changes is
    kept in the records' history (``land_use`` ``ENTERPRISE|YEAR``; ``by``, the file as the batch)."""
    park = get_park(session)
    ents = {e.name: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))}
    ents |= {e.code: e for e in list(ents.values())}
    errors: list[CellError] = []
    rows = []
    for _sheet, i, r in _rows(filename, content, ("enterprise", "year", "land_mu")):
        e = ents.get((r.get("enterprise") or "").strip())
        if e is None:
            errors.append(
                CellError(
                    filename,
                    "",
                    i,
                    "enterprise",
                    Msg("unknown enterprise {code}", code=repr(r.get("enterprise"))),
                )
            )
        year = _num(r.get("year", ""), filename, i, "year", errors, required=True)
        if year is not None and not (1990 <= year <= 2100 and year.is_integer()):
            errors.append(
                CellError(
                    filename,
                    "",
                    i,
                    "year",
                    Msg("{value} is not a year between 1990 and 2100", value=f"{year:g}"),
                )
            )
        land = _num(r.get("land_mu", ""), filename, i, "land_mu", errors, required=True, positive=True)
        vals = {c: _num(r.get(c, ""), filename, i, c, errors)
                for c in ("investment_10k_yuan", "tax_10k_yuan", "output_10k_yuan", "energy_tce")}  # fmt: skip
        prod = (r.get("in_production") or "1").strip().lower()
        if prod not in ("0", "1", "true", "false", "是", "否"):
            errors.append(CellError(filename, "", i, "in_production", Msg("0 or 1")))
        if e is not None and year is not None and land is not None:
            rows.append(
                (e, int(year), land, vals, prod in ("1", "true", "是"), (r.get("source") or "").strip())
            )
    if errors:
        raise LandImportRejected(errors)
    hist = audit.Changes(session, by, audit.file_batch(filename, content), park.id)
    for e, year, land, vals, in_production, source in rows:
        rec = session.scalars(
            select(m.LandUseRecord).where(m.LandUseRecord.enterprise_id == e.id, m.LandUseRecord.year == year)
        ).first() or m.LandUseRecord(enterprise_id=e.id, year=year)
        before = audit.values(rec, LAND_USE_FIELDS) if rec.id is not None else None
        rec.land_mu, rec.in_production, rec.source = land, in_production, source
        for k, v in vals.items():
            setattr(rec, k, v)
        session.add(rec)
        hist.record("land_use", f"{e.code}|{year}", before, audit.values(rec, LAND_USE_FIELDS),
                    enterprise_id=e.id, zone_id=e.zone_id)  # fmt: skip
    hist.write()
    session.flush()
    return len(rows)


def import_idle_parcels(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """CSV ``code,zone,location,kind,area_mu,since,disposal_plan,status,disposed_on,note``; what
    changes is kept in the parcels' history (``idle_parcel`` ``CODE``)."""
    park = get_park(session)
    zones = {z.code: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
    errors: list[CellError] = []
    rows = []
    for _sheet, i, r in _rows(filename, content, ("code", "kind", "area_mu")):
        code = (r.get("code") or "").strip()
        if not code:
            errors.append(CellError(filename, "", i, "code", Msg("is required")))
        zone = (r.get("zone") or "").strip()
        if zone and zone not in zones:
            errors.append(CellError(filename, "", i, "zone", Msg("unknown zone {code}", code=repr(zone))))
        kind = (r.get("kind") or "").strip()
        if kind not in KINDS:
            errors.append(
                CellError(
                    filename,
                    "",
                    i,
                    "kind",
                    Msg("{value} is not one of {allowed}", value=repr(kind), allowed=", ".join(KINDS)),
                )
            )
        status = (r.get("status") or "pending").strip()
        if status not in STATUSES:
            errors.append(
                CellError(
                    filename,
                    "",
                    i,
                    "status",
                    Msg("{value} is not one of {allowed}", value=repr(status), allowed=", ".join(STATUSES)),
                )
            )
        area = _num(r.get("area_mu", ""), filename, i, "area_mu", errors, required=True, positive=True)
        days = {}
        for c in ("since", "disposed_on"):
            t = (r.get(c) or "").strip()
            try:
                days[c] = date.fromisoformat(t) if t else None
            except ValueError:
                errors.append(
                    CellError(filename, "", i, c, Msg("{value} is not a date (YYYY-MM-DD)", value=repr(t)))
                )
                days[c] = None
        if status == "disposed" and days.get("disposed_on") is None:
            errors.append(CellError(filename, "", i, "disposed_on", Msg("a disposed parcel needs its date")))
        rows.append((code, zones.get(zone), r, kind, status, area, days))
    if errors:
        raise LandImportRejected(errors)
    hist = audit.Changes(session, by, audit.file_batch(filename, content), park.id)
    zone_codes = {z.id: z.code for z in zones.values()}

    def kept(p: m.IdleParcel) -> dict[str, Any]:
        v = audit.values(p, PARCEL_FIELDS)
        return {"zone": zone_codes.get(v.pop("zone_id")), **v}

    for code, zone_row, r, kind, status, area, days in rows:
        p = session.scalars(
            select(m.IdleParcel).where(m.IdleParcel.park_id == park.id, m.IdleParcel.code == code)
        ).first() or m.IdleParcel(park_id=park.id, code=code)
        before = kept(p) if p.id is not None else None
        p.zone_id = zone_row.id if zone_row else None
        assert area is not None
        p.location, p.kind, p.area_mu, p.status = (r.get("location") or "").strip(), kind, area, status
        p.since, p.disposed_on = days["since"], days["disposed_on"]
        p.disposal_plan, p.note = (r.get("disposal_plan") or "").strip(), (r.get("note") or "").strip()
        session.add(p)
        hist.record("idle_parcel", code, before, kept(p), zone_id=p.zone_id)
    hist.write()
    session.flush()
    return len(rows)


def latest_year(session: Session) -> int | None:
    """The latest year with land-use records of the park's enterprises (None without records)."""
    park = get_park(session)
    year: int | None = session.scalar(
        select(func.max(m.LandUseRecord.year))
        .join(m.Enterprise, m.Enterprise.id == m.LandUseRecord.enterprise_id)
        .where(m.Enterprise.park_id == park.id)
    )
    return year


def _zone_names(z: m.Zone | None) -> dict[str, str | None]:
    """The zone's names beside its code (a page shows the name, never the code)."""
    return {"zone_name_zh": z.name_zh if z else None, "zone_name_en": z.name_en if z else None}


def evaluation(session: Session, year: int | None = None, zone: str | None = None,
               grading: core.Grading | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Per enterprise: investment, tax, output and energy per mu, against the plan's thresholds,
    with the class and the rank (by tax per mu) in the park and in its zone. ``year``: default the
    latest year with records (:func:`latest_year`)."""
    g = grading or core.Grading()
    park = get_park(session)
    year = year or latest_year(session)
    if year is None:
        return []
    zones = {z.id: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
    out: list[dict[str, Any]] = []
    for rec, e in session.execute(
        select(m.LandUseRecord, m.Enterprise)
        .join(m.Enterprise, m.Enterprise.id == m.LandUseRecord.enterprise_id)
        .where(m.Enterprise.park_id == park.id, m.LandUseRecord.year == year)
    ):
        z = zones.get(e.zone_id) if e.zone_id else None
        zcode = z.code if z else None
        if zone and zcode != zone:
            continue
        inv = core.per_mu(rec.investment_10k_yuan, rec.land_mu)
        tax = core.per_mu(rec.tax_10k_yuan, rec.land_mu) if rec.in_production else None
        out.append({
            "enterprise": e.name, "enterprise_id": e.id, "zone": zcode, **_zone_names(z), "year": year,
            "land_mu": rec.land_mu,
            "investment_per_mu": inv, "tax_per_mu": tax, "output_per_mu": core.per_mu(rec.output_10k_yuan, rec.land_mu),
            "energy_per_mu_tce": core.per_mu(rec.energy_tce, rec.land_mu), "in_production": rec.in_production,
            "meets_investment": None if inv is None else inv >= g.investment_min,
            "meets_tax": None if tax is None else tax >= g.tax_min, "class": core.grade(tax, inv, g),
            "source": rec.source,
        })  # fmt: skip
    out.sort(key=lambda r: -(r["tax_per_mu"] or -1))
    by_zone: dict[str | None, int] = {}
    for k, r in enumerate(out, start=1):
        r["rank"] = k
        by_zone[r["zone"]] = by_zone.get(r["zone"], 0) + 1
        r["rank_in_zone"] = by_zone[r["zone"]]
    return out


def idle_land(session: Session, today: date | None = None) -> dict[str, Any]:
    """The register and the "三年清零" countdown: what is left, and the days to the deadline."""
    today = today or date.today()
    park = get_park(session)
    zones = {z.id: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
    parcels = session.scalars(
        select(m.IdleParcel).where(m.IdleParcel.park_id == park.id).order_by(m.IdleParcel.code)
    ).all()
    left = [p for p in parcels if p.status != "disposed"]
    return {
        "clear_by": CLEAR_BY.isoformat(), "clear_by_assumed": True, "days_left": (CLEAR_BY - today).days,
        "parcels_left": len(left), "area_left_mu": sum(p.area_mu for p in left),
        "area_disposed_mu": sum(p.area_mu for p in parcels if p.status == "disposed"),
        "parcels": [
            {"code": p.code, "zone": zones[p.zone_id].code if p.zone_id in zones else None,
             **_zone_names(zones.get(p.zone_id) if p.zone_id else None), "location": p.location,
             "kind": p.kind, "area_mu": p.area_mu, "since": p.since.isoformat() if p.since else None,
             "years_idle": round(((p.disposed_on or today) - p.since).days / 365.25, 1) if p.since else None,
             "disposal_plan": p.disposal_plan, "status": p.status,
             "disposed_on": p.disposed_on.isoformat() if p.disposed_on else None, "note": p.note}
            for p in parcels
        ],
    }  # fmt: skip

"""The energy and CO2 inventory of a scope (park, zone or enterprise) and year, with lineage.

The store hands over sums of activity records grouped by carrier, sector and unit; the core does
every conversion; this module picks factors, assembles the figures, and writes down where each
came from.

Sources often report one total several ways (by carrier, by sector, as a single figure). Records
are therefore sorted into layers — A carrier x sector, B carrier only, C sector only, D total —
and the most detailed layer is used for each purpose; the others are checked against it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from greenpark.core import carbon, energy, intensity
from greenpark.core.lineage import lineage_parts
from greenpark.core.units import conversion_factor, rate_conversion_factor
from greenpark.i18n import Msg
from greenpark.services.carbon.factors import FactorLibrary, FactorRef, check_factor_sets
from greenpark.services.park.parks import ParkError, get_park
from greenpark.store import models as m

SECTORS = ("industry", "transport", "commercial", "residential")
SECTOR_LABELS = {
    "industry": ("工业", "Industry"),
    "transport": ("交通", "Transport"),
    "commercial": ("商业", "Commercial"),
    "residential": ("居民", "Residential"),
}
BOUNDARIES = ("all", "above_scale")
ECONOMIC_INDICATORS = (
    "gdp",
    "industrial_value_added",
    "above_scale_industrial_value_added",
    "above_scale_gross_output",
)
#: Layers agree when their totals differ by at most this fraction (rounding in published tables).
LAYER_TOLERANCE = 0.005


class InventoryError(ParkError):
    """The inventory cannot be computed as asked (unknown scope, no park, bad profile)."""


@dataclass(frozen=True)
class Scope:
    kind: str  # park | zone | enterprise
    park_id: int
    code: str
    name_zh: str
    name_en: str
    zone_id: int | None = None
    enterprise_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "name_zh": self.name_zh, "name_en": self.name_en}


@dataclass(frozen=True)
class AccountingProfile:
    coal_coefficient: list[str]
    combustion: list[str]
    combustion_method: str
    grid_sets: list[str]
    grid_region: str
    grid_year: int | None  # None: the latest data year not after the inventory year
    heat: list[str]
    equal_value: list[str]
    reported_tce_basis: str = "calorific"
    note_zh: str = ""
    note_en: str = ""

    @classmethod
    def from_json(cls, text: str) -> AccountingProfile:
        d = json.loads(text or "{}")
        try:
            grid = d["grid"]
            year = grid.get("year")
            return cls(
                coal_coefficient=list(d["coal_coefficient"]),
                combustion=list(d["combustion"]),
                combustion_method=d.get("combustion_method", "carbon_content"),
                grid_sets=list(grid["sets"]),
                grid_region=grid["region"],
                grid_year=int(year) if isinstance(year, int) else None,
                heat=list(d.get("heat", [])),
                equal_value=list(d.get("equal_value", [])),
                reported_tce_basis=d.get("reported_tce_basis", "calorific"),
                note_zh=d.get("note_zh", ""),
                note_en=d.get("note_en", ""),
            )
        except (KeyError, TypeError) as exc:
            raise InventoryError(f"the park's accounting profile is incomplete: {exc}") from exc

    def all_sets(self) -> list[str]:
        return list(
            dict.fromkeys(
                self.coal_coefficient + self.combustion + self.grid_sets + self.heat + self.equal_value
            )
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "coal_coefficient": self.coal_coefficient,
            "combustion": self.combustion,
            "combustion_method": self.combustion_method,
            "grid": {"sets": self.grid_sets, "region": self.grid_region, "year": self.grid_year},
            "heat": self.heat,
            "equal_value": self.equal_value,
            "reported_tce_basis": self.reported_tce_basis,
            "note_zh": self.note_zh,
            "note_en": self.note_en,
        }


@dataclass
class Group:
    """A sum of activity records that share entity, sector, carrier, unit and tce basis."""

    enterprise_id: int | None
    zone_id: int | None
    sector: str | None
    carrier: str | None
    unit: str | None
    tce_basis: str
    tce_only: bool
    quantity: float
    energy_tce: float
    count: int
    min_id: int
    max_id: int
    month: int | None = None

    @property
    def layer(self) -> str:
        if self.carrier and self.sector:
            return "A"
        if self.carrier:
            return "B"
        if self.sector:
            return "C"
        return "D"


@dataclass
class Line:
    """Computed figures of one group."""

    group: Group
    quantity: float  # carrier's canonical unit (derived from tce when only tce was given)
    energy_gj: float
    tce_calorific: float
    tce_equal_value: float | None
    co2_t: float | None


@dataclass
class CarrierCalc:
    factors: list[FactorRef] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- scope and inputs


def resolve_scope(session: Session, park: m.Park, code: str) -> Scope:
    """``park``, a zone code or an enterprise code."""
    if code in ("park", park.code):
        return Scope("park", park.id, "park", park.name_zh, park.name_en)
    zone = session.scalars(select(m.Zone).where(m.Zone.park_id == park.id, m.Zone.code == code)).first()
    if zone is not None:
        return Scope("zone", park.id, zone.code, zone.name_zh, zone.name_en, zone_id=zone.id)
    ent = session.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code == code)
    ).first()
    if ent is not None:
        return Scope(
            "enterprise", park.id, ent.code, ent.name, ent.name, zone_id=ent.zone_id, enterprise_id=ent.id
        )
    raise InventoryError(f"unknown scope {code!r}: use 'park', a zone code or an enterprise code")


def _level_filter(session: Session, scope: Scope, year: int, boundary: str) -> Any:
    """SQL condition choosing the records of the most direct level that has data."""
    ar = m.ActivityRecord
    base = and_(ar.park_id == scope.park_id, ar.year == year, ar.boundary == boundary)
    if scope.kind == "enterprise":
        return and_(base, ar.enterprise_id == scope.enterprise_id)
    if scope.kind == "zone":
        zone_level = and_(base, ar.zone_id == scope.zone_id, ar.enterprise_id.is_(None))
        has_zone_level = session.scalar(select(func.count()).select_from(ar).where(zone_level))
        if has_zone_level:
            return zone_level
        return and_(base, ar.zone_id == scope.zone_id, ar.enterprise_id.is_not(None))
    park_level = and_(base, ar.zone_id.is_(None), ar.enterprise_id.is_(None))
    if session.scalar(select(func.count()).select_from(ar).where(park_level)):
        return park_level
    zones_with_own = (
        select(ar.zone_id).where(base, ar.zone_id.is_not(None), ar.enterprise_id.is_(None)).distinct()
    )
    return and_(
        base,
        or_(
            and_(ar.zone_id.is_not(None), ar.enterprise_id.is_(None)),
            and_(
                ar.enterprise_id.is_not(None),
                or_(ar.zone_id.is_(None), ar.zone_id.not_in(zones_with_own)),
            ),
        ),
    )


def fetch_groups(
    session: Session, scope: Scope, year: int, boundary: str, by_entity: bool, by_month: bool = False
) -> list[Group]:
    """Sums of the scope's records, keyed in the column order of ``ix_activity_rollup``.

    Records given as a physical quantity and records given only in tce are summed apart (a group
    may hold both), because they go through different conversions.
    """
    ar = m.ActivityRecord
    keys: list[Any] = [ar.sector, ar.carrier_code, ar.unit, ar.tce_basis]
    if by_entity:
        keys = [ar.enterprise_id, ar.zone_id, *keys]
    if by_month:
        keys.append(ar.month)
    stmt = (
        select(
            *keys,
            func.coalesce(func.sum(ar.quantity), 0.0),
            func.coalesce(func.sum(case((ar.quantity.is_(None), ar.energy_tce))), 0.0),
            func.count(ar.quantity),
            func.count(),
            func.min(ar.id),
            func.max(ar.id),
        )
        .where(_level_filter(session, scope, year, boundary))
        .group_by(*keys)
    )
    groups = []
    for row_ in session.execute(stmt):
        row: tuple[Any, ...] = tuple(row_)
        month = None
        if by_month:
            month = row[len(keys) - 1]
            row = row[: len(keys) - 1] + row[len(keys) :]
        if by_entity:
            ent, zone, sector, carrier, unit, basis, q, t, n_q, n, lo, hi = row
        else:
            ent, zone = None, None
            sector, carrier, unit, basis, q, t, n_q, n, lo, hi = row
        if n_q:
            groups.append(
                Group(ent, zone, sector, carrier, unit, basis, False, float(q), 0.0, n_q, lo, hi, month)
            )
        if n - n_q:
            groups.append(
                Group(ent, zone, sector, carrier, None, basis, True, 0.0, float(t), n - n_q, lo, hi, month)
            )
    return groups


# --------------------------------------------------------------------------- the calculation


def compute_carrier(
    carrier: m.Carrier,
    groups: list[Group],
    year: int,
    profile: AccountingProfile,
    lib: FactorLibrary,
) -> tuple[list[Line], CarrierCalc]:
    """Energy (GJ, tce both conventions) and CO2 of every group of one carrier, vectorised."""
    calc = CarrierCalc()

    def need(sets: list[str], parameter: str, **kw: Any) -> FactorRef | None:
        ref = lib.lookup(sets, carrier.code, parameter, **kw)
        if ref is None:
            calc.missing.append(f"{parameter} ({', '.join(sets)})")
        elif ref not in calc.factors:
            calc.factors.append(ref)
        return ref

    unit = carrier.unit
    only = np.array([g.tce_only for g in groups])
    q_in = np.array(
        [0.0 if g.tce_only else g.quantity * conversion_factor(g.unit or unit, unit) for g in groups]
    )
    t_in = np.array([g.energy_tce for g in groups])
    n = len(groups)

    if carrier.kind == "electricity":
        coef = need(profile.coal_coefficient, "coal_coefficient")
        coef_kgce_kwh = coef.value * rate_conversion_factor(coef.unit, "kgce/kWh") if coef else np.nan
        ev = need(profile.equal_value, "equal_value_coefficient", latest_not_after=year)
        ev_kgce_kwh = ev.value * rate_conversion_factor(ev.unit, "kgce/kWh") if ev else np.nan
        kwh_from_q = q_in * conversion_factor(unit, "kWh")
        basis_ev = np.array([g.tce_basis == "equal_value" for g in groups])
        kwh_from_t = np.where(
            basis_ev,
            energy.electricity_kwh_from_tce(t_in, ev_kgce_kwh),
            energy.electricity_kwh_from_tce(t_in, coef_kgce_kwh),
        )
        kwh = np.where(only, kwh_from_t, kwh_from_q)
        gj = energy.energy_gj_from_electricity_kwh(kwh)
        tce_cal = energy.electricity_tce(kwh, coef_kgce_kwh)
        tce_ev = energy.electricity_tce(kwh, ev_kgce_kwh)
        grid = (
            need(profile.grid_sets, "grid_factor", region=profile.grid_region, year=profile.grid_year)
            if profile.grid_year is not None
            else need(profile.grid_sets, "grid_factor", region=profile.grid_region, latest_not_after=year)
        )
        ef = grid.value * rate_conversion_factor(grid.unit, "tCO2/MWh") if grid else np.nan
        co2 = carbon.co2_purchased_electricity_t(kwh / 1_000.0, ef)
        quantity = kwh * conversion_factor("kWh", unit)
        calc.steps = [
            Msg("kWh = tce × 1000 ÷ (kgce per kWh), when only tce is reported (GB/T 2589, Appendix A)"),
            Msg(
                "tce (calorific) = kWh × 0.1229 ÷ 1000; tce (equal value) = kWh × the year's coal rate of power supply ÷ 1000"
            ),
            Msg("CO₂ = MWh × the grid's average emission factor (GB/T 32150-2015, formula A.5)"),
        ]
    elif carrier.kind == "heat":
        coef = need(profile.coal_coefficient, "coal_coefficient")
        coef_tce_gj = coef.value * rate_conversion_factor(coef.unit, "tce/GJ") if coef else np.nan
        gj = np.where(only, energy.energy_gj_from_tce(t_in), q_in * conversion_factor(unit, "GJ"))
        tce_cal = energy.tce_from_quantity(gj, coef_tce_gj)
        tce_ev = tce_cal
        hf = need(profile.heat, "heat_factor")
        co2 = carbon.co2_purchased_heat_t(
            gj, hf.value * rate_conversion_factor(hf.unit, "tCO2/GJ") if hf else np.nan
        )
        quantity = gj * conversion_factor("GJ", unit)
        calc.steps = [
            Msg("tce = GJ × 0.03412 tce per GJ (calorific; the equal value is taken the same)"),
            Msg("CO₂ = GJ × the heat emission factor (GB/T 32150-2015, formula A.6)"),
        ]
    else:
        coef = need(profile.coal_coefficient, "coal_coefficient")
        coef_tce_unit = coef.value * rate_conversion_factor(coef.unit, f"tce/{unit}") if coef else np.nan
        has_physical = bool((~only).any())
        ncv = need(profile.combustion, "ncv") if has_physical else None
        ncv_gj_unit = ncv.value * rate_conversion_factor(ncv.unit, f"GJ/{unit}") if ncv else np.nan
        gj = np.where(
            only, energy.energy_gj_from_tce(t_in), energy.energy_gj_from_quantity(q_in, ncv_gj_unit)
        )
        tce_cal = np.where(only, t_in, energy.tce_from_quantity(q_in, coef_tce_unit))
        tce_ev = tce_cal
        quantity = np.where(only, energy.quantity_from_tce(t_in, coef_tce_unit), q_in)
        if profile.combustion_method == "emission_factor":
            ef_ref = need(profile.combustion, "co2_factor")
            co2 = carbon.co2_from_emission_factor_t(
                gj, ef_ref.value * rate_conversion_factor(ef_ref.unit, "kgCO2/TJ") if ef_ref else np.nan
            )
            calc.steps = [
                Msg("GJ = quantity × net calorific value, or tce × 29.3076"),
                Msg("CO₂ = TJ × emission factor (IPCC 2006, Vol. 2, Ch. 2, Eq. 2.1)"),
            ]
        else:
            cc = need(profile.combustion, "carbon_content")
            of = need(profile.combustion, "oxidation")
            co2 = carbon.co2_combustion_t(
                gj,
                cc.value * rate_conversion_factor(cc.unit, "tC/TJ") if cc else np.nan,
                of.value if of else np.nan,
            )
            calc.steps = [
                Msg(
                    "GJ = quantity × net calorific value, or tce × 29.3076 (GB/T 2589: 1 kgce = 29 307.6 kJ)"
                ),
                Msg(
                    "CO₂ = TJ × carbon content per unit of heat × oxidation rate × 44/12 (GB/T 32150-2015, Appendix A; the plan's Table 2.4.5, note)"
                ),
            ]
    cols = [
        np.broadcast_to(np.asarray(a, dtype=float), (n,)).tolist()
        for a in (quantity, gj, tce_cal, tce_ev, co2)
    ]
    # NaN (x != x) marks a figure that could not be computed (a factor is missing)
    lines = [
        Line(g, q, e, tc, None if tv != tv else tv, None if c != c else c)
        for g, q, e, tc, tv, c in zip(groups, *cols, strict=True)
    ]
    return lines, calc


# --------------------------------------------------------------------------- assembly


def compute_inventory(
    session: Session,
    *,
    scope_code: str = "park",
    year: int,
    boundary: str = "all",
    by: tuple[str, ...] = (),
    park_code: str | None = None,
    factor_versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The inventory of a scope and year, as a JSON-ready dict with lineage and checks.

    ``by`` adds breakdowns by ``zone`` and/or ``enterprise`` (carrier and sector are always given).
    ``factor_versions`` pins factor-set versions (for restatement); default: current versions.
    """
    if boundary not in BOUNDARIES:
        raise InventoryError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    park = get_park(session, park_code)
    scope = resolve_scope(session, park, scope_code)
    profile = AccountingProfile.from_json(park.accounting_profile_json)
    lib = FactorLibrary.load(session, factor_versions)
    missing_sets = [c for c in profile.all_sets() if c not in lib.sets]
    if missing_sets:
        raise InventoryError(f"factor sets named by the accounting profile are not loaded: {missing_sets}")
    carriers = {c.code: c for c in session.scalars(select(m.Carrier))}
    unknown_by = set(by) - {"zone", "enterprise", "month"}
    if unknown_by:
        raise InventoryError(f"breakdowns are by zone, enterprise or month, not {sorted(unknown_by)}")
    by_entity = bool(set(by) & {"zone", "enterprise"})
    groups = fetch_groups(session, scope, year, boundary, by_entity, "month" in by)

    layers: dict[str, list[Group]] = defaultdict(list)
    for g in groups:
        layers[g.layer].append(g)
    carrier_layer = "A" if layers["A"] else ("B" if layers["B"] else None)
    sector_layer = "A" if layers["A"] else ("C" if layers["C"] else None)
    checks: list[dict[str, Any]] = []
    months = set(
        session.scalars(
            select(m.ActivityRecord.month).where(_level_filter(session, scope, year, boundary)).distinct()
        )
    )
    monthly = sorted(x for x in months if x is not None)
    if monthly and len(monthly) == len(months) < 12:  # monthly records only, and not all months
        listed_zh, listed_en = "、".join(f"{x}月" for x in monthly), ", ".join(str(x) for x in monthly)
        checks.append(
            _check(
                "coverage.partial_year",
                "warning",
                f"{year}年的记录只有 {len(monthly)} 个月（{listed_zh}），全年合计不完整。",
                f"The records of {year} cover {len(monthly)} of 12 months (months {listed_en}): the year's total is incomplete.",
                months=monthly,
            )
        )

    # carrier lines
    lines: list[Line] = []
    lines_of: dict[str, list[Line]] = {}
    calcs: dict[str, CarrierCalc] = {}
    if carrier_layer:
        per_carrier: dict[str, list[Group]] = defaultdict(list)
        for g in layers[carrier_layer]:
            per_carrier[str(g.carrier)].append(g)
        for code, gs in sorted(per_carrier.items()):
            if code not in carriers:
                raise InventoryError(f"unknown carrier {code!r} in activity records")
            ls, calc = compute_carrier(carriers[code], gs, year, profile, lib)
            lines += ls
            lines_of[code] = ls
            calcs[code] = calc
            for miss in calc.missing:
                checks.append(
                    _check(
                        "factor.missing",
                        "error",
                        f"{carriers[code].name_zh}缺少因子：{miss}",
                        f"{carriers[code].name_en}: no factor {miss}",
                    )
                )

    by_carrier: list[dict[str, Any]] = []
    for code, calc in calcs.items():
        ls = lines_of[code]
        c = carriers[code]
        co2_values = [ln.co2_t for ln in ls]
        ev_values = [ln.tce_equal_value for ln in ls]
        by_carrier.append(
            {
                "carrier": code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "color": c.color,
                "unit": c.unit,
                "quantity": sum(ln.quantity for ln in ls),
                "quantity_derived": any(ln.group.tce_only for ln in ls),
                "energy_gj": sum(ln.energy_gj for ln in ls),
                "energy_tce_calorific": sum(ln.tce_calorific for ln in ls),
                "energy_tce_equal_value": None if None in ev_values else sum(v or 0.0 for v in ev_values),
                "co2_t": None if None in co2_values else sum(v or 0.0 for v in co2_values),
                "lineage": {
                    "factors": [f.as_dict() for f in calc.factors],
                    "method": calc.steps,
                    "inputs": _inputs(ls, scope, year, boundary, code),
                },
            }
        )

    # totals
    total_tce = {k: sum(_layer_tce(layers[k])) for k in "ABCD" if layers[k]}
    energy_layer = carrier_layer or sector_layer or ("D" if layers["D"] else None)
    energy_total = total_tce.get(energy_layer, 0.0) if energy_layer else 0.0
    if carrier_layer:
        energy_total = sum(r["energy_tce_calorific"] for r in by_carrier)
    co2_known = bool(by_carrier) and all(r["co2_t"] is not None for r in by_carrier)
    ev_known = bool(by_carrier) and all(r["energy_tce_equal_value"] is not None for r in by_carrier)
    totals: dict[str, Any] = {
        "energy_tce_calorific": energy_total,
        "energy_tce_equal_value": sum(r["energy_tce_equal_value"] for r in by_carrier) if ev_known else None,
        "energy_gj": sum(r["energy_gj"] for r in by_carrier)
        if carrier_layer
        else float(energy.energy_gj_from_tce(energy_total)),
        "co2_t": sum(r["co2_t"] for r in by_carrier) if co2_known else None,
        "co2_by_source_t": _co2_by_source(by_carrier, carriers) if co2_known else None,
        "energy_layer": energy_layer,
        "records": sum(g.count for g in groups),
    }
    for r in by_carrier:
        r["share_energy"] = (
            float(energy.share(r["energy_tce_calorific"], energy_total)) if energy_total else None
        )
        r["share_co2"] = (
            float(energy.share(r["co2_t"], totals["co2_t"])) if co2_known and totals["co2_t"] else None
        )
    if not carrier_layer and groups:
        checks.append(
            _check(
                "co2.no_carriers",
                "info",
                "数据只有总量或分部门量，没有分品种量，无法核算二氧化碳。",
                "The data give no carrier breakdown, so CO2 cannot be computed.",
            )
        )

    # sectors
    by_sector = _by_sector(layers, sector_layer, lines, energy_total)
    by_sector_carrier: list[dict[str, Any]] = []
    if sector_layer == "A":  # carrier × sector records: the matrix itself
        cells: dict[tuple[str, str], list[float | None]] = {}
        for ln in lines:
            cell = cells.setdefault((str(ln.group.sector), str(ln.group.carrier)), [0.0, 0.0])
            cell[0] = (cell[0] or 0.0) + ln.tce_calorific
            cell[1] = None if cell[1] is None or ln.co2_t is None else cell[1] + ln.co2_t
        by_sector_carrier = [{"sector": k[0], "carrier": k[1], "energy_tce_calorific": v[0], "co2_t": v[1]}
                             for k, v in sorted(cells.items())]  # fmt: skip
    # layer consistency
    checks += _layer_checks(total_tce)
    # flows for the Sankey
    flows = _flows(layers, lines, carriers, by_carrier, by_sector)
    # economy and intensities
    economy = _economy(session, scope, year)
    intensities = _intensities(economy, totals, by_sector, boundary)
    result: dict[str, Any] = {
        "scope": scope.as_dict(),
        "park": {"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en},
        "year": year,
        "boundary": boundary,
        "electricity_convention": "calorific",
        "electricity_conventions": {
            "energy_tce_calorific": "当量值 0.1229 kgce/kWh",
            "energy_tce_equal_value": "等价值 (当年全国供电标准煤耗)",
        },
        "profile": profile.as_dict(),
        "factor_sets": lib.versions(profile.all_sets()),
        "totals": totals,
        "by_carrier": by_carrier,
        "by_sector": by_sector,
        "by_sector_carrier": by_sector_carrier,
        "flows": flows,
        "economy": economy,
        "intensities": intensities,
        "checks": checks + [c for c in check_factor_sets(lib) if c["set"] in profile.all_sets()],
    }
    result.update(_breakdowns(session, lines, by))
    result["checks"] += _verified_checks(session, scope, year, boundary, result)
    return result


def _layer_tce(groups: list[Group]) -> list[float]:
    """tce of groups as reported (physical quantities are not in this sum)."""
    return [g.energy_tce for g in groups if g.tce_only]


def _inputs(lines: list[Line], scope: Scope, year: int, boundary: str, carrier: str) -> dict[str, Any]:
    return {
        "records": sum(ln.group.count for ln in lines),
        "record_id_range": [min(ln.group.min_id for ln in lines), max(ln.group.max_id for ln in lines)],
        "filter": {"scope": scope.code, "year": year, "boundary": boundary, "carrier": carrier},
        "reported_in_tce": any(ln.group.tce_only for ln in lines),
    }


def _co2_by_source(by_carrier: list[dict[str, Any]], carriers: dict[str, m.Carrier]) -> dict[str, float]:
    out = {"combustion": 0.0, "purchased_electricity": 0.0, "purchased_heat": 0.0}
    for r in by_carrier:
        kind = carriers[r["carrier"]].kind
        key = {"electricity": "purchased_electricity", "heat": "purchased_heat"}.get(kind, "combustion")
        out[key] += r["co2_t"]
    return out


def _by_sector(
    layers: dict[str, list[Group]], sector_layer: str | None, lines: list[Line], total: float
) -> list[dict[str, Any]]:
    if sector_layer is None:
        return []
    acc: dict[str, dict[str, Any]] = {}
    if sector_layer == "A":
        for ln in lines:
            s = str(ln.group.sector)
            row = acc.setdefault(s, {"energy_tce_calorific": 0.0, "co2_t": 0.0})
            row["energy_tce_calorific"] += ln.tce_calorific
            row["co2_t"] = None if row["co2_t"] is None or ln.co2_t is None else row["co2_t"] + ln.co2_t
    else:
        for g in layers["C"]:
            row = acc.setdefault(str(g.sector), {"energy_tce_calorific": 0.0, "co2_t": None})
            row["energy_tce_calorific"] += g.energy_tce
    denom = sum(r["energy_tce_calorific"] for r in acc.values()) or total
    out = []
    for s in sorted(acc, key=lambda k: SECTORS.index(k) if k in SECTORS else 99):
        zh, en = SECTOR_LABELS.get(s, (s, s))
        out.append(
            {
                "sector": s,
                "name_zh": zh,
                "name_en": en,
                **acc[s],
                "share_energy": float(energy.share(acc[s]["energy_tce_calorific"], denom)) if denom else None,
            }
        )
    return out


def _layer_checks(total_tce: dict[str, float]) -> list[dict[str, Any]]:
    names = {
        "A": ("分品种分部门", "carrier x sector"),
        "B": ("分品种", "by carrier"),
        "C": ("分部门", "by sector"),
        "D": ("总量", "total"),
    }
    checks = []
    present = [k for k in "ABCD" if total_tce.get(k)]
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            va, vb = total_tce[a], total_tce[b]
            diff = float(intensity.relative_difference(va, vb))
            if abs(diff) > LAYER_TOLERANCE:
                checks.append(
                    {
                        "code": "layers.disagree",
                        "severity": "warning",
                        "values": {names[a][1]: va, names[b][1]: vb, "rel_diff": diff},
                        "message_zh": f"{names[a][0]}合计 {va:,.2f} 吨标准煤与{names[b][0]} {vb:,.2f} 吨标准煤相差 {diff:+.2%}。",
                        "message_en": f"The {names[a][1]} sum {va:,.2f} tce differs from the {names[b][1]} figure {vb:,.2f} tce by {diff:+.2%}.",
                    }
                )
    return checks


def _flows(
    layers: dict[str, list[Group]],
    lines: list[Line],
    carriers: dict[str, m.Carrier],
    by_carrier: list[dict[str, Any]],
    by_sector: list[dict[str, Any]],
) -> dict[str, Any]:
    """Carrier -> sector energy flows (tce). Without a carrier x sector layer the flows pass
    through a balance node, so nothing is allocated that the data do not say."""
    if layers["A"]:
        acc: dict[tuple[str, str], float] = defaultdict(float)
        for ln in lines:
            acc[(str(ln.group.carrier), str(ln.group.sector))] += ln.tce_calorific
        links = [{"source": c, "target": s, "energy_tce": v} for (c, s), v in acc.items()]
        return {"kind": "direct", "links": links}
    links = [
        {"source": r["carrier"], "target": "_total", "energy_tce": r["energy_tce_calorific"]}
        for r in by_carrier
    ]
    links += [
        {"source": "_total", "target": r["sector"], "energy_tce": r["energy_tce_calorific"]}
        for r in by_sector
    ]
    return {"kind": "via_total", "links": links}


def _economy(session: Session, scope: Scope, year: int) -> dict[str, Any]:
    er = m.EconomicRecord
    stmt = select(er).where(er.park_id == scope.park_id, er.year == year)
    if scope.kind == "park":
        stmt = stmt.where(er.zone_id.is_(None), er.enterprise_id.is_(None))
    elif scope.kind == "zone":
        stmt = stmt.where(er.zone_id == scope.zone_id, er.enterprise_id.is_(None))
    else:
        stmt = stmt.where(er.enterprise_id == scope.enterprise_id)
    out = {}
    for r in session.scalars(stmt):
        out[r.indicator] = {
            "value_10k_yuan": r.value_10k_yuan,
            "price_basis": r.price_basis,
            "source_ref": r.source_ref,
            "record_id": r.id,
        }
    return out


def _intensities(
    economy: dict[str, Any], totals: dict[str, Any], by_sector: list[dict[str, Any]], boundary: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sectors = {r["sector"] for r in by_sector}
    industry = next((r for r in by_sector if r["sector"] == "industry"), None)
    only_industry = sectors == {"industry"}

    def put(key: str, num: float | None, den_key: str, unit: str, numerator: str) -> None:
        den = economy.get(den_key)
        if num is None or den is None:
            return
        out[key] = {
            "value": float(intensity.intensity(num, den["value_10k_yuan"])),
            "unit": unit,
            "numerator": numerator,
            "denominator": den_key,
            "denominator_value_10k_yuan": den["value_10k_yuan"],
            "price_basis": den["price_basis"],
        }

    if boundary == "all" and not only_industry:
        put("energy_per_gdp", totals["energy_tce_calorific"], "gdp", "tce/10^4 yuan", "energy_tce_calorific")
        put("co2_per_gdp", totals["co2_t"], "gdp", "tCO2/10^4 yuan", "co2_t")
    if boundary == "all" and (industry or only_industry):
        ind_energy = industry["energy_tce_calorific"] if industry else totals["energy_tce_calorific"]
        put(
            "industry_energy_per_industrial_value_added",
            ind_energy,
            "industrial_value_added",
            "tce/10^4 yuan",
            "industry energy_tce_calorific",
        )
        ind_co2 = industry["co2_t"] if industry else totals["co2_t"]
        put(
            "industry_co2_per_industrial_value_added",
            ind_co2,
            "industrial_value_added",
            "tCO2/10^4 yuan",
            "industry co2_t",
        )
    if boundary == "above_scale":
        put(
            "energy_per_above_scale_value_added",
            totals["energy_tce_calorific"],
            "above_scale_industrial_value_added",
            "tce/10^4 yuan",
            "energy_tce_calorific",
        )
        put(
            "energy_per_industrial_value_added",
            totals["energy_tce_calorific"],
            "industrial_value_added",
            "tce/10^4 yuan",
            "energy_tce_calorific",
        )
        put(
            "co2_per_above_scale_value_added",
            totals["co2_t"],
            "above_scale_industrial_value_added",
            "tCO2/10^4 yuan",
            "co2_t",
        )
        # the whole park's indicator 2 basis: above-scale carriers' CO2 over industrial value added
        put(
            "co2_per_industrial_value_added",
            totals["co2_t"],
            "industrial_value_added",
            "tCO2/10^4 yuan",
            "co2_t",
        )
    return out


def _breakdowns(session: Session, lines: list[Line], by: tuple[str, ...]) -> dict[str, Any]:
    """Energy and CO2 by enterprise, zone and/or month (sums of the computed lines)."""
    out: dict[str, Any] = {}
    if "enterprise" in by:
        codes = {i: c for i, c in session.execute(select(m.Enterprise.id, m.Enterprise.code))}
        rows = _sum_lines(
            lines, "enterprise", lambda g: codes.get(g.enterprise_id) if g.enterprise_id else None
        )
        out["by_enterprise"] = sorted(rows, key=lambda r: -r["energy_tce_calorific"])
    if "zone" in by:
        zones = {i: c for i, c in session.execute(select(m.Zone.id, m.Zone.code))}
        rows = _sum_lines(lines, "zone", lambda g: zones.get(g.zone_id, "(none)") if g.zone_id else "(none)")
        out["by_zone"] = sorted(rows, key=lambda r: -r["energy_tce_calorific"])
    if "month" in by:
        rows = _sum_lines(lines, "month", lambda g: g.month if g.month is not None else 0)
        out["by_month"] = sorted(rows, key=lambda r: r["month"])  # month 0: records given per year
    return out


def _sum_lines(lines: list[Line], name: str, key: Callable[[Group], Any]) -> list[dict[str, Any]]:
    acc: dict[Any, dict[str, Any]] = {}
    for ln in lines:
        k = key(ln.group)
        if k is None:
            continue
        row = acc.setdefault(k, {name: k, "energy_tce_calorific": 0.0, "co2_t": 0.0})
        row["energy_tce_calorific"] += ln.tce_calorific
        row["co2_t"] = None if row["co2_t"] is None or ln.co2_t is None else row["co2_t"] + ln.co2_t
    return list(acc.values())


def _check(code: str, severity: str, zh: str, en: str, **values: Any) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message_zh": zh, "message_en": en, "values": values}


def record_dict(r: m.ActivityRecord) -> dict[str, Any]:
    """An activity record as the API and the exports show it."""
    return {
        "id": r.id, "year": r.year, "month": r.month, "sector": r.sector, "boundary": r.boundary,
        "carrier": r.carrier_code, "quantity": r.quantity, "unit": r.unit, "energy_tce": r.energy_tce,
        "tce_basis": r.tce_basis, "source_ref": r.source_ref, "quality": r.quality, "note": r.note,
        "zone_id": r.zone_id, "enterprise_id": r.enterprise_id,
        # its key in the history of records (records.record_key: the natural key without the park)
        "key": r.natural_key.partition("|")[2],
    }  # fmt: skip


def list_records(
    session: Session,
    *,
    scope_code: str,
    year: int,
    boundary: str = "all",
    carrier: str | None = None,
    sector: str | None = None,
    limit: int = 500,
    park_code: str | None = None,
) -> list[dict[str, Any]]:
    """The activity records behind an inventory figure (drill-down of the lineage)."""
    park = get_park(session, park_code)
    scope = resolve_scope(session, park, scope_code)
    ar = m.ActivityRecord
    stmt = select(ar).where(_level_filter(session, scope, year, boundary)).order_by(ar.id).limit(limit)
    if carrier:
        stmt = stmt.where(ar.carrier_code == carrier)
    if sector:
        stmt = stmt.where(ar.sector == sector)
    return [record_dict(r) for r in session.scalars(stmt)]


def unit_line(session: Session, carrier_code: str, year: int, park_code: str | None = None,
              ) -> tuple[Line, list[dict[str, Any]]]:  # fmt: skip
    """The inventory's own method applied to 1 tce (calorific) of a carrier under the park's
    accounting profile and the current factor sets: its CO₂ and equal-value tce, and the factors used."""
    park = get_park(session, park_code)
    carrier = session.scalars(select(m.Carrier).where(m.Carrier.code == carrier_code)).first()
    if carrier is None:
        raise InventoryError(f"unknown carrier {carrier_code!r}")
    profile = AccountingProfile.from_json(park.accounting_profile_json)
    lib = FactorLibrary.load(session)
    one = Group(None, None, None, carrier_code, None, "calorific", True, 0.0, 1.0, 1, 0, 0)
    lines, calc = compute_carrier(carrier, [one], year, profile, lib)
    return lines[0], [f.as_dict() for f in calc.factors]


def co2_per_tce(session: Session, carrier_code: str, year: int, park_code: str | None = None,
                ) -> tuple[float | None, list[dict[str, Any]]]:  # fmt: skip
    """CO₂ of 1 tce (calorific) of a carrier by :func:`unit_line`, with the factors it used; None
    when a factor is missing."""
    line, factors = unit_line(session, carrier_code, year, park_code)
    return line.co2_t, factors


# --------------------------------------------------------------------------- verified figures

#: The quality of records written from a verified enterprise report (services/mrv/inventory_flow).
VERIFIED = "verified"


def verified_figures(
    session: Session, park_id: int, year: int, condition: Any = None
) -> list[dict[str, Any]]:
    """The enterprises whose records of ``year`` are verified (written by the reporting and
    verification cycle), optionally within an SQL ``condition`` on the records: per enterprise its
    code and name, the lineage (``source_ref``), the records, and the passed verification's body,
    statement digest and verified total CO₂ (read from the cycle's tables; None without one)."""
    ar = m.ActivityRecord
    stmt = select(ar.enterprise_id, ar.source_ref, func.count()).where(
        ar.park_id == park_id, ar.year == year, ar.quality == VERIFIED, ar.enterprise_id.is_not(None)
    )
    if condition is not None:
        stmt = stmt.where(condition)
    found: dict[int, dict[str, Any]] = {}
    for eid, ref, n in session.execute(stmt.group_by(ar.enterprise_id, ar.source_ref)):
        if eid is None:
            continue
        row = found.setdefault(eid, {"lineage": [], "records": 0})
        row["lineage"].append(ref)
        row["records"] += n
    out = []
    for eid, row in sorted(found.items()):
        ent = session.get(m.Enterprise, eid)
        v = session.scalars(
            select(m.MrvVerification)
            .where(m.MrvVerification.enterprise_id == eid, m.MrvVerification.year == year,
                   m.MrvVerification.conclusion == "pass")
            .order_by(m.MrvVerification.id.desc())
        ).first()  # fmt: skip
        body = session.get(m.MrvBody, v.body_id) if v is not None else None
        out.append({
            "enterprise_id": eid, "enterprise": ent.code if ent else str(eid), "name": ent.name if ent else "",
            "lineage": sorted(row["lineage"]), "records": row["records"],
            "verification_id": v.id if v else None, "body": body.name if body else None,
            "statement_sha256": v.statement_sha256 if v else None,
            "verified_total_co2_t": v.verified_total_co2_t if v else None,
        })  # fmt: skip
    return out


def _verified_checks(
    session: Session, scope: Scope, year: int, boundary: str, result: dict[str, Any]
) -> list[dict[str, Any]]:
    """Info: which enterprises' figures in this inventory are verified, with their lineage and both
    CO₂ figures (the statement's verified total; the inventory's own, computed with the park's
    profile). Warning: an enterprise whose verified records sit beside other records of the same
    year and boundary (an import after the verification), which the inventory sums."""
    ar = m.ActivityRecord
    level = _level_filter(session, scope, year, boundary)
    figures = verified_figures(session, scope.park_id, year, level)
    if not figures:
        return []
    inv_co2: dict[str, Any] = {}
    if scope.kind == "enterprise":
        inv_co2[scope.code] = result["totals"].get("co2_t")
    for r in result.get("by_enterprise", []):
        inv_co2[r["enterprise"]] = r["co2_t"]
    checks = []
    for f in figures:
        total = f["verified_total_co2_t"]
        mine = inv_co2.get(f["enterprise"])
        ref = "; ".join(f["lineage"])
        ref_zh = "；".join(
            f"核查机构{parts[0]}，核查声明{parts[1]}，报告第{parts[2]}版" if parts else raw
            for raw, parts in ((x, lineage_parts(x)) for x in f["lineage"])
        )
        total_zh = f"核查排放量 {total:,.0f} 吨二氧化碳" if total is not None else "核查排放量未知"
        total_en = f"verified total {total:,.0f} t CO2" if total is not None else "verified total unknown"
        mine_zh = f"，清单按园区核算口径计算为 {mine:,.0f} 吨" if mine is not None else ""
        mine_en = (
            f"; the inventory computes {mine:,.0f} t with the park's accounting profile"
            if mine is not None
            else ""
        )
        checks.append(_check(
            "verified.figures", "info",
            f"{f['name']}（{f['enterprise']}）{year}年数据经第三方核查（{ref_zh}）：{total_zh}{mine_zh}。",
            f"{f['name']} ({f['enterprise']}): the {year} figures are verified ({ref}): {total_en}{mine_en}.",
            enterprise=f["enterprise"], lineage=f["lineage"], verified_total_co2_t=total, inventory_co2_t=mine,
            statement_sha256=f["statement_sha256"],
        ))  # fmt: skip
        others = session.scalar(
            select(func.count())
            .select_from(ar)
            .where(level, ar.enterprise_id == f["enterprise_id"], ar.quality != VERIFIED)
        )
        if others:
            checks.append(_check(
                "verified.mixed", "warning",
                f"{f['name']}（{f['enterprise']}）{year}年除核查数据外还有 {others} 条其他记录，清单将两者相加。",
                f"{f['name']} ({f['enterprise']}): besides the verified figures, {others} other records of {year} are summed with them.",
                enterprise=f["enterprise"], records=others,
            ))  # fmt: skip
    return checks

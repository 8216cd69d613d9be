"""The enterprise's annual GHG report (年度温室气体排放报告) in the GB/T 32150 / 24-guideline shape,
its consistency checks, its versions and the park's review.

A report holds, per section (附表2/附表3 of the guidelines' template):

- **combustion** — per fuel: quantity (t or 10⁴ Nm³), low calorific value (GJ/unit), carbon content
  per heat (tC/GJ) and oxidation fraction, each ``measured`` (the enterprise's own, from its data
  quality control plan) or ``default`` (the factor library's set :data:`COMBUSTION_SET`, named on
  the line); CO₂ = FC × NCV × CC × OF × 44/12 (GB/T 32150-2015 Appendix A);
- **process** — per source of ``data/mrv/process_sources.csv``: activity × factor;
- **electricity** — purchased MWh × the national grid factor the authorities publish for the
  reporting year (:data:`GRID_SET`; the latest earlier year, said so, when that year's is not yet
  published — never the plan's 2012 regional factor);
- **heat** — purchased GJ × 0.11 t CO₂/GJ (:data:`HEAT_SET`) unless measured;
- **output** — products and their quantities.

Each emission type and the totals (with and without purchased electricity and heat) are rounded to
whole tonnes (:func:`greenpark.core.mrv.round_reported_t`); a total is the sum of its rounded types,
so the summary table adds up. ``energy_tce`` is the calorific equivalent (当量值, GB/T 2589
Appendix A: electricity 0.1229 kgce/kWh, heat 0.03412 kgce/MJ; a fuel with a measured NCV by
GJ ÷ 29.3076).

A submitted report is never changed: a correction is version n + 1, and the earlier versions of the
same enterprise and year become ``superseded`` (a verified one stays verified). Park officers
accept a report or return it with a comment; the enterprise answers a return with a new version.
Every act goes to the cycle's log (:mod:`.log`) with its figures, and the people who must act are
told (:mod:`.notify`).

Who: an enterprise submits for itself, park staff and admins for any enterprise of the park
(``report.submit``); park staff, admins and zone staff (their zone) review (``report.review``);
readers as :func:`greenpark.services.mrv.access.readable_enterprises` says.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core import carbon, energy
from greenpark.core.intensity import relative_difference
from greenpark.core.mrv import co2_process_t, round_reported_t
from greenpark.core.units import UnitError, conversion_factor, rate_conversion_factor
from greenpark.data import load_carriers
from greenpark.i18n import N_, Msg
from greenpark.services.carbon.factors import FactorLibrary, FactorRef
from greenpark.services.mrv import evidence, log, notify
from greenpark.services.mrv.access import (
    Actor,
    NotFound,
    assigned_years,
    enterprise_in_reach,
    readable_enterprises,
    require,
)
from greenpark.services.mrv.rules import shipped_rules
from greenpark.store import models as m
from greenpark.store.db import hold
from greenpark.store.models import utcnow

#: Defaults of fuel combustion: NCV, carbon content, oxidation (provincial guideline / NDRC guidelines).
COMBUSTION_SET = "provincial-2011"
#: The grid factor the authorities publish for enterprise reports, by data year.
GRID_SET = "grid-mee-enterprise"
GRID_REGION = "national"
#: Purchased heat's default factor.
HEAT_SET = "ndrc-industry-heat"
#: Standard-coal coefficients (GB/T 2589-2020 Appendix A, inheriting the 2008 values).
COAL_SETS = ["gbt2589-2020", "gbt2589-2008"]
#: The basis of ``energy_tce``.
TCE_BASIS = "calorific"
SOURCES = ("measured", "default")
SECTIONS = ("combustion", "process", "electricity", "heat", "output")
STATUSES = ("submitted", "returned", "accepted", "verified", "superseded")
#: Fuels a report may burn: the carriers whose kind is a fuel.
FUEL_KINDS = ("solid", "liquid", "gas")
#: Plausible ranges of measured parameters (a value outside is a typing error, not a fuel).
NCV_RANGE = (0.001, 100_000.0)  # GJ per t or per 10⁴ Nm³ (blast-furnace gas 33 … natural gas 389)
CARBON_CONTENT_RANGE = (0.001, 0.1)  # tC/GJ (natural gas 0.0153 … lignite 0.028; blast-furnace gas 0.0708)
OXIDATION_RANGE = (0.5, 1.0)
FACTOR_RANGE = (0.0, 100.0)  # tCO2 per unit of process activity or per GJ of heat
QUANTITY_MAX = 1e12


# ------------------------------------------------------------------------------ reference data


@dataclass(frozen=True)
class ProcessSource:
    code: str
    sector: str
    name_zh: str
    name_en: str
    activity_unit: str
    factor: float
    factor_unit: str
    source_document: str
    source_table: str
    status: str
    note: str


@cache
def process_sources() -> dict[str, ProcessSource]:
    """The process-emission sources (``data/mrv/process_sources.csv``), by code."""
    text = resources.files("greenpark.data").joinpath("mrv/process_sources.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    out: dict[str, ProcessSource] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        out[row["code"]] = ProcessSource(**{**row, "factor": float(row["factor"])})  # type: ignore[arg-type]
    return out


@cache
def fuel_carriers() -> dict[str, tuple[str, str, str]]:
    """The fuels a report may list: code → (unit, name_zh, name_en)."""
    return {c.code: (c.unit, c.name_zh, c.name_en) for c in load_carriers() if c.kind in FUEL_KINDS}


def _ref_text(ref: FactorRef) -> str:
    return f"{ref.set_code} v{ref.set_version}"


@dataclass(frozen=True)
class FuelDefaults:
    unit: str
    ncv_gj_per_unit: float | None
    carbon_content_tc_per_gj: float | None
    oxidation_fraction: float | None
    coal_tce_per_unit: float | None
    ref: str  # the set and version of the defaults


@dataclass(frozen=True)
class Defaults:
    """What a report of ``year`` takes by default, from the factor library."""

    year: int
    fuels: dict[str, FuelDefaults]
    grid_factor_tco2_per_mwh: float
    grid_factor_year: int
    grid_factor_ref: str
    heat_factor_tco2_per_gj: float
    heat_factor_ref: str
    electricity_tce_per_mwh: float
    heat_tce_per_gj: float

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["process"] = {k: asdict(v) for k, v in process_sources().items()}
        d["tce_basis"] = TCE_BASIS
        d["fuel_names"] = {k: {"name_zh": v[1], "name_en": v[2]} for k, v in fuel_carriers().items()}
        return d


def report_defaults(session: Session, year: int) -> Defaults:
    """The factor library's defaults for a report of ``year`` (``ValueError`` if a set the report
    needs is not loaded, or no grid factor is published for ``year`` or before)."""
    lib = FactorLibrary.load(session)
    for code in (COMBUSTION_SET, GRID_SET, HEAT_SET):
        if code not in lib.sets:
            raise ValueError(f"the factor set {code} is not loaded (greenpark factors load)")
    coal_sets = [c for c in COAL_SETS if c in lib.sets]
    fuels: dict[str, FuelDefaults] = {}
    for code, (unit, _zh, _en) in fuel_carriers().items():
        ncv = lib.lookup([COMBUSTION_SET], code, "ncv")
        cc = lib.lookup([COMBUSTION_SET], code, "carbon_content")
        of = lib.lookup([COMBUSTION_SET], code, "oxidation")
        coef = lib.lookup(coal_sets, code, "coal_coefficient")
        fuels[code] = FuelDefaults(
            unit=unit,
            ncv_gj_per_unit=ncv.value * rate_conversion_factor(ncv.unit, f"GJ/{unit}") if ncv else None,
            # 15.3 tC/TJ is 0.0153 tC/GJ, not 0.015300000000000001 (the table's own digits are enough)
            carbon_content_tc_per_gj=float(f"{cc.value * rate_conversion_factor(cc.unit, 'tC/GJ'):.12g}")
            if cc
            else None,
            oxidation_fraction=of.value if of else None,
            coal_tce_per_unit=coef.value * rate_conversion_factor(coef.unit, f"tce/{unit}") if coef else None,
            ref=next((_ref_text(r) for r in (ncv, cc, of) if r is not None), ""),
        )
    grid = lib.lookup([GRID_SET], "electricity", "grid_factor", region=GRID_REGION, latest_not_after=year)
    if grid is None or grid.year is None or grid.year > year:
        raise ValueError(f"no grid factor of {GRID_SET} is published for {year} or an earlier year")
    grid_ref = (
        f"{_ref_text(grid)} {GRID_REGION} {grid.year}: {grid.value:g} {grid.unit} ({grid.source_table})"
    )
    # a year not yet published carries the latest earlier factor: the reference names its year (the
    # page says so in the reader's language; the stored text stays language-free data)
    heat = lib.lookup([HEAT_SET], "heat", "heat_factor")
    if heat is None:
        raise ValueError(f"the factor set {HEAT_SET} has no heat factor")
    el = lib.lookup(coal_sets, "electricity", "coal_coefficient")
    ht = lib.lookup(coal_sets, "heat", "coal_coefficient")
    if el is None or ht is None:
        raise ValueError("the standard-coal coefficients of electricity and heat (GB/T 2589) are not loaded")
    return Defaults(
        year=year,
        fuels=fuels,
        grid_factor_tco2_per_mwh=grid.value * rate_conversion_factor(grid.unit, "tCO2/MWh"),
        grid_factor_year=grid.year,
        grid_factor_ref=grid_ref[:200],
        heat_factor_tco2_per_gj=heat.value * rate_conversion_factor(heat.unit, "tCO2/GJ"),
        heat_factor_ref=f"{_ref_text(heat)}: {heat.value:g} {heat.unit} ({heat.document})"[:200],
        electricity_tce_per_mwh=el.value * rate_conversion_factor(el.unit, "tce/MWh"),
        heat_tce_per_gj=ht.value * rate_conversion_factor(ht.unit, "tce/GJ"),
    )


# ------------------------------------------------------------------------------ the input


@dataclass
class CombustionIn:
    carrier: str
    quantity: float
    ncv_source: str = "default"
    ncv_gj_per_unit: float | None = None
    carbon_content_source: str = "default"
    carbon_content_tc_per_gj: float | None = None
    oxidation_source: str = "default"
    oxidation_fraction: float | None = None


@dataclass
class ProcessIn:
    source: str
    quantity: float
    factor_source: str = "default"
    factor: float | None = None


@dataclass
class PurchasedIn:
    """Purchased electricity (MWh) or heat (GJ); heat may carry a measured factor."""

    quantity: float
    item: str = ""
    factor_source: str = "default"
    factor: float | None = None


@dataclass
class OutputIn:
    product: str
    quantity: float
    unit: str


@dataclass
class ReportInput:
    combustion: list[CombustionIn] = field(default_factory=list)
    process: list[ProcessIn] = field(default_factory=list)
    electricity: list[PurchasedIn] = field(default_factory=list)
    heat: list[PurchasedIn] = field(default_factory=list)
    output: list[OutputIn] = field(default_factory=list)
    contact: str = ""
    note: str = ""
    guideline: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportInput:
        """From the page's JSON (the API's pydantic model checked the types and bounds)."""
        return cls(
            combustion=[CombustionIn(**r) for r in d.get("combustion") or []],
            process=[ProcessIn(**r) for r in d.get("process") or []],
            electricity=[PurchasedIn(**r) for r in d.get("electricity") or []],
            heat=[PurchasedIn(**r) for r in d.get("heat") or []],
            output=[OutputIn(**r) for r in d.get("output") or []],
            contact=d.get("contact") or "",
            note=d.get("note") or "",
            guideline=d.get("guideline") or "",
        )


def _in_range(x: float | None, lo: float, hi: float) -> bool:
    return x is not None and x == x and lo <= x <= hi


def input_problems(inp: ReportInput, defaults: Defaults) -> list[tuple[str, int, str, str]]:
    """Every problem of the input as (section, row index from 0, field, reason); empty if none."""
    out: list[tuple[str, int, str, str]] = []

    def bad(section: str, i: int, fld: str, reason: Msg) -> None:
        out.append((section, i, fld, reason))

    def source(section: str, i: int, fld: str, src: str, value: float | None, rng: tuple[float, float],
               default: float | None) -> None:  # fmt: skip
        lo, hi = rng
        if src not in SOURCES:
            bad(section, i, fld, Msg("{value} is not measured or default", value=repr(src)))
        elif src == "measured" and not _in_range(value, lo, hi):
            bad(
                section,
                i,
                fld,
                Msg("a measured value in [{lo}, {hi}] is required", lo=f"{lo:g}", hi=f"{hi:g}"),
            )
        elif src == "default" and default is None:
            bad(section, i, fld, Msg("the factor library has no default: enter the measured value"))

    def qty(section: str, i: int, q: float) -> None:
        if not _in_range(q, 0.0, QUANTITY_MAX):
            bad(section, i, "quantity", Msg("the quantity must be in [0, {hi}]", hi=f"{QUANTITY_MAX:g}"))
        elif not q:  # an empty row of the form is not a line of the report
            bad(
                section,
                i,
                "quantity",
                Msg("a line needs a quantity above 0 (remove the row if there is none)"),
            )

    for i, c in enumerate(inp.combustion):
        fd = defaults.fuels.get(c.carrier)
        if fd is None:
            bad(
                "combustion",
                i,
                "carrier",
                Msg("{value} is not a fuel greenpark knows", value=repr(c.carrier)),
            )
            continue
        qty("combustion", i, c.quantity)
        source(
            "combustion", i, "ncv_gj_per_unit", c.ncv_source, c.ncv_gj_per_unit, NCV_RANGE, fd.ncv_gj_per_unit
        )
        source("combustion", i, "carbon_content_tc_per_gj", c.carbon_content_source, c.carbon_content_tc_per_gj,
               CARBON_CONTENT_RANGE, fd.carbon_content_tc_per_gj)  # fmt: skip
        source("combustion", i, "oxidation_fraction", c.oxidation_source, c.oxidation_fraction, OXIDATION_RANGE,
               fd.oxidation_fraction)  # fmt: skip
    for i, p in enumerate(inp.process):
        ps = process_sources().get(p.source)
        if ps is None:
            bad("process", i, "source", Msg("{value} is not a process source of the reference list", value=repr(p.source)))  # fmt: skip
            continue
        qty("process", i, p.quantity)
        source("process", i, "factor", p.factor_source, p.factor, FACTOR_RANGE, ps.factor)
    for i, e in enumerate(inp.electricity):
        qty("electricity", i, e.quantity)
        if e.factor_source != "default":
            bad("electricity", i, "factor_source",
                Msg("purchased electricity takes the grid factor the authorities publish (default)"))  # fmt: skip
    for i, h in enumerate(inp.heat):
        qty("heat", i, h.quantity)
        source("heat", i, "factor", h.factor_source, h.factor, FACTOR_RANGE, defaults.heat_factor_tco2_per_gj)
    for i, o in enumerate(inp.output):
        qty("output", i, o.quantity)
        if not o.product.strip():
            bad("output", i, "product", Msg("the product is required"))
    if not (inp.combustion or inp.process or inp.electricity or inp.heat):
        bad("", 0, "", Msg("a report needs at least one line of combustion, process, electricity or heat"))  # fmt: skip
    return out


# ------------------------------------------------------------------------------ computing


@dataclass
class Line:
    section: str
    item: str
    quantity: float
    unit: str
    ncv_gj_per_unit: float | None = None
    ncv_source: str = ""
    carbon_content_tc_per_gj: float | None = None
    carbon_content_source: str = ""
    oxidation_fraction: float | None = None
    oxidation_source: str = ""
    factor: float | None = None
    factor_unit: str = ""
    factor_ref: str = ""
    co2_t: float | None = None
    energy_tce: float | None = None


@dataclass
class Computed:
    lines: list[Line]
    totals: dict[str, int]
    energy_tce: float
    grid_factor_ref: str
    heat_factor_ref: str


def _pick(src: str, value: float | None, default: float | None) -> float:
    v = value if src == "measured" else default
    assert v is not None  # input_problems said so otherwise
    return float(v)


def compute(inp: ReportInput, defaults: Defaults) -> Computed:
    """The report's lines and totals (``ValueError`` naming every problem of the input).

    References: GB/T 32150-2015 Appendix A (A.1–A.6); the 24 guidelines' 附表1–3; rounding per the
    NDRC MRV Q&A (2016) — see :func:`greenpark.core.mrv.round_reported_t`."""
    problems = input_problems(inp, defaults)
    if problems:
        raise ValueError(
            "; ".join(
                f"{s} row {i + 1} {f}: {r}".replace("  ", " ") if s else str(r) for s, i, f, r in problems
            )
        )
    lines: list[Line] = []
    for c in inp.combustion:
        fd = defaults.fuels[c.carrier]
        ncv = _pick(c.ncv_source, c.ncv_gj_per_unit, fd.ncv_gj_per_unit)
        cc = _pick(c.carbon_content_source, c.carbon_content_tc_per_gj, fd.carbon_content_tc_per_gj)
        of = _pick(c.oxidation_source, c.oxidation_fraction, fd.oxidation_fraction)
        gj = float(energy.energy_gj_from_quantity(c.quantity, ncv))
        if c.ncv_source == "default" and fd.coal_tce_per_unit is not None:
            tce = float(energy.tce_from_quantity(c.quantity, fd.coal_tce_per_unit))
        else:
            tce = float(energy.tce_from_energy_gj(gj))
        uses_default = "default" in (c.ncv_source, c.carbon_content_source, c.oxidation_source)
        lines.append(Line(
            "combustion", c.carrier, c.quantity, fd.unit, ncv, c.ncv_source, cc, c.carbon_content_source, of,
            c.oxidation_source, factor_ref=fd.ref if uses_default else "",
            co2_t=float(carbon.co2_combustion_t(gj, cc * 1_000.0, of)), energy_tce=tce,
        ))  # fmt: skip
    for p in inp.process:
        ps = process_sources()[p.source]
        f = _pick(p.factor_source, p.factor, ps.factor)
        ref = f"process_sources {ps.source_table}" if p.factor_source == "default" else "measured"
        lines.append(Line("process", p.source, p.quantity, ps.activity_unit, factor=f, factor_unit=ps.factor_unit,
                          factor_ref=ref[:200], co2_t=co2_process_t(p.quantity, f)))  # fmt: skip
    for e in inp.electricity:
        g = defaults.grid_factor_tco2_per_mwh
        lines.append(Line("electricity", e.item or "grid", e.quantity, "MWh", factor=g, factor_unit="tCO2/MWh",
                          factor_ref=defaults.grid_factor_ref,
                          co2_t=float(carbon.co2_purchased_electricity_t(e.quantity, g)),
                          energy_tce=e.quantity * defaults.electricity_tce_per_mwh))  # fmt: skip
    heat_refs = set()
    for h in inp.heat:
        f = _pick(h.factor_source, h.factor, defaults.heat_factor_tco2_per_gj)
        ref = defaults.heat_factor_ref if h.factor_source == "default" else "measured"
        heat_refs.add(ref)
        lines.append(Line("heat", h.item or "heat", h.quantity, "GJ", factor=f, factor_unit="tCO2/GJ", factor_ref=ref,
                          co2_t=float(carbon.co2_purchased_heat_t(h.quantity, f)),
                          energy_tce=h.quantity * defaults.heat_tce_per_gj))  # fmt: skip
    for o in inp.output:
        lines.append(Line("output", o.product.strip()[:64], o.quantity, o.unit.strip()[:32]))
    raw = {s: sum(ln.co2_t or 0.0 for ln in lines if ln.section == s) for s in SECTIONS[:4]}
    totals = {f"{s}_co2_t": round_reported_t(v) for s, v in raw.items()}
    totals["total_excl_purchased_co2_t"] = totals["combustion_co2_t"] + totals["process_co2_t"]
    totals["total_co2_t"] = (
        totals["total_excl_purchased_co2_t"] + totals["electricity_co2_t"] + totals["heat_co2_t"]
    )
    return Computed(
        lines=lines,
        totals=totals,
        energy_tce=sum(ln.energy_tce or 0.0 for ln in lines),
        grid_factor_ref=defaults.grid_factor_ref if inp.electricity else "",
        heat_factor_ref="; ".join(sorted(heat_refs))[:200],
    )


# ------------------------------------------------------------------------------ checks


def _monthly_totals(session: Session, enterprise_id: int, year: int) -> dict[str, float]:
    """Σ of the months' energy by carrier (in the carrier's unit), from the monthly evidence."""
    return evidence.monthly_totals(session, enterprise_id, year)


def _evidence_months(session: Session, enterprise_id: int, year: int) -> list[int]:
    return evidence.months_with_evidence(session, enterprise_id, year)


def _energy_by_carrier(lines: list[Line] | list[m.MrvReportLine]) -> dict[str, float]:
    """The report's energy by carrier, in the carrier's unit (electricity and heat included)."""
    units = {c.code: c.unit for c in load_carriers()}
    out: dict[str, float] = {}
    for ln in lines:
        carrier = {"electricity": "electricity", "heat": "heat"}.get(ln.section, ln.item)
        if ln.section not in ("combustion", "electricity", "heat") or carrier not in units:
            continue
        out[carrier] = out.get(carrier, 0.0) + ln.quantity * conversion_factor(ln.unit, units[carrier])
    return out


def _result(reported: float, reference: float, tolerance: float, over: str) -> tuple[str, float | None]:
    if reference == 0:
        return ("pass" if reported == 0 else over), None
    d = float(relative_difference(reported, reference))
    return ("pass" if abs(d) <= tolerance else over), d


def run_checks(session: Session, report: m.MrvReport) -> list[m.MrvReportCheck]:
    """The consistency checks of a report, stored on it (returns them):

    - ``evidence_sum`` per carrier: the annual quantity against the Σ of the months' evidence,
      within ``checks.evidence_sum_tolerance`` (pass, else fail); ``evidence_months``: months
      without evidence (warn);
    - ``previous_year``: the total against the previous year's latest accepted or verified report
      (over ``checks.previous_year_tolerance``: warn, a reason is asked for);
    - ``metered`` per carrier: against the metered energy greenpark holds for the enterprise and
      year (activity records of quality ``metered``), within ``checks.metered_tolerance``.

    ``none`` where there is nothing to compare with."""
    rules = shipped_rules()["checks"]
    ent, year = report.enterprise_id, report.year
    reported = _energy_by_carrier(report.lines)
    rows: list[m.MrvReportCheck] = []

    def add(check: str, item: str, result: str, rep: float | None, ref: float | None, diff: float | None,
            tol: float | None, **detail: Any) -> None:  # fmt: skip
        rows.append(m.MrvReportCheck(report_id=report.id, check=check, item=item, result=result, reported=rep,
                                     reference=ref, difference_fraction=diff, tolerance_fraction=tol,
                                     detail_json=json.dumps(detail, ensure_ascii=False)))  # fmt: skip

    # (a) annual = Σ months
    tol = float(rules["evidence_sum_tolerance"])
    months = _evidence_months(session, ent, year)
    sums = _monthly_totals(session, ent, year) if months else {}
    if not months:
        add("evidence_sum", "", "none", None, None, None, tol, reason="no monthly evidence for the year")
    else:
        for carrier in sorted(set(reported) | set(sums)):
            rep, ref = reported.get(carrier, 0.0), sums.get(carrier, 0.0)
            res, d = _result(rep, ref, tol, "fail")
            add("evidence_sum", carrier, res, rep, ref, d, tol)
        missing = [mo for mo in range(1, 13) if mo not in months]
        add("evidence_months", "", "warn" if missing else "pass", float(len(months)), 12.0, None, None,
            missing_months=missing)  # fmt: skip
    # (b) the previous year
    tol = float(rules["previous_year_tolerance"])
    prev = session.scalars(
        select(m.MrvReport)
        .where(m.MrvReport.enterprise_id == ent, m.MrvReport.year == year - 1,
               m.MrvReport.status.in_(("accepted", "verified")))
        .order_by(m.MrvReport.version.desc())
    ).first()  # fmt: skip
    if prev is None:
        add("previous_year", "", "none", report.total_co2_t, None, None, tol,
            reason="no accepted or verified report of the previous year")  # fmt: skip
    else:
        res, d = _result(report.total_co2_t, prev.total_co2_t, tol, "warn")
        add("previous_year", "", res, report.total_co2_t, prev.total_co2_t, d, tol, previous_report=prev.id,
            previous_version=prev.version, ask_reason=res == "warn")  # fmt: skip
    # (c) metered energy greenpark holds
    tol = float(rules["metered_tolerance"])
    units = {c.code: c.unit for c in load_carriers()}
    metered: dict[str, float] = {}
    q = select(m.ActivityRecord.carrier_code, m.ActivityRecord.quantity, m.ActivityRecord.unit).where(
        m.ActivityRecord.enterprise_id == ent, m.ActivityRecord.year == year, m.ActivityRecord.quality == "metered",
        m.ActivityRecord.carrier_code.is_not(None), m.ActivityRecord.quantity.is_not(None),
    )  # fmt: skip
    for code, qty, unit in session.execute(q):
        if code is None or qty is None or code not in units:
            continue
        try:
            x = float(qty) * conversion_factor(unit or units[code], units[code])
        except UnitError:
            continue
        metered[code] = metered.get(code, 0.0) + x
    if not metered:
        add(
            "metered",
            "",
            "none",
            None,
            None,
            None,
            tol,
            reason="no metered energy for the enterprise and year",
        )
    for carrier in sorted(metered):
        rep = reported.get(carrier, 0.0)
        res, d = _result(rep, metered[carrier], tol, "warn")
        add("metered", carrier, res, rep, metered[carrier], d, tol)
    session.add_all(rows)
    session.flush()
    return rows


# ------------------------------------------------------------------------------ acts


def _totals(r: m.MrvReport) -> dict[str, float]:
    return {k: getattr(r, k) for k in ("combustion_co2_t", "process_co2_t", "electricity_co2_t", "heat_co2_t",
                                       "total_excl_purchased_co2_t", "total_co2_t", "energy_tce")}  # fmt: skip


#: The stages of a verification after its conclusion: the year's figures are final (an appeal may revise them).
CONCLUDED_STAGES = ("concluded", "notified", "appealed", "closed")


def submit_report(
    session: Session,
    actor: Actor,
    enterprise_id: int,
    year: int,
    inp: ReportInput,
    *,
    source: str = "page",
    filename: str = "",
    file_sha256: str = "",
) -> m.MrvReport:
    """Submit a report: version n + 1 of the enterprise's year, computed, checked and logged; the
    earlier versions (but a verified one) become superseded. Who: ``report.submit``."""
    require(session, actor, "report.submit", enterprise_id)
    ent = enterprise_in_reach(session, actor, enterprise_id)
    done = session.scalar(
        select(m.MrvVerification.stage).where(
            m.MrvVerification.enterprise_id == ent.id, m.MrvVerification.year == year,
            m.MrvVerification.stage.in_(CONCLUDED_STAGES),
        )
    )  # fmt: skip
    if done is not None:
        raise ValueError(
            Msg("the verification of {year} is concluded: a correction goes through an appeal", year=year)
        )
    comp = compute(inp, report_defaults(session, year))
    earlier = list(session.scalars(
        select(m.MrvReport).where(m.MrvReport.enterprise_id == ent.id, m.MrvReport.year == year)
    ))  # fmt: skip
    version = max((r.version for r in earlier), default=0) + 1
    r = m.MrvReport(
        park_id=ent.park_id, enterprise_id=ent.id, year=year, version=version, status="submitted",
        guideline=inp.guideline[:64], source=source, filename=filename[:200], grid_factor_ref=comp.grid_factor_ref,
        heat_factor_ref=comp.heat_factor_ref, energy_tce=comp.energy_tce, contact=inp.contact[:200], note=inp.note,
        submitted_by=actor.username, submitted_utc=utcnow(), **comp.totals,
    )  # fmt: skip
    session.add(r)
    session.flush()
    superseded = []
    for e in earlier:
        if e.status != "verified" and e.status != "superseded":
            e.status = "superseded"
            superseded.append(e.id)
    session.add_all(m.MrvReportLine(report_id=r.id, **asdict(ln)) for ln in comp.lines)
    session.flush()
    session.refresh(r)
    checks = run_checks(session, r)
    session.refresh(r)
    log.append(session, actor=actor.username, action="report.submit", entity="mrv_report", entity_id=r.id,
               park_id=r.park_id, enterprise_id=r.enterprise_id, payload={
                   "year": year, "version": version, "source": source, "filename": filename,
                   "file_sha256": file_sha256, "totals": _totals(r), "superseded": superseded,
                   "grid_factor_ref": r.grid_factor_ref, "heat_factor_ref": r.heat_factor_ref,
                   "lines": [[ln.section, ln.item, ln.quantity, ln.unit, ln.ncv_gj_per_unit,
                              ln.carbon_content_tc_per_gj, ln.oxidation_fraction, ln.factor, ln.co2_t]
                             for ln in comp.lines],
                   "checks": {f"{c.check}:{c.item}": c.result for c in checks},
               })  # fmt: skip
    notify.notify(
        session, notify.officers(session, r.park_id, ent.zone_id), park_id=r.park_id,
        key=f"report.submit.{r.id}", kind="due",
        msgid=N_("Annual GHG report {year} of {enterprise} (version {version}) was submitted: please review it"),
        params={"year": year, "enterprise": ent.name, "version": version}, link=f"/mrv/reports?report={r.id}",
    )  # fmt: skip
    return r


def review_report(
    session: Session, actor: Actor, report_id: int, *, accept: bool, comment: str = ""
) -> m.MrvReport:
    """Accept a submitted report, or return it with a comment (required) for a new version. The
    figures are not touched. Who: ``report.review`` (zone staff: their zone's enterprises)."""
    r = report_in_reach(session, actor, report_id)
    require(session, actor, "report.review", r.enterprise_id)
    hold(session, r)
    comment = comment.strip()
    if r.status != "submitted":
        raise ValueError(f"only a submitted report can be reviewed; this one is {r.status}")
    if not accept and not comment:
        raise ValueError("a returned report needs a comment saying what to correct")
    r.status = "accepted" if accept else "returned"
    r.reviewed_by, r.reviewed_utc, r.review_comment = actor.username, utcnow(), comment
    session.flush()
    action = "report.accept" if accept else "report.return"
    log.append(session, actor=actor.username, action=action, entity="mrv_report", entity_id=r.id,
               park_id=r.park_id, enterprise_id=r.enterprise_id,
               payload={"year": r.year, "version": r.version, "comment": comment, "totals": _totals(r)})  # fmt: skip
    params = {"year": r.year, "version": r.version, "comment": comment}
    if accept:
        msgid, kind = N_("Your annual GHG report {year} (version {version}) was accepted"), "notice"
    else:
        msgid, kind = (
            N_("Your annual GHG report {year} (version {version}) was returned: {comment}"),
            "returned",
        )
    notify.notify(session, notify.enterprise_users(session, r.enterprise_id), park_id=r.park_id,
                  key=f"{action}.{r.id}", kind=kind, msgid=msgid, params=params,
                  link=f"/mrv/reports?report={r.id}")  # fmt: skip
    return r


# ------------------------------------------------------------------------------ reading


def report_in_reach(session: Session, actor: Actor, report_id: int) -> m.MrvReport:
    """A report the actor may read (:class:`NotFound` otherwise, also for another park's)."""
    r = session.get(m.MrvReport, report_id)
    if r is None or r.park_id != actor.park_id:
        raise NotFound("no such report")
    try:
        enterprise_in_reach(session, actor, r.enterprise_id)
    except NotFound:
        raise NotFound("no such report") from None
    years = assigned_years(session, actor)
    if years is not None and (r.enterprise_id, r.year) not in years:  # a verifier: its assignments' years
        raise NotFound("no such report")
    return r


def enterprise_by_code(session: Session, actor: Actor, code: str) -> m.Enterprise:
    """An enterprise of the actor's park by its code, if in reach (:class:`NotFound` otherwise)."""
    ent = session.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == actor.park_id, m.Enterprise.code == code)
    ).first()
    if ent is None:
        raise NotFound(f"no enterprise {code!r}")
    return enterprise_in_reach(session, actor, ent.id)


def summary(r: m.MrvReport, ent: m.Enterprise | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id, "year": r.year, "version": r.version, "status": r.status, "source": r.source,
        "submitted_by": r.submitted_by, "submitted_utc": r.submitted_utc.isoformat(timespec="seconds") + "Z",
        "reviewed_by": r.reviewed_by,
        "reviewed_utc": r.reviewed_utc.isoformat(timespec="seconds") + "Z" if r.reviewed_utc else None,
        "review_comment": r.review_comment, "totals": _totals(r),
    }  # fmt: skip
    if ent is not None:
        out["enterprise"] = {"id": ent.id, "code": ent.code, "name": ent.name}
    return out


def list_reports(session: Session, actor: Actor, *, year: int | None = None, enterprise_id: int | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The reports the actor may read, newest year and version first."""
    ents = readable_enterprises(session, actor)
    if enterprise_id is not None:
        ents = ents & {enterprise_id}
    if not ents:
        return []
    q = select(m.MrvReport, m.Enterprise).join(m.Enterprise, m.Enterprise.id == m.MrvReport.enterprise_id).where(
        m.MrvReport.park_id == actor.park_id, m.MrvReport.enterprise_id.in_(ents))  # fmt: skip
    if year is not None:
        q = q.where(m.MrvReport.year == year)
    if status is not None:
        q = q.where(m.MrvReport.status == status)
    q = q.order_by(m.MrvReport.year.desc(), m.Enterprise.code, m.MrvReport.version.desc())
    years = assigned_years(session, actor)
    return [
        summary(r, e) for r, e in session.execute(q) if years is None or (r.enterprise_id, r.year) in years
    ]


def _line_dict(ln: m.MrvReportLine) -> dict[str, Any]:
    return {k: getattr(ln, k) for k in (
        "section", "item", "quantity", "unit", "ncv_gj_per_unit", "ncv_source", "carbon_content_tc_per_gj",
        "carbon_content_source", "oxidation_fraction", "oxidation_source", "factor", "factor_unit", "factor_ref",
        "co2_t", "energy_tce")}  # fmt: skip


def check_dict(c: m.MrvReportCheck) -> dict[str, Any]:
    return {"check": c.check, "item": c.item, "result": c.result, "reported": c.reported, "reference": c.reference,
            "difference_fraction": c.difference_fraction, "tolerance": c.tolerance_fraction,
            "detail": json.loads(c.detail_json or "{}")}  # fmt: skip


def report_detail(session: Session, actor: Actor, report_id: int) -> dict[str, Any]:
    """A report with its lines, checks and every version of its enterprise and year."""
    r = report_in_reach(session, actor, report_id)
    ent = session.get(m.Enterprise, r.enterprise_id)
    versions = session.scalars(
        select(m.MrvReport).where(m.MrvReport.enterprise_id == r.enterprise_id, m.MrvReport.year == r.year)
        .order_by(m.MrvReport.version)
    )  # fmt: skip
    return summary(r, ent) | {
        "guideline": r.guideline, "filename": r.filename, "contact": r.contact, "note": r.note,
        "grid_factor_ref": r.grid_factor_ref, "heat_factor_ref": r.heat_factor_ref, "tce_basis": TCE_BASIS,
        "lines": [_line_dict(ln) for ln in r.lines], "checks": [check_dict(c) for c in r.checks],
        "history": [summary(v) for v in versions],
        "may_review": _may(session, actor, "report.review", r.enterprise_id) and r.status == "submitted",
    }  # fmt: skip


def _may(session: Session, actor: Actor, act: str, enterprise_id: int) -> bool:
    try:
        require(session, actor, act, enterprise_id)
    except (PermissionError, LookupError):
        return False
    return True


def submitted_dict(r: m.MrvReport, ent: m.Enterprise) -> dict[str, Any]:
    """What ``mrv report submit --json`` prints."""
    return {"report": r.id, "enterprise": ent.code, "year": r.year, "version": r.version, "status": r.status,
            "totals": _totals(r), "checks": [check_dict(c) for c in r.checks]}  # fmt: skip


def latest_input(session: Session, enterprise_id: int, year: int) -> ReportInput | None:
    """The latest version's lines of the enterprise's year as an input (to prefill a new version)."""
    r = session.scalars(
        select(m.MrvReport).where(m.MrvReport.enterprise_id == enterprise_id, m.MrvReport.year == year)
        .order_by(m.MrvReport.version.desc())
    ).first()  # fmt: skip
    if r is None:
        return None
    inp = ReportInput(contact=r.contact, note=r.note, guideline=r.guideline)
    for ln in r.lines:
        if ln.section == "combustion":
            inp.combustion.append(CombustionIn(
                ln.item, ln.quantity, ln.ncv_source, ln.ncv_gj_per_unit if ln.ncv_source == "measured" else None,
                ln.carbon_content_source,
                ln.carbon_content_tc_per_gj if ln.carbon_content_source == "measured" else None,
                ln.oxidation_source, ln.oxidation_fraction if ln.oxidation_source == "measured" else None))  # fmt: skip
        elif ln.section == "process":
            measured = ln.factor_ref == "measured"
            inp.process.append(ProcessIn(ln.item, ln.quantity, "measured" if measured else "default",
                                         ln.factor if measured else None))  # fmt: skip
        elif ln.section == "electricity":
            inp.electricity.append(PurchasedIn(ln.quantity, ln.item))
        elif ln.section == "heat":
            measured = ln.factor_ref == "measured"
            inp.heat.append(PurchasedIn(ln.quantity, ln.item, "measured" if measured else "default",
                                        ln.factor if measured else None))  # fmt: skip
        elif ln.section == "output":
            inp.output.append(OutputIn(ln.item, ln.quantity, ln.unit))
    return inp


def evidence_hints(session: Session, enterprise_id: int, year: int) -> dict[str, float]:
    """Σ of the months' evidence by carrier (carrier's unit), the template's hint column."""
    if not _evidence_months(session, enterprise_id, year):
        return {}
    return _monthly_totals(session, enterprise_id, year)

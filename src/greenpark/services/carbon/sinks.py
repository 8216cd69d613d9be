"""The forest carbon-sink ledger (林业碳汇计量与监测体系, plan 4.1): forest land by type and zone over
inventories, the annual sink by the IPCC gain–loss and stock-difference methods with the factor set
that gave every parameter, and the sink projects (CCER-style) with their monitoring periods and
credits. Imports check every cell and write nothing on an error."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core import sinks as core
from greenpark.i18n import N_, Msg, tr
from greenpark.services.carbon.factors import FactorLibrary, FactorRef
from greenpark.services.carbon.io import ImportRejected, read_simple_table
from greenpark.services.park import audit
from greenpark.services.park.parks import ParkError, get_park
from greenpark.services.tabular import CellError
from greenpark.store import models as m

#: The factor set of forest parameters used unless the caller names another.
DEFAULT_SET = "forest-sink-defaults"
#: Forest types: code → name (a message id; the catalogue has 针叶林, 阔叶林 …).
FOREST_TYPES: dict[str, str] = {
    "coniferous": N_("Coniferous"),
    "broadleaf": N_("Broadleaf"),
    "mixed": N_("Mixed"),
    "bamboo": N_("Bamboo"),
    "economic": N_("Economic forest"),
}
#: Types with a growing-stock volume (biomass equations); the others use a per-area rate.
VOLUME_TYPES = ("coniferous", "broadleaf", "mixed")
VOLUME_PARAMETERS = ("wood_density", "bef", "root_shoot", "carbon_fraction", "volume_increment")
PROJECT_KINDS = ("afforestation", "forest_management", "bamboo_afforestation", "bamboo_management")
PROJECT_STATUSES = ("planned", "registered", "crediting", "closed")


class SinkError(ValueError):
    """The sink cannot be computed as asked."""


def _joined(errors: list[Msg]) -> Msg:
    """Several refusals as one message (each rendered in the reader's language)."""
    out = errors[0]
    for e in errors[1:]:
        out = Msg("{first}; {then}", first=out, then=e)
    return out


# ----------------------------------------------------------------------------- imports


class _Cells:
    """Collects bad cells of one file; typed readers for one row."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[CellError] = []

    def bad(self, sheet: str, row: int, col: str, why: Msg) -> None:
        self.errors.append(CellError(self.filename, sheet, row, col, why))

    def num(self, sheet: str, row: int, r: dict[str, str], col: str, required: bool = True,
            positive: bool = False, default: float | None = None) -> float | None:  # fmt: skip
        t = r.get(col, "")
        if not t:
            if required:
                self.bad(sheet, row, col, Msg("is required"))
            return default
        try:
            x = float(t)
        except ValueError:
            self.bad(sheet, row, col, Msg("{value} is not a number", value=repr(t)))
            return None
        if x != x or x < 0 or (positive and x == 0):
            self.bad(sheet, row, col, Msg("must be positive") if positive else Msg("must be ≥ 0"))
            return None
        return x

    def day(self, sheet: str, row: int, r: dict[str, str], col: str) -> date | None:
        t = r.get(col, "")[:10]
        try:
            return date.fromisoformat(t)
        except ValueError:
            self.bad(sheet, row, col, Msg("{value} is not a date (YYYY-MM-DD)", value=repr(r.get(col, ""))))
            return None

    def done(self) -> None:
        if self.errors:
            raise ImportRejected(self.errors)


def _zones(session: Session, park: m.Park) -> dict[str, m.Zone]:
    return {z.code: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}


#: The fields of forest land, a sink project and a monitoring period that their history keeps.
STAND_FIELDS = ("area_ha", "volume_m3_per_ha", "harvest_m3_per_yr", "disturbed_ha_per_yr", "disturbance_fraction",
                "source_ref", "note")  # fmt: skip
PROJECT_FIELDS = ("name", "methodology", "kind", "zone_id", "area_ha", "owner", "status", "note", "crediting_start",
                  "crediting_end", "estimated_tco2_per_yr")  # fmt: skip
PERIOD_FIELDS = ("period_end", "estimated_tco2", "verified_tco2", "issued_credits_tco2", "retired_credits_tco2",
                 "verifier", "note")  # fmt: skip


def import_stands(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """Forest land (.xlsx or .csv): ``zone, forest_type, inventory_year, area_ha, volume_m3_per_ha,
    harvest_m3_per_yr, disturbed_ha_per_yr, disturbance_fraction, source_ref, note``; rows are
    matched on (zone, forest_type, inventory_year); all or nothing. What changes is kept in the
    history (``forest_stand`` ``ZONE|TYPE|YEAR``; ``by``, the file as the batch)."""
    park = get_park(session)
    zones = _zones(session, park)
    c = _Cells(filename)
    rows = []
    seen: dict[tuple[str, str, int], int] = {}
    for sheet, i, r in read_simple_table(
        filename, content, ("zone", "forest_type", "inventory_year", "area_ha")
    ):
        zone = zones.get(r.get("zone", ""))
        if zone is None:
            c.bad(
                sheet,
                i,
                "zone",
                Msg("unknown zone {code}; known: {known}", code=repr(r.get("zone")), known=", ".join(zones)),
            )
        ftype = r.get("forest_type", "")
        if ftype not in FOREST_TYPES:
            c.bad(
                sheet,
                i,
                "forest_type",
                Msg("{value} is not one of {allowed}", value=repr(ftype), allowed=", ".join(FOREST_TYPES)),
            )
        year = c.num(sheet, i, r, "inventory_year")
        if year is not None and not (1950 <= year <= 2100 and year.is_integer()):
            c.bad(sheet, i, "inventory_year", Msg("a year between 1950 and 2100"))
            year = None
        area = c.num(sheet, i, r, "area_ha", positive=True)
        volume = c.num(sheet, i, r, "volume_m3_per_ha", required=ftype in VOLUME_TYPES)
        harvest = c.num(sheet, i, r, "harvest_m3_per_yr", required=False, default=0.0)
        dist_ha = c.num(sheet, i, r, "disturbed_ha_per_yr", required=False, default=0.0)
        dist_f = c.num(sheet, i, r, "disturbance_fraction", required=False, default=0.0)
        if dist_f is not None and dist_f > 1:
            c.bad(sheet, i, "disturbance_fraction", Msg("a fraction between 0 and 1"))
        if zone is not None and year is not None and ftype in FOREST_TYPES:
            key = (zone.code, ftype, int(year))
            if key in seen:
                c.bad(sheet, i, "forest_type", Msg("{type} {year} in {zone} already on row {row}", type=ftype,
                                                   year=int(year), zone=zone.code, row=seen[key]))  # fmt: skip
            seen[key] = i
            rows.append((zone, ftype, int(year), area, volume, harvest, dist_ha, dist_f, r))
    c.done()
    hist = audit.Changes(session, by, audit.file_batch(filename, content), park.id)
    for zone, ftype, year, area, volume, harvest, dist_ha, dist_f, r in rows:
        st = session.scalars(
            select(m.ForestStand).where(
                m.ForestStand.zone_id == zone.id, m.ForestStand.forest_type == ftype,
                m.ForestStand.inventory_year == year,
            )
        ).first() or m.ForestStand(park_id=park.id, zone_id=zone.id, forest_type=ftype, inventory_year=year)  # fmt: skip
        before = audit.values(st, STAND_FIELDS) if st.id is not None else None
        st.area_ha, st.volume_m3_per_ha = float(area or 0), volume
        st.harvest_m3_per_yr, st.disturbed_ha_per_yr = float(harvest or 0), float(dist_ha or 0)
        st.disturbance_fraction = float(dist_f or 0)
        st.source_ref, st.note = r.get("source_ref", ""), r.get("note", "")
        session.add(st)
        hist.record("forest_stand", f"{zone.code}|{ftype}|{year}", before, audit.values(st, STAND_FIELDS),
                    zone_id=zone.id)  # fmt: skip
    hist.write()
    session.flush()
    return len(rows)


def import_projects(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """Sink projects: ``code, name, methodology, kind, zone, area_ha, owner, crediting_start,
    crediting_end, estimated_tco2_per_yr, status, note``; matched on code; all or nothing; kept in
    their history (``sink_project`` ``CODE``)."""
    park = get_park(session)
    zones = _zones(session, park)
    c = _Cells(filename)
    rows = []
    for sheet, i, r in read_simple_table(
        filename, content, ("code", "name", "methodology", "kind", "area_ha")
    ):
        if not r.get("code"):
            c.bad(sheet, i, "code", Msg("is required"))
        if not r.get("name"):
            c.bad(sheet, i, "name", Msg("is required"))
        if not r.get("methodology"):
            c.bad(
                sheet,
                i,
                "methodology",
                Msg("is required (e.g. {examples})", examples="CCER-14-001-V01, AR-CM-003-V01"),
            )
        if r.get("kind") not in PROJECT_KINDS:
            c.bad(
                sheet,
                i,
                "kind",
                Msg(
                    "{value} is not one of {allowed}",
                    value=repr(r.get("kind")),
                    allowed=", ".join(PROJECT_KINDS),
                ),
            )
        zone = zones.get(r.get("zone", "")) if r.get("zone") else None
        if r.get("zone") and zone is None:
            c.bad(sheet, i, "zone", Msg("unknown zone {code}", code=repr(r.get("zone"))))
        status = r.get("status") or "planned"
        if status not in PROJECT_STATUSES:
            c.bad(
                sheet,
                i,
                "status",
                Msg(
                    "{value} is not one of {allowed}", value=repr(status), allowed=", ".join(PROJECT_STATUSES)
                ),
            )
        area = c.num(sheet, i, r, "area_ha", positive=True)
        est = c.num(sheet, i, r, "estimated_tco2_per_yr", required=False, default=0.0)
        start, end = c.day(sheet, i, r, "crediting_start"), c.day(sheet, i, r, "crediting_end")
        if start and end and end <= start:
            c.bad(sheet, i, "crediting_end", Msg("must be after {column}", column="crediting_start"))
        rows.append((r, zone, status, area, est, start, end))
    c.done()
    hist = audit.Changes(session, by, audit.file_batch(filename, content), park.id)
    zone_codes = {z.id: z.code for z in zones.values()}

    def kept(p: m.SinkProject) -> dict[str, Any]:
        v = audit.values(p, PROJECT_FIELDS)
        return {"zone": zone_codes.get(v.pop("zone_id")), **v}

    for r, zone, status, area, est, start, end in rows:
        p = session.scalars(
            select(m.SinkProject).where(m.SinkProject.park_id == park.id, m.SinkProject.code == r["code"])
        ).first() or m.SinkProject(park_id=park.id, code=r["code"])
        before = kept(p) if p.id is not None else None
        p.name, p.methodology, p.kind, p.zone_id = (
            r["name"],
            r["methodology"],
            r["kind"],
            zone.id if zone else None,
        )
        p.area_ha, p.owner, p.status, p.note = float(area or 0), r.get("owner", ""), status, r.get("note", "")
        assert start is not None and end is not None
        p.crediting_start, p.crediting_end, p.estimated_tco2_per_yr = start, end, float(est or 0)
        session.add(p)
        hist.record("sink_project", p.code, before, kept(p), zone_id=p.zone_id)
    hist.write()
    session.flush()
    return len(rows)


def import_periods(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """Monitoring periods: ``project, period_start, period_end, estimated_tco2, verified_tco2,
    issued_credits_tco2, retired_credits_tco2, verifier, note``. Checks: the period lies in the
    crediting period and overlaps no other period of the project; credits issued ≤ verified
    removals; credits retired ≤ issued. All or nothing; kept in their history (``sink_period``
    ``PROJECT|START``)."""
    park = get_park(session)
    projects = {
        p.code: p for p in session.scalars(select(m.SinkProject).where(m.SinkProject.park_id == park.id))
    }
    c = _Cells(filename)
    rows = []
    spans: dict[str, list[tuple[date, date, int]]] = defaultdict(list)
    for sheet, i, r in read_simple_table(
        filename, content, ("project", "period_start", "period_end", "estimated_tco2")
    ):
        p = projects.get(r.get("project", ""))
        if p is None:
            c.bad(sheet, i, "project", Msg("unknown project {code}", code=repr(r.get("project"))))
        start, end = c.day(sheet, i, r, "period_start"), c.day(sheet, i, r, "period_end")
        est = c.num(sheet, i, r, "estimated_tco2")
        ver = c.num(sheet, i, r, "verified_tco2", required=False)
        issued = c.num(sheet, i, r, "issued_credits_tco2", required=False, default=0.0) or 0.0
        retired = c.num(sheet, i, r, "retired_credits_tco2", required=False, default=0.0) or 0.0
        if issued > (ver or 0.0) + 1e-9:
            c.bad(sheet, i, "issued_credits_tco2", Msg("{issued} credits issued exceed the {verified} tCO₂ verified",
                                                       issued=f"{issued:g}", verified=f"{ver or 0:g}"))  # fmt: skip
        if retired > issued + 1e-9:
            c.bad(sheet, i, "retired_credits_tco2", Msg("{retired} retired exceed the {issued} issued", retired=f"{retired:g}",
                                                        issued=f"{issued:g}"))  # fmt: skip
        if p is not None and start and end:
            if end <= start:
                c.bad(sheet, i, "period_end", Msg("must be after {column}", column="period_start"))
            elif start < p.crediting_start or end > p.crediting_end:
                c.bad(sheet, i, "period_start", Msg("outside the crediting period {start}–{end}", start=p.crediting_start.isoformat(),
                                                    end=p.crediting_end.isoformat()))  # fmt: skip
            for s0, e0, row0 in spans[p.code]:
                if start <= e0 and s0 <= end:
                    c.bad(sheet, i, "period_start", Msg("overlaps the period on row {row}", row=row0))
            for old in session.scalars(select(m.SinkPeriod).where(m.SinkPeriod.project_id == p.id)):
                if old.period_start != start and start <= old.period_end and old.period_start <= end:
                    c.bad(sheet, i, "period_start", Msg("overlaps the recorded period {start}–{end}",
                                                        start=old.period_start.isoformat(), end=old.period_end.isoformat()))  # fmt: skip
            spans[p.code].append((start, end, i))
            rows.append((p, start, end, est, ver, issued, retired, r))
    c.done()
    hist = audit.Changes(session, by, audit.file_batch(filename, content), park.id)
    for p, start, end, est, ver, issued, retired, r in rows:
        per = session.scalars(
            select(m.SinkPeriod).where(m.SinkPeriod.project_id == p.id, m.SinkPeriod.period_start == start)
        ).first() or m.SinkPeriod(project_id=p.id, period_start=start)
        before = audit.values(per, PERIOD_FIELDS) if per.id is not None else None
        per.period_end, per.estimated_tco2, per.verified_tco2 = end, float(est or 0), ver
        per.issued_credits_tco2, per.retired_credits_tco2 = issued, retired
        per.verifier, per.note = r.get("verifier", ""), r.get("note", "")
        session.add(per)
        hist.record("sink_period", f"{p.code}|{start.isoformat()}", before, audit.values(per, PERIOD_FIELDS),
                    zone_id=p.zone_id)  # fmt: skip
    hist.write()
    session.flush()
    return len(rows)


# ----------------------------------------------------------------------------- the annual sink


def _params(lib: FactorLibrary, set_code: str, ftype: str, used: list[FactorRef]) -> dict[str, float]:
    names = VOLUME_PARAMETERS if ftype in VOLUME_TYPES else ("sequestration_rate",)
    out: dict[str, float] = {}
    for name in names:
        ref = lib.lookup([set_code], ftype, name)
        if ref is None:
            raise SinkError(
                Msg(
                    "factor set {set} has no {parameter} for {type}", set=set_code, parameter=name, type=ftype
                )
            )
        if ref not in used:
            used.append(ref)
        out[name] = ref.value
    return out


def _inventories(session: Session, park: m.Park, zone: str | None) -> dict[int, list[m.ForestStand]]:
    stmt = select(m.ForestStand).where(m.ForestStand.park_id == park.id)
    if zone:
        z = _zones(session, park).get(zone)
        if z is None:
            raise SinkError(Msg("unknown zone {code}", code=repr(zone)))
        stmt = stmt.where(m.ForestStand.zone_id == z.id)
    out: dict[int, list[m.ForestStand]] = defaultdict(list)
    for st in session.scalars(stmt.order_by(m.ForestStand.inventory_year, m.ForestStand.id)):
        out[st.inventory_year].append(st)
    return dict(out)


def _stand_carbon_tc(st: m.ForestStand, p: dict[str, float]) -> float:
    return float(core.biomass_carbon_tc(st.area_ha, st.volume_m3_per_ha or 0.0, p["wood_density"], p["bef"],
                                        p["root_shoot"], p["carbon_fraction"]))  # fmt: skip


def annual_sink(session: Session, year: int, zone: str | None = None, set_code: str = DEFAULT_SET,
                ) -> dict[str, Any]:  # fmt: skip
    """The forest sink of ``year`` [tCO₂/yr, positive = removal] by the gain–loss method on the
    latest inventory not after the year, and by the stock-difference method between the two
    inventories around it; by forest type and zone, with every parameter's factor-set row."""
    park = get_park(session)
    invs = _inventories(session, park, zone)
    if not invs:
        raise SinkError(
            Msg("no forest land is recorded in {zone}", zone=zone)
            if zone
            else Msg("no forest land is recorded")
        )
    lib = FactorLibrary.load(session)
    if set_code not in lib.sets:
        raise SinkError(Msg("factor set {set} is not loaded", set=repr(set_code)))
    years = sorted(invs)
    base = max((y for y in years if y <= year), default=years[0])
    zones = {z.id: z.code for z in _zones(session, park).values()}
    used: list[FactorRef] = []
    by_type: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_zone: dict[str, float] = defaultdict(float)
    for st in invs[base]:
        p = _params(lib, set_code, st.forest_type, used)
        if st.forest_type in VOLUME_TYPES:
            gain = core.biomass_gain_tc_per_yr(st.area_ha, p["volume_increment"], p["wood_density"], p["bef"],
                                               p["root_shoot"], p["carbon_fraction"])  # fmt: skip
            loss = core.wood_removal_loss_tc_per_yr(st.harvest_m3_per_yr, p["wood_density"], p["bef"],
                                                    p["root_shoot"], p["carbon_fraction"])  # fmt: skip
            biomass_t_per_ha = (st.volume_m3_per_ha or 0.0) * p["wood_density"] * p["bef"]
            loss += core.disturbance_loss_tc_per_yr(st.disturbed_ha_per_yr, biomass_t_per_ha, p["root_shoot"],
                                                    p["carbon_fraction"], st.disturbance_fraction)  # fmt: skip
            gain_t, loss_t = float(core.removal_tco2(gain)), float(core.removal_tco2(loss))
        else:
            gain_t = float(core.area_rate_removal_tco2_per_yr(st.area_ha, p["sequestration_rate"]))
            loss_t = 0.0
        net = float(core.gain_loss_tc_per_yr(gain_t, loss_t))
        row = by_type[st.forest_type]
        row["area_ha"] += st.area_ha
        row["gain_tco2"] += gain_t
        row["loss_tco2"] += loss_t
        row["removals_tco2"] += net
        by_zone[zones.get(st.zone_id, "?")] += net
    total = sum(r["removals_tco2"] for r in by_type.values())
    stock = _stock_difference(invs, years, year, lib, set_code, used)
    statuses = sorted({r.status for r in used})
    return {
        "year": year, "zone": zone, "method": "gain_loss", "inventory_year": base, "removals_tco2": total,
        "area_ha": sum(r["area_ha"] for r in by_type.values()),
        "by_type": [{"forest_type": t, "name_zh": tr(FOREST_TYPES[t], "zh"), "name_en": tr(FOREST_TYPES[t], "en"),
                     "method": "volume" if t in VOLUME_TYPES else "area_rate", **dict(v)}
                    for t, v in sorted(by_type.items(), key=lambda kv: list(FOREST_TYPES).index(kv[0]))],
        "by_zone": [{"zone": z, "removals_tco2": v} for z, v in sorted(by_zone.items())],
        "stock_difference": stock,
        "parameter_set": {"code": set_code, "version": lib.sets[set_code].version},
        "parameters": [r.as_dict() for r in used],
        "parameter_statuses": statuses,
        "unconfirmed": any(s in ("unconfirmed", "assumed") for s in statuses),
        "illustrative": any("illustrative" in (st.source_ref or "").lower() for st in invs[base]),
        "references": ["IPCC 2006 GL Vol.4 Ch.2 Eqs. 2.7, 2.9-2.10, 2.12, 2.14 (gain-loss)",
                       "IPCC 2006 GL Vol.4 Ch.2 Eq. 2.8 (stock-difference)", "AR-CM-001-V01"],
    }  # fmt: skip


def _stock_difference(invs: dict[int, list[m.ForestStand]], years: list[int], year: int, lib: FactorLibrary,
                      set_code: str, used: list[FactorRef]) -> dict[str, Any] | None:  # fmt: skip
    """Stock-difference between the inventories around ``year`` (or the last two before it)."""
    if len(years) < 2:
        return None
    after = [y for y in years if y >= year and y > years[0]]
    t2 = after[0] if after else years[-1]
    t1 = max(y for y in years if y < t2)
    stock: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # tC at t1, t2
    for k, t in enumerate((t1, t2)):
        for st in invs[t]:
            if st.forest_type in VOLUME_TYPES:
                stock[st.forest_type][k] += _stand_carbon_tc(st, _params(lib, set_code, st.forest_type, used))
    by_type = {
        k: float(core.removal_tco2(core.stock_difference_tc_per_yr(c1, c2, t1, t2)))
        for k, (c1, c2) in stock.items()
    }
    rate_types = {st.forest_type for st in invs[t2] if st.forest_type not in VOLUME_TYPES}
    return {"from": t1, "to": t2, "removals_tco2": sum(by_type.values()),
            "by_type": [{"forest_type": k, "removals_tco2": v} for k, v in sorted(by_type.items())],
            "covers": sorted(by_type), "not_covered": sorted(rate_types)}  # fmt: skip


def sink_years(session: Session) -> list[int]:
    park = get_park(session)
    return sorted(_inventories(session, park, None))


# ----------------------------------------------------------------------------- projects


#: How the ledger relates to the park's net emissions (shown under it).
LEDGER_NOTE = N_(
    "Project removals happen on the park's own forest land: the park's net emissions count the forest sink"
    " once and do not add project credits again; credits sold outside do not offset the park."
)


def ledger(session: Session) -> dict[str, Any]:
    """Sink projects with their monitoring periods and credit balances (tCO₂)."""
    park = get_park(session)
    zones = {z.id: z.code for z in _zones(session, park).values()}
    projects = []
    for p in session.scalars(
        select(m.SinkProject).where(m.SinkProject.park_id == park.id).order_by(m.SinkProject.code)
    ):
        periods = session.scalars(
            select(m.SinkPeriod).where(m.SinkPeriod.project_id == p.id).order_by(m.SinkPeriod.period_start)
        ).all()
        years = (p.crediting_end - p.crediting_start).days / 365.25
        issued = sum(x.issued_credits_tco2 for x in periods)
        retired = sum(x.retired_credits_tco2 for x in periods)
        projects.append({
            "code": p.code, "name": p.name, "methodology": p.methodology, "kind": p.kind,
            "zone": zones.get(p.zone_id) if p.zone_id else None, "area_ha": p.area_ha, "owner": p.owner,
            "crediting_start": p.crediting_start.isoformat(), "crediting_end": p.crediting_end.isoformat(),
            "status": p.status, "note": p.note, "estimated_tco2_per_yr": p.estimated_tco2_per_yr,
            "estimated_crediting_tco2": p.estimated_tco2_per_yr * years,
            "monitored_estimated_tco2": sum(x.estimated_tco2 for x in periods),
            "verified_tco2": sum(x.verified_tco2 or 0.0 for x in periods),
            "issued_credits_tco2": issued, "retired_credits_tco2": retired, "available_credits_tco2": issued - retired,
            "periods": [{"start": x.period_start.isoformat(), "end": x.period_end.isoformat(),
                         "estimated_tco2": x.estimated_tco2, "verified_tco2": x.verified_tco2,
                         "issued_credits_tco2": x.issued_credits_tco2, "retired_credits_tco2": x.retired_credits_tco2,
                         "verifier": x.verifier, "note": x.note} for x in periods],
        })  # fmt: skip
    keys = ("verified_tco2", "issued_credits_tco2", "retired_credits_tco2", "available_credits_tco2")
    return {
        "projects": projects,
        "totals": {k: sum(p[k] for p in projects) for k in keys},
        "note_zh": tr(LEDGER_NOTE, "zh"),
        "note_en": tr(LEDGER_NOTE, "en"),
        "note": Msg(LEDGER_NOTE),
    }


# ----------------------------------------------------------------------------- parameters

#: Plausible ranges of the forest parameters (a typo, not a judgement of the value, is refused).
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "wood_density": (0.1, 1.2), "bef": (1.0, 3.0), "root_shoot": (0.0, 1.0), "carbon_fraction": (0.3, 0.6),
    "volume_increment": (0.0, 40.0), "sequestration_rate": (0.0, 60.0),
}  # fmt: skip


def parameters(session: Session, set_code: str = DEFAULT_SET) -> dict[str, Any]:
    """The current version of the forest parameter set, row by row with provenance and status."""
    lib = FactorLibrary.load(session)
    if set_code not in lib.sets:
        raise SinkError(Msg("factor set {set} is not loaded", set=repr(set_code)))
    fs = lib.sets[set_code]
    rows = sorted(
        lib.rows[set_code],
        key=lambda r: (list(FOREST_TYPES).index(r.carrier) if r.carrier in FOREST_TYPES else 99, r.parameter),
    )
    return {"code": set_code, "version": fs.version, "title_zh": fs.title_zh, "title_en": fs.title_en,
            "rows": [{"forest_type": r.carrier, "forest_type_name": Msg(FOREST_TYPES[r.carrier]) if r.carrier in FOREST_TYPES else r.carrier,
                      "parameter": r.parameter, "value": r.value, "unit": r.unit,
                      "status": r.status, "source_table": r.source_table} for r in rows]}  # fmt: skip


def edit_parameters(session: Session, changes: list[dict[str, Any]], by: str, set_code: str = DEFAULT_SET,
                    *, batch: str = "") -> dict[str, Any]:  # fmt: skip
    """Save edited forest parameters as a new version of the set (the old version is kept); every
    changed row needs a source, and its status says what it is (confirmed, secondary, assumed, …).
    Each changed field is kept in the parameter's history too (``sink_parameter``
    ``SET|TYPE|PARAMETER``, the versions as the note)."""
    from greenpark.data import FACTOR_STATUSES, FactorRow, FactorSetSpec
    from greenpark.services.carbon.factors import sync_factor_sets

    lib = FactorLibrary.load(session)
    if set_code not in lib.sets:
        raise SinkError(Msg("factor set {set} is not loaded", set=repr(set_code)))
    fs = lib.sets[set_code]
    current = {(r.carrier, r.parameter): r for r in lib.rows[set_code]}
    errors: list[Msg] = []
    edits: dict[tuple[str, str], dict[str, Any]] = {}
    for k, ch in enumerate(changes):
        key = (str(ch.get("forest_type", "")), str(ch.get("parameter", "")))
        where = f"changes[{k}] {key[0]}.{key[1]}"
        if key[0] not in FOREST_TYPES:
            errors.append(Msg("{where}: unknown forest type", where=where))
        if key[1] not in PARAMETER_RANGES:
            errors.append(
                Msg(
                    "{where}: unknown parameter (known: {known})",
                    where=where,
                    known=", ".join(PARAMETER_RANGES),
                )
            )
            continue
        try:
            value = float(ch.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.append(Msg("{where}: the value must be a number", where=where))
            continue
        lo, hi = PARAMETER_RANGES[key[1]]
        if not lo <= value <= hi:
            errors.append(Msg("{where}: {value} is outside the plausible range {lo}–{hi}", where=where, value=f"{value:g}",
                              lo=f"{lo:g}", hi=f"{hi:g}"))  # fmt: skip
        status = ch.get("status") or "assumed"
        if status not in FACTOR_STATUSES:
            errors.append(
                Msg(
                    "{where}: status must be one of {allowed}",
                    where=where,
                    allowed=", ".join(FACTOR_STATUSES),
                )
            )
        if not str(ch.get("source_table", "")).strip():
            errors.append(Msg("{where}: say where the value comes from (source)", where=where))
        edits[key] = {"value": value, "status": status, "source_table": str(ch.get("source_table", "")).strip(),
                      "note": str(ch.get("note", "")).strip()}  # fmt: skip
    if not edits and not errors:
        errors.append(Msg("no change given"))
    if errors:
        raise SinkError(_joined(errors))
    units = {"wood_density": "t/m3", "bef": "-", "root_shoot": "-", "carbon_fraction": "tC/t",
             "volume_increment": "m3/ha/yr", "sequestration_rate": "tCO2/ha/yr"}  # fmt: skip
    rows = []
    for key in sorted(set(current) | set(edits)):
        old = current.get(key)
        e = edits.get(key)
        rows.append(FactorRow(
            carrier=key[0], parameter=key[1], value=e["value"] if e else old.value,  # type: ignore[union-attr]
            unit=old.unit if old else units[key[1]], region="", year=None,
            source_table=e["source_table"] if e else old.source_table,  # type: ignore[union-attr]
            status=e["status"] if e else old.status,  # type: ignore[union-attr]
            note=(f"{e['note']} (entered by {by} on {date.today().isoformat()})".strip() if e
                  else (session.get(m.Factor, old.factor_id).note if old else "")),  # type: ignore[union-attr]
            line=0,
        ))  # fmt: skip
    version = str(int(fs.version) + 1) if fs.version.isdigit() else f"{fs.version}.1"
    spec = FactorSetSpec(code=fs.code, version=version, kind=fs.kind, title_zh=fs.title_zh, title_en=fs.title_en,
                         document=fs.document, edition=fs.edition, file="", method=fs.method,
                         effective_from=date.today(), note=f"edited by {by}: {len(edits)} row(s) changed from version {fs.version}",
                         rows=tuple(rows))  # fmt: skip
    sync_factor_sets(session, [spec])
    try:  # the parameters serve every park: the history names the park of whoever edited them
        park_id: int | None = get_park(session).id
    except ParkError:
        park_id = None
    with audit.Changes(session, by, batch, park_id) as hist:
        for key, e in sorted(edits.items()):
            old = current.get(key)
            before = {"value": old.value, "status": old.status, "source_table": old.source_table} if old else None  # fmt: skip
            after = {"value": e["value"], "status": e["status"], "source_table": e["source_table"]}
            hist.record("sink_parameter", f"{set_code}|{key[0]}|{key[1]}", before, after,
                        note=f"version {fs.version} → {version}")  # fmt: skip
    return {"code": fs.code, "version": version, "previous": fs.version, "changed": len(edits)}

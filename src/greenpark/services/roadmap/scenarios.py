"""Scenarios of the carbon-peak roadmap (plan 4.2): the base year from the park's own inventory,
named sets of driver paths with inheritance, deterministic runs, Monte Carlo, checks against the
indicator targets, and LMDI decompositions (history, and scenario against baseline).

The formulas live in :mod:`greenpark.core.scenario` and :mod:`greenpark.core.lmdi`; this module
picks inputs (inventory, factor sets, forest sink), resolves the driver paths and records lineage.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

import numpy as np
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.core import lmdi
from greenpark.core import scenario as core
from greenpark.core.intensity import average_annual_reduction_rate
from greenpark.data import DATA_DIR, load_carriers
from greenpark.i18n import N_, Msg, tr
from greenpark.services.carbon.inventory import unit_line
from greenpark.services.carbon.inventory_cache import (
    fingerprint,
    illustrative_years,
    inventory_or_none,
    scope_years,
)
from greenpark.services.carbon.sinks import SinkError, annual_sink
from greenpark.services.park.parks import get_park
from greenpark.store import models as m

SCENARIO_DIR = DATA_DIR / "scenarios"
END_YEAR = 2060
MAX_PATHS = 100_000
#: The plateau band below the peak unless a scenario sets ``plateau_delta`` (the issue's default 3 %).
DEFAULT_PLATEAU_DELTA = 0.03
#: Local renewable electricity that displaces purchased electricity (plan 4.1 绿色能源替代行动).
SOURCES: dict[str, tuple[str, str]] = {
    "pv": ("分布式光伏", "Distributed PV"),
    "wind": ("分散式风电", "Distributed wind"),
    "biomass": ("生物质发电", "Biomass power"),
    "waste_to_energy": ("垃圾焚烧发电", "Waste-to-energy"),
}
DRIVERS = ("gdp", "sector_share", "energy_intensity", "carrier_mix", "emission_factor", "grid_factor",
           "heat_factor", "coal_rate", "local_renewables", "ccus", "sinks")  # fmt: skip
#: Carriers whose CO2 CCUS cannot capture at the point of use.
NOT_CAPTURABLE = ("electricity", "heat", "hydrogen", "biomass")
TOP_KEYS = ("code", "name_zh", "name_en", "parent", "scope", "end_year", "plateau_delta", "note", "calibration",
            "drivers", "uncertainty")  # fmt: skip
FACTORS = ("activity", "structure", "intensity", "mix", "emission_factor", "local_renewables", "ccus")
FACTOR_LABELS: dict[str, str] = {
    "activity": N_("Activity (value added)"),
    "structure": N_("Sector structure"),
    "intensity": N_("Energy intensity"),
    "mix": N_("Carrier mix"),
    "emission_factor": N_("Emission factors (incl. grid)"),
    "local_renewables": N_("Local renewable electricity"),
    "ccus": N_("CCUS"),
}


def _labels(keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """Names of LMDI factors in both languages (the catalogue's), by factor."""
    return {k: {"zh": tr(FACTOR_LABELS[k], "zh"), "en": tr(FACTOR_LABELS[k], "en")} for k in keys}


class ScenarioError(ValueError):
    """A scenario is invalid or cannot be run; ``errors`` lists every problem with its key path."""

    def __init__(self, errors: Sequence[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        # one problem keeps its message (rendered in the reader's language where it is shown)
        super().__init__(self.errors[0] if len(self.errors) == 1 else "; ".join(self.errors))


@functools.cache
def _scenario_carriers() -> dict[str, dict[str, Any]]:
    """Carriers only scenarios bring in (``data/scenarios/carriers.yaml``; read once)."""
    data = yaml.safe_load((SCENARIO_DIR / "carriers.yaml").read_text(encoding="utf-8"))
    return dict(data["carriers"])


@functools.cache
def _inventory_carriers() -> tuple[str, ...]:
    """The inventory's carrier codes (``data/carriers.csv``; read once)."""
    return tuple(c.code for c in load_carriers())


@functools.cache
def _allocation_prior() -> dict[str, dict[str, float]]:
    """The RAS prior of ``data/scenarios/allocation.yaml`` (read once)."""
    return dict(yaml.safe_load((SCENARIO_DIR / "allocation.yaml").read_text(encoding="utf-8"))["prior"])


def _prior_weight(sector: str, carrier: str) -> float:
    """Prior weight of a carrier in a sector: the file's value, its ``*`` entry, else 1 in industry
    (or a single whole-scope sector) and 0 elsewhere."""
    row = _allocation_prior().get(sector, {})
    return float(row.get(carrier, row.get("*", 1.0 if sector in ("industry", "total") else 0.0)))


# ----------------------------------------------------------------------------- the base year


@dataclass
class Base:
    """The scope's base year as the scenario engine sees it (calibrated from the inventory)."""

    scope: str
    scope_name_zh: str
    scope_name_en: str
    year: int
    sectors: tuple[str, ...]
    carriers: tuple[str, ...]
    value_added_10k_yuan: float
    value_added_key: str
    sector_share: np.ndarray
    energy_intensity_tce_per_10k_yuan: np.ndarray  # of the sector's value added
    carrier_share: np.ndarray  # (S, C)
    co2_t_per_tce: np.ndarray  # (C,)
    grid_tco2_per_mwh: float
    heat_tco2_per_gj: float
    coal_rate_kgce_per_kwh: float
    sinks_tco2: float
    energy_tce: float
    co2_t: float
    notes: list[str] = field(default_factory=list)
    lineage: dict[str, Any] = field(default_factory=dict)
    #: CO₂ per tce of carriers a scenario may bring in (scenario carriers, then the inventory method)
    extra_co2_t_per_tce: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope, "scope_name_zh": self.scope_name_zh, "scope_name_en": self.scope_name_en,
            "year": self.year, "sectors": list(self.sectors), "carriers": list(self.carriers),
            "value_added_10k_yuan": self.value_added_10k_yuan, "value_added": self.value_added_key,
            "sector_share": dict(zip(self.sectors, self.sector_share.tolist(), strict=True)),
            "energy_intensity_tce_per_10k_yuan": dict(zip(self.sectors, self.energy_intensity_tce_per_10k_yuan.tolist(), strict=True)),
            "carrier_share": {s: dict(zip(self.carriers, row, strict=True))
                              for s, row in zip(self.sectors, self.carrier_share.tolist(), strict=True)},
            "co2_t_per_tce": dict(zip(self.carriers, self.co2_t_per_tce.tolist(), strict=True)),
            "grid_tco2_per_mwh": self.grid_tco2_per_mwh, "heat_tco2_per_gj": self.heat_tco2_per_gj,
            "coal_rate_kgce_per_kwh": self.coal_rate_kgce_per_kwh, "sinks_tco2": self.sinks_tco2,
            "energy_tce": self.energy_tce, "co2_t": self.co2_t, "notes": self.notes, "lineage": self.lineage,
        }  # fmt: skip


ACTIVITIES = ("gdp", "industrial_value_added", "above_scale_industrial_value_added")


def base_years(session: Session, scope: str) -> list[int]:
    """Years of the scope whose inventory has CO₂ and an activity (GDP or value added): the
    candidates for a base year. Years resting on illustrative data (the demo's continuation) are
    not: a roadmap starts from real data."""
    park = get_park(session)
    made_up = set(illustrative_years(session, park, scope))
    out = []
    for y in scope_years(session, park, scope):
        if y in made_up:
            continue
        inv = inventory_or_none(session, scope, y)
        if inv and inv["totals"].get("co2_t") and any(k in inv["economy"] for k in ACTIVITIES):
            out.append(y)
    return out


_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_LOCK = Lock()


def _data_key(session: Session) -> tuple[Any, ...]:
    """Changes when the records, the factor sets or the forest land change."""
    park = get_park(session)
    stands = session.execute(
        select(func.count(m.ForestStand.id), func.max(m.ForestStand.id), func.sum(m.ForestStand.area_ha),
               func.sum(m.ForestStand.volume_m3_per_ha), func.sum(m.ForestStand.harvest_m3_per_yr))
        .where(m.ForestStand.park_id == park.id)
    ).one()  # fmt: skip
    return (*fingerprint(session, park), tuple(stands))


def _cached(key: tuple[Any, ...], compute: Any) -> Any:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = compute()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return value


def base_year(session: Session, scope: str = "core", year: int | None = None) -> Base:
    """:func:`calibrate_base`, remembered until the data, factor sets or forest land change."""
    base: Base = _cached(
        ("base", *_data_key(session), scope, year), lambda: calibrate_base(session, scope, year)
    )
    return copy.deepcopy(base)


def calibrate_base(session: Session, scope: str = "core", year: int | None = None) -> Base:
    """Calibrate the base year from the inventory of ``scope`` (default: its latest year with CO₂).

    Sector value added: the scope's GDP is the activity G; industry's share is (above-scale)
    industrial value added ÷ GDP; the other sectors share the rest of GDP in proportion to their
    energy (so they start with one common intensity: an assumption, stated in the notes). When the
    inventory has no carrier × sector matrix it is estimated by RAS from ``data/scenarios/allocation.yaml``.
    """
    years = base_years(session, scope)
    if not years:
        raise ScenarioError(
            Msg(
                "scope {scope} has no inventory year with CO₂ and GDP to start a scenario from",
                scope=repr(scope),
            )
        )
    y = year if year is not None else years[-1]
    if y not in years:
        raise ScenarioError(Msg("{scope} {year} has no CO₂ inventory with GDP; years with both: {years}", scope=scope,
                                year=y, years=", ".join(map(str, years))))  # fmt: skip
    inv = inventory_or_none(session, scope, y)
    assert inv is not None
    notes: list[str] = []
    carriers_in = [c for c in inv["by_carrier"] if c["energy_tce_calorific"] > 0]
    carriers = tuple(c["carrier"] for c in carriers_in)
    c_tce = np.array([c["energy_tce_calorific"] for c in carriers_in])
    c_co2 = np.array([c["co2_t"] for c in carriers_in])
    ef = c_co2 / c_tce
    sectors_in = [s for s in inv["by_sector"] if s["energy_tce_calorific"] > 0]
    if sectors_in:
        sectors = tuple(s["sector"] for s in sectors_in)
        s_tce = np.array([s["energy_tce_calorific"] for s in sectors_in])
    else:
        sectors, s_tce = ("total",), np.array([c_tce.sum()])
        notes.append("no sector breakdown: one sector for the whole scope")
    if inv.get("by_sector_carrier"):
        mat = np.zeros((len(sectors), len(carriers)))
        for cell in inv["by_sector_carrier"]:
            if cell["sector"] in sectors and cell["carrier"] in carriers:
                mat[sectors.index(cell["sector"]), carriers.index(cell["carrier"])] += cell[
                    "energy_tce_calorific"
                ]
        allocation = "inventory carrier × sector records"
    else:
        scale = c_tce.sum() / s_tce.sum()
        if abs(scale - 1) > 1e-6:
            notes.append(f"sector totals scaled by {scale:.6f} to the carrier total before allocation")
        prior = np.array([[_prior_weight(sec, c) for c in carriers] for sec in sectors])
        try:
            mat = core.ras(prior, s_tce * scale, c_tce)
        except ValueError as exc:
            raise ScenarioError(Msg("cannot allocate carriers to sectors for {scope} {year}: {why}", scope=scope, year=y,
                                    why=str(exc))) from None  # fmt: skip
        allocation = (
            "RAS estimate from data/scenarios/allocation.yaml (the inventory has no carrier × sector records)"
        )
        notes.append("carrier × sector split estimated by RAS from the sector and carrier totals")
    e_s = mat.sum(axis=1)
    econ = inv["economy"]
    g_key = next((k for k in ACTIVITIES if k in econ), None)
    if g_key is None:
        raise ScenarioError(
            Msg(
                "{scope} {year} has no GDP or value added: the scenario needs an activity",
                scope=scope,
                year=y,
            )
        )
    g = float(econ[g_key]["value_10k_yuan"])
    iva_key = next(
        (k for k in ("industrial_value_added", "above_scale_industrial_value_added") if k in econ), None
    )
    share = np.zeros(len(sectors))
    if len(sectors) == 1:
        share[:] = 1.0
    elif "industry" in sectors and iva_key and g_key == "gdp" and 0 < econ[iva_key]["value_10k_yuan"] < g:
        i = sectors.index("industry")
        share[i] = float(econ[iva_key]["value_10k_yuan"]) / g
        rest = [k for k in range(len(sectors)) if k != i]
        share[rest] = (1 - share[i]) * e_s[rest] / e_s[rest].sum()
        notes.append(f"industry's share of GDP = {iva_key} ÷ GDP = {share[i]:.4f}; the other sectors share the rest in"
                     " proportion to their energy (one common starting intensity, an assumption)")  # fmt: skip
    else:
        share = e_s / e_s.sum()
        notes.append("no industrial value added below GDP: sector shares of value added set to energy shares")
    intensity = e_s / (g * share)
    mix = mat / e_s[:, None]
    # electricity and heat a scenario may bring in although the base year has none take their
    # factors from the inventory's own method (the profile's grid and heat sets), not constants of ours
    elec = next((c for c in carriers_in if c["carrier"] == "electricity"), None)
    elec_unit, _ = unit_line(session, "electricity", y)
    elec_co2 = float(ef[carriers.index("electricity")]) if elec else float(elec_unit.co2_t or 0.0)
    grid = core.grid_tco2_per_mwh(elec_co2)
    ev, cal = ((elec["energy_tce_equal_value"], elec["energy_tce_calorific"]) if elec and elec.get("energy_tce_equal_value")
               else (elec_unit.tce_equal_value, elec_unit.tce_calorific))  # fmt: skip
    coal_rate = core.coal_rate_kgce_per_kwh(float(ev or 0.0), float(cal))
    heat_co2 = (
        float(ef[carriers.index("heat")])
        if "heat" in carriers
        else float(unit_line(session, "heat", y)[0].co2_t or 0.0)
    )
    heat = core.heat_tco2_per_gj(heat_co2)
    sinks_t = 0.0
    sink_ref: dict[str, Any] | None = None
    try:
        sk = annual_sink(session, y, None if scope == "park" else scope)
        sinks_t, sink_ref = float(sk["removals_tco2"]), {
            "method": sk["method"], "inventory_year": sk["inventory_year"], "parameter_set": sk["parameter_set"],
            "unconfirmed": sk["unconfirmed"], "illustrative": sk["illustrative"]}  # fmt: skip
    except SinkError as exc:
        notes.append(f"no forest sink for {scope}: {exc}")
    zh, en = inv["scope"]["name_zh"], inv["scope"]["name_en"]
    extra = {c: float(v["co2_t_per_tce"]) for c, v in _scenario_carriers().items()}
    for c in _inventory_carriers():
        if c not in carriers and c not in extra and c not in ("electricity", "heat"):
            v = unit_line(session, c, y)[0].co2_t
            if v is not None:
                extra[c] = float(v)
    return Base(
        scope=scope, scope_name_zh=zh, scope_name_en=en, year=y, sectors=sectors, carriers=carriers,
        value_added_10k_yuan=g, value_added_key=g_key, sector_share=share, energy_intensity_tce_per_10k_yuan=intensity,
        carrier_share=mix, co2_t_per_tce=ef, grid_tco2_per_mwh=grid, heat_tco2_per_gj=heat,
        coal_rate_kgce_per_kwh=coal_rate, sinks_tco2=sinks_t, energy_tce=float(c_tce.sum()), co2_t=float(c_co2.sum()),
        notes=notes,
        lineage={"inventory": {"scope": scope, "year": y, "boundary": "all", "co2_t": float(c_co2.sum()),
                               "energy_tce_calorific": float(c_tce.sum()), "factor_sets": inv["factor_sets"]},
                 "allocation": allocation, "value_added": g_key, "industrial_value_added": iva_key,
                 "forest_sink": sink_ref},
        extra_co2_t_per_tce=extra,
    )  # fmt: skip


# ----------------------------------------------------------------------------- scenario specs


def preset_specs() -> list[dict[str, Any]]:
    """The preset scenarios shipped in ``data/scenarios`` (index order)."""
    index = yaml.safe_load((SCENARIO_DIR / "index.yaml").read_text(encoding="utf-8"))
    return [yaml.safe_load((SCENARIO_DIR / f).read_text(encoding="utf-8")) for f in index["presets"]]


def load_presets(session: Session) -> int:
    """Store (or refresh) the preset scenarios; officers' own scenarios are left alone."""
    park = get_park(session)
    n = 0
    for spec in preset_specs():
        sc = session.scalars(
            select(m.Scenario).where(m.Scenario.park_id == park.id, m.Scenario.code == spec["code"])
        ).first() or m.Scenario(park_id=park.id, code=spec["code"])
        body = json.dumps(spec, ensure_ascii=False, sort_keys=True)
        if sc.spec_json != body:
            sc.spec_json, sc.updated_utc = body, m.utcnow()
        sc.name_zh, sc.name_en = spec["name_zh"], spec.get("name_en", "")
        sc.parent_code, sc.preset, sc.note = spec.get("parent", ""), True, spec.get("note", "")
        session.add(sc)
        n += 1
    session.flush()
    return n


def _row(session: Session, code: str) -> m.Scenario:
    park = get_park(session)
    sc = session.scalars(
        select(m.Scenario).where(m.Scenario.park_id == park.id, m.Scenario.code == code)
    ).first()
    if sc is None:
        known = ", ".join(session.scalars(select(m.Scenario.code).where(m.Scenario.park_id == park.id)))
        raise ScenarioError(Msg("unknown scenario {code}; known: {known}", code=repr(code), known=known)
                            if known else Msg("unknown scenario {code}; there are none yet (run greenpark demo)", code=repr(code)))  # fmt: skip
    return sc


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child's drivers over the parent's: nested mappings merge, a path spec replaces wholesale."""
    out = copy.deepcopy(parent)
    for k, v in child.items():
        if isinstance(v, Mapping) and not (set(v) & set(core.PATH_KINDS)) and isinstance(out.get(k), Mapping):
            out[k] = _merge(dict(out[k]), dict(v))
        else:
            out[k] = copy.deepcopy(v)
    return out


def _overlay(parent: dict[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """A spec over its parent's: top-level keys replace, drivers merge (:func:`_merge`), and an own
    ``uncertainty`` list replaces the inherited one."""
    out = {**parent, **{k: v for k, v in own.items() if k not in ("drivers", "uncertainty")}}
    out["drivers"] = _merge(parent.get("drivers", {}), dict(own.get("drivers", {})))
    if "uncertainty" in own:
        out["uncertainty"] = own["uncertainty"]
    return out


def resolved_spec(session: Session, code: str) -> tuple[dict[str, Any], list[str]]:
    """The scenario with everything it inherits: ``(spec, [code, parent, grandparent, …])``."""
    chain: list[m.Scenario] = []
    seen: set[str] = set()
    cur: str = code
    while cur:
        if cur in seen:
            raise ScenarioError(
                Msg(
                    "scenario {code}: inheritance loops through {through}", code=repr(code), through=repr(cur)
                )
            )
        seen.add(cur)
        sc = _row(session, cur)
        chain.append(sc)
        cur = sc.parent_code
    spec: dict[str, Any] = {}
    for sc in reversed(chain):
        spec = _overlay(spec, json.loads(sc.spec_json))
    spec["code"], spec["parent"] = code, chain[0].parent_code
    spec["name_zh"], spec["name_en"] = chain[0].name_zh, chain[0].name_en
    return spec, [sc.code for sc in chain]


def _sector_keys(base: Base, d: Mapping[str, Any], where: str, errors: list[str]) -> None:
    for s in d:
        if s != "*" and s not in base.sectors:
            errors.append(
                Msg(
                    "{key}: unknown sector (the base year has {known})",
                    key=f"{where}.{s}",
                    known=", ".join(base.sectors),
                )
            )


def _carrier_ok(base: Base, c: str) -> bool:
    return c in base.carriers or c in _scenario_carriers() or c in _inventory_carriers()


def validate(spec: Mapping[str, Any], base: Base) -> list[str]:
    """Every problem of a (resolved) spec, each with its key path; empty when it can run."""
    errors: list[str] = []
    for k in spec:
        if k not in TOP_KEYS:
            errors.append(Msg("{key}: unknown key (allowed: {known})", key=k, known=", ".join(TOP_KEYS)))
    end = spec.get("end_year", END_YEAR)
    if not isinstance(end, int) or not base.year < end <= 2100:
        errors.append(Msg("{key}: a year after {year} and not after 2100", key="end_year", year=base.year))
    delta = spec.get("plateau_delta", DEFAULT_PLATEAU_DELTA)
    if not isinstance(delta, int | float) or not 0 <= delta < 1:
        errors.append(Msg("{key}: a fraction between 0 and 1 (e.g. 0.03)", key="plateau_delta"))
    drivers = spec.get("drivers", {})
    if not isinstance(drivers, Mapping):
        return [*errors, Msg("{key}: a mapping", key="drivers")]
    for k in drivers:
        if k not in DRIVERS:
            errors.append(
                Msg("{key}: unknown driver (known: {known})", key=f"drivers.{k}", known=", ".join(DRIVERS))
            )
    for key in ("sector_share", "energy_intensity", "ccus", "carrier_mix"):
        if isinstance(drivers.get(key), Mapping):
            _sector_keys(base, drivers[key], f"drivers.{key}", errors)
        elif key in drivers:
            errors.append(Msg("{key}: a mapping of sector to path", key=f"drivers.{key}"))
    for s, mix in (drivers.get("carrier_mix") or {}).items():
        if not isinstance(mix, Mapping):
            errors.append(Msg("{key}: a mapping of carrier to path", key=f"drivers.carrier_mix.{s}"))
            continue
        for c in mix:
            if not _carrier_ok(base, c):
                errors.append(Msg("{key}: unknown carrier", key=f"drivers.carrier_mix.{s}.{c}"))
    for c in drivers.get("emission_factor") or {}:
        if not _carrier_ok(base, c):
            errors.append(Msg("{key}: unknown carrier", key=f"drivers.emission_factor.{c}"))
        if c in ("electricity", "heat"):
            errors.append(Msg("{key}: use grid_factor / heat_factor", key=f"drivers.emission_factor.{c}"))
    for src in drivers.get("local_renewables") or {}:
        if src not in SOURCES:
            errors.append(
                Msg(
                    "{key}: unknown source (known: {known})",
                    key=f"drivers.local_renewables.{src}",
                    known=", ".join(SOURCES),
                )
            )
    names: Iterable[str] = ()
    if not errors:
        try:
            paths = resolve_paths(base, spec)
            assemble(base, spec, paths)
            names = paths.keys()
        except core.PathError as exc:
            errors.append(str(exc))
        except ScenarioError as exc:
            errors += exc.errors
    unc = spec.get("uncertainty", [])
    if not isinstance(unc, list):
        errors.append(Msg("{key}: a list of {fields}", key="uncertainty", fields="{driver, apply, dist, …}"))
    elif not errors:
        for pos, u in enumerate(unc):
            where = f"uncertainty[{pos}]"
            if not isinstance(u, Mapping):
                errors.append(Msg("{key}: a mapping", key=where))
                continue
            if not _matching(str(u.get("driver", "")), names):
                errors.append(Msg("{key}: {driver} matches no driver path of this scenario", key=f"{where}.driver",
                                  driver=repr(u.get("driver"))))  # fmt: skip
            if u.get("apply") not in ("growth", "scale"):
                errors.append(Msg("{key}: growth or scale", key=f"{where}.apply"))
            try:
                core.draw(u, 1, np.random.default_rng(0), where)
            except core.PathError as exc:
                errors.append(str(exc))
    return errors


def _matching(driver: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if n == driver or n.startswith(driver + ":")] if driver else []


def list_scenarios(session: Session) -> list[dict[str, Any]]:
    park = get_park(session)
    rows = session.scalars(
        select(m.Scenario).where(m.Scenario.park_id == park.id).order_by(m.Scenario.id)
    ).all()
    return [{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "parent": r.parent_code, "preset": r.preset,
             "note": r.note, "created_by": r.created_by, "updated_utc": r.updated_utc.isoformat()} for r in rows]  # fmt: skip


def show(session: Session, code: str) -> dict[str, Any]:
    """A scenario's own spec, the resolved spec it runs with and its inheritance chain."""
    sc = _row(session, code)
    spec, chain = resolved_spec(session, code)
    return {"code": sc.code, "name_zh": sc.name_zh, "name_en": sc.name_en, "parent": sc.parent_code,
            "preset": sc.preset, "own": json.loads(sc.spec_json), "resolved": spec, "chain": chain}  # fmt: skip


def save_scenario(session: Session, code: str, name_zh: str, parent: str, drivers: Mapping[str, Any],
                  uncertainty: list[Any] | None = None, name_en: str = "", note: str = "", by: str = "",
                  end_year: int | None = None, plateau_delta: float | None = None, scope: str | None = None,
                  ) -> m.Scenario:  # fmt: skip
    """Create or replace an officer's scenario (presets cannot be overwritten: save under a new code)."""
    errors = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", code or ""):
        errors.append(
            Msg("{key}: 1-64 lower-case letters, digits, _ . - (starting with a letter or digit)", key="code")
        )
    if not name_zh.strip():
        errors.append(Msg("{key}: required", key="name_zh"))
    park = get_park(session)
    existing = session.scalars(
        select(m.Scenario).where(m.Scenario.park_id == park.id, m.Scenario.code == code)
    ).first()
    if existing is not None and existing.preset:
        errors.append(
            Msg("{key}: {code} is a preset; save your changes under a new code", key="code", code=code)
        )
    if errors:
        raise ScenarioError(errors)
    own: dict[str, Any] = {"drivers": dict(drivers)}
    if uncertainty is not None:
        own["uncertainty"] = list(uncertainty)
    if end_year is not None:
        own["end_year"] = end_year
    if plateau_delta is not None:
        own["plateau_delta"] = plateau_delta
    if scope:
        own["scope"] = scope
    elif not parent:
        own["scope"] = "core"
    sc = existing or m.Scenario(park_id=park.id, code=code)
    old = (sc.spec_json, sc.parent_code, sc.name_zh) if existing else None
    sc.name_zh, sc.name_en, sc.parent_code, sc.note = name_zh, name_en, parent, note
    sc.spec_json, sc.preset, sc.created_by, sc.updated_utc = (
        json.dumps(own, ensure_ascii=False),
        False,
        by,
        m.utcnow(),
    )
    session.add(sc)
    session.flush()
    try:
        spec, _ = resolved_spec(session, code)
        problems = validate(spec, base_year(session, spec.get("scope", "core")))
    except ScenarioError as exc:
        problems = exc.errors
    if problems:
        if old is None:
            session.delete(sc)
        else:
            sc.spec_json, sc.parent_code, sc.name_zh = old
        session.flush()
        raise ScenarioError(problems)
    return sc


def delete_scenario(session: Session, code: str) -> None:
    sc = _row(session, code)
    if sc.preset:
        raise ScenarioError(Msg("{code} is a preset and cannot be deleted", code=code))
    park = get_park(session)
    children = session.scalars(
        select(m.Scenario.code).where(m.Scenario.park_id == park.id, m.Scenario.parent_code == code)
    ).all()
    if children:
        raise ScenarioError(
            Msg("{code} is the parent of {children}", code=code, children=", ".join(children))
        )
    session.delete(sc)
    session.flush()


# ----------------------------------------------------------------------------- paths and inputs


def _years(base: Base, spec: Mapping[str, Any]) -> np.ndarray:
    return np.arange(base.year, int(spec.get("end_year", END_YEAR)) + 1, dtype=np.int64)


def _all_carriers(base: Base, spec: Mapping[str, Any]) -> tuple[str, ...]:
    extra: list[str] = []
    d = spec.get("drivers", {})
    for mix in (d.get("carrier_mix") or {}).values():
        extra += [c for c in mix if c not in base.carriers and c not in extra]
    return base.carriers + tuple(extra)


def _extra_ef(base: Base, carrier: str) -> float:
    if carrier in base.extra_co2_t_per_tce:
        return base.extra_co2_t_per_tce[carrier]
    raise ScenarioError(
        Msg("no CO₂ factor for {carrier}: add it to the inventory's factor sets or give an emission_factor path",
            carrier=carrier)
    )  # fmt: skip


def resolve_paths(base: Base, spec: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every driver path of the scenario as an array over the years, by name
    (``gdp``, ``sector_share:industry``, ``energy_intensity:transport``, ``carrier_mix:industry:electricity``,
    ``emission_factor:natural_gas``, ``grid_factor``, ``heat_factor``, ``coal_rate``, ``local_renewables:pv``,
    ``ccus:industry``, ``sinks``). Monte Carlo perturbs these before :func:`assemble`."""
    yrs = _years(base, spec)
    d = spec.get("drivers", {}) or {}
    out: dict[str, np.ndarray] = {
        "gdp": core.path(yrs, base.value_added_10k_yuan, d.get("gdp"), "drivers.gdp")
    }
    for i, s in enumerate(base.sectors):
        if s in (d.get("sector_share") or {}):
            out[f"sector_share:{s}"] = core.path(yrs, float(base.sector_share[i]), d["sector_share"][s],
                                                 f"drivers.sector_share.{s}")  # fmt: skip
        ei = d.get("energy_intensity") or {}
        out[f"energy_intensity:{s}"] = core.path(yrs, float(base.energy_intensity_tce_per_10k_yuan[i]), ei.get(s, ei.get("*")),
                                                 f"drivers.energy_intensity.{s}")  # fmt: skip
        if out[f"energy_intensity:{s}"].min() <= 0:
            raise core.PathError(f"drivers.energy_intensity.{s}: intensities must stay positive")
        mix = {**(d.get("carrier_mix") or {}).get("*", {}), **(d.get("carrier_mix") or {}).get(s, {})}
        for c, p in mix.items():
            b = float(base.carrier_share[i, base.carriers.index(c)]) if c in base.carriers else 0.0
            out[f"carrier_mix:{s}:{c}"] = core.path(yrs, b, p, f"drivers.carrier_mix.{s}.{c}")
        cc = d.get("ccus") or {}
        if s in cc or "*" in cc:
            out[f"ccus:{s}"] = core.path(yrs, 0.0, cc.get(s, cc.get("*")), f"drivers.ccus.{s}")
            if out[f"ccus:{s}"].min() < 0 or out[f"ccus:{s}"].max() > 1:
                raise core.PathError(f"drivers.ccus.{s}: a captured share between 0 and 1")
    ef = d.get("emission_factor") or {}
    for j, c in enumerate(_all_carriers(base, spec)):
        if c in ("electricity", "heat"):
            continue
        b = float(base.co2_t_per_tce[j]) if c in base.carriers else _extra_ef(base, c)
        out[f"emission_factor:{c}"] = core.path(yrs, b, ef.get(c), f"drivers.emission_factor.{c}")
    for key, b0 in (("grid_factor", base.grid_tco2_per_mwh), ("heat_factor", base.heat_tco2_per_gj),
                    ("coal_rate", base.coal_rate_kgce_per_kwh), ("sinks", base.sinks_tco2)):  # fmt: skip
        out[key] = core.path(yrs, b0, d.get(key), f"drivers.{key}")
        if out[key].min() < 0:
            raise core.PathError(f"drivers.{key}: must not go below 0")
    for src, p in (d.get("local_renewables") or {}).items():
        out[f"local_renewables:{src}"] = core.path(yrs, 0.0, p, f"drivers.local_renewables.{src}")
        if out[f"local_renewables:{src}"].min() < 0:
            raise core.PathError(f"drivers.local_renewables.{src}: must not go below 0")
    return out


def _lead(a: np.ndarray) -> np.ndarray:
    """(T,) → (1, T); (N, T) stays."""
    return a.reshape(1, -1) if a.ndim == 1 else a


def assemble(base: Base, spec: Mapping[str, Any], paths: Mapping[str, np.ndarray]) -> core.Inputs:
    """Inputs of the core model from (possibly perturbed) driver paths: shares are completed and
    normalised here, so a perturbed path keeps every mix summing to 1."""
    yrs = _years(base, spec)
    t = len(yrs)
    carriers = _all_carriers(base, spec)
    given_s = {i: _lead(paths[f"sector_share:{s}"]) for i, s in enumerate(base.sectors)
               if f"sector_share:{s}" in paths}  # fmt: skip
    sector_share = core.shares(base.sector_share, given_s, "drivers.sector_share")
    if sector_share.ndim == 2:
        sector_share = np.broadcast_to(sector_share, (1, t, len(base.sectors)))
    intensity = np.stack(np.broadcast_arrays(*[_lead(paths[f"energy_intensity:{s}"]) for s in base.sectors]),
                         axis=-1)  # fmt: skip
    mixes = []
    for i, s in enumerate(base.sectors):
        b = np.concatenate([base.carrier_share[i], np.zeros(len(carriers) - len(base.carriers))])
        given = {j: _lead(paths[f"carrier_mix:{s}:{c}"]) for j, c in enumerate(carriers)
                 if f"carrier_mix:{s}:{c}" in paths}  # fmt: skip
        sh = core.shares(b, given, f"drivers.carrier_mix.{s}")
        mixes.append(np.broadcast_to(sh, (sh.shape[0] if sh.ndim == 3 else 1, t, len(carriers))))
    carrier_share = np.stack(np.broadcast_arrays(*mixes), axis=2)  # (N,T,S,C)
    ef_cols = []
    for c in carriers:
        if c == "electricity":
            ef_cols.append(core.grid_co2_t_per_tce(_lead(paths["grid_factor"])))
        elif c == "heat":
            ef_cols.append(core.heat_co2_t_per_tce(_lead(paths["heat_factor"])))
        else:
            ef_cols.append(_lead(paths[f"emission_factor:{c}"]))
    ef = np.stack(np.broadcast_arrays(*ef_cols), axis=-1)
    local = sum((_lead(p) for k, p in paths.items() if k.startswith("local_renewables:")), np.zeros((1, t)))
    capturable = np.array([c not in NOT_CAPTURABLE for c in carriers], dtype=float)
    cap_cols = [_lead(paths[f"ccus:{s}"]) if f"ccus:{s}" in paths else np.zeros((1, t)) for s in base.sectors]
    capture = np.stack(np.broadcast_arrays(*cap_cols), axis=-1)[..., None] * capturable
    return core.Inputs(
        years=yrs, sectors=base.sectors, carriers=carriers, value_added_10k_yuan=_lead(paths["gdp"]),
        sector_share=sector_share, energy_intensity_tce_per_10k_yuan=intensity, carrier_share=carrier_share,
        co2_t_per_tce=ef, local_renewables_mwh=np.asarray(local), capture_share=capture,
        sinks_tco2=_lead(paths["sinks"]), coal_rate_kgce_per_kwh=_lead(paths["coal_rate"]),
    )  # fmt: skip


# ----------------------------------------------------------------------------- runs


def _prepare(session: Session, code: str) -> tuple[Base, dict[str, Any], list[str]]:
    spec, chain = resolved_spec(session, code)
    base = base_year(session, spec.get("scope", "core"))
    problems = validate(spec, base)
    if problems:
        raise ScenarioError([Msg("{code}: {problem}", code=code, problem=p) for p in problems])
    return base, spec, chain


def spec_hash(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _indicator(session: Session, code: str, year: int) -> tuple[float | None, float | None]:
    """An indicator's value in ``year`` and its 2025 target value from the registry (None if absent)."""
    from greenpark.services.plan import indicators

    try:
        ind = indicators.get_indicator(session, code)
    except indicators.IndicatorError:
        return None, None
    s = indicators.series(session, ind)
    target = session.scalars(
        select(m.IndicatorTarget.value).where(
            m.IndicatorTarget.indicator_id == ind.id, m.IndicatorTarget.year == indicators.TARGET_YEAR
        )
    ).first()
    return dict(zip(s.years, s.values, strict=True)).get(year), target


def _checks(session: Session, base: Base, proj: core.Projection, inp: core.Inputs, stats: core.PeakStats,
            ) -> list[dict[str, Any]]:  # fmt: skip
    """The scenario against the registry's 2025 targets of indicators 1a and 2 (held in 2030), the
    2030 peak and 2060 neutrality."""
    yrs = [int(y) for y in proj.years]
    out: list[dict[str, Any]] = []
    if "industry" in base.sectors:
        i = base.sectors.index("industry")
        va = inp.value_added_10k_yuan[0] * inp.sector_share[0, :, i]
        e_ind = proj.energy_tce[0, :, i, :].sum(axis=-1)
        c_ind = proj.co2_t[0, :, i, :].sum(axis=-1)
        rel = (e_ind / va) / (e_ind[0] / va[0])
        one, one_target = _indicator(session, "1a", base.year)
        for y in (2025, 2030):
            if y in yrs and one is not None and one_target is not None:
                v = float(one * rel[yrs.index(y)])
                out.append({"indicator": "1a", "year": y, "value": v, "target": one_target, "comparator": "<=",
                            "ok": v <= one_target, "unit": "tce/10^4 yuan",
                            "how": Msg("indicator 1a's {year} value × the scenario's change in industrial energy per value added",
                                       year=base.year)})  # fmt: skip
        _, two_target_pct = _indicator(session, "2", base.year)
        ci = c_ind / va
        for y in (2025, 2030):
            if y in yrs and two_target_pct is not None:
                n = y - base.year
                r_pct = 100 * float(average_annual_reduction_rate(ci[0], ci[yrs.index(y)], n))
                out.append({"indicator": "2", "year": y, "value": r_pct, "target": two_target_pct, "comparator": ">=",
                            "ok": r_pct >= two_target_pct, "unit": "%/yr",
                            "how": Msg("r = 1 − (I_{year}/I_{base})^(1/{n}), I = industrial CO₂ ÷ industrial value added",
                                       year=y, base=base.year, n=n)})  # fmt: skip
    peak = int(stats.peak_year[0])
    out.append({"indicator": "peak_2030", "year": 2030, "value": peak, "target": 2030, "comparator": "<=",
                "ok": bool(stats.peaked[0]) and peak <= 2030, "unit": "year", "how": Msg("carbon peak by 2030 (the national pledge)")})  # fmt: skip
    neutral = int(stats.neutral_year[0])
    out.append({"indicator": "neutral_2060", "year": 2060, "value": neutral if neutral > 0 else None, "target": 2060,
                "comparator": "<=", "ok": 0 < neutral <= 2060, "unit": "year", "how": Msg("carbon neutrality by 2060 (net emissions ≤ 0)")})  # fmt: skip
    return out


def _series(a: np.ndarray) -> list[float]:
    return [float(x) for x in a]


def run(session: Session, code: str) -> dict[str, Any]:
    """A deterministic run: energy (both conventions) and CO₂ by sector and carrier, intensities,
    sinks, net emissions, peak / plateau / neutrality and the checks against the targets."""
    base, spec, chain = _prepare(session, code)
    key = ("run", *_data_key(session), spec_hash(spec), tuple(chain))
    return copy.deepcopy(_cached(key, lambda: evaluate(session, base, spec, chain)))


def preview(session: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run an unsaved spec (the editor's "re-run" before saving); a ``parent`` is resolved first."""
    own = dict(spec)
    parent = own.pop("parent", "") or ""
    if parent:
        resolved, chain = resolved_spec(session, parent)
        merged = _overlay(resolved, own)
        chain = [str(own.get("code", "preview")), *chain]
    else:
        merged, chain = _overlay({}, own), [str(own.get("code", "preview"))]
    merged.setdefault("code", "preview")
    merged.setdefault("name_zh", "预览")
    merged.pop("parent", None)
    base = base_year(session, merged.get("scope", "core"))
    problems = validate(merged, base)
    if problems:
        raise ScenarioError(problems)
    return evaluate(session, base, merged, chain)


def evaluate(session: Session, base: Base, spec: Mapping[str, Any], chain: list[str]) -> dict[str, Any]:
    """The deterministic run of a resolved, valid spec."""
    code = str(spec.get("code", chain[0]))
    paths = resolve_paths(base, spec)
    inp = assemble(base, spec, paths)
    proj = core.project(inp)
    delta = float(spec.get("plateau_delta", DEFAULT_PLATEAU_DELTA))
    st = core.peak_statistics(proj.years, proj.co2_total_t, proj.net_co2_t, delta)
    co2 = proj.co2_total_t[0]
    energy = proj.energy_tce[0].sum(axis=(1, 2))
    gdp = inp.value_added_10k_yuan[0]
    plateau = [int(st.plateau_first[0]), int(st.plateau_last[0])] if st.plateau_first[0] > 0 else None
    by_sector = {s: _series(proj.co2_t[0, :, i, :].sum(axis=-1)) for i, s in enumerate(base.sectors)}
    by_carrier = {c: _series(proj.co2_t[0, :, :, j].sum(axis=-1)) for j, c in enumerate(inp.carriers)}
    energy_sector = {s: _series(proj.energy_tce[0, :, i, :].sum(axis=-1)) for i, s in enumerate(base.sectors)}
    energy_carrier = {
        c: _series(proj.energy_tce[0, :, :, j].sum(axis=-1)) for j, c in enumerate(inp.carriers)
    }
    return {
        "code": code, "name_zh": spec.get("name_zh", code), "name_en": spec.get("name_en", ""), "chain": chain,
        "scope": base.scope, "base_year": base.year,
        "years": [int(y) for y in proj.years], "co2_t": _series(co2), "net_co2_t": _series(proj.net_co2_t[0]),
        "sinks_tco2": _series(proj.sinks_tco2[0]), "captured_tco2": _series(proj.captured_t[0]),
        "co2_gross_t": _series(proj.co2_gross_t[0].sum(axis=(1, 2))),
        "energy_tce_calorific": _series(energy), "energy_tce_equal_value": _series(proj.energy_equal_value_tce[0]),
        "value_added_10k_yuan": _series(gdp), "co2_per_10k_yuan": _series(co2 / gdp),
        "energy_per_10k_yuan": _series(energy / gdp), "purchased_electricity_share": _series(proj.purchased_share[0]),
        "co2_by_sector_t": by_sector, "co2_by_carrier_t": by_carrier, "energy_by_sector_tce": energy_sector,
        "energy_by_carrier_tce": energy_carrier,
        "peak_year": int(st.peak_year[0]), "peak_co2_t": float(st.peak_value[0]), "peaked": bool(st.peaked[0]),
        "plateau": plateau, "plateau_delta": delta,
        "neutral_year": int(st.neutral_year[0]) if st.neutral_year[0] > 0 else None,
        "checks": _checks(session, base, proj, inp, st),
        "electricity_conventions": {"energy_tce_calorific": "当量值 0.1229 kgce/kWh",
                                    "energy_tce_equal_value": "等价值 (coal_rate path, kgce/kWh)"},
        "lineage": {"base": base.as_dict(), "spec_sha256": spec_hash(spec), "spec": spec,
                    "method": "core.scenario.project (sector Kaya identity); core.scenario.peak_statistics"},
    }  # fmt: skip


def montecarlo(session: Session, code: str, n: int = 10_000, seed: int = 2060) -> dict[str, Any]:
    """Monte Carlo over the scenario's ``uncertainty`` entries: ``n`` seeded paths, percentile bands
    (5/25/50/75/95) of emitted and net CO₂, the distribution of the peak year and value,
    P(peak ≤ 2025), P(peak ≤ 2030) and P(net zero by 2060)."""
    if not 1 <= n <= MAX_PATHS:
        raise ScenarioError(Msg("{key}: between 1 and {max}", key="paths", max=MAX_PATHS))
    base, spec, chain = _prepare(session, code)
    out = dict(
        _cached(
            ("mc", *_data_key(session), spec_hash(spec), n, seed),
            lambda: public(simulate(base, spec, n, seed)),
        )
    )
    out.update(code=code, chain=chain, scope=base.scope, base_year=base.year)
    return out


def simulate(base: Base, spec: Mapping[str, Any], n: int, seed: int) -> dict[str, Any]:
    """The Monte Carlo itself (no database): draws, perturbed paths, the model and the statistics."""
    rng = np.random.default_rng(seed)
    paths = resolve_paths(base, spec)
    drawn: list[dict[str, Any]] = []
    for k, u in enumerate(spec.get("uncertainty", []) or []):
        x = core.draw(u, n, rng, f"uncertainty[{k}]")
        names = _matching(str(u["driver"]), paths.keys())
        for name in names:
            p = paths[name]
            paths[name] = core.perturb_growth(p, x) if u["apply"] == "growth" else core.perturb_scale(p, x)
            paths[name] = paths[name].reshape(n, -1)
        drawn.append({"driver": u["driver"], "apply": u["apply"], "dist": u["dist"], "paths": names,
                      "mean": float(x.mean()), "sd": float(x.std())})  # fmt: skip
    if not drawn:
        paths["gdp"] = np.broadcast_to(paths["gdp"], (n, len(paths["gdp"]))).copy()
    inp = assemble(base, spec, paths)
    proj = core.project(inp)
    co2, net = proj.co2_total_t, proj.net_co2_t
    st = core.peak_statistics(proj.years, co2, net, float(spec.get("plateau_delta", DEFAULT_PLATEAU_DELTA)))
    q = (5, 25, 50, 75, 95)
    years = [int(y) for y in proj.years]
    peak_years, counts = np.unique(st.peak_year[st.peaked], return_counts=True)
    return {
        "paths": n, "seed": seed, "drawn": drawn, "years": years, "percentiles": list(q),
        "co2_t": {str(p): _series(b) for p, b in zip(q, core.percentile_bands(co2, q), strict=True)},
        "net_co2_t": {str(p): _series(b) for p, b in zip(q, core.percentile_bands(net, q), strict=True)},
        "peak_year_counts": {str(int(y)): int(c) for y, c in zip(peak_years, counts, strict=True)},
        "not_peaked": int((~st.peaked).sum()),
        "peak_co2_t": {str(p): float(v) for p, v in zip(q, np.percentile(st.peak_value, q), strict=True)},
        "p_peak_by_2025": float((st.peaked & (st.peak_year <= 2025)).mean()),
        "p_peak_by_2030": float((st.peaked & (st.peak_year <= 2030)).mean()),
        "p_neutral_by_2060": float(((st.neutral_year > 0) & (st.neutral_year <= 2060)).mean()),
        "_arrays": {"co2_t": co2, "net_co2_t": net, "peak_year": st.peak_year, "peaked": st.peaked},
    }  # fmt: skip


def public(result: dict[str, Any]) -> dict[str, Any]:
    """A result without its raw arrays (for JSON)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def compare(
    session: Session, codes: list[str], years: tuple[int, ...] = (2025, 2030, 2035, 2060)
) -> dict[str, Any]:
    """Scenarios side by side: the key figures in chosen years and their peak, plateau and neutrality."""
    rows = []
    for code in codes:
        r = run(session, code)
        at = {str(y): {"co2_t": r["co2_t"][r["years"].index(y)], "net_co2_t": r["net_co2_t"][r["years"].index(y)],
                       "energy_tce_calorific": r["energy_tce_calorific"][r["years"].index(y)]}
              for y in years if y in r["years"]}  # fmt: skip
        rows.append({k: r[k] for k in ("code", "name_zh", "name_en", "peak_year", "peaked", "peak_co2_t", "plateau",
                                       "neutral_year", "checks")} | {"at": at, "years": r["years"], "co2_t": r["co2_t"],
                                                                   "net_co2_t": r["net_co2_t"]})  # fmt: skip
    return {"scenarios": rows, "years": list(years)}


# ----------------------------------------------------------------------------- decomposition


def _factor_stack(inp: core.Inputs, proj: core.Projection, k: int) -> np.ndarray:
    """Sub-categories (sector × carrier) × FACTORS of year index ``k`` of a deterministic run."""
    s_n, c_n = len(inp.sectors), len(inp.carriers)
    g = np.full((s_n, c_n), inp.value_added_10k_yuan[0, k])
    s = np.repeat(inp.sector_share[0, k][:, None], c_n, axis=1)
    i = np.repeat(inp.energy_intensity_tce_per_10k_yuan[0, k][:, None], c_n, axis=1)
    mix = inp.carrier_share[0, k]
    u = np.broadcast_to(inp.co2_t_per_tce[0, k], (s_n, c_n))
    p = np.ones((s_n, c_n))
    if "electricity" in inp.carriers:
        p[:, inp.carriers.index("electricity")] = proj.purchased_share[0, k]
    kk = 1.0 - inp.capture_share[0, k]
    return np.stack([a.reshape(-1) for a in (g, s, i, mix, u, p, kk)], axis=1)


def decompose_against(
    session: Session, code: str, against: str = "baseline", year: int = 2030
) -> dict[str, Any]:
    """Additive and multiplicative LMDI of the scenario's emitted CO₂ against another scenario in
    ``year``: which levers make the wedge. Sinks are reported beside it (they are not a factor)."""
    b0, s0, _ = _prepare(session, against)
    b1, s1, _ = _prepare(session, code)
    if b0.scope != b1.scope or b0.year != b1.year:
        raise ScenarioError(Msg("both scenarios must start from the same scope and base year"))
    out = _wedge(b0, s0, b1, s1, [year])
    if not out:
        raise ScenarioError(Msg("{year} is outside the years of both scenarios", year=year))
    return {"code": code, "against": against, **out[0]}


def _wedge(
    b0: Base, s0: Mapping[str, Any], b1: Base, s1: Mapping[str, Any], years: Iterable[int]
) -> list[dict[str, Any]]:
    i0, i1 = assemble(b0, s0, resolve_paths(b0, s0)), assemble(b1, s1, resolve_paths(b1, s1))
    # a common carrier axis: carriers one scenario lacks have zero share there
    carriers = tuple(dict.fromkeys(i0.carriers + i1.carriers))
    i0, i1 = _recarrier(i0, carriers), _recarrier(i1, carriers)
    p0, p1 = core.project(i0), core.project(i1)
    y0, y1 = [int(y) for y in i0.years], [int(y) for y in i1.years]
    out = []
    for y in years:
        if y not in y0 or y not in y1:
            continue
        d = lmdi.decompose(_factor_stack(i0, p0, y0.index(y)), _factor_stack(i1, p1, y1.index(y)), FACTORS)
        out.append({
            "year": y, "against_co2_t": d.value_0, "co2_t": d.value_t, "total_change": d.total_change,
            "total_ratio": d.total_ratio, "additive": dict(zip(FACTORS, d.additive.tolist(), strict=True)),
            "multiplicative": dict(zip(FACTORS, d.multiplicative.tolist(), strict=True)),
            "sinks_change_tco2": float(p1.sinks_tco2[0, y1.index(y)] - p0.sinks_tco2[0, y0.index(y)]),
            "labels": _labels(FACTOR_LABELS),
        })  # fmt: skip
    return out


def _recarrier(inp: core.Inputs, carriers: tuple[str, ...]) -> core.Inputs:
    if carriers == inp.carriers:
        return inp
    idx = [inp.carriers.index(c) if c in inp.carriers else -1 for c in carriers]

    def take(a: np.ndarray, fill: float) -> np.ndarray:
        cols = [a[..., j] if j >= 0 else np.full(a.shape[:-1], fill) for j in idx]
        return np.stack(cols, axis=-1)

    return core.Inputs(
        years=inp.years, sectors=inp.sectors, carriers=carriers, value_added_10k_yuan=inp.value_added_10k_yuan,
        sector_share=inp.sector_share, energy_intensity_tce_per_10k_yuan=inp.energy_intensity_tce_per_10k_yuan,
        carrier_share=take(inp.carrier_share, 0.0), co2_t_per_tce=take(inp.co2_t_per_tce, 1.0),
        local_renewables_mwh=inp.local_renewables_mwh, capture_share=take(inp.capture_share, 0.0),
        sinks_tco2=inp.sinks_tco2, coal_rate_kgce_per_kwh=inp.coal_rate_kgce_per_kwh,
    )  # fmt: skip


def wedge(session: Session, code: str, against: str = "baseline") -> dict[str, Any]:
    """The LMDI effects of the scenario against another for every year after the base year."""
    b0, s0, _ = _prepare(session, against)
    b1, s1, _ = _prepare(session, code)
    years = [int(y) for y in _years(b1, s1)[1:]]
    rows = _wedge(b0, s0, b1, s1, years)
    return {"code": code, "against": against, "years": [r["year"] for r in rows],
            "effects": {f: [r["additive"][f] for r in rows] for f in FACTORS},
            "sinks_change_tco2": [r["sinks_change_tco2"] for r in rows],
            "labels": _labels(FACTOR_LABELS)}  # fmt: skip


def history(session: Session, scope: str = "core") -> dict[str, Any]:
    """The scope's inventory years: energy and CO₂; where a year has energy but no carrier split,
    CO₂ is *estimated* with the CO₂ per tce of the nearest year that has both (and says so); a year
    resting on illustrative data (the demo's continuation) says so too."""
    rows = []
    made_up = set(illustrative_years(session, get_park(session), scope))
    for y in scope_years(session, get_park(session), scope):
        inv = inventory_or_none(session, scope, y)
        if inv is None or not inv["totals"].get("energy_tce_calorific"):
            continue
        rows.append({"year": y, "energy_tce_calorific": inv["totals"]["energy_tce_calorific"],
                     "co2_t": inv["totals"].get("co2_t"), "estimated": False, "illustrative": y in made_up})  # fmt: skip
    known = [r for r in rows if r["co2_t"]]
    for r in rows:
        if not r["co2_t"] and known:
            ref = min(known, key=lambda k: abs(k["year"] - r["year"]))
            r["co2_t"] = r["energy_tce_calorific"] * ref["co2_t"] / ref["energy_tce_calorific"]
            r["estimated"], r["estimated_from"] = True, ref["year"]
    return {"scope": scope, "years": rows}


def history_decomposition(
    session: Session, scope: str = "park", boundary: str = "above_scale"
) -> dict[str, Any]:
    """LMDI of the inventory's CO₂ over its years (chained year on year and over the whole period):
    CO₂ = Σ_j VA × (E/VA) × (E_j/E) × (C_j/E_j) over carriers j (and sectors, where the records
    give carrier × sector)."""
    stacks: list[tuple[int, np.ndarray, list[str]]] = []
    names = ("activity", "intensity", "mix", "emission_factor")
    for y in scope_years(session, get_park(session), scope):
        inv = inventory_or_none(session, scope, y, boundary)
        if inv is None or not inv["totals"].get("co2_t"):
            continue
        econ = inv["economy"]
        key = next((k for k in (("above_scale_industrial_value_added", "industrial_value_added")
                                if boundary == "above_scale" else ("gdp", "industrial_value_added"))
                    if k in econ), None)  # fmt: skip
        if key is None:
            continue
        va = float(econ[key]["value_10k_yuan"])
        cs = [c for c in inv["by_carrier"] if c["energy_tce_calorific"] > 0 and c["co2_t"] is not None]
        e = sum(c["energy_tce_calorific"] for c in cs)
        rows = [
            [va, e / va, c["energy_tce_calorific"] / e, c["co2_t"] / c["energy_tce_calorific"]] for c in cs
        ]
        stacks.append((y, np.array(rows), [c["carrier"] for c in cs]))
    if len(stacks) < 2:
        raise ScenarioError(Msg("{scope} ({boundary}) has fewer than two years with CO₂ and value added", scope=scope,
                                boundary=boundary))  # fmt: skip
    carriers = sorted({c for _, _, cs in stacks for c in cs})

    def aligned(x: np.ndarray, cs: list[str]) -> np.ndarray:
        out = np.zeros((len(carriers), 4))
        out[:, 0], out[:, 1] = x[0, 0], x[0, 1]
        for row, c in zip(x, cs, strict=True):
            out[carriers.index(c)] = row
        # a carrier absent this year: share 0, its factor carried over from a year that has it
        return out

    mats = [aligned(x, cs) for _, x, cs in stacks]
    for k in range(len(carriers)):  # fill the emission factor of absent carriers from a year with it
        have = [mt[k, 3] for mt in mats if mt[k, 2] > 0]
        for mt in mats:
            if mt[k, 2] == 0 and have:
                mt[k, 3] = have[0]
    years = [y for y, _, _ in stacks]
    links = lmdi.chained(mats, names)
    whole = lmdi.decompose(mats[0], mats[-1], names)

    def as_dict(d: lmdi.Decomposition, y0: int, y1: int) -> dict[str, Any]:
        return {"from": y0, "to": y1, "co2_from_t": d.value_0, "co2_to_t": d.value_t, "total_change": d.total_change,
                "total_ratio": d.total_ratio, "additive": dict(zip(names, d.additive.tolist(), strict=True)),
                "multiplicative": dict(zip(names, d.multiplicative.tolist(), strict=True))}  # fmt: skip

    made_up = set(illustrative_years(session, get_park(session), scope))
    return {"scope": scope, "boundary": boundary, "years": years, "carriers": carriers,
            "illustrative_years": [y for y in years if y in made_up],
            "chained": [as_dict(d, years[k], years[k + 1]) for k, d in enumerate(links)],
            "whole": as_dict(whole, years[0], years[-1]),
            "labels": _labels(names)}  # fmt: skip

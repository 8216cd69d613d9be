"""Scenario exchange in the IAMC format (model, scenario, region, variable, unit, years), readable by
``pyam`` and the IIASA scenario explorers: results and the driver paths that produced them, so
that an exported scenario imported again runs to the same results.

Variables: results use the IAMC names (``Emissions|CO2``, ``Final Energy|Electricity``,
``Carbon Sequestration|Land Use|Forest``, ``GDP|MER``); the drivers greenpark needs to re-run a
scenario are under ``Driver|…`` (documented in docs/roadmap.md).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

import numpy as np
from openpyxl import Workbook
from sqlalchemy.orm import Session

from greenpark.core import scenario as core
from greenpark.core.units import GJ_PER_TCE
from greenpark.services.carbon.io import ImportRejected, read_simple_table
from greenpark.services.park.parks import get_park
from greenpark.services.roadmap import scenarios as sc
from greenpark.services.tabular import CellError, csv_text, export_text, workbook_bytes

MODEL = "greenpark"
COLUMNS = ("Model", "Scenario", "Region", "Variable", "Unit")
#: IAMC final-energy groups of greenpark's carriers.
CARRIER_GROUPS = {
    "electricity": "Electricity", "heat": "Heat", "hydrogen": "Hydrogen", "natural_gas": "Gases",
    "lpg": "Gases", "refinery_gas": "Gases", "coke_oven_gas": "Gases", "oil_products": "Liquids",
    "gasoline": "Liquids", "diesel": "Liquids", "kerosene": "Liquids", "fuel_oil": "Liquids",
    "crude_oil": "Liquids", "raw_coal": "Solids|Coal", "washed_coal": "Solids|Coal", "coke": "Solids|Coal",
    "biomass": "Solids|Biomass",
}  # fmt: skip
MT_PER_T = 1e-6
PJ_PER_TCE = GJ_PER_TCE * 1e-6
BILLION_PER_10K_YUAN = 1e-5


def _region(session: Session, scope: str) -> str:
    return f"{get_park(session).code}|{scope}"


def _rows(base: sc.Base, spec: dict[str, Any]) -> list[tuple[str, str, list[float]]]:
    """(variable, unit, values per year) of one resolved scenario: drivers and results."""
    paths = sc.resolve_paths(base, spec)
    inp = sc.assemble(base, spec, paths)
    proj = core.project(inp)
    out: list[tuple[str, str, list[float]]] = []

    def put(var: str, unit: str, values: np.ndarray) -> None:
        out.append((var, unit, [float(v) for v in np.asarray(values).reshape(-1)]))

    # drivers (what a re-run needs)
    put("GDP|MER", "billion CNY/yr", inp.value_added_10k_yuan[0] * BILLION_PER_10K_YUAN)
    for i, s in enumerate(inp.sectors):
        name = s.capitalize()
        put(f"Driver|Sector Share|{name}", "-", inp.sector_share[0, :, i])
        put(f"Driver|Energy Intensity|{name}", "tce/10^4 CNY", inp.energy_intensity_tce_per_10k_yuan[0, :, i])
        for j, c in enumerate(inp.carriers):
            put(f"Driver|Carrier Share|{name}|{c}", "-", inp.carrier_share[0, :, i, j])
        put(f"Driver|CCUS Share|{name}", "-", paths.get(f"ccus:{s}", np.zeros(len(inp.years))))
    for c in inp.carriers:
        if c not in ("electricity", "heat"):
            put(f"Driver|Emission Factor|{c}", "t CO2/tce", paths[f"emission_factor:{c}"])
    put("Driver|Grid Factor", "t CO2/MWh", paths["grid_factor"])
    put("Driver|Heat Factor", "t CO2/GJ", paths["heat_factor"])
    put("Driver|Coal Rate", "kgce/kWh", paths["coal_rate"])
    for k, p in paths.items():
        if k.startswith("local_renewables:"):
            put(f"Driver|Local Renewables|{k.split(':', 1)[1]}", "MWh/yr", p)
    put("Carbon Sequestration|Land Use|Forest", "Mt CO2/yr", proj.sinks_tco2[0] * MT_PER_T)
    # results
    put("Emissions|CO2", "Mt CO2/yr", proj.co2_total_t[0] * MT_PER_T)
    put("Emissions|CO2|Net", "Mt CO2/yr", proj.net_co2_t[0] * MT_PER_T)
    put("Carbon Capture", "Mt CO2/yr", proj.captured_t[0] * MT_PER_T)
    for i, s in enumerate(inp.sectors):
        put(
            f"Emissions|CO2|Energy|Demand|{s.capitalize()}",
            "Mt CO2/yr",
            proj.co2_t[0, :, i, :].sum(axis=-1) * MT_PER_T,
        )
    put("Final Energy", "PJ/yr", proj.energy_tce[0].sum(axis=(1, 2)) * PJ_PER_TCE)
    put("Final Energy|Equal Value", "PJ/yr", proj.energy_equal_value_tce[0] * PJ_PER_TCE)
    groups: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(inp.years)))
    for j, c in enumerate(inp.carriers):
        groups[CARRIER_GROUPS.get(c, "Other")] = groups[CARRIER_GROUPS.get(c, "Other")] + proj.energy_tce[
            0, :, :, j
        ].sum(axis=-1)
    for g, v in sorted(groups.items()):
        put(f"Final Energy|{g}", "PJ/yr", v * PJ_PER_TCE)
    for i, s in enumerate(inp.sectors):
        put(f"Final Energy|{s.capitalize()}", "PJ/yr", proj.energy_tce[0, :, i, :].sum(axis=-1) * PJ_PER_TCE)
    return out


def export(session: Session, codes: list[str], fmt: str = "csv", long: bool = False) -> bytes:
    """The scenarios in the IAMC template (wide: one column per year; ``long``: year and value
    columns), as CSV or xlsx (sheet ``data``, as pyam writes it)."""
    table: list[list[Any]] = []
    years: list[int] = []
    for code in codes:
        base, spec, _ = sc._prepare(session, code)
        ys = [int(y) for y in sc._years(base, spec)]
        years = sorted(set(years) | set(ys))
        region = _region(session, base.scope)
        for var, unit, values in _rows(base, spec):
            table.append([MODEL, code, region, var, unit, dict(zip(ys, values, strict=True))])
    header: list[Any]
    if long:
        header = [c.lower() for c in COLUMNS] + ["year", "value"]
        body = [[*r[:5], y, v] for r in table for y, v in sorted(r[5].items())]
    else:
        header = [*COLUMNS, *years]
        body = [[*r[:5], *(r[5].get(y) for y in years)] for r in table]
    if fmt == "xlsx":
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "data"
        ws.append(header)
        for row in body:
            ws.append([export_text(v) for v in row])
        return workbook_bytes(wb)
    if fmt != "csv":
        raise sc.ScenarioError("format: csv or xlsx")
    s = io.StringIO()
    w = csv.writer(s, lineterminator="\n")
    w.writerow(header)
    for row in body:
        w.writerow(["" if v is None else repr(v) if isinstance(v, float) else csv_text(v) for v in row])
    return s.getvalue().encode("utf-8")


UNITS = {
    "GDP|MER": "billion CNY/yr", "Driver|Sector Share": "-", "Driver|Energy Intensity": "tce/10^4 CNY",
    "Driver|Carrier Share": "-", "Driver|CCUS Share": "-", "Driver|Emission Factor": "t CO2/tce",
    "Driver|Grid Factor": "t CO2/MWh", "Driver|Heat Factor": "t CO2/GJ", "Driver|Coal Rate": "kgce/kWh",
    "Driver|Local Renewables": "MWh/yr", "Carbon Sequestration|Land Use|Forest": "Mt CO2/yr",
}  # fmt: skip


def read(
    filename: str, content: bytes
) -> dict[tuple[str, str], dict[str, tuple[str, dict[int, float], int]]]:
    """``{(scenario, region): {variable: (unit, {year: value}, row)}}`` from a wide or long IAMC
    table (column names in any case); every bad cell named."""
    rows = read_simple_table(filename, content, ())
    errors: list[CellError] = []
    out: dict[tuple[str, str], dict[str, tuple[str, dict[int, float], int]]] = defaultdict(dict)
    if not rows:
        raise ImportRejected([CellError(filename, "", 2, "", "no data rows")])
    for sheet, i, raw in rows:
        r = {k.strip().lower(): v for k, v in raw.items()}
        for col in ("scenario", "region", "variable", "unit"):
            if not r.get(col):
                errors.append(CellError(filename, sheet, i, col.capitalize(), "required"))
        key = (r.get("scenario", ""), r.get("region", ""))
        var = r.get("variable", "")
        unit, values, _ = out[key].get(var, (r.get("unit", ""), {}, i))
        if "year" in r and "value" in r:
            pairs = [(r["year"], r["value"], "value")]
        else:
            pairs = [(k, v, k) for k, v in r.items() if k.isdigit() and v != ""]
        for y, v, col in pairs:
            try:
                values[int(float(y))] = float(v)
            except ValueError:
                errors.append(CellError(filename, sheet, i, col, f"{v!r} is not a number"))
        out[key][var] = (unit, values, i)
    if errors:
        raise ImportRejected(errors)
    return dict(out)


def import_scenario(session: Session, filename: str, content: bytes, code: str, scenario: str | None = None,
                    name_zh: str = "", by: str = "") -> dict[str, Any]:  # fmt: skip
    """Driver paths from an IAMC file (as :func:`export` writes it, or pyam) become a new scenario
    ``code`` whose drivers are the file's annual values. Result rows in the file are ignored."""
    tables = read(filename, content)
    keys = [k for k in tables if scenario is None or k[0] == scenario]
    if not keys:
        raise ImportRejected(
            [CellError(filename, "", 0, "Scenario", f"no scenario {scenario!r} in the file")]
        )
    if len(keys) > 1:
        raise ImportRejected([CellError(filename, "", 0, "Scenario",
                                        "the file holds several scenarios: choose one (" + ", ".join(k[0] for k in keys) + ")")])  # fmt: skip
    (scen, region), table = keys[0], tables[keys[0]]
    scope = region.split("|", 1)[1] if "|" in region else region
    errors: list[CellError] = []
    drivers: dict[str, Any] = {}

    def vals(values: dict[int, float], factor: float = 1.0) -> dict[str, Any]:
        return {"values": {y: v * factor for y, v in sorted(values.items())}}

    years: set[int] = set()
    for var, (unit, values, row) in table.items():
        head = next((h for h in UNITS if var == h or var.startswith(h + "|")), None)
        if head is None:
            continue  # a result, or a variable greenpark does not drive
        if unit != UNITS[head]:
            errors.append(
                CellError(filename, "", row, "Unit", f"{var} must be in {UNITS[head]!r}, not {unit!r}")
            )
            continue
        years |= set(values)
        parts = var.split("|")
        if head == "GDP|MER":
            drivers["gdp"] = vals(values, 1 / BILLION_PER_10K_YUAN)
        elif head == "Carbon Sequestration|Land Use|Forest":
            drivers["sinks"] = vals(values, 1 / MT_PER_T)
        elif head in ("Driver|Grid Factor", "Driver|Heat Factor", "Driver|Coal Rate"):
            drivers[{"Driver|Grid Factor": "grid_factor", "Driver|Heat Factor": "heat_factor",
                     "Driver|Coal Rate": "coal_rate"}[head]] = vals(values)  # fmt: skip
        elif head == "Driver|Sector Share":
            drivers.setdefault("sector_share", {})[parts[2].lower()] = vals(values)
        elif head == "Driver|Energy Intensity":
            drivers.setdefault("energy_intensity", {})[parts[2].lower()] = vals(values)
        elif head == "Driver|CCUS Share":
            if any(values.values()):
                drivers.setdefault("ccus", {})[parts[2].lower()] = vals(values)
        elif head == "Driver|Carrier Share":
            drivers.setdefault("carrier_mix", {}).setdefault(parts[2].lower(), {})[parts[3]] = vals(values)
        elif head == "Driver|Emission Factor":
            drivers.setdefault("emission_factor", {})[parts[2]] = vals(values)
        elif head == "Driver|Local Renewables":
            drivers.setdefault("local_renewables", {})[parts[2]] = vals(values)
    if "gdp" not in drivers:
        errors.append(CellError(filename, "", 0, "Variable", "GDP|MER is needed (the scenario's activity)"))
    if errors:
        raise ImportRejected(errors)
    saved = sc.save_scenario(
        session, code, name_zh or f"导入：{scen}", "", drivers, None, name_en=f"Imported: {scen}",
        note=f"imported from {filename} (IAMC, scenario {scen}, region {region})", by=by,
        end_year=max(years) if years else None, scope=scope,
    )  # fmt: skip
    return {
        "code": saved.code,
        "from_scenario": scen,
        "region": region,
        "scope": scope,
        "drivers": sorted(drivers),
    }

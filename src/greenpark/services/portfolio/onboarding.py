"""Park onboarding: one workbook holds what a park is — the park and its accounting profile, its
zones, enterprises, indicators with their yearly targets, the plan's tasks and projects, its
environmental monitoring points and the tables its plan publishes — and creates (or updates) the
park from it.

The import rules are the project's: every cell is checked first and a bad one is named by file,
sheet, row and column; nothing is written unless all are right; running it twice changes nothing.
Every record it creates or changes keeps its history (:mod:`greenpark.services.park.audit`, one
batch per workbook). :func:`park_workbook` writes the same workbook back, blank (the template) or
filled with a park's records, so that a park can be exported, edited and imported again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.i18n import N_, Msg
from greenpark.services.park import audit
from greenpark.services.park.parks import PARK_KEY, use_park
from greenpark.services.park.published import published_table, published_tables, save_published_table
from greenpark.services.plan.indicators import METHODS, parse_target_text, report
from greenpark.services.tabular import (
    CellError,
    Col,
    SheetRows,
    SheetSpec,
    TableRejected,
    read_checked_sheets,
    workbook_bytes,
    write_spec_sheet,
)
from greenpark.store import models as m

#: Enterprise tags a workbook may give (Chinese words accepted): 重点用能单位, 重点碳排放单位,
#: 重点排污单位 and its kinds as the 名录 lists them.
TAGS: dict[str, str] = {
    "key_energy_user": "重点用能单位",
    "key_carbon_emitter": "重点碳排放单位",
    "key_polluter": "重点排污单位",
    "key_polluter_water": "水环境重点排污单位",
    "key_polluter_air": "大气环境重点排污单位",
    "key_polluter_soil": "土壤环境污染重点监管单位",
    "key_polluter_noise": "噪声重点排污单位",
}
_TAG_ALIASES = {zh: code for code, zh in TAGS.items()}

PROFILE_LISTS = ("coal_coefficient", "combustion", "grid_sets", "heat", "equal_value")
#: The accounting profile a new park starts from (the template's): national sets of the current
#: editions; the grid factor of the park's region, the latest year not after the inventory's.
DEFAULT_PROFILE: dict[str, str] = {
    "coal_coefficient": "gbt2589-2020",
    "combustion": "provincial-2011",
    "combustion_method": "carbon_content",
    "grid_sets": "grid-mee-nbs-2021-2023",
    "grid_region": "",
    "grid_year": "",
    "heat": "ndrc-industry-heat",
    "equal_value": "cec-coal-rate",
    "reported_tce_basis": "calorific",
    "note_zh": "",
    "note_en": "",
}
PROFILE_HELP: dict[str, str] = {
    "coal_coefficient": N_(
        "factor sets for standard-coal coefficients, in order (the first with a value wins)"
    ),
    "combustion": N_("factor sets for fuel combustion, in order"),
    "combustion_method": N_("carbon_content (NCV × carbon content × oxidation × 44/12) or emission_factor"),
    "grid_sets": N_("factor sets for the grid's CO₂ factor, in order"),
    "grid_region": N_("the grid region of the park (as the grid factor sets name it)"),
    "grid_year": N_("the grid factor's year; empty: the latest year not after the inventory's"),
    "heat": N_("factor sets for purchased heat"),
    "equal_value": N_("factor sets for electricity at equal value (coal rate of power supply)"),
    "reported_tce_basis": N_("calorific or equal_value: how electricity reported only in tce was converted"),
    "note_zh": N_("the accounting note in Chinese"),
    "note_en": N_("the accounting note in English"),
}


@dataclass(frozen=True)
class _Tags(Col):
    """An enterprise's tags, separated by commas (:data:`TAGS`: the codes or their Chinese names);
    stored as the sorted codes."""

    kind: str = "tags"

    def convert(self, t: str, fail: Callable[[str], None]) -> Any:
        tags = []
        for part in t.replace("，", ",").replace("、", ",").split(","):
            p = part.strip()
            if not p:
                continue
            code = _TAG_ALIASES.get(p, p)
            if code not in TAGS:
                fail(
                    Msg("unknown tag {value}; known: {known}", value=repr(p), known=", ".join(TAGS.values()))
                )
                return None
            tags.append(code)
        return ",".join(sorted(set(tags)))


_YEAR_LO, _YEAR_HI = 1949, 2100
SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("park", "园区", N_("the park (one row)"), (
        Col("code", N_("a short code, letters, digits and hyphens (it names the park in commands)"), required=True, max_len=64, kind="code"),
        Col("name_zh", N_("name in Chinese"), required=True),
        Col("name_en", N_("name in English"), required=True),
        Col("province", N_("province (pinyin, e.g. hubei)"), max_len=64),
        Col("grid_region", N_("grid region (e.g. central_china)"), max_len=64),
        Col("area_km2", N_("area in km²"), "number", lo=0, hi=1e6),
        Col("source_ref", N_("where the figures come from (e.g. the plan's section)")),
    ), ("code",)),
    SheetSpec("profile", "核算口径", N_("the accounting profile: one parameter per row"), (
        Col("parameter", N_("parameter"), "choice", required=True, choices=tuple(DEFAULT_PROFILE)),
        Col("value", N_("value"), max_len=2000),
    ), ("parameter",)),
    SheetSpec("zones", "分园", N_("the park's zones (areas, sub-parks)"), (
        Col("code", N_("zone code"), required=True, max_len=64, kind="code"),
        Col("name_zh", N_("name in Chinese"), required=True),
        Col("name_en", N_("name in English"), required=True),
        Col("area_km2", N_("area in km²"), "number", lo=0, hi=1e6),
        Col("note", N_("note"), max_len=2000),
    ), ("code",)),
    SheetSpec("enterprises", "企业", N_("enterprises"), (
        Col("code", N_("enterprise code in greenpark"), required=True, max_len=64, kind="code"),
        Col("name", N_("name"), required=True),
        Col("uscc", N_("unified social credit code (18 characters)"), max_len=18),
        Col("industry_code", N_("industry code (GB/T 4754)"), max_len=8),
        Col("zone", N_("zone code"), max_len=64),
        Col("land_area_mu", N_("land area (mu)"), "number", lo=0, hi=1e7),
        _Tags("tags", N_("tags, separated by commas: 重点用能单位, 重点碳排放单位, 重点排污单位 …"), max_len=400),
        Col("note", N_("note"), max_len=2000),
    ), ("code",)),
    SheetSpec("indicators", "指标", N_("the plan's indicators"), (
        Col("code", N_("indicator code (e.g. 1a, 2)"), required=True, max_len=16, kind="code"),
        Col("seq", N_("number in the plan's table"), "int", lo=0, hi=10_000),
        Col("name_zh", N_("name in Chinese"), required=True),
        Col("name_en", N_("name in English")),
        Col("unit", N_("unit"), max_len=32),
        Col("direction", N_("lower or higher is better"), "choice", required=True, choices=("lower", "higher")),
        Col("kind", N_("binding or expected"), "choice", required=True, choices=("binding", "expected")),
        Col("method", N_("reported, or how greenpark computes it"), "choice", choices=("reported", *METHODS)),
        Col("department", N_("responsible department")),
        Col("baseline_year", N_("baseline year"), "int", lo=_YEAR_LO, hi=_YEAR_HI),
        Col("baseline_value", N_("baseline value"), "number", lo=-1e15, hi=1e15),
        Col("baseline_text", N_("baseline as the plan writes it")),
        Col("source_ref", N_("where the plan gives it")),
        Col("basis_note", N_("the plan's note on the data basis"), max_len=4000),
        Col("flag", N_("a known problem of the plan's figure"), max_len=4000),
    ), ("code",)),
    SheetSpec("targets", "指标目标", N_("the indicators' targets, one per indicator and year"), (
        Col("indicator", N_("indicator code"), required=True, max_len=16),
        Col("year", N_("year"), "int", required=True, lo=_YEAR_LO, hi=_YEAR_HI),
        Col("target", N_("the target as the plan writes it (e.g. <0.38, 0.3, 完成下达目标)"), required=True),
    ), ("indicator", "year")),
    SheetSpec("tasks", "重点任务", N_("the plan's key tasks: group, action, measure"), (
        Col("group_seq", N_("task group number"), "int", required=True, lo=0, hi=10_000),
        Col("task_group", N_("task group"), required=True),
        Col("action_seq", N_("action number"), "int", required=True, lo=0, hi=10_000),
        Col("action", N_("action"), required=True),
        Col("measure_seq", N_("measure number"), "int", required=True, lo=0, hi=10_000),
        Col("measure", N_("measure"), required=True),
        Col("text", N_("text"), max_len=8000),
        Col("departments", N_("responsible departments")),
        Col("source_ref", N_("where the plan gives it"), max_len=64),
    ), ("group_seq", "action_seq", "measure_seq")),
    SheetSpec("projects", "重点项目", N_("the plan's key projects"), (
        Col("seq", N_("project number"), "int", required=True, lo=1, hi=100_000),
        Col("group", N_("task group")),
        Col("name", N_("name"), required=True, max_len=2000),
        Col("owner", N_("owner")),
        Col("cycle_text", N_("construction period as the plan writes it"), max_len=64),
        Col("cycle_years", N_("construction period (years)"), "number", lo=0, hi=100),
        Col("content", N_("content"), max_len=8000),
        Col("investment_text", N_("investment as the plan writes it"), max_len=64),
        Col("investment_10k_yuan", N_("investment (10⁴ yuan)"), "number", lo=0, hi=1e9),
        Col("benefit", N_("benefit"), max_len=8000),
        Col("planned_start", N_("planned start (YYYY-MM-DD)"), "date"),
        Col("flag", N_("a known problem of the plan's row"), max_len=2000),
        Col("note", N_("note"), max_len=2000),
        Col("source_ref", N_("where the plan gives it"), max_len=64),
    ), ("seq",)),
    SheetSpec("points", "监测点位", N_("environmental monitoring points: air stations, water sections, noise zones"), (
        Col("code", N_("point code"), required=True, max_len=64, kind="code"),
        Col("name", N_("name"), required=True),
        Col("kind", N_("air, water or noise"), "choice", required=True, choices=("air", "water", "noise")),
        Col("zone", N_("zone code"), max_len=64),
        Col("water_body", N_("river or lake (water sections)"), "choice", choices=("river", "lake")),
        Col("target_class", N_("target class, GB 3838 I–V (water sections)"), "choice",
            choices=("I", "II", "III", "IV", "V")),
        Col("noise_zone_class", N_("function zone class, GB 3096 0–4b (noise)"), "choice",
            choices=("0", "1", "2", "3", "4a", "4b")),
        Col("latitude", N_("latitude"), "number", lo=-90, hi=90),
        Col("longitude", N_("longitude"), "number", lo=-180, hi=180),
        Col("data_note", N_("what to know about its data"), max_len=2000),
        Col("source_ref", N_("where the plan gives it")),
    ), ("code",)),
    SheetSpec("published", "已发布数据", N_("tables the plan publishes, cell by cell: table, title, row, column, value"), (
        Col("table", N_("table name (letters, digits, _)"), required=True, max_len=64, kind="code"),
        Col("title", N_("the table's title as the plan gives it")),
        Col("source_ref", N_("where the plan gives it")),
        Col("row", N_("row number in the table"), "int", required=True, lo=1, hi=1_000_000),
        Col("column", N_("column name"), required=True, max_len=64),
        Col("value", N_("value as printed"), max_len=4000),
    ), ("table", "row", "column")),
)  # fmt: skip
SPECS = {s.name: s for s in SHEETS}


class ParkWorkbookRejected(TableRejected):
    """An onboarding workbook was refused; nothing was created or changed."""


@dataclass
class OnboardResult:
    park: str
    created: bool
    changed: dict[str, int]
    batch: str

    def as_dict(self) -> dict[str, Any]:
        return {"park": self.park, "created": self.created, "changed": self.changed, "batch": self.batch,
                "unchanged": not any(self.changed.values())}  # fmt: skip


# --------------------------------------------------------------------------- reading and checking


def read_park_workbook(filename: str, content: bytes) -> dict[str, SheetRows]:
    """Every sheet greenpark knows, its cells checked one by one (English or Chinese sheet names);
    :class:`ParkWorkbookRejected` lists every bad cell."""
    out, errors = read_checked_sheets(filename, content, SHEETS, ParkWorkbookRejected)
    if "park" not in out and not errors:
        errors.append(CellError(filename, "", 0, "", Msg("the workbook has no sheet 'park' (园区)")))
    elif "park" in out and len(out["park"].rows) != 1 and not errors:
        errors.append(CellError(filename, out["park"].sheet, 2, "code",
                                Msg("the sheet 'park' needs exactly one row")))  # fmt: skip
    _check_references(filename, out, errors)  # with the cells' errors: every mistake at once
    if errors:
        raise ParkWorkbookRejected(errors)
    return out


def _check_references(filename: str, sheets: dict[str, SheetRows], errors: list[CellError]) -> None:
    """Cross-sheet checks: zones named by enterprises and points, indicators named by targets."""
    zones = sheets["zones"].named if "zones" in sheets else set()
    indicators = sheets["indicators"].named if "indicators" in sheets else set()
    for name in ("enterprises", "points"):
        if name in sheets:
            for row_no, r in sheets[name].rows:
                if r["zone"] and r["zone"] not in zones:
                    errors.append(CellError(filename, sheets[name].sheet, row_no, "zone",
                                            Msg("unknown zone {code} (list it in the sheet 'zones')", code=repr(r["zone"]))))  # fmt: skip
    if "targets" in sheets:
        for row_no, r in sheets["targets"].rows:
            if r["indicator"] not in indicators:
                errors.append(CellError(filename, sheets["targets"].sheet, row_no, "indicator",
                                        Msg("unknown indicator {code} (list it in the sheet 'indicators')",
                                            code=repr(r["indicator"]))))  # fmt: skip


def _profile(session: Session, filename: str, sheets: dict[str, SheetRows], park_row: dict[str, Any],
             current: dict[str, Any] | None, errors: list[CellError]) -> dict[str, Any]:  # fmt: skip
    """The accounting profile as the inventory reads it: the workbook's parameters over the park's
    current profile (or the defaults), every factor set checked against the library."""
    values = dict(DEFAULT_PROFILE)
    if current:
        values.update({k: ", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                       for k, v in current.items() if k in values})  # fmt: skip
        grid = current.get("grid") or {}
        values["grid_sets"] = ", ".join(grid.get("sets", [])) or values["grid_sets"]
        values["grid_region"] = grid.get("region", "") or ""
        values["grid_year"] = "" if grid.get("year") is None else str(grid["year"])
    rows = sheets.get("profile")
    where: dict[str, int] = {}
    if rows is not None:
        for row_no, r in rows.rows:
            values[r["parameter"]] = r["value"] or ""
            where[r["parameter"]] = row_no
    if not values["grid_region"]:
        values["grid_region"] = park_row.get("grid_region") or ""
    known = set(session.scalars(select(m.FactorSet.code)))
    sheet = rows.sheet if rows is not None else "profile"

    def fail(param: str, reason: Msg) -> None:
        errors.append(
            CellError(filename, sheet, where.get(param, 0), "value" if param in where else "", reason)
        )

    lists: dict[str, list[str]] = {}
    for k in PROFILE_LISTS:
        codes = [c.strip() for c in values[k].replace("，", ",").split(",") if c.strip()]
        unknown = [c for c in codes if c not in known]
        if unknown:
            fail(k, Msg("{param}: unknown factor set {code}", param=k, code=", ".join(unknown)))
        if not codes and k != "heat":
            fail(k, Msg("{param}: name at least one factor set", param=k))
        lists[k] = codes
    if values["combustion_method"] not in ("carbon_content", "emission_factor"):
        fail("combustion_method", Msg("{value} is not one of {choices}", value=repr(values["combustion_method"]),
                                      choices="carbon_content, emission_factor"))  # fmt: skip
    if values["reported_tce_basis"] not in ("calorific", "equal_value"):
        fail("reported_tce_basis", Msg("{value} is not one of {choices}", value=repr(values["reported_tce_basis"]),
                                       choices="calorific, equal_value"))  # fmt: skip
    year: int | None = None
    if values["grid_year"]:
        try:
            year = int(float(values["grid_year"]))
        except ValueError:
            fail("grid_year", Msg("{value} is not a whole number", value=repr(values["grid_year"])))
    if not values["grid_region"]:
        fail("grid_region", Msg("give the park's grid region (here or in the sheet 'park')"))
    return {
        "coal_coefficient": lists["coal_coefficient"],
        "combustion": lists["combustion"],
        "combustion_method": values["combustion_method"],
        "grid": {"sets": lists["grid_sets"], "region": values["grid_region"], "year": year},
        "heat": lists["heat"],
        "equal_value": lists["equal_value"],
        "reported_tce_basis": values["reported_tce_basis"],
        "note_zh": values["note_zh"],
        "note_en": values["note_en"],
    }


# --------------------------------------------------------------------------- writing


class _Writer:
    """Creates or updates rows, counting the changed ones by kind and keeping what changed in the
    record history (:class:`~greenpark.services.park.audit.Changes`, one batch per workbook)."""

    def __init__(self, session: Session, by: str, batch: str) -> None:
        self.session = session
        self.history = audit.Changes(session, by, batch)
        self.changed: dict[str, int] = {}

    def save(self, what: str, row: Any, key: str, fields: dict[str, Any], new: bool,
             enterprise_id: int | None = None, zone_id: int | None = None) -> bool:  # fmt: skip
        before = None if new else audit.values(row, fields)
        if before == fields:
            return False
        for k, v in fields.items():
            setattr(row, k, v)
        self.session.add(row)
        self.session.flush()
        if isinstance(row, m.Park):
            self.history.park_id = row.id
        self.history.record(what, key, before, fields, enterprise_id=enterprise_id or (row.id if what == "enterprise" else None),
                            zone_id=zone_id)  # fmt: skip
        self.changed[what] = self.changed.get(what, 0) + 1
        return True


def create_park(
    session: Session, filename: str, content: bytes, by: str = "", only_park: str | None = None
) -> OnboardResult:
    """Create the park the workbook describes, or bring an existing park (same code) up to it.

    All or nothing: :class:`ParkWorkbookRejected` names every bad cell and nothing is written.
    ``only_park``: the code the workbook must carry (a park's own admin updates only that park).
    """
    sheets = read_park_workbook(filename, content)
    errors: list[CellError] = []
    park_row = sheets["park"].rows[0][1]
    code = park_row["code"]
    if only_park is not None and code != only_park:
        raise ParkWorkbookRejected([CellError(filename, sheets["park"].sheet, sheets["park"].rows[0][0], "code",
                                              Msg("you may only update the park {code}", code=only_park))])  # fmt: skip
    park = session.scalars(select(m.Park).where(m.Park.code == code)).first()
    current = json.loads(park.accounting_profile_json or "{}") if park is not None else None
    profile = _profile(session, filename, sheets, park_row, current, errors)
    if errors:
        raise ParkWorkbookRejected(errors)
    batch = audit.file_batch(filename, content)
    created = park is None
    w = _Writer(session, by, batch)
    w.history.park_id = park.id if park else None
    park = park or m.Park(code=code)
    w.save("park", park, code, {
        "name_zh": park_row["name_zh"], "name_en": park_row["name_en"], "province": park_row["province"] or "",
        "grid_region": park_row["grid_region"] or profile["grid"]["region"], "area_km2": park_row["area_km2"],
        "source_ref": park_row["source_ref"] or "",
        "accounting_profile_json": json.dumps(profile, ensure_ascii=False),
    }, created)  # fmt: skip
    zones = {z.code: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
    for _n, r in sheets["zones"].rows if "zones" in sheets else []:
        z = zones.get(r["code"])
        zrow = z or m.Zone(park_id=park.id, code=r["code"])
        w.save("zone", zrow, r["code"], {"name_zh": r["name_zh"], "name_en": r["name_en"],
                                                    "area_km2": r["area_km2"], "note": r["note"] or ""}, z is None)  # fmt: skip
        zones[r["code"]] = zrow
    ents = {e.code: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))}
    for _n, r in sheets["enterprises"].rows if "enterprises" in sheets else []:
        e = ents.get(r["code"])
        erow = e or m.Enterprise(park_id=park.id, code=r["code"])
        w.save("enterprise", erow, r["code"], {
            "name": r["name"], "uscc": r["uscc"] or "", "industry_code": r["industry_code"] or "",
            "zone_id": zones[r["zone"]].id if r["zone"] else None, "land_area_mu": r["land_area_mu"],
            "tags": r["tags"] or "", "note": r["note"] or "",
        }, e is None)  # fmt: skip
    previous = session.info.get(PARK_KEY)
    use_park(session, park.code)  # the plan services below work on the session's park
    try:
        _save_indicators(session, park, sheets, w)
    finally:
        session.info[PARK_KEY] = previous
        if previous is None:
            session.info.pop(PARK_KEY)
    _save_tasks(session, park, sheets, w)
    _save_points(session, park, sheets, zones, w)
    if "published" in sheets:
        tables: dict[str, dict[str, Any]] = {}
        for _n, r in sheets["published"].rows:
            tb = tables.setdefault(r["table"], {"title": "", "ref": "", "rows": {}})
            tb["title"] = tb["title"] or r["title"] or ""
            tb["ref"] = tb["ref"] or r["source_ref"] or ""
            tb["rows"].setdefault(r["row"], {})[r["column"]] = r["value"] or ""
        for name, tb in tables.items():
            rows = [tb["rows"][k] for k in sorted(tb["rows"])]
            before = published_table(session, park.id, name)
            if save_published_table(session, park, name, tb["title"], tb["ref"], rows):
                w.history.record("published_table", name, {"rows": len(before)} if before else None,
                                 {"rows": len(rows), "title": tb["title"]})  # fmt: skip
                w.changed["published_table"] = w.changed.get("published_table", 0) + 1
    w.history.write()
    if any(w.changed.values()):
        park.data_revision = (park.data_revision or 0) + 1
    session.flush()
    return OnboardResult(code, created, {k: v for k, v in w.changed.items() if v}, batch)


def _save_indicators(session: Session, park: m.Park, sheets: dict[str, SheetRows], w: _Writer) -> None:
    inds = {i.code: i for i in session.scalars(select(m.Indicator).where(m.Indicator.park_id == park.id))}
    for _n, r in sheets["indicators"].rows if "indicators" in sheets else []:
        i = inds.get(r["code"])
        row = i or m.Indicator(park_id=park.id, code=r["code"])
        w.save("indicator", row, r["code"], {
            "seq": r["seq"] or 0, "name_zh": r["name_zh"], "name_en": r["name_en"] or "", "unit": r["unit"] or "",
            "direction": r["direction"], "kind": r["kind"], "method": r["method"] or "reported",
            "department": r["department"] or "", "baseline_year": r["baseline_year"],
            "baseline_value": r["baseline_value"], "baseline_text": r["baseline_text"] or "",
            "source_ref": r["source_ref"] or "", "basis_note": r["basis_note"] or "", "flag": r["flag"] or "",
        }, i is None)  # fmt: skip
        inds[r["code"]] = row
    for _n, r in sheets["targets"].rows if "targets" in sheets else []:
        ind = inds[r["indicator"]]
        t = session.scalars(
            select(m.IndicatorTarget).where(
                m.IndicatorTarget.indicator_id == ind.id, m.IndicatorTarget.year == r["year"]
            )
        ).first()
        op, value = parse_target_text(r["target"], ind.direction)
        trow = t or m.IndicatorTarget(indicator_id=ind.id, year=r["year"])
        w.save("indicator_target", trow, f"{ind.code}|{r['year']}",
               {"comparator": op, "value": value, "text": r["target"]}, t is None)  # fmt: skip
    # a reported indicator's published baseline is its value of the baseline year, unless the park
    # already holds one (a department's figure is never overwritten by the plan's)
    for ind in inds.values():
        if ind.method != "reported" or ind.baseline_year is None or ind.baseline_value is None:
            continue
        has = session.scalar(
            select(m.IndicatorValue.id).where(
                m.IndicatorValue.indicator_id == ind.id, m.IndicatorValue.year == ind.baseline_year
            )
        )
        if has is None:
            report(session, ind.code, ind.baseline_year, ind.baseline_value, source=ind.source_ref + " (baseline)",
                   by="plan", batch=w.history.batch, history=w.history)  # fmt: skip
            w.changed["indicator_value"] = w.changed.get("indicator_value", 0) + 1


#: When the plan's projects start unless a row says otherwise: the plan period's first day.
def _plan_start(sheets: dict[str, SheetRows]) -> date:
    years = [r["year"] for _n, r in sheets["targets"].rows] if "targets" in sheets else []
    return date(min(years), 1, 1) if years else date(datetime.now().year, 1, 1)


def _save_tasks(session: Session, park: m.Park, sheets: dict[str, SheetRows], w: _Writer) -> None:
    for _n, r in sheets["tasks"].rows if "tasks" in sheets else []:
        key = (r["group_seq"], r["action_seq"], r["measure_seq"])
        t = session.scalars(
            select(m.PlanMeasure).where(
                m.PlanMeasure.park_id == park.id, m.PlanMeasure.group_seq == key[0],
                m.PlanMeasure.action_seq == key[1], m.PlanMeasure.measure_seq == key[2],
            )
        ).first()  # fmt: skip
        row = t or m.PlanMeasure(park_id=park.id, group_seq=key[0], action_seq=key[1], measure_seq=key[2])
        w.save("plan_measure", row, f"{key[0]}|{key[1]}|{key[2]}", {
            "task_group": r["task_group"], "action": r["action"], "measure": r["measure"], "text": r["text"] or "",
            "departments": r["departments"] or "", "source_ref": r["source_ref"] or "",
        }, t is None)  # fmt: skip
    start = _plan_start(sheets)
    for _n, r in sheets["projects"].rows if "projects" in sheets else []:
        p = session.scalars(
            select(m.Project).where(m.Project.park_id == park.id, m.Project.seq == r["seq"])
        ).first()
        prow = p or m.Project(park_id=park.id, seq=r["seq"])
        planned_start = r["planned_start"] or (p.planned_start if p is not None else None) or start
        fields: dict[str, Any] = {
            "task_group": r["group"] or "", "name": r["name"], "owner": r["owner"] or "",
            "cycle_text": r["cycle_text"] or "", "cycle_years": r["cycle_years"], "content": r["content"] or "",
            "investment_text": r["investment_text"] or "", "investment_10k_yuan": r["investment_10k_yuan"],
            "benefit": r["benefit"] or "", "flag": r["flag"] or "", "note": r["note"] or "",
            "source_ref": r["source_ref"] or "", "planned_start": planned_start,
        }  # fmt: skip
        if r["cycle_years"] and (
            p is None or p.planned_end is None or fields["planned_start"] != p.planned_start
        ):
            fields["planned_end"] = planned_start + timedelta(days=round(365.25 * r["cycle_years"]))
        w.save("project", prow, str(r["seq"]), fields, p is None)


def _save_points(
    session: Session, park: m.Park, sheets: dict[str, SheetRows], zones: dict[str, m.Zone], w: _Writer
) -> None:
    points = {
        p.code: p
        for p in session.scalars(select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id))
    }
    for _n, r in sheets["points"].rows if "points" in sheets else []:
        p = points.get(r["code"])
        row = p or m.MonitoringPoint(park_id=park.id, code=r["code"])
        fields = {
            "name": r["name"], "kind": r["kind"], "zone_id": zones[r["zone"]].id if r["zone"] else None,
            "water_body": r["water_body"], "target_class": r["target_class"],
            "noise_zone_class": r["noise_zone_class"], "latitude": r["latitude"], "longitude": r["longitude"],
            "source_ref": r["source_ref"] or "",
        }  # fmt: skip
        if r["data_note"] is not None or p is None:
            fields["data_note"] = r["data_note"] or ""
        w.save("monitoring_point", row, r["code"], fields, p is None)


# --------------------------------------------------------------------------- the workbook


def _rows_of(session: Session, park: m.Park) -> dict[str, list[dict[str, Any]]]:
    """A park's records in the workbook's columns (what :func:`create_park` reads back)."""
    zone_code = {z.id: z.code for z in park.zones}
    profile = json.loads(park.accounting_profile_json or "{}")
    grid = profile.get("grid") or {}
    prof = {
        **{k: ", ".join(profile.get(k, [])) for k in ("coal_coefficient", "combustion", "heat", "equal_value")},
        "combustion_method": profile.get("combustion_method", ""), "grid_sets": ", ".join(grid.get("sets", [])),
        "grid_region": grid.get("region", ""), "grid_year": "" if grid.get("year") is None else grid["year"],
        "reported_tce_basis": profile.get("reported_tce_basis", ""), "note_zh": profile.get("note_zh", ""),
        "note_en": profile.get("note_en", ""),
    }  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {
        "park": [{"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en, "province": park.province,
                  "grid_region": park.grid_region, "area_km2": park.area_km2, "source_ref": park.source_ref}],
        "profile": [{"parameter": k, "value": prof[k]} for k in DEFAULT_PROFILE],
        "zones": [{"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en, "area_km2": z.area_km2, "note": z.note}
                  for z in park.zones],
        "enterprises": [
            {"code": e.code, "name": e.name, "uscc": e.uscc, "industry_code": e.industry_code,
             "zone": zone_code.get(e.zone_id or 0, ""), "land_area_mu": e.land_area_mu,
             "tags": ", ".join(TAGS.get(t, t) for t in e.tags.split(",") if t), "note": e.note}
            for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id).order_by(m.Enterprise.id))
        ],
    }  # fmt: skip
    inds = list(
        session.scalars(select(m.Indicator).where(m.Indicator.park_id == park.id).order_by(m.Indicator.id))
    )
    out["indicators"] = [{c.name: getattr(i, c.name) for c in SPECS["indicators"].columns} for i in inds]
    out["targets"] = [
        {"indicator": i.code, "year": t.year, "target": t.text}
        for i in inds
        for t in session.scalars(select(m.IndicatorTarget).where(m.IndicatorTarget.indicator_id == i.id).order_by(m.IndicatorTarget.year))
    ]  # fmt: skip
    out["tasks"] = [
        {c.name: getattr(t, c.name) for c in SPECS["tasks"].columns}
        for t in session.scalars(select(m.PlanMeasure).where(m.PlanMeasure.park_id == park.id).order_by(
            m.PlanMeasure.group_seq, m.PlanMeasure.action_seq, m.PlanMeasure.measure_seq))
    ]  # fmt: skip
    out["projects"] = [
        {**{c.name: getattr(p, c.name, None) for c in SPECS["projects"].columns if c.name != "group"}, "group": p.task_group}
        for p in session.scalars(select(m.Project).where(m.Project.park_id == park.id).order_by(m.Project.seq))
    ]  # fmt: skip
    out["points"] = [
        {**{c.name: getattr(p, c.name, None) for c in SPECS["points"].columns if c.name != "zone"},
         "zone": zone_code.get(p.zone_id or 0, "")}
        for p in session.scalars(select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id).order_by(m.MonitoringPoint.id))
    ]  # fmt: skip
    published: list[dict[str, Any]] = []
    for tb in published_tables(session, park.id):
        for k, row in enumerate(published_table(session, park.id, tb["name"]), start=1):
            for j, (col, v) in enumerate(row.items()):
                first = k == 1 and j == 0  # the table's title and source go on its first cell
                published.append({"table": tb["name"], "title": tb["title_zh"] if first else "",
                                  "source_ref": tb["source_ref"] if first else "", "row": k, "column": col,
                                  "value": v})  # fmt: skip
    out["published"] = published
    return out


def park_workbook(session: Session, park: m.Park | None = None, lang: str = "zh") -> bytes:
    """The onboarding workbook: blank (the template, with the default accounting profile) or with
    ``park``'s records, ready to be edited and imported again."""
    rows = (
        _rows_of(session, park)
        if park is not None
        else {"profile": [{"parameter": k, "value": v} for k, v in DEFAULT_PROFILE.items()]}
    )
    return write_workbook(rows, lang)


def write_workbook(rows: dict[str, list[dict[str, Any]]], lang: str = "zh") -> bytes:
    """An onboarding workbook of these rows (sheet name → rows by column), with an instructions
    sheet that says what every column holds; sheets are named in ``lang``."""
    from greenpark.i18n import tr

    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "说明" if lang == "zh" else "instructions"
    info.append([tr("Sheet", lang), tr("Column", lang), tr("What it holds", lang), tr("Required", lang)])
    for c in info[1]:
        c.font = Font(bold=True)
    info.append(
        [
            tr(
                "greenpark park onboarding workbook: fill in the sheets and import it with `greenpark park create` or on the administration page.",
                lang,
            )
        ]
    )
    for spec in SHEETS:
        info.append([spec.title_zh if lang == "zh" else spec.name, "", tr(spec.help, lang), ""])
        for col in spec.columns:
            extra = (
                f" [{', '.join(col.choices)}]"
                if col.choices and col.kind == "choice" and col.name != "parameter"
                else ""
            )
            info.append(["", col.name, tr(col.help, lang) + extra, tr("yes", lang) if col.required else ""])
    for k, help_ in PROFILE_HELP.items():
        info.append([SPECS["profile"].title_zh if lang == "zh" else "profile", k, tr(help_, lang), ""])
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 22
    info.column_dimensions["C"].width = 90
    for spec in SHEETS:
        ws = write_spec_sheet(wb, spec, rows.get(spec.name, []), lang)
        for i, col in enumerate(spec.columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(40, max(10, len(col.name) + 4))
    return workbook_bytes(wb)

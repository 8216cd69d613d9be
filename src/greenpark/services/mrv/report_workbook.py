"""The annual GHG report as an Excel form: greenpark writes it (an instructions sheet, a sheet per
part of the report with drop-down lists, prefilled with the enterprise's identity, the latest
version's lines and the Σ of the monthly evidence as a hint) and reads it back with the project's
import rules — every bad cell named by file, sheet, row and column, nothing stored on any error.

Who: the template, anyone who may read the enterprise's cycle records; the upload, ``report.submit``
(:func:`greenpark.services.mrv.reports.submit_report` decides).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from greenpark.core.units import conversion_factor
from greenpark.i18n import N_, Msg, tr
from greenpark.services import tabular
from greenpark.services.mrv import reports as rp
from greenpark.services.mrv.access import Actor, NotFound, enterprise_in_reach
from greenpark.services.tabular import (
    CellError,
    SheetSpec,
    TableRejected,
    read_checked_sheets,
    workbook_bytes,
    write_spec_sheet,
)
from greenpark.store import models as m


class ReportWorkbookRejected(TableRejected):
    """A report workbook was refused; nothing was stored."""


@dataclass(frozen=True)
class Col(tabular.Col):
    """A column of the report form: a quantity (0 … ``QUANTITY_MAX``) unless it says otherwise; a
    choice is checked against its list only, and a range's bounds are written as %g."""

    kind: str = "number"
    lo: float | None = 0.0
    hi: float | None = rp.QUANTITY_MAX

    free_length: ClassVar[frozenset[str]] = frozenset({"int", "number", "date", "choice"})

    def bound(self, x: float | None) -> str:
        return f"{x:g}"


_SRC = ("measured", "default")
_YEAR = (2000, 2100)


def _specs() -> tuple[SheetSpec, ...]:
    fuels = tuple(rp.fuel_carriers())
    procs = tuple(rp.process_sources())
    return (
        SheetSpec("basic", "基本信息", N_("the reporting enterprise and year (one row)"), (
            Col("enterprise", N_("enterprise code in greenpark (an enterprise user may leave it empty)"), "text", max_len=64),
            Col("name", N_("name (for reading; not imported)"), "info"),
            Col("uscc", N_("unified social credit code (for reading; not imported)"), "info"),
            Col("year", N_("reporting year"), "int", required=True, lo=_YEAR[0], hi=_YEAR[1]),
            Col("contact", N_("contact person and telephone"), "text"),
            Col("guideline", N_("the sector accounting guideline followed"), "text", max_len=64),
            Col("note", N_("note"), "text", max_len=4000),
        )),
        SheetSpec("combustion", "化石燃料燃烧", N_("fuel combustion: one row per fuel"), (
            Col("carrier", N_("fuel (code)"), "choice", required=True, choices=fuels),
            Col("quantity", N_("quantity consumed, in the fuel's unit (t, or 10⁴ Nm³ for gases)"), required=True),
            Col("unit", N_("unit (for reading; the fuel's unit is used)"), "info"),
            Col("ncv_source", N_("low calorific value: measured or default"), "choice", required=True, choices=_SRC),
            Col("ncv_gj_per_unit", N_("low calorific value (GJ per t or per 10⁴ Nm³), when measured"),
                lo=rp.NCV_RANGE[0], hi=rp.NCV_RANGE[1]),
            Col("carbon_content_source", N_("carbon content per heat: measured or default"), "choice", required=True,
                choices=_SRC),
            Col("carbon_content_tc_per_gj", N_("carbon content per heat (tC/GJ), when measured"),
                lo=rp.CARBON_CONTENT_RANGE[0], hi=rp.CARBON_CONTENT_RANGE[1]),
            Col("oxidation_source", N_("oxidation rate: measured or default"), "choice", required=True, choices=_SRC),
            Col("oxidation_fraction", N_("oxidation rate (fraction, e.g. 0.98), when measured"),
                lo=rp.OXIDATION_RANGE[0], hi=rp.OXIDATION_RANGE[1]),
            Col("evidence_sum", N_("hint: the sum of the monthly evidence (not imported)"), "info"),
        )),
        SheetSpec("process", "工业生产过程", N_("process emissions: one row per source"), (
            Col("source", N_("process source (code of the reference list)"), "choice", required=True, choices=procs),
            Col("quantity", N_("activity (t of pure carbonate, t of CO₂ gas …)"), required=True),
            Col("unit", N_("unit (for reading)"), "info"),
            Col("factor_source", N_("emission factor: measured or default"), "choice", required=True, choices=_SRC),
            Col("factor", N_("emission factor (tCO₂ per unit), when measured"), lo=rp.FACTOR_RANGE[0],
                hi=rp.FACTOR_RANGE[1]),
        )),
        SheetSpec("purchased", "购入电力热力", N_("purchased electricity (MWh) and heat (GJ)"), (
            Col("kind", N_("electricity or heat"), "choice", required=True, choices=("electricity", "heat")),
            Col("item", N_("meter or supplier (optional)"), "text", max_len=64),
            Col("quantity", N_("quantity: MWh of electricity, GJ of heat"), required=True),
            Col("unit", N_("unit (for reading)"), "info"),
            Col("factor_source", N_("emission factor: default (electricity always), or measured for heat"), "choice",
                required=True, choices=_SRC),
            Col("factor", N_("heat's emission factor (tCO₂/GJ), when measured"), lo=rp.FACTOR_RANGE[0],
                hi=rp.FACTOR_RANGE[1]),
            Col("evidence_sum", N_("hint: the sum of the monthly evidence (not imported)"), "info"),
        )),
        SheetSpec("output", "产品产量", N_("products and their output"), (
            Col("product", N_("product"), "text", required=True, max_len=64),
            Col("quantity", N_("output"), required=True),
            Col("unit", N_("unit"), "text", required=True, max_len=32),
        )),
    )  # fmt: skip


@dataclass
class ParsedWorkbook:
    enterprise: str
    year: int
    input: rp.ReportInput
    #: (section, index) → (sheet title, row number): where each input row came from
    where: dict[tuple[str, int], tuple[str, int]]
    basic_sheet: str


def read_report_workbook(filename: str, content: bytes) -> ParsedWorkbook:
    """The workbook's cells, each checked (English or Chinese sheet names);
    :class:`ReportWorkbookRejected` names every bad cell."""
    sheets, errors = read_checked_sheets(filename, content, _specs(), ReportWorkbookRejected)
    basic = sheets["basic"].rows if "basic" in sheets else []
    if "basic" not in sheets and not errors:
        errors.append(CellError(filename, "", 0, "", Msg("the workbook has no sheet 'basic' (基本信息)")))
    elif "basic" in sheets and len(basic) != 1 and not errors:
        errors.append(
            CellError(
                filename, sheets["basic"].sheet, 2, "year", Msg("the sheet 'basic' needs exactly one row")
            )
        )
    if errors:
        raise ReportWorkbookRejected(errors)
    b = basic[0][1]
    inp = rp.ReportInput(contact=b["contact"] or "", note=b["note"] or "", guideline=b["guideline"] or "")
    where: dict[tuple[str, int], tuple[str, int]] = {}

    def put(section: str, lst: list[Any], item: Any, sheet: str, row_no: int) -> None:
        where[(section, len(lst))] = (sheets[sheet].sheet, row_no)
        lst.append(item)

    def rows(sheet: str) -> list[tuple[int, dict[str, Any]]]:
        return sheets[sheet].rows if sheet in sheets else []

    for row_no, r in rows("combustion"):
        put("combustion", inp.combustion, rp.CombustionIn(
            r["carrier"], r["quantity"], r["ncv_source"], r["ncv_gj_per_unit"], r["carbon_content_source"],
            r["carbon_content_tc_per_gj"], r["oxidation_source"], r["oxidation_fraction"]), "combustion", row_no)  # fmt: skip
    for row_no, r in rows("process"):
        put("process", inp.process, rp.ProcessIn(r["source"], r["quantity"], r["factor_source"], r["factor"]),
            "process", row_no)  # fmt: skip
    for row_no, r in rows("purchased"):
        p = rp.PurchasedIn(r["quantity"], r["item"] or "", r["factor_source"], r["factor"])
        put(r["kind"], inp.electricity if r["kind"] == "electricity" else inp.heat, p, "purchased", row_no)
    for row_no, r in rows("output"):
        put("output", inp.output, rp.OutputIn(r["product"], r["quantity"], r["unit"]), "output", row_no)
    return ParsedWorkbook(b["enterprise"] or "", b["year"], inp, where, sheets["basic"].sheet)


def submit_workbook(session: Session, actor: Actor, filename: str, content: bytes) -> m.MrvReport:
    """Check a filled report workbook and submit it as the enterprise's next version
    (:class:`ReportWorkbookRejected` naming every bad cell; nothing stored then)."""
    wb = read_report_workbook(filename, content)
    ent_id: int | None = None
    if wb.enterprise:
        with contextlib.suppress(NotFound):
            ent_id = rp.enterprise_by_code(session, actor, wb.enterprise).id
    elif actor.enterprise_id is not None:
        ent_id = actor.enterprise_id
    if ent_id is None:
        reason: str = (Msg("no enterprise {code} that you may report for", code=repr(wb.enterprise)) if wb.enterprise
                  else Msg("is required"))  # fmt: skip
        raise ReportWorkbookRejected([CellError(filename, wb.basic_sheet, 2, "enterprise", reason)])
    try:
        defaults = rp.report_defaults(session, wb.year)
    except ValueError as exc:
        raise ReportWorkbookRejected([CellError(filename, wb.basic_sheet, 2, "year", str(exc))]) from None
    problems = rp.input_problems(wb.input, defaults)
    if problems:
        errors = []
        for section, i, fld, reason in problems:
            sheet, row = wb.where.get((section, i), (wb.basic_sheet, 2))
            errors.append(CellError(filename, sheet, row, fld, reason))
        raise ReportWorkbookRejected(errors)
    return rp.submit_report(session, actor, ent_id, wb.year, wb.input, source="excel", filename=filename,
                            file_sha256=hashlib.sha256(content).hexdigest())  # fmt: skip


# ------------------------------------------------------------------------------ writing

_HINT = PatternFill("solid", fgColor="EEEEEE")


def report_template(session: Session, actor: Actor, enterprise_id: int, year: int, lang: str = "zh") -> bytes:
    """The report form of an enterprise and year, prefilled (identity, the latest version's lines,
    the Σ of the monthly evidence as a hint). Who: anyone who may read the enterprise's records."""
    ent = enterprise_in_reach(session, actor, enterprise_id)
    prev = rp.latest_input(session, ent.id, year)
    hints = rp.evidence_hints(session, ent.id, year)
    fuels = rp.fuel_carriers()
    procs = rp.process_sources()
    rows: dict[str, list[dict[str, Any]]] = {
        "basic": [{"enterprise": ent.code, "name": ent.name, "uscc": ent.uscc, "year": year,
                   "contact": prev.contact if prev else "", "guideline": prev.guideline if prev else "",
                   "note": ""}],
        "combustion": [], "process": [], "purchased": [], "output": [],
    }  # fmt: skip
    if prev is not None:
        for c in prev.combustion:
            rows["combustion"].append(
                {**c.__dict__, "unit": fuels[c.carrier][0] if c.carrier in fuels else ""}
            )
        for p in prev.process:
            rows["process"].append(
                {**p.__dict__, "unit": procs[p.source].activity_unit if p.source in procs else ""}
            )
        for kind, lst, unit in (("electricity", prev.electricity, "MWh"), ("heat", prev.heat, "GJ")):
            for e in lst:
                rows["purchased"].append({"kind": kind, "item": e.item, "quantity": e.quantity, "unit": unit,
                                          "factor_source": e.factor_source, "factor": e.factor})  # fmt: skip
        rows["output"] = [o.__dict__ for o in prev.output]
    listed = {r["carrier"] for r in rows["combustion"]}
    for carrier, total in sorted(hints.items()):
        if carrier in fuels:
            if carrier not in listed:
                rows["combustion"].append({"carrier": carrier, "unit": fuels[carrier][0], "ncv_source": "default",
                                           "carbon_content_source": "default", "oxidation_source": "default"})  # fmt: skip
            for r in rows["combustion"]:
                if r["carrier"] == carrier:
                    r["evidence_sum"] = total
    for kind, unit, carrier_unit in (("electricity", "MWh", "10^4 kWh"), ("heat", "GJ", "GJ")):
        if kind in hints:
            total = hints[kind] * conversion_factor(carrier_unit, unit)
            mine = [r for r in rows["purchased"] if r["kind"] == kind]
            if not mine:
                mine = [{"kind": kind, "unit": unit, "factor_source": "default"}]
                rows["purchased"] += mine
            mine[0]["evidence_sum"] = total
    return _write(rows, lang, ent.name, year)


def _write(rows: dict[str, list[dict[str, Any]]], lang: str, name: str, year: int) -> bytes:
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "说明" if lang == "zh" else "instructions"
    info.append(
        [tr("greenpark annual GHG report form: {enterprise}, {year}", lang, enterprise=name, year=year)]
    )
    info["A1"].font = Font(bold=True)
    info.append([tr("Fill in the sheets and submit the file on the reports page or with `greenpark mrv report submit`. A measured value needs its source in the data quality control plan; a default comes from the factor library and is named on the report. Grey columns are for reading only.", lang)])  # fmt: skip
    info.append([])
    info.append([tr("Sheet", lang), tr("Column", lang), tr("What it holds", lang), tr("Required", lang)])
    for c in info[4]:
        c.font = Font(bold=True)
    specs = _specs()
    for spec in specs:
        info.append([spec.title_zh if lang == "zh" else spec.name, "", tr(spec.help, lang), ""])
        for col in spec.columns:
            info.append(["", col.name, tr(col.help, lang), tr("yes", lang) if col.required else ""])
    info.append([])
    info.append([tr("Process sources", lang)])
    for p in rp.process_sources().values():
        info.append(["", p.code, f"{p.name_zh if lang == 'zh' else p.name_en}: {p.factor:g} {p.factor_unit} "
                                 f"({p.source_document}, {p.source_table}; {p.status})"])  # fmt: skip
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 26
    info.column_dimensions["C"].width = 100
    for spec in specs:
        ws = write_spec_sheet(wb, spec, rows.get(spec.name, []), lang)
        last = 1000
        for i, col in enumerate(spec.columns, start=1):
            letter = ws.cell(1, i).column_letter
            ws.column_dimensions[letter].width = min(30, max(12, len(col.name) + 4))
            if col.kind == "info":
                for cell in ws[letter][1:]:
                    cell.fill = _HINT
            if col.kind == "choice" and len(",".join(col.choices)) < 250:
                dv = DataValidation(
                    type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=not col.required
                )
                dv.error = tr("Choose a value from the list", lang)
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{last}")
    return workbook_bytes(wb)

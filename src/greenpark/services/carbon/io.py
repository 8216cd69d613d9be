"""Excel/CSV in and out: templates, validated all-or-nothing import, inventory export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.i18n import Msg
from greenpark.services import illustrative
from greenpark.services.carbon.inventory import BOUNDARIES, ECONOMIC_INDICATORS, SECTORS
from greenpark.services.carbon.records import (
    ACTIVITY_COLUMNS,
    ECONOMIC_COLUMNS,
    QUALITY,
    TCE_BASES,
    EntityResolver,
    upsert_activity,
    upsert_economic,
    validate_activity,
    validate_economic,
)
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.services.tabular import CellError, TableRejected, export_text, read_sheets, workbook_bytes
from greenpark.store import models as m

SHEETS = {"activity": ACTIVITY_COLUMNS, "economic": ECONOMIC_COLUMNS}
SHEET_TITLES = {"activity": "活动数据 activity", "economic": "经济数据 economic"}
HEADERS_ZH = {
    "entity": "主体",
    "year": "年份",
    "month": "月份",
    "sector": "部门",
    "boundary": "统计范围",
    "carrier": "能源品种",
    "quantity": "实物量",
    "unit": "计量单位",
    "energy_tce": "折标量(tce)",
    "tce_basis": "折标口径",
    "source_ref": "数据来源",
    "quality": "数据质量",
    "note": "备注",
    "indicator": "指标",
    "value_10k_yuan": "数值(万元)",
    "price_basis": "价格口径",
}


class ImportRejected(TableRejected):
    """The file was refused; nothing was imported. ``errors`` names every bad cell."""


@dataclass
class ImportResult:
    filename: str
    batch_id: int | None
    rows: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    already_imported: bool = False


def _sheet_kind(name: str, header: list[str]) -> str | None:
    low = name.lower()
    for kind in SHEETS:
        if kind in low:
            return kind
    cols = set(header)
    if not {"entity", "year"} <= cols:
        return None  # a help or list sheet
    if "carrier" in cols or "energy_tce" in cols:
        return "activity"
    if "indicator" in cols:
        return "economic"
    return None


def read_tables(
    filename: str, content: bytes
) -> list[tuple[str, str, list[str], list[tuple[int, dict[str, Any]]]]]:
    """Rows of every data sheet: (sheet name, kind, header, [(row number, {column: value})])."""
    out = []
    for sh in read_sheets(filename, content, ImportRejected):
        kind = _sheet_kind(sh.title or Path(filename).stem, sh.header)
        if kind is None:
            if not sh.title:  # a CSV file names its kind
                raise ImportRejected([CellError(filename, "", 1, "", Msg(
                    "cannot tell activity from economic data: name the file *activity*.csv or *economic*.csv"))])  # fmt: skip
            continue
        out.append((sh.title, kind, sh.header, sh.records()))
    if not out:
        raise ImportRejected(
            [CellError(filename, "", 0, "", Msg("no sheet named activity or economic (use the template)"))]
        )
    return out


def import_file(
    session: Session,
    filename: str,
    content: bytes,
    *,
    user: m.AppUser | None = None,
    park_code: str | None = None,
) -> ImportResult:
    """Validate every cell, then import all rows in one transaction — or nothing.

    Re-importing the same content changes nothing (rows are keyed by entity, period, sector,
    boundary, carrier and source).
    """
    park = get_park(session, park_code)
    only_enterprise = user.enterprise_id if user is not None and user.role == "enterprise" else None
    tables = read_tables(filename, content)
    only_zone = user.zone_id if user is not None and user.role == "zone_staff" else None
    resolver = EntityResolver(session, park, zone_id=only_zone)
    carriers = {c.code: c for c in session.scalars(select(m.Carrier))}
    errors: list[CellError] = []
    clean: dict[str, list[dict[str, Any]]] = {"activity": [], "economic": []}
    for sheet, kind, header, rows in tables:
        expected = SHEETS[kind]
        unknown = [h for h in header if h and h not in expected]
        for h in unknown:
            errors.append(
                CellError(
                    filename,
                    sheet,
                    1,
                    h,
                    Msg("unknown column; expected {columns}", columns=", ".join(expected)),
                )
            )
        for row_no, raw in rows:
            where = (filename, sheet, row_no)
            if kind == "activity":
                v, errs = validate_activity(raw, resolver, carriers, where, only_enterprise)
            else:
                v, errs = validate_economic(raw, resolver, where, only_enterprise)
            errors += errs
            if v:
                clean[kind].append(v)
    if errors:
        raise ImportRejected(errors)
    digest = hashlib.sha256(content).hexdigest()
    result = ImportResult(filename=filename, batch_id=None, rows={k: len(v) for k, v in clean.items()})
    result.already_imported = (
        session.scalars(select(m.ImportBatch.id).where(m.ImportBatch.sha256 == digest)).first() is not None
    )
    batch = m.ImportBatch(
        filename=Path(filename).name[:400],
        sha256=digest,
        kind="+".join(k for k, v in clean.items() if v) or "empty",
        rows=sum(result.rows.values()),
        user_id=user.id if user else None,
    )
    session.add(batch)
    session.flush()
    # every changed record keeps its history: who, which file (name and digest), old and new values
    by, label = (user.username if user else ""), audit.file_batch(filename, content)
    result.changed["activity"] = upsert_activity(
        session, park, clean["activity"], batch.id, by=by, batch=label
    )
    result.changed["economic"] = upsert_economic(
        session, park, clean["economic"], batch.id, by=by, batch=label
    )
    # real figures of a year replace its illustrative ones
    illustrative.supersede(session, park, audit.Changes(session, by, label, park.id))
    batch.rows_changed = sum(result.changed.values())
    result.batch_id = batch.id
    return result


def template_workbook(session: Session | None = None, park_code: str | None = None) -> bytes:
    """The import template: one sheet per record kind, headers, examples, drop-down lists."""
    wb = Workbook()
    ws0 = wb.active
    assert ws0 is not None
    wb.remove(ws0)
    entities = ["park"]
    carriers = ["natural_gas", "electricity", "diesel"]
    if session is not None:
        park = get_park(session, park_code)
        entities += [
            f"zone:{z.code}" for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))
        ]
        entities += [
            f"enterprise:{e.code}"
            for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))
        ]
        carriers = [c.code for c in session.scalars(select(m.Carrier))]
    lists = wb.create_sheet("lists")
    choices = {
        "entity": entities,
        "sector": list(SECTORS),
        "boundary": list(BOUNDARIES),
        "carrier": carriers,
        "tce_basis": list(TCE_BASES),
        "quality": list(QUALITY),
        "indicator": list(ECONOMIC_INDICATORS),
    }
    for col_no, (name, values) in enumerate(choices.items(), start=1):
        lists.cell(row=1, column=col_no, value=name).font = Font(bold=True)
        for r, v in enumerate(values, start=2):
            lists.cell(row=r, column=col_no, value=v)
    examples = {
        "activity": [
            [
                "park",
                2024,
                None,
                "industry",
                "all",
                "natural_gas",
                120.5,
                "10^4 m3",
                None,
                "calorific",
                "企业能源报表",
                "reported",
                None,
            ],
            [
                "park",
                2024,
                3,
                "industry",
                "all",
                "electricity",
                850.0,
                "10^4 kWh",
                None,
                "calorific",
                "电网抄表",
                "measured",
                None,
            ],
            [
                "park",
                2024,
                None,
                None,
                "all",
                None,
                None,
                None,
                23177.08,
                "calorific",
                "统计局 表X",
                "reported",
                "only the tce total is known",
            ],
        ],
        "economic": [["park", 2024, "industrial_value_added", 3380000, "current", "统计公报", None]],
    }
    fill = PatternFill("solid", fgColor="E8F1FA")
    for kind, cols in SHEETS.items():
        ws = wb.create_sheet(kind, index=len(wb.sheetnames) - 1)
        ws.append(list(cols))
        for c in ws[1]:
            c.font = Font(bold=True)
            c.fill = fill
        for i, col_name in enumerate(cols, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(
                12, len(HEADERS_ZH.get(col_name, col_name)) * 2 + 4
            )
        for row in examples[kind]:
            ws.append(row)
        for col_name, values in choices.items():
            if col_name in cols:
                letter_list = get_column_letter(list(choices).index(col_name) + 1)
                dv = DataValidation(
                    type="list",
                    formula1=f"lists!${letter_list}$2:${letter_list}${len(values) + 1}",
                    allow_blank=True,
                )
                col_letter = get_column_letter(cols.index(col_name) + 1)
                dv.add(f"{col_letter}2:{col_letter}5000")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明 readme", 0)
    for line in (
        "greenpark 导入模板 / import template",
        "每个单元格都会校验；有任一错误时整个文件不导入，并列出文件、工作表、行、列和原因。",
        "Every cell is checked; if any is wrong nothing is imported and each error names file, sheet, row, column and reason.",
        "主体 entity: park / zone:CODE / enterprise:CODE。能源品种留空 = 全部品种合计；部门留空 = 全部部门合计。",
        "Give a quantity with its unit, or energy_tce when the source gives only standard coal. Re-importing the same rows changes nothing.",
        "单位 units: t, 10^4 t, m3, 10^4 m3, kWh, 10^4 kWh, MWh, GJ, tce …",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    return workbook_bytes(wb)


def inventory_workbook(result: dict[str, Any], records: list[dict[str, Any]] | None = None) -> bytes:
    """An inventory (from :func:`compute_inventory`) as an xlsx workbook with its lineage."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "summary"
    t = result["totals"]
    bold = Font(bold=True)
    rows: list[list[Any]] = [
        ["greenpark 能源与碳排放清单 / energy and CO2 inventory"],
        ["范围 scope", f"{result['scope']['name_zh']} ({result['scope']['code']})"],
        ["年份 year", result["year"]],
        ["统计范围 boundary", result["boundary"]],
        ["综合能耗(当量值) energy, calorific [tce]", t["energy_tce_calorific"]],
        ["综合能耗(等价值) energy, equal value [tce]", t["energy_tce_equal_value"]],
        ["二氧化碳 CO2 [t]", t["co2_t"]],
        [],
        ["因子集 factor sets", ", ".join(f"{k} v{v}" for k, v in result["factor_sets"].items())],
    ]
    for k, v in result["intensities"].items():
        rows.append([f"{k} [{v['unit']}]", v["value"]])
    for r in rows:
        ws.append(r)
    ws["A1"].font = bold
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 60
    wc = wb.create_sheet("by_carrier")
    wc.append(
        [
            "carrier",
            "名称",
            "quantity",
            "unit",
            "energy_gj",
            "energy_tce_calorific",
            "energy_tce_equal_value",
            "co2_t",
            "factors (set v. parameter value unit status)",
        ]
    )
    for r in result["by_carrier"]:
        facts = "; ".join(
            f"{f['set_code']} v{f['set_version']} {f['parameter']}={f['value']} {f['unit']} [{f['status']}]"
            for f in r["lineage"]["factors"]
        )
        wc.append(
            [
                r["carrier"],
                r["name_zh"],
                r["quantity"],
                r["unit"],
                r["energy_gj"],
                r["energy_tce_calorific"],
                r["energy_tce_equal_value"],
                r["co2_t"],
                facts,
            ]
        )
    wsec = wb.create_sheet("by_sector")
    wsec.append(["sector", "名称", "energy_tce_calorific", "co2_t", "share_energy"])
    for r in result["by_sector"]:
        wsec.append([r["sector"], r["name_zh"], r["energy_tce_calorific"], r["co2_t"], r["share_energy"]])
    for key in ("by_zone", "by_enterprise"):
        if key in result:
            we = wb.create_sheet(key)
            we.append([key[3:], "energy_tce_calorific", "co2_t"])
            for r in result[key]:
                we.append([export_text(r[key[3:]]), r["energy_tce_calorific"], r["co2_t"]])
    wk = wb.create_sheet("checks")
    wk.append(["severity", "code", "说明", "message"])
    for c in result["checks"]:
        wk.append([c["severity"], c["code"], c["message_zh"], c["message_en"]])
    if records is not None:
        wr = wb.create_sheet("records")
        cols = ["id", *(c for c in ACTIVITY_COLUMNS if c not in ("entity", "note")), "note"]
        wr.append(cols)
        for rec in records:
            wr.append([export_text(rec.get(c)) for c in cols])
    for sheet in wb.worksheets[1:]:
        for c in sheet[1]:
            c.font = bold
    return workbook_bytes(wb)


def read_simple_table(filename: str, content: bytes, required: tuple[str, ...]
                      ) -> list[tuple[str, int, dict[str, str]]]:  # fmt: skip
    """Rows of a one-table file (.csv, or the first sheet of an .xlsx whose header has every
    ``required`` column): ``[(sheet, row number, {column: text})]``. Cells come back as stripped
    text (numbers as Excel stores them, integers without ".0"); a bad file raises ImportRejected."""

    def text(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    sheets = read_sheets(filename, content, ImportRejected)
    for sh in sheets:
        if not set(required) <= set(sh.header):
            continue
        return [(sh.title, i, {h: text(v) for h, v in r.items()}) for i, r in sh.records()]
    if len(sheets) == 1 and not sheets[0].title:  # a CSV file
        missing = [c for c in required if c not in sheets[0].header]
        raise ImportRejected([CellError(filename, "", 1, c, Msg("column missing")) for c in missing])
    raise ImportRejected(
        [
            CellError(
                filename, "", 1, "", Msg("no sheet has the columns {columns}", columns=", ".join(required))
            )
        ]
    )

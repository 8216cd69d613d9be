"""The annual indicator progress report: an Excel workbook (tables and a native chart) and a Word
document (Chinese, each indicator's chart as an image with its reachability paragraph), both
computed from the data at the time of export, so the same data give the same report."""

from __future__ import annotations

import functools
import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from sqlalchemy.orm import Session

from greenpark.i18n import labels, render
from greenpark.services import illustrative
from greenpark.services.carbon.inventory import verified_figures
from greenpark.services.park.parks import get_park
from greenpark.services.plan import indicators, projects
from greenpark.services.tabular import export_text, workbook_bytes

STATUS_ZH = {"met": "达标", "at_risk": "有风险", "missed": "未达标", "no_data": "无数据"}
CONDITION_ZH = {"overdue": "超期", "behind": "滞后", "stalled": "停滞"}
PROJECT_STATUS_ZH = {"not_started": "未开工", "in_progress": "在建", "done": "已完成", "suspended": "暂停"}
VERDICT_ZH = {"on_track": "可实现", "at_risk": "有风险", "off_track": "难以实现", "no_data": "无法评估"}


def report_data(session: Session, year: int | None = None, today: date | None = None) -> dict[str, Any]:
    """Everything the report shows, computed now (the two exports render this). ``year``: default
    the latest year with a target and a value (:func:`indicators.default_year`, as the scorecard);
    histories and reachability use the values up to that year (a report of a year does not show
    later ones). ``illustrative``: whether any figure of the report rests on illustrative data.
    ``verified``: the enterprises whose figures of the year in the inventory are third-party
    verified (the reporting and verification cycle), with their verified totals and statements."""
    park = get_park(session)
    year = year or indicators.default_year(session)
    rows = indicators.evaluate(session, year)
    reach = {r["code"]: r for r in indicators.reachability(session, as_of=year)}
    details = [indicators.detail(session, r["code"], reach=reach.get(r["code"]), as_of=year) for r in rows]
    plist = projects.list_projects(session, today)
    made_up = any(r["illustrative"] for r in rows) or any(d["illustrative_years"] for d in details)
    return {"park": park.name_zh, "year": year, "indicators": rows, "reachability": reach, "details": details,
            "projects": plist, "illustrative": made_up, "verified": verified_figures(session, park.id, year)}  # fmt: skip


def workbook(session: Session, year: int | None = None, today: date | None = None) -> bytes:
    d = report_data(session, year, today)
    year = d["year"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "指标"
    note = f"（注：本年数据为{illustrative.NOTE_ZH}）" if d["illustrative"] else ""
    ws.append([f"{d['park']} 绿色发展规划指标年度进展（{year}年）{note}"])
    ws.append(
        [
            "编号",
            "指标",
            "单位",
            "属性",
            f"{year}年实际",
            f"{year}年目标",
            "状态",
            "2025年可达性",
            "需年均改善",
            "实际年均改善",
            "达标概率",
        ]
    )
    for r in d["indicators"]:
        x = d["reachability"].get(r["code"], {})
        ws.append([r["code"], r["name"], labels.unit(r["unit"], "zh"), "约束性" if r["kind"] == "binding" else "预期性", r["value"],
                   r["target_text"] or None, STATUS_ZH[r["status"]], VERDICT_ZH.get(x.get("verdict", "no_data")),
                   x.get("required_rate"), x.get("observed_rate"), x.get("probability")])  # fmt: skip
    for col, width in zip("ABCDEFGHIJK", (6, 44, 14, 8, 12, 12, 8, 12, 12, 12, 10), strict=True):
        ws.column_dimensions[col].width = width
    text = wb.create_sheet("可达性分析")
    text.append(["编号", "可达性分析（系统生成）"])
    for det in d["details"]:
        text.append([det["code"], det["text"]["zh"]])
    text.column_dimensions["B"].width = 120
    hist = wb.create_sheet("历年数据")
    years = sorted({h["year"] for det in d["details"] for h in det["history"]} | set(range(2021, 2026)))
    hist.append(["编号", *years])
    for det in d["details"]:
        by = {h["year"]: h["value"] for h in det["history"]}
        hist.append([det["code"], *(by.get(y) for y in years)])
    one = next((i for i, det in enumerate(d["details"]) if det["code"] == "1a"), None)
    if one is not None:
        chart = LineChart()
        chart.title = "单位工业增加值综合能耗（核心区规上工业）"
        chart.y_axis.title = "tce/万元"
        chart.add_data(Reference(hist, min_col=2, max_col=len(years) + 1, min_row=one + 2), from_rows=True,
                       titles_from_data=False)  # fmt: skip
        chart.set_categories(Reference(hist, min_col=2, max_col=len(years) + 1, min_row=1))
        hist.add_chart(chart, f"B{len(d['details']) + 4}")
    pj = wb.create_sheet("项目")
    pj.append(["序号", "项目", "建设单位", "总投资（万元）", "计划完成", "状态", "完成%", "预警", "方案标注"])
    for p in d["projects"]:
        pj.append([p["seq"], export_text(p["name"]), export_text(p["owner"]), p["investment_10k_yuan"], p["planned_end"],
                   PROJECT_STATUS_ZH.get(p["status"], p["status"]), p["percent"],
                   "、".join(CONDITION_ZH.get(c, c) for c in p["condition"]), render(p["flag_text"], "zh")])  # fmt: skip
    if d["verified"]:
        vs = wb.create_sheet("核查数据")
        vs.append(
            ["企业代码", "企业", "核查排放量（吨二氧化碳）", "核查机构", "核查声明 SHA-256", "数据来源"]
        )
        for f in d["verified"]:
            vs.append([f["enterprise"], export_text(f["name"]), f["verified_total_co2_t"], export_text(f["body"] or ""),
                       f["statement_sha256"] or "", export_text("; ".join(f["lineage"]))])  # fmt: skip
    return workbook_bytes(wb)


def _chart_png(det: dict[str, Any]) -> bytes:
    import warnings

    with warnings.catch_warnings():  # a glyph a font lacks must not stop a report
        warnings.simplefilter("ignore")
        return _draw(det)


@functools.cache
def _cjk_font() -> str | None:
    """The first installed CJK font matplotlib knows (looked up once), or None."""
    from matplotlib import font_manager

    return next(
        (f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name or "Hei" in f.name), None
    )


def _draw(det: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    cjk = _cjk_font()
    zh = cjk is not None
    with plt.rc_context({"font.sans-serif": [cjk, "DejaVu Sans"]} if cjk else {}):
        return _figure(plt, det, zh)


def _figure(plt: Any, det: dict[str, Any], zh: bool) -> bytes:
    fig, ax = plt.subplots(figsize=(6.0, 2.4), dpi=110)
    hy = [h["year"] for h in det["history"]]
    ax.plot(
        hy,
        [h["value"] for h in det["history"]],
        marker="o",
        color="#2e86c1",
        label="实际" if zh else "actual",
    )
    ty = [(t["year"], t["value"]) for t in det["targets"] if t["value"] is not None]
    if ty:
        ax.plot([y for y, _ in ty], [v for _, v in ty], marker="o", linestyle="--", color="#c0392b",
                label="目标" if zh else "target")  # fmt: skip
    ax.set_title(
        f"{det['code']} {det['name'] if zh else det['name_en']} ({labels.unit(det['unit'], 'zh' if zh else 'en')})",
        fontsize=9,
    )
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def document(session: Session, year: int | None = None, today: date | None = None) -> bytes:
    from docx import Document
    from docx.shared import Cm

    d = report_data(session, year, today)
    year = d["year"]
    doc = Document()
    doc.core_properties.author = "greenpark"
    doc.add_heading(f"{d['park']}绿色发展规划指标年度进展报告（{year}年）", level=0)
    doc.add_paragraph("本报告由 greenpark 根据系统中的数据生成：核算类指标由能源与碳排放清单计算，其余为部门报送；"
                      "可达性按历年变化率与2025年目标测算。")  # fmt: skip
    if d["illustrative"]:
        doc.add_paragraph(
            f"注：本年数据为{illustrative.NOTE_ZH}。本报告中相应数值仅供演示，不得作为实际进展引用。"
        )
    doc.add_heading("一、指标完成情况", level=1)
    table = doc.add_table(rows=1, cols=7)
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, ("编号", "指标", "属性", f"{year}年实际", "目标", "状态", "2025年可达性"),
                          strict=True):  # fmt: skip
        cell.text = text
    for r in d["indicators"]:
        x = d["reachability"].get(r["code"], {})
        cells = table.add_row().cells
        vals = (r["code"], r["name"], "约束性" if r["kind"] == "binding" else "预期性",
                "—" if r["value"] is None else f"{r['value']:.4g}", r["target_text"] or "—", STATUS_ZH[r["status"]],
                VERDICT_ZH.get(x.get("verdict", "no_data"), ""))  # fmt: skip
        for cell, text in zip(cells, vals, strict=True):
            cell.text = text
    doc.add_heading("二、可达性分析", level=1)
    for det in d["details"]:
        doc.add_heading(f"{det['code']} {det['name']}", level=2)
        if det["history"] or any(t["value"] is not None for t in det["targets"]):
            doc.add_picture(io.BytesIO(_chart_png(det)), width=Cm(15))
        doc.add_paragraph(det["text"]["zh"])
        if det["flag"]:
            doc.add_paragraph("注：" + det["flag"].split(" / ")[0])
    doc.add_heading("三、重点项目进展", level=1)
    late = [p for p in d["projects"] if p["condition"]]
    doc.add_paragraph(f"共{len(d['projects'])}个项目，其中已完成{sum(p['status'] == 'done' for p in d['projects'])}个，"
                      f"超期、滞后或停滞{len(late)}个（计划进度按方案起始日推算）。")  # fmt: skip
    for p in late:
        doc.add_paragraph(f"{p['seq']}. {p['name']}（{p['owner']}）：完成{p['percent']:g}%，{'、'.join(CONDITION_ZH.get(c, c) for c in p['condition'])}",
                          style="List Bullet")  # fmt: skip
    if d["verified"]:
        _verified_section(doc, d["verified"], year)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _verified_section(doc: Any, figures: list[dict[str, Any]], year: int) -> None:
    """四、重点碳排放单位核查情况: the enterprises whose figures of the year are third-party verified
    (they replace the estimates in the park's inventory), with the verified total and the statement."""
    doc.add_heading("四、重点碳排放单位核查情况", level=1)
    total = sum(f["verified_total_co2_t"] or 0.0 for f in figures)
    doc.add_paragraph(f"{year}年共{len(figures)}家企业的温室气体排放报告经第三方机构核查通过，核查排放量合计"
                      f"{total:,.0f}吨二氧化碳；其能源消费数据已替代估算数据纳入园区能源与碳排放清单"
                      "（清单按园区核算口径计算二氧化碳，核查排放量按核算指南及当年全国电网排放因子计算）。")  # fmt: skip
    table = doc.add_table(rows=1, cols=4)
    table.style = "Light Grid Accent 1"
    for cell, text in zip(
        table.rows[0].cells, ("企业", "核查排放量（吨二氧化碳）", "核查机构", "核查声明"), strict=True
    ):
        cell.text = text
    for f in figures:
        cells = table.add_row().cells
        vals = (f"{f['name']}（{f['enterprise']}）",
                "—" if f["verified_total_co2_t"] is None else f"{f['verified_total_co2_t']:,.0f}",
                f["body"] or "—", (f["statement_sha256"] or "")[:12] or "; ".join(f["lineage"]))  # fmt: skip
        for cell, text in zip(cells, vals, strict=True):
            cell.text = text

"""The annual indicator report: opens in Excel and Word, says what the scorecard says, and the
same data give the same report."""

from __future__ import annotations

import io

from docx import Document
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from greenpark.services.plan import indicators, report
from greenpark.settings import Settings
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.language import problems
from tests.test_api import login


def _text(content: bytes) -> str:
    d = Document(io.BytesIO(content))
    return "\n".join(p.text for p in d.paragraphs) + "\n".join(
        c.text for t in d.tables for r in t.rows for c in r.cells
    )


def test_xlsx_and_docx(demo_url: str) -> None:
    # the report of 2020 (the plan's data): its reachability uses the values up to 2020 only
    with session_scope(demo_url) as s:
        xlsx = report.workbook(s, 2020)
        docx = report.document(s, 2020)
        again = report.document(s, 2020)
        reach = {r["code"]: r for r in indicators.reachability(s, as_of=2020)}
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["指标", "可达性分析", "历年数据", "项目"]
    rows = list(wb["指标"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == 14 and rows[0][0] == "1a"
    assert rows[0][8] == reach["1a"]["required_rate"]  # the same figure as the scorecard
    assert len(wb["历年数据"]._charts) == 1
    assert wb["项目"].max_row == 21
    d = Document(io.BytesIO(docx))
    assert d.paragraphs[0].text.endswith("指标年度进展报告（2020年）")
    assert len(d.tables[0].rows) == 15 and len(d.inline_shapes) >= 10
    text = _text(docx)
    assert "每年至少下降5.4%" in text and "三、重点项目进展" in text
    assert _text(again) == text  # reproducible from the data


def test_report_download(demo_url: str) -> None:
    with TestClient(create_app(Settings(), database_url=demo_url)) as c:
        assert c.get("/api/indicators/report.xlsx").status_code == 401
        login(c, demo_url, "verifier")
        r = c.get("/api/indicators/report.docx", params={"year": 2021})
        assert r.status_code == 200 and r.headers["content-type"].endswith("wordprocessingml.document")
        assert c.get("/api/indicators/report.pdf").status_code == 422  # only xlsx and docx


def test_reports_read_in_chinese(demo_url: str) -> None:
    """The Word and Excel reports are for a Chinese office: no identifiers, no English words outside
    the proper terms, no ``10^4`` (the language rules of the pages)."""
    with session_scope(demo_url) as s:
        files = {year: (report.document(s, year), report.workbook(s, year)) for year in (2020, None)}
    for year, (docx, xlsx) in files.items():
        d = Document(io.BytesIO(docx))
        texts = [["docx p", p.text] for p in d.paragraphs]
        texts += [["docx table", c.text] for t in d.tables for r in t.rows for c in r.cells]
        wb = load_workbook(io.BytesIO(xlsx))
        texts += [
            [f"xlsx {ws.title}", v] for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
            if isinstance(v, str)
        ]  # fmt: skip
        found = problems("zh", texts)
        assert not found, f"report of {year or 'the latest year'}:\n" + "\n".join(found[:30])

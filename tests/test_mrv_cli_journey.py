"""One year of the reporting and verification cycle from the command line only (issue 13, "Done
when … and from the CLI"): the officer designates, the enterprise files its plan, twelve months of
evidence and its annual report from the generated Excel form, the officer accepts and assigns, the
verifier declares, reviews, visits, raises a non-conformity the enterprise answers, closes it and
concludes; the officer notifies; the verified figure is in the park inventory with its lineage; the
signed statement checks; the tamper-evident log is whole, and a tampered row is caught.

Runs on the demo park (users ``staff``, ``enterprise`` of E01, ``verifier`` of the demo body
``DEMO-VB``) on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.demo_cycle import BODY_CODE
from greenpark.services.mrv.evidence import beijing_today
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope

YEAR = 2025
ENT = "E01"
GAS_PER_MONTH = 25.0  # 10⁴ m³
POWER_PER_MONTH = 150.0  # 10⁴ kWh


@pytest.fixture
def gp(fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    from greenpark.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Any:
        r = runner.invoke(cli_app, list(args))
        if ok:
            assert r.exit_code == 0, (args, r.output)
        return r

    run.url = fresh_demo_url  # type: ignore[attr-defined]
    yield run
    get_settings.cache_clear()


def _json(r: Any) -> Any:
    return json.loads(r.stdout)


def test_one_year_of_the_cycle_from_the_cli(gp: Any, tmp_path: Path) -> None:
    # the officer makes E01 a key carbon emitter of the year (it reports and is verified)
    r = gp("mrv", "designate", "--enterprise", ENT, "--year", str(YEAR), "--kind", "key_carbon_emitter",
           "--reason", "省主管部门名单", "--by", "staff", "--json")  # fmt: skip
    assert _json(r)["decision"] == "designate"
    units = {u["enterprise"]: u for u in _json(gp("mrv", "units", "--year", str(YEAR), "--json"))}
    assert units[ENT]["obligations"], units[ENT]

    # the enterprise files its data quality control plan …
    plan = {
        "guideline": "GB/T 32150-2015",
        "boundary": "厂区全部生产设施",
        "facilities": [{"code": "B1", "name": "燃气锅炉", "location": "动力车间", "sources": "天然气燃烧"}],
        "parameters": [
            {"parameter": "fuel_quantity", "item": "natural_gas", "unit": "10^4 m3", "method": "measured",
             "meter": "燃气表 G-01", "accuracy": "1.0级", "calibration": "2025-01-10", "monitoring_frequency": "连续",
             "recording_frequency": "每月", "missing_data_rule": "取上年同期最大值", "department": "动力部"},
            {"parameter": "purchased_electricity", "item": "grid", "unit": "MWh", "method": "measured",
             "meter": "关口表", "accuracy": "0.5S级", "calibration": "2025-02-01", "monitoring_frequency": "连续",
             "recording_frequency": "每月", "missing_data_rule": "以供电公司结算单为准", "department": "动力部"},
        ],
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    r = gp(
        "mrv",
        "dqcp",
        "file",
        str(tmp_path / "plan.json"),
        "--enterprise",
        ENT,
        "--by",
        "enterprise",
        "--json",
    )
    assert _json(r)["version"] == 1

    # … twelve months of evidence, one with its invoice …
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    for month in range(1, 13):
        extra = ["--file", str(tmp_path / "invoice.pdf")] if month == 1 else []
        gp("mrv", "evidence", "submit", "--enterprise", ENT, "--year", str(YEAR), "--month", str(month),
           "--energy", f"natural_gas={GAS_PER_MONTH}", "--energy", f"electricity={POWER_PER_MONTH}",
           "--by", "enterprise", *extra)  # fmt: skip
    months = _json(gp("mrv", "evidence", "status", "--year", str(YEAR), "--enterprise", ENT, "--json"))
    assert months, months

    # … and its annual report from the Excel form greenpark generates
    form = tmp_path / "report.xlsx"
    gp(
        "mrv",
        "report",
        "template",
        "--enterprise",
        ENT,
        "--year",
        str(YEAR),
        "-o",
        str(form),
        "--by",
        "enterprise",
    )
    wb = load_workbook(form)
    # the form is prefilled with the year's evidence as a hint; the enterprise types its figures
    comb, bought = wb["化石燃料燃烧"], wb["购入电力热力"]
    ch, bh = [c.value for c in comb[1]], [c.value for c in bought[1]]
    assert comb.cell(2, ch.index("carrier") + 1).value == "natural_gas"
    assert comb.cell(2, ch.index("evidence_sum") + 1).value == pytest.approx(12 * GAS_PER_MONTH)
    assert bought.cell(2, bh.index("evidence_sum") + 1).value == pytest.approx(
        12 * POWER_PER_MONTH * 10
    )  # MWh
    comb.cell(2, ch.index("quantity") + 1).value = 12 * GAS_PER_MONTH
    bought.cell(2, bh.index("item") + 1).value = "关口表"
    bought.cell(2, bh.index("quantity") + 1).value = 12 * POWER_PER_MONTH * 10
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    r = gp("mrv", "report", "submit", str(filled), "--by", "enterprise", "--json")
    report = _json(r)
    assert report["version"] == 1 and report["status"] == "submitted", report
    sums = {c["item"]: c["result"] for c in report["checks"] if c["check"] == "evidence_sum"}
    assert sums == {"electricity": "pass", "natural_gas": "pass"}  # the annual figures are the months' sum
    reported = report["totals"]["total_co2_t"]
    assert reported > 0
    rid = str(report["report"])

    # the officer accepts and assigns the demo body
    gp("mrv", "report", "review", rid, "--accept", "--by", "staff")
    r = gp("mrv", "verify", "assign", "--enterprise", ENT, "--year", str(YEAR), "--body", BODY_CODE, "--by", "staff",
           "--json")  # fmt: skip
    vid = str(_json(r)["id"])

    # the verifier: declaration, document review, site visit, a non-conformity
    gp("mrv", "verify", "declare", vid, "--statement", "本机构与该企业无利益冲突", "--by", "verifier")
    doc_items = [{"item": i, "result": "conforms", "note": ""} for i in (
        "basic_info", "boundary", "methods", "activity_data", "emission_factors", "emissions",
        "production_data", "quality_assurance", "dqcp_execution")]  # fmt: skip
    gp("mrv", "verify", "review", vid, "--items", json.dumps(doc_items), "--by", "verifier")
    site_items = [{"item": i, "result": "conforms", "note": ""} for i in (
        "facilities_match_ledger", "meters_and_calibration", "records_and_invoices", "sampling_and_lab", "interviews")]  # fmt: skip
    gp("mrv", "verify", "site-visit", vid, "--date", beijing_today().isoformat(), "--team", "张工、李工",
       "--record", "查看燃气表与关口表，核对结算单", "--items", json.dumps(site_items), "--by", "verifier")  # fmt: skip
    ncr = _json(
        gp("mrv", "verify", "ncr", vid, "--description", "12月燃气结算单缺失", "--by", "verifier", "--json")
    )
    # a stranger may not conclude; the enterprise answers; the verifier closes and concludes
    assert gp("mrv", "verify", "conclude", vid, "--conclusion", "pass", "--verified", str(reported),
              "--by", "enterprise", ok=False).exit_code != 0  # fmt: skip
    gp("mrv", "verify", "ncr-answer", str(ncr["id"]), "--response", "已补充结算单", "--file",
       str(tmp_path / "invoice.pdf"), "--by", "enterprise")  # fmt: skip
    gp("mrv", "verify", "ncr-close", str(ncr["id"]), "--note", "结算单与报告一致", "--by", "verifier")
    out = tmp_path / "statement.docx"
    r = gp("mrv", "verify", "conclude", vid, "--conclusion", "pass", "--verified", str(reported),
           "--by", "verifier", "-o", str(out), "--json")  # fmt: skip
    assert _json(r)["conclusion"] == "pass"
    sig = out.with_suffix(".docx.sig") if out.with_suffix(".docx.sig").exists() else out.with_suffix(".sig")
    key = tmp_path / "body.pem"
    gp("mrv", "verify", "body", "key", BODY_CODE, "-o", str(key))
    r = gp("mrv", "verify", "check-statement", str(out), "--signature", str(sig), "--key", str(key), "--json")
    assert _json(r)["valid"] is True

    # the officer notifies: the appeal window is counted on working days
    r = gp("mrv", "verify", "notify", vid, "--by", "staff", "--today", "2026-09-28", "--json")
    assert _json(r)["appeal_due_date"] == "2026-10-13"  # 7 working days across National Day

    # the verified figure is in the park inventory with its lineage
    inv = _json(gp("mrv", "report", "list", "--year", str(YEAR), "--enterprise", ENT, "--json"))
    assert inv[0]["status"] == "verified", inv
    with session_scope(gp.url) as s:
        ent_id = s.scalar(select(m.Enterprise.id).where(m.Enterprise.code == ENT))
        recs = s.scalars(
            select(m.ActivityRecord).where(
                m.ActivityRecord.enterprise_id == ent_id, m.ActivityRecord.year == YEAR
            )
        ).all()
        assert recs and all(r.quality == "verified" and r.source_ref.startswith("verified: ") for r in recs)
        assert all(BODY_CODE in r.source_ref or "演示核查机构" in r.source_ref for r in recs)
    e01 = _json(gp("inventory", "--year", str(YEAR), "--scope", ENT, "--json"))
    by_carrier = {c["carrier"]: c["quantity"] for c in e01["by_carrier"]}
    assert by_carrier == pytest.approx(
        {"natural_gas": 12 * GAS_PER_MONTH, "electricity": 12 * POWER_PER_MONTH}
    )
    # the inventory prices energy with the park's factor set; it names the verified total beside its own
    said = [c for c in e01["checks"] if c["code"] == "verified.figures"]
    assert said and said[0]["values"]["verified_total_co2_t"] == reported

    # the log is whole; a tampered row is caught
    r = gp("audit", "verify", "--json")
    whole = _json(r)
    assert whole["ok"] is True and whole["entries"] > 30 and whole["first_bad"] is None
    with session_scope(gp.url) as s:
        entry = s.scalars(
            select(m.MrvLogEntry)
            .where(m.MrvLogEntry.action == "verification.conclude")
            .order_by(m.MrvLogEntry.id)
        ).first()
        assert entry is not None
        forged = entry.payload_json.replace(str(int(reported)), str(int(reported) - 1000))
        assert forged != entry.payload_json
        s.execute(text("UPDATE mrv_log SET payload_json = :p WHERE id = :i"), {"p": forged, "i": entry.id})
    dispose_engine(gp.url)
    r = gp("audit", "verify", "--json", ok=False)
    assert r.exit_code != 0
    bad = _json(r)
    assert bad["ok"] is False and bad["first_bad"] is not None

"""A verified enterprise report flows into the park inventory in place of estimates, with lineage
(issue 13, §3 and "Done when"), and into the annual report. Both databases."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.carbon.inventory_cache import cached_inventory
from greenpark.services.carbon.records import EntityResolver, upsert_activity, validate_activity
from greenpark.services.mrv import log
from greenpark.services.mrv.inventory_flow import apply_verified
from greenpark.services.park.parks import get_park
from greenpark.store import models as m
from greenpark.store.db import session_scope

YEAR = 2026  # no demo records: the park's inventory of the year is built from enterprise records
SHA = "5f3a9c0e7b21" + "0" * 52
BODY = "湖北测试核查中心"


def _estimates(s: Any, codes: tuple[str, ...], year: int) -> None:
    """Monthly estimated electricity (100 × 10⁴ kWh) and gas (20 × 10⁴ m³) bills of enterprises."""
    park = get_park(s)
    resolver = EntityResolver(s, park)
    carriers = {c.code: c for c in s.scalars(select(m.Carrier))}
    rows = []
    for code in codes:
        for month in range(1, 13):
            for carrier, q, unit in (("electricity", 100.0, "10^4 kWh"), ("natural_gas", 20.0, "10^4 m3")):
                raw = {"entity": f"enterprise:{code}", "year": year, "month": month, "sector": "industry",
                       "boundary": "all", "carrier": carrier, "quantity": q, "unit": unit,
                       "source_ref": "monthly bills (estimate)", "quality": "estimated", "note": ""}  # fmt: skip
                v, errors = validate_activity(raw, resolver, carriers, ("t", "t", 1))
                assert not errors and v is not None
                rows.append(v)
    upsert_activity(s, park, rows, None, by="tester", batch="form")


def _verification(s: Any, code: str, year: int, *, total: float = 123_456.0) -> m.MrvVerification:
    """A passed verification of a report (built through the models): 15 000 MWh purchased,
    3 000 000 Nm³ (300 × 10⁴) of gas burnt in two lines, a process source and an output."""
    park = get_park(s)
    ent = s.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code == code)
    ).one()
    body = s.scalars(select(m.MrvBody).where(m.MrvBody.park_id == park.id, m.MrvBody.code == "hbv")).first()
    if body is None:
        body = m.MrvBody(park_id=park.id, code="hbv", name=BODY)
        s.add(body)
        s.flush()
    n = (
        s.scalar(select(func.count()).select_from(m.MrvReport).where(m.MrvReport.enterprise_id == ent.id))
        or 0
    )
    rep = m.MrvReport(park_id=park.id, enterprise_id=ent.id, year=year, version=n + 1, status="verified",
                      submitted_by="ent1", total_co2_t=total)  # fmt: skip
    s.add(rep)
    s.flush()
    s.add_all([
        m.MrvReportLine(report_id=rep.id, section="combustion", item="natural_gas", quantity=200.0, unit="10^4 m3",
                        co2_t=4300.0),
        m.MrvReportLine(report_id=rep.id, section="combustion", item="natural_gas", quantity=100.0, unit="10^4 Nm3",
                        co2_t=2150.0),
        m.MrvReportLine(report_id=rep.id, section="electricity", item="grid", quantity=15_000.0, unit="MWh",
                        factor=0.5366, co2_t=8049.0),
        m.MrvReportLine(report_id=rep.id, section="process", item="cement_clinker", quantity=1000.0, unit="t",
                        co2_t=538.0),
        m.MrvReportLine(report_id=rep.id, section="output", item="glass", quantity=5000.0, unit="t"),
    ])  # fmt: skip
    v = m.MrvVerification(park_id=park.id, enterprise_id=ent.id, year=year, body_id=body.id,
                          initial_report_id=rep.id, final_report_id=rep.id, stage="concluded", assigned_by="staff1",
                          conclusion="pass", reported_total_co2_t=total, verified_total_co2_t=total,
                          concluded_by="verifier1", statement_sha256=SHA)  # fmt: skip
    s.add(v)
    s.flush()
    return v


def _carrier(inv: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in inv["by_carrier"] if c["carrier"] == code)


def test_a_verified_figure_replaces_the_estimates_in_the_park_inventory(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    with session_scope(url) as s:
        _estimates(s, ("E01", "E02"), YEAR)
    with session_scope(url) as s:
        park = get_park(s)
        rev0 = park.data_revision
        park_before = cached_inventory(s, park, "park", YEAR)
        e01_before = cached_inventory(s, park, "E01", YEAR)
        assert _carrier(e01_before, "electricity")["quantity"] == pytest.approx(1200.0)
        assert _carrier(park_before, "electricity")["quantity"] == pytest.approx(2400.0)
        log_before = s.scalar(select(func.count()).select_from(m.MrvLogEntry))
    with session_scope(url) as s:
        out = apply_verified(s, _verification(s, "E01", YEAR))
    assert out["changed"] and out["feeds_park_total"]
    assert out["lineage"] == f"verified: {BODY}, statement 5f3a9c0e7b21, report v1"
    assert len(out["written"]) == 2 and len(out["replaced"]) == 24
    assert {x["section"] for x in out["not_in_inventory"]} == {"process", "output"}
    assert out["verified_total_co2_t"] == 123_456.0 and out["inventory_co2_t"] > 0
    with session_scope(url) as s:
        park = get_park(s)
        assert park.data_revision > rev0  # cached inventories refresh
        e01 = cached_inventory(s, park, "E01", YEAR)
        assert _carrier(e01, "electricity")["quantity"] == pytest.approx(1500.0)  # 15 000 MWh
        assert _carrier(e01, "natural_gas")["quantity"] == pytest.approx(300.0)  # 200 + 100 (Nm³)
        assert e01["totals"]["co2_t"] == pytest.approx(out["inventory_co2_t"])
        whole = cached_inventory(s, park, "park", YEAR, by=("enterprise",))
        assert _carrier(whole, "electricity")["quantity"] == pytest.approx(1200.0 + 1500.0)
        assert _carrier(whole, "natural_gas")["quantity"] == pytest.approx(240.0 + 300.0)
        by_ent = {r["enterprise"]: r for r in whole["by_enterprise"]}
        assert by_ent["E01"]["co2_t"] == pytest.approx(out["inventory_co2_t"])
        # the inventory names the verified figure, its lineage and both CO2 figures
        info = [c for c in whole["checks"] if c["code"] == "verified.figures"]
        assert len(info) == 1 and info[0]["values"]["verified_total_co2_t"] == 123_456.0
        assert info[0]["values"]["inventory_co2_t"] == pytest.approx(out["inventory_co2_t"])
        assert "5f3a9c0e7b21" in info[0]["message_zh"] and "5f3a9c0e7b21" in info[0]["message_en"]
        assert not [c for c in whole["checks"] if c["code"] == "verified.mixed"]
        # the records carry quality and lineage; the drill-down shows them
        recs = s.scalars(
            select(m.ActivityRecord).where(m.ActivityRecord.year == YEAR, m.ActivityRecord.enterprise_id == _eid(s, "E01"))
        ).all()  # fmt: skip
        assert len(recs) == 2
        assert all(
            r.quality == "verified" and r.source_ref == out["lineage"] and r.month is None for r in recs
        )
        assert all("123,456" in r.note and r.sector == "industry" for r in recs)
        # nothing is lost: the history keeps every replaced estimate
        gone = s.scalars(
            select(m.AuditEvent).where(m.AuditEvent.entity == "activity_record", m.AuditEvent.action == "delete",
                                       m.AuditEvent.enterprise_id == _eid(s, "E01"))
        ).all()  # fmt: skip
        assert len(gone) == 24 and all(e.actor == "verifier1" for e in gone)
        assert all(json.loads(e.old_json)["quality"] == "estimated" for e in gone)
        assert all(e.batch.startswith("mrv verification #") for e in gone)
        # the cycle's log holds what was written and replaced
        entry = s.scalars(
            select(m.MrvLogEntry).where(m.MrvLogEntry.action == "inventory.apply_verified")
        ).one()
        payload = json.loads(entry.payload_json)
        assert len(payload["written"]) == 2 and len(payload["replaced"]) == 24
        assert s.scalar(select(func.count()).select_from(m.MrvLogEntry)) == (log_before or 0) + 1
        assert log.verify(s)["ok"]
        rev1 = park.data_revision
    # a second apply changes nothing and logs nothing
    with session_scope(url) as s:
        v = s.scalars(
            select(m.MrvVerification).where(m.MrvVerification.enterprise_id == _eid(s, "E01"))
        ).one()
        again = apply_verified(s, v)
        assert not again["changed"] and not again["replaced"]
    with session_scope(url) as s:
        assert get_park(s).data_revision == rev1
        assert s.scalar(select(func.count()).select_from(m.MrvLogEntry).where(m.MrvLogEntry.action == "inventory.apply_verified")) == 1  # fmt: skip


def _eid(s: Any, code: str) -> int:
    park = get_park(s)
    return int(
        s.scalar(select(m.Enterprise.id).where(m.Enterprise.park_id == park.id, m.Enterprise.code == code))
    )


def test_a_revised_appeal_updates_the_note_and_an_import_after_it_is_flagged(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    with session_scope(url) as s:
        _estimates(s, ("E01",), YEAR)
        apply_verified(s, _verification(s, "E01", YEAR))
    with session_scope(url) as s:
        v = s.scalars(
            select(m.MrvVerification).where(m.MrvVerification.enterprise_id == _eid(s, "E01"))
        ).one()
        v.verified_total_co2_t = 120_000.0
        s.add(m.MrvAppeal(verification_id=v.id, filed_by="ent1", grounds="g", decision_due_date=v.assigned_utc.date(),
                          decision="revised", revised_total_co2_t=120_000.0, decided_by="staff1"))  # fmt: skip
        s.flush()
        out = apply_verified(s, v)
        assert out["changed"] and not out["replaced"] and out["verified_total_co2_t"] == 120_000.0
        notes = s.scalars(select(m.ActivityRecord.note).where(m.ActivityRecord.quality == "verified")).all()
        assert notes and all("120,000" in n for n in notes)
        changed = s.scalars(
            select(m.AuditEvent).where(m.AuditEvent.action == "change", m.AuditEvent.field == "note")
        ).all()
        assert len(changed) == 2 and all(e.actor == "staff1" for e in changed)
    # an import of the same enterprise and year after the verification is summed: the inventory says so
    with session_scope(url) as s:
        _estimates(s, ("E01",), YEAR)
    with session_scope(url) as s:
        inv = compute_inventory(s, scope_code="E01", year=YEAR)
        mixed = [c for c in inv["checks"] if c["code"] == "verified.mixed"]
        assert len(mixed) == 1 and mixed[0]["values"]["records"] == 24


def test_in_the_demo_the_enterprise_changes_and_the_park_level_figure_stays(fresh_demo_url: str) -> None:
    """The demo park and its zones have records of their own level: a verified enterprise changes
    its own inventory; the park total stays the park's published/illustrative figure (and says so)."""
    url = fresh_demo_url
    with session_scope(url) as s:
        park_before = compute_inventory(s, scope_code="park", year=2024)["totals"]
        e01_before = compute_inventory(s, scope_code="E01", year=2024)["totals"]
        illustrative_n = s.scalar(select(func.count()).select_from(m.ActivityRecord).where(
            m.ActivityRecord.enterprise_id == _eid(s, "E01"), m.ActivityRecord.year == 2024))  # fmt: skip
        assert illustrative_n == 24
        out = apply_verified(s, _verification(s, "E01", 2024))
        assert not out["feeds_park_total"] and len(out["replaced"]) == 24
    with session_scope(url) as s:
        e01 = compute_inventory(s, scope_code="E01", year=2024)
        assert e01["totals"]["energy_tce_calorific"] != pytest.approx(e01_before["energy_tce_calorific"])
        assert _carrier(e01, "electricity")["quantity"] == pytest.approx(1500.0)
        assert compute_inventory(s, scope_code="park", year=2024)["totals"]["co2_t"] == pytest.approx(
            park_before["co2_t"]
        )


def test_only_a_passed_verification_counts(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        v = _verification(s, "E02", YEAR)
        v.conclusion = "fail"
        with pytest.raises(ValueError, match="has not passed"):
            apply_verified(s, v)


def test_the_annual_report_lists_the_verified_enterprises(fresh_demo_url: str) -> None:
    from docx import Document
    from openpyxl import load_workbook

    from greenpark.services.plan import report

    with session_scope(fresh_demo_url) as s:
        apply_verified(s, _verification(s, "E03", 2025, total=98_765.4))
    with session_scope(fresh_demo_url) as s:
        doc = Document(io.BytesIO(report.document(s, 2025)))
        text = "\n".join(p.text for p in doc.paragraphs)
        cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
        assert "重点碳排放单位核查情况" in text and "98,765" in text
        ent = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E03")).one()
        assert ent.name in cells and BODY in cells and "5f3a9c0e7b21" in cells and "98,765" in cells
        wb = load_workbook(io.BytesIO(report.workbook(s, 2025)))
        rows = list(wb["核查数据"].iter_rows(values_only=True))
        assert rows[1][0] == "E03" and rows[1][2] == pytest.approx(98_765.4)

"""Third-party verification (issue 13 §3, the 2021 guide): bodies, assignment, the conflict-of-interest
declaration, document review, site visit, non-conformities closed or settled by a conservative
estimate, the conclusion with its differences, the signed statement (checked with the body's public
key, by greenpark and by openssl), notification, the appeal on the Chinese working-day calendar,
closing — by service calls with an officer, a verifier and an enterprise user, on both databases,
and the same through the API and the CLI."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.demo import load_reference
from greenpark.services.mrv import log, statement
from greenpark.services.mrv import verification as ver
from greenpark.services.mrv.access import AccessDenied, Actor, NotFound, actor_for_user
from greenpark.services.mrv.evidence import beijing_today
from greenpark.services.park import auth
from greenpark.services.park.parks import use_park
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.parks import CODE, add_second_park

YEAR = 2025
DOC_ITEMS = ["basic_info", "boundary", "methods", "activity_data", "emission_factors", "emissions",
             "production_data", "quality_assurance", "dqcp_execution"]  # fmt: skip
SITE_ITEMS = ["facilities_match_ledger", "meters_and_calibration", "records_and_invoices", "sampling_and_lab", "interviews"]  # fmt: skip
PDF = b"%PDF-1.4\n% an invoice\n"


@pytest.fixture(autouse=True)
def inventory_flow(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The verified figure flows into the inventory through helper E's ``inventory_flow``; where it
    is not there yet, a stand-in records the calls."""
    calls: list[int] = []
    if importlib.util.find_spec("greenpark.services.mrv.inventory_flow") is None:
        stub = types.ModuleType("greenpark.services.mrv.inventory_flow")
        stub.apply_verified = lambda session, v: calls.append(v.id)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "greenpark.services.mrv.inventory_flow", stub)
        import greenpark.services.mrv as pkg

        monkeypatch.setattr(pkg, "inventory_flow", stub, raising=False)
    return calls


@dataclass
class Cycle:
    url: str
    park_id: int
    ent: int  # N1
    other_ent: int  # S1
    logins: dict[str, str]

    def actor(self, s: Any, username: str) -> Actor:
        return actor_for_user(auth.get_user(s, username), self.park_id)


def _report(
    s: Any, park_id: int, ent: int, version: int, total: float, status: str = "accepted"
) -> m.MrvReport:
    r = m.MrvReport(park_id=park_id, enterprise_id=ent, year=YEAR, version=version, status=status, guideline="机械设备制造",
                    combustion_co2_t=total * 0.4, electricity_co2_t=total * 0.6, total_co2_t=total,
                    submitted_by="ent_north")  # fmt: skip
    s.add(r)
    s.flush()
    return r


@pytest.fixture
def cycle(fresh_url: str) -> Iterator[Cycle]:
    with session_scope(fresh_url) as s:
        load_reference(s)
    lake = add_second_park(fresh_url)
    with session_scope(fresh_url) as s:
        park = use_park(s, CODE)
        assert park is not None
        for name in ("ver1", "ver2"):
            auth.create_user(s, name, f"{name}-password-1", auth.Role.VERIFIER, park_id=park.id, by="test",
                             display_name=f"核查员{name[-1]}")  # fmt: skip
            lake.logins[name] = f"{name}-password-1"
        n1, s1 = lake.ids["N1.enterprise"], lake.ids["S1.enterprise"]
        _report(s, park.id, n1, 1, 30_000.0)
        _report(s, park.id, s1, 1, 12_000.0, status="submitted")
        staff = actor_for_user(auth.get_user(s, "staff2"), park.id)
        ver.add_body(
            s,
            staff,
            code="CQC",
            name="中环联合认证中心",
            uscc="91110000100000000X",
            accreditation="CNAS C001-M",
        )
        ver.add_member(s, staff, "CQC", "ver1")
        ver.add_body(s, staff, code="OTHER", name="另一家核查机构")
        ver.add_member(s, staff, "OTHER", "ver2")
        pid = park.id
    yield Cycle(fresh_url, pid, n1, s1, lake.logins)


def _doc_items(nonconform: str | None = None) -> list[dict[str, Any]]:
    return [{"item": c, "result": "nonconform" if c == nonconform else "conforms",
             "note": "燃料低位发热量未见检测报告" if c == nonconform else ""} for c in DOC_ITEMS]  # fmt: skip


def _site_items() -> list[dict[str, Any]]:
    return [
        {"item": c, "result": "na" if c == "sampling_and_lab" else "conforms", "note": ""} for c in SITE_ITEMS
    ]


def _to_site_visit(s: Any, c: Cycle, vid: int) -> None:
    v1 = c.actor(s, "ver1")
    ver.declare(s, v1, vid, statement_text="本机构与受核查企业无利益冲突。", no_conflict=True)
    ver.doc_review(s, v1, vid, _doc_items("activity_data"))
    ver.site_visit(s, v1, vid, visit_date=beijing_today(), team="核查员1、核查员2", record="查阅台账、询问能源管理员、查看计量器具。",
                   items=_site_items())  # fmt: skip


def test_the_whole_cycle_by_service_calls(cycle: Cycle, inventory_flow: list[int]) -> None:
    c = cycle
    with session_scope(c.url) as s:
        staff, v1, ent = c.actor(s, "staff2"), c.actor(s, "ver1"), c.actor(s, "ent_north")
        # only accepted reports are offered and assigned
        offered = ver.assignable(s, staff, YEAR)
        assert [x["code"] for x in offered] == ["N1"]
        with pytest.raises(ValueError, match="not accepted"):
            ver.assign(s, staff, enterprise_id=c.other_ent, year=YEAR, body_code="CQC")
        with pytest.raises(AccessDenied):
            ver.assign(s, v1, enterprise_id=c.ent, year=YEAR, body_code="CQC")
        v = ver.assign(s, staff, enterprise_id=c.ent, year=YEAR, body_code="CQC")
        # 30 June of the next year, or 30 days from today when that has passed: never born overdue
        today = beijing_today()
        assert v.stage == "assigned" and v.due_date == max(date(YEAR + 1, 6, 30), today + timedelta(days=30))
        assert v.due_date > today
        vid = v.id
        # nothing before the declaration
        with pytest.raises(ValueError, match="conflict of interest first"):
            ver.doc_review(s, v1, vid, _doc_items())
        # the verifier and the enterprise were told
        told = {n.user_id for n in s.scalars(select(m.Notification).where(m.Notification.key.like(f"verification.assign%{vid}")))}  # fmt: skip
        assert {auth.get_user(s, "ver1").id, auth.get_user(s, "ent_north").id} <= told

    with session_scope(c.url) as s:
        v1, ent = c.actor(s, "ver1"), c.actor(s, "ent_north")
        _to_site_visit(s, c, vid)
        # a checklist with an unknown item or a missing one is refused
        with pytest.raises(ValueError, match="no result for"):
            ver.doc_review(s, v1, vid, _doc_items()[:-1])
        n1 = ver.open_ncr(
            s, v1, vid, clause="4.2.1.4", description="燃料低位发热量缺少检测报告", due_date=date(2026, 5, 10)
        )
        n2 = ver.open_ncr(
            s, v1, vid, clause="4.2.1.6", description="外购电力缺少结算单", due_date=date(2026, 5, 10)
        )
        assert (n1.number, n2.number) == (1, 2)
        # the enterprise answers with a file; the enterprise cannot close
        ver.answer_ncr(s, ent, n1.id, response="补充检测报告", files=[("检测报告.pdf", PDF)])
        with pytest.raises(AccessDenied):
            ver.close_ncr(s, ent, n1.id, note="ok")
        # the conclusion is refused while a non-conformity is open or answered
        with pytest.raises(ValueError, match="#1, #2"):
            ver.conclude(s, v1, vid, conclusion="pass", verified_total_co2_t=30_000, differences=[])
        ver.close_ncr(s, v1, n1.id, note="检测报告已补充，数据一致")
        with pytest.raises(ValueError, match="reasoning"):
            ver.estimate_ncr(s, v1, n2.id, estimate_co2_t=420.0, reasoning=" ")
        ver.estimate_ncr(
            s, v1, n2.id, estimate_co2_t=420.0, reasoning="按保守性原则以变压器额定容量×运行小时估算外购电量"
        )
        ncr_ids = (n1.id, n2.id)

    with session_scope(c.url) as s:
        v1 = c.actor(s, "ver1")
        # the enterprise corrects its report during verification and the park accepts the correction:
        # the final report is version 2
        _report(s, c.park_id, c.ent, 2, 30_100.0, status="accepted")
        with pytest.raises(ValueError, match="reason for each difference"):
            ver.conclude(s, v1, vid, conclusion="pass", verified_total_co2_t=30_520, differences=[])
        with pytest.raises(ValueError, match="reason"):
            ver.conclude(s, v1, vid, conclusion="pass", verified_total_co2_t=30_520,
                         differences=[{"item": "外购电力", "reported_t": 18_000, "verified_t": 18_420, "reason": ""}])  # fmt: skip
        diffs = [
            {"item": "化石燃料燃烧", "reported_t": 12_000, "verified_t": 12_100, "reason": "企业更正报告第2版：补录柴油"},
            {"item": "外购电力", "reported_t": 18_000, "verified_t": 18_420, "reason": "不符合项#2保守估算 420 t"},
        ]  # fmt: skip
        v = ver.conclude(s, v1, vid, conclusion="pass", verified_total_co2_t=30_520, differences=diffs)
        assert (
            v.stage == "concluded" and v.reported_total_co2_t == 30_000 and v.verified_total_co2_t == 30_520
        )
        final = s.get(m.MrvReport, v.final_report_id)
        assert final is not None and final.version == 2 and final.status == "verified"
        assert v.statement_sha256 == statement.sha256(v.statement_docx or b"")

    with session_scope(c.url) as s:
        staff, v1, ent = c.actor(s, "staff2"), c.actor(s, "ver1"), c.actor(s, "ent_north")
        docx, sig, pem, code = ver.statement_files(s, ent, vid)
        assert code == "CQC" and statement.check(docx, sig, pem)["valid"]
        text = _docx_text(docx)
        for words in (
            "中环联合认证中心",
            "北岸新材料科技有限公司",
            "30,000",
            "30,520",
            "保守",
            "通过",
            "核查员1",
            "机械设备制造",
        ):
            assert words in text, words
        # the enterprise cannot notify; the officer does, the appeal window runs on working days
        with pytest.raises(AccessDenied):
            ver.notify_result(s, ent, vid)
        v = ver.notify_result(s, staff, vid, today=date(2026, 9, 28))
        assert v.appeal_due_date == date(2026, 10, 13)  # 1–7 October are the National Day holiday; 10 October is a swapped working day  # fmt: skip
        appeal = ver.file_appeal(s, ent, vid, grounds="外购电量估算过于保守", today=date(2026, 10, 13))
        assert appeal.decision_due_date == date(2026, 10, 27)
        with pytest.raises(ValueError, match="decision"):
            ver.decide_appeal(s, staff, vid, decision="maybe", note="x")
        ver.decide_appeal(
            s, staff, vid, decision="revised", note="复核后按结算单计算", revised_total_co2_t=30_300.0
        )
        assert ver.close_due(s, today=date(2026, 10, 28)) == [vid]
        d = ver.detail(s, staff, vid)
        assert (
            d["stage"] == "closed"
            and d["verified_total_co2_t"] == 30_300.0
            and d["appeal"]["decision"] == "revised"
        )
        assert [n["status"] for n in d["ncrs"]] == ["closed", "estimated"]
        assert d["ncrs"][0]["attachments"][0]["filename"] == "检测报告.pdf"

    # every act is in the log, with its figures
    with session_scope(c.url) as s:
        actions = [e["action"] for e in log.entries(s, entity="mrv_verification", entity_id=vid)]
        for a in ("verification.assign", "verification.declare", "verification.doc_review", "verification.site_visit",
                  "verification.conclude", "verification.notify", "appeal.file", "appeal.decide", "verification.close"):  # fmt: skip
            assert a in actions, a
        ncr_log = [e for i in ncr_ids for e in log.entries(s, entity="mrv_nonconformity", entity_id=i)]
        assert {e["action"] for e in ncr_log} == {"ncr.open", "ncr.answer", "ncr.close", "ncr.estimate"}
        est = next(e for e in ncr_log if e["action"] == "ncr.estimate")
        assert est["payload"]["estimate_co2_t"] == 420.0 and "保守" in est["payload"]["reasoning"]
        concl = log.entries(s, entity="mrv_verification", entity_id=vid)
        c_entry = next(e for e in concl if e["action"] == "verification.conclude")
        assert (
            c_entry["payload"]["verified_total_co2_t"] == 30_520
            and len(c_entry["payload"]["differences"]) == 2
        )
        assert log.verify(s)["ok"]
    if inventory_flow:  # the stand-in: called at the conclusion and at the revised decision
        assert inventory_flow == [vid, vid]


def _docx_text(content: bytes) -> str:
    import io

    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [cell.text for row in t.rows for cell in row.cells]
    return "\n".join(parts)


def _assigned(c: Cycle) -> int:
    with session_scope(c.url) as s:
        return ver.assign(s, c.actor(s, "staff2"), enterprise_id=c.ent, year=YEAR, body_code="CQC").id


def test_a_verifier_of_another_body_sees_nothing(cycle: Cycle) -> None:
    vid = _assigned(cycle)
    with session_scope(cycle.url) as s:
        v2 = cycle.actor(s, "ver2")
        assert ver.list_verifications(s, v2) == []
        with pytest.raises(NotFound):
            ver.detail(s, v2, vid)
        with pytest.raises(NotFound):
            ver.declare(s, v2, vid, statement_text="无冲突", no_conflict=True)
        # the other enterprise does not see it either
        with pytest.raises(NotFound):
            ver.detail(s, cycle.actor(s, "ent_south"), vid)
        assert [x["id"] for x in ver.list_verifications(s, cycle.actor(s, "ver1"))] == [vid]
        assert [b["code"] for b in ver.bodies(s, v2)] == ["OTHER"]


def test_a_declared_conflict_withdraws_the_assignment(cycle: Cycle) -> None:
    vid = _assigned(cycle)
    with session_scope(cycle.url) as s:
        v = ver.declare(s, cycle.actor(s, "ver1"), vid, statement_text="本机构两年内为该企业提供过碳排放咨询服务。", no_conflict=False)  # fmt: skip
        assert v.stage == "withdrawn"
        officers = {n.user_id for n in s.scalars(select(m.Notification).where(m.Notification.key == f"verification.withdrawn.{vid}"))}  # fmt: skip
        assert auth.get_user(s, "staff2").id in officers
    with session_scope(cycle.url) as s:
        # the verifier loses the assignment; the officer assigns another body
        with pytest.raises(NotFound):
            ver.doc_review(s, cycle.actor(s, "ver1"), vid, _doc_items())
        again = ver.assign(s, cycle.actor(s, "staff2"), enterprise_id=cycle.ent, year=YEAR, body_code="OTHER")
        assert again.id != vid and again.stage == "assigned"


def _concluded(c: Cycle, conclusion: str = "pass") -> int:
    vid = _assigned(c)
    with session_scope(c.url) as s:
        _to_site_visit(s, c, vid)
        ver.conclude(
            s, c.actor(s, "ver1"), vid, conclusion=conclusion, verified_total_co2_t=30_000, differences=[]
        )
    return vid


def test_the_statement_signature_checks_and_a_changed_byte_fails(cycle: Cycle, tmp_path: Path) -> None:
    vid = _concluded(cycle)
    with session_scope(cycle.url) as s:
        docx, sig, pem, _code = ver.statement_files(s, cycle.actor(s, "staff2"), vid)
    assert len(sig) == 64
    tampered = bytearray(docx)
    tampered[len(tampered) // 2] ^= 0x01
    assert statement.check(docx, sig, pem)["valid"]
    assert not statement.check(bytes(tampered), sig, pem)["valid"]
    # the same with openssl: anyone can check it with the body's public key
    (tmp_path / "statement.docx").write_bytes(docx)
    (tmp_path / "bad.docx").write_bytes(bytes(tampered))
    (tmp_path / "statement.sig").write_bytes(sig)
    (tmp_path / "body.pem").write_text(pem)
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def openssl(doc: str) -> int:
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "body.pem", "-rawin", "-in", doc, "-sigfile", "statement.sig"]  # fmt: skip
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, check=False).returncode

    assert openssl("statement.docx") == 0
    assert openssl("bad.docx") != 0


@pytest.mark.parametrize(
    ("notified", "appeal_due", "decision_filed", "decision_due"),
    [
        # National Day 2026: 1–7 October off, Saturday 10 October a swapped working day
        (date(2026, 9, 28), date(2026, 10, 13), date(2026, 10, 13), date(2026, 10, 27)),
        # Spring Festival 2026: 15–23 February off; Saturdays 14 and 28 February are working days
        (date(2026, 2, 11), date(2026, 2, 27), date(2026, 2, 12), date(2026, 3, 4)),
    ],
)
def test_appeal_deadlines_follow_the_working_day_calendar(
    cycle: Cycle, notified: date, appeal_due: date, decision_filed: date, decision_due: date
) -> None:
    vid = _concluded(cycle, "fail")
    with session_scope(cycle.url) as s:
        report = s.scalars(select(m.MrvReport).where(m.MrvReport.enterprise_id == cycle.ent)).one()
        assert report.status == "accepted"  # a failed verification leaves the report accepted
        v = ver.notify_result(s, cycle.actor(s, "staff2"), vid, today=notified)
        assert v.appeal_due_date == appeal_due
        # the window is open: the officer cannot close yet
        with pytest.raises(ValueError, match=appeal_due.isoformat()):
            ver.close(s, cycle.actor(s, "staff2"), vid, today=appeal_due)
        a = ver.file_appeal(
            s, cycle.actor(s, "ent_north"), vid, grounds="不同意核查结论", today=decision_filed
        )
        assert a.decision_due_date == decision_due


def test_a_late_appeal_is_refused_and_the_window_closes(cycle: Cycle) -> None:
    vid = _concluded(cycle)
    with session_scope(cycle.url) as s:
        ver.notify_result(s, cycle.actor(s, "staff2"), vid, today=date(2026, 9, 28))
    with session_scope(cycle.url) as s:
        with pytest.raises(ValueError, match="2026-10-13"):
            ver.file_appeal(s, cycle.actor(s, "ent_north"), vid, grounds="晚了", today=date(2026, 10, 14))
        assert ver.close_due(s, today=date(2026, 10, 13)) == []
        assert ver.close_due(s, today=date(2026, 10, 14)) == [vid]
        assert ver.detail(s, cycle.actor(s, "ent_north"), vid)["stage"] == "closed"


def test_bodies_and_members_need_an_officer_and_a_verifier(cycle: Cycle) -> None:
    with session_scope(cycle.url) as s:
        staff = cycle.actor(s, "staff2")
        with pytest.raises(AccessDenied):
            ver.add_body(s, cycle.actor(s, "ver1"), code="X", name="X")
        with pytest.raises(ValueError, match="exists"):
            ver.add_body(s, staff, code="CQC", name="again")
        with pytest.raises(ValueError, match="not a verifier"):
            ver.add_member(s, staff, "CQC", "ent_north")
        codes = [b["code"] for b in ver.bodies(s, staff)]
        assert codes == ["CQC", "OTHER"]
        assert "BEGIN PUBLIC KEY" in ver.body_public_key(s, cycle.park_id, "CQC")
        assert [e["action"] for e in log.entries(s, entity="mrv_body")].count("body.add") == 2


# ---------------------------------------------------------------- API and CLI


def _login(c: TestClient, cycle: Cycle, user: str) -> None:
    r = c.post("/api/auth/login", json={"username": user, "password": cycle.logins[user]})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = str(r.json()["csrf_token"])


def test_the_api_and_the_page(cycle: Cycle) -> None:
    app = create_app(Settings(), database_url=cycle.url)
    with TestClient(app) as staff, TestClient(app) as v1, TestClient(app) as ent, TestClient(app) as v2:
        for client, user in ((staff, "staff2"), (v1, "ver1"), (ent, "ent_north"), (v2, "ver2")):
            _login(client, cycle, user)
        assert [b["code"] for b in staff.get("/api/mrv/bodies").json()] == ["CQC", "OTHER"]
        assert staff.get("/api/mrv/verifications/assignable", params={"year": YEAR}).json()[0]["code"] == "N1"
        r = staff.post(
            "/api/mrv/verifications", json={"enterprise_id": cycle.ent, "year": YEAR, "body": "CQC"}
        )
        assert r.status_code == 200, r.text
        vid = r.json()["id"]
        assert ent.post("/api/mrv/verifications", json={"enterprise_id": cycle.ent, "year": YEAR, "body": "CQC"}).status_code == 403  # fmt: skip
        assert v2.get(f"/api/mrv/verifications/{vid}").status_code == 404
        assert (
            v1.post(f"/api/mrv/verifications/{vid}/doc-review", json={"items": _doc_items()}).status_code
            == 422
        )
        r = v1.post(
            f"/api/mrv/verifications/{vid}/declare", json={"statement": "无利益冲突", "no_conflict": True}
        )
        assert r.status_code == 200, r.text
        assert (
            v1.post(f"/api/mrv/verifications/{vid}/doc-review", json={"items": _doc_items()}).status_code
            == 200
        )
        r = v1.post(f"/api/mrv/verifications/{vid}/site-visit",
                    json={"date": beijing_today().isoformat(), "team": "核查员1", "record": "现场查看", "items": _site_items()})  # fmt: skip
        assert r.status_code == 200, r.text
        r = v1.post(
            f"/api/mrv/verifications/{vid}/ncrs", json={"clause": "4.2.2", "description": "计量器具未检定"}
        )
        ncr = r.json()["id"]
        r = ent.post(f"/api/mrv/ncrs/{ncr}/answer", data={"response": "已送检"},
                     files=[("files", ("检定证书.pdf", PDF, "application/pdf"))])  # fmt: skip
        assert r.status_code == 200, r.text
        assert v1.post(f"/api/mrv/ncrs/{ncr}/close", json={"note": "已整改"}).status_code == 200
        r = v1.post(f"/api/mrv/verifications/{vid}/conclude",
                    json={"conclusion": "pass", "verified_total_co2_t": 30000, "differences": [], "lang": "en"})  # fmt: skip
        assert r.status_code == 200, r.text
        docx = ent.get(f"/api/mrv/verifications/{vid}/statement.docx")
        sig = ent.get(f"/api/mrv/verifications/{vid}/statement.sig")
        pem = ent.get("/api/mrv/bodies/CQC/public-key.pem")
        assert docx.status_code == sig.status_code == pem.status_code == 200
        assert statement.check(docx.content, sig.content, pem.text)["valid"]
        assert "Verification conclusion" in _docx_text(docx.content)
        assert v2.get(f"/api/mrv/verifications/{vid}/statement.docx").status_code == 404
        r = staff.post(f"/api/mrv/verifications/{vid}/notify", json={})
        assert r.status_code == 200 and r.json()["appeal_due_date"]
        d = ent.get(f"/api/mrv/verifications/{vid}").json()
        assert d["stage"] == "notified" and d["log"] and d["ncrs"][0]["attachments"]
        assert [x["id"] for x in ent.get("/api/mrv/verifications").json()] == [vid]
        for client in (staff, v1, ent):
            page = client.get("/mrv/verification")
            assert page.status_code == 200 and "mrv_verification.js" in page.text


def test_the_cli(cycle: Cycle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", cycle.url)
    from greenpark.settings import get_settings

    get_settings.cache_clear()
    run = CliRunner().invoke
    base = ["mrv", "verify"]
    r = run(cli_app, [*base, "body", "add", "TUV", "--name", "南德认证", "--by", "staff2", "--park", CODE])
    assert r.exit_code == 0, r.output
    r = run(cli_app, [*base, "body", "member", "TUV", "ver2", "--by", "staff2", "--park", CODE])
    assert r.exit_code == 0, r.output
    r = run(cli_app, [*base, "body", "add", "TUV2", "--name", "x", "--by", "ver1", "--park", CODE])
    assert r.exit_code == 2
    r = run(cli_app, [*base, "body", "list", "--json", "--park", CODE])
    assert r.exit_code == 0, r.output
    assert [b["code"] for b in json.loads(r.stdout)] == ["CQC", "OTHER", "TUV"]
    vid = _concluded(cycle)
    with session_scope(cycle.url) as s:
        docx, sig, _pem, _code = ver.statement_files(s, cycle.actor(s, "staff2"), vid)
    (tmp_path / "s.docx").write_bytes(docx)
    (tmp_path / "s.sig").write_bytes(sig)
    r = run(cli_app, [*base, "body", "key", "CQC", "-o", str(tmp_path / "body.pem"), "--park", CODE])
    assert r.exit_code == 0, r.output
    args = [*base, "check-statement", str(tmp_path / "s.docx"), "--signature", str(tmp_path / "s.sig"),
            "--key", str(tmp_path / "body.pem")]  # fmt: skip
    r = run(cli_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["valid"] is True
    (tmp_path / "s.docx").write_bytes(docx[:-1] + bytes([docx[-1] ^ 1]))
    assert run(cli_app, args).exit_code == 1
    r = run(cli_app, [*base, "list", "--by", "staff2", "--json", "--park", CODE])
    assert r.exit_code == 0, r.output
    assert [x["id"] for x in json.loads(r.stdout)] == [vid]
    r = run(
        cli_app,
        [*base, "notify", str(vid), "--by", "staff2", "--today", "2026-09-28", "--json", "--park", CODE],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["appeal_due_date"] == "2026-10-13"


def test_a_version_sent_during_the_verification_counts_only_once_accepted(cycle: Cycle) -> None:
    """The probe's hole: an enterprise sent an unreviewed version (0 t) during the verification and
    the verifier's conclusion made it the verified figure. Now the park reviews it first; after the
    conclusion the year's figures are final (a correction goes through an appeal)."""
    from greenpark.services.mrv import reports as rp

    vid = _assigned(cycle)
    with session_scope(cycle.url) as s:
        _to_site_visit(s, cycle, vid)
        staff = cycle.actor(s, "staff2")
        inp = rp.ReportInput(electricity=[rp.PurchasedIn(quantity=0.001)])
        v2 = rp.submit_report(s, staff, cycle.ent, YEAR, inp)
        v2_id = v2.id
    with (
        session_scope(cycle.url) as s,
        pytest.raises(ValueError, match="version 2 of the report is submitted"),
    ):
        ver.conclude(
            s, cycle.actor(s, "ver1"), vid, conclusion="pass", verified_total_co2_t=30_000, differences=[]
        )
    with session_scope(cycle.url) as s:
        rp.review_report(s, cycle.actor(s, "staff2"), v2_id, accept=False, comment="电量明显有误")
    with (
        session_scope(cycle.url) as s,
        pytest.raises(ValueError, match="version 2 of the report is returned"),
    ):
        ver.conclude(
            s, cycle.actor(s, "ver1"), vid, conclusion="pass", verified_total_co2_t=30_000, differences=[]
        )
    with session_scope(cycle.url) as s:
        v3 = rp.submit_report(s, cycle.actor(s, "staff2"), cycle.ent, YEAR, rp.ReportInput(
            electricity=[rp.PurchasedIn(quantity=30_000.0)]))  # fmt: skip
        rp.review_report(s, cycle.actor(s, "staff2"), v3.id, accept=True)
        v3_id = v3.id
    with session_scope(cycle.url) as s:
        v = ver.conclude(
            s, cycle.actor(s, "ver1"), vid, conclusion="pass", verified_total_co2_t=30_000, differences=[]
        )
        assert v.final_report_id == v3_id and s.get(m.MrvReport, v3_id).status == "verified"  # type: ignore[union-attr]
    with session_scope(cycle.url) as s, pytest.raises(ValueError, match="is concluded"):
        rp.submit_report(s, cycle.actor(s, "staff2"), cycle.ent, YEAR, inp)


def test_two_clicks_at_once_do_one_thing(cycle: Cycle) -> None:
    """The probe's race: six notifications of one conclusion at once gave six notices and six
    appeal windows. Each step now holds its row: one wins, the others are told the stage moved."""
    import threading

    vid = _concluded(cycle)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def click() -> None:
        start.wait()
        try:
            with session_scope(cycle.url) as s:
                ver.notify_result(s, cycle.actor(s, "staff2"), vid, today=date(2026, 9, 28))
            outcomes.append("done")
        except ValueError:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done", "refused", "refused", "refused"]
    with session_scope(cycle.url) as s:
        notified = s.scalars(
            select(m.MrvLogEntry).where(
                m.MrvLogEntry.action == "verification.notify", m.MrvLogEntry.entity_id == vid
            )
        ).all()
        assert len(notified) == 1


def test_what_the_probe_slipped_in_is_refused(cycle: Cycle) -> None:
    """A body code that breaks its own address, a site visit dated 0001-01-01, and a verification
    that exists but is out of reach answering differently from one that does not."""
    vid = _assigned(cycle)
    with session_scope(cycle.url) as s:
        staff = cycle.actor(s, "staff2")
        for code in ("a/b", "X<b>S", "‮RTL"):
            with pytest.raises(ValueError, match="letters, digits"):
                ver.add_body(s, staff, code=code, name="某机构")
        v1 = cycle.actor(s, "ver1")
        ver.declare(s, v1, vid, statement_text="无利益冲突", no_conflict=True)
        ver.doc_review(s, v1, vid, _doc_items())
        with pytest.raises(ValueError, match="not after the reporting year"):
            ver.site_visit(s, v1, vid, visit_date=date(1, 1, 1), team="甲", record="乙", items=_site_items())
        with pytest.raises(
            ValueError, match="before the declaration"
        ):  # the walkthrough's out-of-order steps
            ver.site_visit(s, v1, vid, visit_date=beijing_today() - timedelta(days=1), team="甲", record="乙",
                           items=_site_items())  # fmt: skip
    with session_scope(cycle.url) as s:
        outsider = cycle.actor(s, "ent_south")  # S1's user: N1's verification is not in reach
        with pytest.raises(NotFound) as there:
            ver.detail(s, outsider, vid)
        with pytest.raises(NotFound) as nowhere:
            ver.detail(s, outsider, vid + 1000)
        assert str(there.value) == str(nowhere.value)


def test_a_verifier_reads_only_the_years_it_was_assigned(cycle: Cycle) -> None:
    """The probe read the enterprise's report of another year through its assignment of 2025."""
    from greenpark.services.mrv import reports as rp

    vid = _assigned(cycle)
    with session_scope(cycle.url) as s:
        old = m.MrvReport(park_id=cycle.park_id, enterprise_id=cycle.ent, year=YEAR - 1, version=1, status="accepted",
                          total_co2_t=29_000.0, submitted_by="ent_north")  # fmt: skip
        s.add(old)
        s.flush()
        v1 = cycle.actor(s, "ver1")
        assert {r["year"] for r in rp.list_reports(s, v1)} == {YEAR}
        with pytest.raises(NotFound):
            rp.report_in_reach(s, v1, old.id)
        assert ver.detail(s, v1, vid)["year"] == YEAR
        # the officer and the enterprise read every year
        assert {r["year"] for r in rp.list_reports(s, cycle.actor(s, "staff2"), enterprise_id=cycle.ent)} == {
            YEAR,
            YEAR - 1,
        }
        assert rp.report_in_reach(s, cycle.actor(s, "ent_north"), old.id).id == old.id

"""The data quality control plan in versions and the monthly evidence with its files (issue 13 §2):
revision triggers, due dates, late and missing months, versions, attachment limits and scope, the
log; the API and the CLI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.services.mrv import attachments, dqcp, evidence
from greenpark.services.mrv.access import AccessDenied, NotFound
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE
from tests.test_mrv_register import House, actor, login, make_house

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PLAN = {
    "guideline": "GB/T 32150",
    "boundary": "厂区内燃煤锅炉与外购电力",
    "facilities": [{"code": "B1", "name": "燃煤锅炉", "location": "一号车间", "sources": "raw_coal"}],
    "parameters": [
        {"parameter": "fuel_quantity", "item": "raw_coal", "unit": "t", "method": "measured", "meter": "汽车衡 SCS-100",
         "accuracy": "±0.1%", "calibration": "每年", "monitoring_frequency": "每批次", "recording_frequency": "每日",
         "missing_data_rule": "取前后两月最大值", "department": "能源部"},
        {"parameter": "ncv", "item": "raw_coal", "unit": "GJ/t", "method": "default",
         "missing_data_rule": "采用缺省值", "department": "化验室"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def house(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[House]:
    url = new_database(backend, tmp_path_factory.mktemp("mrv-evidence"))
    yield make_house(url)
    dispose_engine(url)


def log_actions(s, entity_id: int | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    q = select(m.MrvLogEntry.action).order_by(m.MrvLogEntry.seq)
    return list(s.scalars(q))


def test_plan_versions_need_a_trigger_and_are_never_edited(house: House) -> None:
    n1 = house.ids["N1.enterprise"]
    with session_scope(house.url) as s:
        ent = actor(s, house, "ent_north")
        bad = json.loads(json.dumps(PLAN))
        bad["parameters"][1]["missing_data_rule"] = " "
        with pytest.raises(ValueError, match="missing-data rule"):
            dqcp.file_plan(s, ent, n1, bad)
        bad["parameters"][1]["missing_data_rule"], bad["parameters"][1]["parameter"] = "x", "colour"
        with pytest.raises(ValueError, match="not one of"):
            dqcp.file_plan(s, ent, n1, bad)
        with pytest.raises(NotFound):  # another enterprise's plan
            dqcp.file_plan(s, ent, house.ids["S1.enterprise"], PLAN)
        with pytest.raises(AccessDenied):  # a zone officer reads, does not file
            dqcp.file_plan(s, actor(s, house, "zone_north"), n1, PLAN)
        v1 = dqcp.file_plan(s, ent, n1, PLAN, today=date(2023, 1, 5))
        assert (v1["version"], v1["status"], v1["revision_trigger"], v1["valid_from"]) == (
            1,
            "filed",
            "",
            "2023-01-05",
        )
    revised = json.loads(json.dumps(PLAN))
    revised["parameters"][1].update(
        method="measured", meter="氧弹量热仪", missing_data_rule="取缺省值与实测最大值"
    )
    revised["parameters"].append({"parameter": "carbon_content", "item": "raw_coal", "unit": "tC/GJ",
                                  "method": "measured", "missing_data_rule": "采用缺省值"})  # fmt: skip
    with session_scope(house.url) as s:
        ent = actor(s, house, "ent_north")
        with pytest.raises(ValueError, match="trigger"):
            dqcp.file_plan(s, ent, n1, revised)
        with pytest.raises(ValueError, match="revision_note"):
            dqcp.file_plan(s, ent, n1, {**revised, "revision_trigger": "better_measurement"})
        v2 = dqcp.file_plan(s, ent, n1, {**revised, "revision_trigger": "better_measurement",
                                         "revision_note": "购置量热仪，改为实测"})  # fmt: skip
        assert v2["version"] == 2
    with session_scope(house.url) as s:
        staff = actor(s, house, "staff2")
        versions = dqcp.list_plans(s, staff, n1)
        assert [(v["version"], v["status"]) for v in versions] == [(2, "filed"), (1, "superseded")]
        assert dqcp.show_plan(s, staff, n1, 1)["parameters"][1]["method"] == "default"  # kept as filed
        diff = dqcp.diff_plans(s, staff, n1, 1, 2)
        assert [(a["parameter"], a["item"]) for a in diff["added"]] == [("carbon_content", "raw_coal")]
        assert diff["changed"][0]["parameter"] == "ncv"
        assert set(diff["changed"][0]["fields"]) == {"method", "meter", "missing_data_rule"}
        assert log_actions(s).count("dqcp.file") == 2
        with pytest.raises(NotFound):  # another park's staff does not see it exist
            dqcp.list_plans(s, _other(s, house), n1)


def _other(s, house: House):  # type: ignore[no-untyped-def]
    from greenpark.services.mrv.access import actor_for_user
    from greenpark.services.park import auth

    user = auth.get_user(s, "staff3")
    assert user.park_id is not None
    return actor_for_user(user, user.park_id)


def test_due_late_missing_and_versions(house: House) -> None:
    n1 = house.ids["N1.enterprise"]
    with session_scope(house.url) as s:
        ent = actor(s, house, "ent_north")
        # January 2023 is due on 20 February (20 natural days after month end): on time on the 15th
        jan = evidence.submit(s, ent, n1, 2023, 1, energy={"electricity": 30_000, "raw_coal": 1_200},
                              files=[("发票.pdf", PDF)], today=date(2023, 2, 15))  # fmt: skip
        assert (jan["due_date"], jan["late"], jan["version"]) == ("2023-02-20", False, 1)
        assert jan["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
        feb = evidence.submit(s, ent, n1, 2023, 2, energy={"electricity": 28_000}, today=date(2023, 3, 25))
        assert (feb["due_date"], feb["late"]) == ("2023-03-20", True)
        with pytest.raises(ValueError, match="has not begun"):
            evidence.submit(s, ent, n1, 2023, 6, energy={"electricity": 1}, today=date(2023, 5, 31))
        with pytest.raises(ValueError, match="not a carrier"):
            evidence.submit(s, ent, n1, 2023, 3, energy={"moonlight": 1}, today=date(2023, 4, 2))
        with pytest.raises(ValueError, match="not one of"):
            evidence.submit(
                s, ent, n1, 2023, 3, parameters=[{"parameter": "colour", "value": 1}], today=date(2023, 4, 2)
            )
        with pytest.raises(ValueError, match="finite"):
            evidence.submit(s, ent, n1, 2023, 3, energy={"electricity": -5}, today=date(2023, 4, 2))
    with session_scope(house.url) as s:
        ent = actor(s, house, "ent_north")
        # a resubmission of January (late now) is version 2; the month stays "on time" by its first
        again = evidence.submit(s, ent, n1, 2023, 1, energy={"electricity": 31_000, "raw_coal": 1_200},
                                parameters=[{"parameter": "ncv", "item": "raw_coal", "value": 20.9, "unit": "GJ/t"}],
                                note="更正电表读数", today=date(2023, 4, 10))  # fmt: skip
        assert (again["version"], again["late"]) == (2, True)
    with session_scope(house.url) as s:
        grid = evidence.evidence_grid(s, house.park_id, 2023, [n1], today=date(2023, 4, 25))[n1]
        assert [c["status"] for c in grid[:5]] == ["on_time", "late", "missing", "not_due", "not_due"]
        assert (grid[0]["version"], grid[0]["late"], grid[2]["due_date"]) == (2, False, "2023-04-20")
        assert grid[3]["due_date"] == "2023-05-20" and grid[11]["due_date"] == "2024-01-20"
        # the annual report's check: the latest version of each month
        assert evidence.monthly_totals(s, n1, 2023) == {"electricity": 59_000.0, "raw_coal": 1_200.0}
        staff = actor(s, house, "staff2")
        rows = evidence.list_evidence(s, staff, 2023, n1)
        assert [(r["month"], r["version"]) for r in rows] == [(1, 2), (2, 1)]
        assert len(evidence.list_evidence(s, staff, 2023, n1, all_versions=True)) == 3
        status = {r["enterprise"]: r for r in evidence.monthly_status(s, staff, 2023, date(2023, 4, 25))}
        assert "N1" in status and status["N1"]["counts"]["missing"] == 1  # N1 is a key energy user (tagged)
        assert "E6" not in status  # designable only: no monthly evidence asked
        assert evidence.list_evidence(s, actor(s, house, "ent_south"), 2023) == []
        with pytest.raises(NotFound):
            evidence.list_evidence(s, actor(s, house, "ent_south"), 2023, n1)
        actions = log_actions(s)
        assert actions.count("evidence.submit") == 3 and actions.count("attachment.upload") == 1


def test_attachment_limits() -> None:
    with pytest.raises(ValueError, match="MiB"):
        attachments.check_file("big.pdf", b"%PDF" + b"0" * attachments.MAX_BYTES)
    with pytest.raises(ValueError, match="only"):
        attachments.check_file("run.exe", b"MZ")
    with pytest.raises(ValueError, match="not a pdf"):
        attachments.check_file("fake.pdf", b"<html>")
    assert attachments.check_file("../../etc/读数.png", b"\x89PNG\r\n\x1a\n....") == ("读数.png", "image/png")


def test_api_submit_download_and_scope(house: House) -> None:
    n1 = house.ids["N1.enterprise"]
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        csrf = login(c, house, "ent_north")
        values = json.dumps(
            {
                "energy": {"electricity": 1000},
                "parameters": [{"parameter": "output", "item": "玻璃", "value": 12, "unit": "t"}],
            }
        )
        r = c.post("/api/mrv/evidence", headers=csrf, data={"year": "2023", "month": "5", "values": values},
                   files=[("files", ("读数.pdf", PDF, "application/pdf")), ("files", ("x.csv", b"a,b\n1,2\n", "text/csv"))])  # fmt: skip
        assert r.status_code == 200, r.text
        sub = r.json()
        assert sub["enterprise"] == "N1" and len(sub["attachments"]) == 2
        url = sub["attachments"][0]["url"]
        got = c.get(url)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-disposition"].startswith("attachment")
        r = c.post("/api/mrv/evidence", headers=csrf, data={"year": "2023", "month": "5", "values": values},
                   files=[("files", ("x.exe", b"MZ", "application/octet-stream"))])  # fmt: skip
        assert r.status_code == 422 and "only" in r.text
        # what the probe sent: bad JSON, a 5 000-digit number, nesting 3 000 deep — a reason, not a 500
        for bad in ("{not json", '{"energy": {"electricity": ' + "9" * 5000 + "}}", "[" * 3000 + "]" * 3000):
            r = c.post("/api/mrv/evidence", headers=csrf, data={"year": "2023", "month": "5", "values": bad})
            assert r.status_code == 422 and "values" in r.text, (bad[:20], r.status_code)
        r = c.post("/api/mrv/evidence", headers=csrf,
                   data={"year": "2023", "month": "5", "values": values, "enterprise_id": str(house.ids["S1.enterprise"])})  # fmt: skip
        assert r.status_code == 404
        assert c.get(f"/api/mrv/evidence/status?year=2023&enterprise_id={n1}").status_code == 200
        assert c.get(f"/api/mrv/dqcp?enterprise_id={n1}").status_code == 200
        assert c.get("/mrv/enterprise").status_code == 200
    for user in ("ent_south", "staff3", "ent_other"):  # another enterprise, another park's staff and user
        with TestClient(create_app(Settings(), database_url=house.url)) as c:
            login(c, house, user)
            assert c.get(url).status_code == 404, user
            assert c.get(f"/api/mrv/evidence?year=2023&enterprise_id={n1}").status_code == 404, user
            assert c.get(f"/api/mrv/dqcp?enterprise_id={n1}").status_code == 404, user
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        login(c, house, "zone_north")  # the zone's officer reads the files of the zone
        assert c.get(url).status_code == 200


def test_cli_plan_and_evidence(house: House, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", house.url)
    runner = CliRunner()
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN, ensure_ascii=False), encoding="utf-8")
    base = ["--enterprise", "S1", "--park", CODE]
    res = runner.invoke(cli_app, ["mrv", "dqcp", "file", str(plan), *base, "--by", "ent_south", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["version"] == 1
    res = runner.invoke(cli_app, ["mrv", "dqcp", "file", str(plan), *base, "--by", "ent_south"])
    assert res.exit_code == 2 and "trigger" in res.output
    res = runner.invoke(cli_app, ["mrv", "dqcp", "file", str(plan), *base, "--by", "ent_north"])
    assert res.exit_code == 2  # not their enterprise
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    res = runner.invoke(cli_app, ["mrv", "evidence", "submit", *base, "--year", "2023", "--month", "1",
                                  "--energy", "electricity=20000", "--parameter", "output:玻璃=300:t",
                                  "--file", str(receipt), "--on", "2023-02-25", "--by", "ent_south", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["late"] is True and len(out["attachments"]) == 1
    res = runner.invoke(
        cli_app, ["mrv", "evidence", "list", "--year", "2023", "--enterprise", "S1", "--park", CODE, "--json"]
    )
    assert res.exit_code == 0, res.output
    assert [r["month"] for r in json.loads(res.stdout)] == [1]
    res = runner.invoke(cli_app, ["mrv", "dqcp", "list", *base, "--json"])
    assert res.exit_code == 0 and len(json.loads(res.stdout)) == 1


def test_plan_excel_form_round_trip(house: House, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    monkeypatch.setenv("GREENPARK_DATABASE_URL", house.url)
    runner = CliRunner()
    form = tmp_path / "plan.xlsx"
    base = ["--enterprise", "E12", "--park", CODE]
    res = runner.invoke(cli_app, ["mrv", "dqcp", "template", *base, "-o", str(form)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(form)
    wb["plan"].append(["boundary", "全厂"])
    for p in PLAN["parameters"]:
        wb["parameters"].append([p.get(c, "") for c in dqcp.PARAMETER_FIELDS])
    wb.save(form)
    res = runner.invoke(cli_app, ["mrv", "dqcp", "file", str(form), *base, "--by", "staff2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["parameter_count"] == 2
    # the form comes back filled in with the current version; a revision needs its trigger
    res = runner.invoke(cli_app, ["mrv", "dqcp", "template", *base, "-o", str(form)])
    wb = load_workbook(form)
    assert wb["parameters"].max_row == 3
    res = runner.invoke(cli_app, ["mrv", "dqcp", "file", str(form), *base, "--by", "staff2"])
    assert res.exit_code == 2 and "trigger" in res.output
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        csrf = login(c, house, "staff2")
        eid = house.ids["E12"]
        r = c.get(f"/api/mrv/dqcp/template.xlsx?enterprise_id={eid}")
        assert r.status_code == 200 and r.content.startswith(b"PK")
        for row in wb["plan"].iter_rows(min_row=2):
            if row[0].value == "revision_trigger":
                row[1].value = "facilities_changed"
            if row[0].value == "revision_note":
                row[1].value = "新增二号锅炉"
        wb.save(form)
        r = c.post("/api/mrv/dqcp/upload", headers=csrf, data={"enterprise_id": str(eid)},
                   files={"file": ("plan.xlsx", form.read_bytes(), "application/octet-stream")})  # fmt: skip
        assert r.status_code == 200, r.text
        assert (r.json()["version"], r.json()["revision_trigger"]) == (2, "facilities_changed")


def test_the_evidence_page_opens_on_the_year_the_register_asks_for(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walkthrough: E01 (designated for 2025 by the demo) opened on 2026, where nothing is asked."""
    from tests.conftest import demo_logins

    monkeypatch.setattr(evidence, "beijing_today", lambda: date(2026, 12, 3))
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        r = c.post(
            "/api/auth/login",
            json={"username": "enterprise", "password": demo_logins[fresh_demo_url]["enterprise"]},
        )
        assert r.status_code == 200, r.text
        assert c.get("/api/mrv/options").json()["year"] == 2025
        c.post("/api/auth/logout", headers={"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"] or ""})
        r = c.post(
            "/api/auth/login", json={"username": "staff", "password": demo_logins[fresh_demo_url]["staff"]}
        )
        # an officer too (the second walkthrough): only 2025's register names units, so 2025
        assert c.get("/api/mrv/options").json()["year"] == 2025

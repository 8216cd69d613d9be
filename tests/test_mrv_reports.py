"""The annual GHG report (issue 13 §2 third and fourth bullets, §3 first bullet): the figures checked
by hand from GB/T 32150's formula, rounding, the grid factor of the year, the consistency checks,
versions that are never edited, the park's review and who may do it, the Excel form's round trip
and its refusals, and scope — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.demo import load_demo
from greenpark.services.mrv import report_workbook as rw
from greenpark.services.mrv import reports as rp
from greenpark.services.mrv.access import AccessDenied, Actor, NotFound, actor_for_user
from greenpark.services.park import auth
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE, NORTH_NAME, SecondPark, add_second_park
from tests.routes import api_routes

runner = CliRunner()


@dataclass
class World:
    url: str
    lake: SecondPark
    demo_logins: dict[str, str]


@pytest.fixture(scope="module")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = new_database(backend, tmp_path_factory.mktemp("mrv-reports"))
    with session_scope(url) as s:
        report = load_demo(s, synthetic_air=False)
        logins = {u: p for u, p, _r in report.logins}
    lake = add_second_park(url)
    yield World(url, lake, logins)
    dispose_engine(url)


def _actor(url: str, username: str) -> Actor:
    with session_scope(url) as s:
        user = auth.get_user(s, username)
        park = s.scalars(select(m.Park).where(m.Park.code == CODE)).one()
        return actor_for_user(user, park.id)


def _n1(w: World) -> int:
    return w.lake.ids["N1.enterprise"]


def _diesel_and_grid(q_diesel: float = 100.0, mwh: float = 1000.0) -> rp.ReportInput:
    return rp.ReportInput(
        combustion=[rp.CombustionIn("diesel", q_diesel)],
        electricity=[rp.PurchasedIn(mwh)],
        output=[rp.OutputIn("锂电池隔膜", 1200.0, "万平方米")],
        contact="张三 0715-1234567",
    )


def _submit(url: str, username: str, enterprise_id: int, year: int, inp: rp.ReportInput) -> int:
    actor = _actor(url, username)
    with session_scope(url) as s:
        return rp.submit_report(s, actor, enterprise_id, year, inp).id


def _evidence(
    url: str, enterprise_id: int, year: int, months: range, item: str, value: float, unit: str
) -> None:
    with session_scope(url) as s:
        park_id = s.get(m.Enterprise, enterprise_id).park_id  # type: ignore[union-attr]
        for mo in months:
            ev = m.MrvEvidence(park_id=park_id, enterprise_id=enterprise_id, year=year, month=mo, version=1,
                               due_date=date(year, mo, 28), submitted_by="ent_north")  # fmt: skip
            s.add(ev)
            s.flush()
            s.add(
                m.MrvEvidenceValue(evidence_id=ev.id, parameter="energy", item=item, value=value, unit=unit)
            )


# ------------------------------------------------------------------------------ figures


def test_a_report_checked_by_hand(world: World) -> None:
    """GB/T 32150-2015 Appendix A: E = FC × NCV × CC × OF × 44/12 and E = AD_elec × EF_grid.
    Defaults of the provincial guideline / NDRC guidelines for diesel: NCV 42.652 GJ/t, carbon
    content 20.2 tC/TJ = 0.0202 tC/GJ, oxidation 0.98; the MEE national grid factor for 2022 data
    0.5703 t CO2/MWh (环办气候函〔2023〕43号), carried forward to 2023 (no later value in the library).
    100 t × 42.652 × 0.0202 × 0.98 × 44/12 = 309.5910 t; 1000 MWh × 0.5703 = 570.3 t. Energy:
    GB/T 2589 Appendix A, diesel 1.4571 kgce/kg → 145.71 tce; electricity 0.1229 kgce/kWh → 122.9 tce.
    Tolerances: float rounding only."""
    rid = _submit(world.url, "ent_north", _n1(world), 2023, _diesel_and_grid())
    with session_scope(world.url) as s:
        r = s.get(m.MrvReport, rid)
        assert r is not None and r.version == 1 and r.status == "submitted" and r.source == "page"
        comb = next(ln for ln in r.lines if ln.section == "combustion")
        assert comb.item == "diesel" and comb.unit == "t"
        assert (comb.ncv_source, comb.carbon_content_source, comb.oxidation_source) == ("default",) * 3
        assert comb.ncv_gj_per_unit == pytest.approx(42.652)
        assert comb.carbon_content_tc_per_gj == pytest.approx(0.0202)
        assert comb.oxidation_fraction == pytest.approx(0.98)
        assert comb.factor_ref.startswith("provincial-2011 v")
        assert comb.co2_t == pytest.approx(100 * 42.652 * 0.0202 * 0.98 * 44 / 12, rel=1e-12)
        assert comb.co2_t == pytest.approx(309.5910, abs=1e-4)
        el = next(ln for ln in r.lines if ln.section == "electricity")
        assert el.factor == pytest.approx(0.5703) and el.co2_t == pytest.approx(570.3)
        assert "grid-mee-enterprise" in r.grid_factor_ref and "2022" in r.grid_factor_ref
        # the factor's own year, carried forward to 2023
        assert r.year == 2023 and " 2022: 0.5703" in r.grid_factor_ref
        assert (r.combustion_co2_t, r.process_co2_t, r.electricity_co2_t, r.heat_co2_t) == (310, 0, 570, 0)
        assert (r.total_excl_purchased_co2_t, r.total_co2_t) == (310, 880)
        assert r.energy_tce == pytest.approx(145.71 + 122.9)
        out = next(ln for ln in r.lines if ln.section == "output")
        assert (out.item, out.quantity, out.co2_t) == ("锂电池隔膜", 1200.0, None)
        entry = s.scalars(select(m.MrvLogEntry).where(m.MrvLogEntry.entity == "mrv_report",
                                                      m.MrvLogEntry.entity_id == rid)).one()  # fmt: skip
        payload = json.loads(entry.payload_json)
        assert entry.action == "report.submit" and payload["totals"]["total_co2_t"] == 880
        # the officers of the park (and the zone) were told
        staff = auth.get_user(s, "staff2")
        assert s.scalars(select(m.Notification).where(m.Notification.user_id == staff.id,
                                                      m.Notification.key == f"report.submit.{rid}")).one()  # fmt: skip


def test_measured_parameters_process_heat_and_rounding(world: World) -> None:
    """Measured NCV/CC/OF replace the defaults; tce from a measured NCV is GJ ÷ 29.3076.
    Limestone: 50 t × 0.43971 (44.0095/100.0869, IPCC 2006 Vol.3 Table 2.1) = 21.9855 → 22.
    Heat: 1000 GJ × 0.11 (NDRC guidelines) = 110; measured 0.095 → 95. Natural gas 10 × 10⁴ Nm³
    measured 380 GJ/10⁴Nm³, 0.0153 tC/GJ, 0.99: 3800 × 0.0153 × 0.99 × 44/12 = 211.0647 → 211."""
    s1 = _actor(world.url, "staff2")
    inp = rp.ReportInput(
        combustion=[
            rp.CombustionIn("natural_gas", 10.0, "measured", 380.0, "measured", 0.0153, "measured", 0.99)
        ],
        process=[rp.ProcessIn("limestone", 50.0)],
        heat=[rp.PurchasedIn(1000.0), rp.PurchasedIn(1000.0, "site B", "measured", 0.095)],
    )
    with session_scope(world.url) as s:
        r = rp.submit_report(s, s1, world.lake.ids["S1.enterprise"], 2022, inp)
        gas = next(ln for ln in r.lines if ln.section == "combustion")
        assert gas.co2_t == pytest.approx(3800 * 0.0153 * 0.99 * 44 / 12)
        assert gas.energy_tce == pytest.approx(3800 / 29.3076)
        assert gas.factor_ref == ""  # nothing default
        assert r.combustion_co2_t == 211 and r.process_co2_t == 22 and r.heat_co2_t == 205
        assert r.total_excl_purchased_co2_t == 233 and r.total_co2_t == 233 + 205
        assert "ndrc-industry-heat" in r.heat_factor_ref and "measured" in r.heat_factor_ref
        # a measured value must be there and plausible; a fuel without a default needs its values
        bad = rp.ReportInput(combustion=[rp.CombustionIn("diesel", 1.0, "measured", None),
                                         rp.CombustionIn("oil_products", 1.0)],
                             electricity=[rp.PurchasedIn(5.0, factor_source="measured", factor=0.4)])  # fmt: skip
        problems = rp.input_problems(bad, rp.report_defaults(s, 2022))
        assert {(p[0], p[1], p[2]) for p in problems} >= {
            ("combustion", 0, "ncv_gj_per_unit"), ("combustion", 1, "ncv_gj_per_unit"),
            ("electricity", 0, "factor_source")}  # fmt: skip
        # an empty row of the form (the walkthrough stored a 0 t report from one) is not a line
        empty = rp.ReportInput(electricity=[rp.PurchasedIn(0.0)])
        assert [(p[0], p[2]) for p in rp.input_problems(empty, rp.report_defaults(s, 2022))] == [
            ("electricity", "quantity")
        ]


def test_the_grid_factor_of_the_year_with_carry_forward(world: World) -> None:
    """grid-mee-enterprise: 2019-2020 0.6101, 2021 0.5810 (环办气候函〔2022〕111号), 2022 0.5703
    (环办气候函〔2023〕43号); later years carry 2022 forward, said so; before 2019 nothing."""
    with session_scope(world.url) as s:
        d21 = rp.report_defaults(s, 2021)
        assert d21.grid_factor_tco2_per_mwh == pytest.approx(0.5810) and "carried" not in d21.grid_factor_ref
        d22 = rp.report_defaults(s, 2022)
        assert d22.grid_factor_tco2_per_mwh == pytest.approx(0.5703) and d22.grid_factor_year == 2022
        d25 = rp.report_defaults(s, 2025)
        assert d25.grid_factor_tco2_per_mwh == pytest.approx(0.5703) and d25.grid_factor_year == 2022
        assert " 2022: 0.5703" in d25.grid_factor_ref  # the year of the factor used, said on the page
        assert d25.grid_factor_tco2_per_mwh != pytest.approx(0.5257)  # not the plan's 2012 regional factor
        with pytest.raises(ValueError, match="no grid factor"):
            rp.report_defaults(s, 2015)


# ------------------------------------------------------------------------------ checks


def test_checks_against_evidence_previous_year_and_metered(world: World) -> None:
    ent = _n1(world)
    # 2026: 12 months × 8.5 t diesel = 102 t and 12 × 10 ×10⁴ kWh = 1200 MWh
    _evidence(world.url, ent, 2026, range(1, 13), "diesel", 8.5, "t")
    with session_scope(world.url) as s:
        evs = s.scalars(
            select(m.MrvEvidence).where(m.MrvEvidence.enterprise_id == ent, m.MrvEvidence.year == 2026)
        )
        for ev in evs:
            s.add(m.MrvEvidenceValue(evidence_id=ev.id, parameter="energy", item="electricity", value=10.0,
                                     unit="10^4 kWh"))  # fmt: skip
    rid = _submit(world.url, "ent_north", ent, 2026, _diesel_and_grid(100.0, 1200.0))
    with session_scope(world.url) as s:
        checks = {(c.check, c.item): c for c in s.get(m.MrvReport, rid).checks}  # type: ignore[union-attr]
        d = checks[("evidence_sum", "diesel")]
        # 100 vs 102: −1.96 % within the 2 % of rules.yaml
        assert d.result == "pass" and d.reported == 100 and d.reference == pytest.approx(102)
        assert d.difference_fraction == pytest.approx(-2 / 102) and d.tolerance_fraction == 0.02
        e = checks[("evidence_sum", "electricity")]
        assert e.result == "pass" and e.reported == pytest.approx(120.0)  # 1200 MWh = 120 ×10⁴ kWh
        assert checks[("evidence_months", "")].result == "pass"
        assert checks[("previous_year", "")].result == "none"
        assert checks[("metered", "")].result == "none"
    # outside the tolerance: 90 t vs 102 t → fail; a month missing → warn
    _evidence(world.url, ent, 2027, range(1, 12), "diesel", 8.5, "t")
    rid = _submit(world.url, "ent_north", ent, 2027, _diesel_and_grid(90.0, 1000.0))
    with session_scope(world.url) as s:
        c = s.scalars(select(m.MrvReportCheck).where(m.MrvReportCheck.report_id == rid,
                                                     m.MrvReportCheck.check == "evidence_sum",
                                                     m.MrvReportCheck.item == "diesel")).one()  # fmt: skip
        # 90 t against 11 × 8.5 = 93.5 t: −3.74 %, outside 2 %
        assert c.result == "fail"
        assert c.difference_fraction == pytest.approx((90 - 93.5) / 93.5)
        months = s.scalars(select(m.MrvReportCheck).where(m.MrvReportCheck.report_id == rid,
                                                          m.MrvReportCheck.check == "evidence_months")).one()  # fmt: skip
        assert months.result == "warn" and json.loads(months.detail_json)["missing_months"] == [12]


def test_previous_year_and_metered_checks(world: World) -> None:
    ent = _n1(world)
    staff = _actor(world.url, "staff2")
    r28 = _submit(world.url, "ent_north", ent, 2028, _diesel_and_grid(100.0, 1000.0))  # 880 t
    with session_scope(world.url) as s:
        rp.review_report(s, staff, r28, accept=True)
        park_id = s.get(m.Enterprise, ent).park_id  # type: ignore[union-attr]
        s.add(m.ActivityRecord(natural_key=f"test-metered-{ent}-2029", park_id=park_id, enterprise_id=ent, year=2029,
                               carrier_code="electricity", quantity=100.0, unit="10^4 kWh", quality="metered"))  # fmt: skip
    similar = _submit(world.url, "ent_north", ent, 2029, _diesel_and_grid(100.0, 1040.0))
    bigger = _submit(world.url, "ent_north", ent, 2029, _diesel_and_grid(400.0, 2000.0))
    with session_scope(world.url) as s:
        a = {(c.check, c.item): c for c in s.get(m.MrvReport, similar).checks}  # type: ignore[union-attr]
        b = {(c.check, c.item): c for c in s.get(m.MrvReport, bigger).checks}  # type: ignore[union-attr]
        assert a[("previous_year", "")].result == "pass" and a[("previous_year", "")].reference == 880
        assert b[("previous_year", "")].result == "warn"
        assert json.loads(b[("previous_year", "")].detail_json)["ask_reason"] is True
        # metered 100 ×10⁴ kWh = 1000 MWh: 1040 MWh is +4 % (within 5 %), 2000 MWh is not
        assert a[("metered", "electricity")].result == "pass"
        assert b[("metered", "electricity")].result == "warn"


# ------------------------------------------------------------------------------ versions and review


def test_versions_are_kept_and_never_edited(world: World) -> None:
    ent = _n1(world)
    v1 = _submit(world.url, "ent_north", ent, 2030, _diesel_and_grid(100.0, 1000.0))
    staff = _actor(world.url, "staff2")
    with session_scope(world.url) as s:
        before = {
            k: getattr(s.get(m.MrvReport, v1), k) for k in ("total_co2_t", "combustion_co2_t", "energy_tce")
        }
        with pytest.raises(ValueError, match="comment"):
            rp.review_report(s, staff, v1, accept=False, comment="  ")
        rp.review_report(s, staff, v1, accept=False, comment="柴油用量与发票不符")
    with session_scope(world.url) as s:
        r1 = s.get(m.MrvReport, v1)
        assert r1 is not None and r1.status == "returned" and r1.review_comment == "柴油用量与发票不符"
        assert {k: getattr(r1, k) for k in before} == before  # the review does not touch the figures
        ent_user = auth.get_user(s, "ent_north")
        note = s.scalars(select(m.Notification).where(m.Notification.user_id == ent_user.id,
                                                      m.Notification.key == f"report.return.{v1}")).one()  # fmt: skip
        assert note.kind == "returned"
    v2 = _submit(world.url, "ent_north", ent, 2030, _diesel_and_grid(110.0, 1000.0))
    with session_scope(world.url) as s:
        r1, r2 = s.get(m.MrvReport, v1), s.get(m.MrvReport, v2)
        assert r1 is not None and r2 is not None
        assert (r1.version, r1.status, r2.version, r2.status) == (1, "superseded", 2, "submitted")
        assert r1.total_co2_t == before["total_co2_t"] and len(r1.lines) == 3  # v1 kept as it was
        with pytest.raises(ValueError, match="only a submitted report"):
            rp.review_report(s, staff, v1, accept=True)
        d = rp.report_detail(s, staff, v2)
        assert [h["version"] for h in d["history"]] == [1, 2]
        actions = [e.action for e in s.scalars(select(m.MrvLogEntry).where(m.MrvLogEntry.entity == "mrv_report",
                                                                           m.MrvLogEntry.entity_id.in_((v1, v2))))]  # fmt: skip
        assert sorted(actions) == ["report.return", "report.submit", "report.submit"]


def test_no_route_modifies_a_submitted_report() -> None:
    app = create_app(Settings(), database_url="sqlite://")
    routes = [r for r in api_routes(app) if r.path.startswith("/api/mrv/reports")]
    writes = {(r.path, meth) for r in routes for meth in r.methods if meth not in ("GET", "HEAD")}
    assert writes == {("/api/mrv/reports", "POST"), ("/api/mrv/reports/upload", "POST"),
                      ("/api/mrv/reports/{report_id}/review", "POST")}  # fmt: skip


def _login(c: TestClient, user: str, password: str) -> dict[str, str]:
    r = c.post("/api/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}


def test_review_on_the_api_and_who_may(world: World) -> None:
    rid = _submit(world.url, "ent_north", _n1(world), 2031, _diesel_and_grid())
    logins = world.lake.logins
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        h = _login(c, "ent_north", logins["ent_north"])
        r = c.post(f"/api/mrv/reports/{rid}/review", json={"decision": "accept"}, headers=h)
        assert r.status_code == 403, r.text  # an enterprise cannot review
        assert c.get(f"/api/mrv/reports/{rid}").json()["may_review"] is False
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        h = _login(c, "zone_south", logins["zone_south"])
        assert c.get(f"/api/mrv/reports/{rid}").status_code == 404  # another zone's
        r = c.post(f"/api/mrv/reports/{rid}/review", json={"decision": "accept"}, headers=h)
        assert r.status_code == 404, r.text
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        h = _login(c, "zone_north", logins["zone_north"])
        assert c.get(f"/api/mrv/reports/{rid}").json()["may_review"] is True
        r = c.post(f"/api/mrv/reports/{rid}/review", json={"decision": "return"}, headers=h)
        assert r.status_code == 422, r.text  # a return needs a comment
        r = c.post(f"/api/mrv/reports/{rid}/review", json={"decision": "accept", "comment": "ok"}, headers=h)
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


def test_scope_other_park_and_other_enterprise(world: World) -> None:
    rid = _submit(world.url, "ent_north", _n1(world), 2032, _diesel_and_grid())
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        _login(c, "staff", world.demo_logins["staff"])  # the demo park's staff
        assert c.get(f"/api/mrv/reports/{rid}").status_code == 404
        assert NORTH_NAME not in c.get("/api/mrv/reports").text
        assert c.get("/api/mrv/reports/template.xlsx?year=2032&enterprise=N1").status_code == 404
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        _login(c, "ent_south", world.lake.logins["ent_south"])
        assert c.get(f"/api/mrv/reports/{rid}").status_code == 404
        assert NORTH_NAME not in c.get("/api/mrv/reports?year=2032").text
    with session_scope(world.url) as s:
        south = _actor(world.url, "ent_south")
        with pytest.raises(NotFound):
            rp.report_detail(s, south, rid)
        with pytest.raises(NotFound):
            rp.submit_report(s, south, _n1(world), 2032, _diesel_and_grid())
        with pytest.raises(AccessDenied):
            rp.review_report(s, _actor(world.url, "ent_north"), rid, accept=True)


def test_the_page_form_submits_on_the_api(world: World) -> None:
    body = {"year": 2033, "combustion": [{"carrier": "diesel", "quantity": 100}],
            "electricity": [{"quantity": 1000}], "output": [{"product": "隔膜", "quantity": 5, "unit": "t"}]}  # fmt: skip
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        h = _login(c, "ent_north", world.lake.logins["ent_north"])
        r = c.post("/api/mrv/reports", json=body, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["totals"]["total_co2_t"] == 880 and r.json()["version"] == 1
        bad = {**body, "combustion": [{"carrier": "diesel", "quantity": 1, "ncv_source": "measured"}]}
        r = c.post("/api/mrv/reports", json=bad, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ncv_gj_per_unit", r.text
        r = c.post(
            "/api/mrv/reports",
            json={**body, "combustion": [{"carrier": "diesel", "quantity": -1}]},
            headers=h,
        )
        assert r.status_code == 422
        d = c.get("/api/mrv/reports/defaults?year=2033").json()
        assert d["fuels"]["diesel"]["ncv_gj_per_unit"] == pytest.approx(42.652)
        assert "limestone" in d["process"]
        assert c.get("/mrv/reports").status_code == 200


# ------------------------------------------------------------------------------ the Excel form


def _cli(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> object:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", url)
    return runner.invoke(cli_app, list(args))


def test_excel_round_trip_and_a_bad_cell(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ent = _n1(world)
    _evidence(world.url, ent, 2034, range(1, 13), "diesel", 10.0, "t")
    f = tmp_path / "report.xlsx"
    res = _cli(world.url, monkeypatch, "mrv", "report", "template", "--enterprise", "N1", "--year", "2034",
               "-o", str(f), "--by", "ent_north", "--park", CODE)  # fmt: skip
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    wb = load_workbook(f)
    assert wb.sheetnames == ["说明", "基本信息", "化石燃料燃烧", "工业生产过程", "购入电力热力", "产品产量"]
    basic = wb["基本信息"]
    assert basic["A2"].value == "N1" and basic["D2"].value == 2034
    comb = wb["化石燃料燃烧"]
    header = [c.value for c in comb[1]]
    assert comb.cell(2, header.index("carrier") + 1).value == "diesel"
    assert comb.cell(2, header.index("evidence_sum") + 1).value == pytest.approx(120.0)  # the hint
    assert any("diesel" in (dv.formula1 or "") for dv in comb.data_validations.dataValidation)
    comb.cell(2, header.index("quantity") + 1).value = 120
    pur = wb["购入电力热力"]
    pur.append(["electricity", "总表", 1000, "MWh", "default", None])
    pro = wb["工业生产过程"]
    pro.append(["limestone", 50, "t", "default", None])
    wb["产品产量"].append(["隔膜", 300, "万平方米"])
    good = tmp_path / "good.xlsx"
    wb.save(good)
    res = _cli(
        world.url,
        monkeypatch,
        "mrv",
        "report",
        "submit",
        str(good),
        "--by",
        "ent_north",
        "--park",
        CODE,
        "--json",
    )
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    out = json.loads(res.output)  # type: ignore[attr-defined]
    # 120 × 42.652 × 0.0202 × 0.98 × 44/12 = 371.51 → 372; 50 × 0.43971 = 21.99 → 22; 570.3 → 570
    assert (out["enterprise"], out["year"], out["version"], out["status"]) == ("N1", 2034, 1, "submitted")
    assert out["totals"]["combustion_co2_t"] == 372 and out["totals"]["process_co2_t"] == 22
    assert out["totals"]["total_co2_t"] == 372 + 22 + 570
    assert {c["check"] for c in out["checks"]} >= {"evidence_sum", "previous_year", "metered"}
    with session_scope(world.url) as s:
        assert s.get(m.MrvReport, out["report"]).source == "excel"  # type: ignore[union-attr]
    # a bad cell: named by file, sheet, row and column; nothing stored
    wb = load_workbook(good)
    wb["化石燃料燃烧"].cell(2, header.index("quantity") + 1).value = "一百二十"
    wb["购入电力热力"].cell(2, 5).value = "measured"  # electricity takes the published factor
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    with session_scope(world.url) as s:
        n = s.scalar(select(func.count()).select_from(m.MrvReport))
    res = _cli(
        world.url,
        monkeypatch,
        "mrv",
        "report",
        "submit",
        str(bad),
        "--by",
        "ent_north",
        "--park",
        CODE,
        "--json",
    )
    assert res.exit_code == 2
    text = res.output  # type: ignore[attr-defined]
    assert "bad.xlsx, sheet 化石燃料燃烧, row 2, column quantity" in text, text
    with session_scope(world.url) as s:
        assert s.scalar(select(func.count()).select_from(m.MrvReport)) == n
    # the same upload on the API: 422 with the cells; the first fixed, the service's rule still names its cell
    wb["化石燃料燃烧"].cell(2, header.index("quantity") + 1).value = 120
    buf = io.BytesIO()
    wb.save(buf)
    with TestClient(create_app(Settings(), database_url=world.url)) as c:
        h = _login(c, "ent_north", world.lake.logins["ent_north"])
        r = c.post(
            "/api/mrv/reports/upload", files={"file": ("bad2.xlsx", buf.getvalue(), rw_mime())}, headers=h
        )
        assert r.status_code == 422, r.text
        cells = {(e["sheet"], e["row"], e["column"]) for e in r.json()["errors"]}
        assert cells == {("购入电力热力", 2, "factor_source")}, cells
        r = c.post(
            "/api/mrv/reports/upload", files={"file": ("good.xlsx", good.read_bytes(), rw_mime())}, headers=h
        )
        assert r.status_code == 200 and r.json()["version"] == 2, r.text
        t = c.get("/api/mrv/reports/template.xlsx?year=2034")  # an enterprise user: its own
        assert t.status_code == 200
        prefilled = load_workbook(io.BytesIO(t.content))["化石燃料燃烧"]
        assert prefilled.cell(2, header.index("quantity") + 1).value == 120  # the latest version's line
    with session_scope(world.url) as s:
        assert s.scalar(select(func.count()).select_from(m.MrvReport)) == n + 1
    # list and review on the CLI
    res = _cli(
        world.url,
        monkeypatch,
        "mrv",
        "report",
        "list",
        "--year",
        "2034",
        "--enterprise",
        "N1",
        "--park",
        CODE,
        "--json",
    )
    rows = json.loads(res.output)  # type: ignore[attr-defined]
    assert [(r["version"], r["status"]) for r in rows] == [(2, "submitted"), (1, "superseded")]
    res = _cli(
        world.url,
        monkeypatch,
        "mrv",
        "report",
        "review",
        str(rows[0]["id"]),
        "--accept",
        "--by",
        "ent_north",
        "--park",
        CODE,
    )
    assert res.exit_code == 2  # an enterprise may not review
    res = _cli(world.url, monkeypatch, "mrv", "report", "review", str(rows[0]["id"]), "--return", "--comment", "补充发票",
               "--by", "staff2", "--park", CODE, "--json")  # fmt: skip
    assert res.exit_code == 0 and json.loads(res.output)["status"] == "returned", res.output  # type: ignore[attr-defined]
    res = _cli(world.url, monkeypatch, "mrv", "report", "show", str(rows[0]["id"]), "--park", CODE, "--json")
    assert json.loads(res.output)["review_comment"] == "补充发票"  # type: ignore[attr-defined]


def rw_mime() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_workbook_reader_alone() -> None:
    """English sheet names are read too; a missing basic sheet is named."""
    with pytest.raises(rw.ReportWorkbookRejected) as exc:
        rw.read_report_workbook("empty.xlsx", _blank_workbook())
    assert "basic" in str(exc.value.errors[0])


def _blank_workbook() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["x"])  # type: ignore[union-attr]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

"""The key-unit register (issue 13 §1): figures from reports or records, thresholds and reasons,
officers' decisions with reasons, obligations, the park's deadlines; the API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli_app
from greenpark.demo import load_reference
from greenpark.services.mrv import register
from greenpark.services.mrv.access import AccessDenied, Actor, actor_for_user
from greenpark.services.park import auth
from greenpark.services.portfolio.onboarding import create_park
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import new_database
from tests.parks import CODE, add_second_park, second_park_workbook

OTHER = "other-park"
YEAR = 2023


@dataclass
class House:
    """The second park (N1, S1 and the register's test enterprises E12, E6, T1) and a third park
    with its own staff and enterprise user."""

    url: str
    logins: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    park_id: int = 0


def make_house(url: str) -> House:
    with session_scope(url) as s:
        load_reference(s)
    lake = add_second_park(url)
    h = House(url, dict(lake.logins), {k: v for k, v in lake.ids.items() if k.endswith(".enterprise")})
    with session_scope(url) as s:
        park = s.scalars(select(m.Park).where(m.Park.code == CODE)).one()
        h.park_id = park.id
        north = next(z for z in park.zones if z.code == "north")
        for code, tags in (("E12", ""), ("E6", ""), ("T1", "key_carbon_emitter")):
            e = m.Enterprise(park_id=park.id, zone_id=north.id, code=code, name=f"测试企业{code}", tags=tags)
            s.add(e)
            s.flush()
            h.ids[code] = e.id
        # E12: 12 000 tce in its records (given in tce only); E6: 6 000 tce in a report the park accepted
        s.add(m.ActivityRecord(natural_key=f"{park.id}|test|E12|{YEAR}", park_id=park.id, zone_id=north.id,
                               enterprise_id=h.ids["E12"], year=YEAR, boundary="all", energy_tce=12_000.0,
                               sector="industry", source_ref="test"))  # fmt: skip
        s.add(m.MrvReport(park_id=park.id, enterprise_id=h.ids["E6"], year=YEAR, version=1, status="accepted",
                          energy_tce=6_000.0, total_co2_t=15_000.0, submitted_by="test"))  # fmt: skip
        # N1: records say 380 000 MWh, but its verified report (v2) holds 9 000 tce and 20 000 t, and
        # the verifier's statement says 20 400 t (a conservative estimate): the statement's figure counts
        for version, status, tce in ((1, "superseded", 9_500.0), (2, "verified", 9_000.0)):
            rep = m.MrvReport(park_id=park.id, enterprise_id=h.ids["N1.enterprise"], year=YEAR, version=version,
                              status=status, energy_tce=tce, total_co2_t=20_000.0, submitted_by="test")  # fmt: skip
            s.add(rep)
        s.flush()
        body = m.MrvBody(park_id=park.id, code="VB-REG", name="测试核查机构")
        s.add(body)
        s.flush()
        s.add(m.MrvVerification(park_id=park.id, enterprise_id=h.ids["N1.enterprise"], year=YEAR, body_id=body.id,
                                initial_report_id=rep.id, final_report_id=rep.id, stage="closed", assigned_by="test",
                                conclusion="pass", reported_total_co2_t=20_000.0, verified_total_co2_t=20_400.0))  # fmt: skip
        create_park(s, "other.xlsx", second_park_workbook(OTHER), by="test")
        other = s.scalars(select(m.Park).where(m.Park.code == OTHER)).one()
        other_n1 = s.scalars(
            select(m.Enterprise).where(m.Enterprise.park_id == other.id, m.Enterprise.code == "N1")
        ).one()
        h.ids["other.N1"] = other_n1.id
        for name, role, extra in (("staff3", auth.Role.PARK_STAFF, {}),
                                  ("ent_other", auth.Role.ENTERPRISE, {"enterprise_id": other_n1.id})):  # fmt: skip
            auth.create_user(s, name, f"{name}-password-1", role, park_id=other.id, by="test", **extra)
            h.logins[name] = f"{name}-password-1"
    return h


@pytest.fixture(scope="module")
def house(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[House]:
    url = new_database(backend, tmp_path_factory.mktemp("mrv-register"))
    yield make_house(url)
    dispose_engine(url)


def actor(s, h: House, username: str) -> Actor:  # type: ignore[no-untyped-def]
    return actor_for_user(auth.get_user(s, username), h.park_id)


def login(c: TestClient, h: House, user: str) -> dict[str, str]:
    r = c.post("/api/auth/login", json={"username": user, "password": h.logins[user]})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": c.get("/api/auth/me").json()["csrf_token"]}


def rows_by_code(rows: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["enterprise"]: r for r in rows}


def test_figures_thresholds_reasons_and_obligations(house: House) -> None:
    with session_scope(house.url) as s:
        rows = rows_by_code(register.register(s, actor(s, house, "staff2"), YEAR))
    # 12 000 tce ≥ 10 000: a key energy user by rule, from its records
    e12 = rows["E12"]
    assert e12["source"] == "records" and e12["energy_tce"] == pytest.approx(12_000.0)
    assert "energy_over_threshold" in e12["reasons"] and e12["kinds"] == ["key_energy_user"]
    assert e12["obligations"] == ["energy_report", "monthly_evidence"]
    # 6 000 tce: designable only — not a unit until an officer designates it
    e6 = rows["E6"]
    assert (e6["source"], e6["energy_tce"], e6["co2_t"]) == ("report", 6_000.0, 15_000.0)
    assert e6["reasons"] == ["energy_designable"] and e6["kinds"] == [] and e6["obligations"] == []
    # the verified report wins over records and over the superseded version; the file's tag counts
    n1 = rows["N1"]
    assert (n1["source"], n1["energy_tce"], n1["co2_t"]) == ("verified_report", 9_000.0, 20_400.0)
    assert n1["reasons"] == ["energy_designable", "tagged_in_enterprise_file"] and n1["kinds"] == [
        "key_energy_user"
    ]
    t1 = rows["T1"]
    assert t1["source"] == "none" and t1["kinds"] == ["key_carbon_emitter"]
    assert t1["obligations"] == ["dqcp", "monthly_evidence", "annual_report", "verification"]
    # S1: 240 000 MWh of electricity in its records — over both thresholds by the inventory
    s1 = rows["S1"]
    assert s1["source"] == "records" and s1["energy_tce"] > 10_000 and s1["co2_t"] > 26_000
    assert {"energy_over_threshold", "co2_over_threshold"} <= set(s1["reasons"])
    assert s1["kinds"] == ["key_energy_user", "key_carbon_emitter"]
    with session_scope(house.url) as s:
        obliged = set(register.must_report(s, house.park_id, YEAR))
    assert {house.ids["E12"], house.ids["T1"]} <= obliged and house.ids["E6"] not in obliged


def test_decisions_need_a_reason_and_the_latest_holds(house: House) -> None:
    with session_scope(house.url) as s:
        staff = actor(s, house, "staff2")
        with pytest.raises(ValueError, match="reason"):
            register.decide(s, staff, house.ids["E6"], YEAR, "key_energy_user", True, "  ")
        with pytest.raises(AccessDenied):
            register.decide(s, actor(s, house, "ent_north"), house.ids["N1.enterprise"], YEAR,
                            "key_energy_user", False, "we are small")  # fmt: skip
        with pytest.raises(AccessDenied):
            register.decide(
                s, actor(s, house, "zone_north"), house.ids["E6"], YEAR, "key_energy_user", True, "x"
            )
        before = s.scalar(
            select(func.count()).select_from(m.MrvLogEntry).where(m.MrvLogEntry.action == "register.decide")
        )
    with session_scope(house.url) as s:
        staff = actor(s, house, "staff2")
        register.decide(
            s, staff, house.ids["E6"], YEAR, "key_energy_user", True, "省节能主管部门确定 (letter 12)"
        )
        register.decide(
            s, staff, house.ids["S1.enterprise"], YEAR, "key_carbon_emitter", False, "first attempt"
        )
        register.decide(
            s,
            staff,
            house.ids["S1.enterprise"],
            YEAR,
            "key_carbon_emitter",
            False,
            "已关停锅炉，排放低于门槛",
        )
    with session_scope(house.url) as s:
        rows = rows_by_code(register.register(s, actor(s, house, "staff2"), YEAR))
        e6, s1 = rows["E6"], rows["S1"]
        assert e6["kinds"] == ["key_energy_user"] and "designated" in e6["reasons"]
        assert e6["decisions"]["key_energy_user"]["reason"].startswith("省节能")
        assert s1["kinds"] == ["key_energy_user"] and "exempted" in s1["reasons"]
        assert s1["decisions"]["key_carbon_emitter"]["reason"] == "已关停锅炉，排放低于门槛"
        assert "verification" not in s1["obligations"]
        history = register.decisions(s, actor(s, house, "staff2"), YEAR)
        assert [d["reason"] for d in history][:2] == [
            "已关停锅炉，排放低于门槛",
            "first attempt",
        ]  # kept, newest first
        after = s.scalar(
            select(func.count()).select_from(m.MrvLogEntry).where(m.MrvLogEntry.action == "register.decide")
        )
        assert after - before == 3
        assert (
            s.scalar(
                select(func.count())
                .select_from(m.AuditEvent)
                .where(m.AuditEvent.entity == "mrv_unit_decision")
            )
            >= 3
        )
        # scope: the zone officer of the south sees S1 only, an enterprise user its own row
        south = rows_by_code(register.register(s, actor(s, house, "zone_south"), YEAR))
        assert set(south) == {"S1"}
        assert set(rows_by_code(register.register(s, actor(s, house, "ent_north"), YEAR))) == {"N1"}


def test_api_register_decisions_and_deadlines(house: House) -> None:
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        csrf = login(c, house, "staff2")
        r = c.get(f"/api/mrv/units?year={YEAR}")
        assert r.status_code == 200, r.text
        assert {"E12", "N1", "S1", "T1"} <= {u["enterprise"] for u in r.json()["units"]}
        r = c.post("/api/mrv/units/decisions", headers=csrf,
                   json={"enterprise": "T1", "year": YEAR, "kind": "key_carbon_emitter", "decision": "exempt", "reason": ""})  # fmt: skip
        assert r.status_code == 422 and "reason" in r.text
        r = c.post("/api/mrv/units/decisions", headers=csrf,
                   json={"enterprise": "T1", "year": YEAR, "kind": "key_carbon_emitter", "decision": "exempt",
                         "reason": "标签错误"})  # fmt: skip
        assert r.status_code == 200 and r.json()["decision"] == "exempt", r.text
        r = c.put("/api/mrv/settings/deadlines", headers=csrf, json={"evidence_days_after_month_end": 25})
        assert r.status_code == 200 and r.json()["evidence_days_after_month_end"] == 25, r.text
        r = c.put("/api/mrv/settings/deadlines", headers=csrf, json={"report_due_month_day": "02-30"})
        assert r.status_code == 422, r.text
        assert c.get("/mrv/units").status_code == 200
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        csrf = login(c, house, "ent_north")
        r = c.put("/api/mrv/settings/deadlines", headers=csrf, json={"evidence_days_after_month_end": 40})
        assert r.status_code == 403
        r = c.post("/api/mrv/units/decisions", headers=csrf,
                   json={"enterprise": "N1", "year": YEAR, "kind": "key_energy_user", "decision": "exempt", "reason": "x"})  # fmt: skip
        assert r.status_code == 403
        assert [u["enterprise"] for u in c.get(f"/api/mrv/units?year={YEAR}").json()["units"]] == ["N1"]
    with TestClient(create_app(Settings(), database_url=house.url)) as c:
        login(c, house, "staff3")  # another park's staff: nothing of this park
        body = c.get(f"/api/mrv/units?year={YEAR}").json()
        lakeside = {v for k, v in house.ids.items() if not k.startswith("other.")}
        assert not {u["enterprise_id"] for u in body["units"]} & lakeside
    with session_scope(house.url) as s:  # back to the shipped default for the other tests
        register.set_park_deadlines(s, actor(s, house, "staff2"), {"evidence_days_after_month_end": 20})


def test_cli_units_json_and_designate(house: House, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", house.url)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["mrv", "units", "--year", str(YEAR), "--park", CODE, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows and all(
        {"enterprise", "energy_tce", "co2_t", "reasons", "obligations"} <= set(r) for r in rows
    )
    assert rows_by_code(rows)["E12"]["reasons"] == ["energy_over_threshold"]
    args = ["mrv", "designate", "--enterprise", "E12", "--year", str(YEAR), "--kind", "key_carbon_emitter",
            "--include", "--by", "staff2", "--park", CODE]  # fmt: skip
    res = runner.invoke(cli_app, [*args, "--reason", ""])
    assert res.exit_code == 2 and "reason" in res.output
    res = runner.invoke(cli_app, [*args, "--reason", "园区确定", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["decision"] == "designate"
    res = runner.invoke(cli_app, [*args[:-4], "--by", "ent_north", "--park", CODE, "--reason", "x"])
    assert res.exit_code == 2, res.output


def test_figures_from_records_follow_the_records(house: House) -> None:
    # the register remembers each enterprise's inventory figures until the park's data changes
    with session_scope(house.url) as s:
        park = s.get(m.Park, house.park_id)
        north = next(z for z in park.zones if z.code == "north")  # type: ignore[union-attr]
        r1 = m.Enterprise(park_id=house.park_id, zone_id=north.id, code="R1", name="测试企业R1", tags="")
        s.add(r1)
        s.flush()
        house.ids["R1"] = r1.id
        s.add(m.ActivityRecord(natural_key=f"{house.park_id}|test|R1|{YEAR}|a", park_id=house.park_id,
                               zone_id=north.id, enterprise_id=r1.id, year=YEAR, boundary="all",
                               energy_tce=6_000.0, sector="industry", source_ref="test"))  # fmt: skip
        park.data_revision += 1  # type: ignore[union-attr]
    with session_scope(house.url) as s:
        row = rows_by_code(register.register_rows(s, house.park_id, YEAR))["R1"]
        again = rows_by_code(register.register_rows(s, house.park_id, YEAR))["R1"]
    assert row == again
    assert (row["source"], row["energy_tce"], row["reasons"]) == ("records", 6_000.0, ["energy_designable"])
    with session_scope(house.url) as s:  # 6 000 more tce: over the threshold
        s.add(m.ActivityRecord(natural_key=f"{house.park_id}|test|R1|{YEAR}|b", park_id=house.park_id,
                               zone_id=north.id, enterprise_id=house.ids["R1"], year=YEAR, boundary="all",
                               energy_tce=6_000.0, sector="transport", source_ref="test"))  # fmt: skip
        s.get(m.Park, house.park_id).data_revision += 1  # type: ignore[union-attr]
    with session_scope(house.url) as s:
        row = rows_by_code(register.register_rows(s, house.park_id, YEAR))["R1"]
    assert (row["energy_tce"], row["reasons"], row["kinds"]) == (12_000.0, ["energy_over_threshold"], ["key_energy_user"])  # fmt: skip
    with session_scope(house.url) as s:  # a report awaiting review does not count (the walkthrough's 0 t)
        s.add(m.MrvReport(park_id=house.park_id, enterprise_id=house.ids["R1"], year=YEAR, version=1,
                          status="submitted", energy_tce=0.0, total_co2_t=0.0, submitted_by="test"))  # fmt: skip
    with session_scope(house.url) as s:
        row = rows_by_code(register.register_rows(s, house.park_id, YEAR, every=True))["R1"]
    assert (row["source"], row["energy_tce"]) == ("records", 12_000.0)
    with session_scope(house.url) as s:  # a report the park accepted takes over from the records
        s.add(m.MrvReport(park_id=house.park_id, enterprise_id=house.ids["R1"], year=YEAR, version=2,
                          status="accepted", energy_tce=3_000.0, total_co2_t=7_000.0, submitted_by="test"))  # fmt: skip
    with session_scope(house.url) as s:
        row = rows_by_code(register.register_rows(s, house.park_id, YEAR, every=True))["R1"]
    assert (row["source"], row["energy_tce"], row["reasons"]) == ("report", 3_000.0, [])


def test_the_obligations_alone_are_the_registers(house: House) -> None:
    with session_scope(house.url) as s:
        rows = register.register_rows(s, house.park_id, YEAR)
        alone = register.unit_obligations(s, house.park_id, YEAR)
    assert alone == {r["enterprise_id"]: frozenset(r["obligations"]) for r in rows if r["obligations"]}
    assert house.ids["E12"] in alone and house.ids["T1"] not in alone  # T1 was exempted above

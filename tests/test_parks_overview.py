"""The cross-park overview (issue 12 §2): the service over two parks and one without data, the
command's JSON keys and table, and who may call the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from greenpark.cli.main import app as cli
from greenpark.demo import load_demo
from greenpark.services.carbon.cockpit import cockpit
from greenpark.services.park import auth
from greenpark.services.park.parks import PARK_KEY, ParkError, all_parks, use_park
from greenpark.services.pollution.alarms import list_alarms
from greenpark.services.portfolio.overview import overview
from greenpark.settings import Settings
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.web.app import create_app
from tests.conftest import demo_logins, new_database

DEMO = "xianning-htz"
TEST = "test-park"
EMPTY = "empty-park"
#: The test park's records: year → (raw coal [t], purchased electricity [10⁴ kWh], industrial value added [10⁴ yuan]).
RECORDS = {2023: (5000.0, 1000.0, 100_000.0), 2024: (4500.0, 1100.0, 110_000.0)}
#: GB/T 2589-2008 Appendix A: raw coal 0.7143 kgce/kg; electricity (calorific) 0.1229 kgce/kWh,
#: i.e. 0.7143 tce/t and 1.229 tce/10⁴ kWh.
COAL_TCE_PER_T, POWER_TCE_PER_10K_KWH = 0.7143, 1.229
PASSWORD = "a-long-test-password"


def add_parks(s: Session) -> None:
    """Beside the demo park: a small second park (one zone, one enterprise, two years of energy and
    value added, its intensity indicator and a reported one, an open and a closed alarm) and a
    park that has nothing yet. Built with the store's models, as the onboarding would leave them."""
    demo = s.scalars(select(m.Park).where(m.Park.code == DEMO)).one()
    park = m.Park(code=TEST, name_zh="测试园区", name_en="Test Park", province="hubei",
                  grid_region="central_china", accounting_profile_json=demo.accounting_profile_json)  # fmt: skip
    s.add_all([park, m.Park(code=EMPTY, name_zh="空白园区", name_en="Empty Park")])
    s.flush()
    zone = m.Zone(park_id=park.id, code="north", name_zh="北区", name_en="North zone")
    s.add(zone)
    s.flush()
    ent = m.Enterprise(park_id=park.id, zone_id=zone.id, code="T01", name="测试化工有限公司")
    s.add(ent)
    s.flush()
    for year, (coal_t, power, iva) in RECORDS.items():
        for carrier, q, unit in (("raw_coal", coal_t, "t"), ("electricity", power, "10^4 kWh")):
            s.add(m.ActivityRecord(natural_key=f"{park.id}|T01|{year}|{carrier}", park_id=park.id, zone_id=zone.id,
                                   enterprise_id=ent.id, year=year, sector="industry", carrier_code=carrier,
                                   quantity=q, unit=unit, source_ref="test"))  # fmt: skip
        s.add(m.EconomicRecord(natural_key=f"{park.id}|park|{year}|iva", park_id=park.id, year=year,
                               indicator="industrial_value_added", value_10k_yuan=iva, source_ref="test"))  # fmt: skip
    energy = m.Indicator(park_id=park.id, code="E1", seq=1, name_zh="单位工业增加值能耗", name_en="Energy per IVA",
                         unit="tce/10^4 yuan", direction="lower", kind="binding", method="energy_per_iva_park")  # fmt: skip
    factories = m.Indicator(park_id=park.id, code="R1", seq=2, name_zh="绿色工厂数量", name_en="Green factories",
                        unit="count", direction="higher", kind="expected", method="reported")  # fmt: skip
    s.add_all([energy, factories])
    s.flush()
    s.add_all([
        m.IndicatorTarget(indicator_id=energy.id, year=2024, comparator="<=", value=0.05, text="0.05"),
        m.IndicatorTarget(indicator_id=energy.id, year=2025, comparator="<=", value=0.04, text="0.04"),
        m.IndicatorTarget(indicator_id=factories.id, year=2024, comparator=">=", value=5, text="5"),
        m.IndicatorValue(indicator_id=factories.id, year=2024, value=2, source="test"),
    ])  # fmt: skip
    outlet = m.Outlet(enterprise_id=ent.id, code="DW001", name="废气排口", medium="gas")
    s.add(outlet)
    s.flush()
    point = m.SourcePoint(outlet_id=outlet.id, mn="TESTPARK0000000000000001", pw="123456")
    s.add(point)
    s.flush()
    now = m.utcnow()
    for severity, status in (("critical", "open"), ("warning", "closed")):
        s.add(m.Alarm(point_id=point.id, code="a21026", rule="exceedance", severity=severity, status=status,
                      opened_utc=now, last_fired_utc=now, message="test"))  # fmt: skip
    auth.create_user(s, "test-admin", PASSWORD, auth.Role.ADMIN, park_id=park.id)
    auth.create_user(s, "test-bureau", PASSWORD, auth.Role.BUREAU)


@pytest.fixture(scope="module")
def parks_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = new_database(backend, tmp_path_factory.mktemp("parks"))
    with session_scope(url) as s:
        report = load_demo(s, synthetic_air=False)
        add_parks(s)
    demo_logins[url] = {u: p for u, p, _r in report.logins}
    yield url
    dispose_engine(url)


def _house(url: str) -> list[str]:
    with session_scope(url) as s:
        return [p.code for p in all_parks(s)]


def _rows(url: str) -> dict[str, dict]:
    with session_scope(url) as s:
        return {r["code"]: r for r in overview(s)}


def test_each_park_its_own_figures_from_its_cockpit(parks_url: str) -> None:
    rows = _rows(parks_url)
    assert list(rows) == _house(parks_url)  # every park, in the house's order
    t = rows[TEST]
    assert t["year"] == 2024 and t["boundary"] == "all" and not t["illustrative"]
    coal_t, power, iva = RECORDS[2024]
    # GB/T 2589-2008 Appendix A coefficients (above); the sum of two products, to float precision
    energy_tce = coal_t * COAL_TCE_PER_T + power * POWER_TCE_PER_10K_KWH
    assert t["energy_tce_calorific"] == pytest.approx(energy_tce, rel=1e-9)
    assert t["intensity"]["value"] == pytest.approx(energy_tce / iva, rel=1e-9)
    assert t["intensity"]["unit"] == "tce/10^4 yuan"
    # as the cockpit draws them: a target the plan writes as a plain value has op "="
    assert t["intensity"]["target"] == {"year": 2024, "op": "=", "value": 0.05}
    assert t["intensity"]["final_target"] == {"year": 2025, "op": "=", "value": 0.04}
    assert t["intensity"]["status"] == "met"  # 0.0415 ≤ 0.05
    # from 0.0480 to 0.0415 in a year, 0.04 in 2025 needs a fall of 3.6 %: on track
    assert t["intensity"]["verdict"] == "on_track" and t["intensity"]["on_track"] is True
    assert t["intensity"]["verdict_year"] == 2025
    assert t["intensity"]["indicator"]["code"] == "E1"
    assert "gbt2589-2008" in t["factor_sets"]
    # the same figures as the park's cockpit shows: composed, not recomputed
    with session_scope(parks_url) as s:
        use_park(s, TEST)
        ck = cockpit(s, "park")
    assert t["co2_t"] == ck["current"]["totals"]["co2_t"] > 0
    assert t["factor_sets"] == ck["current"]["factor_sets"]
    # the reported indicator missed its target (2 < 5); the energy indicator met its own
    assert [x["code"] for x in t["indicators"]["at_risk"]] == ["R1"]
    assert t["indicators"]["at_risk"][0]["status"] == "missed" and t["indicators"]["total"] == 2
    assert t["open_alarms"] == {"total": 1, "by_severity": {"info": 0, "warning": 0, "critical": 1}}
    assert t["missing"] == {} and t["reasons"] == {}
    # the demo park is unchanged by its neighbours: the whole park's 2025 on its above-scale split
    d = rows[DEMO]
    assert d["year"] == 2025 and d["illustrative"] and d["boundary"] == "above_scale"
    assert d["intensity"]["indicator"]["code"] == "1b" and d["open_alarms"]["total"] == 0
    assert {"1b", "2"} <= {x["code"] for x in d["indicators"]["at_risk"]}


def test_a_park_without_data_says_why_every_figure_is_empty(parks_url: str) -> None:
    e = _rows(parks_url)[EMPTY]
    assert e["year"] is None and e["energy_tce_calorific"] is None and e["co2_t"] is None
    assert e["intensity"]["value"] is None and e["intensity"]["on_track"] is None
    assert e["missing"] == {
        "energy_tce_calorific": "no_activity_data",
        "co2_t": "no_activity_data",
        "intensity": "no_activity_data",
        "intensity_indicator": "no_intensity_indicator",
    }
    assert set(e["reasons"]) == {"no_activity_data", "no_intensity_indicator"}
    assert e["reasons"]["no_intensity_indicator"]["zh"].startswith(
        "没有由 greenpark 核算的单位工业增加值能耗指标"
    )
    assert e["reasons"]["no_activity_data"]["zh"] and e["reasons"]["no_activity_data"]["en"]
    assert e["indicators"] == {"year": 2025, "total": 0, "at_risk": []}
    assert e["open_alarms"]["total"] == 0


def test_a_park_whose_inventory_cannot_be_computed_says_so(parks_url: str) -> None:
    """Records but no accounting profile: the row is there, with the inventory's own error."""
    with session_scope(parks_url) as s:
        park = m.Park(code="no-profile", name_zh="无核算口径园区", name_en="No profile")
        s.add(park)
        s.flush()
        s.add(m.ActivityRecord(natural_key=f"{park.id}|park|2024|power", park_id=park.id, year=2024,
                               carrier_code="electricity", quantity=10.0, unit="10^4 kWh"))  # fmt: skip
        s.flush()
        [row] = overview(s, ["no-profile"])
        s.rollback()  # the other tests see the house as it was
    assert row["year"] is None and row["energy_tce_calorific"] is None
    assert row["missing"]["energy_tce_calorific"] == "inventory_error"
    assert "accounting profile" in row["error"]
    assert row["reasons"]["inventory_error"]["en"].startswith("the park's inventory cannot be computed")


def test_open_alarms_are_those_the_alarm_list_shows(parks_url: str) -> None:
    """The count is the list's: every park's open alarms, by severity."""
    with session_scope(parks_url) as s:
        for code, row in ((r["code"], r) for r in overview(s)):
            use_park(s, code)
            listed = list_alarms(s, status="active", limit=100_000)
            assert row["open_alarms"]["total"] == len(listed)
            for severity, n in row["open_alarms"]["by_severity"].items():
                assert n == sum(a["severity"] == severity for a in listed)


def test_asked_parks_in_order_and_the_session_keeps_its_park(parks_url: str) -> None:
    with session_scope(parks_url) as s:
        use_park(s, DEMO)
        assert [r["code"] for r in overview(s, [TEST, DEMO])] == [TEST, DEMO]
        assert s.info[PARK_KEY] == DEMO
        use_park(s, None)
        overview(s, [TEST])
        assert PARK_KEY not in s.info
        with pytest.raises(ParkError, match="unknown park 'nope'"):
            overview(s, ["nope"])


runner = CliRunner()


def test_the_command_json_and_table(parks_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", parks_url)
    res = runner.invoke(cli, ["parks", "overview", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["code"] for r in rows] == _house(parks_url)
    assert set(rows[0]) == {
        "code", "name_zh", "name_en", "year", "illustrative", "boundary", "energy_tce_calorific", "co2_t",
        "factor_sets", "intensity", "indicators", "open_alarms", "missing", "reasons", "error",
    }  # fmt: skip
    assert set(rows[0]["intensity"]) == {
        "indicator", "unit", "value", "basis", "target", "final_target", "status", "verdict", "verdict_year",
        "on_track",
    }  # fmt: skip
    assert set(rows[0]["indicators"]) == {"year", "total", "at_risk"}
    assert set(rows[0]["open_alarms"]) == {"total", "by_severity"}
    one = runner.invoke(cli, ["parks", "overview", "--park", TEST, "--json"])
    assert [r["code"] for r in json.loads(one.stdout)] == [TEST]
    table = runner.invoke(cli, ["parks", "overview"])
    assert table.exit_code == 0, table.output
    assert "测试园区" in table.stdout and "R1 绿色工厂数量" in table.stdout
    assert "no energy data for that year" in table.stdout  # the empty park's reason
    bad = runner.invoke(cli, ["parks", "overview", "--park", "nope"])
    assert bad.exit_code == 2 and "unknown park 'nope'" in bad.output


def _client(url: str, user: str | None, password: str | None = None) -> TestClient:
    c = TestClient(create_app(Settings(), database_url=url))
    if user is not None:
        pw = password or demo_logins[url][user]
        assert c.post("/api/auth/login", json={"username": user, "password": pw}).status_code == 200
    return c


def test_the_api_for_a_bureau_and_admins_only(parks_url: str) -> None:
    with _client(parks_url, "bureau") as c:
        r = c.get("/api/parks/overview")
        assert r.status_code == 200, r.text
        assert [x["code"] for x in r.json()] == _house(parks_url)
    with _client(parks_url, "test-bureau", PASSWORD) as c:
        assert len(c.get("/api/parks/overview").json()) == 3
    with _client(parks_url, "admin") as c:  # the house's admin: every park
        assert len(c.get("/api/parks/overview").json()) == 3
    with _client(parks_url, "test-admin", PASSWORD) as c:  # an admin of one park: that park
        assert [x["code"] for x in c.get("/api/parks/overview").json()] == [TEST]
    for user in ("staff", "zone", "verifier", "enterprise", "public"):
        with _client(parks_url, user) as c:
            assert c.get("/api/parks/overview").status_code == 403, user
    with _client(parks_url, None) as c:
        assert c.get("/api/parks/overview").status_code == 401
        assert c.get("/parks").status_code == 401  # the page: the error page with the way out


def test_the_page_for_a_bureau(parks_url: str) -> None:
    with _client(parks_url, "bureau") as c:
        page = c.get("/parks?lang=en")
        assert page.status_code == 200 and 'data-page="parks"' in page.text
        assert 'data-arg="1"' in page.text  # may switch parks: names link through the switcher
        assert 'href="/parks"' in page.text  # in the menu
    with _client(parks_url, "staff") as c:
        assert c.get("/parks").status_code == 403
        assert 'href="/parks"' not in c.get("/").text

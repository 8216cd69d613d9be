"""Scenarios of the roadmap: the base year from the inventory, the presets where the plan puts them,
inheritance, Monte Carlo, decompositions, validation, editing, the IAMC exchange (through pyam) and
the CLI/API shapes of the issue."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core import scenario as core
from greenpark.services.carbon import sinks
from greenpark.services.roadmap import iamc, scenarios
from greenpark.settings import Settings
from greenpark.store.db import session_scope
from greenpark.web.app import create_app
from tests.test_api import login

runner = CliRunner()


def test_base_year_is_the_inventory(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        b = scenarios.base_year(s, "core")
        sink = sinks.annual_sink(s, 2020, "core")["removals_tco2"]
    # the core area's 2020 inventory (the plan's 51.39 万 t, reproduced by greenpark as 513 765 t)
    assert (b.scope, b.year) == ("core", 2020) and b.co2_t == pytest.approx(513765.15, abs=0.01)
    inp = scenarios.assemble(
        b, {"drivers": {}, "end_year": 2021}, scenarios.resolve_paths(b, {"drivers": {}, "end_year": 2021})
    )
    p = core.project(inp)
    assert p.co2_total_t[0, 0] == pytest.approx(
        b.co2_t, rel=1e-12
    )  # the model starts exactly at the inventory
    assert p.energy_tce[0, 0].sum() == pytest.approx(231770.84, rel=1e-12)
    assert p.energy_tce[0, 0].sum(axis=1) == pytest.approx(
        np.array([205600.92, 23177.08, 2992.83, 0.01]), rel=1e-6
    )
    assert b.grid_tco2_per_mwh == pytest.approx(0.5257) and b.sector_share[0] == pytest.approx(
        506800 / 700000
    )
    assert b.sinks_tco2 == pytest.approx(sink) and "RAS" in b.lineage["allocation"]


@pytest.mark.parametrize(
    ("code", "peak", "plateau"), [("peak-2030", 2030, [2030, 2035]), ("peak-2025", 2025, [2025, 2030])]
)
def test_the_presets_peak_where_the_plan_says(
    demo_url: str, code: str, peak: int, plateau: list[int]
) -> None:
    # plan 4.2: 方案一 peaks in 2030 with a 2030-2035 plateau, 方案二 in 2025 with 2025-2030; both neutral in 2060
    with session_scope(demo_url) as s:
        r = scenarios.run(s, code)
    assert (r["peak_year"], r["peaked"], r["plateau"], r["neutral_year"]) == (peak, True, plateau, 2060)
    checks = {(c["indicator"], c["year"]): c for c in r["checks"]}
    assert checks[("1a", 2025)]["ok"] and checks[("1a", 2025)]["value"] <= 0.3  # indicator 1's 0.3 tce/万元
    assert checks[("2", 2025)]["ok"]  # ≥ 4 %/yr CO₂ per industrial value added
    co2, net, sinks_t = (np.array(r[k]) for k in ("co2_t", "net_co2_t", "sinks_tco2"))
    assert net == pytest.approx(co2 - sinks_t)
    by_sector = np.sum([r["co2_by_sector_t"][k] for k in r["co2_by_sector_t"]], axis=0)
    assert by_sector == pytest.approx(co2) and np.sum(
        list(r["co2_by_carrier_t"].values()), axis=0
    ) == pytest.approx(co2)
    assert r["energy_tce_equal_value"][0] > r["energy_tce_calorific"][0]  # both electricity conventions


def test_baseline_does_not_peak_and_inheritance_overrides_only_what_changes(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        base = scenarios.run(s, "baseline")
        p30, p25 = scenarios.show(s, "peak-2030"), scenarios.show(s, "peak-2025")
    assert not base["peaked"] and base["neutral_year"] is None
    assert p25["chain"] == ["peak-2025", "peak-2030", "baseline"]
    assert (
        "gdp" not in p25["own"]["drivers"]
        and p25["resolved"]["drivers"]["gdp"] == p30["resolved"]["drivers"]["gdp"]
    )
    assert (
        p25["resolved"]["drivers"]["local_renewables"] == p30["own"]["drivers"]["local_renewables"]
    )  # inherited
    assert p25["resolved"]["drivers"]["grid_factor"] == p25["own"]["drivers"]["grid_factor"]  # overridden


def test_monte_carlo_is_seeded_and_a_degenerate_distribution_is_the_deterministic_run(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        b = scenarios.base_year(s, "core")
        spec, _ = scenarios.resolved_spec(s, "peak-2030")
        det = scenarios.run(s, "peak-2030")
        a = scenarios.montecarlo(s, "peak-2030", 2000, seed=1)
        again = scenarios.montecarlo(s, "peak-2030", 2000, seed=1)
        other = scenarios.montecarlo(s, "peak-2030", 2000, seed=2)
    assert a == again and a["p_peak_by_2030"] != other["p_peak_by_2030"]
    assert 0 < a["p_peak_by_2030"] < 1 and sum(a["peak_year_counts"].values()) + a["not_peaked"] == 2000
    bands = {k: np.array(v) for k, v in a["co2_t"].items()}
    assert (bands["5"] <= bands["50"]).all() and (bands["50"] <= bands["95"]).all()
    flat = {**spec, "uncertainty": [
        {"driver": "gdp", "apply": "growth", "dist": "normal", "mean": 0.0, "sd": 0.0},
        {"driver": "grid_factor", "apply": "scale", "dist": "uniform", "low": 1.0, "high": 1.0},
        {"driver": "carrier_mix:industry", "apply": "scale", "dist": "triangular", "low": 1.0, "mode": 1.0, "high": 1.0}]}  # fmt: skip
    mc = scenarios.simulate(b, flat, 500, seed=9)
    co2 = mc["_arrays"]["co2_t"]
    assert (co2 == np.array(det["co2_t"])).all()  # exactly, every path
    assert (mc["_arrays"]["net_co2_t"] == np.array(det["net_co2_t"])).all()
    assert mc["peak_year_counts"] == {"2030": 500} and mc["p_neutral_by_2060"] == 1.0


def test_decomposition_against_the_baseline_explains_the_wedge(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        d = scenarios.decompose_against(s, "peak-2030", "baseline", 2060)
        w = scenarios.wedge(s, "peak-2030", "baseline")
        base, p30 = scenarios.run(s, "baseline"), scenarios.run(s, "peak-2030")
        h = scenarios.history_decomposition(s, "park", "above_scale")
    k = base["years"].index(2060)
    assert d["total_change"] == pytest.approx(p30["co2_t"][k] - base["co2_t"][k], rel=1e-9)
    assert sum(d["additive"].values()) == pytest.approx(d["total_change"], rel=1e-9)
    assert np.prod(list(d["multiplicative"].values())) == pytest.approx(
        p30["co2_t"][k] / base["co2_t"][k], rel=1e-9
    )
    assert d["additive"]["activity"] == pytest.approx(0, abs=1e-6)  # same GDP path
    assert (
        d["additive"]["intensity"] < 0 and d["additive"]["ccus"] < 0 and d["additive"]["local_renewables"] < 0
    )
    years = w["years"]
    total = np.sum([w["effects"][f] for f in w["effects"]], axis=0)
    assert total == pytest.approx(
        np.array(p30["co2_t"][1:]) - np.array(base["co2_t"][1:]), rel=1e-9, abs=1e-6
    )
    assert years[0] == 2021 and years[-1] == 2060
    # history: the park's above-scale industry 2018-2020 (Table 6.1.1 carriers over Table 2.4.1 value added),
    # then the demo's illustrative continuation 2021-2025 (said so)
    assert h["years"] == list(range(2018, 2026)) and h["illustrative_years"] == list(range(2021, 2026))
    for link in [*h["chained"], h["whole"]]:
        assert sum(link["additive"].values()) == pytest.approx(link["total_change"], rel=1e-9)
    assert sum(x["total_change"] for x in h["chained"]) == pytest.approx(h["whole"]["total_change"], rel=1e-9)


def test_validation_names_every_problem(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        with pytest.raises(scenarios.ScenarioError) as exc:
            scenarios.save_scenario(s, "bad", "坏情景", "peak-2030", {
                "gpd": {"growth": {2021: 0.1}},
                "carrier_mix": {"industry": {"unobtainium": {"targets": {2030: 0.1}}}, "farming": {}},
            })  # fmt: skip
        errs = " | ".join(exc.value.errors)
        assert (
            "drivers.gpd: unknown driver" in errs
            and "unobtainium: unknown carrier" in errs
            and "farming: unknown sector" in errs
        )
        with pytest.raises(scenarios.ScenarioError, match="more than 1"):
            scenarios.save_scenario(s, "bad2", "坏", "peak-2030", {"carrier_mix": {"industry": {
                "electricity": {"targets": {2030: 0.8}}, "hydrogen": {"targets": {2030: 0.5}}}}})  # fmt: skip
        with pytest.raises(scenarios.ScenarioError, match="preset"):
            scenarios.save_scenario(s, "peak-2030", "x", "baseline", {})
        assert [r["code"] for r in scenarios.list_scenarios(s)] == ["baseline", "peak-2030", "peak-2025"]


def test_an_officers_scenario_saves_runs_and_changes_with_the_data(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        scenarios.save_scenario(s, "faster-pv", "光伏加速", "peak-2030",
                                {"local_renewables": {"pv": {"targets": {2030: 200000, 2060: 600000}}}}, by="wang")  # fmt: skip
        mine, p30 = scenarios.run(s, "faster-pv"), scenarios.run(s, "peak-2030")
        assert mine["chain"] == ["faster-pv", "peak-2030", "baseline"]
        assert mine["co2_t"][10] < p30["co2_t"][10] and mine["co2_t"][0] == p30["co2_t"][0]
        scenarios.save_scenario(s, "child", "子情景", "faster-pv", {})
        with pytest.raises(scenarios.ScenarioError, match="parent of child"):
            scenarios.delete_scenario(s, "faster-pv")
        with pytest.raises(scenarios.ScenarioError, match="preset"):
            scenarios.delete_scenario(s, "peak-2030")
        scenarios.delete_scenario(s, "child")
        before = scenarios.run(s, "peak-2030")["sinks_tco2"][0]
        sinks.import_stands(
            s, "more.csv", b"zone,forest_type,inventory_year,area_ha\ncore,bamboo,2020,6000\n"
        )
        after = scenarios.run(s, "peak-2030")
        assert after["sinks_tco2"][0] == pytest.approx(
            before + (6000 - 4848) * 18.7
        )  # more bamboo, more sink
        scenarios.delete_scenario(s, "faster-pv")
        assert "faster-pv" not in [r["code"] for r in scenarios.list_scenarios(s)]


def test_iamc_round_trip_through_pyam(fresh_demo_url: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():  # pyam's own dependencies warn on import
        warnings.simplefilter("ignore")
        import pyam

        with session_scope(fresh_demo_url) as s:
            data = iamc.export(s, ["peak-2030", "peak-2025"])
            (tmp_path / "ours.csv").write_bytes(data)
            df = pyam.IamDataFrame(str(tmp_path / "ours.csv"))
            assert set(df.scenario) == {"peak-2030", "peak-2025"} and "Emissions|CO2" in df.variable
            co2 = df.filter(scenario="peak-2030", variable="Emissions|CO2", year=2030).timeseries().iloc[0, 0]
            df.filter(scenario="peak-2030").to_csv(str(tmp_path / "pyam.csv"))
            df.filter(scenario="peak-2025").to_excel(str(tmp_path / "pyam.xlsx"))
            a = iamc.import_scenario(s, "pyam.csv", (tmp_path / "pyam.csv").read_bytes(), "p30-pyam")
            b = iamc.import_scenario(s, "pyam.xlsx", (tmp_path / "pyam.xlsx").read_bytes(), "p25-pyam")
            long = iamc.export(s, ["peak-2030"], long=True)
            c = iamc.import_scenario(s, "long.csv", long, "p30-long")
            runs = {
                k: scenarios.run(s, k) for k in ("peak-2030", "peak-2025", "p30-pyam", "p25-pyam", "p30-long")
            }
    r30 = runs["peak-2030"]
    assert co2 == pytest.approx(r30["co2_t"][10] * 1e-6)
    assert a["scope"] == "core" and b["from_scenario"] == "peak-2025" and c["code"] == "p30-long"
    for imported, original in (
        ("p30-pyam", "peak-2030"),
        ("p25-pyam", "peak-2025"),
        ("p30-long", "peak-2030"),
    ):
        got, want = runs[imported], runs[original]
        assert np.array(got["co2_t"]) == pytest.approx(np.array(want["co2_t"]), rel=1e-9)
        assert np.array(got["net_co2_t"]) == pytest.approx(np.array(want["net_co2_t"]), rel=1e-6, abs=1e-3)
        assert (got["peak_year"], got["plateau"], got["neutral_year"]) == (
            want["peak_year"],
            want["plateau"],
            want["neutral_year"],
        )


def test_iamc_import_names_the_bad_cell(fresh_demo_url: str) -> None:
    from greenpark.services.carbon.io import ImportRejected

    bad = "Model,Scenario,Region,Variable,Unit,2020,2030\ngreenpark,x,xianning-htz|core,GDP|MER,billion CNY/yr,7,abc\n" \
          "greenpark,x,xianning-htz|core,Driver|Grid Factor,kg CO2/kWh,0.5,0.4\n"  # fmt: skip
    with session_scope(fresh_demo_url) as s:
        with pytest.raises(ImportRejected) as exc:
            iamc.import_scenario(s, "bad.csv", bad.encode(), "bad")
        assert {(e.row, e.column) for e in exc.value.errors} == {(2, "2030")}
        with pytest.raises(ImportRejected) as exc:
            iamc.import_scenario(s, "bad.csv", bad.replace(",abc", ",8").encode(), "bad")
        assert [(e.row, e.column) for e in exc.value.errors] == [(3, "Unit")]


def test_cli_shapes(demo_url: str, tmp_path: Path) -> None:
    env = {"GREENPARK_DATABASE_URL": demo_url}
    res = runner.invoke(app, ["scenario", "run", "peak-2030", "--json"], env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"years", "co2_t", "net_co2_t", "peak_year", "peaked", "plateau", "neutral_year"}
    assert (out["peak_year"], out["peaked"], out["plateau"], out["neutral_year"]) == (
        2030,
        True,
        [2030, 2035],
        2060,
    )
    assert len(out["years"]) == len(out["co2_t"]) == len(out["net_co2_t"]) == 41
    res = runner.invoke(app, ["scenario", "run", "baseline", "--json"], env=env)
    assert json.loads(res.output)["neutral_year"] is None
    res = runner.invoke(app, ["scenario", "list", "--json"], env=env)
    assert [r["code"] for r in json.loads(res.output)][:3] == ["baseline", "peak-2030", "peak-2025"]
    res = runner.invoke(app, ["scenario", "compare", "baseline", "peak-2030", "--json"], env=env)
    assert [r["peak_year"] for r in json.loads(res.output)["scenarios"]] == [2060, 2030]
    res = runner.invoke(app, ["scenario", "mc", "peak-2025", "--paths", "500", "--json"], env=env)
    assert json.loads(res.output)["paths"] == 500
    res = runner.invoke(app, ["scenario", "run", "nope"], env=env)
    assert res.exit_code == 2 and "unknown scenario" in res.output
    out_csv = tmp_path / "x.csv"
    res = runner.invoke(app, ["scenario", "export", "peak-2030", "-o", str(out_csv)], env=env)
    assert res.exit_code == 0 and out_csv.read_text().startswith("Model,Scenario,Region,Variable,Unit,2020")
    res = runner.invoke(app, ["history-lmdi", "--json"], env=env)
    assert json.loads(res.output)["years"] == list(range(2018, 2026))  # 2021-2025 illustrative


def test_api_roles_and_editor_preview(fresh_demo_url: str) -> None:
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        assert [r["code"] for r in c.get("/api/scenarios").json()] == ["baseline", "peak-2030", "peak-2025"]
        r = c.get("/api/scenarios/peak-2025/run").json()
        assert r["peak_year"] == 2025 and r["lineage"]["base"]["year"] == 2020
        mc = c.get("/api/scenarios/peak-2030/montecarlo", params={"paths": 1000}).json()
        assert mc["paths"] == 1000 and "_arrays" not in mc
        assert c.get("/api/scenarios/peak-2030/decompose", params={"year": 2045}).json()["year"] == 2045
        assert c.get("/api/scenarios/history").json()["decomposition"]["years"] == list(range(2018, 2026))
        assert c.get("/api/sinks", params={"year": 2020}).json()["removals_tco2"] > 0
        x = c.get("/api/scenarios/export.xlsx")
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
        assert (
            c.put(
                "/api/scenarios/mine", json={"name_zh": "我的", "parent": "peak-2030", "drivers": {}}
            ).status_code
            == 401
        )
        assert (
            c.post("/api/scenarios/preview", json={"parent": "peak-2030", "drivers": {}}).status_code == 401
        )
        csrf = login(c, fresh_demo_url, "verifier")
        h = {"X-CSRF-Token": csrf}
        pv = c.post(
            "/api/scenarios/preview",
            headers=h,
            json={"parent": "peak-2030", "drivers": {"grid_factor": {"targets": {"2060": 0.0}}}},
        )
        assert pv.status_code == 200 and pv.json()["co2_t"][-1] < r["co2_t"][-1] * 5
        bad = c.post(
            "/api/scenarios/preview",
            headers=h,
            json={"parent": "peak-2030", "drivers": {"gdp": {"growth": {"2021": -2}}}},
        )
        assert bad.status_code == 422 and "above −100" in json.dumps(bad.json(), ensure_ascii=False)
        assert (
            c.put(
                "/api/scenarios/mine",
                headers=h,
                json={"name_zh": "我的", "parent": "peak-2030", "drivers": {}},
            ).status_code
            == 403
        )
        c.post("/logout", data={"csrf_token": csrf})
        csrf = login(c, fresh_demo_url, "staff")
        h = {"X-CSRF-Token": csrf}
        ok = c.put("/api/scenarios/mine", headers=h, json={"name_zh": "我的", "parent": "peak-2030",
                                                         "drivers": {"ccus": {"industry": {"targets": {"2060": 0.6}}}}})  # fmt: skip
        assert ok.status_code == 200, ok.text
        assert (
            c.get("/api/scenarios/mine/run").json()["co2_t"][-1]
            < c.get("/api/scenarios/peak-2030/run").json()["co2_t"][-1]
        )
        files = {"file": ("p.csv", io.BytesIO(iamc_csv(c)), "text/csv")}
        imp = c.post("/api/scenarios/import", headers=h, data={"code": "imported"}, files=files)
        assert imp.status_code == 200, imp.text
        assert c.delete("/api/scenarios/peak-2030", headers=h).status_code == 422


def iamc_csv(c: TestClient) -> bytes:
    return c.get("/api/scenarios/export.csv", params={"codes": "peak-2025"}).content

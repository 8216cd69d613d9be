"""Forest carbon sinks: the IPCC equations against hand calculations from the cited parameters, the
ledger from the demo's (illustrative) forest land, imports that name the bad cell, and projects."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core import sinks as core
from greenpark.services.carbon import sinks
from greenpark.services.carbon.io import ImportRejected
from greenpark.store.db import session_scope

runner = CliRunner()
# Masson pine (马尾松): BEF 1.390 and R 0.167 from Yuan et al. 2021 (生态学杂志 40(6)); wood density
# 0.380 t/m³ and carbon fraction 0.4596 as the research note's AR-CM-001 table gives them.
PINE = {"wood_density_t_per_m3": 0.380, "bef": 1.390, "root_shoot": 0.167, "carbon_fraction": 0.4596}


def test_gain_against_a_hand_calculation() -> None:
    # 100 ha growing 5 m³/ha/yr: 5 × 0.380 = 1.9 t stem; × 1.390 = 2.641 t above ground;
    # × 1.167 = 3.082047 t with roots; × 0.4596 = 1.41651 tC/ha; × 100 ha = 141.651 tC; × 44/12 = 519.39 tCO₂
    gain = core.biomass_gain_tc_per_yr(100.0, 5.0, **PINE)
    assert gain == pytest.approx(141.651, abs=1e-3)
    assert core.removal_tco2(gain) == pytest.approx(519.39, abs=0.01)
    # harvesting 200 m³ of it: 200 × 0.380 × 1.390 × 1.167 × 0.4596 = 56.660 tC
    loss = core.wood_removal_loss_tc_per_yr(200.0, **PINE)
    assert loss == pytest.approx(56.660, abs=1e-3)
    assert core.gain_loss_tc_per_yr(gain, loss) == pytest.approx(84.991, abs=1e-3)


def test_stock_difference_against_a_hand_calculation() -> None:
    # 100 ha at 60 m³/ha (2020) and 85 m³/ha (2025): stock 100 × 60 × 0.380 × 1.390 × 1.167 × 0.4596 = 1699.81 tC
    # and 2408.07 tC; (2408.07 − 1699.81) / 5 = 141.65 tC/yr, the same as 5 m³/ha/yr of growth
    c1 = core.biomass_carbon_tc(100.0, 60.0, **PINE)
    c2 = core.biomass_carbon_tc(100.0, 85.0, **PINE)
    assert (c1, c2) == (pytest.approx(1699.81, abs=0.01), pytest.approx(2408.07, abs=0.01))
    assert core.stock_difference_tc_per_yr(c1, c2, 2020, 2025) == pytest.approx(141.651, abs=1e-3)
    # disturbance (IPCC Eq. 2.14): 10 ha of 100 t/ha biomass, half lost: 10 × 100 × 1.167 × 0.4596 × 0.5
    assert core.disturbance_loss_tc_per_yr(10.0, 100.0, 0.167, 0.4596, 0.5) == pytest.approx(268.18, abs=0.01)


def test_the_demo_ledger(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        out = sinks.annual_sink(s, 2020)
    assert out["removals_tco2"] == pytest.approx(sum(r["removals_tco2"] for r in out["by_type"]))
    assert out["removals_tco2"] == pytest.approx(sum(r["removals_tco2"] for r in out["by_zone"]))
    assert out["area_ha"] == pytest.approx(19448.2)  # 36 900 ha × 52.7 % of the illustrative core area
    pine = next(r for r in out["by_type"] if r["forest_type"] == "coniferous")
    hand = (
        6561.4 * 5.0 * 0.380 * 1.390 * 1.167 * 0.4596 * 44 / 12
        - 2000 * 0.380 * 1.390 * 1.167 * 0.4596 * 44 / 12
    )
    assert pine["removals_tco2"] == pytest.approx(hand, rel=1e-9)
    bamboo = next(r for r in out["by_type"] if r["forest_type"] == "bamboo")
    assert bamboo["removals_tco2"] == pytest.approx(4848.0 * 18.7) and bamboo["method"] == "area_rate"
    sd = out["stock_difference"]
    assert (sd["from"], sd["to"]) == (2020, 2025) and sd["not_covered"] == ["bamboo", "economic"]
    assert (
        out["unconfirmed"] and out["illustrative"] and out["parameter_set"]["code"] == "forest-sink-defaults"
    )
    assert {p["status"] for p in out["parameters"]} <= {"secondary", "unconfirmed", "assumed"}


def test_imports_name_the_bad_cell_and_import_nothing(fresh_demo_url: str) -> None:
    bad = (
        "zone,forest_type,inventory_year,area_ha,volume_m3_per_ha\n"
        "core,coniferous,2030,7000,90\n"
        "core,palm,2030,10,\n"  # unknown type
        "nowhere,mixed,2030,10,50\n"  # unknown zone
        "core,mixed,2030,-5,50\n"  # negative area
        "core,broadleaf,2030,100,\n"  # a volume type without volume
    )
    with session_scope(fresh_demo_url) as s:
        with pytest.raises(ImportRejected) as exc:
            sinks.import_stands(s, "stands.csv", bad.encode())
        assert {(e.row, e.column) for e in exc.value.errors} == {
            (3, "forest_type"), (4, "zone"), (5, "area_ha"), (6, "volume_m3_per_ha")}  # fmt: skip
        assert 2030 not in sinks.sink_years(s)
        assert (
            sinks.import_stands(
                s,
                "stands.csv",
                b"zone,forest_type,inventory_year,area_ha,volume_m3_per_ha\ncore,coniferous,2030,7000,90\n",
            )
            == 1
        )
        assert 2030 in sinks.sink_years(s)
        periods = (
            "project,period_start,period_end,estimated_tco2,verified_tco2,issued_credits_tco2,retired_credits_tco2\n"
            "XN-AR-001,2025-01-01,2026-12-31,3000,2000,2500,0\n"  # more issued than verified
            "XN-FM-001,2023-06-01,2024-06-30,100,100,100,200\n"  # overlaps a period; more retired than issued
            "XN-BM-001,2019-01-01,2020-12-31,100,,0,0\n"  # before the crediting period
        )
        with pytest.raises(ImportRejected) as exc:
            sinks.import_periods(s, "periods.csv", periods.encode())
        assert {(e.row, e.column) for e in exc.value.errors} == {
            (2, "issued_credits_tco2"), (3, "retired_credits_tco2"), (3, "period_start"), (4, "period_start")}  # fmt: skip


def test_projects_ledger_and_cli(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        lg = sinks.ledger(s)
    fm = next(p for p in lg["projects"] if p["code"] == "XN-FM-001")
    assert (
        fm["verified_tco2"] == 9800
        and fm["issued_credits_tco2"] == 9800
        and fm["available_credits_tco2"] == 3800
    )
    assert fm["monitored_estimated_tco2"] == 18000 and len(fm["periods"]) == 2
    assert lg["totals"]["issued_credits_tco2"] == 13700
    res = runner.invoke(
        app, ["sinks", "--year", "2020", "--json", "--projects"], env={"GREENPARK_DATABASE_URL": demo_url}
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["year"] == 2020 and out["removals_tco2"] > 0 and len(out["projects"]["projects"]) == 3
    res = runner.invoke(
        app, ["sinks", "--year", "2020", "--zone", "nowhere"], env={"GREENPARK_DATABASE_URL": demo_url}
    )
    assert res.exit_code == 2 and "unknown zone" in res.output


def test_parameters_edited_as_a_new_version(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        before = sinks.annual_sink(s, 2020)
        with pytest.raises(sinks.SinkError) as exc:
            sinks.edit_parameters(s, [{"forest_type": "bamboo", "parameter": "sequestration_rate", "value": 600},
                                      {"forest_type": "palm", "parameter": "bef", "value": 1.5, "source_table": "x"}], "wang")  # fmt: skip
        assert (
            "outside the plausible range" in str(exc.value)
            and "source" in str(exc.value)
            and "unknown forest type" in str(exc.value)
        )
        out = sinks.edit_parameters(s, [{"forest_type": "bamboo", "parameter": "sequestration_rate", "value": 12.0,
                                         "status": "confirmed", "source_table": "咸宁市林业局 2024 竹林监测"}], "wang")  # fmt: skip
        assert (out["previous"], out["version"]) == ("1", "2")
        after = sinks.annual_sink(s, 2020)
        ps = sinks.parameters(s)
    assert after["parameter_set"]["version"] == "2"
    assert after["removals_tco2"] == pytest.approx(before["removals_tco2"] - 4848.0 * (18.7 - 12.0))
    row = next(
        r for r in ps["rows"] if r["forest_type"] == "bamboo" and r["parameter"] == "sequestration_rate"
    )
    assert (row["value"], row["status"]) == (12.0, "confirmed")
    pine = next(r for r in ps["rows"] if r["forest_type"] == "coniferous" and r["parameter"] == "bef")
    assert pine["value"] == 1.390 and "Yuan" in pine["source_table"]  # unchanged rows keep their provenance

"""greenpark reproduces every figure the plan publishes, within the stated tolerances."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.services.plan.reproduce import reproduce
from greenpark.store.db import session_scope

REQUIRED = {
    "core_co2_2020_t",
    "core_co2_per_gdp_2020",
    "core_energy_per_gdp_2020",
    "core_energy_per_gdp_2018",
    "core_aboveScale_energy_per_iva_2020",
    "core_aboveScale_energy_per_iva_2019",
    "park_industry_energy_per_iva_2020",
    "park_industry_energy_per_iva_2019",
    "park_industry_energy_per_iva_change_2020",
    "park_industry_energy_cagr_2018_2020",
    "core_energy_cagr_2018_2020",
    "core_industry_share_2020",
    "core_transport_share_2020",
    "required_decline_to_0_3_by_2025",
}


def test_all_figures_within_tolerance(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        out = reproduce(s)
    ids = {f["figure"] for f in out["figures"]}
    assert ids >= REQUIRED
    bad = [f for f in out["figures"] if not f["within_tolerance"]]
    assert not bad, bad
    assert out["ok"]
    req = next(f for f in out["figures"] if f["figure"] == "required_decline_to_0_3_by_2025")
    assert 0.053 <= req["computed"] <= 0.055


def test_inconsistencies_are_warnings(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        out = reproduce(s)
    w = {x.get("figure") or x.get("check"): x for x in out["warnings"]}
    # Indicator 1's third 2020 value 0.276 vs Table 6.1.1: 192.02万 tce / 338亿元 = 0.568.
    assert w["park_carriers_energy_per_iva_2020"]["computed"] == pytest.approx(1_920_223 / 3_380_000)
    assert "factor.co2_vs_carbon_content" in w and "factor.printed_unit" in w


def test_cli_json(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", demo_url)
    res = CliRunner().invoke(app, ["reproduce", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert isinstance(data, list) and {"figure", "plan", "computed", "rel_diff"} <= set(data[0])
    co2 = next(d for d in data if d["figure"] == "core_co2_2020_t")
    assert co2["plan"] == 513_900 and abs(co2["rel_diff"]) < 0.005

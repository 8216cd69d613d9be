"""The accounting engine on the demo park and on small synthetic parks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from greenpark.services.carbon.inventory import InventoryError, compute_inventory
from greenpark.services.carbon.records import (
    EntityResolver,
    upsert_activity,
    upsert_economic,
    validate_activity,
    validate_economic,
)
from greenpark.services.park.parks import get_park
from greenpark.store import models as m
from greenpark.store.db import session_scope


def inv(url: str, **kw: Any) -> dict[str, Any]:
    with session_scope(url) as s:
        return compute_inventory(s, **kw)


def test_totals_equal_sum_of_parts(demo_url: str) -> None:
    r = inv(demo_url, scope_code="core", year=2020)
    t = r["totals"]
    assert t["energy_tce_calorific"] == pytest.approx(sum(c["energy_tce_calorific"] for c in r["by_carrier"]))
    assert t["co2_t"] == pytest.approx(sum(c["co2_t"] for c in r["by_carrier"]))
    assert t["co2_t"] == pytest.approx(sum(t["co2_by_source_t"].values()))
    assert sum(c["share_energy"] for c in r["by_carrier"]) == pytest.approx(1.0)
    assert sum(s["share_energy"] for s in r["by_sector"]) == pytest.approx(1.0)


def test_core_2020_reproduces_plan_and_names_its_factors(demo_url: str) -> None:
    r = inv(demo_url, scope_code="core", year=2020)
    # The plan's 51.39万 t within 0.5 % (printed to 4 figures).
    assert r["totals"]["co2_t"] == pytest.approx(513_900, rel=0.005)
    assert r["factor_sets"]["xianning-plan-2021"] == "1" and r["factor_sets"]["grid-ndrc-2011-2012"] == "1"
    el = next(c for c in r["by_carrier"] if c["carrier"] == "electricity")
    factors = {(f["parameter"], f["set_code"]): f for f in el["lineage"]["factors"]}
    assert factors[("grid_factor", "grid-ndrc-2011-2012")]["value"] == 0.5257
    assert factors[("coal_coefficient", "gbt2589-2008")]["value"] == 0.1229
    assert el["lineage"]["inputs"]["records"] == 1 and el["lineage"]["inputs"]["reported_in_tce"]
    assert r["electricity_conventions"]


def test_both_electricity_conventions(demo_url: str) -> None:
    t = inv(demo_url, scope_code="core", year=2020)["totals"]
    # 等价值 counts electricity at ~0.3055 kgce/kWh instead of 0.1229: 46 900 tce -> 116 583 tce.
    expected = t["energy_tce_calorific"] - 46_900 + 46_900 / 0.1229 * 0.3055
    assert t["energy_tce_equal_value"] == pytest.approx(expected, rel=1e-9)


def test_layer_disagreement_is_flagged(demo_url: str) -> None:
    r = inv(demo_url, scope_code="park", year=2020, boundary="above_scale")
    msgs = [c for c in r["checks"] if c["code"] == "layers.disagree"]
    assert msgs and msgs[0]["values"]["rel_diff"] == pytest.approx(1_920_223 / 2_059_641 - 1, abs=1e-6)


def test_totals_only_year_has_no_co2(demo_url: str) -> None:
    r = inv(demo_url, scope_code="core", year=2018)
    assert r["totals"]["co2_t"] is None
    assert r["totals"]["energy_tce_calorific"] == pytest.approx(193_810.04)
    assert any(c["code"] == "co2.no_carriers" for c in r["checks"])


def test_unknown_scope_and_boundary(demo_url: str) -> None:
    with pytest.raises(InventoryError, match="unknown scope"):
        inv(demo_url, scope_code="nowhere", year=2020)
    with pytest.raises(InventoryError, match="boundary"):
        inv(demo_url, scope_code="core", year=2020, boundary="bogus")


def _add(url: str, rows: list[dict[str, Any]], econ: list[dict[str, Any]] | None = None) -> None:
    with session_scope(url) as s:
        park = get_park(s)
        res = EntityResolver(s, park)
        carriers = {c.code: c for c in s.scalars(select(m.Carrier))}
        clean = []
        for i, raw in enumerate(rows):
            v, errs = validate_activity(raw, res, carriers, ("t", "", i))
            assert not errs, errs
            clean.append(v)
        upsert_activity(s, park, clean, None)
        if econ:
            ev = []
            for i, raw in enumerate(econ):
                v, errs = validate_economic(raw, res, ("t", "", i))
                assert not errs, errs
                ev.append(v)
            upsert_economic(s, park, ev, None)


def _enterprise(url: str, code: str, zone: str = "xianan") -> None:
    with session_scope(url) as s:
        park = get_park(s)
        z = s.scalars(select(m.Zone).where(m.Zone.code == zone)).one()
        s.add(m.Enterprise(park_id=park.id, zone_id=z.id, code=code, name=f"Test {code}"))


def test_physical_quantities_through_factors(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    _enterprise(url, "T1")
    _add(
        url,
        [
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "natural_gas",
                "quantity": "100",
                "unit": "10^4 m3",
                "source_ref": "a",
            },
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "natural_gas",
                "quantity": "500000",
                "unit": "m3",
                "source_ref": "b",
            },
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "electricity",
                "quantity": "1000",
                "unit": "MWh",
                "source_ref": "c",
            },
        ],
    )
    r = inv(url, scope_code="T1", year=2024)
    ng = next(c for c in r["by_carrier"] if c["carrier"] == "natural_gas")
    # 150 x 10^4 m3 at the plan's 38 931 kJ/m3 = 389.31 GJ per 10^4 m3; 15.3 tC/TJ x 0.99 x 44/12.
    assert ng["quantity"] == pytest.approx(150.0)
    assert ng["energy_gj"] == pytest.approx(150 * 389.31)
    assert ng["co2_t"] == pytest.approx(150 * 389.31 / 1000 * 15.3 * 0.99 * 44 / 12)
    assert ng["energy_tce_calorific"] == pytest.approx(150 * 13.3)  # GB/T 2589: 1.3300 kgce/m3
    el = next(c for c in r["by_carrier"] if c["carrier"] == "electricity")
    assert el["energy_tce_calorific"] == pytest.approx(1000 * 1000 * 0.1229 / 1000)
    assert el["co2_t"] == pytest.approx(1000 * 0.5257)
    # a carrier x sector layer gives direct Sankey flows
    assert r["flows"]["kind"] == "direct"


def test_zone_sums_enterprises_and_by_enterprise(fresh_plan_url: str) -> None:
    url = fresh_plan_url  # the plan's data: 咸安园 has no zone-level figure (the demo's 2021-2025 has one)
    for code in ("T1", "T2"):
        _enterprise(url, code)
    _add(
        url,
        [
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "diesel",
                "quantity": "10",
                "unit": "t",
            },
            {
                "entity": "enterprise:T2",
                "year": 2024,
                "sector": "transport",
                "boundary": "all",
                "carrier": "diesel",
                "quantity": "30",
                "unit": "t",
            },
        ],
    )
    r = inv(url, scope_code="xianan", year=2024, by=("enterprise", "zone"))
    assert r["totals"]["energy_tce_calorific"] == pytest.approx(40 * 1.4571)
    by_e = {e["enterprise"]: e for e in r["by_enterprise"]}
    assert by_e["T2"]["energy_tce_calorific"] == pytest.approx(30 * 1.4571)
    assert sum(e["co2_t"] for e in r["by_enterprise"]) == pytest.approx(r["totals"]["co2_t"])
    assert {s["sector"] for s in r["by_sector"]} == {"industry", "transport"}


def test_missing_factor_is_an_error_check(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    _enterprise(url, "T1")
    # lpg has no entry in the Xianning set; the profile falls back to provincial-2011, which has it
    _add(
        url,
        [
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "lpg",
                "quantity": "1",
                "unit": "t",
            }
        ],
    )
    r = inv(url, scope_code="T1", year=2024)
    lpg = r["by_carrier"][0]
    assert {f["set_code"] for f in lpg["lineage"]["factors"] if f["parameter"] == "carbon_content"} == {
        "provincial-2011"
    }
    # coke-oven gas has no oxidation in the Xianning set, but provincial-2011 gives 0.99
    _add(
        url,
        [
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "sector": "industry",
                "boundary": "all",
                "carrier": "heat",
                "quantity": "1000",
                "unit": "GJ",
            }
        ],
    )
    r = inv(url, scope_code="T1", year=2024)
    heat = next(c for c in r["by_carrier"] if c["carrier"] == "heat")
    assert heat["co2_t"] == pytest.approx(110.0)


def test_monthly_breakdown_sums_to_total(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    _enterprise(url, "T1")
    _add(
        url,
        [
            {
                "entity": "enterprise:T1",
                "year": 2024,
                "month": str(mo),
                "sector": "industry",
                "boundary": "all",
                "carrier": "electricity",
                "quantity": str(100 * mo),
                "unit": "MWh",
                "source_ref": "meter",
            }
            for mo in range(1, 13)
        ],
    )
    r = inv(url, scope_code="T1", year=2024, by=("month",))
    months = {row["month"]: row for row in r["by_month"]}
    assert sorted(months) == list(range(1, 13))
    assert months[3]["co2_t"] == pytest.approx(300 * 0.5257)
    assert sum(x["co2_t"] for x in r["by_month"]) == pytest.approx(r["totals"]["co2_t"])
    with pytest.raises(InventoryError, match="breakdowns"):
        inv(url, scope_code="T1", year=2024, by=("weekday",))

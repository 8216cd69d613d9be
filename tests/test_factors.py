"""Reference data: every shipped row well-formed, GB/T 2589 coefficients equal kcal/7000, the
plan's contradictions detected, and a new factor-set version restates saved results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from greenpark.data import FACTOR_DIR, FACTOR_STATUSES, load_carriers, load_factor_set_specs
from greenpark.services.carbon.factors import (
    FactorLibrary,
    FactorSetError,
    check_factor_sets,
    sync_factor_sets,
)
from greenpark.services.carbon.snapshots import restate_after_new_versions, restatements
from greenpark.store.db import session_scope

# GB/T 2589-2008 Appendix A, the NCV in kcal per unit that each coefficient is computed from
# (carbon-methods.md §1.2, seen in two transcriptions): coefficient = kcal / 7000.
GBT2589_KCAL = {
    "raw_coal": 5000,
    "washed_coal": 6300,
    "coke": 6800,
    "crude_oil": 10000,
    "fuel_oil": 10000,
    "gasoline": 10300,
    "kerosene": 10300,
    "diesel": 10200,
    "lpg": 12000,
    "refinery_gas": 11000,
    "natural_gas": 9310,
    "electricity": 860,
}


def test_every_set_loads_with_units_and_status() -> None:
    specs = load_factor_set_specs()
    carriers = {c.code for c in load_carriers()}
    assert {s.code for s in specs} >= {
        "gbt2589-2008",
        "gbt2589-2020",
        "xianning-plan-2021",
        "provincial-2011",
        "ipcc-2006",
        "grid-ndrc-2011-2012",
        "grid-mee-nbs-2021-2023",
    }
    from greenpark.services.carbon.sinks import FOREST_TYPES

    for s in specs:
        for r in s.rows:
            assert r.unit and r.status in FACTOR_STATUSES and r.source_table, (s.code, r)
            # energy factor sets name a carrier; forest-sink sets name a forest type
            assert r.carrier in (FOREST_TYPES if s.kind == "forest_sink" else carriers), (s.code, r.carrier)


def test_gbt2589_coefficients_are_kcal_over_7000() -> None:
    spec = next(s for s in load_factor_set_specs() if s.code == "gbt2589-2008")
    rows = {r.carrier: r for r in spec.rows if r.parameter == "coal_coefficient"}
    for carrier, kcal in GBT2589_KCAL.items():
        assert rows[carrier].value == pytest.approx(kcal / 7000, abs=6e-5), carrier


def test_plan_table_245_as_printed() -> None:
    spec = next(s for s in load_factor_set_specs() if s.code == "xianning-plan-2021")
    got = {(r.carrier, r.parameter): r.value for r in spec.rows}
    # The plan's Table 2.4.5, as printed.
    assert got[("natural_gas", "ncv")] == 38931 and got[("natural_gas", "carbon_content")] == 15.3
    assert got[("raw_coal", "carbon_content")] == 26.37 and got[("raw_coal", "co2_factor")] == 94600
    assert got[("diesel", "co2_factor")] == 74067 and got[("electricity", "grid_factor")] == 5.257


def test_grid_2012_central_china() -> None:
    spec = next(s for s in load_factor_set_specs() if s.code == "grid-ndrc-2011-2012")
    row = next(r for r in spec.rows if r.region == "central_china" and r.year == 2012)
    assert row.value == 0.5257 and row.unit == "tCO2/MWh"


def test_checks_find_the_plans_contradictions(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        checks = check_factor_sets(FactorLibrary.load(s))
    codes = {(c["code"], c["set"], c.get("carrier")) for c in checks}
    assert ("factor.co2_vs_carbon_content", "xianning-plan-2021", "raw_coal") in codes
    assert ("factor.printed_unit", "xianning-plan-2021", "electricity") in codes
    # consistent rows are not flagged
    assert ("factor.co2_vs_carbon_content", "xianning-plan-2021", "natural_gas") not in codes


def test_inherited_set(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        lib = FactorLibrary.load(s)
        ref = lib.lookup(["gbt2589-2020"], "raw_coal", "coal_coefficient")
    assert ref is not None and ref.value == 0.7143 and ref.set_code == "gbt2589-2008"


def _copy_sets(tmp: Path) -> Path:
    target = tmp / "factors"
    shutil.copytree(FACTOR_DIR, target)
    return target


def test_changed_content_needs_new_version(fresh_demo_url: str, tmp_path: Path) -> None:
    d = _copy_sets(tmp_path)
    f = d / "xianning-plan-2021.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("0.99,-", "0.98,-"), encoding="utf-8")
    with pytest.raises(FactorSetError, match="new version"), session_scope(fresh_demo_url) as s:
        sync_factor_sets(s, load_factor_set_specs(d))


def test_new_version_restates_results(fresh_demo_url: str, tmp_path: Path) -> None:
    d = _copy_sets(tmp_path)
    f = d / "xianning-plan-2021.csv"
    f.write_text(
        f.read_text(encoding="utf-8").replace("natural_gas,oxidation,0.99", "natural_gas,oxidation,0.98"),
        encoding="utf-8",
    )
    idx = d / "index.yaml"
    text = idx.read_text(encoding="utf-8")
    idx.write_text(
        text.replace(
            '  - code: xianning-plan-2021\n    version: "1"', '  - code: xianning-plan-2021\n    version: "2"'
        ),
        encoding="utf-8",
    )
    with session_scope(fresh_demo_url) as s:
        report = sync_factor_sets(s, load_factor_set_specs(d))
        assert report.new_versions == [("xianning-plan-2021", "1", "2")]
        restated = restate_after_new_versions(s, report)
    core2020 = next(
        r for r in restated if r["scope"] == "core" and r["year"] == 2020 and r["boundary"] == "all"
    )
    fig = {f["key"]: f for f in core2020["figures"]}
    ng = fig["co2_t/natural_gas"]
    # only natural gas changes, by exactly 0.98/0.99
    assert ng["new"] / ng["old"] == pytest.approx(0.98 / 0.99, rel=1e-12)
    assert fig["co2_t/electricity"]["change"] == pytest.approx(0.0, abs=1e-9)
    assert core2020["old_factor_sets"]["xianning-plan-2021"] == "1"
    assert core2020["new_factor_sets"]["xianning-plan-2021"] == "2"
    with session_scope(fresh_demo_url) as s:
        assert any(r["snapshot_id"] == core2020["snapshot_id"] for r in restatements(s))

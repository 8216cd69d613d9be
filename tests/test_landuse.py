"""Land-use intensity (亩均): per-mu figures against the plan's 300 / 25 万元/亩, the A–D class and
ranking, imports that name the bad cell, and the idle-land "三年清零" countdown."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core import landuse as core
from greenpark.services.plan import landuse
from greenpark.store.db import session_scope

runner = CliRunner()


def test_plan_thresholds_and_grading() -> None:
    assert (core.INVESTMENT_PER_MU_MIN, core.TAX_PER_MU_MIN) == (300.0, 25.0)  # the plan's 4.1
    g = core.Grading(a=1.2, b=0.8, c=0.4)  # a park's own thresholds
    assert core.grade(28, 400, g) == "B" and core.grade(31, 400, g) == "A" and core.grade(31, 200, g) == "B"
    with pytest.raises(ValueError):
        core.per_mu(1, 0)


def test_evaluation_and_ranking(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        rows = landuse.evaluation(s, 2020)
    top = rows[0]
    assert top["enterprise"] == "红牛维他命饮料（湖北）有限公司" and top["rank"] == 1
    assert top["tax_per_mu"] == pytest.approx(21000 / 210) and top["investment_per_mu"] == pytest.approx(
        98000 / 210
    )
    assert top["meets_tax"] and top["meets_investment"] and top["class"] == "A"
    low = next(r for r in rows if r["enterprise"] == "湖北凯特电源科技有限公司")
    assert low["class"] == "D" and low["meets_investment"] is False and low["meets_tax"] is False
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["rank_in_zone"] >= 1 for r in rows)


def test_imports_name_the_bad_cell_and_import_nothing(fresh_demo_url: str) -> None:
    bad = "enterprise,year,land_mu,tax_10k_yuan\n红牛维他命饮料（湖北）有限公司,2021,0,100\n无此企业,2021,10,x\n".encode()
    with session_scope(fresh_demo_url) as s, pytest.raises(landuse.LandImportRejected) as exc:
        landuse.import_land_use(s, "land_use.csv", bad)
    assert {(e.row, e.column) for e in exc.value.errors} == {
        (2, "land_mu"),
        (3, "enterprise"),
        (3, "tax_10k_yuan"),
    }
    with session_scope(fresh_demo_url) as s:
        assert landuse.evaluation(s, 2021) == []
    bad = b"code,zone,kind,area_mu,status\nP1,core,idle,10,disposed\nP2,nowhere,spare,10,pending\n"
    with session_scope(fresh_demo_url) as s, pytest.raises(landuse.LandImportRejected) as exc:
        landuse.import_idle_parcels(s, "idle.csv", bad)
    assert {(e.row, e.column) for e in exc.value.errors} == {(2, "disposed_on"), (3, "zone"), (3, "kind")}


def test_idle_land_countdown(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        out = landuse.idle_land(s, today=date(2023, 1, 1))
    assert out["parcels_left"] == 4 and out["area_left_mu"] == 143 + 52 + 210 + 38
    assert out["days_left"] == 364 and out["clear_by_assumed"]
    res = runner.invoke(app, ["land", "idle", "--json"], env={"GREENPARK_DATABASE_URL": demo_url})
    assert json.loads(res.output)["area_disposed_mu"] == 86
    res = runner.invoke(
        app, ["land", "rank", "--year", "2020", "--json"], env={"GREENPARK_DATABASE_URL": demo_url}
    )
    assert json.loads(res.output)[0]["class"] == "A"

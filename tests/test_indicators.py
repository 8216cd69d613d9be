"""Indicators of Table 3.3.1: rate functions (against the plan's own figures and as properties),
the registry loaded from the plan, evaluation, reachability and the CLI shapes of the issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core import indicators as core
from greenpark.services.carbon import inventory
from greenpark.services.plan import indicators
from greenpark.store import models as m
from greenpark.store.db import session_scope

runner = CliRunner()


def test_required_rate_reproduces_the_plan() -> None:
    # Table 3.3.1, indicator 1: 0.396 in 2020 → 0.3 in 2025 "每年至少下降5.4%" (the note rounds it to 5.5 %)
    assert core.required_rate(0.396, 0.3, 5, "lower") == pytest.approx(0.0540, abs=5e-5)
    # indicator 11: 273 → 450 high-tech enterprises in five years
    assert core.required_rate(273, 450, 5, "higher") == pytest.approx(0.1051, abs=5e-5)
    # indicator 9 note: 26 (2020) → 56 亿元 (2025) "按…增长率中间值16.5%计算"
    assert core.improvement_rate(26, 56, 5, "higher") == pytest.approx(0.165, abs=0.002)


def test_required_yearly_steps_reproduce_the_plan_notes() -> None:
    # Table 3.3.1 notes: indicator 10 "每年至少新增30000m²" (69 000 m² in 2019 → 250 000 in 2025)
    assert core.required_change_per_year(69000, 250000, 6, "higher") == pytest.approx(30166.7, abs=0.1)
    # indicator 11 "按照年均新增35-40家计算" (273 in 2020 → 450 in 2025)
    assert 35 <= core.required_change_per_year(273, 450, 5, "higher") <= 40
    # indicator 7: from the 2019 base (2.27 %) to 4.01 % the rise is 1.74 points, not the plan's 1.16
    assert core.required_change_per_year(2.27, 4.01, 6, "higher") * 6 == pytest.approx(1.74)


@given(st.floats(0.001, 0.3), st.floats(0.1, 1000), st.integers(2, 12), st.sampled_from(["lower", "higher"]))
def test_a_constant_rate_series_reproduces_its_rate(
    rate: float, start: float, n: int, direction: str
) -> None:
    step = (1 - rate) if direction == "lower" else (1 + rate)
    values = [start * step**k for k in range(n + 1)]
    years = list(range(2010, 2011 + n))
    assert core.improvement_rate(values[0], values[-1], n, direction) == pytest.approx(rate, rel=1e-9)
    assert core.trend_rate(years, values, direction) == pytest.approx(rate, rel=1e-6)
    # the bootstrap of a constant change is certain either way
    reach = values[-1] * step**3
    assert (
        core.reach_probability(values, reach * (1.001 if direction == "lower" else 0.999), 3, direction)
        == 1.0
    )


@given(st.floats(0.01, 100), st.floats(0.01, 100), st.integers(1, 10))
def test_required_rate_is_zero_when_the_target_is_met(latest: float, target: float, n: int) -> None:
    for direction in ("lower", "higher"):
        met = latest <= target if direction == "lower" else latest >= target
        r = core.required_rate(latest, target, n, direction)
        assert (r == 0.0) == met or (r == pytest.approx(0.0, abs=1e-12))
        assert r >= 0


def test_status_rule_differs_for_binding_and_expected() -> None:
    assert core.target_status(0.387, 0.38, "<", "binding") == "at_risk"  # 1.8 % over
    assert core.target_status(0.39, 0.38, "<", "binding") == "missed"  # 2.6 % over
    assert core.target_status(0.39, 0.38, "<", "expected") == "at_risk"
    assert core.target_status(300, 300, ">=", "expected") == "met"
    assert core.verdict(0.05, 0.06, 0.9) == "on_track" and core.verdict(0.05, 0.06, 0.1) == "off_track"


def test_plan_indicators_are_loaded_with_targets_and_flags(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        codes = [i.code for i in s.query(m.Indicator).order_by(m.Indicator.seq, m.Indicator.code)]
        assert codes == ["1a", "1b", "1c", *[str(k) for k in range(2, 13)]]
        one = indicators.get_indicator(s, "1a")
        targets = {
            t.year: (t.comparator, t.value) for t in s.query(m.IndicatorTarget).filter_by(indicator_id=one.id)
        }
        assert targets == {
            2021: ("<", 0.38),
            2022: ("<", 0.36),
            2023: ("<", 0.34),
            2024: ("<", 0.32),
            2025: ("<=", 0.3),
        }
        four = indicators.get_indicator(s, "4")
        t4 = s.query(m.IndicatorTarget).filter_by(indicator_id=four.id, year=2025).one()
        assert (t4.comparator, t4.value, t4.text) == ("", None, "完成下达目标")
        assert "0.276" in indicators.get_indicator(s, "1c").flag
        assert indicators.get_indicator(s, "1a").method == "energy_per_iva_core_above_scale"


def test_evaluation_and_reachability_from_the_engine(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        rows = {r["code"]: r for r in indicators.evaluate(s, 2020)}
        assert rows["1a"]["value"] == pytest.approx(0.396, rel=0.002)  # the plan's 0.396
        assert rows["1b"]["value"] == pytest.approx(0.625, rel=0.002)  # the plan's 0.625
        assert rows["11"]["value"] == 273 and rows["11"]["source"] == "reported"
        # indicator 2 from the engine on the park boundary (Table 6.1.1 carriers ÷ Table 2.4.1 value added)
        i18, i20 = (
            inventory.compute_inventory(s, scope_code="park", year=y, boundary="above_scale")
            for y in (2018, 2020)
        )
        rate = 1 - ((i20["totals"]["co2_t"] / 3380000) / (i18["totals"]["co2_t"] / 3895500)) ** 0.5
        assert rows["2"]["value"] == pytest.approx(100 * rate) and "全园区" in rows["2"]["source"]
        seven = indicators.get_indicator(s, "7")
        t7 = {t.year: t.value for t in s.query(m.IndicatorTarget).filter_by(indicator_id=seven.id)}
        assert t7[2025] - t7[2021] == pytest.approx(1.16) and "1.16" in seven.flag  # the plan's "+1.16"
        # as of 2020, the plan's own year (the demo goes on to 2025 with illustrative data)
        reach = {r["code"]: r for r in indicators.reachability(s, as_of=2020)}
    r1 = reach["1a"]
    assert r1["required_rate"] == pytest.approx(0.054, abs=0.001) and r1["latest_year"] == 2020
    assert r1["verdict"] in ("on_track", "at_risk", "off_track") and 0 <= r1["probability"] <= 1
    text = indicators.reachability_text(r1, "zh")
    assert "每年至少下降5.4%" in text and "结论" in text
    assert "at least 5.4% a year" in indicators.reachability_text(r1, "en")


def test_reported_values_and_their_checks(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        assert {r["code"]: r for r in indicators.evaluate(s, 2021)}["11"]["illustrative"]  # the demo's 305
        indicators.report(s, "11", 2021, 301, source="科技局", by="officer")  # a real report replaces it
        rows = {r["code"]: r for r in indicators.evaluate(s, 2021)}
        assert (rows["11"]["value"], rows["11"]["target"], rows["11"]["status"]) == (301, 300, "met")
        assert not rows["11"]["illustrative"]
        with pytest.raises(indicators.IndicatorError, match="computed"):
            indicators.report(s, "1a", 2021, 0.37)
        with pytest.raises(indicators.IndicatorError, match="unknown indicator"):
            indicators.report(s, "99", 2021, 1)
        reach = indicators.reachability(s, "11", as_of=2021)[0]
        assert reach["latest_year"] == 2021 and reach["observed_rate"] == pytest.approx(301 / 273 - 1)


def test_cli_shapes(demo_url: str) -> None:
    res = runner.invoke(
        app, ["indicators", "--year", "2020", "--json"], env={"GREENPARK_DATABASE_URL": demo_url}
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {"code", "name", "unit", "kind", "value", "target", "status"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {"met", "at_risk", "missed", "no_data"}
    assert {r["kind"] for r in rows} == {"binding", "expected"}
    res = runner.invoke(
        app, ["reachability", "--indicator", "1a", "--json"], env={"GREENPARK_DATABASE_URL": demo_url}
    )
    (row,) = json.loads(res.output)
    assert {"code", "latest_year", "latest_value", "target_2025", "required_rate", "observed_rate", "probability",
            "verdict"} <= set(row)  # fmt: skip
    assert row["verdict"] in ("on_track", "at_risk", "off_track")
    res = runner.invoke(app, ["reachability", "--indicator", "99"], env={"GREENPARK_DATABASE_URL": demo_url})
    assert res.exit_code == 2


def test_indicator_api(demo_url: str) -> None:
    from fastapi.testclient import TestClient

    from greenpark.settings import Settings
    from greenpark.web.app import create_app
    from tests.test_api import login

    with TestClient(create_app(Settings(), database_url=demo_url)) as c:
        card = c.get("/api/indicators/scorecard").json()
        # opens on the latest year with a target and a value: 2025 of the illustrative continuation
        assert len(card["indicators"]) == 14 and card["year"] == 2025 and 2025 in card["illustrative_years"]
        by = {i["code"]: i for i in card["indicators"]}
        # MOST's national lines (国科发火〔2021〕28号): < 0.4 tce/万元, half of the zones < 0.3; ≥ 4 %/yr
        assert [r["value"] for r in by["1a"]["reference_lines"]] == [0.4, 0.3] and by["11"][
            "reference_lines"
        ] == []
        assert [r["value"] for r in by["2"]["reference_lines"]] == [4.0]
        one = c.get("/api/indicators/1a").json()
        # 2025 has a value (illustrative): the verdict says whether the target was met
        assert one["reachability"]["latest_year"] == 2025 and one["reachability"]["required_rate"] == 0
        assert "2025年目标为0.3" in one["text"]["zh"] and one["formula"] and 2025 in one["illustrative_years"]
        assert c.get("/api/indicators/99").status_code == 404
        assert c.post("/api/indicators/11/values", json={"year": 2021, "value": 300}).status_code == 401
        csrf = login(c, demo_url, "enterprise")
        assert c.post("/api/indicators/11/values", json={"year": 2021, "value": 300},
                      headers={"X-CSRF-Token": csrf}).status_code == 403  # fmt: skip


def test_custom_indicator(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        indicators.add_indicator(s, "g1", "工业固废综合利用率", "%", "higher", "expected", baseline_year=2020,
                                 baseline_value=88.0, targets={2025: ">=95"})  # fmt: skip
        with pytest.raises(indicators.IndicatorError, match="exists"):
            indicators.add_indicator(s, "g1", "x", "%", "higher", "expected")
        with pytest.raises(indicators.IndicatorError, match="direction"):
            indicators.add_indicator(s, "g2", "x", "%", "up", "expected")
        r = indicators.reachability(s, "g1")[0]
        assert r["target_2025"] == 95 and r["required_rate"] == pytest.approx((95 / 88) ** 0.2 - 1)
        assert len(indicators.scorecard(s)["indicators"]) == 15


def test_values_import_all_or_nothing(fresh_demo_url: str, tmp_path: Path) -> None:
    from greenpark.services.carbon.io import ImportRejected

    good = "code,year,value,source\n11,2021,301,科技局\n9,2021,31.5,科技局\n"
    bad = good + "1a,2021,0.37,x\n12,twenty,55,x\n"
    with session_scope(fresh_demo_url) as s:
        with pytest.raises(ImportRejected) as exc:
            indicators.import_values(s, "values.csv", bad.encode())
        where = {(e.row, e.column) for e in exc.value.errors}
        assert where == {(4, "code"), (5, "year")}  # computed indicator; not a year
        before = {r["code"]: r for r in indicators.evaluate(s, 2021)}
        # nothing was written: the demo's illustrative values are still there
        assert before["11"]["value"] == 305 and before["9"]["value"] == 31.27 and before["11"]["illustrative"]
        assert indicators.import_values(s, "values.csv", good.encode(), by="wang") == 2
        rows = {r["code"]: r for r in indicators.evaluate(s, 2021)}  # the import replaces them
        assert rows["11"]["value"] == 301 and rows["9"]["value"] == 31.5 and not rows["9"]["illustrative"]
    path = tmp_path / "v.csv"
    path.write_text("code,year,value\n11,2022,340\n", encoding="utf-8")
    res = runner.invoke(app, ["indicator-values", str(path)], env={"GREENPARK_DATABASE_URL": fresh_demo_url})
    assert res.exit_code == 0 and "imported 1" in res.output

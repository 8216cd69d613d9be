"""The demo's illustrative continuation 2021-2025 (issue 11): labelled on every row, generated
deterministically, the published 2016-2020 figures untouched, loaded idempotently and replaced by
real data; the services open on the latest year with data and say why a figure is empty."""

from __future__ import annotations

import importlib.util
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import func, select

from greenpark import demo
from greenpark.data import read_csv
from greenpark.services.carbon import cockpit, inventory_cache
from greenpark.services.environment import monitoring
from greenpark.services.environment.air_synthetic import ILLUSTRATIVE_SYNTHETIC_LABEL
from greenpark.services.park.parks import get_park
from greenpark.services.plan import indicators, landuse, projects, report
from greenpark.services.plan.reproduce import reproduce
from greenpark.services.roadmap import scenarios
from greenpark.store import models as m
from greenpark.store.db import session_scope
from tests.conftest import new_database

PLAN = demo.XIANNING
CONT = PLAN / demo.CONTINUATION
YEARS = list(range(2021, 2026))


@pytest.fixture(scope="module")
def demo_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """This module's own demo database: the shared one gets records of later years from other
    tests' imports, and these tests are about which year the pages open on."""
    url = new_database(backend, tmp_path_factory.mktemp("continuation"))
    with session_scope(url) as s:
        demo.load_demo(s)
    return url


def _counts(s: Any) -> dict[str, int]:
    return {
        name: int(s.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in (
            ("activity", m.ActivityRecord), ("economic", m.EconomicRecord), ("values", m.IndicatorValue),
            ("reports", m.ProjectUpdate), ("hours", m.AirHour), ("points", m.MonitoringPoint),
        )
    }  # fmt: skip


def test_every_continuation_row_is_labelled_illustrative() -> None:
    # the files themselves: every row says it is illustrative, estimated, with a note
    for r in read_csv(CONT / "activity.csv"):
        assert int(r["year"]) in YEARS and demo.is_illustrative(r["source_ref"])
        assert r["quality"] == "estimated" and r["note"]
    for name in ("economic.csv", "air_quality_annual.csv"):
        rows = read_csv(CONT / name)
        assert rows and all(demo.is_illustrative(r["source_ref"]) and int(r["year"]) in YEARS for r in rows)
    assert all(
        demo.is_illustrative(r["source"]) and r["note"] for r in read_csv(CONT / "indicator_values.csv")
    )
    assert {int(r["seq"]) for r in read_csv(CONT / "project_progress.csv")} == set(range(1, 21))
    # the plan's own files hold no illustrative energy or economy, and nothing after 2020
    for name in ("activity.csv", "economic.csv"):
        rows = read_csv(PLAN / name)
        assert not any(demo.is_illustrative(r["source_ref"]) for r in rows)
        assert max(int(r["year"]) for r in rows) == 2020


def test_generation_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("generate", CONT / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "HERE", tmp_path)
    assert gen.main() == 0
    for name in ("activity.csv", "economic.csv", "indicator_values.csv", "air_quality_annual.csv"):
        assert (tmp_path / name).read_bytes() == (CONT / name).read_bytes(), name  # the committed output


def test_the_continuation_adds_up_and_follows_the_plan_path(demo_url: str) -> None:
    rows = read_csv(CONT / "activity.csv")

    def tce(entity: str, year: int, sector: str, boundary: str, carrier: str | None = None) -> float:
        return sum(
            float(r["energy_tce"])
            for r in rows
            if (r["entity"], int(r["year"]), r["sector"], r["boundary"]) == (entity, year, sector, boundary)
            and (r["carrier"] == carrier if carrier is not None else r["carrier"] != "")
        )

    for y in YEARS:  # totals equal the sum of their parts (to the cent of a tce the files carry)
        core_total = tce("zone:core", y, "", "all", "")
        assert tce("zone:core", y, "", "all") == pytest.approx(core_total, abs=0.02)  # carriers
        sectors = sum(
            tce("zone:core", y, s, "all", "") for s in ("industry", "transport", "commercial", "residential")
        )
        assert sectors == pytest.approx(core_total, abs=0.02)
        assert tce("park", y, "industry", "above_scale") == pytest.approx(
            tce("park", y, "industry", "above_scale", ""), abs=0.02
        )
        zones = sum(
            tce(f"zone:{z}", y, "industry", "all", "")
            for z in ("core", "xianan", "chibi", "jiayu", "tongcheng")
        )
        assert zones == pytest.approx(tce("park", y, "industry", "all", ""), rel=1e-6)
    with session_scope(demo_url) as s:
        rows_2025 = {r["code"]: r for r in indicators.evaluate(s, 2025)}
        rows_2020 = {r["code"]: r for r in indicators.evaluate(s, 2020)}
        inv = inventory_cache.cached_inventory(s, get_park(s), "core", 2025)
    # indicator 1a: 0.396 (2020, the plan) to about the plan's 0.30 in 2025 (表3.3.1)
    assert rows_2020["1a"]["value"] == pytest.approx(0.396, rel=0.002) and not rows_2020["1a"]["illustrative"]
    assert rows_2025["1a"]["value"] == pytest.approx(0.30, abs=0.01) and rows_2025["1a"]["illustrative"]
    assert not [c for c in inv["checks"] if c["code"] == "layers.disagree"]  # the layers agree
    gas = next(c for c in inv["by_carrier"] if c["carrier"] == "natural_gas")["share_energy"]
    elec = next(c for c in inv["by_carrier"] if c["carrier"] == "electricity")["share_energy"]
    assert gas < 0.6965 and elec > 0.2022  # the 2020 mix (方案2.4(一)2) shifted towards electricity


def test_published_figures_are_untouched(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        out = reproduce(s)
        plan_rows = s.scalar(
            select(func.count()).select_from(m.ActivityRecord).where(m.ActivityRecord.year <= 2020)
        )
        made_up = s.scalars(select(m.ActivityRecord).where(m.ActivityRecord.year <= 2020)).all()
        assert scenarios.base_years(s, "core") == [2020]  # a roadmap starts from real data
    assert out["ok"] and all(f["within_tolerance"] for f in out["figures"])
    assert plan_rows == len(read_csv(PLAN / "activity.csv"))
    assert not [r for r in made_up if demo.is_illustrative(r.source_ref) or r.quality == "estimated"]


def test_loaded_through_the_ordinary_paths_and_labelled(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        park = get_park(s)
        # (other tests on this shared database import years after 2025; the continuation stops there)
        acts = s.scalars(
            select(m.ActivityRecord).where(m.ActivityRecord.year >= 2021, m.ActivityRecord.year <= 2025)
        ).all()
        assert len(acts) == len(read_csv(CONT / "activity.csv"))
        assert all(a.quality == "estimated" and demo.is_illustrative(a.source_ref) and a.note for a in acts)
        assert demo.illustrative_years_of(s, park) == YEARS
        values = s.scalars(select(m.IndicatorValue).where(m.IndicatorValue.year >= 2021)).all()
        assert values and all(
            demo.is_illustrative(v.source) and v.reported_by == demo.ILLUSTRATIVE_BY for v in values
        )
        reports = s.scalars(select(m.ProjectUpdate)).all()
        assert len(reports) == len(read_csv(CONT / "project_progress.csv"))
        assert all(u.by == demo.ILLUSTRATIVE_BY and u.note.startswith("示意 / illustrative") for u in reports)
        stations = monitoring.air_stations(s)
        ids = [{"code": p.code, "id": p.id} for p in monitoring.points(s, "air")]
        hours = dict(s.execute(select(m.AirHour.point_id, func.count()).group_by(m.AirHour.point_id)).all())
        c = cockpit.cockpit(s, "core")
    assert [x["station"] for x in stations] == ["高新区省控站(示意)", "长江产业园(停用)"]
    active, old = stations
    assert (active["status"], active["illustrative"], active["years"]) == ("operating", True, YEARS)
    assert active["data_note"] == ILLUSTRATIVE_SYNTHETIC_LABEL
    assert (old["status"], old["decommissioned"], old["years"]) == (
        "decommissioned",
        True,
        list(range(2016, 2021)),
    )
    days = {code: sum(366 if y % 4 == 0 else 365 for y in years) for code, years in
            (("air01", range(2016, 2021)), ("air02", range(2021, 2026)))}  # fmt: skip
    assert {x["code"]: hours[x["id"]] for x in ids} == {k: 24 * v for k, v in days.items()}
    # the cockpit says which years are illustrative
    assert c["illustrative_years"] == YEARS and c["data_note"]["zh"].startswith("2021–2025年为示意")
    assert {x["year"]: x["illustrative"] for x in c["series"]} == {y: y >= 2021 for y in range(2018, 2026)}


def test_defaults_open_on_the_latest_year_with_data(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        card = indicators.scorecard(s)
        assert indicators.default_year(s) == card["year"] == 2025
        assert cockpit.cockpit(s, "core")["year"] == 2025 and cockpit.cockpit(s, "xianan")["years"] == YEARS
        d = report.report_data(s)
        doc = report.document(s)
        land = landuse.evaluation(s)
        assert land == landuse.evaluation(s, 2020) and land[0]["year"] == landuse.latest_year(s) == 2020
        # the environment page opens on the first station: the operating one with the latest data
        assert monitoring.points(s, "air")[0].code == monitoring.air_stations(s)[0]["code"] == "air02"
    assert d["year"] == 2025 and d["illustrative"]
    paras = [p.text for p in Document(io.BytesIO(doc)).paragraphs]
    assert paras[0].endswith("（2025年）") and any("示意性延续" in p for p in paras)
    # every colour of the traffic lights in the year the scorecard opens on
    assert {c["status"] for c in card["indicators"]} == {"met", "at_risk", "missed", "no_data"}
    assert card["illustrative_years"] == YEARS and card["data_note"]["en"].startswith(
        "2021–2025: an illustrative continuation"
    )


def test_empty_figures_say_why(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        core = cockpit.cockpit(s, "core")
        park = cockpit.cockpit(s, "park")
        xianan = cockpit.cockpit(s, "xianan", 2021)
        nobody = cockpit.cockpit(s, "E14")  # E01–E08 have illustrative bills; E14 none
        park2020 = cockpit.cockpit(s, "park", 2020)["current"]
        card = {c["code"]: c for c in indicators.scorecard(s)["indicators"]}
        y2020 = {r["code"]: r for r in indicators.evaluate(s, 2020)}
        reach = {r["code"]: r for r in indicators.reachability(s)}
    by = {x["year"]: x for x in core["series"]}
    # 2018/2019: energy and sectors, no carrier split (Table 2.4.2/2.4.3): no CO₂, and why
    for y in (2018, 2019):
        assert by[y]["co2_t"] is None and by[y]["co2_missing_reason"] == "no_carrier_split"
        assert by[y]["missing_reasons"]["co2_per_gdp"] == "no_carrier_split"
        assert by[y]["energy_per_gdp"] is not None and "energy_per_gdp" not in by[y]["missing_reasons"]
    assert by[2020]["co2_t"] is not None and by[2020]["co2_missing_reason"] is None
    # … and the core's above-scale industry never has a carrier split (Table 2.4.4 gives totals)
    assert by[2020]["missing_reasons"] == {"above_scale_co2_t": "no_carrier_split"}
    assert "no_carrier_split" in core["reasons"] and core["reasons"]["no_carrier_split"]["zh"]
    assert core["indicator"]["required_reduction"] is None  # 2025: the target year itself
    assert core["indicator"]["required_reduction_missing_reason"] == "target_year_reached"
    # the whole park: 2016/2017 only the carriers of above-scale industry; all-boundary CO₂ never
    pk = {x["year"]: x for x in park["series"]}
    assert pk[2016]["missing_reasons"]["energy_tce_calorific"] == "no_activity_data"
    assert pk[2020]["co2_missing_reason"] == "no_carrier_split" and pk[2020]["above_scale_co2_t"] is not None
    assert pk[2020]["missing_reasons"]["energy_per_gdp"] == "industry_only"
    # … its intensity card: CO₂ of the above-scale carriers over industrial value added, in t CO₂
    int1 = park2020["intensities"]["co2_per_industrial_value_added"]
    assert park2020["boundary"] == "above_scale" and int1["unit"] == "tCO2/10^4 yuan"
    assert int1["value"] == pytest.approx(park2020["totals"]["co2_t"] / 3_380_000)  # 表2.4.1: 338亿元
    # a park of the four: totals only (illustrative), so no CO₂ and grey pies, and why
    assert (
        xianan["current"]["by_carrier"] == []
        and xianan["current"]["by_carrier_missing_reason"] == "no_carrier_split"
    )
    assert xianan["series"][0]["missing_reasons"]["energy_per_gdp"] == "no_gdp"
    assert (nobody["years"], nobody["missing_reason"]) == ([], "no_activity_data")
    # the scorecard: no target that year, a target in words, no value
    assert card["1c"]["status"] == "no_data" and card["1c"]["status_reason"] == "no_target"
    assert card["3"]["status_reason"] == "no_target" and card["4"]["status_reason"] == "text_target"
    assert card["1a"]["status_reason"] is None
    assert {r["status_reason"] for r in y2020.values()} == {"no_target"}  # the plan sets none for 2020
    assert reach["4"]["verdict_reason"] == "text_target" and reach["3"]["verdict_reason"] == "no_target"
    assert reach["1a"]["verdict_reason"] is None


def test_projects_have_an_illustrative_history(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        rows = {p["seq"]: p for p in projects.list_projects(s, today=date(2026, 12, 2))}
        log = projects.history(s, 19)
    done = [k for k, p in rows.items() if p["status"] == "done"]
    assert len(done) >= 15  # most are done
    assert rows[18]["condition"] == ["overdue", "behind"] and rows[20]["status"] == "suspended"
    assert set(rows[19]["condition"]) == {"overdue", "behind", "stalled"}  # no report since March
    assert log[0]["on"] == "2026-03-31" and "环评" in log[0]["note"] and log[0]["by"] == demo.ILLUSTRATIVE_BY
    assert rows[13]["status"] == "in_progress" and rows[13]["condition"] == []  # R&D without a schedule


def test_good_air_days_continue_on_the_operating_station(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        five = indicators.series(s, indicators.get_indicator(s, "5"))
    assert five.years == list(range(2016, 2026)) and five.illustrative == YEARS
    # the synthetic 2020 year of 长江产业园 (scaled to the station table) gives the plan's 343 days
    assert dict(zip(five.years, five.values, strict=True))[2020] == 343
    assert "高新区省控站(示意)" in five.source and "长江产业园(停用)" in five.source


def test_loading_twice_changes_nothing(fresh_demo_air_url: str) -> None:
    with session_scope(fresh_demo_air_url) as s:
        before = _counts(s)
        rev = get_park(s).data_revision
    with session_scope(fresh_demo_air_url) as s:
        again = demo.load_demo(s)
        assert (again.activity_changed, again.economic_changed, again.snapshots) == (0, 0, 0)
        assert again.illustrative_changed == {
            "superseded_records": 0,
            "indicator_values": 0,
            "project_reports": 0,
        }
        assert again.illustrative_years == YEARS
    with session_scope(fresh_demo_air_url) as s:
        assert _counts(s) == before and get_park(s).data_revision == rev


def test_real_data_replace_the_illustrative_year(fresh_demo_url: str) -> None:
    from greenpark.services.carbon.io import import_file

    real = "entity,year,sector,boundary,energy_tce,source_ref\nzone:core,2021,industry,above_scale,210000,统计局\n"
    with session_scope(fresh_demo_url) as s:
        park = get_park(s)
        made_up_2021 = s.scalars(
            select(func.count()).select_from(m.ActivityRecord).where(m.ActivityRecord.year == 2021)
        ).one()
        assert made_up_2021 == sum(int(r["year"]) == 2021 for r in read_csv(CONT / "activity.csv"))
        import_file(s, "real-activity.csv", real.encode())
        # the import itself replaced the core area's made-up 2021 records by the real one; the park
        # level and the four parks keep theirs (one zone's data do not empty another's year)
        core_id = s.scalars(select(m.Zone.id).where(m.Zone.code == "core")).one()
        rows = s.scalars(select(m.ActivityRecord).where(m.ActivityRecord.year == 2021)).all()
        mine = [r.source_ref for r in rows if r.zone_id == core_id and r.enterprise_id is None]
        others = [r.source_ref for r in rows if not (r.zone_id == core_id and r.enterprise_id is None)]
        assert mine == ["统计局"] and others and all(demo.is_illustrative(x) for x in others)
        assert demo.supersede_illustrative(s, park) == 0  # nothing more to do
        assert demo.illustrative_years_of(s, park) == YEARS  # the park level's 2021 is still made up
        # the core's 2021 economy (GDP, value added) is still made up, so its 2021 still says so
        assert cockpit.cockpit(s, "core")["illustrative_years"] == YEARS
        assert cockpit.cockpit(s, "park")["illustrative_years"] == YEARS
        indicators.report(s, "11", 2022, 340, source="科技局")  # a real report replaces a value
    with session_scope(fresh_demo_url) as s:  # the next `greenpark demo` leaves the real year alone
        again = demo.load_demo(s, synthetic_air=False)
        assert cockpit.cockpit(s, "core")["illustrative_years"] == YEARS
        v = s.scalars(
            select(m.IndicatorValue).where(m.IndicatorValue.year == 2022, m.IndicatorValue.value == 340)
        )
        assert v.one().source == "科技局" and again.illustrative_changed["indicator_values"] == 0
        recs = s.scalars(
            select(m.ActivityRecord).where(m.ActivityRecord.year == 2021, m.ActivityRecord.zone_id == core_id)
        ).all()
    assert [(r.source_ref, r.energy_tce) for r in recs] == [("统计局", 210000)]


def test_one_enterprise_month_replaces_only_its_own_made_up_year(fresh_demo_url: str) -> None:
    from greenpark.services.carbon.io import import_file

    month = "entity,year,month,boundary,carrier,quantity,unit,source_ref\nenterprise:E01,2024,7,all,electricity,85,10^4 kWh,电费单\n"
    with session_scope(fresh_demo_url) as s:
        park = get_park(s)
        core_before = inventory_cache.cached_inventory(s, park, "core", 2024)["totals"][
            "energy_tce_calorific"
        ]
        import_file(s, "e01-july-activity.csv", month.encode())
        e01 = inventory_cache.cached_inventory(s, park, "E01", 2024)
        core = inventory_cache.cached_inventory(s, park, "core", 2024)
        e02 = s.scalars(
            select(func.count()).select_from(m.ActivityRecord).join(m.Enterprise, m.Enterprise.id == m.ActivityRecord.enterprise_id)
            .where(m.Enterprise.code == "E02", m.ActivityRecord.year == 2024)
        ).one()  # fmt: skip
    # E01's twelve made-up months went, its real July stays, and the page is told the year is partial
    assert e01["totals"]["records"] == 1
    partial = [c for c in e01["checks"] if c["code"] == "coverage.partial_year"]
    assert partial and partial[0]["values"]["months"] == [7] and "1 个月" in partial[0]["message_zh"]
    # the core area (its own made-up total) and the other enterprises keep theirs
    assert core["totals"]["energy_tce_calorific"] == core_before and e02 == 12


def test_plan_only_demo(fresh_plan_url: str) -> None:
    with session_scope(fresh_plan_url) as s:
        assert demo.illustrative_years_of(s, get_park(s)) == []
        assert s.scalar(select(func.count()).select_from(m.ProjectUpdate)) == 0
        assert [p["code"] for p in monitoring.air_stations(s)] == ["air01"]
        assert indicators.scorecard(s)["year"] == 2020 and indicators.scorecard(s)["illustrative_years"] == []

"""Hourly data to hourly/daily AQI and the annual evaluation, through the service and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.services.environment.air import (
    AirDataRejected,
    annual_evaluation,
    read_hourly_csv,
    water_class,
)
from greenpark.services.environment.air_synthetic import synthetic_year, to_csv
from greenpark.services.plan.reproduce import reproduce
from greenpark.store.db import session_scope

# The plan's station table, 2020 (方案1.5(二)): PM2.5 31, PM10 53, O3 140, NO2 18, SO2 9, CO 1.4
PLAN_2020 = {"pm25": 31, "pm10": 53, "o3": 140, "no2": 18, "so2": 9, "co": 1.4}
runner = CliRunner()


@pytest.fixture(scope="module")
def year_2020() -> object:
    return synthetic_year(2020, PLAN_2020, seed=2020)


def test_synthetic_year_reproduces_the_station_table(year_2020: object) -> None:
    ev = annual_evaluation(year_2020, 2020)  # type: ignore[arg-type]
    st = ev["statistics"]
    for p in ("so2", "no2", "pm10", "pm25"):
        assert st[p]["annual_mean"] == pytest.approx(PLAN_2020[p]) and st[p]["valid"]
    assert st["co"]["daily_p95"] == pytest.approx(1.4)
    assert st["o3_8h"]["daily_max_8h_p90"] == pytest.approx(140)
    # with GB 3095-2012 grade II denominators: about 3.47 (issue 3), the plan states 3.34
    assert ev["composite_index"] == pytest.approx(3.468, abs=0.001)
    assert ev["standard"] == "GB 3095-2012" and ev["aqi_editions"] == ["HJ 633-2012"]
    assert sum(ev["days_by_level"].values()) == ev["days_with_aqi"] <= 366


def test_2026_data_use_the_new_editions() -> None:
    ev = annual_evaluation(synthetic_year(2027, PLAN_2020, seed=1), 2027)
    assert ev["aqi_editions"] == ["HJ 633-2026"]
    assert ev["standard"] == "GB 3095-2026 (transition)"
    assert ev["statistics"]["pm25"]["limit_annual"] == 30  # transition limit; 31 > 30: not met
    assert not ev["statistics"]["pm25"]["meets_limit"] and not ev["attained"]


def test_aqi_file_cli(year_2020: object, tmp_path: Path) -> None:
    f = tmp_path / "station.csv"
    f.write_text(to_csv(year_2020), encoding="utf-8")  # type: ignore[arg-type]
    res = runner.invoke(app, ["aqi-file", str(f)])
    assert res.exit_code == 0, res.output
    daily = list(
        csv.DictReader((tmp_path / "station.daily-aqi.csv").read_text(encoding="utf-8").splitlines())
    )
    hourly = list(
        csv.DictReader((tmp_path / "station.hourly-aqi.csv").read_text(encoding="utf-8").splitlines())
    )
    assert len(daily) == 366 and len(hourly) == 366 * 24
    assert all(r["edition"] == "HJ 633-2012" for r in daily)
    assert {r["category"] for r in daily} <= {"优", "良", "轻度污染", "中度污染", "重度污染", "严重污染", ""}


def test_bad_hourly_file_names_row_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "time,so2,no2,co,o3,pm10,pm25\n2021-01-01 00:00,5,10,0.5,30,40,20\n2021-01-01 01:00,5,ten,0.5,30,40,20\n",
        encoding="utf-8",
    )
    with pytest.raises(AirDataRejected) as exc:
        read_hourly_csv("bad.csv", f.read_bytes())
    e = exc.value.errors[0]
    assert (e.file, e.row, e.column) == ("bad.csv", 3, "no2")
    res = runner.invoke(app, ["aqi-file", str(f)])
    assert res.exit_code == 2 and not (tmp_path / "bad.daily-aqi.csv").exists()


def test_aqi_cli_json_shape() -> None:
    res = runner.invoke(
        app, ["aqi", "--pm25", "75.5", "--pm10", "150.9", "--co", "3.9", "--date", "2020-06-01", "--json"]
    )
    assert res.exit_code == 0
    d = json.loads(res.stdout)
    assert d == {"aqi": 101, "iaqi": {"pm10": 101, "co": 98, "pm25": 101}, "primary": ["pm10", "pm25"],
                 "category": {"level": 3, "zh": "轻度污染", "en": "Lightly polluted", "color": "#FF7E00"}, "edition": "HJ 633-2012"}  # fmt: skip
    res = runner.invoke(app, ["aqi", "--so2", "900", "--period", "hour", "--edition", "2026", "--json"])
    assert json.loads(res.stdout)["aqi"] == 200


def test_water_and_noise_cli() -> None:
    res = runner.invoke(
        app,
        ["water-class", "--codmn", "5.8", "--nh3n", "0.9", "--tp", "0.12", "--water-body", "river", "--json"],
    )
    d = json.loads(res.stdout)
    assert d["class"] == "III" and d["items"] == {"codmn": "III", "nh3n": "III", "tp": "III"}
    out = water_class({"nh3n": 1.3, "do": 6.5}, "river", target="III")
    assert out["class"] == "IV" and not out["meets_target"] and out["exceedance"] == {"nh3n": 0.3}
    res = runner.invoke(app, ["noise", "--zone-class", "4b", "--leq", "62", "--period", "night", "--json"])
    n = json.loads(res.stdout)
    assert n["limit_db"] == 60 and not n["complies"] and n["exceedance_db"] == pytest.approx(2.0)


def test_air_annual_cli_for_demo_station(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", demo_url)
    res = runner.invoke(app, ["air-annual", "--station", "长江产业园(停用)", "--year", "2020", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert "synthetic" in d["source"] and d["composite_index"] == pytest.approx(3.468, abs=0.001)


def test_reproduce_reports_the_composite_index(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        w = {x.get("figure"): x for x in reproduce(s)["warnings"]}
    ci = w["env_composite_index_2020"]
    assert ci["plan"] == 3.34 and ci["computed"] == pytest.approx(3.468, abs=0.001)
    assert "3.34" in ci["message_zh"]


def test_invalid_days_are_reported(year_2020: object) -> None:
    from greenpark.services.environment.air import HourlySeries

    s: HourlySeries = year_2020  # type: ignore[assignment]
    v = {p: a.copy() for p, a in s.values.items()}
    v["pm25"][10:15, :6] = np.nan  # five days with at most 18 hours
    ev = annual_evaluation(HourlySeries(s.days, v), 2020)
    assert ev["statistics"]["pm25"]["invalid_days"] >= 5
    assert ev["statistics"]["pm25"]["valid_days"] <= 366 - 5


def test_missing_hours_make_days_invalid(year_2020: object) -> None:
    from greenpark.services.environment.air import HourlySeries, daily_statistics

    s: HourlySeries = year_2020  # type: ignore[assignment]
    v = {p: a.copy() for p, a in s.values.items()}
    v["pm25"][0, :6] = np.nan  # 18 hours left on day 1: no valid daily mean
    d = daily_statistics(HourlySeries(s.days, v))
    assert np.isnan(d["pm25"][0]) and d["pm25_hours"][0] <= 18


def test_stored_station_year_and_reimport(
    fresh_demo_air_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from greenpark.services.environment import monitoring

    fresh_demo_url = fresh_demo_air_url
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    with session_scope(fresh_demo_url) as s:
        before = monitoring.station_year_view(s, "air01", 2020)
    assert before["evaluation"]["composite_index"] == pytest.approx(3.468, abs=0.001)
    assert before["data_source"].startswith("synthetic")
    # a measured day replaces the synthetic one: the cached evaluation must change with the data
    rows = "\n".join(f"2020-07-01 {h:02d}:00,5,20,0.6,60,300,250" for h in range(24))
    f = tmp_path / "july.csv"
    f.write_text("time,so2,no2,co,o3,pm10,pm25\n" + rows + "\n", encoding="utf-8")
    res = runner.invoke(app, ["import-air", str(f), "--station", "air01", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["hours_changed"] == 24
    again = runner.invoke(app, ["import-air", str(f), "--station", "air01", "--json"])
    assert json.loads(again.stdout)["hours_changed"] == 0  # re-import changes nothing
    with session_scope(fresh_demo_url) as s:
        after = monitoring.station_year_view(s, "air01", 2020)
    day = next(r for r in after["daily"] if r["date"] == "2020-07-01")
    assert day["pm25"] == pytest.approx(250) and day["aqi"] == 300  # PM2.5 250 -> IAQI 300
    assert (
        after["evaluation"]["statistics"]["pm25"]["annual_mean"]
        > before["evaluation"]["statistics"]["pm25"]["annual_mean"]
    )
    # stored in UTC: Beijing 00:00 on 2020-07-01 is 16:00 UTC the day before
    from sqlalchemy import select

    from greenpark.store import models as m

    with session_scope(fresh_demo_url) as s:
        first = s.scalars(
            select(m.AirHour).where(m.AirHour.pm25_ug_m3 == 250).order_by(m.AirHour.hour_utc)
        ).first()
        assert first is not None and first.hour_utc.isoformat() == "2020-06-30T16:00:00"


def test_water_samples_and_section_class(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    f = tmp_path / "samples.csv"
    f.write_text(
        "section,date,item,value\nws05,2024-05-10,codmn,5.8\nws05,2024-05-10,nh3n,1.2\nws05,2024-05-10,tp,0.12\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import-water", str(f)]).exit_code == 0
    res = runner.invoke(app, ["water-class", "--section", "ws05", "--date", "2024-05-10", "--json"])
    d = json.loads(res.stdout)
    # 淦河西河桥: a river section with target class III (Table 1.5.1); NH3-N 1.2 is class IV
    assert (
        d["section"] == "淦河西河桥" and d["class"] == "IV" and d["target"] == "III" and not d["meets_target"]
    )
    assert d["exceedance"] == {"nh3n": pytest.approx(0.2)}
    bad = tmp_path / "bad.csv"
    bad.write_text("section,date,item,value\nws05,2024-05-11,arsenicum,1\n", encoding="utf-8")
    r = runner.invoke(app, ["import-water", str(bad)])
    assert r.exit_code == 2 and "row 2, column item" in r.output


def test_hourly_excel_import_and_errors(tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "hourly"
    ws.append(["time", "so2", "no2", "co", "o3", "pm10", "pm25"])
    for h in range(24):
        ws.append([datetime(2021, 3, 1, h), 5, 20, 0.5, 60, 40, 30])
    f = tmp_path / "h.xlsx"
    wb.save(f)
    series = read_hourly_csv("h.xlsx", f.read_bytes())
    assert series.days[0].isoformat() == "2021-03-01" and np.nanmean(series.values["pm25"]) == 30
    ws.cell(row=5, column=6, value="lots")  # row 5, column pm10
    wb.save(f)
    with pytest.raises(AirDataRejected) as exc:
        read_hourly_csv("h.xlsx", f.read_bytes())
    e = exc.value.errors[0]
    assert (e.file, e.sheet, e.row, e.column) == ("h.xlsx", "hourly", 5, "pm10")


def test_noise_measurements(fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    f = tmp_path / "noise.csv"
    f.write_text(
        "point,date,period,leq_db\nnoise-4b,2024-06-01,day,66.5\nnoise-4b,2024-06-01,night,61.2\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import-noise", str(f)]).exit_code == 0
    rows = json.loads(
        runner.invoke(app, ["noise", "--point", "noise-4b", "--date", "2024-06-01", "--json"]).stdout
    )
    by = {r["period"]: r for r in rows}
    # GB 3096-2008 Table 1, class 4b: day 70, night 60
    assert (
        by["day"]["complies"]
        and not by["night"]["complies"]
        and by["night"]["exceedance_db"] == pytest.approx(1.2)
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("point,date,period,leq_db\nnoise-4b,2024-06-02,evening,50\n", encoding="utf-8")
    assert runner.invoke(app, ["import-noise", str(bad)]).exit_code == 2
    from fastapi.testclient import TestClient

    from greenpark.settings import Settings
    from greenpark.web.app import create_app

    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        zones = {z["code"]: z for z in c.get("/api/env/noise-zones").json()}
    latest = {m["period"]: m for m in zones["noise-4b"]["latest"]}
    assert latest["night"]["complies"] is False and zones["noise-2"]["latest"] == []


def test_water_sections_api_shows_latest_class(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from greenpark.settings import Settings
    from greenpark.web.app import create_app

    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    f = tmp_path / "s.csv"
    f.write_text(
        "section,date,item,value\nws01,2024-05-10,nh3n,0.4\nws01,2024-05-10,codmn,3.5\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["import-water", str(f)]).exit_code == 0
    with TestClient(create_app(Settings(), database_url=fresh_demo_url)) as c:
        sections = {w["code"]: w for w in c.get("/api/env/water-sections").json()}
        assert sections["ws01"]["latest"]["class"] == "II" and sections["ws01"]["latest"]["meets_target"]
        assert sections["ws02"]["latest"] is None
        assert (
            c.get("/api/env/water-sections/ws01/class", params={"date": "2024-05-10"}).json()["class"] == "II"
        )

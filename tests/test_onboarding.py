"""Park onboarding: a second park from one workbook beside the demo; a bad cell named by file,
sheet, row and column with nothing created; the same workbook twice changes nothing; a park's
workbook exported and imported again changes nothing; ``--park`` on the commands."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenpark.cli.main import PARK_COMMANDS, app
from greenpark.demo import demo_workbook, load_reference
from greenpark.services.carbon.cockpit import cockpit
from greenpark.services.park.parks import ParkError, get_park, park_summaries, use_park
from greenpark.services.portfolio.onboarding import (
    ParkWorkbookRejected,
    create_park,
    park_workbook,
    write_workbook,
)
from greenpark.store import models as m
from greenpark.store.db import session_scope
from tests.parks import CODE, add_second_park, second_park_rows, second_park_workbook

runner = CliRunner()


def _count(url: str, model: type[m.Base]) -> int:
    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_second_park_runs_beside_the_demo(fresh_demo_url: str) -> None:
    add_second_park(fresh_demo_url)
    with session_scope(fresh_demo_url) as s:
        summary = {p["code"]: p for p in park_summaries(s)}
        assert summary[CODE] == {"code": CODE, "name_zh": "湖滨生态工业园", "name_en": "Lakeside Eco-industrial Park",
                                 "zones": 2, "enterprises": 2}  # fmt: skip
        assert summary["xianning-htz"]["enterprises"] == 14
        with pytest.raises(ParkError, match="2 parks"):
            get_park(s)  # several parks and none named: an error that names them
        park = use_park(s, CODE)
        assert park is not None
        ind = s.scalars(
            select(m.Indicator).where(m.Indicator.park_id == park.id, m.Indicator.code == "2")
        ).one()
        # a reported indicator's published baseline is its value of the baseline year
        value = s.scalars(select(m.IndicatorValue).where(m.IndicatorValue.indicator_id == ind.id)).one()
        assert (value.year, value.value) == (2020, 81.5)
        # the second park's cockpit is its own: its energy, its intensity target from its workbook
        c = cockpit(s, "park", 2023, CODE)
        assert c["park"]["code"] == CODE
        assert [t["value"] for t in c["indicator"]["targets"]] == [0.5, 0.48, 0.45]
        assert c["series"][-1]["year"] == 2023
        # 620 000 MWh at the calorific equivalent 0.1229 tce/MWh, over 18 亿元 of industrial value added
        assert c["series"][-1]["energy_tce_calorific"] == pytest.approx(620_000 * 0.1229, rel=1e-9)
        assert c["series"][-1]["energy_per_iva"] == pytest.approx(620_000 * 0.1229 / 180_000, rel=1e-9)
        assert c["series"][-1]["illustrative"] is False


def test_the_same_workbook_twice_changes_nothing(fresh_url: str) -> None:
    content = second_park_workbook()
    with session_scope(fresh_url) as s:
        load_reference(s)
        first = create_park(s, "lakeside.xlsx", content, by="officer")
    assert first.created and first.changed["enterprise"] == 2 and first.changed["indicator_target"] == 3
    events = _count(fresh_url, m.AuditEvent)
    assert events > 0
    with session_scope(fresh_url) as s:
        again = create_park(s, "lakeside.xlsx", content, by="officer")
    assert not again.created and again.changed == {}
    assert _count(fresh_url, m.AuditEvent) == events  # no history for what did not change
    # one changed cell: one record changed, its old and new value kept with who and which batch
    rows = second_park_rows()
    rows["enterprises"][1]["land_area_mu"] = 95
    with session_scope(fresh_url) as s:
        res = create_park(s, "lakeside-v2.xlsx", write_workbook(rows), by="officer2")
        assert res.changed == {"enterprise": 1}
        ev = s.scalars(
            select(m.AuditEvent).where(m.AuditEvent.entity == "enterprise", m.AuditEvent.action == "change")
        ).one()
        assert (ev.entity_key, ev.field, json.loads(ev.old_json), json.loads(ev.new_json)) == (
            "S1",
            "land_area_mu",
            80,
            95,
        )
        assert ev.actor == "officer2" and ev.batch.startswith("lakeside-v2.xlsx sha256:")


def test_a_bad_cell_is_named_and_nothing_is_created(fresh_url: str) -> None:
    rows = second_park_rows()
    rows["park"][0]["area_km2"] = "thirty"
    rows["zones"][1]["code"] = "south zone"  # a code names things in addresses and commands
    rows["enterprises"][0]["zone"] = "east"
    rows["targets"].append({"indicator": "9", "year": 2025, "target": "1"})
    rows["points"][1]["target_class"] = "VI"
    rows["profile"] = [{"parameter": "combustion", "value": "no-such-set"}]
    with session_scope(fresh_url) as s:
        load_reference(s)
    with session_scope(fresh_url) as s:
        with pytest.raises(ParkWorkbookRejected) as exc:
            create_park(s, "bad.xlsx", write_workbook(rows, lang="en"))
        where = {(e.sheet, e.row, e.column) for e in exc.value.errors}
        assert ("park", 2, "area_km2") in where
        assert ("points", 3, "target_class") in where
        assert ("zones", 3, "code") in where
        assert ("enterprises", 2, "zone") in where  # a reference too: every mistake at once
        s.rollback()
    assert _count(fresh_url, m.Park) == 0
    # the cell checks passed, the references did not: named too, still nothing created
    rows["park"][0]["area_km2"] = 30
    rows["zones"][1]["code"] = "south"
    rows["points"][1]["target_class"] = "III"
    with session_scope(fresh_url) as s:
        with pytest.raises(ParkWorkbookRejected) as exc:
            create_park(s, "bad.xlsx", write_workbook(rows, lang="en"))
        text = [str(e) for e in exc.value.errors]
        assert any("sheet enterprises, row 2, column zone" in t and "east" in t for t in text), text
        assert any("sheet targets, row 5, column indicator" in t for t in text), text
        s.rollback()
    rows["enterprises"][0]["zone"] = "north"
    rows["targets"].pop()
    with session_scope(fresh_url) as s:
        with pytest.raises(ParkWorkbookRejected) as exc:
            create_park(s, "bad.xlsx", write_workbook(rows, lang="en"))
        assert [(e.sheet, e.column) for e in exc.value.errors] == [("profile", "value")]
        assert "no-such-set" in str(exc.value.errors[0])
    assert _count(fresh_url, m.Park) == 0 and _count(fresh_url, m.Enterprise) == 0


def test_the_demo_is_a_park_like_any_other(demo_url: str) -> None:
    """The demo park came in through the onboarding workbook; exported and imported again it is
    unchanged, and its exported workbook holds what the plan gives."""
    with session_scope(demo_url) as s:
        park = get_park(s, "xianning-htz")
        content = park_workbook(s, park)
        res = create_park(s, "xianning-export.xlsx", content)
        assert res.changed == {} and not res.created
        s.rollback()
    wb = load_workbook(io.BytesIO(content), read_only=True)
    assert {
        "园区",
        "分园",
        "企业",
        "指标",
        "指标目标",
        "重点任务",
        "重点项目",
        "监测点位",
        "已发布数据",
        "说明",
    } <= set(wb.sheetnames)
    targets = list(wb["指标目标"].iter_rows(values_only=True))
    assert ("1a", 2021, "<0.38") in targets
    # the demo's own workbook is the same park (built from the plan's files)
    with session_scope(demo_url) as s:
        assert create_park(s, "demo.xlsx", demo_workbook()).changed == {}
        s.rollback()


def test_cli_park_commands_and_the_park_option(
    fresh_demo_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    from greenpark.settings import get_settings

    get_settings.cache_clear()
    out = Path(str(tmp_path)) / "park.xlsx"
    r = runner.invoke(app, ["park", "template", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "园区" in load_workbook(out, read_only=True).sheetnames
    (Path(str(tmp_path)) / "lakeside.xlsx").write_bytes(second_park_workbook())
    r = runner.invoke(app, ["park", "create", str(Path(str(tmp_path)) / "lakeside.xlsx"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["created"] is True
    r = runner.invoke(app, ["park", "create", str(Path(str(tmp_path)) / "lakeside.xlsx"), "--json"])
    assert json.loads(r.output)["unchanged"] is True
    r = runner.invoke(app, ["park", "list", "--json"])
    listed = json.loads(r.output)
    assert [sorted(p) for p in listed] == [["code", "enterprises", "name_en", "name_zh", "zones"]] * 2
    assert {p["code"]: p["zones"] for p in listed} == {"xianning-htz": 5, CODE: 2}
    # two parks: a command without --park says which there are; with it, it works on that park
    r = runner.invoke(app, ["indicators", "--json"])
    assert r.exit_code == 2 and "xianning-htz" in r.output and CODE in r.output, r.output
    r = runner.invoke(app, ["indicators", "--json", "--park", CODE])
    assert r.exit_code == 0, r.output
    assert "工业固体废物综合利用率" in r.output and "单位工业增加值二氧化碳" not in r.output
    # a zone's officer of the new park, from the command line
    pw = "zone-officer-pw-1\nzone-officer-pw-1\n"
    r = runner.invoke(
        app, ["users", "add", "north1", "--role", "zone_staff", "--park", CODE, "--zone", "north"], input=pw
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["users", "add", "north2", "--role", "zone_staff", "--park", CODE, "--zone", "core"], input=pw
    )
    assert r.exit_code == 1 and "no zone 'core' in park lakeside-eco" in r.output
    with session_scope(fresh_demo_url) as s:
        u = s.scalars(select(m.AppUser).where(m.AppUser.username == "north1")).one()
        zone = s.get(m.Zone, u.zone_id)
        assert u.role == "zone_staff" and zone is not None and zone.code == "north"
    r = runner.invoke(app, ["indicators", "--json", "--park", "nowhere"])
    assert r.exit_code == 2 and "unknown park 'nowhere'" in r.output
    # a bad workbook: every bad cell named, exit 2, nothing created
    rows = second_park_rows("another")
    rows["enterprises"][0]["uscc"] = "X" * 30
    bad = Path(str(tmp_path)) / "another.xlsx"
    bad.write_bytes(write_workbook(rows))
    r = runner.invoke(app, ["park", "create", str(bad)])
    assert r.exit_code == 2 and "企业" in r.output and "uscc" in r.output
    assert "another" not in runner.invoke(app, ["park", "list", "--json"]).output


def test_every_park_command_takes_the_park_option() -> None:
    for name in ("import", "inventory", "indicators", "report", "sources import", "alarms list", "projects list",
                 "land rank", "scenario run", "sinks", "reproduce"):  # fmt: skip
        assert name in PARK_COMMANDS, name
    for name in PARK_COMMANDS:
        r = runner.invoke(app, [*name.split(" "), "--help"])
        assert "--park" in r.output, name

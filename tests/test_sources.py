"""The enterprise file (一企一档): demo content, Excel import (all or nothing, errors by file, sheet,
row and column), export round trip, channel edits; river tracing over the demo rivers."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from greenpark.services.pollution import ingest, sources, tracing
from greenpark.store import models as m
from greenpark.store.db import session_scope
from tests.hj212_helpers import upload


def count(url: str, model: type[m.Base]) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_demo_file_has_the_key_polluters_with_outlets_points_and_limits(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        ents = {e.name: e for e in s.scalars(select(m.Enterprise))}
        f = sources.enterprise_file(s, ents["咸宁南玻玻璃有限公司"].id)
        (outlet,) = f["outlets"]
        (point,) = outlet["points"]
        so2 = next(c for c in point["channels"] if c["code"] == "a21026")
        assert (outlet["medium"], point["edition"], so2["limit_value"], so2["use_zs"]) == (
            "gas",
            "2025",
            400.0,
            True,
        )
        assert "GB 26453-2011" in so2["limit_standard"]
        wwtp = sources.enterprise_file(s, ents["咸宁浦华高新水务有限公司"].id)["outlets"][0]
        assert wwtp["river"] == "横沟河" and "illustrative" in wwtp["note"]
        # every Table 1.5.3 water and air polluter has a monitored outlet; soil-only ones have permits only
        monitored = {e.name for e in ents.values() if sources.enterprise_file(s, e.id)["outlets"]}
        assert len(monitored) == 13 and "湖北凯特电源科技有限公司" not in monitored
        assert all(sources.enterprise_file(s, e.id)["permits"] for e in ents.values())


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_rejects_the_whole_file_and_names_each_bad_cell(fresh_demo_url: str) -> None:
    before = (
        count(fresh_demo_url, m.Outlet),
        count(fresh_demo_url, m.SourcePoint),
        count(fresh_demo_url, m.Channel),
    )
    content = _workbook({
        "排口": [["enterprise", "code", "name", "medium", "river", "river_km"],
                 ["湖北智莱科技有限公司", "DW002", "雨水排口", "water", "henggou", 2.0],
                 ["湖北智莱科技有限公司", "DW003", "x", "air", "", ""],
                 ["不存在的公司", "DW001", "x", "water", "", ""]],
        "监测点": [["enterprise", "outlet", "mn", "pw", "edition"],
                  ["湖北智莱科技有限公司", "DW002", "NEW00000000001", "123456", "2017"],
                  ["湖北智莱科技有限公司", "DW002", "BAD-MN", "123456", "2019"]],
        "监测因子": [["mn", "code", "limit_value", "limit_standard", "pre_alarm_ratio"],
                    ["NEW00000000001", "w01018", 40, "地表水IV类管控值 (illustrative)", 0.8],
                    ["NEW00000000001", "w99999", "abc", "", 1.5]],
    })  # fmt: skip
    with pytest.raises(sources.SourceFileRejected) as exc, session_scope(fresh_demo_url) as s:
        sources.import_sources(s, "file.xlsx", content)
    got = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert got == {
        ("排口", 3, "medium"), ("排口", 4, "enterprise"), ("监测点", 3, "mn"), ("监测点", 3, "edition"),
        ("监测因子", 3, "code"), ("监测因子", 3, "limit_value"), ("监测因子", 3, "pre_alarm_ratio"),
    }  # fmt: skip
    assert all(e.file == "file.xlsx" for e in exc.value.errors)
    after = (
        count(fresh_demo_url, m.Outlet),
        count(fresh_demo_url, m.SourcePoint),
        count(fresh_demo_url, m.Channel),
    )
    assert after == before  # nothing imported


def test_export_then_import_is_idempotent_and_new_rows_arrive(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        book = sources.source_workbook(s)
    before = (
        count(fresh_demo_url, m.Outlet),
        count(fresh_demo_url, m.Channel),
        count(fresh_demo_url, m.Permit),
    )
    with session_scope(fresh_demo_url) as s:
        sources.import_sources(s, "export.xlsx", book)
    assert (
        count(fresh_demo_url, m.Outlet),
        count(fresh_demo_url, m.Channel),
        count(fresh_demo_url, m.Permit),
    ) == before
    wb = load_workbook(io.BytesIO(book))
    wb["outlets"].append(["湖北智莱科技有限公司", "YS001", "雨水排口", "water", 29.85, 114.32, "淦河", "gan", 17.0,
                          "直接排放", "illustrative"])  # fmt: skip
    wb["points"].append(["湖北智莱科技有限公司", "YS001", "NEW00000000002", "654321", "2025", "maker", "m"])
    wb["channels"].append(["NEW00000000002", "w01018", "", "", 40, "管控值 (illustrative)", 0.8, 0, 0, ""])
    buf = io.BytesIO()
    wb.save(buf)
    with session_scope(fresh_demo_url) as s:
        counts = sources.import_sources(s, "export.xlsx", buf.getvalue())
        ch = s.scalars(
            select(m.Channel).join(m.SourcePoint).where(m.SourcePoint.mn == "NEW00000000002")
        ).one()
        assert (ch.name, ch.unit, ch.limit_value) == (
            "化学需氧量",
            "mg/L",
            40.0,
        )  # name and unit from Appendix B
    assert counts["outlets"] == before[0] + 1


def test_channel_edit_needs_the_standard_of_a_limit(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        ch = s.scalars(select(m.Channel).where(m.Channel.code == "w01018")).first()
        assert ch is not None
        sources.update_channel(s, ch.id, {"limit_value": 80, "limit_standard": "地方标准 (illustrative)"})
        assert ch.limit_value == 80
        with pytest.raises(sources.SourceFileRejected):
            sources.update_channel(s, ch.id, {"limit_value": 70, "limit_standard": ""})
        with pytest.raises(ValueError, match="cannot change"):
            sources.update_channel(s, ch.id, {"code": "x"})


def _load(url: str, mn: str, day: date, cod: float, nh3n: float, flow_l_s: float) -> None:
    """24 hourly uploads of the Beijing day before ``day`` ends, through the server's write path."""
    frames = []
    for h in range(24):
        t = datetime(day.year, day.month, day.day) + timedelta(hours=h)
        frames.append(upload(mn, "2061", t.strftime("%Y%m%d%H%M%S"), {
            "w01018": {"Avg": str(cod)}, "w21003": {"Avg": str(nh3n)}, "w00000": {"Avg": str(flow_l_s)}}))  # fmt: skip
    with session_scope(url) as s:
        reg = ingest.load_registry(s)
        items = [ingest.classify(f, b"", "t", datetime(2026, 1, 1), reg) for f in frames]
        ingest.write_batch(s.connection(), items)
        ingest.rollup(s, ingest.touched_hours(items))


def test_tracing_ranks_upstream_outlets_by_load(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        day = s.scalar(select(func.max(m.WaterSample.sampled_on)))
    assert day is not None
    # 横沟河 outlets (km): 福人 1.2, 金士达 3.0, 惠生 2.4, 红牛 4.1, 浦华 WWTP 6.0; 入湖口 section at km 7.5
    _load(
        fresh_demo_url, "42120100101001", day, cod=60, nh3n=8.0, flow_l_s=5.0
    )  # 福人: 8×5×3.6×24/1000 = 3.456 kg
    _load(fresh_demo_url, "42120100201001", day, cod=20, nh3n=1.0, flow_l_s=50.0)  # WWTP: 4.32 kg NH3-N
    _load(
        fresh_demo_url, "42120100501001", day, cod=90, nh3n=20.0, flow_l_s=9.0
    )  # 今麦郎 on 淦河: not upstream
    with session_scope(fresh_demo_url) as s:
        out = tracing.trace(s, "横沟河入湖口", day, 24)
    assert out["change"]["worsened"] and out["change"]["items_over_target"] == [
        "nh3n"
    ]  # synthetic NH3-N > IV
    assert out["ranked_by"] == "nh3n"
    names = [r["enterprise"] for r in out["ranking"]]
    assert names[:2] == ["咸宁浦华高新水务有限公司", "湖北福人金身药业有限公司"]
    assert "今麦郎饮品有限公司" not in names  # on 淦河, not upstream of 横沟河
    assert {r["enterprise"] for r in out["ranking"]} == {
        "湖北福人金身药业有限公司", "咸宁浦华高新水务有限公司", "湖北惠生药业有限公司", "红牛维他命饮料（湖北）有限公司",
        "金士达医疗（咸宁）有限公司",
    }  # fmt: skip
    top = out["ranking"][0]
    assert top["loads"]["nh3n"] == {"kg": 4.32, "hours": 24, "mean_mg_l": 1.0}
    assert out["ranking"][1]["loads"]["nh3n"]["kg"] == 3.456
    assert top["distance_km"] == 1.5  # 7.5 − 6.0
    # the lake section downstream of 横沟河 sees the tributary's outlets, the 淦河 section does not
    with session_scope(fresh_demo_url) as s:
        ups = tracing.upstream_outlets(s, s.scalar(select(m.River.id).where(m.River.code == "futou")), 3.0)
        gan = tracing.upstream_outlets(s, s.scalar(select(m.River.id).where(m.River.code == "gan")), 12.0)
    assert len(ups) == 5 and {o.river_km for o, _d in gan} == {9.0, 11.5}


def test_tracing_a_section_not_on_a_river_says_so(demo_url: str) -> None:
    with session_scope(demo_url) as s, pytest.raises(tracing.TracingError, match="not placed on a river"):
        tracing.trace(s, "南川水库")

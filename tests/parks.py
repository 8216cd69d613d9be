"""A second park beside the demo, created the way a park officer creates one: from an onboarding
workbook (then its users, an enterprise file and some records, through the ordinary services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from greenpark.services.carbon.records import (
    EntityResolver,
    upsert_activity,
    upsert_economic,
    validate_activity,
    validate_economic,
)
from greenpark.services.park import auth
from greenpark.services.park.parks import use_park
from greenpark.services.portfolio.onboarding import create_park, write_workbook
from greenpark.store import models as m
from greenpark.store.db import session_scope

CODE = "lakeside-eco"
#: Names that must never show outside their scope (unique words, easy to search for in answers).
NORTH_NAME = "北岸新材料科技有限公司"
SOUTH_NAME = "南湾精细化工有限公司"


def second_park_rows(code: str = CODE) -> dict[str, list[dict[str, Any]]]:
    """The onboarding rows of a small park: two zones, an enterprise in each, two indicators
    with yearly targets, a task and a project, an air station, a water section, a published table."""
    return {
        "park": [{"code": code, "name_zh": "湖滨生态工业园", "name_en": "Lakeside Eco-industrial Park",
                  "province": "hubei", "grid_region": "central_china", "area_km2": 36.5, "source_ref": "test"}],
        "profile": [{"parameter": "grid_year", "value": ""}],
        "zones": [
            {"code": "north", "name_zh": "北区", "name_en": "North zone", "area_km2": 20},
            {"code": "south", "name_zh": "南区", "name_en": "South zone", "area_km2": 16.5},
        ],
        "enterprises": [
            {"code": "N1", "name": NORTH_NAME, "uscc": "91421200MA4000001X", "industry_code": "2641",
             "zone": "north", "land_area_mu": 120, "tags": "重点用能单位, 重点排污单位"},
            {"code": "S1", "name": SOUTH_NAME, "uscc": "91421200MA4000002X", "industry_code": "2614",
             "zone": "south", "land_area_mu": 80, "tags": "key_polluter"},
        ],
        "indicators": [
            {"code": "1", "seq": 1, "name_zh": "单位工业增加值综合能耗", "name_en": "Energy per industrial value added",
             "unit": "tce/10^4 yuan", "direction": "lower", "kind": "binding", "method": "energy_per_iva_park",
             "baseline_year": 2020, "baseline_value": 0.5},
            {"code": "2", "seq": 2, "name_zh": "工业固体废物综合利用率", "name_en": "Industrial solid waste reuse",
             "unit": "%", "direction": "higher", "kind": "expected", "method": "reported",
             "baseline_year": 2020, "baseline_value": 81.5},
        ],
        "targets": [
            {"indicator": "1", "year": 2023, "target": "<0.48"}, {"indicator": "1", "year": 2025, "target": "0.45"},
            {"indicator": "2", "year": 2025, "target": ">=90"},
        ],
        "tasks": [{"group_seq": 1, "task_group": "绿色低碳", "action_seq": 1, "action": "能源替代", "measure_seq": 1,
                   "measure": "分布式光伏", "text": "屋顶光伏全覆盖", "departments": "经发局"}],
        "projects": [{"seq": 1, "group": "绿色低碳", "name": "园区屋顶分布式光伏", "owner": "湖滨能源公司",
                      "cycle_years": 2, "investment_10k_yuan": 3000, "planned_start": "2023-01-01"}],
        "points": [
            {"code": "aq1", "name": "湖滨空气站", "kind": "air", "zone": "north"},
            {"code": "wq1", "name": "湖滨湖心", "kind": "water", "water_body": "lake", "target_class": "III"},
        ],
        "published": [
            {"table": "water_use", "title": "规模以上工业用水量", "row": 1, "column": "year", "value": "2020"},
            {"table": "water_use", "row": 1, "column": "water_10k_t", "value": "312"},
        ],
    }  # fmt: skip


def second_park_workbook(code: str = CODE) -> bytes:
    return write_workbook(second_park_rows(code))


@dataclass
class SecondPark:
    code: str
    logins: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def add_second_park(url: str) -> SecondPark:
    """Create the second park in ``url`` (beside the demo), with its users (park staff, a zone
    officer for each zone, an enterprise user for each enterprise), an outlet, a device and an
    open alarm per enterprise, and a year of energy and value-added records."""
    out = SecondPark(CODE)
    with session_scope(url) as s:
        create_park(s, "lakeside.xlsx", second_park_workbook(), by="test")
        park = use_park(s, CODE)
        assert park is not None
        zones = {z.code: z for z in park.zones}
        ents = {e.code: e for e in s.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))}
        users = [("staff2", auth.Role.PARK_STAFF, {}), ("zone_north", auth.Role.ZONE_STAFF, {"zone_id": zones["north"].id}),
                 ("zone_south", auth.Role.ZONE_STAFF, {"zone_id": zones["south"].id}),
                 ("ent_north", auth.Role.ENTERPRISE, {"enterprise_id": ents["N1"].id}),
                 ("ent_south", auth.Role.ENTERPRISE, {"enterprise_id": ents["S1"].id})]  # fmt: skip
        for name, role, extra in users:
            password = f"{name}-password-1"
            auth.create_user(s, name, password, role, park_id=park.id, by="test", **extra)
            out.logins[name] = password
        now = m.utcnow()
        for code, e in ents.items():
            outlet = m.Outlet(enterprise_id=e.id, code=f"{code}-DA001", name=f"{code} 废气排口", medium="air")
            s.add(outlet)
            s.flush()
            point = m.SourcePoint(outlet_id=outlet.id, mn=f"88888880000{code}", pw="123456", edition="2017")
            s.add(point)
            s.flush()
            alarm = m.Alarm(point_id=point.id, code="a21026", rule="exceedance", severity="critical",
                            opened_utc=now, last_fired_utc=now, message=f"{e.name} 二氧化硫超标")  # fmt: skip
            s.add(alarm)
            s.flush()
            out.ids.update({f"{code}.enterprise": e.id, f"{code}.outlet": outlet.id, f"{code}.point": point.id,
                            f"{code}.alarm": alarm.id})  # fmt: skip
        resolver = EntityResolver(s, park)
        carriers = {c.code: c for c in s.scalars(select(m.Carrier))}
        activity, economic = [], []
        for code, mwh in (("N1", 380_000), ("S1", 240_000)):
            raw = {"entity": f"enterprise:{code}", "year": "2023", "sector": "industry", "boundary": "all",
                   "carrier": "electricity", "quantity": str(mwh), "unit": "MWh", "source_ref": "test"}  # fmt: skip
            v, errs = validate_activity(raw, resolver, carriers, ("test", "", 2))
            assert v is not None, errs
            activity.append(v)
        raw = {"entity": "park", "year": "2023", "indicator": "industrial_value_added", "value_10k_yuan": "180000",
               "price_basis": "current", "source_ref": "test"}  # fmt: skip
        v, errs = validate_economic(raw, resolver, ("test", "", 2))
        assert v is not None, errs
        economic.append(v)
        upsert_activity(s, park, activity, None, by="test", batch="test")
        upsert_economic(s, park, economic, None, by="test", batch="test")
    return out

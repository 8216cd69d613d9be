"""Load the demo park (Xianning High-tech Zone) from the data files transcribed from its plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.data import DEMO_DIR, load_carriers, read_csv
from greenpark.services import auth, illustrative
from greenpark.services.factors import sync_factor_sets
from greenpark.services.inventory import compute_inventory
from greenpark.services.records import (
    EntityResolver,
    upsert_activity,
    upsert_economic,
    validate_activity,
    validate_economic,
)
from greenpark.services.snapshots import save_snapshot
from greenpark.store import models as m

XIANNING = DEMO_DIR / "xianning"
#: The illustrative continuation 2021-2025 (continuation/README.md): made up so that every page of
#: the demo can be explored for the plan period; real data replace it by import.
CONTINUATION = "continuation"
ILLUSTRATIVE_YEARS = tuple(range(2021, 2026))
#: The word that marks illustrative data in a record's source (as the sinks and the enterprise
#: file mark theirs); pages and API results test for it with :func:`is_illustrative`.
ILLUSTRATIVE = illustrative.MARK
ILLUSTRATIVE_BY = "greenpark demo (illustrative)"

PLAN_TABLES = {
    "indicators": ("indicators.csv", "表3.3.1 高新区绿色发展主要指标", "表3.3.1"),
    "tasks": ("tasks.csv", "表4.3.1 2021-2025年绿色发展重点任务表", "表4.3.1"),
    "projects": ("projects.csv", "表4.3.2 2021-2025年绿色发展重点项目表", "表4.3.2"),
    "air_quality_annual": ("air_quality_annual.csv", "近五年空气质量监测指数（站点表）", "方案1.5(二)"),
    "forest": ("forest.csv", "森林资源面积", "方案1.1(四)"),
    "forest_cover": ("forest_cover.csv", "森林覆盖率", "方案1.1(四); 表3.3.1"),
    "water_use": ("water_use.csv", "表6.1.2 规模以上工业用水量", "表6.1.2"),
    "key_polluters": ("key_polluters.csv", "表1.5.3 重点排污单位名录", "表1.5.3"),
    "water_sections": ("water_sections.csv", "表1.5.1 水环境功能区划", "表1.5.1"),
    "noise_zones": ("noise_zones.csv", "表1.5.2 声环境功能区划", "表1.5.2"),
}

DEMO_ROLES = (
    ("admin", auth.Role.ADMIN),
    ("staff", auth.Role.PARK_STAFF),
    ("verifier", auth.Role.VERIFIER),
    ("enterprise", auth.Role.ENTERPRISE),
    ("public", auth.Role.PUBLIC),
)


class DemoDataError(ValueError):
    pass


@dataclass
class DemoReport:
    park: str
    activity_changed: int = 0
    economic_changed: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role
    existing_users: list[str] = field(default_factory=list)
    snapshots: int = 0
    #: Years of the illustrative continuation the demo holds (empty without it).
    illustrative_years: list[int] = field(default_factory=list)
    #: What the continuation changed: indicator values, project reports, superseded records.
    illustrative_changed: dict[str, int] = field(default_factory=dict)


is_illustrative = illustrative.is_illustrative
illustrative_filter = illustrative.sql_filter


def sync_carriers(session: Session) -> None:
    existing = {c.code: c for c in session.scalars(select(m.Carrier))}
    for c in load_carriers():
        row = existing.get(c.code) or m.Carrier(code=c.code)
        row.name_zh, row.name_en, row.kind, row.unit, row.color, row.note = (
            c.name_zh,
            c.name_en,
            c.kind,
            c.unit,
            c.color,
            c.note,
        )
        session.add(row)
    session.flush()


def load_reference(session: Session) -> None:
    """Carriers and shipped factor sets (idempotent)."""
    sync_carriers(session)
    sync_factor_sets(session)


def load_demo(
    session: Session,
    directory: Path = XIANNING,
    progress: Callable[[str], None] | None = None,
    synthetic_air: bool = True,
    continuation: bool = True,
) -> DemoReport:
    """Load (or refresh) the demo park; idempotent. ``synthetic_air`` adds the labelled synthetic
    hourly air data of the demo stations (one year per published or illustrative year);
    ``continuation`` the illustrative continuation 2021-2025 (energy, economy, indicator values,
    project reports, the operating air station), loaded only for years without real data."""
    say = progress or (lambda _msg: None)
    say("reference data")
    load_reference(session)
    meta = yaml.safe_load((directory / "park.yaml").read_text(encoding="utf-8"))
    park = session.scalars(select(m.Park).where(m.Park.code == meta["code"])).first() or m.Park(
        code=meta["code"]
    )
    park.name_zh, park.name_en = meta["name_zh"], meta["name_en"]
    park.province, park.grid_region, park.area_km2 = meta["province"], meta["grid_region"], meta["area_km2"]
    park.source_ref = meta.get("source_ref", "")
    park.accounting_profile_json = json.dumps(meta["accounting_profile"], ensure_ascii=False)
    session.add(park)
    session.flush()
    say("zones and enterprises")
    zones = {z.code: z for z in session.scalars(select(m.Zone).where(m.Zone.park_id == park.id))}
    for z in meta["zones"]:
        row = zones.get(z["code"]) or m.Zone(park_id=park.id, code=z["code"])
        row.name_zh, row.name_en, row.area_km2, row.note = (
            z["name_zh"],
            z["name_en"],
            z.get("area_km2"),
            z.get("note", ""),
        )
        session.add(row)
    session.flush()
    _load_enterprises(session, park, directory)
    report = DemoReport(park=park.code)

    say("activity and economic records")
    resolver = EntityResolver(session, park)
    carriers = {c.code: c for c in session.scalars(select(m.Carrier))}
    rows, erows, errors = [], [], []
    cont = directory / CONTINUATION
    files = [directory] + ([cont] if continuation and (cont / "activity.csv").exists() else [])
    for where in files:
        label = str(where.relative_to(directory) / "activity.csv")
        for i, raw in enumerate(read_csv(where / "activity.csv"), start=2):
            v, errs = validate_activity(raw, resolver, carriers, (label, "", i))
            errors += errs
            if v:
                rows.append(v)
        label = str(where.relative_to(directory) / "economic.csv")
        for i, raw in enumerate(read_csv(where / "economic.csv"), start=2):
            v, errs = validate_economic(raw, resolver, (label, "", i))
            errors += errs
            if v:
                erows.append(v)
    if errors:
        raise DemoDataError("; ".join(str(e) for e in errors))
    if len(files) > 1:
        say(
            "the ILLUSTRATIVE continuation 2021–2025 (made up so that every page can be explored;"
            " not published data; imports replace it — see data/demo/xianning/continuation/README.md)"
        )
        report.illustrative_changed["superseded_records"] = supersede_illustrative(session, park)
        real = _real_entity_years(session, park, m.ActivityRecord)
        rows = [v for v in rows if not (is_illustrative(v["source_ref"]) and _key(v) in real)]
        real = _real_entity_years(session, park, m.EconomicRecord)
        erows = [v for v in erows if not (is_illustrative(v["source_ref"]) and _key(v) in real)]
    report.activity_changed = upsert_activity(session, park, rows, None)
    report.economic_changed = upsert_economic(session, park, erows, None)

    say("plan tables")
    for name, (file, title, ref) in PLAN_TABLES.items():
        _load_plan_table(session, park, name, title, ref, read_csv(directory / file))

    say("indicators (Table 3.3.1)")
    from greenpark.services.indicators import load_plan_indicators

    load_plan_indicators(session, directory / "indicators.csv")
    from greenpark.services.projects import load_plan_tasks

    load_plan_tasks(session, directory)
    if continuation and (cont / "indicator_values.csv").exists():
        say("illustrative indicator values and project progress reports 2021–2025")
        report.illustrative_changed["indicator_values"] = _load_indicator_values(
            session, cont / "indicator_values.csv"
        )
        report.illustrative_changed["project_reports"] = _load_project_progress(
            session, cont / "project_progress.csv"
        )
    from greenpark.services.landuse import load_demo_land

    load_demo_land(session, directory)

    say("forest land, sink projects (illustrative) and the roadmap's preset scenarios")
    from greenpark.services.scenarios import load_presets
    from greenpark.services.sinks import load_demo_sinks

    load_demo_sinks(session, directory)
    load_presets(session)

    say("monitoring points and the synthetic demo air data")
    from greenpark.services.monitoring import load_demo_points

    load_demo_points(session, park, synthetic_air, cont / "air_quality_annual.csv" if continuation else None)

    say("enterprise file (illustrative) and synthetic 横沟河 samples")
    from greenpark.services.sources import load_demo_sources
    from greenpark.services.tracing import demo_section_samples

    load_demo_sources(session)
    demo_section_samples(session, (datetime.now(UTC) + timedelta(hours=8)).date())

    say("users")
    _demo_users(session, park, report)
    report.illustrative_years = illustrative_years_of(session, park)

    say("inventory snapshots")
    if report.activity_changed or not session.scalar(select(m.InventorySnapshot.id).limit(1)):
        for scope, years, boundary in (
            ("core", (2018, 2019, 2020), "all"),
            ("core", (2018, 2019, 2020), "above_scale"),
            ("park", (2016, 2017, 2018, 2019, 2020), "above_scale"),
            ("park", (2018, 2019, 2020), "all"),
        ):
            for y in years:
                save_snapshot(
                    session,
                    compute_inventory(
                        session, scope_code=scope, year=y, boundary=boundary, park_code=park.code
                    ),
                )
                report.snapshots += 1
    return report


def _real_entity_years(
    session: Session, park: m.Park, model: type[m.ActivityRecord] | type[m.EconomicRecord]
) -> set[tuple[int, int | None, int | None]]:
    """(year, zone id, enterprise id) of the continuation's years in which an entity has records that
    are not illustrative (imported, reported or published data): its illustrative rows stay out."""
    rows = session.execute(
        select(model.year, model.zone_id, model.enterprise_id)
        .where(
            model.park_id == park.id,
            model.year.in_(ILLUSTRATIVE_YEARS),
            ~illustrative_filter(model.source_ref),
        )
        .distinct()
    )
    return {(y, z, e) for y, z, e in rows}


def _key(v: dict[str, Any]) -> tuple[int, int | None, int | None]:
    return (v["year"], v["entity"].zone_id, v["entity"].enterprise_id)


def supersede_illustrative(session: Session, park: m.Park) -> int:
    """Real records of a year replace its illustrative ones (see services/illustrative)."""
    return illustrative.supersede(session, park)


def illustrative_years_of(session: Session, park: m.Park) -> list[int]:
    return illustrative.years_of(session, park)


def _load_indicator_values(session: Session, path: Path) -> int:
    """Illustrative reported values, through the same function as an officer's report; a value
    that is already there and not illustrative (a real report) is kept."""
    from greenpark.services.indicators import get_indicator, report

    changed = 0
    for r in read_csv(path):
        ind = get_indicator(session, r["code"])
        year, value = int(r["year"]), float(r["value"])
        old = session.scalars(
            select(m.IndicatorValue).where(
                m.IndicatorValue.indicator_id == ind.id, m.IndicatorValue.year == year
            )
        ).first()
        if old is not None and (
            not is_illustrative(old.source)
            or (old.value, old.source, old.note) == (value, r["source"], r["note"])
        ):
            continue
        report(session, r["code"], year, value, source=r["source"], note=r["note"], by=ILLUSTRATIVE_BY)
        changed += 1
    return changed


def _load_project_progress(session: Session, path: Path, today: date | None = None) -> int:
    """Illustrative progress reports, through the progress form's service (so the projects'
    state, history and conditions are computed as usual); only for projects without any report,
    and none dated after ``today``."""
    from greenpark.services import projects

    today = today or date.today()
    by_seq: dict[int, list[dict[str, str]]] = {}
    for r in read_csv(path):
        by_seq.setdefault(int(r["seq"]), []).append(r)
    added = 0
    for seq, reports in sorted(by_seq.items()):
        p = projects.get_project(session, seq)
        if session.scalar(select(func.count(m.ProjectUpdate.id)).where(m.ProjectUpdate.project_id == p.id)):
            continue
        for r in sorted(reports, key=lambda r: r["on"]):
            on = date.fromisoformat(r["on"])
            if on > today:
                continue
            note = "示意 / illustrative" + (f": {r['note']}" if r["note"] else "")
            projects.update(
                session, seq, on, r["status"], float(r["percent"]), float(r["spent_10k_yuan"]),
                milestone=r["milestone"], note=note, by=ILLUSTRATIVE_BY, today=today,
            )  # fmt: skip
            added += 1
    return added


def _load_enterprises(session: Session, park: m.Park, directory: Path) -> None:
    core = session.scalars(select(m.Zone).where(m.Zone.park_id == park.id, m.Zone.code == "core")).first()
    by_name: dict[str, set[str]] = {}
    order: list[str] = []
    for r in read_csv(directory / "key_polluters.csv"):
        if r["name"] not in by_name:
            order.append(r["name"])
        by_name.setdefault(r["name"], set()).add(f"key_polluter_{r['category']}")
    existing = {
        e.name: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))
    }
    for i, name in enumerate(order, start=1):
        e = existing.get(name) or m.Enterprise(park_id=park.id, code=f"E{i:02d}", name=name)
        e.zone_id = core.id if core else None
        e.tags = ",".join(sorted({"key_polluter", *by_name[name]}))
        e.note = "表1.5.3 重点排污单位；所属园区为示意（方案未载明）。"
        session.add(e)
    session.flush()


def _load_plan_table(
    session: Session, park: m.Park, name: str, title: str, ref: str, rows: list[dict[str, Any]]
) -> None:
    table = session.scalars(
        select(m.PlanTable).where(m.PlanTable.park_id == park.id, m.PlanTable.name == name)
    ).first()
    if table is not None:
        if table.rows == len(rows):
            return
        for cell in session.scalars(select(m.PlanCell).where(m.PlanCell.plan_table_id == table.id)):
            session.delete(cell)
    else:
        table = m.PlanTable(park_id=park.id, name=name)
    table.title_zh, table.source_ref, table.rows = title, ref, len(rows)
    session.add(table)
    session.flush()
    session.add_all(
        m.PlanCell(plan_table_id=table.id, row_no=i, column=k, value=v or "")
        for i, r in enumerate(rows, start=1)
        for k, v in r.items()
    )
    session.flush()


def _demo_users(session: Session, park: m.Park, report: DemoReport) -> None:
    enterprise = session.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id).order_by(m.Enterprise.id)
    ).first()
    for username, role in DEMO_ROLES:
        if session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first():
            report.existing_users.append(username)
            continue
        password = auth.new_password()
        auth.create_user(
            session,
            username,
            password,
            role,
            park_id=park.id,
            enterprise_id=enterprise.id if role is auth.Role.ENTERPRISE and enterprise else None,
            display_name=f"{role.label_zh} (demo)",
            by="greenpark demo",
        )
        report.logins.append((username, password, role.value))


def plan_table(session: Session, park_id: int, name: str) -> list[dict[str, str]]:
    table = session.scalars(
        select(m.PlanTable).where(m.PlanTable.park_id == park_id, m.PlanTable.name == name)
    ).first()
    if table is None:
        return []
    rows: dict[int, dict[str, str]] = {}
    for c in session.scalars(
        select(m.PlanCell).where(m.PlanCell.plan_table_id == table.id).order_by(m.PlanCell.id)
    ):
        rows.setdefault(c.row_no, {})[c.column] = c.value
    return [rows[k] for k in sorted(rows)]

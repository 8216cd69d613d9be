"""Load the demo park (Xianning High-tech Zone) from the data files transcribed from its plan."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.data import DEMO_DIR, load_carriers, read_csv
from greenpark.i18n import N_
from greenpark.services import illustrative
from greenpark.services.carbon.factors import sync_factor_sets
from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.carbon.records import (
    EntityResolver,
    upsert_activity,
    upsert_economic,
    validate_activity,
    validate_economic,
)
from greenpark.services.carbon.snapshots import save_snapshot
from greenpark.services.park import auth
from greenpark.services.park.parks import get_park, use_park
from greenpark.services.park.published import published_table
from greenpark.services.portfolio.onboarding import create_park, write_workbook
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

#: The tables the plan publishes that stay tables (its indicators, tasks and projects become
#: records of their own): name -> (file, title, where the plan gives it).
PUBLISHED = {
    "air_quality_annual": ("air_quality_annual.csv", "近五年空气质量监测指数（站点表）", "方案1.5(二)"),
    "forest": ("forest.csv", "森林资源面积", "方案1.1(四)"),
    "forest_cover": ("forest_cover.csv", "森林覆盖率", "方案1.1(四); 表3.3.1"),
    "water_use": ("water_use.csv", "表6.1.2 规模以上工业用水量", "表6.1.2"),
    "key_polluters": ("key_polluters.csv", "表1.5.3 重点排污单位名录", "表1.5.3"),
    "water_sections": ("water_sections.csv", "表1.5.1 水环境功能区划", "表1.5.1"),
    "noise_zones": ("noise_zones.csv", "表1.5.2 声环境功能区划", "表1.5.2"),
}
#: The note greenpark writes on the demo enterprise file's devices: its own words, shown in the
#: reader's language (a message of the catalogue).
DEMO_NOTE = N_("illustrative demo enterprise file (see data/demo/xianning/sources/README.md)")

DEMO_ROLES = (
    ("admin", auth.Role.ADMIN),
    ("staff", auth.Role.PARK_STAFF),
    ("zone", auth.Role.ZONE_STAFF),
    ("verifier", auth.Role.VERIFIER),
    ("enterprise", auth.Role.ENTERPRISE),
    ("bureau", auth.Role.BUREAU),
    ("public", auth.Role.PUBLIC),
)
#: Demo users of every park the house holds (the rest belong to the demo park).
HOUSE_WIDE_ROLES = (auth.Role.ADMIN, auth.Role.BUREAU)
#: The zone the demo's zone officer looks after (the core area, where the enterprise file is).
DEMO_ZONE = "core"


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
    say("the park from its onboarding workbook (zones, enterprises, indicators, tasks, projects, points)")
    onboarded = create_park(
        session, "xianning-park.xlsx", demo_workbook(directory, continuation), by="greenpark demo"
    )
    park = get_park(session, onboarded.park)
    use_park(session, park.code)  # the services below work on the session's park
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
    report.activity_changed = upsert_activity(session, park, rows, None, by="greenpark demo", batch="demo")
    report.economic_changed = upsert_economic(session, park, erows, None, by="greenpark demo", batch="demo")

    if continuation and (cont / "indicator_values.csv").exists():
        say("illustrative indicator values and project progress reports 2021–2025")
        report.illustrative_changed["indicator_values"] = _load_indicator_values(
            session, cont / "indicator_values.csv"
        )
        report.illustrative_changed["project_reports"] = _load_project_progress(
            session, cont / "project_progress.csv"
        )
    from greenpark.services.plan import landuse

    by = "greenpark demo"
    landuse.import_land_use(session, "land_use.csv", (directory / "land_use.csv").read_bytes(), by)
    landuse.import_idle_parcels(
        session, "idle_parcels.csv", (directory / "idle_parcels.csv").read_bytes(), by
    )

    say("forest land, sink projects (illustrative) and the roadmap's preset scenarios")
    from greenpark.services.carbon import sinks
    from greenpark.services.roadmap.scenarios import load_presets

    sinks.import_stands(session, "forest_stands.csv", (directory / "forest_stands.csv").read_bytes(), by)
    sinks.import_projects(session, "sink_projects.csv", (directory / "sink_projects.csv").read_bytes(), by)
    sinks.import_periods(session, "sink_periods.csv", (directory / "sink_periods.csv").read_bytes(), by)
    load_presets(session)

    say("the synthetic demo air data")
    _demo_air(session, park, synthetic_air, cont / "air_quality_annual.csv" if continuation else None)

    say("enterprise file (illustrative) and synthetic 横沟河 samples")
    _demo_sources(session, park, directory / "sources")
    _section_samples(session, park, (datetime.now(UTC) + timedelta(hours=8)).date())

    say("users")
    _demo_users(session, park, report)
    say(
        "the reporting cycle (illustrative): a verification body, two designated key units, one year carried to verification"
    )
    from greenpark.demo_cycle import load_demo_cycle

    load_demo_cycle(session, park)
    say("the demo meters and their last week (synthetic)")
    from greenpark.demo_energy import load_demo_energy

    load_demo_energy(session, park)
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
    from greenpark.services.plan.indicators import get_indicator, report

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
    from greenpark.services.plan import projects

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


def _demo_users(session: Session, park: m.Park, report: DemoReport) -> None:
    enterprise = session.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id).order_by(m.Enterprise.id)
    ).first()
    for username, role in DEMO_ROLES:
        if session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first():
            report.existing_users.append(username)
            continue
        password = auth.new_password()
        zone = session.scalars(
            select(m.Zone).where(m.Zone.park_id == park.id, m.Zone.code == DEMO_ZONE)
        ).first()
        auth.create_user(
            session,
            username,
            password,
            role,
            park_id=None if role in HOUSE_WIDE_ROLES else park.id,
            zone_id=zone.id if role is auth.Role.ZONE_STAFF and zone else None,
            enterprise_id=enterprise.id if role is auth.Role.ENTERPRISE and enterprise else None,
            display_name=f"{role.label_zh} (demo)",
            by="greenpark demo",
        )
        report.logins.append((username, password, role.value))


# --------------------------------------------------------------------------- the park's workbook


def demo_workbook(directory: Path = XIANNING, continuation: bool = True) -> bytes:
    """The demo park's onboarding workbook, built from the files transcribed from its plan: the
    park is created as any park is (``greenpark park create``)."""
    meta = yaml.safe_load((directory / "park.yaml").read_text(encoding="utf-8"))
    prof = meta["accounting_profile"]
    grid = prof.get("grid") or {}
    profile = {
        **{k: ", ".join(prof.get(k, [])) for k in ("coal_coefficient", "combustion", "heat", "equal_value")},
        "combustion_method": prof.get("combustion_method", "carbon_content"),
        "grid_sets": ", ".join(grid.get("sets", [])), "grid_region": grid.get("region", ""),
        "grid_year": grid.get("year") or "", "reported_tce_basis": prof.get("reported_tce_basis", "calorific"),
        "note_zh": prof.get("note_zh", ""), "note_en": prof.get("note_en", ""),
    }  # fmt: skip
    park_cols = ("code", "name_zh", "name_en", "province", "grid_region", "area_km2", "source_ref")
    rows: dict[str, list[dict[str, Any]]] = {
        "park": [{k: meta.get(k) for k in park_cols}],
        "profile": [{"parameter": k, "value": v} for k, v in profile.items()],
        "zones": [
            {k: z.get(k) for k in ("code", "name_zh", "name_en", "area_km2", "note")} for z in meta["zones"]
        ],
    }
    # enterprises: the key polluters of Table 1.5.3, in the core area (the plan does not say where)
    tags: dict[str, set[str]] = {}
    for r in read_csv(directory / "key_polluters.csv"):
        tags.setdefault(r["name"], set()).update({"key_polluter", f"key_polluter_{r['category']}"})
    rows["enterprises"] = [
        {"code": f"E{i:02d}", "name": name, "zone": "core", "tags": ",".join(sorted(tg)),
         "note": "表1.5.3 重点排污单位；所属园区为示意（方案未载明）。"}
        for i, (name, tg) in enumerate(tags.items(), start=1)
    ]  # fmt: skip
    inds = read_csv(directory / "indicators.csv")
    ind_cols = ("code", "seq", "name_zh", "name_en", "unit", "direction", "kind", "method", "baseline_year",
                "baseline_value", "baseline_text", "source_ref", "basis_note", "flag")  # fmt: skip
    rows["indicators"] = [{k: r.get(k) for k in ind_cols} for r in inds]
    rows["targets"] = [
        {"indicator": r["code"], "year": int(k[1:]), "target": v}
        for r in inds
        for k, v in r.items()
        if k.startswith("t20") and v
    ]
    rows["tasks"] = read_csv(directory / "tasks.csv")
    rows["projects"] = read_csv(directory / "projects.csv")
    stations = sorted({r["station"] for r in read_csv(directory / "air_quality_annual.csv")})
    points: list[dict[str, Any]] = [
        {"code": f"air{k:02d}", "name": s, "kind": "air", "source_ref": "方案1.5(二) 站点表"}
        for k, s in enumerate(stations, start=1)
    ]
    cont = directory / CONTINUATION / "air_quality_annual.csv"
    if continuation and cont.exists():
        points.append({"code": f"air{len(stations) + 1:02d}", "name": read_csv(cont)[0]["station"], "kind": "air",
                       "source_ref": "illustrative: one of the plan's 2 provincial stations (方案1.5(一) 2个省控空气站点;"
                                     " name and values made up), operating 2021-"})  # fmt: skip
    # the enterprise file places some of these sections on its rivers and says so in their source
    placed = {
        r["section"]: r["note"] for r in read_csv(directory / "sources" / "sections.csv") if r.get("note")
    }
    for k, r in enumerate(read_csv(directory / "water_sections.csv"), start=1):
        body = "lake" if ("湖" in r["name"] or "水库" in r["name"]) else "river"
        points.append({"code": f"ws{k:02d}", "name": r["name"], "kind": "water", "water_body": body,
                       "target_class": r["target_class"], "source_ref": placed.get(r["name"], r["source_ref"])})  # fmt: skip
    for r in read_csv(directory / "noise_zones.csv"):
        points.append({"code": f"noise-{r['zone_class']}", "name": f"{r['zone_class']}类区 {r['description'][:40]}",
                       "kind": "noise", "noise_zone_class": r["zone_class"], "source_ref": r["source_ref"]})  # fmt: skip
    rows["points"] = points
    published = []
    for name, (file, title, ref) in PUBLISHED.items():
        for i, r in enumerate(read_csv(directory / file), start=1):
            for j, (col, v) in enumerate(r.items()):
                first = i == 1 and j == 0
                published.append({"table": name, "title": title if first else "", "source_ref": ref if first else "",
                                  "row": i, "column": col, "value": v})  # fmt: skip
    for i, f in enumerate(_plan_figures(directory), start=1):
        for j, (col, v) in enumerate(f.items()):
            first = i == 1 and j == 0
            published.append({"table": "plan_figures", "title": "方案中可复现的数字" if first else "",
                              "source_ref": "方案 2.4, 3.3, 1.5" if first else "", "row": i, "column": col,
                              "value": "" if v is None else str(v)})  # fmt: skip
    rows["published"] = published
    return write_workbook(rows)


def _plan_figures(directory: Path) -> list[dict[str, Any]]:
    """The figures the plan publishes that greenpark reproduces (published_figures.yaml), one row
    each in the columns of the park's ``plan_figures`` table."""
    spec = yaml.safe_load((directory / "published_figures.yaml").read_text(encoding="utf-8"))
    out = []
    for kind, items in (("figure", spec["figures"]), ("inconsistency", spec["inconsistencies"])):
        for f in items:
            tol = f.get("tolerance") or {}
            # {"rel": 0.005} → "rel 0.005"; {"range": [a, b]} → "range a b"
            tolerance = " ".join(
                f"{k} " + " ".join(str(x) for x in (v if isinstance(v, list) else [v]))
                for k, v in tol.items()
            )
            out.append({"id": f["id"], "kind": kind, **f["compute"], "plan": f["plan"], "unit": f["unit"],
                        "tolerance": tolerance, "label_zh": f.get("label_zh", ""), "label_en": f.get("label_en", ""),
                        "source": f.get("source", ""), "why": f.get("why", ""), "why_zh": f.get("why_zh", ""),
                        "why_en": f.get("why_en", "")})  # fmt: skip
    return out


def _demo_air(session: Session, park: m.Park, synthetic: bool, illustrative_csv: Path | None) -> int:
    """The demo stations' data notes, and a SYNTHETIC hourly year for each published station year
    (and each year of the illustrative operating station)."""
    from greenpark.services.environment import air, monitoring
    from greenpark.services.environment.air_synthetic import ILLUSTRATIVE_SYNTHETIC_LABEL, SYNTHETIC_LABEL

    hours = 0
    rows = published_table(session, park.id, "air_quality_annual")
    names = sorted({r["station"] for r in rows})
    point = {
        p.code: p
        for p in session.scalars(select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id))
    }
    for k, name in enumerate(names, start=1):
        st = point[f"air{k:02d}"]
        if monitoring.synthetic_note_may_change(st):
            st.data_note = SYNTHETIC_LABEL
        for r in rows if synthetic else []:
            if r["station"] == name:
                year = int(r["year"])
                annual = air.station_annual_values(session, name, year)
                hours += monitoring.synthetic_air_year(session, st, year, annual, year)
    if illustrative_csv is not None and illustrative_csv.exists():
        st = point[f"air{len(names) + 1:02d}"]
        if monitoring.synthetic_note_may_change(st):
            st.data_note = ILLUSTRATIVE_SYNTHETIC_LABEL
        for r in read_csv(illustrative_csv) if synthetic else []:
            annual = {p: float(r[c]) for p, c in monitoring.COLUMNS.items()}
            hours += monitoring.synthetic_air_year(session, st, int(r["year"]), annual, int(r["year"]))
    session.flush()
    return hours


def _demo_sources(session: Session, park: m.Park, directory: Path) -> dict[str, int]:
    """The illustrative demo enterprise file (see the README beside the CSVs), imported as any
    enterprise file is; its devices carry the demo's note."""
    from greenpark.services.pollution.sources import SHEETS, apply_sources, read_source_file

    sheets = {}
    for kind in SHEETS:
        path = directory / f"{kind}.csv"
        sheets[kind] = read_source_file(path.name, path.read_bytes())[kind]
    counts = apply_sources(session, sheets, by="greenpark demo", batch="demo enterprise file")
    for p in session.scalars(
        select(m.SourcePoint)
        .join(m.Outlet, m.Outlet.id == m.SourcePoint.outlet_id)
        .join(m.Enterprise, m.Enterprise.id == m.Outlet.enterprise_id)
        .where(m.Enterprise.park_id == park.id)
    ):
        if not p.data_note:
            p.data_note = DEMO_NOTE
    return counts


def _section_samples(session: Session, park: m.Park, today: date, days: int = 14, seed: int = 7) -> int:
    """SYNTHETIC daily samples at the 横沟河 sections (project 11's stations do not publish data):
    class IV water that on the last day turns worse at the downstream sections (NH3-N over class
    IV), so the tracing view has something to trace. Labelled synthetic (source column)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    n = 0
    water = select(m.MonitoringPoint).where(
        m.MonitoringPoint.park_id == park.id, m.MonitoringPoint.kind == "water"
    )
    for p in [p for p in session.scalars(water) if p.name.startswith("横沟河")]:
        p.data_note = "demo samples are SYNTHETIC (illustrative)"
        for k in range(days):
            d = today - timedelta(days=days - 1 - k)
            last = k == days - 1
            downstream = "上游" not in p.name
            values = {
                "cod": 22 + rng.gauss(0, 2), "nh3n": (1.9 if last and downstream else 1.0) + rng.gauss(0, 0.08),
                "tp": 0.2 + rng.gauss(0, 0.02), "do": 5.5 + rng.gauss(0, 0.3),
            }  # fmt: skip
            for item, v in values.items():
                row = session.scalars(
                    select(m.WaterSample).where(m.WaterSample.point_id == p.id, m.WaterSample.sampled_on == d,
                                                m.WaterSample.item == item)
                ).first() or m.WaterSample(point_id=p.id, sampled_on=d, item=item)  # fmt: skip
                row.value, row.source = round(max(v, 0.01), 3), "synthetic"
                session.add(row)
                n += 1
        p.data_revision += 1
    session.flush()
    return n

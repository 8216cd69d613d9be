"""greenpark mrv units, designate, deadlines, dqcp …, evidence …: the key-unit register, the data
quality control plan and the monthly evidence. Thin: each command calls ``services/mrv`` and prints
(``--json`` for machines). Acts name the user they are done as (``--by USER``), who must be
allowed them as on the pages; a read without ``--by`` is the house operator's (the whole park).
Refusals exit 2 with the reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.cli.main import JsonOpt, _dump, _fail
from greenpark.cli.mrv import acting, mrv_app
from greenpark.services.mrv import dqcp, evidence, register
from greenpark.services.mrv.access import Actor, NotFound
from greenpark.store import models as m

dqcp_app = typer.Typer(
    help="Data quality control plans: list, show, diff, file a version.", no_args_is_help=True
)
evidence_app = typer.Typer(
    help="Monthly evidence: submit a month, list, status by month.", no_args_is_help=True
)
mrv_app.add_typer(dqcp_app, name="dqcp")
mrv_app.add_typer(evidence_app, name="evidence")

YearOpt = Annotated[int, typer.Option(min=1900, max=2200, help="The calendar year.")]
ByOpt = Annotated[str, typer.Option("--by", help="The user the act is done as (their role must allow it).")]
ReadByOpt = Annotated[
    str | None, typer.Option("--by", help="Read as this user (default: the house operator, the whole park).")
]
EntOpt = Annotated[str, typer.Option("--enterprise", help="The enterprise's code.")]


def _ent(s: Session, actor: Actor, code: str) -> int:
    eid = s.scalar(
        select(m.Enterprise.id).where(m.Enterprise.park_id == actor.park_id, m.Enterprise.code == code)
    )
    if eid is None:
        raise NotFound(f"no enterprise {code!r} in this park")
    return int(eid)


def _fmt(v: float | None, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


# --------------------------------------------------------------------------- the register


@mrv_app.command("units")
def units_cmd(
    year: YearOpt,
    every: Annotated[
        bool, typer.Option("--all", help="Every enterprise, also those without a reason.")
    ] = False,
    by: ReadByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The key-unit register of a year: each enterprise's energy (tce) and CO₂ (t), where they come
    from (verified_report, report, records, none), its reasons, kinds and obligations."""
    with acting(by) as (s, actor):
        rows = register.register(s, actor, year, every=every)
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo(f"no key unit or candidate in {year}")
    for r in rows:
        typer.echo(
            f"{r['enterprise']:<12} {_fmt(r['energy_tce']):>12} tce {_fmt(r['co2_t']):>12} t CO2  [{r['source']}]  "
            f"{', '.join(r['kinds']) or '–'}  reasons: {', '.join(r['reasons'])}  obligations: {', '.join(r['obligations']) or '–'}"
        )


@mrv_app.command("designate")
def designate_cmd(
    enterprise: EntOpt,
    year: YearOpt,
    kind: Annotated[str, typer.Option(help="key_energy_user or key_carbon_emitter.")],
    reason: Annotated[str, typer.Option(help="Why (required; kept with the decision).")],
    by: ByOpt,
    include: Annotated[bool, typer.Option("--include/--exclude", help="Designate, or exempt.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Designate (--include) or exempt (--exclude) an enterprise as a key unit of a kind for a year,
    with a reason. Park staff and admins."""
    with acting(by) as (s, actor):
        out = register.decide(s, actor, _ent(s, actor, enterprise), year, kind, include, reason)
    if json_out:
        _dump(out)
        return
    typer.echo(
        f"{out['enterprise']} {year} {kind}: {out['decision']} ({out['reason']}) by {out['decided_by']}"
    )


@mrv_app.command("deadlines")
def deadlines_cmd(
    by: ReadByOpt = None,
    evidence_days: Annotated[
        int | None, typer.Option(min=1, max=120, help="Monthly evidence due this many days after month end.")
    ] = None,
    report_due: Annotated[str | None, typer.Option(help="Annual report due MM-DD of the next year.")] = None,
    verification_due: Annotated[
        str | None, typer.Option(help="Verification due MM-DD of the next year.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The park's deadlines; with an option, set it (park staff and admins, --by)."""
    values: dict[str, Any] = {
        k: v
        for k, v in (("evidence_days_after_month_end", evidence_days), ("report_due_month_day", report_due),
                     ("verification_due_month_day", verification_due))
        if v is not None
    }  # fmt: skip
    if values and by is None:
        _fail("setting deadlines needs --by USER", 2)
    with acting(by) as (s, actor):
        out = register.set_park_deadlines(s, actor, values) if values else register.park_deadlines(s, actor)
    if json_out:
        _dump(out)
        return
    for k, v in out.items():
        typer.echo(f"{k}: {v}")


# --------------------------------------------------------------------------- plans


@dqcp_app.command("list")
def dqcp_list_cmd(enterprise: EntOpt, by: ReadByOpt = None, json_out: JsonOpt = False) -> None:
    """The versions of an enterprise's plan, newest first."""
    with acting(by) as (s, actor):
        rows = dqcp.list_plans(s, actor, _ent(s, actor, enterprise))
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo(f"{enterprise}: no plan filed")
    for r in rows:
        typer.echo(
            f"v{r['version']:<3} {r['status']:<10} from {r['valid_from']}  {r['parameter_count']} parameters  "
            f"{r['revision_trigger'] or 'first version'}  filed by {r['filed_by']} {r['filed_utc']}"
        )


@dqcp_app.command("show")
def dqcp_show_cmd(
    enterprise: EntOpt,
    version: Annotated[int | None, typer.Option(min=1, help="Default: the current version.")] = None,
    by: ReadByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One version of an enterprise's plan with its parameters."""
    with acting(by) as (s, actor):
        plan = dqcp.show_plan(s, actor, _ent(s, actor, enterprise), version)
    if json_out:
        _dump(plan)
        return
    typer.echo(f"{plan['enterprise']} plan v{plan['version']} ({plan['status']}), from {plan['valid_from']}")
    typer.echo(f"boundary: {plan['boundary']}")
    for p in plan["parameters"]:
        typer.echo(
            f"  {p['parameter']:<22} {p['item']:<16} {p['unit']:<8} {p['method']:<10} {p['meter']}  "
            f"missing data: {p['missing_data_rule']}"
        )


@dqcp_app.command("diff")
def dqcp_diff_cmd(
    enterprise: EntOpt,
    old: Annotated[int, typer.Option(min=1)],
    new: Annotated[int, typer.Option(min=1)],
    by: ReadByOpt = None,
) -> None:
    """What changed between two versions of a plan (JSON)."""
    with acting(by) as (s, actor):
        out = dqcp.diff_plans(s, actor, _ent(s, actor, enterprise), old, new)
    _dump(out)


@dqcp_app.command("file")
def dqcp_file_cmd(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The plan: .json, or the .xlsx form.")
    ],
    enterprise: EntOpt,
    by: ByOpt,
    json_out: JsonOpt = False,
) -> None:
    """File a new version of an enterprise's plan from a JSON file ({guideline, boundary, facilities:
    [{code, name, location, sources}], parameters: [{parameter, item, unit, method, meter, accuracy,
    calibration, monitoring_frequency, recording_frequency, missing_data_rule, department}],
    revision_trigger, revision_note, valid_from}) or from the Excel form (`greenpark mrv dqcp
    template`). A revision names its trigger and a note."""
    suffix = file.suffix.lower()
    if suffix not in (".json", ".xlsx"):
        _fail(f"{file}: give the plan as a .json file or the .xlsx form", 2)
    try:
        data = (
            dqcp.plan_from_workbook(file.name, file.read_bytes())
            if suffix == ".xlsx"
            else json.loads(file.read_text(encoding="utf-8"))
        )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _fail(f"{file}: {exc}", 2)
    with acting(by) as (s, actor):
        out = dqcp.file_plan(s, actor, _ent(s, actor, enterprise), data)
    if json_out:
        _dump(out)
        return
    typer.echo(
        f"{out['enterprise']}: plan version {out['version']} filed ({out['parameter_count']} parameters)"
    )


@dqcp_app.command("template")
def dqcp_template_cmd(
    enterprise: EntOpt,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False, help="The .xlsx form to write.")],
    by: ReadByOpt = None,
) -> None:
    """The plan's Excel form, filled in with the enterprise's current version (empty if none)."""
    with acting(by) as (s, actor):
        eid = _ent(s, actor, enterprise)
        plan = dqcp.show_plan(s, actor, eid) if dqcp.list_plans(s, actor, eid) else None
        body = dqcp.plan_workbook(plan)
    output.write_bytes(body)
    typer.echo(f"plan form written to {output}")


# --------------------------------------------------------------------------- monthly evidence


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for it in items:
        key, sep, value = it.partition("=")
        if not sep or not key.strip():
            _fail(f"{what} {it!r}: write CODE=VALUE", 2)
        out[key.strip()] = value.strip()
    return out


@evidence_app.command("submit")
def evidence_submit_cmd(
    enterprise: EntOpt,
    year: YearOpt,
    month: Annotated[int, typer.Option(min=1, max=12)],
    by: ByOpt,
    energy: Annotated[
        list[str] | None,
        typer.Option(help="CARRIER=QUANTITY in the carrier's unit (repeat), e.g. electricity=1234.5"),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option(help="PARAMETER:ITEM=VALUE[:UNIT] (repeat), e.g. ncv:raw_coal=20.9:GJ/t"),
    ] = None,
    file: Annotated[
        list[Path] | None, typer.Option(exists=True, dir_okay=False, help="A supporting file (repeat).")
    ] = None,
    note: Annotated[str, typer.Option(help="A note for the month.")] = "",
    on: Annotated[
        str | None, typer.Option(help="Submission date YYYY-MM-DD (default: today, Beijing).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Submit (or resubmit, as a new version) a month's evidence with its files."""
    params = []
    for key, value in _pairs(parameter or [], "--parameter").items():
        name, _, item = key.partition(":")
        val, _, unit = value.partition(":")
        params.append({"parameter": name, "item": item, "value": val, "unit": unit})
    try:
        today = date.fromisoformat(on) if on else None
    except ValueError:
        _fail(f"--on {on!r} is not a date (YYYY-MM-DD)", 2)
    files = [(f.name, f.read_bytes()) for f in file or []]
    with acting(by) as (s, actor):
        out = evidence.submit(s, actor, _ent(s, actor, enterprise), year, month,
                              energy=dict(_pairs(energy or [], "--energy")), parameters=params, files=files,
                              note=note, today=today)  # fmt: skip
    if json_out:
        _dump(out)
        return
    late = "LATE" if out["late"] else "on time"
    typer.echo(
        f"{out['enterprise']} {year}-{month:02d} version {out['version']}: {late} (due {out['due_date']}), "
        f"{len(out['values'])} values, {len(out['attachments'])} files"
    )


@evidence_app.command("list")
def evidence_list_cmd(
    year: YearOpt,
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="Only this enterprise.")] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every version, not only the latest.")
    ] = False,
    by: ReadByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The monthly evidence of a year (the latest version of each month)."""
    with acting(by) as (s, actor):
        eid = _ent(s, actor, enterprise) if enterprise else None
        rows = evidence.list_evidence(s, actor, year, eid, all_versions=all_versions)
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo(f"no evidence in {year}")
    for r in rows:
        vals = ", ".join(f"{v['item'] or v['parameter']}={v['value']:g} {v['unit']}" for v in r["values"])
        typer.echo(
            f"{r['enterprise']:<12} {r['year']}-{r['month']:02d} v{r['version']} {'LATE' if r['late'] else 'on time':<8}"
            f" {vals}  ({len(r['attachments'])} files)"
        )


@evidence_app.command("status")
def evidence_status_cmd(
    year: YearOpt,
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="Only this enterprise.")] = None,
    on: Annotated[
        str | None, typer.Option(help="As of this date YYYY-MM-DD (default: today, Beijing).")
    ] = None,
    by: ReadByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The 12 months of each obliged enterprise: on_time, late, missing (overdue) or not_due."""
    try:
        today = date.fromisoformat(on) if on else None
    except ValueError:
        _fail(f"--on {on!r} is not a date (YYYY-MM-DD)", 2)
    with acting(by) as (s, actor):
        eid = _ent(s, actor, enterprise) if enterprise else None
        rows = evidence.monthly_status(s, actor, year, today, enterprise_id=eid)
    if json_out:
        _dump(rows)
        return
    mark = {"on_time": "✓", "late": "L", "missing": "✗", "not_due": "·"}
    for r in rows:
        typer.echo(f"{r['enterprise']:<12} {''.join(mark[c['status']] for c in r['months'])}  {r['counts']}")

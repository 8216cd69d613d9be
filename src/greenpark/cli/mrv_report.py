"""``greenpark mrv report …``: the annual GHG report's Excel form, submission, list, one report,
and the park's review. Thin: each command calls ``services/mrv/reports`` (or its workbook module)
as the user named by ``--by`` (who must be allowed the act, as on the pages); refusals exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _rejected
from greenpark.cli.mrv import acting, report_app

ByOpt = Annotated[str, typer.Option("--by", help="The user acting (must be allowed the act).")]


def _print_report(d: dict[str, Any], json_out: bool) -> None:
    if json_out:
        _dump(d)
        return
    t = d["totals"]
    ent = d.get("enterprise")
    name = ent if isinstance(ent, str) else (ent or {}).get("code", "")
    typer.echo(f"report {d.get('id', d.get('report'))}  {name}  {d['year']} v{d['version']}  {d['status']}")
    typer.echo(f"  total {t['total_co2_t']:,.0f} t CO2 (without purchased energy {t['total_excl_purchased_co2_t']:,.0f});"
               f" combustion {t['combustion_co2_t']:,.0f}, process {t['process_co2_t']:,.0f},"
               f" electricity {t['electricity_co2_t']:,.0f}, heat {t['heat_co2_t']:,.0f}; energy {t['energy_tce']:,.1f} tce")  # fmt: skip
    for c in d.get("checks", []):
        diff = "" if c["difference_fraction"] is None else f" ({c['difference_fraction']:+.1%})"
        typer.echo(f"  check {c['check']} {c['item']}: {c['result']}{diff}")


@report_app.command("template")
def template_cmd(
    enterprise: Annotated[str, typer.Option(help="The enterprise's code.")],
    year: Annotated[int, typer.Option(min=2000, max=2100, help="The reporting year.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .xlsx file to write.", dir_okay=False)],
    lang: Annotated[str, typer.Option(help="Sheet names and instructions: zh or en.")] = "zh",
    by: Annotated[str | None, typer.Option("--by", help="Write it as this user (default: the park's view).")] = None,
) -> None:  # fmt: skip
    """Write the Excel form of an enterprise's annual report, prefilled with its identity, the
    latest version's lines and the Σ of its monthly evidence (a hint column)."""
    from greenpark.services.mrv import report_workbook as rw
    from greenpark.services.mrv import reports as rp

    if lang not in ("zh", "en"):
        _fail("--lang is zh or en", 2)
    with acting(by) as (s, actor):
        body = rw.report_template(s, actor, rp.enterprise_by_code(s, actor, enterprise).id, year, lang)
    output.write_bytes(body)
    typer.echo(f"wrote {output}")


@report_app.command("submit")
def submit_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The filled .xlsx form.")],
    by: ByOpt,
    json_out: JsonOpt = False,
) -> None:
    """Submit a filled form as the enterprise's next version; every bad cell is named by file,
    sheet, row and column and nothing is stored then."""
    from greenpark.services.mrv import report_workbook as rw
    from greenpark.services.mrv import reports as rp
    from greenpark.store import models as m

    content = file.read_bytes()
    with acting(by) as (s, actor):
        try:
            r = rw.submit_workbook(s, actor, file.name, content)
        except rw.ReportWorkbookRejected as exc:
            _rejected(file, exc.errors)  # its exit rolls the session back
        out = rp.submitted_dict(r, s.get_one(m.Enterprise, r.enterprise_id))
    _print_report(out, json_out)


@report_app.command("list")
def list_cmd(
    year: Annotated[int | None, typer.Option(min=2000, max=2100, help="Only this year.")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Only this enterprise (code).")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status (submitted, returned, accepted, verified, superseded).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="List as this user (default: the whole park).")] = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """The annual reports, every version, newest first."""
    from greenpark.services.mrv import reports as rp

    with acting(by) as (s, actor):
        ent = rp.enterprise_by_code(s, actor, enterprise).id if enterprise else None
        rows = rp.list_reports(s, actor, year=year, enterprise_id=ent, status=status)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(f"{r['id']:>6}  {r['enterprise']['code']:<12} {r['year']} v{r['version']:<3} {r['status']:<11}"
                   f" {r['totals']['total_co2_t']:>12,.0f} t CO2")  # fmt: skip


@report_app.command("show")
def show_cmd(
    report_id: Annotated[int, typer.Argument(min=1, help="The report's id.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Read as this user (default: the whole park).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """One report: lines, checks, and every version of its enterprise and year."""
    from greenpark.services.mrv import reports as rp

    with acting(by) as (s, actor):
        d = rp.report_detail(s, actor, report_id)
    _print_report(d, json_out)
    if not json_out:
        for ln in d["lines"]:
            co2 = "" if ln["co2_t"] is None else f"{ln['co2_t']:,.2f} t CO2"
            typer.echo(
                f"  {ln['section']:<12} {ln['item']:<16} {ln['quantity']:>14,.3f} {ln['unit']:<9} {co2}"
            )


@report_app.command("review")
def review_cmd(
    report_id: Annotated[int, typer.Argument(min=1, help="The report's id.")],
    by: ByOpt,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the report.")] = False,
    return_: Annotated[bool, typer.Option("--return", help="Return it for a new version (a comment is required).")] = False,
    comment: Annotated[str, typer.Option(help="What to correct (required with --return).")] = "",
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Accept a submitted report, or return it with a comment."""
    from greenpark.services.mrv import reports as rp

    if accept == return_:
        _fail("give one of --accept or --return", 2)
    with acting(by) as (s, actor):
        r = rp.review_report(s, actor, report_id, accept=accept, comment=comment)
        out = rp.summary(r)
    if json_out:
        _dump(out)
    else:
        typer.echo(f"report {out['id']} {out['year']} v{out['version']}: {out['status']}")

"""``greenpark parks overview``: every park's energy, CO₂, intensity against its targets, indicators
at risk and open alarms, as a bureau watches them (thin over
:mod:`greenpark.services.portfolio.overview`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _url
from greenpark.cli.park import parks_app

ParksOpt = Annotated[
    list[str] | None,
    typer.Option("--park", help="Only this park (repeat for several; default: every park)."),
]


@parks_app.command("overview")
def parks_overview(park: ParksOpt = None, json_out: JsonOpt = False) -> None:
    """Each park's latest year: energy, CO2, energy per industrial value added against its
    targets, indicators at risk, open alarms (docs/parks.md names every key)."""
    from greenpark.services.park.parks import ParkError
    from greenpark.services.portfolio.overview import overview
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            rows = overview(s, park or None)
    except ParkError as exc:
        _fail(str(exc), 2)
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo("no park yet: `greenpark park create park.xlsx` (or `greenpark demo`)")
        return
    for line in table(rows):
        typer.echo(line)


def _num(v: float | None, scale: float = 1.0, digits: int = 2) -> str:
    return "–" if v is None else f"{v / scale:,.{digits}f}"


HEAD = (
    f"{'park':<16} {'year':>5}  {'energy 10^4 tce':>15} {'CO2 10^4 t':>11}  "
    f"{'tce/10^4 yuan':>13} {'target':>7}  {'status':<8} {'verdict':<9}  {'at risk':>7} {'alarms':>6}"
)


def table(rows: list[dict[str, Any]]) -> list[str]:
    """One line of figures per park, then each park's name, boundary, indicators at risk, why
    figures are empty and the factor sets behind them. ``*``: the year's figures are illustrative."""
    out = [HEAD, "-" * len(HEAD)]
    for r in rows:
        it, ind, al = r["intensity"], r["indicators"], r["open_alarms"]
        year = "–" if r["year"] is None else f"{r['year']}{'*' if r['illustrative'] else ''}"
        target = it["target"]["value"] if it["target"] else None
        out.append(
            f"{r['code']:<16} {year:>5}  {_num(r['energy_tce_calorific'], 1e4):>15} {_num(r['co2_t'], 1e4):>11}  "
            f"{_num(it['value'], digits=4):>13} {_num(target, digits=4):>7}  {it['status']:<8} {it['verdict']:<9}  "
            f"{len(ind['at_risk']):>3}/{ind['total']:<3} {al['total']:>6}"
        )
    out.append("")
    for r in rows:
        out += _details(r)
    if any(r["illustrative"] for r in rows):
        out.append("* illustrative continuation: made-up demo figures, not published or reported")
    return out


def _details(r: dict[str, Any]) -> list[str]:
    it, al = r["intensity"], r["open_alarms"]
    boundary = {"all": "whole park", "above_scale": "above-scale industry"}.get(r["boundary"] or "", "–")
    lines = [f"{r['code']}  {r['name_zh']} ({r['name_en']})", f"  energy and CO2 of: {boundary}"]
    final = it["final_target"]
    if final:
        lines.append(f"  final target: {final['value']:g} tce/10^4 yuan in {final['year']}")
    risky = r["indicators"]["at_risk"]
    if risky:
        lines.append("  indicators at risk: " + "; ".join(f"{x['code']} {x['name_zh']}" for x in risky))
    sev = al["by_severity"]
    lines.append("  open alarms: " + ", ".join(f"{k} {v}" for k, v in sev.items()))
    for key, code in r["missing"].items():
        lines.append(f"  {key}: {r['reasons'].get(code, {}).get('en', code)}")
    if r["error"]:
        lines.append(f"  error: {r['error']}")
    if r["factor_sets"]:
        lines.append("  factor sets: " + ", ".join(f"{k} v{v}" for k, v in r["factor_sets"].items()))
    lines.append("")
    return lines

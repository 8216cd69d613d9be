"""CLI for the carbon-peak roadmap (issue 6): scenarios, LMDI, forest sinks. Thin: every command
calls a service and prints its result (``--json`` for machines)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from greenpark.cli.main import JsonOpt, _dump, _fail, _rejected, _url, app

scenario_app = typer.Typer(
    help="Scenarios of the carbon-peak roadmap (list, show, run, compare, mc, save, export, import)."
)
app.add_typer(scenario_app, name="scenario")


def _scenario_error(exc: Exception) -> NoReturn:
    """Print every problem of a scenario and exit 2."""
    for e in getattr(exc, "errors", [str(exc)]):
        typer.echo(e, err=True)
    raise typer.Exit(2)


def _in_session(fn: Callable[[Session], Any]) -> Any:
    """Run ``fn`` in one database session; a scenario's problems end the command with exit 2."""
    from greenpark.services.roadmap.scenarios import ScenarioError
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            return fn(s)
    except ScenarioError as exc:
        _scenario_error(exc)


@scenario_app.command("list")
def scenario_list(json_out: JsonOpt = False) -> None:
    """The scenarios: presets (方案一/方案二/baseline) and officers' own."""
    from greenpark.services.roadmap.scenarios import list_scenarios

    rows = _in_session(list_scenarios)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['code']:<16} {'preset' if r['preset'] else 'own':<7} parent={r['parent'] or '-':<12} {r['name_zh']}"
        )


@scenario_app.command("show")
def scenario_show(code: str, json_out: JsonOpt = False) -> None:
    """A scenario's own drivers, what it inherits and the resolved spec it runs with."""
    from greenpark.services.roadmap.scenarios import show

    out = _in_session(lambda s: show(s, code))
    if json_out:
        _dump(out)
        return
    typer.echo(f"{out['code']} — {out['name_zh']} (chain: {' → '.join(out['chain'])})")
    typer.echo(json.dumps(out["resolved"].get("drivers", {}), ensure_ascii=False, indent=2))


@scenario_app.command("run")
def scenario_run(
    code: str,
    json_out: JsonOpt = False,
    full: Annotated[
        bool, typer.Option("--full", help="With --json: every series, checks and lineage.")
    ] = False,
) -> None:
    """Run a scenario: CO2 by year, net of sinks, peak year, plateau and neutrality year."""
    from greenpark.services.roadmap.scenarios import run

    r = _in_session(lambda s: run(s, code))
    if json_out:
        keys = ("years", "co2_t", "net_co2_t", "peak_year", "peaked", "plateau", "neutral_year")
        _dump(r if full else {k: r[k] for k in keys})
        return
    y = r["years"]
    typer.echo(f"{r['code']} — {r['name_zh']} (base {r['scope']} {r['base_year']})")
    for yr in [v for v in (y[0], 2025, 2030, 2035, 2040, 2050, 2060) if v in y]:
        k = y.index(yr)
        typer.echo(
            f"  {yr}: CO2 {r['co2_t'][k] / 1e4:9.2f} 万t   sinks {r['sinks_tco2'][k] / 1e4:7.2f} 万t   net {r['net_co2_t'][k] / 1e4:9.2f} 万t"
        )
    plateau = f"{r['plateau'][0]}–{r['plateau'][1]}" if r["plateau"] else "none"
    typer.echo(f"  peak {r['peak_year']} ({'peaked' if r['peaked'] else 'not peaked'}), plateau {plateau}, "
               f"neutral {r['neutral_year'] or 'not by ' + str(y[-1])}")  # fmt: skip
    for c in r["checks"]:
        typer.echo(
            f"  {'✓' if c['ok'] else '✗'} {c['indicator']} {c['year']}: {c['value']} {c['comparator']} {c['target']} {c['unit']}"
        )


@scenario_app.command("mc")
def scenario_mc(
    code: str,
    paths: Annotated[int, typer.Option(help="Number of Monte Carlo paths.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result).")] = 2060,
    json_out: JsonOpt = False,
) -> None:
    """Monte Carlo over the scenario's uncertain drivers: bands, peak-year distribution, probabilities."""
    from greenpark.services.roadmap.scenarios import montecarlo, public

    r = _in_session(lambda s: public(montecarlo(s, code, paths, seed)))
    if json_out:
        _dump(r)
        return
    typer.echo(f"{code}: {r['paths']} paths, seed {r['seed']}")
    typer.echo(f"  P(peak ≤ 2025) {r['p_peak_by_2025']:.1%}   P(peak ≤ 2030) {r['p_peak_by_2030']:.1%}   "
               f"P(net zero by 2060) {r['p_neutral_by_2060']:.1%}   not peaked {r['not_peaked']}")  # fmt: skip
    typer.echo("  peak years: " + ", ".join(f"{y}: {n}" for y, n in r["peak_year_counts"].items()))


@scenario_app.command("compare")
def scenario_compare(
    codes: Annotated[list[str], typer.Argument(help="Scenario codes.")], json_out: JsonOpt = False
) -> None:
    """Scenarios side by side (2025, 2030, 2035, 2060; peak, plateau, neutrality)."""
    from greenpark.services.roadmap.scenarios import compare

    out = _in_session(lambda s: compare(s, codes))
    if json_out:
        _dump(out)
        return
    for r in out["scenarios"]:
        at = "  ".join(f"{y}: {v['co2_t'] / 1e4:.1f}万t" for y, v in r["at"].items())
        typer.echo(
            f"{r['code']:<14} peak {r['peak_year']} plateau {r['plateau']} neutral {r['neutral_year']}  {at}"
        )


@scenario_app.command("decompose")
def scenario_decompose(
    code: str,
    against: Annotated[str, typer.Option(help="The scenario to compare with.")] = "baseline",
    year: Annotated[int, typer.Option(help="Year of the comparison.")] = 2030,
    json_out: JsonOpt = False,
) -> None:
    """LMDI of the scenario's CO2 against another scenario in a year: which levers make the wedge."""
    from greenpark.services.roadmap.scenarios import decompose_against

    out = _in_session(lambda s: decompose_against(s, code, against, year))
    if json_out:
        _dump(out)
        return
    typer.echo(f"{code} vs {against} in {year}: {out['total_change'] / 1e4:+.2f} 万t")
    for k, v in out["additive"].items():
        typer.echo(f"  {out['labels'][k]['zh']:<12} {v / 1e4:+10.2f} 万t")


@scenario_app.command("save")
def scenario_save(
    code: str,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="YAML or JSON: name_zh, parent, drivers, uncertainty"
        ),
    ],
    by: Annotated[str, typer.Option(help="Who saves it.")] = "",
) -> None:
    """Save an officer's scenario from a YAML/JSON spec (inherits its parent; presets are read-only)."""
    import yaml

    from greenpark.services.roadmap.scenarios import save_scenario

    spec: dict[str, Any] = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    _in_session(lambda s: save_scenario(
        s, code, spec.get("name_zh", code), spec.get("parent", ""), spec.get("drivers", {}), spec.get("uncertainty"),
        spec.get("name_en", ""), spec.get("note", ""), by, spec.get("end_year"), spec.get("plateau_delta"),
        spec.get("scope")))  # fmt: skip
    typer.echo(f"saved {code}")


@scenario_app.command("delete")
def scenario_delete(code: str) -> None:
    """Delete an officer's scenario (not a preset, not a parent of another)."""
    from greenpark.services.roadmap.scenarios import delete_scenario

    _in_session(lambda s: delete_scenario(s, code))
    typer.echo(f"deleted {code}")


@scenario_app.command("export")
def scenario_export(
    codes: Annotated[list[str], typer.Argument(help="Scenario codes.")],
    output: Annotated[Path, typer.Option("-o", "--output", help=".csv or .xlsx")],
    long: Annotated[
        bool, typer.Option("--long", help="Year and value columns instead of one column per year.")
    ] = False,
) -> None:
    """Export scenarios (results and drivers) in the IAMC format, readable by pyam."""
    from greenpark.services.roadmap.iamc import export

    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    _in_session(lambda s: output.write_bytes(export(s, codes, fmt, long)))
    typer.echo(f"wrote {output}")


@scenario_app.command("import")
def scenario_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="IAMC .csv or .xlsx")],
    code: Annotated[str, typer.Option(help="Code of the new scenario.")],
    scenario: Annotated[
        str | None, typer.Option(help="Which scenario of the file (if it has several).")
    ] = None,
    name: Annotated[str, typer.Option(help="Chinese name.")] = "",
) -> None:
    """Import driver paths from an IAMC file as a new scenario; all or nothing."""
    from greenpark.services.carbon.io import ImportRejected
    from greenpark.services.roadmap.iamc import import_scenario

    try:
        out = _in_session(lambda s: import_scenario(s, file.name, file.read_bytes(), code, scenario, name))
    except ImportRejected as exc:
        _rejected(file, exc.errors)
    typer.echo(f"imported {out['from_scenario']} as {out['code']} ({', '.join(out['drivers'])})")


@app.command("lmdi")
def lmdi_cmd(
    input_file: Annotated[
        Path,
        typer.Option("--input", exists=True, dir_okay=False, help="CSV/xlsx: subcategory,year,<factors…>"),
    ],
    year_from: Annotated[int, typer.Option("--from", help="First year T0.")],
    year_to: Annotated[int, typer.Option("--to", help="Last year T1.")],
    detail: Annotated[
        bool, typer.Option("--detail", help="Add LMDI-II, effects by sub-category and the yearly chain.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """LMDI decomposition of a table of factors (V of a row = the product of its factors)."""
    from greenpark.services.carbon.io import ImportRejected
    from greenpark.services.roadmap.decomposition import decompose_table

    try:
        out = decompose_table(input_file.name, input_file.read_bytes(), year_from, year_to, detail)
    except ImportRejected as exc:
        _rejected(input_file, exc.errors)
    if json_out:
        _dump(out)
        return
    typer.echo(f"ΔV = {out['total_change']:.6g}, V_T/V_0 = {out['total_ratio']:.6g}")
    for k in out["additive"]:
        typer.echo(
            f"  {k:<20} additive {out['additive'][k]:+.6g}   multiplicative {out['multiplicative'][k]:.6g}"
        )


@app.command("history-lmdi")
def history_lmdi_cmd(
    scope: Annotated[str, typer.Option(help="park, a zone or an enterprise code.")] = "park",
    boundary: Annotated[str, typer.Option(help="all | above_scale")] = "above_scale",
    json_out: JsonOpt = False,
) -> None:
    """LMDI of the inventory's CO2 over its years: activity, intensity, carrier mix, emission factors."""
    from greenpark.services.roadmap.scenarios import history_decomposition

    out = _in_session(lambda s: history_decomposition(s, scope, boundary))
    if json_out:
        _dump(out)
        return
    for d in [*out["chained"], out["whole"]]:
        parts = ", ".join(f"{out['labels'][k]['zh']} {v / 1e4:+.1f}" for k, v in d["additive"].items())
        typer.echo(f"{d['from']}→{d['to']}: {d['total_change'] / 1e4:+.1f} 万t = {parts}")


@app.command("sinks")
def sinks_cmd(
    year: Annotated[int, typer.Option(help="Year of the sink.")] = 2020,
    zone: Annotated[str | None, typer.Option(help="One zone (default: the whole park).")] = None,
    projects: Annotated[bool, typer.Option("--projects", help="Also the sink projects' ledger.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """The forest carbon sink of a year (gain–loss and stock-difference), by type and zone."""
    from greenpark.services.carbon.sinks import SinkError, annual_sink, ledger
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            out = annual_sink(s, year, zone)
            if projects:
                out["projects"] = ledger(s)
    except SinkError as exc:
        _fail(str(exc), 2)
    if json_out:
        _dump(out)
        return
    typer.echo(f"{year}: {out['removals_tco2'] / 1e4:.2f} 万tCO2/yr removed by {out['area_ha']:,.0f} ha "
               f"(gain–loss on the {out['inventory_year']} inventory; parameters {out['parameter_set']['code']} v{out['parameter_set']['version']})")  # fmt: skip
    for r in out["by_type"]:
        typer.echo(f"  {r['name_zh']:<6} {r['area_ha']:>9,.0f} ha  {r['removals_tco2'] / 1e4:8.2f} 万t")
    sd = out["stock_difference"]
    if sd:
        typer.echo(
            f"  stock-difference {sd['from']}–{sd['to']}: {sd['removals_tco2'] / 1e4:.2f} 万t/yr ({', '.join(sd['covers'])})"
        )
    if out["unconfirmed"]:
        typer.echo("  note: some parameters are unconfirmed or assumed (see the factor set)")


@app.command("sinks-import")
def sinks_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import forest land (*stand*), sink projects (*project*) or monitoring periods (*period*); all or nothing."""
    from greenpark.services.carbon import sinks
    from greenpark.services.carbon.io import ImportRejected
    from greenpark.store.db import session_scope

    name = file.name.lower()
    fn = (
        sinks.import_periods
        if "period" in name
        else sinks.import_projects
        if "project" in name
        else sinks.import_stands
    )
    try:
        with session_scope(_url()) as s:
            n = fn(s, file.name, file.read_bytes())
    except ImportRejected as exc:
        _rejected(file, exc.errors)
    typer.echo(f"imported {n} row(s)")

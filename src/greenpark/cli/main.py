"""The ``greenpark`` command: a thin layer over the services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from greenpark.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="greenpark — energy, carbon and environment of an industrial park.",
)
factors_app = typer.Typer(no_args_is_help=True, help="Factor sets: list, show, load a new version.")
users_app = typer.Typer(no_args_is_help=True, help="Users and API tokens.")
app.add_typer(factors_app, name="factors")
app.add_typer(users_app, name="users")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _url() -> str:
    """The database of this command, from the environment as it is now (a command is one process;
    in tests many run in one, after other code may have read the process-wide settings)."""
    return Settings().effective_database_url


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _rejected(file: Path, errors: list[Any]) -> NoReturn:
    """Say why a file was refused (every bad cell) and exit 2; nothing was imported."""
    typer.secho(
        f"{file}: rejected, nothing imported ({len(errors)} error(s)):", fg=typer.colors.RED, err=True
    )
    for e in errors:
        typer.echo(f"  {e}", err=True)
    raise typer.Exit(2)


def _fail(msg: str, code: int = 1) -> NoReturn:
    typer.secho(msg, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def init() -> None:
    """Create or migrate the configured database."""
    from greenpark.demo import load_reference
    from greenpark.store.db import session_scope
    from greenpark.store.migrate import upgrade

    url = _url()
    typer.echo(f"database: {url.split('@')[-1]}")
    upgrade(url)
    with session_scope(url) as s:
        load_reference(s)
    typer.echo("schema at head; reference factor sets loaded")


@app.command()
def demo() -> None:
    """Load the demo park (Xianning High-tech Zone, from its 2021-2025 plan) and return."""
    from greenpark.demo import load_demo
    from greenpark.store.db import session_scope
    from greenpark.store.migrate import upgrade

    url = _url()
    upgrade(url)
    with session_scope(url) as s:
        report = load_demo(s, progress=lambda m: typer.echo(f"  loading {m} …"))
    typer.echo(
        f"demo park {report.park}: {report.activity_changed} activity and {report.economic_changed} economic records changed, {report.snapshots} inventory snapshots"
    )
    if report.logins:
        logins_file = get_settings().data_dir / "demo-logins.txt"
        logins_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{u}\t{p}\t{r}" for u, p, r in report.logins]
        logins_file.write_text("username\tpassword\trole\n" + "\n".join(lines) + "\n", encoding="utf-8")
        logins_file.chmod(0o600)
        typer.echo("demo logins (one per role; also saved to " + str(logins_file) + "):")
        for u, p, r in report.logins:
            typer.echo(f"  {r:<11} user {u:<11} password {p}")
    elif report.existing_users:
        typer.echo(
            f"demo users exist ({', '.join(report.existing_users)}); their passwords are in {get_settings().data_dir / 'demo-logins.txt'}"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    hj212_port: Annotated[
        int, typer.Option(help="Also run the HJ 212 ingestion server on this port (0: do not).")
    ] = 0,
    simulate: Annotated[
        int,
        typer.Option(
            help="Also run this many simulated data loggers against it (demo; data marked synthetic)."
        ),
    ] = 0,
    mqtt: Annotated[
        str,
        typer.Option(help="Subscribe to meters' readings on this MQTT broker, host:port ('' : do not)."),
    ] = "",
    reminders: Annotated[
        bool, typer.Option(help="Make the cycle's reminders and send waiting messages every hour.")
    ] = True,
) -> None:
    """Start the web app (pages and JSON API), optionally with the HJ 212 server and a simulation."""
    import threading

    import uvicorn

    from greenpark.store.migrate import schema_status
    from greenpark.web.warm import warm

    current, head = schema_status(_url())
    if current != head:
        _fail(
            f"the database schema is at {current or 'nothing'}, this greenpark needs {head}: run `greenpark init` first"
        )
    threading.Thread(target=warm, args=(_url(),), name="greenpark-warm-cache", daemon=True).start()
    if reminders:
        threading.Thread(
            target=_remind_hourly, args=(_url(),), name="greenpark-reminders", daemon=True
        ).start()
    threading.Thread(target=_poll_modbus, args=(_url(),), name="greenpark-modbus", daemon=True).start()
    if mqtt:
        _start_mqtt(mqtt)
    if hj212_port:
        _start_hj212(host, hj212_port, simulate)
    if simulate:
        threading.Thread(
            target=_simulate_meters, args=(_url(), mqtt), name="greenpark-meter-sim", daemon=True
        ).start()
    typer.echo(f"greenpark at http://{host}:{port}  (API docs at /api/docs)")
    uvicorn.run("greenpark.web.app:create_app", factory=True, host=host, port=port, log_level="info")


def _remind_hourly(url: str) -> None:
    """While the server runs: every hour make the cycle's reminders due today and deliver what waits
    (the same as ``greenpark mrv remind``; idempotent, so a scheduler running that too is harmless)."""
    import logging
    import time

    from greenpark.services.mrv import inbox
    from greenpark.services.mrv.evidence import beijing_today
    from greenpark.store.db import engine_for, session_scope

    while True:
        try:
            with session_scope(url) as s:
                inbox.remind(s, beijing_today())
            inbox.deliver(engine_for(url))
        except Exception:  # a failed round is logged; the next hour tries again
            logging.getLogger("greenpark.reminders").exception("reminder round failed")
        time.sleep(3600)


def _poll_modbus(url: str) -> None:
    """While the server runs: poll each Modbus TCP gateway every its own interval (none: idle)."""
    import logging
    import time

    from greenpark.services.energy.modbus import modbus_gateways, poll_gateway
    from greenpark.store.db import session_scope

    due: dict[int, float] = {}
    while True:
        try:
            with session_scope(url) as s:
                for gw in modbus_gateways(s):
                    if due.get(gw.id, 0.0) <= time.monotonic():
                        due[gw.id] = time.monotonic() + gw.poll_interval_s
                        poll_gateway(s, gw)
        except Exception:  # a failed round is logged; the next one tries again
            logging.getLogger("greenpark.modbus").exception("Modbus polling round failed")
        time.sleep(5)


def _start_mqtt(where: str) -> None:
    """Subscribe to every park's gateway topics on the broker at ``where`` (host:port) when it
    answers; say so either way (the pages work without it)."""
    from sqlalchemy import select

    from greenpark.services.energy.mqtt import MqttSubscriber
    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    host, _, port = where.rpartition(":")
    with session_scope(_url()) as s:
        parks = list(s.scalars(select(m.Park.code).order_by(m.Park.code)))
    for code in parks:
        sub = MqttSubscriber(_url(), code, host or "127.0.0.1", int(port or 1883))
        try:
            sub.start(timeout_s=3)
        except (OSError, ValueError) as exc:
            typer.echo(f"MQTT: no broker at {where} ({exc}); meters can still push over HTTP")
            return
        _SUBSCRIBERS.append(sub)
    typer.echo(f"MQTT: subscribed on {where} to greenpark/<park>/<gateway>/readings for {', '.join(parks)}")


_SUBSCRIBERS: list[Any] = []


def _simulate_meters(url: str, mqtt: str) -> None:
    """The demo's synthetic meters report live: over MQTT when the server subscribed to a broker
    (the whole path), else straight into the store."""
    import logging

    from greenpark.demo_energy import INTERVAL_S, sim_meters
    from greenpark.ingest.meter_sim import run_live
    from greenpark.services.energy.readings import parse_payload, store_readings
    from greenpark.services.park.parks import all_parks
    from greenpark.store.db import session_scope

    try:
        with session_scope(url) as s:
            work = [(p.id, p.code, sim_meters(s, p.id)) for p in all_parks(s)]
        for park_id, code, by_gateway in work:
            if not by_gateway:
                continue
            if _SUBSCRIBERS:
                import paho.mqtt.client as mq
                from paho.mqtt.enums import CallbackAPIVersion

                from greenpark.services.energy.mqtt import readings_topic

                host, _, port = mqtt.rpartition(":")
                pub = mq.Client(CallbackAPIVersion.VERSION2, client_id=f"greenpark-demo-meters-{code}")
                pub.connect(host or "127.0.0.1", int(port or 1883))
                pub.loop_start()
                for gateway, sims in by_gateway.items():  # each gateway on its own topic
                    topic = readings_topic(code, gateway)
                    _run_in_thread(
                        run_live, sims, lambda body, t=topic, c=pub: c.publish(t, body, qos=1), INTERVAL_S
                    )
            else:

                def store(body: bytes, park_id: int = park_id) -> None:
                    good, _bad = parse_payload(body)
                    with session_scope(url) as s:
                        store_readings(s, park_id, good, "simulated")

                _run_in_thread(
                    run_live, [sm for sims in by_gateway.values() for sm in sims], store, INTERVAL_S
                )
    except Exception:
        logging.getLogger("greenpark.meter-sim").exception("the demo meters' simulation stopped")


def _run_in_thread(run: Any, sims: Any, send: Any, step: int) -> None:
    """Run a simulation loop in a daemon thread (it stops with the server)."""
    import threading

    threading.Thread(
        target=run, args=(sims, send, step, lambda: False), daemon=True, name="meter-sim"
    ).start()


def _start_hj212(host: str, port: int, simulate: int) -> None:
    """The ingestion server (and a simulation of ``simulate`` devices) in background threads."""
    import asyncio
    import threading

    from greenpark.ingest.server import ServerConfig, run

    url = _url()
    ready = threading.Event()
    threading.Thread(
        target=lambda: run(url, ServerConfig(host=host, port=port), ready),
        name="hj212-server",
        daemon=True,
    ).start()
    ready.wait(30)
    typer.echo(f"HJ 212 server on {host}:{port}")
    if simulate:
        from greenpark.ingest.simulator import SimDevice, devices_from_store
        from greenpark.ingest.simulator import simulate as run_simulation

        known = devices_from_store(url, simulate)
        devs = known + [
            SimDevice.synthetic(i, "2017") for i in range(len(known), simulate + 1)
        ]  # unknown: adoption
        threading.Thread(
            target=lambda: asyncio.run(
                run_simulation(
                    host, port, devs, duration_s=10 * 365 * 24 * 3600, backfill_hours=24, faults=True
                )
            ),
            name="hj212-simulator",
            daemon=True,
        ).start()
        typer.echo(
            f"simulating {len(known)} registered data loggers and {len(devs) - len(known)} unknown one(s)"
            " (to try adoption); 24 h of history first; synthetic data"
        )


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv file (see `greenpark template`)."),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Import activity and economic data; a bad cell rejects the whole file."""
    from greenpark.services.carbon.io import ImportRejected, import_file
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            res = import_file(s, file.name, file.read_bytes())
    except ImportRejected as exc:
        if json_out:
            _dump({"ok": False, "errors": [e.__dict__ for e in exc.errors]})
        else:
            typer.secho(
                f"{file}: rejected, nothing imported ({len(exc.errors)} error(s)):",
                fg=typer.colors.RED,
                err=True,
            )
            for e in exc.errors:
                typer.echo(f"  {e}", err=True)
        raise typer.Exit(2) from None
    out = {
        "ok": True,
        "file": str(file),
        "rows": res.rows,
        "changed": res.changed,
        "already_imported": res.already_imported,
        "batch": res.batch_id,
    }
    if json_out:
        _dump(out)
    else:
        typer.echo(
            f"{file}: imported {res.rows} rows; changed {res.changed}"
            + (" (same file imported before)" if res.already_imported else "")
        )


@app.command()
def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .xlsx template.")] = Path(
        "greenpark-template.xlsx"
    ),
) -> None:
    """Write the Excel import template."""
    from greenpark.services.carbon.io import template_workbook
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            data = template_workbook(s)
    except Exception:
        data = template_workbook(None)
    output.write_bytes(data)
    typer.echo(f"template written to {output}")


@app.command()
def inventory(
    year: Annotated[int, typer.Option(help="Inventory year.")],
    scope: Annotated[
        str, typer.Option(help="park, a zone code (core, xianan, …) or an enterprise code.")
    ] = "park",
    by: Annotated[str, typer.Option(help="carrier | sector | zone | enterprise | month")] = "carrier",
    boundary: Annotated[str, typer.Option(help="all | above_scale (规上工业)")] = "all",
    xlsx: Annotated[Path | None, typer.Option(help="Also export the inventory to this .xlsx file.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Energy and CO2 inventory of a scope and year."""
    from greenpark.services.carbon.inventory import compute_inventory, list_records
    from greenpark.services.carbon.io import inventory_workbook
    from greenpark.services.park.parks import ParkError
    from greenpark.store.db import session_scope

    if by not in ("carrier", "sector", "zone", "enterprise", "month"):
        _fail("--by must be carrier, sector, zone, enterprise or month")
    try:
        with session_scope(_url()) as s:
            res = compute_inventory(
                s,
                scope_code=scope,
                year=year,
                boundary=boundary,
                by=(by,) if by in ("zone", "enterprise", "month") else (),
            )
            if xlsx:
                xlsx.write_bytes(
                    inventory_workbook(
                        res, list_records(s, scope_code=scope, year=year, boundary=boundary, limit=100_000)
                    )
                )
    except ParkError as exc:
        _fail(str(exc))
    if json_out:
        _dump(res)
        return
    t = res["totals"]
    typer.echo(f"{res['scope']['name_zh']} {year} ({boundary})  records: {t['records']}")
    typer.echo(
        f"  energy (当量值) {t['energy_tce_calorific']:,.2f} tce"
        + (
            f"   (等价值) {t['energy_tce_equal_value']:,.2f} tce"
            if t["energy_tce_equal_value"] is not None
            else ""
        )
    )
    typer.echo(
        "  CO2 "
        + (f"{t['co2_t']:,.0f} t" if t["co2_t"] is not None else "not computable (no carrier breakdown)")
    )
    rows = {"carrier": res["by_carrier"], "sector": res["by_sector"]}.get(by) or res.get(f"by_{by}", [])
    name_key = {
        "carrier": "name_zh",
        "sector": "name_zh",
        "zone": "zone",
        "enterprise": "enterprise",
        "month": "month",
    }[by]
    for r in rows:
        co2 = f"{r['co2_t']:>14,.0f} tCO2" if r.get("co2_t") is not None else " " * 19
        typer.echo(f"    {r[name_key]:<14} {r['energy_tce_calorific']:>16,.2f} tce {co2}")
    for k, v in res["intensities"].items():
        typer.echo(f"  {k}: {v['value']:.4f} {v['unit']}")
    for c in res["checks"]:
        typer.secho(f"  [{c['severity']}] {c['message_zh']}", fg=typer.colors.YELLOW)
    typer.echo(f"  factor sets: {', '.join(f'{k} v{v}' for k, v in res['factor_sets'].items())}")
    if xlsx:
        typer.echo(f"  exported to {xlsx}")


@app.command()
def explain(
    figure: Annotated[
        str | None,
        typer.Argument(help="A reproduce figure id (e.g. core_co2_2020_t), or omit and give --scope/--year."),
    ] = None,
    scope: Annotated[str, typer.Option()] = "core",
    year: Annotated[int, typer.Option()] = 2020,
    boundary: Annotated[str, typer.Option()] = "all",
    carrier: Annotated[str | None, typer.Option(help="Only this carrier.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show how a figure was computed: inputs, factors (with set, version and source), method."""
    from greenpark.services.carbon.inventory import compute_inventory, list_records
    from greenpark.services.park.parks import ParkError
    from greenpark.store.db import session_scope

    if figure:
        parts = figure.split("_")
        scope = parts[0]
        years = [int(p) for p in parts if p.isdigit() and len(p) == 4]
        if not years or scope not in ("core", "park"):
            _fail(f"cannot read scope and year from {figure!r}; use --scope and --year")
        year = years[-1]
        boundary = "above_scale" if "aboveScale" in figure or "carriers" in figure else "all"
    try:
        with session_scope(_url()) as s:
            res = compute_inventory(s, scope_code=scope, year=year, boundary=boundary)
            records = list_records(s, scope_code=scope, year=year, boundary=boundary, carrier=carrier)
    except ParkError as exc:
        _fail(str(exc))
    rows = [r for r in res["by_carrier"] if carrier in (None, r["carrier"])]
    if json_out:
        _dump(
            {
                "scope": res["scope"],
                "year": year,
                "boundary": boundary,
                "totals": res["totals"],
                "intensities": res["intensities"],
                "profile": res["profile"],
                "carriers": rows,
                "records": records,
                "economy": res["economy"],
            }
        )
        return
    t = res["totals"]
    typer.echo(f"{res['scope']['name_zh']} {year} ({boundary})")
    typer.echo(f"  method: {res['profile']['note_zh']}")
    if t["co2_t"] is not None:
        typer.echo(
            f"  CO2 = Σ carriers = {t['co2_t']:,.1f} t  (combustion {t['co2_by_source_t']['combustion']:,.1f}; purchased electricity {t['co2_by_source_t']['purchased_electricity']:,.1f}; heat {t['co2_by_source_t']['purchased_heat']:,.1f})"
        )
    typer.echo(
        f"  energy (当量值) = {t['energy_tce_calorific']:,.2f} tce from layer {t['energy_layer']} of the records"
    )
    for r in rows:
        typer.echo(
            f"\n  {r['name_zh']} ({r['carrier']}): {r['energy_tce_calorific']:,.2f} tce, {r['energy_gj']:,.0f} GJ"
            + (f", CO2 {r['co2_t']:,.1f} t" if r["co2_t"] is not None else "")
        )
        inp = r["lineage"]["inputs"]
        typer.echo(
            f"    inputs: {inp['records']} record(s), ids {inp['record_id_range'][0]}–{inp['record_id_range'][1]}"
            + (" (reported in tce)" if inp["reported_in_tce"] else "")
        )
        for f in r["lineage"]["factors"]:
            typer.echo(
                f"    factor: {f['parameter']} = {f['value']} {f['unit']}  [{f['set_code']} v{f['set_version']}, {f['source_table']}, {f['status']}]"
            )
        for step in r["lineage"]["method"]:
            typer.echo(f"    method: {step}")
    typer.echo("\n  records:")
    for rec in records:
        typer.echo(
            f"    #{rec['id']} {rec['year']} {rec['sector'] or '(all sectors)'} {rec['carrier'] or '(all carriers)'} "
            + (
                f"{rec['quantity']} {rec['unit']}"
                if rec["quantity"] is not None
                else f"{rec['energy_tce']} tce"
            )
            + f"  ← {rec['source_ref']}"
        )
    for k, v in res["intensities"].items():
        d = res["economy"][v["denominator"]]
        typer.echo(
            f"  {k} = {v['numerator']} / {v['denominator']} ({d['value_10k_yuan']:,.0f} 万元, {d['source_ref']}) = {v['value']:.4f} {v['unit']}"
        )


@app.command()
def reproduce(json_out: JsonOpt = False) -> None:
    """Print each figure the plan publishes beside greenpark's value; non-zero exit if one is out of tolerance."""
    from greenpark.services.plan.reproduce import reproduce as run
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        out = run(s)
    if json_out:
        _dump(out["figures"])
        for w in out["warnings"]:
            typer.echo(f"warning: {w['message_en']}", err=True)
    else:
        typer.echo(f"{'figure':<44}{'plan':>14}{'greenpark':>16}{'diff':>10}  ok")
        for f in out["figures"]:
            typer.echo(
                f"{f['figure']:<44}{f['plan']:>14,.4f}{f['computed']:>16,.4f}{f['rel_diff']:>+10.3%}  {'✓' if f['within_tolerance'] else '✗'}"
            )
        typer.echo("\nThe plan's own inconsistencies (warnings, not failures):")
        for w in out["warnings"]:
            typer.secho(f"  - {w['message_zh']}", fg=typer.colors.YELLOW)
        typer.echo(
            f"\nfactor sets: {', '.join(f'{k} v{v}' for k, v in out['method']['factor_sets'].items())}"
        )
    if not out["ok"]:
        raise typer.Exit(1)


@factors_app.command("list")
def factors_list(json_out: JsonOpt = False) -> None:
    """List the factor sets (current and superseded versions)."""
    from sqlalchemy import select

    from greenpark.services.carbon.factors import factor_set_summary
    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        sets = [
            factor_set_summary(fs)
            for fs in s.scalars(select(m.FactorSet).order_by(m.FactorSet.code, m.FactorSet.id))
        ]
    if json_out:
        _dump(sets)
        return
    for fs in sets:
        mark = "*" if fs["is_current"] else " "
        typer.echo(
            f"{mark} {fs['code']:<24} v{fs['version']:<4} {fs['kind']:<16} {fs['rows']:>3} rows  {fs['title_zh']}"
        )


@factors_app.command("show")
def factors_show(
    code: str, version: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """Show one factor set's rows with unit, source and status."""
    from greenpark.services.carbon.factors import FactorLibrary
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        lib = FactorLibrary.load(s, {code: version} if version else None)
        if code not in lib.sets:
            _fail(f"no factor set {code!r}")
        fs = lib.sets[code]
        rows = [r.as_dict() for r in lib.rows[code]]
        meta = {
            "code": fs.code,
            "version": fs.version,
            "title_zh": fs.title_zh,
            "document": fs.document,
            "edition": fs.edition,
            "inherits": fs.inherits,
            "note": fs.note,
        }
    if json_out:
        _dump({**meta, "rows": rows})
        return
    typer.echo(
        f"{meta['code']} v{meta['version']} — {meta['title_zh']}\n  {meta['document']} ({meta['edition']})"
        + (f"\n  inherits {meta['inherits']}" if meta["inherits"] else "")
    )
    for r in rows:
        where = " ".join(x for x in (r["region"], str(r["year"] or "")) if x)
        typer.echo(
            f"  {r['carrier']:<14}{r['parameter']:<24}{r['value']:>12g} {r['unit']:<16}{where:<20}[{r['status']}] {r['source_table']}"
        )


@factors_app.command("load")
def factors_load(
    directory: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="A folder with index.yaml and the sets' CSV files."
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Load factor sets from a folder; new versions become current and restate saved results."""
    from greenpark.data import ReferenceDataError, load_factor_set_specs
    from greenpark.services.carbon.factors import FactorSetError, sync_factor_sets
    from greenpark.services.carbon.snapshots import restate_after_new_versions
    from greenpark.store.db import session_scope

    try:
        specs = load_factor_set_specs(directory)
        with session_scope(_url()) as s:
            report = sync_factor_sets(s, specs)
            restated = restate_after_new_versions(s, report)
    except (ReferenceDataError, FactorSetError, KeyError) as exc:
        _fail(f"{directory}: {exc}")
    if json_out:
        _dump(
            {
                "added": report.added,
                "new_versions": report.new_versions,
                "unchanged": report.unchanged,
                "restated": restated,
            }
        )
        return
    for code, old, new in report.new_versions:
        typer.echo(f"{code}: v{old} → v{new}")
    for code in report.added:
        typer.echo(f"{code}: added")
    for r in restated:
        typer.echo(f"restated {r['scope']} {r['year']} ({r['boundary']}): {r['reason']}")
        for f in r["figures"]:
            if f["old"] is not None and f["change"]:
                typer.echo(
                    f"    {f['key']:<40} {f['old']:>16,.2f} → {f['new']:>16,.2f} {f['unit']} ({f['rel_change']:+.2%})"
                )


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin | park_staff | zone_staff | verifier | bureau | enterprise | public")
    ],
    park: Annotated[
        str | None,
        typer.Option(
            "--park", help="The user's park (default: the only park); '*' for every park (admin, bureau)."
        ),
    ] = None,
    zone: Annotated[str | None, typer.Option(help="Zone code (zone staff).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise code (enterprise users).")] = None,
) -> None:
    """Create a user with their scope (a park, a zone, an enterprise); the password is read from
    the prompt."""
    from sqlalchemy import select

    from greenpark.services.park import auth
    from greenpark.services.park.parks import ParkError, get_park
    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with session_scope(_url()) as s:
        park_id = zone_id = ent_id = None
        if park != "*":
            try:
                p = get_park(s, park)
            except ParkError as exc:
                _fail(str(exc), 2)
            park_id = p.id
            if zone:
                z = s.scalars(select(m.Zone).where(m.Zone.park_id == p.id, m.Zone.code == zone)).first()
                if z is None:
                    _fail(f"no zone {zone!r} in park {p.code}")
                else:
                    zone_id = z.id
            if enterprise:
                ent = s.scalars(
                    select(m.Enterprise).where(m.Enterprise.park_id == p.id, m.Enterprise.code == enterprise)
                ).first()
                if ent is None:
                    _fail(f"no enterprise {enterprise!r} in park {p.code}")
                else:
                    ent_id = ent.id
        try:
            auth.create_user(
                s, username, password, auth.Role(role), park_id=park_id, zone_id=zone_id, enterprise_id=ent_id,
                by="cli",
            )  # fmt: skip
        except (auth.AuthError, ValueError) as exc:
            _fail(str(exc))
    typer.echo(f"user {username} ({role}) created")


@users_app.command("token")
def users_token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 366).")] = 90,
) -> None:
    """Create an API token for a user (shown once; it expires after --days)."""
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            user = auth.get_user(s, username)
            token = auth.create_api_token(s, user, name, days, by="cli")
        except auth.AuthError as exc:
            _fail(str(exc))
            return
    typer.echo(token)


@users_app.command("list")
def users_list(json_out: Annotated[bool, typer.Option("--json", help="JSON output.")] = False) -> None:
    """Every account with role, enterprise, state and last login."""
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = auth.users(s)
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for u in rows:
        state = "active" if u["active"] else "DEACTIVATED"
        typer.echo(
            f"{u['username']:<16} {u['role']:<11} {state:<11} {u['enterprise'] or '':<24} last login {u['last_login_utc'] or '-'}"
        )


def _account_change(action: str, username: str, **kw: Any) -> Any:
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            if action == "active":
                return auth.set_active(s, username, kw["active"], "cli")
            if action == "password":
                return auth.reset_password(s, username, "cli", kw.get("password"))
        except auth.AuthError as exc:
            _fail(str(exc))
    return None


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate an account: its sessions end at once and its API tokens stop working."""
    _account_change("active", username, active=False)
    typer.echo(f"user {username} deactivated; sessions ended, tokens refused")


@users_app.command("activate")
def users_activate(username: str) -> None:
    """Reactivate an account."""
    _account_change("active", username, active=True)
    typer.echo(f"user {username} active")


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    prompt: Annotated[
        bool, typer.Option(help="Type the new password instead of getting a random one.")
    ] = False,
) -> None:
    """Set a new password (random and shown once, or typed) and end the user's sessions."""
    password = typer.prompt("new password", hide_input=True, confirmation_prompt=True) if prompt else None
    new = _account_change("password", username, password=password)
    typer.echo(f"new password for {username}: {new}" if not prompt else f"password of {username} changed")


@users_app.command("tokens")
def users_tokens(
    username: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """API tokens (never the secret) with owner, expiry, last use and state."""
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        uid = auth.get_user(s, username).id if username else None
        rows = auth.tokens(s, user_id=uid)
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for t in rows:
        typer.echo(
            f"#{t['id']:<5} {t['username']:<16} {t['name']:<24} {t['state']:<8} expires {t['expires_utc']} last used {t['last_used_utc'] or '-'}"
        )


@users_app.command("revoke-token")
def users_revoke_token(token_id: int) -> None:
    """Revoke an API token at once (its id from ``greenpark users tokens``)."""
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            auth.revoke_token(s, token_id, "cli")
        except auth.AuthError as exc:
            _fail(str(exc))
    typer.echo(f"token #{token_id} revoked")


@users_app.command("sessions")
def users_sessions(
    username: Annotated[str | None, typer.Argument(help="Only this user's sessions.")] = None,
    end: Annotated[
        bool, typer.Option(help="End them (all live sessions of the user, or of everyone).")
    ] = False,
) -> None:
    """Live browser sessions; with --end, end them."""
    from greenpark.services.park import auth
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        uid = auth.get_user(s, username).id if username else None
        rows = auth.live_sessions(s, uid)
        if end:
            for r in rows:
                auth.end_session_by_id(s, r["id"], "cli")
    for r in rows:
        typer.echo(
            f"#{r['id']:<5} {r['username']:<16} {r['address']:<16} since {r['created_utc']} last seen {r['last_seen_utc']}"
            + (" (ended)" if end else "")
        )


def main() -> None:  # pragma: no cover
    app(prog_name="greenpark")


# ----------------------------------------------------------------------------- environment


@app.command("aqi")
def aqi_cmd(
    so2: Annotated[float | None, typer.Option(help="SO2 [ug/m3]")] = None,
    no2: Annotated[float | None, typer.Option(help="NO2 [ug/m3]")] = None,
    pm10: Annotated[float | None, typer.Option(help="PM10 [ug/m3]")] = None,
    co: Annotated[float | None, typer.Option(help="CO [mg/m3]")] = None,
    o3: Annotated[float | None, typer.Option(help="O3 1-h (day: daily max 1-h) [ug/m3]")] = None,
    o3_8h: Annotated[
        float | None, typer.Option("--o3-8h", help="O3 8-h (day: daily max 8-h) [ug/m3]")
    ] = None,
    pm25: Annotated[float | None, typer.Option(help="PM2.5 [ug/m3]")] = None,
    so2_24h: Annotated[
        float | None, typer.Option("--so2-24h", help="SO2 24-h mean, for the 2012 rule when SO2 1-h > 800")
    ] = None,
    period: Annotated[str, typer.Option(help="hour (real-time report) or day (daily report)")] = "day",
    on: Annotated[
        str | None, typer.Option("--date", help="Date of the data (YYYY-MM-DD); picks the edition.")
    ] = None,
    edition: Annotated[str | None, typer.Option(help="2012 or 2026 (default: by --date, else today)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Air quality index per HJ 633 (2012 or 2026 edition)."""
    from datetime import date

    from greenpark.services.environment.air import aqi_one

    values = {
        "so2": so2,
        "no2": no2,
        "pm10": pm10,
        "co": co,
        "o3": o3,
        "o3_8h": o3_8h,
        "pm25": pm25,
        "so2_24h": so2_24h,
    }
    try:
        day = date.fromisoformat(on) if on else date.today()
        out = aqi_one({k: v for k, v in values.items() if v is not None}, period, day, edition)
    except ValueError as exc:
        _fail(str(exc))
    if json_out:
        _dump(out)
        return
    cat = out["category"]
    typer.echo(
        f"AQI {out['aqi']}  {cat['zh'] if cat else ''} ({cat['en'] if cat else ''})  [{out['edition']}]"
    )
    typer.echo("  IAQI: " + ", ".join(f"{k} {v}" for k, v in out["iaqi"].items()))
    if out["primary"]:
        typer.echo("  首要污染物 primary: " + ", ".join(out["primary"]))
    for n in out.get("notes", []):
        typer.secho(f"  note: {n}", fg=typer.colors.YELLOW)


@app.command("aqi-file")
def aqi_file(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV: time,so2,no2,co,o3,pm10,pm25 (hourly, Beijing time)"
        ),
    ],
    output_dir: Annotated[
        Path | None, typer.Option(help="Where to write the results (default: beside the file).")
    ] = None,
    edition: Annotated[str | None, typer.Option(help="2012 or 2026 (default: by each day's date)")] = None,
) -> None:
    """Hourly rows -> hourly AQI and daily AQI CSV files (validity rules of GB 3095 Table 4)."""
    import csv

    from greenpark.services.environment.air import AirDataRejected, hourly_and_daily_aqi, read_hourly_csv

    try:
        series = read_hourly_csv(file.name, file.read_bytes())
    except AirDataRejected as exc:
        _rejected(file, exc.errors)
    typer.echo(f"{file}: {len(series.days)} days …")
    hourly, daily = hourly_and_daily_aqi(series, edition)
    out_dir = output_dir or file.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    for rows, suffix in ((hourly, "hourly-aqi"), (daily, "daily-aqi")):
        target = out_dir / f"{file.stem}.{suffix}.csv"
        cols = list(dict.fromkeys(k for r in rows for k in r))
        with target.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        typer.echo(f"  wrote {target} ({len(rows)} rows)")


@app.command("water-class")
def water_class_cmd(
    values: Annotated[
        list[str] | None, typer.Argument(help="item=value pairs, e.g. do=6.1 cod=18 (mg/L)")
    ] = None,
    codmn: Annotated[float | None, typer.Option(help="高锰酸盐指数 [mg/L]")] = None,
    nh3n: Annotated[float | None, typer.Option(help="氨氮 [mg/L]")] = None,
    tp: Annotated[float | None, typer.Option(help="总磷 [mg/L]")] = None,
    water_body: Annotated[
        str, typer.Option(help="river or lake (lakes and reservoirs use the lake TP limits)")
    ] = "river",
    target: Annotated[str | None, typer.Option(help="Target class (I-V) for exceedance multiples")] = None,
    section: Annotated[
        str | None, typer.Option(help="A section's stored samples (with --date) instead of values.")
    ] = None,
    on: Annotated[str | None, typer.Option("--date", help="Sampling date of --section (YYYY-MM-DD).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Surface-water class per GB 3838-2002 (worst evaluated item decides)."""
    from greenpark.services.environment.air import water_class

    if section:
        from datetime import date

        from greenpark.services.environment import monitoring
        from greenpark.store.db import session_scope

        if not on:
            _fail("--section needs --date")
            return
        with session_scope(_url()) as s:
            try:
                res = monitoring.section_class_on(s, section, date.fromisoformat(on))
            except ValueError as exc:
                _fail(str(exc))
                return
        if json_out:
            _dump(res)
        else:
            typer.echo(
                f"{res['section']} {res['date']}: {res['class']} 类 (target {res.get('target')}: {'met' if res.get('meets_target') else 'missed'})"
            )
        return

    items: dict[str, float] = {
        k: v for k, v in {"codmn": codmn, "nh3n": nh3n, "tp": tp}.items() if v is not None
    }
    for pair in values or []:
        k, _, v = pair.partition("=")
        try:
            items[k.strip()] = float(v)
        except ValueError:
            _fail(f"{pair!r}: give item=value, e.g. do=6.1")
    if not items:
        _fail("give at least one item (e.g. --codmn 5.8 or do=6.1)")
    try:
        out = water_class(items, water_body, target)
    except ValueError as exc:
        _fail(str(exc))
    if json_out:
        _dump(out)
        return
    typer.echo(f"{out['class']} 类 ({water_body}, GB 3838-2002); worst: {', '.join(out['worst'])}")
    for k, c in out["items"].items():
        typer.echo(f"  {k:<8} {items[k]:>10g}  {c}")
    if target:
        typer.echo(
            f"  target {target}: {'met' if out['meets_target'] else 'missed'} "
            + ", ".join(f"{k} +{m:.2f}x" for k, m in out["exceedance"].items())
        )


@app.command("noise")
def noise_cmd(
    zone_class: Annotated[
        str | None, typer.Option("--zone-class", help="0, 1, 2, 3, 4a or 4b (GB 3096-2008)")
    ] = None,
    leq: Annotated[float | None, typer.Option(help="Equivalent level L_Aeq [dB(A)]")] = None,
    period: Annotated[str, typer.Option(help="day (06-22) or night (22-06)")] = "day",
    point: Annotated[
        str | None, typer.Option(help="A noise point's stored levels (with --date) instead.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Measurement date of --point (YYYY-MM-DD).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Noise compliance of an equivalent level per GB 3096-2008."""
    from greenpark.services.environment.air import noise_check

    if point:
        from datetime import date

        from greenpark.services.environment import monitoring
        from greenpark.store.db import session_scope

        with session_scope(_url()) as s:
            try:
                rows = monitoring.noise_point_on(s, point, date.fromisoformat(on or ""))
            except ValueError as exc:
                _fail(str(exc))
                return
        if json_out:
            _dump(rows)
        else:
            for r in rows:
                typer.echo(
                    f"{r['point']} {r['date']} {r['period']}: {r['leq_db']} dB(A) vs {r['limit_db']} — {'达标' if r['complies'] else '超标'}"
                )
        return
    if zone_class is None or leq is None:
        _fail("give --zone-class and --leq, or --point and --date")
        return

    try:
        out = noise_check(zone_class, leq, period)
    except ValueError as exc:
        _fail(str(exc))
    if json_out:
        _dump(out)
        return
    verdict = "达标 complies" if out["complies"] else f"超标 exceeds by {out['exceedance_db']:.1f} dB"
    typer.echo(f"{zone_class} 类 {period}: {leq} dB(A) vs limit {out['limit_db']} dB(A) — {verdict}")


@app.command("air-annual")
def air_annual(
    year: Annotated[int, typer.Option(help="Year to evaluate (Beijing time).")],
    station: Annotated[str | None, typer.Option(help="Station code or name (stored hourly data).")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Hourly CSV (time,so2,no2,co,o3,pm10,pm25) instead of a station.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Annual air evaluation per HJ 663-2013: statistics, GB 3095 grade II compliance, composite index, good days."""
    from greenpark.services.environment import monitoring
    from greenpark.services.environment.air import AirDataRejected, annual_evaluation, read_hourly_csv
    from greenpark.store.db import session_scope

    if file is not None:
        try:
            series = read_hourly_csv(file.name, file.read_bytes())
        except AirDataRejected as exc:
            _fail("rejected: " + str(exc), 2)
            return
        out = {"source": str(file), **annual_evaluation(series, year)}
    elif station is not None:
        with session_scope(_url()) as s:
            try:
                view = monitoring.station_year_view(s, station, year)
            except ValueError as exc:
                _fail(str(exc))
                return
        out = {"source": f"{view['station']} ({view['code']}): {view['data_source']}", **view["evaluation"]}
    else:
        _fail("give --station or --file")
        return
    if json_out:
        _dump(out)
        return
    typer.echo(f"{year} — {out['source']}\n  {out['standard']}; AQI {', '.join(out['aqi_editions'])}")
    for p, st in out["statistics"].items():
        value = st.get("annual_mean", st.get("daily_p95", st.get("daily_max_8h_p90")))
        typer.echo(f"  {p:<6} {value:>8.2f} {st['unit']:<6} {'达标' if st['meets_limit'] else '超标'}")
    typer.echo(
        f"  综合指数 composite index {out['composite_index']:.2f} (primary {out['composite_primary']})"
    )
    typer.echo(f"  优良天数 good days {out['good_days']} of {out['days_with_aqi']} ({out['good_ratio']:.1%})")


@app.command("import-air")
def import_air(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="Hourly CSV: time,so2,no2,co,o3,pm10,pm25 (Beijing time)"
        ),
    ],
    station: Annotated[str, typer.Option(help="Station code or name.")],
    json_out: JsonOpt = False,
) -> None:
    """Import hourly air data into a station; a bad cell rejects the file; re-import changes nothing."""
    from greenpark.services.environment import monitoring
    from greenpark.services.environment.air import AirDataRejected
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            out = monitoring.import_air_csv(s, station, file.name, file.read_bytes())
    except AirDataRejected as exc:
        _rejected(file, exc.errors)
    except ValueError as exc:
        _fail(str(exc))
        return
    _dump(out) if json_out else typer.echo(
        f"{file}: {out['days']} days into {out['station']}; {out['hours_changed']} hours changed"
    )


@app.command("import-water")
def import_water(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: section,date,item,value (mg/L)")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Import water samples; a bad cell rejects the file."""
    from greenpark.services.environment import monitoring
    from greenpark.services.environment.air import AirDataRejected
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            out = monitoring.import_water_csv(s, file.name, file.read_bytes())
    except AirDataRejected as exc:
        _rejected(file, exc.errors)
    _dump(out) if json_out else typer.echo(f"{file}: {out['rows']} samples, {out['changed']} changed")


@app.command("import-noise")
def import_noise(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: point,date,period,leq_db")],
    json_out: JsonOpt = False,
) -> None:
    """Import noise measurements (day/night equivalent levels); a bad cell rejects the file."""
    from greenpark.services.environment import monitoring
    from greenpark.services.environment.air import AirDataRejected
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            out = monitoring.import_noise_csv(s, file.name, file.read_bytes())
    except AirDataRejected as exc:
        _rejected(file, exc.errors)
    _dump(out) if json_out else typer.echo(f"{file}: {out['rows']} measurements, {out['changed']} changed")


# Pollution-source monitoring commands live in their own module; importing it registers them.
from greenpark.cli import energy as _energy  # noqa: E402,F401
from greenpark.cli import history as _history  # noqa: E402,F401
from greenpark.cli import mrv as _mrv  # noqa: E402,F401
from greenpark.cli import overview as _overview  # noqa: E402,F401
from greenpark.cli import park as _park  # noqa: E402
from greenpark.cli import roadmap as _roadmap  # noqa: E402,F401
from greenpark.cli import sources as _sources  # noqa: E402,F401

# Last, after every module above registered its commands: ``--park`` on each park command.
PARK_COMMANDS = _park.add_park_option(app)

if __name__ == "__main__":  # pragma: no cover
    from greenpark.cli.main import main as _main  # the module the commands are registered on

    _main()

"""CLI of the energy platform (issue 14): ``greenpark energy meters|meter-add|gateway-add|readings|
rollup|listen``. Thin: every command calls ``services/energy`` and prints (``--json`` for machines)."""

from __future__ import annotations

import json
import math
import os
import time
from datetime import date, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.cli.main import JsonOpt, _dump, _fail, _url, app
from greenpark.services.energy import meters, rollup
from greenpark.services.energy.mqtt import MqttSubscriber, readings_topic
from greenpark.services.park.parks import get_park
from greenpark.store import models as m
from greenpark.store.db import session_scope

energy_app = typer.Typer(
    help="The energy platform: meters, gateways, readings, roll-ups.", no_args_is_help=True
)
app.add_typer(energy_app, name="energy")

Enterprise = Annotated[str, typer.Option("--enterprise", help="the enterprise's code")]


def _enterprise(s: Session, code: str) -> m.Enterprise:
    park = get_park(s)
    e = s.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code == code)
    ).first()
    if e is None:
        _fail(f"no enterprise {code} in park {park.code}", 2)
    return e


def _meter(s: Session, code: str) -> m.EnergyMeter:
    park = get_park(s)
    meter = s.scalars(
        select(m.EnergyMeter).where(m.EnergyMeter.park_id == park.id, m.EnergyMeter.code == code)
    ).first()
    if meter is None:
        _fail(f"no meter {code} in park {park.code}", 2)
    return meter


@energy_app.command("meters")
def meters_cmd(
    enterprise: Annotated[str | None, typer.Option("--enterprise")] = None, json_out: JsonOpt = False
) -> None:
    """List the park's meters (or one enterprise's)."""
    with session_scope(_url()) as s:
        park = get_park(s)
        only = frozenset({_enterprise(s, enterprise).id}) if enterprise else None
        rows = meters.meter_rows(s, park.id, only)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['enterprise']:8} {r['code']:20} {r['kind']:9} {r['carrier']:14} {r['unit']:8} {r['name']}"
        )


@energy_app.command("meter-add")
def meter_add(
    enterprise: Enterprise,
    code: Annotated[str, typer.Option("--code")],
    name: Annotated[str, typer.Option("--name")],
    carrier: Annotated[str, typer.Option("--carrier", help="carrier code, e.g. electricity")],
    unit: Annotated[str, typer.Option("--unit", help="the unit of the meter's energy, e.g. kWh")],
    kind: Annotated[str, typer.Option("--kind", help="counter | interval | manual | virtual")] = "counter",
    multiplier: Annotated[float, typer.Option("--multiplier", help="CT × PT ratio")] = 1.0,
    rollover: Annotated[float | None, typer.Option("--rollover")] = None,
    max_rate: Annotated[float | None, typer.Option("--max-rate", help="rated maximum per hour")] = None,
    interval: Annotated[int, typer.Option("--interval", help="seconds between readings")] = 900,
    level: Annotated[str, typer.Option("--level", help="plant | process | equipment | usage")] = "plant",
    parent: Annotated[str | None, typer.Option("--parent")] = None,
    formula: Annotated[str, typer.Option("--formula", help="virtual meters: e.g. 'M1 - M2'")] = "",
    gateway: Annotated[str | None, typer.Option("--gateway")] = None,
    purpose: Annotated[str, typer.Option("--purpose", help="energy | feedstock | renewable")] = "energy",
    accuracy: Annotated[str, typer.Option("--accuracy-class")] = "",
    calibrated: Annotated[str | None, typer.Option("--calibrated-on", help="YYYY-MM-DD")] = None,
    due: Annotated[str | None, typer.Option("--calibration-due", help="YYYY-MM-DD")] = None,
    register: Annotated[
        str | None,
        typer.Option(
            "--register", help='Modbus: \'{"unit": 1, "function": 3, "address": 0, "type": "float32"}\''
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a meter to an enterprise."""
    try:
        reg = json.loads(register) if register else None
        if reg is not None and not isinstance(reg, dict):
            raise ValueError("--register: a JSON object")
        f = meters.MeterFields(
            code=code, name=name, carrier=carrier, unit=unit, kind=kind, multiplier=multiplier, rollover=rollover,
            max_rate_per_h=max_rate, reading_interval_s=interval, level=level, parent=parent, formula=formula,
            gateway=gateway, purpose=purpose, accuracy_class=accuracy,
            calibrated_on=date.fromisoformat(calibrated) if calibrated else None,
            calibration_due=date.fromisoformat(due) if due else None, register=reg,
        )  # fmt: skip
        with session_scope(_url()) as s:
            meter = meters.add_meter(s, _enterprise(s, enterprise), f)
            out = {"meter": meter.code, "enterprise": enterprise}
    except ValueError as exc:
        _fail(str(exc), 2)
    _dump(out) if json_out else typer.echo(f"meter {code} added to {enterprise}")


@energy_app.command("gateway-add")
def gateway_add(
    enterprise: Enterprise,
    code: Annotated[str, typer.Option("--code")],
    name: Annotated[str, typer.Option("--name")],
    modbus: Annotated[
        str | None, typer.Option("--modbus", help="HOST:PORT of a Modbus TCP gateway greenpark polls")
    ] = None,
    poll: Annotated[int, typer.Option("--poll", help="seconds between polls (Modbus)")] = 60,
    json_out: JsonOpt = False,
) -> None:
    """Add a gateway (data logger) and print its token once (only its hash is kept); with --modbus,
    a Modbus TCP gateway greenpark polls."""
    try:
        where = None
        if modbus:
            host, _, port = modbus.rpartition(":")
            where = (host, int(port))
        with session_scope(_url()) as s:
            gw, token = meters.add_gateway(
                s, _enterprise(s, enterprise), code, name, modbus=where, poll_interval_s=poll
            )
            park = get_park(s)
            out = {"gateway": gw.code, "token": token, "mqtt_topic": readings_topic(park.code, gw.code),
                   "http": "POST /api/energy/readings with Authorization: Bearer <token>"}  # fmt: skip
    except ValueError as exc:
        _fail(str(exc), 2)
    if json_out:
        _dump(out)
    else:
        typer.echo(
            f"gateway {code}: token {token} (shown once)\n  MQTT topic {out['mqtt_topic']}\n  {out['http']}"
        )


def _beijing(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        return datetime.fromisoformat(text) - rollup.BEIJING
    except ValueError:
        _fail(f"{text!r} is not a date or time (YYYY-MM-DD[ HH:MM], Beijing time)", 2)


@energy_app.command("readings")
def readings_cmd(
    meter: Annotated[str, typer.Option("--meter")],
    start: Annotated[str | None, typer.Option("--from", help="Beijing time, default a day ago")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Beijing time, default now")] = None,
    json_out: JsonOpt = False,
) -> None:
    """A meter's raw readings as received (time in Beijing time)."""
    now = m.utcnow()
    end_utc = _beijing(end, now)
    start_utc = _beijing(start, end_utc - timedelta(days=1))
    with session_scope(_url()) as s:
        mt = _meter(s, meter)
        rows = [
            {"t": (a + rollup.BEIJING).isoformat(sep=" "), "v": v, "source": src}
            for a, v, src in s.execute(
                select(m.MeterReading.at_utc, m.MeterReading.value, m.MeterReading.source)
                .where(
                    m.MeterReading.meter_id == mt.id,
                    m.MeterReading.at_utc >= start_utc,
                    m.MeterReading.at_utc < end_utc,
                )
                .order_by(m.MeterReading.at_utc)
            )
        ]
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(f"{r['t']}  {r['v']}  {r['source']}")


@energy_app.command("rollup")
def rollup_cmd(
    meter: Annotated[str, typer.Option("--meter")],
    step: Annotated[str, typer.Option("--step", help="15min | hour | day | month")] = "hour",
    start: Annotated[str | None, typer.Option("--from", help="Beijing time, default two days ago")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Beijing time, default now")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Clean a meter's readings and print its energy per period with coverage and flags."""
    now = m.utcnow()
    end_utc = _beijing(end, now)
    start_utc = _beijing(start, end_utc - timedelta(days=2))
    if not start_utc < end_utc:
        _fail("--from must be before --to", 2)
    try:
        with session_scope(_url()) as s:
            mt = _meter(s, meter)
            cleaned = rollup.clean_meter(s, mt, start_utc, end_utc)
            rows = rollup.series(s, mt, start_utc, end_utc, step)
    except ValueError as exc:
        _fail(str(exc), 2)
    if json_out:
        _dump({"meter": meter, "step": step, "pending_from": cleaned.pending_from, "series": rows})
        return
    for r in rows:
        cov = "—" if r["coverage_pct"] is None else f"{r['coverage_pct']}%"
        typer.echo(f"{r['start']}  {r['energy']:>14.3f} {r['unit']:6} {cov:>7}  {' '.join(r['flags'])}")


@energy_app.command("listen")
def listen(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 1883,
    seconds: Annotated[
        float, typer.Option("--seconds", help="stop after this long (0: run until stopped)")
    ] = 0,
    client_id: Annotated[
        str, typer.Option("--client-id", help="MQTT client id (default: the park and a hash of the database)")
    ] = "",
) -> None:
    """Subscribe to the park's gateway topics on an MQTT broker and store the readings."""
    with session_scope(_url()) as s:
        park_code = get_park(s).code
    sub = MqttSubscriber(_url(), park_code, host, port, client_id=client_id[:64])
    try:
        sub.start()
    except OSError as exc:
        _fail(f"cannot subscribe on {host}:{port}: {exc}", 1)
    typer.echo(f"listening on {host}:{port} {readings_topic(park_code, '+')}")
    t0 = time.monotonic()
    try:
        while not seconds or time.monotonic() - t0 < seconds:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        sub.stop()
    typer.echo(f"stored {sub.counts['stored']}, repeated {sub.counts['repeated']}, refused {sub.counts['refused']}, "
               f"rejected messages {sub.counts['rejected']}")  # fmt: skip


@energy_app.command("simulate")
def simulate_cmd(
    meters_n: Annotated[
        int, typer.Option("--meters", min=1, max=100_000, help="how many simulated meters")
    ] = 10,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, max=1_000_000, help="readings per second in all")
    ] = 100.0,
    duration: Annotated[float, typer.Option("--duration", min=0.1, max=86_400, help="seconds to run")] = 10.0,
    faults: Annotated[bool, typer.Option("--faults", help="glitches, resets, spikes and outages")] = False,
    enterprise: Annotated[
        str | None, typer.Option("--enterprise", help="whose meters (default: the first)")
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 1883,
    json_out: JsonOpt = False,
) -> None:
    """Publish realistic load profiles of simulated meters over MQTT (shifts, weekends, seasons;
    with --faults the field's faults). The meters SIM-00001… and the gateway GW-SIM are made for
    the enterprise when missing (marked synthetic). Their simulated clock ends now: each round of
    readings is one reading interval (5 minutes) of simulated time, sent at --rate."""
    import paho.mqtt.client as mq
    from paho.mqtt.enums import CallbackAPIVersion

    from greenpark.ingest.meter_sim import SimMeter, payloads, readings

    interval = 300
    with session_scope(_url()) as s:
        park = get_park(s)
        ent = (
            _enterprise(s, enterprise)
            if enterprise
            else s.scalars(
                select(m.Enterprise).where(m.Enterprise.park_id == park.id).order_by(m.Enterprise.code)
            ).first()
        )
        if ent is None:
            _fail("the park has no enterprise", 2)
        if (
            s.scalars(
                select(m.EnergyGateway).where(
                    m.EnergyGateway.park_id == park.id, m.EnergyGateway.code == "GW-SIM"
                )
            ).first()
            is None
        ):
            meters.add_gateway(s, ent, "GW-SIM", "模拟网关（synthetic）")
        have = set(
            s.scalars(
                select(m.EnergyMeter.code).where(
                    m.EnergyMeter.park_id == park.id, m.EnergyMeter.code.like("SIM-%")
                )
            )
        )
        sims = []
        for i in range(1, meters_n + 1):
            code = f"SIM-{i:05d}"
            if code not in have:
                meters.add_meter(s, ent, meters.MeterFields(code=code, name=f"模拟计量器具 {i}", carrier="electricity",
                                                            unit="kWh", max_rate_per_h=2000.0, reading_interval_s=interval,
                                                            gateway="GW-SIM", synthetic=True))  # fmt: skip
            sim = SimMeter(code, 200.0 + (i * 37) % 800)
            sim.rng.seed(i)
            sims.append(sim)
        topic = readings_topic(park.code, "GW-SIM")
    rounds = max(1, math.ceil(duration * rate / meters_n))
    end = m.utcnow().replace(second=0, microsecond=0)
    start = end - timedelta(seconds=interval * rounds)
    pub = mq.Client(CallbackAPIVersion.VERSION2, client_id=f"greenpark-simulate-{os.getpid()}")
    try:
        pub.connect(host, port)
    except OSError as exc:
        _fail(f"no MQTT broker at {host}:{port}: {exc}", 1)
    pub.loop_start()
    sent = messages = 0
    t0 = time.monotonic()
    pending = []
    for _t, items in readings(sims, start, end, interval, faults):
        for body in payloads(items):
            pending.append(pub.publish(topic, body, qos=1))
            messages += 1
        sent += len(items)
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
        if time.monotonic() - t0 > duration * 1.5 + 5:
            break
    for info in pending:
        info.wait_for_publish(30)
    pub.disconnect()
    pub.loop_stop()
    took = time.monotonic() - t0
    out = {"meters": meters_n, "readings": sent, "messages": messages, "seconds": round(took, 2),
           "readings_per_s": round(sent / took, 1) if took else None, "topic": topic, "synthetic": True}  # fmt: skip
    if json_out:
        _dump(out)
    else:
        typer.echo(f"published {sent} readings of {meters_n} meters in {messages} messages on {topic} "
                   f"in {took:.1f} s ({out['readings_per_s']}/s); the broker holds them for greenpark's subscriber")  # fmt: skip


@energy_app.command("poll")
def poll_cmd(
    gateway: Annotated[
        str | None, typer.Option("--gateway", help="one Modbus gateway (default: all)")
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="how many rounds (0: until stopped)")] = 1,
    every: Annotated[
        float | None, typer.Option("--every", help="seconds between rounds (default: each gateway's)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Poll the park's Modbus TCP gateways: read each meter's registers and store the readings."""
    from greenpark.services.energy.modbus import modbus_gateways, poll_gateway

    done = 0
    results = []
    while not rounds or done < rounds:
        with session_scope(_url()) as s:
            park = get_park(s)
            gws = [g for g in modbus_gateways(s, park.id) if gateway is None or g.code == gateway]
            if not gws:
                _fail(f"no Modbus gateway{' ' + gateway if gateway else ''} in park {park.code}", 2)
            wait = every if every is not None else min(g.poll_interval_s for g in gws)
            results = [poll_gateway(s, g).as_dict() for g in gws]
        done += 1
        if not json_out:
            for r in results:
                typer.echo(f"{r['gateway']}: stored {r['stored']}, repeated {r['repeated']}, failed {len(r['failed'])}"
                           + "".join(f"\n  {f['meter']}: {f['reason']}" for f in r["failed"]))  # fmt: skip
        if not rounds or done < rounds:
            time.sleep(wait)
    if json_out:
        _dump(results)


@energy_app.command("book")
def book_cmd(
    year: Annotated[int, typer.Option("--year")],
    month: Annotated[int, typer.Option("--month", min=1, max=12)],
    enterprise: Annotated[str | None, typer.Option("--enterprise")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Book a month's cleaned meter energy into the accounts as activity records of quality
    "metered" (with lineage to the meters and their coverage); where the enterprise has records of
    another kind for that month, show the two side by side instead of adding them."""
    from greenpark.services.energy.accounts import book_month

    try:
        with session_scope(_url()) as s:
            park = get_park(s)
            eid = _enterprise(s, enterprise).id if enterprise else None
            out = book_month(s, park, year, month, by="cli", enterprise_id=eid)
    except ValueError as exc:
        _fail(str(exc), 2)
    if json_out:
        _dump(out)
        return
    for r in out:
        what = (
            ", ".join(f"{x['carrier']} {x['quantity']:.4f} {x['unit']}" for x in r["records"])
            or "nothing booked"
        )
        typer.echo(f"{r['enterprise']} {year}-{month:02d}: {what}")
        for x in r["reconciliation"]:
            typer.echo(
                f"  {x['carrier']}: metered {x['metered']:.4f}, recorded {x['recorded']}, difference {x['difference']} {x['unit']}"
            )
        for p in r["problems"]:
            typer.echo(f"  {p['meter']}: {p['reason']}")


@energy_app.command("gateway-token")
def gateway_token(gateway: Annotated[str, typer.Option("--gateway")], json_out: JsonOpt = False) -> None:
    """Give a gateway a new token (shown once); the old one is refused from now on."""
    try:
        with session_scope(_url()) as s:
            token = meters.rotate_token(s, get_park(s).id, gateway)
    except ValueError as exc:
        _fail(str(exc), 2)
    _dump({"gateway": gateway, "token": token}) if json_out else typer.echo(
        f"gateway {gateway}: new token {token} (shown once)"
    )


@energy_app.command("gateway-active")
def gateway_active(
    gateway: Annotated[str, typer.Option("--gateway")],
    off: Annotated[bool, typer.Option("--off/--on", help="switch the gateway off (refused) or on")] = True,
) -> None:
    """Switch a gateway off (its token and MQTT topic are refused) or on again."""
    try:
        with session_scope(_url()) as s:
            meters.set_gateway_active(s, get_park(s).id, gateway, not off)
    except ValueError as exc:
        _fail(str(exc), 2)
    typer.echo(f"gateway {gateway} {'off' if off else 'on'}")

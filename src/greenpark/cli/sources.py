"""``greenpark hj212 …``, ``greenpark alarms …``, ``greenpark sources …`` and ``greenpark trace``:
pollution-source monitoring from the command line (thin over the codec and the services)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _rejected, _url, app

hj212_app = typer.Typer(no_args_is_help=True, help="HJ 212: decode, encode, ingestion server, simulator.")
alarms_app = typer.Typer(no_args_is_help=True, help="Early-warning alarms: list, acknowledge, close.")
sources_app = typer.Typer(no_args_is_help=True, help="The enterprise file (一企一档) and unknown devices.")
app.add_typer(hj212_app, name="hj212")
app.add_typer(alarms_app, name="alarms")
app.add_typer(sources_app, name="sources")


def _number(text: str) -> Any:
    try:
        x = float(text)
    except ValueError:
        return text
    return x if x == x else text


def decoded(frame: Any) -> dict[str, Any]:
    """The JSON shape of ``greenpark hj212 decode``."""
    from greenpark.hj212.protocol import COMMANDS

    groups = frame.cp.groups()
    values: dict[str, dict[str, Any]] = {}
    for g in groups:
        for code, fields in g["pollutants"].items():
            values.setdefault(code, {}).update(
                {k: (v if k in ("Flag", "EFlag", "SampleTime") else _number(v)) for k, v in fields.items()}
            )
    flag = {"value": frame.flag, "edition": frame.edition, "ack_wanted": frame.ack_wanted,
            "subpacketed": frame.subpacketed}  # fmt: skip
    other = {k: v for g in groups for k, v in g["fields"].items() if k != "DataTime"}
    return {
        "crc_ok": True,
        "edition": frame.edition,
        "qn": frame.qn,
        "st": frame.st,
        "cn": frame.cn,
        "command": COMMANDS.get(frame.cn or "", ("", ""))[1] or None,
        "pw": frame.pw,
        "mn": frame.mn,
        "flag": None if frame.flag is None else flag,
        "pnum": frame.pnum,
        "pno": frame.pno,
        "data_time": frame.cp.get("DataTime"),
        "data_times": [g["fields"].get("DataTime") for g in groups if g["fields"].get("DataTime")],
        "values": values,
        "fields": other,
        "deviations": [
            {"code": d.code, "detail": d.detail, "position": d.position} for d in frame.deviations
        ],
    }


@hj212_app.command("decode")
def hj212_decode(
    packet: Annotated[
        str, typer.Argument(help="The packet, from ## to the CRC (CR LF optional); - reads stdin.")
    ],
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Accept the field's deviations and report them.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Decode one packet. Exit code 2 with a one-line reason when it is not valid."""
    from greenpark.hj212 import HJ212Error, parse

    text = sys.stdin.read() if packet == "-" else packet
    data = text.strip("\r\n").encode("utf-8")
    if text.endswith("\\r\\n"):  # pasted with escaped CR LF
        data = text[:-4].encode("utf-8")
    try:
        frame = parse(data + b"\r\n", strict=not lenient)
    except HJ212Error as exc:
        where = f" (byte {exc.position})" if exc.position is not None else ""
        typer.echo(f"invalid packet: {exc.reason}{where}", err=True)
        raise typer.Exit(2) from None
    out = decoded(frame)
    if json_out:
        _dump(out)
        return
    typer.echo(
        f"HJ 212-{out['edition'] or '?'}  CN={out['cn']} {out['command'] or ''}  MN={out['mn']}  QN={out['qn']}"
    )
    typer.echo(f"DataTime {out['data_time']}")
    for code, fields in out["values"].items():
        typer.echo(f"  {code}: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    for d in out["deviations"]:
        typer.echo(f"  deviation {d['code']}: {d['detail']}")


@hj212_app.command("encode")
def hj212_encode(
    cn: Annotated[str, typer.Option(help="Command code, e.g. 2061.")],
    mn: Annotated[str, typer.Option(help="Device MN.")],
    items: Annotated[
        list[str] | None, typer.Argument(help="CP items KEY=VALUE, e.g. DataTime=… w01018-Avg=…")
    ] = None,
    st: Annotated[str, typer.Option(help="System code (32 waste water, 31 flue gas, 91 system).")] = "32",
    pw: Annotated[str, typer.Option(help="Access password.")] = "123456",
    qn: Annotated[
        str | None, typer.Option(help="Request number YYYYMMDDhhmmsszzz (default: now, Beijing).")
    ] = None,
    flag: Annotated[int | None, typer.Option(help="Flag (5 = HJ 212-2017 with reply wanted, 9 = 2025).")] = 5,
) -> None:
    """Build a packet (prints it with its length and CRC)."""
    from greenpark.hj212 import HJ212Error, build
    from greenpark.hj212.codec import make_frame

    if qn is None:
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC) + timedelta(hours=8)
        qn = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
    cp = []
    for it in items or []:
        key, sep, value = it.partition("=")
        if not sep or not key:
            _fail(f"CP item {it!r} is not KEY=VALUE", 2)
        cp.append((key, value))
    try:
        data = build(make_frame(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp))
    except HJ212Error as exc:
        _fail(f"cannot encode: {exc.reason}", 2)
    typer.echo(data.decode("utf-8").rstrip("\r\n"))


#: ``hj212 serve`` options that set a :class:`~greenpark.ingest.server.ServerConfig` field of the
#: same name (a supervisor passes them on to its workers as they are).
SERVE_LIMITS = ("idle_timeout", "max_connections", "max_connections_per_peer", "first_frame_timeout",
                "max_unproven", "max_unproven_per_peer", "unproven_max_bytes", "unproven_max_frames",
                "summary_every")  # fmt: skip


@hj212_app.command("serve")
def hj212_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 9212,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse every deviation from the standard.")
    ] = False,
    idle_timeout: Annotated[float, typer.Option(help="Close a connection silent this long (s).")] = 900.0,
    max_connections: Annotated[int, typer.Option(help="Connections in all (per worker).")] = 10000,
    max_connections_per_peer: Annotated[
        int, typer.Option(help="Connections per address (per worker; NAT gateways share one).")
    ] = 5000,
    first_frame_timeout: Annotated[
        float,
        typer.Option(
            help="Close a connection that sent no frame of a registered device with its PW by then (s)."
        ),
    ] = 60.0,
    max_unproven: Annotated[
        int, typer.Option(help="Such unproven connections in all (per worker; the rest is for devices).")
    ] = 1024,
    max_unproven_per_peer: Annotated[
        int, typer.Option(help="Unproven connections per address (raise it for many loggers behind one NAT).")
    ] = 64,
    unproven_max_bytes: Annotated[
        int,
        typer.Option(
            help="Refused bytes (garbage, unknown or wrong-PW frames) an unproven connection may send."
        ),
    ] = 65536,
    unproven_max_frames: Annotated[
        int, typer.Option(help="Refused chunks or frames an unproven connection may send.")
    ] = 32,
    summary_every: Annotated[
        float, typer.Option(help="Write the per-address summary of refused traffic this often (s).")
    ] = 300.0,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port (one per CPU core).")] = 1,
    batch_window_ms: Annotated[
        float, typer.Option(help="Group commit: wait this long after a batch's first frame for more.")
    ] = 25.0,
    worker: Annotated[int, typer.Option(hidden=True)] = -1,
) -> None:
    """Run the HJ 212 ingestion server (until Ctrl-C or SIGTERM). A connection is unproven until it
    sends a frame of a registered device with the device's PW; unproven connections have a deadline,
    caps and a budget (docs/monitoring.md, "Admission")."""
    import logging

    from greenpark.ingest.server import ServerConfig, run
    from greenpark.store.migrate import schema_status

    current, head = schema_status(_url())
    if current != head:
        _fail(
            f"the database schema is at {current or 'nothing'}, this greenpark needs {head}: run `greenpark init`"
        )
    given = locals()
    limits = {name: given[name] for name in SERVE_LIMITS}
    cfg = ServerConfig(host=host, port=port, strict=strict, reuse_port=workers > 1, worker=max(worker, 0),
                       batch_window_s=batch_window_ms / 1000,
                       **{f"{k}_s" if k.endswith(("timeout", "every")) else k: v for k, v in limits.items()})  # fmt: skip
    try:
        cfg.check()
    except ValueError as exc:
        _fail(str(exc), 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if workers > 1 and worker < 0:
        _supervise(host, port, strict, workers, batch_window_ms, limits)
        return
    typer.echo(f"HJ 212 server on {host}:{port} ({'strict' if strict else 'lenient'}); Ctrl-C stops it")
    run(_url(), cfg, handle_signals=True)
    typer.echo("stopped (frames that had arrived were stored and acknowledged)")


def _supervise(host: str, port: int, strict: bool, workers: int, batch_window_ms: float,
               limits: dict[str, Any]) -> None:  # fmt: skip
    """Start ``workers`` server processes on one port (SO_REUSEPORT), pass SIGINT/SIGTERM on, and
    wait for them to finish storing and acknowledging."""
    import signal
    import subprocess

    cmd = [sys.executable, "-m", "greenpark.cli.main", "hj212", "serve", "--host", host, "--port", str(port),
           "--workers", str(workers), "--batch-window-ms", str(batch_window_ms)]  # fmt: skip
    for name, value in limits.items():
        cmd += ["--" + name.replace("_", "-"), str(value)]
    if strict:
        cmd.append("--strict")
    procs = [subprocess.Popen([*cmd, "--worker", str(i)]) for i in range(workers)]  # noqa: S603 - ourselves

    def forward(signum: int, _frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    typer.echo(f"{workers} workers on {host}:{port}")
    codes = [p.wait() for p in procs]
    if any(codes):
        raise typer.Exit(1)


@hj212_app.command("simulate")
def hj212_simulate(
    devices: Annotated[
        int, typer.Option(help="How many devices (registered ones first, then unknown SIM…).")
    ] = 14,
    rate: Annotated[
        float | None, typer.Option(help="Packets per second per device (load); default: real time.")
    ] = None,
    edition: Annotated[
        str | None, typer.Option(help="2005, 2017 or 2025 for all (default: as registered).")
    ] = None,
    faults: Annotated[
        bool, typer.Option("--faults", help="Exceedances, stuck sensors, outages, bad frames.")
    ] = False,
    duration: Annotated[float, typer.Option(help="Seconds to run.")] = 60.0,
    backfill_hours: Annotated[float, typer.Option(help="Hours of history to send first.")] = 0.0,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 9212,
    seed: Annotated[int, typer.Option()] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Connect simulated data loggers over TCP and send realistic packets (data marked synthetic)."""
    from greenpark.ingest.simulator import SimDevice, devices_from_store, simulate

    if edition is not None and edition not in ("2005", "2017", "2025"):
        _fail("edition must be 2005, 2017 or 2025", 2)
    devs = devices_from_store(_url(), devices, edition)
    devs += [SimDevice.synthetic(i, edition or "2017") for i in range(len(devs), devices)]
    stats = asyncio.run(
        simulate(host, port, devs, duration_s=duration, rate=rate, backfill_hours=backfill_hours, faults=faults,
                 seed=seed, progress=None if json_out else lambda s: typer.echo(f"  sent {s.sent}, acked {s.acked}"))
    )  # fmt: skip
    lat = sorted(stats.latencies_ms)
    out = {
        "devices": len(devs), "sent": stats.sent, "acked": stats.acked, "resent": stats.resent,
        "unacked": stats.unacked, "malformed_sent": stats.malformed_sent, "outages": stats.outages,
        "commands_answered": stats.commands_answered,
        "reply_latency_ms_p50": lat[len(lat) // 2] if lat else None,
        "reply_latency_ms_p99": lat[int(len(lat) * 0.99)] if lat else None,
    }  # fmt: skip
    if json_out:
        _dump(out)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in out.items()))


@hj212_app.command("time-sync")
def hj212_time_sync(
    mn: Annotated[str, typer.Argument(help="Device MN.")],
    by: Annotated[str, typer.Option(help="Who asks.")] = "cli",
) -> None:
    """Queue a 1012 time setting for a device (sent by the server when the device is connected)."""
    from greenpark.services.pollution.devices import request_command
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            cmd = request_command(s, mn, "1012", by)
        except LookupError as exc:
            _fail(str(exc), 2)
        typer.echo(f"queued 1012 for {mn} (QN {cmd.qn})")


# ----------------------------------------------------------------------------- alarms


@alarms_app.command("list")
def alarms_list(
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged, closed or active (not closed).")
    ] = "active",
    rule: Annotated[str | None, typer.Option(help="Rule, e.g. exceedance.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Alarms, newest first."""
    from greenpark.services.pollution.alarms import list_alarms
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = list_alarms(s, status=None if status == "all" else status, rule=rule)
    if json_out:
        _dump(rows)
        return
    for a in rows:
        typer.echo(f"#{a['id']:<5} {a['status']:<12} {a['severity']:<8} {a['rule']:<22} {a['enterprise']} "
                   f"{a['outlet']} {a['code']} — {a['message']}")  # fmt: skip
    typer.echo(f"{len(rows)} alarm(s)")


@alarms_app.command("ack")
def alarms_ack(
    alarm_id: Annotated[int, typer.Argument()],
    by: Annotated[str, typer.Option(help="Who acknowledges.")],
    note: Annotated[str, typer.Option(help="Note.")] = "",
) -> None:
    """Acknowledge an open alarm."""
    from greenpark.services.pollution.alarms import AlarmError, acknowledge
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            acknowledge(s, alarm_id, by, note)
        except AlarmError as exc:
            _fail(str(exc), 2)
    typer.echo(f"alarm {alarm_id} acknowledged by {by}")


@alarms_app.command("close")
def alarms_close(
    alarm_id: Annotated[int, typer.Argument()],
    by: Annotated[str, typer.Option(help="Who closes.")],
    note: Annotated[str, typer.Option(help="What was found and done (required).")],
) -> None:
    """Close an alarm (with a note)."""
    from greenpark.services.pollution.alarms import AlarmError, close
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            close(s, alarm_id, by, note)
        except AlarmError as exc:
            _fail(str(exc), 2)
    typer.echo(f"alarm {alarm_id} closed by {by}")


@alarms_app.command("deliver")
def alarms_deliver(
    timeout: Annotated[float, typer.Option(help="Connect and read timeout of each attempt (s).")] = 5.0,
    json_out: JsonOpt = False,
) -> None:
    """Send the alarm webhooks that are due, once (the HJ 212 server does this by itself); each
    attempt is recorded in its alarm's log, a failed one is retried later."""
    from greenpark.services.notifications.webhooks import deliver_due
    from greenpark.store.db import engine_for

    counts = deliver_due(engine_for(_url()), timeout_s=timeout)
    if json_out:
        _dump(counts)
        return
    typer.echo("webhooks: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@alarms_app.command("evaluate")
def alarms_evaluate() -> None:
    """Recompute the roll-ups of the last two days and run every rule now (the server does this
    every few seconds by itself)."""
    from greenpark.services.pollution import alarms, ingest
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        n = ingest.rollup(s, ingest.recent_hours(s, hours=48))
        counts = alarms.evaluate(s)
    typer.echo(f"{n} roll-ups; alarms " + ", ".join(f"{k} {v}" for k, v in counts.items()))


# ----------------------------------------------------------------------------- enterprise file


@sources_app.command("import")
def sources_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import an enterprise-file workbook (sheets rivers, sections, outlets, points, channels,
    permits, contacts — or 河流, 断面, 排口, 监测点, 监测因子, 许可证, 联系人); all or nothing."""
    from greenpark.services.pollution.sources import SourceFileRejected, import_sources
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            counts = import_sources(s, file.name, file.read_bytes())
    except SourceFileRejected as exc:
        _rejected(file, exc.errors)
    typer.echo("imported: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))


@sources_app.command("export")
def sources_export(file: Annotated[Path, typer.Argument(dir_okay=False)]) -> None:
    """Write the enterprise file as an xlsx in the import format (a template when empty)."""
    from greenpark.services.pollution.sources import source_workbook
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        file.write_bytes(source_workbook(s))
    typer.echo(f"wrote {file}")


@sources_app.command("show")
def sources_show(
    enterprise: Annotated[str, typer.Argument(help="Enterprise code or name.")], json_out: JsonOpt = False
) -> None:
    """One enterprise's file: outlets, points, channels with limits, permits, contacts."""
    from greenpark.services.pollution.sources import enterprise_file, find_enterprise
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            out = enterprise_file(s, find_enterprise(s, enterprise).id)
        except LookupError as exc:
            _fail(str(exc), 2)
    if json_out:
        _dump(out)
        return
    typer.echo(f"{out['code']} {out['name']}")
    for o in out["outlets"]:
        typer.echo(f"  {o['code']} {o['name']} ({o['medium']}) → {o['receiving_water'] or '-'}")
        for p in o["points"]:
            typer.echo(f"    MN {p['mn']} HJ 212-{p['edition']} {p['maker']}")
            for c in p["channels"]:
                lim = (
                    f"≤ {c['limit_value']:g} {c['unit']} ({c['limit_standard']})" if c["limit_value"] else ""
                )
                typer.echo(f"      {c['code']} {c['name']} {lim}")
    for pm in out["permits"]:
        typer.echo(f"  permit {pm['number']} {pm['management']} {pm['valid_from']} – {pm['valid_to']}")


@sources_app.command("unknown")
def sources_unknown(json_out: JsonOpt = False) -> None:
    """Devices that connected with an unregistered MN (waiting for adoption). A registered MN with a
    wrong PW is not one: that is a ``wrong_password`` alarm."""
    from greenpark.services.pollution.devices import unknown_devices
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = unknown_devices(s)
    if json_out:
        _dump(rows)
        return
    for u in rows:
        typer.echo(
            f"{u['mn']:<24} {u['reason']:<11} {u['status']:<8} frames {u['frames']:<6} last {u['last_seen_utc']}"
        )


@sources_app.command("adopt")
def sources_adopt(
    mn: Annotated[str, typer.Argument()],
    outlet: Annotated[int, typer.Option(help="Outlet id to register the device under.")],
    by: Annotated[str, typer.Option(help="Who adopts.")] = "cli",
) -> None:
    """Register an unknown device and store the data it already sent (never a registered MN)."""
    from greenpark.services.pollution.devices import adopt
    from greenpark.services.pollution.sources import DeviceConflict
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            ok, refused = adopt(s, mn, outlet, by)
        except (LookupError, DeviceConflict) as exc:
            _fail(str(exc), 2)
    typer.echo(f"{mn} adopted: {ok} recorded frame(s) stored, {refused} refused")


@sources_app.command("rekey")
def sources_rekey(
    mn: Annotated[str, typer.Option(help="The device's MN.")],
    confirm: Annotated[str, typer.Option(help="The same MN again, to confirm.")],
    pw: Annotated[
        str, typer.Option(prompt="New PW", hide_input=True, help="The new PW (asked for when left out).")
    ],
    by: Annotated[str, typer.Option(help="Who changes it (kept in the audit trail).")] = "cli",
) -> None:
    """Give a registered device a new access password (the PW its logger now sends). Resets its
    wrong-PW count; the change is audited, the PW itself is written nowhere but the device's row."""
    from sqlalchemy import select

    from greenpark.services.pollution.devices import rekey_device
    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        point_id = s.scalar(select(m.SourcePoint.id).where(m.SourcePoint.mn == mn))
        try:
            if point_id is None:
                raise LookupError(f"no registered device with MN {mn}")
            rekey_device(s, point_id, pw, confirm_mn=confirm, by=by)
        except (LookupError, ValueError) as exc:
            _fail(f"not changed: {exc}", 2)
    typer.echo(f"{mn}: PW changed by {by}; wrong-PW count reset")


@app.command("trace")
def trace_cmd(
    section: Annotated[str, typer.Argument(help="Water section code or name.")],
    on: Annotated[str | None, typer.Option("--date", help="Sample day (default: the latest).")] = None,
    window: Annotated[int, typer.Option(help="Hours before the end of that day.")] = 24,
    json_out: JsonOpt = False,
) -> None:
    """Rank the outlets upstream of a section by their load before its water got worse."""
    from greenpark.services.environment.monitoring import MonitoringError
    from greenpark.services.pollution.tracing import TracingError, trace
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            out = trace(s, section, date.fromisoformat(on) if on else None, window)
        except (TracingError, MonitoringError, ValueError) as exc:
            _fail(str(exc), 2)
    if json_out:
        _dump(out)
        return
    ch = out["change"]
    typer.echo(f"{out['section']} ({out['river']} km {out['km']:g}) {ch['date']}: class {ch['class']}"
               f" (before {ch['previous_class']}), over target {ch['target']}: {', '.join(ch['items_over_target']) or '-'}")  # fmt: skip
    for r in out["ranking"]:
        load = r["loads"][out["ranked_by"]]
        typer.echo(f"  {r['rank']}. {r['enterprise']} {r['outlet']} {r['distance_km']} km upstream: "
                   f"{load['kg']} kg {out['ranked_by']} ({r['share']:.0%}) over {load['hours']} h")  # fmt: skip


# ----------------------------------------------------------------------------- indicators (issue 5)


@app.command("indicators")
def indicators_cmd(
    year: Annotated[int, typer.Option(help="Year to evaluate.")] = 2020,
    json_out: JsonOpt = False,
) -> None:
    """Every indicator of the plan for a year: value, target, status (met / at_risk / missed / no_data)."""
    from greenpark.services.plan.indicators import evaluate
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = evaluate(s, year)
    if json_out:
        keys = ("code", "name", "unit", "kind", "value", "target", "status")
        _dump(
            [{k: r[k] for k in keys} | {"target_text": r["target_text"], "source": r["source"]} for r in rows]
        )
        return
    for r in rows:
        v = "—" if r["value"] is None else f"{r['value']:.4g}"
        typer.echo(
            f"{r['code']:<4} {r['status']:<8} {v:>10} {r['target_text'] or '—':>8} {r['unit']}  {r['name']}"
        )


@app.command("reachability")
def reachability_cmd(
    indicator: Annotated[str | None, typer.Option(help="One indicator code, e.g. 1a.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the text: zh or en.")] = "zh",
    json_out: JsonOpt = False,
) -> None:
    """Reachability of the 2025 targets: required and observed rates, probability, verdict, text."""
    from greenpark.services.plan.indicators import IndicatorError, reachability, reachability_text
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            rows = reachability(s, indicator)
        except IndicatorError as exc:
            _fail(str(exc), 2)
    if indicator and not rows:
        _fail(f"unknown indicator {indicator!r}", 2)
    for r in rows:
        r["text"] = reachability_text(r, lang)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(r["text"])


@app.command("indicator-values")
def indicator_values_cmd(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv: code, year, value, source, note"),
    ],
    by: Annotated[str, typer.Option(help="Who reports the figures.")] = "",
) -> None:
    """Import reported indicator values (departments' figures); all or nothing."""
    from greenpark.services.carbon.io import ImportRejected
    from greenpark.services.plan.indicators import import_values
    from greenpark.store.db import session_scope

    try:
        with session_scope(_url()) as s:
            n = import_values(s, file.name, file.read_bytes(), by=by)
    except ImportRejected as exc:
        _rejected(file, exc.errors)
    typer.echo(f"imported {n} value(s)")


projects_app = typer.Typer(
    no_args_is_help=True, help="The plan's projects (Table 4.3.2): list, update, link effects."
)
app.add_typer(projects_app, name="projects")


@projects_app.command("list")
def projects_list(json_out: JsonOpt = False) -> None:
    """Projects with status, progress against the planned schedule, and overdue/behind/stalled."""
    from greenpark.services.plan.projects import list_projects
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = list_projects(s)
    if json_out:
        _dump(rows)
        return
    for p in rows:
        plan = "—" if p["planned_percent"] is None else f"{p['planned_percent']:.0f}%"
        cond = ",".join(p["condition"]) or "ok"
        flag = f" [{p['flag']}]" if p["flag"] else ""
        typer.echo(
            f"{p['seq']:>2} {p['status']:<12} {p['percent']:>5.0f}% (plan {plan:>4}) {cond:<22} {p['name'][:40]}{flag}"
        )


@projects_app.command("update")
def projects_update(
    seq: Annotated[int, typer.Argument(help="Project number (Table 4.3.2).")],
    status: Annotated[str, typer.Option(help="not_started, in_progress, done or suspended.")],
    percent: Annotated[float, typer.Option(help="Percent complete, 0-100.")],
    by: Annotated[str, typer.Option(help="Who reports.")],
    spent: Annotated[float, typer.Option(help="Investment spent so far [10^4 yuan].")] = 0.0,
    on: Annotated[str | None, typer.Option("--date", help="Date of the report (default today).")] = None,
    milestone: Annotated[str, typer.Option(help="Milestone reached.")] = "",
    note: Annotated[str, typer.Option(help="Note.")] = "",
    attach: Annotated[
        Path | None, typer.Option(help="A file to attach (≤ 10 MB).", exists=True, dir_okay=False)
    ] = None,
) -> None:
    """Record a progress report of a project (kept with who and when)."""
    from greenpark.services.plan.projects import ProjectError, update
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            update(s, seq, date.fromisoformat(on) if on else date.today(), status, percent, spent, milestone, note,
                   by, (attach.name, attach.read_bytes()) if attach else None)  # fmt: skip
        except (ProjectError, ValueError) as exc:
            _fail(f"not recorded: {exc}", 2)
    typer.echo(f"project {seq}: {status} {percent:g}% recorded")


@projects_app.command("link")
def projects_link(
    seq: Annotated[int, typer.Argument()],
    indicator: Annotated[str, typer.Option(help="Indicator code, e.g. 2.")],
    effect: Annotated[float, typer.Option(help="Expected effect (a number).")],
    unit: Annotated[str, typer.Option(help="Its unit, e.g. 't CO2/yr'.")],
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Link a project to an indicator with its expected effect."""
    from greenpark.services.plan.indicators import IndicatorError
    from greenpark.services.plan.projects import ProjectError, link_effect
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        try:
            link_effect(s, seq, indicator, effect, unit, note)
        except (ProjectError, IndicatorError) as exc:
            _fail(str(exc), 2)
    typer.echo(f"project {seq} → indicator {indicator}: {effect:g} {unit}")


land_app = typer.Typer(no_args_is_help=True, help="Land-use intensity (亩均) and the idle-land register.")
app.add_typer(land_app, name="land")


@land_app.command("rank")
def land_rank(
    year: Annotated[int, typer.Option(help="Year.")] = 2020,
    zone: Annotated[str | None, typer.Option(help="Only this zone (code).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Enterprises by tax per mu with investment, output and energy per mu and their A-D class."""
    from greenpark.services.plan.landuse import evaluation
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        rows = evaluation(s, year, zone)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        inv = "—" if r["investment_per_mu"] is None else f"{r['investment_per_mu']:.0f}"
        tax = "—" if r["tax_per_mu"] is None else f"{r['tax_per_mu']:.1f}"
        typer.echo(
            f"{r['rank']:>2} {r['class']} tax {tax:>6} 万元/亩  investment {inv:>5} 万元/亩  {r['zone'] or '-'}  {r['enterprise']}"
        )


@land_app.command("idle")
def land_idle(json_out: JsonOpt = False) -> None:
    """The idle-land register and the "三年清零" countdown."""
    from greenpark.services.plan.landuse import idle_land
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        out = idle_land(s)
    if json_out:
        _dump(out)
        return
    typer.echo(f"三年清零 by {out['clear_by']} (assumed): {out['parcels_left']} parcel(s), {out['area_left_mu']:g} 亩 left; "
               f"{out['days_left']} days")  # fmt: skip
    for p in out["parcels"]:
        typer.echo(
            f"  {p['code']:<12} {p['kind']:<10} {p['area_mu']:>6g} 亩 {p['status']:<11} since {p['since']}  {p['location']}"
        )


@land_app.command("import")
def land_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import land_use*.csv (enterprise figures) or idle*.csv (parcels); all or nothing."""
    from greenpark.services.plan.landuse import LandImportRejected, import_idle_parcels, import_land_use
    from greenpark.store.db import session_scope

    fn = import_idle_parcels if "idle" in file.name else import_land_use
    try:
        with session_scope(_url()) as s:
            n = fn(s, file.name, file.read_bytes())
    except LandImportRejected as exc:
        _rejected(file, exc.errors)
    typer.echo(f"imported {n} row(s)")


@app.command("report")
def report_cmd(
    year: Annotated[int, typer.Option(help="Year of the report.")] = 2021,
    xlsx: Annotated[Path | None, typer.Option(help="Write the Excel workbook here.")] = None,
    docx: Annotated[Path | None, typer.Option(help="Write the Word document here.")] = None,
) -> None:
    """The annual indicator progress report (Excel and/or Word, Chinese), computed from the data."""
    from greenpark.services.plan.report import document, workbook
    from greenpark.store.db import session_scope

    if xlsx is None and docx is None:
        _fail("say where: --xlsx FILE and/or --docx FILE", 2)
    with session_scope(_url()) as s:
        if xlsx is not None:
            xlsx.write_bytes(workbook(s, year))
            typer.echo(f"wrote {xlsx}")
        if docx is not None:
            docx.write_bytes(document(s, year))
            typer.echo(f"wrote {docx}")

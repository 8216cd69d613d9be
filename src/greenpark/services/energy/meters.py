"""The meter registry: sites, meters and gateways of an enterprise, and how each meter is read.

A gateway's token is shown once when it is made and kept only as its SHA-256 (as API tokens are)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core.meters import CounterSpec
from greenpark.store import models as m

KINDS = ("counter", "interval", "manual", "virtual")
LEVELS = ("plant", "process", "equipment", "usage")  # GB 17167's levels of the energy tree
PURPOSES = ("energy", "feedstock", "renewable")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOST = re.compile(r"^[A-Za-z0-9.:-]{1,200}$")
REGISTER_TYPES = {
    "uint16": 1,
    "int16": 1,
    "uint32": 2,
    "int32": 2,
    "uint64": 4,
    "int64": 4,
    "float32": 2,
    "float64": 4,
}


class MeterError(ValueError):
    """A meter, site or gateway that cannot be made as asked (the reason is for the user)."""


@dataclass(frozen=True)
class MeterFields:
    """What a meter is made of (validated by :func:`add_meter`)."""

    code: str
    name: str
    carrier: str
    unit: str
    kind: str = "counter"
    multiplier: float = 1.0
    rollover: float | None = None
    max_rate_per_h: float | None = None
    reading_interval_s: int = 900
    accuracy_class: str = ""
    calibrated_on: date | None = None
    calibration_due: date | None = None
    level: str = "plant"
    parent: str | None = None
    formula: str = ""
    counted: bool = True
    purpose: str = "energy"
    site: str | None = None
    gateway: str | None = None
    synthetic: bool = False
    note: str = ""
    #: Modbus: {"unit", "function" (3 or 4), "address", "type", "word_order", "scale"} (see register_map)
    register: dict[str, Any] | None = None


def _check_code(code: str, what: str) -> str:
    if not CODE.match(code):
        raise MeterError(
            f"{what} code {code!r}: letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit"
        )
    return code


def add_site(session: Session, enterprise: m.Enterprise, code: str, name: str) -> m.EnergySite:
    _check_code(code, "site")
    site = m.EnergySite(park_id=enterprise.park_id, enterprise_id=enterprise.id, code=code, name=name)
    session.add(site)
    session.flush()
    return site


def _meter_by_code(session: Session, park_id: int, code: str) -> m.EnergyMeter | None:
    return session.scalars(
        select(m.EnergyMeter).where(m.EnergyMeter.park_id == park_id, m.EnergyMeter.code == code)
    ).first()


def add_meter(session: Session, enterprise: m.Enterprise, f: MeterFields) -> m.EnergyMeter:
    """A new meter of ``enterprise`` (refused with the reason when a field is out of bounds)."""
    _check_code(f.code, "meter")
    if _meter_by_code(session, enterprise.park_id, f.code):
        raise MeterError(f"meter {f.code} exists already in this park")
    if f.kind not in KINDS:
        raise MeterError(f"meter kind {f.kind!r}: one of {', '.join(KINDS)}")
    if f.level not in LEVELS:
        raise MeterError(f"meter level {f.level!r}: one of {', '.join(LEVELS)}")
    if f.purpose not in PURPOSES:
        raise MeterError(f"meter purpose {f.purpose!r}: one of {', '.join(PURPOSES)}")
    if session.get(m.Carrier, f.carrier) is None:
        raise MeterError(f"carrier {f.carrier!r} is not in the carrier list")
    if not 0 < f.multiplier <= 1e6:
        raise MeterError("multiplier: more than 0 and at most 1 000 000")
    if f.rollover is not None and not 0 < f.rollover <= 1e15:
        raise MeterError("rollover value: more than 0 and at most 10^15")
    if f.max_rate_per_h is not None and not 0 < f.max_rate_per_h <= 1e12:
        raise MeterError("rated maximum per hour: more than 0 and at most 10^12")
    if not 1 <= f.reading_interval_s <= 86400:
        raise MeterError("reading interval: 1 to 86 400 seconds")
    if f.kind == "virtual" and not f.formula.strip():
        raise MeterError("a virtual meter needs a formula over other meters' codes")
    parent = site = gateway = None
    if f.parent:
        parent = _meter_by_code(session, enterprise.park_id, f.parent)
        if parent is None or parent.enterprise_id != enterprise.id:
            raise MeterError(f"parent meter {f.parent} is not a meter of this enterprise")
    if f.site:
        site = session.scalars(
            select(m.EnergySite).where(
                m.EnergySite.enterprise_id == enterprise.id, m.EnergySite.code == f.site
            )
        ).first()
        if site is None:
            raise MeterError(f"site {f.site} is not a site of this enterprise")
    if f.gateway:
        gateway = gateway_by_code(session, enterprise.park_id, f.gateway)
        if gateway is None or gateway.enterprise_id != enterprise.id:
            raise MeterError(f"gateway {f.gateway} is not a gateway of this enterprise")
    register = register_map(f.register) if f.register is not None else None
    if register is not None and (gateway is None or gateway.protocol != "modbus_tcp"):
        raise MeterError("a register map needs a Modbus gateway (--gateway of a Modbus TCP gateway)")
    meter = m.EnergyMeter(
        park_id=enterprise.park_id, enterprise_id=enterprise.id, site_id=site.id if site else None, code=f.code,
        name=f.name, carrier_code=f.carrier, unit=f.unit, kind=f.kind, multiplier=f.multiplier, rollover=f.rollover,
        max_rate_per_h=f.max_rate_per_h, reading_interval_s=f.reading_interval_s, accuracy_class=f.accuracy_class,
        calibrated_on=f.calibrated_on, calibration_due=f.calibration_due, level=f.level,
        parent_id=parent.id if parent else None, formula=f.formula, counted=f.counted, purpose=f.purpose,
        gateway_id=gateway.id if gateway else None, synthetic=f.synthetic, note=f.note,
        register_json=json.dumps(register) if register else "",
    )  # fmt: skip
    session.add(meter)
    session.flush()
    return meter


def register_map(raw: dict[str, Any]) -> dict[str, Any]:
    """A meter's place on its Modbus gateway, checked and completed: unit (slave) id 0–247, function
    3 (holding registers) or 4 (input registers), address 0–65 535, a type of :data:`REGISTER_TYPES`,
    the word order of multi-register values (big: first register most significant), a scale."""
    try:
        unit, function, address = int(raw.get("unit", 1)), int(raw.get("function", 3)), int(raw["address"])
        kind, order, scale = (
            str(raw.get("type", "uint32")),
            str(raw.get("word_order", "big")),
            float(raw.get("scale", 1.0)),
        )
    except (KeyError, TypeError, ValueError):
        raise MeterError(
            "register map: address (0–65 535), and unit, function, type, word_order, scale where not the defaults"
        ) from None
    if not 0 <= unit <= 247 or function not in (3, 4) or not 0 <= address <= 65535:
        raise MeterError("register map: unit 0–247, function 3 or 4, address 0–65 535")
    if kind not in REGISTER_TYPES or order not in ("big", "little"):
        raise MeterError(f"register map: type one of {', '.join(REGISTER_TYPES)}, word_order big or little")
    if not 0 < abs(scale) <= 1e9:
        raise MeterError("register map: a scale other than 0, at most 10^9")
    out = {
        "unit": unit,
        "function": function,
        "address": address,
        "type": kind,
        "word_order": order,
        "scale": scale,
    }
    return out


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_gateway(
    session: Session,
    enterprise: m.Enterprise,
    code: str,
    name: str,
    *,
    modbus: tuple[str, int] | None = None,
    poll_interval_s: int = 60,
) -> tuple[m.EnergyGateway, str]:
    """A gateway for ``enterprise`` and its token (shown once; only its hash is kept). With
    ``modbus`` (host, port) greenpark polls it over Modbus TCP every ``poll_interval_s``."""
    _check_code(code, "gateway")
    if modbus is not None:
        host, port = modbus
        if not HOST.match(host) or not 1 <= port <= 65535:
            raise MeterError("Modbus gateway: a host name or address and a port from 1 to 65 535")
        if not 5 <= poll_interval_s <= 86400:
            raise MeterError("poll interval: 5 to 86 400 seconds")
    if gateway_by_code(session, enterprise.park_id, code) is not None:
        raise MeterError(f"gateway {code} exists already in this park")
    token = "gpg_" + secrets.token_urlsafe(32)
    gw = m.EnergyGateway(
        park_id=enterprise.park_id,
        enterprise_id=enterprise.id,
        code=code,
        name=name,
        token_sha256=token_sha256(token),
        protocol="modbus_tcp" if modbus else "push",
        host=modbus[0] if modbus else "",
        port=modbus[1] if modbus else None,
        poll_interval_s=poll_interval_s,
    )
    session.add(gw)
    session.flush()
    return gw, token


def gateway_for_token(session: Session, token: str) -> m.EnergyGateway | None:
    """The active gateway holding ``token`` (None for an unknown or revoked one)."""
    if not token or len(token) > 200:
        return None
    gw = session.scalars(
        select(m.EnergyGateway).where(m.EnergyGateway.token_sha256 == token_sha256(token))
    ).first()
    return gw if gw is not None and gw.active else None


def counter_spec(meter: m.EnergyMeter) -> CounterSpec:
    """How the core reads this meter: its multiplier, rollover, rated rate; an outage is a step
    longer than two reading intervals (at least 30 minutes)."""
    return CounterSpec(
        multiplier=meter.multiplier,
        rollover=meter.rollover,
        max_rate_per_h=meter.max_rate_per_h,
        gap_s=max(1800.0, 2.0 * meter.reading_interval_s),
        confirm_s=max(3600.0, 4.0 * meter.reading_interval_s),
    )


def meter_rows(
    session: Session, park_id: int, enterprise_ids: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """Every meter of the park (or of these enterprises) with its enterprise, site and gateway codes."""
    q = (
        select(m.EnergyMeter, m.Enterprise.code, m.EnergySite.code, m.EnergyGateway.code)
        .join(m.Enterprise, m.Enterprise.id == m.EnergyMeter.enterprise_id)
        .outerjoin(m.EnergySite, m.EnergySite.id == m.EnergyMeter.site_id)
        .outerjoin(m.EnergyGateway, m.EnergyGateway.id == m.EnergyMeter.gateway_id)
        .where(m.EnergyMeter.park_id == park_id)
        .order_by(m.Enterprise.code, m.EnergyMeter.code)
    )
    if enterprise_ids is not None:
        q = q.where(m.EnergyMeter.enterprise_id.in_(enterprise_ids))
    parents = dict(
        session.execute(
            select(m.EnergyMeter.id, m.EnergyMeter.code).where(m.EnergyMeter.park_id == park_id)
        ).all()
    )
    out = []
    for meter, ent, site, gw in session.execute(q):
        out.append({
            "code": meter.code, "name": meter.name, "enterprise": ent, "site": site, "gateway": gw,
            "carrier": meter.carrier_code, "unit": meter.unit, "kind": meter.kind, "multiplier": meter.multiplier,
            "rollover": meter.rollover, "max_rate_per_h": meter.max_rate_per_h,
            "reading_interval_s": meter.reading_interval_s, "accuracy_class": meter.accuracy_class,
            "calibrated_on": meter.calibrated_on.isoformat() if meter.calibrated_on else None,
            "calibration_due": meter.calibration_due.isoformat() if meter.calibration_due else None,
            "level": meter.level, "parent": parents.get(meter.parent_id) if meter.parent_id else None,
            "formula": meter.formula, "counted": meter.counted, "purpose": meter.purpose,
            "synthetic": meter.synthetic, "active": meter.active,
        })  # fmt: skip
    return out


def gateway_by_code(session: Session, park_id: int, code: str) -> m.EnergyGateway | None:
    return session.scalars(
        select(m.EnergyGateway).where(m.EnergyGateway.park_id == park_id, m.EnergyGateway.code == code)
    ).first()


def _gateway(session: Session, park_id: int, code: str) -> m.EnergyGateway:
    gw = gateway_by_code(session, park_id, code)
    if gw is None:
        raise MeterError(f"no gateway {code} in this park")
    return gw


def rotate_token(session: Session, park_id: int, code: str) -> str:
    """A new token for the gateway (shown once); the old one stops working at once."""
    gw = _gateway(session, park_id, code)
    token = "gpg_" + secrets.token_urlsafe(32)
    gw.token_sha256 = token_sha256(token)
    session.flush()
    return token


def set_gateway_active(session: Session, park_id: int, code: str, active: bool) -> m.EnergyGateway:
    """Switch a gateway off (its token and topic are refused) or on again."""
    gw = _gateway(session, park_id, code)
    gw.active = active
    session.flush()
    return gw

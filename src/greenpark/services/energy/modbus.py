"""Polling Modbus TCP gateways: each meter's value read from its registers, stored as a reading.

A Modbus gateway (a protocol converter in front of the meters' RS-485 bus, or a meter with an
Ethernet port) is polled at ``host:port`` every ``poll_interval_s``; each meter of the gateway names
its unit id, function (3 holding / 4 input registers), address, data type and word order
(``meters.register_map``, the fields MyEMS's point address JSON carries, research note §1.8). The
registers are read with pymodbus and decoded by its ``convert_from_registers``; the value times the
map's scale is the meter's reading at the poll time (whole seconds, UTC). A meter that does not
answer is named with the reason and the others are stored: one broken meter does not stop its bus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.energy.meters import REGISTER_TYPES
from greenpark.services.energy.readings import ReadingIn, store_readings, touch_gateway
from greenpark.store import models as m

DATATYPE = ModbusTcpClient.DATATYPE


@dataclass
class Polled:
    gateway: str
    stored: int = 0
    repeated: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway,
            "stored": self.stored,
            "repeated": self.repeated,
            "failed": self.failed,
        }


def read_value(client: ModbusTcpClient, reg: dict[str, Any]) -> float:
    """One meter's value from its registers (raises ModbusException or OSError when it cannot)."""
    count = REGISTER_TYPES[reg["type"]]
    call = client.read_holding_registers if reg["function"] == 3 else client.read_input_registers
    rr = call(reg["address"], count=count, device_id=reg["unit"])
    if rr.isError():
        raise ModbusException(f"the device answered {rr}")
    value = client.convert_from_registers(
        rr.registers, getattr(DATATYPE, reg["type"].upper()), word_order=reg["word_order"]
    )
    if not isinstance(value, int | float):
        raise ModbusException(f"registers decoded to {type(value).__name__}, not a number")
    return float(value) * float(reg["scale"])


def poll_gateway(
    session: Session, gw: m.EnergyGateway, now: datetime | None = None, timeout_s: float = 3.0
) -> Polled:
    """Read every active meter of the Modbus gateway once and store the readings (the caller commits)."""
    now = (now or m.utcnow()).replace(microsecond=0)
    out = Polled(gw.code)
    meters = session.scalars(
        select(m.EnergyMeter).where(m.EnergyMeter.gateway_id == gw.id, m.EnergyMeter.active.is_(True), m.EnergyMeter.register_json != "")
        .order_by(m.EnergyMeter.code)
    ).all()  # fmt: skip
    client = ModbusTcpClient(gw.host, port=gw.port or 502, timeout=timeout_s, retries=1)
    got: list[ReadingIn] = []
    try:
        if not client.connect():  # type: ignore[no-untyped-call]
            out.failed = [
                {"meter": mt.code, "reason": f"no connection to {gw.host}:{gw.port}"} for mt in meters
            ]
        else:
            for mt in meters:
                try:
                    got.append(ReadingIn(mt.code, now, read_value(client, json.loads(mt.register_json))))
                except (ModbusException, OSError, ValueError, KeyError) as exc:
                    out.failed.append({"meter": mt.code, "reason": str(exc)[:200]})
    finally:
        client.close()  # type: ignore[no-untyped-call]
    stored = store_readings(session, gw.park_id, got, "modbus", enterprise_id=gw.enterprise_id, now=now)
    out.stored, out.repeated = stored.stored, stored.repeated
    out.failed += [{"meter": r.get("meter"), "reason": r["reason"]} for r in stored.refused]
    gw.last_error = "; ".join(f"{f['meter']}: {f['reason']}" for f in out.failed)[:400]
    if got:
        touch_gateway(session, gw.id, now)
    return out


def modbus_gateways(session: Session, park_id: int | None = None) -> list[m.EnergyGateway]:
    q = select(m.EnergyGateway).where(
        m.EnergyGateway.protocol == "modbus_tcp", m.EnergyGateway.active.is_(True)
    )
    if park_id is not None:
        q = q.where(m.EnergyGateway.park_id == park_id)
    return list(session.scalars(q.order_by(m.EnergyGateway.code)))

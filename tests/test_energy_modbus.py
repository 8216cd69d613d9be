"""Modbus TCP polling (issue 14 §2) against a real Modbus TCP server the test starts (pymodbus's
server, on a free port): three meters on one gateway with different register maps — a float32 in
holding registers, a uint32 with the low word first, a uint16 input register with a scale (heat, GJ) — read,
stored, read again after the counters moved; a meter behind a unit id the bus does not have is
named with its reason while the others are stored; a gateway that does not answer is said so."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from sqlalchemy import select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli
from greenpark.services.energy import meters
from greenpark.store import models as m
from greenpark.store.db import session_scope


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _words(fmt: str, value: float, little_words: bool = False) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words[::-1] if little_words else words


class Bus:
    """A Modbus TCP server with one device (unit 1) whose registers the test sets."""

    def __init__(self) -> None:
        def block() -> list[SimData]:
            return [SimData(0, count=100, values=0, datatype=DataType.REGISTERS)]

        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        self.device = SimDevice(1, simdata=(bits, list(bits), block(), block()))
        self.port = _free_port()
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def serve() -> None:  # the server is made inside its running loop
            self.server = ModbusTcpServer(self.device, address=("127.0.0.1", self.port))
            await self.server.serve_forever()

        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(serve())

    def _put(self, func: int, address: int, words: list[int]) -> None:
        assert self.server is not None
        asyncio.run_coroutine_threadsafe(
            self.server.async_setValues(1, func, address, words), self.loop
        ).result(5)

    def set(self, kwh: float, m3: int, steam_tenths: int) -> None:
        self._put(3, 0, _words("f", kwh))
        self._put(3, 10, _words("I", m3, little_words=True))
        self._put(4, 20, [steam_tenths])

    def __enter__(self) -> Bus:
        self.thread.start()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the Modbus server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(10)
        self.thread.join(10)
        self.loop.close()  # its self-pipe is a socket pair


@pytest.fixture
def bus() -> Iterator[Bus]:
    with Bus() as b:
        yield b


def _add(url: str, port: int) -> None:
    with session_scope(url) as s:
        e = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E02")).one()
        meters.add_gateway(s, e, "GW-MB", "配电房网关", modbus=("127.0.0.1", port), poll_interval_s=5)
        for code, reg, unit in (
            ("E02-MB-EL", {"address": 0, "type": "float32"}, "kWh"),
            ("E02-MB-GAS", {"address": 10, "type": "uint32", "word_order": "little"}, "m3"),
            ("E02-MB-STEAM", {"address": 20, "type": "uint16", "function": 4, "scale": 0.1}, "GJ"),
            ("E02-MB-LOST", {"address": 0, "type": "float32", "unit": 9}, "kWh"),
        ):
            carrier = {"kWh": "electricity", "m3": "natural_gas", "GJ": "heat"}[unit]
            meters.add_meter(s, e, meters.MeterFields(code=code, name=code, carrier=carrier, unit=unit, gateway="GW-MB",
                                                      register=reg, reading_interval_s=60))  # fmt: skip


def _values(url: str, code: str) -> list[float]:
    with session_scope(url) as s:
        mid = s.scalars(select(m.EnergyMeter.id).where(m.EnergyMeter.code == code)).one()
        return list(
            s.scalars(
                select(m.MeterReading.value)
                .where(m.MeterReading.meter_id == mid)
                .order_by(m.MeterReading.at_utc)
            )
        )


def test_modbus_gateway_is_polled(fresh_demo_url: str, bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    _add(fresh_demo_url, bus.port)
    run = CliRunner()
    bus.set(12345.5, 70_000, 4321)
    r = run.invoke(cli, ["energy", "poll", "--json"])
    assert r.exit_code == 0, r.output
    (out,) = json.loads(r.stdout)
    assert out["stored"] == 3 and [f["meter"] for f in out["failed"]] == ["E02-MB-LOST"]
    time.sleep(1.1)  # the next poll is a new second
    bus.set(12400.25, 70_123, 4330)
    assert json.loads(run.invoke(cli, ["energy", "poll", "--json"]).stdout)[0]["stored"] == 3
    assert _values(fresh_demo_url, "E02-MB-EL") == [12345.5, 12400.25]
    assert _values(fresh_demo_url, "E02-MB-GAS") == [70_000, 70_123]
    assert _values(fresh_demo_url, "E02-MB-STEAM") == pytest.approx([432.1, 433.0])
    with session_scope(fresh_demo_url) as s:
        gw = s.scalars(select(m.EnergyGateway).where(m.EnergyGateway.code == "GW-MB")).one()
        assert "E02-MB-LOST" in gw.last_error and gw.last_seen_utc is not None


def test_a_gateway_that_does_not_answer_is_said_so(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    _add(fresh_demo_url, _free_port())  # nobody listens there
    r = CliRunner().invoke(cli, ["energy", "poll", "--json"])
    assert r.exit_code == 0, r.output
    (out,) = json.loads(r.stdout)
    assert out["stored"] == 0 and len(out["failed"]) == 4
    assert all("no connection" in f["reason"] for f in out["failed"])


def test_register_maps_are_checked(fresh_demo_url: str) -> None:
    with session_scope(fresh_demo_url) as s:
        e = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E02")).one()
        meters.add_gateway(s, e, "GW-X", "x", modbus=("127.0.0.1", 1502))
        for bad in ({"address": 70000}, {"address": 0, "type": "float16"}, {"address": 0, "function": 6}, {}):
            with pytest.raises(meters.MeterError, match="register map"):
                meters.add_meter(s, e, meters.MeterFields(code="E02-BAD", name="x", carrier="electricity", unit="kWh",
                                                          gateway="GW-X", register=bad))  # fmt: skip
        with pytest.raises(meters.MeterError, match="Modbus gateway"):
            meters.add_gateway(s, e, "GW-Y", "y", modbus=("bad host;rm", 502))

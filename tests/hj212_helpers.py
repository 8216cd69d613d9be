"""Helpers for tests that talk to a real ingestion server over real TCP sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from greenpark.hj212.codec import Frame, FrameSplitter, build, make_frame
from greenpark.ingest.server import IngestServer, ServerConfig

#: Registered demo devices (data/demo/xianning/sources/points.csv).
WATER_MN = "42120100101001"  # 福人金身药业, HJ 212-2017, w01018 limit 100 mg/L
WWTP_MN = "42120100201001"
OLD_MN = "42120100901001"  # 智莱科技, HJ/T 212-2005 logger
GAS_MN = "42120101201001"  # 南玻玻璃, HJ 212-2025, converted values
PW = "123456"


@contextmanager
def serving(url: str, **overrides: Any) -> Iterator[IngestServer]:
    """A real ingestion server on a free port, in its own thread and event loop."""
    cfg = ServerConfig(host="127.0.0.1", port=0, housekeeping_s=3600, command_poll_s=0.2, alarms=False)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = IngestServer(url, cfg)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    serving_task = asyncio.run_coroutine_threadsafe(server.serve_forever(), loop)
    try:
        yield server
    finally:
        while OPEN:
            OPEN.pop().close()
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(60)
        serving_task.result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def upload(mn: str, cn: str, data_time: str, values: dict[str, dict[str, str]], *, pw: str = PW, qn: str | None = None,
           flag: int = 5, st: str = "32", pnum: int | None = None, pno: int | None = None) -> Frame:  # fmt: skip
    cp = [("DataTime", data_time)]
    for code, fields in values.items():
        cp += [(f"{code}-{k}", v) for k, v in fields.items()]
    return make_frame(
        qn=qn or data_time + "000", st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp, pnum=pnum, pno=pno
    )


OPEN: list[Device] = []  # closed when the server of the test stops


def wait_for(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll ``check`` until it is true (fails after ``timeout`` s: a functional limit, not a
    performance assertion)."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


class Device:
    """A blocking TCP client that reads the platform's frames; ``source`` is the local address it
    connects from (any 127.x.y.z on Linux: several "hosts" on one machine)."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
        OPEN.append(self)
        self.splitter = FrameSplitter()
        self.frames: list[Frame] = []

    def send(self, data: bytes | Frame) -> None:
        self.sock.sendall(build(data) if isinstance(data, Frame) else data)

    def receive(self, n: int = 1, timeout: float = 10.0) -> list[Frame]:
        """The next ``n`` frames from the platform (fails after ``timeout``)."""
        end = time.monotonic() + timeout
        while len(self.frames) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"got {len(self.frames)} of {n} frames")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.frames += [f for f in self.splitter.feed(chunk) if isinstance(f, Frame)]
        out, self.frames = self.frames[:n], self.frames[n:]
        return out

    def nothing_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return True
        self.frames += [f for f in self.splitter.feed(chunk) if isinstance(f, Frame)]
        return False

    def closed_by_server(self, timeout: float) -> bool:
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except TimeoutError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()

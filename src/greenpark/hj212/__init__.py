"""HJ 212 — a pure codec for China's pollution-source and environmental monitoring data
transmission protocol (HJ/T 212-2005, HJ 212-2017, HJ 212-2025): bytes in, typed frames out, and
back. No I/O.

>>> f = parse(b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n")
>>> f.cn, f.edition, f.ack_wanted, f.cp.get("RtdInterval")
('1062', '2017', True, '30')
>>> build(f) == b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n"
True
"""

from greenpark.hj212.codec import (
    CP,
    Deviation,
    Frame,
    FrameSplitter,
    HJ212Error,
    build,
    crc16,
    parse,
)

__all__ = ["CP", "Deviation", "Frame", "FrameSplitter", "HJ212Error", "build", "crc16", "parse"]

"""The key-unit energy monitoring system's upload protocol: the pieces that are arithmetic.

The provincial platforms of 重点用能单位能耗在线监测系统 take an enterprise's password as an SM4
cipher of a PIN block, and each uploaded figure under a ``dataCode`` built from six codes and a
``statDate`` that is the start of its statistics period (research note next-capabilities.md
§1.4–1.5, read from the Yunnan client's public code [R as code]; the national specification GB/T
37947 itself was not available [V]).

References
----------
Yunnan client ``SM4Util.yunNanSm4Encode`` (PIN block, SM4-CBC, key and IV as ASCII); SM4 itself is
GB/T 32907-2016 (its test vector is checked in tests/test_keyunit_upload.py).
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: statType: 0 real-time, 1 day, 2 month, 3 year (``TEnergyData`` enumeration, note §1.4).
STAT_REALTIME, STAT_DAY, STAT_MONTH, STAT_YEAR = 0, 1, 2, 3


def pin_block(pin: str) -> str:
    """Two-digit length, the PIN, then ``F`` up to 16 characters (the PIN is at most 14).

    >>> pin_block("123456"), pin_block("abcdef")
    ('06123456FFFFFFFF', '06abcdefFFFFFFFF')
    """
    if not 0 < len(pin) <= 14 or not pin.isascii():
        raise ValueError("the PIN is 1 to 14 ASCII characters")
    return f"{len(pin):02d}{pin}" + "F" * (14 - len(pin))


def sm4_password_hex(pin: str, secret_key: str, enterprise_code: str) -> str:
    """The password field: SM4-CBC without padding of the PIN block, key the first 16 characters of
    the platform's ``secretKey``, IV the first 16 of the 统一社会信用代码, all as ASCII; hex."""
    key, iv = secret_key[:16].encode("ascii"), enterprise_code[:16].encode("ascii")
    if len(key) != 16 or len(iv) != 16:
        raise ValueError("the secret key and the enterprise code need at least 16 characters")
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return (enc.update(pin_block(pin).encode("ascii")) + enc.finalize()).hex()


def data_code(process: str, unit: str, equipment: str, object_class: str, energy: str, usage: str) -> str:
    """``dataCode`` = 生产工序 + 工序单元 + 重点耗能设备 + 采集对象类型 + 能源品种/指标 + 用途 (``00``,
    ``00``, ``0000`` for the whole plant).

    >>> data_code("00", "00", "0000", "01", "0000", "XX")
    '00000000010000XX'
    """
    parts = (process, unit, equipment, object_class, energy, usage)
    if any(not p or not p.isalnum() for p in parts):
        raise ValueError("each part of a data code is letters and digits")
    return "".join(parts)


def stat_date(period_start: datetime, stat_type: int) -> str:
    """``statDate``: the start of the statistics period, ``yyyy-MM-dd HH:mm:ss`` (month: its first
    day; year: 1 January; day: midnight; real-time: as given, to the second).

    >>> stat_date(datetime(2025, 3, 17, 8, 15, 40), STAT_MONTH), stat_date(datetime(2025, 3, 1, 8, 15), STAT_REALTIME)
    ('2025-03-01 00:00:00', '2025-03-01 08:15:00')
    """
    t = period_start.replace(microsecond=0)
    if stat_type == STAT_DAY:
        t = t.replace(hour=0, minute=0, second=0)
    elif stat_type == STAT_MONTH:
        t = t.replace(day=1, hour=0, minute=0, second=0)
    elif stat_type == STAT_YEAR:
        t = t.replace(month=1, day=1, hour=0, minute=0, second=0)
    elif stat_type != STAT_REALTIME:
        raise ValueError("statType is 0, 1, 2 or 3")
    return t.strftime("%Y-%m-%d %H:%M:%S")

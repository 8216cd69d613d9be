"""The upload protocol's arithmetic against numbers from outside greenpark: the SM4 test vector of
GB/T 32907-2016 (Appendix A example 1) through the library greenpark uses, the research note's
PIN-block, dataCode and statDate vectors (§4.3, from the Yunnan client's code)."""

from __future__ import annotations

from datetime import datetime

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from greenpark.core.keyunit_upload import (
    STAT_MONTH,
    STAT_REALTIME,
    data_code,
    pin_block,
    sm4_password_hex,
    stat_date,
)


def test_sm4_is_the_standards() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_password_is_the_cbc_of_the_pin_block() -> None:
    key, code = "GP0W8AIF8uuf7Go4", "12345678b0123456"  # the client's SM4Test key and IV
    out = sm4_password_hex("123456", key + "extra", code + "XY")
    dec = Cipher(algorithms.SM4(key.encode()), modes.CBC(code.encode())).decryptor()
    assert (dec.update(bytes.fromhex(out)) + dec.finalize()).decode() == "06123456FFFFFFFF"
    assert len(out) == 32
    with pytest.raises(ValueError):
        pin_block("x" * 15)


def test_codes_and_dates() -> None:
    assert pin_block("abcdef") == "06abcdefFFFFFFFF"
    assert data_code("00", "00", "0000", "01", "0000", "XX") == "00000000010000XX"
    assert stat_date(datetime(2025, 3, 9, 13, 0), STAT_MONTH) == "2025-03-01 00:00:00"
    assert stat_date(datetime(2025, 3, 1, 8, 15), STAT_REALTIME) == "2025-03-01 08:15:00"

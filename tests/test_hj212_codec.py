"""HJ 212 codec: Appendix A CRC, strict and lenient parsing, round trips, stream splitting.

Fixtures are built here with greenpark's own builder; the one packet taken from the standard is its
Appendix A CRC example. The public packets in shared/research/hj212-vectors.txt are used only as a
check (read from shared/, not copied into the project).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenpark.hj212 import FrameSplitter, HJ212Error, build, crc16, parse
from greenpark.hj212.codec import crc16_reference, make_frame

# HJ 212-2017 Appendix A: the standard's CRC example (its prose misprints the CRC as 1C08)
STANDARD_EXAMPLE = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
VECTORS = Path(__file__).resolve().parents[2] / "shared" / "research" / "hj212-vectors.txt"


def modbus_crc(data: bytes) -> int:
    reg = 0xFFFF
    for b in data:
        reg ^= b
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def upload() -> bytes:
    f = make_frame(
        qn="20240501103000123", st="32", cn="2051", pw="123456", mn="88888880000001", flag=5,
        cp=[("DataTime", "20240501102000"), ("w01018-Avg", "35.2"), ("w01018-Flag", "N"), ("w21003-Avg", "1.82"), ("w21003-Flag", "N")],
    )  # fmt: skip
    return build(f)


def test_crc_is_appendix_a_not_modbus() -> None:
    seg = STANDARD_EXAMPLE[6:-6]
    assert crc16(seg) == 0x1C80
    assert modbus_crc(seg) == 0x0759  # research note §1.12: a Modbus implementation gives 0759
    assert crc16(b"") == 0xFFFF


@given(st.binary(max_size=2000))
def test_fast_crc_equals_appendix_a_loop(data: bytes) -> None:
    # crc16 folds the segment 8 bytes at a time (H^8 = I); it must agree with the byte loop
    assert crc16(data) == crc16_reference(data)


def test_standard_example_parses_strictly() -> None:
    f = parse(STANDARD_EXAMPLE)
    assert (f.qn, f.st, f.cn, f.pw, f.mn, f.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
        5,
    )
    assert f.edition == "2017" and f.ack_wanted and not f.subpacketed and not f.deviations
    assert f.cp.get("RtdInterval") == "30"
    assert build(f) == STANDARD_EXAMPLE


def test_own_upload_round_trip_and_groups() -> None:
    raw = upload()
    f = parse(raw)
    assert raw.startswith(b"##") and raw.endswith(b"\r\n") and b"w01018-Avg=35.2,w01018-Flag=N;w21003" in raw
    assert build(f) == raw
    g = f.cp.groups()
    assert g[0]["fields"] == {"DataTime": "20240501102000"}
    assert g[0]["pollutants"] == {
        "w01018": {"Avg": "35.2", "Flag": "N"},
        "w21003": {"Avg": "1.82", "Flag": "N"},
    }


def _reframe(seg: bytes, crc: str | None = None, length: int | None = None, tail: bytes = b"\r\n") -> bytes:
    c = crc if crc is not None else f"{crc16(seg):04X}"
    n = len(seg) if length is None else length
    return b"##" + f"{n:04d}".encode() + seg + c.encode() + tail


SEG = upload()[6:-6]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (_reframe(SEG, crc=f"{crc16(SEG):04x}"), "crc_lowercase"),
        (_reframe(SEG.replace(b"QN=20240501103000123;", b"")), "missing_qn"),
        (_reframe(SEG.replace(b";Flag=5", b"")), "missing_flag"),
        (_reframe(SEG.replace(b"Flag=", b"FLAG=")), "field_case"),
        (_reframe(SEG.replace(b";MN=", b";,MN=")), "stray_separator"),
        (_reframe(SEG, tail=b"**\r\n"), "stars_before_tail"),
        (_reframe(SEG, length=len(SEG) + 3), "length_mismatch"),
        (_reframe(SEG, tail=b"\n"), "lf_only"),
        (_reframe(SEG.replace(b"N&&", b"N;&&")), "trailing_separator"),
    ],
)
def test_lenient_reports_each_deviation_and_strict_rejects(raw: bytes, code: str) -> None:
    f = parse(raw, strict=False)
    assert code in {d.code for d in f.deviations}
    with pytest.raises(HJ212Error) as exc:
        parse(raw, strict=True)
    assert exc.value.reason


def test_crc_mismatch_rejected_in_both_modes_with_position() -> None:
    bad = _reframe(SEG, crc="0000")
    for strict in (True, False):
        with pytest.raises(HJ212Error, match="CRC mismatch") as exc:
            parse(bad, strict=strict)
        assert exc.value.position == 6 + len(SEG)


@given(st.binary(max_size=300))
def test_parse_only_ever_raises_hj212error(data: bytes) -> None:
    for strict in (True, False):
        with contextlib.suppress(HJ212Error):
            parse(data, strict=strict)


_text = st.text(alphabet="ABCDEFabcdef0123456789.-_", min_size=1, max_size=12)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a21026", "w01018", "a34004"]), st.sampled_from(["Rtd", "Avg", "Flag"]), _text
        ),
        max_size=12,
    ),
    _text,
)
def test_build_parse_round_trip(items: list[tuple[str, str, str]], mn: str) -> None:
    f = make_frame(
        qn="20240101000000000",
        st="22",
        cn="2011",
        pw="123456",
        mn=mn,
        cp=[(f"{c}-{n}", v) for c, n, v in items],
    )
    raw = build(f)
    g = parse(raw)
    assert g.fields == f.fields and g.cp.text() == f.cp.text() and build(g) == raw


def test_splitter_handles_split_joined_garbage_and_oversize() -> None:
    a, b = upload(), STANDARD_EXAMPLE
    sp = FrameSplitter()
    out = []
    for i in range(len(a)):  # one byte at a time
        out += sp.feed(a[i : i + 1])
    assert len(out) == 1 and not isinstance(out[0], HJ212Error)
    out = sp.feed(b"noise" + a + b"\x00\x01" + b)  # garbage, two frames in one read
    frames = [x for x in out if not isinstance(x, HJ212Error)]
    errors = [x for x in out if isinstance(x, HJ212Error)]
    assert [f.cn for f in frames] == ["2051", "1062"] and len(errors) == 2
    out = sp.feed(b"##9999" + b"x" * 10 + a)  # length too large to be honest: reported, next frame still read
    assert any(isinstance(x, HJ212Error) for x in out) or sp.buffer
    sp2 = FrameSplitter(max_segment=1024)
    out = sp2.feed(b"##5000xxxx" + a)
    assert isinstance(out[0], HJ212Error) and "exceeds" in out[0].reason
    assert any(not isinstance(x, HJ212Error) and x.cn == "2051" for x in out)


def test_bad_frame_does_not_stop_the_stream() -> None:
    sp = FrameSplitter()
    broken = _reframe(SEG, crc="ABCD")
    out = sp.feed(broken + upload())
    assert isinstance(out[0], HJ212Error) and "CRC" in out[0].reason
    assert not isinstance(out[1], HJ212Error)


@pytest.mark.skipif(
    not VECTORS.exists(), reason="shared/research/hj212-vectors.txt is not beside the project"
)
def test_public_vectors_parse_leniently_and_keep_their_data() -> None:
    lines = [
        ln.split("\t")[0].strip()
        for ln in VECTORS.read_text(encoding="utf-8").splitlines()
        if ln.startswith("##")
    ]
    assert len(lines) == 43
    strict_ok = 0
    for pkt in lines:
        f = parse(pkt.encode() + b"\r\n", strict=False)  # every CRC verifies
        g = parse(build(f), strict=False)  # rebuilt: length, CRC and case put right, data kept
        assert not {d.code for d in g.deviations} & {
            "crc_lowercase",
            "length_mismatch",
            "lf_only",
            "stars_before_tail",
            "field_case",
        }
        assert g.fields == f.fields and g.cp.items == f.cp.items
        try:
            parse(pkt.encode() + b"\r\n", strict=True)
            strict_ok += 1
        except HJ212Error:
            pass
    assert strict_ok == 29
    # every public 9014 data reply equals what greenpark builds for the same QN, PW and MN
    from greenpark.hj212.protocol import data_reply

    acks = [p for p in lines if ";ST=91;CN=9014;" in p and ";Flag=4;CP=&&&&" in p]  # the standard form (C.14)
    assert acks
    for pkt in acks:
        f = parse(pkt.encode() + b"\r\n", strict=False)
        up = make_frame(qn=f.qn, st="32", cn="2011", pw=f.pw or "", mn=f.mn or "", flag=5)
        assert build(data_reply(up)).decode().upper() == (pkt + "\r\n").upper()


def test_platform_replies_follow_appendix_c() -> None:
    from greenpark.hj212.protocol import data_reply, execution_result, needs_reply, request_reply

    up = parse(upload())
    assert needs_reply(up) == "9014"  # 2051 upload with Flag=5 (A=1)
    ack = parse(build(data_reply(up)))
    # C.14: same QN, PW and MN; ST=91; CN=9014; Flag=4; CP=&&&&
    assert (ack.qn, ack.st, ack.cn, ack.pw, ack.mn, ack.flag, ack.cp.items) == (
        up.qn,
        "91",
        "9014",
        up.pw,
        up.mn,
        4,
        [],
    )
    assert not ack.ack_wanted and needs_reply(ack) is None
    assert parse(build(request_reply(up, 1))).cp.get("QnRtn") == "1"
    assert parse(build(execution_result(up, 100))).cp.get("ExeRtn") == "100"
    with pytest.raises(ValueError, match="QnRtn"):
        request_reply(up, 42)


def test_subpackets_are_reassembled() -> None:
    from greenpark.hj212.protocol import Reassembler

    def part(pno: int, qn: str, items: list[tuple[str, str]]) -> bytes:
        return build(make_frame(qn=qn, st="32", cn="2061", pw="123456", mn="88888880000001", flag=7, pnum=2, pno=pno,
                                cp=[("DataTime", "20240501100000"), *items]))  # fmt: skip

    r = Reassembler()
    assert r.add(parse(part(2, "20240501110000535", [("w21003-Avg", "1.8")]))) is None  # out of order
    merged = r.add(parse(part(1, "20240501110000534", [("w01018-Avg", "35.2")])))
    assert merged is not None and not merged.subpacketed
    assert merged.cp.groups()[0]["pollutants"] == {"w01018": {"Avg": "35.2"}, "w21003": {"Avg": "1.8"}}
    assert not r.pending


def test_2005_codes_upgrade_per_appendix_b() -> None:
    from greenpark.hj212.codes import code_info, upgrade_codes

    # HJ 212-2017 Appendix B "原编码": water B01 -> w00000, 011 -> w01018 (COD), 060 -> w21003 (NH3-N);
    # gas 02 -> a21026 (SO2), 01 -> a34013 (烟尘), S01 -> a19001 (O2)
    water = make_frame(st="32", cn="2011", pw="123456", mn="LD130133000015", flag=None,
                       cp=[("DataTime", "20160824003817"), ("B01-Rtd", "36.91"), ("011-Rtd", "231.0"), ("011-Flag", "N"), ("060-Rtd", "1.803")])  # fmt: skip
    g, mapped = upgrade_codes(water)
    assert mapped == [("B01", "w00000"), ("011", "w01018"), ("060", "w21003")]
    assert g.cp.groups()[0]["pollutants"] == {
        "w00000": {"Rtd": "36.91"},
        "w01018": {"Rtd": "231.0", "Flag": "N"},
        "w21003": {"Rtd": "1.803"},
    }
    gas = make_frame(
        st="31",
        cn="2011",
        pw="123456",
        mn="LD130133000016",
        flag=None,
        cp=[("02-Rtd", "35"), ("01-Rtd", "8"), ("S01-Rtd", "9.1")],
    )
    assert upgrade_codes(gas)[1] == [("02", "a21026"), ("01", "a34013"), ("S01", "a19001")]
    # a 2017 frame is left as it is
    assert upgrade_codes(parse(upload()))[1] == []
    info = code_info("w01018")
    assert info is not None and info.name_zh == "化学需氧量" and info.conc_unit == "mg/L"

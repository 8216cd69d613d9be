"""HJ 212 frames: CRC, parsing (strict or lenient), building, and splitting a TCP byte stream.

Frame (HJ 212-2017 §6.3.1 Table 2): ``##`` + 4-digit length + data segment + 4-hex CRC + CR LF.
Data segment (§6.3.2 Table 3): ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&``.

Strict mode accepts the standard only. Lenient mode also accepts the deviations seen from real
devices and reports each one on the frame (:attr:`Frame.deviations`). Every rejection is an
:class:`HJ212Error` saying why and at which byte; nothing else is ever raised on any input.

References
----------
HJ 212-2017 污染物在线监控（监测）系统数据传输标准, §6.3 and Appendix A (CRC);
shared/research/hj212-and-env-standards.md §1 (field deviations seen in public packets).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import reduce
from operator import xor

HEADER = b"##"
TAIL = b"\r\n"
#: The length field has 4 digits; the standard says ≤ 1024 but real packets exceed it.
MAX_SEGMENT = 9999
STANDARD_FIELDS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
REQUIRED_FIELDS = ("ST", "CN", "PW", "MN")
EDITIONS = {0: "2005", 1: "2017", 2: "2025"}
_HEX4 = re.compile(rb"^[0-9A-Fa-f]{4}$")


def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        reg = n
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _crc_table()


def _powers() -> tuple[tuple[int, ...], ...]:
    """H^k for k = 0..7 as look-up tables, H(x) = TABLE[x] >> 8 (H^8 is the identity)."""
    out = [tuple(range(256))]
    for _ in range(7):
        out.append(tuple(_TABLE[x] >> 8 for x in out[-1]))
    if tuple(_TABLE[x] >> 8 for x in out[-1]) != out[0]:  # pragma: no cover - a property of 0xA001
        raise AssertionError("H^8 is not the identity")
    return tuple(out)


_POWERS = _powers()


def crc16(data: bytes) -> int:
    """CRC of a data segment exactly as HJ 212-2017 Appendix A defines it.

    reg = 0xFFFF; for each byte: reg = (reg >> 8) XOR byte, then 8 shifts with polynomial 0xA001.
    It is not CRC-16/MODBUS (which XORs the byte into the low byte and keeps the rest).

    Parameters
    ----------
    data : bytes  the data segment (UTF-8), from its first field to the closing ``&&``

    Returns
    -------
    int  0-0xFFFF, written as 4 upper-case hex digits, high byte first

    References
    ----------
    HJ 212-2017, Appendix A (CRC16_Checkout).

    Examples
    --------
    >>> f"{crc16(b'QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&'):04X}"
    '1C80'
    >>> crc16(b"")
    65535
    """
    n = len(data)
    if n == 0:
        return 0xFFFF
    # Each step keeps only the high byte of the register: h <- H(h XOR b), with H = TABLE >> 8.
    # H is linear over GF(2) and H^8 is the identity, so the high byte before the last step is
    # H^(n-1)(0xFF) XOR the sum of H^k applied to the XOR of all bytes whose distance to the end
    # is k (mod 8): XOR the segment as 8-byte words, then one look-up per byte lane.
    body = data[:-1]
    pad = -len(body) % 8
    lanes = reduce(xor, memoryview(bytes(pad) + body).cast("Q"), 0).to_bytes(8, sys.byteorder)
    h = _POWERS[(n - 1) % 8][0xFF]
    for j in range(8):
        h ^= _POWERS[-j % 8][lanes[j]]
    return _TABLE[h ^ data[-1]]


def crc16_reference(data: bytes) -> int:
    """Appendix A's loop as written (one byte at a time); :func:`crc16` must equal it.

    >>> crc16_reference(b"") == crc16(b"") == 0xFFFF
    True
    """
    reg = 0xFFFF
    for b in data:
        reg = _TABLE[(reg >> 8) ^ b]
    return reg


class HJ212Error(ValueError):
    """A frame was rejected: why, and at which byte of the input."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        self.reason = reason
        self.position = position
        super().__init__(reason if position is None else f"{reason} (byte {position})")


@dataclass(frozen=True)
class Deviation:
    """A departure from the standard that lenient mode accepted."""

    code: str
    detail: str
    position: int | None = None


@dataclass
class CP:
    """The CP data area as received: items in order with the separator before each, so that a
    frame is rebuilt byte for byte; plus readers by DataTime group and pollutant."""

    items: list[tuple[str, str, str]] = field(default_factory=list)  # (separator before, key, value)
    trailing: str = ""  # separator left before the closing && (a deviation)

    def text(self) -> str:
        return "".join(f"{sep}{k}={v}" for sep, k, v in self.items) + self.trailing

    def get(self, key: str, default: str | None = None) -> str | None:
        return next((v for _s, k, v in self.items if k == key), default)

    def groups(self) -> list[dict[str, object]]:
        """Items grouped by ``DataTime`` (a CP may carry several): each group has its fields and
        pollutants (code → {field: value}), e.g. ``w01018-Rtd`` → ``{"w01018": {"Rtd": …}}``."""
        groups: list[dict[str, object]] = []
        current: dict[str, object] = {"fields": {}, "pollutants": {}}
        for _sep, k, v in self.items:
            if k == "DataTime" and (current["fields"] or current["pollutants"]):
                groups.append(current)
                current = {"fields": {}, "pollutants": {}}
            if "-" in k:
                code, _, name = k.partition("-")
                pol = current["pollutants"]
                assert isinstance(pol, dict)
                pol.setdefault(code, {})[name] = v
            else:
                fields = current["fields"]
                assert isinstance(fields, dict)
                fields[k] = v
        if current["fields"] or current["pollutants"] or not groups:
            groups.append(current)
        return groups


@dataclass
class Frame:
    """One HJ 212 packet."""

    fields: list[tuple[str, str]]  # header fields in order (QN, ST, CN, PW, MN, Flag, PNUM, PNO, …)
    cp: CP
    deviations: list[Deviation] = field(default_factory=list)
    _index: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def _get(self, key: str) -> str | None:
        # the first occurrence of each field, indexed once (a frame's fields are not edited in place;
        # make a new Frame to change them)
        if self._index is None:
            index: dict[str, str] = {}
            for k, v in self.fields:
                index.setdefault(k, v)
            self._index = index
        return self._index.get(key)

    @property
    def qn(self) -> str | None:
        return self._get("QN")

    @property
    def st(self) -> str | None:
        return self._get("ST")

    @property
    def cn(self) -> str | None:
        return self._get("CN")

    @property
    def pw(self) -> str | None:
        return self._get("PW")

    @property
    def mn(self) -> str | None:
        return self._get("MN")

    @property
    def flag(self) -> int | None:
        v = self._get("Flag")
        return int(v) if v is not None else None

    @property
    def pnum(self) -> int | None:
        v = self._get("PNUM")
        return int(v) if v is not None else None

    @property
    def pno(self) -> int | None:
        v = self._get("PNO")
        return int(v) if v is not None else None

    @property
    def edition(self) -> str | None:
        """'2005', '2017' or '2025' from the Flag version bits (V5..V0); None without a Flag."""
        if self.flag is None:
            return None
        v = self.flag >> 2
        return EDITIONS.get(v, f"unknown({v})")

    @property
    def ack_wanted(self) -> bool:
        """Flag bit A: the sender wants a reply."""
        return bool(self.flag is not None and self.flag & 1)

    @property
    def subpacketed(self) -> bool:
        """One of several packets: decided by PNUM/PNO being present (devices misuse the D bit)."""
        return self.pnum is not None or self.pno is not None

    def segment(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.fields) + ";CP=&&" + self.cp.text() + "&&"


def build(frame: Frame) -> bytes:
    """The frame as bytes: ``##`` + length + segment + upper-case CRC + CR LF (HJ 212-2017 §6.3.1)."""
    seg = frame.segment().encode("utf-8")
    if len(seg) > MAX_SEGMENT:
        raise HJ212Error(f"data segment of {len(seg)} bytes does not fit the 4-digit length field")
    return HEADER + f"{len(seg):04d}".encode() + seg + f"{crc16(seg):04X}".encode() + TAIL


def make_frame(*, st: str, cn: str, pw: str, mn: str, cp: list[tuple[str, str]] | None = None,
               qn: str | None = None, flag: int | None = 4, pnum: int | None = None, pno: int | None = None) -> Frame:  # fmt: skip
    """A new frame; ``cp`` items are joined with ``;`` except fields of the same pollutant (``,``)."""
    fields = [
        (k, v) for k, v in (("QN", qn), ("ST", st), ("CN", cn), ("PW", pw), ("MN", mn)) if v is not None
    ]
    if flag is not None:
        fields.append(("Flag", str(flag)))
    if pnum is not None:
        fields += [("PNUM", str(pnum)), ("PNO", str(pno or 1))]
    items: list[tuple[str, str, str]] = []
    prev_code = None
    for i, (k, v) in enumerate(cp or []):
        code = k.partition("-")[0] if "-" in k else None
        sep = "" if i == 0 else ("," if code is not None and code == prev_code else ";")
        items.append((sep, k, v))
        prev_code = code
    return Frame(fields, CP(items))


def parse(data: bytes, *, strict: bool = True) -> Frame:
    """Parse one complete frame (with its CR LF).

    Raises
    ------
    HJ212Error  with the reason and byte position; on any input, never another exception.
    """
    try:
        return _parse(data, strict)
    except HJ212Error:
        raise
    except Exception as exc:  # defensive: the contract is HJ212Error only
        raise HJ212Error(f"malformed frame ({exc.__class__.__name__})") from None


def _parse(data: bytes, strict: bool) -> Frame:
    if not isinstance(data, bytes | bytearray):
        raise HJ212Error("a frame is bytes")
    data = bytes(data)
    devs: list[Deviation] = []
    if not data.startswith(HEADER):
        raise HJ212Error("a frame starts with ##", 0)
    length_text = data[2:6]
    if len(length_text) < 4 or not length_text.isdigit():
        raise HJ212Error("the 4-digit length after ## is missing or not decimal", 2)
    declared = int(length_text)
    # tail
    if data.endswith(TAIL):
        body = data[6:-2]
    elif data.endswith(b"\n"):
        if strict:
            raise HJ212Error("a frame ends with CR LF; got LF only", len(data) - 1)
        devs.append(Deviation("lf_only", "frame ends with LF only", len(data) - 1))
        body = data[6:-1]
    else:
        raise HJ212Error("a frame ends with CR LF", max(len(data) - 2, 0))
    if body.endswith(b"**"):
        if strict:
            raise HJ212Error("'**' before the CR LF is not in the standard", 6 + len(body) - 2)
        devs.append(Deviation("stars_before_tail", "'**' before CR LF", 6 + len(body) - 2))
        body = body[:-2]
    if len(body) < 4:
        raise HJ212Error("the frame is too short for a CRC", 6)
    crc_text, seg = body[-4:], body[:-4]
    crc_pos = 6 + len(seg)
    if len(seg) != declared:
        if strict:
            raise HJ212Error(f"declared length {declared} but the data segment is {len(seg)} bytes", 2)
        devs.append(Deviation("length_mismatch", f"declared {declared}, actual {len(seg)}", 2))
    if not _HEX4.match(crc_text):
        raise HJ212Error(f"CRC {crc_text!r} is not 4 hex digits", crc_pos)
    if crc_text != crc_text.upper():
        if strict:
            raise HJ212Error("the CRC is written in lower case", crc_pos)
        devs.append(Deviation("crc_lowercase", f"CRC {crc_text.decode()} in lower case", crc_pos))
    expected = crc16(seg)
    if int(crc_text, 16) != expected:
        raise HJ212Error(
            f"CRC mismatch: frame says {crc_text.decode().upper()}, data segment gives {expected:04X}",
            crc_pos,
        )
    try:
        text = seg.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HJ212Error("the data segment is not UTF-8", 6 + exc.start) from None
    cp_at = text.find("CP=&&")
    if cp_at < 0:
        raise HJ212Error("no 'CP=&&' in the data segment", 6)
    if not text.endswith("&&") or len(text) < cp_at + 7:
        raise HJ212Error("the CP data area does not close with '&&'", 6 + len(seg) - 2)
    fields = _parse_header(text[:cp_at], strict, devs)
    cp = _parse_cp(text[cp_at + 5 : -2], strict, devs, 6 + cp_at + 5)
    return Frame(fields, cp, devs)


_STANDARD = frozenset(STANDARD_FIELDS)
_CP_SEP = re.compile(r"([;,])")


def _parse_header(head: str, strict: bool, devs: list[Deviation]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    # fast path: the standard's form (';' only, every field known and with '=')
    if "," not in head:
        for part in head.split(";"):
            k, eq, v = part.partition("=")
            if not eq or k not in _STANDARD:
                fields = []
                break
            fields.append((k, v))
        if fields:
            return _check_header(fields, strict, devs)
    pos = 6
    for part in re.split(r"[;,]", head):
        if not part:
            pos += 1
            continue
        if "=" not in part:
            raise HJ212Error(f"field {part!r} has no '='", pos)
        k, v = part.split("=", 1)
        if k == "FLAG" or (
            k.upper() in ("QN", "ST", "CN", "PW", "MN", "FLAG", "PNUM", "PNO") and k not in STANDARD_FIELDS
        ):
            if strict:
                raise HJ212Error(f"field name {k!r} is not written as in the standard", pos)
            devs.append(
                Deviation(
                    "field_case", f"{k} written for {k.upper() if k.upper() != 'FLAG' else 'Flag'}", pos
                )
            )
            k = "Flag" if k.upper() == "FLAG" else k.upper()
        elif k not in STANDARD_FIELDS:
            if strict:
                raise HJ212Error(f"unknown field {k!r}", pos)
            devs.append(Deviation("unknown_field", f"unknown field {k!r} kept", pos))
        fields.append((k, v))
        pos += len(part) + 1
    stray = head.count(",") + len(re.findall(r";(?=;|,)", head))
    if stray:
        if strict:
            raise HJ212Error("stray ',' or empty field between header fields", 6)
        devs.append(Deviation("stray_separator", f"{stray} stray separator(s) in the header", 6))
    return _check_header(fields, strict, devs)


def _check_header(
    fields: list[tuple[str, str]], strict: bool, devs: list[Deviation]
) -> list[tuple[str, str]]:
    keys = [k for k, _ in fields]
    for k in REQUIRED_FIELDS:
        if k not in keys:
            raise HJ212Error(f"required field {k} is missing", 6)
    for k in ("QN", "Flag"):
        if k not in keys:
            if strict:
                raise HJ212Error(f"required field {k} is missing", 6)
            devs.append(Deviation(f"missing_{k.lower()}", f"no {k}", 6))
    values = dict(fields)
    if "Flag" in values and not (values["Flag"].isdigit() and int(values["Flag"]) <= 255):
        raise HJ212Error(f"Flag {values['Flag']!r} is not an integer 0-255", 6)
    for k in ("PNUM", "PNO"):
        if k in values and not values[k].isdigit():
            raise HJ212Error(f"{k} {values[k]!r} is not a number", 6)
    if not values["CN"].isdigit():
        raise HJ212Error(f"CN {values['CN']!r} is not a command number", 6)
    return fields


def _parse_cp(body: str, strict: bool, devs: list[Deviation], offset: int) -> CP:
    items: list[tuple[str, str, str]] = []
    trailing = ""
    if body and body[-1] in ";,":
        if strict:
            raise HJ212Error("a separator before the closing '&&'", offset + len(body) - 1)
        devs.append(
            Deviation("trailing_separator", f"'{body[-1]}' before the closing '&&'", offset + len(body) - 1)
        )
        trailing, body = body[-1], body[:-1]
    # fast path: no empty item and every item KEY=VALUE (the standard's form)
    if body:
        tokens = _CP_SEP.split(body)
        sep = ""
        for i in range(0, len(tokens), 2):
            k, eq, v = tokens[i].partition("=")
            if not eq or not k:
                items = []
                break
            items.append((sep, k, v))
            if i + 1 < len(tokens):
                sep = tokens[i + 1]
        if items:
            return CP(items, trailing)
    for m in re.finditer(r"([;,]?)([^;,]*)", body):
        sep, part = m.group(1), m.group(2)
        if not sep and not part:
            continue
        if not part:
            if strict:
                raise HJ212Error("an empty item in the CP data area", offset + m.start())
            devs.append(Deviation("empty_item", "empty item in CP", offset + m.start()))
            items.append((sep, "", ""))
            continue
        if "=" not in part:
            if strict:
                raise HJ212Error(f"CP item {part!r} has no '='", offset + m.start(2))
            devs.append(Deviation("item_without_value", f"CP item {part!r} has no '='", offset + m.start(2)))
            items.append((sep, part, ""))
            continue
        k, v = part.split("=", 1)
        items.append((sep if items else "", k, v))
    return CP(items, trailing)


@dataclass
class FrameSplitter:
    """Cuts a TCP byte stream into frames: frames split across reads or several in one read,
    garbage between frames skipped, oversize lengths refused — each problem reported, never raised.

    ``feed`` returns parsed frames and :class:`HJ212Error` events in arrival order.
    """

    strict: bool = False
    max_segment: int = MAX_SEGMENT
    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Frame | HJ212Error]:
        return [event for _raw, event in self.feed_raw(data)]

    def feed_raw(self, data: bytes) -> list[tuple[bytes, Frame | HJ212Error]]:
        """Like :meth:`feed`, each event with the bytes it came from (for an audit log)."""
        self.buffer += data
        out: list[tuple[bytes, Frame | HJ212Error]] = []
        while True:
            start = self.buffer.find(HEADER)
            if start < 0:
                keep = 1 if self.buffer.endswith(b"#") else 0
                if len(self.buffer) > keep:
                    out.append(
                        (
                            bytes(self.buffer[: len(self.buffer) - keep]),
                            HJ212Error(f"{len(self.buffer) - keep} bytes outside any frame skipped"),
                        )
                    )
                del self.buffer[: len(self.buffer) - keep]
                return out
            if start:
                out.append((bytes(self.buffer[:start]), HJ212Error(f"{start} bytes before '##' skipped")))
                del self.buffer[:start]
            if len(self.buffer) < 6:
                return out
            digits = bytes(self.buffer[2:6])
            if not digits.isdigit():
                out.append(
                    (
                        bytes(self.buffer[:6]),
                        HJ212Error("the 4-digit length after ## is not decimal; skipped", 2),
                    )
                )
                del self.buffer[:2]
                continue
            declared = int(digits)
            if declared > self.max_segment:
                out.append(
                    (
                        bytes(self.buffer[:6]),
                        HJ212Error(f"declared length {declared} exceeds {self.max_segment}; skipped", 2),
                    )
                )
                del self.buffer[:2]
                continue
            end = 6 + declared + 4
            if len(self.buffer) < end + 2:
                # wait for more, unless the declared length is wrong and a line already ended
                nl = self.buffer.find(b"\n", 6)
                if nl < 0 or self.strict:
                    return out
                end = -1
            if end > 0 and bytes(self.buffer[end : end + 2]) == TAIL:
                raw = bytes(self.buffer[: end + 2])
                del self.buffer[: end + 2]
            else:
                nl = self.buffer.find(b"\n", 6)
                if nl < 0:
                    if len(self.buffer) > 6 + self.max_segment + 8:
                        out.append(
                            (
                                bytes(self.buffer[:64]),
                                HJ212Error("no frame end within the maximum frame size; skipped"),
                            )
                        )
                        del self.buffer[:2]
                        continue
                    return out
                raw = bytes(self.buffer[: nl + 1])
                del self.buffer[: nl + 1]
            try:
                out.append((raw, parse(raw, strict=self.strict)))
            except HJ212Error as exc:
                out.append((raw, exc))

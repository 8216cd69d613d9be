"""Monitoring values out of an upload frame: which kind of data (real-time, minute, hour, day,
running time), at which DataTime, and each pollutant's fields as numbers. Pure: no I/O.

References
----------
HJ 212-2017 §6.6.3 Table 8 field names (``-Rtd``, ``-Avg``, ``-Min``, ``-Max``, ``-Cou``, ``-ZsRtd``,
``-ZsAvg``, ``-Flag``, ``-EFlag``, ``-SampleTime``, ``SBxxx-RS``, ``SBxxx-RT``) and the note that for
2051/2061/2031/2041 DataTime is the start of the interval; shared/research/hj212-and-env-standards.md
§1.4.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from greenpark.hj212.codec import Frame, HJ212Error

#: Upload CN -> data kind.
KIND_BY_CN = {"2011": "rtd", "2051": "min", "2061": "hour", "2031": "day", "2041": "runtime", "2021": "state"}
CN_BY_KIND = {v: k for k, v in KIND_BY_CN.items()}


class Value(NamedTuple):
    """One pollutant of one DataTime group. ``value`` is Rtd for real-time data, Avg for interval
    data, RT (hours) for running time and RS (state) for equipment state."""

    code: str
    value: float | None
    min: float | None = None
    max: float | None = None
    cou: float | None = None
    zs: float | None = None
    flag: str = ""
    eflag: str = ""


class Group(NamedTuple):
    data_time: datetime  # as sent: Beijing time, naive
    values: list[Value]


def parse_data_time(text: str) -> datetime:
    """``YYYYMMDDhhmmss`` (optionally with milliseconds ``zzz``, as in QN) to a naive datetime.

    >>> parse_data_time("20160801084000")
    datetime.datetime(2016, 8, 1, 8, 40)
    """
    if not text.isdigit() or len(text) not in (14, 17):
        raise HJ212Error(f"DataTime {text!r} is not YYYYMMDDhhmmss")
    try:
        return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:14]))  # fmt: skip
    except ValueError:
        raise HJ212Error(f"DataTime {text!r} is not a valid date and time") from None


_INF = (float("inf"), float("-inf"))


def _num(text: str | None, code: str, name: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        x = float(text)
    except ValueError:
        raise HJ212Error(f"{code}-{name}={text!r} is not a number") from None
    if x != x or x in _INF:
        raise HJ212Error(f"{code}-{name}={text!r} is not a finite number")
    return x


def groups(frame: Frame) -> list[Group]:
    """The DataTime groups of an upload with their pollutant values.

    Raises
    ------
    HJ212Error  when a group has no DataTime or a value is not a number (the whole frame is refused).

    Examples
    --------
    >>> from greenpark.hj212.codec import make_frame
    >>> f = make_frame(st="32", cn="2061", pw="1", mn="M", cp=[("DataTime", "20261125080000"),
    ...     ("w01018-Avg", "106.8"), ("w01018-ZsAvg", "120.1"), ("w01018-Flag", "N")])
    >>> g = groups(f)[0]
    >>> g.data_time.hour, g.values[0].value, g.values[0].zs, g.values[0].flag
    (8, 106.8, 120.1, 'N')
    """
    out: list[Group] = []
    data_time: str | None = None
    fields: dict[str, dict[str, str]] = {}

    def close() -> None:
        if not fields:
            return
        if data_time is None:
            raise HJ212Error("a data group has no DataTime")
        out.append(Group(parse_data_time(data_time), [_value(code, f) for code, f in fields.items()]))

    for _sep, key, value in frame.cp.items:
        if key == "DataTime":
            close()
            data_time, fields = value, {}
        elif "-" in key:
            code, _, name = key.partition("-")
            f = fields.get(code)
            if f is None:
                f = fields[code] = {}
            f[name] = value
    close()
    return out


def _value(code: str, f: dict[str, str]) -> Value:
    main = f.get("Rtd")
    if main is None:
        main = f.get("Avg", f.get("RT", f.get("RS")))
    zs = f.get("ZsRtd", f.get("ZsAvg"))
    return Value(
        code,
        _num(main, code, "value"),
        _num(f.get("Min"), code, "Min"),
        _num(f.get("Max"), code, "Max"),
        _num(f.get("Cou"), code, "Cou"),
        _num(zs, code, "Zs"),
        f.get("Flag", "")[:4],
        f.get("EFlag", "")[:4],
    )


#: One value as a flat tuple: (DataTime, code, value, min, max, cou, zs, flag) — what a store needs.
FlatValue = tuple[datetime, str, float | None, float | None, float | None, float | None, float | None, str]


def flat_values(frame: Frame) -> list[FlatValue]:
    """The values of all DataTime groups as flat tuples (the same content as :func:`groups`,
    without the intermediate objects: the ingestion server calls this for every upload).

    >>> from greenpark.hj212.codec import make_frame
    >>> f = make_frame(st="32", cn="2061", pw="1", mn="M", cp=[("DataTime", "20261125080000"),
    ...     ("w01018-Avg", "106.8"), ("w01018-ZsAvg", "120.1"), ("w01018-Flag", "N")])
    >>> flat_values(f) == [(g.data_time, v.code, v.value, v.min, v.max, v.cou, v.zs, v.flag) for g in groups(f) for v in g.values]
    True
    """
    return _flat(frame)


def _flat(frame: Frame) -> list[FlatValue]:
    out: list[FlatValue] = []
    data_time: str | None = None
    fields: dict[str, dict[str, str]] = {}

    def close() -> None:
        if not fields:
            return
        if data_time is None:
            raise HJ212Error("a data group has no DataTime")
        t = parse_data_time(data_time)
        for code, f in fields.items():
            main = f.get("Rtd")
            if main is None:
                main = f.get("Avg", f.get("RT", f.get("RS")))
            out.append((t, code, _num(main, code, "value"), _num(f.get("Min"), code, "Min"),
                        _num(f.get("Max"), code, "Max"), _num(f.get("Cou"), code, "Cou"),
                        _num(f.get("ZsRtd", f.get("ZsAvg")), code, "Zs"), f.get("Flag", "")[:4]))  # fmt: skip

    for _sep, key, value in frame.cp.items:
        if key == "DataTime":
            close()
            data_time, fields = value, {}
        elif "-" in key:
            code, _, name = key.partition("-")
            f = fields.get(code)
            if f is None:
                f = fields[code] = {}
            f[name] = value
    close()
    return out

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

from dataclasses import dataclass, field
from datetime import datetime

from greenpark.hj212.codec import Frame, HJ212Error

#: Upload CN -> data kind.
KIND_BY_CN = {"2011": "rtd", "2051": "min", "2061": "hour", "2031": "day", "2041": "runtime", "2021": "state"}
CN_BY_KIND = {v: k for k, v in KIND_BY_CN.items()}


@dataclass(frozen=True)
class Value:
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


@dataclass(frozen=True)
class Group:
    data_time: datetime  # as sent: Beijing time, naive
    values: list[Value] = field(default_factory=list)


def parse_data_time(text: str) -> datetime:
    """``YYYYMMDDhhmmss`` (optionally with milliseconds ``zzz``, as in QN) to a naive datetime.

    >>> parse_data_time("20160801084000")
    datetime.datetime(2016, 8, 1, 8, 40)
    """
    if not text.isdigit() or len(text) not in (14, 17):
        raise HJ212Error(f"DataTime {text!r} is not YYYYMMDDhhmmss")
    try:
        return datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise HJ212Error(f"DataTime {text!r} is not a valid date and time") from None


def _num(text: object, what: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        x = float(str(text))
    except ValueError:
        raise HJ212Error(f"{what}={text!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise HJ212Error(f"{what}={text!r} is not a finite number")
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
    for g in frame.cp.groups():
        fields = g["fields"]
        pollutants = g["pollutants"]
        assert isinstance(fields, dict) and isinstance(pollutants, dict)
        if not pollutants:
            continue
        dt_text = fields.get("DataTime")
        if dt_text is None:
            raise HJ212Error("a data group has no DataTime")
        values = []
        for code, f in pollutants.items():
            if not isinstance(f, dict):
                continue
            main = f.get("Rtd", f.get("Avg", f.get("RT", f.get("RS"))))
            zs = f.get("ZsRtd", f.get("ZsAvg"))
            values.append(
                Value(
                    code=code,
                    value=_num(main, f"{code} value"),
                    min=_num(f.get("Min"), f"{code}-Min"),
                    max=_num(f.get("Max"), f"{code}-Max"),
                    cou=_num(f.get("Cou"), f"{code}-Cou"),
                    zs=_num(zs, f"{code} converted value"),
                    flag=str(f.get("Flag", ""))[:4],
                    eflag=str(f.get("EFlag", ""))[:4],
                )
            )
        out.append(Group(parse_data_time(str(dt_text)), values))
    return out

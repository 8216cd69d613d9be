"""Pollutant codes of HJ 212-2017 Appendix B and their HJ/T 212-2005 predecessors (the standard's
"原编码" column), with units. Shipped beside the codec as ``pollutant_codes.csv``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from greenpark.hj212.codec import CP, Frame

#: Which table a frame's 2005 codes belong to, by its ST (HJ 212-2017 Table 5).
MEDIUM_BY_ST = {"32": "water", "52": "water", "31": "gas", "51": "gas"}


@dataclass(frozen=True)
class PollutantCode:
    code_2017: str
    code_2005: str
    medium: str
    name_zh: str
    conc_unit: str
    amount_unit: str
    format: str


@lru_cache(maxsize=1)
def pollutant_codes() -> tuple[PollutantCode, ...]:
    text = resources.files("greenpark.hj212").joinpath("pollutant_codes.csv").read_text(encoding="utf-8")
    return tuple(
        PollutantCode(
            r["code_2017"],
            r["code_2005"],
            r["medium"],
            r["name_zh"],
            r["conc_unit"],
            r["amount_unit"],
            r["format"],
        )
        for r in csv.DictReader(text.splitlines())
    )


def code_info(code: str) -> PollutantCode | None:
    """The 2017 code's entry (name, units, format), if it is in Appendix B Tables B.1-B.2."""
    return next((c for c in pollutant_codes() if c.code_2017 == code), None)


def upgrade_codes(frame: Frame) -> tuple[Frame, list[tuple[str, str]]]:
    """Replace HJ/T 212-2005 pollutant codes in the CP by their HJ 212-2017 codes.

    Only frames of the 2005 edition (or without a Flag) are touched; the medium comes from ST
    (2005 codes repeat between water and gas, e.g. 01 烟尘 vs 001 pH). Returns the new frame and the
    (old, new) pairs that were mapped; codes not in the table are kept (vendor codes need a
    per-device map).

    Examples
    --------
    >>> from greenpark.hj212.codec import make_frame
    >>> f = make_frame(st="32", cn="2011", pw="123456", mn="LD130133000015", flag=None,
    ...                cp=[("DataTime", "20160824003817"), ("011-Rtd", "231.0"), ("060-Rtd", "1.803")])
    >>> g, mapped = upgrade_codes(f)
    >>> g.cp.text(), mapped
    ('DataTime=20160824003817;w01018-Rtd=231.0;w21003-Rtd=1.803', [('011', 'w01018'), ('060', 'w21003')])
    """
    if frame.edition not in (None, "2005"):
        return frame, []
    medium = MEDIUM_BY_ST.get(frame.st or "")
    table = {
        c.code_2005: c.code_2017
        for c in pollutant_codes()
        if c.code_2005 and (medium is None or c.medium == medium)
    }
    if medium is None:  # ambiguous 2005 codes are left alone when the medium is unknown
        dup = [c.code_2005 for c in pollutant_codes() if c.code_2005]
        table = {k: v for k, v in table.items() if dup.count(k) == 1}
    mapped: list[tuple[str, str]] = []
    items = []
    for sep, k, v in frame.cp.items:
        code, dash, rest = k.partition("-")
        if dash and code in table:
            if (code, table[code]) not in mapped:
                mapped.append((code, table[code]))
            k = f"{table[code]}-{rest}"
        items.append((sep, k, v))
    return Frame(list(frame.fields), CP(items, frame.cp.trailing), list(frame.deviations)), mapped

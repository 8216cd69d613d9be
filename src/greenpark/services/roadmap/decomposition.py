"""LMDI on a user's own table: ``subcategory, year, <factor 1>, …, <factor k>`` (V of a row is the
product of its factors), from CSV or Excel, with every bad cell named."""

from __future__ import annotations

from typing import Any

import numpy as np

from greenpark.core import lmdi
from greenpark.services.carbon.io import ImportRejected, read_simple_table
from greenpark.services.tabular import CellError


def read_factor_table(filename: str, content: bytes) -> tuple[list[str], dict[int, dict[str, list[float]]]]:
    """``(factor names, {year: {subcategory: [factor values]}})`` of a decomposition table."""
    rows = read_simple_table(filename, content, ("subcategory", "year"))
    errors: list[CellError] = []
    if not rows:
        raise ImportRejected([CellError(filename, "", 2, "", "no data rows")])
    header = [h for h in rows[0][2] if h not in ("subcategory", "year")]
    if not header:
        raise ImportRejected(
            [CellError(filename, rows[0][0], 1, "", "no factor columns after subcategory, year")]
        )
    data: dict[int, dict[str, list[float]]] = {}
    for sheet, i, r in rows:
        sub = r.get("subcategory", "")
        if not sub:
            errors.append(CellError(filename, sheet, i, "subcategory", "required"))
        try:
            year = int(float(r.get("year", "")))
        except ValueError:
            errors.append(CellError(filename, sheet, i, "year", f"{r.get('year')!r} is not a year"))
            continue
        vals = []
        for f in header:
            t = r.get(f, "")
            try:
                x = float(t)
                if not np.isfinite(x) or x < 0:
                    raise ValueError
            except ValueError:
                errors.append(CellError(filename, sheet, i, f, f"{t!r} is not a number ≥ 0"))
                x = float("nan")
            vals.append(x)
        if sub in data.get(year, {}):
            errors.append(CellError(filename, sheet, i, "subcategory", f"{sub} {year} appears twice"))
        data.setdefault(year, {})[sub] = vals
    if errors:
        raise ImportRejected(errors)
    return header, data


def decompose_table(filename: str, content: bytes, year_from: int, year_to: int, detail: bool = False,
                    ) -> dict[str, Any]:  # fmt: skip
    """Additive and multiplicative LMDI-I from ``year_from`` to ``year_to`` (and, with ``detail``,
    multiplicative LMDI-II, the effects by sub-category and the year-on-year chain in between)."""
    factors, data = read_factor_table(filename, content)
    for y in (year_from, year_to):
        if y not in data:
            raise ImportRejected(
                [CellError(filename, "", 0, "year", f"no rows for {y} (years: {sorted(data)})")]
            )
    subs = sorted(set(data[year_from]) | set(data[year_to]))
    missing = [(s, y) for s in subs for y in (year_from, year_to) if s not in data[y]]
    if missing:
        raise ImportRejected(
            [CellError(filename, "", 0, "subcategory", f"{s} has no row for {y}") for s, y in missing]
        )

    def mat(y: int) -> np.ndarray:
        return np.array([data[y][s] for s in subs])

    d = lmdi.decompose(mat(year_from), mat(year_to), factors)
    out: dict[str, Any] = {
        "additive": dict(zip(factors, d.additive.tolist(), strict=True)),
        "multiplicative": dict(zip(factors, d.multiplicative.tolist(), strict=True)),
        "total_change": d.total_change,
        "total_ratio": d.total_ratio,
    }
    if detail:
        out["multiplicative_ii"] = dict(zip(factors, d.multiplicative_ii.tolist(), strict=True))
        out["by_subcategory"] = {
            s: dict(zip(factors, row, strict=True))
            for s, row in zip(subs, d.by_subcategory.tolist(), strict=True)
        }
        between = [y for y in sorted(data) if year_from <= y <= year_to and all(s in data[y] for s in subs)]
        if len(between) > 2:
            links = lmdi.chained([mat(y) for y in between], factors)
            out["chained"] = [{"from": a, "to": b, "additive": dict(zip(factors, x.additive.tolist(), strict=True)),
                               "multiplicative": dict(zip(factors, x.multiplicative.tolist(), strict=True))}
                              for a, b, x in zip(between, between[1:], links, strict=False)]  # fmt: skip
        out["method"] = (
            "LMDI-I additive and multiplicative (Ang 2005 Eqs. 4-5), LMDI-II multiplicative (Ang 2015)"
        )
    return out

"""Factor sets in the database: sync shipped or user-supplied sets, resolve factors for a profile."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core.carbon import co2_factor_from_carbon_content_kg_per_tj
from greenpark.core.intensity import relative_difference
from greenpark.core.units import CO2_PER_C, rate_conversion_factor
from greenpark.data import FactorSetSpec, load_carriers, load_factor_set_specs
from greenpark.store import models as m


class FactorSetError(ValueError):
    """A factor set cannot be loaded as given."""


@dataclass(frozen=True)
class FactorRef:
    """A factor as used in a calculation, with everything needed to trace it."""

    factor_id: int
    set_code: str
    set_version: str
    carrier: str
    parameter: str
    value: float
    unit: str
    region: str
    year: int | None
    status: str
    source_table: str
    document: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    new_versions: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new
    unchanged: list[str] = field(default_factory=list)


def sync_factor_sets(session: Session, specs: list[FactorSetSpec] | None = None) -> SyncReport:
    """Store factor sets; a set whose content changed must carry a new version.

    A new version becomes current and the old one is kept (results that used it are restated by
    :func:`greenpark.services.carbon.snapshots.restate_after_new_versions`).
    """
    specs = load_factor_set_specs() if specs is None else specs
    report = SyncReport()
    for spec in specs:
        rows = session.scalars(select(m.FactorSet).where(m.FactorSet.code == spec.code)).all()
        same_version = next((r for r in rows if r.version == spec.version), None)
        if same_version is not None:
            if same_version.content_sha256 != spec.content_sha256:
                raise FactorSetError(
                    f"factor set {spec.code!r} version {spec.version!r} differs from the stored "
                    "one; give the changed set a new version"
                )
            report.unchanged.append(spec.code)
            continue
        current = next((r for r in rows if r.is_current), None)
        if current is not None:
            current.is_current = False
            report.new_versions.append((spec.code, current.version, spec.version))
        else:
            report.added.append(spec.code)
        fs = m.FactorSet(
            code=spec.code,
            version=spec.version,
            kind=spec.kind,
            method=spec.method,
            title_zh=spec.title_zh,
            title_en=spec.title_en,
            document=spec.document,
            edition=spec.edition,
            effective_from=spec.effective_from,
            effective_to=spec.effective_to,
            inherits=spec.inherits,
            note=spec.note,
            content_sha256=spec.content_sha256,
            is_current=True,
        )
        fs.factors = [
            m.Factor(
                carrier_code=r.carrier,
                parameter=r.parameter,
                value=r.value,
                unit=r.unit,
                region=r.region,
                year=r.year,
                source_table=r.source_table,
                status=r.status,
                note=r.note,
            )
            for r in spec.rows
        ]
        session.add(fs)
    session.flush()
    return report


@dataclass
class FactorLibrary:
    """The current factor sets, with inheritance resolved, ready for lookups."""

    sets: dict[str, m.FactorSet]
    rows: dict[str, list[FactorRef]]

    @classmethod
    def load(cls, session: Session, versions: dict[str, str] | None = None) -> FactorLibrary:
        """Load current sets, or the given ``{code: version}`` where named."""
        all_sets = session.scalars(select(m.FactorSet)).all()
        chosen: dict[str, m.FactorSet] = {}
        for fs in all_sets:
            want = (versions or {}).get(fs.code)
            if (want is not None and fs.version == want) or (want is None and fs.is_current):
                chosen[fs.code] = fs
        factors = session.scalars(
            select(m.Factor).where(m.Factor.factor_set_id.in_([fs.id for fs in chosen.values()]))
        ).all()
        own: dict[str, list[FactorRef]] = {code: [] for code in chosen}
        by_id = {fs.id: fs for fs in chosen.values()}
        for f in factors:
            fs = by_id[f.factor_set_id]
            own[fs.code].append(
                FactorRef(
                    factor_id=f.id,
                    set_code=fs.code,
                    set_version=fs.version,
                    carrier=f.carrier_code,
                    parameter=f.parameter,
                    value=f.value,
                    unit=f.unit,
                    region=f.region,
                    year=f.year,
                    status=f.status,
                    source_table=f.source_table,
                    document=fs.document,
                )
            )
        rows: dict[str, list[FactorRef]] = {}
        for code in chosen:
            rows[code] = _with_inherited(code, chosen, own)
        return cls(sets=chosen, rows=rows)

    def versions(self, codes: list[str]) -> dict[str, str]:
        return {c: self.sets[c].version for c in codes if c in self.sets}

    def lookup(
        self,
        set_codes: list[str],
        carrier: str,
        parameter: str,
        *,
        region: str | None = None,
        year: int | None = None,
        latest_not_after: int | None = None,
    ) -> FactorRef | None:
        """The first factor found in ``set_codes`` order.

        ``year`` asks for an exact data year; ``latest_not_after`` for the latest year not after
        it (or the earliest one if all are later).
        """
        for code in set_codes:
            cands = [
                r
                for r in self.rows.get(code, [])
                if r.carrier == carrier
                and r.parameter == parameter
                and (region is None or r.region == region)
            ]
            if not cands:
                continue
            if year is not None:
                cands = [r for r in cands if r.year == year]
            elif latest_not_after is not None:
                dated = [r for r in cands if r.year is not None]
                if dated:
                    before = [r for r in dated if r.year is not None and r.year <= latest_not_after]
                    pool = before or dated
                    pick = (
                        max(pool, key=lambda r: r.year or 0)
                        if before
                        else min(pool, key=lambda r: r.year or 0)
                    )
                    cands = [pick]
            if cands:
                return cands[0]
        return None


def _with_inherited(
    code: str, chosen: dict[str, m.FactorSet], own: dict[str, list[FactorRef]]
) -> list[FactorRef]:
    parent = chosen[code].inherits
    mine = own[code]
    if not parent or parent not in chosen:
        return list(mine)
    keys = {(r.carrier, r.parameter, r.region, r.year) for r in mine}
    inherited = [
        r
        for r in _with_inherited(parent, chosen, own)
        if (r.carrier, r.parameter, r.region, r.year) not in keys
    ]
    return list(mine) + inherited


#: A factor and the value implied by its companions agree within this fraction (rounding of
#: printed tables: 4 significant figures).
CONSISTENCY_TOLERANCE = 0.005

_PRINTED = re.compile(r"printed\s+([0-9.]+)\s*([^)]+)\)")

#: Plausible range of a grid-average CO2 factor in China [tCO2/MWh] (all published regional and
#: provincial factors 2011-2023 lie in 0.21-0.90; the range is widened by a margin).
GRID_FACTOR_PLAUSIBLE_TCO2_PER_MWH = (0.1, 1.2)


def check_factor_sets(library: FactorLibrary) -> list[dict[str, Any]]:
    """Contradictions inside the factor sets, each explained (zh and en)."""
    checks: list[dict[str, Any]] = []
    names = {c.code: (c.name_zh, c.name_en) for c in load_carriers()}
    for code, rows in library.rows.items():
        fs = library.sets.get(code)
        title_zh, title_en = (fs.title_zh, fs.title_en) if fs is not None else (code, code)
        index = {(r.carrier, r.parameter, r.region, r.year): r for r in rows}
        for r in rows:
            if r.parameter == "co2_factor" and r.set_code == code:
                cc = index.get((r.carrier, "carbon_content", r.region, r.year))
                if cc is not None:
                    implied = float(co2_factor_from_carbon_content_kg_per_tj(cc.value))
                    if abs(float(relative_difference(implied, r.value))) > CONSISTENCY_TOLERANCE:
                        checks.append(
                            {
                                "code": "factor.co2_vs_carbon_content",
                                "severity": "warning",
                                "set": code,
                                "carrier": r.carrier,
                                "values": {
                                    "carbon_content_tc_per_tj": cc.value,
                                    "implied_kgco2_per_tj": round(implied),
                                    "stated_kgco2_per_tj": r.value,
                                },
                                "message_zh": f"《{title_zh}》：{names.get(r.carrier, (r.carrier,))[0]}单位热值含碳量 {cc.value} 吨碳/太焦 × 44/12 = {implied:,.0f} 千克二氧化碳/太焦，与所列排放因子 {r.value:,.0f} 不一致。",
                                "message_en": f"{title_en}: {names.get(r.carrier, ('', r.carrier))[1]} carbon content {cc.value} t C/TJ × 44/12 = {implied:,.0f} kg CO₂/TJ, not the stated {r.value:,.0f}.",
                            }
                        )
            if r.parameter == "grid_factor" and r.set_code == code:
                per_mwh = r.value * rate_conversion_factor(r.unit, "tCO2/MWh")
                printed = _PRINTED.search(r.source_table)
                if printed and printed.group(2).strip() != r.unit:
                    as_c = per_mwh * CO2_PER_C  # the printed value read as carbon
                    checks.append(
                        {
                            "code": "factor.printed_unit",
                            "severity": "warning",
                            "set": code,
                            "carrier": r.carrier,
                            "values": {
                                "printed": printed.group(0),
                                "used_tco2_per_mwh": per_mwh,
                                "if_tc_tco2_per_mwh": as_c,
                            },
                            "message_zh": f"《{title_zh}》：电力排放因子原文单位为“{printed.group(2).strip().replace('tC', '吨碳')}”；若按吨碳理解则为 {as_c:.3f} 吨二氧化碳/兆瓦时，超出我国电网因子的合理范围，应为吨二氧化碳（{per_mwh:.4f} 吨二氧化碳/兆瓦时）。",
                            "message_en": f"{title_en}: the grid factor is printed in '{printed.group(2).strip().replace('/万千瓦时', ' per 10⁴ kWh')}'; read as t C it would be {as_c:.3f} t CO₂/MWh, outside any Chinese grid's range, so it is t CO₂ ({per_mwh:.4f} t CO₂/MWh).",
                        }
                    )
                lo, hi = GRID_FACTOR_PLAUSIBLE_TCO2_PER_MWH
                if not lo <= per_mwh <= hi:
                    checks.append(
                        {
                            "code": "factor.grid_out_of_range",
                            "severity": "error",
                            "set": code,
                            "carrier": r.carrier,
                            "values": {"tco2_per_mwh": per_mwh},
                            "message_zh": f"《{title_zh}》：电网排放因子 {per_mwh:.4f} 吨二氧化碳/兆瓦时超出合理范围。",
                            "message_en": f"{title_en}: grid factor {per_mwh:.4f} t CO₂/MWh is outside the plausible range.",
                        }
                    )
    return checks


def factor_set_summary(fs: m.FactorSet) -> dict[str, Any]:
    return {
        "code": fs.code,
        "version": fs.version,
        "kind": fs.kind,
        "method": fs.method,
        "title_zh": fs.title_zh,
        "title_en": fs.title_en,
        "document": fs.document,
        "edition": fs.edition,
        "effective_from": fs.effective_from.isoformat() if fs.effective_from else None,
        "effective_to": fs.effective_to.isoformat() if fs.effective_to else None,
        "inherits": fs.inherits,
        "note": fs.note,
        "is_current": fs.is_current,
        "rows": len(fs.factors),
    }

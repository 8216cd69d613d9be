"""The key-unit register (重点用能单位 / 重点碳排放单位) of a park and year, and the park's deadlines.

Every enterprise's yearly energy (tce) and CO₂ (t) come from the data greenpark holds, in this order
(``source`` says which):

1. ``verified_report`` — its latest verified annual report (:class:`MrvReport` ``verified``);
2. ``report`` — else its latest report the park accepted (one awaiting review, or returned, does
   not count: an unreviewed 0 t would otherwise move the enterprise out of the register);
3. ``records`` — else its activity records of the year: energy and CO₂ of the enterprise scope by
   the carbon inventory (:func:`~greenpark.services.carbon.inventory_cache.cached_inventory`, the
   park's accounting profile and current factor sets); if the inventory cannot be computed, the sum
   of the records' ``energy_tce`` and no CO₂;
4. ``none`` — nothing.

Reasons: ``energy_over_threshold`` / ``energy_designable`` and ``co2_over_threshold`` /
``co2_designable`` (:func:`greenpark.core.mrv.key_unit_reason` with ``rules.yaml``'s thresholds),
``tagged_in_enterprise_file`` (the enterprise file tags it a key unit), and the officers'
decisions ``designated`` / ``exempted`` (:class:`MrvUnitDecision`, appended, the latest per
enterprise, year and kind holds, each with its reason). A unit is of a kind when an officer
designated it, or when it is over the threshold or tagged and no officer exempted it; a designable
unit is one only once designated. Its obligations are the rules' ``obligations`` of its kinds.

Who may: everyone who may read an enterprise's cycle records reads its row
(:func:`~greenpark.services.mrv.access.readable_enterprises`); park staff and admins decide
(``register.decide``) and set the park's deadlines (``settings.deadlines``).
"""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from threading import Lock
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.core.mrv import key_unit_reason
from greenpark.services.carbon.inventory_cache import cached_inventory, fingerprint
from greenpark.services.mrv import log, rules
from greenpark.services.mrv.access import Actor, enterprise_in_reach, readable_enterprises, require
from greenpark.services.park.audit import Changes
from greenpark.services.park.parks import ParkError
from greenpark.store import models as m

KINDS = ("key_energy_user", "key_carbon_emitter")
SOURCES = ("verified_report", "report", "records", "none")
#: Reasons a row may give (the page labels them).
REASONS = (
    "energy_over_threshold",
    "energy_designable",
    "co2_over_threshold",
    "co2_designable",
    "tagged_in_enterprise_file",
    "designated",
    "exempted",
)
REASON_MAX = 2_000


#: Energy and CO₂ from an enterprise's activity records (enterprise code, year, the records'
#: own tce, and the inventory cache's fingerprint of the park's data and factor sets → the
#: figures): the register reads a thousand enterprises at once, and even a cached inventory costs
#: a query to look up.
_RECORD_FIGURES: OrderedDict[tuple[Any, ...], tuple[float | None, float | None]] = OrderedDict()
_RECORD_FIGURES_SIZE = 20_000
_LOCK = Lock()


def _record_figures(
    session: Session, park: m.Park, year: int, wanted: dict[int, tuple[str, float | None]]
) -> dict[int, tuple[float | None, float | None]]:
    """Energy (tce) and CO₂ (t) of each enterprise (id → (code, the sum of its records' tce)) by
    the carbon inventory of its scope; if the inventory cannot be computed, the records' tce and
    no CO₂."""
    fp = fingerprint(session, park)
    out: dict[int, tuple[float | None, float | None]] = {}
    for eid, (code, tce_sum) in wanted.items():
        key = (*fp, code, year, tce_sum)
        with _LOCK:
            hit = _RECORD_FIGURES.get(key)
        if hit is None:
            try:
                totals = cached_inventory(session, park, code, year)["totals"]
                hit = (totals["energy_tce_calorific"], totals["co2_t"])
            except (ParkError, ValueError, KeyError):  # no inventory for it: the records' own tce
                hit = (float(tce_sum) if tce_sum is not None else None, None)
            with _LOCK:
                _RECORD_FIGURES[key] = hit
                while len(_RECORD_FIGURES) > _RECORD_FIGURES_SIZE:
                    _RECORD_FIGURES.popitem(last=False)
        out[eid] = hit
    return out


def _figures(session: Session, park: m.Park, ents: Sequence[Any], year: int) -> dict[int, dict[str, Any]]:
    """Energy, CO₂ and their source for each enterprise (rows with ``id`` and ``code``; see the
    module's order)."""
    ids = [e.id for e in ents]
    out: dict[int, dict[str, Any]] = {
        i: {"energy_tce": None, "co2_t": None, "source": "none", "report_id": None} for i in ids
    }
    if not ids:
        return out
    r = m.MrvReport
    reports = session.execute(
        select(r.enterprise_id, r.id, r.status, r.energy_tce, r.total_co2_t)
        .where(r.park_id == park.id, r.year == year, r.status.in_(("verified", "accepted")))
        .order_by(r.enterprise_id, r.version)
    )
    best: dict[int, Any] = {}
    for rep in reports:
        if rep.enterprise_id not in out:
            continue
        held = best.get(rep.enterprise_id)
        # a verified version wins over any unverified one; among equals, the latest version
        if held is None or (rep.status == "verified") >= (held.status == "verified"):
            best[rep.enterprise_id] = rep
    # a verified report counts with the verifier's figures (the statement's totals), not as reported
    v = m.MrvVerification
    verified_ids = [rep.id for rep in best.values() if rep.status == "verified"]
    stated = {
        row.final_report_id: row
        for row in session.execute(
            select(v.final_report_id, v.verified_total_co2_t, v.verified_energy_tce)
            .where(v.final_report_id.in_(verified_ids), v.conclusion == "pass")
            .order_by(v.id)
        )
    } if verified_ids else {}  # fmt: skip
    for eid, rep in best.items():
        st = stated.get(rep.id)
        out[eid] = {
            "energy_tce": st.verified_energy_tce
            if st and st.verified_energy_tce is not None
            else rep.energy_tce,
            "co2_t": st.verified_total_co2_t
            if st and st.verified_total_co2_t is not None
            else rep.total_co2_t,
            "source": "verified_report" if rep.status == "verified" else "report",
            "report_id": rep.id,
        }
    ar = m.ActivityRecord
    with_records = session.execute(
        select(ar.enterprise_id, func.sum(ar.energy_tce))
        .where(ar.park_id == park.id, ar.year == year, ar.boundary == "all", ar.enterprise_id.is_not(None))
        .group_by(ar.enterprise_id)
    ).all()
    codes = {e.id: e.code for e in ents}
    wanted = {
        int(eid): (codes[eid], tce_sum) for eid, tce_sum in with_records if eid in out and eid not in best
    }
    for eid, (energy_tce, co2_t) in _record_figures(session, park, year, wanted).items():
        out[eid] = {"energy_tce": energy_tce, "co2_t": co2_t, "source": "records", "report_id": None}
    return out


def _latest_decisions(session: Session, park_id: int, year: int) -> dict[tuple[int, str], m.MrvUnitDecision]:
    d = m.MrvUnitDecision
    rows = session.scalars(select(d).where(d.park_id == park_id, d.year == year).order_by(d.id))
    return {(x.enterprise_id, x.kind): x for x in rows}


def _decision_dict(x: m.MrvUnitDecision, code: str = "") -> dict[str, Any]:
    return {
        "id": x.id, "enterprise_id": x.enterprise_id, "enterprise": code, "year": x.year, "kind": x.kind,
        "decision": "designate" if x.included else "exempt", "included": x.included, "reason": x.reason,
        "decided_by": x.decided_by, "decided_utc": x.decided_utc.isoformat(timespec="seconds"),
    }  # fmt: skip


def _classify(
    e: Any, f: dict[str, Any], decisions: dict[tuple[int, str], m.MrvUnitDecision], ku: dict[str, Any]
) -> tuple[list[str], list[str], dict[str, m.MrvUnitDecision]]:
    """An enterprise's reasons, kinds and latest decisions by kind (see the module)."""
    by_measure = {
        "key_energy_user": (
            "energy",
            key_unit_reason(f["energy_tce"], ku["key_energy_user"]["threshold_tce"],
                            ku["key_energy_user"].get("designable_from_tce")),
        ),
        "key_carbon_emitter": (
            "co2",
            key_unit_reason(f["co2_t"], ku["key_carbon_emitter"]["threshold_co2_t"],
                            ku["key_carbon_emitter"].get("designable_from_co2_t")),
        ),
    }  # fmt: skip
    tags = {t.strip() for t in (e.tags or "").split(",") if t.strip()}
    reasons: list[str] = []
    kinds: list[str] = []
    latest: dict[str, m.MrvUnitDecision] = {}
    for kind in KINDS:
        measure, found = by_measure[kind]
        if found is not None:
            reasons.append(f"{measure}_{found}")
        tagged = kind in tags
        if tagged and "tagged_in_enterprise_file" not in reasons:
            reasons.append("tagged_in_enterprise_file")
        dec = decisions.get((e.id, kind))
        if dec is not None:
            latest[kind] = dec
            reasons.append("designated" if dec.included else "exempted")
            member = dec.included
        else:
            member = found == "over_threshold" or tagged
        if member:
            kinds.append(kind)
    return reasons, kinds, latest


def _inputs(
    session: Session, park_id: int, year: int, enterprise_ids: Iterable[int] | None
) -> tuple[list[Any], dict[int, dict[str, Any]], dict[tuple[int, str], m.MrvUnitDecision]]:
    """The enterprises (rows: id, code, name, zone_id, tags), their figures and the latest decisions."""
    park = session.get(m.Park, park_id)
    if park is None:
        raise LookupError("no such park")
    e_ = m.Enterprise
    q = select(e_.id, e_.code, e_.name, e_.zone_id, e_.tags).where(e_.park_id == park_id).order_by(e_.code)
    ents = list(session.execute(q))
    if enterprise_ids is not None:
        wanted = set(enterprise_ids)
        ents = [e for e in ents if e.id in wanted]
    return ents, _figures(session, park, ents, year), _latest_decisions(session, park_id, year)


def register_rows(
    session: Session,
    park_id: int,
    year: int,
    enterprise_ids: Iterable[int] | None = None,
    *,
    every: bool = False,
) -> list[dict[str, Any]]:
    """The register of a park and year, for the enterprises named (default: all of the park), not
    scoped to a reader — callers scope first (:func:`register` does). Rows without any reason are
    left out unless ``every``.

    Each row: ``enterprise`` (code), ``enterprise_id``, ``name``, ``zone_id``, ``energy_tce``, ``co2_t``,
    ``source``, ``report_id``, ``reasons``, ``kinds``, ``obligations``, ``decisions`` (the latest per kind)."""
    ents, figures, decisions = _inputs(session, park_id, year, enterprise_ids)
    shipped = rules.shipped_rules()
    ku, obligations = shipped["key_units"], shipped["obligations"]
    rows = []
    for e in ents:
        f = figures[e.id]
        reasons, kinds, latest = _classify(e, f, decisions, ku)
        if not reasons and not every:
            continue
        obl = list(dict.fromkeys(o for k in kinds for o in obligations.get(k, [])))
        rows.append({
            "enterprise": e.code, "enterprise_id": e.id, "name": e.name, "zone_id": e.zone_id, "year": year,
            "energy_tce": f["energy_tce"], "co2_t": f["co2_t"], "source": f["source"], "report_id": f["report_id"],
            "reasons": list(dict.fromkeys(reasons)), "kinds": kinds, "obligations": obl,
            "decisions": {k: _decision_dict(d, e.code) for k, d in latest.items()},
        })  # fmt: skip
    return rows


def unit_obligations(session: Session, park_id: int, year: int) -> dict[int, frozenset[str]]:
    """Each enterprise's obligations for the year (enterprise id → obligations; enterprises without
    any left out): the ``obligations`` of :func:`register_rows` without building its rows — the
    status board asks on every call, and a thousand rows kept alive cost it garbage collections."""
    ents, figures, decisions = _inputs(session, park_id, year, None)
    shipped = rules.shipped_rules()
    ku, obligations = shipped["key_units"], shipped["obligations"]
    of_kinds: dict[tuple[str, ...], frozenset[str]] = {}
    out: dict[int, frozenset[str]] = {}
    for e in ents:
        kinds = tuple(_classify(e, figures[e.id], decisions, ku)[1])
        if kinds not in of_kinds:
            of_kinds[kinds] = frozenset(o for k in kinds for o in obligations.get(k, []))
        if of_kinds[kinds]:
            out[e.id] = of_kinds[kinds]
    return out


def register(session: Session, actor: Actor, year: int, *, every: bool = False) -> list[dict[str, Any]]:
    """The register rows the actor may read (see :func:`register_rows`)."""
    readable = readable_enterprises(session, actor)
    return register_rows(session, actor.park_id, year, readable, every=every)


def must_report(session: Session, park_id: int, year: int, obligation: str = "monthly_evidence") -> list[int]:
    """The enterprises of a park whose obligations for the year include ``obligation`` (unscoped)."""
    return [
        r["enterprise_id"] for r in register_rows(session, park_id, year) if obligation in r["obligations"]
    ]


def decide(
    session: Session, actor: Actor, enterprise_id: int, year: int, kind: str, included: bool, reason: str
) -> dict[str, Any]:
    """Designate (``included``) or exempt an enterprise as a key unit of ``kind`` for ``year``, with a
    reason (required). Park staff and admins only; appended, never edited; logged and audited."""
    require(session, actor, "register.decide", enterprise_id)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not 1900 <= year <= 2200:
        raise ValueError("year out of range")
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a decision needs a reason")
    if len(reason) > REASON_MAX:
        raise ValueError(f"the reason is longer than {REASON_MAX} characters")
    ent = enterprise_in_reach(session, actor, enterprise_id)
    before = _latest_decisions(session, actor.park_id, year).get((enterprise_id, kind))
    row = m.MrvUnitDecision(park_id=actor.park_id, enterprise_id=enterprise_id, year=year, kind=kind,
                            included=included, reason=reason, decided_by=actor.username)  # fmt: skip
    session.add(row)
    session.flush()
    out = _decision_dict(row, ent.code)
    log.append(session, actor=actor.username, action="register.decide", entity="mrv_unit_decision",
               entity_id=row.id, park_id=actor.park_id, enterprise_id=enterprise_id,
               payload={"year": year, "kind": kind, "decision": out["decision"], "reason": reason})  # fmt: skip
    with Changes(session, by=actor.username, batch="mrv", park_id=actor.park_id) as ch:
        ch.record("mrv_unit_decision", f"{ent.code}|{year}|{kind}",
                  None if before is None else {"included": before.included, "reason": before.reason},
                  {"included": included, "reason": reason}, enterprise_id=enterprise_id, zone_id=ent.zone_id)  # fmt: skip
    return out


def decisions(session: Session, actor: Actor, year: int) -> list[dict[str, Any]]:
    """Every decision of the year on enterprises the actor may read, newest first (the history)."""
    readable = readable_enterprises(session, actor)
    d = m.MrvUnitDecision
    q = (select(d, m.Enterprise.code).join(m.Enterprise, m.Enterprise.id == d.enterprise_id)
         .where(d.park_id == actor.park_id, d.year == year).order_by(d.id.desc()))  # fmt: skip
    return [_decision_dict(x, code) for x, code in session.execute(q) if x.enterprise_id in readable]


# --------------------------------------------------------------------------- the park's deadlines

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _check_deadlines(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in values.items():
        if key == "evidence_days_after_month_end":
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 120:
                raise ValueError("evidence_days_after_month_end: a whole number of days from 1 to 120")
        elif key in ("report_due_month_day", "verification_due_month_day"):
            match = _MONTH_DAY.match(str(v))
            try:
                if match is None:
                    raise ValueError
                date(2023, int(match.group(1)), int(match.group(2)))  # not a leap year: no 02-29
            except ValueError:
                raise ValueError(f"{key}: a day of the year as MM-DD, e.g. 03-31") from None
        elif key == "reminder_days_before":
            if (
                not isinstance(v, list)
                or len(v) > 5
                or any(isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 90 for x in v)
            ):
                raise ValueError("reminder_days_before: up to 5 whole numbers of days from 0 to 90")
            v = sorted(set(v), reverse=True)
        out[key] = v
    return out


def park_deadlines(session: Session, actor: Actor) -> dict[str, Any]:
    """The park's deadlines (every signed-in user of the park may read them)."""
    return rules.deadlines(session, actor.park_id)


def set_park_deadlines(session: Session, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    """Set the park's own deadlines (park staff and admins); logged. Returns them all."""
    require(session, actor, "settings.deadlines")
    checked = _check_deadlines(values)
    before = rules.deadlines(session, actor.park_id)
    after = rules.set_deadlines(session, actor.park_id, checked, by=actor.username)
    log.append(session, actor=actor.username, action="settings.deadlines", entity="park", entity_id=actor.park_id,
               park_id=actor.park_id, payload={"set": checked})  # fmt: skip
    with Changes(session, by=actor.username, batch="mrv", park_id=actor.park_id) as ch:
        ch.record("mrv_deadlines", str(actor.park_id), {k: before.get(k) for k in checked}, checked)
    return after


def kinds_summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many units of each kind a register has (for a page's header)."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        for k in r["kinds"]:
            counts[k] += 1
    return {k: counts.get(k, 0) for k in KINDS}

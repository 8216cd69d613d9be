"""The demo park's reporting and verification cycle (issue 13), so that its pages are alive after
``make run``: a verification body with the demo ``verifier`` as its member, two enterprises of the
5 000–10 000 tce band designated as key energy users for the last full year, and one of them
(not the demo ``enterprise`` user's, which is left for the visitor to run) with its twelve months
of evidence and its annual report accepted and assigned to the body.

Every figure here is the demo's illustrative continuation (the enterprise's own monthly activity
records of that year), said so in each note; the body is fictitious and says so in its name.
Loaded once: a park that already has the demo body is left as it is.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.mrv import evidence, register, reports, verification
from greenpark.services.mrv.access import Actor
from greenpark.services.park.auth import Role
from greenpark.store import models as m

#: The demo's verification body (fictitious).
BODY_CODE = "DEMO-VB"
BODY_NAME = "演示核查机构（虚构）"
#: The enterprises the demo designates (both in the 5 000–10 000 tce band in the demo data) and the
#: one whose year is carried up to the verification's assignment.
DESIGNATED = ("E01", "E04")
CARRIED = "E04"
#: The demo's cycle year: the last full year of the illustrative continuation.
YEAR = 2025
NOTE = "演示数据：示意性延续数据中本企业该月的能源消费"
BY = "greenpark demo"


def load_demo_cycle(session: Session, park: m.Park) -> bool:
    """Load the demo's cycle into ``park``; False when it is there already (or a demo enterprise,
    the ``verifier`` user or the year's monthly activity is missing)."""
    if session.scalar(select(m.MrvBody.id).where(m.MrvBody.park_id == park.id, m.MrvBody.code == BODY_CODE)):
        return False
    ents = {
        e.code: e
        for e in session.scalars(
            select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code.in_(DESIGNATED))
        )
    }
    if set(ents) != set(DESIGNATED) or not session.scalar(
        select(m.AppUser.id).where(m.AppUser.username == "verifier")
    ):
        return False
    ent = ents[CARRIED]
    months: dict[int, dict[str, float]] = defaultdict(dict)
    q = select(m.ActivityRecord).where(
        m.ActivityRecord.enterprise_id == ent.id, m.ActivityRecord.year == YEAR,
        m.ActivityRecord.month.is_not(None), m.ActivityRecord.carrier_code.is_not(None),
    )  # fmt: skip
    for r in session.scalars(q):
        assert r.month is not None and r.carrier_code is not None
        months[r.month][r.carrier_code] = months[r.month].get(r.carrier_code, 0.0) + (r.quantity or 0.0)
    if not months:  # a demo without the illustrative continuation has no year to carry
        return False
    officer = Actor(username=BY, role=Role.ADMIN, park_id=park.id)
    verification.add_body(session, officer, code=BODY_CODE, name=BODY_NAME, contact="demo@example.org")
    verification.add_member(session, officer, BODY_CODE, "verifier")
    for code in DESIGNATED:
        register.decide(
            session, officer, ents[code].id, YEAR, "key_energy_user", True,
            "演示：园区指定（年综合能耗 5 000–10 000 吨标准煤，规划 5.3）",
        )  # fmt: skip

    for month, energy in sorted(months.items()):
        evidence.submit(session, officer, ent.id, YEAR, month, energy=energy, note=NOTE)

    gas = sum(e.get("natural_gas", 0.0) for e in months.values())  # 10⁴ m³
    power_mwh = 10 * sum(e.get("electricity", 0.0) for e in months.values())  # 10⁴ kWh → MWh
    inp = reports.ReportInput(
        combustion=[reports.CombustionIn(carrier="natural_gas", quantity=round(gas, 2))] if gas else [],
        electricity=[reports.PurchasedIn(quantity=round(power_mwh, 1), item="电网购入电力")] if power_mwh else [],
        contact="demo@example.org",
        note=NOTE,
    )  # fmt: skip
    report = reports.submit_report(session, officer, ent.id, YEAR, inp, source="page")
    reports.review_report(session, officer, report.id, accept=True, comment="演示：园区审核通过")
    verification.assign(session, officer, enterprise_id=ent.id, year=YEAR, body_code=BODY_CODE)
    return True

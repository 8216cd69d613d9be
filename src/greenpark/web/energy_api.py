"""The energy platform's API (issue 14): gateways push readings (``POST /api/energy/readings`` with
``Authorization: Bearer <gateway token>``); users read meters and their cleaned series within
their scope (``/api/energy/meters``, ``/api/energy/meters/{meter_code}/series``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from greenpark.services.energy import meters, readings, rollup
from greenpark.services.park.parks import get_park
from greenpark.store import models as m
from greenpark.web.deps import DB, CurrentPrincipal, Principal, SignedIn
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.pages import render
from greenpark.web.scope import OwnEnterprises, ReadableMeter

router = APIRouter(route_class=LocalizedRoute)


def gateway_caller(request: Request, db: DB) -> m.EnergyGateway:
    """The gateway whose token the request carries (401 without a valid one). A gateway is a
    machine: no cookie, no CSRF; its token reaches only its own enterprise's meters."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    gw = meters.gateway_for_token(db, token)
    if gw is None:
        raise HTTPException(401, "send the gateway's token: Authorization: Bearer <token>")
    return gw


gateway_caller.allowed_roles = frozenset({"gateway"})  # type: ignore[attr-defined]
Gateway = Annotated[m.EnergyGateway, Depends(gateway_caller)]


def _reach(p: Principal, own: frozenset[int], request: Request) -> frozenset[int] | None:
    """The enterprises a listing covers: the caller's reach (``OwnEnterprises``, already narrowed to an
    ``enterprise_id`` asked for); None (the whole park) for a whole-park reader who asked for none."""
    if p.whole_park and "enterprise_id" not in request.query_params:
        return None
    return own


@router.post("/api/energy/readings", tags=["energy"])
async def push_readings(request: Request, gw: Gateway, db: DB) -> dict[str, Any]:
    """Store a batch of readings from a gateway: ``{"readings": [{"meter", "t", "v"}, …]}`` (see
    docs/energy.md). Answers what was stored, repeated and refused (each refusal with its index and
    reason); the answer is sent only after the batch is committed."""
    body = await request.body()
    try:
        good, bad = readings.parse_payload(body)
    except readings.PayloadError as exc:
        raise HTTPException(422, str(exc)) from None
    out = readings.store_readings(
        db, gw.park_id, good, "http", enterprise_id=gw.enterprise_id, gateway_id=gw.id, refused=bad
    )
    readings.touch_gateway(db, gw.id)
    return out.as_dict()


@router.get("/api/energy/meters", tags=["energy"])
def list_meters(p: SignedIn, db: DB, own: OwnEnterprises, request: Request) -> list[dict[str, Any]]:
    """The park's meters the caller may read (an enterprise user: its own)."""
    return meters.meter_rows(db, get_park(db).id, _reach(p, own, request))


def _utc(t: datetime) -> datetime:
    """A time asked for: with its zone as written, without one as Beijing time; naive UTC."""
    try:
        return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t - rollup.BEIJING
    except OverflowError:
        raise HTTPException(422, "a time out of range") from None


@router.get("/api/energy/meters/{meter_code}/series", tags=["energy"])
def meter_series(
    meter: ReadableMeter,
    db: DB,
    p: SignedIn,
    step: Literal["15min", "hour", "day", "month"] = "hour",
    start: Annotated[datetime | None, Query(description="Beijing time; default: 2 days ago")] = None,
    end: Annotated[datetime | None, Query(description="Beijing time; default: now")] = None,
) -> dict[str, Any]:
    """The meter's cleaned energy per period with coverage and flags (cleaned on reading, nothing
    written: a reader never holds the database's write lock)."""
    now = m.utcnow()
    end_utc = _utc(end) if end else now
    start_utc = _utc(start) if start else end_utc - timedelta(days=2)
    if not timedelta(0) < end_utc - start_utc <= timedelta(days=400):
        raise HTTPException(422, "start must be before end, at most 400 days apart")
    slots, pending = rollup.compute_slots(db, meter, start_utc, end_utc)  # read only: nothing written
    return {
        "meter": meter.code,
        "unit": meter.unit,
        "step": step,
        "pending_from": pending.isoformat() if pending else None,
        "series": rollup.aggregate(slots, meter.unit, step),
    }


@router.get("/api/energy/overview", tags=["energy"])
def energy_overview(p: SignedIn, db: DB, own: OwnEnterprises, request: Request) -> dict[str, Any]:
    """Every meter the caller may read with its last reading and today's and this month's cleaned
    energy, coverage and flags (Beijing time)."""
    rows = rollup.overview(db, get_park(db).id, _reach(p, own, request))
    return {"meters": rows, "now_utc": m.utcnow().isoformat(timespec="seconds") + "Z"}


@router.get("/energy", response_class=HTMLResponse, include_in_schema=False)
def energy_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "energy.html", p)

"""The parks in this house, and which one a session works on.

Every service that reads or writes a park's data asks :func:`get_park`; the web layer names the
signed-in user's park on the session (:func:`use_park`), the CLI the ``--park`` option's, so that a
service never guesses: with one park it is that park, with several and none named it is an error
that names them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.store import models as m

#: The key on ``Session.info`` that names the park the session works on.
PARK_KEY = "park_code"
#: The park a command-line process works on (``--park``), for sessions that name none.
PROCESS_PARK: ContextVar[str | None] = ContextVar("greenpark_park", default=None)


class ParkError(ValueError):
    """No park, an unknown park, or several parks and none named."""


def all_parks(session: Session) -> list[m.Park]:
    return list(session.scalars(select(m.Park).order_by(m.Park.id)))


def _codes(parks: list[m.Park]) -> str:
    return ", ".join(p.code for p in parks)


def find_park(session: Session, code: str) -> m.Park:
    """The park with this code, or :class:`ParkError` naming the parks there are."""
    park = session.scalars(select(m.Park).where(m.Park.code == code)).first()
    if park is None:
        parks = all_parks(session)
        known = f"; the parks are {_codes(parks)}" if parks else "; there is no park yet"
        raise ParkError(f"unknown park {code!r}{known}")
    return park


def get_park(session: Session, park_code: str | None = None) -> m.Park:
    """The park asked for, else the session's park (:func:`use_park`), else the process's
    (``--park``), else the only park."""
    code = park_code or session.info.get(PARK_KEY) or PROCESS_PARK.get()
    if code:
        return find_park(session, code)
    parks = all_parks(session)
    if not parks:
        raise ParkError(
            "no park in the database: create one with `greenpark park create park.xlsx`"
            " (or load the demo park with `greenpark demo`)"
        )
    if len(parks) > 1:
        raise ParkError(f"there are {len(parks)} parks ({_codes(parks)}): choose one with --park CODE")
    return parks[0]


def use_park(session: Session, code: str | None) -> m.Park | None:
    """Name the park this session works on (None: the only park, as :func:`get_park` says)."""
    if code is None:
        session.info.pop(PARK_KEY, None)
        return None
    park = find_park(session, code)
    session.info[PARK_KEY] = park.code
    return park


def park_summaries(session: Session) -> list[dict[str, Any]]:
    """Each park: code, names, and how many zones and enterprises it has."""
    zones = dict(
        session.execute(select(m.Zone.park_id, func.count(m.Zone.id)).group_by(m.Zone.park_id)).all()
    )
    ents = dict(
        session.execute(
            select(m.Enterprise.park_id, func.count(m.Enterprise.id)).group_by(m.Enterprise.park_id)
        ).all()
    )
    return [
        {
            "code": p.code,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "zones": int(zones.get(p.id, 0)),
            "enterprises": int(ents.get(p.id, 0)),
        }
        for p in all_parks(session)
    ]

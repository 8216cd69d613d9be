"""Warming the caches: the app's start-up job (and its job after an import), not a service's."""

from __future__ import annotations

from greenpark.services.carbon.cockpit import cockpit
from greenpark.services.park.parks import ParkError, all_parks, use_park
from greenpark.services.plan.indicators import scorecard
from greenpark.store.db import session_scope


def warm(database_url: str) -> int:
    """Compute the cockpit of every park and zone for the latest year and every park's indicator
    scorecard, filling the inventory cache.

    Run in the background at start-up and after an import, so the first page view after a
    change does not pay for it. Returns how many cockpits and scorecards were computed.
    """
    done = 0
    with session_scope(database_url) as session:
        for park in all_parks(session):
            try:
                use_park(session, park.code)
                for scope in ["park", *(z.code for z in park.zones)]:
                    cockpit(session, scope, None, park.code)
                    done += 1
                scorecard(session)  # the indicators' inventories (every year of their scopes)
                done += 1
            except ParkError:
                continue  # a park without data yet
    return done

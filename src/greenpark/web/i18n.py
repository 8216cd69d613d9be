"""The language of a request, and the menus each role sees. The words themselves are in the
catalogue (``greenpark/i18n``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.datastructures import Default, DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from greenpark.i18n import LANGS, N_, current_lang, localize
from greenpark.services.park.auth import Role


def lang_of(request: Request) -> str:
    """The page's language: ``?lang=``, then the ``lang`` cookie, then the park's setting."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("lang")
    if c in LANGS:
        return c
    app = request.scope.get("app")
    return str(app.state.settings.language) if app is not None else "zh"


def api_lang(request: Request) -> str:
    """The language of an API answer's messages: ``?lang=``, the page's ``Accept-Language``, the
    ``lang`` cookie; English for a machine client that says nothing."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    accept = request.headers.get("accept-language", "").strip().lower()
    if accept.startswith("zh"):
        return "zh"
    if accept.startswith("en"):
        return "en"
    c = request.cookies.get("lang")
    return c if c in LANGS else "en"


ANYONE = frozenset(Role)
SIGNED_IN = frozenset(
    {Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.VERIFIER, Role.BUREAU, Role.ENTERPRISE}
)
READERS = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER, Role.BUREAU})
IMPORTERS = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.ENTERPRISE})
ADMINS = frozenset({Role.ADMIN})
#: The reporting and verification cycle (services/mrv/access.py says what each may do there).
MRV_OFFICERS = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.BUREAU})
MRV_REPORTERS = MRV_OFFICERS | {Role.ENTERPRISE}
MRV_VERIFICATION = MRV_REPORTERS | {Role.VERIFIER}


@dataclass(frozen=True)
class Item:
    href: str
    label: str  # a message id
    roles: frozenset[Role]


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[Item, ...]


#: The sections of greenpark in menus; each item is shown to the roles that can use it.
MENU = (
    Group(N_("Carbon and energy"), (
        Item("/", N_("Cockpit"), ANYONE),
        Item("/inventory", N_("Inventory"), ANYONE),
        Item("/sankey", N_("Energy flow"), ANYONE),
        Item("/energy", N_("Meters and energy"), SIGNED_IN),
        Item("/factors", N_("Factor sets"), ANYONE),
        Item("/reproduce", N_("Plan check"), ANYONE),
    )),
    Group(N_("Environment"), (Item("/environment", N_("Environmental quality"), ANYONE),)),
    Group(N_("Pollution"), (
        Item("/monitoring", N_("Source monitoring"), SIGNED_IN),
        Item("/alarms", N_("Alarms"), SIGNED_IN),
        Item("/enterprises", N_("Enterprise file"), SIGNED_IN),
        Item("/tracing", N_("River tracing"), READERS),
    )),
    Group(N_("Plan and indicators"), (
        Item("/indicators", N_("Indicators"), ANYONE),
        Item("/projects", N_("Tasks and projects"), SIGNED_IN),
        Item("/land", N_("Land use"), READERS),
    )),
    Group(N_("Roadmap"), (Item("/roadmap", N_("Carbon-peak roadmap"), ANYONE),)),
    Group(N_("Reporting"), (
        Item("/inbox", N_("My tasks"), SIGNED_IN),
        Item("/mrv/status", N_("Reporting status"), MRV_OFFICERS),
        Item("/mrv/units", N_("Key units"), MRV_OFFICERS),
        Item("/mrv/enterprise", N_("Plan and monthly evidence"), MRV_REPORTERS),
        Item("/mrv/reports", N_("Annual GHG reports"), MRV_REPORTERS),
        Item("/mrv/verification", N_("Verification"), MRV_VERIFICATION),
    )),
    Group(N_("Management"), (
        Item("/import", N_("Data import"), IMPORTERS),
        Item("/admin", N_("Administration"), ADMINS),
        Item("/parks", N_("Parks overview"), frozenset({Role.ADMIN, Role.BUREAU})),
    )),
)  # fmt: skip


def menu_for(role: Role, path: str) -> list[dict[str, object]]:
    """The menus ``role`` sees (empty groups left out), the current page's group marked."""
    out = []
    for g in MENU:
        items = [i for i in g.items if role in i.roles]
        if items:
            out.append({"label": g.label, "items": items, "active": any(i.href == path for i in items)})
    return out


def allowed(role: Role, path: str) -> bool:
    """Whether ``role`` may open the page at ``path`` (pages outside the menu are open)."""
    for g in MENU:
        for i in g.items:
            if i.href == path:
                return role in i.roles
    return True


class LanguageMiddleware:
    """Sets the language of the request's answer (pages: :func:`lang_of`; the API: :func:`api_lang`)
    for everything that renders messages while it is being answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        lang = api_lang(request) if scope.get("path", "").startswith("/api/") else lang_of(request)
        token = current_lang.set(lang)
        try:
            await self.app(scope, receive, send)
        finally:
            current_lang.reset(token)


class LocalizedJSON(JSONResponse):
    """JSON whose messages (:class:`greenpark.i18n.Msg`) are rendered in the request's language."""

    def render(self, content: Any) -> bytes:
        return super().render(localize(content))


_INFERRED = Default(None)


class LocalizedRoute(APIRoute):
    """An API route whose answer is rendered by :class:`LocalizedJSON` as the route returns it: no
    response model is inferred from a ``dict``/``list`` return annotation (which would turn every
    message into plain text before it could be put in the reader's language). A route that names
    its ``response_model`` keeps it."""

    def __init__(self, path: str, endpoint: Any, *, response_model: Any = _INFERRED, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None
        super().__init__(path, endpoint, response_model=response_model, **kwargs)

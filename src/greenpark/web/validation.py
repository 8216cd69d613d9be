"""Input validation at the edge, in one place: bounded numbers, bounded text without control
characters, finite floats, and the JSON bodies' nesting. Routes use these types; a test walks every
route and fails on a number or a text parameter without bounds.

Every bad input becomes a 4xx with a reason (``docs/security.md`` lists the limits).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

#: Integer columns are 32-bit on PostgreSQL: ids and counts beyond are refused before any query.
INT32_MAX = 2**31 - 1
#: The largest integer a JSON number carries exactly (and far beyond any quantity greenpark keeps).
JSON_INT_MAX = 2**53
#: Free text in a JSON body (a note, a name): characters.
TEXT_MAX = 20_000
#: Nesting of JSON bodies (scenario specs are the deepest, at about 6).
JSON_DEPTH_MAX = 16
#: Elements of a list in a JSON body (rows of a table saved from a page).
JSON_LIST_MAX = 10_000
#: Length of the query string.
QUERY_MAX = 8_192

#: C0 control characters and DEL, except tab, line feed and carriage return (which notes may hold).
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Anything below space and DEL: never in a URL once decoded.
_CONTROL_IN_URL = re.compile(r"[\x00-\x1f\x7f]")


class InputError(ValueError):
    """Refused input; the message says what and where."""


def control_character(text: str) -> str | None:
    """The first control character of ``text`` not allowed in stored text (as ``U+XXXX``), else None."""
    found = _CONTROL_IN_TEXT.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_text(text: str, where: str = "text", max_length: int = TEXT_MAX) -> str:
    if len(text) > max_length:
        raise InputError(f"{where}: longer than {max_length} characters")
    bad = control_character(text)
    if bad:
        raise InputError(f"{where}: control character {bad} not allowed")
    return text


def check_json(value: Any, where: str = "body", depth: int = 0) -> Any:
    """Refuse control characters, non-finite numbers, integers beyond 2^53, deep nesting and long
    lists anywhere in a JSON value; returns it unchanged."""
    if depth > JSON_DEPTH_MAX:
        raise InputError(f"{where}: nested deeper than {JSON_DEPTH_MAX} levels")
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > JSON_INT_MAX:
            raise InputError(f"{where}: integer out of range (±2^53)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{where}: NaN and infinity are not numbers greenpark accepts")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(str(k), f"{where}: key", 200)
            check_json(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list | tuple):
        if len(value) > JSON_LIST_MAX:
            raise InputError(f"{where}: more than {JSON_LIST_MAX} elements")
        for i, v in enumerate(value):
            check_json(v, f"{where}[{i}]", depth + 1)
    return value


def _checked_json(value: Any) -> Any:
    return check_json(value)


def _checked_text(value: str) -> str:
    return check_text(value)


class InModel(BaseModel):
    """Base of every JSON body: finite floats, bounded text without control characters (also
    inside free-form dicts and lists)."""

    model_config = ConfigDict(allow_inf_nan=False, str_max_length=TEXT_MAX)

    @model_validator(mode="before")
    @classmethod
    def _no_bad_values(cls, data: Any) -> Any:
        return check_json(data)


#: A JSON object body of free form (validated like InModel).
JsonObject = Annotated[dict[str, Any], AfterValidator(_checked_json)]
#: A list of JSON objects (rows of a table).
JsonRows = Annotated[list[dict[str, Any]], Field(max_length=JSON_LIST_MAX), AfterValidator(_checked_json)]
#: Free text in a body field.
Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(_checked_text)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(_checked_text)]

# Path and query parameters
Id = Annotated[int, Path(ge=1, le=INT32_MAX, description="a record's id")]
QueryId = Annotated[int, Query(ge=1, le=INT32_MAX)]
Year = Annotated[int, Query(ge=1900, le=2200, description="a calendar year")]
OptYear = Annotated[int | None, Query(ge=1900, le=2200, description="a calendar year")]
PathYear = Annotated[int, Path(ge=1900, le=2200)]
#: A concentration or other measured amount in a query (finite, ≥ 0).
Conc = Annotated[float | None, Query(ge=0, le=1e9)]
#: A code or key in a query: a scope, a scenario, a station, an indicator.
Code = Annotated[str, Query(min_length=1, max_length=100)]
OptCode = Annotated[str | None, Query(min_length=1, max_length=100)]
PathCode = Annotated[str, Path(min_length=1, max_length=100)]
#: A comma-separated list of codes.
Codes = Annotated[str, Query(min_length=1, max_length=2_000)]


def url_problem(path: str, query: str) -> tuple[int, str] | None:
    """Why a request's URL is refused (status, reason), if it is: control characters anywhere once
    decoded, or an over-long query string."""
    from urllib.parse import unquote_plus

    if len(query) > QUERY_MAX:
        return 414, f"query string longer than {QUERY_MAX} characters"
    if _CONTROL_IN_URL.search(path) or _CONTROL_IN_URL.search(unquote_plus(query)):
        return 400, "control characters are not allowed in the URL"
    return None

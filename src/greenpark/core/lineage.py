"""The lineage a verified activity record carries in its ``source_ref`` (written by the reporting
cycle's :mod:`greenpark.services.mrv.inventory_flow`), read back so that a page can say it in any
language."""

from __future__ import annotations

import re

#: How a verified activity record names its source (``source_ref``): the body, the first 12 hex
#: digits of the signed statement's SHA-256 and the report version it verified.
_LINEAGE = re.compile(r"^verified: (?P<body>.+), statement (?P<statement>[^,]+), report v(?P<version>\d+)$")


def lineage_parts(source_ref: str) -> tuple[str, str, int] | None:
    """The (body, statement, report version) a verified record's ``source_ref`` names, or None when
    it is not a verification's lineage (so a page can say it in any language).

    >>> lineage_parts("verified: 湖北省某核查机构, statement abababababab, report v2")
    ('湖北省某核查机构', 'abababababab', 2)
    >>> lineage_parts("import 2025.xlsx") is None
    True
    """
    found = _LINEAGE.match(source_ref)
    if found is None:
        return None
    return found["body"], found["statement"], int(found["version"])

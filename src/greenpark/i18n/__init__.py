"""Every word a user reads, in Chinese (the default) or English: one gettext catalogue.

The message ids are the English texts; ``zh_CN.po`` (a gettext catalogue kept with Babel, see
``make messages``) holds their Chinese. Page templates call ``_('…')``, page scripts ``_('…')``
(``GP._``, from the catalogue the app serves as ``/i18n/zh.js``), Python code ``tr('…', lang)``;
placeholders are ``{name}``. A message whose language is only known where it is shown (an import
error, a refusal) is a :class:`Msg`: a ``str`` holding the English text that also keeps its id and
parameters, so the web edge can render it in the caller's language.

``tests/test_i18n.py`` extracts every message id from the code, templates and scripts and fails on
one without a Chinese translation.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
CATALOGUE = Path(__file__).with_name("zh_CN.po")
_FIELD = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def _zh() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as f:
        cat = read_po(f, locale="zh_CN")
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


def catalogue(lang: str) -> dict[str, str]:
    """The translations of ``lang`` (English is the identity: an empty mapping)."""
    return dict(_zh()) if lang == "zh" else {}


def fill(template: str, params: dict[str, Any]) -> str:
    """Put ``params`` into the ``{name}`` fields of ``template`` (unknown fields stay as they are)."""
    if not params:
        return template
    return _FIELD.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), template)


def tr(msgid: str, lang: str, **params: Any) -> str:
    """The text of ``msgid`` in ``lang`` with its parameters filled in."""
    text = _zh().get(msgid, msgid) if lang == "zh" else msgid
    return fill(text, {k: render(v, lang) for k, v in params.items()})


#: The language of the answer being built (set per request by the web app; English elsewhere, as
#: for the command line).
current_lang: ContextVar[str] = ContextVar("greenpark_lang", default="en")


def N_(msgid: str) -> str:
    """Mark a message id for the catalogue without translating it here."""
    return msgid


class Msg(str):
    """A message whose language is chosen where it is shown: its text is in the language of the
    answer being built when it is made (English outside a web request), and :func:`render` gives it
    in any other language from its id and parameters."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Msg:
        # its text is in the language of the answer being built (English outside a request)
        obj = super().__new__(cls, tr(msgid, current_lang.get(), **params))
        obj.msgid = msgid
        obj.params = params
        return obj

    def __reduce__(self) -> Any:
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict[str, Any]) -> Msg:
    return Msg(msgid, **params)


def render(value: Any, lang: str) -> Any:
    """``value`` with every :class:`Msg` in it (also inside dicts, lists and tuples) rendered in
    ``lang``; other values unchanged."""
    if isinstance(value, Msg):
        return tr(value.msgid, lang, **value.params)
    if isinstance(value, dict):
        return {k: render(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(render(v, lang) for v in value)
    return value


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGS else "zh"


def localize(value: Any) -> Any:
    """:func:`render` in the current request's language."""
    return render(value, current_lang.get())


def message_of(exc: BaseException) -> str:
    """An exception's message, keeping it a :class:`Msg` when it was raised with one (``str(exc)``
    would turn it into plain English)."""
    if exc.args and isinstance(exc.args[0], str) and len(exc.args) == 1:
        return exc.args[0]
    return str(exc)

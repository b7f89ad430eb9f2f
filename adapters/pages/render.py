"""Templates and translations: Jinja2 with autoescaping, gettext catalogues compiled by Babel.

Templates are written in Chinese (the msgids); the English catalogue in ``locales/en``
translates them. The chosen language lives in a cookie, never in a page's URL.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from adapters.pages.security import LANG_COOKIE, Guard, Session, set_session_cookie

LOCALES = {"zh": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locales"

_env = Environment(loader=PackageLoader("adapters.pages", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale == "zh":
        return gettext.NullTranslations()
    return gettext.translation("messages", localedir=LOCALE_DIR, languages=[locale])


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LOCALES else "zh"


def gettext_for(request: Request) -> Any:
    return translations(locale_of(request)).gettext


def page(request: Request, guard: Guard, session: Session, template: str,
         status: int = 200, **context: Any) -> HTMLResponse:
    """Renders ``template`` in the visitor's language, with a fresh CSRF token for its forms."""
    locale = locale_of(request)
    html = _env.get_template(template).render(
        _=translations(locale).gettext, locale=locale, locales=LOCALES,
        csrf=guard.csrf_token(session), path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status)
    set_session_cookie(request, response, session)
    return response

"""Jinja2 set-up shared by every page: autoescaping on, the language and its translator in context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.i18n import LANG_COOKIE, MESSAGES, request_language, translator

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
assert templates.env.autoescape, "autoescaping must stay on"
templates.env.auto_reload = False  # templates change with a deploy, not while serving (no stat per render)


def format_number(value: int, lang: str) -> str:
    """Thousands separators as each language writes them: 12.345 in Danish, 12,345 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "da" else text


templates.env.filters["number"] = format_number


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = request_language(request)
    services = request.app.state.services
    response = templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "t": translator(lang), "messages": MESSAGES, "base_uri": services.iris.base, **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response

"""The actors directory: `/actors`, filterable by actor type, expertise, industry and region."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.i18n import request_language, translator
from api.templating import render
from graph.actors import FILTERS, ActorEntry, actors_page
from graph.views import Site

router = APIRouter()


def actor_schema(request: Request, actor: ActorEntry, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "Organization",
        "@id": actor.iri,
        "name": actor.label(lang),
        "url": str(request.base_url).rstrip("/") + actor.path,
    }
    if actor.other_names:
        data["alternateName"] = actor.other_names
    if description := actor.short_description(lang):
        data["description"] = description
    if actor.url:
        data["sameAs"] = actor.url
    if actor.regions:
        data["areaServed"] = [r.label(lang) for r in actor.regions]
    if actor.expertise:
        data["knowsAbout"] = [{"@type": "DefinedTerm", "@id": r.iri, "name": r.label(lang)} for r in actor.expertise]
    return data


@router.get("/actors", response_class=HTMLResponse)
def actors(request: Request) -> HTMLResponse:
    lang = request_language(request)
    site = Site(request.app.state.services)
    asked = {name: request.query_params.get(name, "") for name in FILTERS}
    page = actors_page(site, asked, lang)
    t = translator(lang)
    schema_org = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": t("actors.title"),
        "url": str(request.url),
        "numberOfItems": len(page.actors),
        "itemListElement": [
            {"@type": "ListItem", "position": i, "item": actor_schema(request, a, lang)}
            for i, a in enumerate(page.actors, start=1)
        ],
    }
    return render(request, "actors.html", {"page": page, "schema_org": schema_org})

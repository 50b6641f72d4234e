"""The Skosmos-compatible REST API, `/rest/v1/…` (answers built by graph.skosmos).

Like Skosmos: JSON-LD bodies sent as `application/json` (or `application/ld+json` when the client
prefers it), open CORS, a JSONP `callback`, 400 for a missing or malformed parameter and 404 for an
unknown vocabulary, concept, group or method — with a JSON body (Skosmos answers errors in plain text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from graph import skosmos
from graph.media import parse_accept
from graph.services import Services
from graph.skosmos import SUPPORTED_FORMATS, SkosmosError

router = APIRouter(prefix="/rest/v1")

CORS = {"Access-Control-Allow-Origin": "*"}
JSON_TYPES = ("application/json", "application/ld+json")  # Skosmos' priorities for JSON answers
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _param(request: Request, name: str) -> str | None:
    return request.query_params.get(name)


def _api_base(request: Request) -> str:
    return str(request.base_url) + "rest/v1/"


def _quality(ranges: list[tuple[str, float, int]], choice: str) -> float:
    """The q an Accept header gives a media type: that of the most specific range covering it."""
    major = choice.split("/")[0]
    best: tuple[int, float] | None = None  # (specificity, q)
    for media, q, _ in ranges:
        specificity = 3 if media == choice else 2 if media == f"{major}/*" else 1 if media == "*/*" else 0
        if specificity and (best is None or specificity > best[0]):
            best = (specificity, q)
    return best[1] if best else 0.0


def _best(accept: str | None, choices: tuple[str, ...]) -> str | None:
    """The choice the Accept header ranks highest (ties go to the earlier choice); the first choice
    when there is no Accept header; None when the client accepts none of them."""
    if not accept or not accept.strip():
        return choices[0]
    ranges = parse_accept(accept)
    scored = [(_quality(ranges, choice), -order, choice) for order, choice in enumerate(choices)]
    q, _, choice = max(scored)
    return choice if q > 0 else None


def _error(exc: SkosmosError) -> Response:
    return Response(
        json.dumps(exc.body(), ensure_ascii=False),
        status_code=exc.status,
        media_type="application/json; charset=utf-8",
        headers=CORS,
    )


def _json(request: Request, build: Callable[[], dict[str, object]]) -> Response:
    """Run `build` and send its dict as Skosmos does; a SkosmosError becomes its error answer."""
    callback = _param(request, "callback")
    if callback is not None and not _CALLBACK.match(callback):
        return _error(SkosmosError(400, "callback parameter is invalid"))
    try:
        data = build()
    except SkosmosError as exc:
        return _error(exc)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    headers = {**CORS, "Vary": "Accept", "X-Content-Type-Options": "nosniff"}
    if callback is not None:
        return Response(f"{callback}({body});", media_type="application/javascript; charset=utf-8", headers=headers)
    media = _best(request.headers.get("accept"), JSON_TYPES) or JSON_TYPES[0]
    return Response(body, media_type=f"{media}; charset=utf-8", headers=headers)


# -- global methods --------------------------------------------------------------------------


@router.get("/vocabularies")
def vocabularies(request: Request) -> Response:
    return _json(
        request,
        lambda: skosmos.list_vocabularies(
            _services(request), lang=_param(request, "lang"), api_base=_api_base(request)
        ),
    )


def _search(request: Request, vocid: str | None) -> Response:
    p = request.query_params
    return _json(
        request,
        lambda: skosmos.search(
            _services(request),
            query=p.get("query"),
            lang=p.get("lang"),
            labellang=p.get("labellang"),
            vocab=p.get("vocab"),
            type=p.get("type"),
            parent=p.get("parent"),
            group=p.get("group"),
            maxhits=p.get("maxhits"),
            offset=p.get("offset"),
            fields=p.get("fields"),
            unique=p.get("unique"),
            vocid=vocid,
        ),
    )


@router.get("/search")
def search(request: Request) -> Response:
    return _search(request, None)


@router.get("/label")
def label(request: Request) -> Response:
    return _json(
        request, lambda: skosmos.label(_services(request), uri=_param(request, "uri"), lang=_param(request, "lang"))
    )


@router.get("/types")
def types(request: Request) -> Response:
    return _json(
        request, lambda: skosmos.types(_services(request), lang=_param(request, "lang"), api_base=_api_base(request))
    )


def _data_format(request: Request) -> str:
    """The RDF format asked for by `format=` or, without it, by the Accept header; 406 otherwise."""
    requested = _param(request, "format")
    if requested:
        requested = requested.strip().replace(" ", "+")  # an unencoded `+` (application/ld+json) arrives as a space
    media = (
        (requested if requested in SUPPORTED_FORMATS else None)
        if requested
        else _best(request.headers.get("accept"), SUPPORTED_FORMATS)
    )
    if media is None:
        raise SkosmosError(406, "Unsupported format. Supported MIME types are: " + " ".join(SUPPORTED_FORMATS))
    return media


def _data(request: Request, vocid: str | None) -> Response:
    """`data?uri=&format=`: a concept's RDF; without `uri`, a vocabulary's whole data (a redirect)."""
    services = _services(request)
    uri = _param(request, "uri")
    try:
        if vocid is not None:
            skosmos.vocabulary(services, vocid)
        elif not uri:
            raise SkosmosError(400, "uri parameter missing")
        media = _data_format(request)
        if not uri:
            assert vocid is not None
            return RedirectResponse(skosmos.vocabulary_data_path(services, vocid, media), 302, headers=CORS)
        triples = skosmos.concept_triples(services, uri=uri, vocid=vocid)
    except SkosmosError as exc:
        return _error(exc)
    headers = {**CORS, "X-Content-Type-Options": "nosniff"}
    if not _param(request, "format"):
        headers["Vary"] = "Accept"
    body = skosmos.serialize_data(services, triples, media)
    return Response(body, media_type=f"{media}; charset=utf-8", headers=headers)


@router.get("/data")
def data(request: Request) -> Response:
    return _data(request, None)


# -- vocabulary-specific methods -------------------------------------------------------------


@router.get("/{vocid}")
def vocabulary_redirect(request: Request, vocid: str) -> Response:
    """Skosmos sends `/rest/v1/{vocid}` on to `/rest/v1/{vocid}/`."""
    try:
        skosmos.vocabulary(_services(request), vocid)
    except SkosmosError as exc:
        return _error(exc)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/rest/v1/{quote(vocid, safe='')}/{query}", 302, headers=CORS)


@router.get("/{vocid}/")
def vocabulary_information(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.vocabulary_information(
            _services(request), vocid, lang=_param(request, "lang"), api_base=_api_base(request)
        ),
    )


@router.get("/{vocid}/types")
def vocabulary_types(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.types(
            _services(request), lang=_param(request, "lang"), api_base=_api_base(request), vocid=vocid
        ),
    )


@router.get("/{vocid}/topConcepts")
def top_concepts(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.top_concepts(
            _services(request), vocid, lang=_param(request, "lang"), scheme=_param(request, "scheme")
        ),
    )


@router.get("/{vocid}/data")
def vocabulary_data(request: Request, vocid: str) -> Response:
    return _data(request, vocid)


@router.get("/{vocid}/search")
def vocabulary_search(request: Request, vocid: str) -> Response:
    return _search(request, vocid)


@router.get("/{vocid}/lookup")
def lookup(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.lookup(
            _services(request),
            vocid,
            label=_param(request, "label"),
            lang=_param(request, "lang"),
            labellang=_param(request, "labellang"),
        ),
    )


@router.get("/{vocid}/label")
def vocabulary_label(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.label(
            _services(request), uri=_param(request, "uri"), lang=_param(request, "lang"), vocid=vocid
        ),
    )


@router.get("/{vocid}/index/")
def index_letters(request: Request, vocid: str) -> Response:
    return _json(request, lambda: skosmos.index_letters(_services(request), vocid, lang=_param(request, "lang")))


@router.get("/{vocid}/index/{letter}")
def index_concepts(request: Request, vocid: str, letter: str) -> Response:
    return _json(
        request,
        lambda: skosmos.index_concepts(
            _services(request),
            vocid,
            letter,
            lang=_param(request, "lang"),
            limit=_param(request, "limit"),
            offset=_param(request, "offset"),
        ),
    )


def _concept_method(
    method: Callable[..., dict[str, object]],
) -> Callable[[Request, str], Response]:
    def endpoint(request: Request, vocid: str) -> Response:
        return _json(
            request, lambda: method(_services(request), vocid, uri=_param(request, "uri"), lang=_param(request, "lang"))
        )

    return endpoint


for _path, _method in (
    ("broader", skosmos.broader),
    ("narrower", skosmos.narrower),
    ("related", skosmos.related),
    ("children", skosmos.children),
    ("hierarchy", skosmos.hierarchy),
    ("groupMembers", skosmos.group_members),
    ("mappings", skosmos.mappings),
):
    router.add_api_route(f"/{{vocid}}/{_path}", _concept_method(_method), methods=["GET"], name=f"skosmos_{_path}")


@router.get("/{vocid}/broaderTransitive")
def broader_transitive(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.broader_transitive(
            _services(request),
            vocid,
            uri=_param(request, "uri"),
            lang=_param(request, "lang"),
            limit=_param(request, "limit"),
        ),
    )


@router.get("/{vocid}/narrowerTransitive")
def narrower_transitive(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.narrower_transitive(
            _services(request),
            vocid,
            uri=_param(request, "uri"),
            lang=_param(request, "lang"),
            limit=_param(request, "limit"),
        ),
    )


@router.get("/{vocid}/groups")
def groups(request: Request, vocid: str) -> Response:
    return _json(request, lambda: skosmos.groups(_services(request), vocid, lang=_param(request, "lang")))


def _changes(request: Request, vocid: str, prop: str) -> Response:
    return _json(
        request,
        lambda: skosmos.changes(
            _services(request),
            vocid,
            prop=prop,
            lang=_param(request, "lang"),
            offset=_param(request, "offset"),
            limit=_param(request, "limit"),
        ),
    )


@router.get("/{vocid}/new")
def new_concepts(request: Request, vocid: str) -> Response:
    return _changes(request, vocid, "created")


@router.get("/{vocid}/modified")
def modified_concepts(request: Request, vocid: str) -> Response:
    return _changes(request, vocid, "modified")


@router.get("/{vocid}/vocabularyStatistics")
def vocabulary_statistics(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.vocabulary_statistics(
            _services(request), vocid, lang=_param(request, "lang"), api_base=_api_base(request)
        ),
    )


@router.get("/{vocid}/labelStatistics")
def label_statistics(request: Request, vocid: str) -> Response:
    return _json(
        request,
        lambda: skosmos.label_statistics(
            _services(request), vocid, lang=_param(request, "lang"), api_base=_api_base(request)
        ),
    )


@router.get("/")
@router.get("/{rest:path}")
def unknown(request: Request, rest: str = "") -> Response:
    """Anything else under /rest/v1/: 404, naming the vocabulary when that is what is unknown."""

    def answer() -> dict[str, object]:
        vocid = rest.split("/", 1)[0]
        if vocid and "/" in rest:
            skosmos.vocabulary(_services(request), vocid)
        raise SkosmosError(404, "Not Found")

    return _json(request, answer)

"""`/sparql/update`: SPARQL 1.1 Update for editors and admins (bearer token).

POST url-encoded (`update=`) or `application/sparql-update`; `using-graph-uri` and
`using-named-graph-uri` (in the URL, or in the form of a url-encoded POST) set the dataset of the
WHERE clauses and are passed to the store server with the update; they are refused together with
USING, USING NAMED or WITH in the update. Record graphs touched are validated and refused whole if
they break the shapes.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import NamedNode

from api.auth import AuthError, require_role
from api.routes.sparql import ProtocolError, charset_is_utf8, error
from graph.accounts import Role
from graph.graph_writes import WriteRefused, apply_update

router = APIRouter()

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-update"


@dataclass(frozen=True)
class UpdateRequest:
    update: str
    using_graphs: list[str]
    using_named_graphs: list[str]


def _iris(values: list[str], name: str) -> list[str]:
    for value in values:
        try:
            NamedNode(value)
        except ValueError as exc:
            raise ProtocolError(400, f"{name} {value!r} is not an absolute IRI: {exc}.") from None
    return values


async def read_update(request: Request) -> UpdateRequest:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media not in (FORM, DIRECT):
        raise ProtocolError(415, f"POST an update as {FORM} or {DIRECT}, not {media or 'no content type'}.")
    if not charset_is_utf8(content_type):
        raise ProtocolError(415, "Updates must be sent in UTF-8.")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    params = urllib.parse.parse_qs(request.url.query, keep_blank_values=True)
    if media == FORM:
        form = urllib.parse.parse_qs(text, keep_blank_values=True)
        if "query" in form:
            raise ProtocolError(400, "This is the update endpoint: send queries to /sparql.")
        updates = form.get("update", [])
        params = {**params, **form}
    else:
        updates = [text]
    if len(updates) != 1 or not updates[0].strip():
        raise ProtocolError(400, "Send exactly one non-empty `update`.")
    return UpdateRequest(
        updates[0],
        _iris(params.get("using-graph-uri", []), "using-graph-uri"),
        _iris(params.get("using-named-graph-uri", []), "using-named-graph-uri"),
    )


def refusal(exc: WriteRefused) -> Response:
    """A refused write as JSON: the message and every violation (field, rule, da/en message)."""
    body = {"error": exc.message, "violations": [v.as_json() for v in exc.violations]}
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2), status_code=exc.status, media_type="application/json"
    )


@router.api_route("/sparql/update", methods=["POST"], name="sparql_update")
async def sparql_update(request: Request) -> Response:
    try:
        principal = require_role(request, Role.editor)
        update = await read_update(request)
        result = await asyncio.to_thread(
            apply_update,
            request.app.state.services,
            update.update,
            agent=principal.agent,
            using_graphs=update.using_graphs,
            using_named_graphs=update.using_named_graphs,
        )
    except AuthError as exc:
        return error(exc.status, exc.message, exc.headers)
    except ProtocolError as exc:
        return error(exc.status, str(exc))
    except WriteRefused as exc:
        return refusal(exc)
    return Response(
        json.dumps({"changed": result.changed_records, "withdrawn": result.withdrawn_records}),
        media_type="application/json",
    )


@router.get("/sparql/update")
def update_by_get() -> Response:
    return error(405, "SPARQL Update must be sent by POST.", {"Allow": "POST"})

"""The vocabulary-editing API (editors and admins, bearer token).

`GET /api/concepts/{scheme}/{code}` gives a concept in the editing JSON; `PUT` replaces it with a
new description (`{"reason": "…", "concept": {…}}`); `POST /api/concepts/{scheme}` creates one;
`…/deprecate` and `…/merge` retire a concept; `…/history` lists its changesets. Every change is
validated (SKOS integrity conditions and shapes) before it is committed, and logged.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import NamedNode

from api.auth import AuthError, require_role
from api.errors import json_error
from graph.accounts import Role
from graph.vocab_edit import ChangeSet, EditRefused, Thesaurus

router = APIRouter(prefix="/api/concepts", tags=["vocabulary editing"])

EXAMPLE_CONCEPT = {
    "notation": "5.1.9",
    "prefLabel": {"da": "motorstøj", "en": "engine noise"},
    "altLabel": {"da": ["maskinstøj"]},
    "definition": {"da": "Støj fra motorer i køretøjer og maskiner."},
    "broader": ["5.1"],
}
EDIT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["concept"],
                    "properties": {
                        "reason": {"type": "string", "description": "Why (kept in the change log)"},
                        "concept": {
                            "type": "object",
                            "description": "prefLabel/altLabel/hiddenLabel/definition/scopeNote/"
                            "example/editorialNote by language; notation; broader/related (codes or IRIs); "
                            "exactMatch/closeMatch/broadMatch/narrowMatch/relatedMatch (IRIs); "
                            "deprecated; isReplacedBy",
                        },
                    },
                },
                "example": {"reason": "Nyt underbegreb efter ønske fra BFA Transport", "concept": EXAMPLE_CONCEPT},
            }
        },
    }
}


def _changes_json(changes: ChangeSet) -> dict[str, Any]:
    return {"added": len(changes.added), "removed": len(changes.removed)}


async def _body(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise EditRefused(415, f"Send the JSON object as application/json, not {media}.")
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise EditRefused(400, "Send a JSON object.") from None
    if not isinstance(data, dict):
        raise EditRefused(400, "Send a JSON object.")
    return data


def _concept(request: Request, scheme: str, code: str) -> tuple[NamedNode, NamedNode]:
    iris = request.app.state.services.iris
    try:
        return iris.concept(scheme, code), iris.scheme(scheme)
    except ValueError:
        raise EditRefused(400, "Not a valid scheme or concept code.") from None


def _resolve(request: Request, scheme: NamedNode, value: Any) -> NamedNode:
    if not isinstance(value, str) or not value:
        raise EditRefused(422, "Name the other concept by its code or IRI.")
    if value.startswith(("http://", "https://")):
        return NamedNode(value)
    return NamedNode(f"{scheme.value}/{value}")


async def _run(request: Request, work: Any, role: Role = Role.editor) -> Response:
    """Authorise (editor, unless another role is named), run the change, and map refusals to 4xx."""
    try:
        principal = require_role(request, role)
        return await work(principal, Thesaurus(request.app.state.services))
    except AuthError as exc:
        return json_error(exc.status, exc.message, headers=exc.headers)
    except EditRefused as exc:
        return json_error(exc.status, exc.message, [v.as_json() for v in exc.violations] if exc.violations else None)


@router.get("/{scheme}/{code}", summary="A concept in the editing JSON")
def get_concept(request: Request, scheme: str, code: str) -> Response:
    thesaurus = Thesaurus(request.app.state.services)
    try:
        concept, scheme_iri = _concept(request, scheme, code)
    except EditRefused as exc:
        return json_error(exc.status, exc.message)
    data = thesaurus.describe_json(concept, scheme_iri)
    if len(data) == 1:
        return json_error(404, f"No concept {code} in {scheme}.")
    return JSONResponse(data)


@router.put("/{scheme}/{code}", summary="Replace a concept's description (validated, logged)", openapi_extra=EDIT_DOC)
async def put_concept(request: Request, scheme: str, code: str) -> Response:
    async def work(principal: Any, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        concept, scheme_iri = _concept(request, scheme, code)
        changes = await asyncio.to_thread(
            thesaurus.edit,
            concept,
            scheme_iri,
            body.get("concept") or {},
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        return JSONResponse({"iri": concept.value, **_changes_json(changes)})

    return await _run(request, work)


@router.post("/{scheme}", status_code=201, summary="Create a concept", openapi_extra=EDIT_DOC)
async def create_concept(request: Request, scheme: str) -> Response:
    async def work(principal: Any, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        data = body.get("concept") or {}
        code = data.get("notation") if isinstance(data, dict) else None
        if not isinstance(code, str):
            raise EditRefused(422, "The new concept needs a notation (its code).")
        concept, scheme_iri = _concept(request, scheme, code)
        changes = await asyncio.to_thread(
            thesaurus.edit,
            concept,
            scheme_iri,
            data,
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
            create=True,
        )
        location = f"/api/concepts/{scheme}/{code}"
        return JSONResponse(
            {"iri": concept.value, **_changes_json(changes)}, status_code=201, headers={"Location": location}
        )

    return await _run(request, work)


@router.post("/{scheme}/{code}/deprecate", summary="Deprecate, optionally naming the replacement")
async def deprecate(request: Request, scheme: str, code: str) -> Response:
    async def work(principal: Any, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        unknown = sorted(set(body) - {"replacedBy", "reason"})
        if unknown:  # a misspelt "replacedBy" must not deprecate the concept without its replacement
            raise EditRefused(422, f"Unknown fields: {', '.join(unknown)}; send replacedBy and reason.")
        concept, scheme_iri = _concept(request, scheme, code)
        replacement = _resolve(request, scheme_iri, body["replacedBy"]) if body.get("replacedBy") else None
        changes = await asyncio.to_thread(
            thesaurus.deprecate,
            concept,
            scheme_iri,
            replacement,
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        return JSONResponse({"iri": concept.value, **_changes_json(changes)})

    return await _run(request, work)


@router.post("/{scheme}/{code}/merge", summary="Merge this concept into another one")
async def merge(request: Request, scheme: str, code: str) -> Response:
    async def work(principal: Any, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        concept, scheme_iri = _concept(request, scheme, code)
        into = _resolve(request, scheme_iri, body.get("into"))
        await asyncio.to_thread(
            thesaurus.merge, concept, into, scheme_iri, agent=principal.agent, reason=str(body.get("reason") or "")
        )
        return JSONResponse({"iri": concept.value, "mergedInto": into.value})

    return await _run(request, work)


@router.get("/{scheme}/{code}/history", summary="The concept's changesets, newest first")
def history(request: Request, scheme: str, code: str) -> Response:
    try:
        concept, _ = _concept(request, scheme, code)
    except EditRefused as exc:
        return json_error(exc.status, exc.message)
    changes = Thesaurus(request.app.state.services).history(concept)
    return JSONResponse(
        {
            "iri": concept.value,
            "changes": [
                {
                    "iri": c.iri,
                    "sequence": c.sequence,
                    "created": c.created,
                    "creator": c.creator,
                    "reason": c.reason,
                    "added": [str(t) for t in c.added],
                    "removed": [str(t) for t in c.removed],
                }
                for c in changes
            ],
        }
    )

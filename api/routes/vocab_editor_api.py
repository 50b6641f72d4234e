"""The vocabulary editor for machines (bearer tokens): new schemes, collections and proposals.

`POST /api/schemes` creates a concept scheme (editors). `/api/schemes/{scheme}/collections[/{code}]`
reads (public) and writes (editors) a scheme's collections, `…/members` adds and removes members.
`/api/proposals` is the review workflow: anyone with a token proposes (contributors: new concepts
and labels only), editors list the open proposals and accept or reject those of others. The same
modules as the HTML forms do the work (graph.vocab_schemes, graph.vocab_proposals), so the rules
and messages are the same; refusals are `{"error", "errors": [{"field", "messages": {da, en}}]}`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import NamedNode

from api.auth import require_role_json
from api.errors import json_error
from api.routes.concepts_api import _body, _changes_json, _concept, _run
from graph.accounts import Principal, Role
from graph.vocab_edit import EditRefused, Thesaurus
from graph.vocab_proposals import Proposals, ProposalStatus
from graph.vocab_schemes import Vocabularies

router = APIRouter(tags=["vocabulary editing"])

SCHEME_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "id": "psykisk-arbejdsmiljo",
                    "title": {"da": "Psykisk arbejdsmiljø", "en": "Psychosocial work environment"},
                    "description": {"da": "Begreber om det psykiske arbejdsmiljø."},
                    "reason": "Nyt begrebssystem efter ønske fra BFA Velfærd og Offentlig administration",
                }
            }
        },
    }
}
COLLECTION_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "code": "larm",
                    "prefLabel": {"da": "Larm og vibrationer", "en": "Noise and vibration"},
                    "members": ["5.1", "5.2"],
                    "reason": "Samling til BFA-vejledning",
                }
            }
        },
    }
}
PROPOSAL_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "scheme": "factors",
                    "create": True,
                    "concept": {"notation": "5.1.9", "prefLabel": {"da": "motorstøj", "en": "engine noise"}},
                    "reason": "Vi mangler et begreb for støj fra motorer",
                }
            }
        },
    }
}


def _scheme_iri(request: Request, scheme: str) -> NamedNode:
    try:
        return request.app.state.services.iris.scheme(scheme)
    except ValueError:
        raise EditRefused(400, "Not a valid scheme id.") from None


async def _optional_body(request: Request) -> dict[str, Any]:
    """The JSON object sent, or {} when nothing was sent (e.g. accepting without a comment)."""
    return await _body(request) if (await request.body()).strip() else {}


def _refused(exc: EditRefused) -> Response:
    return json_error(exc.status, exc.message, [v.as_json() for v in exc.violations] if exc.violations else None)


# -- schemes -----------------------------------------------------------------------------------


@router.post("/api/schemes", status_code=201, summary="Create a concept scheme", openapi_extra=SCHEME_DOC)
async def create_scheme(request: Request) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        scheme = await asyncio.to_thread(
            Vocabularies(thesaurus.services).create_scheme,
            body.get("id"),
            body.get("title"),
            body.get("description"),
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        slug = scheme.value.rsplit("/", 1)[-1]
        return JSONResponse(
            {"iri": scheme.value, "id": slug, "page": f"/vocab/{slug}", "skosmos": f"/rest/v1/{slug}/"},
            status_code=201,
            headers={"Location": f"/vocab/{slug}"},
        )

    return await _run(request, work)


# -- collections -------------------------------------------------------------------------------


@router.get("/api/schemes/{scheme}/collections", summary="The collections of a scheme")
def list_collections(request: Request, scheme: str) -> Response:
    services = request.app.state.services
    try:
        iri = _scheme_iri(request, scheme)
        if not Thesaurus(services).scheme_exists(iri):
            raise EditRefused(404, f"No concept scheme {scheme}.")
    except EditRefused as exc:
        return _refused(exc)
    return JSONResponse(
        {"scheme": iri.value, "collections": [c.as_json() for c in Vocabularies(services).collections(iri)]}
    )


@router.get("/api/schemes/{scheme}/collections/{code}", summary="One collection")
def get_collection(request: Request, scheme: str, code: str) -> Response:
    try:
        iri = _scheme_iri(request, scheme)
    except EditRefused as exc:
        return _refused(exc)
    found = Vocabularies(request.app.state.services).collection(iri, code)
    return JSONResponse(found.as_json()) if found else json_error(404, f"No collection {code} in {scheme}.")


@router.post(
    "/api/schemes/{scheme}/collections", status_code=201, summary="Create a collection", openapi_extra=COLLECTION_DOC
)
async def create_collection(request: Request, scheme: str) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        iri = _scheme_iri(request, scheme)
        code = body.get("code")
        changes = await asyncio.to_thread(
            Vocabularies(thesaurus.services).save_collection,
            iri,
            code,
            body.get("prefLabel"),
            body.get("members") or [],
            create=True,
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        location = f"/api/schemes/{scheme}/collections/{code}"
        return JSONResponse(
            {"iri": changes.subject.value, **_changes_json(changes)}, status_code=201, headers={"Location": location}
        )

    return await _run(request, work)


@router.put("/api/schemes/{scheme}/collections/{code}", summary="Replace a collection's labels and members")
async def put_collection(request: Request, scheme: str, code: str) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        iri = _scheme_iri(request, scheme)
        vocabularies = Vocabularies(thesaurus.services)
        changes = await asyncio.to_thread(
            vocabularies.save_collection,
            iri,
            code,
            body.get("prefLabel"),
            body.get("members") or [],
            create=False,
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        return JSONResponse({"iri": vocabularies.collection_iri(iri, code).value, **_changes_json(changes)})

    return await _run(request, work)


@router.post("/api/schemes/{scheme}/collections/{code}/members", summary="Add and remove members")
async def change_members(request: Request, scheme: str, code: str) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        iri = _scheme_iri(request, scheme)
        vocabularies = Vocabularies(thesaurus.services)
        changes = await asyncio.to_thread(
            vocabularies.change_members,
            iri,
            code,
            body.get("add") or [],
            body.get("remove") or [],
            agent=principal.agent,
            reason=str(body.get("reason") or ""),
        )
        return JSONResponse({"iri": vocabularies.collection_iri(iri, code).value, **_changes_json(changes)})

    return await _run(request, work)


# -- proposals ---------------------------------------------------------------------------------


@router.get("/api/proposals", summary="Proposals: editors see everyone's (default: open), others their own")
def list_proposals(request: Request) -> Response:
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    wanted = request.query_params.get("status")
    if wanted is not None and wanted not in ProposalStatus.__members__:
        return json_error(400, f"status must be one of {', '.join(ProposalStatus.__members__)}.")
    status = ProposalStatus(wanted) if wanted else None
    proposals = Proposals(request.app.state.services)
    if principal.role.at_least(Role.editor) and request.query_params.get("mine") not in ("1", "true"):
        found = proposals.find(status=status or ProposalStatus.open)
    else:
        found = proposals.find(status=status, proposer=principal.agent)
    return JSONResponse({"proposals": [p.as_json() for p in found]})


@router.post("/api/proposals", status_code=201, summary="Propose a new concept or a change", openapi_extra=PROPOSAL_DOC)
async def propose(request: Request) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        data = body.get("concept")
        create = body.get("create") is True
        code = (data.get("notation") if isinstance(data, dict) else None) if create else body.get("code")
        if not isinstance(body.get("scheme"), str) or not isinstance(code, str):
            raise EditRefused(
                422, "Name the scheme, and the concept's code (`code`, or `concept.notation` with `create`)."
            )
        concept, scheme = _concept(request, body["scheme"], code)
        proposal = await asyncio.to_thread(
            Proposals(thesaurus.services).propose,
            concept,
            scheme,
            data,
            create=create,
            principal=principal,
            reason=str(body.get("reason") or ""),
        )
        return JSONResponse(proposal.as_json(), status_code=201, headers={"Location": f"/api/proposals/{proposal.id}"})

    return await _run(request, work, Role.contributor)


@router.get("/api/proposals/{proposal_id}", summary="One proposal (its proposer and editors)")
def get_proposal(request: Request, proposal_id: str) -> Response:
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    proposal = Proposals(request.app.state.services).get(proposal_id)
    if proposal is None or not (principal.role.at_least(Role.editor) or proposal.proposed_by == principal.agent):
        return json_error(404, f"No proposal {proposal_id}.")
    return JSONResponse(proposal.as_json())


@router.post("/api/proposals/{proposal_id}/accept", summary="Accept (and apply) another editor's proposal")
async def accept(request: Request, proposal_id: str) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _optional_body(request)
        proposal, changes = await asyncio.to_thread(
            Proposals(thesaurus.services).accept,
            proposal_id,
            editor=principal,
            comment=str(body.get("comment") or ""),
        )
        return JSONResponse({**proposal.as_json(), "applied": _changes_json(changes)})

    return await _run(request, work)


@router.post("/api/proposals/{proposal_id}/reject", summary="Reject another editor's proposal, with a comment")
async def reject(request: Request, proposal_id: str) -> Response:
    async def work(principal: Principal, thesaurus: Thesaurus) -> Response:
        body = await _body(request)
        proposal = await asyncio.to_thread(
            Proposals(thesaurus.services).reject,
            proposal_id,
            editor=principal,
            comment=str(body.get("comment") or ""),
        )
        return JSONResponse(proposal.as_json())

    return await _run(request, work)

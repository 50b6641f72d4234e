"""The submission API (partners automate against these exact routes).

`POST /api/submissions` (contributor token) takes one record as simple JSON, JSON-LD, Turtle,
N-Triples or RDF/XML and answers 201 with `Location` and `{id, iri, status: "pending", …}`;
`Idempotency-Key` makes resubmission safe. `GET /api/submissions/{id}` shows its status, the editors'
comments and its history to its submitter and to editors; editors `POST …/approve`, `…/reject` (with a
reason) and `…/send-back` (with comments); `PUT /api/submissions/{id}` replaces the content with a new
version (the submitter while it is pending or sent back — which resubmits it — or an editor).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.auth import AuthError, require_role, require_role_json
from api.errors import json_error
from graph.accounts import Principal, Role
from graph.curation import MAX_AGE_DAYS, OPEN
from graph.records import Record
from graph.submissions import (
    RDF_MEDIA_TYPES,
    Submission,
    SubmissionRefused,
    SubmissionStatus,
    record_from_json,
    record_from_rdf,
)

router = APIRouter(prefix="/api/submissions", tags=["submissions"])

MAX_BODY = 1_000_000  # bytes: one record is a few kB

EXAMPLE_ITEM = {
    "type": "item",
    "title": {
        "da": "Ro på stuen – guide til et lavere lydniveau i vuggestuen",
        "en": "Calm in the room – a guide to lower noise in nurseries",
    },
    "description": {"da": "Sådan kan personalet sænke lydniveauet i hverdagen med enkle tiltag."},
    "knowledgeType": "04",
    "factors": ["5.1"],
    "industries": ["88.91"],
    "issued": "2026-10-01",
    "languages": ["da"],
    "url": "https://example.org/vejledning-stoej",
}
EXAMPLE_TURTLE = """@prefix amv: <https://w3id.org/arbejdsmiljoviden/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
[] a amv:Problem ;
   dct:title "Tunge løft i hjemmeplejen"@da ;
   dct:description "Forflytning af borgere uden hjælpemidler."@da ;
   amv:factor <https://w3id.org/arbejdsmiljoviden/vocab/factors/1.1> ."""

SUBMIT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "The simple JSON schema (see graph/submissions.py)",
                    "required": ["type", "title"],
                },
                "examples": {"knowledge item": {"value": EXAMPLE_ITEM}},
            },
            "text/turtle": {"schema": {"type": "string"}, "examples": {"problem": {"value": EXAMPLE_TURTLE}}},
            "application/ld+json": {"schema": {"type": "object"}},
            "application/n-triples": {"schema": {"type": "string"}},
            "application/rdf+xml": {"schema": {"type": "string"}},
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "A key of your choice; sending the same submission again with it creates nothing new.",
        }
    ],
    "responses": {
        "201": {
            "description": "Queued for review",
            "content": {
                "application/json": {
                    "example": {
                        "id": "q8r4m2xz",
                        "iri": "https://w3id.org/arbejdsmiljoviden/id/item/k7m2p9qx",
                        "type": "item",
                        "status": "pending",
                        "title": "Støj i daginstitutioner – en vejledning",
                        "location": "/api/submissions/q8r4m2xz",
                    }
                }
            },
        },
        "200": {"description": "The same submission again (same Idempotency-Key): nothing new was created"},
        "401": {"description": "No or unknown token"},
        "403": {"description": "The token lacks the contributor role"},
        "409": {"description": "Idempotency-Key reused for different content, or the record is not open for changes"},
        "413": {"description": "Body larger than 1 MB"},
        "415": {"description": "Unsupported Content-Type"},
        "422": {
            "description": "Field errors; nothing was stored",
            "content": {
                "application/json": {
                    "example": {
                        "error": "The record breaks the rules; nothing was stored.",
                        "errors": [
                            {
                                "field": "factors",
                                "path": "https://w3id.org/arbejdsmiljoviden/ontology#factor",
                                "rule": "sh:MinCountConstraintComponent",
                                "messages": {
                                    "da": "Angiv mindst én arbejdsmiljøfaktor.",
                                    "en": "Give at least one work-environment factor.",
                                },
                            }
                        ],
                    }
                }
            },
        },
    },
}


def _visible(submission: Submission | None, principal: Principal) -> bool:
    return submission is not None and (
        principal.role.at_least(Role.editor) or submission.submitted_by == principal.agent
    )


def _path(submission: Submission) -> str:
    return f"/api/submissions/{submission.id}"


@router.post("", status_code=201, openapi_extra=SUBMIT_DOC, summary="Submit one record for review")
async def submit(request: Request) -> Response:
    services = request.app.state.services
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    body = await request.body()
    if len(body) > MAX_BODY:
        return json_error(413, f"The body is larger than {MAX_BODY:,} bytes; send one record per submission.")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    key = request.headers.get("idempotency-key") or None
    if key is not None and len(key) > 200:
        return json_error(400, "Idempotency-Key is longer than 200 characters.")
    try:
        if media == "application/json":
            try:
                data = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                return json_error(400, f"The body is not valid JSON: {exc}")
            record = record_from_json(data, services.iris)
        elif media in RDF_MEDIA_TYPES:
            record = record_from_rdf(body, media, services.iris)
        else:
            return json_error(
                415,
                "Send application/json (simple schema), application/ld+json, text/turtle, "
                "application/n-triples or application/rdf+xml.",
            )
        submission, created = await asyncio.to_thread(
            services.submissions.submit,
            record,
            agent=principal.agent,
            client_key=key,
            may_revise=principal.role.at_least(Role.editor),
            actor=principal.actor,
        )
        warnings = await asyncio.to_thread(services.submissions.possible_duplicates, record)
    except SubmissionRefused as exc:
        return _refused(exc)
    return JSONResponse(
        submission.as_json(_path(submission), warnings),
        status_code=201 if created else 200,
        headers={"Location": _path(submission)},
    )


@router.get("", summary="Submissions, oldest first: editors see the review queue, contributors their own")
def list_submissions(
    request: Request,
    type: str | None = None,  # noqa: A002 - API parameter
    actor: str | None = None,
    older_than: int | None = None,
    status: str = SubmissionStatus.pending.value,
) -> Response:
    """Filters: `type` (record type), `actor` (the submitter, as the history names them, e.g.
    `user:name@example.org` or `token:partner`), `older_than` (days waiting), `status` (`pending` or
    `changes_requested`)."""
    services = request.app.state.services
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    if status not in [s.value for s in OPEN]:
        return json_error(400, "status must be pending or changes_requested.")
    if older_than is not None and not 0 <= older_than <= MAX_AGE_DAYS:
        return json_error(400, f"older_than must be a number of days from 0 to {MAX_AGE_DAYS}.")
    queue = services.curation.queue(
        kind=type, submitter=actor, older_than_days=older_than, status=SubmissionStatus(status)
    )
    queue = [s for s in queue if _visible(s, principal)]
    return JSONResponse({"total": len(queue), "submissions": [s.as_json(_path(s)) for s in queue]})


@router.get("/{submission_id}", summary="The status of one submission")
def get_submission(request: Request, submission_id: str) -> Response:
    services = request.app.state.services
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    submission = services.submissions.get(submission_id)
    if not _visible(submission, principal):
        return json_error(404, f"No submission {submission_id} that you can see.")
    assert submission is not None
    return JSONResponse(services.curation.as_json(submission, _path(submission)))


@router.post("/{submission_id}/approve", summary="Approve: the record is published at once (editors)")
async def approve(request: Request, submission_id: str) -> Response:
    services = request.app.state.services
    try:
        principal = require_role(request, Role.editor)
        submission = await asyncio.to_thread(services.submissions.approve, submission_id, editor=principal.agent)
    except AuthError as exc:
        return json_error(exc.status, exc.message, headers=exc.headers)
    except SubmissionRefused as exc:
        return _refused(exc)
    return JSONResponse(submission.as_json(_path(submission)))


@router.post(
    "/{submission_id}/reject",
    summary="Reject with a reason (editors)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
                    "example": {"reason": "Findes allerede som vidensressource q8r4m2xz."},
                }
            },
        }
    },
)
async def reject(request: Request, submission_id: str) -> Response:
    services = request.app.state.services
    decided = await _editor_decision(
        request,
        "reason",
        lambda editor, reason: services.submissions.reject(submission_id, editor=editor.agent, reason=reason),
    )
    if isinstance(decided, Response):
        return decided
    return JSONResponse(decided.as_json(_path(decided)))


async def _editor_decision(
    request: Request, field: str, decide: Callable[[Principal, str], Submission]
) -> Submission | Response:
    """An editor's decision carrying one text, sent as JSON `{field: "..."}`: the submission it changed, or the
    JSON error to answer with."""
    principal = require_role_json(request, Role.editor)
    if isinstance(principal, Response):
        return principal
    try:
        text = json.loads(await request.body()).get(field, "")
    except (ValueError, AttributeError, RecursionError):
        return json_error(400, f'Send {{"{field}": "..."}} as JSON.')
    if not isinstance(text, str):
        return json_error(422, f"{field} must be text")
    try:
        return await asyncio.to_thread(decide, principal, text)
    except SubmissionRefused as exc:
        return _refused(exc)


def _refused(exc: SubmissionRefused) -> Response:
    return json_error(exc.status, exc.message, exc.errors if exc.status == 422 else None)


@router.post(
    "/{submission_id}/send-back",
    summary="Send back to the submitter with comments (editors): status changes_requested",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["comments"],
                        "properties": {"comments": {"type": "string", "maxLength": 5000}},
                    },
                    "example": {"comments": "Tilføj venligst en branche og et link til vejledningen."},
                }
            },
        },
        "responses": {
            "200": {
                "description": "Sent back; the submitter sees the comments and may edit (PUT) to resubmit",
                "content": {
                    "application/json": {
                        "example": {
                            "id": "q8r4m2xz",
                            "status": "changes_requested",
                            "comments": "Tilføj venligst en branche og et link til vejledningen.",
                        }
                    }
                },
            },
            "409": {"description": "The submission is not pending"},
            "422": {"description": "No comments"},
        },
    },
)
async def send_back(request: Request, submission_id: str) -> Response:
    services = request.app.state.services
    decided = await _editor_decision(
        request,
        "comments",
        lambda editor, comments: services.curation.send_back(submission_id, editor=editor.agent, comments=comments),
    )
    if isinstance(decided, Response):
        return decided
    return JSONResponse(services.curation.as_json(decided, _path(decided)))


EDIT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The record in any format POST takes; RDF must describe the submission's record IRI",
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "The simple JSON schema; `id` may be left out"},
                "examples": {"knowledge item, changed": {"value": {**EXAMPLE_ITEM, "industries": ["88.91", "85.10"]}}},
            },
            "text/turtle": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "object"}},
            "application/n-triples": {"schema": {"type": "string"}},
            "application/rdf+xml": {"schema": {"type": "string"}},
        },
    },
    "responses": {
        "200": {
            "description": "Stored as a new version (earlier ones are kept); a submission sent back is pending again",
            "content": {"application/json": {"example": {"id": "q8r4m2xz", "status": "pending", "version": 2}}},
        },
        "403": {"description": "Neither the submitter nor an editor"},
        "404": {"description": "No such submission that you can see"},
        "409": {"description": "The submission was approved or rejected already"},
        "422": {"description": "Field errors, or another record than the submission's; nothing was stored"},
    },
}


@router.put("/{submission_id}", summary="Edit a submission: a new version", openapi_extra=EDIT_DOC)
async def edit(request: Request, submission_id: str) -> Response:
    services = request.app.state.services
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    submission = services.submissions.get(submission_id)
    is_editor = principal.role.at_least(Role.editor)
    if submission is None:
        return json_error(404, f"No submission {submission_id} that you can see.")
    if not _visible(submission, principal):
        return json_error(403, "Only the submitter or an editor may edit this submission.")
    body = await request.body()
    if len(body) > MAX_BODY:
        return json_error(413, f"The body is larger than {MAX_BODY:,} bytes.")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        record: Record
        if media == "application/json":
            try:
                data = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                return json_error(400, f"The body is not valid JSON: {exc}")
            if isinstance(data, dict) and "id" not in data:
                data = {**data, "id": submission.iri.rsplit("/", 1)[-1]}
            record = record_from_json(data, services.iris)
        elif media in RDF_MEDIA_TYPES:
            record = record_from_rdf(body, media, services.iris)
        else:
            return json_error(415, "Send application/json (simple schema) or an RDF format, as for POST.")
        updated = await asyncio.to_thread(
            services.curation.edit, submission_id, record, agent=principal.agent, is_editor=is_editor
        )
    except SubmissionRefused as exc:
        return _refused(exc)
    return JSONResponse(services.curation.as_json(updated, _path(updated)))

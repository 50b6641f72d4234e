"""For monitors and load balancers: `/health` (the process answers) and `/ready` (the store answers and
the search index agrees with it, so this instance can take traffic)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
def health(request: Request) -> JSONResponse:
    # X-Worker: which process answered (`amv serve --workers N` runs N of them behind one port).
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store", "X-Worker": str(os.getpid())})


@router.get("/ready", summary="Readiness: store and search index open and in agreement (else 503)")
def ready(request: Request) -> JSONResponse:
    services = request.app.state.services
    body: dict[str, object] = {"status": "ready"}
    try:
        services.store.ask("ASK {}")
        body["store"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any store failure means not ready
        return JSONResponse({"status": "unavailable", "store": str(exc)}, status_code=503)
    indexed, published = services.search.agreement()
    body["index"] = {"documents": indexed, "published_records": published}
    if indexed != published:
        body["status"] = "index out of step"
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store"})

"""The JSON error body of the machine APIs: `{"error": message, "errors": [field errors…]}`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def json_error(
    status: int, message: str, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)
